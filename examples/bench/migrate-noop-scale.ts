import "reflect-metadata";
import { Client } from "pg";
import { TenantRouter, schemaPerTenant } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";
import { BENCH_MIGRATIONS } from "./bench-migrations";
import { childMain, progress } from "./child-process";
import { quantile } from "./measure";
import { benchSchemaOf, benchTenantId } from "./tenant-schemas";

/** A no-op migrate over many schemas (its own process). */
export interface NoOpScaleRequest {
  /** A database of `tenants` tenant schemas (e.g. the one of (b)); their state is added here. */
  readonly url: string;
  readonly tenants: number;
  readonly maxConnections: number;
  readonly runs: number;
}

/** What {@link noOpAtScale} measured. */
export interface NoOpScaleResult {
  readonly tenants: number;
  /** Setting up the state (one real migrate, then its records copied to every schema). */
  readonly setupMs: number;
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

/**
 * Times `router.migrate()` over `tenants` schemas that are all up to date: migrates the first
 * tenant for real, copies its migration records (every table the router made besides the
 * migrated table itself) into every other schema in SQL batches, then runs a fresh router's
 * migrate() `runs` times, checking each report says every tenant is up to date and that no
 * tenant was opened.
 */
export async function noOpAtScale(request: NoOpScaleRequest): Promise<NoOpScaleResult> {
  const tenants = Array.from({ length: request.tenants }, (_, index) => benchTenantId(index));
  const base = { type: "postgres" as const, url: request.url };
  const create = () =>
    TenantRouter.create({
      entities: [BenchItem],
      databases: { default: base },
      tenants: {
        list: tenants,
        strategy: schemaPerTenant({ base, maxConnections: request.maxConnections }),
      },
      migrations: { tenant: BENCH_MIGRATIONS },
      pool: { maxOpenTenants: 100, idleTimeoutMs: 0 },
    });
  const setupStarted = Date.now();
  const first = await create();
  try {
    const report = await first.migrate({ tenants: [tenants[0]] });
    if (!report.ok) throw new Error("migrating the first tenant failed");
  } finally {
    await first.close();
  }
  await copyState(request.url, tenants);
  const setupMs = Date.now() - setupStarted;
  progress(`  migration state of ${tenants.length} schemas set up in ${setupMs} ms`);
  const runsMs: number[] = [];
  for (let run = 0; run < request.runs; run++) {
    const router = await create();
    try {
      const started = process.hrtime.bigint();
      const report = await router.migrate();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const tenantResults = report.results.filter((result) => result.database.kind === "tenant");
      const upToDate = tenantResults.filter((result) => result.outcome === "up-to-date").length;
      if (!report.ok || upToDate !== tenants.length) {
        throw new Error(`no-op migrate: ${upToDate} of ${tenants.length} tenants up to date`);
      }
      if (router.poolStats().openTenants !== 0) {
        throw new Error(`the no-op migrate opened ${router.poolStats().openTenants} tenants`);
      }
      runsMs.push(ms);
      progress(`  no-op migrate over ${tenants.length} tenants: ${ms.toFixed(0)} ms`);
    } finally {
      await router.close();
    }
  }
  return { tenants: tenants.length, setupMs, medianMs: quantile(runsMs, 0.5), runsMs };
}

// Copies the tables the router created in the first tenant's schema (its migration records),
// with their rows, into every other tenant schema: 500 schemas per SQL batch.
async function copyState(url: string, tenants: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const source = benchSchemaOf(tenants[0]);
    const { rows } = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables
        WHERE schemaname = $1 AND tablename NOT IN ('bench_item', 'bench_note')`,
      [source],
    );
    if (rows.length === 0) throw new Error(`no migration table in ${source}`);
    for (let start = 1; start < tenants.length; start += 500) {
      const statements = tenants.slice(start, start + 500).flatMap((tenant) =>
        rows.flatMap(({ name }) => {
          const target = `"${benchSchemaOf(tenant)}"."${name}"`;
          const from = `"${source}"."${name}"`;
          return [
            `CREATE TABLE ${target} (LIKE ${from} INCLUDING ALL);`,
            `INSERT INTO ${target} SELECT * FROM ${from};`,
          ];
        }),
      );
      await client.query(statements.join("\n"));
    }
  } finally {
    await client.end();
  }
}

childMain(module, noOpAtScale);
