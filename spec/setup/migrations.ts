// Imports only typeorm: spec/fixtures/cli compiles this file with the CLI into a folder where
// "typeorm-router" does not resolve.
import { Table, type MigrationInterface, type QueryRunner, type TableColumnOptions } from "typeorm";

/** A migration class, as the `migrations` option takes it. */
export type FixtureMigration = new () => MigrationInterface;

/** The auto-incremented integer primary key `id` that the fixture tables start with. */
export const ID_COLUMN: Readonly<TableColumnOptions> = Object.freeze({
  name: "id",
  type: "integer",
  isPrimary: true,
  isGenerated: true,
  generationStrategy: "increment",
});

/**
 * A migration class named `name` that creates table `table` with {@link ID_COLUMN} followed by
 * `columns`, and drops it on the way down.
 *
 * @throws Error when `name` does not end in a 13-digit timestamp.
 * @example createTableMigration("CreateNotes1700000000001", "note", [{ name: "body", type: "varchar" }])
 */
export function createTableMigration(
  name: string,
  table: string,
  columns: readonly TableColumnOptions[],
): FixtureMigration {
  return named(
    name,
    class implements MigrationInterface {
      readonly name = name;
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.createTable(new Table({ name: table, columns: [ID_COLUMN, ...columns] }));
      }
      async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.dropTable(table);
      }
    },
  );
}

/**
 * A migration class named `name` that runs the raw SQL statements `up` in order, and `down`
 * in order to revert them.
 *
 * @throws Error when `name` does not end in a 13-digit timestamp.
 * @example sqlMigration("AddNoteLabel1700000000002", "ALTER TABLE note ADD COLUMN label varchar", "ALTER TABLE note DROP COLUMN label")
 */
export function sqlMigration(
  name: string,
  up: string | readonly string[],
  down: string | readonly string[],
): FixtureMigration {
  const run = async (queryRunner: QueryRunner, statements: string | readonly string[]) => {
    for (const statement of typeof statements === "string" ? [statements] : statements) {
      await queryRunner.query(statement);
    }
  };
  return named(
    name,
    class implements MigrationInterface {
      readonly name = name;
      async up(queryRunner: QueryRunner): Promise<void> {
        await run(queryRunner, up);
      }
      async down(queryRunner: QueryRunner): Promise<void> {
        await run(queryRunner, down);
      }
    },
  );
}

// The router reads a migration's name from `instance.name ?? constructor.name`, and tests
// list classes by their static `name`: both must be the timestamped name.
function named(name: string, migration: FixtureMigration): FixtureMigration {
  if (!/\d{13}$/.test(name)) {
    throw new Error(
      `Fixture migration "${name}" has no 13-digit timestamp at the end of its name: name it like "CreateNotes1700000000001".`,
    );
  }
  return Object.defineProperty(migration, "name", { value: name });
}
