import { randomBytes } from "node:crypto";
import {
  Column,
  Entity,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Table,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import { External, TenantRouter, withTenant, type MigrationClass } from "./setup/public-api";
import { PG_SECOND_URL, PG_URL, databaseUrl, describeServer } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration, sqlMigration } from "./setup/migrations";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { queryAt } from "./setup/pg";

// Database-per-tenant across two PostgreSQL servers: the main one (PG_URL, port 5432) and the
// cluster `trsecond` (PG_SECOND_URL, port 5435) that .ci/pg-servers.sh creates.

/** The tenant directory, in `default`: which server holds each tenant's database. */
@Entity({ name: "tenant_directory" })
class TenantEntry {
  @PrimaryColumn({ type: "varchar" })
  slug!: string;

  @Column({ type: "varchar" })
  server!: string;
}

@External()
@Entity()
class Invoice {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

class CreateTenantDirectory1700000000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "tenant_directory",
        columns: [
          { name: "slug", type: "varchar", isPrimary: true },
          { name: "server", type: "varchar" },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("tenant_directory");
  }
}

const CreateInvoices1700000000001 = createTableMigration("CreateInvoices1700000000001", "invoice", [
  { name: "label", type: "varchar" },
]);

// Not mapped to an entity, so applying it or not never changes what verifySchema expects.
const CreateInvoiceAudit1700000000002 = sqlMigration(
  "CreateInvoiceAudit1700000000002",
  "CREATE TABLE invoice_audit (invoice_id integer, note text)",
  "DROP TABLE invoice_audit",
);

const SERVERS = { main: PG_URL, second: PG_SECOND_URL } as const;
type ServerName = keyof typeof SERVERS;
const SERVER_NAMES = Object.keys(SERVERS) as ServerName[];

// Every database of this file starts with the prefix, so afterAll can find and drop them all
// on both servers, whatever failed before.
const prefix = `ms_${randomBytes(3).toString("hex")}_`;
const databaseOf = (label: string) => `${prefix}${label}`;
const tenantOptions = (server: ServerName, tenant: string): DataSourceOptions => ({
  type: "postgres",
  url: databaseUrl(databaseOf(`db_${tenant}`), SERVERS[server]),
});

/** The databases of this file on `server`, read from its pg_database. */
async function databasesOn(server: ServerName): Promise<string[]> {
  const rows = await queryAt<{ datname: string }>(
    SERVERS[server],
    "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
    [prefix],
  );
  return rows.map((row) => row.datname);
}

/** Rows of a tenant's database, read straight from `server` without the router. */
const onTenant = <T = Record<string, unknown>>(server: ServerName, tenant: string, sql: string) =>
  queryAt<T>(databaseUrl(databaseOf(`db_${tenant}`), SERVERS[server]), sql);

