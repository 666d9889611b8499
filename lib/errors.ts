/**
 * The error hierarchy of typeorm-router.
 *
 * Every error says what happened, where, and how to fix it; has a stable `code`; and keeps the
 * driver or user error that caused it as `cause`. Errors are built through static factories so
 * that the wording stays in one place.
 */

/** Stable machine-readable codes, one per error class. */
export type RoutingErrorCode =
  | "BOOTSTRAP_FAILED"
  | "INVALID_CONFIGURATION"
  | "NO_TENANT_CONTEXT"
  | "UNKNOWN_TENANT"
  | "INVALID_TENANT_ID"
  | "UNKNOWN_DATABASE"
  | "ENTITY_NOT_DISCOVERED"
  | "READ_ONLY_DATABASE"
  | "CROSS_DATABASE_TRANSACTION"
  | "UNROUTABLE_OPERATION"
  | "REGISTRY_FROZEN"
  | "DATASOURCE_INIT_FAILED"
  | "POOL_EXHAUSTED"
  | "ROUTER_CLOSED"
  | "MIGRATION_ROUTING"
  | "MIGRATION_LOCKED"
  | "MIGRATION_FAILED"
  | "TENANT_EXISTS"
  | "CONFIRMATION_REQUIRED"
  | "UNKNOWN_MIGRATION"
  | "RESERVED_STORAGE"
  | "UNOWNED_STORAGE"
  | "NAME_TOO_LONG"
  | "MIGRATION_INTERRUPTED"
  | "DATABASE_UNAVAILABLE";

/**
 * Base class of every error thrown by typeorm-router.
 *
 * Catch this to handle any routing failure; switch on `code` to tell them apart.
 */
export abstract class RoutingError extends Error {
  /** A stable code that identifies the kind of failure. */
  abstract readonly code: RoutingErrorCode;

  /**
   * @internal Build errors through the static factories. The one constructor every subclass
   * shares: public so that `expect(fn).toThrow(UnknownTenantError)` type-checks.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found while bootstrapping; a {@link BootstrapError} lists them all. */
export interface BootstrapProblem {
  /** What kind of problem this is. */
  readonly kind:
    | "decorator-on-non-entity"
    | "undiscovered-entity"
    | "conflicting-placement"
    | "unknown-alias"
    | "cross-placement-relation"
    | "empty-glob"
    | "import-failed"
    | "not-an-entity"
    | "invalid-metadata"
    | "invalid-migration"
    | "unknown-placement";
  /** A full sentence: what is wrong, where, and how to fix it. */
  readonly message: string;
  /** The underlying error, when one was thrown (for example by a failed glob import). */
  readonly cause?: unknown;
}

/**
 * Thrown by `TenantRouter.create` when discovery or validation finds problems.
 *
 * It lists every problem found, not only the first, so that one fix-and-rerun cycle is enough.
 */
export class BootstrapError extends RoutingError {
  readonly code = "BOOTSTRAP_FAILED" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** Every problem found at bootstrap. */
    readonly problems: readonly BootstrapProblem[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Builds the error from the list of problems found. */
  static fromProblems(problems: readonly BootstrapProblem[]): BootstrapError {
    const lines = problems.map((problem, index) => `  ${index + 1}. ${problem.message}`);
    const cause = problems.find((problem) => problem.cause !== undefined);
    return new BootstrapError(
      `TenantRouter.create found ${problems.length} problem(s) with the entities and routing ` +
        `rules; nothing was opened:\n${lines.join("\n")}`,
      problems,
      cause ? { cause: cause.cause } : undefined,
    );
  }
}

/** Thrown when the options given to `TenantRouter.create` (or a helper) are invalid. */
export class ConfigurationError extends RoutingError {
  readonly code = "INVALID_CONFIGURATION" as const;

  /** A generic invalid option: `where` names the option, `fix` says what to do. */
  static invalid(where: string, problem: string, fix: string): ConfigurationError {
    return new ConfigurationError(`Invalid option ${where}: ${problem}. ${fix}`);
  }

