import { describeLabel } from "../../migrations/migration-report";
import type { SchemaDrift } from "../../migrations/schema-verifier";
import { writeLine } from "../cli-io";
import type { CommandContext } from "../command-context";
import { ExitCode } from "../exit-code";
import { filterOf, type FilterFlags } from "../filter-flags";
import { driftJson, errorJson, writeJson } from "../json-document";
import { taggedLine } from "../text-format";

/** The flags of `typeorm-router verify`. */
export interface VerifyFlags extends FilterFlags {
  readonly concurrency?: number;
}

/**
 * `typeorm-router verify`: compares each database with the entities placed in it. Exits 1
 * when any database has drift or could not be inspected, or the tenants could not be listed
 * (a fresh install: what is missing is reported, not a usage error).
 */
export async function verifyCommand(
  context: CommandContext,
  flags: VerifyFlags,
): Promise<ExitCode> {
  const { router, io, json } = context;
  const report = await router.verifySchema({
    ...filterOf(flags),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
  });
  const errors = report.results.filter((drift) => drift.error !== undefined).length;
  const drifted = report.results.filter((drift) => !drift.clean && !drift.error).length;
  if (json) {
    writeJson(io.stdout, context.command, {
      ok: report.clean,
      clean: report.clean,
      results: report.results.map(driftJson),
      tenantListError: report.tenantListError ? errorJson(report.tenantListError) : null,
    });
  } else {
    for (const drift of report.results) {
      for (const line of driftLines(drift)) writeLine(io.stdout, line);
    }
    // A fresh install: the tenant list lives in a table that is not migrated yet.
    if (report.tenantListError) {
      writeLine(io.stdout, taggedLine("FAILED", "tenants", report.tenantListError.message));
    }
    const total = report.results.length;
    const summary =
      `${total} database${total === 1 ? "" : "s"}: ${total - drifted - errors} clean, ` +
      `${drifted} with drift` +
      (errors > 0 ? `, ${errors} could not be inspected` : "");
    writeLine(io.stdout, taggedLine(report.clean ? "done" : "FAILED", summary));
  }
  return report.clean ? ExitCode.Success : ExitCode.Failure;
}

function driftLines(drift: SchemaDrift): string[] {
  const database = describeLabel(drift.database);
  if (drift.error) return [taggedLine("ERROR", database, drift.error.message)];
  if (drift.clean) return [taggedLine("clean", database)];
  const problems = [
    ...(drift.missingTables.length > 0
      ? [`missing tables: ${drift.missingTables.join(", ")}`]
      : []),
    ...(drift.missingColumns.length > 0
      ? [`missing columns: ${drift.missingColumns.map((c) => `${c.table}.${c.column}`).join(", ")}`]
      : []),
    ...(drift.missingIndexes.length > 0
      ? [`missing indexes: ${drift.missingIndexes.map((i) => `${i.table}.${i.index}`).join(", ")}`]
      : []),
    ...(drift.pendingSql.length > 0
      ? [`${drift.pendingSql.length} schema change(s) the entities still need:`]
      : []),
  ];
  return [
    taggedLine("DRIFT", database, problems.join("; ")),
    ...drift.pendingSql.map((statement) => `    ${statement}`),
  ];
}
