import type { QueryRunner } from "typeorm";
import { knownDialect } from "../dialects";

// Per connection (query runner), the bookkeeping tables known to exist: one migrate run asks
// the catalog once per table, not once per migration.
const known = new WeakMap<QueryRunner, Set<string>>();

/**
 * Whether table `name` exists on `queryRunner`'s database, asking the catalog only the first
 * time for this runner (a table seen, or created by the router, is remembered). The runner of
 * one database's migrate run lives as long as that run, so a table dropped by hand meanwhile
 * is not noticed: nothing in a run drops the router's own tables.
 */
export async function tableExists(queryRunner: QueryRunner, name: string): Promise<boolean> {
  if (knownToExist(queryRunner, name)) return true;
  const dialect = knownDialect(queryRunner.connection.options);
  const exists = dialect?.tableExists
    ? await dialect.tableExists(queryRunner, name)
    : await queryRunner.hasTable(name);
  if (exists) rememberTable(queryRunner, name);
  return exists;
}

/** Whether table `name` is known to exist on `queryRunner`'s database (no query). */
export function knownToExist(queryRunner: QueryRunner, name: string): boolean {
  return known.get(queryRunner)?.has(name) === true;
}

/** Remembers that table `name` exists on `queryRunner`'s database (it was just created). */
export function rememberTable(queryRunner: QueryRunner, name: string): void {
  let tables = known.get(queryRunner);
  if (!tables) known.set(queryRunner, (tables = new Set()));
  tables.add(name);
}

/**
 * The path of the router's bookkeeping table `name`, qualified with the connection's schema
 * as hasTable() and createTable() resolve it: a schema-per-tenant DataSource reads its own
 * schema's table, never public's.
 */
export function bookkeepingPath(queryRunner: QueryRunner, name: string): string {
  const driver = queryRunner.connection.driver;
  return driver.buildTableName(name, (driver as { schema?: string }).schema);
}

/** Deletes the rows of bookkeeping table `table` whose `name` column is `name`. */
export async function deleteNamed(
  queryRunner: QueryRunner,
  table: string,
  name: string,
): Promise<void> {
  await queryRunner.manager
    .createQueryBuilder(queryRunner)
    .delete()
    .from(bookkeepingPath(queryRunner, table))
    .where(`${queryRunner.connection.driver.escape("name")} = :name`, { name })
    .execute();
}
