import { writeLine } from "../cli-io";
import { CliUsageError } from "../cli-usage-error";
import type { CommandContext } from "../command-context";
import { ExitCode } from "../exit-code";
import type { FilterFlags } from "../filter-flags";
import { resultJson, writeJson } from "../json-document";
import { resultLine } from "../text-format";

/** The flags of `typeorm-router revert`: one database, and how far back. */
export interface RevertFlags extends FilterFlags {
  readonly steps?: number;
  readonly to?: string;
  /** Only migrations of these groups. */
  readonly group?: readonly string[];
  /** Forget them as applied without running their `down()`. */
  readonly fake?: boolean;
}

/**
 * `typeorm-router revert`: reverts the newest `--steps` migrations (default 1), or every one
 * after `--to`, on the one database named by `--database` or `--tenant`. Exits 1 when the
 * revert failed.
 *
 * @throws CliUsageError unless exactly one database is named.
 */
export async function revertCommand(
  context: CommandContext,
  flags: RevertFlags,
): Promise<ExitCode> {
  const { router, io, json } = context;
  if (flags.database.length + flags.tenant.length !== 1) {
    throw CliUsageError.badFlags(
      `revert works on exactly one database, but ${flags.database.length + flags.tenant.length} were named`,
      "Pass one --database <alias> or one --tenant <id>, e.g. --tenant acme --steps 1.",
    );
  }
  if (flags.steps !== undefined && flags.to !== undefined) {
    throw CliUsageError.badFlags(
      "--steps and --to were both given",
      "Pass --steps <n> to revert the newest n migrations, or --to <name> to revert every migration after it.",
    );
  }
  const result = await router.revert({
    ...(flags.database.length > 0 ? { database: flags.database[0] } : {}),
    ...(flags.tenant.length > 0 ? { tenant: flags.tenant[0] } : {}),
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.to !== undefined ? { to: flags.to } : {}),
    ...(flags.group && flags.group.length > 0 ? { groups: [...flags.group] } : {}),
    fake: flags.fake === true,
  });
  const ok = result.outcome !== "failed";
  if (json) writeJson(io.stdout, context.command, { ok, result: resultJson(result) });
  else
    writeLine(io.stdout, resultLine(result, flags.fake ? { verb: "forgot without running" } : {}));
  return ok ? ExitCode.Success : ExitCode.Failure;
}
