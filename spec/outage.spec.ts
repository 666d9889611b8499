import { randomBytes } from "node:crypto";
import { createConnection } from "mysql2/promise";
import { Client } from "pg";
import { Column, Entity, PrimaryGeneratedColumn, QueryFailedError } from "typeorm";
import type { DataSourceOptions } from "typeorm";
import {
  DatabaseUnavailableError,
  External,
  RoutingError,
  TenantRouter,
  UnknownTenantError,
  schemaPerTenant,
  withTenant,
  type TenantsConfig,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { DRIVERS, PG_URL } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration } from "./setup/migrations";
import { MYSQL_URL, mysqlRows } from "./setup/mysql";
import { queryAt } from "./setup/pg";
import { TcpProxy } from "./setup/tcp-proxy";

// The database server goes away under routed calls (an outage, a restart, a killed session):
// the calls reject with DatabaseUnavailableError naming the tenant or database, with the
// driver error as `cause`, and the router recovers by itself once the server is back. The
// server stays up: a TCP proxy in front of it is what breaks (`cut`) and comes back
// (`restore`). SQL errors stay TypeORM's own, and a dropped tenant stays UnknownTenantError.

@External()
@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 80, unique: true })
  text!: string;
}

@Entity()
class Plan {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 80 })
  name!: string;
}

const CreateNotes1700000000001 = createTableMigration("CreateNotes1700000000001", "note", [
  { name: "text", type: "varchar", length: "80", isUnique: true },
]);
const CreatePlans1700000000001 = createTableMigration("CreatePlans1700000000001", "plan", [
  { name: "name", type: "varchar", length: "80" },
]);

/** A server, reached directly (to set things up and to look) or through the proxy. */
interface Server {
  readonly name: "postgres" | "mariadb";
  readonly available: boolean;
  readonly port: number;
  /** The options of database `database` through the proxy listening on `port`. */
  options(port: number, database: string): DataSourceOptions;
  createDatabase(database: string): Promise<void>;
  dropDatabases(prefix: string): Promise<void>;
  /** Takes `table`'s exclusive lock in `database`, directly; resolves its release. */
  lock(database: string, table: string): Promise<() => Promise<void>>;
  /** The sessions of `database` waiting for a lock. */
  waiting(database: string): Promise<number[]>;
  /** How many server sessions are connected to `database`. */
  sessions(database: string): Promise<number>;
  /** Ends the server sessions `ids` (as an administrator would). */
  terminate(ids: readonly number[]): Promise<void>;
  /** The driver's message when the server closes a connection under a query. */
  readonly lost: RegExp;
}

const postgres: Server = {
  name: "postgres",
  available: process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1",
  port: Number(new URL(PG_URL).port || 5432),
  options: (port, database) => ({
    type: "postgres",
    url: serverUrl(PG_URL, port, database),
  }),
  createDatabase: async (database) => void (await queryAt(PG_URL, `CREATE DATABASE "${database}"`)),
  dropDatabases: (prefix) => dropDatabasesByPrefix(PG_URL, prefix),
  async lock(database, table) {
    const client = new Client({ connectionString: serverUrl(PG_URL, undefined, database) });
    await client.connect();
    await client.query("BEGIN");
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return async () => {
      await client.query("ROLLBACK");
      await client.end();
    };
  },
  async waiting(database) {
    const rows = await queryAt<{ pid: number }>(
      PG_URL,
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
      [database],
    );
    return rows.map((row) => row.pid);
  },
  async sessions(database) {
    const [row] = await queryAt<{ count: number }>(
      PG_URL,
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1",
      [database],
    );
    return row.count;
  },
  async terminate(ids) {
    await queryAt(PG_URL, "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [
      [...ids],
    ]);
  },
  lost: /^Connection terminated unexpectedly/,
};

