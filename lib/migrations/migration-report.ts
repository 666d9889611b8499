import type { RoutingError } from "../errors";

/** Which database a report entry is about. */
export interface DatabaseLabel {
  readonly kind: "alias" | "tenant";
  /** The alias or the tenant id. */
  readonly name: string;
}

/** A migration named in a report. */
export interface MigrationName {
  readonly group: string;
  readonly name: string;
}

/** What happened to one database. */
export type DatabaseOutcome =
  "migrated" | "up-to-date" | "dry-run" | "reverted" | "failed" | "skipped";

/** The result for one database of `migrate`, `revert` or a dry run. */
export interface DatabaseMigrationResult {
  readonly database: DatabaseLabel;
  readonly outcome: DatabaseOutcome;
  /** Migrations applied (or reverted) and committed on this database by this run. */
  readonly applied: readonly MigrationName[];
  /** Migrations still pending after the run (in a dry run: what a real run would apply). */
  readonly pending: readonly MigrationName[];
  /** Dry run only: every statement the run would send, in order. */
  readonly sql?: readonly string[];
  /** Why the database was skipped. */
  readonly reason?: string;
  readonly durationMs: number;
  /** Why it failed; the driver or migration error is its `cause`. */
  readonly error?: RoutingError;
}

/** The report of a run over many databases: one entry per database, in order. */
export interface MigrationReport {
  readonly results: readonly DatabaseMigrationResult[];
  /** True when no database failed and the tenants could be listed. */
  readonly ok: boolean;
  readonly failed: number;
  readonly durationMs: number;
  /** Per migration group: databases covered, migrations applied and pending, failures. */
  readonly groups: readonly GroupReport[];
  /** Set when the tenants could not be listed after the aliases ran; no tenant was migrated. */
  readonly tenantListError?: RoutingError;
}

/** Progress of a long run, reported after each database. */
export interface MigrationProgress {
  readonly done: number;
  /** Databases in the run so far: the aliases, plus the tenants once they are listed. */
  readonly total: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** The database that just finished. */
  readonly result: DatabaseMigrationResult;
}

/** What a run did for one migration group, over every database it covered. */
export interface GroupReport {
  readonly group: string;
  /** Databases of the run this group applies to (allowMigrate). */
  readonly databases: number;
  /** Migrations of the group applied by this run, over all databases. */
  readonly applied: number;
  /** Migrations of the group still pending after the run, over all databases. */
  readonly pending: number;
  /** Databases where the group had work and the run failed. */
  readonly failed: number;
}

/**
 * Builds a report from per-database results; `groups` maps each group of the run to the
 * number of databases it applies to.
 */
export function reportOf(
  results: readonly DatabaseMigrationResult[],
  startedAt: number,
  tenantListError?: RoutingError,
  groups: ReadonlyMap<string, number> = new Map(),
): MigrationReport {
  const failed = results.filter((result) => result.outcome === "failed").length;
  const count = (names: readonly MigrationName[], group: string) =>
    names.filter((name) => name.group === group).length;
  return Object.freeze({
    results: Object.freeze([...results]),
    ok: failed === 0 && tenantListError === undefined,
    failed,
    durationMs: Date.now() - startedAt,
    groups: Object.freeze(
      [...groups].map(([group, databases]) =>
        Object.freeze({
          group,
          databases,
          applied: results.reduce((sum, r) => sum + count(r.applied, group), 0),
          pending: results.reduce((sum, r) => sum + count(r.pending, group), 0),
          failed: results.filter((r) => r.outcome === "failed" && count(r.pending, group) > 0)
            .length,
        }),
      ),
    ),
    ...(tenantListError ? { tenantListError } : {}),
  });
}

/** The label of a database for reports. */
export function labelOf(target: { kind: "alias" | "tenant"; name: string }): DatabaseLabel {
  return Object.freeze({ kind: target.kind, name: target.name });
}

/** How messages and the CLI name a database: `default` or `tenant acme`. */
export function describeLabel(label: DatabaseLabel): string {
  return label.kind === "alias" ? label.name : `tenant ${label.name}`;
}
