import {
  CannotDetermineEntityError,
  Column,
  DataSource,
  Entity,
  MustBeEntityError,
  PrimaryGeneratedColumn,
  TypeORMError,
} from "typeorm";
import { External, TenantRouter, withTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Entry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  text!: string;
}

const ROLLBACK = new Error("roll back");

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const textsIn = async (tenant: string) =>
      (
        await db.rows<{ text: string }>(
          db.optionsFor(`tenant_${tenant}`),
          "SELECT text FROM entry ORDER BY text",
        )
      ).map((row) => row.text);

    beforeAll(async () => {
      db = fixture();
      for (const tenant of ["a", "b"]) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [Entry],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({ ...db.optionsFor(`tenant_${tenant}`), synchronize: true }),
        },
      });
      for (const tenant of ["a", "b"])
        await withTenant(tenant, () => router.getRepository(Entry).count());
    });

    afterAll(async () => {
      await router?.close();
    });

    it("gives the transaction's manager its queryRunner, on the transaction's connection", async () => {
      await withTenant("a", () =>
        router.transaction(async (manager) => {
          expect(manager.queryRunner).toBeDefined();
          await manager.queryRunner!.query(`INSERT INTO entry (text) VALUES ('a: raw')`);
          expect(manager.queryRunner!.isTransactionActive).toBe(true);
          await manager.save(Entry, { text: "a: saved" });
          // The same connection sees both rows before the commit.
          const rows = (await manager.queryRunner!.query(`SELECT text FROM entry`)) as unknown[];
          expect(rows).toHaveLength(2);
        }),
      );
      expect(await textsIn("a")).toEqual(["a: raw", "a: saved"]);
      expect(await textsIn("b")).toEqual([]);
    });

    it("pins a transaction whose first operation is a query builder or raw SQL, and rolls it back", async () => {
      const attempts = [
        (manager: import("typeorm").EntityManager) =>
          manager
            .createQueryBuilder()
            .insert()
            .into(Entry)
            .values({ text: "b: builder" })
            .execute(),
        (manager: import("typeorm").EntityManager) =>
          manager.query(`INSERT INTO entry (text) VALUES ('b: raw')`),
      ];
      for (const first of attempts) {
        await expect(
          withTenant("b", () =>
            router.transaction(async (manager) => {
              await first(manager);
              await manager.save(Entry, { text: "b: after" });
              throw ROLLBACK;
            }),
          ),
        ).rejects.toBe(ROLLBACK);
      }
      expect(await textsIn("b")).toEqual([]);
    });

    it("validates the isolation level when the transaction starts, as TypeORM does", async () => {
      const unsupported = driver.name === "postgres" ? "SNAPSHOT" : "READ COMMITTED";
      const ran = jest.fn();
      const attempt = withTenant("a", () =>
        router.transaction({ isolationLevel: unsupported as never }, async () => ran()),
      );
      await expect(attempt).rejects.toThrow(TypeORMError);
      await expect(attempt).rejects.toThrow(`${unsupported} isolation level is not supported`);
      expect(ran).not.toHaveBeenCalled();
    });

    it("gives TypeORM's own errors for what cannot be saved", async () => {
      const plain = new DataSource({ ...db.optionsFor("tenant_a"), entities: [Entry] });
      await plain.initialize();
      try {
        for (const [value, type] of [
          [undefined, MustBeEntityError],
          [{}, CannotDetermineEntityError],
        ] as const) {
          const expected = await plain.manager.save(value as never).catch((error: Error) => error);
          const routed = await withTenant("a", () =>
            router.manager.save(value as never).catch((error: Error) => error),
          );
          expect(expected).toBeInstanceOf(type);
          expect(routed).toBeInstanceOf(type);
          expect((routed as Error).message).toBe((expected as Error).message);
        }
      } finally {
        await plain.destroy();
      }
    });
  });
}
