import { mkdir, rmdir } from "node:fs/promises";
import { Client } from "pg";
import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  DataSourceInitError,
  External,
  PoolExhaustedError,
  RouterClosedError,
  TenantRouter,
  withTenant,
  type PoolOptions,
} from "./setup/public-api";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  value!: number;
}

@Entity()
class Setting {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

const ENTITIES = [Note, Setting];

// node-postgres opens at most 10 connections per pool unless told otherwise.
const PG_DEFAULT_POOL_MAX = 10;

/** One router under test, with the databases it uses and what its tenant callback saw. */
interface Setup {
  readonly router: TenantRouter;
  /** How many times `tenants.options(tenant)` was called, per tenant id. */
  readonly optionsCalls: Map<string, number>;
  readonly defaultOptions: DataSourceOptions;
  tenantOptions(tenant: string): DataSourceOptions;
  /** Creates the database of `tenant` (on PostgreSQL; SQLite creates it on open). */
  createTenantDatabase(tenant: string): Promise<unknown>;
}

/** A promise with its resolve function, to hold work open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `assertion` until it passes or `timeoutMs` is over (then its last error is thrown). */
// Generous: it returns as soon as the assertion holds, and a loaded machine is slow to close pools.
async function eventually(
  assertion: () => Promise<void> | void,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await sleep(25);
  }
}

