import { PG_SOCKET_CLOSED } from "../dialects/postgres/postgres-connection-lost";

// PostgreSQL: invalid_catalog_name (database), invalid_schema_name, undefined_table,
// admin_shutdown (the session was ended by DROP DATABASE … WITH (FORCE)), and
// deadlock_detected (a transaction that lost to DROP SCHEMA … CASCADE).
const MISSING_CODES = new Set(["3D000", "3F000", "42P01", "57P01", "40P01"]);
// TypeORM's error when a transaction's query runner was released under it by pg's own
// "Connection terminated" (PG_SOCKET_CLOSED).
const RELEASED = "QueryRunnerAlreadyReleasedError";
// SQLite reports a missing table by message only; MySQL by errno (1049 database, 1146 table).
const SQLITE_MISSING = /^no such table\b/;
const MISSING_ERRNOS = new Set([1049, 1146]);

/**
 * Whether `error` (a driver error, or TypeORM's `QueryFailedError` around one) says that a
 * database, schema or table does not exist, or that the server ended the session: what work
 * on a dropped tenant runs into. Only a hint: `TenantDirectory.translate` also checks that the
 * tenant is no longer listed.
 */
export function isMissingStorageError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, errno, message, driverError, name } = error as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
    driverError?: unknown;
    name?: unknown;
  };
  if (name === RELEASED) return true;
  if (typeof code === "string" && MISSING_CODES.has(code)) return true;
  if (typeof errno === "number" && MISSING_ERRNOS.has(errno)) return true;
  if (driverError && driverError !== error && isMissingStorageError(driverError)) return true;
  if (typeof message === "string" && code === undefined && PG_SOCKET_CLOSED.test(message))
    return true;
  return (
    typeof message === "string" &&
    (code === undefined || (typeof code === "string" && code.startsWith("SQLITE"))) &&
    SQLITE_MISSING.test(message)
  );
}
