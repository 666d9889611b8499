// typeorm-router/testing: test databases, an empty database, the migration tester, and schema
// snapshots with a diff and a jest matcher. Explicit named exports only.
export {
  createTestDatabases,
  type TestDatabases,
  type TestDatabasesOptions,
} from "./test-databases";
export { emptyDatabase, type EmptyDatabase } from "./empty-database";
export {
  migrationTester,
  type MigrationTester,
  type MigrationTesterOptions,
} from "./migration-tester";
export { useMigrationTester } from "./use-migration-tester";
export type { MigrationState } from "./migration-state";
export type { TableHelper, TableRow, SelectOptions } from "./table-helper";
export { UnknownMigrationError } from "../errors";
