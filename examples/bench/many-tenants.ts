import "reflect-metadata";
import { withTenant } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";
import { childMain, progress } from "./child-process";
import { ResourceSampler, type ResourcePeaks } from "./resource-sampler";
import { createBenchRouter } from "./bench-router";
import { benchTenantId } from "./tenant-schemas";
import { runClosedLoop, type WorkloadResult } from "./workload";

/** What one many-tenant run is asked to do (one child process per run). */
export interface ManyTenantsRequest {
  /** The database holding the tenant schemas (see createTenantSchemas, with tables). */
  readonly url: string;
  /** A database of the same server for the sampler's own connection. */
  readonly adminUrl: string;
  /** Tenants in the database: ids benchTenantId(0 … tenants − 1). */
  readonly tenants: number;
  /** Rows in each tenant's bench_item table. */
  readonly rowsPerTenant: number;
  /** schemaPerTenant({ maxConnections }). */
  readonly maxConnections: number;
  /** pool.maxOpenTenants. */
  readonly maxOpenTenants: number;
  /** Reads per measured workload. */
  readonly reads: number;
  /** Workers of the closed loop. */
  readonly concurrency: number;
  /**
   * Round-robin passes over every tenant before the measured one (0: measure the first
   * pass). With maxOpenTenants ≥ tenants, one pass leaves every tenant open.
   */
  readonly unmeasuredPasses: number;
  /** Also measure the same reads on one tenant (the baseline), before the round robin. */
  readonly baseline: boolean;
  /** Add the 30-entity model to the router's metadata (bench:scale). */
  readonly thirtyEntities?: boolean;
}

/** A measured workload with the peaks seen while it ran. */
export interface MeasuredWorkload {
  readonly workload: WorkloadResult;
  readonly peaks: ResourcePeaks;
  /** Distinct tenants the measured reads touched. */
  readonly tenantsTouched: number;
  /** CPU time this process spent per read (user + system), in ms. */
  readonly cpuMsPerRead: number;
  /** CPU time the database's backends spent per read, in ms (a local server only). */
  readonly serverCpuMsPerRead?: number;
}

/** What one many-tenant run measured. */
export interface ManyTenantsResult {
  readonly request: ManyTenantsRequest;
  readonly baseline: MeasuredWorkload | undefined;
  readonly roundRobin: MeasuredWorkload;
  /** Tenant DataSources open when the run ended. */
  readonly openTenantsAtEnd: number;
}

/**
 * Serves `reads` primary-key reads over every tenant schema, round robin, through one
 * TenantRouter capped at `maxConnections` PostgreSQL connections and `maxOpenTenants` open
 * tenant DataSources, sampling peak RSS and the database's backends in pg_stat_activity;
 * optionally first the same reads on a single tenant, the baseline. Every read checks that
 * its row names the tenant it was read for (each row came from its own schema).
 */
export async function runManyTenants(request: ManyTenantsRequest): Promise<ManyTenantsResult> {
  const tenants = Array.from({ length: request.tenants }, (_, index) => benchTenantId(index));
  const router = await createBenchRouter({
    url: request.url,
    tenants,
    maxConnections: request.maxConnections,
    maxOpenTenants: request.maxOpenTenants,
    // Loaded only when asked: its @External entities register with TypeORM on import.
    moreEntities: request.thirtyEntities
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require("./thirty-entities") as typeof import("./thirty-entities")).THIRTY_ENTITIES
      : [],
  });
  const database = new URL(request.url).pathname.slice(1);
  try {
    const items = router.getRepository(BenchItem);
    const read = async (tenant: string, index: number) => {
      const id = (index % request.rowsPerTenant) + 1;
      const row = await withTenant(tenant, () => items.findOneBy({ id }));
      if (row?.tenant !== tenant || row.id !== id) {
        throw new Error(`tenant ${tenant} read ${JSON.stringify(row)} for id ${id}`);
      }
    };
    const measure = async (
      label: string,
      tenantOf: (index: number) => string,
    ): Promise<MeasuredWorkload> => {
      const sampler = new ResourceSampler(request.adminUrl, database);
      await sampler.start();
      const touched = new Set<string>();
      const cpuBefore = process.cpuUsage();
      let workload: WorkloadResult;
      try {
        workload = await runClosedLoop(request.reads, request.concurrency, (index) => {
          const tenant = tenantOf(index);
          touched.add(tenant);
          return read(tenant, index);
        });
      } catch (error) {
        await sampler.stop().catch(() => undefined);
        throw error;
      }
      const cpu = process.cpuUsage(cpuBefore);
      const peaks = await sampler.stop();
      const cpuMsPerRead = (cpu.user + cpu.system) / 1000 / request.reads;
      const serverCpuMsPerRead =
        peaks.serverCpuMs === undefined ? undefined : peaks.serverCpuMs / request.reads;
      progress(
        `  ${label}: ${Math.round(workload.operationsPerSecond)} reads/s, p50 ` +
          `${workload.p50Ms.toFixed(2)} ms, p99 ${workload.p99Ms.toFixed(2)} ms, peak RSS ` +
          `${(peaks.peakRss / 2 ** 20).toFixed(0)} MiB, peak backends ${peaks.peakBackends}, ` +
          `CPU per read ${cpuMsPerRead.toFixed(3)} ms here, ` +
          `${serverCpuMsPerRead?.toFixed(3) ?? "?"} ms in PostgreSQL`,
      );
      return { workload, peaks, tenantsTouched: touched.size, cpuMsPerRead, serverCpuMsPerRead };
    };

    let baseline: MeasuredWorkload | undefined;
    if (request.baseline) {
      // Warm-up: JIT, the one tenant's DataSource and the pool's connections.
      await runClosedLoop(Math.min(request.reads, 2000), request.concurrency, (index) =>
        read(tenants[0], index),
      );
      baseline = await measure("single tenant", () => tenants[0]);
    }
    for (let pass = 0; pass < request.unmeasuredPasses; pass++) {
      const started = Date.now();
      await runClosedLoop(tenants.length, request.concurrency, (index) =>
        read(tenants[index], index),
      );
      progress(
        `  unmeasured pass ${pass + 1} over ${tenants.length} tenants: ${Date.now() - started} ms`,
      );
    }
    const roundRobin = await measure(
      `round robin over ${tenants.length} tenants`,
      (index) => tenants[index % tenants.length],
    );
    return {
      request,
      baseline,
      roundRobin,
      openTenantsAtEnd: router.poolStats().openTenants,
    };
  } finally {
    await router.close();
  }
}

childMain(module, runManyTenants);
