import "reflect-metadata";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runChild } from "./child-process";
import type { ColdTenantRequest, ColdTenantResult } from "./cold-tenant";
import { runHeapPerTenant } from "./heap-per-tenant";
import type { ManyTenantsRequest, ManyTenantsResult } from "./many-tenants";
import type { MigrateManyRequest, MigrateManyResult } from "./migrate-many";
import type { NoOpScaleRequest, NoOpScaleResult } from "./migrate-noop-scale";
import { formatMs, machineDescription } from "./report";
import {
  routedVsPlainSection,
  runRoutedVsPlain,
  type RoutedVsPlainSettings,
} from "./routed-vs-plain";
import { coldTenantSection, heapSection, manyTenantsSection, migrateSection } from "./sections";
import { scaleSectionOf } from "./scale";
import { createTenantSchemas } from "./tenant-schemas";
import type { TenantSidesRequest, TenantSidesResult } from "./tenant-sides";
import { tenantSidesSection } from "./tenant-sides-section";
import { probePostgres, TemporaryDatabases } from "./temporary-databases";

// Nothing here may import an entity module: (a) runs in this process, and its router must
// discover every entity TypeORM knows of. The other scenarios run in child processes.

/** The PostgreSQL server to use (trust auth on the project's machines), as the specs read it. */
const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Where the full run writes its results. */
const BENCHMARKS_FILE = path.resolve(__dirname, "../../../BENCHMARKS.md");

/** The connection cap of (b), (c) and (d). */
const MAX_CONNECTIONS = 20;

/** The sizes of one run: the full suite (about 3 minutes on 2 cores) or a smoke run. */
interface SuiteSettings {
  readonly mode: "full" | "quick";
  readonly routedVsPlain: RoutedVsPlainSettings;
  /** (b) and (c): tenant schemas in the database. */
  readonly tenants: number;
  /** (b): pool.maxOpenTenants of the bounded run. */
  readonly maxOpenTenants: number;
  /** (c): cold tenants timed. */
  readonly coldSamples: number;
  /** (d): tenant schemas, and how many are migrated for real at each concurrency. */
  readonly migrateTenants: number;
  readonly realMigrateTenants: number;
  /** (e): open tenants at the two heap readings. */
  readonly heapFrom: number;
  readonly heapTo: number;
  /**
   * (e), schema per tenant: many more tenants, since one costs well under 1 KB and the
   * heap moves by more than that between two readings (hash tables growing in steps).
   */
  readonly schemaHeapFrom: number;
  readonly schemaHeapTo: number;
  /** (f): cold tenants timed per side and repetition, and the repetitions. */
  readonly sidesColdSamples: number;
  readonly sidesRepetitions: number;
}

function settingsFromEnvironment(): SuiteSettings {
  if (process.env.BENCH_QUICK === "1") {
    return {
      mode: "quick",
      routedVsPlain: {
        warmupMs: 200,
        batchMs: 2,
        measureMs: 1200,
        minRounds: 50,
        seedRows: 1000,
      },
      tenants: 500,
      maxOpenTenants: 100,
      coldSamples: 50,
      migrateTenants: 200,
      realMigrateTenants: 40,
      heapFrom: 20,
      heapTo: 100,
      schemaHeapFrom: 100,
      schemaHeapTo: 1100,
      sidesColdSamples: 10,
      sidesRepetitions: 3,
    };
  }
  return {
    mode: "full",
    routedVsPlain: { warmupMs: 1000, batchMs: 2, measureMs: 8000, minRounds: 200, seedRows: 1000 },
    tenants: 10_000,
    maxOpenTenants: 500,
    coldSamples: 200,
    migrateTenants: 1000,
    realMigrateTenants: 200,
    heapFrom: 50,
    heapTo: 250,
    schemaHeapFrom: 500,
    schemaHeapTo: 4500,
    sidesColdSamples: 50,
    sidesRepetitions: 3,
  };
}

// Set when a signal interrupts the run: the errors that dropping the databases under the
// running bench causes are expected then, and the signal handler sets the exit code.
let interruptedBy: NodeJS.Signals | undefined;

