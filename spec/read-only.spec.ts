import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  type DataSourceOptions,
} from "typeorm";
import { ReadOnly, ReadOnlyDatabaseError, RoutedTo, TenantRouter } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@RoutedTo("legacy")
@Entity()
class Customer {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
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

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let legacy: DataSourceOptions;
    let analytics: DataSourceOptions;
    let router: TenantRouter;

    // What is stored, read without the router: rows, and for SQLite the file's bytes.
    const stored = async () => ({
      customers: await db.rows(legacy, "SELECT id, name FROM customer ORDER BY id"),
      rollups: await db.rows(analytics, "SELECT id, total FROM rollup ORDER BY id"),
      file:
        db.name === "sqlite"
          ? createHash("sha256")
              .update(await readFile((legacy as { database: string }).database))
              .digest("hex")
          : undefined,
    });

    beforeAll(async () => {
      db = fixture();
      legacy = await db.createDatabase("legacy");
      analytics = await db.createDatabase("analytics");
      // The other system's database, as it exists before the router ever sees it.
      for (const [options, entity, row] of [
        [legacy, Customer, { name: "Ada" }],
        [analytics, Rollup, { total: 42 }],
      ] as const) {
        const seed = new DataSource({ ...options, entities: [entity], synchronize: true });
        await seed.initialize();
        await seed.getRepository<object>(entity).save(row);
        await seed.destroy();
      }
      router = await TenantRouter.create({
        entities: [Customer, Rollup],
        undiscoveredEntities: "ignore",
        databases: {
          default: await db.createDatabase("default"),
          legacy: { options: legacy, readOnly: true },
          analytics,
        },
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("reads a read-only database through repositories, builders and raw SQL", async () => {
      expect(await router.getRepository(Customer).find()).toEqual([{ id: 1, name: "Ada" }]);
      const builder = router.getRepository(Customer).createQueryBuilder("c");
      expect((await builder.getMany()).map((customer) => customer.name)).toEqual(["Ada"]);
      expect(
        await router.query("legacy", "SELECT name FROM customer", [], { operation: "read" }),
      ).toEqual([{ name: "Ada" }]);
    });

    it("refuses query-builder writes on a read-only alias and on a @ReadOnly entity", async () => {
      const before = await stored();
      const customers = router.getRepository(Customer);
      await expect(
        customers.createQueryBuilder().insert().values({ name: "Eve" }).execute(),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      await expect(
        router.manager.createQueryBuilder().update(Customer).set({ name: "Eve" }).execute(),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      await expect(
        router.manager.createQueryBuilder().delete().from(Customer).execute(),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      await expect(
        router.getRepository(Rollup).createQueryBuilder().update().set({ total: 0 }).execute(),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      expect(await stored()).toEqual(before);
    });

    it("refuses raw SQL writes by the database session itself, keeping the driver error", async () => {
      const before = await stored();
      const inTransaction = router.transaction({ target: "legacy" }, (manager) =>
        manager.query(`UPDATE customer SET name = 'Eve'`),
      );
      await expect(inTransaction).rejects.toThrow(ReadOnlyDatabaseError);
      const error = await inTransaction.catch((caught: unknown) => caught);
      expect((error as Error).cause).toBeDefined();
      // A statement declared as a read that writes is refused all the same.
      await expect(
        router.query("legacy", `DELETE FROM customer`, [], { operation: "read" }),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      const legacySource = await router.dataSourceFor(Customer);
      await expect(
        legacySource.query(`INSERT INTO customer (name) VALUES ('Eve')`),
      ).rejects.toThrow(ReadOnlyDatabaseError);
      expect(await stored()).toEqual(before);
    });
  });
}
