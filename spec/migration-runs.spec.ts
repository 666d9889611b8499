import { existsSync } from "node:fs";
import {
  Column,
  Entity,
  PrimaryGeneratedColumn,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import {
  BootstrapError,
  ConfigurationError,
  External,
  MigrationFailedError,
  MigrationLockedError,
  ReadOnlyDatabaseError,
  TenantRouter,
  isTenantRef,
  type DatabaseConfig,
  type DatabaseMigrationResult,
  type MigrationClass,
  type MigrationProgress,
  type MigrationReport,
  type MigrationsOptions,
  type Router,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { createTableMigration, sqlMigration } from "./setup/migrations";

@Entity()
class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  email!: string;
}

@External()
@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

const ENTITIES = [Account, Note];

const CreateAccounts1700000000000 = createTableMigration("CreateAccounts1700000000000", "account", [
  { name: "email", type: "varchar" },
]);
const CreateNotes1700000000001 = createTableMigration("CreateNotes1700000000001", "note", [
  { name: "body", type: "varchar" },
]);
const CreateTags1700000000002 = createTableMigration("CreateTags1700000000002", "tag", [
  { name: "label", type: "varchar" },
]);
const AddNoteBodyIndex1700000000003 = sqlMigration(
  "AddNoteBodyIndex1700000000003",
  'CREATE INDEX "note_body_idx" ON "note" ("body")',
  'DROP INDEX "note_body_idx"',
);

// PostgreSQL only: keeps each tenant's lock held long enough for two migrators to overlap.
class SleepyTags1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await new CreateTags1700000000002().up(queryRunner);
    await queryRunner.query("SELECT pg_sleep(0.2)");
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("tag");
  }
}

// Changes the schema, then throws: its own work must be rolled back too.
class BreaksAfterDdl1700000000003 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE "doomed" ("id" integer)');
    throw new Error("migration 3 breaks on purpose");
  }
  async down(): Promise<void> {}
}

const CreateEvents1700000000006 = sqlMigration(
  "CreateEvents1700000000006",
  'CREATE TABLE "event" ("id" integer PRIMARY KEY, "kind" varchar)',
  'DROP TABLE "event"',
);
const CreateAuditLog1700000000007 = sqlMigration(
  "CreateAuditLog1700000000007",
  'CREATE TABLE "audit_log" ("id" integer PRIMARY KEY, "what" varchar)',
  'DROP TABLE "audit_log"',
);
const CreateLegacyOrders1700000000008 = sqlMigration(
  "CreateLegacyOrders1700000000008",
  'CREATE TABLE "legacy_order" ("id" integer PRIMARY KEY)',
  'DROP TABLE "legacy_order"',
);

// Named without the 13-digit timestamp suffix (12 digits here), so it cannot be ordered.
class CreateWidgets170000000000 implements MigrationInterface {
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

class NoTimestampAtAll implements MigrationInterface {
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

/** The database a migration runs on, as its options name it (file path or URL). */
function databaseOf(queryRunner: QueryRunner): string {
  const options = queryRunner.connection.options as { url?: string; database?: unknown };
  return String(options.url ?? options.database);
}

/** A tenant migration that creates `flag` everywhere and throws in `tenant`'s database only. */
function failingIn(tenant: string): MigrationClass {
  return class FailsInOneTenant1700000000004 implements MigrationInterface {
    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('CREATE TABLE "flag" ("id" integer)');
      if (databaseOf(queryRunner).includes(`_tenant_${tenant}`))
        throw new Error(`injected failure in ${tenant}`);
    }
    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('DROP TABLE "flag"');
    }
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** `promise`, or a rejection once a generous `ms` passed (so a hang fails instead of stalling). */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const TENANTS = ["t01", "t02", "t03", "t04", "t05"];

const names = (list: readonly { readonly name: string }[]) => list.map((m) => m.name);
const outcomes = (report: MigrationReport) =>
  report.results.map((r) => [r.database.name, r.outcome]);
const resultFor = (report: MigrationReport, name: string): DatabaseMigrationResult => {
  const found = report.results.find((r) => r.database.name === name);
  if (!found) throw new Error(`no result for ${name} in ${JSON.stringify(outcomes(report))}`);
  return found;
};

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];

