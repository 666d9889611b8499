import { Table, type QueryRunner } from "typeorm";
import type { Migration } from "./migration-set";
import {
  bookkeepingPath,
  deleteNamed,
  knownToExist,
  rememberTable,
  tableExists,
} from "./bookkeeping-tables";

/** A migration recorded as applied in a database. */
export interface AppliedMigration {
  readonly id: number;
  readonly timestamp: number;
  readonly name: string;
}

/**
 * One group's migrations table in one database (TypeORM's shape: `id`, `timestamp`, `name`),
 * so each group keeps its own history and a migration is recorded only where it ran.
 */
export class MigrationTable {
  /** The table name, e.g. `migrations_tenant`. */
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Creates the table unless it exists. `missing`: the caller has just read, in this
   * transaction and under the migration lock, that it does not exist ({@link read}), so the
   * catalog is not asked again.
   */
  async ensure(queryRunner: QueryRunner, missing = false): Promise<void> {
    if (
      missing ? knownToExist(queryRunner, this.name) : await tableExists(queryRunner, this.name)
    ) {
      return;
    }
    const driver = queryRunner.connection.driver;
    const type = (mapped: keyof typeof driver.mappedDataTypes) =>
      driver.normalizeType({ type: driver.mappedDataTypes[mapped] as string });
    await queryRunner.createTable(
      new Table({
        name: this.name,
        columns: [
          {
            name: "id",
            type: type("migrationId"),
            isGenerated: true,
            generationStrategy: "increment",
            isPrimary: true,
            isNullable: false,
          },
          { name: "timestamp", type: type("migrationTimestamp"), isNullable: false },
          { name: "name", type: type("migrationName"), isNullable: false },
        ],
      }),
      // Not ifNotExist: TypeORM would ask the catalog once more.
      false,
    );
    rememberTable(queryRunner, this.name);
  }

  /** The applied migrations, oldest first; empty when the table does not exist. */
  async applied(queryRunner: QueryRunner): Promise<AppliedMigration[]> {
    return (await this.read(queryRunner)) ?? [];
  }

  /** The applied migrations, oldest first; `undefined` when the table does not exist. */
  async read(queryRunner: QueryRunner): Promise<AppliedMigration[] | undefined> {
    if (!(await tableExists(queryRunner, this.name))) return undefined;
    const rows: Record<string, unknown>[] = await queryRunner.manager
      .createQueryBuilder(queryRunner)
      .select("*")
      .from(bookkeepingPath(queryRunner, this.name), "migrations")
      .orderBy(queryRunner.connection.driver.escape("id"), "ASC")
      .getRawMany();
    return rows.map((row) => ({
      id: Number(row.id),
      timestamp: Number(row.timestamp),
      name: String(row.name),
    }));
  }

  /** Records `migration` as applied. */
  async record(queryRunner: QueryRunner, migration: Migration): Promise<void> {
    await queryRunner.manager
      .createQueryBuilder(queryRunner)
      .insert()
      .into(bookkeepingPath(queryRunner, this.name))
      .values({ timestamp: migration.timestamp, name: migration.name })
      .execute();
  }

  /** Removes the record of `name` (after reverting it). */
  async forget(queryRunner: QueryRunner, name: string): Promise<void> {
    await deleteNamed(queryRunner, this.name, name);
  }
}
