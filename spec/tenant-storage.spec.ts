import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  External,
  TenantRouter,
  schemaPerTenant,
  withTenant,
  type RoutingError,
  type TenantsConfig,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { PG_URL, databaseUrl } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration } from "./setup/migrations";
import { queryAt } from "./setup/pg";

// Tenant storage the router owns, and only that: what it creates is marked, what it drops
// must carry the mark, system and alias storage is refused outright, over-long names are
// refused before anything runs, and concurrent creates of one id have exactly one winner.

@External()
@Entity()
class Ledger {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  note!: string;
}

const CreateLedger1700000000001 = createTableMigration("CreateLedger1700000000001", "ledger", [
  { name: "note", type: "varchar" },
]);

const pgAvailable = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1";
const describePg = pgAvailable ? describe : describe.skip;

/** Rejects with the routing error `promise` fails with (and fails the test if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<RoutingError> {
  try {
    await promise;
  } catch (error) {
    return error as RoutingError;
  }
  throw new Error("expected a rejection");
}

// 60 characters: valid as an id, but tenant_<id> (67 bytes) exceeds PostgreSQL's 63.
const LONG_ID = `long${"x".repeat(56)}`;

describePg("tenant storage on PostgreSQL, schema per tenant", () => {
  const database = `tr_storage_${randomBytes(4).toString("hex")}`;
  const url = databaseUrl(database);
  const base = { type: "postgres" as const, url };
  const routers: TenantRouter[] = [];
  const inDatabase = <T = Record<string, unknown>>(sql: string) => queryAt<T>(url, sql);
  /** Every schema of the database with its comment, read from pg_namespace. */
  const namespaces = () =>
    inDatabase<{ nspname: string; mark: string | null }>(
      "SELECT nspname, obj_description(oid, 'pg_namespace') AS mark FROM pg_namespace ORDER BY nspname",
    );
  const open = async (ids: string[], schema?: (tenant: string) => string) => {
    const router = await TenantRouter.create({
      entities: [Ledger],
      databases: { default: base },
      tenants: {
        ...inMemoryTenants(ids),
        strategy: schemaPerTenant({ base, ...(schema ? { schema } : {}), maxConnections: 4 }),
      },
      migrations: { tenant: [CreateLedger1700000000001] },
    });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${database}"`);
    await inDatabase(
      "CREATE TABLE public.keep (id integer); INSERT INTO public.keep VALUES (1);" +
        "CREATE SCHEMA unmarked; CREATE TABLE unmarked.t (id integer);" +
        "CREATE SCHEMA wrongmark; COMMENT ON SCHEMA wrongmark IS 'typeorm-router tenant other'",
    );
  });

  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    await dropDatabasesByPrefix(PG_URL, database);
  }, CLEANUP_TIMEOUT_MS);

  for (const system of ["public", "information_schema", "pg_catalog", "pg_toast"]) {
    it(`refuses to drop or create the system schema ${system}, and pg_namespace is unchanged`, async () => {
      const listed = await open([system], (tenant) => tenant);
      const before = await namespaces();
      const dropped = await failureOf(listed.tenants.drop(system, { confirm: system }));
      expect(dropped).toMatchObject({ code: "RESERVED_STORAGE", name: "ReservedStorageError" });
      expect(dropped.message).toContain(`schema "${system}"`);
      const unlisted = await open([], (tenant) => tenant);
      const created = await failureOf(unlisted.tenants.create(system));
      expect(created).toMatchObject({ code: "RESERVED_STORAGE" });
      expect(await namespaces()).toEqual(before);
      expect(await inDatabase("SELECT id FROM public.keep")).toEqual([{ id: 1 }]);
    });
  }

  it("refuses to drop a schema it did not create (no mark, or another tenant's), and keeps it", async () => {
    const router = await open(["unmarked", "wrongmark"], (tenant) => tenant);
    const before = await namespaces();
    const unmarked = await failureOf(router.tenants.drop("unmarked", { confirm: "unmarked" }));
    expect(unmarked).toMatchObject({ code: "UNOWNED_STORAGE", name: "UnownedStorageError" });
    expect(unmarked.message).toContain(
      `COMMENT ON SCHEMA "unmarked" IS 'typeorm-router tenant unmarked'`,
    );
    const foreign = await failureOf(router.tenants.drop("wrongmark", { confirm: "wrongmark" }));
    expect(foreign).toMatchObject({ code: "UNOWNED_STORAGE" });
    expect(foreign.message).toContain("typeorm-router tenant other");
    expect(await namespaces()).toEqual(before);
    expect(await inDatabase("SELECT count(*)::int AS n FROM unmarked.t")).toEqual([{ n: 0 }]);
    // Still routable: a refused drop leaves the tenant as it was.
    expect(await router.tenants.list()).toEqual(["unmarked", "wrongmark"]);
  });

  it("marks the schema it creates, and drops exactly that schema", async () => {
    const router = await open([]);
    const before = await namespaces();
    await router.tenants.create("acme");
    expect(await namespaces()).toEqual(
      [...before, { nspname: "tenant_acme", mark: "typeorm-router tenant acme" }].sort((a, b) =>
        a.nspname < b.nspname ? -1 : 1,
      ),
    );
    await withTenant("acme", () => router.getRepository(Ledger).save({ note: "in acme" }));
    expect(await inDatabase("SELECT note FROM tenant_acme.ledger")).toEqual([{ note: "in acme" }]);
    await router.tenants.drop("acme", { confirm: "acme" });
    expect(await namespaces()).toEqual(before);
  });

  it("refuses a schema name longer than 63 bytes before anything runs", async () => {
    const router = await open([]);
    const before = await namespaces();
    const error = await failureOf(router.tenants.create(LONG_ID));
    expect(error).toMatchObject({ code: "NAME_TOO_LONG", name: "NameTooLongError" });
    expect(error.message).toContain("67 bytes");
    expect(await namespaces()).toEqual(before);
    expect(await router.tenants.list()).toEqual([]);
  });

  it("five concurrent creates of one id from five routers: one success, four TenantExistsError, register runs once", async () => {
    const ids: string[] = [];
    const registered: string[] = [];
    const racers = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const router = await TenantRouter.create({
          entities: [Ledger],
          databases: { default: base },
          tenants: {
            list: () => ids,
            register: async (tenant) => {
              registered.push(tenant);
              ids.push(tenant);
            },
            strategy: schemaPerTenant({ base, maxConnections: 2 }),
          },
          migrations: { tenant: [CreateLedger1700000000001] },
        });
        routers.push(router);
        return router;
      }),
    );
    const results = await Promise.allSettled(racers.map((r) => r.tenants.create("race")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(failures.map((error) => (error as RoutingError).code)).toEqual(
      Array(4).fill("TENANT_EXISTS"),
    );
    expect(registered).toEqual(["race"]);
    expect(
      (await namespaces()).filter((n) => n.nspname === "tenant_race").map((n) => n.mark),
    ).toEqual(["typeorm-router tenant race"]);
    expect(
      await inDatabase("SELECT count(*)::int AS n FROM tenant_race.migrations_tenant"),
    ).toEqual([{ n: 1 }]);
  });
});

