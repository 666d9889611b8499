import "reflect-metadata";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { TenantRouter, schemaPerTenant, withTenant } from "typeorm-router";
import { childMain } from "./child-process";
import { THIRTY_ENTITIES } from "./thirty-entities";

/** Which tenant storage the probe opens tenants on. */
export type HeapProbeDriver = "sqlite" | "postgres";

/** What one probe process is asked to measure. */
export interface HeapProbeRequest {
  readonly driver: HeapProbeDriver;
  /** For `postgres`: a database the probe may create tenant schemas in. */
  readonly postgresUrl?: string;
  /** Open tenants at the first heap reading (e.g. 50). */
  readonly from: number;
  /** Open tenants at the second heap reading (e.g. 250). */
  readonly to: number;
}

/** What one probe process measured. */
export interface HeapProbeResult {
  readonly driver: HeapProbeDriver;
  readonly entities: number;
  /** Entity metadata objects TypeORM holds per tenant DataSource (tables incl. junctions). */
  readonly metadataPerDataSource: number;
  /** Whether the open tenants shared one set of entity metadata objects. */
  readonly metadataShared: boolean;
  readonly from: number;
  readonly to: number;
  /** `heapUsed` after a forced GC with `from` tenants open. */
  readonly heapAtFrom: number;
  /** `heapUsed` after a forced GC with `to` tenants open. */
  readonly heapAtTo: number;
  /** (heapAtTo − heapAtFrom) / (to − from). */
  readonly heapPerTenant: number;
  /** Median milliseconds of a tenant's first statement (opening it included). */
  readonly openMsMedian: number;
}

/** Collects garbage until the heap stops shrinking (needs `node --expose-gc`). */
async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the heap probe needs node --expose-gc");
  let previous = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 10; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.999) return used;
    previous = used;
  }
  return process.memoryUsage().heapUsed;
}

function tenantId(index: number): string {
  return `t${String(index).padStart(5, "0")}`;
}

/**
 * Opens `to` tenant DataSources of the 30-entity model through one TenantRouter (SQLite
 * files in a temporary folder, or schema-per-tenant PostgreSQL), reading the heap after a
 * forced GC once `from` and once `to` tenants are open; each tenant also runs one query, as
 * a request would. The first `from` tenants absorb one-time costs (JIT, caches, the first
 * metadata build), so the difference is what one more open tenant costs.
 */
export async function probeHeapPerTenant(request: HeapProbeRequest): Promise<HeapProbeResult> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-heap-"));
  const tenants = Array.from({ length: request.to }, (_, index) => tenantId(index));
  const router = await TenantRouter.create({
    entities: [...THIRTY_ENTITIES],
    databases: {
      default:
        request.driver === "postgres"
          ? { type: "postgres", url: request.postgresUrl }
          : { type: "better-sqlite3", database: path.join(folder, "default.db") },
    },
    tenants:
      request.driver === "postgres"
        ? {
            list: tenants,
            strategy: schemaPerTenant({
              base: { type: "postgres", url: request.postgresUrl },
              maxConnections: 4,
            }),
          }
        : {
            list: tenants,
            options: (tenant) => ({
              type: "better-sqlite3",
              database: path.join(folder, `${tenant}.db`),
            }),
          },
    pool: { maxOpenTenants: request.to + 10, idleTimeoutMs: 0 },
  });
  try {
    const openMs: number[] = [];
    const dataSources = [];
    let heapAtFrom = 0;
    for (let index = 0; index < request.to; index++) {
      if (index === request.from) heapAtFrom = await settledHeap();
      const tenant = tenants[index];
      // Opened as a request opens it: its first statement.
      const started = process.hrtime.bigint();
      await router.query({ tenant }, "SELECT 1", [], { operation: "read" });
      openMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      // Only the first two are compared. dataSourceFor() caches an eviction-safe view per
      // open tenant for later calls: asking it of every tenant would measure that cache,
      // which requests (repositories, managers, query builders) never fill.
      if (dataSources.length < 2) {
        dataSources.push(await withTenant(tenant, () => router.dataSourceFor(THIRTY_ENTITIES[0])));
      }
    }
    const heapAtTo = await settledHeap();
    if (router.poolStats().openTenants !== request.to) {
      throw new Error(
        `expected ${request.to} open tenants, found ${router.poolStats().openTenants}`,
      );
    }
    const [first, second] = dataSources;
    openMs.sort((a, b) => a - b);
    return {
      driver: request.driver,
      entities: THIRTY_ENTITIES.length,
      metadataPerDataSource: first.entityMetadatas.length,
      metadataShared: first.entityMetadatas[0] === second.entityMetadatas[0],
      from: request.from,
      to: request.to,
      heapAtFrom,
      heapAtTo,
      heapPerTenant: (heapAtTo - heapAtFrom) / (request.to - request.from),
      openMsMedian: openMs[Math.floor(openMs.length / 2)],
    };
  } finally {
    await router.close();
    await rm(folder, { recursive: true, force: true });
  }
}

childMain(module, probeHeapPerTenant);
