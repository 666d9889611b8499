import { readdirSync } from "node:fs";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  TenantRouter,
  withTenant,
  type RoutingError,
  type TenantRouterOptions,
} from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

// The tenant directory fails safe: one malformed id in a dynamic list never disables the
// others, a failing list is not called once per request, and a static list is checked at
// bootstrap with every other option.

@External()
@Entity()
class Visit {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  page!: string;
}

/** Rejects with the routing error `promise` fails with (and fails the test if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<RoutingError> {
  try {
    await promise;
  } catch (error) {
    return error as RoutingError;
  }
  throw new Error("expected a rejection");
}

describe("the tenant directory", () => {
  const db = useSqliteFixture();
  const routers: TenantRouter[] = [];
  // What the router reports with process.emitWarning (spied: jest's sandboxed `process` does
  // not receive the real process's "warning" events).
  let warnings: jest.SpyInstance;
  beforeAll(() => {
    warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  });
  afterAll(async () => {
    warnings.mockRestore();
    await Promise.all(routers.map((router) => router.close()));
  });

  const options = (
    label: string,
    tenants: Partial<NonNullable<TenantRouterOptions["tenants"]>>,
  ): TenantRouterOptions => ({
    entities: [Visit],
    databases: { default: db.optionsFor(`${label}_default`) },
    tenants: {
      list: [],
      options: (tenant) => ({ ...db.optionsFor(`${label}_${tenant}`), synchronize: true }),
      ...tenants,
    },
  });
  const open = async (...args: Parameters<typeof options>) => {
    const router = await TenantRouter.create(options(...args));
    routers.push(router);
    return router;
  };
  // process.emitWarning emits on the next tick.
  const skippedWarnings = async () =>
    warnings.mock.calls
      .filter(
        ([, options]) =>
          (options as { code?: string } | undefined)?.code === "TYPEORM_ROUTER_INVALID_TENANT_IDS",
      )
      .map(([message]) => ({ message: String(message) }));

  it("skips a malformed id in a dynamic list and reports it once per read; the others and a new one keep working", async () => {
    const source: unknown[] = ["acme", "Bad Id!", 42, "globex"];
    let reads = 0;
    const router = await TenantRouter.create({
      ...options("dynamic", {
        list: async () => {
          reads++;
          return source as string[];
        },
        refreshIntervalMs: 0,
      }),
      // Warnings are rate-limited per code (warningIntervalMs): off here, to count them.
      warningIntervalMs: 0,
    });
    routers.push(router);
    warnings.mockClear();
    expect(await router.tenants.list()).toEqual(["acme", "globex"]);
    expect(await skippedWarnings()).toHaveLength(1);
    expect((await skippedWarnings())[0].message).toContain('"Bad Id!"');

    for (const tenant of ["acme", "globex"]) {
      await withTenant(tenant, () => router.getRepository(Visit).save({ page: tenant }));
    }
    source.push("initech");
    await withTenant("initech", () => router.getRepository(Visit).save({ page: "initech" }));
    expect(await db.rows(db.optionsFor("dynamic_initech"), "SELECT page FROM visit")).toEqual([
      { page: "initech" },
    ]);
    expect(await db.rows(db.optionsFor("dynamic_acme"), "SELECT page FROM visit")).toEqual([
      { page: "acme" },
    ]);

    const report = await router.migrate();
    expect(report.tenantListError).toBeUndefined();
    expect(report.results.map((result) => result.database.name)).toEqual([
      "default",
      "acme",
      "globex",
      "initech",
    ]);
    // One warning per read of the list, never one per request.
    expect(await skippedWarnings()).toHaveLength(reads);
  });

  it("holds the refresh rate limit while list() fails: 200 unknown-tenant requests are not 200 calls", async () => {
    let calls = 0;
    const router = await open("failing", {
      list: async () => {
        calls++;
        throw new Error("directory table is gone");
      },
      refreshIntervalMs: 60_000,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        withTenant(`unknown${i % 7}`, () => router.getRepository(Visit).count()),
      ),
    );
    for (let i = 0; i < 50; i++) {
      results.push(
        ...(await Promise.allSettled([
          withTenant("unknown", () => router.getRepository(Visit).count()),
        ])),
      );
    }
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    const codes = new Set(
      results.map((r) => ((r as PromiseRejectedResult).reason as RoutingError).code),
    );
    expect([...codes]).toEqual(["INVALID_CONFIGURATION"]);
    expect((results[0] as PromiseRejectedResult).reason.message).toContain(
      "directory table is gone",
    );
    expect(calls).toBe(1);
    // Nothing was opened for any of them.
    expect(router.poolStats().openTenants).toBe(0);
  });

  describe("bootstrap checks every option before anything opens", () => {
    const refused: [string, (base: TenantRouterOptions) => unknown, string][] = [
      [
        "a malformed id in a static list",
        (base) => ({ ...base, tenants: { ...base.tenants, list: ["acme", "Not Valid"] } }),
        '"Not Valid" is not a valid tenant id',
      ],
      [
        "a duplicate in a static list",
        (base) => ({ ...base, tenants: { ...base.tenants, list: ["acme", "globex", "acme"] } }),
        '"acme" is listed more than once',
      ],
      ['testMode: "yes"', (base) => ({ ...base, testMode: "yes" }), '"yes" is not a boolean'],
      ["an unknown top-level key", (base) => ({ ...base, testmode: true }), '"testmode"'],
      [
        "an unknown tenants key",
        (base) => ({ ...base, tenants: { ...base.tenants, refreshInterval: 5 } }),
        '"refreshInterval"',
      ],
      ["an unknown pool key", (base) => ({ ...base, pool: { maxTenants: 5 } }), '"maxTenants"'],
      [
        "an unknown database config key",
        (base) => ({
          ...base,
          databases: { default: { options: db.optionsFor("boot_default"), readonly: true } },
        }),
        '"readonly"',
      ],
      [
        "readOnly that is not a boolean",
        (base) => ({
          ...base,
          databases: { default: { options: db.optionsFor("boot_default"), readOnly: "true" } },
        }),
        '"true" is not a boolean',
      ],
    ];
    it.each(refused)("refuses %s with ConfigurationError", async (_label, change, message) => {
      const before = readdirSync(String(db.optionsFor("x").database).replace(/x\.sqlite$/, ""));
      const error = await failureOf(
        TenantRouter.create(change(options("boot", { list: ["acme"] })) as TenantRouterOptions),
      );
      expect(error).toMatchObject({ code: "INVALID_CONFIGURATION", name: "ConfigurationError" });
      expect(error.message).toContain(message);
      expect(readdirSync(String(db.optionsFor("x").database).replace(/x\.sqlite$/, ""))).toEqual(
        before,
      );
    });
  });
});
