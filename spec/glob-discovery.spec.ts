import path from "node:path";
import { getMetadataArgsStorage } from "typeorm";
import { BootstrapError, TenantRouter, withTenant } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

describe("eager discovery through globs", () => {
  const db = useSqliteFixture();

  it("imports a file nothing else imports, at bootstrap, and routes its @External entity", async () => {
    const known = () =>
      getMetadataArgsStorage().tables.map((t) => (t.target as { name: string }).name);
    expect(known()).not.toContain("GlobReading"); // nothing has loaded it yet
    const router = await TenantRouter.create({
      entities: [path.join(__dirname, "fixtures/glob/*.entity.{ts,js}")],
      databases: { default: db.optionsFor("default") },
      tenants: {
        list: ["t1"],
        options: (t) => ({ ...db.optionsFor(`tenant_${t}`), synchronize: true }),
      },
    });
    try {
      expect(known()).toContain("GlobReading"); // loaded by create(), not lazily
      expect(router.placementOf("GlobReading")).toMatchObject({ external: true, group: "tenant" });
      await withTenant("t1", () => router.getRepository("GlobReading").save({ value: 3 }));
    } finally {
      await router.close();
    }
    expect(await db.tables(db.optionsFor("tenant_t1"))).toEqual(["glob_reading"]);
    expect(await db.rows(db.optionsFor("tenant_t1"), "SELECT value FROM glob_reading")).toEqual([
      { value: 3 },
    ]);
    expect(await db.tables(db.optionsFor("default"))).toEqual([]);
  });

  it("fails when a glob matches no file, instead of losing the entities silently", async () => {
    const error = await TenantRouter.create({
      entities: [path.join(__dirname, "fixtures/moved-away/*.entity.ts")],
      databases: { default: db.optionsFor("default") },
      undiscoveredEntities: "ignore",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapError);
    expect((error as BootstrapError).problems.map((p) => p.kind)).toEqual(["empty-glob"]);
    expect((error as Error).message).toContain("fixtures/moved-away/*.entity.ts");
  });
});
