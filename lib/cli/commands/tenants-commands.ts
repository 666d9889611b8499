import { writeLine } from "../cli-io";
import type { CommandContext } from "../command-context";
import { ExitCode } from "../exit-code";
import { resultJson, writeJson } from "../json-document";
import { resultLine, taggedLine } from "../text-format";

/**
 * `typeorm-router tenants list`: every known tenant, one per line (or a JSON array).
 */
export async function tenantsListCommand(context: CommandContext): Promise<ExitCode> {
  const tenants = await context.router.tenants.list();
  if (context.json) writeJson(context.io.stdout, context.command, { tenants });
  else for (const tenant of tenants) writeLine(context.io.stdout, tenant);
  return ExitCode.Success;
}

/**
 * `typeorm-router tenants create <id>`: creates the tenant's database, runs the tenant
 * migrations on it and registers it; a failure undoes every step.
 */
export async function tenantsCreateCommand(
  context: CommandContext,
  tenant: string,
): Promise<ExitCode> {
  const result = await context.router.tenants.create(tenant);
  if (context.json) {
    writeJson(context.io.stdout, context.command, {
      ok: true,
      tenant,
      result: resultJson(result),
    });
  } else {
    writeLine(context.io.stdout, resultLine(result, { okTag: "created" }));
  }
  return ExitCode.Success;
}

/**
 * `typeorm-router tenants drop <id> --confirm <id>`: drops the tenant's database and
 * unregisters it. Without a matching `--confirm` nothing is dropped and it exits 2.
 */
export async function tenantsDropCommand(
  context: CommandContext,
  tenant: string,
  confirm: string | undefined,
): Promise<ExitCode> {
  await context.router.tenants.drop(tenant, { confirm: confirm ?? "" });
  if (context.json) writeJson(context.io.stdout, context.command, { ok: true, tenant });
  else writeLine(context.io.stdout, taggedLine("dropped", `tenant ${tenant}`));
  return ExitCode.Success;
}
