import type { DataSource, QueryRunner } from "typeorm";
import type { DatabaseTarget } from "../routing/database-target";
import {
  ConfigurationError,
  MigrationFailedError,
  MigrationInterruptedError,
  MigrationLockedError,
  toRoutingError,
  type MigrationCommand,
  type RoutingError,
} from "../errors";
import { dialectFor } from "../dialects";
import type { ChannelLog } from "../observability/router-log";
import { span } from "../observability/tracing";
import { instrumentQueryRunner } from "./instrumented-query-runner";
import { acquireMigrationMutex } from "./migration-mutex";
import type { Migration } from "./migration-set";
import type { MigrationTable } from "./migration-table";
import { MigrationClaims, claimAlive, type MigrationClaim } from "./migration-claims";
import {
  labelOf,
  type DatabaseLabel,
  type DatabaseMigrationResult,
  type MigrationName,
} from "./migration-report";

/** One migration group as it applies to one database. */
export interface GroupPlan {
  readonly group: string;
  readonly table: MigrationTable;
  readonly migrations: readonly Migration[];
}

/** Everything needed to work on one database's migrations. */
export interface DatabaseWork {
  readonly target: DatabaseTarget;
  readonly dataSource: DataSource;
  /** The groups `allowMigrate` allows on this database. */
  readonly groups: readonly GroupPlan[];
  /** What the migration lock is scoped to inside the database (e.g. the schema). */
  readonly lockScope: string;
  readonly lockTimeoutMs: number;
  /** Checks a DDL helper call made by `migration`; throws to refuse it. */
  readonly guard: (migration: Migration, method: string, table: string) => void;
  /** Scopes each migration transaction to the database's tenant (schema-per-tenant). */
  readonly scope?: (queryRunner: QueryRunner) => Promise<void>;
  /** How `scope` reaches the tenant, for messages (the strategy's `scopeDescription`). */
  readonly scopeDescription?: string;
  /** The command doing the work, so failures advise running that one again. Default migrate. */
  readonly command?: MigrationCommand;
  /** The `migrate` channel of the router's logs (lock waits). */
  readonly log?: ChannelLog;
  /**
   * The applied migrations per migrations table, read (in bulk, for many tenants) just before
   * this run: `migrate` starts from them instead of reading the state again. A table absent
   * from the map does not exist. Every migration is still checked under the lock before it
   * runs, so a stale entry never applies a migration twice.
   */
  readonly appliedBefore?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** How `migrate` runs. */
export interface MigrateMode {
  /** Record every statement inside a transaction, then roll it back. */
  readonly dryRun: boolean;
  /** Record pending migrations as applied without running them. */
  readonly fake: boolean;
  /** One transaction per migration (`each`) or per database (`all`). */
  readonly transaction: "each" | "all";
  /**
   * What to do with an interrupted `transaction = false` migration (claimed by a migrator
   * that died): report it (default), run it again, or record it as applied without running.
   */
  readonly resolveInterrupted?: "retry" | "mark-applied";
}

/** Applied and pending migrations of one group in one database. */
export interface GroupStatus {
  readonly group: string;
  /** The group's migrations table. */
  readonly table: string;
  readonly applied: readonly string[];
  readonly pending: readonly string[];
  /** Recorded as applied but not in the code any more. */
  readonly unknown: readonly string[];
  /**
   * Pending `transaction = false` migrations that a migrator claimed and never completed:
   * still running, or interrupted (`migrate` reports which, and how to resolve it).
   */
  readonly claimed: readonly MigrationClaim[];
}

/** Status of one database. */
export interface DatabaseStatus {
  readonly database: DatabaseLabel;
  readonly groups: readonly GroupStatus[];
  readonly error?: RoutingError;
}

interface GroupState {
  readonly plan: GroupPlan;
  /** Whether the group's migrations table exists. */
  readonly exists: boolean;
  readonly applied: ReadonlySet<string>;
  readonly pending: readonly Migration[];
}

/**
 * Applies the pending migrations of one database. Every transaction takes the database's
 * migration lock and re-reads what is applied under it, so two migrators (in any processes)
 * apply each migration exactly once.
 */
export async function migrateDatabase(
  work: DatabaseWork,
  mode: MigrateMode,
): Promise<DatabaseMigrationResult> {
  const startedAt = Date.now();
  const progress: Progress = { pending: [], applied: [] };
  try {
    return await withRunner(work, async (plain) => {
      progress.pending = pendingOf(
        work.appliedBefore
          ? statesFrom(work.appliedBefore, work.groups)
          : await readStates(plain, work.groups),
      );
      if (progress.pending.length === 0) return result(work, "up-to-date", startedAt, [], []);
      const transactionalDdl = dialectFor(work.dataSource).transactionalDdl;
      if (!transactionalDdl && !mode.fake && (mode.dryRun || mode.transaction === "all")) {
        throw nonTransactionalRefusal(work, mode.dryRun ? "dryRun" : "all");
      }
      const sql: string[] = [];
      const steps = migrationSteps(plain, work, mode, sql);
      if (mode.dryRun || mode.transaction === "all" || mode.fake) {
        const ran = await migrateInOneTransaction(steps, work, mode, progress.pending);
        if (mode.dryRun) return result(work, "dry-run", startedAt, [], ran, sql);
        progress.applied.push(...ran);
      } else {
        await migrateEachInItsOwn(steps, work, progress, transactionalDdl, mode);
      }
      const outcome = progress.applied.length > 0 ? "migrated" : "up-to-date";
      return result(work, outcome, startedAt, progress.applied, []);
    });
  } catch (error) {
    const remaining = progress.pending.filter((m) => !progress.applied.includes(m));
    return {
      ...result(work, "failed", startedAt, progress.applied, remaining),
      error: asRoutingError(error, work),
    };
  }
}

// What a migrate run has read and done so far, for the result of a failed run.
interface Progress {
  pending: readonly Migration[];
  readonly applied: Migration[];
}

// Runs migrations on one connection: each DDL helper call is guarded, and (dry run) every
// statement recorded.
interface MigrationSteps {
  readonly queryRunner: QueryRunner;
  /** The migration running now, if any. */
  readonly current: () => Migration | undefined;
  readonly tableOf: (migration: Migration) => MigrationTable;
  /**
   * Runs `migration` (unless faking) and records it as applied. `tableMissing`: its group's
   * migrations table was just read as missing under the lock, in this transaction.
   */
  readonly runOne: (migration: Migration, tableMissing?: boolean) => Promise<void>;
}

function migrationSteps(
  plain: QueryRunner,
  work: DatabaseWork,
  mode: MigrateMode,
  sql: string[],
): MigrationSteps {
  let current: Migration | undefined;
  const queryRunner = instrumentQueryRunner(plain, {
    beforeDdl: (method, table) => {
      if (current) work.guard(current, method, table);
    },
    onStatement: mode.dryRun ? (statement) => sql.push(statement) : undefined,
  });
  const tableOf = (migration: Migration) =>
    work.groups.find((g) => g.group === migration.group)!.table;
  return {
    queryRunner,
    current: () => current,
    tableOf,
    runOne: async (migration, tableMissing = false) => {
      current = migration;
      await tableOf(migration).ensure(queryRunner, tableMissing);
      if (!mode.fake) await migration.instance.up(queryRunner);
      await tableOf(migration).record(queryRunner, migration);
      current = undefined;
    },
  };
}

// transaction: "all", dryRun and fake: every pending migration in one locked transaction
// (rolled back at the end of a dry run). Returns the migrations it ran.
async function migrateInOneTransaction(
  steps: MigrationSteps,
  work: DatabaseWork,
  mode: MigrateMode,
  pending: readonly Migration[],
): Promise<Migration[]> {
  const outsideTransaction = pending.find((m) => m.instance.transaction === false);
  if (outsideTransaction && !mode.dryRun && !mode.fake) {
    throw MigrationFailedError.invalid(
      `Migration "${outsideTransaction.name}" sets transaction = false, which transaction: "all" cannot honour`,
      work.target.description,
      'Run migrate with transaction: "each".',
    );
  }
  let ran: Migration[] = [];
  await inLockedTransaction(
    steps.queryRunner,
    work,
    () => steps.current() ?? pending[0],
    "Nothing was changed on this database.",
    async () => {
      const states = await readStates(steps.queryRunner, work.groups);
      ran = pendingOf(states);
      const missing = new Set(states.filter((s) => !s.exists).map((s) => s.plan.group));
      for (const migration of ran) await steps.runOne(migration, missing.has(migration.group));
      if (mode.dryRun) throw DRY_RUN;
    },
  ).catch((error: unknown) => {
    if (error !== DRY_RUN) throw error;
  });
  return ran;
}

// transaction: "each": one locked transaction per migration (none for transaction = false),
// skipping any that another migrator applied meanwhile. Appends to `progress.applied`.
async function migrateEachInItsOwn(
  steps: MigrationSteps,
  work: DatabaseWork,
  progress: Progress,
  transactionalDdl: boolean,
  mode: MigrateMode,
): Promise<void> {
  const { queryRunner, tableOf } = steps;
  const applied = progress.applied;
  for (const migration of progress.pending) {
    const rolledBack = !transactionalDdl
      ? `${PARTLY_APPLIED}${applied.length === 0 ? "" : ` The ${applied.length} migration(s) before it stay applied.`}`
      : applied.length === 0
        ? "It was rolled back; nothing was changed on this database."
        : `It was rolled back; the ${applied.length} migration(s) before it stay applied.`;
    let ran = false;
    // Another migrator may have applied it since the plan was read: skip it then.
    const runIfPending = async (run: (tableMissing: boolean) => Promise<void>) => {
      const applied = await tableOf(migration).read(queryRunner);
      if (applied?.some((row) => row.name === migration.name)) return;
      await run(applied === undefined);
      ran = true;
    };
    if (migration.instance.transaction === false) {
      await runOutsideTransaction(
        queryRunner,
        work,
        migration,
        tableOf(migration),
        runIfPending,
        () => migration.instance.up(queryRunner),
        mode.resolveInterrupted,
      );
    } else {
      await inLockedTransaction(
        queryRunner,
        work,
        () => migration,
        rolledBack,
        () => runIfPending((tableMissing) => steps.runOne(migration, tableMissing)),
      );
    }
    if (ran) applied.push(migration);
  }
}

/** Reverts the last `steps` migrations (or every one after `to`) of one database. */
export async function revertDatabase(
  work: DatabaseWork,
  options: { readonly steps?: number; readonly to?: string; readonly fake?: boolean },
): Promise<DatabaseMigrationResult> {
  const startedAt = Date.now();
  const reverted: Migration[] = [];
  try {
    return await withRunner(work, async (plain) => {
      const states = await readStates(plain, work.groups);
      const known = work.groups.flatMap((g) => g.migrations);
      const appliedNames = new Set(states.flatMap((state) => [...state.applied]));
      const applied = known
        .filter((m) => appliedNames.has(m.name))
        .sort(byTimestamp)
        .reverse();
      const unknown = [...appliedNames].filter((name) => !known.some((m) => m.name === name));
      let toRevert: Migration[];
      if (options.to !== undefined) {
        const index = applied.findIndex((m) => m.name === options.to);
        if (index < 0) {
          throw MigrationFailedError.invalid(
            `Cannot revert to "${options.to}": it is not an applied migration`,
            work.target.description,
            `Applied there, newest first: ${applied.map((m) => m.name).join(", ") || "(none)"}.`,
          );
        }
        toRevert = applied.slice(0, index);
      } else {
        const steps = options.steps ?? 1;
        if (steps > applied.length && unknown.length > 0) {
          throw MigrationFailedError.invalid(
            `Cannot revert ${steps} step(s): ${unknown.join(", ")} are recorded as applied but not in the code`,
            work.target.description,
            "Restore those migration classes to revert them. Nothing was reverted.",
          );
        }
        toRevert = applied.slice(0, steps);
      }
      let current: Migration | undefined;
      const queryRunner = instrumentQueryRunner(plain, {
        beforeDdl: (method, table) => {
          if (current) work.guard(current, method, table);
        },
      });
      const transactionalDdl = dialectFor(work.dataSource).transactionalDdl;
      for (const migration of toRevert) {
        const rolledBack = !transactionalDdl
          ? "Its DDL is not transactional, so its revert may be partly applied (it stays recorded " +
            "as applied): check that database and finish or undo it by hand."
          : reverted.length === 0
            ? "Its revert was rolled back; nothing was changed."
            : `Its revert was rolled back; the ${reverted.length} revert(s) before it stay.`;
        const table = work.groups.find((g) => g.group === migration.group)!.table;
        let ran = false;
        await inLockedTransaction(
          queryRunner,
          work,
          () => migration,
          rolledBack,
          async () => {
            // Another migrator may have reverted it meanwhile.
            if (!(await isApplied(queryRunner, table, migration))) return;
            current = migration;
            if (!options.fake) await migration.instance.down(queryRunner);
            await table.forget(queryRunner, migration.name);
            current = undefined;
            ran = true;
          },
        );
        if (ran) reverted.push(migration);
      }
      return result(work, "reverted", startedAt, reverted, []);
    });
  } catch (error) {
    return {
      ...result(work, "failed", startedAt, reverted, []),
      error: asRoutingError(error, work),
    };
  }
}

/** Reads applied, pending and unknown migrations of one database (no lock needed). */
export async function readStatus(work: DatabaseWork): Promise<DatabaseStatus> {
  const queryRunner = work.dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    const states = await readStates(queryRunner, work.groups);
    const groups: GroupStatus[] = [];
    for (const state of states) {
      // Only a pending transaction = false migration can be claimed: no extra read otherwise.
      const claims = state.pending.some((m) => m.instance.transaction === false)
        ? await new MigrationClaims(state.plan.table.name).read(queryRunner)
        : new Map<string, MigrationClaim>();
      groups.push({
        group: state.plan.group,
        table: state.plan.table.name,
        applied: state.plan.migrations.filter((m) => state.applied.has(m.name)).map((m) => m.name),
        pending: state.pending.map((m) => m.name),
        unknown: [...state.applied].filter(
          (name) => !state.plan.migrations.some((m) => m.name === name),
        ),
        claimed: state.pending.flatMap((m) => {
          const claim = claims.get(m.name);
          return claim ? [claim] : [];
        }),
      });
    }
    return { database: labelOf(work.target), groups };
  } catch (error) {
    return { database: labelOf(work.target), groups: [], error: asRoutingError(error, work) };
  } finally {
    await queryRunner.release();
  }
}

