import { messageOf } from "../errors";
import type { DatabaseStatus } from "../migrations/database-migrator";
import type {
  DatabaseLabel,
  DatabaseMigrationResult,
  MigrationName,
} from "../migrations/migration-report";
import type { SchemaDrift } from "../migrations/schema-verifier";
import { writeLine, type OutputStream } from "./cli-io";

/** How `--json` output names an error. */
export interface ErrorJson {
  readonly name: string;
  /** The `RoutingError` code, or `null` for other errors. */
  readonly code: string | null;
  readonly message: string;
}

/** One database's migration result in `--json` output; absent fields are `null`. */
export interface ResultJson {
  readonly database: DatabaseLabel;
  readonly outcome: DatabaseMigrationResult["outcome"];
  readonly applied: readonly MigrationName[];
  readonly pending: readonly MigrationName[];
  readonly durationMs: number;
  readonly reason: string | null;
  readonly sql: readonly string[] | null;
  readonly error: ErrorJson | null;
}

/** Serializes an error as `{ name, code, message }`. */
export function errorJson(error: unknown): ErrorJson {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: error instanceof Error ? error.name : "Error",
    code: typeof code === "string" ? code : null,
    message: messageOf(error),
  };
}

/** Serializes a migration result with every field present. */
export function resultJson(result: DatabaseMigrationResult): ResultJson {
  return {
    database: { kind: result.database.kind, name: result.database.name },
    outcome: result.outcome,
    applied: result.applied.map(({ group, name }) => ({ group, name })),
    pending: result.pending.map(({ group, name }) => ({ group, name })),
    durationMs: result.durationMs,
    reason: result.reason ?? null,
    sql: result.sql ? [...result.sql] : null,
    error: result.error ? errorJson(result.error) : null,
  };
}

/** Serializes one database's migration status. */
export function statusJson(status: DatabaseStatus): object {
  return {
    database: { kind: status.database.kind, name: status.database.name },
    groups: status.groups.map((group) => ({
      group: group.group,
      table: group.table,
      applied: [...group.applied],
      pending: [...group.pending],
      unknown: [...group.unknown],
      claimed: group.claimed.map((claim) => ({
        name: claim.name,
        owner: claim.owner,
        state: claim.state,
        claimedAt: claim.claimedAt.toISOString(),
      })),
    })),
    error: status.error ? errorJson(status.error) : null,
  };
}

/** Serializes one database's schema drift. */
export function driftJson(drift: SchemaDrift): object {
  return {
    database: { kind: drift.database.kind, name: drift.database.name },
    clean: drift.clean,
    missingTables: [...drift.missingTables],
    missingColumns: drift.missingColumns.map(({ table, column }) => ({ table, column })),
    missingIndexes: drift.missingIndexes.map(({ table, index }) => ({ table, index })),
    pendingSql: [...drift.pendingSql],
    error: drift.error ? errorJson(drift.error) : null,
  };
}

/** Writes the one JSON document of a `--json` run, `command` first. */
export function writeJson(stream: OutputStream, command: string, document: object): void {
  writeLine(stream, JSON.stringify({ command, ...document }, null, 2));
}
