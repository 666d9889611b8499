import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  Table,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import { emptyDatabase, type EmptyDatabase } from "typeorm-router/testing";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { DRIVERS, describeDriver } from "./setup/drivers";
import { catalogTables, databaseExists, serverOptions } from "./setup/raw-catalog";

@Entity()
class Widget {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

class CreateGadgets1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({ name: "gadget", columns: [{ name: "id", type: "integer", isPrimary: true }] }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("gadget");
  }
}

const SYSTEM_SCHEMAS = ["pg_catalog", "information_schema"];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    const created: EmptyDatabase[] = [];
    const create = async (options: DataSourceOptions = serverOptions(driver)) => {
      const database = await emptyDatabase(options);
      created.push(database);
      return database;
    };

    afterEach(async () => {
      await Promise.all(created.splice(0).map((database) => database.drop()));
    }, CLEANUP_TIMEOUT_MS);

    it("has no tables at all, not even a migrations table, even when the options name entities and migrations", async () => {
      const { dataSource, options } = await create({
        ...serverOptions(driver),
        entities: [Widget],
        migrations: [CreateGadgets1700000000001],
        synchronize: true,
        migrationsRun: true,
      } as DataSourceOptions);

      expect(dataSource.isInitialized).toBe(true);
      expect(dataSource.entityMetadatas).toEqual([]);
      const queryRunner = dataSource.createQueryRunner();
      try {
        // Without names, PostgreSQL's getTables() also lists the system catalogs, and MySQL's
        // lists every database of the server.
        const tables = (await queryRunner.getTables()).filter((table) =>
          driver.name === "mariadb"
            ? table.database === dataSource.driver.database
            : !SYSTEM_SCHEMAS.includes(table.schema ?? ""),
        );
        expect(tables.map((table) => table.name)).toEqual([]);
        for (const name of [
          "widget",
          "gadget",
          "migrations",
          "migrations_default",
          "typeorm_metadata",
        ]) {
          expect(await queryRunner.hasTable(name)).toBe(false);
        }
      } finally {
        await queryRunner.release();
      }
      expect(await catalogTables(fixture(), options)).toEqual([]);
    });

    it("is a real, reopenable database whose tables the same checks do see", async () => {
      const { dataSource, options } = await create();
      await dataSource.query("CREATE TABLE probe (id integer)");

      expect(await catalogTables(fixture(), options)).toEqual([
        driver.name === "postgres" ? "public.probe" : "probe",
      ]);
      const reopened = new DataSource(options);
      await reopened.initialize();
      try {
        const queryRunner = reopened.createQueryRunner();
        try {
          expect(await queryRunner.hasTable("probe")).toBe(true);
        } finally {
          await queryRunner.release();
        }
      } finally {
        await reopened.destroy();
      }
    });

    it("creates a new database per call, never the one the options name", async () => {
      const first = await create();
      const second = await create();
      await first.dataSource.query("CREATE TABLE only_in_first (id integer)");

      expect(await catalogTables(fixture(), second.options)).toEqual([]);
      expect(second.options).not.toEqual(first.options);
      expect(first.options).not.toEqual(serverOptions(driver));
    });

    it("drop() closes the DataSource and deletes the database; calling it again is harmless", async () => {
      const database = await emptyDatabase(serverOptions(driver));
      await database.dataSource.query("CREATE TABLE probe (id integer)");
      expect(await databaseExists(fixture(), database.options)).toBe(true);

      await database.drop();

      expect(database.dataSource.isInitialized).toBe(false);
      expect(await databaseExists(fixture(), database.options)).toBe(false);
      await expect(database.drop()).resolves.toBeUndefined();
    });
  });
}
