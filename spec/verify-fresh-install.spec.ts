import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External, TenantRouter, tenantsFromEntity } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";
import { createTableMigration } from "./setup/migrations";

// verifySchema on a fresh install, where the tenant list lives in a table nothing has
// migrated yet: it reports what is missing instead of failing (CLI: exit 1, not 2).

@Entity()
class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  slug!: string;
}

@External()
@Entity()
class Reading {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  value!: string;
}

const CreateAccounts1700000000001 = createTableMigration("CreateAccounts1700000000001", "account", [
  { name: "slug", type: "varchar" },
]);
const CreateReadings1700000000002 = createTableMigration("CreateReadings1700000000002", "reading", [
  { name: "value", type: "varchar" },
]);

describe("verifySchema on a fresh install", () => {
  const db = useSqliteFixture();
  let router: TenantRouter;

  beforeAll(async () => {
    router = await TenantRouter.create({
      entities: [Account, Reading],
      databases: { default: db.optionsFor("default") },
      tenants: {
        ...tenantsFromEntity(Account, "slug"),
        options: (tenant) => db.optionsFor(`tenant_${tenant}`),
      },
      migrations: { default: [CreateAccounts1700000000001], tenant: [CreateReadings1700000000002] },
    });
  });
  afterAll(() => router?.close());

  it("reports the missing tables and that the tenants cannot be listed yet", async () => {
    const report = await router.verifySchema();
    expect(report.clean).toBe(false);
    expect(report.results.map((r) => [r.database.name, r.missingTables])).toEqual([
      ["default", ["account"]],
    ]);
    expect(report.tenantListError).toMatchObject({ code: "INVALID_CONFIGURATION" });
    expect(report.tenantListError!.message).toContain("migrate the database holding that table");
  });

  it("is clean once migrated, tenants included", async () => {
    await router.migrate();
    await router.tenants.create("acme");
    const report = await router.verifySchema();
    expect(report.tenantListError).toBeUndefined();
    expect(report.results.map((r) => [r.database.name, r.clean])).toEqual([
      ["default", true],
      ["acme", true],
    ]);
    expect(report.clean).toBe(true);
  });

  it("still refuses a tenant named explicitly that does not exist", async () => {
    await expect(router.verifySchema({ tenants: ["nobody"] })).rejects.toMatchObject({
      code: "UNKNOWN_TENANT",
    });
  });
});
