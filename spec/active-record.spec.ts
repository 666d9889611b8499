import { BaseEntity, Column, DataSource, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External, NoTenantContextError, TenantRouter, withTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Note extends BaseEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

const TENANTS = ["a", "b", "c"];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const bodiesIn = async (tenant: string) =>
      (
        await db.rows<{ body: string }>(
          db.optionsFor(`tenant_${tenant}`),
          "SELECT body FROM note ORDER BY body",
        )
      ).map((row) => row.body);

    beforeAll(async () => {
      db = fixture();
      for (const tenant of TENANTS) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [Note],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: TENANTS,
          options: (tenant) => ({ ...db.optionsFor(`tenant_${tenant}`), synchronize: true }),
        },
      });
      // Every tenant's table exists from here on (synchronize runs when a tenant first opens).
      for (const tenant of TENANTS) await withTenant(tenant, () => Note.count());
    });

    afterAll(async () => {
      await router?.close();
    });

    it("saves, finds, reloads and removes in the tenant in context", async () => {
      await withTenant("a", () => Note.create({ body: "a: first" }).save());
      // Opening another tenant's database (an initialize() that TypeORM makes the Active
      // Record DataSource) must not move tenant a's next write.
      await withTenant("b", () => Note.count());
      const note = await withTenant("a", () => Note.create({ body: "a: second" }).save());
      expect(await bodiesIn("a")).toEqual(["a: first", "a: second"]);
      expect(await bodiesIn("b")).toEqual([]);
      expect(await withTenant("a", () => Note.findOneBy({ body: "a: first" }))).toBeInstanceOf(
        Note,
      );
      expect(await withTenant("b", () => Note.findOneBy({ body: "a: first" }))).toBeNull();
      await withTenant("a", () =>
        Note.createQueryBuilder()
          .update()
          .set({ body: "a: edited" })
          .where({ id: note.id })
          .execute(),
      );
      await withTenant("a", () => note.reload());
      expect(note.body).toBe("a: edited");
      await withTenant("a", () => note.remove());
      expect(await bodiesIn("a")).toEqual(["a: first"]);
    });

    it("refuses Active Record calls with no tenant in context, before touching any database", async () => {
      await expect(Note.find()).rejects.toThrow(NoTenantContextError);
      await expect(Note.create({ body: "nowhere" }).save()).rejects.toThrow(NoTenantContextError);
      await expect(Note.createQueryBuilder("n").getMany()).rejects.toThrow(NoTenantContextError);
      for (const tenant of TENANTS) expect(await bodiesIn(tenant)).not.toContain("nowhere");
    });

    it("keeps concurrent writes of three tenants each in its own database", async () => {
      await Promise.all(
        Array.from({ length: 60 }, (_, index) => {
          const tenant = TENANTS[index % 3];
          return withTenant(tenant, () =>
            Note.create({ body: `${tenant}: concurrent ${index}` }).save(),
          );
        }),
      );
      for (const tenant of TENANTS) {
        const bodies = (await bodiesIn(tenant)).filter((body) => body.includes("concurrent"));
        expect(bodies).toHaveLength(20);
        expect(bodies.every((body) => body.startsWith(`${tenant}:`))).toBe(true);
      }
    });

    it("is not taken over by a plain DataSource initialized while the router is open", async () => {
      const plain = new DataSource({ ...db.optionsFor("default"), entities: [Note] });
      await plain.initialize();
      try {
        await withTenant("c", () => Note.create({ body: "c: after a plain DataSource" }).save());
        expect(await bodiesIn("c")).toContain("c: after a plain DataSource");
      } finally {
        await plain.destroy();
      }
    });
  });
}
