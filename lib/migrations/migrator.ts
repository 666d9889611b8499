import type { DataSource, QueryRunner } from "typeorm";
import type { BulkMigrationState } from "../tenants/strategies/tenant-strategy";
import type { DataSourcePool } from "../pool/data-source-pool";
import { refOf, type DatabaseTarget } from "../routing/database-target";
import type { DatabaseFilter, DatabaseSelection } from "../routing/database-selection";
import { TENANT_GROUP, type Placement } from "../registry/entity-registry";
import {
  ConfigurationError,
  MigrationRoutingError,
  ReadOnlyDatabaseError,
  RoutingError,
  messageOf,
  toRoutingError,
  type MigrationCommand,
} from "../errors";
import type { RouterChain } from "../routing/router-chain";
import { runBounded } from "../concurrency/run-bounded";
import { dialectFor } from "../dialects";
import {
  PARTLY_APPLIED,
  migrateDatabase,
  readStatus,
  revertDatabase,
  type DatabaseStatus,
  type DatabaseWork,
  type GroupPlan,
  type MigrateMode,
} from "./database-migrator";
import {
  labelOf,
  reportOf,
  type DatabaseMigrationResult,
  type MigrationProgress,
  type MigrationReport,
} from "./migration-report";
import type { Migration, MigrationSets } from "./migration-set";
import { MigrationTable } from "./migration-table";
import { RouterLog } from "../observability/router-log";
import { span } from "../observability/tracing";

/** Options of `router.migrate()`. */
export interface MigrateOptions extends DatabaseFilter {
  /** Tenants migrated at once. Default 4. */
  readonly concurrency?: number;
  /** Record the SQL of every pending migration inside a transaction, then roll it back. */
  readonly dryRun?: boolean;
  /** Record pending migrations as applied without running them. */
  readonly fake?: boolean;
  /** One transaction per migration (`"each"`, default) or per database (`"all"`). */
  readonly transaction?: "each" | "all";
  /** Stop starting new databases after the first failure (they are reported as skipped). */
  readonly failFast?: boolean;
  /** How long to wait for another migrator's lock on a database. Default 30000 ms. */
  readonly lockTimeoutMs?: number;
  /** Called after each database. */
  readonly onProgress?: (progress: MigrationProgress) => void;
  /**
   * Only these migration groups (Django's `migrate <app>`): where two groups share a
   * database, the others are left as they are. Default: every group.
   */
  readonly groups?: readonly string[];
  /**
   * What to do with a `transaction = false` migration whose run was interrupted (its migrator
   * died after claiming it; `migrate` reports it as `MIGRATION_INTERRUPTED` until resolved).
   * Check the database first, then `"retry"` runs it again, `"mark-applied"` records it as
   * applied without running it. Default: report it and change nothing.
   */
  readonly resolveInterrupted?: "retry" | "mark-applied";
}

/** Options of `router.revert()`: one database, and how far back. */
export interface RevertOptions {
  /** The alias to revert (give this or `tenant`). */
  readonly database?: string;
  /** The tenant to revert (give this or `database`). */
  readonly tenant?: string;
  /** How many migrations to revert, newest first. Default 1. */
  readonly steps?: number;
  /** Revert every migration applied after this one (it stays applied). */
  readonly to?: string;
  /** How long to wait for another migrator's lock. Default 30000 ms. */
  readonly lockTimeoutMs?: number;
  /** Only migrations of these groups are reverted (and counted by `steps`). Default: all. */
  readonly groups?: readonly string[];
  /** Forget the migrations as applied without running their `down()`. */
  readonly fake?: boolean;
}

/** Options of `router.migrationStatus()`. */
export interface StatusOptions extends DatabaseFilter {
  /** Databases read at once. Default 8. */
  readonly concurrency?: number;
  /** Only these migration groups. Default: every group. */
  readonly groups?: readonly string[];
}

