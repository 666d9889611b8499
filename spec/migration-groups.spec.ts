import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  TenantRouter,
  schemaPerTenant,
  type MigrationClass,
  type Router,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS, dropDatabases } from "./setup/cleanup";
import { PG_URL, databaseUrl, useSqliteFixture } from "./setup/drivers";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration, sqlMigration } from "./setup/migrations";
import { queryAt } from "./setup/pg";

// Per-app migration targeting (Django's `migrate <app>`): groups that share a database are
// migrated, inspected and reverted on their own; a group can be declared before it has a
// migration; and generate + revert round-trip on schema-per-tenant.

const CreateProfiles1700000000001 = createTableMigration("CreateProfiles1700000000001", "profile", [
  { name: "handle", type: "varchar" },
]);
const CreateAccounts1700000000002 = createTableMigration("CreateAccounts1700000000002", "account", [
  { name: "email", type: "varchar" },
]);
const BrokenDown1700000000003 = sqlMigration(
  "BrokenDown1700000000003",
  "CREATE TABLE ledger (id integer)",
  "DROP TABLE no_such_table",
);

// "profiles" is an app of its own whose tables live in `default`, next to the default group.
const profilesInDefault: Router = {
  allowMigrate: (database, group) => (group === "profiles" ? database === "default" : undefined),
};

describe("migration groups sharing a database", () => {
  const db = useSqliteFixture();
  const routers: TenantRouter[] = [];
  afterAll(() => Promise.all(routers.map((router) => router.close())));

  const open = async (
    label: string,
    defaults: MigrationClass[] = [CreateAccounts1700000000002],
  ) => {
    const router = await TenantRouter.create({
      entities: [],
      undiscoveredEntities: "ignore",
      databases: {
        default: db.optionsFor(`${label}_default`),
        analytics: db.optionsFor(`${label}_analytics`),
      },
      routers: [profilesInDefault],
      // analytics is declared before it has any migration.
      migrations: { default: defaults, profiles: [CreateProfiles1700000000001], analytics: [] },
    });
    routers.push(router);
    return router;
  };
  const recorded = (label: string, group: string) =>
    db
      .rows<{ name: string }>(
        db.optionsFor(`${label}_default`),
        `SELECT name FROM migrations_${group}`,
      )
      .then((rows) => rows.map((row) => row.name));

  it('migrate({ groups: ["profiles"] }) migrates only that group, with a per-group report', async () => {
    const router = await open("only");
    const report = await router.migrate({ groups: ["profiles"] });
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => [r.database.name, r.outcome])).toEqual([
      ["default", "migrated"],
      ["analytics", "skipped"],
    ]);
    expect(report.groups).toEqual([
      { group: "profiles", databases: 1, applied: 1, pending: 0, failed: 0 },
    ]);
    expect(await db.tables(db.optionsFor("only_default"))).toEqual([
      "migrations_profiles",
      "profile",
    ]);
    expect(await recorded("only", "profiles")).toEqual(["CreateProfiles1700000000001"]);

    const [status] = await router.migrationStatus({ groups: ["default"], databases: ["default"] });
    expect(status.groups.map((g) => [g.group, g.applied, g.pending])).toEqual([
      ["default", [], ["CreateAccounts1700000000002"]],
    ]);
    const all = await router.migrate();
    expect(all.groups.map((g) => [g.group, g.databases, g.applied])).toEqual([
      ["default", 1, 1],
      ["profiles", 1, 0],
      ["analytics", 1, 0],
    ]);
    expect(await db.tables(db.optionsFor("only_default"))).toEqual([
      "account",
      "migrations_default",
      "migrations_profiles",
      "profile",
    ]);
  });

  it("reverts one group: the newest migration of another group sharing the database stays", async () => {
    const router = await open("revert");
    await router.migrate();
    const reverted = await router.revert({ database: "default", groups: ["profiles"] });
    expect(reverted).toMatchObject({
      outcome: "reverted",
      applied: [{ group: "profiles", name: "CreateProfiles1700000000001" }],
    });
    expect(await db.tables(db.optionsFor("revert_default"))).toEqual([
      "account",
      "migrations_default",
      "migrations_profiles",
    ]);
    expect(await recorded("revert", "default")).toEqual(["CreateAccounts1700000000002"]);
    expect(await recorded("revert", "profiles")).toEqual([]);
  });

  it("declares a group with no migrations yet: status shows it, nothing is created for it", async () => {
    const router = await open("empty");
    const statuses = await router.migrationStatus({ databases: ["analytics"] });
    expect(statuses[0].groups).toEqual([
      {
        group: "analytics",
        table: "migrations_analytics",
        applied: [],
        pending: [],
        unknown: [],
        claimed: [],
      },
    ]);
    await router.migrate({ groups: ["analytics"] });
    expect(await db.tables(db.optionsFor("empty_analytics"))).toEqual([]);
  });

  it("refuses an unknown group before anything runs", async () => {
    const router = await open("unknown");
    for (const call of [
      () => router.migrate({ groups: ["profile"] }),
      () => router.migrationStatus({ groups: ["profile"] }),
      () => router.revert({ database: "default", groups: ["profile"] }),
    ]) {
      await expect(call()).rejects.toMatchObject({
        code: "INVALID_CONFIGURATION",
        message: expect.stringContaining('"profile" is not a migration group'),
      });
    }
    expect(await db.tables(db.optionsFor("unknown_default"))).toEqual([]);
  });

  it("a failed revert says to run revert again, not migrate", async () => {
    const router = await open("message", [CreateAccounts1700000000002, BrokenDown1700000000003]);
    await router.migrate();
    const result = await router.revert({ database: "default" });
    expect(result.outcome).toBe("failed");
    expect(result.error!.message).toContain("run revert again");
    expect(result.error!.message).not.toContain("migrate again");
  });
});

