import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import type { DataSourceOptions } from "typeorm";
import ts from "typescript";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { dropMysqlDatabasesByPrefix } from "./setup/mysql";
import type { CliSpecSetup } from "./fixtures/cli/cli-router-options";

// The real bin, compiled with tsc (decorator metadata on) together with the spec's config
// fixture into a temporary folder inside the project, so that node_modules resolves.
const ROOT = path.resolve(__dirname, "..");
let build: string;
const binOf = () => path.join(build, "lib/cli/main.js");
const fixtureModule = () => path.join(build, "spec/fixtures/cli/cli-router-options.js");
const libraryModule = () => path.join(build, "lib/index.js");

const DURATION = String.raw`(\d+ ms|\d+\.\d s)`;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines, without the trailing empty one. */
  readonly lines: string[];
}

function cli(args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binOf(), ...args], { cwd, env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, lines: stdout.split("\n").filter((l) => l !== "") }),
    );
  });
}

/** Parses the one JSON document of a --json run, failing with the output when it is not one. */
function jsonOf(run: CliRun): Record<string, unknown> & { results?: unknown[] } {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

// Each test starts several CLI processes (node, TypeORM, the config module): seconds apiece
// at a load average of 10 or more, so the default 60 s is no budget for them.
jest.setTimeout(180_000);

beforeAll(async () => {
  await mkdir(path.join(ROOT, ".tmp"), { recursive: true });
  build = await mkdtemp(path.join(ROOT, ".tmp", "cli-spec-"));
  const tsc = require.resolve("typescript/bin/tsc");
  await promisify(execFile)(
    process.execPath,
    // Type checking is `npm run typecheck`'s job; --noCheck still emits decorator metadata.
    [tsc, "-p", "spec/fixtures/cli/tsconfig.json", "--outDir", build, "--noCheck"],
    { cwd: ROOT },
  ).catch((error: { stdout?: string }) => {
    throw new Error(`Compiling the CLI for its spec failed:\n${error.stdout ?? String(error)}`);
  });
}, 120_000);

afterAll(async () => {
  if (build) await rm(build, { recursive: true, force: true });
});

/** How a config module exports the router (all forms the CLI accepts). */
type ExportForm = "options" | "module" | "default-function" | "router-promise";

function configSource(setup: CliSpecSetup, form: ExportForm): string {
  const options = `require(${JSON.stringify(fixtureModule())}).cliRouterOptions(${JSON.stringify(setup)})`;
  const create = `require(${JSON.stringify(libraryModule())}).TenantRouter.create(${options})`;
  switch (form) {
    case "options":
      return `exports.options = ${options};\n`;
    case "module":
      return `module.exports = ${options};\n`;
    case "default-function":
      return `exports.default = async () => ${create};\n`;
    case "router-promise":
      return `exports.router = ${create};\n`;
  }
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let workRoot: string;
    let serial = 0;

    beforeAll(async () => {
      db = fixture();
      workRoot = await mkdtemp(path.join(ROOT, ".tmp", `cli-${driver.name}-`));
    });

    afterAll(async () => {
      await rm(workRoot, { recursive: true, force: true });
      // Tenants created by `tenants create` are not known to the fixture: drop them by prefix,
      // concurrently (each DROP DATABASE waits for a checkpoint; concurrent ones share it).
      if (driver.name === "sqlite") return;
      const prefix = databaseName(db.optionsFor("x")).slice(0, -1);
      if (driver.name === "postgres") await dropDatabasesByPrefix(PG_URL, prefix);
      else await dropMysqlDatabasesByPrefix(prefix);
    }, CLEANUP_TIMEOUT_MS);

    /** A fresh project: databases, a tenants file and a config module in its own folder. */
    async function project(
      tenants: readonly string[],
      extra: (cwd: string) => Partial<CliSpecSetup> = () => ({}),
      form: ExportForm = "options",
    ) {
      const label = `c${++serial}`;
      const cwd = path.join(workRoot, label);
      await mkdir(cwd);
      const tenantLabel = (tenant: string) => `${label}_tenant_${tenant}`;
      if (driver.name !== "sqlite") {
        await db.createDatabase(`${label}_default`);
        for (const tenant of tenants) await db.createDatabase(tenantLabel(tenant));
      }
      const placeholder = "zzplaceholderzz";
      const tenantOptions = JSON.parse(
        JSON.stringify(db.optionsFor(tenantLabel(placeholder)))
          .split(placeholder)
          .join("{tenant}"),
      ) as DataSourceOptions;
      const tenantsFile = path.join(cwd, "tenants.json");
      await writeFile(tenantsFile, JSON.stringify(tenants));
      const setup: CliSpecSetup = {
        defaultOptions: db.optionsFor(`${label}_default`),
        tenantOptions,
        tenantsFile,
        ...extra(cwd),
      };
      await writeFile(path.join(cwd, "router.config.js"), configSource(setup, form));
      return {
        cwd,
        defaultDb: db.optionsFor(`${label}_default`),
        tenantDb: (tenant: string) => db.optionsFor(tenantLabel(tenant)),
        run: (...args: string[]) => cli([...args, "--config", "router.config.js"], cwd),
        tenantsFile,
      };
    }

    async function execute(options: DataSourceOptions, sql: string): Promise<void> {
      if (driver.name === "sqlite") {
        const sqlite = new Database((options as { database: string }).database);
        try {
          sqlite.exec(sql);
        } finally {
          sqlite.close();
        }
      } else {
        await db.rows(options, sql);
      }
    }

    const appliedNames = async (options: DataSourceOptions, table: string) =>
      (await db.rows<{ name: string }>(options, `SELECT name FROM ${table} ORDER BY id`)).map(
        (row) => row.name,
      );

    const TENANT_MIGRATIONS = "CreateDataPoints1700000000001, AddDataPointLabel1700000000002";

    it("migrate --group migrates only that group, with a line per group; status --group and revert --group follow it", async () => {
      const p = await project(["acme"]);
      const run = await p.run("migrate", "--group", "tenant");
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.lines).toContain("ok      group tenant  2 applied, 0 pending on 1 database(s)");
      expect(await db.tables(p.defaultDb)).toEqual([]);
      expect(await db.tables(p.tenantDb("acme"))).toEqual(["data_point", "migrations_tenant"]);

      const status = await p.run("status", "--group", "default", "--json");
      expect(jsonOf(status)).toMatchObject({
        pending: 1,
        databases: [
          {
            database: { name: "default" },
            groups: [{ group: "default", pending: ["CreateAccounts1700000000000"] }],
          },
          { database: { name: "acme" }, groups: [] },
        ],
      });
      const reverted = await p.run("revert", "--tenant", "acme", "--group", "tenant");
      expect(reverted.code).toBe(0);
      expect(await appliedNames(p.tenantDb("acme"), "migrations_tenant")).toEqual([
        "CreateDataPoints1700000000001",
      ]);
      const unknown = await p.run("migrate", "--group", "nope");
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('"nope" is not a migration group');
    });

    it("migrate prints one line per finished database and a summary when stdout is not a terminal", async () => {
      const p = await project(["acme", "globex"]);
      const first = await p.run("migrate");
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.lines).toHaveLength(4);
      // default first (aliases run before tenants), then the tenants as they finish.
      expect(first.lines[0]).toMatch(
        new RegExp(`^ok      default  applied 1 \\(CreateAccounts1700000000000\\)  ${DURATION}$`),
      );
      expect(first.lines.slice(1, 3).sort()).toEqual(
        ["acme", "globex"].map((tenant) =>
          expect.stringMatching(
            new RegExp(
              `^ok      tenant ${tenant}  applied 2 \\(${TENANT_MIGRATIONS}\\)  ${DURATION}$`,
            ),
          ),
        ),
      );
      expect(first.lines[3]).toMatch(new RegExp(`^done    3 databases: 3 migrated  ${DURATION}$`));
      expect(first.stdout).not.toContain("\r");

      expect(await db.tables(p.defaultDb)).toEqual(["account", "migrations_default"]);
      for (const tenant of ["acme", "globex"]) {
        expect(await db.tables(p.tenantDb(tenant))).toEqual(["data_point", "migrations_tenant"]);
        expect(await appliedNames(p.tenantDb(tenant), "migrations_tenant")).toEqual([
          "CreateDataPoints1700000000001",
          "AddDataPointLabel1700000000002",
        ]);
      }

      const again = await p.run("migrate");
      expect(again.code).toBe(0);
      const withoutDuration = again.lines.map((line) =>
        line.replace(new RegExp(`  ${DURATION}$`), ""),
      );
      expect(withoutDuration[0]).toBe("ok      default  up to date");
      expect(withoutDuration.slice(1, 3).sort()).toEqual([
        "ok      tenant acme  up to date",
        "ok      tenant globex  up to date",
      ]);
      expect(withoutDuration[3]).toBe("done    3 databases: 3 up to date");
      expect(again.lines.slice(0, 3).every((line) => new RegExp(`  ${DURATION}$`).test(line))).toBe(
        true,
      );
    });

    it("migrate --json writes one stable document and nothing else on stdout", async () => {
      const p = await project(["acme"], undefined, "default-function");
      const run = await p.run("migrate", "--json");
      expect(run.code).toBe(0);
      expect(run.stderr).toBe("");
      const document = jsonOf(run);
      expect(document).toEqual({
        command: "migrate",
        ok: true,
        failed: 0,
        durationMs: expect.any(Number),
        tenantListError: null,
        groups: expect.any(Array),
        results: [
          {
            database: { kind: "alias", name: "default" },
            outcome: "migrated",
            applied: [{ group: "default", name: "CreateAccounts1700000000000" }],
            pending: [],
            durationMs: expect.any(Number),
            reason: null,
            sql: null,
            error: null,
          },
          {
            database: { kind: "tenant", name: "acme" },
            outcome: "migrated",
            applied: [
              { group: "tenant", name: "CreateDataPoints1700000000001" },
              { group: "tenant", name: "AddDataPointLabel1700000000002" },
            ],
            pending: [],
            durationMs: expect.any(Number),
            reason: null,
            sql: null,
            error: null,
          },
        ],
      });
      expect(await db.tables(p.tenantDb("acme"))).toEqual(["data_point", "migrations_tenant"]);
    });

    it("exits 1 when one tenant's migration fails, names it in JSON and text, and migrates the others", async () => {
      const p = await project(["t01", "t02", "t03"], () => ({ failIn: "t03" }));
      const run = await p.run("migrate", "--json", "--concurrency", "2");
      expect(run.code).toBe(1);
      const document = jsonOf(run);
      expect(document).toMatchObject({ command: "migrate", ok: false, failed: 1 });
      const failed = (document.results as { outcome: string }[]).filter(
        (r) => r.outcome === "failed",
      );
      expect(failed).toEqual([
        {
          database: { kind: "tenant", name: "t03" },
          outcome: "failed",
          applied: [],
          pending: [
            { group: "tenant", name: "CreateDataPoints1700000000001" },
            { group: "tenant", name: "AddDataPointLabel1700000000002" },
          ],
          durationMs: expect.any(Number),
          reason: null,
          sql: null,
          error: {
            name: "MigrationFailedError",
            code: "MIGRATION_FAILED",
            message: expect.stringContaining("injected failure in t03"),
          },
        },
      ]);
      const message = (failed[0] as unknown as { error: { message: string } }).error.message;
      expect(message).toContain('tenant "t03"');
      if (driver.name === "mariadb") {
        // DDL is not transactional: the table created before the failure stays, unrecorded,
        // and the message says so; it is dropped by hand, as the message asks, to run again.
        expect(message).toContain("may be partly applied");
        expect(await db.tables(p.tenantDb("t03"))).toEqual(["data_point", "migrations_tenant"]);
        expect(await appliedNames(p.tenantDb("t03"), "migrations_tenant")).toEqual([]);
        await execute(p.tenantDb("t03"), "DROP TABLE data_point");
      } else {
        expect(await db.tables(p.tenantDb("t03"))).toEqual([]);
      }
      for (const tenant of ["t01", "t02"]) {
        expect(await db.tables(p.tenantDb(tenant))).toEqual(["data_point", "migrations_tenant"]);
      }

      const text = await p.run("migrate");
      expect(text.code).toBe(1);
      expect(text.lines).toContain(`FAILED  tenant t03  ${message}`);
      expect(text.lines.at(-1)).toMatch(
        new RegExp(`^FAILED  4 databases: 3 up to date, 1 failed  ${DURATION}$`),
      );
    });

    it("verify exits 0 when clean and 1 after a table is dropped by hand, naming the database and table", async () => {
      const p = await project(["acme", "globex"], undefined, "router-promise");
      expect((await p.run("migrate")).code).toBe(0);
      const clean = await p.run("verify");
      expect(clean.code).toBe(0);
      expect(clean.lines).toEqual([
        "clean   default",
        "clean   tenant acme",
        "clean   tenant globex",
        "done    3 databases: 3 clean, 0 with drift",
      ]);

      await execute(p.tenantDb("globex"), "DROP TABLE data_point");
      // Read-only commands run side by side.
      const [drift, text] = await Promise.all([p.run("verify", "--json"), p.run("verify")]);
      expect(drift.code).toBe(1);
      const document = jsonOf(drift) as { clean: boolean; results: Record<string, unknown>[] };
      expect(document.clean).toBe(false);
      expect(document.results.map((r) => [r.database, r.clean, r.missingTables])).toEqual([
        [{ kind: "alias", name: "default" }, true, []],
        [{ kind: "tenant", name: "acme" }, true, []],
        [{ kind: "tenant", name: "globex" }, false, ["data_point"]],
      ]);
      expect(text.code).toBe(1);
      expect(text.lines).toContainEqual(
        expect.stringMatching(
          /^DRIFT {3}tenant globex {2}missing tables: data_point; \d+ schema change\(s\) the entities still need:$/,
        ),
      );
      expect(text.lines.at(-1)).toBe("FAILED  3 databases: 2 clean, 1 with drift");
    });

    it("status --json lists applied and pending migrations per database; --check exits 1 while any is pending", async () => {
      const p = await project(["acme", "globex"], undefined, "module");
      const partial = await p.run("migrate", "--database", "default", "--tenant", "acme");
      expect(partial.code).toBe(0);
      expect(await db.tables(p.tenantDb("globex"))).toEqual([]);

      const [status, check] = await Promise.all([
        p.run("status", "--json"),
        p.run("status", "--check"),
      ]);
      expect(status.code).toBe(0);
      expect(jsonOf(status)).toEqual({
        command: "status",
        ok: true,
        pending: 2,
        databases: [
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
            error: null,
          },
          {
            database: { kind: "tenant", name: "acme" },
            groups: [
              {
                group: "tenant",
                table: "migrations_tenant",
                applied: ["CreateDataPoints1700000000001", "AddDataPointLabel1700000000002"],
                pending: [],
                unknown: [],
                claimed: [],
              },
            ],
            error: null,
          },
          {
            database: { kind: "tenant", name: "globex" },
            groups: [
              {
                group: "tenant",
                table: "migrations_tenant",
                applied: [],
                pending: ["CreateDataPoints1700000000001", "AddDataPointLabel1700000000002"],
                unknown: [],
                claimed: [],
              },
            ],
            error: null,
          },
        ],
      });

      expect(check.code).toBe(1);
      expect(check.lines).toEqual([
        "ok      default  default: applied 1 pending 0",
        "ok      tenant acme  tenant: applied 2 pending 0",
        `pending tenant globex  tenant: applied 0 pending 2 (${TENANT_MIGRATIONS})`,
        "done    3 databases: 1 with pending migrations (2 in all)",
      ]);
      expect((await p.run("migrate", "--tenant", "globex")).code).toBe(0);
      expect((await p.run("status", "--check")).code).toBe(0);
    });

    it("revert --steps 1 reverts only the newest migration of the named tenant", async () => {
      const p = await project(["acme", "globex"]);
      expect((await p.run("migrate")).code).toBe(0);
      const run = await p.run("revert", "--tenant", "acme", "--steps", "1", "--json");
      expect(run.code).toBe(0);
      expect(jsonOf(run)).toMatchObject({
        command: "revert",
        ok: true,
        result: {
          database: { kind: "tenant", name: "acme" },
          outcome: "reverted",
          applied: [{ group: "tenant", name: "AddDataPointLabel1700000000002" }],
          error: null,
        },
      });
      expect(await appliedNames(p.tenantDb("acme"), "migrations_tenant")).toEqual([
        "CreateDataPoints1700000000001",
      ]);
      expect(await appliedNames(p.tenantDb("globex"), "migrations_tenant")).toEqual([
        "CreateDataPoints1700000000001",
        "AddDataPointLabel1700000000002",
      ]);
      const [verify, noTarget] = await Promise.all([
        p.run("verify", "--json", "--tenant", "acme"),
        p.run("revert"),
      ]);
      expect(verify.code).toBe(1);
      expect((jsonOf(verify).results as { missingColumns: unknown }[])[0].missingColumns).toEqual([
        { table: "data_point", column: "label" },
      ]);

      expect(noTarget.code).toBe(2);
      expect(noTarget.stderr).toContain("exactly one database");
      expect(await appliedNames(p.tenantDb("globex"), "migrations_tenant")).toHaveLength(2);

      // --fake forgets the newest migration without running its down(): the column stays.
      const faked = await p.run("revert", "--tenant", "globex", "--fake");
      expect(faked.code).toBe(0);
      expect(faked.lines.join("\n")).toContain(
        "forgot without running 1 (AddDataPointLabel1700000000002)",
      );
      expect(await appliedNames(p.tenantDb("globex"), "migrations_tenant")).toEqual([
        "CreateDataPoints1700000000001",
      ]);
      expect(await db.rows(p.tenantDb("globex"), "SELECT label FROM data_point")).toEqual([]);
    });

    it("tenants create, list and drop; drop without --confirm exits 2 and drops nothing", async () => {
      const p = await project(["acme"]);
      expect((await p.run("migrate")).code).toBe(0);
      const created = await p.run("tenants", "create", "initech");
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      expect(created.lines).toEqual([
        expect.stringMatching(
          new RegExp(`^created tenant initech  applied 2 \\(${TENANT_MIGRATIONS}\\)  ${DURATION}$`),
        ),
      ]);
      expect(await db.tables(p.tenantDb("initech"))).toEqual(["data_point", "migrations_tenant"]);
      expect(JSON.parse(await readFile(p.tenantsFile, "utf8"))).toEqual(["acme", "initech"]);

      const [list, listJson] = await Promise.all([
        p.run("tenants", "list"),
        p.run("tenants", "list", "--json"),
      ]);
      expect(list.code).toBe(0);
      expect(list.stdout).toBe("acme\ninitech\n");
      expect(jsonOf(listJson)).toEqual({
        command: "tenants list",
        tenants: ["acme", "initech"],
      });

      const [unconfirmed, wrong] = await Promise.all([
        p.run("tenants", "drop", "initech"),
        p.run("tenants", "drop", "initech", "--confirm", "acme", "--json"),
      ]);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stdout).toBe("");
      expect(unconfirmed.stderr).toContain("Nothing was dropped");
      expect(unconfirmed.stderr).toContain("--confirm initech");
      expect(wrong.code).toBe(2);
      expect(jsonOf(wrong)).toMatchObject({
        command: "tenants drop",
        ok: false,
        error: { name: "ConfirmationRequiredError", code: "CONFIRMATION_REQUIRED" },
      });
      expect(await db.databaseExists(p.tenantDb("initech"))).toBe(true);
      expect(await db.tables(p.tenantDb("initech"))).toEqual(["data_point", "migrations_tenant"]);
      expect(JSON.parse(await readFile(p.tenantsFile, "utf8"))).toEqual(["acme", "initech"]);

      const dropped = await p.run("tenants", "drop", "initech", "--confirm", "initech");
      expect(dropped.code).toBe(0);
      expect(dropped.lines).toEqual(["dropped tenant initech"]);
      expect(await db.databaseExists(p.tenantDb("initech"))).toBe(false);
      expect(JSON.parse(await readFile(p.tenantsFile, "utf8"))).toEqual(["acme"]);
      expect(await db.databaseExists(p.tenantDb("acme"))).toBe(true);

      const duplicate = await p.run("tenants", "create", "acme");
      expect(duplicate.code).toBe(2);
      expect(duplicate.stderr).toContain('Tenant "acme" already exists');
    });

    it("migrate --dry-run prints the SQL it would run and changes nothing", async () => {
      const p = await project(["acme"]);
      const run = await p.run("migrate", "--dry-run", "--tenant", "acme");
      if (driver.name === "mariadb") {
        // No transaction can undo MariaDB DDL: the dry run is refused and nothing runs.
        expect(run.code).toBe(1);
        expect(run.lines[0]).toMatch(/^FAILED {2}tenant acme {2}.*dryRun.*not transactional/);
        expect(await db.tables(p.tenantDb("acme"))).toEqual([]);
        return;
      }
      expect(run.code).toBe(0);
      expect(run.lines[0]).toMatch(
        new RegExp(`^dry-run tenant acme  would apply 2 \\(${TENANT_MIGRATIONS}\\)  ${DURATION}$`),
      );
      expect(run.lines.slice(1, -1).every((line) => line.startsWith("    "))).toBe(true);
      expect(run.stdout).toMatch(/CREATE TABLE "data_point"/);
      expect(run.lines.at(-1)).toMatch(new RegExp(`^done    1 database: 1 dry run  ${DURATION}$`));
      expect(await db.tables(p.tenantDb("acme"))).toEqual([]);
    });

    it("generate writes the migration a new entity needs from a scratch database; migrate then applies it cleanly", async () => {
      const p = await project(["acme", "globex"], (cwd) => ({
        notes: true,
        tenantMigrationsDir: path.join(cwd, "compiled"),
      }));
      const compiled = path.join(p.cwd, "compiled");
      expect((await p.run("migrate")).code).toBe(0);
      const before = await p.run("verify", "--json");
      expect(before.code).toBe(1);
      expect((jsonOf(before).results as { missingTables: string[] }[])[1].missingTables).toEqual([
        "note",
      ]);

      const generated = await p.run("generate", "tenant", "AddNotes", "--dir", "generated");
      expect(generated.stderr).toBe("");
      expect(generated.code).toBe(0);
      const files = await readdir(path.join(p.cwd, "generated"));
      expect(files).toEqual([expect.stringMatching(/^\d{13}-AddNotes\.ts$/)]);
      const timestamp = files[0].slice(0, 13);
      expect(generated.lines).toEqual([
        `wrote   ${path.join("generated", files[0])}  AddNotes${timestamp}: 1 statement(s) up, 1 down`,
      ]);
      const source = await readFile(path.join(p.cwd, "generated", files[0]), "utf8");
      expect(source).toContain(`export class AddNotes${timestamp} implements MigrationInterface`);
      const up = source.slice(source.indexOf("async up"), source.indexOf("async down"));
      // The server's own identifier quotes (MariaDB's backticks escaped in the template literal).
      const note = driver.name === "mariadb" ? "\\`note\\`" : '"note"';
      expect(up).toContain(`await queryRunner.query(\`CREATE TABLE ${note} (`);
      expect(source.slice(source.indexOf("async down"))).toContain(`DROP TABLE ${note}`);
      // The diff ran on a scratch database: no real database was touched.
      expect(await db.tables(p.tenantDb("acme"))).toEqual(["data_point", "migrations_tenant"]);
      expect(await db.tables(p.defaultDb)).toEqual(["account", "migrations_default"]);

      await mkdir(compiled);
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      await writeFile(path.join(compiled, files[0].replace(/\.ts$/, ".js")), js);

      const migrated = await p.run("migrate", "--json");
      expect(migrated.code).toBe(0);
      const results = jsonOf(migrated).results as {
        database: { name: string };
        applied: unknown;
      }[];
      expect(results.map((r) => [r.database.name, r.applied])).toEqual([
        ["default", []],
        ["acme", [{ group: "tenant", name: `AddNotes${timestamp}` }]],
        ["globex", [{ group: "tenant", name: `AddNotes${timestamp}` }]],
      ]);
      for (const tenant of ["acme", "globex"]) {
        expect(await db.tables(p.tenantDb(tenant))).toEqual([
          "data_point",
          "migrations_tenant",
          "note",
        ]);
      }
      expect(await db.tables(p.defaultDb)).toEqual(["account", "migrations_default"]);
      const [after, nothing] = await Promise.all([
        p.run("verify"),
        p.run("generate", "tenant", "AddMore", "--dir", "generated"),
      ]);
      expect(after.code).toBe(0);
      expect(nothing.code).toBe(0);
      expect(nothing.stdout).toContain("No difference");
      expect(await readdir(path.join(p.cwd, "generated"))).toEqual(files);
    });

    if (driver.name === "postgres") {
      it("generate on schema-per-tenant writes unqualified SQL that each tenant's migration runs in its own schema", async () => {
        const p = await project([], (cwd) => ({
          notes: true,
          tenantMigrationsDir: path.join(cwd, "compiled"),
          schemaPerTenantBase: db.optionsFor(`c${serial}_default`),
        }));
        expect((await p.run("migrate")).code).toBe(0);
        expect((await p.run("tenants", "create", "acme")).code).toBe(0);
        const generated = await p.run("generate", "tenant", "AddNotes", "--dir", "generated");
        expect(generated.code).toBe(0);
        const [file] = await readdir(path.join(p.cwd, "generated"));
        const source = await readFile(path.join(p.cwd, "generated", file), "utf8");
        expect(source).toMatch(/queryRunner\.query\(`CREATE TABLE "note" \(/);
        expect(source).not.toContain("tenant_");
        const schemaTables = () =>
          db.rows<{ name: string }>(
            p.defaultDb,
            `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
          );
        // The scratch work happened elsewhere: the real database is as it was.
        expect((await schemaTables()).map((row) => row.name)).toEqual([
          "public.account",
          "public.migrations_default",
          "tenant_acme.data_point",
          "tenant_acme.migrations_tenant",
        ]);

        await mkdir(path.join(p.cwd, "compiled"));
        await writeFile(
          path.join(p.cwd, "compiled", file.replace(/\.ts$/, ".js")),
          ts.transpileModule(source, {
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
          }).outputText,
        );
        expect((await p.run("tenants", "create", "globex")).code).toBe(0);
        expect((await p.run("migrate")).code).toBe(0);
        expect((await schemaTables()).map((row) => row.name)).toEqual([
          "public.account",
          "public.migrations_default",
          "tenant_acme.data_point",
          "tenant_acme.migrations_tenant",
          "tenant_acme.note",
          "tenant_globex.data_point",
          "tenant_globex.migrations_tenant",
          "tenant_globex.note",
        ]);
        expect((await p.run("verify")).code).toBe(0);
      });
    }
  });
}

