import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { Client } from "pg";
import type { DataSourceOptions } from "typeorm";
import { CLEANUP_TIMEOUT_MS, dropDatabases } from "./cleanup";
import { MYSQL_URL, mysqlDatabaseUrl, mysqlRows } from "./mysql";
import { queryAt, withClient } from "./pg";

/** The PostgreSQL server the suites use (trust auth on the project's machines). */
export const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * A second PostgreSQL server, for suites that spread tenants over two servers: the cluster
 * `trsecond` on port 5435 that `.ci/pg-servers.sh` creates. Set `PG_SECOND_URL` to use
 * another one (its path names the maintenance database).
 */
export const PG_SECOND_URL =
  process.env.PG_SECOND_URL ?? "postgres://postgres@127.0.0.1:5435/postgres";

/**
 * PgBouncer in `pool_mode = transaction` in front of the PG_URL server, forwarding every
 * database by name: the instance on port 6432 that `.ci/pg-servers.sh` runs. Suites replace
 * the path with the database they created on PG_URL. Set `PGBOUNCER_URL` to use another one.
 */
export const PGBOUNCER_URL =
  process.env.PGBOUNCER_URL ?? "postgres://postgres@127.0.0.1:6432/postgres";

/** A primary with a streaming replica (`.ci/pg-replica.sh`), for the read replica suite. */
export const PG_PRIMARY_URL =
  process.env.PG_PRIMARY_URL ?? "postgres://postgres@127.0.0.1:5433/postgres";
/** The streaming replica of {@link PG_PRIMARY_URL}. */
export const PG_REPLICA_URL =
  process.env.PG_REPLICA_URL ?? "postgres://postgres@127.0.0.1:5434/postgres";

/** The extra servers global-setup.ts probes once per run, for {@link describeServer}. */
export const EXTRA_SERVERS: readonly {
  readonly name: string;
  readonly url: string;
  /** The script that creates and starts it. */
  readonly script: string;
}[] = [
  { name: "the second PostgreSQL server", url: PG_SECOND_URL, script: ".ci/pg-servers.sh" },
  { name: "PgBouncer", url: PGBOUNCER_URL, script: ".ci/pg-servers.sh" },
  { name: "the replication primary", url: PG_PRIMARY_URL, script: ".ci/pg-replica.sh" },
  { name: "the streaming replica", url: PG_REPLICA_URL, script: ".ci/pg-replica.sh" },
];

/**
 * One driver the suites run against. Each fixture creates databases under unique names and
 * drops every one of them in `cleanup()`.
 */
export interface DriverFixture {
  /** The database family: `sqlite` for both SQLite drivers (better-sqlite3 and sqlite3). */
  readonly name: DriverName;
  /** Creates a fresh, empty database `label` and returns `optionsFor(label)`. */
  createDatabase(label: string): Promise<DataSourceOptions>;
  /**
   * Options of database `label` of this fixture, whether or not it exists yet (SQLite creates
   * the file on first open; PostgreSQL needs `createDatabase` first).
   */
  optionsFor(label: string): DataSourceOptions;
  /** The user tables in the database `options` points at (read without TypeORM). */
  tables(options: DataSourceOptions): Promise<string[]>;
  /** Whether the database `options` points at exists (the file, or the server's database). */
  databaseExists(options: DataSourceOptions): Promise<boolean>;
  /** Runs a query directly on the database (without TypeORM) and returns its rows. */
  rows<T = Record<string, unknown>>(options: DataSourceOptions, sql: string): Promise<T[]>;
  /** Drops everything the fixture created. */
  cleanup(): Promise<void>;
}

/** The database families the suites know. */
export type DriverName = "sqlite" | "postgres" | "mariadb";

/** The TypeORM drivers of SQLite: better-sqlite3, and node-sqlite3 (`sqlite`, TypeORM 0.3 only). */
export type SqliteType = "better-sqlite3" | "sqlite";

/**
 * A fixture for SQLite files in a temporary folder, opened by TypeORM with the `type` driver
 * (better-sqlite3 by default). The fixture itself reads them with better-sqlite3.
 */
export async function sqliteFixture(type: SqliteType = "better-sqlite3"): Promise<DriverFixture> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-spec-"));
  const fileOf = (options: DataSourceOptions) => (options as { database: string }).database;
  const open = (options: DataSourceOptions) =>
    new Database(fileOf(options), { readonly: true, fileMustExist: true });
  const optionsFor = (label: string): DataSourceOptions =>
    ({ type, database: path.join(folder, `${label}.sqlite`) }) as DataSourceOptions;
  return {
    name: "sqlite",
    optionsFor,
    async createDatabase(label) {
      return optionsFor(label);
    },
    async databaseExists(options) {
      return existsSync(fileOf(options));
    },
    async tables(options) {
      let db: Database.Database;
      try {
        db = open(options);
      } catch {
        return [];
      }
      try {
        const rows = db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          )
          .all() as { name: string }[];
        return rows.map((row) => row.name);
      } finally {
        db.close();
      }
    },
    async rows<T>(options: DataSourceOptions, sql: string) {
      const db = open(options);
      try {
        return db.prepare(sql).all() as T[];
      } finally {
        db.close();
      }
    },
    cleanup: () => rm(folder, { recursive: true, force: true }),
  };
}

