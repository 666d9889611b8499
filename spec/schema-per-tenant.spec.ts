import {
  Column,
  Entity,
  Like,
  PrimaryGeneratedColumn,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import {
  External,
  MigrationFailedError,
  TenantRouter,
  UnknownTenantError,
  schemaPerTenant,
  withTenant,
  type MigrationClass,
} from "./setup/public-api";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration, sqlMigration } from "./setup/migrations";
import { queryAt } from "./setup/pg";

@Entity()
class Registry {
  @PrimaryGeneratedColumn()
  id!: number;
}

@External()
@Entity()
class Reading {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  tenant!: string;
}

const CreateReadings1700000000001 = createTableMigration("CreateReadings1700000000001", "reading", [
  { name: "tenant", type: "varchar" },
]);

// Raw SQL with unqualified names: it must land in the tenant's schema, never in public.
const IndexReadings1700000000002 = sqlMigration(
  "IndexReadings1700000000002",
  ['CREATE INDEX "reading_tenant_idx" ON reading (tenant)', "CREATE TABLE raw_notes (id integer)"],
  ["DROP TABLE raw_notes", 'DROP INDEX "reading_tenant_idx"'],
);

const postgres = DRIVERS.filter((driver) => driver.name === "postgres");

for (const driver of postgres) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let url: string;
    let databaseName: string;
    const routers: TenantRouter[] = [];
    const list: string[] = [];

    const admin = <T>(sql: string, parameters: unknown[] = []) =>
      queryAt<T>(PG_URL, sql, parameters);
    const inDatabase = (sql: string) => db.rows(db.optionsFor("schemas"), sql);
    const create = async (
      maxConnections: number,
      tenantMigrations: MigrationClass[] = [
        CreateReadings1700000000001,
        IndexReadings1700000000002,
      ],
      maxOpenTenants?: number,
    ) => {
      const router = await TenantRouter.create({
        entities: [Registry, Reading],
        databases: { default: { type: "postgres", url } },
        tenants: {
          ...inMemoryTenants(list),
          strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections }),
        },
        migrations: { tenant: tenantMigrations },
        ...(maxOpenTenants !== undefined && { pool: { maxOpenTenants } }),
      });
      routers.push(router);
      return router;
    };

    beforeAll(async () => {
      db = fixture();
      url = (await db.createDatabase("schemas")) as unknown as string;
      url = (db.optionsFor("schemas") as { url: string }).url;
      databaseName = new URL(url).pathname.slice(1);
      const router = await create(4);
      for (let i = 0; i < 30; i++) await router.tenants.create(`s${String(i).padStart(2, "0")}`);
      await router.close();
    });

    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close()));
    });

    it("creates one schema per tenant, with its tables and raw-SQL objects inside it and none in public", async () => {
      const schemas = await inDatabase(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_%' ORDER BY nspname",
      );
      expect(schemas).toHaveLength(30);
      const tables = await inDatabase(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'tenant_s07' ORDER BY table_name",
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        "migrations_tenant",
        "raw_notes",
        "reading",
      ]);
      const indexes = await inDatabase(
        "SELECT schemaname FROM pg_indexes WHERE indexname = 'reading_tenant_idx'",
      );
      expect(new Set(indexes.map((i) => i.schemaname)).size).toBe(30);
      expect(await db.tables(db.optionsFor("schemas"))).toEqual([]); // nothing in public
    });

    it("keeps every row in its own schema under a global connection cap", async () => {
      const router = await create(3);
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const [row] = await admin<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1",
            [databaseName],
          );
          peak = Math.max(peak, Number(row.n));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const tenants = [...list];
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => tenants[(i * 7) % tenants.length]).map((tenant) =>
          withTenant(tenant, async () => {
            await router.getRepository(Reading).save({ tenant });
            await router.getRepository(Reading).count();
          }),
        ),
      );
      sampling = false;
      await sampler;
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(3);
      for (const tenant of tenants) {
        const rows = await inDatabase(`SELECT DISTINCT tenant FROM tenant_${tenant}.reading`);
        expect(rows.map((r) => r.tenant)).toEqual([tenant]);
      }
    });

    it("never lets one tenant's raw SQL see another's rows over one shared connection", async () => {
      const router = await create(1);
      const tenants = list.slice(0, 6);
      for (const tenant of tenants) {
        await router.query({ tenant }, "INSERT INTO reading (tenant) VALUES ($1)", [
          `raw-${tenant}`,
        ]);
      }
      const seen = await Promise.all(
        Array.from({ length: 60 }, (_, i) => tenants[i % tenants.length]).map(async (tenant) => {
          const rows = await router.query<{ tenant: string }[]>(
            { tenant },
            "SELECT DISTINCT tenant FROM reading WHERE tenant LIKE 'raw-%'",
            [],
            {
              operation: "read",
            },
          );
          return { tenant, rows: rows.map((r) => r.tenant) };
        }),
      );
      for (const { tenant, rows } of seen) expect(rows).toEqual([`raw-${tenant}`]);
      // The one pooled connection has no tenant left on it afterwards.
      const [{ search_path }] = await router.query<{ search_path: string }[]>(
        "default",
        "SHOW search_path",
        [],
        { operation: "read" },
      );
      expect(search_path).toBe('"$user", public');
      await withTenant(tenants[0], () =>
        router.transaction(async (manager) => {
          await router.getRepository(Reading).save({ tenant: tenants[0] }); // pins the transaction
          const rows = await manager.query(
            "SELECT DISTINCT tenant FROM reading WHERE tenant LIKE 'raw-%'",
          );
          expect(rows).toEqual([{ tenant: `raw-${tenants[0]}` }]);
        }),
      );
      const [after] = await router.query<{ search_path: string }[]>(
        "default",
        "SHOW search_path",
        [],
        { operation: "read" },
      );
      expect(after.search_path).toBe('"$user", public');
    });

    it("finds a no-op migrate of every schema in bulk, without opening a tenant DataSource", async () => {
      const router = await create(4);
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      expect(
        report.results.filter((r) => r.database.kind === "tenant").map((r) => r.outcome),
      ).toEqual(Array(30).fill("up-to-date"));
      expect(router.poolStats().openTenants).toBe(0);
      const status = await router.migrationStatus({ tenants: ["s03"] });
      expect(status[0].groups[0].applied).toEqual([
        "CreateReadings1700000000001",
        "IndexReadings1700000000002",
      ]);
    });

    it("refuses a transaction = false migration: SET LOCAL search_path needs a transaction", async () => {
      class OutsideTransaction1700000000003 implements MigrationInterface {
        transaction = false;
        async up(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query("CREATE TABLE unscoped (id integer)");
        }
        async down(): Promise<void> {}
      }
      const router = await create(2, [
        CreateReadings1700000000001,
        IndexReadings1700000000002,
        OutsideTransaction1700000000003,
      ]);
      const report = await router.migrate({ tenants: ["s00"] });
      const [result] = report.results;
      expect(result.outcome).toBe("failed");
      expect(result.error).toBeInstanceOf(MigrationFailedError);
      expect(result.error!.message).toContain("SET LOCAL search_path");
      // Neither run in public (where an unscoped statement would land) nor recorded.
      expect(await inDatabase("SELECT 1 FROM pg_tables WHERE tablename = 'unscoped'")).toEqual([]);
      const status = await router.migrationStatus({ tenants: ["s00"] });
      expect(status[0].groups[0].pending).toEqual(["OutsideTransaction1700000000003"]);
    });

    it("evicts and reopens tenants past maxOpenTenants, each read in its own schema, and stays fail-closed", async () => {
      const router = await create(2, undefined, 3);
      const tenants = list.slice(10, 20);
      const marker = (tenant: string) => `evict-${tenant}`;
      for (const tenant of tenants) {
        await withTenant(tenant, () =>
          router.getRepository(Reading).save({ tenant: marker(tenant) }),
        );
      }
      // Concurrent round robins: every read opens its tenant and evicts another.
      const seen = await Promise.all(
        Array.from({ length: 120 }, (_, i) => tenants[(i * 3) % tenants.length]).map((tenant) =>
          withTenant(tenant, async () => {
            const rows = await router.getRepository(Reading).findBy({ tenant: Like("evict-%") });
            expect(router.poolStats().openTenants).toBeLessThanOrEqual(3);
            return { tenant, rows: rows.map((row) => row.tenant) };
          }),
        ),
      );
      for (const { tenant, rows } of seen) expect(rows).toEqual([marker(tenant)]);
      expect(router.poolStats().openTenants).toBe(3);

      // A tenant never listed, and one dropped by another process while it was evicted (the
      // router still lists it from its last read): UnknownTenantError, never public's table.
      await router.tenants.create("gone");
      await withTenant("gone", () => router.getRepository(Reading).save({ tenant: "evict-gone" }));
      for (const tenant of tenants.slice(0, 3)) {
        await withTenant(tenant, () => router.getRepository(Reading).count());
      }
      expect(router.poolStats().keys.some((key) => key.includes("gone"))).toBe(false);
      await queryAt(url, "CREATE TABLE public.reading (id serial, tenant varchar)");
      await queryAt(url, "INSERT INTO public.reading (tenant) VALUES ('evict-public')");
      list.splice(list.indexOf("gone"), 1);
      await queryAt(url, 'DROP SCHEMA "tenant_gone" CASCADE');
      try {
        // The directory re-reads the list at most every 50 ms when an error hints at a drop.
        await new Promise((resolve) => setTimeout(resolve, 60));
        const read = (tenant: string) =>
          withTenant(tenant, () =>
            router.getRepository(Reading).findBy({ tenant: Like("evict-%") }),
          );
        // Refused from the server's answer (the list re-read), then from the list alone.
        const gone = read("gone");
        await expect(gone).rejects.toBeInstanceOf(UnknownTenantError);
        await expect(gone).rejects.toThrow("its storage is gone");
        const never = read("nope");
        await expect(never).rejects.toBeInstanceOf(UnknownTenantError);
        await expect(never).rejects.toThrow("No connection was opened");
        expect(router.poolStats().keys.some((key) => /gone|nope/.test(key))).toBe(false);
      } finally {
        await queryAt(url, "DROP TABLE public.reading");
      }
    });

    it("drops a tenant's schema", async () => {
      const router = await create(2);
      await router.tenants.drop("s29", { confirm: "s29" });
      expect(
        await inDatabase("SELECT nspname FROM pg_namespace WHERE nspname = 'tenant_s29'"),
      ).toEqual([]);
      expect(await router.tenants.list()).not.toContain("s29");
    });

    it("runs a tenant's raw SQL in its schema only, never in public's table of the same name", async () => {
      const router = await create(2);
      await queryAt(url, "CREATE TABLE public.reading (id serial, tenant varchar)");
      await queryAt(url, "INSERT INTO public.reading (tenant) VALUES ('public secret')");
      // A tenant whose schema exists but lacks the table (being created, half-migrated).
      await queryAt(url, 'CREATE SCHEMA "tenant_bare"');
      list.push("bare");
      try {
        await withTenant("s03", () => router.getRepository(Reading).save({ tenant: "s03" }));
        const own = await withTenant("s03", () =>
          router.getRepository(Reading).query("SELECT DISTINCT tenant FROM reading"),
        );
        // Earlier tests wrote "raw-s03" here too; what matters is that public's row is absent.
        const tenants = (own as { tenant: string }[]).map((row) => row.tenant);
        expect(tenants).toContain("s03");
        expect(tenants).not.toContain("public secret");
        const lacking = [
          () =>
            withTenant("bare", () =>
              router.getRepository(Reading).query("SELECT tenant FROM reading"),
            ),
          () => withTenant("bare", () => router.manager.query("SELECT tenant FROM reading")),
          () => router.query({ tenant: "bare" }, "SELECT tenant FROM reading"),
          () =>
            withTenant("bare", () =>
              router.transaction((manager) => manager.query("SELECT tenant FROM reading")),
            ),
        ];
        for (const read of lacking) {
          await expect(read()).rejects.toThrow('relation "reading" does not exist');
        }
      } finally {
        list.splice(list.indexOf("bare"), 1);
        await queryAt(url, 'DROP SCHEMA "tenant_bare"');
        await queryAt(url, "DROP TABLE public.reading");
      }
    });
  });
}
