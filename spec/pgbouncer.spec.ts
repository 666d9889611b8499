import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { Column, Entity, PrimaryGeneratedColumn, type MigrationInterface } from "typeorm";
import { External, TenantRouter, schemaPerTenant, withTenant } from "./setup/public-api";
import { PGBOUNCER_URL, PG_URL, databaseUrl, describeServer } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration, sqlMigration } from "./setup/migrations";
import { CLEANUP_TIMEOUT_MS, dropDatabases } from "./setup/cleanup";
import { queryAt } from "./setup/pg";

// Schema-per-tenant through PgBouncer in transaction mode (PGBOUNCER_URL, port 6432, in front
// of the PG_URL server; .ci/pg-servers.sh runs it). In transaction mode consecutive
// transactions of one client connection may run on different server connections, and a
// server connection serves many clients: session state set by one client reaches others.

@External()
@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  tenant!: string;
}

const CreateNotes1700000000001 = createTableMigration("CreateNotes1700000000001", "note", [
  { name: "tenant", type: "varchar" },
]);
const AddNoteLabel1700000000002 = sqlMigration(
  "AddNoteLabel1700000000002",
  "ALTER TABLE note ADD COLUMN label varchar",
  "ALTER TABLE note DROP COLUMN label",
);
const IndexNoteLabel1700000000003 = sqlMigration(
  "IndexNoteLabel1700000000003",
  'CREATE INDEX "note_label_idx" ON note (label)',
  'DROP INDEX "note_label_idx"',
);

const DEFAULT_SEARCH_PATH = '"$user", public';

/** A plain `pg` client connected through PgBouncer to `database`. */
async function bouncerClient(database: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(database, PGBOUNCER_URL) });
  await client.connect();
  return client;
}