/** Props of {@link Migrator}. */
export interface MigratorProps {
  readonly sets: MigrationSets;
  readonly tablePrefix: string;
  readonly selection: DatabaseSelection;
  readonly pool: DataSourcePool;
  /** The full chain (custom routers, then the decorator rules) for `allowMigrate`. */
  readonly chain: RouterChain;
  /** Which entity owns each table name, for the DDL guard. */
  readonly tableOwners: ReadonlyMap<string, Placement>;
  readonly testMode: boolean;
  /** Reads many tenants' applied migrations in one query, when the strategy can. */
  readonly readMigrationState?: (
    tenants: readonly string[],
    tables: readonly string[],
  ) => Promise<BulkMigrationState>;
  /** How to scope a transaction on `target` to its tenant, if it needs it. */
  readonly scopeFor: (
    target: DatabaseTarget,
  ) => ((queryRunner: QueryRunner) => Promise<void>) | undefined;
  /** How that scope reaches the tenant, for messages (the strategy's `scopeDescription`). */
  readonly scopeDescription?: string;
  /** The router's logs. Default: the default logs (the `debug` namespaces). */
  readonly log?: RouterLog;
}

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

// What migrate() read in bulk before the tenants: those up to date (by key), and the applied
// migrations of every tenant (undefined when nothing was read).
interface BulkRead {
  readonly upToDate: ReadonlySet<string>;
  readonly state?: BulkMigrationState;
}

/**
 * Runs migration groups across databases: `default` first, then the other aliases, then the
 * tenants with bounded concurrency. One database's failure never stops or corrupts another;
 * every database gets an entry in the report.
 */
export class Migrator {
  readonly #props: MigratorProps;

  constructor(props: MigratorProps) {
    this.#props = props;
  }

  /** Whether any migration group (of `groups`, when given) applies to `target`. */
  hasGroupsFor(target: DatabaseTarget, groups?: readonly string[]): boolean {
    return this.#plansFor(target, groups).length > 0;
  }

