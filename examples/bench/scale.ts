import "reflect-metadata";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runChild } from "./child-process";
import type { ManyTenantsRequest, ManyTenantsResult } from "./many-tenants";
import { formatCount, formatMegabytes, formatMs, goalCell, markdownTable } from "./report";
import { createTenantSchemas } from "./tenant-schemas";
import { TemporaryDatabases } from "./temporary-databases";

// `npm run bench:scale`: 100,000 tenant schemas on 20 connections, run on its own because
// creating the schemas takes minutes. It writes its section into BENCHMARKS.md between the
// markers below, which the full `npm run bench` keeps when it rewrites the file.

const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const BENCHMARKS_FILE = path.resolve(__dirname, "../../../BENCHMARKS.md");
/** The markers around the scale section in BENCHMARKS.md. */
export const SCALE_START = "<!-- bench:scale -->";
export const SCALE_END = "<!-- /bench:scale -->";

const TENANTS = Number(process.env.BENCH_SCALE_TENANTS ?? 100_000);
const MAX_CONNECTIONS = 20;
const RSS_GOAL = 300e6;

/** The scale section of `markdown` (markers included), or `undefined` when it has none. */
export function scaleSectionOf(markdown: string): string | undefined {
  const start = markdown.indexOf(SCALE_START);
  const end = markdown.indexOf(SCALE_END);
  return start >= 0 && end > start ? markdown.slice(start, end + SCALE_END.length) : undefined;
}

async function main(): Promise<void> {
  const databases = new TemporaryDatabases(PG_URL);
  const load = os.loadavg();
  const started = Date.now();
  try {
    const url = await databases.create("scale");
    console.log(`creating ${formatCount(TENANTS)} tenant schemas…`);
    const setupStarted = Date.now();
    await createTenantSchemas(url, { count: TENANTS, withTable: true, rowsPerTenant: 1 });
    const setupMs = Date.now() - setupStarted;
    console.log(`  created in ${formatMs(setupMs)}`);
    const request: ManyTenantsRequest = {
      url,
      adminUrl: PG_URL,
      tenants: TENANTS,
      rowsPerTenant: 1,
      maxConnections: MAX_CONNECTIONS,
      maxOpenTenants: TENANTS,
      reads: TENANTS,
      concurrency: MAX_CONNECTIONS,
      unmeasuredPasses: 1,
      baseline: false,
      thirtyEntities: true,
    };
    const result = await runChild<ManyTenantsResult>("many-tenants.js", request);
    const { roundRobin } = result;
    const peaks = roundRobin.peaks;
    const section = [
      SCALE_START,
      `## (g) ${formatCount(TENANTS)} tenant schemas on ${MAX_CONNECTIONS} connections (\`npm run bench:scale\`)`,
      "",
      `Run on ${new Date(started).toISOString()}, load average (1 min) ${load[0].toFixed(2)} at start. ` +
        `One database, ${formatCount(TENANTS)} schemas, created in ${formatMs(setupMs)} (one SQL batch per 500 schemas). ` +
        "Each schema holds only the `bench_item` table (one row naming its tenant): 30 tables per schema would make " +
        `${formatCount(TENANTS * 30)} tables, hours of setup on this machine. The router's metadata still has the ` +
        "30-entity model plus BenchItem (one metadata set for every schema). `schemaPerTenant({ maxConnections: 20 })`, " +
        "every tenant kept open; one unmeasured round-robin pass opens them all, then a measured pass reads each once " +
        `(${MAX_CONNECTIONS} workers); every read checks its row names its tenant. The process's RSS and the database's ` +
        "backends (pg_stat_activity) are sampled every 20 ms during the measured pass, every tenant open then.",
      "",
      markdownTable(
        ["reads", "reads/s", "p50", "p99", "peak RSS", "peak backends", "tenants open at end"],
        [
          [
            formatCount(roundRobin.workload.operations),
            formatCount(roundRobin.workload.operationsPerSecond),
            formatMs(roundRobin.workload.p50Ms),
            formatMs(roundRobin.workload.p99Ms),
            goalCell(peaks.peakRss <= RSS_GOAL, formatMegabytes(peaks.peakRss)),
            goalCell(peaks.peakBackends <= MAX_CONNECTIONS, String(peaks.peakBackends)),
            formatCount(result.openTenantsAtEnd),
          ],
        ],
        [true, true, true, true, true, true, true],
      ),
      "",
      `Every one of the ${formatCount(roundRobin.tenantsTouched)} tenants read returned its own schema's row ` +
        "(a wrong row fails the run). Goals: peak RSS ≤ 300 MB, backends ≤ 20.",
      SCALE_END,
    ].join("\n");
    console.log(section);
    let document = await readFile(BENCHMARKS_FILE, "utf8").catch(() => "# Benchmarks\n");
    const previous = scaleSectionOf(document);
    document = previous
      ? document.replace(previous, section)
      : `${document.trimEnd()}\n\n${section}\n`;
    const prettier = await import("prettier");
    const config = await prettier.resolveConfig(BENCHMARKS_FILE);
    await writeFile(
      BENCHMARKS_FILE,
      await prettier.format(document, { ...config, filepath: BENCHMARKS_FILE }),
    );
    console.log(`Written to ${BENCHMARKS_FILE} (total ${formatMs(Date.now() - started)})`);
  } finally {
    const dropStarted = Date.now();
    await databases.dropAll();
    console.log(`dropped the scale database in ${formatMs(Date.now() - dropStarted)}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