@External()
@Entity()
class Gadget {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index()
  @Column({ type: "varchar" })
  serial!: string;
}

const pgAvailable = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1";

(pgAvailable ? describe : describe.skip)("generate then revert on schema-per-tenant", () => {
  const database = `tr_generate_${randomBytes(3).toString("hex")}`;
  const url = databaseUrl(database);
  const base = { type: "postgres" as const, url };
  const routers: TenantRouter[] = [];
  let folder: string;

  beforeAll(async () => {
    await queryAt(PG_URL, `CREATE DATABASE "${database}"`);
    // Inside the project, so the generated file resolves "typeorm" as an app's would.
    await mkdir(path.join(__dirname, "..", ".tmp"), { recursive: true });
    folder = await mkdtemp(path.join(__dirname, "..", ".tmp", "generate-"));
  });
  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    await rm(folder, { recursive: true, force: true });
    await dropDatabases(PG_URL, [database]);
  }, CLEANUP_TIMEOUT_MS);

  const open = async (migrations: string[]) => {
    const router = await TenantRouter.create({
      entities: [Gadget],
      databases: { default: base },
      tenants: { ...inMemoryTenants([]), strategy: schemaPerTenant({ base, maxConnections: 2 }) },
      migrations: { tenant: migrations },
      cwd: folder,
    });
    routers.push(router);
    return router;
  };
  const inDatabase = (sql: string) => queryAt(url, sql);

  it("writes an unqualified down(), and revert undoes the migration in the tenant's schema", async () => {
    const generator = await open([]);
    const migration = (await generator.generateMigration("tenant", "AddGadgets", {
      timestamp: 1700000000001,
    }))!;
    expect(migration.downQueries.some((q) => q.query.startsWith("DROP INDEX"))).toBe(true);
    for (const q of [...migration.upQueries, ...migration.downQueries]) {
      expect(q.query).not.toContain('"public".');
    }
    // Written once as *.{ts,js}: the TypeScript file under ts-jest, the compiled one in production.
    await writeFile(path.join(folder, migration.fileName), migration.source);
    await writeFile(path.join(folder, "types.d.ts"), "export {};\n");
    const router = await open(["*.{ts,js}"]);
    await router.tenants.create("acme");
    expect(
      await inDatabase(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'tenant_acme' AND tablename = 'gadget' AND indexname LIKE 'IDX_%'",
      ),
    ).toHaveLength(1);

    const reverted = await router.revert({ tenant: "acme" });
    expect(reverted).toMatchObject({
      outcome: "reverted",
      applied: [{ group: "tenant", name: "AddGadgets1700000000001" }],
    });
    expect(
      await inDatabase(
        "SELECT tablename FROM pg_tables WHERE schemaname IN ('tenant_acme', 'public')",
      ),
    ).toEqual([{ tablename: "migrations_tenant" }]);
    expect(await inDatabase("SELECT name FROM tenant_acme.migrations_tenant")).toEqual([]);
  });
});