describePg("tenant storage on PostgreSQL, database per tenant", () => {
  const prefix = `tr_dbs_${randomBytes(3).toString("hex")}_`;
  const defaultUrl = databaseUrl(`${prefix}default`);
  const routers: TenantRouter[] = [];
  const tenantOptions = (tenant: string): DataSourceOptions => ({
    type: "postgres",
    url: tenant === "main" ? defaultUrl : databaseUrl(`${prefix}${tenant}`),
  });
  /** This suite's databases and the server's own, with their comments, from pg_database. */
  const databases = () =>
    queryAt<{ datname: string; mark: string | null }>(
      PG_URL,
      "SELECT datname, shobj_description(oid, 'pg_database') AS mark FROM pg_database " +
        "WHERE starts_with(datname, $1) OR datname IN ('postgres', 'template0', 'template1') ORDER BY datname",
      [prefix],
    );
  const open = async (tenants: Partial<TenantsConfig>) => {
    const router = await TenantRouter.create({
      entities: [Ledger],
      databases: { default: { type: "postgres", url: defaultUrl } },
      tenants: { list: [], options: tenantOptions, ...tenants } as TenantsConfig,
      migrations: { tenant: [CreateLedger1700000000001] },
    });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${prefix}default"`);
    await queryAt(PG_URL, `CREATE DATABASE "${prefix}plain"`);
  });

  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    await dropDatabasesByPrefix(PG_URL, prefix);
  }, CLEANUP_TIMEOUT_MS);

  it("marks the database it creates (COMMENT ON DATABASE) and drops it; refuses an unmarked one", async () => {
    const router = await open(inMemoryTenants(["plain"]));
    await router.tenants.create("acme");
    expect((await databases()).find((d) => d.datname === `${prefix}acme`)?.mark).toBe(
      "typeorm-router tenant acme",
    );
    const before = await databases();
    const error = await failureOf(router.tenants.drop("plain", { confirm: "plain" }));
    expect(error).toMatchObject({ code: "UNOWNED_STORAGE" });
    expect(error.message).toContain(`COMMENT ON DATABASE "${prefix}plain"`);
    expect(await databases()).toEqual(before);
    await router.tenants.drop("acme", { confirm: "acme" });
    expect((await databases()).map((d) => d.datname)).not.toContain(`${prefix}acme`);
    expect((await databases()).map((d) => d.datname)).toContain(`${prefix}plain`);
  });

  it("refuses the default database and the server's own databases, even when listed", async () => {
    const router = await open({
      list: ["main"],
      options: (tenant) =>
        tenant === "sys"
          ? { type: "postgres", url: databaseUrl("postgres") }
          : tenantOptions(tenant),
    });
    const before = await databases();
    const main = await failureOf(router.tenants.drop("main", { confirm: "main" }));
    expect(main).toMatchObject({ code: "RESERVED_STORAGE" });
    expect(main.message).toContain("alias");
    const sys = await failureOf(router.tenants.create("sys"));
    expect(sys).toMatchObject({ code: "RESERVED_STORAGE" });
    expect(sys.message).toContain(`database "postgres"`);
    expect(await databases()).toEqual(before);
  });

  it("refuses a database name longer than 63 bytes before anything runs, and never routes to it", async () => {
    const router = await open({});
    const before = await databases();
    const error = await failureOf(router.tenants.create(LONG_ID));
    expect(error).toMatchObject({ code: "NAME_TOO_LONG" });
    // PostgreSQL would connect to the truncated name: another tenant's database, maybe.
    const listed = await open({ list: [LONG_ID] });
    const routed = await failureOf(withTenant(LONG_ID, () => listed.getRepository(Ledger).count()));
    expect(routed).toMatchObject({ code: "NAME_TOO_LONG" });
    expect(listed.poolStats().openTenants).toBe(0);
    expect(await databases()).toEqual(before);
  });

  it("five concurrent creates of one id: one success, four TenantExistsError, register runs once", async () => {
    const ids: string[] = [];
    const registered: string[] = [];
    const racers = await Promise.all(
      Array.from({ length: 5 }, () =>
        open({
          list: () => ids,
          register: async (tenant: string) => {
            registered.push(tenant);
            ids.push(tenant);
          },
        }),
      ),
    );
    const results = await Promise.allSettled(racers.map((r) => r.tenants.create("race")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.flatMap((r) => (r.status === "rejected" ? [(r.reason as RoutingError).code] : [])),
    ).toEqual(Array(4).fill("TENANT_EXISTS"));
    expect(registered).toEqual(["race"]);
    expect((await databases()).filter((d) => d.datname === `${prefix}race`)).toEqual([
      { datname: `${prefix}race`, mark: "typeorm-router tenant race" },
    ]);
  });
});

