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
export { snapshotSchema, isSchemaSnapshot } from "./schema-snapshot";
export type { SchemaSnapshot, SchemaSnapshotOptions, TableSnapshot } from "./schema-snapshot";
export type { ColumnSnapshot, ColumnGeneration, PrimaryKeySnapshot } from "./schema-snapshot";
export type { UniqueSnapshot, IndexSnapshot, CheckSnapshot } from "./schema-snapshot";
export type { ForeignKeySnapshot, EnumSnapshot } from "./schema-snapshot";
export type { Deferrability, ReferentialAction } from "./schema-snapshot";
export { diffSchemas, type SchemaDiffOptions, type SchemaDiffIgnore } from "./schema-diff";
export {
  schemaMatchers,
  type SchemaSource,
  type SchemaMatcherContext,
  type SchemaMatcherResult,
} from "./schema-matcher";