    beforeAll(async () => {
      db = fixture();
    });

    afterEach(async () => {
      await Promise.all(routers.splice(0).map((r) => r.close()));
      // Drop this test's PostgreSQL databases now rather than all of them at the end (SQLite's
      // cleanup removes the folder every test writes into, so it waits for the suite's end).
      if (driver.name === "postgres") await db.cleanup();
    }, CLEANUP_TIMEOUT_MS);

    /**
     * Creates (on PostgreSQL) the databases of one test: `default`, each extra alias and each
     * tenant; `open` builds a router over them (several routers may share them).
     */
    const prepare = async (label: string, tenants: readonly string[], aliases: string[] = []) => {
      const defaultDb = db.optionsFor(`${label}_default`);
      const aliasDb = (alias: string) => db.optionsFor(`${label}_${alias}`);
      const tenantDb = (tenant: string) => db.optionsFor(`${label}_tenant_${tenant}`);
      if (driver.name === "postgres") {
        await db.createDatabase(`${label}_default`);
        for (const alias of aliases) await db.createDatabase(`${label}_${alias}`);
        for (const tenant of tenants) await db.createDatabase(`${label}_tenant_${tenant}`);
      }
      const open = async (options: {
        migrations: MigrationsOptions;
        databases?: { [alias: string]: DataSourceOptions | DatabaseConfig };
        routers?: Router[];
      }) => {
        const router = await TenantRouter.create({
          entities: ENTITIES,
          databases: { default: defaultDb, ...options.databases },
          tenants: { list: [...tenants], options: tenantDb },
          migrations: options.migrations,
          routers: options.routers,
        });
        routers.push(router);
        return router;
      };
      return { defaultDb, aliasDb, tenantDb, open };
    };

    const recorded = (options: DataSourceOptions, table = "migrations_tenant") =>
      db.rows<{ name: string }>(options, `SELECT name FROM ${table} ORDER BY id`);

    const recordCounts = (options: DataSourceOptions, table: string) =>
      db.rows<{ name: string; n: number }>(
        options,
        `SELECT name, CAST(COUNT(*) AS INTEGER) AS n FROM ${table} GROUP BY name ORDER BY name`,
      );

    /** Everything the database says about its schema (and what its migrations table holds). */
    const introspect = async (options: DataSourceOptions) => {
      const schema =
        driver.name === "postgres"
          ? {
              relations: await db.rows(
                options,
                `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' ORDER BY c.relname`,
              ),
              columns: await db.rows(
                options,
                `SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
                 FROM information_schema.columns WHERE table_schema = 'public'
                 ORDER BY table_name, ordinal_position`,
              ),
              indexes: await db.rows(
                options,
                `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                 ORDER BY tablename, indexname`,
              ),
            }
          : {
              objects: await db.rows(
                options,
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
              ),
              columns: await db.rows(
                options,
                `SELECT m.name AS table_name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' ORDER BY m.name, p.cid`,
              ),
            };
      const tables = await db.tables(options);
      const records = tables.includes("migrations_tenant") ? await recorded(options) : [];
      return { schema, records };
    };

    const hasIndex = async (options: DataSourceOptions, index: string) =>
      (driver.name === "postgres"
        ? await db.rows(options, `SELECT indexname FROM pg_indexes WHERE indexname = '${index}'`)
        : await db.rows(
            options,
            `SELECT name FROM sqlite_master WHERE type = 'index' AND name = '${index}'`,
          )
      ).length === 1;

