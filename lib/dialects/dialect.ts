import { DataSource, type DataSourceOptions, type QueryRunner } from "typeorm";
import { ConfigurationError } from "../errors";
import type { SchemaSnapshot } from "./schema-snapshot";

/**
 * How a dialect makes the database session refuse writes, whatever path the SQL took (a
 * query builder, raw SQL, a transaction): a read-only alias is enforced by the database, not
 * by method names.
 */
export interface ReadOnlySession {
  /** The options to connect with (e.g. a read-only SQLite handle). */
  options(options: DataSourceOptions): DataSourceOptions;
  /**
   * Makes every statement of `queryRunner` run read-only; a write the database refuses
   * rejects with `refused(driverError)`.
   */
  runner(queryRunner: QueryRunner, refused: (cause: unknown) => Error): QueryRunner;
}

/** How long work waits for a connection another caller's transaction holds. */
export interface ConnectionWait {
  readonly timeoutMs: number;
  /** The error for work that waited `waitedMs` in vain. */
  readonly busy: (waitedMs: number) => Error;
}

/** A throwaway database made by {@link Dialect.createScratchDatabase}. */
export interface ScratchDatabase {
  /** Options that connect to the scratch database (the given options, renamed). */
  readonly options: DataSourceOptions;
  /** Deletes the scratch database and everything in it. */
  drop(): Promise<void>;
}

/**
 * What a driver asks the server while it connects (PostgreSQL: its version, the database and
 * the current schema), remembered per server so that later DataSources on the same server
 * skip those round trips: a database-per-tenant open then sends no startup query.
 */
export interface StartupFacts {
  /**
   * The server (and role, and session options) that `options` connect to, not the database:
   * DataSources with the same key get the same answers. `undefined` when it cannot be told
   * (e.g. a `driver` of the user's own), which never shares answers.
   */
  key(options: DataSourceOptions): string | undefined;
  /** The answers an initialized DataSource's driver learnt, or `undefined` if it has none. */
  learnt(dataSource: DataSource): object | undefined;
  /** Presets `facts` (from {@link learnt}) on a not yet initialized DataSource's driver. */
  preset(dataSource: DataSource, facts: object): void;
}

/**
 * What the core needs from a driver. Every driver-specific statement lives behind this
 * interface, one file per driver, so the core never branches on the driver.
 */
export interface Dialect {
  /** The TypeORM driver types this dialect serves. */
  readonly types: readonly string[];
  /** How the database itself refuses writes on a `readOnly: true` alias. */
  readonly readOnly: ReadOnlySession;
  /**
   * Called inside an open transaction: makes sure no other migrator, in any process, works on
   * the database (or schema) `scope` until that transaction ends. The lock is
   * transaction-scoped, so it is released by the commit or rollback on the very connection
   * that took it (safe behind PgBouncer in transaction mode). Resolves `false` when
   * `timeoutMs` passed first.
   */
  lockMigrations(queryRunner: QueryRunner, scope: string, timeoutMs: number): Promise<boolean>;
  /**
   * Called after the transaction that took the lock ended (committed or rolled back), on the
   * same connection: releases a lock that outlives transactions (MySQL's `GET_LOCK` is held by
   * the session). A no-op where the lock is transaction-scoped.
   */
  unlockMigrations(queryRunner: QueryRunner, scope: string): Promise<void>;
  /**
   * Whether DDL is transactional. When `false` (MySQL, MariaDB: each CREATE/ALTER/DROP
   * commits), a failed migration may be partly applied, a migration set cannot run in one
   * transaction, and a dry run cannot be a rolled-back transaction.
   */
  readonly transactionalDdl: boolean;
  /**
   * The server session `queryRunner` runs on, as a string that stays unique after it ends
   * (`pid@start` on PostgreSQL), or `null`. Absent where the server cannot name its sessions.
   */
  currentSession?(queryRunner: QueryRunner): Promise<string | null>;
  /** Whether the session `session` (from {@link currentSession}) is still connected. */
  sessionAlive?(queryRunner: QueryRunner, session: string): Promise<boolean>;
  /**
   * Whether `error`, an error of this driver, says that the connection to the server broke or
   * could not be made: the server is down, restarting or unreachable, or it (or a pooler in
   * front of it) ended the session. SQL errors never are. Absent where the driver has no
   * connection to lose (SQLite).
   */
  connectionLost?(error: unknown): boolean;
  /**
   * Whether table `name` exists where `queryRunner.hasTable(name)` looks (the connection's
   * schema), in one cheap catalog read. Absent: `hasTable` is asked.
   */
  tableExists?(queryRunner: QueryRunner, name: string): Promise<boolean>;
  /** Creates the (empty) database `options` points at; fails if it exists. */
  createDatabase(options: DataSourceOptions): Promise<void>;
  /** Drops the database `options` points at, if it exists. */
  dropDatabase(options: DataSourceOptions): Promise<void>;
  /**
   * Creates an empty, uniquely named database next to the one `options` points at (same
   * driver and server; a temporary file for SQLite), for work that must not touch real data.
   */
  createScratchDatabase(options: DataSourceOptions): Promise<ScratchDatabase>;
  /** What connecting asks the server, when it can be remembered per server. */
  readonly startupFacts?: StartupFacts;
  /**
   * `dataSource.destroy()`, resolving only once the server has seen every connection close
   * (where the driver's own destroy resolves earlier). Absent: `destroy()` is enough.
   */
  destroy?(dataSource: DataSource): Promise<void>;
  /**
   * Called on each DataSource the router creates, once it is initialized: makes its pool
   * discard a connection whose session the server ended during a statement, rather than
   * hand it to the next caller.
   */
  discardEndedSessions?(dataSource: DataSource): void;
  /**
   * Called on each DataSource the router creates, before it connects, where the driver puts
   * every caller on one connection (SQLite): makes its transactions take that connection in
   * turn instead of nesting into each other.
   */
  shareConnection?(dataSource: DataSource, wait: ConnectionWait): void;
}

/**
 * What `typeorm-router/testing` needs from a driver on top of {@link Dialect}: catalog
 * introspection and database cloning. Kept apart so the main entry never loads it.
 */
export interface TestingDialect {
  /** The TypeORM driver types this dialect serves. */
  readonly types: readonly string[];
  /**
   * Reads the tables, keys, constraints, indexes and enums of `schema` (the connection's own
   * when omitted) from the database catalog, for `snapshotSchema`.
   */
  introspect(queryRunner: QueryRunner, schema: string | undefined): Promise<SchemaSnapshot>;
  /**
   * Creates a uniquely named copy of the database `template` points at, schema and data
   * (`CREATE DATABASE … TEMPLATE` on PostgreSQL, a file copy on SQLite). Nothing may be
   * connected to the template meanwhile.
   */
  cloneDatabase(template: DataSourceOptions): Promise<ScratchDatabase>;
}

/**
 * The entry of `dialects` that serves the driver of `source`.
 *
 * @throws ConfigurationError for a driver typeorm-router does not support yet.
 */
export function findDialect<T extends { readonly types: readonly string[] }>(
  dialects: readonly T[],
  source: DataSource | DataSourceOptions,
): T {
  const type = source instanceof DataSource ? source.options.type : source.type;
  const dialect = dialects.find((candidate) => candidate.types.includes(type));
  if (dialect) return dialect;
  throw ConfigurationError.invalid(
    `type "${type}"`,
    "typeorm-router migrates and provisions postgres, mysql, mariadb, better-sqlite3 and sqlite (sqlite3) databases only",
    "Use one of those drivers for routed migrations and tenant provisioning.",
  );
}
