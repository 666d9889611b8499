import "reflect-metadata";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import {
  NoTenantContextError,
  ReadOnlyDatabaseError,
  TenantRouter,
  tenantsFromEntity,
  withTenant,
} from "typeorm-router";
import { LegacyCustomer } from "./entities/legacy-customer.entity";
import { Project } from "./entities/project.entity";

/** What the example found in each SQLite file, read back without the router. */
export interface ExampleResult {
  readonly folder: string;
  /** Tables per database file. */
  readonly tables: Record<string, string[]>;
  /** Labels of the data points stored in each tenant's file. */
  readonly dataPoints: Record<string, string[]>;
  /** The error the write to `legacy` got. */
  readonly legacyWriteError: string;
  /** The error of an @External call with no tenant in context. */
  readonly noTenantError: string;
  /** Whether verifySchema found every database clean. */
  readonly schemaClean: boolean;
}

/**
 * The tenant story from DESIGN.md, on SQLite files in a temporary folder: `default` holds
 * the projects (tenants), each tenant has its own database holding `DataPoint` (an
 * `@External` entity in a file nothing imports) created by the `tenant` migration group, and
 * `legacy` is another system's read-only database that is never migrated.
 */
export async function runExample(
  log: (line: string) => void = console.log,
): Promise<ExampleResult> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-example-"));
  const file = (name: string) => path.join(folder, `${name}.sqlite`);
  try {
    // Another system owns the legacy database; we only read it.
    const legacy = new Database(file("legacy"));
    legacy.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL)");
    legacy.exec("INSERT INTO customers (id, name) VALUES (1, 'Ada'), (2, 'Grace')");
    legacy.close();

    // #region quick-start
    const router = await TenantRouter.create({
      // Imported eagerly at bootstrap: DataPoint is found here even though nothing imports it.
      entities: [path.join(__dirname, "entities/*.entity.{ts,js}")],
      databases: {
        default: { type: "better-sqlite3", database: file("default") },
        legacy: { options: { type: "better-sqlite3", database: file("legacy") }, readOnly: true },
      },
      tenants: {
        // Every row of Project (in `default`) registers a tenant.
        ...tenantsFromEntity(Project, "slug", { defaults: (slug) => ({ name: slug }) }),
        options: (tenant) => ({ type: "better-sqlite3", database: file(`tenant-${tenant}`) }),
      },
      // One migration set per group, each recorded in its own table where it ran.
      migrations: {
        default: [path.join(__dirname, "migrations/default/*.{ts,js}")],
        tenant: [path.join(__dirname, "migrations/tenant/*.{ts,js}")],
      },
    });

    await router.migrate(); // default, then every tenant (none yet)
    await router.tenants.create("acme"); // creates the database, migrates it, registers it
    await router.tenants.create("globex");

    await withTenant("acme", async () => {
      const points = router.getRepository("DataPoint");
      await points.save([
        { value: 1.5, label: "acme-1" },
        { value: 2.5, label: "acme-2" },
      ]);
    });
    await withTenant("globex", async () => {
      await router.getRepository("DataPoint").save({ value: 9, label: "globex-1" });
    });
    // #endregion quick-start

    log(`Databases are SQLite files in ${folder}`);
    const report = await router.migrate();
    for (const result of report.results) {
      log(
        `migrate ${result.database.kind} ${result.database.name}: ${result.outcome}${result.reason ? ` (${result.reason})` : ""}`,
      );
    }
    const schema = await router.verifySchema();
    log(`verifySchema: ${schema.clean ? "every database matches its entities" : "DRIFT"}`);
    const customers = await router.getRepository(LegacyCustomer).find({ order: { id: "ASC" } });
    log(`legacy: read ${customers.length} customers (${customers.map((c) => c.name).join(", ")})`);

    let legacyWriteError = "";
    try {
      await router.getRepository(LegacyCustomer).save({ id: 3, name: "Linus" });
    } catch (error) {
      if (!(error instanceof ReadOnlyDatabaseError)) throw error;
      legacyWriteError = error.message;
      log(`legacy: write refused (${error.code}): ${error.message}`);
    }

    let noTenantError = "";
    try {
      await router.getRepository("DataPoint").count();
    } catch (error) {
      if (!(error instanceof NoTenantContextError)) throw error;
      noTenantError = error.message;
      log(`no tenant in context: refused (${error.code})`);
    }
    await router.close();

    // Read every file back without the router, to show where the rows really are.
    const tables: Record<string, string[]> = {};
    const dataPoints: Record<string, string[]> = {};
    for (const name of ["default", "legacy", "tenant-acme", "tenant-globex"]) {
      const db = new Database(file(name), { readonly: true });
      tables[name] = (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          )
          .all() as { name: string }[]
      ).map((row) => row.name);
      if (tables[name].includes("data_point")) {
        dataPoints[name] = (
          db.prepare("SELECT label FROM data_point ORDER BY id").all() as { label: string }[]
        ).map((row) => row.label);
      }
      db.close();
      log(
        `${name}.sqlite: tables [${tables[name].join(", ")}]${dataPoints[name] ? `, data points [${dataPoints[name].join(", ")}]` : ""}`,
      );
    }
    return {
      folder,
      tables,
      dataPoints,
      legacyWriteError,
      noTenantError,
      schemaClean: schema.clean,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runExample().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