/**
 * What a failed migration left behind on a database whose DDL is not transactional (MySQL,
 * MariaDB): each CREATE/ALTER/DROP committed as it ran.
 */
export const PARTLY_APPLIED =
  "Its DDL is not transactional (each CREATE, ALTER or DROP commits), so it may be partly " +
  "applied: the statements before the failing one stay, and it is not recorded as applied. " +
  "Check that database and undo or finish them by hand before migrating again.";

// Thrown inside the dry-run transaction to roll it back after recording.
const DRY_RUN = Symbol("dry run");

// A connected query runner for the database, held while no other migrator of this process
// works on it. Locks across processes are taken per transaction (inLockedTransaction).
async function withRunner<T>(
  work: DatabaseWork,
  fn: (queryRunner: QueryRunner) => Promise<T>,
): Promise<T> {
  const release = await acquireMigrationMutex(
    `${String((work.dataSource.options as { url?: string }).url ?? work.dataSource.options.database)}|${work.target.key}`,
    work.lockTimeoutMs,
  );
  if (!release)
    throw MigrationLockedError.timedOut(work.target.description, work.lockTimeoutMs, work.command);
  const queryRunner = work.dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    // The driver's set-up around migrations, outside their transactions, as TypeORM's
    // MigrationExecutor does: SQLite turns foreign keys off, so that a table a migration
    // recreates (most ALTERs there) does not cascade-delete the rows that reference it.
    await queryRunner.beforeMigration();
    let result: T;
    try {
      result = await fn(queryRunner);
    } catch (error) {
      await queryRunner.afterMigration().catch(() => undefined); // the migration's error wins
      throw error;
    }
    await queryRunner.afterMigration();
    return result;
  } finally {
    await queryRunner.release();
    release();
  }
}

