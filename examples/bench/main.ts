import "reflect-metadata";
import os from "node:os";
import type { DataSourceOptions } from "typeorm";
import { BENCH_TENANT, openBenchTargets } from "./bench-targets";
import { compare, type MeasureSettings } from "./measure";
import {
  controlLine,
  machineDescription,
  resultsTable,
  type ControlResult,
  type ResultRow,
} from "./report";
import { buildScenarios } from "./scenarios";
import { probePostgres, TemporaryDatabases } from "./temporary-databases";

/** The PostgreSQL server to use (trust auth on the project's machines), as the specs read it. */
const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** DESIGN.md: a routed call costs at most 3% more than the same call on a plain DataSource. */
const POSTGRES_TARGET = 1.03;

/** How long the bench runs: about 85 s in full, about 15 s with BENCH_QUICK=1. */
interface BenchSettings extends MeasureSettings {
  readonly mode: "full" | "quick";
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

function settingsFromEnvironment(): BenchSettings {
  const quick = process.env.BENCH_QUICK === "1";
  return quick
    ? { mode: "quick", warmupMs: 200, batchMs: 2, measureMs: 1200, minRounds: 50, seedRows: 1000 }
    : { mode: "full", warmupMs: 1000, batchMs: 2, measureMs: 8000, minRounds: 200, seedRows: 1000 };
}

/**
 * Measures every scenario on one driver, then the A/A control, and checks afterwards that
 * each side wrote only its own database.
 */
async function benchDriver(
  plan: DriverPlan,
  settings: BenchSettings,
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

/** The PostgreSQL results, or why there are none; the temporary databases are always dropped. */
async function benchPostgres(
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<DriverResult | { skipped: string }> {
  const probe = await probePostgres(PG_URL);
  if (!probe.reachable) {
    return {
      skipped:
        `PostgreSQL rows skipped: the server at ${new URL(PG_URL).host} could not be used ` +
        `(${probe.reason}). Start it or set PG_URL.`,
    };
  }
  const databases = new TemporaryDatabases(PG_URL);
  const stopListening = dropOnSignal(databases);
  let result: DriverResult;
  try {
    // The same on all sides: without waiting for the disk flush on every commit, a write
    // costs less, so the router's share of it shows more (a stricter ratio, and far less
    // noise from a disk shared with other processes).
    const created: string[] = [];
    for (const label of ["plain", "routed", "control"]) {
      created.push(await databases.create(label, { synchronousCommit: false }));
    }
    const [plainUrl, routedUrl, controlUrl] = created;
    log(`PostgreSQL ${probe.version}: temporary databases created`);
    result = await benchDriver(
      {
        driver: `PostgreSQL ${probe.version}`,
        plain: { type: "postgres", url: plainUrl },
        routed: { type: "postgres", url: routedUrl },
        control: { type: "postgres", url: controlUrl },
        target: POSTGRES_TARGET,
      },
      settings,
      log,
    );
  } catch (error) {
    stopListening();
    // Report a failed cleanup, but do not hide the error that brought us here behind it.
    await databases
      .dropAll()
      .catch((dropError: unknown) =>
        console.error("dropping the temporary PostgreSQL databases failed too:", dropError),
      );
    throw error;
  }
  stopListening();
  await databases.dropAll();
  log("PostgreSQL: temporary databases dropped");
  return result;
}

/**
 * Runs the benchmark: routed/plain ratios of `findOneBy`, `save` and a transaction on
 * in-memory SQLite and on PostgreSQL (skipped, with the reason, when it is not reachable),
 * then prints a Markdown table and the machine. A missed target is reported, not an error.
 */
export async function runBench(log: (line: string) => void = console.log): Promise<ResultRow[]> {
  const settings = settingsFromEnvironment();
  log(
    `# typeorm-router bench (${settings.mode}: per operation, ${settings.warmupMs} ms warm-up ` +
      `per side, then ${settings.measureMs / 1000} s of ~${settings.batchMs} ms batch pairs; ` +
      `${settings.seedRows} seeded rows)`,
  );
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
  const postgres = await benchPostgres(settings, log);
  const results = "skipped" in postgres ? [sqlite] : [sqlite, postgres];
  const rows = results.flatMap((result) => result.rows);

  log("");
  log(resultsTable(rows));
  log("");
  if ("skipped" in postgres) log(postgres.skipped);
  log(
    "ratio = routed time per operation / plain time per operation in one round (a plain and " +
      "a routed batch, their order alternating); the median over rounds, with its 95% " +
      "confidence interval. The routed side runs each batch inside one withTenant(). " +
      "PostgreSQL databases run with synchronous_commit=off on every side.",
  );
  log(
    "Noise floor (A/A: the plain DataSource against a second plain DataSource on its own " +
      "database, measured the same way):",
  );
  for (const result of results) log(`- ${controlLine(result.control)}`);
  log(
    "Both sides share one process, where the router's AsyncLocalStorage is enabled: on " +
      "Node 20 its promise hooks slow every promise, the plain side's too, so that " +
      "process-wide cost is not in the ratio.",
  );
  log(`Machine: ${machineDescription()}`);
  return rows;
}

if (require.main === module) {
  runBench().catch((error: unknown) => {
    if (interruptedBy) return;
    console.error(error);
    process.exitCode = 1;
  });
}