const mariadb: Server = {
  name: "mariadb",
  available: process.env.TYPEORM_ROUTER_MYSQL_AVAILABLE === "1",
  port: Number(new URL(MYSQL_URL).port || 3306),
  options: (port, database) => ({ type: "mariadb", url: serverUrl(MYSQL_URL, port, database) }),
  createDatabase: async (database) =>
    void (await mysqlRows(MYSQL_URL, `CREATE DATABASE \`${database}\``)),
  async dropDatabases(prefix) {
    const rows = await mysqlRows<{ name: string }>(
      MYSQL_URL,
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [`${prefix}%`],
    );
    for (const { name } of rows) await mysqlRows(MYSQL_URL, `DROP DATABASE \`${name}\``);
  },
  async lock(database, table) {
    const connection = await createConnection({ uri: serverUrl(MYSQL_URL, undefined, database) });
    await connection.query(`LOCK TABLES \`${table}\` WRITE`);
    return async () => {
      await connection.query("UNLOCK TABLES");
      await connection.end();
    };
  },
  async waiting(database) {
    const rows = await mysqlRows<{ id: number }>(
      MYSQL_URL,
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE 'Waiting for table%lock'",
      [database],
    );
    return rows.map((row) => Number(row.id));
  },
  async sessions(database) {
    const [row] = await mysqlRows<{ count: number }>(
      MYSQL_URL,
      "SELECT COUNT(*) AS count FROM information_schema.PROCESSLIST WHERE DB = ?",
      [database],
    );
    return Number(row.count);
  },
  async terminate(ids) {
    for (const id of ids) await mysqlRows(MYSQL_URL, `KILL CONNECTION ${Number(id)}`);
  },
  lost: /^Connection lost: The server closed the connection/,
};

interface Mode {
  readonly name: string;
  readonly server: Server;
  /** The tenants option, through the proxy on `port`. */
  tenants(prefix: string, port: number): Partial<TenantsConfig>;
  /** The database holding `tenant`'s tables, and the `note` table's name in it. */
  where(prefix: string, tenant: string): { database: string; table: string };
}

const modes: Mode[] = [
  {
    name: "PostgreSQL, database per tenant",
    server: postgres,
    tenants: (prefix, port) => ({
      options: (tenant) => postgres.options(port, `${prefix}${tenant}`),
    }),
    where: (prefix, tenant) => ({ database: `${prefix}${tenant}`, table: "note" }),
  },
  {
    name: "PostgreSQL, schema per tenant",
    server: postgres,
    tenants: (prefix, port) => ({
      strategy: schemaPerTenant({
        base: postgres.options(port, `${prefix}default`) as never,
        maxConnections: 4,
      }),
    }),
    where: (prefix, tenant) => ({ database: `${prefix}default`, table: `"tenant_${tenant}".note` }),
  },
  ...(DRIVERS.some((driver) => driver.name === "mariadb")
    ? [
        {
          name: "MariaDB, database per tenant",
          server: mariadb,
          tenants: (prefix: string, port: number): Partial<TenantsConfig> => ({
            options: (tenant) => mariadb.options(port, `${prefix}${tenant}`),
          }),
          where: (prefix: string, tenant: string) => ({
            database: `${prefix}${tenant}`,
            table: "note",
          }),
        },
      ]
    : []),
];

