import type { DataSource, QueryRunner, ReplicationMode } from "typeorm";
import { Broadcaster } from "typeorm/subscriber/Broadcaster";

/** The connection a routing query runner got once it knew where to go. */
export interface RunnerBinding {
  /** The real query runner, on the target's connection (or the pinned transaction's). */
  readonly queryRunner: QueryRunner;
  /** Gives the connection back (and the pool reference that kept its target open). */
  release(): Promise<void>;
}

/** Picks the target when SQL is about to run, and returns the connection to run it on. */
export type RunnerBinder = (mode: ReplicationMode) => Promise<RunnerBinding>;

// Runner methods that return promises without being declared `async` in TypeORM: they must
// wait for the binding like the async ones.
const DEFERRED = new Set<PropertyKey>(["connect", "stream", "changeTableComment"]);
// What stays the routing runner's own, bound or not, so that identities never change under
// the code holding them (subscribers get this runner, `manager` runs on it).
const OWN = new Set<PropertyKey>(["manager", "broadcaster", "data"]);

/**
 * A QueryRunner that does not know its database until SQL is about to run. TypeORM creates it
 * synchronously (a query builder's `getMany()`, `manager.save()`, a tree repository); its
 * first asynchronous call asks `bind` for the connection, in the async context of that call
 * (the tenant then in `withTenant`). The connection, and the pool reference that keeps its
 * target open, are held until `release()`: nothing is evicted under a running builder, stream
 * or transaction.
 *
 * Before it is bound, synchronous helpers (SQL text builders) run on a never-connected runner
 * of `dataSource`, which shares its `data`, `manager` and `broadcaster` with this runner.
 */
export function createRoutingQueryRunner(
  dataSource: DataSource,
  unbound: QueryRunner,
  mode: ReplicationMode,
  bind: RunnerBinder,
): QueryRunner {
  let binding: RunnerBinding | undefined;
  let binding$: Promise<RunnerBinding> | undefined;
  let released = false;
  const boundMethods = new Map<PropertyKey, unknown>();

  const ensureBound = (): Promise<RunnerBinding> => {
    if (binding) return Promise.resolve(binding);
    if (released) return Promise.reject(new Error("Query runner already released."));
    binding$ ??= bind(mode).then(
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

  const proxy: QueryRunner = new Proxy(unbound, {
    get(target, property) {
      if (property === "release") return release;
      if (property === "isReleased") return released;
      if (OWN.has(property)) return target[property as keyof QueryRunner];
      const real = binding?.queryRunner;
      if (real) {
        const value = real[property as keyof QueryRunner] as unknown;
        if (typeof value !== "function") return value;
        let method = boundMethods.get(property);
        if (!method) {
          method = (value as (...args: unknown[]) => unknown).bind(real);
          boundMethods.set(property, method);
        }
        return method;
      }
      const value = target[property as keyof QueryRunner] as unknown;
      if (typeof value !== "function") return value;
      if (!DEFERRED.has(property) && value.constructor.name !== "AsyncFunction") return value;
      return (...args: unknown[]) =>
        ensureBound().then(({ queryRunner }) =>
          Reflect.apply(
            queryRunner[property as keyof QueryRunner] as (...a: unknown[]) => unknown,
            queryRunner,
            args,
          ),
        );
    },
    set(target, property, value) {
      const real = binding?.queryRunner;
      if (real && !OWN.has(property)) Reflect.set(real, property, value);
      else Reflect.set(target, property, value);
      return true;
    },
  });
  Object.assign(unbound, {
    manager: dataSource.createEntityManager(proxy),
    broadcaster: new Broadcaster(proxy),
  });
  return proxy;
}
