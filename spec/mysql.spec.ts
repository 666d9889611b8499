import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import {
  Column,
  Entity,
  PrimaryGeneratedColumn,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import {
  ConfigurationError,
  External,
  MigrationFailedError,
  TenantRouter,
  withTenant,
  type MigrationReport,
} from "./setup/public-api";
import { emptyDatabase, snapshotSchema } from "typeorm-router/testing";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { createTableMigration } from "./setup/migrations";

// What only MySQL and MariaDB do: session locks, DDL that commits as it runs, no TEMPLATE,
// information_schema. Runs when TEST_DRIVERS names mariadb (.ci/run does).

const ROOT = path.resolve(__dirname, "..");

@External()
@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 80 })
  body!: string;
}

@Entity()
class Profile {
  @PrimaryGeneratedColumn()
  id!: number;

  // SQLite has no mediumtext: test mode must not try to build this in a SQLite file.
  @Column({ type: "mediumtext" })
  bio!: string;
}

const CreateNotes1700000000001 = createTableMigration("CreateNotes1700000000001", "note", [
  { name: "body", type: "varchar", length: "80" },
]);

// Adds a column, then fails: MySQL has committed the ALTER by then.
class AddsThenFails1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE note ADD COLUMN rating int NULL");
    await queryRunner.query("ALTER TABLE note ADD COLUMN broken no_such_type");
  }
  async down(): Promise<void> {}
}

// The GET_LOCK name of the migration lock, as the MySQL dialect derives it.
function lockName(database: string, scope: string): string {
  return `typeorm-router:${createHash("sha1").update(`${database}\u0000${scope}`).digest("hex")}`;
}

const databaseOf = (options: DataSourceOptions) =>
  new URL((options as { url: string }).url).pathname.slice(1);

const MARIADB = DRIVERS.filter((candidate) => candidate.name === "mariadb");
if (MARIADB.length === 0) {
  describe("MySQL/MariaDB", () => {
    it.skip("runs when TEST_DRIVERS names mariadb (.ci/run sets it)", () => undefined);
  });
}

