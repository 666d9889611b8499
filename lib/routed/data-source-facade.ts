import {
  CannotConnectAlreadyConnectedError,
  CannotExecuteNotConnectedError,
  type DataSource,
  type EntityManager,
  type EntityTarget,
  type ObjectLiteral,
} from "typeorm";
import { RouterClosedError } from "../errors";
import type { ContextMigrations } from "../migrations/context-migrations";

/** What the router's DataSource facade asks of the router. */
export interface FacadeHooks {
  /** Whether the router is open: the facade's `isInitialized`. */
  isOpen(): boolean;
  /** Closes the router: the facade's `destroy()`. */
  close(): Promise<void>;
  /** Its `runMigrations()`, `undoLastMigration()` and `showMigrations()`. */
  readonly migrations: Pick<ContextMigrations, "run" | "undoLast" | "show">;
  /**
   * Runs `fn` on the DataSource of the tenant in context (holding it open meanwhile): its
   * `synchronize()` and `dropDatabase()`.
   *
   * @throws NoTenantContextError (naming `method`) with no tenant in context.
   */
  inTenantDatabase<T>(method: string, fn: (dataSource: DataSource) => Promise<T>): Promise<T>;
}

// TypeORM 0.3's errors take the DataSource's name (1.x has no names, and takes nothing).
type NamedError = new (name?: string) => Error;
const nameOf = (dataSource: DataSource) => (dataSource as { name?: string }).name;

/**
 * The DataSource third-party code gets from `manager.connection` / `.dataSource` (and
 * `repository.manager.connection`): `base` (a routing DataSource that knows every placement's
 * metadata and routes each statement when it runs) whose manager, repositories and
 * transactions are the router's. Its lifecycle is the router's: `isInitialized` while the
 * router is open, `destroy()` closes the router, `initialize()` fails as on an initialized
 * DataSource. `synchronize()`, `dropDatabase()`, `driver.createSchemaBuilder()` and the
 * migration methods work on the database of the tenant in context (see ContextMigrations),
 * and throw with none.
 */
export function createDataSourceFacade(
  base: DataSource,
  manager: EntityManager,
  hooks: FacadeHooks,
): DataSource {
  // The methods that work on the tenant's database refuse once the router is closed.
  const whileOpen =
    <A extends unknown[], T>(method: string, fn: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      if (!hooks.isOpen()) throw RouterClosedError.used(`${method}() on the router's DataSource`);
      return fn(...args);
    };
  const { migrations } = hooks;
  // `driver.createSchemaBuilder()` (what schema tools and TypeORM's own tests call): its
  // build() and log() compare the tenant's own DataSource with its database.
  const schemaBuilder = {
    build: whileOpen("driver.createSchemaBuilder().build", () =>
      hooks.inTenantDatabase("driver.createSchemaBuilder().build", (tenant) =>
        tenant.driver.createSchemaBuilder().build(),
      ),
    ),
    log: whileOpen("driver.createSchemaBuilder().log", () =>
      hooks.inTenantDatabase("driver.createSchemaBuilder().log", (tenant) =>
        tenant.driver.createSchemaBuilder().log(),
      ),
    ),
  };
  const driver = Object.create(base.driver, {
    createSchemaBuilder: { value: () => schemaBuilder },
  }) as DataSource["driver"];
  const facade: DataSource = Object.create(base, {
    driver: { value: driver },
    manager: { value: manager },
    getRepository: {
      value: (target: EntityTarget<ObjectLiteral>) => manager.getRepository(target),
    },
    getTreeRepository: {
      value: (target: EntityTarget<ObjectLiteral>) => manager.getTreeRepository(target),
    },
    transaction: { value: manager.transaction.bind(manager) },
    isInitialized: { get: () => hooks.isOpen() },
    initialize: {
      value: async (): Promise<DataSource> => {
        if (!hooks.isOpen()) throw RouterClosedError.used("initialize() the router's DataSource");
        throw new (CannotConnectAlreadyConnectedError as NamedError)(nameOf(facade));
      },
    },
    destroy: {
      value: async (): Promise<void> => {
        if (!hooks.isOpen())
          throw new (CannotExecuteNotConnectedError as NamedError)(nameOf(facade));
        await hooks.close();
      },
    },
    synchronize: {
      value: whileOpen("synchronize", (dropBeforeSync: boolean = false) =>
        hooks.inTenantDatabase("synchronize", (tenant) => tenant.synchronize(dropBeforeSync)),
      ),
    },
    dropDatabase: {
      value: whileOpen("dropDatabase", () =>
        hooks.inTenantDatabase("dropDatabase", (tenant) => tenant.dropDatabase()),
      ),
    },
    runMigrations: { value: whileOpen("runMigrations", migrations.run.bind(migrations)) },
    undoLastMigration: {
      value: whileOpen("undoLastMigration", migrations.undoLast.bind(migrations)),
    },
    showMigrations: { value: whileOpen("showMigrations", migrations.show.bind(migrations)) },
  }) as DataSource;
  return facade;
}
