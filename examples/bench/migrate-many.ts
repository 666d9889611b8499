import "reflect-metadata";
import { Client } from "pg";
import { DataSource } from "typeorm";
import { TenantRouter, schemaPerTenant, type MigrationReport } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";
import { BENCH_MIGRATIONS } from "./bench-migrations";
import { childMain, progress } from "./child-process";
import { quantile } from "./measure";
import { benchSchemaOf, benchTenantId } from "./tenant-schemas";

/** What the migrate run is asked to measure (in its own process). */
export interface MigrateManyRequest {
  /** A database holding `tenants` empty tenant schemas (createTenantSchemas, no tables). */
  readonly url: string;
  readonly tenants: number;
  /** Tenants migrated for real at each concurrency (disjoint sets). */
  readonly realTenants: number;
  /** The two concurrencies to compare, e.g. [1, 8]. */
  readonly concurrencies: readonly [number, number];
  /** schemaPerTenant({ maxConnections }). */
  readonly maxConnections: number;
  /** No-op runs to time (the median is reported). */
  readonly noOpRuns: number;
}

/** One timed real migrate. */
export interface RealMigrate {
  readonly concurrency: number;
  readonly tenants: number;
  readonly migrations: number;
  readonly durationMs: number;
}

/** What the migrate run measured. */
export interface MigrateManyResult {
  readonly tenants: number;
  /** The same number of tenants migrated at each of the two concurrencies. */
  readonly real: readonly [RealMigrate, RealMigrate];
  /**
   * The hand-rolled loop on another `realTenants` schemas at the higher concurrency: one
   * DataSource per schema (search_path set on its connection), `runMigrations()`, destroy.
   */
  readonly handRolled: RealMigrate;
  /** Migrating the remaining tenants (setup for the no-op run), at the higher concurrency. */
  readonly rest: RealMigrate;
  /** Median over `noOpRuns` of a no-op `router.migrate()` over every tenant. */
  readonly noOpMedianMs: number;
  readonly noOpRunsMs: readonly number[];
}

/**
 * Migrates tenant schemas with three raw-SQL migrations: `realTenants` schemas at each of
 * two concurrencies (their times give the speed-up), then the rest, then times a no-op
 * `router.migrate()` over all of them (state read in bulk, no tenant DataSource opened).
 * Checks every report, and afterwards that each schema holds the migrated table and index
 * and that `public` does not.
 */
export async function migrateMany(request: MigrateManyRequest): Promise<MigrateManyResult> {
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
  const migrations = BENCH_MIGRATIONS.length;
  const timed = async (
    router: TenantRouter,
    slice: readonly string[],
    concurrency: number,
    expected: "migrated" | "up-to-date",
    label: string,
  ): Promise<RealMigrate> => {
    const started = process.hrtime.bigint();
    const report = await router.migrate({ tenants: slice, concurrency });
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    checkReport(report, slice.length, expected, expected === "migrated" ? migrations : 0);
    progress(
      `  ${label}: ${slice.length} tenants at concurrency ${concurrency}: ${durationMs.toFixed(0)} ms`,
    );
    return { concurrency, tenants: slice.length, migrations, durationMs };
  };

  const router = await create();
  let real: [RealMigrate, RealMigrate];
  let rest: RealMigrate;
  let handRolled: RealMigrate;
  try {
    const [low, high] = request.concurrencies;
    const size = request.realTenants;
    const lowRun = await timed(router, tenants.slice(0, size), low, "migrated", "real migrate");
    // Right before the router's run at the same concurrency, so load drifts hit both alike.
    const handSlice = tenants.slice(2 * size, 3 * size);
    handRolled = await handRolledLoop(request.url, handSlice, high);
    await resetSchemas(request.url, handSlice);
    real = [
      lowRun,
      await timed(router, tenants.slice(size, 2 * size), high, "migrated", "real migrate"),
    ];
    rest = await timed(router, tenants.slice(2 * size), high, "migrated", "setup migrate");
  } finally {
    await router.close();
  }
  await checkSchemas(request.url, tenants);

  const noOpRunsMs: number[] = [];
  for (let run = 0; run < request.noOpRuns; run++) {
    // A fresh router each time: nothing is cached from the previous run.
    const fresh = await create();
    try {
      const started = process.hrtime.bigint();
      const report = await fresh.migrate();
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      checkReport(report, tenants.length, "up-to-date", 0);
      if (fresh.poolStats().openTenants !== 0) {
        throw new Error(`the no-op migrate opened ${fresh.poolStats().openTenants} tenants`);
      }
      noOpRunsMs.push(durationMs);
      progress(`  no-op migrate over ${tenants.length} tenants: ${durationMs.toFixed(0)} ms`);
    } finally {
      await fresh.close();
    }
  }
  return {
    tenants: tenants.length,
    real,
    handRolled,
    rest,
    noOpMedianMs: quantile(noOpRunsMs, 0.5),
    noOpRunsMs,
  };
}

