import {
  Column,
  Entity,
  PrimaryGeneratedColumn,
  Table,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import {
  ConfigurationError,
  External,
  MigrationRoutingError,
  TenantRouter,
  withTenant,
  type MigrationClass,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { ID_COLUMN, createTableMigration } from "./setup/migrations";

@Entity()
class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  email!: string;
}

@External()
@Entity()
class DataPoint {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  value!: number;
}

const CreateAccounts1700000000000 = createTableMigration("CreateAccounts1700000000000", "account", [
  { name: "email", type: "varchar" },
]);
const CreateDataPoints1700000000001 = createTableMigration(
  "CreateDataPoints1700000000001",
  "data_point",
  [{ name: "value", type: "integer" }],
);
// Through the Table API, so the same migration runs on every driver.
class AddDataPointIndex1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      "data_point",
      new TableIndex({ name: "data_point_value_idx", columnNames: ["value"] }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("data_point", "data_point_value_idx");
  }
}

// Mis-grouped: a tenant migration that creates a table placed in default.
class TenantCreatesAccounts1700000000003 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE scratch (id integer)");
    await queryRunner.createTable(new Table({ name: "account", columns: [ID_COLUMN] }));
  }
  async down(): Promise<void> {}
}

const TENANTS = ["t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10"];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];

    beforeAll(async () => {
      db = fixture();
    });

    afterEach(async () => {
      await Promise.all(routers.splice(0).map((r) => r.close()));
    });

    const createRouter = async (
      label: string,
      tenantMigrations: MigrationClass[],
      tenants = TENANTS.slice(0, 3),
    ) => {
      if (driver.name !== "sqlite") {
        await db.createDatabase(`${label}_default`);
        for (const t of tenants) await db.createDatabase(`${label}_tenant_${t}`);
      }
      const router = await TenantRouter.create({
        entities: [Account, DataPoint],
        databases: { default: db.optionsFor(`${label}_default`) },
        tenants: { list: tenants, options: (t) => db.optionsFor(`${label}_tenant_${t}`) },
        migrations: { default: [CreateAccounts1700000000000], tenant: tenantMigrations },
      });
      routers.push(router);
      return {
        router,
        defaultDb: db.optionsFor(`${label}_default`),
        tenantDb: (t: string) => db.optionsFor(`${label}_tenant_${t}`),
      };
    };

    it("creates data_point in every tenant database and not in default, recording each group only where it ran", async () => {
      const { router, defaultDb, tenantDb } = await createRouter("story", [
        CreateDataPoints1700000000001,
      ]);
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => [r.database.name, r.outcome])).toEqual([
        ["default", "migrated"],
        ["t01", "migrated"],
        ["t02", "migrated"],
        ["t03", "migrated"],
      ]);
      expect(await db.tables(defaultDb)).toEqual(["account", "migrations_default"]);
      for (const t of ["t01", "t02", "t03"]) {
        expect(await db.tables(tenantDb(t))).toEqual(["data_point", "migrations_tenant"]);
        expect(await db.rows(tenantDb(t), "SELECT name FROM migrations_tenant")).toEqual([
          { name: "CreateDataPoints1700000000001" },
        ]);
      }
      expect(await db.rows(defaultDb, "SELECT name FROM migrations_default")).toEqual([
        { name: "CreateAccounts1700000000000" },
      ]);

      const again = await router.migrate();
      expect(again.results.map((r) => r.outcome)).toEqual([
        "up-to-date",
        "up-to-date",
        "up-to-date",
        "up-to-date",
      ]);
      expect(again.results.flatMap((r) => r.applied)).toEqual([]);

      const clean = await router.verifySchema();
      expect(clean.clean).toBe(true);

      await router.query({ tenant: "t02" }, "DROP TABLE data_point");
      const drift = await router.verifySchema();
      expect(drift.clean).toBe(false);
      const dirty = drift.results.filter((r) => !r.clean);
      expect(dirty.map((r) => [r.database.name, r.missingTables])).toEqual([
        ["t02", ["data_point"]],
      ]);

      await withTenant("t01", () => router.getRepository(DataPoint).save({ value: 1 }));
      expect(await db.rows(tenantDb("t01"), "SELECT value FROM data_point")).toEqual([
        { value: 1 },
      ]);
    });

    it("refuses a mis-grouped migration with MigrationRoutingError and leaves that database as it was", async () => {
      const { router, tenantDb } = await createRouter(
        "misgrouped",
        [TenantCreatesAccounts1700000000003],
        ["t01"],
      );
      const report = await router.migrate();
      expect(report.ok).toBe(false);
      const tenant = report.results.find((r) => r.database.name === "t01")!;
      expect(tenant.outcome).toBe("failed");
      expect(tenant.error).toBeInstanceOf(MigrationRoutingError);
      expect(tenant.error!.message).toContain('table "account"');
      expect(tenant.error!.message).toContain('"default" migration group');
      expect(report.results.find((r) => r.database.name === "default")!.outcome).toBe("migrated");
      if (driver.name === "mariadb") {
        // DDL is not transactional: what ran before the refused call stays, and says so.
        expect(tenant.error!.message).toContain("may be partly applied");
        expect(tenant.error!.message).not.toContain("rolled back");
        expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant", "scratch"]);
        expect(await db.rows(tenantDb("t01"), "SELECT name FROM migrations_tenant")).toEqual([]);
        return;
      }
      // Rolled back: neither the raw scratch table nor the migrations record exists.
      expect(await db.tables(tenantDb("t01"))).toEqual([]);
    });

    it("migrates the other nine when tenant 3 of 10 fails, and finishes it on the next run", async () => {
      let failIn: string | undefined = "t03";
      class FlakyDataPoints1700000000001 implements MigrationInterface {
        async up(queryRunner: QueryRunner): Promise<void> {
          await new CreateDataPoints1700000000001().up(queryRunner);
          const database = String(
            queryRunner.connection.options.database ??
              (queryRunner.connection.options as { url?: string }).url,
          );
          if (failIn && database.includes(`tenant_${failIn}`))
            throw new Error(`injected failure in ${failIn}`);
        }
        async down(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.dropTable("data_point");
        }
      }
      const { router, tenantDb } = await createRouter(
        "faults",
        [FlakyDataPoints1700000000001],
        TENANTS,
      );
      const report = await router.migrate({ concurrency: 3 });
      expect(report.failed).toBe(1);
      const failed = report.results.filter((r) => r.outcome === "failed");
      expect(failed.map((r) => r.database.name)).toEqual(["t03"]);
      expect(failed[0].error!.message).toContain("injected failure in t03");
      expect(failed[0].error!.message).toContain('tenant "t03"');
      expect(failed[0].pending).toEqual([
        { group: "tenant", name: "FlakyDataPoints1700000000001" },
      ]);
      // MariaDB commits each DDL statement: t03 keeps the table made before the failure, and
      // the report says so (it is not recorded as applied).
      const partly = driver.name === "mariadb";
      expect(failed[0].error!.message).toContain(
        partly ? "may be partly applied" : "It was rolled back",
      );
      for (const t of TENANTS) {
        expect(await db.tables(tenantDb(t))).toEqual(
          t === "t03"
            ? partly
              ? ["data_point", "migrations_tenant"]
              : []
            : ["data_point", "migrations_tenant"],
        );
      }
      // What the message asks for: undo the partial migration by hand.
      if (partly) await router.query({ tenant: "t03" }, "DROP TABLE data_point");
      failIn = undefined;
      const rerun = await router.migrate();
      expect(rerun.ok).toBe(true);
      expect(
        rerun.results.filter((r) => r.outcome === "migrated").map((r) => r.database.name),
      ).toEqual(["t03"]);
      expect(await db.tables(tenantDb("t03"))).toEqual(["data_point", "migrations_tenant"]);
    });

    it("reverts exactly the requested steps", async () => {
      const { router, tenantDb } = await createRouter(
        "revert",
        [CreateDataPoints1700000000001, AddDataPointIndex1700000000002],
        ["t01"],
      );
      await router.migrate();
      const reverted = await router.revert({ tenant: "t01", steps: 1 });
      expect(reverted.outcome).toBe("reverted");
      expect(reverted.applied.map((m) => m.name)).toEqual(["AddDataPointIndex1700000000002"]);
      expect(await db.rows(tenantDb("t01"), "SELECT name FROM migrations_tenant")).toEqual([
        { name: "CreateDataPoints1700000000001" },
      ]);
      expect(await db.tables(tenantDb("t01"))).toContain("data_point");
      const status = await router.migrationStatus({ tenants: ["t01"] });
      expect(status[0].groups).toEqual([
        {
          group: "tenant",
          table: "migrations_tenant",
          applied: ["CreateDataPoints1700000000001"],
          pending: ["AddDataPointIndex1700000000002"],
          unknown: [],
          claimed: [],
        },
      ]);
      await router.revert({ tenant: "t01", steps: 1 });
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant"]);
      expect(await db.tables(db.optionsFor("revert_default"))).toEqual([
        "account",
        "migrations_default",
      ]);
    });

    it("dry-runs without changing anything and returns the SQL", async () => {
      const { router, defaultDb, tenantDb } = await createRouter(
        "dryrun",
        [CreateDataPoints1700000000001],
        ["t01"],
      );
      const report = await router.migrate({ dryRun: true });
      if (driver.name === "mariadb") {
        // No transaction can undo MariaDB DDL: refused, and nothing ran (information_schema).
        expect(report.results.map((r) => r.outcome)).toEqual(["failed", "failed"]);
        for (const result of report.results) {
          expect(result.error).toBeInstanceOf(ConfigurationError);
          expect(result.error!.message).toContain("dryRun");
          expect(result.error!.message).toContain("not transactional");
        }
        expect(await db.tables(defaultDb)).toEqual([]);
        expect(await db.tables(tenantDb("t01"))).toEqual([]);
        return;
      }
      expect(report.results.map((r) => r.outcome)).toEqual(["dry-run", "dry-run"]);
      const tenantSql = report.results[1].sql!.join("\n");
      expect(tenantSql).toMatch(/CREATE TABLE "data_point"/);
      expect(tenantSql).toMatch(/migrations_tenant/);
      expect(report.results[1].pending).toEqual([
        { group: "tenant", name: "CreateDataPoints1700000000001" },
      ]);
      expect(await db.tables(defaultDb)).toEqual([]);
      expect(await db.tables(tenantDb("t01"))).toEqual([]);
    });

    it("creates and drops tenants, and a create that fails midway leaves nothing behind", async () => {
      const list = ["t01"];
      if (driver.name !== "sqlite") {
        await db.createDatabase("prov_default");
        await db.createDatabase("prov_tenant_t01");
      }
      const exists = (label: string): Promise<boolean> => db.databaseExists(db.optionsFor(label));
      expect(await exists("prov_tenant_t02")).toBe(false);
      let breakNext = false;
      class MaybeBroken1700000000001 implements MigrationInterface {
        async up(queryRunner: QueryRunner): Promise<void> {
          await new CreateDataPoints1700000000001().up(queryRunner);
          if (breakNext) throw new Error("broken on purpose");
        }
        async down(): Promise<void> {}
      }
      const router = await TenantRouter.create({
        entities: [Account, DataPoint],
        databases: { default: db.optionsFor("prov_default") },
        tenants: {
          ...inMemoryTenants(list),
          options: (t) => db.optionsFor(`prov_tenant_${t}`),
        },
        migrations: { tenant: [MaybeBroken1700000000001] },
      });
      routers.push(router);
      const created = await router.tenants.create("t02");
      expect(created.outcome).toBe("migrated");
      expect(await router.tenants.list()).toEqual(["t01", "t02"]);
      expect(await db.tables(db.optionsFor("prov_tenant_t02"))).toEqual([
        "data_point",
        "migrations_tenant",
      ]);
      await withTenant("t02", () => router.getRepository(DataPoint).save({ value: 2 }));

      breakNext = true;
      await expect(router.tenants.create("t03")).rejects.toThrow("broken on purpose");
      expect(await router.tenants.list()).toEqual(["t01", "t02"]);
      expect(await exists("prov_tenant_t03")).toBe(false);

      await expect(router.tenants.drop("t02", { confirm: "nope" })).rejects.toMatchObject({
        code: "CONFIRMATION_REQUIRED",
      });
      expect(await router.tenants.list()).toEqual(["t01", "t02"]);
      await router.tenants.drop("t02", { confirm: "t02" });
      expect(await router.tenants.list()).toEqual(["t01"]);
      expect(await exists("prov_tenant_t02")).toBe(false);
      await expect(
        withTenant("t02", () => router.getRepository(DataPoint).count()),
      ).rejects.toMatchObject({ code: "UNKNOWN_TENANT" });
    });
  });
}