describeServer("schema per tenant through PgBouncer (transaction mode)", PGBOUNCER_URL, () => {
  // Created on the PG_URL server directly; PgBouncer reaches them by name.
  const database = `tr_bouncer_${randomBytes(4).toString("hex")}`;
  const demoDatabase = `${database}_naive`;
  const TENANTS = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
  const list: string[] = [];
  let router: TenantRouter;

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${database}"`);
    await queryAt(PG_URL, `CREATE DATABASE "${demoDatabase}"`);
    const url = databaseUrl(database, PGBOUNCER_URL);
    router = await TenantRouter.create({
      entities: [Note],
      databases: { default: { type: "postgres", url } },
      tenants: {
        ...inMemoryTenants(list),
        strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections: 2 }),
      },
      migrations: { tenant: [CreateNotes1700000000001] },
    });
    for (const tenant of TENANTS) await router.tenants.create(tenant);
  });

  afterAll(async () => {
    await router?.close();
    await dropDatabases(PG_URL, [database, demoDatabase]);
  }, CLEANUP_TIMEOUT_MS);

  it("goes through PgBouncer in transaction mode", async () => {
    const [{ port }] = await router.query<{ port: number }[]>(
      "default",
      "SELECT inet_server_port() AS port",
      [],
      { operation: "read" },
    );
    expect(port).toBe(Number(new URL(PG_URL).port)); // the server behind the bouncer
    const admin = await bouncerClient("pgbouncer");
    try {
      const config = await admin.query<{ key: string; value: string }>("SHOW CONFIG");
      expect(config.rows.find((row) => row.key === "pool_mode")?.value).toBe("transaction");
      const pools = await admin.query<{ database: string }>("SHOW POOLS");
      expect(pools.rows.map((row) => row.database)).toContain(database);
    } finally {
      await admin.end();
    }
  });

  it("never lets a tenant's raw SQL or transaction see another tenant's rows, nor leaves a search_path behind", async () => {
    // One row per tenant, written with raw SQL and an unqualified table name.
    for (const tenant of TENANTS) {
      await router.query({ tenant }, "INSERT INTO note (tenant) VALUES ($1)", [`raw-${tenant}`]);
    }
    type Seen = { tenant: string; rows: string[] };
    const readRaw = async (tenant: string): Promise<Seen> => {
      const rows = await router.query<{ tenant: string }[]>(
        { tenant },
        "SELECT DISTINCT tenant FROM note WHERE tenant LIKE 'raw-%'",
        [],
        { operation: "read" },
      );
      return { tenant, rows: rows.map((row) => row.tenant) };
    };
    const readInTransaction = (tenant: string): Promise<Seen> =>
      withTenant(tenant, () =>
        router.transaction(async (manager) => {
          await router.getRepository(Note).save({ tenant }); // pins the transaction
          const rows = await manager.query<{ tenant: string }[]>(
            "SELECT DISTINCT tenant FROM note WHERE tenant LIKE 'raw-%'",
          );
          return { tenant, rows: rows.map((row) => row.tenant) };
        }),
      );
    const defaultSearchPath = async (_tenant?: string): Promise<Seen> => {
      const [row] = await router.query<{ search_path: string }[]>(
        "default",
        "SHOW search_path",
        [],
        { operation: "read" },
      );
      return { tenant: "default", rows: [row.search_path] };
    };

    // 240 calls at once over the tenants' 2 pooled connections (and default's own pool), all
    // multiplexed by PgBouncer onto the same server connections: every tenant gets raw
    // queries and transactions, interleaved with default's SHOW search_path.
    const calls = [readRaw, readInTransaction, defaultSearchPath];
    const seen = await Promise.all(
      Array.from({ length: 240 }, (_, i) => calls[i % 3](TENANTS[i % TENANTS.length])),
    );
    expect(seen.filter((s) => s.tenant === "default")).toHaveLength(80);
    for (const { tenant, rows } of seen) {
      expect(rows).toEqual(tenant === "default" ? [DEFAULT_SEARCH_PATH] : [`raw-${tenant}`]);
    }

    // Afterwards: default (also through PgBouncer) has no tenant on its search_path...
    expect((await defaultSearchPath()).rows).toEqual([DEFAULT_SEARCH_PATH]);
    // ...and neither has any server connection PgBouncer holds for the database: hold as
    // many transactions open at once as it has server connections, so that each one is used.
    const admin = await bouncerClient("pgbouncer");
    let servers: number;
    try {
      const rows = await admin.query<{ database: string }>("SHOW SERVERS");
      servers = rows.rows.filter((row) => row.database === database).length;
    } finally {
      await admin.end();
    }
    expect(servers).toBeGreaterThan(0);
    const clients = await Promise.all(
      Array.from({ length: servers }, () => bouncerClient(database)),
    );
    try {
      const paths = await Promise.all(
        clients.map(async (client) => {
          await client.query("BEGIN");
          const { rows } = await client.query<{ search_path: string; pid: number }>(
            "SELECT current_setting('search_path') AS search_path, pg_backend_pid() AS pid",
          );
          return rows[0];
        }),
      );
      expect(new Set(paths.map((row) => row.pid)).size).toBe(servers);
      expect(paths.map((row) => row.search_path)).toEqual(Array(servers).fill(DEFAULT_SEARCH_PATH));
    } finally {
      await Promise.all(clients.map((client) => client.query("COMMIT").then(() => client.end())));
    }

    // Every row written inside a transaction landed in its own tenant's schema.
    for (const tenant of TENANTS) {
      const rows = await queryAt<{ tenant: string }>(
        databaseUrl(database, PG_URL),
        `SELECT DISTINCT tenant FROM tenant_${tenant}.note ORDER BY tenant`,
      );
      expect(rows.map((row) => row.tenant)).toEqual([`raw-${tenant}`, tenant]);
    }
  });

  it("shows the hazard SET LOCAL avoids: a session-level SET search_path leaks to another client", async () => {
    // Two schemas with one row each, made directly on the server.
    await queryAt(
      databaseUrl(demoDatabase, PG_URL),
      `CREATE SCHEMA tenant_a; CREATE TABLE tenant_a.note (tenant text); INSERT INTO tenant_a.note VALUES ('a');
       CREATE SCHEMA tenant_b; CREATE TABLE tenant_b.note (tenant text); INSERT INTO tenant_b.note VALUES ('b');`,
    );
    const a = await bouncerClient(demoDatabase);
    const b = await bouncerClient(demoDatabase);
    try {
      // Transaction-scoped, as the router does it: nothing is left on the server connection.
      await a.query("BEGIN");
      await a.query("SET LOCAL search_path TO tenant_b");
      expect((await a.query("SELECT tenant FROM note")).rows).toEqual([{ tenant: "b" }]);
      await a.query("COMMIT");
      expect((await b.query("SHOW search_path")).rows).toEqual([
        { search_path: DEFAULT_SEARCH_PATH },
      ]);

      // Session-level, the naive way: the statement ends, PgBouncer hands the server
      // connection to client b, and b's unqualified query reads tenant a's table.
      await a.query("SET search_path TO tenant_a");
      const { rows } = await b.query<{ tenant: string; search_path: string }>(
        "SELECT tenant, current_setting('search_path') AS search_path FROM note",
      );
      expect(rows).toEqual([{ tenant: "a", search_path: "tenant_a" }]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
    // The poisoned server connection stays in PgBouncer's pool: afterAll drops the database
    // (WITH FORCE), which closes it.
  });

  it("migrates schemas through PgBouncer again and again without leaving a migration lock held", async () => {
    const url = databaseUrl(database, PGBOUNCER_URL);
    const routerWith = (migrations: (new () => MigrationInterface)[]) =>
      TenantRouter.create({
        entities: [Note],
        databases: { default: { type: "postgres", url } },
        tenants: {
          list: () => list,
          strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections: 2 }),
        },
        migrations: { tenant: migrations },
      });
    const advisoryLocks = () =>
      queryAt<{ n: string }>(
        PG_URL,
        `SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND d.datname = '${database}'`,
      );
    const second = await routerWith([CreateNotes1700000000001, AddNoteLabel1700000000002]);
    try {
      const report = await second.migrate({ concurrency: 4 });
      expect(
        report.results.filter((r) => r.database.kind === "tenant").map((r) => r.outcome),
      ).toEqual(TENANTS.map(() => "migrated"));
    } finally {
      await second.close();
    }
    // Transaction-scoped locks end with their transactions: none may outlive the run.
    expect(await advisoryLocks()).toEqual([{ n: "0" }]);
    const third = await routerWith([
      CreateNotes1700000000001,
      AddNoteLabel1700000000002,
      IndexNoteLabel1700000000003,
    ]);
    try {
      const report = await third.migrate({ concurrency: 4, lockTimeoutMs: 2000 });
      expect(report.ok).toBe(true);
      expect(
        report.results.filter((r) => r.database.kind === "tenant").map((r) => r.outcome),
      ).toEqual(TENANTS.map(() => "migrated"));
    } finally {
      await third.close();
    }
    expect(await advisoryLocks()).toEqual([{ n: "0" }]);
    const indexed = await queryAt<{ n: string }>(
      databaseUrl(database, PG_URL),
      "SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'note_label_idx'",
    );
    expect(indexed).toEqual([{ n: String(TENANTS.length) }]);
  });
});
