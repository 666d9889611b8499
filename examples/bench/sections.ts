import type { ColdTenantRequest, ColdTenantResult } from "./cold-tenant";
import type { HeapPerTenantRow } from "./heap-per-tenant";
import type { ManyTenantsResult, MeasuredWorkload } from "./many-tenants";
import type { MigrateManyRequest, MigrateManyResult } from "./migrate-many";
import type { NoOpScaleResult } from "./migrate-noop-scale";
import {
  formatCount,
  formatKilobytes,
  formatMegabytes,
  formatMs,
  goalCell,
  markdownTable,
} from "./report";

/** Goal of (b): round-robin latency at most this times the single-tenant latency. */
export const LATENCY_RATIO_GOAL = 1.2;
/** Issue 9: heap per open schema-per-tenant tenant, 30 entities. */
const HEAP_PER_TENANT_GOAL = 500;
/** Goal of (b): peak RSS of the serving process, in bytes (300 MB). */
export const PEAK_RSS_GOAL = 300e6;
/** Goal of (d): a no-op migrate over the tenant schemas takes "about a second"; met up to this. */
export const NO_OP_MIGRATE_GOAL_MS = 300;
/** Issue 9: a no-op migrate over 10,000 schemas, and a real one ÷ the hand-rolled loop. */
const NO_OP_10K_GOAL_MS = 2000;
const HAND_ROLLED_RATIO_GOAL = 1;

/** What (b) ran: the database it built and the runs (one process each). */
export interface ManyTenantsSectionProps {
  readonly tenants: number;
  readonly maxConnections: number;
  /** How long creating the tenant schemas took, in ms. */
  readonly setupMs: number;
  /** The run with the bounded pool (every round-robin read finds its tenant closed). */
  readonly bounded: ManyTenantsResult;
  /** The run whose pool holds every tenant, measured on its second pass. */
  readonly allOpen: ManyTenantsResult | undefined;
}

/** (b) as a Markdown section. */
export function manyTenantsSection(props: ManyTenantsSectionProps): string {
  const { bounded, allOpen } = props;
  const rows: string[][] = [];
  const addRun = (run: ManyTenantsResult, label: string) => {
    const baseline = run.baseline!;
    rows.push(workloadRow(`single tenant (baseline for the row below)`, 1, baseline));
    const roundRobin = run.roundRobin;
    const p50Ratio = roundRobin.workload.p50Ms / baseline.workload.p50Ms;
    const p99Ratio = roundRobin.workload.p99Ms / baseline.workload.p99Ms;
    rows.push(
      workloadRow(label, run.request.maxOpenTenants, roundRobin, {
        p50: goalCell(p50Ratio <= LATENCY_RATIO_GOAL, `${p50Ratio.toFixed(2)}×`),
        p99: goalCell(p99Ratio <= LATENCY_RATIO_GOAL, `${p99Ratio.toFixed(2)}×`),
        rss: goalCell(
          roundRobin.peaks.peakRss <= PEAK_RSS_GOAL,
          formatMegabytes(roundRobin.peaks.peakRss),
        ),
        backends: goalCell(
          roundRobin.peaks.peakBackends <= props.maxConnections,
          String(roundRobin.peaks.peakBackends),
        ),
      }),
    );
  };
  const tenants = formatCount(props.tenants);
  addRun(bounded, `round robin over all ${tenants} tenants`);
  if (allOpen) addRun(allOpen, `round robin over all ${tenants} tenants, second pass`);
  const request = bounded.request;
  return [
    `## (b) ${tenants} tenants over a ${props.maxConnections}-connection cap`,
    "",
    `One PostgreSQL database with ${tenants} schemas, each holding one small table ` +
      `(\`bench_item\`, ${request.rowsPerTenant} rows; created in ${formatMs(props.setupMs)} ` +
      `with one SQL batch per 500 schemas). One process serves it through ` +
      `\`schemaPerTenant({ maxConnections: ${props.maxConnections} })\`: ` +
      `${formatCount(request.reads)} primary-key reads (\`findOneBy\` inside \`withTenant\`), ` +
      `${request.concurrency} at a time (closed loop), either all on one tenant (the baseline) ` +
      `or round robin over every tenant; each read checks that its row names its tenant. ` +
      `Goals: round-robin latency ≤ ${LATENCY_RATIO_GOAL}× the baseline's (the design's old goal: ` +
      `the floor itself pays more for round robin, so issue 9 measures it against the floor ` +
      `in (f)), peak RSS ≤ ` +
      `${formatMegabytes(PEAK_RSS_GOAL)}, peak backends ≤ the cap (pg_stat_activity for the ` +
      `database, sampled every 20 ms from another connection). Each pair of rows is one ` +
      `fresh process; RSS is the whole process's. CPU per read is this process's CPU time, ` +
      `and the database backends' (read from /proc, the server being local), divided by ` +
      `the reads: it shows on which side a slower workload spends its extra time.`,
    "",
    markdownTable(
      [
        "workload",
        "pool.maxOpenTenants",
        "reads/s",
        "p50",
        "p99",
        "p50 vs baseline",
        "p99 vs baseline",
        "peak RSS",
        "peak backends",
        "CPU per read: Node / PostgreSQL",
      ],
      rows,
      [false, true, true, true, true, true, true, true, true, true],
    ),
    "",
    `With \`maxOpenTenants: ${formatCount(bounded.request.maxOpenTenants)}\` and a round robin ` +
      `over ${tenants} tenants, the least recently used tenant is always the one needed next, ` +
      `so every read opens its tenant (a scoped view of the one shared DataSource: no ` +
      `metadata, no startup query) and evicts another.` +
      (allOpen
        ? ` The second pair holds every tenant open (\`maxOpenTenants: ` +
          `${formatCount(allOpen.request.maxOpenTenants)}\`) and measures the pass after ` +
          `the one that opened them all.`
        : ""),
  ].join("\n");
}

