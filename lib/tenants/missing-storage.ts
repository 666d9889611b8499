// PostgreSQL: invalid_catalog_name (database), invalid_schema_name, undefined_table.
const MISSING_CODES = new Set(["3D000", "3F000", "42P01"]);
// SQLite reports a missing table by message only; MySQL by errno (1049 database, 1146 table).
const SQLITE_MISSING = /^no such table\b/;
const MISSING_ERRNOS = new Set([1049, 1146]);

/**
 * Whether `error` (a driver error, or TypeORM's `QueryFailedError` around one) says that a
 * database, schema or table does not exist: what work on a dropped tenant runs into.
 */
export function isMissingStorageError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, errno, message, driverError } = error as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
    driverError?: unknown;
  };
  if (typeof code === "string" && MISSING_CODES.has(code)) return true;
  if (typeof errno === "number" && MISSING_ERRNOS.has(errno)) return true;
  if (driverError && driverError !== error && isMissingStorageError(driverError)) return true;
  return (
    typeof message === "string" &&
    (code === undefined || (typeof code === "string" && code.startsWith("SQLITE"))) &&
    SQLITE_MISSING.test(message)
  );
}
