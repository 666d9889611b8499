import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  External,
  NoTenantContextError,
  ReadOnly,
  ReadOnlyDatabaseError,
  Repository,
  RoutedTo,
  TenantRouter,
  UnknownTenantError,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@Entity()
class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  email!: string;
}

@External()
@Entity()
class Reading {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  value!: number;
}

@RoutedTo("analytics")
@Entity()
class PageView {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  page!: string;
}

@ReadOnly()
@RoutedTo("analytics")
@Entity()
class Rollup {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  total!: number;
}

const ENTITIES = [Account, Reading, PageView, Rollup];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let defaultOptions: DataSourceOptions;
    let analyticsOptions: DataSourceOptions;
    const tenantOptions = new Map<string, DataSourceOptions>();
    let router: TenantRouter;

    beforeAll(async () => {
      db = fixture();
      defaultOptions = await db.createDatabase("default");
      analyticsOptions = await db.createDatabase("analytics");
      for (const tenant of ["a", "b"])
        tenantOptions.set(tenant, await db.createDatabase(`tenant_${tenant}`));
      router = await TenantRouter.create({
        entities: ENTITIES,
        databases: {
          default: { ...defaultOptions, synchronize: true },
          analytics: { ...analyticsOptions, synchronize: true },
        },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({ ...db.optionsFor(`tenant_${tenant}`), synchronize: true }),
        },
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("creates an @External table in every tenant database and never in default", async () => {
      await withTenant("a", () => router.getRepository(Reading).count());
      await withTenant("b", () => router.getRepository(Reading).count());
      await router.getRepository(Account).count();
      expect(await db.tables(tenantOptions.get("a")!)).toEqual(["reading"]);
      expect(await db.tables(tenantOptions.get("b")!)).toEqual(["reading"]);
      expect(await db.tables(defaultOptions)).toEqual(["account"]);
    });

    it("stores a row saved under withTenant('a') in a's database and not in b's", async () => {
      await withTenant("a", () => router.getRepository(Reading).save({ value: 41 }));
      await withTenant("b", () => router.getRepository(Reading).save({ value: 42 }));
      expect(await db.rows(tenantOptions.get("a")!, "SELECT value FROM reading")).toEqual([
        { value: 41 },
      ]);
      expect(await db.rows(tenantOptions.get("b")!, "SELECT value FROM reading")).toEqual([
        { value: 42 },
      ]);
      await withTenant("a", async () => {
        expect((await router.getRepository(Reading).find()).map((r) => r.value)).toEqual([41]);
      });
    });

    it("routes undecorated entities to default and @RoutedTo entities to their alias", async () => {
      await router.getRepository(Account).save({ email: "x@example.com" });
      await router.getRepository(PageView).save({ page: "/home" });
      expect(await db.rows(defaultOptions, "SELECT email FROM account")).toEqual([
        { email: "x@example.com" },
      ]);
      expect(await db.rows(analyticsOptions, "SELECT page FROM page_view")).toEqual([
        { page: "/home" },
      ]);
      expect(await db.tables(analyticsOptions)).toEqual(["page_view", "rollup"]);
    });

    it("keeps the routed repository a stable Repository instance", () => {
      const repository = router.getRepository(Reading);
      expect(repository).toBe(router.getRepository(Reading));
      expect(repository).toBeInstanceOf(Repository);
    });

    it("throws NoTenantContextError naming the entity and the fix, without touching default", async () => {
      const error = await router
        .getRepository(Reading)
        .save({ value: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoTenantContextError);
      expect((error as Error).message).toContain('"Reading"');
      expect((error as Error).message).toContain("withTenant(");
      expect(await db.tables(defaultOptions)).not.toContain("reading");
    });

    it("throws UnknownTenantError for a valid but unknown tenant without opening anything", async () => {
      const before = router.poolStats().keys;
      const error = await withTenant("ghost", () => router.getRepository(Reading).find()).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnknownTenantError);
      expect((error as UnknownTenantError).tenant).toBe("ghost");
      expect(router.poolStats().keys).toEqual(before);
    });

    it("refuses writes to a @ReadOnly entity outside test mode but reads it", async () => {
      await expect(router.getRepository(Rollup).save({ total: 1 })).rejects.toBeInstanceOf(
        ReadOnlyDatabaseError,
      );
      await expect(router.getRepository(Rollup).delete({ total: 1 })).rejects.toBeInstanceOf(
        ReadOnlyDatabaseError,
      );
      await expect(router.manager.insert(Rollup, { total: 1 })).rejects.toBeInstanceOf(
        ReadOnlyDatabaseError,
      );
      expect(await router.getRepository(Rollup).count()).toBe(0);
      expect(await db.rows(analyticsOptions, "SELECT * FROM rollup")).toEqual([]);
    });

    it("routes the routed manager by the entity each call names", async () => {
      await withTenant("b", () => router.manager.save(Reading, { value: 7 }));
      const instance = Object.assign(new Reading(), { value: 8 });
      await withTenant("b", () => router.manager.save(instance));
      expect(
        await db.rows(
          tenantOptions.get("b")!,
          "SELECT value FROM reading WHERE value IN (7, 8) ORDER BY value",
        ),
      ).toEqual([{ value: 7 }, { value: 8 }]);
      expect(
        await db.rows(tenantOptions.get("a")!, "SELECT value FROM reading WHERE value IN (7, 8)"),
      ).toEqual([]);
    });
  });
}