  /** A user-supplied option callback threw. */
  static callbackFailed(where: string, cause: unknown, fix: string): ConfigurationError {
    return new ConfigurationError(`${where} threw: ${messageOf(cause)}. ${fix}`, { cause });
  }
}

/** Thrown when an operation needs a tenant but none is in the current context. */
export class NoTenantContextError extends RoutingError {
  readonly code = "NO_TENANT_CONTEXT" as const;

  /** An `@External` entity was used with no tenant in context. */
  static forEntity(entityName: string, operation: string): NoTenantContextError {
    return new NoTenantContextError(
      `Cannot ${operation} entity "${entityName}": it is @External (it lives in every tenant ` +
        `database, never in "default") and no tenant is in context. Wrap the call in ` +
        `withTenant(tenantId, () => ...) or use the tenant middleware; typeorm-router never ` +
        `falls back to "default".`,
    );
  }

  /** A statement that names no entity ran on the tenant databases with no tenant in context. */
  static forStatement(what: string): NoTenantContextError {
    return new NoTenantContextError(
      `Cannot run ${what} on the tenant databases: it names no entity, and no tenant is in ` +
        `context. Wrap the call in withTenant(tenantId, () => ...), or run it on an explicit ` +
        `database with router.query(target, sql); typeorm-router never falls back to "default".`,
    );
  }

  /**
   * A method of the router's DataSource that works on one database (`synchronize()`,
   * `runMigrations()`, …) was called with no tenant in context.
   */
  static forDataSource(method: string): NoTenantContextError {
    const elsewhere = /Migration/.test(method)
      ? `or use router.migrate() / router.revert() / router.migrationStatus() to name the ` +
        `databases (default, the other aliases, every tenant)`
      : `or call it on an explicit database's DataSource, e.g. ` +
        `(await router.dataSourceOf("default")).${method}()`;
    return new NoTenantContextError(
      `dataSource.${method}() on the router's DataSource works on the database of the tenant ` +
        `in context, and no tenant is in context. Run it inside withTenant(tenantId, () => ...), ` +
        `${elsewhere}; typeorm-router never falls back to "default".`,
    );
  }

  /** `requireTenant()` was called with no tenant in context. */
  static required(): NoTenantContextError {
    return new NoTenantContextError(
      `requireTenant() was called with no tenant in context. Run this code inside ` +
        `withTenant(tenantId, () => ...) or behind the tenant middleware.`,
    );
  }

  /** The tenant middleware could not resolve a tenant from a request. */
  static fromRequest(): NoTenantContextError {
    return new NoTenantContextError(
      `The tenant middleware could not resolve a tenant from the request (resolve() returned ` +
        `nothing). Send the tenant the way resolve() reads it, or pass { optional: true } to ` +
        `let requests without a tenant through.`,
    );
  }
}

/** Thrown when a tenant id is valid but not known to the tenant directory. */
export class UnknownTenantError extends RoutingError {
  readonly code = "UNKNOWN_TENANT" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The tenant that was asked for. */
    readonly tenant: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** `tenant` is not in the directory; `source` says how tenants are known. */
  static notListed(tenant: string, source: string): UnknownTenantError {
    return new UnknownTenantError(
      `Unknown tenant "${tenant}": it is not listed by ${source}. No connection was opened. ` +
        `Add the tenant there (or with router.tenants.create()) before routing to it.`,
      tenant,
    );
  }

  /** `tenant` is being dropped: new work is refused while in-flight work drains. */
  static leaving(tenant: string): UnknownTenantError {
    return new UnknownTenantError(
      `Unknown tenant "${tenant}": it is being dropped (router.tenants.drop), so new work is ` +
        `refused while its in-flight work drains. No connection was opened. Stop routing ` +
        `requests to it.`,
      tenant,
    );
  }

  /**
   * The database answered that `tenant`'s database or tables do not exist, and the directory
   * no longer lists it: it was dropped (perhaps by another process).
   */
  static dropped(tenant: string, cause: unknown): UnknownTenantError {
    return new UnknownTenantError(
      `Unknown tenant "${tenant}": its storage is gone (${messageOf(cause)}) and the tenant ` +
        `directory no longer lists it, so it was dropped, perhaps by another process. Stop ` +
        `routing requests to it.`,
      tenant,
      { cause },
    );
  }
}

/** Thrown when a tenant id does not match the allowed pattern; nothing has been touched. */
export class InvalidTenantIdError extends RoutingError {
  readonly code = "INVALID_TENANT_ID" as const;

