import {
  QueryBuilder,
  SelectQueryBuilder,
  type DataSource,
  type QueryRunner,
  type ReplicationMode,
} from "typeorm";
import type { EntityClass, Operation } from "../routing/router-chain";
import {
  boundRunner,
  createRoutingQueryRunner,
  unboundRunners,
  type RunnerBinder,
} from "./routing-query-runner";

/** What a routing runner knows about the statement it will run. */
export interface StatementHint {
  /** The entity the statement names (a query builder's main alias), when it names one. */
  readonly entity?: EntityClass | string;
  readonly operation: Operation;
}

/** Turns a statement hint into the binder of one routing query runner. */
export type HintBinder = (hint: StatementHint) => RunnerBinder;

const ROUTE_BUILDER = Symbol.for("typeorm-router.route-builder");
const HOOKED = Symbol.for("typeorm-router.obtain-query-runner");

interface BuilderInternals {
  readonly queryRunner?: QueryRunner;
  readonly dataSource?: DataSource;
  readonly connection?: DataSource;
  readonly expressionMap: {
    readonly queryType: string;
    readonly mainAlias?: {
      readonly hasMetadata: boolean;
      readonly metadata: { readonly target: EntityClass | string };
    };
  };
}

type RouteBuilder = (builder: BuilderInternals) => QueryRunner;

/**
 * Makes `dataSource` (a never-connected DataSource whose metadata is built) route at execution
 * time: every QueryRunner it creates (for a query builder, `manager.save()`, a tree repository,
 * `query()`) is a routing runner that picks its database when its first SQL is about to run.
 * A query builder's runner routes by the entity the builder names (its main alias: `from`,
 * `into`, `update`, a relation's owner) and by its kind (select = read); any other runner by
 * `hints` of the DataSource's placement group.
 *
 * The DataSource reports `isInitialized`, so third-party code that checks it proceeds; it
 * never opens a connection of its own.
 */
export function makeRoutingDataSource(dataSource: DataSource, bindFor: HintBinder): void {
  installBuilderHook();
  const unbound = unboundRunners(dataSource);
  const create = (mode: ReplicationMode, hint: StatementHint): QueryRunner =>
    createRoutingQueryRunner(dataSource, unbound(mode), mode, bindFor(hint));
  // A builder obtains its runner as it executes, in the context of that call: when its
  // target is open now, it gets the target's own runner; else a routing runner that waits.
  const route: RouteBuilder = (builder) => {
    const { queryType, mainAlias } = builder.expressionMap;
    const operation: Operation = queryType === "select" ? "read" : "write";
    const entity = mainAlias?.hasMetadata ? mainAlias.metadata.target : undefined;
    const mode = operation === "read" ? "slave" : "master";
    const binder = bindFor({ entity, operation });
    const now = binder.bindNow?.();
    return now
      ? boundRunner(now)
      : createRoutingQueryRunner(dataSource, unbound(mode), mode, binder);
  };
  const own = (value: unknown) => ({ value, writable: true, configurable: true });
  // Own properties, defined rather than assigned: a view's prototype may hold read-only ones.
  Object.defineProperties(dataSource, {
    [ROUTE_BUILDER]: own(route),
    createQueryRunner: own((mode: ReplicationMode = "master") =>
      create(mode, { operation: mode === "slave" ? "read" : "write" }),
    ),
    // Reads ask for a "slave" runner, which is how a routing runner learns it only reads.
    defaultReplicationModeForReads: own((): ReplicationMode => "slave"),
    isInitialized: own(true),
  });
}

/**
 * A DataSource on `base`'s metadata whose every statement goes where `bindFor` says (e.g. one
 * fixed database), whatever the context: what `router.dataSourceFor()` hands out. It holds no
 * connection and nothing to evict: each query runner takes a pool reference while it works.
 * `options` are the ones it reports (the target's).
 */
export function createRoutingView(
  base: DataSource,
  options: DataSource["options"],
  bindFor: HintBinder,
): DataSource {
  const view = Object.create(base) as DataSource;
  let manager: DataSource["manager"] | undefined;
  Object.defineProperties(view, {
    options: { value: options },
    manager: { get: () => (manager ??= view.createEntityManager()) },
    destroy: { value: () => Promise.resolve() },
  });
  makeRoutingDataSource(view, bindFor);
  return view;
}

/** Whether `dataSource` routes at execution time (see {@link makeRoutingDataSource}). */
export function isRoutingDataSource(dataSource: DataSource): boolean {
  return ROUTE_BUILDER in dataSource;
}

// TypeORM's query builders obtain their runner from `this.dataSource.createQueryRunner()`,
// which cannot see the builder. This hook (installed once, on the two classes that define
// `obtainQueryRunner`) hands the builder to routing DataSources so that they can route by the
// entity it names; for every other DataSource it calls TypeORM's own method unchanged.
function installBuilderHook(): void {
  for (const prototype of [QueryBuilder.prototype, SelectQueryBuilder.prototype]) {
    if (Object.prototype.hasOwnProperty.call(prototype, HOOKED)) continue;
    const target = prototype as unknown as Record<PropertyKey, unknown>;
    const original = target.obtainQueryRunner as (this: BuilderInternals) => QueryRunner;
    Object.defineProperty(prototype, "obtainQueryRunner", {
      configurable: true,
      writable: true,
      value: function obtainQueryRunner(this: BuilderInternals): QueryRunner {
        if (this.queryRunner) return this.queryRunner;
        const owner = (this.dataSource ?? this.connection) as unknown as
          Partial<Record<symbol, RouteBuilder>> | undefined;
        const route = owner?.[ROUTE_BUILDER];
        return route ? route(this) : original.call(this);
      },
    });
    Object.defineProperty(prototype, HOOKED, { value: true });
  }
}