function workloadRow(
  label: string,
  maxOpen: number,
  measured: MeasuredWorkload,
  goals?: { p50: string; p99: string; rss: string; backends: string },
): string[] {
  const { workload, peaks } = measured;
  return [
    label,
    formatCount(maxOpen),
    formatCount(workload.operationsPerSecond),
    formatMs(workload.p50Ms),
    formatMs(workload.p99Ms),
    goals?.p50 ?? "—",
    goals?.p99 ?? "—",
    goals?.rss ?? formatMegabytes(peaks.peakRss),
    goals?.backends ?? String(peaks.peakBackends),
    `${measured.cpuMsPerRead.toFixed(3)} / ${measured.serverCpuMsPerRead?.toFixed(3) ?? "n/a"} ms`,
  ];
}

/** (c) as a Markdown section. */
export function coldTenantSection(request: ColdTenantRequest, result: ColdTenantResult): string {
  return [
    "## (c) First request for a cold tenant",
    "",
    `The first \`findOneBy\` of a tenant whose DataSource is not open, in a fresh process ` +
      `on the database of (b) (${formatCount(request.tenants)} schemas, schema-per-tenant, ` +
      `cap ${request.maxConnections}), one tenant at a time, after ${request.warmup} untimed ` +
      `cold tenants: it opens the tenant (a scoped view of the one DataSource every schema ` +
      `shares: no metadata is built, no startup query is sent) and reads one row, the ` +
      `server touching that schema for the first time on that connection. (f) sets this ` +
      `against the raw \`pg\` floor's own first touch. The warm column is the same read ` +
      `right after, on the now-open tenant.`,
    "",
    markdownTable(
      ["cold tenants timed", "cold median", "cold p90", "warm read median"],
      [
        [
          formatCount(result.samples),
          formatMs(result.coldMedianMs),
          formatMs(result.coldP90Ms),
          formatMs(result.warmMedianMs),
        ],
      ],
      [true, true, true, true],
    ),
  ].join("\n");
}

/** (d) as a Markdown section. */
export function migrateSection(
  request: MigrateManyRequest,
  result: MigrateManyResult,
  scale?: NoOpScaleResult | { readonly failed: string },
): string {
  const atScale = scale && "failed" in scale ? undefined : scale;
  const scaleFailed = scale && "failed" in scale ? scale.failed : undefined;
  const [low, high] = result.real;
  const handRatio = high.durationMs / result.handRolled.durationMs;
  const speedUp = low.durationMs / high.durationMs;
  const row = (
    label: string,
    run: { tenants: number; concurrency: number; durationMs: number },
  ) => [
    label,
    formatCount(run.tenants),
    String(run.concurrency),
    formatMs(run.durationMs),
    formatMs(run.durationMs / run.tenants),
  ];
  return [
    `## (d) Migrating ${formatCount(result.tenants)} tenant schemas`,
    "",
    `${formatCount(result.tenants)} empty schemas in one PostgreSQL database, ` +
      `\`schemaPerTenant({ maxConnections: ${request.maxConnections} })\`, three raw-SQL ` +
      `tenant migrations (create a table, add a column, create an index). Each real run ` +
      `migrates its own ${formatCount(request.realTenants)} schemas (one transaction per ` +
      `migration, an advisory lock per schema); every report is checked, and afterwards each ` +
      `schema holds the table and index while \`public\` holds neither. The no-op run is ` +
      `\`router.migrate()\` on a fresh router once every schema is up to date (state read in ` +
      `bulk; it opens no tenant DataSource, which is checked).`,
    "",
    markdownTable(
      ["run", "tenants", "concurrency", "time", "per tenant"],
      [
        row(`real migrate, ${low.migrations} migrations each`, low),
        row(`real migrate, ${high.migrations} migrations each`, high),
        row(
          "hand-rolled loop: a DataSource per schema (search_path on its connection), `runMigrations()`",
          result.handRolled,
        ),
        row("real migrate of the remaining schemas (setup for the no-op run)", result.rest),
        [
          `no-op \`router.migrate()\` (median of ${result.noOpRunsMs.length}: ` +
            `${result.noOpRunsMs.map((ms) => formatMs(ms)).join(", ")})`,
          formatCount(result.tenants),
          "—",
          goalCell(result.noOpMedianMs <= NO_OP_MIGRATE_GOAL_MS, formatMs(result.noOpMedianMs)),
          formatMs(result.noOpMedianMs / result.tenants),
        ],
        ...(atScale
          ? [
              [
                `no-op \`router.migrate()\` (median of ${atScale.runsMs.length}: ` +
                  `${atScale.runsMs.map((ms) => formatMs(ms)).join(", ")})`,
                formatCount(atScale.tenants),
                "—",
                goalCell(atScale.medianMs <= NO_OP_10K_GOAL_MS, formatMs(atScale.medianMs)),
                formatMs(atScale.medianMs / atScale.tenants),
              ],
            ]
          : []),
      ],
      [false, true, true, true, true],
    ),
    "",
    `Speed-up of concurrency ${high.concurrency} over ${low.concurrency}: ` +
      `**${speedUp.toFixed(2)}×** (no numeric goal; bounded by the machine's cores and the ` +
      `connection cap). Real migrate at concurrency ${high.concurrency} ÷ the hand-rolled loop at the ` +
      `same concurrency (run right before it, on its own schemas): ` +
      goalCell(
        handRatio <= HAND_ROLLED_RATIO_GOAL,
        `**${handRatio.toFixed(2)}×**, goal ≤ ${HAND_ROLLED_RATIO_GOAL.toFixed(1)}×`,
      ) +
      ` (one run each). No-op goals: ≤ ${formatMs(NO_OP_MIGRATE_GOAL_MS)} for 1,000 schemas, ` +
      `≤ ${formatMs(NO_OP_10K_GOAL_MS)} for 10,000.` +
      (atScale
        ? ` The ${formatCount(atScale.tenants)}-schema no-op runs on the database of (b) and (f), ` +
          `its migration records copied into every schema in SQL (${formatMs(atScale.setupMs)}).`
        : "") +
      (scaleFailed ? ` The no-op over the schemas of (b) **FAILED**: ${scaleFailed}` : ""),
  ].join("\n");
}

