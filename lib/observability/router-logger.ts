/** The severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Which part of the router a record comes from; the default logger writes each to the `debug`
 * namespace `typeorm-router:<channel>`.
 * - `route`: where a call was routed;
 * - `pool`: opening, waiting for and closing DataSources and connections;
 * - `migrate`: migrations per database, migration locks;
 * - `tenant`: the tenant directory, creating and dropping tenants.
 */
export type LogChannel = "route" | "pool" | "migrate" | "tenant";

/** The structured fields of one log record. */
export interface LogRecord {
  /** The part of the router that logs. */
  readonly channel: LogChannel;
  /** The tenant concerned, when there is one. */
  readonly tenant?: string;
  /** The database concerned: an alias (`default`) or a tenant's (`tenant:acme`). */
  readonly database?: string;
  /** What was being done: `open`, `migrate`, `lock`, `create`, `read`, ... */
  readonly operation?: string;
  /** How long it took, in milliseconds. */
  readonly durationMs?: number;
  /** The stable code of a warning (e.g. `TYPEORM_ROUTER_POOL_ERROR`) or error. */
  readonly code?: string;
  /** The error, for warnings and errors. */
  readonly error?: unknown;
  /** For a rate-limited warning: how many like it were dropped since the last one written. */
  readonly suppressed?: number;
  /** Any other field. */
  readonly [field: string]: unknown;
}

/**
 * Where the router's logs go: any object with some of these methods (a pino or winston
 * logger fits with a one-line adapter). A missing method drops that level.
 *
 * Warnings are rate-limited before they reach it: one line per code and tenant (or database)
 * per `warningIntervalMs`, with the count of the ones dropped in between.
 *
 * @example
 * ```ts
 * logger: {
 *   debug: (message, record) => pino.debug(record, message),
 *   warn: (message, record) => pino.warn(record, message),
 *   error: (message, record) => pino.error(record, message),
 * }
 * ```
 */
export interface RouterLogger {
  debug?(message: string, record: LogRecord): void;
  info?(message: string, record: LogRecord): void;
  warn?(message: string, record: LogRecord): void;
  error?(message: string, record: LogRecord): void;
}

/** The `logger` option of `TenantRouter.create`. */
export interface LoggingOptions {
  /**
   * Where logs go. Default: the `debug` namespaces `typeorm-router:route`, `:pool`, `:migrate`
   * and `:tenant` (enable with `DEBUG=typeorm-router:*`), and warnings as
   * `process.emitWarning(message, { code })`. `false` drops everything.
   */
  readonly logger?: RouterLogger | false;
  /** The rate limit of warnings, per code and tenant (or database), in ms. Default 60,000. */
  readonly warningIntervalMs?: number;
}