describe("tenant storage on SQLite", () => {
  let folder: string;
  const routers: TenantRouter[] = [];
  const fileOf = (name: string) => path.join(folder, `${name}.sqlite`);
  const applicationId = (file: string) => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.pragma("application_id", { simple: true });
    } finally {
      db.close();
    }
  };
  const open = async (tenants: Partial<TenantsConfig>) => {
    const router = await TenantRouter.create({
      entities: [Ledger],
      databases: { default: { type: "better-sqlite3", database: fileOf("default") } },
      tenants: {
        list: [],
        options: (tenant: string) => ({
          type: "better-sqlite3",
          database: fileOf(tenant === "main" ? "default" : tenant),
        }),
        ...tenants,
      } as TenantsConfig,
      migrations: { tenant: [CreateLedger1700000000001] },
    });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), "tr-storage-"));
  });

  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    await rm(folder, { recursive: true, force: true });
  });

  it("marks the file it creates (application_id), drops only marked files, never the default database", async () => {
    new Database(fileOf("plain")).exec("CREATE TABLE t (id integer)");
    const router = await open(inMemoryTenants(["plain", "main"]));
    await router.query("default", "CREATE TABLE keep (id integer)");
    await router.tenants.create("acme");
    expect(applicationId(fileOf("acme"))).not.toBe(0);
    expect(applicationId(fileOf("plain"))).toBe(0);

    const unowned = await failureOf(router.tenants.drop("plain", { confirm: "plain" }));
    expect(unowned).toMatchObject({ code: "UNOWNED_STORAGE" });
    expect(existsSync(fileOf("plain"))).toBe(true);
    const reserved = await failureOf(router.tenants.drop("main", { confirm: "main" }));
    expect(reserved).toMatchObject({ code: "RESERVED_STORAGE" });
    expect(await router.query("default", "SELECT count(*) AS n FROM keep")).toEqual([{ n: 0 }]);

    await router.tenants.drop("acme", { confirm: "acme" });
    expect(existsSync(fileOf("acme"))).toBe(false);
  });

  it("five concurrent creates of one id: one success, four TenantExistsError, register runs once", async () => {
    const ids: string[] = [];
    const registered: string[] = [];
    const racers = await Promise.all(
      Array.from({ length: 5 }, () =>
        open({
          list: () => ids,
          register: async (tenant: string) => {
            registered.push(tenant);
            ids.push(tenant);
          },
        }),
      ),
    );
    const results = await Promise.allSettled(racers.map((r) => r.tenants.create("race")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.flatMap((r) => (r.status === "rejected" ? [(r.reason as RoutingError).code] : [])),
    ).toEqual(Array(4).fill("TENANT_EXISTS"));
    expect(registered).toEqual(["race"]);
    const db = new Database(fileOf("race"), { readonly: true });
    try {
      expect(db.prepare("SELECT name FROM migrations_tenant").all()).toEqual([
        { name: "CreateLedger1700000000001" },
      ]);
    } finally {
      db.close();
    }
  });

  it("an existing file is never taken over by create", async () => {
    writeFileSync(fileOf("taken"), "");
    const router = await open({});
    const error = await failureOf(router.tenants.create("taken"));
    expect(error).toMatchObject({ code: "TENANT_EXISTS" });
    expect(existsSync(fileOf("taken"))).toBe(true);
  });
});