  /** `value` failed `pattern` in `where`. */
  static rejected(value: unknown, pattern: RegExp, where: string): InvalidTenantIdError {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    return new InvalidTenantIdError(
      `Invalid tenant id ${shown} in ${where}: tenant ids must match ${pattern} (lowercase ` +
        `letters, digits, "_" and "-", 1 to 63 characters, starting with a letter or digit). ` +
        `Nothing was created or opened. Normalise the id before routing to it.`,
    );
  }
}

/** Thrown when a router answers with, or a call names, an alias that is not configured. */
export class UnknownDatabaseError extends RoutingError {
  readonly code = "UNKNOWN_DATABASE" as const;

  /** `alias` is not one of `known`; `where` says who asked for it. */
  static forAlias(alias: string, known: readonly string[], where: string): UnknownDatabaseError {
    return new UnknownDatabaseError(
      `Unknown database alias "${alias}" (from ${where}). Configured aliases: ` +
        `${known.map((name) => `"${name}"`).join(", ")}. Add it under "databases" in ` +
        `TenantRouter.create or fix the router.`,
    );
  }
}

/** Thrown when an entity that was not discovered at bootstrap is used through the router. */
export class EntityNotDiscoveredError extends RoutingError {
  readonly code = "ENTITY_NOT_DISCOVERED" as const;

  /** `entityName` is not among the router's entities. */
  static forEntity(entityName: string): EntityNotDiscoveredError {
    return new EntityNotDiscoveredError(
      `Entity "${entityName}" was not discovered by this TenantRouter, so it has no placement. ` +
        `Make sure it is an @Entity and is provided in the "entities" option (a class or a ` +
        `glob that matches its file).`,
    );
  }
}

/** Thrown when a write targets a read-only database or entity outside test mode. */
export class ReadOnlyDatabaseError extends RoutingError {
  readonly code = "READ_ONLY_DATABASE" as const;

  /** A `operation` on `entityName` was routed to a read-only `database`. */
  static refused(what: string, database: string, reason: string): ReadOnlyDatabaseError {
    return new ReadOnlyDatabaseError(
      `Refused to write ${what} to ${database}: ${reason}. Nothing was sent to the database. ` +
        `Writes are allowed only in test mode (TenantRouter.create({ testMode: true })), ` +
        `which routes to a test copy.`,
    );
  }

  /** The read-only session of `database` refused a statement (`cause`: the driver error). */
  static bySession(database: string, cause: unknown): ReadOnlyDatabaseError {
    return new ReadOnlyDatabaseError(
      `${database} refused a write: it is configured readOnly: true, so its connections are ` +
        `read-only sessions and the statement was rolled back, nothing written. Send writes ` +
        `to a writable database, or run in test mode (TenantRouter.create({ testMode: true })).`,
      { cause },
    );
  }
}

/** Thrown when code inside `router.transaction()` touches a second database. */
export class CrossDatabaseTransactionError extends RoutingError {
  readonly code = "CROSS_DATABASE_TRANSACTION" as const;

  /** The transaction is pinned to `pinned` but `what` routed to `other`. */
  static touched(pinned: string, other: string, what: string): CrossDatabaseTransactionError {
    return new CrossDatabaseTransactionError(
      `This transaction is pinned to ${pinned}, but ${what} routed to ${other}. A transaction ` +
        `runs on one connection; the transaction will roll back. Move that work out of the ` +
        `transaction or into a transaction of its own.`,
    );
  }
}

/** Thrown when an operation gives the router nothing to route by (no entity, no target). */
export class UnroutableOperationError extends RoutingError {
  readonly code = "UNROUTABLE_OPERATION" as const;

