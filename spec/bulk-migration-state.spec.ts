import { Entity, PrimaryGeneratedColumn, type MigrationInterface, type QueryRunner } from "typeorm";
import { External, TenantRouter, schemaPerTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { createTableMigration, sqlMigration, type FixtureMigration } from "./setup/migrations";
import { withClient } from "./setup/pg";

// The no-op migrate of schema-per-tenant reads every schema's migration records in bulk:
// UNION ALLs of 50 tables each, ten per round trip, on two connections at once. Here 1,201
// schemas span 25 of them in three round trips; each record must be read for its own schema.

@External()
@Entity({ name: "bulk_item" })
class BulkItem {
  @PrimaryGeneratedColumn()
  id!: number;
}

const CreateBulkItems1700000000001 = createTableMigration(
  "CreateBulkItems1700000000001",
  "bulk_item",
  [],
);
const AddBulkNotes1700000000002 = sqlMigration(
  "AddBulkNotes1700000000002",
  "CREATE TABLE bulk_note (id integer)",
  "DROP TABLE bulk_note",
);

const TENANTS = Array.from({ length: 1201 }, (_, index) => `b${String(index).padStart(4, "0")}`);
const schemaOf = (tenant: string) => `tenant_${tenant}`;

const postgres = DRIVERS.filter((driver) => driver.name === "postgres");

for (const driver of postgres) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let url: string;
    const routers: TenantRouter[] = [];

    const create = async ({
      tenants = TENANTS,
      maxConnections = 4,
      migrations = [CreateBulkItems1700000000001, AddBulkNotes1700000000002],
    }: {
      tenants?: readonly string[];
      maxConnections?: number;
      migrations?: FixtureMigration[];
    } = {}) => {
      const router = await TenantRouter.create({
        entities: [BulkItem],
        databases: { default: { type: "postgres", url } },
        tenants: {
          list: tenants,
          strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections }),
        },
        migrations: { tenant: migrations },
      });
      routers.push(router);
      return router;
    };

    beforeAll(async () => {
      db = fixture();
      await db.createDatabase("bulk");
      url = (db.optionsFor("bulk") as { url: string }).url;
      const router = await create();
      const first = TENANTS[0];
      await withClient(url, (client) => client.query(`CREATE SCHEMA "${schemaOf(first)}"`));
      const report = await router.migrate({ tenants: [first] });
      expect(report.ok).toBe(true);
      // Every other schema gets the first one's migrations table, rows included, in SQL.
      await withClient(url, async (client) => {
        const from = `"${schemaOf(first)}"."migrations_tenant"`;
        for (let start = 1; start < TENANTS.length; start += 300) {
          await client.query(
            TENANTS.slice(start, start + 300)
              .map((tenant) => {
                const schema = `"${schemaOf(tenant)}"`;
                return (
                  `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}."migrations_tenant" (LIKE ${from} INCLUDING ALL); ` +
                  `INSERT INTO ${schema}."migrations_tenant" SELECT * FROM ${from}; ` +
                  `CREATE TABLE ${schema}."bulk_item" (id serial PRIMARY KEY); CREATE TABLE ${schema}."bulk_note" (id integer);`
                );
              })
              .join("\n"),
          );
        }
      });
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(routers.splice(0).map((router) => router.close()));
    });

    it("reads the state of 1,201 schemas in bulk: a no-op opens no tenant, one behind migrates alone", async () => {
      const router = await create();
      const noOp = await router.migrate();
      expect(noOp.ok).toBe(true);
      const outcomes = noOp.results.filter((r) => r.database.kind === "tenant");
      expect(outcomes).toHaveLength(TENANTS.length);
      expect(outcomes.every((r) => r.outcome === "up-to-date")).toBe(true);
      expect(router.poolStats().openTenants).toBe(0);

      // One schema in the last UNION ALL is one migration behind: only it runs, and only that
      // migration (a record read for the wrong schema would hide it or add others).
      const behind = TENANTS[1150];
      await withClient(url, async (client) => {
        await client.query(
          `DELETE FROM "${schemaOf(behind)}"."migrations_tenant" WHERE name = 'AddBulkNotes1700000000002'`,
        );
        await client.query(`DROP TABLE "${schemaOf(behind)}"."bulk_note"`);
      });
      const fresh = await create();
      const report = await fresh.migrate();
      expect(report.ok).toBe(true);
      const migrated = report.results.filter((r) => r.outcome === "migrated");
      expect(migrated.map((r) => [r.database.name, r.applied.map((m) => m.name)])).toEqual([
        [behind, ["AddBulkNotes1700000000002"]],
      ]);
      expect(fresh.poolStats().openTenants).toBe(1);
      const tables = await db.rows(
        db.optionsFor("bulk"),
        `SELECT schemaname FROM pg_tables WHERE tablename = 'bulk_note' AND schemaname = '${schemaOf(behind)}'`,
      );
      expect(tables).toHaveLength(1);
    });

    it("a tenant that another router migrates after the bulk read is not migrated twice", async () => {
      // migrate() starts each tenant from the state read in bulk before the first one; by
      // the time it reaches r2, a second router has migrated r2. Each migration is checked
      // under r2's lock, so none runs again, and none is recorded twice.
      const tenants = ["r1", "r2"];
      const r2Migrated = { report: undefined as unknown };
      class CreateRaceNotes1700000000011 implements MigrationInterface {
        async up(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query("CREATE TABLE race_note (id integer)");
          // Not current_schema(): the router maps a tenant's schema in catalog results back
          // to its placeholder.
          const [{ path }] = (await queryRunner.query(
            "SELECT current_setting('search_path') AS path",
          )) as { path: string }[];
          if (path.replace(/"/g, "") === schemaOf("r1")) {
            r2Migrated.report = await second.migrate({ tenants: ["r2"] });
          }
        }
        async down(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query("DROP TABLE race_note");
        }
      }
      const AddRaceLabels1700000000012 = sqlMigration(
        "AddRaceLabels1700000000012",
        "ALTER TABLE race_note ADD COLUMN label text",
        "ALTER TABLE race_note DROP COLUMN label",
      );
      const open = () =>
        create({
          tenants,
          maxConnections: 2,
          migrations: [CreateRaceNotes1700000000011, AddRaceLabels1700000000012],
        });
      await withClient(url, (client) =>
        client.query(tenants.map((t) => `CREATE SCHEMA "${schemaOf(t)}";`).join("\n")),
      );
      const first = await open();
      const second = await open();

      const report = await first.migrate({ concurrency: 1 });

      expect(report.ok).toBe(true);
      const outcome = (tenant: string, of: { results: typeof report.results }) =>
        of.results
          .filter((r) => r.database.name === tenant)
          .map((r) => [r.outcome, r.applied.map((m) => m.name)]);
      expect(outcome("r2", r2Migrated.report as typeof report)).toEqual([
        ["migrated", ["CreateRaceNotes1700000000011", "AddRaceLabels1700000000012"]],
      ]);
      expect(outcome("r1", report)).toEqual([
        ["migrated", ["CreateRaceNotes1700000000011", "AddRaceLabels1700000000012"]],
      ]);
      expect(outcome("r2", report)).toEqual([["up-to-date", []]]);
      for (const tenant of tenants) {
        const records = await db.rows(
          db.optionsFor("bulk"),
          `SELECT name, count(*)::int AS n FROM "${schemaOf(tenant)}"."migrations_tenant" GROUP BY name ORDER BY name`,
        );
        expect(records).toEqual([
          { name: "AddRaceLabels1700000000012", n: 1 },
          { name: "CreateRaceNotes1700000000011", n: 1 },
        ]);
      }
    });
  });
}
