import type { DataSource, EntityManager, QueryRunner, ReplicationMode } from "typeorm";
import { RdbmsSchemaBuilder } from "typeorm/schema-builder/RdbmsSchemaBuilder";

/** Creates the query runners of one view: a runner of the base scoped to `scope`. */
export type ScopedRunnerFactory = (scope: string, mode?: ReplicationMode) => QueryRunner;

/** The views of one base DataSource (see {@link viewsOf}). */
export interface DataSourceViews {
  /** A new view of the base scoped to `scope`. */
  of(scope: string): DataSource;
  /** Whether `dataSource` is one of these views: closing it closes nothing. */
  owns(dataSource: DataSource): boolean;
}

/**
 * Makes views of `base`: DataSources that share everything with it (driver, pool, metadata,
 * subscribers) but whose query runners are created by `createQueryRunner` for their `scope`
 * (e.g. a tenant's schema). A tenant of a shared database costs one such view, not a
 * DataSource of its own. Its schema builder (synchronize, verify) runs on its own runners
 * too. Closing a view closes nothing (the base is closed by its owner).
 *
 * Every view of one base is an instance of one class whose prototype chain reaches `base`:
 * a view holds two fields (its scope and its driver), and all of them share one hidden class,
 * so TypeORM's code runs on a new tenant as fast as on a known one. `manager` is made on
 * each read, as `createQueryRunner()` makes one per runner: a view keeps none.
 */
export function viewsOf(base: DataSource, createQueryRunner: ScopedRunnerFactory): DataSourceViews {
  // The view's driver: the base's, whose schema builder works on the view's runners.
  class ViewDriver {
    readonly #view: DataSource;

    constructor(view: DataSource) {
      this.#view = view;
    }

    createSchemaBuilder(): RdbmsSchemaBuilder {
      return new RdbmsSchemaBuilder(this.#view);
    }
  }
  Object.setPrototypeOf(ViewDriver.prototype, base.driver);

  class DataSourceView {
    readonly #scope: string;
    readonly driver: DataSource["driver"];

    constructor(scope: string) {
      this.#scope = scope;
      this.driver = new ViewDriver(
        this as unknown as DataSource,
      ) as unknown as DataSource["driver"];
    }

    get manager(): EntityManager {
      return (this as unknown as DataSource).createEntityManager();
    }

    createQueryRunner(mode?: ReplicationMode): QueryRunner {
      return createQueryRunner(this.#scope, mode);
    }

    destroy(): Promise<void> {
      return Promise.resolve();
    }
  }
  Object.setPrototypeOf(DataSourceView.prototype, base);

  return {
    of: (scope) => new DataSourceView(scope) as unknown as DataSource,
    owns: (dataSource) => dataSource instanceof DataSourceView,
  };
}