  /** `operation` was called on the routed manager without an entity or a pinned transaction. */
  static withoutTarget(operation: string): UnroutableOperationError {
    return new UnroutableOperationError(
      `router.manager.${operation}() names no entity, so there is nothing to route it by, and ` +
        `no tenant is in context. Run it inside withTenant() (it then goes to the tenant's ` +
        `database), use router.query(target, sql, parameters) with an explicit alias or ` +
        `{ tenant }, call it on router.getRepository(Entity), or run it inside ` +
        `router.transaction() after the transaction has touched its database.`,
    );
  }

  /** `what` is not supported through the routed layer. */
  static unsupported(what: string, fix: string): UnroutableOperationError {
    return new UnroutableOperationError(`${what} is not supported by the routed layer. ${fix}`);
  }
}

/** Thrown by a routing decorator that runs after a router froze the registry. */
export class RegistryFrozenError extends RoutingError {
  readonly code = "REGISTRY_FROZEN" as const;

  /** `decorator` was applied to `className` after bootstrap. */
  static lateDecorator(decorator: string, className: string): RegistryFrozenError {
    return new RegistryFrozenError(
      `@${decorator}() ran on class "${className}" after a TenantRouter was created, so the ` +
        `router never saw it and would route it wrongly. Import the module that defines ` +
        `"${className}" before TenantRouter.create(), or list it in "entities".`,
    );
  }
}

/** Thrown when a DataSource for an alias or tenant fails to initialize. */
export class DataSourceInitError extends RoutingError {
  readonly code = "DATASOURCE_INIT_FAILED" as const;

  /** Opening `database` failed with `cause`. */
  static failed(database: string, cause: unknown): DataSourceInitError {
    return new DataSourceInitError(
      `Could not open ${database}: ${messageOf(cause)}. Check its connection options; the ` +
        `next call will try again.`,
      { cause },
    );
  }
}

/**
 * Thrown when a routed call cannot reach its database, or loses the connection while it runs:
 * the server is down, restarting or unreachable, or it (or a pooler in front of it, such as
 * PgBouncer) ended the session. The router keeps no broken connection: once the server is
 * back, the next call succeeds, with no restart. SQL errors (a unique violation, a syntax
 * error) are not this: they stay TypeORM's own `QueryFailedError`.
 */
export class DatabaseUnavailableError extends RoutingError {
  readonly code = "DATABASE_UNAVAILABLE" as const;

  /** Reaching `database` failed, or its connection broke, with the driver error `cause`. */
  static lost(database: string, cause: unknown): DatabaseUnavailableError {
    return new DatabaseUnavailableError(
      `Could not reach ${database}, or lost the connection to it during the call: ` +
        `${messageOf(cause)}. The server is down, restarting or unreachable, or it (or a ` +
        `pooler in front of it, such as PgBouncer) ended the session. What was running may or ` +
        `may not have taken effect (the server rolls back a transaction whose COMMIT it did ` +
        `not receive). Retry once the server is reachable: the router reconnects by itself, ` +
        `no restart needed.`,
      { cause },
    );
  }
}

/** Thrown when every pooled tenant DataSource is in use and none frees up in time. */
export class PoolExhaustedError extends RoutingError {
  readonly code = "POOL_EXHAUSTED" as const;

  /** Waited `waitedMs` for a slot under a cap of `cap` open tenant DataSources. */
  static timedOut(database: string, cap: number, waitedMs: number): PoolExhaustedError {
    return new PoolExhaustedError(
      `Could not open ${database}: all ${cap} tenant DataSources allowed by ` +
        `pool.maxOpenTenants are in use, and none was released within ${waitedMs} ms. Raise ` +
        `pool.maxOpenTenants or pool.acquireTimeoutMs, or shorten long-running work.`,
    );
  }

  /**
   * Waited `waitedMs` for the one connection of a SQLite `database` while another caller's
   * transaction held it.
   */
  static connectionBusy(database: string, waitedMs: number): PoolExhaustedError {
    return new PoolExhaustedError(
      `Could not run a statement on ${database}: SQLite has one connection per database, and ` +
        `other transactions held it for the ${waitedMs} ms this one waited. Shorten ` +
        `transactions or raise pool.acquireTimeoutMs; inside a transaction, run statements ` +
        `through its manager, never beside it on a runner of your own.`,
    );
  }
}

/** Thrown when a closed router is used. */
export class RouterClosedError extends RoutingError {
  readonly code = "ROUTER_CLOSED" as const;