for (const driver of MARIADB) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];

    beforeAll(() => {
      db = fixture();
    });

    afterEach(async () => {
      await Promise.all(routers.splice(0).map((router) => router.close()));
    });

    const open = async (label: string, tenantMigrations: MigrationInterfaceClass[]) => {
      const defaultDb = await db.createDatabase(`${label}_default`);
      const tenantDb = await db.createDatabase(`${label}_t1`);
      const router = await TenantRouter.create({
        entities: [Note],
        undiscoveredEntities: "ignore",
        databases: { default: defaultDb },
        tenants: { list: ["t1"], options: () => tenantDb },
        migrations: { tenant: tenantMigrations },
      });
      routers.push(router);
      return { router, defaultDb, tenantDb };
    };

    it("releases the GET_LOCK migration lock on the same connection: none is held after migrate, and a second migrate is never MIGRATION_LOCKED", async () => {
      const seen: unknown[] = [];
      class SeesItsLock1700000000002 implements MigrationInterface {
        async up(queryRunner: QueryRunner): Promise<void> {
          const [row] = (await queryRunner.query(
            "SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine",
            [lockName(databaseOf(tenantDb), "tenant:t1")],
          )) as { mine: unknown }[];
          seen.push(Number(row.mine));
        }
        async down(): Promise<void> {}
      }
      const { router, tenantDb } = await open("lock", [
        CreateNotes1700000000001,
        SeesItsLock1700000000002,
      ]);
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      // While it ran, this very connection held the lock the spec names (so the check below
      // looks at the right lock).
      expect(seen).toEqual([1]);
      const held = await db.rows<{ owner: unknown }>(
        tenantDb,
        `SELECT IS_USED_LOCK('${lockName(databaseOf(tenantDb), "tenant:t1")}') AS owner`,
      );
      expect(held).toEqual([{ owner: null }]);
      const again = await router.migrate();
      expect(tenantResult(again).outcome).toBe("up-to-date");
      await withTenant("t1", () => router.getRepository(Note).save({ body: "hello" }));
      expect(await db.rows(tenantDb, "SELECT body FROM note")).toEqual([{ body: "hello" }]);
    });

    it("reports a migration that fails halfway as possibly partly applied, leaving the table as MySQL left it and the migration pending", async () => {
      const { router, tenantDb } = await open("partly", [
        CreateNotes1700000000001,
        AddsThenFails1700000000002,
      ]);
      const result = tenantResult(await router.migrate());
      expect(result.outcome).toBe("failed");
      expect(result.applied.map((m) => m.name)).toEqual(["CreateNotes1700000000001"]);
      expect(result.error).toBeInstanceOf(MigrationFailedError);
      expect(result.error!.message).toContain("AddsThenFails1700000000002");
      expect(result.error!.message).toContain("may be partly applied");
      expect(result.error!.message).not.toContain("rolled back");
      const columns = await db.rows<{ name: string }>(
        tenantDb,
        "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'note' ORDER BY ORDINAL_POSITION",
      );
      expect(columns.map((column) => column.name)).toEqual(["id", "body", "rating"]);
      expect(await db.rows(tenantDb, "SELECT name FROM migrations_tenant")).toEqual([
        { name: "CreateNotes1700000000001" },
      ]);
      const [status] = await router.migrationStatus({ tenants: ["t1"] });
      expect(status.groups[0].pending).toEqual(["AddsThenFails1700000000002"]);
    });

    it('refuses transaction: "all" and dry runs with a ConfigurationError, running nothing (checked in information_schema)', async () => {
      const { router, tenantDb } = await open("refused", [CreateNotes1700000000001]);
      const snapshotBefore = await db.rows(
        tenantDb,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
      );
      for (const options of [{ transaction: "all" as const }, { dryRun: true }]) {
        const result = tenantResult(await router.migrate(options));
        expect(result.outcome).toBe("failed");
        expect(result.error).toBeInstanceOf(ConfigurationError);
        expect(result.error!.message).toContain("not transactional");
        expect(result.pending.map((m) => m.name)).toEqual(["CreateNotes1700000000001"]);
      }
      expect(snapshotBefore).toEqual([]);
      expect(await db.tables(tenantDb)).toEqual([]);
      // The default, transaction: "each", still works afterwards.
      expect((await router.migrate()).ok).toBe(true);
      expect(await db.tables(tenantDb)).toEqual(["migrations_tenant", "note"]);
    });

    it("two processes migrating the same databases at once apply each migration exactly once", async () => {
      const build = await compileRaceMigrator();
      try {
        const defaultDb = await db.createDatabase("race_default");
        const tenants = await Promise.all([1, 2, 3].map((n) => db.createDatabase(`race_t${n}`)));
        const urls = [defaultDb, ...tenants].map((options) => (options as { url: string }).url);
        const script = path.join(build, "spec/fixtures/mysql/race-migrator.js");
        const reports = await Promise.all([runNode(script, urls), runNode(script, urls)]);
        for (const [index, tenant] of tenants.entries()) {
          const name = `t${index + 1}`;
          const results = reports.map((report) =>
            report.results.find((result) => result.database.name === name)!,
          );
          expect(results.map((result) => result.outcome).sort()).toEqual([
            "migrated",
            "up-to-date",
          ]);
          const counts = await db.rows<{ name: string; n: unknown }>(
            tenant,
            "SELECT name, COUNT(*) AS n FROM migrations_tenant GROUP BY name ORDER BY name",
          );
          expect(counts.map((row) => [row.name, Number(row.n)])).toEqual([
            ["AddNoteLength1700000000003", 1],
            ["CreateNotes1700000000001", 1],
            ["SlowTags1700000000002", 1],
          ]);
          expect(await db.tables(tenant)).toEqual(["migrations_tenant", "note", "tag"]);
          const held = await db.rows<{ owner: unknown }>(
            tenant,
            `SELECT IS_USED_LOCK('${lockName(databaseOf(tenant), `tenant:${name}`)}') AS owner`,
          );
          expect(held).toEqual([{ owner: null }]);
        }
      } finally {
        await rm(build, { recursive: true, force: true });
      }
    }, 180_000);

    it("snapshots tables, columns, keys, indexes in column order, checks and foreign keys from information_schema", async () => {
      const empty = await emptyDatabase(db.optionsFor("unused"));
      try {
        const statements = [
          `CREATE TABLE customer (
            id int NOT NULL AUTO_INCREMENT,
            email varchar(120) NOT NULL,
            region char(2) NOT NULL DEFAULT 'eu',
            bio mediumtext NULL,
            PRIMARY KEY (id),
            CONSTRAINT customer_email_key UNIQUE (email),
            CONSTRAINT customer_region_check CHECK (region IN ('eu', 'us')))`,
          "CREATE INDEX customer_region_email_idx ON customer (region DESC, email)",
          `CREATE TABLE purchase (
            id bigint NOT NULL,
            customer_id int NOT NULL,
            cents int NOT NULL DEFAULT 0,
            doubled int AS (cents * 2) STORED,
            PRIMARY KEY (id),
            CONSTRAINT purchase_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id)
              ON DELETE CASCADE)`,
        ];
        for (const statement of statements) await empty.dataSource.query(statement);
        const snapshot = await snapshotSchema(empty.dataSource);
        expect(snapshot).toEqual({
          enums: [],
          tables: [
            {
              name: "customer",
              columns: [
                {
                  name: "id",
                  type: "int(11)",
                  nullable: false,
                  default: null,
                  generated: { kind: "increment" },
                },
                {
                  name: "email",
                  type: "varchar(120)",
                  nullable: false,
                  default: null,
                  generated: null,
                },
                {
                  name: "region",
                  type: "char(2)",
                  nullable: false,
                  default: "'eu'",
                  generated: null,
                },
                { name: "bio", type: "mediumtext", nullable: true, default: null, generated: null },
              ],
              primaryKey: { name: "PRIMARY", columns: ["id"] },
              uniques: [
                {
                  name: "customer_email_key",
                  columns: ["email"],
                  deferrable: false,
                  initiallyDeferred: false,
                },
              ],
              indexes: [
                {
                  name: "customer_region_email_idx",
                  columns: ["region DESC", "email"],
                  unique: false,
                  where: null,
                },
              ],
              checks: [{ name: "customer_region_check", expression: "`region` in ('eu','us')" }],
              foreignKeys: [],
            },
            {
              name: "purchase",
              columns: [
                { name: "id", type: "bigint(20)", nullable: false, default: null, generated: null },
                {
                  name: "customer_id",
                  type: "int(11)",
                  nullable: false,
                  default: null,
                  generated: null,
                },
                { name: "cents", type: "int(11)", nullable: false, default: "0", generated: null },
                {
                  name: "doubled",
                  type: "int(11)",
                  nullable: true,
                  default: null,
                  generated: { kind: "computed", expression: "`cents` * 2", stored: true },
                },
              ],
              primaryKey: { name: "PRIMARY", columns: ["id"] },
              uniques: [],
              indexes: [
                {
                  name: "purchase_customer_fk",
                  columns: ["customer_id"],
                  unique: false,
                  where: null,
                },
              ],
              checks: [],
              foreignKeys: [
                {
                  name: "purchase_customer_fk",
                  columns: ["customer_id"],
                  referencedTable: "customer",
                  referencedColumns: ["id"],
                  onDelete: "CASCADE",
                  onUpdate: "RESTRICT",
                  deferrable: false,
                  initiallyDeferred: false,
                },
              ],
            },
          ],
        });
      } finally {
        await empty.drop();
      }
      expect(await db.databaseExists(empty.options)).toBe(false);
    });

    it("test mode refuses, at bootstrap and clearly, to put a MariaDB schema in SQLite; testOptions work", async () => {
      const real = db.optionsFor("never_created");
      const bootstrap = TenantRouter.create({
        entities: [Profile],
        undiscoveredEntities: "ignore",
        databases: { default: real },
        testMode: true,
      });
      await expect(bootstrap).rejects.toBeInstanceOf(ConfigurationError);
      await expect(bootstrap).rejects.toThrow(/testOptions.*createTestDatabases/s);
      await expect(bootstrap).rejects.not.toThrow(/mediumtext/);

      const testDb = await db.createDatabase("test_mode");
      const router = await TenantRouter.create({
        entities: [Profile],
        undiscoveredEntities: "ignore",
        databases: { default: { options: real, testOptions: testDb } },
        testMode: true,
      });
      routers.push(router);
      await router.getRepository(Profile).save({ bio: "x".repeat(70_000) });
      expect(await db.rows(testDb, "SELECT LENGTH(bio) AS length FROM profile")).toEqual([
        { length: 70_000 },
      ]);
      expect(await db.databaseExists(real)).toBe(false);
    });
  });
}

