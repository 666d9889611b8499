import type { DataSourceOptions } from "typeorm";
import { BENCH_TENANT, openBenchTargets } from "./bench-targets";
import { compare, type MeasureSettings } from "./measure";
import { controlLine, resultsTable, type ControlResult, type ResultRow } from "./report";
import { buildScenarios } from "./scenarios";
import type { TemporaryDatabases } from "./temporary-databases";

/** DESIGN.md: a routed call costs at most 3% more than the same call on a plain DataSource. */
// Issue 9: routed ÷ plain TypeORM ≤ 1.02 per request, one withTenant per request.
const POSTGRES_TARGET = 1.02;

/** How long (a) runs per operation, and how many rows it seeds. */
export interface RoutedVsPlainSettings extends MeasureSettings {
  readonly seedRows: number;
}

/** One driver to measure: three separate databases of it (plain, routed, control). */
interface DriverPlan {
  readonly driver: string;
  readonly plain: DataSourceOptions;
  readonly routed: DataSourceOptions;
  readonly control: DataSourceOptions;
  readonly target: number | undefined;
}

/** What one driver gave. */
interface DriverResult {
  readonly rows: ResultRow[];
  readonly control: ControlResult;
}

/** What (a) measured: one row per operation and driver, and the A/A controls. */
export interface RoutedVsPlainResult {
  readonly rows: readonly ResultRow[];
  readonly controls: readonly ControlResult[];
  /** Why the PostgreSQL rows are missing, when they are. */
  readonly skipped?: string;
}

/**
 * Measures every scenario on one driver, then the A/A control, and checks afterwards that
 * each side wrote only its own database.
 */
async function benchDriver(
  plan: DriverPlan,
  settings: RoutedVsPlainSettings,
  log: (line: string) => void,
): Promise<DriverResult> {
  const targets = await openBenchTargets({
    plain: plan.plain,
    routed: plan.routed,
    control: plan.control,
    seedRows: settings.seedRows,
  });
  try {
    const set = buildScenarios({
      plain: targets.plain,
      router: targets.router,
      control: targets.control,
      tenant: BENCH_TENANT,
      seededRows: settings.seedRows,
    });
    const rows: ResultRow[] = [];
    for (const scenario of set.scenarios) {
      const comparison = await compare(scenario.plain, scenario.routed, settings);
      log(
        `  ${plan.driver} | ${scenario.operation}: ratio ${comparison.ratio.toFixed(3)} ` +
          `(${comparison.rounds} rounds × ${comparison.batchSize} ops per side)`,
      );
      rows.push({
        operation: scenario.operation,
        driver: plan.driver,
        comparison,
        target: plan.target,
      });
    }
    const control: ControlResult = {
      operation: set.control.operation,
      driver: plan.driver,
      comparison: await compare(set.control.plain, set.control.control, settings),
    };
    log(`  ${plan.driver} | A/A control: ratio ${control.comparison.ratio.toFixed(3)}`);
    await set.verifyRowCounts();
    return { rows, control };
  } finally {
    await targets.close();
  }
}

/**
 * (a) Routed vs plain TypeORM: the routed/plain ratios of `findOneBy`, `save` and a
 * transaction on in-memory SQLite and, when `postgres` is given, on three temporary
 * PostgreSQL databases (plain, routed, control) created through `databases`.
 */
export async function runRoutedVsPlain(
  settings: RoutedVsPlainSettings,
  postgres: { readonly databases: TemporaryDatabases; readonly version: string } | string,
  log: (line: string) => void,
): Promise<RoutedVsPlainResult> {
  const sqlite = await benchDriver(
    {
      driver: "SQLite :memory:",
      plain: { type: "better-sqlite3", database: ":memory:" },
      routed: { type: "better-sqlite3", database: ":memory:" },
      control: { type: "better-sqlite3", database: ":memory:" },
      target: undefined,
    },
    settings,
    log,
  );
  if (typeof postgres === "string") {
    return { rows: sqlite.rows, controls: [sqlite.control], skipped: postgres };
  }
  // The same on all sides: without waiting for the disk flush on every commit, a write
  // costs less, so the router's share of it shows more (a stricter ratio, and far less
  // noise from a disk shared with other processes).
  const created: string[] = [];
  for (const label of ["plain", "routed", "control"]) {
    created.push(await postgres.databases.create(label, { synchronousCommit: false }));
  }
  const [plainUrl, routedUrl, controlUrl] = created;
  const pg = await benchDriver(
    {
      driver: `PostgreSQL ${postgres.version}`,
      plain: { type: "postgres", url: plainUrl },
      routed: { type: "postgres", url: routedUrl },
      control: { type: "postgres", url: controlUrl },
      target: POSTGRES_TARGET,
    },
    settings,
    log,
  );
  return { rows: [...sqlite.rows, ...pg.rows], controls: [sqlite.control, pg.control] };
}

/** (a) as a Markdown section: the table, how to read it, and the noise floor. */
export function routedVsPlainSection(
  result: RoutedVsPlainResult,
  settings: RoutedVsPlainSettings,
): string {
  return [
    "## (a) Routed vs plain TypeORM, per operation",
    "",
    `Goal: ratio ≤ ${POSTGRES_TARGET} on PostgreSQL (DESIGN.md). Per operation: ` +
      `${settings.warmupMs} ms warm-up per side, then ${settings.measureMs / 1000} s of ` +
      `~${settings.batchMs} ms batch pairs; ${settings.seedRows} seeded rows.`,
    "",
    resultsTable(result.rows),
    "",
    ...(result.skipped ? [result.skipped, ""] : []),
    "ratio = routed time per operation / plain time per operation in one round (a plain and " +
      "a routed batch, their order alternating); the median over rounds, with its 95% " +
      "confidence interval. The routed side runs each batch inside one withTenant(). " +
      "PostgreSQL databases run with synchronous_commit=off on every side.",
    "",
    "Noise floor (A/A: the plain DataSource against a second plain DataSource on its own " +
      "database, measured the same way):",
    "",
    ...result.controls.map((control) => `- ${controlLine(control)}`),
    "",
    "Both sides share one process, where the router's AsyncLocalStorage is enabled: on " +
      "Node 20 its promise hooks slow every promise, the plain side's too, so that " +
      "process-wide cost is not in the ratio.",
  ].join("\n");
}