  /** `operation` was attempted after `router.close()`. */
  static used(operation: string): RouterClosedError {
    return new RouterClosedError(
      `Cannot ${operation}: this TenantRouter was closed. Create a new one with ` +
        `TenantRouter.create().`,
    );
  }
}

/**
 * Thrown while a migration runs, when a DDL helper touches a table that belongs to another
 * placement. The migration of that database rolls back.
 */
export class MigrationRoutingError extends RoutingError {
  readonly code = "MIGRATION_ROUTING" as const;

  /** `migration` (of `group`) called `method` on `table`, which `owner` places in `ownerGroup`. */
  static wrongPlacement(props: {
    migration: string;
    group: string;
    method: string;
    table: string;
    owner: string;
    ownerGroup: string;
    database: string;
    /** What became of the migration's earlier statements. Default: it was rolled back. */
    undone?: string;
  }): MigrationRoutingError {
    const where =
      props.ownerGroup === "tenant" ? "the tenant databases" : `database "${props.ownerGroup}"`;
    return new MigrationRoutingError(
      `Migration "${props.migration}" (group "${props.group}") called ${props.method}() on ` +
        `table "${props.table}" in ${props.database}, but that table belongs to entity ` +
        `"${props.owner}", which is placed in ${where}. ${props.undone ?? "The migration was rolled back there."} ` +
        `Move this change into the "${props.ownerGroup}" migration group.`,
    );
  }
}

/** Reported when another migrator holds a database's migration lock past the timeout. */
export class MigrationLockedError extends RoutingError {
  readonly code = "MIGRATION_LOCKED" as const;

  /** Waited `waitedMs` for the lock of `database`; `command` is what to run again. */
  static timedOut(
    database: string,
    waitedMs: number,
    command: MigrationCommand = "migrate",
  ): MigrationLockedError {
    return new MigrationLockedError(
      `Another migrator holds the migration lock of ${database}; gave up after ${waitedMs} ms ` +
        `and changed nothing there. Wait for it to finish and run ${command} again, or raise ` +
        `lockTimeoutMs.`,
    );
  }

  /**
   * `migration` (transaction = false) is being run on `database` by `owner`, a migrator that
   * is still alive: it was left to it.
   */
  static running(migration: string, database: string, owner: string): MigrationLockedError {
    return new MigrationLockedError(
      `Migration "${migration}" (transaction = false) is being run on ${database} by ${owner}, ` +
        `which is still connected; it was left to it, and nothing after it ran. Wait for it to ` +
        `finish and run migrate again.`,
    );
  }
}

/** The command whose failure an error reports, so its advice names the right one. */
export type MigrationCommand = "migrate" | "revert";

/** Reported when a migration throws; the driver or migration error is its `cause`. */
export class MigrationFailedError extends RoutingError {
  readonly code = "MIGRATION_FAILED" as const;

  /**
   * `migration` failed on `database` while `command` ran (its `down()` for a revert);
   * `rolledBack` says what was undone.
   */
  static failed(
    migration: string,
    database: string,
    rolledBack: string,
    cause: unknown,
    command: MigrationCommand = "migrate",
  ): MigrationFailedError {
    const advice =
      command === "revert"
        ? `Reverting it failed. Fix its down() and run revert again; the reverts before it stay.`
        : `Fix the migration and run migrate again; databases that succeeded stay migrated.`;
    return new MigrationFailedError(
      `Migration "${migration}" failed on ${database}: ${messageOf(cause)}. ${rolledBack} ${advice}`,
      { cause },
    );
  }