// What people write by hand: for each schema, a DataSource whose connection has the schema's
// search_path (the migrations' raw SQL is unqualified), runMigrations() with one transaction
// per migration like the router's, then destroy; `concurrency` schemas at a time.
async function handRolledLoop(
  url: string,
  slice: readonly string[],
  concurrency: number,
): Promise<RealMigrate> {
  const queue = [...slice];
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let tenant = queue.shift(); tenant !== undefined; tenant = queue.shift()) {
      const schema = benchSchemaOf(tenant);
      const dataSource = new DataSource({
        type: "postgres",
        url,
        schema,
        poolSize: 1,
        migrations: BENCH_MIGRATIONS,
        extra: { options: `-c search_path=${schema}` },
      });
      await dataSource.initialize();
      try {
        const ran = await dataSource.runMigrations({ transaction: "each" });
        if (ran.length !== BENCH_MIGRATIONS.length) {
          throw new Error(`hand-rolled loop: ${schema} ran ${ran.length} migrations`);
        }
      } finally {
        await dataSource.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  progress(
    `  hand-rolled runMigrations loop: ${slice.length} tenants at concurrency ${concurrency}: ${durationMs.toFixed(0)} ms`,
  );
  return { concurrency, tenants: slice.length, migrations: BENCH_MIGRATIONS.length, durationMs };
}

// Empties the schemas the hand-rolled loop migrated, for the router's own runs afterwards.
async function resetSchemas(url: string, slice: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      slice
        .map(benchSchemaOf)
        .map((schema) => `DROP SCHEMA "${schema}" CASCADE; CREATE SCHEMA "${schema}";`)
        .join("\n"),
    );
  } finally {
    await client.end();
  }
}

// Every tenant in the report has the expected outcome and number of applied migrations.
function checkReport(
  report: MigrationReport,
  tenants: number,
  outcome: "migrated" | "up-to-date",
  applied: number,
): void {
  const results = report.results.filter((result) => result.database.kind === "tenant");
  const wrong = results.filter(
    (result) => result.outcome !== outcome || result.applied.length !== applied,
  );
  if (!report.ok || results.length !== tenants || wrong.length > 0) {
    const sample = wrong[0] ?? report.results.find((result) => result.outcome === "failed");
    throw new Error(
      `migrate: expected ${tenants} tenants "${outcome}" with ${applied} applied, got ` +
        `${results.length} results, ${wrong.length} unexpected (e.g. ${sample?.database.name}: ` +
        `${sample?.outcome}${sample?.error ? `, ${sample.error.message}` : ""})`,
    );
  }
}

// Each tenant schema holds bench_note with its index; public holds neither.
async function checkSchemas(url: string, tenants: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string; tables: number; indexes: number }>(
      `SELECT n.nspname AS schema,
              count(*) FILTER (WHERE c.relkind = 'r' AND c.relname = 'bench_note')::int AS tables,
              count(*) FILTER (WHERE c.relkind = 'i' AND c.relname = 'bench_note_created_at_idx')::int AS indexes
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
        WHERE n.nspname = ANY($1) OR n.nspname = 'public'
        GROUP BY n.nspname`,
      [tenants.map(benchSchemaOf)],
    );
    const bySchema = new Map(rows.map((row) => [row.schema, row]));
    const missing = tenants.filter((tenant) => {
      const row = bySchema.get(benchSchemaOf(tenant));
      return row?.tables !== 1 || row.indexes !== 1;
    });
    const inPublic = bySchema.get("public");
    if (missing.length > 0 || (inPublic && (inPublic.tables > 0 || inPublic.indexes > 0))) {
      throw new Error(
        `after migrating, ${missing.length} tenant schemas lack bench_note or its index ` +
          `(e.g. ${missing[0]}), public has ${inPublic?.tables ?? 0} bench_note tables`,
      );
    }
  } finally {
    await client.end();
  }
}

childMain(module, migrateMany);
