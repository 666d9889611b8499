import "reflect-metadata";
import { Table, TableColumn, type MigrationInterface, type QueryRunner } from "typeorm";
import {
  diffSchemas,
  emptyDatabase,
  migrationTester,
  snapshotSchema,
} from "typeorm-router/testing";

/** What the testing example observed. */
export interface TestingExampleResult {
  /** Clean and dirty rows after the data migration ran on rows written before it. */
  readonly afterDataMigration: { readonly clean: number; readonly dirty: number };
  /** The columns of `item` after migrating back to 0002. */
  readonly columnsAfterRevert: readonly string[];
  /** Differences between the hand-written and the migrated schema, strict and lenient. */
  readonly strictDiff: readonly string[];
  readonly lenientDiff: readonly string[];
}

// The data-migration story: 0002 adds is_clean, 0003 fills it from string_field.
class CreateItem1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "item",
        columns: [
          {
            name: "id",
            type: "integer",
            isPrimary: true,
            isGenerated: true,
            generationStrategy: "increment",
          },
          { name: "string_field", type: "varchar" },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("item");
  }
}

class AddIsClean1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      "item",
      new TableColumn({ name: "is_clean", type: "boolean", default: true }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("item", "is_clean");
  }
}

class FillIsClean1700000000003 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "item" SET "is_clean" = ("string_field" NOT LIKE '%bad%')`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "item" SET "is_clean" = true`);
  }
}

// The port story: a hand-written schema and the same schema through TypeORM migrations.
const HAND_WRITTEN = [
  `CREATE TABLE "owner" ("id" integer PRIMARY KEY, "name" varchar NOT NULL)`,
  `CREATE TABLE "pet" ("id" integer PRIMARY KEY, "owner_id" integer NOT NULL,
     CONSTRAINT "pet_owner_fk" FOREIGN KEY ("owner_id") REFERENCES "owner" ("id") DEFERRABLE INITIALLY DEFERRED)`,
];

class CreateOwnersAndPets1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "owner",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "name", type: "varchar" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "pet",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "owner_id", type: "integer" },
        ],
        foreignKeys: [
          {
            columnNames: ["owner_id"],
            referencedTableName: "owner",
            referencedColumnNames: ["id"],
          },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("pet");
    await queryRunner.dropTable("owner");
  }
}

/**
 * The testing toolkit on SQLite: the migration tester runs a data migration over rows written
 * with the previous schema, and a schema snapshot diff compares a hand-written schema with
 * the one TypeORM migrations build.
 */
export async function runTestingExample(
  log: (line: string) => void = console.log,
): Promise<TestingExampleResult> {
  const sqlite = { type: "better-sqlite3" as const, database: "unused.sqlite" };

  const tester = migrationTester({
    options: sqlite,
    migrations: [CreateItem1700000000001, AddIsClean1700000000002, FillIsClean1700000000003],
  });
  let afterDataMigration: TestingExampleResult["afterDataMigration"];
  let columnsAfterRevert: string[];
  try {
    const before = await tester.before("AddIsClean1700000000002");
    await before
      .table("item")
      .insert([{ string_field: "good" }, { string_field: "bad apple" }, { string_field: "fine" }]);
    const after = await tester.after("FillIsClean1700000000003");
    afterDataMigration = {
      clean: await after.table("item").count({ is_clean: true }),
      dirty: await after.table("item").count({ is_clean: false }),
    };
    log(
      `data migration 0003: ${afterDataMigration.clean} clean, ${afterDataMigration.dirty} dirty`,
    );
    const reverted = await tester.after("AddIsClean1700000000002");
    columnsAfterRevert = (
      await reverted.query<{ name: string }>(`SELECT name FROM pragma_table_info('item')`)
    ).map((c) => c.name);
    log(
      `back at 0002: item has [${columnsAfterRevert.join(", ")}], applied ${reverted.applied.length} migrations`,
    );
  } finally {
    await tester.reset();
  }

  const handWritten = await emptyDatabase(sqlite);
  const migrated = await emptyDatabase(sqlite);
  try {
    for (const statement of HAND_WRITTEN) await handWritten.dataSource.query(statement);
    const queryRunner = migrated.dataSource.createQueryRunner();
    await new CreateOwnersAndPets1700000000001().up(queryRunner);
    await queryRunner.release();
    const a = await snapshotSchema(handWritten.dataSource);
    const b = await snapshotSchema(migrated.dataSource);
    const strictDiff = diffSchemas(a, b, { ignore: { constraintNames: true } });
    const lenientDiff = diffSchemas(a, b, {
      ignore: { constraintNames: true, fkDeferrability: true },
    });
    log(
      `hand-written vs migrated, strict: ${strictDiff.length ? strictDiff.join("; ") : "identical"}`,
    );
    log(
      `hand-written vs migrated, ignoring FK deferrability: ${lenientDiff.length ? lenientDiff.join("; ") : "identical"}`,
    );
    return { afterDataMigration, columnsAfterRevert, strictDiff, lenientDiff };
  } finally {
    await handWritten.drop();
    await migrated.drop();
  }
}

if (require.main === module) {
  runTestingExample().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
