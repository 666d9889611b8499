import type { DataSource, DataSourceOptions } from "typeorm";
import type { DatabaseTarget } from "../routing/database-target";
import { ConfigurationError, UnknownMigrationError, type BootstrapProblem } from "../errors";
import {
  migrateDatabase,
  revertDatabase,
  type DatabaseWork,
} from "../migrations/database-migrator";
import type { DatabaseMigrationResult } from "../migrations/migration-report";
import { MigrationSets, type Migration, type MigrationSource } from "../migrations/migration-set";
import { MigrationTable } from "../migrations/migration-table";
import { emptyDatabase, type EmptyDatabase } from "./empty-database";
import { migrationState, type MigrationState } from "./migration-state";

/** Options of {@link migrationTester}. */
export interface MigrationTesterOptions {
  /**
   * The driver and server to test on. Each `before()` creates a fresh database there with
   * {@link emptyDatabase} (so for SQLite the `database` path is ignored).
   */
  readonly options: DataSourceOptions;
  /**
   * The migrations to test: classes (TypeORM `MigrationInterface`, named
   * `<Name><13-digit timestamp>`) or globs of their files. They are ordered exactly as
   * `router.migrate()` orders a group: by timestamp, then by name.
   */
  readonly migrations: readonly MigrationSource[];
  /** The group the migrations are recorded under. Default `"default"`. */
  readonly group?: string;
  /**
   * The migrations table. Default `migrations_<group>`, the name `TenantRouter` gives the
   * group's table with the default `migrationsTablePrefix`.
   */
  readonly migrationsTable?: string;
  /** The folder relative globs in `migrations` start from. Default `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * Puts a database at one point of a migration history, lets a test write rows with that
 * era's schema, then moves it forward or back; see {@link migrationTester}.
 */
export interface MigrationTester {
  /**
   * Starts from a new empty database (dropping the tester's previous one) and applies every
   * migration up to AND INCLUDING `name`, oldest first, each in its own transaction and
   * recorded in the migrations table. `null` stops before the first migration: an empty
   * database with nothing applied.
   *
   * @throws UnknownMigrationError when `name` is not one of the migrations (it lists them).
   * @throws MigrationFailedError when a migration fails (it is rolled back; the ones before
   *   it stay applied, and `after()` can continue from there).
   */
  before(name: string | null): Promise<MigrationState>;
  /**
   * Moves the current database to `name`: forward by applying every later migration up to
   * and including `name` (`up()`), or back by reverting, newest first, every applied
   * migration after `name` (`down()`; `name` stays applied). `null` reverts every migration.
   * Where it stands is read from the migrations table, not remembered.
   *
   * @throws UnknownMigrationError when `name` is not one of the migrations (it lists them).
   * @throws ConfigurationError when there is no database: call `before()` first.
   * @throws MigrationFailedError when a migration or its revert fails (that step is rolled
   *   back; the steps before it stay).
   */
  after(name: string | null): Promise<MigrationState>;
  /** Destroys the DataSource and drops the database, if there is one. Safe to call again. */
  reset(): Promise<void>;
}

const LOCK_TIMEOUT_MS = 30_000;
const APPLY = { dryRun: false, fake: false, transaction: "each" } as const;

/**
 * Creates a migration tester, after django-test-migrations' `Migrator`
 * (`apply_initial_migration` / `apply_tested_migration` / `reset`): `before(name)` builds the
 * database at migration `name` from nothing, the test inserts rows with that era's schema
 * through `state.table(...)`, `after(next)` runs the migration under test (or reverts to an
 * earlier one), and the test asserts on the rows. Migrations run and are recorded by the same
 * code as `router.migrate()` and `router.revert()`.
 *
 * `before(name)` is inclusive, as `apply_initial_migration` is ("applying all migrations up to
 * and including the ones passed as an argument", django-test-migrations' README): to test
 * migration N+1, call `before(N)`, insert rows, then `after(N+1)`. `null` plays the part of
 * Django's `(app, None)`. Unlike Django's `reset()`, which flushes and migrates to the latest
 * migration, `reset()` here drops the database.
 *
 * Nothing is created until `before()`; call `reset()` after each test (or use
 * {@link useMigrationTester}, which does).
 *
 * @example
 * const tester = migrationTester({ options: { type: "postgres", url: PG_URL }, migrations });
 * const old = await tester.before("AddIsClean1700000000002");
 * await old.table("item").insert([{ string_field: "ok" }, { string_field: "bad" }]);
 * const next = await tester.after("FillIsClean1700000000003");
 * expect(await next.table("item").count({ is_clean: true })).toBe(1);
 * await tester.reset();
 *
 * @throws ConfigurationError (from `before`/`after`) when a migration cannot be loaded or
 *   ordered: a name without a 13-digit timestamp, a duplicate, a glob that matches nothing.
 */
export function migrationTester(options: MigrationTesterOptions): MigrationTester {
  return new DatabaseMigrationTester(options);
}

class DatabaseMigrationTester implements MigrationTester {
  readonly #options: MigrationTesterOptions;
  readonly #group: string;
  readonly #table: MigrationTable;
  #migrations: Promise<readonly Migration[]> | undefined;
  #database: EmptyDatabase | undefined;
  // before/after/reset run one at a time, in call order, even when a test does not await one.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: MigrationTesterOptions) {
    this.#options = Object.freeze({ ...options });
    this.#group = options.group ?? "default";
    this.#table = new MigrationTable(options.migrationsTable ?? `migrations_${this.#group}`);
  }

