import { randomBytes } from "node:crypto";
import {
  Column,
  Entity,
  PrimaryGeneratedColumn,
  type DataSourceOptions,
  type Logger,
} from "typeorm";
import { External, TenantRouter, withTenant } from "./setup/public-api";
import {
  PG_SECOND_URL,
  PG_URL,
  databaseUrl,
  describeServer,
  postgresAvailable,
} from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { queryAt } from "./setup/pg";

// Database per tenant on PostgreSQL: TypeORM's driver asks every new DataSource's server for
// its version, database and current schema (three round trips). The router remembers the
// answers per server, so only the first database of each server pays them.

// Placed in the tenants' databases.
@External()
@Entity({ name: "cold_note" })
class ColdNote {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

const STARTUP = /version\(\)|current_database\(\)|current_schema\(\)/i;

/** Every statement each tenant's DataSource sends, in order, recorded by TypeORM's logger. */
class StatementLog {
  readonly #statements = new Map<string, string[]>();

  of(tenant: string): string[] {
    return this.#statements.get(tenant) ?? [];
  }

  loggerFor(tenant: string): Logger {
    const record = (query: string) => {
      this.#statements.set(tenant, [...this.of(tenant), query]);
    };
    return {
      logQuery: record,
      logQueryError: (_error, query) => record(query),
      logQuerySlow: (_time, query) => record(query),
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    };
  }
}

const prefix = `co_${randomBytes(3).toString("hex")}_`;
const databaseOf = (label: string) => `${prefix}${label}`;
const CREATE_TABLE = "CREATE TABLE cold_note (id serial PRIMARY KEY, label varchar NOT NULL)";

/** Creates the databases of `tenants` on `server` with the cold_note table, without TypeORM. */
async function createTenantDatabases(server: string, tenants: readonly string[]): Promise<void> {
  for (const tenant of tenants) {
    await queryAt(server, `CREATE DATABASE "${databaseOf(tenant)}"`);
    await queryAt(databaseUrl(databaseOf(tenant), server), CREATE_TABLE);
  }
}

const labelsIn = async (server: string, tenant: string) =>
  (
    await queryAt<{ label: string }>(
      databaseUrl(databaseOf(tenant), server),
      "SELECT label FROM cold_note ORDER BY id",
    )
  ).map((row) => row.label);

describe("cold database-per-tenant opens (PostgreSQL)", () => {
  let available = false;
  const routers: TenantRouter[] = [];
  const log = new StatementLog();

  const open = async (serverOf: (tenant: string) => string, tenants: string[]) => {
    const router = await TenantRouter.create({
      entities: [ColdNote],
      databases: { default: { type: "postgres", url: databaseUrl(databaseOf("default"), PG_URL) } },
      tenants: {
        ...inMemoryTenants(tenants),
        options: (tenant): DataSourceOptions => ({
          type: "postgres",
          url: databaseUrl(databaseOf(tenant), serverOf(tenant)),
          logger: log.loggerFor(tenant),
        }),
      },
    });
    routers.push(router);
    return router;
  };

  /** Opens `tenant` with its first read, then saves a row there; returns what it sent. */
  const firstUse = async (router: TenantRouter, tenant: string) =>
    withTenant(tenant, async () => {
      const repository = router.getRepository(ColdNote);
      expect(await repository.findOneBy({ label: "none" })).toBeNull();
      const opening = log.of(tenant);
      await repository.save({ label: `row of ${tenant}` });
      return opening;
    });

  beforeAll(async () => {
    available = await postgresAvailable();
    if (!available) return;
    await queryAt(PG_URL, `CREATE DATABASE "${databaseOf("default")}"`);
  });

  afterAll(async () => {
    await Promise.allSettled(routers.splice(0).map((router) => router.close()));
    if (!available) return;
    await dropDatabasesByPrefix(PG_URL, prefix);
  }, CLEANUP_TIMEOUT_MS);

  it("sends the startup queries for the first tenant only; the next ones open with their read alone", async () => {
    if (!available) return;
    const tenants = ["t1", "t2", "t3"];
    await createTenantDatabases(PG_URL, tenants);
    const router = await open(() => PG_URL, [...tenants]);

    const first = await firstUse(router, "t1");
    // The control: without a remembered server, TypeORM asks the version and the current
    // schema (the database it takes from the options' URL).
    expect(first.filter((sql) => STARTUP.test(sql))).toEqual([
      "SELECT version()",
      "SELECT * FROM current_schema()",
    ]);

    for (const tenant of ["t2", "t3"]) {
      const opening = await firstUse(router, tenant);
      expect(opening.filter((sql) => STARTUP.test(sql))).toEqual([]);
      // The tenant's open sent its read and nothing else.
      expect(opening).toHaveLength(1);
      expect(opening[0]).toMatch(/^SELECT .* FROM "cold_note"/);
    }

    // Each row is in its tenant's database only, read without the router.
    for (const tenant of tenants)
      expect(await labelsIn(PG_URL, tenant)).toEqual([`row of ${tenant}`]);
    // The driver still knows what it would have asked: its own database, the server's version.
    for (const tenant of tenants) {
      const dataSource = await withTenant(tenant, () => router.dataSourceFor(ColdNote));
      const [{ database, version }] = await dataSource.query<
        { database: string; version: string }[]
      >("SELECT current_database() AS database, version() AS version");
      expect(dataSource.driver.database).toBe(database);
      expect(database).toBe(databaseOf(tenant));
      expect((dataSource.driver as unknown as { version: string }).version).toBe(
        version.split(" ")[1],
      );
    }
  });
});

describeServer("cold database-per-tenant opens on two PostgreSQL servers", PG_SECOND_URL, () => {
  const routers: TenantRouter[] = [];
  const log = new StatementLog();
  const serverOf = (tenant: string) => (tenant.startsWith("b") ? PG_SECOND_URL : PG_URL);

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${databaseOf("default2")}"`);
  });