describeServer("database per tenant on two PostgreSQL servers", PG_SECOND_URL, () => {
  const routers: TenantRouter[] = [];
  const open = async (options: Parameters<typeof TenantRouter.create>[0]) => {
    const router = await TenantRouter.create(options);
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${databaseOf("default")}"`);
  });

  afterAll(async () => {
    await Promise.allSettled(routers.splice(0).map((router) => router.close()));
    await Promise.all(SERVER_NAMES.map((server) => dropDatabasesByPrefix(SERVERS[server], prefix)));
  }, CLEANUP_TIMEOUT_MS);

  describe("placed by a function", () => {
    // The placement rule: "eu" tenants live on the second server, every other on the main one.
    const serverOf = (tenant: string): ServerName => (tenant.startsWith("eu") ? "second" : "main");
    const TENANTS = ["eu1", "eu2", "us1", "us2"];
    const list: string[] = [];
    const create = (migrations: MigrationClass[]) =>
      open({
        entities: [TenantEntry, Invoice],
        databases: {
          default: { type: "postgres", url: databaseUrl(databaseOf("default"), PG_URL) },
        },
        tenants: {
          ...inMemoryTenants(list),
          options: (tenant) => tenantOptions(serverOf(tenant), tenant),
        },
        migrations: { default: [CreateTenantDirectory1700000000000], tenant: migrations },
      });

    beforeAll(async () => {
      const router = await create([CreateInvoices1700000000001]);
      await router.migrate();
      for (const tenant of TENANTS) await router.tenants.create(tenant);
    });

    it("creates each tenant's database on its own server, and only there", async () => {
      const on = { main: await databasesOn("main"), second: await databasesOn("second") };
      expect(on.main).toContain(databaseOf("default"));
      expect(on.second).not.toContain(databaseOf("default"));
      for (const tenant of TENANTS) {
        const own = serverOf(tenant);
        const other = own === "main" ? "second" : "main";
        expect(on[own]).toContain(databaseOf(`db_${tenant}`));
        expect(on[other]).not.toContain(databaseOf(`db_${tenant}`));
        // Created and migrated there by tenants.create.
        expect(await onTenant(own, tenant, "SELECT name FROM migrations_tenant")).toContainEqual({
          name: "CreateInvoices1700000000001",
        });
      }
      expect(TENANTS.map(serverOf)).toEqual(["second", "second", "main", "main"]);
    });

    it("writes each tenant's rows on its own server only", async () => {
      const router = await create([CreateInvoices1700000000001]);
      const label = `rows-${randomBytes(3).toString("hex")}`;
      await Promise.all(
        TENANTS.map((tenant) =>
          withTenant(tenant, async () => {
            await router.getRepository(Invoice).save({ label: `${label}-${tenant}` });
            await router.transaction(async (manager) => {
              await manager.getRepository(Invoice).save({ label: `${label}-${tenant}-tx` });
            });
          }),
        ),
      );
      for (const tenant of TENANTS) {
        // The router's connection for the tenant is to its server...
        const [{ port }] = await router.query<{ port: number }[]>(
          { tenant },
          "SELECT inet_server_port() AS port",
          [],
          { operation: "read" },
        );
        expect(port).toBe(Number(new URL(SERVERS[serverOf(tenant)]).port));
        // ...and the rows are in its database there, read without the router; the label
        // filter would also match another tenant's rows, had any landed there.
        const rows = await onTenant<{ label: string }>(
          serverOf(tenant),
          tenant,
          `SELECT label FROM invoice WHERE label LIKE '${label}-%' ORDER BY label`,
        );
        expect(rows.map((row) => row.label)).toEqual([
          `${label}-${tenant}`,
          `${label}-${tenant}-tx`,
        ]);
      }
    });

    it("migrates the tenants of both servers in one run, and reads their status in one call", async () => {
      // A second deploy adds a migration: one migrate() reaches every tenant on both servers.
      const router = await create([CreateInvoices1700000000001, CreateInvoiceAudit1700000000002]);
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => [r.database.name, r.outcome, r.applied])).toEqual([
        ["default", "up-to-date", []],
        ...TENANTS.map((tenant) => [
          tenant,
          "migrated",
          [{ group: "tenant", name: "CreateInvoiceAudit1700000000002" }],
        ]),
      ]);
      for (const tenant of TENANTS) {
        expect(
          await onTenant(
            serverOf(tenant),
            tenant,
            "SELECT name FROM migrations_tenant ORDER BY name",
          ),
        ).toEqual([
          { name: "CreateInvoiceAudit1700000000002" },
          { name: "CreateInvoices1700000000001" },
        ]);
        expect(
          await onTenant(
            serverOf(tenant),
            tenant,
            "SELECT to_regclass('invoice_audit') IS NOT NULL AS present",
          ),
        ).toEqual([{ present: true }]);
      }

      const status = await router.migrationStatus();
      expect(
        status.map((s) => [s.database.name, s.groups.map((g) => [g.group, g.applied, g.pending])]),
      ).toEqual([
        ["default", [["default", ["CreateTenantDirectory1700000000000"], []]]],
        ...TENANTS.map((tenant) => [
          tenant,
          [["tenant", ["CreateInvoices1700000000001", "CreateInvoiceAudit1700000000002"], []]],
        ]),
      ]);
    });

    it("verifies every tenant on both servers and names exactly the one whose table was dropped by hand", async () => {
      const router = await create([CreateInvoices1700000000001]);
      await router.tenants.create("eu3"); // a tenant of its own: this test breaks its schema
      try {
        expect(await databasesOn("second")).toContain(databaseOf("db_eu3"));
        const before = await router.verifySchema();
        expect(before.results.map((r) => [r.database.name, r.clean])).toEqual([
          ["default", true],
          ...[...TENANTS, "eu3"].sort().map((tenant) => [tenant, true]),
        ]);

        await onTenant("second", "eu3", "DROP TABLE invoice");
        const after = await router.verifySchema();
        expect(after.clean).toBe(false);
        const dirty = after.results.filter((r) => !r.clean);
        expect(dirty.map((r) => [r.database, r.missingTables])).toEqual([
          [{ kind: "tenant", name: "eu3" }, ["invoice"]],
        ]);
      } finally {
        await router.tenants.drop("eu3", { confirm: "eu3" });
      }
      expect(await databasesOn("second")).not.toContain(databaseOf("db_eu3"));
    });
  });

  describe("placed by a column of the tenant directory", () => {
    // Which server each tenant lives on, as the directory says. tenants.options must stay
    // synchronous: the router calls it (a plain function returning DataSourceOptions) whenever
    // it opens a tenant's DataSource, creates or drops its database, and once at bootstrap
    // for the metadata blueprint. It cannot await a query, so the async part happens in
    // tenants.list, which the router always reads before it opens, migrates, verifies or
    // creates a tenant: list() reads the directory and fills this map, options() only looks
    // the tenant up, and a tenant missing from it is an error, never a default server.
    const placeRouter = async (planned: Map<string, ServerName> = new Map()) => {
      const placed = new Map<string, ServerName>();
      const router = await open({
        entities: [TenantEntry, Invoice],
        databases: {
          default: { type: "postgres", url: databaseUrl(databaseOf("default"), PG_URL) },
        },
        tenants: {
          list: async (router) => {
            const entries = await router.getRepository(TenantEntry).find();
            for (const entry of entries) {
              if (!SERVER_NAMES.includes(entry.server as ServerName)) {
                throw new Error(`tenant "${entry.slug}" names an unknown server "${entry.server}"`);
              }
              placed.set(entry.slug, entry.server as ServerName);
            }
            return entries.map((entry) => entry.slug);
          },
          // tenants.create(t) creates the database before registering t: the server of a new
          // tenant is chosen up front (`planned`), then recorded in its directory row.
          register: async (tenant, router) => {
            await router
              .getRepository(TenantEntry)
              .insert({ slug: tenant, server: planned.get(tenant)! });
            placed.set(tenant, planned.get(tenant)!);
          },
          unregister: async (tenant, router) => {
            await router.getRepository(TenantEntry).delete({ slug: tenant });
            placed.delete(tenant);
          },
          options: (tenant) => {
            const server = placed.get(tenant) ?? planned.get(tenant);
            if (server) return tenantOptions(server, tenant);
            // Bootstrap builds entity metadata with the id "blueprint" and never connects.
            if (tenant === "blueprint") return tenantOptions("main", tenant);
            throw new Error(`tenant "${tenant}" has no server in the tenant directory`);
          },
        },
        migrations: {
          default: [CreateTenantDirectory1700000000000],
          tenant: [CreateInvoices1700000000001],
        },
      });
      return { router, placed };
    };

    it("creates, migrates, verifies and serves each tenant on the server its directory row names", async () => {
      const planned = new Map<string, ServerName>([
        ["acme", "main"],
        ["globex", "second"],
        ["initech", "second"],
      ]);
      const { router: provisioner } = await placeRouter(planned);
      await provisioner.migrate(); // creates the directory table in default
      for (const tenant of planned.keys()) await provisioner.tenants.create(tenant);

      // The directory rows record the server; each database exists on that server only.
      expect(
        await queryAt(
          databaseUrl(databaseOf("default"), PG_URL),
          "SELECT slug, server FROM tenant_directory ORDER BY slug",
        ),
      ).toEqual([
        { slug: "acme", server: "main" },
        { slug: "globex", server: "second" },
        { slug: "initech", server: "second" },
      ]);
      const main = await databasesOn("main");
      const second = await databasesOn("second");
      expect(main).toContain(databaseOf("db_acme"));
      expect(second).not.toContain(databaseOf("db_acme"));
      for (const tenant of ["globex", "initech"]) {
        expect(second).toContain(databaseOf(`db_${tenant}`));
        expect(main).not.toContain(databaseOf(`db_${tenant}`));
      }

      // A fresh router (a new process) knows nothing but the directory table.
      const { router, placed } = await placeRouter();
      expect(placed.size).toBe(0);
      for (const tenant of planned.keys()) {
        await withTenant(tenant, () =>
          router.getRepository(Invoice).save({ label: `from-${tenant}` }),
        );
      }
      expect([...placed].sort()).toEqual([...planned].sort());
      expect(await onTenant("main", "acme", "SELECT label FROM invoice")).toEqual([
        { label: "from-acme" },
      ]);
      for (const tenant of ["globex", "initech"]) {
        expect(await onTenant("second", tenant, "SELECT label FROM invoice")).toEqual([
          { label: `from-${tenant}` },
        ]);
      }

      const report = await router.migrate();
      expect(report.results.map((r) => [r.database.name, r.outcome])).toEqual([
        ["default", "up-to-date"],
        ["acme", "up-to-date"],
        ["globex", "up-to-date"],
        ["initech", "up-to-date"],
      ]);
      const status = await router.migrationStatus({ tenants: ["acme", "globex", "initech"] });
      expect(status.map((s) => [s.database.name, s.groups[0].applied])).toEqual(
        ["acme", "globex", "initech"].map((tenant) => [tenant, ["CreateInvoices1700000000001"]]),
      );

      await onTenant("second", "initech", "DROP TABLE invoice");
      const verify = await router.verifySchema();
      expect(
        verify.results.filter((r) => !r.clean).map((r) => [r.database, r.missingTables]),
      ).toEqual([[{ kind: "tenant", name: "initech" }, ["invoice"]]]);

      // Dropping a tenant drops its database on its own server and its directory row.
      await router.tenants.drop("globex", { confirm: "globex" });
      expect(await databasesOn("second")).not.toContain(databaseOf("db_globex"));
      expect(await router.tenants.list()).toEqual(["acme", "initech"]);
    });
  });
});