async function readStates(
  queryRunner: QueryRunner,
  groups: readonly GroupPlan[],
): Promise<GroupState[]> {
  const states: GroupState[] = [];
  for (const plan of groups) {
    const rows = await plan.table.read(queryRunner);
    states.push(stateOf(plan, rows !== undefined, new Set(rows?.map((row) => row.name))));
  }
  return states;
}

// The states of `groups` from applied names read earlier (DatabaseWork.appliedBefore).
function statesFrom(
  appliedBefore: ReadonlyMap<string, ReadonlySet<string>>,
  groups: readonly GroupPlan[],
): GroupState[] {
  return groups.map((plan) => {
    const applied = appliedBefore.get(plan.table.name);
    return stateOf(plan, applied !== undefined, applied ?? new Set());
  });
}

function stateOf(plan: GroupPlan, exists: boolean, applied: ReadonlySet<string>): GroupState {
  return { plan, exists, applied, pending: plan.migrations.filter((m) => !applied.has(m.name)) };
}

// One transaction holding the migration lock. Explicit rollback: `await using` would commit
// on a throw.
async function inLockedTransaction(
  queryRunner: QueryRunner,
  work: DatabaseWork,
  failing: () => Migration,
  rolledBack: string,
  fn: () => Promise<void>,
): Promise<void> {
  let locked = false;
  await queryRunner.startTransaction();
  try {
    await work.scope?.(queryRunner);
    await lock(queryRunner, work);
    locked = true;
    await fn();
    await queryRunner.commitTransaction();
  } catch (error) {
    if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction();
    // A session lock (MySQL GET_LOCK) outlives the transaction. If releasing it fails here the
    // connection is broken, and the server frees the lock with the session: the migration's
    // own error is the one to report.
    if (locked) await unlock(queryRunner, work).catch(() => undefined);
    if (error === DRY_RUN) throw error;
    throw toRoutingError(error, {
      migration: failing().name,
      database: work.target.description,
      rolledBack,
      command: work.command,
    });
  }
  await unlock(queryRunner, work);
}