  afterAll(async () => {
    await Promise.allSettled(routers.splice(0).map((router) => router.close()));
    await Promise.all(
      [PG_URL, PG_SECOND_URL].map((server) => dropDatabasesByPrefix(server, prefix)),
    );
  }, CLEANUP_TIMEOUT_MS);

  it("learns each server's answers from that server", async () => {
    const tenants = ["a1", "a2", "b1", "b2"];
    await createTenantDatabases(PG_URL, ["a1", "a2"]);
    await createTenantDatabases(PG_SECOND_URL, ["b1", "b2"]);
    const router = await TenantRouter.create({
      entities: [ColdNote],
      databases: {
        default: { type: "postgres", url: databaseUrl(databaseOf("default2"), PG_URL) },
      },
      tenants: {
        ...inMemoryTenants([...tenants]),
        options: (tenant): DataSourceOptions => ({
          type: "postgres",
          url: databaseUrl(databaseOf(tenant), serverOf(tenant)),
          logger: log.loggerFor(tenant),
        }),
      },
    });
    routers.push(router);

    const startupSent: Record<string, number> = {};
    for (const tenant of tenants) {
      await withTenant(tenant, () => router.getRepository(ColdNote).save({ label: tenant }));
      startupSent[tenant] = log.of(tenant).filter((sql) => STARTUP.test(sql)).length;
    }
    // The second server's first database asks again: what the first server said is not its.
    expect(startupSent).toEqual({ a1: 2, a2: 0, b1: 2, b2: 0 });
    for (const tenant of tenants) {
      expect(await labelsIn(serverOf(tenant), tenant)).toEqual([tenant]);
      const dataSource = await withTenant(tenant, () => router.dataSourceFor(ColdNote));
      const [{ port }] = await dataSource.query<{ port: number }[]>(
        "SELECT inet_server_port() AS port",
      );
      expect(port).toBe(Number(new URL(serverOf(tenant)).port));
    }
  });
});
