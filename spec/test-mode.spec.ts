import { existsSync } from "node:fs";
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  ReadOnly,
  ReadOnlyDatabaseError,
  RoutedTo,
  TenantRouter,
  Unmanaged,
  withTenant,
  type TenantRouterOptions,
} from "./setup/public-api";
import { DRIVERS, describeDriver, useSqliteFixture } from "./setup/drivers";

@RoutedTo("legacy")
@Unmanaged({ createInTests: true })
@Entity({ name: "customers" })
class LegacyCustomer {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

@Unmanaged()
@Entity({ name: "external_view" })
class ExternalView {
  @PrimaryColumn({ type: "integer" })
  id!: number;
}

@ReadOnly()
@Entity()
class Setting {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  key!: string;
}

@External()
@Entity()
class Job {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  title!: string;
}

const ENTITIES = [LegacyCustomer, ExternalView, Setting, Job];

describe("test mode on SQLite defaults", () => {
  const db = useSqliteFixture();

  const config = (testMode: boolean): TenantRouterOptions => ({
    entities: ENTITIES,
    databases: {
      default: { ...db.optionsFor("default"), synchronize: true },
      legacy: { options: db.optionsFor("legacy"), readOnly: true },
    },
    tenants: {
      list: ["t1", "t2"],
      options: (t) => ({ ...db.optionsFor(`tenant_${t}`), synchronize: true }),
    },
    testMode,
  });

  it("refuses a write to the read-only alias outside test mode", async () => {
    const router = await TenantRouter.create(config(false));
    try {
      const error = await router
        .getRepository(LegacyCustomer)
        .save({ id: 1, name: "Ada" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReadOnlyDatabaseError);
      expect((error as Error).message).toContain('database "legacy"');
      expect((error as Error).message).toContain("test mode");
      await expect(router.query("legacy", "DELETE FROM customers")).rejects.toBeInstanceOf(
        ReadOnlyDatabaseError,
      );
      await expect(router.getRepository(Setting).save({ key: "k" })).rejects.toBeInstanceOf(
        ReadOnlyDatabaseError,
      );
    } finally {
      await router.close();
    }
    expect(existsSync((db.optionsFor("legacy") as { database: string }).database)).toBe(false);
  });

  it("never creates unmanaged tables outside test mode, even with synchronize", async () => {
    const router = await TenantRouter.create(config(false));
    try {
      await router.getRepository(Setting).count();
    } finally {
      await router.close();
    }
    expect(await db.tables(db.optionsFor("default"))).toEqual(["setting"]);
  });

  it("routes every alias and tenant to a temporary test database and allows the writes", async () => {
    const router = await TenantRouter.create(config(true));
    const files: string[] = [];
    try {
      expect(router.testMode).toBe(true);
      await router.getRepository(LegacyCustomer).save({ id: 1, name: "Ada" });
      await router.getRepository(Setting).save({ key: "k" });
      await withTenant("t1", () => router.getRepository(Job).save({ title: "t1 job" }));
      expect((await router.getRepository(LegacyCustomer).find()).map((c) => c.name)).toEqual([
        "Ada",
      ]);
      for (const entity of [LegacyCustomer, Setting]) {
        files.push((await router.dataSourceFor(entity)).options.database as string);
      }
      files.push(
        (await withTenant("t1", () => router.dataSourceFor(Job))).options.database as string,
      );
      for (const file of files) expect(file).toContain("typeorm-router-test-");
      const [legacyTest, defaultTest, tenantTest] = files.map((database) => ({
        type: "better-sqlite3" as const,
        database,
      }));
      // createInTests: true creates the unmanaged legacy table in its test copy; plain @Unmanaged never.
      expect(await db.tables(legacyTest)).toEqual(["customers"]);
      expect(await db.tables(defaultTest)).toEqual(["setting"]);
      expect(await db.rows(tenantTest, "SELECT title FROM job")).toEqual([{ title: "t1 job" }]);
    } finally {
      await router.close();
    }
    // The real databases were never touched, and close() removed the test copies.
    for (const name of ["legacy", "tenant_t1"]) {
      expect(existsSync((db.optionsFor(name) as { database: string }).database)).toBe(false);
    }
    for (const file of files) expect(existsSync(file)).toBe(false);
  });
});

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    it("uses the configured test options for aliases and tenants", async () => {
      const db = fixture();
      const legacyTest = await db.createDatabase("legacy_test");
      const defaultTest = await db.createDatabase("default_test");
      await db.createDatabase("tenant_t1_test");
      const router = await TenantRouter.create({
        entities: ENTITIES,
        databases: {
          default: { options: db.optionsFor("default_prod"), testOptions: defaultTest },
          legacy: {
            options: db.optionsFor("legacy_prod"),
            readOnly: true,
            testOptions: legacyTest,
          },
        },
        tenants: {
          list: ["t1"],
          options: (t) => db.optionsFor(`tenant_${t}_prod`),
          testOptions: (t) => db.optionsFor(`tenant_${t}_test`),
        },
        testMode: true,
      });
      try {
        await router.getRepository(LegacyCustomer).save({ id: 7, name: "Grace" });
        await withTenant("t1", () => router.getRepository(Job).save({ title: "tested" }));
        await router.getRepository(Setting).save({ key: "allowed in tests" });
      } finally {
        await router.close();
      }
      expect(await db.rows(legacyTest, "SELECT id, name FROM customers")).toEqual([
        { id: 7, name: "Grace" },
      ]);
      expect(await db.rows(db.optionsFor("tenant_t1_test"), "SELECT title FROM job")).toEqual([
        { title: "tested" },
      ]);
      // Qualified: KEY is a reserved word in MariaDB.
      expect(await db.rows(defaultTest, "SELECT setting.key FROM setting")).toEqual([
        { key: "allowed in tests" },
      ]);
    });
  });
}
