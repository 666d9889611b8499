import { InvalidTenantIdError } from "../errors";

/**
 * The pattern every tenant id must match before it reaches a name, a path or SQL:
 * lowercase letters, digits, `_` and `-`, 1 to 63 characters, starting with a letter or digit.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Checks that `value` is a valid tenant id.
 *
 * @throws InvalidTenantIdError naming `where`, before anything else happens.
 */
export function assertTenantId(value: unknown, where: string): asserts value is string {
  if (typeof value !== "string" || !TENANT_ID_PATTERN.test(value)) {
    throw InvalidTenantIdError.rejected(value, TENANT_ID_PATTERN, where);
  }
}