    if (driver.name === "postgres") {
      it("two routers migrating the same five tenants at once apply every migration exactly once", async () => {
        const { defaultDb, tenantDb, open } = await prepare("race", TENANTS);
        const migrations = {
          default: [CreateAccounts1700000000000],
          tenant: [
            CreateNotes1700000000001,
            SleepyTags1700000000002,
            AddNoteBodyIndex1700000000003,
          ],
        };
        const a = await open({ migrations });
        const b = await open({ migrations });

        const reports = await Promise.all([a.migrate(), b.migrate()]);

        const expected: [string, DataSourceOptions, string, string[]][] = [
          ["default", defaultDb, "migrations_default", ["CreateAccounts1700000000000"]],
          ...TENANTS.map((t): [string, DataSourceOptions, string, string[]] => [
            t,
            tenantDb(t),
            "migrations_tenant",
            names(migrations.tenant).sort(),
          ]),
        ];
        for (const [name, options, table, migrationNames] of expected) {
          const both = reports.map((report) => resultFor(report, name));
          // Whoever took the lock first migrated; the other found nothing pending, or (past
          // the lock timeout) gave up with MigrationLockedError. Never a second application.
          for (const result of both) {
            if (result.outcome === "failed") {
              expect(result.error).toBeInstanceOf(MigrationLockedError);
            } else {
              expect(["migrated", "up-to-date"]).toContain(result.outcome);
            }
          }
          expect(both.filter((r) => r.outcome === "migrated")).toHaveLength(1);
          expect(both.flatMap((r) => names(r.applied)).sort()).toEqual(migrationNames);
          expect(await recordCounts(options, table)).toEqual(
            migrationNames.map((migration) => ({ name: migration, n: 1 })),
          );
        }
        expect(await db.tables(defaultDb)).toEqual(["account", "migrations_default"]);
        for (const t of TENANTS) {
          expect(await db.tables(tenantDb(t))).toEqual(["migrations_tenant", "note", "tag"]);
          expect(await hasIndex(tenantDb(t), "note_body_idx")).toBe(true);
        }

        // And neither router finds anything left to do.
        for (const router of [a, b]) {
          const again = await router.migrate();
          expect(again.results.map((r) => r.outcome)).toEqual(Array(6).fill("up-to-date"));
        }
      });
    }

    it("reports MIGRATION_LOCKED for a database whose lock another router holds past lockTimeoutMs", async () => {
      const { tenantDb, open } = await prepare("locked", ["t01"]);
      const started = deferred();
      const gate = deferred();
      // Holds its database's migration lock until the test opens the gate.
      class HoldsTheLock1700000000005 implements MigrationInterface {
        async up(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query('CREATE TABLE "held" ("id" integer)');
          started.resolve();
          await gate.promise;
        }
        async down(): Promise<void> {}
      }
      const migrations = {
        default: [CreateAccounts1700000000000],
        tenant: [CreateNotes1700000000001, HoldsTheLock1700000000005],
      };
      const a = await open({ migrations });
      const b = await open({ migrations });
      const aRun = a.migrate();
      let bReport: MigrationReport;
      try {
        await started.promise;
        bReport = await withDeadline(b.migrate({ lockTimeoutMs: 100 }), 15_000, "B's migrate");
      } finally {
        gate.resolve();
      }
      const aReport = await aRun;

      const locked = resultFor(bReport, "t01");
      expect(locked.outcome).toBe("failed");
      expect(locked.error).toBeInstanceOf(MigrationLockedError);
      expect(locked.error!.code).toBe("MIGRATION_LOCKED");
      expect(locked.error!.message).toContain('tenant "t01"');
      expect(locked.applied).toEqual([]);
      // A had finished default before it started on the tenant, and released its lock.
      expect(resultFor(bReport, "default").outcome).toBe("up-to-date");

      expect(aReport.ok).toBe(true);
      expect(outcomes(aReport)).toEqual([
        ["default", "migrated"],
        ["t01", "migrated"],
      ]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["held", "migrations_tenant", "note"]);
      expect(await recordCounts(tenantDb("t01"), "migrations_tenant")).toEqual([
        { name: "CreateNotes1700000000001", n: 1 },
        { name: "HoldsTheLock1700000000005", n: 1 },
      ]);
      // A timeout that is not a number of milliseconds would never expire: refused up front.
      await expect(b.migrate({ lockTimeoutMs: Number.NaN })).rejects.toThrow(ConfigurationError);
      const retry = await b.migrate({ lockTimeoutMs: 100 });
      expect(outcomes(retry)).toEqual([
        ["default", "up-to-date"],
        ["t01", "up-to-date"],
      ]);
    });

