import type { MigrationProgress, MigrationReport } from "../../migrations/migration-report";
import { writeLine } from "../cli-io";
import type { CommandContext } from "../command-context";
import { ExitCode, isUsageError } from "../exit-code";
import { filterOf, type FilterFlags } from "../filter-flags";
import { errorJson, resultJson, writeJson } from "../json-document";
import { ProgressLine } from "../progress-line";
import { formatDuration, outcomeCounts, resultLine, taggedLine } from "../text-format";

/** The flags of `typeorm-router migrate`. */
export interface MigrateFlags extends FilterFlags {
  readonly dryRun?: boolean;
  readonly fake?: boolean;
  readonly concurrency?: number;
  readonly transaction?: "each" | "all";
  readonly failFast?: boolean;
  /** Only these migration groups. */
  readonly group?: readonly string[];
  /** Run an interrupted transaction = false migration again. */
  readonly retry?: boolean;
  /** Record an interrupted transaction = false migration as applied without running it. */
  readonly markApplied?: boolean;
}

/**
 * `typeorm-router migrate`: migrates the selected databases, reporting each one as it
 * finishes (a live line on a terminal, one line per database otherwise, or one JSON
 * document), then a summary. Exits 1 when any database failed.
 */
export async function migrateCommand(
  context: CommandContext,
  flags: MigrateFlags,
): Promise<ExitCode> {
  const { router, io, json } = context;
  const live =
    !json && io.stdout.isTTY === true ? new ProgressLine(io.stdout, "migrating") : undefined;
  const printResult = (progress: MigrationProgress) => {
    const { result } = progress;
    const line = resultLine(result, flags.fake ? { verb: "recorded without running" } : {});
    const sql = (result.sql ?? []).map((statement) => `    ${statement}`);
    if (!live) {
      for (const text of [line, ...sql]) writeLine(io.stdout, text);
      return;
    }
    live.update(progress);
    // On a terminal, databases that had nothing to do only count in the progress line.
    if (result.outcome !== "up-to-date") for (const text of [line, ...sql]) live.print(text);
  };
  live?.start();
  let report: MigrationReport;
  try {
    report = await router.migrate({
      ...filterOf(flags),
      dryRun: flags.dryRun === true,
      fake: flags.fake === true,
      failFast: flags.failFast === true,
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.transaction !== undefined ? { transaction: flags.transaction } : {}),
      ...(flags.group && flags.group.length > 0 ? { groups: [...flags.group] } : {}),
      ...(flags.retry ? { resolveInterrupted: "retry" as const } : {}),
      ...(flags.markApplied ? { resolveInterrupted: "mark-applied" as const } : {}),
      onProgress: json ? undefined : printResult,
    });
  } finally {
    live?.stop();
  }
  const listError = report.tenantListError;
  // A tenant named on the command line that does not exist: nothing ran, so it is a usage error.
  if (report.results.length === 0 && isUsageError(listError)) throw listError;
  if (json) {
    writeJson(io.stdout, context.command, {
      ok: report.ok,
      failed: report.failed,
      durationMs: report.durationMs,
      results: report.results.map(resultJson),
      groups: report.groups,
      tenantListError: listError ? errorJson(listError) : null,
    });
  } else {
    if (listError) writeLine(io.stdout, taggedLine("FAILED", "tenants", listError.message));
    // Per group, when the run named groups (--group).
    if ((flags.group ?? []).length > 0) {
      for (const group of report.groups) {
        writeLine(
          io.stdout,
          taggedLine(
            group.failed > 0 ? "FAILED" : group.pending > 0 ? "pending" : "ok",
            `group ${group.group}`,
            `${group.applied} applied, ${group.pending} pending on ${group.databases} database(s)` +
              (group.failed > 0 ? `, ${group.failed} failed` : ""),
          ),
        );
      }
    }
    writeLine(
      io.stdout,
      taggedLine(
        report.ok ? "done" : "FAILED",
        outcomeCounts(report.results),
        formatDuration(report.durationMs),
      ),
    );
  }
  return report.ok ? ExitCode.Success : ExitCode.Failure;
}
