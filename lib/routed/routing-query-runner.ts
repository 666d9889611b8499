import type {
  DataSource,
  EntityTarget,
  ObjectLiteral,
  QueryRunner,
  ReplicationMode,
} from "typeorm";
import { QueryRunnerAlreadyReleasedError } from "typeorm";
import { Broadcaster } from "typeorm/subscriber/Broadcaster";

/** The connection a routing query runner got once it knew where to go. */
export interface RunnerBinding {
  /** The real query runner, on the target's connection (or the pinned transaction's). */
  readonly queryRunner: QueryRunner;
  /** Gives the connection back (and the pool reference that kept its target open). */
  release(): Promise<void>;
  /**
   * The error a statement of the runner failed with, as the routing error it means (a lost
   * connection, a dropped tenant), or as it is. Not called once the runner was released.
   */
  failed(error: unknown): Promise<unknown>;
}

/** The entity a statement names, set on a routing runner before it is bound. */
export interface EntityHint {
  readonly entity: EntityTarget<ObjectLiteral>;
  readonly operation: "read" | "write";
}

/**
 * Tells a routing runner that is not bound yet which entity its first statement will name
 * (for a runner handed to a query builder): ignored once it is bound, and by other runners.
 */
export const HINT_ENTITY = Symbol.for("typeorm-router.hint-entity");

/** Where a routing query runner will run, decided when its first SQL is about to run. */
export interface RunnerBinder {
  /**
   * Picks the target in the context of that moment (by `hint` when the runner was told the
   * entity of its first statement) and returns the connection to use.
   */
  bind(mode: ReplicationMode, hint?: EntityHint): Promise<RunnerBinding>;
  /**
   * The binding at once, when the target is known and open now and no transaction is open
   * (the statement then needs no routing runner); `undefined` otherwise.
   */
  bindNow?(): RunnerBinding | undefined;
  /**
   * Whether it will join a transaction already open in this context (`router.transaction`):
   * until it is bound, the runner then reports `isTransactionActive`, as its connection will.
   */
  joinsTransaction(): boolean;
}

// Runner methods that return promises without being declared `async` in TypeORM: they must
// wait for the binding like the async ones.
const DEFERRED = new Set<PropertyKey>(["connect", "stream", "changeTableComment"]);
// What stays the routing runner's own, bound or not, so that identities never change under
// the code holding them (subscribers get this runner, `manager` runs on it).
const OWN = new Set<PropertyKey>(["manager", "broadcaster", "data"]);
// Methods that must run on the real runner itself: `connect` registers `this` with the driver
// (PostgreSQL's connectedQueryRunners, unregistered by the real runner's release).
const ON_REAL = new Set<PropertyKey>(["connect"]);
// Methods that reach the database (every statement goes through `query` or `stream`): their
// failures go through the binding's `failed`.
const TRANSLATED = new Set<PropertyKey>(["connect", "query", "stream"]);

type Method = (...args: unknown[]) => unknown;

/**
 * A QueryRunner that does not know its database until SQL is about to run. TypeORM creates it
 * synchronously (a query builder's `getMany()`, `manager.save()`, a tree repository); its
 * first asynchronous call asks `binder` for the connection, in the async context of that call
 * (the tenant then in `withTenant`). The connection, and the pool reference that keeps its
 * target open, are held until `release()`: nothing is evicted under a running builder, stream
 * or transaction.
 *
 * Before it is bound, synchronous helpers (SQL text builders) run on `unbound`, a
 * never-connected runner made for this runner alone, which keeps its `data`, `manager` and
 * `broadcaster`. Methods assigned on it (a spy, a patch, a restore) stay in force, before and
 * after it is bound; once bound, the real runner's methods run with this runner as `this`, so
 * the calls they make in turn go through those patches too, as on a plain runner.
 */