/** (e) as a Markdown section. */
export function heapSection(rows: readonly HeapPerTenantRow[]): string {
  const first = rows[0]?.withSharing;
  const schemaRow = rows.find((row) => row.driver === "postgres");
  const table = markdownTable(
    [
      "tenant storage",
      "metadata sets",
      "heap per open tenant, sharing off",
      "sharing on",
      "change",
      "open (median), off → on",
    ],
    rows.map((row) => [
      row.storage,
      row.withSharing.metadataShared ? "one, shared" : "one per tenant (schema baked in)",
      formatKilobytes(row.withoutSharing.heapPerTenant),
      formatKilobytes(row.withSharing.heapPerTenant),
      `${((row.withSharing.heapPerTenant / row.withoutSharing.heapPerTenant - 1) * 100).toFixed(0)}%` +
        (row.withSharing.metadataShared ? "" : " (not shared: noise)"),
      `${formatMs(row.withoutSharing.openMsMedian)} → ${formatMs(row.withSharing.openMsMedian)}`,
    ]),
    [false, false, true, true, true, true],
  );
  return [
    "## (e) Heap per open tenant",
    "",
    `${first?.entities ?? 30} entities (${first?.metadataPerDataSource ?? "?"} entity ` +
      `metadata objects per DataSource with the junction and closure tables: relations of ` +
      `every kind, indexes, uniques), opened through one TenantRouter in a fresh ` +
      `\`node --expose-gc\` process per row and setting; heap used after a forced GC with ` +
      `${first?.from ?? "?"} and with ${first?.to ?? "?"} tenants open, the difference ` +
      `divided by ${first ? first.to - first.from : "?"}` +
      (schemaRow
        ? ` (schema per tenant: ${formatCount(schemaRow.withSharing.from)} and ` +
          `${formatCount(schemaRow.withSharing.to)}, a tenant costing far less than the steps ` +
          `in which hash tables grow)`
        : "") +
      `. "Sharing off" sets ` +
      `\`TYPEORM_ROUTER_SHARED_METADATA=off\`: every tenant DataSource builds its own ` +
      `entity metadata, as before metadata sharing.`,
    "",
    table,
    "",
    "Database-per-tenant DataSources reuse the entity metadata the router builds once at " +
      "bootstrap (lib/pool/shared-metadata.ts). Schema-per-tenant has one DataSource and one " +
      "metadata set for every schema whatever the setting (a placeholder schema replaced " +
      "per statement); an open tenant is a scoped view and its pool entry. " +
      goalCell(
        (schemaRow?.withSharing.heapPerTenant ?? Infinity) <= HEAP_PER_TENANT_GOAL,
        `Goal (issue 9): ≤ ${formatKilobytes(HEAP_PER_TENANT_GOAL)} per open schema tenant, ` +
          `measured ${schemaRow ? formatKilobytes(schemaRow.withSharing.heapPerTenant) : "—"}`,
      ) +
      ".",
  ].join("\n");
}
