import {
  describeLabel,
  type DatabaseMigrationResult,
  type MigrationName,
} from "../migrations/migration-report";

const TAG_WIDTH = 8;

/** A line that starts with `tag` in a fixed-width column, then `parts` two spaces apart. */
export function taggedLine(tag: string, ...parts: readonly string[]): string {
  return `${tag.padEnd(TAG_WIDTH - 1)} ${parts.filter((part) => part !== "").join("  ")}`;
}

/** A duration as people read it: `45 ms`, `3.2 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `2 (A1700000000000, B1700000000001)`: how many migrations, and which. */
export function countedNames(migrations: readonly (MigrationName | string)[]): string {
  const names = migrations.map((m) => (typeof m === "string" ? m : m.name));
  return names.length === 0 ? "0" : `${names.length} (${names.join(", ")})`;
}

/** How {@link resultLine} words a successful result (e.g. for `--fake` or `tenants create`). */
export interface ResultLineOptions {
  /** The tag of a successful result. Default `ok`. */
  readonly okTag?: string;
  /** The verb for the migrations of a successful result. Default from the outcome. */
  readonly verb?: string;
}

/**
 * The line of one finished database, e.g.
 * `ok      tenant acme  applied 2 (CreateX1700000000001, AddY1700000000002)  45 ms` or
 * `FAILED  tenant t03  <error message>`.
 */
export function resultLine(
  result: DatabaseMigrationResult,
  options: ResultLineOptions = {},
): string {
  const database = describeLabel(result.database);
  const duration = formatDuration(result.durationMs);
  switch (result.outcome) {
    case "failed":
      return taggedLine("FAILED", database, result.error?.message ?? "failed (no error given)");
    case "skipped":
      return taggedLine("skipped", database, result.reason ?? "");
    case "up-to-date":
      return taggedLine(options.okTag ?? "ok", database, "up to date", duration);
    case "dry-run":
      return taggedLine(
        "dry-run",
        database,
        `would apply ${countedNames(result.pending)}`,
        duration,
      );
    case "reverted":
      return taggedLine(
        options.okTag ?? "ok",
        database,
        `${options.verb ?? "reverted"} ${countedNames(result.applied)}`,
        duration,
      );
    case "migrated":
      return taggedLine(
        options.okTag ?? "ok",
        database,
        `${options.verb ?? "applied"} ${countedNames(result.applied)}`,
        duration,
      );
  }
}

/** `4 databases: 2 migrated, 1 up to date, 1 failed` — the outcomes that occurred, in order. */
export function outcomeCounts(results: readonly DatabaseMigrationResult[]): string {
  const order: readonly [DatabaseMigrationResult["outcome"], string][] = [
    ["migrated", "migrated"],
    ["up-to-date", "up to date"],
    ["dry-run", "dry run"],
    ["reverted", "reverted"],
    ["failed", "failed"],
    ["skipped", "skipped"],
  ];
  const counts = order
    .map(
      ([outcome, words]) => [results.filter((r) => r.outcome === outcome).length, words] as const,
    )
    .filter(([count]) => count > 0)
    .map(([count, words]) => `${count} ${words}`);
  const total = `${results.length} database${results.length === 1 ? "" : "s"}`;
  return counts.length === 0 ? total : `${total}: ${counts.join(", ")}`;
}