/** Drops the temporary databases on Ctrl-C or SIGTERM too; returns the function that stops listening. */
function dropOnSignal(databases: TemporaryDatabases): () => void {
  const handler = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    console.error(`\n${signal}: dropping the temporary PostgreSQL databases before exiting`);
    databases
      .dropAll()
      .catch((error: unknown) => console.error("dropping them failed:", error))
      .finally(() => process.exit(128 + (os.constants.signals[signal] ?? 0)));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * Runs one scenario and returns its Markdown section; a scenario that fails becomes a
 * section saying so (and the run's exit code 1), and the next scenario still runs.
 */
async function section(
  title: string,
  log: (line: string) => void,
  run: () => Promise<string>,
): Promise<string> {
  log(`${title}…`);
  const started = Date.now();
  try {
    const markdown = await run();
    log(`${title}: done in ${formatMs(Date.now() - started)}`);
    return markdown;
  } catch (error) {
    if (interruptedBy) throw error;
    process.exitCode = 1;
    console.error(error);
    const message = error instanceof Error ? error.message : String(error);
    return `## ${title}\n\n**FAILED**: ${message}`;
  }
}

/** The scenarios that need PostgreSQL, as sections; each temporary database is dropped. */
async function postgresSections(
  settings: SuiteSettings,
  databases: TemporaryDatabases,
  log: (line: string) => void,
): Promise<string[]> {
  const sections: string[] = [];
  const adminUrl = PG_URL;

  // (b) and (c) share one database of tenant schemas, each with its table.
  let tenantsUrl: string | undefined;
  const setupStarted = Date.now();
  const prepare = async () => {
    if (tenantsUrl) return tenantsUrl;
    const url = await databases.create("tenants");
    await createTenantSchemas(url, { count: settings.tenants, withTable: true, rowsPerTenant: 5 });
    tenantsUrl = url;
    return url;
  };
  let setupMs = 0;
  sections.push(
    await section(`(b) ${settings.tenants.toLocaleString("en-US")} tenants`, log, async () => {
      const url = await prepare();
      setupMs = Date.now() - setupStarted;
      log(`  ${settings.tenants} tenant schemas created in ${formatMs(setupMs)}`);
      const request: ManyTenantsRequest = {
        url,
        adminUrl,
        tenants: settings.tenants,
        rowsPerTenant: 5,
        maxConnections: MAX_CONNECTIONS,
        maxOpenTenants: settings.maxOpenTenants,
        reads: Math.max(2 * settings.tenants, 4000),
        concurrency: MAX_CONNECTIONS,
        unmeasuredPasses: 0,
        baseline: true,
      };
      const bounded = await runChild<ManyTenantsResult>("many-tenants.js", request);
      const allOpen = await runChild<ManyTenantsResult>("many-tenants.js", {
        ...request,
        maxOpenTenants: settings.tenants,
        unmeasuredPasses: 1,
      });
      return manyTenantsSection({
        tenants: settings.tenants,
        maxConnections: MAX_CONNECTIONS,
        setupMs,
        bounded,
        allOpen,
      });
    }),
  );
  sections.push(
    await section("(c) First request for a cold tenant", log, async () => {
      const request: ColdTenantRequest = {
        url: await prepare(),
        tenants: settings.tenants,
        samples: settings.coldSamples,
        warmup: 20,
        maxConnections: MAX_CONNECTIONS,
      };
      const result = await runChild<ColdTenantResult>("cold-tenant.js", request);
      return coldTenantSection(request, result);
    }),
  );
  sections.push(
    await section(
      "(f) Side by side: floor, TypeORM, router, MikroORM, hand-rolled Map",
      log,
      async () => {
        const request: TenantSidesRequest = {
          url: await prepare(),
          tenants: settings.tenants,
          rowsPerTenant: 5,
          maxConnections: MAX_CONNECTIONS,
          maxOpenTenants: settings.maxOpenTenants,
          reads: Math.max(settings.tenants, 4000),
          coldSamples: settings.sidesColdSamples,
          repetitions: settings.sidesRepetitions,
        };
        const result = await runChild<TenantSidesResult>("tenant-sides.js", request, {
          exposeGc: true,
        });
        return tenantSidesSection(result);
      },
    ),
  );
  // (d)'s no-op at the scale of (b): migration records added to (b)'s schemas.
  let atScale: NoOpScaleResult | { readonly failed: string } | undefined;
  if (tenantsUrl) {
    try {
      const request: NoOpScaleRequest = {
        url: tenantsUrl,
        tenants: settings.tenants,
        maxConnections: MAX_CONNECTIONS,
        runs: 3,
      };
      log(`(d) no-op migrate over ${settings.tenants} schemas…`);
      atScale = await runChild<NoOpScaleResult>("migrate-noop-scale.js", request);
    } catch (error) {
      if (interruptedBy) throw error;
      process.exitCode = 1;
      console.error(error);
      atScale = { failed: error instanceof Error ? error.message : String(error) };
    }
    await databases.drop(tenantsUrl);
  }

  sections.push(
    await section(`(d) Migrating ${settings.migrateTenants} tenant schemas`, log, async () => {
      const url = await databases.create("migrate");
      try {
        await createTenantSchemas(url, { count: settings.migrateTenants, withTable: false });
        const request: MigrateManyRequest = {
          url,
          tenants: settings.migrateTenants,
          realTenants: settings.realMigrateTenants,
          concurrencies: [1, 8],
          maxConnections: MAX_CONNECTIONS,
          noOpRuns: 3,
        };
        const result = await runChild<MigrateManyResult>("migrate-many.js", request);
        return migrateSection(request, result, atScale);
      } finally {
        await databases.drop(url);
      }
    }),
  );
  return sections;
}

/**
 * Runs the benchmark suite, each scenario side by side in this one run: (a) routed vs plain
 * TypeORM per operation; (b) 10,000 tenant schemas over a 20-connection cap; (c) the first
 * request of a cold tenant; (d) no-op and real migrations over 1,000 schemas; (e) heap per
 * open tenant with and without shared metadata. Prints the results as Markdown and, in a
 * full run, writes them to BENCHMARKS.md. A missed goal is reported, not an error; a
 * scenario that fails is reported and sets the exit code.
 */
export async function runSuite(log: (line: string) => void = console.log): Promise<string> {
  const settings = settingsFromEnvironment();
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`# typeorm-router bench (${settings.mode})`);
  const probe = await probePostgres(PG_URL);
  const pgSkipped = probe.reachable
    ? undefined
    : `PostgreSQL scenarios skipped: the server at ${new URL(PG_URL).host} could not be used ` +
      `(${probe.reason}). Start it or set PG_URL.`;
  const databases = new TemporaryDatabases(PG_URL);
  const stopListening = dropOnSignal(databases);
  const sections: string[] = [];
  try {
    sections.push(
      await section("(a) Routed vs plain TypeORM", log, async () => {
        const result = await runRoutedVsPlain(
          settings.routedVsPlain,
          probe.reachable ? { databases, version: probe.version } : pgSkipped!,
          log,
        );
        return routedVsPlainSection(result, settings.routedVsPlain);
      }),
    );
    if (probe.reachable) sections.push(...(await postgresSections(settings, databases, log)));
    else sections.push(`## (b), (c), (d)\n\n${pgSkipped}`);
    sections.push(
      await section("(e) Heap per open tenant", log, async () => {
        const url = probe.reachable ? await databases.create("heap") : undefined;
        try {
          const rows = await runHeapPerTenant(
            {
              from: settings.heapFrom,
              to: settings.heapTo,
              schemaFrom: settings.schemaHeapFrom,
              schemaTo: settings.schemaHeapTo,
              postgresUrl: url,
            },
            log,
          );
          return heapSection(rows);
        } finally {
          if (url) await databases.drop(url);
        }
      }),
    );
  } finally {
    stopListening();
    await databases.dropAll();
  }
  const loadAfter = os.loadavg();
  const durationS = (Date.now() - startedAt.getTime()) / 1000;
  const document = await formatMarkdown(
    [
      "# Benchmarks",
      "",
      `Written by \`npm run bench\` (${settings.mode} run) on ${startedAt.toISOString()}, ` +
        `in ${Math.round(durationS)} s; every figure below comes from that one run.`,
      "",
      `- Machine: ${machineDescription()}`,
      `- PostgreSQL: ${probe.reachable ? `${probe.version} at ${new URL(PG_URL).host}` : "not reachable"}`,
      `- Load average (1 min) at start / end: ${loadBefore[0].toFixed(2)} / ${loadAfter[0].toFixed(2)} ` +
        `(other processes share the machine; the ratios interleave or repeat their ` +
        `measurements to limit that noise, the absolute figures do not)`,
      "",
      ...sections.flatMap((markdown) => [markdown, ""]),
    ].join("\n"),
  );
  log("");
  log(document);
  if (settings.mode === "full") {
    // The section `npm run bench:scale` wrote stays (it runs on its own: minutes of setup).
    const scale = scaleSectionOf(await readFile(BENCHMARKS_FILE, "utf8").catch(() => ""));
    await writeFile(BENCHMARKS_FILE, scale ? `${document.trimEnd()}\n\n${scale}\n` : document);
    log(`Written to ${BENCHMARKS_FILE}`);
  } else {
    log("BENCH_QUICK=1: a smoke run, BENCHMARKS.md is left as it is.");
  }
  return document;
}

// The repository's Prettier style (aligned tables), so that the file passes format:check.
async function formatMarkdown(markdown: string): Promise<string> {
  const prettier = await import("prettier");
  const config = await prettier.resolveConfig(BENCHMARKS_FILE);
  return prettier.format(markdown, { ...config, filepath: BENCHMARKS_FILE });
}

if (require.main === module) {
  runSuite().catch((error: unknown) => {
    if (interruptedBy) return;
    console.error(error);
    process.exitCode = 1;
  });
}