// Usage errors: every case is [label, arguments, what stderr must say].
const USAGE_ERRORS: readonly (readonly [string, readonly string[], string])[] = [
  ["an unknown command", ["frobnicate", "--config", "x.js"], "unknown command 'frobnicate'"],
  [
    "an unknown flag",
    ["migrate", "--frobnicate", "--config", "x.js"],
    "unknown option '--frobnicate'",
  ],
  ["no command", [], "Usage: typeorm-router"],
  [
    "a bad --concurrency",
    ["migrate", "--concurrency", "0", "--config", "x.js"],
    "--concurrency takes a positive whole number",
  ],
  [
    "a bad --transaction",
    ["migrate", "--transaction", "some", "--config", "x.js"],
    "Allowed choices are each, all",
  ],
  ["no --config", ["migrate"], "--config is missing"],
  [
    "a --config that does not exist",
    ["status", "--config", "missing.js"],
    "does not exist (resolved to",
  ],
  ["a --config that throws", ["status", "--config", "throws.config.js"], "config exploded"],
  [
    "a --config that exports no router",
    ["status", "--config", "empty.config.js"],
    "exports an object with keys nothing",
  ],
  ["a TypeScript --config", ["status", "--config", "router.config.ts"], "Compile it with tsc"],
  [
    "a --config whose bootstrap fails",
    ["migrate", "--config", "bootstrap.config.js"],
    "is not decorated with @Entity",
  ],
];