/**
 * A {@link sqliteFixture} for the enclosing `describe`: created in its `beforeAll` and removed in
 * its `afterAll`. Use the returned fixture in hooks and tests, not while the suite is collected.
 *
 * @throws Error when the fixture is used before the suite's `beforeAll` ran.
 */
export function useSqliteFixture(): DriverFixture {
  let fixture: DriverFixture | undefined;
  beforeAll(async () => {
    fixture = await sqliteFixture();
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });
  const current = (): DriverFixture => {
    if (!fixture) throw new Error("useSqliteFixture: the fixture exists from beforeAll on.");
    return fixture;
  };
  return {
    name: "sqlite",
    createDatabase: (label) => current().createDatabase(label),
    optionsFor: (label) => current().optionsFor(label),
    tables: (options) => current().tables(options),
    databaseExists: (options) => current().databaseExists(options),
    rows: (options, sql) => current().rows(options, sql),
    cleanup: () => current().cleanup(),
  };
}

/** Whether PostgreSQL answers at PG_URL. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await withClient(PG_URL, (client) => client.query("SELECT 1"));
    return true;
  } catch {
    return false;
  }
}

/** The URL of database `name` on the PG_URL server (or on the server `server` points at). */
export function databaseUrl(name: string, server: string = PG_URL): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Whether `SELECT 1` answers at `url` within a few seconds. */
export async function serverAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Set by global-setup.ts: the URLs of EXTRA_SERVERS that answered, as a JSON array.
const AVAILABLE_SERVERS_ENV = "TYPEORM_ROUTER_AVAILABLE_SERVERS";

/** The value global-setup.ts stores for {@link describeServer}. */
export function availableServersEnv(available: readonly string[]): Record<string, string> {
  return { [AVAILABLE_SERVERS_ENV]: JSON.stringify(available) };
}

/**
 * `describe` for a suite that needs an extra server of {@link EXTRA_SERVERS} (besides the
 * PG_URL one): it runs when the server answered global-setup's probe; with REQUIRE_PG=1 a
 * server that did not answer fails the suite (one failing test saying to run
 * `bash .ci/pg-servers.sh`); otherwise the suite is skipped with a console warning.
 */
export function describeServer(name: string, url: string, body: () => void): void {
  const server = EXTRA_SERVERS.find((extra) => extra.url === url);
  if (!server) {
    throw new Error(`describeServer: add ${url} to EXTRA_SERVERS so global-setup.ts probes it.`);
  }
  const main = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1";
  const answered = JSON.parse(process.env[AVAILABLE_SERVERS_ENV] ?? "[]") as string[];
  if (main && answered.includes(url)) {
    describe(name, body);
    return;
  }
  const missing = main ? `it does not answer at ${url}` : `PostgreSQL does not answer at ${PG_URL}`;
  const message = `Suite "${name}" needs ${server.name}, but ${missing}: run \`bash ${server.script}\` (as root) to create and start it.`;
  if (process.env.REQUIRE_PG === "1") {
    describe(name, () => {
      it(`needs ${server.name} (REQUIRE_PG=1)`, () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`${message} The suite is skipped.`);
  describe.skip(name, body);
}

/** A fixture that creates a uniquely named PostgreSQL database per call. */
export async function postgresFixture(): Promise<DriverFixture> {
  const created: string[] = [];
  const prefix = `tr_${randomBytes(4).toString("hex")}_`;
  const nameOf = (label: string) => `${prefix}${label.replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
  const optionsFor = (label: string): DataSourceOptions => ({
    type: "postgres",
    url: databaseUrl(nameOf(label)),
  });
  const rows = async <T>(options: DataSourceOptions, sql: string): Promise<T[]> => {
    const url = (options as { url: string }).url;
    return queryAt<T>(url, sql);
  };
  return {
    name: "postgres",
    optionsFor,
    async createDatabase(label) {
      const name = nameOf(label);
      await queryAt(PG_URL, `CREATE DATABASE "${name}"`);
      created.push(name);
      return optionsFor(label);
    },
    async tables(options) {
      const tables = await rows<{ table_name: string }>(
        options,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
      );
      return tables.map((row) => row.table_name);
    },
    async databaseExists(options) {
      const name = new URL((options as { url: string }).url).pathname.slice(1);
      const found = await queryAt(PG_URL, `SELECT 1 FROM pg_database WHERE datname = '${name}'`);
      return found.length > 0;
    },
    rows,
    // Concurrently: each DROP DATABASE waits for a checkpoint, and concurrent ones share it.
    cleanup: () => dropDatabases(PG_URL, created.splice(0)),
  };
}

/**
 * A fixture that creates a uniquely named MariaDB (or MySQL) database per call on the
 * MYSQL_URL server, opened by TypeORM's `mariadb` driver (mysql2).
 */
export async function mariadbFixture(): Promise<DriverFixture> {
  const created: string[] = [];
  const prefix = `tr_${randomBytes(4).toString("hex")}_`;
  const nameOf = (label: string) => `${prefix}${label.replace(/[^a-z0-9_]/g, "_")}`.slice(0, 64);
  const optionsFor = (label: string): DataSourceOptions => ({
    type: "mariadb",
    url: mysqlDatabaseUrl(nameOf(label)),
  });
  const rows = <T>(options: DataSourceOptions, sql: string): Promise<T[]> =>
    mysqlRows<T>((options as { url: string }).url, sql);
  return {
    name: "mariadb",
    optionsFor,
    async createDatabase(label) {
      const name = nameOf(label);
      await mysqlRows(MYSQL_URL, `CREATE DATABASE \`${name}\``);
      created.push(name);
      return optionsFor(label);
    },
    async tables(options) {
      const tables = await rows<{ name: string }>(
        options,
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      );
      return tables.map((row) => row.name);
    },
    async databaseExists(options) {
      const name = new URL((options as { url: string }).url).pathname.slice(1);
      const found = await mysqlRows(
        MYSQL_URL,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [name],
      );
      return found.length > 0;
    },
    rows,
    async cleanup() {
      const names = created.splice(0);
      await Promise.all(
        names.map((name) => mysqlRows(MYSQL_URL, `DROP DATABASE IF EXISTS \`${name}\``)),
      );
    },
  };
}

