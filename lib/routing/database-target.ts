import type { DatabaseRef } from "./router-chain";

/** One database the router can reach: an alias (or one of its replicas) or a tenant's database. */
export interface DatabaseTarget {
  /** Unique key: `alias:<name>`, `alias:<name>#replica-<n>` or `tenant:<id>`. */
  readonly key: string;
  readonly kind: "alias" | "tenant";
  /** The alias or the tenant id. */
  readonly name: string;
  /** Whether the alias is configured `readOnly: true` (tenants never are). */
  readonly readOnly: boolean;
  /** How messages name it, e.g. `database "legacy"`. */
  readonly description: string;
  /** The read replicas of a primary alias (none otherwise). */
  readonly replicas?: readonly DatabaseTarget[];
  /** Which replica this is (0-based), for a replica target. */
  readonly replica?: number;
  /** How long a context reads from the primary after writing to it (replicated aliases). */
  readonly stickyMs?: number;
}

const NO_REPLICAS: readonly DatabaseTarget[] = Object.freeze([]);

/** The target of a configured alias, with `replicas` read replicas. */
export function aliasTarget(
  alias: string,
  readOnly: boolean,
  replication: { replicas: number; stickyMs: number } = { replicas: 0, stickyMs: 0 },
): DatabaseTarget {
  const replicas = Array.from({ length: replication.replicas }, (_, replica) =>
    Object.freeze({
      key: `alias:${alias}#replica-${replica}`,
      kind: "alias" as const,
      name: alias,
      readOnly: true,
      description: `replica ${replica + 1} of database "${alias}"`,
      replicas: NO_REPLICAS,
      replica,
      stickyMs: 0,
    }),
  );
  return Object.freeze({
    key: `alias:${alias}`,
    kind: "alias",
    name: alias,
    readOnly,
    description: `database "${alias}"`,
    replicas: replicas.length > 0 ? Object.freeze(replicas) : NO_REPLICAS,
    stickyMs: replication.stickyMs,
  });
}

// A tenant's target: the pool keeps one per open tenant, so its description (only read for
// messages) is made when read rather than held.
class TenantTarget implements DatabaseTarget {
  readonly key: string;
  readonly kind = "tenant" as const;
  readonly name: string;
  readonly readOnly = false;
  readonly replicas = NO_REPLICAS;
  readonly stickyMs = 0;

  constructor(tenant: string) {
    this.key = `tenant:${tenant}`;
    this.name = tenant;
  }

  get description(): string {
    return `the database of tenant "${this.name}"`;
  }
}

/** The target of a tenant's database (the id must already be validated). */
export function tenantTarget(tenant: string): DatabaseTarget {
  return new TenantTarget(tenant);
}

/** The router reference of a target, as routers and reports name it. */
export function refOf(target: DatabaseTarget): DatabaseRef {
  return target.kind === "alias" ? target.name : { tenant: target.name };
}
