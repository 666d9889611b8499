import type { DataSource, QueryRunner, ReplicationMode } from "typeorm";
import type { ConnectionWait } from "../dialect";

type RunnerClass = new (driver: DataSource["driver"], mode: ReplicationMode) => QueryRunner;
type Method = (this: QueryRunner, ...args: unknown[]) => Promise<unknown>;

/**
 * The one connection of a SQLite DataSource, taken by one transaction at a time. TypeORM's
 * SQLite drivers hand out one shared query runner on one connection: two concurrent
 * transactions both send `BEGIN` (the second fails, and its rollback ends the first), and a
 * statement sent while another caller's transaction is open silently joins it (and is lost
 * if that one rolls back). Here each `createQueryRunner()` gets a runner of its own on the
 * same connection (the driver's `createQueryRunner()`), and a runner's transaction holds the connection: other runners' statements
 * and transactions wait until it commits or rolls back, as they would for a row lock on a
 * server. A statement that waits longer than `timeoutMs` fails with `busy()` (a statement
 * outside a transaction, run from inside it, would otherwise wait forever).
 */
export function gateSqliteConnection(dataSource: DataSource, limits: ConnectionWait): void {
  let owner: QueryRunner | undefined;
  const waiters = new Set<() => void>();
  let runnerClass: RunnerClass | undefined;

  const free = (runner: QueryRunner) => {
    if (owner !== runner) return;
    owner = undefined;
    for (const wake of [...waiters]) wake();
  };
  // Waits until no other runner's transaction holds the connection; with `take`, takes it in
  // the same step (no other caller can slip in between the check and the take).
  const enter = async (runner: QueryRunner, take = false): Promise<void> => {
    const deadline = Date.now() + limits.timeoutMs;
    while (owner !== undefined && owner !== runner) {
      const left = deadline - Date.now();
      if (left <= 0) throw limits.busy(limits.timeoutMs);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiters.add(wake);
      });
    }
    if (take) owner = runner;
  };

  const gate = (runner: QueryRunner): QueryRunner => {
    // The runner's own methods, bound to it as the owner whatever `this` they are called with
    // (a routing runner calls them with itself as `this`).
    const wrap = (name: keyof QueryRunner, around: (call: () => Promise<unknown>) => unknown) => {
      const method = runner[name] as Method;
      Object.defineProperty(runner, name, {
        configurable: true,
        writable: true,
        value: function (this: QueryRunner, ...args: unknown[]) {
          return around(() => method.apply(this, args));
        },
      });
    };
    const depth = () => (runner as unknown as { transactionDepth: number }).transactionDepth;
    wrap("query", async (call) => (await enter(runner), call()));
    wrap("startTransaction", async (call) => {
      await enter(runner, depth() === 0);
      try {
        return await call();
      } catch (error) {
        if (!runner.isTransactionActive) free(runner);
        throw error;
      }
    });
    const ending = async (call: () => Promise<unknown>) => {
      try {
        return await call();
      } finally {
        if (depth() === 0 || !runner.isTransactionActive) free(runner);
      }
    };
    wrap("commitTransaction", ending);
    wrap("rollbackTransaction", ending);
    wrap("release", async (call) => {
      // A runner released inside its transaction gives the connection back all the same.
      if (owner === runner && runner.isTransactionActive) {
        await Promise.resolve(runner.rollbackTransaction()).catch(() => undefined);
      }
      free(runner);
      return call();
    });
    return runner;
  };

  // The driver's, so that DataSource.createQueryRunner() still gives each runner its manager.
  const { driver } = dataSource;
  const shared = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode: ReplicationMode = "master") => {
    runnerClass ??= shared(mode).constructor as RunnerClass;
    return gate(new runnerClass(driver, mode));
  };
}