const sorted = (values: readonly string[]) => [...values].sort();
const tenantKeys = (...tenants: string[]) => sorted(tenants.map((tenant) => `tenant:${tenant}`));

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let pg: Client | undefined;
    let routers: TenantRouter[] = [];
    let setups = 0;
    // The `default` of routers whose test never uses it: on PostgreSQL every database costs
    // a CREATE and a (slow) DROP, so they share this one, which is never connected.
    let unusedDefault: DataSourceOptions;

    beforeAll(async () => {
      db = fixture();
      unusedDefault = await db.createDatabase("unused_default");
      if (db.name === "postgres") {
        pg = new Client({ connectionString: PG_URL });
        await pg.connect();
      }
    });

    afterEach(async () => {
      const open = routers;
      routers = [];
      await Promise.all(open.map((router) => router.close()));
    });

    afterAll(async () => {
      await pg?.end();
    });

    /**
     * A router over fresh databases, one per tenant in `tenants` (but `missing`), and a fresh
     * `default` when the test uses it.
     */
    async function setUp(
      tenants: string[],
      pool: PoolOptions,
      { missing = [], usesDefault = false }: { missing?: string[]; usesDefault?: boolean } = {},
    ): Promise<Setup> {
      const namespace = `pool${++setups}`;
      const label = (tenant: string) => `${namespace}_tenant_${tenant}`;
      const defaultOptions = usesDefault
        ? await db.createDatabase(`${namespace}_default`)
        : unusedDefault;
      const createTenantDatabase = (tenant: string) => db.createDatabase(label(tenant));
      if (db.name !== "sqlite") {
        for (const tenant of tenants)
          if (!missing.includes(tenant)) await createTenantDatabase(tenant);
      }
      const optionsCalls = new Map<string, number>();
      const router = await TenantRouter.create({
        entities: ENTITIES,
        databases: { default: { ...defaultOptions, synchronize: true } },
        tenants: {
          list: tenants,
          options: (tenant) => {
            optionsCalls.set(tenant, (optionsCalls.get(tenant) ?? 0) + 1);
            return { ...db.optionsFor(label(tenant)), synchronize: true };
          },
        },
        pool,
      });
      routers.push(router);
      return {
        router,
        optionsCalls,
        defaultOptions,
        tenantOptions: (tenant) => db.optionsFor(label(tenant)),
        createTenantDatabase,
      };
    }

    /** Backends connected to the PostgreSQL database `options` points at. */
    async function backends(options: DataSourceOptions): Promise<number> {
      const url = new URL((options as { url: string }).url);
      const name = decodeURIComponent(url.pathname.slice(1));
      const result = await pg!.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1",
        [name],
      );
      return result.rows[0].count;
    }

    /** Waits (generously) until no backend is connected to any of `databases`. */
    async function expectNoBackends(databases: DataSourceOptions[]): Promise<void> {
      await eventually(async () => {
        for (const options of databases) expect(await backends(options)).toBe(0);
      });
    }

    const values = (options: DataSourceOptions) =>
      db.rows<{ value: number }>(options, "SELECT value FROM note ORDER BY value");

    describe("single-flight", () => {
      it("opens one DataSource for 50 concurrent first calls of one tenant", async () => {
        const { router, optionsCalls, tenantOptions } = await setUp(["t1"], { idleTimeoutMs: 0 });
        const notes = router.getRepository(Note);
        // tenants.options runs once per DataSource opened (and once at bootstrap, for the
        // "blueprint" placeholder that is never connected).
        expect([...optionsCalls.keys()]).toEqual(["blueprint"]);

        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            withTenant("t1", async () => {
              const saved = await notes.save({ value: index });
              return { saved, dataSource: await router.dataSourceFor(Note) };
            }),
          ),
        );

        expect(new Set(results.map((result) => result.dataSource)).size).toBe(1);
        expect(optionsCalls.get("t1")).toBe(1);
        const stats = router.poolStats();
        expect(stats.keys).toEqual(["tenant:t1"]);
        expect(stats.openTenants).toBe(1);
        expect(stats.inUse).toBe(0);
        if (db.name === "postgres") {
          const connected = await backends(tenantOptions("t1"));
          expect(connected).toBeGreaterThanOrEqual(1);
          expect(connected).toBeLessThanOrEqual(PG_DEFAULT_POOL_MAX);
        }
        // Every one of the 50 writes landed in t1's database.
        const all = Array.from({ length: 50 }, (_, index) => index);
        expect(results.map((result) => result.saved.value).sort((a, b) => a - b)).toEqual(all);
        expect((await values(tenantOptions("t1"))).map((row) => row.value)).toEqual(all);

        // Later calls reuse the open DataSource: no further options calls.
        const counts = await Promise.all(
          Array.from({ length: 10 }, () => withTenant("t1", () => notes.count())),
        );
        expect(counts).toEqual(Array(10).fill(50));
        expect(optionsCalls.get("t1")).toBe(1);
      });
    });

    describe("LRU cap", () => {
      it("keeps at most maxOpenTenants open, evicting the least recently used", async () => {
        const tenants = ["t1", "t2", "t3", "t4", "t5", "t6"];
        const { router, tenantOptions } = await setUp(tenants, {
          maxOpenTenants: 3,
          idleTimeoutMs: 0,
        });
        const notes = router.getRepository(Note);
        const evicted: string[] = [];
        for (const [index, tenant] of tenants.entries()) {
          const before = router.poolStats().keys;
          await withTenant(tenant, () => notes.save({ value: index + 1 }));
          const stats = router.poolStats();
          expect(stats.openTenants).toBeLessThanOrEqual(3);
          expect(stats.open).toBeLessThanOrEqual(3);
          // Tenants used one after another: the open ones are the last three.
          expect(sorted(stats.keys)).toEqual(
            tenantKeys(...tenants.slice(Math.max(0, index - 2), index + 1)),
          );
          evicted.push(...before.filter((key) => !stats.keys.includes(key)));
        }
        expect(evicted).toEqual(["tenant:t1", "tenant:t2", "tenant:t3"]);

        // Recency, not opening order, decides: touch t4, so t5 is now the least recently used.
        await withTenant("t4", () => notes.count());
        await withTenant("t1", () => notes.count());
        expect(sorted(router.poolStats().keys)).toEqual(tenantKeys("t1", "t4", "t6"));

        if (db.name === "postgres") {
          await expectNoBackends(["t2", "t3", "t5"].map(tenantOptions));
          for (const tenant of ["t1", "t4", "t6"])
            expect(await backends(tenantOptions(tenant))).toBeGreaterThanOrEqual(1);
        }

        // Rows written before eviction are still there when the tenant is reopened.
        for (const [index, tenant] of tenants.entries()) {
          const found = await withTenant(tenant, () => notes.find());
          expect(found.map((note) => note.value)).toEqual([index + 1]);
          expect(router.poolStats().openTenants).toBeLessThanOrEqual(3);
          expect(await values(tenantOptions(tenant))).toEqual([{ value: index + 1 }]);
        }
      });

      it("evicts by order of last use, even for uses within one millisecond", async () => {
        const { router } = await setUp(["t1", "t2", "t3", "t4", "t5", "t6"], {
          maxOpenTenants: 3,
          idleTimeoutMs: 0,
        });
        const notes = router.getRepository(Note);
        // Least recently used first. Back-to-back calls on open tenants often share a
        // millisecond, so recency must not come from timestamps alone.
        let recency = ["t1", "t2", "t3"];
        for (const tenant of recency) await withTenant(tenant, () => notes.count());
        for (const next of ["t4", "t5", "t6"]) {
          // Touch the open tenants newest first: the newest becomes the least recently used.
          const touched = [...recency].reverse();
          for (const tenant of touched) await withTenant(tenant, () => notes.count());
          await withTenant(next, () => notes.count());
          recency = [...touched.slice(1), next];
          expect(sorted(router.poolStats().keys)).toEqual(tenantKeys(...recency));
        }
      });

      it("never has more than maxOpenTenants open under concurrent calls for many tenants", async () => {
        const tenants = ["t1", "t2", "t3", "t4", "t5"];
        const { router, tenantOptions } = await setUp(tenants, {
          maxOpenTenants: 3,
          idleTimeoutMs: 0,
        });
        const notes = router.getRepository(Note);
        const seen: number[] = [];
        await Promise.all(
          tenants.flatMap((tenant, index) =>
            Array.from({ length: 3 }, () =>
              withTenant(tenant, async () => {
                await notes.save({ value: index + 1 });
                seen.push(router.poolStats().openTenants);
              }),
            ),
          ),
        );
        expect(seen).toHaveLength(15);
        expect(Math.max(...seen)).toBeLessThanOrEqual(3);
        expect(router.poolStats().openTenants).toBeLessThanOrEqual(3);
        for (const [index, tenant] of tenants.entries()) {
          expect(await values(tenantOptions(tenant))).toEqual(Array(3).fill({ value: index + 1 }));
        }
        if (db.name === "postgres") {
          const open = router.poolStats().keys.map((key) => key.slice("tenant:".length));
          const closed = tenants.filter((tenant) => !open.includes(tenant));
          expect(closed).toHaveLength(tenants.length - open.length);
          await expectNoBackends(closed.map(tenantOptions));
        }
      });

      it("frees the slot of a failed first open, shared by its concurrent callers", async () => {
        const { router, optionsCalls, tenantOptions, createTenantDatabase } = await setUp(
          ["t1", "t2"],
          { maxOpenTenants: 1, idleTimeoutMs: 0, acquireTimeoutMs: 20_000 },
          { missing: ["t1"] },
        );
        const notes = router.getRepository(Note);
        const broken = tenantOptions("t1");
        // t1's database cannot be opened: missing on a server, a directory on SQLite.
        if (db.name === "sqlite") await mkdir((broken as { database: string }).database);
        await expect(withTenant("t1", () => notes.count())).rejects.toBeInstanceOf(
          DataSourceInitError,
        );
        expect(optionsCalls.get("t1")).toBe(1);
        expect(router.poolStats().keys).toEqual([]);

        const errors = await Promise.all(
          Array.from({ length: 10 }, () =>
            withTenant("t1", () => notes.count()).catch((e: unknown) => e),
          ),
        );
        for (const error of errors) {
          expect(error).toBeInstanceOf(DataSourceInitError);
          expect((error as DataSourceInitError).code).toBe("DATASOURCE_INIT_FAILED");
        }
        // One attempt for all ten callers (one shared error), and the slot is free again.
        expect(new Set(errors).size).toBe(1);
        expect(optionsCalls.get("t1")).toBe(2);
        expect(router.poolStats()).toEqual({ open: 0, openTenants: 0, inUse: 0, keys: [] });
        await expect(withTenant("t2", () => notes.count())).resolves.toBe(0);

        // Once the database exists, the next call tries again and succeeds.
        if (db.name === "sqlite") await rmdir((broken as { database: string }).database);
        else await createTenantDatabase("t1");
        await expect(withTenant("t1", () => notes.save({ value: 1 }))).resolves.toMatchObject({
          value: 1,
        });
        expect(router.poolStats().keys).toEqual(["tenant:t1"]);
        expect(await values(tenantOptions("t1"))).toEqual([{ value: 1 }]);
      });
    });

    describe("busy tenants", () => {
      it("never evicts a tenant whose transaction is running", async () => {
        const { router, tenantOptions } = await setUp(["t1", "t2", "t3", "t4"], {
          maxOpenTenants: 2,
          idleTimeoutMs: 0,
        });
        const notes = router.getRepository(Note);
        const hold = gate();
        const written = gate();
        const transaction = withTenant("t1", () =>
          router.transaction(async () => {
            await notes.save({ value: 100 });
            written.open();
            await hold.promise;
            return notes.count();
          }),
        );
        await written.promise;
        expect(router.poolStats().inUse).toBe(1);

        for (const [index, tenant] of ["t2", "t3", "t4"].entries()) {
          await withTenant(tenant, () => notes.save({ value: index }));
          const stats = router.poolStats();
          expect(stats.keys).toContain("tenant:t1");
          expect(stats.keys).toContain(`tenant:${tenant}`);
          expect(stats.openTenants).toBeLessThanOrEqual(2);
        }
        expect(sorted(router.poolStats().keys)).toEqual(tenantKeys("t1", "t4"));
        // Not committed yet: another connection does not see the row.
        expect(await values(tenantOptions("t1"))).toEqual([]);

        hold.open();
        await expect(transaction).resolves.toBe(1);
        expect(await values(tenantOptions("t1"))).toEqual([{ value: 100 }]);
        expect(router.poolStats().inUse).toBe(0);
        for (const [index, tenant] of ["t2", "t3", "t4"].entries())
          expect(await values(tenantOptions(tenant))).toEqual([{ value: index }]);
      });

      it("rejects with PoolExhaustedError when every slot stays busy past acquireTimeoutMs", async () => {
        const { router, optionsCalls, tenantOptions } = await setUp(["t1", "t2", "t3"], {
          maxOpenTenants: 2,
          idleTimeoutMs: 0,
          acquireTimeoutMs: 200,
        });
        const notes = router.getRepository(Note);
        const hold = gate();
        const holders = ["t1", "t2"].map((tenant) => {
          const written = gate();
          const done = withTenant(tenant, () =>
            router.transaction(async () => {
              await notes.save({ value: 1 });
              written.open();
              await hold.promise;
            }),
          );
          return { written: written.promise, done };
        });
        await Promise.all(holders.map((holder) => holder.written));
        expect(router.poolStats().inUse).toBe(2);

        const error = await withTenant("t3", () => notes.count()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PoolExhaustedError);
        expect((error as PoolExhaustedError).code).toBe("POOL_EXHAUSTED");
        expect((error as Error).message).toContain('tenant "t3"');
        expect((error as Error).message).toContain("maxOpenTenants");
        // Nothing was opened for t3 and nothing busy was closed.
        expect(optionsCalls.get("t3")).toBeUndefined();
        expect(sorted(router.poolStats().keys)).toEqual(tenantKeys("t1", "t2"));

        hold.open();
        await Promise.all(holders.map((holder) => holder.done));
        for (const tenant of ["t1", "t2"])
          expect(await values(tenantOptions(tenant))).toEqual([{ value: 1 }]);
        // With a slot free again, t3 opens.
        await expect(withTenant("t3", () => notes.count())).resolves.toBe(0);
      });

      it("lets a waiting call through when a slot frees before the timeout", async () => {
        const { router, tenantOptions } = await setUp(["t1", "t2", "t3"], {
          maxOpenTenants: 2,
          idleTimeoutMs: 0,
          acquireTimeoutMs: 20_000,
        });
        const notes = router.getRepository(Note);
        const holds = { t1: gate(), t2: gate() };
        const holders = (["t1", "t2"] as const).map((tenant) => {
          const written = gate();
          const done = withTenant(tenant, () =>
            router.transaction(async () => {
              await notes.save({ value: 1 });
              written.open();
              await holds[tenant].promise;
            }),
          );
          return { written: written.promise, done };
        });
        await Promise.all(holders.map((holder) => holder.written));

        let settled = false;
        const waiting = withTenant("t3", () => notes.save({ value: 3 })).finally(() => {
          settled = true;
        });
        await sleep(100);
        expect(settled).toBe(false);
        expect(sorted(router.poolStats().keys)).toEqual(tenantKeys("t1", "t2"));

        holds.t2.open();
        await holders[1].done;
        await expect(waiting).resolves.toMatchObject({ value: 3 });
        expect(sorted(router.poolStats().keys)).toEqual(tenantKeys("t1", "t3"));
        expect(await values(tenantOptions("t3"))).toEqual([{ value: 3 }]);
        expect(await values(tenantOptions("t2"))).toEqual([{ value: 1 }]);

        holds.t1.open();
        await holders[0].done;
        expect(await values(tenantOptions("t1"))).toEqual([{ value: 1 }]);
      });
    });

    describe("idle eviction", () => {
      it("closes tenants left idle, never aliases nor a tenant in use", async () => {
        const { router, optionsCalls, defaultOptions, tenantOptions } = await setUp(
          ["t1", "t2", "t3"],
          { idleTimeoutMs: 100 },
          { usesDefault: true },
        );
        const notes = router.getRepository(Note);
        // default is used first, so it has been idle longest of all.
        await router.getRepository(Setting).save({ name: "x" });
        const hold = gate();
        const written = gate();
        const busy = withTenant("t3", () =>
          router.transaction(async () => {
            await notes.save({ value: 3 });
            written.open();
            await hold.promise;
          }),
        );
        await written.promise;
        await withTenant("t1", () => notes.save({ value: 1 }));
        await withTenant("t2", () => notes.save({ value: 2 }));

        await eventually(() =>
          expect(sorted(router.poolStats().keys)).toEqual(["alias:default", "tenant:t3"]),
        );
        if (db.name === "postgres")
          await expectNoBackends([tenantOptions("t1"), tenantOptions("t2")]);

        hold.open();
        await busy;
        // A closing tenant still counts as open (it holds connections) until its close ends.
        await eventually(() => {
          expect(router.poolStats().keys).toEqual(["alias:default"]);
          expect(router.poolStats().openTenants).toBe(0);
        });

        // The evicted tenant reopens (a new DataSource) with its data.
        expect(optionsCalls.get("t1")).toBe(1);
        await expect(withTenant("t1", () => notes.find())).resolves.toMatchObject([{ value: 1 }]);
        expect(optionsCalls.get("t1")).toBe(2);
        expect(await router.getRepository(Setting).count()).toBe(1);
        expect(await db.rows(defaultOptions, "SELECT name FROM setting")).toEqual([{ name: "x" }]);
        expect(await values(tenantOptions("t3"))).toEqual([{ value: 3 }]);
      });
    });

    describe("close", () => {
      it("closes every DataSource and rejects later calls with RouterClosedError", async () => {
        const { router, defaultOptions, tenantOptions } = await setUp(
          ["t1", "t2"],
          { idleTimeoutMs: 0 },
          { usesDefault: true },
        );
        const notes = router.getRepository(Note);
        const settings = router.getRepository(Setting);
        await settings.save({ name: "x" });
        await withTenant("t1", () => notes.save({ value: 1 }));
        await withTenant("t2", () => notes.save({ value: 2 }));
        expect(router.poolStats().open).toBe(3);

        await router.close();

        expect(router.poolStats()).toEqual({ open: 0, openTenants: 0, inUse: 0, keys: [] });
        if (db.name === "postgres")
          await expectNoBackends([defaultOptions, tenantOptions("t1"), tenantOptions("t2")]);
        await expect(withTenant("t1", () => notes.count())).rejects.toBeInstanceOf(
          RouterClosedError,
        );
        await expect(settings.count()).rejects.toMatchObject({ code: "ROUTER_CLOSED" });
        expect(() => router.getRepository(Note)).toThrow(RouterClosedError);
        await expect(router.transaction(async () => undefined)).rejects.toBeInstanceOf(
          RouterClosedError,
        );
        await expect(router.query("default", "SELECT 1")).rejects.toBeInstanceOf(RouterClosedError);
        expect(router.poolStats().open).toBe(0);
        // What was written before closing is stored.
        expect(await values(tenantOptions("t1"))).toEqual([{ value: 1 }]);
        expect(await values(tenantOptions("t2"))).toEqual([{ value: 2 }]);
      });

      it("wakes a call waiting for a slot with RouterClosedError", async () => {
        const { router } = await setUp(["t1", "t2"], {
          maxOpenTenants: 1,
          idleTimeoutMs: 0,
          acquireTimeoutMs: 20_000,
        });
        const notes = router.getRepository(Note);
        const hold = gate();
        const written = gate();
        const busy = withTenant("t1", () =>
          router.transaction(async () => {
            await notes.count();
            written.open();
            await hold.promise;
          }),
        );
        await written.promise;
        const waiting = withTenant("t2", () => notes.count()).catch((e: unknown) => e);
        await sleep(50);
        await router.close();
        expect(await waiting).toBeInstanceOf(RouterClosedError);
        hold.open();
        await busy.catch(() => undefined);
        expect(router.poolStats().open).toBe(0);
      });
    });
  });
}