  /**
   * Migrates every selected database and reports per database. Never rejects because a
   * database failed; rejects only for invalid options or names.
   */
  async migrate(options: MigrateOptions = {}): Promise<MigrationReport> {
    const mode = checkMigrateOptions(options);
    const groups = this.#checkGroups(options.groups, "migrate({ groups })");
    const startedAt = Date.now();
    const { selection } = this.#props;
    const aliases = selection.aliasesOf(options);
    let total = aliases.length;
    let failed = 0;
    let done = 0;
    const finish = (result: DatabaseMigrationResult) => {
      done++;
      if (result.outcome === "failed") failed++;
      try {
        options.onProgress?.({ done, total, failed, elapsedMs: Date.now() - startedAt, result });
      } catch (error) {
        // A broken progress callback must not abandon databases that are mid-migration.
        this.#log.warn(
          "TYPEORM_ROUTER_PROGRESS_FAILED",
          `the migrate onProgress callback threw (${messageOf(error)}); migrating goes on.`,
          { operation: "migrate", error },
        );
      }
      return result;
    };
    const stop = () => options.failFast === true && failed > 0;
    const skipped = (target: DatabaseTarget) =>
      finish(
        skippedResult(target, "failFast: an earlier database failed, so this one was not started"),
      );
    // Tenants found up to date, and every tenant's applied migrations, read in bulk.
    let bulk: BulkRead = { upToDate: new Set() };
    const run = async (target: DatabaseTarget) =>
      finish(
        bulk.upToDate.has(target.key)
          ? {
              database: labelOf(target),
              outcome: "up-to-date",
              applied: [],
              pending: [],
              durationMs: 0,
            }
          : await this.#migrateTarget(
              target,
              mode,
              options.lockTimeoutMs,
              groups,
              // Absent from the bulk state: no migrations table of its groups exists there.
              bulk.state && target.kind === "tenant"
                ? (bulk.state.get(target.name) ?? new Map())
                : undefined,
            ),
      );
    // Aliases first and one at a time (tenants may depend on them), then the tenants.
    const aliasResults = await runBounded(aliases, 1, run, { stop, skipped });
    // Listed only now: the tenant list may live in a table the aliases' migrations create.
    let tenants: DatabaseTarget[];
    try {
      tenants = await selection.tenantsOf(options);
    } catch (error) {
      if (!(error instanceof RoutingError)) throw error;
      return reportOf(aliasResults, startedAt, error, this.#summaries(aliases, groups));
    }
    total += tenants.length;
    bulk = await this.#upToDateInBulk(tenants, groups);
    const tenantResults = await runBounded(tenants, options.concurrency ?? 4, run, {
      stop,
      skipped,
    });
    return reportOf(
      [...aliasResults, ...tenantResults],
      startedAt,
      undefined,
      this.#summaries([...aliases, ...tenants], groups),
    );
  }

  /** Applies the pending migrations of one database (used by tenant creation and test mode). */
  migrateDataSource(
    target: DatabaseTarget,
    dataSource: DataSource,
  ): Promise<DatabaseMigrationResult> {
    const mode = { dryRun: false, fake: false, transaction: "each" } as const;
    return this.#observed(target, mode, () =>
      migrateDatabase(this.#work(target, dataSource, DEFAULT_LOCK_TIMEOUT_MS), mode),
    );
  }

  /** Applied and pending migrations per selected database and group. */
  async status(options: StatusOptions = {}): Promise<DatabaseStatus[]> {
    const groups = this.#checkGroups(options.groups, "migrationStatus({ groups })");
    const targets = await this.#props.selection.select(options);
    return runBounded(targets, options.concurrency ?? 8, (target) =>
      this.#props.pool
        .use(target, (dataSource) =>
          readStatus(this.#work(target, dataSource, DEFAULT_LOCK_TIMEOUT_MS, groups)),
        )
        .catch((error: unknown) => ({
          database: labelOf(target),
          groups: [],
          error: asRoutingError(error, target),
        })),
    );
  }

  /**
   * Reverts migrations on one database. A read-only alias is refused outside test mode: the
   * result is `failed` with a `ReadOnlyDatabaseError`, and nothing is opened there.
   *
   * @throws ConfigurationError when the options do not name exactly one database or the
   * steps are invalid.
   */
  async revert(options: RevertOptions): Promise<DatabaseMigrationResult> {
    if ((options.database === undefined) === (options.tenant === undefined)) {
      throw ConfigurationError.invalid(
        "router.revert()",
        "name exactly one of database or tenant",
        'Pass e.g. { tenant: "acme", steps: 1 }.',
      );
    }
    if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) {
      throw ConfigurationError.invalid(
        "router.revert({ steps })",
        `${options.steps} is not a positive integer`,
        "Pass the number of migrations to revert.",
      );
    }
    if (options.steps !== undefined && options.to !== undefined) {
      throw ConfigurationError.invalid(
        "router.revert()",
        "steps and to were both given",
        "Pass one of them.",
      );
    }
    checkLockTimeout(options.lockTimeoutMs, "router.revert({ lockTimeoutMs })");
    const groups = this.#checkGroups(options.groups, "router.revert({ groups })");
    const [target] = await this.#props.selection.select(
      options.database !== undefined
        ? { databases: [options.database] }
        : { tenants: [options.tenant!] },
    );
    // As migrate() skips it: reverting runs down() there, which is a write.
    if (target.readOnly && !this.#props.testMode) {
      return failedResult(
        target,
        ReadOnlyDatabaseError.refused(
          "a migration revert",
          target.description,
          "it is configured readOnly: true, so it is never migrated or reverted outside test mode",
        ),
      );
    }
    return this.#props.pool
      .use(target, (dataSource) =>
        revertDatabase(
          { ...this.#work(target, dataSource, options.lockTimeoutMs, groups), command: "revert" },
          options,
        ),
      )
      .catch((error: unknown) => failedResult(target, error, "revert"));
  }

  async #migrateTarget(
    target: DatabaseTarget,
    mode: MigrateMode,
    lockTimeoutMs?: number,
    groups?: readonly string[],
    appliedBefore?: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<DatabaseMigrationResult> {
    if (target.readOnly && !this.#props.testMode) {
      return skippedResult(
        target,
        "the database is read-only (readOnly: true); it is never migrated outside test mode",
      );
    }
    if (!this.hasGroupsFor(target, groups)) {
      return skippedResult(
        target,
        groups
          ? `none of the groups ${groups.map((g) => `"${g}"`).join(", ")} applies to it (allowMigrate)`
          : "no migration group applies to it (allowMigrate)",
      );
    }
    return this.#observed(target, mode, () =>
      this.#props.pool
        .use(target, (dataSource) =>
          migrateDatabase(
            { ...this.#work(target, dataSource, lockTimeoutMs, groups), appliedBefore },
            mode,
          ),
        )
        .catch((error: unknown) => failedResult(target, error)),
    );
  }

  // One database's migration: its span (typeorm_router.migrate) and its log record.
  async #observed(
    target: DatabaseTarget,
    mode: { readonly dryRun: boolean },
    migrate: () => Promise<DatabaseMigrationResult>,
  ): Promise<DatabaseMigrationResult> {
    const tenant = target.kind === "tenant" ? target.name : undefined;
    const startedAt = Date.now();
    const result = await span(
      "typeorm_router.migrate",
      { tenant, database: target.key, operation: mode.dryRun ? "dry-run" : "migrate" },
      migrate,
      (outcome) => outcome.error,
    );
    const fields = {
      tenant,
      database: target.key,
      operation: "migrate",
      durationMs: Date.now() - startedAt,
      outcome: result.outcome,
      applied: result.applied.length,
    };
    if (result.outcome === "failed") {
      this.#log.error(`migrating ${target.description} failed`, { ...fields, error: result.error });
    } else if (this.#log.debugEnabled) {
      this.#log.debug(`migrated ${target.description}`, fields);
    }
    return result;
  }

  get #log() {
    return (this.#props.log ?? RouterLog.default).migrate;
  }

  // Tenants whose every applied group is complete, read in bulk where the strategy can
  // (schema-per-tenant): a no-op run then opens no tenant DataSource at all, and the others
  // start from the state read here (`state`, undefined when it was not read).
  async #upToDateInBulk(
    tenants: readonly DatabaseTarget[],
    groups: readonly string[] | undefined,
  ): Promise<BulkRead> {
    const read = this.#props.readMigrationState;
    if (!read || tenants.length === 0) return { upToDate: new Set() };
    const plans = new Map(tenants.map((target) => [target.key, this.#plansFor(target, groups)]));
    const tables = [...new Set([...plans.values()].flat().map((plan) => plan.table.name))];
    let state: BulkMigrationState;
    try {
      state = await read(
        tenants.map((target) => target.name),
        tables,
      );
    } catch (error) {
      this.#log.warn(
        "TYPEORM_ROUTER_BULK_STATE_FAILED",
        `reading migration state in bulk failed (${messageOf(error)}); reading each tenant instead.`,
        { operation: "migrate", error },
      );
      return { upToDate: new Set() };
    }
    const done = new Set<string>();
    for (const target of tenants) {
      const targetPlans = plans.get(target.key)!;
      const applied = state.get(target.name);
      const complete = targetPlans.every((plan) => {
        const names = applied?.get(plan.table.name);
        return plan.migrations.every((migration) => names?.has(migration.name));
      });
      if (targetPlans.length > 0 && complete) done.add(target.key);
    }
    return { upToDate: done, state };
  }

  #work(
    target: DatabaseTarget,
    dataSource: DataSource,
    lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
    groups?: readonly string[],
  ): DatabaseWork {
    const databaseGroup = target.kind === "tenant" ? TENANT_GROUP : target.name;
    return {
      target,
      dataSource,
      groups: this.#plansFor(target, groups),
      lockScope: target.key,
      lockTimeoutMs,
      log: this.#log,
      scope: this.#props.scopeFor(target),
      scopeDescription: this.#props.scopeDescription,
      guard: (migration: Migration, method: string, table: string) => {
        const owner = this.#props.tableOwners.get(table);
        if (!owner || owner.group === databaseGroup) return;
        throw MigrationRoutingError.wrongPlacement({
          migration: migration.name,
          group: migration.group,
          method,
          table,
          owner: owner.name,
          ownerGroup: owner.group,
          database: target.description,
          undone: dialectFor(dataSource).transactionalDdl ? undefined : PARTLY_APPLIED,
        });
      },
    };
  }

  // Per group: the databases of the run it applies to, and what was applied or is pending.
  #summaries(
    targets: readonly DatabaseTarget[],
    groups: readonly string[] | undefined,
  ): Map<string, number> {
    const databases = new Map<string, number>(
      (groups ?? this.#props.sets.groups).map((group) => [group, 0]),
    );
    for (const target of targets) {
      for (const plan of this.#plansFor(target, groups)) {
        databases.set(plan.group, (databases.get(plan.group) ?? 0) + 1);
      }
    }
    return databases;
  }

  // Validates `groups` against the configured ones; undefined means every group.
  #checkGroups(
    groups: readonly string[] | undefined,
    where: string,
  ): readonly string[] | undefined {
    if (groups === undefined) return undefined;
    const known = this.#props.sets.groups;
    const unknown = Array.isArray(groups)
      ? groups.filter((group) => !known.includes(group))
      : [String(groups)];
    if (!Array.isArray(groups) || groups.length === 0 || unknown.length > 0) {
      throw ConfigurationError.invalid(
        where,
        Array.isArray(groups) && groups.length === 0
          ? "no group was named"
          : `${unknown.map((g) => `"${g}"`).join(", ")} ${unknown.length === 1 ? "is not a migration group" : "are not migration groups"}`,
        `Name groups of the migrations option: ${known.map((g) => `"${g}"`).join(", ") || "(none configured)"}.`,
      );
    }
    return [...new Set(groups)];
  }

  #plansFor(target: DatabaseTarget, only?: readonly string[]): GroupPlan[] {
    const { sets, chain, testMode, tablePrefix } = this.#props;
    const hints = {
      tenant: target.kind === "tenant" ? target.name : undefined,
      operation: "migrate" as const,
      testMode,
    };
    return sets.groups
      .filter((group) => only === undefined || only.includes(group))
      .filter((group) => chain.allowMigrate(refOf(target), group, hints) === true)
      .map((group) => ({
        group,
        table: new MigrationTable(`${tablePrefix}${group}`),
        migrations: sets.migrationsOf(group),
      }));
  }
}

