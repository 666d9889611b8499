import {
  CannotConnectAlreadyConnectedError,
  CannotExecuteNotConnectedError,
  Column,
  Entity,
  PrimaryGeneratedColumn,
} from "typeorm";
import {
  ConfigurationError,
  External,
  RouterClosedError,
  TenantRouter,
  NoTenantContextError,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";
import { createTableMigration, sqlMigration } from "./setup/migrations";

// The DataSource third-party code gets from `router.manager.connection`: its lifecycle is the
// router's, and its migration methods and synchronize() work on the tenant in context (and
// throw with none), never on `default`.

@External()
@Entity()
class Ledger {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 40 })
  entry!: string;
}

const CreateLedger1700000000001 = createTableMigration("CreateLedger1700000000001", "ledger", [
  { name: "entry", type: "varchar", length: "40" },
]);
const CreateAudit1700000000002 = createTableMigration("CreateAudit1700000000002", "audit", [
  { name: "what", type: "varchar", length: "40" },
]);
// Fails when it runs for real (the table exists already): only a fake run records it.
const RecreateLedger1700000000003 = sqlMigration(
  "RecreateLedger1700000000003",
  "CREATE TABLE ledger (id integer)",
  "DROP TABLE no_such_table",
);

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];
    let label = 0;

    const open = async (migrations: (new () => object)[]) => {
      const prefix = `facade${label++}`;
      for (const name of ["default", "a", "b"]) await db.createDatabase(`${prefix}_${name}`);
      const router = await TenantRouter.create({
        entities: [Ledger],
        databases: { default: db.optionsFor(`${prefix}_default`) },
        tenants: { list: ["a", "b"], options: (tenant) => db.optionsFor(`${prefix}_${tenant}`) },
        migrations: { tenant: migrations as never },
      });
      routers.push(router);
      const tablesOf = async (name: string) =>
        (await db.tables(db.optionsFor(`${prefix}_${name}`))).filter(
          (table) => table === "ledger" || table === "audit",
        );
      return { router, facade: router.manager.connection, tablesOf };
    };

    beforeAll(() => {
      db = fixture();
    });

    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close()));
    });

    it("is initialized while the router is open; destroy() closes the router, as TypeORM's", async () => {
      const { router, facade } = await open([]);
      expect(facade.isInitialized).toBe(true);
      await expect(facade.initialize()).rejects.toBeInstanceOf(CannotConnectAlreadyConnectedError);
      await facade.destroy();
      expect(facade.isInitialized).toBe(false);
      expect(() => router.getRepository(Ledger)).toThrow(RouterClosedError);
      await expect(facade.destroy()).rejects.toBeInstanceOf(CannotExecuteNotConnectedError);
      await expect(facade.initialize()).rejects.toBeInstanceOf(RouterClosedError);
      await expect(withTenant("a", () => facade.synchronize())).rejects.toBeInstanceOf(
        RouterClosedError,
      );
      await expect(withTenant("a", () => facade.runMigrations())).rejects.toBeInstanceOf(
        RouterClosedError,
      );
    });

    it("runs, shows and undoes the tenant's migrations in the tenant in context only", async () => {
      const { facade, tablesOf } = await open([
        CreateLedger1700000000001,
        CreateAudit1700000000002,
      ]);
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(true);
      const applied = await withTenant("a", () => facade.runMigrations());
      expect(applied.map((migration) => [migration.name, migration.timestamp])).toEqual([
        ["CreateLedger1700000000001", 1700000000001],
        ["CreateAudit1700000000002", 1700000000002],
      ]);
      expect(applied[0].instance).toBeInstanceOf(CreateLedger1700000000001);
      expect(await tablesOf("a")).toEqual(["audit", "ledger"]);
      expect(await tablesOf("b")).toEqual([]);
      expect(await tablesOf("default")).toEqual([]);
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(false);
      await expect(withTenant("a", () => facade.runMigrations())).resolves.toEqual([]);

      await withTenant("a", () => facade.undoLastMigration());
      expect(await tablesOf("a")).toEqual(["ledger"]);
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(true);
      await expect(withTenant("b", () => facade.showMigrations())).resolves.toBe(true);
    });

    it("records and forgets with fake; a failing migration rejects, and with transaction all nothing stays", async () => {
      const { facade, tablesOf } = await open([
        CreateLedger1700000000001,
        RecreateLedger1700000000003,
      ]);
      // The second fails for real: with "all", neither stays (nothing recorded, no table).
      const failed = await withTenant("a", () => facade.runMigrations({ transaction: "all" })).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (driver.name === "mariadb") {
        // Not transactional DDL: refused before anything runs.
        expect(failed).toBeInstanceOf(ConfigurationError);
      } else {
        expect(failed).toBeInstanceOf(Error);
        expect((failed as Error).message).toMatch(/RecreateLedger1700000000003/);
      }
      expect(await tablesOf("a")).toEqual([]);
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(true);

      const faked = await withTenant("a", () => facade.runMigrations({ fake: true }));
      expect(faked.map((migration) => migration.name)).toEqual([
        "CreateLedger1700000000001",
        "RecreateLedger1700000000003",
      ]);
      expect(await tablesOf("a")).toEqual([]); // recorded, not run
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(false);
      // Its down() would fail; with fake it is only forgotten.
      await expect(withTenant("a", () => facade.undoLastMigration())).rejects.toThrow(
        /RecreateLedger1700000000003/,
      );
      await withTenant("a", () => facade.undoLastMigration({ fake: true }));
      await expect(withTenant("a", () => facade.showMigrations())).resolves.toBe(true);
    });

    it("throws with no tenant in context, and refuses transaction: none, running nothing", async () => {
      const { facade, tablesOf } = await open([CreateLedger1700000000001]);
      await expect(facade.runMigrations()).rejects.toBeInstanceOf(NoTenantContextError);
      await expect(facade.undoLastMigration()).rejects.toBeInstanceOf(NoTenantContextError);
      await expect(facade.showMigrations()).rejects.toBeInstanceOf(NoTenantContextError);
      await expect(
        withTenant("a", () => facade.runMigrations({ transaction: "none" })),
      ).rejects.toBeInstanceOf(ConfigurationError);
      // synchronize() has nowhere to go either: its first statement throws.
      await expect(facade.synchronize()).rejects.toBeInstanceOf(NoTenantContextError);
      for (const name of ["default", "a", "b"]) expect(await tablesOf(name)).toEqual([]);
    });

    it("synchronizes the tenant in context with the tenant entities, and nothing else", async () => {
      const { facade, tablesOf } = await open([]);
      await withTenant("b", () => facade.synchronize());
      expect(await tablesOf("b")).toEqual(["ledger"]);
      expect(await tablesOf("a")).toEqual([]);
      expect(await tablesOf("default")).toEqual([]);
      // The driver's schema builder (what schema tools call) compares with the tenant's tables.
      const pending = await withTenant("b", () => facade.driver.createSchemaBuilder().log());
      expect(pending.upQueries).toEqual([]);
      const ledgers = facade.getRepository(Ledger);
      await withTenant("b", () => ledgers.save({ entry: "kept" }));
      // synchronize(true) drops the tenant's tables first, as TypeORM's does.
      await withTenant("b", () => facade.synchronize(true));
      await expect(withTenant("b", () => ledgers.count())).resolves.toBe(0);
    });
  });
}
