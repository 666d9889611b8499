import { runChild } from "./child-process";
import type { HeapProbeDriver, HeapProbeRequest, HeapProbeResult } from "./heap-probe";

/** One storage measured twice: with metadata sharing switched off, and as shipped. */
export interface HeapPerTenantRow {
  readonly driver: HeapProbeDriver;
  /** How tenants are stored, for the table. */
  readonly storage: string;
  readonly withoutSharing: HeapProbeResult;
  readonly withSharing: HeapProbeResult;
}

/** What (e) measures: open tenants at the two heap readings, and where PostgreSQL is. */
export interface HeapPerTenantOptions {
  readonly from: number;
  readonly to: number;
  /** The same for schema per tenant (tenants are far cheaper: more of them are needed). */
  readonly schemaFrom: number;
  readonly schemaTo: number;
  /** A database for the schema-per-tenant probe; without it only SQLite is measured. */
  readonly postgresUrl?: string;
}

/**
 * (e) Heap per open tenant with the 30-entity model, on database-per-tenant SQLite and on
 * schema-per-tenant PostgreSQL, each measured in a fresh `node --expose-gc` process twice:
 * with `TYPEORM_ROUTER_SHARED_METADATA=off` (every tenant DataSource builds its own entity
 * metadata, as before metadata sharing) and as shipped.
 */
export async function runHeapPerTenant(
  options: HeapPerTenantOptions,
  log: (line: string) => void,
): Promise<HeapPerTenantRow[]> {
  const plans: { driver: HeapProbeDriver; storage: string }[] = [
    { driver: "sqlite", storage: "database-per-tenant, SQLite files" },
  ];
  if (options.postgresUrl) {
    plans.push({ driver: "postgres", storage: "schema-per-tenant, PostgreSQL" });
  }
  const rows: HeapPerTenantRow[] = [];
  for (const plan of plans) {
    const request: HeapProbeRequest = {
      driver: plan.driver,
      postgresUrl: options.postgresUrl,
      from: plan.driver === "postgres" ? options.schemaFrom : options.from,
      to: plan.driver === "postgres" ? options.schemaTo : options.to,
    };
    const probe = async (sharing: boolean) => {
      const result = await runChild<HeapProbeResult>("heap-probe.js", request, {
        exposeGc: true,
        env: sharing ? {} : { TYPEORM_ROUTER_SHARED_METADATA: "off" },
      });
      log(
        `  ${plan.storage}, sharing ${sharing ? "on" : "off"}: ` +
          `${(result.heapPerTenant / 1e3).toFixed(1)} KB per open tenant ` +
          `(metadata shared: ${result.metadataShared})`,
      );
      return result;
    };
    const withoutSharing = await probe(false);
    const withSharing = await probe(true);
    rows.push({ ...plan, withoutSharing, withSharing });
  }
  return rows;
}