function checkMigrateOptions(options: MigrateOptions): MigrateMode {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw ConfigurationError.invalid(
      "migrate({ concurrency })",
      `${concurrency} is not a positive integer`,
      "Pass how many tenants to migrate at once, e.g. 8.",
    );
  }
  const transaction = options.transaction ?? "each";
  if (transaction !== "each" && transaction !== "all") {
    throw ConfigurationError.invalid(
      "migrate({ transaction })",
      `${JSON.stringify(transaction)} is not allowed`,
      'Use "each" or "all".',
    );
  }
  if (options.dryRun && options.fake) {
    throw ConfigurationError.invalid(
      "migrate()",
      "dryRun and fake were both given",
      "Pass one of them.",
    );
  }
  checkLockTimeout(options.lockTimeoutMs, "migrate({ lockTimeoutMs })");
  const { resolveInterrupted } = options;
  if (
    resolveInterrupted !== undefined &&
    resolveInterrupted !== "retry" &&
    resolveInterrupted !== "mark-applied"
  ) {
    throw ConfigurationError.invalid(
      "migrate({ resolveInterrupted })",
      `${JSON.stringify(resolveInterrupted)} is not allowed`,
      'Use "retry" (run the interrupted migration again) or "mark-applied" (record it without running it), after checking the database.',
    );
  }
  return {
    dryRun: options.dryRun === true,
    fake: options.fake === true,
    transaction,
    ...(resolveInterrupted ? { resolveInterrupted } : {}),
  };
}

// NaN would make the lock wait forever (no deadline is ever reached): refuse it.
function checkLockTimeout(value: number | undefined, where: string): void {
  if (value === undefined || (typeof value === "number" && value >= 0)) return;
  throw ConfigurationError.invalid(
    where,
    `${String(value)} is not a number of milliseconds >= 0`,
    "Pass how long to wait for another migrator's lock, e.g. 30000.",
  );
}

function skippedResult(target: DatabaseTarget, reason: string): DatabaseMigrationResult {
  return {
    database: labelOf(target),
    outcome: "skipped",
    applied: [],
    pending: [],
    reason,
    durationMs: 0,
  };
}

function failedResult(
  target: DatabaseTarget,
  error: unknown,
  command: MigrationCommand = "migrate",
): DatabaseMigrationResult {
  return {
    database: labelOf(target),
    outcome: "failed",
    applied: [],
    pending: [],
    durationMs: 0,
    error: asRoutingError(error, target, command),
  };
}

function asRoutingError(
  error: unknown,
  target: DatabaseTarget,
  command: MigrationCommand = "migrate",
): RoutingError {
  return toRoutingError(error, {
    migration: "(opening the database)",
    database: target.description,
    command,
  });
}