/** A driver the suites iterate over. */
export interface DriverCase {
  /** The database family, for the suites' driver-specific branches. */
  readonly name: DriverName;
  /** The TEST_DRIVERS entry that selects it, used in suite titles. */
  readonly label: string;
  readonly create: () => Promise<DriverFixture>;
}

// Every driver TEST_DRIVERS can name. `sqlite` is better-sqlite3; `sqlite3` is node-sqlite3,
// which TypeORM 0.3 has and 1.x dropped (.ci/run runs it in its TypeORM 0.3 job).
const KNOWN_DRIVERS: readonly DriverCase[] = [
  { name: "sqlite", label: "sqlite", create: () => sqliteFixture("better-sqlite3") },
  { name: "sqlite", label: "sqlite3", create: () => sqliteFixture("sqlite") },
  { name: "postgres", label: "postgres", create: postgresFixture },
  { name: "mariadb", label: "mariadb", create: mariadbFixture },
];

/**
 * The drivers TEST_DRIVERS names (comma-separated labels: `sqlite`, `sqlite3`, `postgres`,
 * `mariadb`), default `sqlite,postgres`.
 *
 * @throws Error for an unknown label.
 */
export function selectedDrivers(value: string = process.env.TEST_DRIVERS ?? ""): DriverCase[] {
  const labels = (value.trim() === "" ? "sqlite,postgres" : value)
    .split(",")
    .map((label) => label.trim())
    .filter((label) => label !== "");
  return labels.map((label) => {
    const driver = KNOWN_DRIVERS.find((known) => known.label === label);
    if (driver) return driver;
    throw new Error(
      `TEST_DRIVERS names "${label}"; known drivers: ${KNOWN_DRIVERS.map((known) => known.label).join(", ")}.`,
    );
  });
}

/**
 * The driver matrix, chosen by TEST_DRIVERS (default `sqlite,postgres`). A suite runs its body
 * once per driver: `for (const driver of DRIVERS) describeDriver(driver, …)`. A server driver
 * whose server does not answer is skipped, or fails the run with REQUIRE_PG=1 (see
 * global-setup.ts). Suites that only make sense on some families filter by `name`.
 */
export const DRIVERS: readonly DriverCase[] = selectedDrivers();

/**
 * `describe` once for a driver. PostgreSQL suites are skipped only when the server is absent
 * and REQUIRE_PG is unset (see global-setup.ts, which fails the run otherwise).
 */
export function describeDriver(
  driver: DriverCase,
  body: (fixture: () => DriverFixture) => void,
): void {
  const available =
    driver.name === "sqlite" ||
    (driver.name === "postgres" && process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1") ||
    (driver.name === "mariadb" && process.env.TYPEORM_ROUTER_MYSQL_AVAILABLE === "1");
  (available ? describe : describe.skip)(`on ${driver.label}`, () => {
    let fixture: DriverFixture | undefined;
    beforeAll(async () => {
      fixture = await driver.create();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    }, CLEANUP_TIMEOUT_MS);
    // Nested, so the body's own afterAll hooks (closing routers) run before the cleanup.
    describe("", () => body(() => fixture!));
  });
}