type MigrationInterfaceClass = new () => MigrationInterface;

// The result of tenant t1 (default has no migration group here, so it is skipped).
function tenantResult(report: MigrationReport) {
  const result = report.results.find((candidate) => candidate.database.name === "t1");
  if (!result) throw new Error(`no result for t1 in ${JSON.stringify(report.results)}`);
  return result;
}

// The race fixture compiled with tsc (decorator metadata on) inside the project, so that
// node_modules resolves from the child processes.
async function compileRaceMigrator(): Promise<string> {
  await mkdir(path.join(ROOT, ".tmp"), { recursive: true });
  const build = await mkdtemp(path.join(ROOT, ".tmp", "mysql-race-"));
  const tsc = require.resolve("typescript/bin/tsc");
  await promisify(execFile)(
    process.execPath,
    [tsc, "-p", "spec/fixtures/mysql/tsconfig.json", "--outDir", build, "--noCheck"],
    { cwd: ROOT },
  ).catch((error: { stdout?: string }) => {
    throw new Error(`Compiling the race fixture failed:\n${error.stdout ?? String(error)}`);
  });
  return build;
}

function runNode(script: string, args: readonly string[]): Promise<MigrationReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`race-migrator exited ${code}:\n${stderr}`));
      else resolve(JSON.parse(stdout) as MigrationReport);
    });
  });
}
