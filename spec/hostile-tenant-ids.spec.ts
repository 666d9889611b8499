import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  External,
  InvalidTenantIdError,
  TenantRouter,
  UnknownTenantError,
  currentTenant,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";
import { MYSQL_URL } from "./setup/mysql";

@External()
@Entity()
class LedgerEntry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  note!: string;
}

/** Ids that must never reach a file name, a database name or SQL. */
const HOSTILE: readonly { readonly label: string; readonly id: string }[] = [
  { label: "a path traversal", id: "../x" },
  { label: "an SQL injection", id: "a;drop schema public" },
  { label: "a quoted identifier", id: '"quoted"' },
  { label: "the empty string", id: "" },
  { label: "a 64-character id", id: "a".repeat(64) },
  { label: "a non-ASCII id", id: "tënant" },
  { label: "an uppercase id", id: "A" },
  { label: "an id with a leading space", id: " a" },
];

const VALID_63 = `t${"0123456789".repeat(6)}ab`;
const KNOWN_TENANT = "ok";

// Temporary databases of other spec files (drivers.ts fixtures) and of the benchmark.
const OTHER_RUNS = /^(tr_|ms_|typeorm_router_)/;

const databaseFile = (options: DataSourceOptions) => (options as { database: string }).database;
const databaseName = (options: DataSourceOptions) =>
  new URL((options as { url: string }).url).pathname.slice(1);

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    // Every id the tenants.options callback was asked about.
    const optionsAskedFor: string[] = [];

    /**
     * What exists on disk or on the server that a tenant id could have created. On a server,
     * other suites and the benchmark create and drop their own temporary
     * databases while this one runs: those are left out of the comparison.
     */
    async function existing(): Promise<unknown> {
      if (db.name === "sqlite") {
        const folder = path.dirname(databaseFile(db.optionsFor("probe")));
        return {
          folder: readdirSync(folder).sort(),
          // The file each hostile id would map to, wherever it points (e.g. "../x").
          targets: HOSTILE.map(({ id }) => existsSync(databaseFile(db.optionsFor(id)))),
        };
      }
      const ours = databaseName(db.optionsFor(""));
      const rows =
        db.name === "mariadb"
          ? await db.rows<{ name: string }>(
              { type: "mariadb", url: MYSQL_URL },
              "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
            )
          : await db.rows<{ name: string }>(
              { type: "postgres", url: PG_URL },
              "SELECT datname AS name FROM pg_database ORDER BY datname",
            );
      const names = rows.map((row) => row.name);
      return {
        databases: names.filter((name) => name.startsWith(ours) || !OTHER_RUNS.test(name)),
        // The database each hostile id would map to.
        targets: HOSTILE.map(({ id }) => names.includes(databaseName(db.optionsFor(id)))),
      };
    }

    beforeAll(async () => {
      db = fixture();
      const defaultOptions = await db.createDatabase("default");
      await db.createDatabase(KNOWN_TENANT);
      router = await TenantRouter.create({
        entities: [LedgerEntry],
        databases: { default: defaultOptions },
        tenants: {
          list: [KNOWN_TENANT],
          // The most dangerous mapping on purpose: the id itself becomes the file or
          // database name, so only validation stands between a hostile id and the disk.
          options: (tenant) => {
            optionsAskedFor.push(tenant);
            return { ...db.optionsFor(tenant), synchronize: true };
          },
        },
      });
      // Open the known tenant and default so the pool is not trivially empty.
      await withTenant(KNOWN_TENANT, () =>
        router.getRepository(LedgerEntry).save({ note: "known" }),
      );
      await router.query("default", "SELECT 1", [], { operation: "read" });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("has opened the known tenant and default, and nothing else", () => {
      expect(router.poolStats().keys.sort()).toEqual(["alias:default", `tenant:${KNOWN_TENANT}`]);
      expect([...new Set(optionsAskedFor)].sort()).toEqual(["blueprint", KNOWN_TENANT]);
    });

    for (const { label, id } of HOSTILE) {
      it(`rejects ${label} (${JSON.stringify(id)}) and creates nothing`, async () => {
        const before = await existing();
        const keysBefore = router.poolStats().keys;
        const askedBefore = optionsAskedFor.length;

        const fn = jest.fn(() => router.getRepository(LedgerEntry).save({ note: label }));
        expect(() => withTenant(id, fn)).toThrow(InvalidTenantIdError);
        expect(fn).not.toHaveBeenCalled();

        const queryError = await router
          .query({ tenant: id }, "select 1")
          .catch((error: unknown) => error);
        expect(queryError).toBeInstanceOf(InvalidTenantIdError);
        expect((queryError as InvalidTenantIdError).code).toBe("INVALID_TENANT_ID");

        const transactionBody = jest.fn(async () => undefined);
        await expect(
          router.transaction({ target: { tenant: id } }, transactionBody),
        ).rejects.toBeInstanceOf(InvalidTenantIdError);
        expect(transactionBody).not.toHaveBeenCalled();

        expect(await existing()).toEqual(before);
        expect(router.poolStats().keys).toEqual(keysBefore);
        expect(optionsAskedFor.length).toBe(askedBefore);
      });
    }

    it("accepts a valid 63-character id in withTenant, and still opens nothing for an unknown one", async () => {
      expect(VALID_63).toHaveLength(63);
      const before = await existing();
      const keysBefore = router.poolStats().keys;
      expect(withTenant(VALID_63, () => currentTenant())).toBe(VALID_63);
      // Valid, so it gets past validation; unknown, so it is refused before any connection.
      await expect(router.query({ tenant: VALID_63 }, "select 1")).rejects.toBeInstanceOf(
        UnknownTenantError,
      );
      expect(await existing()).toEqual(before);
      expect(router.poolStats().keys).toEqual(keysBefore);
      expect(optionsAskedFor).not.toContain(VALID_63);
    });

    it("keeps the known tenant's data where it was", async () => {
      const rows = await db.rows(db.optionsFor(KNOWN_TENANT), "SELECT note FROM ledger_entry");
      expect(rows).toEqual([{ note: "known" }]);
      expect(await db.tables(db.optionsFor("default"))).toEqual([]);
    });
  });
}
