import { ConfirmationRequiredError, TenantExistsError, UnknownTenantError } from "../errors";
import type { Invocation } from "./program";

/**
 * The command-line form of the fix an API error suggests, when its message names the API
 * call (e.g. `router.tenants.drop(...)`) rather than the flag to pass.
 */
export function hintFor(error: unknown, invocation: Invocation): string | undefined {
  if (error instanceof ConfirmationRequiredError && invocation.command === "tenants drop") {
    return `On the command line: typeorm-router tenants drop ${invocation.tenant} --confirm ${invocation.tenant}`;
  }
  if (error instanceof UnknownTenantError) {
    return `List the known tenants with: typeorm-router tenants list; create one with: typeorm-router tenants create ${error.tenant}`;
  }
  if (error instanceof TenantExistsError && invocation.command === "tenants create") {
    return `On the command line: typeorm-router tenants drop ${invocation.tenant} --confirm ${invocation.tenant}`;
  }
  return undefined;
}