describe("usage and configuration errors", () => {
  let cwd: string;
  // Started together in beforeAll (they are independent processes), awaited per test.
  const runs = new Map<string, Promise<CliRun>>();

  beforeAll(async () => {
    cwd = await mkdtemp(path.join(ROOT, ".tmp", "cli-usage-"));
    await writeFile(path.join(cwd, "throws.config.js"), `throw new Error("config exploded");\n`);
    await writeFile(path.join(cwd, "empty.config.js"), `exports.nothing = 1;\n`);
    await writeFile(path.join(cwd, "router.config.ts"), `export default {};\n`);
    await writeFile(
      path.join(cwd, "bootstrap.config.js"),
      `exports.options = { entities: [class NotAnEntity {}], databases: { default: { type: "better-sqlite3", database: ":memory:" } } };\n`,
    );
    for (const [label, args] of USAGE_ERRORS) runs.set(label, cli(args, cwd));
    runs.set("--help", cli(["--help"], cwd));
    await Promise.all(runs.values());
  });

  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it.each(USAGE_ERRORS)(
    "exits 2 for %s, with the reason on stderr and nothing on stdout",
    async (label, _args, reason) => {
      const run = await runs.get(label)!;
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(reason);
      expect(run.stdout).toBe("");
    },
  );

  it("exits 0 for --help and prints it on stdout", async () => {
    const run = await runs.get("--help")!;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("tenants");
  });
});

function databaseName(options: DataSourceOptions): string {
  return new URL((options as { url: string }).url).pathname.slice(1);
}
