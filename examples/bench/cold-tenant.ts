import "reflect-metadata";
import { withTenant } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";
import { childMain, progress } from "./child-process";
import { quantile } from "./measure";
import { createBenchRouter } from "./bench-router";
import { benchTenantId } from "./tenant-schemas";

/** What the cold-tenant run is asked to measure (in its own process). */
export interface ColdTenantRequest {
  /** The database holding the tenant schemas (see createTenantSchemas, with tables). */
  readonly url: string;
  /** Tenants in the database: ids benchTenantId(0 … tenants − 1). */
  readonly tenants: number;
  /** Cold tenants to time, spread evenly over the list. */
  readonly samples: number;
  /** Cold tenants opened first and not timed (JIT, the pool's connections). */
  readonly warmup: number;
  /** schemaPerTenant({ maxConnections }). */
  readonly maxConnections: number;
}

/** What the cold-tenant run measured, in milliseconds. */
export interface ColdTenantResult {
  readonly samples: number;
  readonly coldMedianMs: number;
  readonly coldP90Ms: number;
  /** The same read again on the then-open tenant. */
  readonly warmMedianMs: number;
}

/**
 * Times the first request of a tenant whose DataSource is not open (its metadata built, its
 * driver initialized, then one primary-key read), one tenant at a time, and the same read
 * once more on the now-open tenant. The warm-up tenants come from the other end of the list,
 * so no timed tenant was ever opened before.
 */
export async function measureColdTenants(request: ColdTenantRequest): Promise<ColdTenantResult> {
  const tenants = Array.from({ length: request.tenants }, (_, index) => benchTenantId(index));
  const router = await createBenchRouter({
    url: request.url,
    tenants,
    maxConnections: request.maxConnections,
    maxOpenTenants: request.samples + request.warmup + 10,
  });
  try {
    const items = router.getRepository(BenchItem);
    const timedRead = async (tenant: string): Promise<number> => {
      const started = process.hrtime.bigint();
      const row = await withTenant(tenant, () => items.findOneBy({ id: 1 }));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (row?.tenant !== tenant) throw new Error(`tenant ${tenant} read ${JSON.stringify(row)}`);
      return ms;
    };
    for (let index = 0; index < request.warmup; index++) {
      await timedRead(tenants[tenants.length - 1 - index]);
    }
    const stride = Math.max(1, Math.floor((tenants.length - request.warmup) / request.samples));
    const cold: number[] = [];
    const warm: number[] = [];
    for (let sample = 0; sample < request.samples; sample++) {
      const tenant = tenants[sample * stride];
      cold.push(await timedRead(tenant));
      warm.push(await timedRead(tenant));
    }
    const result = {
      samples: cold.length,
      coldMedianMs: quantile(cold, 0.5),
      coldP90Ms: quantile(cold, 0.9),
      warmMedianMs: quantile(warm, 0.5),
    };
    progress(
      `  cold tenant: median ${result.coldMedianMs.toFixed(2)} ms, p90 ` +
        `${result.coldP90Ms.toFixed(2)} ms (warm read ${result.warmMedianMs.toFixed(2)} ms)`,
    );
    return result;
  } finally {
    await router.close();
  }
}

childMain(module, measureColdTenants);
