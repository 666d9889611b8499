import type { EntityManager, QueryRunner } from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel";
import type { Lease } from "../pool/data-source-pool";
import type { DatabaseTarget } from "../routing/database-target";
import { CrossDatabaseTransactionError, RouterClosedError } from "../errors";

interface Pinned {
  readonly target: DatabaseTarget;
  readonly lease: Lease;
  readonly queryRunner: QueryRunner;
}

/** What a transaction scope needs from the router. */
export interface TransactionScopeProps {
  /** Holds a target's DataSource open for the transaction (the router's pool). */
  readonly pool: {
    acquire(target: DatabaseTarget): Promise<Lease>;
    /** {@link acquire} at once when the DataSource is open now, else `undefined`. */
    tryAcquire(target: DatabaseTarget): Lease | undefined;
  };
  /** Scopes the transaction to its tenant once pinned (schema-per-tenant), if needed. */
  readonly scopeFor: (
    target: DatabaseTarget,
  ) => ((queryRunner: QueryRunner) => Promise<void>) | undefined;
  readonly isolationLevel?: IsolationLevel;
}

/**
 * One `router.transaction()` call. The transaction is pinned lazily: the first routed
 * operation inside it picks the database, opens one connection and starts the transaction;
 * every later operation must route to the same database or it throws.
 *
 * A nested `router.transaction()` is a child scope that runs as a savepoint on the same
 * connection.
 */
export class TransactionScope {
  readonly #parent: TransactionScope | undefined;
  readonly #root: TransactionScope;
  readonly #pool: TransactionScopeProps["pool"];
  readonly #scopeFor: TransactionScopeProps["scopeFor"];
  readonly #isolationLevel: IsolationLevel | undefined;
  #pinned: Promise<Pinned> | undefined;
  #pinnedNow: Pinned | undefined;
  #savepoint: Promise<void> | undefined;
  #savepointOpen = false;
  #finished = false;
  // The outermost scope's: what runs once the transaction has ended (whenEnded).
  #onEnd: (() => Promise<void>)[] | undefined;

  constructor(parent: TransactionScope | undefined, props: TransactionScopeProps) {
    this.#parent = parent;
    this.#root = parent ? parent.#root : this;
    this.#pool = props.pool;
    this.#scopeFor = props.scopeFor;
    this.#isolationLevel = props.isolationLevel;
  }

  /**
   * The transaction's manager for an operation routed to `target`.
   *
   * @throws CrossDatabaseTransactionError when the transaction is pinned elsewhere.
   */
  async managerFor(target: DatabaseTarget, what: string): Promise<EntityManager> {
    if (this.#finished) {
      throw RouterClosedError.used(`run ${what}: its transaction has already finished`);
    }
    const root = this.#root;
    root.#pinned ??= root.#pin(target);
    const pinned = await root.#pinned;
    if (pinned.target.key !== target.key) {
      throw CrossDatabaseTransactionError.touched(
        pinned.target.description,
        target.description,
        what,
      );
    }
    if (this.#parent) await this.#openSavepoints(pinned.queryRunner);
    return pinned.queryRunner.manager;
  }

  /**
   * The transaction's manager for `target` if it can be had synchronously: the transaction is
   * pinned there already (and this scope's savepoint is open); `undefined` otherwise.
   * `method` names the operation in the error.
   *
   * @throws CrossDatabaseTransactionError when the transaction is pinned elsewhere.
   */
  pinnedManager(target: DatabaseTarget, method: string): EntityManager | undefined {
    const pinned = this.#root.#pinnedNow;
    if (pinned && pinned.target.key !== target.key) {
      throw CrossDatabaseTransactionError.touched(
        pinned.target.description,
        target.description,
        `${method}()`,
      );
    }
    return this.pinnedManagerAnywhere();
  }

  /** Whether the transaction has ended (its commit or rollback has begun). */
  get finished(): boolean {
    return this.#root.#finished;
  }

  /** The database the transaction is pinned to, if it is pinned yet. */
  get pinnedTarget(): DatabaseTarget | undefined {
    return this.#root.#pinnedNow?.target;
  }

  /** The transaction's manager if it is pinned (wherever) and usable synchronously. */
  pinnedManagerAnywhere(): EntityManager | undefined {
    const pinned = this.#root.#pinnedNow;
    if (!pinned || this.#finished) return undefined;
    if (this.#parent && !this.#savepointOpen) return undefined;
    return pinned.queryRunner.manager;
  }

  /**
   * Runs `release` once the whole transaction (the outermost scope) has ended, committed or
   * rolled back: what must not outlive it, such as its managers' runners.
   */
  whenEnded(release: () => Promise<void>): void {
    (this.#root.#onEnd ??= []).push(release);
  }

  /** Commits (or, given an error, rolls back) and releases what the scope opened. */
  finish(failed: boolean): Promise<void> {
    this.#finished = true;
    if (this.#parent) return this.#finishSavepoint(failed);
    // Nothing registers once finished (a manager's runner made now is released at once).
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    const finished = this.#finishTransaction(failed);
    if (!onEnd) return finished;
    const releaseAll = () =>
      Promise.all(onEnd.map((release) => release().catch(() => undefined))).then(() => undefined);
    return finished.then(releaseAll, async (error: unknown) => {
      await releaseAll();
      throw error;
    });
  }

  async #finishSavepoint(failed: boolean): Promise<void> {
    if (!this.#savepoint) return;
    const { queryRunner } = await this.#root.#pinned!;
    await this.#savepoint;
    if (failed) await queryRunner.rollbackTransaction();
    else await queryRunner.commitTransaction();
  }

  async #finishTransaction(failed: boolean): Promise<void> {
    if (!this.#pinned) return;
    // A transaction that failed to start has nothing to end (#pin released what it took).
    const pinned = this.#pinnedNow ?? (await this.#pinned.catch(() => undefined));
    if (!pinned) return;
    const { queryRunner, lease } = pinned;
    try {
      if (failed) await queryRunner.rollbackTransaction();
      else await queryRunner.commitTransaction();
    } catch (error) {
      // A failed commit must not leave the connection inside an open transaction.
      if (!failed && queryRunner.isTransactionActive) {
        await queryRunner.rollbackTransaction().catch(() => undefined);
      }
      throw error;
    } finally {
      await queryRunner.release();
      lease.release();
    }
  }

  async #pin(target: DatabaseTarget): Promise<Pinned> {
    const lease = this.#pool.tryAcquire(target) ?? (await this.#pool.acquire(target));
    const queryRunner = lease.dataSource.createQueryRunner();
    try {
      // Starting the transaction connects the runner, as in TypeORM's own transaction().
      await queryRunner.startTransaction(this.#isolationLevel);
      const scope = this.#scopeFor(target);
      if (scope) await scope(queryRunner);
    } catch (error) {
      await queryRunner.release().catch(() => undefined);
      lease.release();
      throw error;
    }
    this.#pinnedNow = { target, lease, queryRunner };
    return this.#pinnedNow;
  }

  // Opens this scope's savepoint (and its parents'), once, outermost first.
  async #openSavepoints(queryRunner: QueryRunner): Promise<void> {
    if (!this.#parent) return;
    await this.#parent.#openSavepoints(queryRunner);
    this.#savepoint ??= queryRunner.startTransaction(this.#isolationLevel).then(() => {
      this.#savepointOpen = true;
    });
    await this.#savepoint;
  }
}
