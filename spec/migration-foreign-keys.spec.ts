import { Table, TableColumn, type MigrationInterface, type QueryRunner } from "typeorm";
import { TenantRouter } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { ID_COLUMN } from "./setup/migrations";

// A migration that alters a table other rows reference with ON DELETE CASCADE must keep those
// rows. On SQLite most ALTERs recreate the table (copy, drop, rename): with foreign keys on,
// the drop cascades. TypeORM's migrations turn them off around the run (beforeMigration); the
// router's migrator must too (TypeORM github #9770).

class CreateFooBar1700000000001 implements MigrationInterface {
  readonly name = "CreateFooBar1700000000001";
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({ name: "foo", columns: [ID_COLUMN, { name: "data", type: "varchar" }] }),
    );
    await queryRunner.createTable(
      new Table({
        name: "bar",
        columns: [
          ID_COLUMN,
          { name: "data", type: "varchar" },
          { name: "foo_id", type: "integer" },
        ],
        foreignKeys: [
          {
            columnNames: ["foo_id"],
            referencedTableName: "foo",
            referencedColumnNames: ["id"],
            onDelete: "CASCADE",
          },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("bar");
    await queryRunner.dropTable("foo");
  }
}

class AmendFoo1700000000002 implements MigrationInterface {
  readonly name = "AmendFoo1700000000002";
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      "foo",
      new TableColumn({ name: "comment", type: "varchar", isNullable: true }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("foo", "comment");
  }
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];
    const tenants = driver.name === "mariadb" ? ["each"] : ["each", "all"];

    const open = async (migrations: (new () => MigrationInterface)[]) => {
      const router = await TenantRouter.create({
        entities: [],
        undiscoveredEntities: "ignore",
        databases: { default: db.optionsFor("fk_default") },
        tenants: { list: tenants, options: (tenant) => db.optionsFor(`fk_${tenant}`) },
        migrations: { tenant: migrations },
      });
      routers.push(router);
      return router;
    };

    beforeAll(async () => {
      db = fixture();
      for (const name of ["default", ...tenants]) await db.createDatabase(`fk_${name}`);
    });

    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close()));
    });

    it("keeps the rows that reference a table a migration alters (transaction each and all)", async () => {
      const first = await open([CreateFooBar1700000000001]);
      expect((await first.migrate()).ok).toBe(true);
      for (const tenant of tenants) {
        await first.query({ tenant }, "INSERT INTO foo (data) VALUES ('foo')");
        await first.query({ tenant }, "INSERT INTO bar (data, foo_id) VALUES ('bar', 1)");
      }
      await first.close();

      const second = await open([CreateFooBar1700000000001, AmendFoo1700000000002]);
      for (const tenant of tenants) {
        const report = await second.migrate({
          tenants: [tenant],
          transaction: tenant as "each" | "all",
        });
        expect(report.results.map((result) => [result.outcome, result.error])).toEqual([
          ["migrated", undefined],
        ]);
        const options = db.optionsFor(`fk_${tenant}`);
        expect(await db.rows(options, "SELECT data, comment FROM foo")).toEqual([
          { data: "foo", comment: null },
        ]);
        expect(await db.rows(options, "SELECT data FROM bar")).toEqual([{ data: "bar" }]);
      }
      // Foreign keys are enforced again once the migrations ran.
      await expect(
        second.query({ tenant: "each" }, "INSERT INTO bar (data, foo_id) VALUES ('orphan', 99)"),
      ).rejects.toThrow();
    });
  });
}
