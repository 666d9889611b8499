import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import { External, TenantRouter, withTenant } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

// `@Entity({ synchronize: false })`: TypeORM never synchronizes that table (a view, a table
// created by hand-written SQL); neither does the router, in any database, and verifySchema and
// generateMigration leave it out, as TypeORM's schema builder does.

@External()
@Entity()
class Job {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  title!: string;
}

@External()
@Entity({ name: "job_report", synchronize: false })
class JobReport {
  @PrimaryColumn({ type: "integer" })
  id!: number;
}

@Entity()
class Setting {
  @PrimaryGeneratedColumn()
  id!: number;
}

@Entity({ name: "audit_view", synchronize: false })
class AuditView {
  @PrimaryColumn({ type: "integer" })
  id!: number;
}

describe("an entity's own synchronize: false", () => {
  const db = useSqliteFixture();

  const open = (testMode: boolean) =>
    TenantRouter.create({
      entities: [Job, JobReport, Setting, AuditView],
      databases: { default: { ...db.optionsFor(`default_${testMode}`), synchronize: true } },
      tenants: {
        list: ["t1"],
        options: (t) => ({ ...db.optionsFor(`tenant_${t}_${testMode}`), synchronize: true }),
      },
      testMode,
    });

  it("is never synchronized, expected by verifySchema nor generated", async () => {
    const router = await open(false);
    try {
      await router.getRepository(Setting).count();
      await withTenant("t1", () => router.getRepository(Job).count());
      expect(await db.tables(db.optionsFor("default_false"))).toEqual(["setting"]);
      expect(await db.tables(db.optionsFor("tenant_t1_false"))).toEqual(["job"]);
      const report = await router.verifySchema();
      expect(report.results.map((r) => [r.database.name, r.missingTables])).toEqual([
        ["default", []],
        ["t1", []],
      ]);
      expect(report.clean).toBe(true);
      for (const [group, table, skipped] of [
        ["tenant", "job", "job_report"],
        ["default", "setting", "audit_view"],
      ]) {
        const migration = await router.generateMigration(group, "Init", {
          timestamp: 1700000000000,
        });
        const sql = migration!.upQueries.map((q) => q.query).join("\n");
        expect(sql).toContain(`CREATE TABLE "${table}"`);
        expect(sql).not.toContain(skipped);
      }
    } finally {
      await router.close();
    }
  });

  it("is never synchronized in test databases", async () => {
    const router = await open(true);
    try {
      const tenantTest = await withTenant("t1", () => router.dataSourceFor(Job));
      const defaultTest = await router.dataSourceFor(Setting);
      expect(await db.tables(tenantTest.options)).toEqual(["job"]);
      expect(await db.tables(defaultTest.options)).toEqual(["setting"]);
    } finally {
      await router.close();
    }
  });
});