function unlock(queryRunner: QueryRunner, work: DatabaseWork): Promise<void> {
  return dialectFor(work.dataSource).unlockMigrations(queryRunner, work.lockScope);
}

// MySQL and MariaDB commit every DDL statement: a rolled-back transaction cannot undo a
// migration, so neither a dry run nor one transaction for the whole set can keep its promise.
function nonTransactionalRefusal(work: DatabaseWork, mode: "dryRun" | "all"): ConfigurationError {
  const type = work.dataSource.options.type;
  return mode === "dryRun"
    ? ConfigurationError.invalid(
        `migrate({ dryRun: true }) on ${work.target.description}`,
        `${type} DDL is not transactional, so a dry run would apply the migrations for real; nothing was run`,
        "Dry-run against a test database instead (createTestDatabases or emptyDatabase from typeorm-router/testing), or run migrationStatus() to list what is pending.",
      )
    : ConfigurationError.invalid(
        `migrate({ transaction: "all" }) on ${work.target.description}`,
        `${type} DDL is not transactional, so one transaction cannot make the migration set all-or-nothing; nothing was run`,
        'Use transaction: "each" (the default): each migration is recorded right after it ran.',
      );
}

// A migration with transaction = false (e.g. CREATE INDEX CONCURRENTLY) cannot hold a
// transaction-scoped lock while it runs. It is claimed instead, under the lock, in a
// transaction of its own (owner, session, state "running"), so other migrators leave it alone;
// then it runs; then it is recorded and the claim removed, in one locked transaction. If it
// fails the claim is withdrawn. A claim found later whose migrator is gone means the run was
// interrupted (kill -9, a crash): reported as such, resolved only as the user decides.
async function runOutsideTransaction(
  queryRunner: QueryRunner,
  work: DatabaseWork,
  migration: Migration,
  table: MigrationTable,
  runIfPending: (run: (tableMissing: boolean) => Promise<void>) => Promise<void>,
  up: () => Promise<unknown>,
  resolveInterrupted: MigrateMode["resolveInterrupted"],
): Promise<void> {
  if (work.scope) {
    throw MigrationFailedError.invalid(
      `Migration "${migration.name}" sets transaction = false, but ${work.target.description} is ${work.scopeDescription ?? "scoped to its tenant inside each transaction"}, which needs a transaction`,
      work.target.description,
      "Remove transaction = false, or qualify every table name in it with the schema.",
    );
  }
  const claims = new MigrationClaims(table.name);
  let claimed = false;
  await inLockedTransaction(
    queryRunner,
    work,
    () => migration,
    "Nothing was changed.",
    () =>
      runIfPending(async (tableMissing) => {
        const claim = (await claims.read(queryRunner)).get(migration.name);
        if (claim) {
          // A claim whose migrator cannot be checked (another host) is reported like an
          // interrupted one: only the user can tell, and resolve it.
          if ((await claimAlive(queryRunner, claim)) === true) {
            throw MigrationLockedError.running(
              migration.name,
              work.target.description,
              claim.owner,
            );
          }
          if (resolveInterrupted === undefined) {
            throw MigrationInterruptedError.interrupted(
              migration.name,
              work.target.description,
              claim.owner,
              claim.claimedAt,
            );
          }
          await claims.release(queryRunner, migration.name);
          if (resolveInterrupted === "mark-applied") {
            await table.ensure(queryRunner, tableMissing);
            await table.record(queryRunner, migration);
            return;
          }
        }
        await table.ensure(queryRunner, tableMissing);
        await claims.ensure(queryRunner);
        await claims.claim(queryRunner, migration);
        claimed = true;
      }),
  );
  if (!claimed) return;
  try {
    await up();
  } catch (cause) {
    await claims.release(queryRunner, migration.name).catch(() => undefined);
    throw toRoutingError(cause, {
      migration: migration.name,
      database: work.target.description,
      rolledBack:
        "It ran outside a transaction (transaction = false), so it may be partly applied; it is not recorded as applied.",
    });
  }
  await inLockedTransaction(
    queryRunner,
    work,
    () => migration,
    "It ran, but recording it failed: it stays claimed, and the next migrate reports it as interrupted.",
    async () => {
      await table.record(queryRunner, migration);
      await claims.release(queryRunner, migration.name);
    },
  );
}

