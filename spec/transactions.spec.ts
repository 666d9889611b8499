import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  CrossDatabaseTransactionError,
  External,
  TenantRouter,
  UnroutableOperationError,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@Entity()
class Ledger {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  note!: string;
}

@External()
@Entity()
class Entry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  note!: string;
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let defaultOptions: DataSourceOptions;
    let router: TenantRouter;
    const notesIn = async (options: DataSourceOptions, table: string) =>
      (await db.rows<{ note: string }>(options, `SELECT note FROM ${table} ORDER BY id`)).map(
        (row) => row.note,
      );
    const tenantDb = (tenant: string) => db.optionsFor(`tenant_${tenant}`);

    beforeAll(async () => {
      db = fixture();
      defaultOptions = await db.createDatabase("default");
      for (const tenant of ["a", "b"]) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [Ledger, Entry],
        databases: { default: { ...defaultOptions, synchronize: true } },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({ ...tenantDb(tenant), synchronize: true }),
        },
      });
      // Open every database once so the tables exist before the assertions read them.
      await router.getRepository(Ledger).count();
      for (const tenant of ["a", "b"])
        await withTenant(tenant, () => router.getRepository(Entry).count());
    });

    afterAll(async () => {
      await router?.close();
    });

    beforeEach(async () => {
      await router.query("default", "DELETE FROM ledger");
      for (const tenant of ["a", "b"]) await router.query({ tenant }, "DELETE FROM entry");
    });

    it("commits when the callback resolves", async () => {
      await withTenant("a", () =>
        router.transaction(async (manager) => {
          await manager.save(Entry, { note: "kept" });
          await router.getRepository(Entry).save({ note: "kept too" });
        }),
      );
      expect(await notesIn(tenantDb("a"), "entry")).toEqual(["kept", "kept too"]);
    });

    it("leaves no rows behind when the callback throws", async () => {
      const outside = router.getRepository(Entry); // obtained before the transaction
      const failure = new Error("boom");
      await expect(
        withTenant("a", () =>
          router.transaction(async (manager) => {
            await outside.save({ note: "outer repo" });
            await manager.getRepository(Entry).save({ note: "manager repo" });
            await router.getRepository(Entry).insert({ note: "inner repo" });
            throw failure;
          }),
        ),
      ).rejects.toBe(failure);
      expect(await notesIn(tenantDb("a"), "entry")).toEqual([]);
    });

    it("throws on touching another database and rolls the whole transaction back", async () => {
      const error = await withTenant("a", () =>
        router.transaction(async () => {
          await router.getRepository(Entry).save({ note: "tenant a" });
          await router.getRepository(Ledger).save({ note: "default" });
        }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrossDatabaseTransactionError);
      expect((error as Error).message).toContain('tenant "a"');
      expect((error as Error).message).toContain('database "default"');
      expect(await notesIn(tenantDb("a"), "entry")).toEqual([]);
      expect(await notesIn(defaultOptions, "ledger")).toEqual([]);
    });

    it("throws when a nested withTenant switches tenant inside the transaction", async () => {
      const error = await withTenant("a", () =>
        router.transaction(async () => {
          await router.getRepository(Entry).save({ note: "a" });
          await withTenant("b", () => router.getRepository(Entry).save({ note: "b" }));
        }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrossDatabaseTransactionError);
      expect(await notesIn(tenantDb("a"), "entry")).toEqual([]);
      expect(await notesIn(tenantDb("b"), "entry")).toEqual([]);
    });

    it("runs a nested transaction as a savepoint", async () => {
      await withTenant("b", () =>
        router.transaction(async () => {
          await router.getRepository(Entry).save({ note: "outer" });
          await router
            .transaction(async () => {
              await router.getRepository(Entry).save({ note: "inner, rolled back" });
              throw new Error("inner fails");
            })
            .catch(() => undefined);
          await router.transaction(async () => {
            await router.getRepository(Entry).save({ note: "inner, kept" });
          });
        }),
      );
      expect(await notesIn(tenantDb("b"), "entry")).toEqual(["outer", "inner, kept"]);
    });

    it("pins up front with { target } and runs raw SQL on the transaction", async () => {
      await router.transaction({ target: { tenant: "b" } }, async (manager) => {
        await manager.query("INSERT INTO entry (note) VALUES ('raw')");
      });
      expect(await notesIn(tenantDb("b"), "entry")).toEqual(["raw"]);
      await expect(
        router.transaction({ target: "default" }, async (manager) => {
          await manager.query("INSERT INTO ledger (note) VALUES ('raw')");
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(await notesIn(defaultOptions, "ledger")).toEqual([]);
    });

    it("refuses raw SQL on the routed manager outside a pinned transaction", async () => {
      await expect(router.manager.query("SELECT 1")).rejects.toBeInstanceOf(
        UnroutableOperationError,
      );
    });

    if (driver.name === "postgres") {
      it("keeps uncommitted rows invisible to other connections", async () => {
        let seenOutside: string[] | undefined;
        await withTenant("a", () =>
          router.transaction(async () => {
            await router.getRepository(Entry).save({ note: "pending" });
            seenOutside = await notesIn(tenantDb("a"), "entry");
          }),
        );
        expect(seenOutside).toEqual([]);
        expect(await notesIn(tenantDb("a"), "entry")).toEqual(["pending"]);
      });
    }
  });
}