for (const mode of modes) {
  const { server } = mode;
  (server.available ? describe : describe.skip)(`a database outage, ${mode.name}`, () => {
    const prefix = `tr_out_${randomBytes(3).toString("hex")}_`;
    let proxy: TcpProxy;
    const routers: TenantRouter[] = [];

    const open = async (list: string[]) => {
      const router = await TenantRouter.create({
        entities: [Note, Plan],
        databases: { default: server.options(proxy.port, `${prefix}default`) },
        tenants: {
          ...inMemoryTenants(list),
          ...mode.tenants(prefix, proxy.port),
        } as TenantsConfig,
        migrations: { tenant: [CreateNotes1700000000001], default: [CreatePlans1700000000001] },
      });
      routers.push(router);
      return router;
    };

    // Locks `tenant`'s table and starts `calls` on it; resolves once every one waits for the
    // lock (they are on the server, in flight), with their server sessions and the release.
    const inFlight = async (
      tenant: string,
      calls: readonly (() => Promise<unknown>)[],
    ): Promise<{
      settled: Promise<unknown[]>;
      sessions: number[];
      release: () => Promise<void>;
    }> => {
      const { database, table } = mode.where(prefix, tenant);
      const release = await server.lock(database, table);
      const settled = Promise.all(
        calls.map((call) =>
          withTenant(tenant, call).then(
            (value) => ({ resolved: value }),
            (error: unknown) => error,
          ),
        ),
      );
      const sessions = await until(async () => {
        const waiting = await server.waiting(database);
        return waiting.length >= calls.length ? waiting : undefined;
      }, `${calls.length} calls waiting for the lock on ${table}`);
      return { settled, sessions, release };
    };

    beforeAll(async () => {
      proxy = await TcpProxy.start(server.port);
      await server.createDatabase(`${prefix}default`);
    });
    afterEach(async () => {
      // A failed test must not leave the next one without its server.
      if (!proxy.listening) await proxy.restore();
    });
    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close().catch(() => undefined)));
      await proxy.stop();
      await server.dropDatabases(prefix);
    }, CLEANUP_TIMEOUT_MS);

    it("rejects calls in flight and calls while it is down with DatabaseUnavailableError, and recovers without a restart", async () => {
      const list: string[] = [];
      const router = await open(list);
      await router.migrate({ databases: ["default"] });
      await router.tenants.create("acme");
      await router.tenants.create("cold");
      const notes = router.getRepository(Note);
      await withTenant("acme", () => notes.save({ text: "kept" }));

      // (1) A repository call and a transaction on the server when it goes away.
      const flight = await inFlight("acme", [
        () => notes.find(),
        () => router.transaction((manager) => manager.getRepository(Note).save({ text: "lost" })),
      ]);
      await proxy.cut();
      await flight.release();
      const [read, transaction] = await flight.settled;
      for (const error of [read, transaction]) {
        expectUnavailable(error, `the database of tenant "acme"`);
        expect(messageOf((error as RoutingError).cause)).toMatch(server.lost);
      }

      // (2) While nothing listens: the tenant that was open, a transaction, the "default"
      // alias, and a router that never opened the tenant (its first open fails).
      const fresh = await open([...list]);
      const refused = [
        await withTenant("acme", () => notes.count()).catch((error: unknown) => error),
        await withTenant("acme", () =>
          router.transaction((manager) => manager.getRepository(Note).count()),
        ).catch((error: unknown) => error),
        await withTenant("acme", () => notes.createQueryBuilder("note").getMany()).catch(
          (error: unknown) => error,
        ),
        await withTenant("cold", () => fresh.getRepository(Note).count()).catch(
          (error: unknown) => error,
        ),
      ];
      expectUnavailable(refused[0], `the database of tenant "acme"`);
      expectUnavailable(refused[1], `the database of tenant "acme"`);
      expectUnavailable(refused[2], `the database of tenant "acme"`);
      expectUnavailable(refused[3], `tenant "cold"`);
      const alias = await router
        .getRepository(Plan)
        .count()
        .catch((error: unknown) => error);
      expectUnavailable(alias, `database "default"`);
      for (const error of [...refused, alias]) {
        expect((error as RoutingError).cause).toMatchObject({ code: "ECONNREFUSED" });
      }

      // (3) The server is back: the same routers work again, nothing was committed by the
      // transaction that was cut.
      await proxy.restore();
      await expect(withTenant("acme", () => notes.find())).resolves.toMatchObject([
        { text: "kept" },
      ]);
      await withTenant("acme", () =>
        router.transaction((manager) => manager.getRepository(Note).save({ text: "later" })),
      );
      await expect(
        withTenant("acme", () => notes.createQueryBuilder("note").orderBy("note.id").getMany()),
      ).resolves.toMatchObject([{ text: "kept" }, { text: "later" }]);
      await expect(router.getRepository(Plan).count()).resolves.toBe(0);
      await expect(withTenant("cold", () => fresh.getRepository(Note).count())).resolves.toBe(0);
    });

    it("rejects the next statement and the commit of transactions whose connection broke while they waited", async () => {
      const { database } = mode.where(prefix, "idle");
      const router = await open([]);
      await router.tenants.create("idle");
      let resume!: () => void;
      const paused = new Promise<void>((resolve) => (resume = resolve));
      // Each writes, then does other work (an HTTP call) while its transaction is open; then
      // commits, or runs one more statement first.
      const started = [false, true].map((more) => {
        let wrote!: () => void;
        const written = new Promise<void>((resolve) => (wrote = resolve));
        const settled = withTenant("idle", () =>
          router.transaction(async (manager) => {
            await manager.getRepository(Note).save({ text: `uncommitted ${more}` });
            wrote();
            await paused;
            if (more) await manager.getRepository(Note).count();
          }),
        ).catch((error: unknown) => error);
        return { written, settled };
      });
      await Promise.all(started.map(({ written }) => written));
      await proxy.cut();
      // Once the server saw the connections go, the router's side has seen them go too.
      await until(
        async () => ((await server.sessions(database)) === 0 ? true : undefined),
        `the sessions of ${database} to end`,
      );
      resume();
      for (const { settled } of started) {
        expectUnavailable(await settled, `the database of tenant "idle"`);
      }
      await proxy.restore();
      await expect(withTenant("idle", () => router.getRepository(Note).count())).resolves.toBe(0);
    });

    it("keeps SQL errors TypeORM's own: a unique violation is a QueryFailedError", async () => {
      const router = await open([]);
      await router.tenants.create("sql");
      const notes = router.getRepository(Note);
      await withTenant("sql", () => notes.save({ text: "once" }));
      const duplicates = [
        await withTenant("sql", () => notes.insert({ text: "once" })).catch((e: unknown) => e),
        await withTenant("sql", () =>
          router.transaction((manager) => manager.getRepository(Note).insert({ text: "once" })),
        ).catch((e: unknown) => e),
      ];
      for (const error of duplicates) {
        expect(error).toBeInstanceOf(QueryFailedError);
        expect(error).not.toBeInstanceOf(RoutingError);
      }
    });

    if (server.name === "postgres") {
      it("hands the next call a live connection right after a session was terminated under a call", async () => {
        const router = await open([]);
        await router.tenants.create("next");
        const notes = router.getRepository(Note);
        await withTenant("next", () => notes.save({ text: "kept" }));
        for (let round = 0; round < 3; round++) {
          const listed = await inFlight("next", [() => notes.find()]);
          const terminated = server.terminate(listed.sessions);
          const [outage] = await listed.settled;
          // At once, before anything else reads from the network: the pool must not hand out
          // the connection whose session just ended (pg marks it dead only when its socket
          // closes, a moment later). Raw SQL: the note table is still locked.
          const next = withTenant("next", () => router.manager.query("SELECT 1 AS one"));
          expectUnavailable(outage, `the database of tenant "next"`);
          await expect(next).resolves.toEqual([{ one: 1 }]);
          await terminated;
          await listed.release();
        }
      });

      it("makes a terminated session an outage while the tenant is listed, and UnknownTenantError once it is not", async () => {
        const list: string[] = [];
        const router = await open(list);
        await router.tenants.create("ended");
        const notes = router.getRepository(Note);
        await withTenant("ended", () => notes.save({ text: "here" }));

        const listed = await inFlight("ended", [() => notes.find()]);
        await server.terminate(listed.sessions);
        await listed.release();
        const [outage] = await listed.settled;
        expectUnavailable(outage, `the database of tenant "ended"`);
        // admin_shutdown: "terminating connection due to administrator command".
        expect((outage as RoutingError).cause).toMatchObject({ code: "57P01" });
        await expect(withTenant("ended", () => notes.count())).resolves.toBe(1);

        // Unlisted (as if dropped by another process): the same error means the tenant is gone.
        list.splice(list.indexOf("ended"), 1);
        await sleep(100); // past the directory's re-read interval for such errors (50 ms)
        const unlisted = await inFlight("ended", [() => notes.find()]);
        await server.terminate(unlisted.sessions);
        await unlisted.release();
        const [gone] = await unlisted.settled;
        expect(gone).toBeInstanceOf(UnknownTenantError);
        expect((gone as RoutingError).cause).toMatchObject({ code: "57P01" });
      });
    }
  });
}

function expectUnavailable(error: unknown, where: string): void {
  if (!(error instanceof DatabaseUnavailableError)) {
    // The stack says where a raw error escaped.
    throw new Error(
      `expected DatabaseUnavailableError, got ${String((error as Error)?.stack ?? JSON.stringify(error))}`,
    );
  }
  expect(error.code).toBe("DATABASE_UNAVAILABLE");
  expect(error.message).toContain(where);
  // The driver's error (Node's own socket errors come from another realm than jest's Error).
  expect(error.cause).toMatchObject({ message: expect.any(String) });
  expect(error.cause).not.toBeInstanceOf(RoutingError);
}

// The URL of `database` on the server of `url`, through `port` when given.
function serverUrl(url: string, port: number | undefined, database: string): string {
  const parsed = new URL(url);
  if (port !== undefined) parsed.port = String(port);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function messageOf(error: unknown): string {
  return String((error as { message?: unknown })?.message ?? error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `probe` until it gives a value (no timing assertion: a bound on a broken setup).
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(20);
  }
}