export function createRoutingQueryRunner(
  dataSource: DataSource,
  unbound: QueryRunner,
  mode: ReplicationMode,
  binder: RunnerBinder,
): QueryRunner {
  let binding: RunnerBinding | undefined;
  let binding$: Promise<RunnerBinding> | undefined;
  let released = false;
  let hint: EntityHint | undefined;
  const patched = new Map<PropertyKey, unknown>();
  const deferredMethods = new Map<PropertyKey, Method>();
  const boundMethods = new Map<PropertyKey, Method>();

  const ensureBound = (): Promise<RunnerBinding> => {
    if (binding) return Promise.resolve(binding);
    if (released) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    binding$ ??= binder.bind(mode, hint).then(
      (bound) => {
        const real = bound.queryRunner as QueryRunner & { data: unknown };
        real.data = unbound.data;
        binding = bound;
        return bound;
      },
      (error: unknown) => {
        binding$ = undefined;
        throw error;
      },
    );
    return binding$;
  };

  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    const pending = binding$;
    if (!pending) return;
    const bound = await pending.catch(() => undefined);
    await bound?.release();
  };

  // Bound: the real runner's member, its methods called on this runner, so that what they
  // call in turn (`this.query`) goes through it and its patches, as on a plain runner; ON_REAL
  // ones on the real runner itself; and TRANSLATED ones with their failures translated.
  const boundMember = ({ queryRunner: real, failed }: RunnerBinding, property: PropertyKey) => {
    const onReal = ON_REAL.has(property);
    if (!onReal && !TRANSLATED.has(property)) return Reflect.get(real, property, proxy) as unknown;
    let method = boundMethods.get(property);
    if (!method) {
      const self = onReal ? real : proxy;
      const call = (args: unknown[]) =>
        Reflect.apply(Reflect.get(real, property, self) as Method, self, args);
      method = TRANSLATED.has(property)
        ? (...args: unknown[]) =>
            Promise.resolve(call(args)).catch(async (error: unknown) => {
              throw released ? error : await failed(error);
            })
        : (...args: unknown[]) => call(args);
      boundMethods.set(property, method);
    }
    return method;
  };

  // Before binding: one stable stand-in per method, which binds first.
  const deferredMethod = (property: PropertyKey): Method => {
    let method = deferredMethods.get(property);
    if (!method) {
      // Called on this runner too, like the bound methods (see the get trap); the real method,
      // never a patch (which may be what called this stand-in).
      method = (...args: unknown[]) =>
        ensureBound().then((bound) =>
          Reflect.apply(boundMember(bound, property) as Method, proxy, args),
        );
      deferredMethods.set(property, method);
    }
    return method;
  };

  const proxy: QueryRunner = new Proxy(unbound, {
    get(target, property) {
      // A spy on `release` too (it calls the release it wrapped).
      if (patched.has(property)) return patched.get(property);
      if (property === "release") return release;
      if (property === "isReleased") return released;
      if (OWN.has(property)) return own(target, property);
      if (binding) return boundMember(binding, property);
      if (property === "isTransactionActive") return binder.joinsTransaction();
      const value = Reflect.get(target, property, proxy) as unknown;
      if (typeof value !== "function") return value;
      if (!DEFERRED.has(property) && value.constructor.name !== "AsyncFunction") return value;
      return deferredMethod(property);
    },
    defineProperty(target, property, descriptor) {
      // sinon and friends install their spies with Object.defineProperty.
      if ("value" in descriptor && typeof descriptor.value === "function" && !OWN.has(property)) {
        patched.set(property, descriptor.value);
        return true;
      }
      return Reflect.defineProperty(binding?.queryRunner ?? target, property, descriptor);
    },
    deleteProperty(target, property) {
      if (patched.delete(property)) return true;
      return Reflect.deleteProperty(binding?.queryRunner ?? target, property);
    },
    set(target, property, value) {
      if (property === HINT_ENTITY) {
        hint ??= binding$ ? undefined : (value as EntityHint);
        return true;
      }
      // Functions assigned from outside (spies, patches and their restores) are this runner's
      // own; state goes where TypeORM keeps it.
      if (property === "manager") manager = value;
      else if (property === "broadcaster") broadcaster = value;
      else if (typeof value === "function") patched.set(property, value);
      else if (binding && !OWN.has(property)) Reflect.set(binding.queryRunner, property, value);
      else Reflect.set(target, property, value);
      return true;
    },
  });
  // The manager and the broadcaster run on this runner, not on the stand-in: made on first
  // use (most builders never ask for them).
  let manager: unknown;
  let broadcaster: unknown;
  const own = (target: QueryRunner, property: PropertyKey): unknown => {
    if (property === "manager") return (manager ??= dataSource.createEntityManager(proxy));
    if (property === "broadcaster") return (broadcaster ??= new Broadcaster(proxy));
    return Reflect.get(target, property, proxy);
  };
  return proxy;
}

/**
 * The real runner of `binding`, handed out as it is (a query builder whose target is open
 * now): releasing it also releases the binding (its pool reference), and its statements'
 * failures go through the binding's `failed`, as a routing runner's do.
 */
export function boundRunner(binding: RunnerBinding): QueryRunner {
  const runner = binding.queryRunner as BoundRunner;
  // Plain assignments of shared functions: the same few steps for every runner (no
  // per-runner closures, no property redefinitions), so this path stays cheap.
  runner[BOUND] = { binding, query: runner.query as Method, stream: runner.stream as Method };
  runner.release = releaseBound;
  runner.query = queryBound as QueryRunner["query"];
  runner.stream = streamBound as QueryRunner["stream"];
  return runner;
}

const BOUND = Symbol("typeorm-router.bound");

/** What {@link boundRunner} keeps on the runner: its binding and the methods it replaced. */
interface BoundState {
  readonly binding: RunnerBinding;
  readonly query: Method;
  readonly stream: Method;
}

type BoundRunner = QueryRunner & { [BOUND]: BoundState };

function releaseBound(this: BoundRunner): Promise<void> {
  return this[BOUND].binding.release();
}

// The replaced method `name`, its failures translated by the binding (one promise added,
// not an async function's two: this runs for every builder statement).
function translatedBound(name: "query" | "stream") {
  return function (this: BoundRunner, ...args: unknown[]): Promise<unknown> {
    const state = this[BOUND];
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(Reflect.apply(state[name], this, args));
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(undefined, async (error: unknown) => {
      throw await state.binding.failed(error);
    });
  };
}

const queryBound = translatedBound("query");
const streamBound = translatedBound("stream");

/**
 * Makes never-connected runners of `dataSource`'s driver, one new object per call. TypeORM's
 * SQLite drivers hand out one shared runner (`driver.createQueryRunner()` is a singleton), so
 * the runner class is constructed directly instead.
 */
export function unboundRunners(dataSource: DataSource): (mode: ReplicationMode) => QueryRunner {
  type RunnerClass = new (driver: DataSource["driver"], mode: ReplicationMode) => QueryRunner;
  let runnerClass: RunnerClass | undefined;
  return (mode) => {
    runnerClass ??= dataSource.driver.createQueryRunner(mode).constructor as RunnerClass;
    return new runnerClass(dataSource.driver, mode);
  };
}
