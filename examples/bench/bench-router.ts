import { TenantRouter, schemaPerTenant, type TenantRouterOptions } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";

// Its own module: importing BenchItem registers it with TypeORM, and the routers of the
// main bench process (which do not list it) would then refuse to start.
/** Options of {@link createBenchRouter}. */
export interface BenchRouterOptions {
  /** The database holding the tenant schemas. */
  readonly url: string;
  readonly tenants: readonly string[];
  /** The cap on PostgreSQL connections for all tenants together. */
  readonly maxConnections: number;
  /** The most tenant DataSources kept open. */
  readonly maxOpenTenants: number;
  /** More tenant entities for the metadata (their tables need not exist; only BenchItem is read). */
  readonly moreEntities?: TenantRouterOptions["entities"];
}

/** A TenantRouter serving BenchItem from the tenant schemas at `url` (schema-per-tenant). */
export function createBenchRouter(options: BenchRouterOptions): Promise<TenantRouter> {
  const base = { type: "postgres" as const, url: options.url };
  return TenantRouter.create({
    entities: [BenchItem, ...(options.moreEntities ?? [])],
    databases: { default: base },
    tenants: {
      list: options.tenants,
      strategy: schemaPerTenant({ base, maxConnections: options.maxConnections }),
    },
    pool: { maxOpenTenants: options.maxOpenTenants, idleTimeoutMs: 0 },
  });
}
