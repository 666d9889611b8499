import type { DataSource, QueryRunner, ReplicationMode } from "typeorm";
import { WakeSignal } from "../../concurrency/wake-signal";
import type { ConnectionWait } from "../dialect";

type RunnerClass = new (driver: DataSource["driver"], mode: ReplicationMode) => QueryRunner;

/** Runner state TypeORM keeps on the runner itself. */
interface RunnerState {
  readonly transactionDepth: number;
  readonly isTransactionActive: boolean;
}

// The runner itself, read through whatever `this` its methods get (a routing runner calls
// them with itself as `this`, and forwards this key to the runner it is bound to).
const SELF = Symbol("typeorm-router.sqlite-runner");

/** Which runner's transaction holds the connection, and who waits for it. */
class ConnectionGate {
  #owner: QueryRunner | undefined;
  readonly #freed = new WakeSignal();

  constructor(readonly wait: ConnectionWait) {}

  /**
   * Waits until no other runner's transaction holds the connection; with `take`, takes it in
   * the same step (no other caller can slip in between). `undefined` when nothing to wait for.
   */
  enter(runner: QueryRunner, take = false): Promise<void> | undefined {
    if (this.#owner === undefined || this.#owner === runner) {
      if (take) this.#owner = runner;
      return undefined;
    }
    return this.#queue(runner, take);
  }

  /** Gives the connection back when `runner` holds it. */
  free(runner: QueryRunner): void {
    if (this.#owner !== runner) return;
    this.#owner = undefined;
    this.#freed.wakeAll();
  }

  holds(runner: QueryRunner): boolean {
    return this.#owner === runner;
  }

  async #queue(runner: QueryRunner, take: boolean): Promise<void> {
    const { timeoutMs, busy } = this.wait;
    const deadline = Date.now() + timeoutMs;
    while (this.#owner !== undefined && this.#owner !== runner) {
      const left = deadline - Date.now();
      if (left <= 0) throw busy(timeoutMs);
      await this.#freed.next(left);
    }
    if (take) this.#owner = runner;
  }
}

// The gate of each gated driver, and the gated subclass of each driver runner class (one per
// class, whatever the number of DataSources: a tenant database adds no class).
const GATES = new WeakMap<object, ConnectionGate>();
const GATED = new WeakMap<RunnerClass, RunnerClass>();

type Self = QueryRunner & RunnerState & { [SELF]: QueryRunner & RunnerState };

// The gate of the connection `self` runs on (its driver's).
function gateOf(self: QueryRunner): ConnectionGate {
  return GATES.get(self.connection.driver)!;
}

// The driver's runner class, its transactions taking its driver's gate in turn. Its methods
// are `async` functions: a routing runner whose stand-in is of this class defers those until
// it is bound.
function gatedClass(Base: RunnerClass): RunnerClass {
  const existing = GATED.get(Base);
  if (existing) return existing;
  const base = Base.prototype as QueryRunner;
  const Gated = class GatedSqliteQueryRunner extends (Base as new (
    ...args: ConstructorParameters<RunnerClass>
  ) => object) {
    constructor(driver: DataSource["driver"], mode: ReplicationMode) {
      super(driver, mode);
      (this as unknown as Self)[SELF] = this as unknown as Self;
    }

    async query(this: Self, ...args: unknown[]): Promise<unknown> {
      const self = this[SELF];
      const waiting = gateOf(self).enter(self);
      if (waiting) await waiting;
      return (base.query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    }

    async startTransaction(this: Self, ...args: unknown[]): Promise<void> {
      const self = this[SELF];
      const gate = gateOf(self);
      await gate.enter(self, self.transactionDepth === 0);
      try {
        await (base.startTransaction as (...a: unknown[]) => Promise<void>).apply(this, args);
      } catch (error) {
        if (!self.isTransactionActive) gate.free(self);
        throw error;
      }
    }

    async commitTransaction(this: Self): Promise<void> {
      try {
        await base.commitTransaction.call(this);
      } finally {
        freeWhenDone(this[SELF]);
      }
    }

    async rollbackTransaction(this: Self): Promise<void> {
      try {
        await base.rollbackTransaction.call(this);
      } finally {
        freeWhenDone(this[SELF]);
      }
    }

    // A runner released inside its transaction gives the connection back all the same.
    async release(this: Self): Promise<void> {
      const self = this[SELF];
      const gate = gateOf(self);
      if (gate.holds(self) && self.isTransactionActive) {
        await Promise.resolve(self.rollbackTransaction()).catch(() => undefined);
      }
      gate.free(self);
      return base.release.call(this);
    }
  } as unknown as RunnerClass;
  GATED.set(Base, Gated);
  return Gated;
}

function freeWhenDone(self: QueryRunner & RunnerState): void {
  if (self.transactionDepth === 0 || !self.isTransactionActive) gateOf(self).free(self);
}

/**
 * The one connection of a SQLite DataSource, taken by one transaction at a time. TypeORM's
 * SQLite drivers hand out one shared query runner on one connection: two concurrent
 * transactions both send `BEGIN` (the second fails, and its rollback ends the first), and a
 * statement sent while another caller's transaction is open silently joins it (and is lost
 * if that one rolls back). Here the driver's `createQueryRunner()` gives each caller a runner
 * of its own on the same connection, and a runner's transaction holds the connection: other
 * runners' statements and transactions wait until it commits or rolls back, as they would
 * for a row lock on a server. One that waits longer than `wait.timeoutMs` fails with
 * `wait.busy()`.
 */
export function gateSqliteConnection(dataSource: DataSource, wait: ConnectionWait): void {
  const { driver } = dataSource;
  GATES.set(driver, new ConnectionGate(wait));
  const shared = driver.createQueryRunner.bind(driver);
  let Gated: RunnerClass | undefined;
  // The driver's method, so that DataSource.createQueryRunner() still gives each its manager.
  driver.createQueryRunner = (mode: ReplicationMode = "master") => {
    Gated ??= gatedClass(shared(mode).constructor as RunnerClass);
    return new Gated(driver, mode);
  };
}
