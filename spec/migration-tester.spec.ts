import { TableColumn, type MigrationInterface, type QueryRunner } from "typeorm";
import {
  UnknownMigrationError,
  migrationTester,
  useMigrationTester,
  type MigrationState,
  type MigrationTester,
} from "typeorm-router/testing";
import { ConfigurationError, MigrationFailedError, type MigrationClass } from "typeorm-router";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { DRIVERS, describeDriver } from "./setup/drivers";
import { createTableMigration } from "./setup/migrations";
import { catalogTables, databaseExists, serverOptions } from "./setup/raw-catalog";

const CreateItem1700000000001 = createTableMigration("CreateItem1700000000001", "item", [
  { name: "string_field", type: "varchar" },
]);

// Like Django's BooleanField(default=True): existing rows become clean.
class AddIsClean1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      "item",
      new TableColumn({ name: "is_clean", type: "boolean", default: true, isNullable: false }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("item", "is_clean");
  }
}

// The data migration under test: a row is dirty when its string_field mentions "bad".
class FillIsClean1700000000003 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE "item" SET "is_clean" = CASE WHEN "string_field" LIKE '%bad%' THEN false ELSE true END`,
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "item" SET "is_clean" = true`);
  }
}

class BrokenFill1700000000004 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "item" SET "string_field" = 'half done'`);
    await queryRunner.query(`UPDATE "no_such_table" SET "x" = 1`);
  }
  async down(): Promise<void> {}
}

const MIGRATIONS: MigrationClass[] = [
  FillIsClean1700000000003,
  CreateItem1700000000001,
  AddIsClean1700000000002,
];
const NAMES = ["CreateItem1700000000001", "AddIsClean1700000000002", "FillIsClean1700000000003"];

const ROWS = [
  { string_field: "good" },
  { string_field: "bad apple" },
  { string_field: "fine" },
  { string_field: "so bad" },
];

async function hasColumn(state: MigrationState, table: string, column: string): Promise<boolean> {
  const queryRunner = state.dataSource.createQueryRunner();
  try {
    return await queryRunner.hasColumn(table, column);
  } finally {
    await queryRunner.release();
  }
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    const testers: MigrationTester[] = [];
    const tester = (migrations = MIGRATIONS) => {
      const created = migrationTester({ options: serverOptions(driver), migrations });
      testers.push(created);
      return created;
    };
    const recorded = async (state: MigrationState) =>
      (
        await fixture().rows<{ name: string }>(
          state.dataSource.options,
          'SELECT "name" FROM "migrations_default" ORDER BY "id"',
        )
      ).map((row) => row.name);

    afterEach(async () => {
      await Promise.all(testers.splice(0).map((created) => created.reset()));
    }, CLEANUP_TIMEOUT_MS);

    it("tests the data migration: before(0002), insert rows, after(0003), count; after(0002) reverts it", async () => {
      const migrator = tester();
      const before = await migrator.before("AddIsClean1700000000002");
      expect(before.applied).toEqual(NAMES.slice(0, 2));
      expect(await recorded(before)).toEqual(NAMES.slice(0, 2));
      const items = before.table("item");
      await items.insert(ROWS);
      expect(await items.count()).toBe(4);
      expect(await items.count({ is_clean: true })).toBe(4);

      const after = await migrator.after("FillIsClean1700000000003");
      expect(after.applied).toEqual(NAMES);
      expect(await recorded(after)).toEqual(NAMES);
      expect(await after.table("item").count({ is_clean: true })).toBe(2);
      expect(await after.table("item").count({ is_clean: false })).toBe(2);
      const dirty = await after.table("item").select({ is_clean: false }, { orderBy: "id" });
      expect(dirty.map((row) => row.string_field)).toEqual(["bad apple", "so bad"]);

      const reverted = await migrator.after("AddIsClean1700000000002");
      expect(reverted.applied).toEqual(NAMES.slice(0, 2));
      expect(await recorded(reverted)).toEqual(NAMES.slice(0, 2));
      expect(await hasColumn(reverted, "item", "is_clean")).toBe(true);
      expect(await reverted.table("item").count()).toBe(4);
      expect(await reverted.table("item").count({ is_clean: true })).toBe(4);

      const again = await migrator.after("FillIsClean1700000000003");
      expect(await again.table("item").count({ is_clean: false })).toBe(2);
    });

    it("before(name) applies every migration up to and including name, in timestamp order", async () => {
      const migrator = tester();
      const first = await migrator.before("CreateItem1700000000001");
      expect(first.applied).toEqual(NAMES.slice(0, 1));
      expect(await hasColumn(first, "item", "string_field")).toBe(true);
      expect(await hasColumn(first, "item", "is_clean")).toBe(false);
      await first.table("item").insert({ string_field: "old era" });
      expect(await first.table("item").rows()).toEqual([{ id: 1, string_field: "old era" }]);

      const zero = await migrator.before(null);
      expect(zero.applied).toEqual([]);
      expect(await catalogTables(fixture(), zero.dataSource.options)).toEqual([]);
    });

    it("after() walks back through down() to an earlier migration and to nothing", async () => {
      const migrator = tester();
      const latest = await migrator.before("FillIsClean1700000000003");
      await latest.table("item").insert(ROWS);

      const first = await migrator.after("CreateItem1700000000001");
      expect(first.applied).toEqual(NAMES.slice(0, 1));
      expect(await hasColumn(first, "item", "is_clean")).toBe(false);
      expect(await first.table("item").count()).toBe(4);

      const none = await migrator.after(null);
      expect(none.applied).toEqual([]);
      expect(await recorded(none)).toEqual([]);
      // Only the (now empty) migrations table is left; sqlite_sequence is SQLite's own.
      const tables = await catalogTables(fixture(), none.dataSource.options);
      expect(
        tables
          .map((name) => name.replace(/^public\./, ""))
          .filter((name) => name !== "sqlite_sequence"),
      ).toEqual(["migrations_default"]);
    });

    it("before() again starts over on a new database and drops the previous one", async () => {
      const migrator = tester();
      const old = await migrator.before("AddIsClean1700000000002");
      await old.table("item").insert(ROWS);
      const oldOptions = old.dataSource.options;

      const fresh = await migrator.before("AddIsClean1700000000002");

      expect(await fresh.table("item").count()).toBe(0);
      expect(fresh.dataSource.options).not.toEqual(oldOptions);
      expect(await databaseExists(fixture(), oldOptions)).toBe(false);
      expect(await databaseExists(fixture(), fresh.dataSource.options)).toBe(true);
    });

    it("refuses unknown migration names, listing the known ones, without touching the database", async () => {
      const migrator = tester();
      const unknown = migrator.before("AddIsDirty1700000000002");
      await expect(unknown).rejects.toThrow(UnknownMigrationError);
      await expect(unknown).rejects.toMatchObject({
        code: "UNKNOWN_MIGRATION",
        migration: "AddIsDirty1700000000002",
        known: NAMES,
      });
      await expect(unknown).rejects.toThrow(
        'Unknown migration "AddIsDirty1700000000002" in migrationTester().before(). Known ' +
          'migrations, oldest first: "CreateItem1700000000001", "AddIsClean1700000000002", ' +
          '"FillIsClean1700000000003".',
      );

      const state = await migrator.before("AddIsClean1700000000002");
      await expect(migrator.after("FillIsClean")).rejects.toThrow(
        /Unknown migration "FillIsClean" in migrationTester\(\)\.after\(\)\. Known migrations/,
      );
      expect(await recorded(state)).toEqual(NAMES.slice(0, 2));
    });

    it("refuses migrations it cannot order, naming them", async () => {
      class AddIsDirty implements MigrationInterface {
        async up(): Promise<void> {}
        async down(): Promise<void> {}
      }
      const migrator = tester([...MIGRATIONS, AddIsDirty]);
      const refused = migrator.before("AddIsClean1700000000002");
      await expect(refused).rejects.toThrow(ConfigurationError);
      await expect(refused).rejects.toThrow(
        /1 problem\(s\) with the migrations, so no database was created\. Fix them:\n {2}1\. Migration "AddIsDirty" in migrations\.default has no 13-digit timestamp/,
      );
    });

    it("after() without before() says to call before() first", async () => {
      const migrator = tester();
      await expect(migrator.after("AddIsClean1700000000002")).rejects.toThrow(ConfigurationError);
      await expect(migrator.after("AddIsClean1700000000002")).rejects.toThrow(
        /before\(\) was not called.*Call before\(name\) first/,
      );
    });

    it("reports a failing migration by name, rolls it back and keeps the state before it", async () => {
      const migrator = tester([...MIGRATIONS, BrokenFill1700000000004]);
      const state = await migrator.before("FillIsClean1700000000003");
      await state.table("item").insert(ROWS);

      const failing = migrator.after("BrokenFill1700000000004");
      await expect(failing).rejects.toThrow(MigrationFailedError);
      await expect(failing).rejects.toThrow(/Migration "BrokenFill1700000000004" failed on/);

      expect(await recorded(state)).toEqual(NAMES);
      expect(await state.table("item").count({ string_field: "half done" })).toBe(0);
    });

    it("reset() destroys the DataSource and drops the database", async () => {
      const migrator = tester();
      const state = await migrator.before("CreateItem1700000000001");
      expect(await databaseExists(fixture(), state.dataSource.options)).toBe(true);

      await migrator.reset();

      expect(state.dataSource.isInitialized).toBe(false);
      expect(await databaseExists(fixture(), state.dataSource.options)).toBe(false);
      await expect(migrator.reset()).resolves.toBeUndefined();
    });

    describe("useMigrationTester()", () => {
      let used: MigrationState | undefined;

      // Outer afterEach hooks run after inner ones, so this runs after the reset() that
      // useMigrationTester registered, and checks each test's database on its own.
      afterEach(async () => {
        const state = used;
        used = undefined;
        expect(state).toBeDefined();
        expect(state!.dataSource.isInitialized).toBe(false);
        expect(await databaseExists(fixture(), state!.dataSource.options)).toBe(false);
      });

      describe("in a describe block", () => {
        const migrator = useMigrationTester({
          options: serverOptions(driver),
          migrations: MIGRATIONS,
        });

        it("gives each test a database that exists during the test", async () => {
          used = await migrator.before("AddIsClean1700000000002");
          await used.table("item").insert(ROWS);
          expect(await databaseExists(fixture(), used.dataSource.options)).toBe(true);
        });

        it("starts the next test without the previous test's rows", async () => {
          used = await migrator.before("AddIsClean1700000000002");
          expect(await used.table("item").count()).toBe(0);
          expect(await databaseExists(fixture(), used.dataSource.options)).toBe(true);
        });
      });
    });
  });
}
