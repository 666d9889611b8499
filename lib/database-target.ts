import type { DatabaseRef } from "./router-chain";

/** One database the router can reach: a configured alias or one tenant's database. */
export interface DatabaseTarget {
  /** Unique key: `alias:<name>` or `tenant:<id>`. */
  readonly key: string;
  readonly kind: "alias" | "tenant";
  /** The alias or the tenant id. */
  readonly name: string;
  /** Whether the alias is configured `readOnly: true` (tenants never are). */
  readonly readOnly: boolean;
  /** How messages name it, e.g. `database "legacy"`. */
  readonly description: string;
}

/** The target of a configured alias. */
export function aliasTarget(alias: string, readOnly: boolean): DatabaseTarget {
  return Object.freeze({
    key: `alias:${alias}`,
    kind: "alias",
    name: alias,
    readOnly,
    description: `database "${alias}"`,
  });
}

/** The target of a tenant's database (the id must already be validated). */
export function tenantTarget(tenant: string): DatabaseTarget {
  return {
    key: `tenant:${tenant}`,
    kind: "tenant",
    name: tenant,
    readOnly: false,
    description: `the database of tenant "${tenant}"`,
  };
}

/** The router reference of a target, as routers and reports name it. */
export function refOf(target: DatabaseTarget): DatabaseRef {
  return target.kind === "alias" ? target.name : { tenant: target.name };
}