  before(name: string | null): Promise<MigrationState> {
    return this.#serially(async () => {
      const target = await this.#indexOf(name, "before");
      await this.#drop();
      this.#database = await emptyDatabase(this.#options.options);
      return this.#moveTo(this.#database.dataSource, target);
    });
  }

  after(name: string | null): Promise<MigrationState> {
    return this.#serially(async () => {
      const target = await this.#indexOf(name, "after");
      if (!this.#database) {
        throw ConfigurationError.invalid(
          `migrationTester().after(${JSON.stringify(name)})`,
          "there is no database to migrate: before() was not called since the tester was " +
            "created or reset",
          "Call before(name) first to build the database at the starting migration.",
        );
      }
      return this.#moveTo(this.#database.dataSource, target);
    });
  }

  reset(): Promise<void> {
    return this.#serially(() => this.#drop());
  }

  #serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #drop(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    await database?.drop();
  }

  // The position of `name` in the ordered migrations; -1 for `null` (before the first).
  async #indexOf(name: string | null, method: string): Promise<number> {
    const migrations = await this.#loaded();
    if (name === null) return -1;
    const index = migrations.findIndex((migration) => migration.name === name);
    if (index >= 0) return index;
    throw UnknownMigrationError.forName(
      name,
      migrations.map((migration) => migration.name),
      `migrationTester().${method}()`,
    );
  }

  #loaded(): Promise<readonly Migration[]> {
    this.#migrations ??= (async () => {
      const problems: BootstrapProblem[] = [];
      const sets = await MigrationSets.load(
        { [this.#group]: this.#options.migrations },
        this.#options.cwd ?? process.cwd(),
        problems,
      );
      if (problems.length > 0) {
        const lines = problems.map((problem, index) => `  ${index + 1}. ${problem.message}`);
        throw ConfigurationError.invalid(
          "migrationTester({ migrations })",
          `${problems.length} problem(s) with the migrations, so no database was created`,
          `Fix them:\n${lines.join("\n")}`,
        );
      }
      return sets.migrationsOf(this.#group);
    })();
    return this.#migrations;
  }

  async #moveTo(dataSource: DataSource, target: number): Promise<MigrationState> {
    const migrations = await this.#loaded();
    const applied = new Set(await this.#applied(dataSource));
    let current = -1;
    migrations.forEach((migration, index) => {
      if (applied.has(migration.name)) current = index;
    });
    let result: DatabaseMigrationResult | undefined;
    if (target > current) {
      result = await migrateDatabase(
        this.#work(dataSource, migrations.slice(0, target + 1)),
        APPLY,
      );
    } else if (target < current) {
      result = await revertDatabase(
        this.#work(dataSource, migrations),
        target < 0 ? { steps: applied.size } : { to: migrations[target].name },
      );
    }
    if (result?.error) throw result.error;
    return migrationState(dataSource, await this.#applied(dataSource));
  }

  async #applied(dataSource: DataSource): Promise<string[]> {
    const queryRunner = dataSource.createQueryRunner();
    try {
      return (await this.#table.applied(queryRunner)).map((row) => row.name);
    } finally {
      await queryRunner.release();
    }
  }

  #work(dataSource: DataSource, migrations: readonly Migration[]): DatabaseWork {
    const database = String(
      (dataSource.driver as { database?: string }).database ?? dataSource.options.database,
    );
    const target: DatabaseTarget = Object.freeze({
      key: `migration-tester:${database}`,
      kind: "alias",
      name: database,
      readOnly: false,
      description: `the migration tester's database "${database}"`,
    });
    return {
      target,
      dataSource,
      groups: [{ group: this.#group, table: this.#table, migrations }],
      lockScope: target.key,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      // Every table of the tester's database belongs to the migrations under test.
      guard: () => undefined,
    };
  }
}