  /** A migration step could not run as configured. */
  static invalid(what: string, database: string, fix: string): MigrationFailedError {
    return new MigrationFailedError(`${what} on ${database}. ${fix}`);
  }
}

/** Where a migration step failed, for {@link toRoutingError}. */
export interface MigrationFailureContext {
  /** The failing migration's name, or the step in parentheses: `(reading migration state)`. */
  readonly migration: string;
  /** The database, as its `DatabaseTarget.description` names it. */
  readonly database: string;
  /** What was undone. Default: `Nothing was changed.` */
  readonly rolledBack?: string;
  /** The command that ran. Default `migrate`. */
  readonly command?: MigrationCommand;
}

/**
 * `error` as a RoutingError: a RoutingError is kept as it is (it already says what, where and
 * how to fix); anything else (a driver or user error) becomes a `MigrationFailedError` naming
 * the step and the database, with the error as `cause`.
 */
export function toRoutingError(error: unknown, context: MigrationFailureContext): RoutingError {
  if (error instanceof RoutingError) return error;
  return MigrationFailedError.failed(
    context.migration,
    context.database,
    context.rolledBack ?? "Nothing was changed.",
    error,
    context.command,
  );
}

/** Thrown by `router.tenants.create` for a tenant that already exists. */
export class TenantExistsError extends RoutingError {
  readonly code = "TENANT_EXISTS" as const;

  /** `tenant` is already listed. */
  static listed(tenant: string): TenantExistsError {
    return new TenantExistsError(
      `Tenant "${tenant}" already exists; nothing was created. Pick another id, or drop it ` +
        `first with router.tenants.drop("${tenant}", { confirm: "${tenant}" }).`,
    );
  }

  /**
   * `storage` (the tenant's schema or database) already exists: another `create` of the same
   * id won the race, in this process or another one; the driver error is the `cause`.
   */
  static storageExists(tenant: string, storage: string, cause?: unknown): TenantExistsError {
    return new TenantExistsError(
      `Tenant "${tenant}" already exists: ${storage} exists (another tenants.create of the ` +
        `same id won, or it was left by an earlier one); nothing was created or changed. Pick ` +
        `another id, or drop it first with router.tenants.drop("${tenant}", { confirm: "${tenant}" }).`,
      { cause },
    );
  }
}

/** Thrown when a destructive call lacks its explicit confirmation. */
export class ConfirmationRequiredError extends RoutingError {
  readonly code = "CONFIRMATION_REQUIRED" as const;

  /** Dropping `tenant` needs `{ confirm: tenant }`. */
  static forDrop(tenant: string): ConfirmationRequiredError {
    return new ConfirmationRequiredError(
      `Dropping tenant "${tenant}" deletes its database and every row in it, so it needs an ` +
        `explicit confirmation: router.tenants.drop("${tenant}", { confirm: "${tenant}" }). ` +
        `Nothing was dropped.`,
    );
  }
}

/** Thrown when a migration is named that is not in the migration set in use. */
export class UnknownMigrationError extends RoutingError {
  readonly code = "UNKNOWN_MIGRATION" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The name that was asked for. */
    readonly migration: string,
    /** The known migration names, oldest first. */
    readonly known: readonly string[],
  ) {
    super(message);
  }

  /** `name` (asked for by `where`) is not one of `known`. */
  static forName(name: string, known: readonly string[], where: string): UnknownMigrationError {
    const listed = known.length > 0 ? known.map((k) => `"${k}"`).join(", ") : "(none)";
    return new UnknownMigrationError(
      `Unknown migration "${name}" in ${where}. Known migrations, oldest first: ${listed}. ` +
        `Use the class name (with its 13-digit timestamp) of one of them, or add the ` +
        `migration to the "migrations" option.`,
      name,
      known,
    );
  }
}

/**
 * Thrown when `tenants.create` or `tenants.drop` would touch storage the router must never
 * own: a system schema (`public`, `pg_*`, `information_schema`), a server's own database
 * (`postgres`, `template0`, `template1`), the `default` database or any alias's database.
 * Nothing was created or dropped.
 */
export class ReservedStorageError extends RoutingError {
  readonly code = "RESERVED_STORAGE" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The schema or database that was refused. */
    readonly storage: string,
  ) {
    super(message);
  }