    it("a dry run leaves every schema identical and returns the SQL of exactly the pending migrations", async () => {
      const tenants = ["t01", "t02"];
      const { defaultDb, tenantDb, open } = await prepare("dry", tenants);
      const first = await open({
        migrations: { default: [CreateAccounts1700000000000], tenant: [CreateNotes1700000000001] },
      });
      expect((await first.migrate()).ok).toBe(true);
      await first.close();

      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [
            CreateNotes1700000000001,
            CreateTags1700000000002,
            AddNoteBodyIndex1700000000003,
          ],
        },
      });
      const databases = [defaultDb, ...tenants.map(tenantDb)];
      const before = await Promise.all(databases.map(introspect));
      // The introspection sees the schema of migration 1 (so comparing it can fail).
      expect(JSON.stringify(before[1].schema)).toContain("note");
      expect(before[1].records).toEqual([{ name: "CreateNotes1700000000001" }]);

      const report = await router.migrate({ dryRun: true });

      expect(await Promise.all(databases.map(introspect))).toEqual(before);
      expect(outcomes(report)).toEqual([
        ["default", "up-to-date"],
        ["t01", "dry-run"],
        ["t02", "dry-run"],
      ]);
      for (const t of tenants) {
        const result = resultFor(report, t);
        expect(result.pending).toEqual([
          { group: "tenant", name: "CreateTags1700000000002" },
          { group: "tenant", name: "AddNoteBodyIndex1700000000003" },
        ]);
        expect(result.applied).toEqual([]);
        const sql = result.sql!.join("\n");
        expect(sql).toMatch(/CREATE TABLE "tag"/);
        expect(sql).toContain('CREATE INDEX "note_body_idx" ON "note" ("body")');
        // PostgreSQL qualifies the table with the connection's schema.
        expect(sql.match(/INSERT INTO (?:"public"\.)?"migrations_tenant"/g)).toHaveLength(2);
        // Each recorded insert says which migration it records (its parameters are shown).
        expect(sql).toMatch(
          /INSERT INTO (?:"public"\.)?"migrations_tenant".*"CreateTags1700000000002"/,
        );
        expect(sql).toMatch(
          /INSERT INTO (?:"public"\.)?"migrations_tenant".*"AddNoteBodyIndex1700000000003"/,
        );
        expect(sql).not.toMatch(/CREATE TABLE "note"/);
        // The statements come in migration order.
        expect(sql.indexOf('CREATE TABLE "tag"')).toBeLessThan(sql.indexOf('CREATE INDEX "note'));
      }

      // Nothing the dry run did gets in the way of the real run.
      const real = await router.migrate();
      expect(real.ok).toBe(true);
      for (const t of tenants) {
        expect(names(resultFor(real, t).applied)).toEqual([
          "CreateTags1700000000002",
          "AddNoteBodyIndex1700000000003",
        ]);
        expect(await db.tables(tenantDb(t))).toEqual(["migrations_tenant", "note", "tag"]);
      }
    });

    it('transaction: "all" leaves nothing of migrations 1 and 2 when 3 fails', async () => {
      const { defaultDb, tenantDb, open } = await prepare("txall", ["t01"]);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001, CreateTags1700000000002, BreaksAfterDdl1700000000003],
        },
      });
      const report = await router.migrate({ transaction: "all" });
      expect(report.failed).toBe(1);
      const failed = resultFor(report, "t01");
      expect(failed.outcome).toBe("failed");
      expect(failed.error).toBeInstanceOf(MigrationFailedError);
      expect(failed.error!.message).toContain("BreaksAfterDdl1700000000003");
      expect(failed.error!.message).toContain("migration 3 breaks on purpose");
      expect((failed.error!.cause as Error).message).toBe("migration 3 breaks on purpose");
      expect(failed.applied).toEqual([]);
      expect(names(failed.pending)).toEqual([
        "CreateNotes1700000000001",
        "CreateTags1700000000002",
        "BreaksAfterDdl1700000000003",
      ]);
      // Not the tables of 1 and 2, not migration 3's own table, not even the migrations table.
      expect(await db.tables(tenantDb("t01"))).toEqual([]);
      // The other database committed its own transaction.
      expect(resultFor(report, "default").outcome).toBe("migrated");
      expect(await db.tables(defaultDb)).toEqual(["account", "migrations_default"]);
      const status = await router.migrationStatus({ tenants: ["t01"] });
      expect(status[0].groups[0].applied).toEqual([]);
    });

    it('transaction: "each" keeps migrations 1 and 2 applied and recorded when 3 fails', async () => {
      const { tenantDb, open } = await prepare("txeach", ["t01"]);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001, CreateTags1700000000002, BreaksAfterDdl1700000000003],
        },
      });
      const report = await router.migrate({ transaction: "each" });
      const failed = resultFor(report, "t01");
      expect(failed.outcome).toBe("failed");
      expect(failed.error).toBeInstanceOf(MigrationFailedError);
      expect(failed.error!.message).toContain("the 2 migration(s) before it stay applied");
      expect(names(failed.applied)).toEqual([
        "CreateNotes1700000000001",
        "CreateTags1700000000002",
      ]);
      expect(names(failed.pending)).toEqual(["BreaksAfterDdl1700000000003"]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant", "note", "tag"]);
      expect(await recorded(tenantDb("t01"))).toEqual([
        { name: "CreateNotes1700000000001" },
        { name: "CreateTags1700000000002" },
      ]);
      const [status] = await router.migrationStatus({ tenants: ["t01"] });
      expect(status.groups[0].pending).toEqual(["BreaksAfterDdl1700000000003"]);
    });

    it("fake: true records the pending migrations without running them", async () => {
      const { defaultDb, tenantDb, open } = await prepare("fake", ["t01"]);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001, CreateTags1700000000002],
        },
      });
      const report = await router.migrate({ fake: true });
      expect(outcomes(report)).toEqual([
        ["default", "migrated"],
        ["t01", "migrated"],
      ]);
      expect(names(resultFor(report, "t01").applied)).toEqual([
        "CreateNotes1700000000001",
        "CreateTags1700000000002",
      ]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant"]);
      expect(await recorded(tenantDb("t01"))).toEqual([
        { name: "CreateNotes1700000000001" },
        { name: "CreateTags1700000000002" },
      ]);
      expect(await db.tables(defaultDb)).toEqual(["migrations_default"]);
      expect(await recorded(defaultDb, "migrations_default")).toEqual([
        { name: "CreateAccounts1700000000000" },
      ]);
      const again = await router.migrate();
      expect(again.results.map((r) => r.outcome)).toEqual(["up-to-date", "up-to-date"]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant"]);
    });

    it("runs a transaction = false migration outside any transaction, and withdraws its claim when it fails", async () => {
      const { tenantDb, open } = await prepare("outside", ["t01"]);
      let fail = true;
      // Both statements are refused inside a transaction, so passing proves it ran outside one.
      class IndexNotesOutside1700000000004 implements MigrationInterface {
        transaction = false;
        async up(queryRunner: QueryRunner): Promise<void> {
          if (fail) throw new Error("fails outside a transaction on purpose");
          if (driver.name === "postgres") {
            await queryRunner.query(
              'CREATE INDEX CONCURRENTLY "note_body_cidx" ON "note" ("body")',
            );
          } else {
            await queryRunner.query("VACUUM");
            await queryRunner.query('CREATE INDEX "note_body_cidx" ON "note" ("body")');
          }
        }
        async down(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query('DROP INDEX "note_body_cidx"');
        }
      }
      const router = await open({
        migrations: { tenant: [CreateNotes1700000000001, IndexNotesOutside1700000000004] },
      });
      const failed = resultFor(await router.migrate(), "t01");
      expect(failed.outcome).toBe("failed");
      expect(failed.error).toBeInstanceOf(MigrationFailedError);
      expect(failed.error!.message).toContain("outside a transaction");
      expect(names(failed.applied)).toEqual(["CreateNotes1700000000001"]);
      // The claim recorded before it ran was withdrawn: it is pending again.
      expect(await recorded(tenantDb("t01"))).toEqual([{ name: "CreateNotes1700000000001" }]);

      fail = false;
      const retried = resultFor(await router.migrate(), "t01");
      expect(retried.outcome).toBe("migrated");
      expect(names(retried.applied)).toEqual(["IndexNotesOutside1700000000004"]);
      expect(await hasIndex(tenantDb("t01"), "note_body_cidx")).toBe(true);
      expect(await recorded(tenantDb("t01"))).toEqual([
        { name: "CreateNotes1700000000001" },
        { name: "IndexNotesOutside1700000000004" },
      ]);
    });

    it("failFast: true skips every tenant after the failing one (with a reason) and leaves them untouched", async () => {
      const { tenantDb, open } = await prepare("failfast", TENANTS);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001, failingIn("t02")],
        },
      });
      const report = await router.migrate({ failFast: true, concurrency: 1 });
      expect(outcomes(report)).toEqual([
        ["default", "migrated"],
        ["t01", "migrated"],
        ["t02", "failed"],
        ["t03", "skipped"],
        ["t04", "skipped"],
        ["t05", "skipped"],
      ]);
      expect(report.ok).toBe(false);
      expect(report.failed).toBe(1);
      expect(resultFor(report, "t02").error!.message).toContain("injected failure in t02");
      for (const t of ["t03", "t04", "t05"]) {
        const skipped = resultFor(report, t);
        expect(skipped.reason).toMatch(/failFast/);
        expect(skipped.applied).toEqual([]);
        expect(await db.tables(tenantDb(t))).toEqual([]);
      }
      expect(await db.tables(tenantDb("t01"))).toEqual(["flag", "migrations_tenant", "note"]);
      // t02: the failing migration rolled back, the one before it stays.
      expect(await db.tables(tenantDb("t02"))).toEqual(["migrations_tenant", "note"]);
      if (driver.name === "sqlite") {
        for (const t of ["t03", "t04", "t05"]) {
          expect(existsSync((tenantDb(t) as { database: string }).database)).toBe(false);
        }
      }
    });

    it("migrationStatus reports applied, pending and unknown per group; revert({ to }) reverts what came after", async () => {
      const { defaultDb, tenantDb, open } = await prepare("status", ["t01", "t02"]);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [
            CreateNotes1700000000001,
            CreateTags1700000000002,
            AddNoteBodyIndex1700000000003,
          ],
        },
      });
      const migrated = await router.migrate({ databases: ["default"], tenants: ["t01"] });
      expect(outcomes(migrated)).toEqual([
        ["default", "migrated"],
        ["t01", "migrated"],
      ]);
      // A record whose class is no longer in the code.
      await router.query(
        { tenant: "t01" },
        `INSERT INTO "migrations_tenant" ("timestamp", "name") VALUES (1690000000000, 'Vanished1690000000000')`,
      );
      const all = [
        "CreateNotes1700000000001",
        "CreateTags1700000000002",
        "AddNoteBodyIndex1700000000003",
      ];

      const status = await router.migrationStatus();
      expect(status).toEqual([
        {
          database: { kind: "alias", name: "default" },
          groups: [
            {
              group: "default",
              table: "migrations_default",
              applied: ["CreateAccounts1700000000000"],
              pending: [],
              unknown: [],
              claimed: [],
            },
          ],
        },
        {
          database: { kind: "tenant", name: "t01" },
          groups: [
            {
              group: "tenant",
              table: "migrations_tenant",
              applied: all,
              pending: [],
              unknown: ["Vanished1690000000000"],
              claimed: [],
            },
          ],
        },
        {
          database: { kind: "tenant", name: "t02" },
          groups: [
            {
              group: "tenant",
              table: "migrations_tenant",
              applied: [],
              pending: all,
              unknown: [],
              claimed: [],
            },
          ],
        },
      ]);

      const reverted = await router.revert({ tenant: "t01", to: "CreateNotes1700000000001" });
      expect(reverted.outcome).toBe("reverted");
      expect(names(reverted.applied)).toEqual([
        "AddNoteBodyIndex1700000000003",
        "CreateTags1700000000002",
      ]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant", "note"]);
      expect(await hasIndex(tenantDb("t01"), "note_body_idx")).toBe(false);
      const records = [{ name: "CreateNotes1700000000001" }, { name: "Vanished1690000000000" }];
      expect(await recorded(tenantDb("t01"))).toEqual(records);
      const [afterRevert] = await router.migrationStatus({ tenants: ["t01"] });
      expect(afterRevert.groups[0]).toMatchObject({
        applied: ["CreateNotes1700000000001"],
        pending: ["CreateTags1700000000002", "AddNoteBodyIndex1700000000003"],
        unknown: ["Vanished1690000000000"],
      });

      await expect(router.revert({ tenant: "t01", database: "default" })).rejects.toThrow(
        ConfigurationError,
      );
      await expect(router.revert({})).rejects.toThrow(ConfigurationError);
      await expect(router.revert({ tenant: "t01", steps: 0 })).rejects.toThrow(ConfigurationError);
      await expect(router.revert({ tenant: "t01", steps: 0 })).rejects.toThrow(/steps/);
      await expect(router.revert({ tenant: "t01", lockTimeoutMs: -1 })).rejects.toThrow(
        ConfigurationError,
      );
      // None of the rejected calls touched anything.
      expect(await recorded(tenantDb("t01"))).toEqual(records);
      expect(await recorded(defaultDb, "migrations_default")).toEqual([
        { name: "CreateAccounts1700000000000" },
      ]);
      expect(await db.tables(tenantDb("t02"))).toEqual([]);
    });

    it("calls onProgress once per database with increasing done, the total and the failures so far", async () => {
      const tenants = TENANTS.slice(0, 4);
      const { open } = await prepare("progress", tenants);
      const router = await open({
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001, failingIn("t03")],
        },
      });
      const events: MigrationProgress[] = [];
      const report = await router.migrate({
        concurrency: 2,
        onProgress: (progress) => events.push(progress),
      });
      expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4, 5]);
      // The total counts the aliases, plus the tenants once they are listed (after the
      // aliases ran: the tenant list may live in a table their migrations create).
      expect(events.map((e) => e.total)).toEqual([1, 5, 5, 5, 5]);
      expect(events[0].result.database.name).toBe("default");
      expect(events.map((e) => e.result.database.name).sort()).toEqual(["default", ...tenants]);
      events.forEach((event, index) => {
        const failedSoFar = events
          .slice(0, index + 1)
          .filter((e) => e.result.outcome === "failed").length;
        expect(event.failed).toBe(failedSoFar);
      });
      expect(events[events.length - 1].failed).toBe(1);
      expect(report.failed).toBe(1);
      expect(
        events.filter((e) => e.result.outcome === "failed").map((e) => e.result.database.name),
      ).toEqual(["t03"]);
      expect(new Set(events.map((e) => e.result))).toEqual(new Set(report.results));
    });

    it("runs a custom group where a router's allowMigrate places it and records it only there", async () => {
      const tenants = ["t01", "t02"];
      const { defaultDb, aliasDb, tenantDb, open } = await prepare("audit", tenants, ["analytics"]);
      const auditOnTenantsAndDefault: Router = {
        allowMigrate: (database, group) =>
          group === "audit" ? isTenantRef(database) || database === "default" : undefined,
      };
      const router = await open({
        databases: { analytics: aliasDb("analytics") },
        routers: [auditOnTenantsAndDefault],
        migrations: {
          default: [CreateAccounts1700000000000],
          tenant: [CreateNotes1700000000001],
          analytics: [CreateEvents1700000000006],
          audit: [CreateAuditLog1700000000007],
        },
      });
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => [r.database.name, r.applied])).toEqual([
        [
          "default",
          [
            { group: "default", name: "CreateAccounts1700000000000" },
            { group: "audit", name: "CreateAuditLog1700000000007" },
          ],
        ],
        ["analytics", [{ group: "analytics", name: "CreateEvents1700000000006" }]],
        ...tenants.map((t) => [
          t,
          [
            { group: "tenant", name: "CreateNotes1700000000001" },
            { group: "audit", name: "CreateAuditLog1700000000007" },
          ],
        ]),
      ]);
      expect(await db.tables(defaultDb)).toEqual([
        "account",
        "audit_log",
        "migrations_audit",
        "migrations_default",
      ]);
      expect(await recorded(defaultDb, "migrations_audit")).toEqual([
        { name: "CreateAuditLog1700000000007" },
      ]);
      expect(await db.tables(aliasDb("analytics"))).toEqual(["event", "migrations_analytics"]);
      for (const t of tenants) {
        expect(await db.tables(tenantDb(t))).toEqual([
          "audit_log",
          "migrations_audit",
          "migrations_tenant",
          "note",
        ]);
        expect(await recorded(tenantDb(t), "migrations_audit")).toEqual([
          { name: "CreateAuditLog1700000000007" },
        ]);
        expect(await recorded(tenantDb(t))).toEqual([{ name: "CreateNotes1700000000001" }]);
      }
      const [defaultStatus] = await router.migrationStatus({ databases: ["default"] });
      expect(defaultStatus.groups.map((g) => [g.group, g.table, g.applied])).toEqual([
        ["default", "migrations_default", ["CreateAccounts1700000000000"]],
        ["audit", "migrations_audit", ["CreateAuditLog1700000000007"]],
      ]);
    });

    it("fails bootstrap for a group no database takes and for a migration without a 13-digit timestamp", async () => {
      // No database is created: bootstrap fails before anything connects.
      const defaultDb = db.optionsFor("bootstrap_default");
      const create = (migrations: MigrationsOptions) =>
        TenantRouter.create({
          entities: ENTITIES,
          databases: { default: defaultDb },
          tenants: { list: ["t01"], options: (t) => db.optionsFor(`bootstrap_tenant_${t}`) },
          migrations,
        }).then((router) => {
          routers.push(router);
          return router;
        });
      const problemsOf = async (migrations: MigrationsOptions) => {
        const error: unknown = await create(migrations).then(
          () => undefined,
          (rejected: unknown) => rejected,
        );
        expect(error).toBeInstanceOf(BootstrapError);
        return (error as BootstrapError).problems;
      };

      const nowhere = await problemsOf({
        tenant: [CreateNotes1700000000001],
        nowhere: [CreateAuditLog1700000000007],
      });
      expect(nowhere).toHaveLength(1);
      expect(nowhere[0].kind).toBe("invalid-migration");
      expect(nowhere[0].message).toContain('Migration group "nowhere" matches no database');

      const unordered = await problemsOf({
        tenant: [CreateNotes1700000000001, CreateWidgets170000000000, NoTimestampAtAll],
      });
      expect(unordered.map((p) => p.kind)).toEqual(["invalid-migration", "invalid-migration"]);
      expect(unordered[0].message).toContain('"CreateWidgets170000000000"');
      expect(unordered[1].message).toContain('"NoTimestampAtAll"');
      expect(unordered[0].message).toContain("13-digit timestamp");

      // One error lists every problem at once.
      const both = await problemsOf({
        tenant: [NoTimestampAtAll],
        nowhere: [CreateAuditLog1700000000007],
      });
      expect(both.map((p) => p.message).join("\n")).toMatch(/NoTimestampAtAll[\s\S]*"nowhere"/);
      if (driver.name === "sqlite") {
        // Nothing was opened, so not even the file was created.
        expect(existsSync((defaultDb as { database: string }).database)).toBe(false);
      }
    });

    it("skips a read-only alias outside test mode and creates nothing there", async () => {
      const { defaultDb, aliasDb, tenantDb, open } = await prepare("readonly", ["t01"], ["legacy"]);
      const router = await open({
        databases: { legacy: { options: aliasDb("legacy"), readOnly: true } },
        migrations: {
          default: [CreateAccounts1700000000000],
          legacy: [CreateLegacyOrders1700000000008],
          tenant: [CreateNotes1700000000001],
        },
      });
      expect(router.testMode).toBe(false);
      const report = await router.migrate();
      expect(report.ok).toBe(true);
      expect(outcomes(report)).toEqual([
        ["default", "migrated"],
        ["legacy", "skipped"],
        ["t01", "migrated"],
      ]);
      const legacy = resultFor(report, "legacy");
      expect(legacy.reason).toMatch(/read-only/);
      expect(legacy.applied).toEqual([]);
      const explicit = await router.migrate({ databases: ["legacy"] });
      expect(outcomes(explicit)).toEqual([["legacy", "skipped"]]);
      // Reverting would run down() there: refused the same way, without opening it.
      const reverted = await router.revert({ database: "legacy" });
      expect(reverted.outcome).toBe("failed");
      expect(reverted.error).toBeInstanceOf(ReadOnlyDatabaseError);
      expect(reverted.error!.message).toContain('database "legacy"');

      expect(await db.tables(aliasDb("legacy"))).toEqual([]);
      if (driver.name === "sqlite") {
        expect(existsSync((aliasDb("legacy") as { database: string }).database)).toBe(false);
      }
      expect(await db.tables(defaultDb)).toEqual(["account", "migrations_default"]);
      expect(await db.tables(tenantDb("t01"))).toEqual(["migrations_tenant", "note"]);
    });
  });
}
