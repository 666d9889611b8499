import { messageOf } from "../errors";
import type { TenantRouter } from "../tenant-router";
import { writeLine, type CliIo } from "./cli-io";
import { hintFor } from "./cli-hints";
import type { CommandContext } from "./command-context";
import { generateCommand } from "./commands/generate-command";
import { migrateCommand } from "./commands/migrate-command";
import { revertCommand } from "./commands/revert-command";
import { statusCommand } from "./commands/status-command";
import {
  tenantsCreateCommand,
  tenantsDropCommand,
  tenantsListCommand,
} from "./commands/tenants-commands";
import { verifyCommand } from "./commands/verify-command";
import { ExitCode, exitCodeOf } from "./exit-code";
import { errorJson, writeJson } from "./json-document";
import { loadRouter } from "./load-router";
import type { GlobalFlags, Invocation } from "./program";

/**
 * Loads the router from `--config`, runs one command with it and always closes it. An error
 * is written to stderr (and, with `--json`, as the JSON document on stdout) and turned into
 * an exit code: 2 for usage and configuration errors, 1 otherwise.
 */
export async function executeInvocation(
  globals: GlobalFlags,
  invocation: Invocation,
  io: CliIo,
): Promise<ExitCode> {
  const json = globals.json === true;
  let router: TenantRouter | undefined;
  let exitCode: ExitCode;
  try {
    router = await loadRouter(globals.config, io.cwd);
    exitCode = await dispatch({ command: invocation.command, router, io, json }, invocation);
  } catch (error) {
    exitCode = exitCodeOf(error);
    writeLine(io.stderr, `typeorm-router ${invocation.command}: ${messageOf(error)}`);
    const hint = hintFor(error, invocation);
    if (hint) writeLine(io.stderr, hint);
    if (json) writeJson(io.stdout, invocation.command, { ok: false, error: errorJson(error) });
  }
  try {
    await router?.close();
  } catch (error) {
    writeLine(
      io.stderr,
      `typeorm-router ${invocation.command}: closing the router failed: ${messageOf(error)}. ` +
        `Some connections may not have been closed cleanly.`,
    );
    if (exitCode === ExitCode.Success) exitCode = ExitCode.Failure;
  }
  return exitCode;
}

function dispatch(context: CommandContext, invocation: Invocation): Promise<ExitCode> {
  switch (invocation.command) {
    case "migrate":
      return migrateCommand(context, invocation.flags);
    case "status":
      return statusCommand(context, invocation.flags);
    case "verify":
      return verifyCommand(context, invocation.flags);
    case "revert":
      return revertCommand(context, invocation.flags);
    case "generate":
      return generateCommand(context, invocation.flags);
    case "tenants list":
      return tenantsListCommand(context);
    case "tenants create":
      return tenantsCreateCommand(context, invocation.tenant);
    case "tenants drop":
      return tenantsDropCommand(context, invocation.tenant, invocation.confirm);
  }
}