  /** `storage` of `tenant` is reserved because `reason`; `operation` was refused. */
  static refused(
    operation: "create" | "drop",
    tenant: string,
    storage: string,
    reason: string,
  ): ReservedStorageError {
    return new ReservedStorageError(
      `Refused to ${operation} tenant "${tenant}": its storage is ${storage}, which ${reason}. ` +
        `Nothing was ${operation === "create" ? "created" : "dropped"}. Map tenants to names ` +
        `of their own (the default schema is tenant_<id>).`,
      storage,
    );
  }
}

/**
 * Thrown by `tenants.drop` for a schema or database that the router did not create: it lacks
 * the mark `tenants.create` puts on it (`COMMENT ON SCHEMA/DATABASE … IS 'typeorm-router
 * tenant <id>'`, or SQLite's `application_id`). Nothing was dropped.
 */
export class UnownedStorageError extends RoutingError {
  readonly code = "UNOWNED_STORAGE" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The schema or database that was refused. */
    readonly storage: string,
  ) {
    super(message);
  }

  /** `storage` of `tenant` carries `found` instead of the mark `expected`. */
  static unmarked(
    tenant: string,
    storage: string,
    found: string | undefined,
    adopt: string,
  ): UnownedStorageError {
    const carries = found ? `carries the mark ${JSON.stringify(found)}` : "carries no mark";
    return new UnownedStorageError(
      `Refused to drop tenant "${tenant}": ${storage} ${carries}, so typeorm-router did not ` +
        `create it for this tenant, and it drops only what it created. Nothing was dropped. If ` +
        `it really is this tenant's storage, adopt it first: ${adopt}`,
      storage,
    );
  }
}

/**
 * Thrown before anything runs when a tenant's schema or database name is longer than the
 * server keeps (63 bytes on PostgreSQL, 64 characters on MySQL): the server would silently
 * truncate it, and two tenants would collide.
 */
export class NameTooLongError extends RoutingError {
  readonly code = "NAME_TOO_LONG" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The name that was refused. */
    readonly storage: string,
  ) {
    super(message);
  }

  /** `name` (`what` of `tenant`) is `length` long; the server keeps `limit`. */
  static refused(
    tenant: string,
    what: string,
    name: string,
    length: string,
    limit: string,
  ): NameTooLongError {
    return new NameTooLongError(
      `The ${what} of tenant "${tenant}" would be "${name}", ${length}, but the server keeps ` +
        `only ${limit} and would silently truncate it (so two tenants could share it). ` +
        `Nothing was created or opened. Use a shorter tenant id, or map ids to shorter names.`,
      name,
    );
  }
}

/**
 * Reported by `migrate` for a `transaction = false` migration whose run was interrupted (its
 * process died mid-way): it is claimed but never completed, and may be partly applied. It is
 * never reported up to date and never rerun silently; resolve it after checking the database
 * with `migrate({ resolveInterrupted: "retry" | "mark-applied" })` (CLI: `--retry` or
 * `--mark-applied`).
 */
export class MigrationInterruptedError extends RoutingError {
  readonly code = "MIGRATION_INTERRUPTED" as const;

  /** @internal Build errors through the static factories. */
  constructor(
    message: string,
    /** The interrupted migration. */
    readonly migration: string,
    /** Who claimed it (`host:pid`), as recorded in the claim. */
    readonly owner: string,
  ) {
    super(message);
  }

  /** `migration` on `database` was claimed by `owner` at `claimedAt` and never completed. */
  static interrupted(
    migration: string,
    database: string,
    owner: string,
    claimedAt: Date,
  ): MigrationInterruptedError {
    return new MigrationInterruptedError(
      `Migration "${migration}" (transaction = false) was interrupted on ${database}: ` +
        `${owner} started it at ${claimedAt.toISOString()} and did not finish, so it may be ` +
        `partly applied. It was not run again and is not recorded as applied. Check the ` +
        `database, then either run it again with migrate({ resolveInterrupted: "retry" }) ` +
        `(CLI: migrate --retry), or record it as applied without running it with ` +
        `migrate({ resolveInterrupted: "mark-applied" }) (CLI: migrate --mark-applied).`,
      migration,
      owner,
    );
  }
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