async function lock(queryRunner: QueryRunner, work: DatabaseWork): Promise<void> {
  const { target } = work;
  const tenant = target.kind === "tenant" ? target.name : undefined;
  const startedAt = Date.now();
  const locked = await span(
    "typeorm_router.migrate.lock",
    { tenant, database: target.key, operation: "lock" },
    () =>
      dialectFor(work.dataSource).lockMigrations(queryRunner, work.lockScope, work.lockTimeoutMs),
  );
  if (work.log?.debugEnabled) {
    work.log.debug(locked ? "migration lock taken" : "migration lock timed out", {
      tenant,
      database: target.key,
      operation: "lock",
      durationMs: Date.now() - startedAt,
    });
  }
  if (!locked)
    throw MigrationLockedError.timedOut(work.target.description, work.lockTimeoutMs, work.command);
}

async function isApplied(
  queryRunner: QueryRunner,
  table: MigrationTable,
  migration: Migration,
): Promise<boolean> {
  return (await table.applied(queryRunner)).some((row) => row.name === migration.name);
}

function pendingOf(states: readonly GroupState[]): Migration[] {
  return states.flatMap((state) => state.pending).sort(byTimestamp);
}

function asRoutingError(error: unknown, work: DatabaseWork): RoutingError {
  return toRoutingError(error, {
    migration: "(reading migration state)",
    database: work.target.description,
    command: work.command,
  });
}

function result(
  work: DatabaseWork,
  outcome: DatabaseMigrationResult["outcome"],
  startedAt: number,
  applied: readonly Migration[],
  pending: readonly Migration[],
  sql?: readonly string[],
): DatabaseMigrationResult {
  const names = (list: readonly Migration[]): MigrationName[] =>
    list.map((m) => ({ group: m.group, name: m.name }));
  return {
    database: labelOf(work.target),
    outcome,
    applied: names(applied),
    pending: names(pending),
    ...(sql ? { sql } : {}),
    durationMs: Date.now() - startedAt,
  };
}

function byTimestamp(a: Migration, b: Migration): number {
  return a.timestamp - b.timestamp || a.name.localeCompare(b.name);
}
