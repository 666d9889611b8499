import { describeLabel } from "../../migrations/migration-report";
import { writeLine } from "../cli-io";
import type { CommandContext } from "../command-context";
import { ExitCode } from "../exit-code";
import { filterOf, type FilterFlags } from "../filter-flags";
import { statusJson, writeJson } from "../json-document";
import { countedNames, taggedLine } from "../text-format";

/** The flags of `typeorm-router status`. */
export interface StatusFlags extends FilterFlags {
  readonly concurrency?: number;
  /** Exit 1 when any migration is pending (for CI). */
  readonly check?: boolean;
  /** Only these migration groups. */
  readonly group?: readonly string[];
}

/**
 * `typeorm-router status`: applied, pending and unknown migrations per database and group.
 * Exits 1 when a database could not be read, or with `--check` when anything is pending.
 */
export async function statusCommand(
  context: CommandContext,
  flags: StatusFlags,
): Promise<ExitCode> {
  const { router, io, json } = context;
  const statuses = await router.migrationStatus({
    ...filterOf(flags),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.group && flags.group.length > 0 ? { groups: [...flags.group] } : {}),
  });
  const pendingOf = (status: (typeof statuses)[number]) =>
    status.groups.reduce((sum, group) => sum + group.pending.length, 0);
  const pending = statuses.reduce((sum, status) => sum + pendingOf(status), 0);
  const errors = statuses.filter((status) => status.error !== undefined).length;
  if (json) {
    writeJson(io.stdout, context.command, {
      ok: errors === 0,
      pending,
      databases: statuses.map(statusJson),
    });
  } else {
    for (const status of statuses) {
      const database = describeLabel(status.database);
      if (status.error) {
        writeLine(io.stdout, taggedLine("ERROR", database, status.error.message));
        continue;
      }
      if (status.groups.length === 0) {
        writeLine(io.stdout, taggedLine("ok", database, "no migration group applies"));
      }
      for (const group of status.groups) {
        const parts = [
          `${group.group}:`,
          `applied ${group.applied.length}`,
          `pending ${countedNames(group.pending)}`,
          ...(group.unknown.length > 0 ? [`unknown ${countedNames(group.unknown)}`] : []),
          ...group.claimed.map(
            (claim) =>
              `claimed ${claim.name} by ${claim.owner} at ${claim.claimedAt.toISOString()} ` +
              `(never completed: migrate reports it; resolve with --retry or --mark-applied)`,
          ),
        ];
        const tag = group.pending.length > 0 ? "pending" : "ok";
        writeLine(io.stdout, taggedLine(tag, database, parts.join(" ")));
      }
    }
    const waiting = statuses.filter((status) => pendingOf(status) > 0).length;
    const summary =
      `${statuses.length} database${statuses.length === 1 ? "" : "s"}: ${waiting} with ` +
      `pending migrations (${pending} in all)` +
      (errors > 0 ? `, ${errors} could not be read` : "");
    writeLine(io.stdout, taggedLine(errors > 0 ? "FAILED" : "done", summary));
  }
  if (errors > 0) return ExitCode.Failure;
  return flags.check === true && pending > 0 ? ExitCode.Failure : ExitCode.Success;
}
