import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  External,
  NoTenantContextError,
  Repository,
  RoutedRepository,
  TenantRouter,
  UnroutableOperationError,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Ticket {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  title!: string;

  @Column({ type: "integer", default: 0 })
  votes!: number;
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const tenantDb = (t: string): DataSourceOptions => db.optionsFor(`tenant_${t}`);
    const titlesIn = async (t: string) =>
      (await db.rows<{ title: string }>(tenantDb(t), "SELECT title FROM ticket ORDER BY id")).map(
        (r) => r.title,
      );

    beforeAll(async () => {
      db = fixture();
      for (const t of ["a", "b", "cold"]) await db.createDatabase(`tenant_${t}`);
      router = await TenantRouter.create({
        entities: [Ticket],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: ["a", "b", "cold"],
          options: (t) => ({ ...tenantDb(t), synchronize: true }),
        },
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("routes custom repositories made with .extend() per call", async () => {
      const tickets = router.getRepository(Ticket).extend({
        async open(this: Repository<Ticket>, title: string) {
          return this.save(this.create({ title }));
        },
        async popular(this: Repository<Ticket>) {
          return this.createQueryBuilder("t").where("t.votes > :min", { min: 0 }).getMany();
        },
      });
      expect(tickets).toBeInstanceOf(RoutedRepository);
      expect(tickets).toBeInstanceOf(Repository);
      await withTenant("a", () => tickets.open("a: crash on save"));
      await withTenant("b", () => tickets.open("b: slow page"));
      await withTenant("b", () => tickets.increment({ title: "b: slow page" }, "votes", 3));
      expect(await titlesIn("a")).toEqual(["a: crash on save"]);
      expect(await titlesIn("b")).toEqual(["b: slow page"]);
      const popular = await withTenant("b", () => tickets.popular());
      expect(popular.map((t) => [t.title, t.votes])).toEqual([["b: slow page", 3]]);
      expect(await withTenant("a", () => tickets.popular())).toEqual([]);
    });

    it("builds entities without a connection (create, merge, hasId, getId)", () => {
      const tickets = router.getRepository(Ticket);
      const ticket = tickets.create({ title: "draft" });
      expect(ticket).toBeInstanceOf(Ticket);
      expect(tickets.hasId(ticket)).toBe(false);
      tickets.merge(ticket, { id: 5 });
      expect(tickets.getId(ticket)).toBe(5);
      expect(router.manager.hasId(ticket)).toBe(true);
      expect(tickets.metadata.tableName).toBe("ticket");
    });

    it("builds a query builder synchronously anywhere and routes it when it runs", async () => {
      // Built outside any tenant, with tenant "cold" never opened: it routes only when it runs.
      const builder = router.getRepository(Ticket).createQueryBuilder("t").orderBy("t.id");
      await expect(builder.getCount()).rejects.toThrow(NoTenantContextError);
      expect(await withTenant("cold", () => builder.getCount())).toBe(0);
      const inA = await withTenant("a", () => builder.getMany());
      expect(inA.map((ticket) => ticket.title)).toEqual(["a: crash on save"]);
      const later = await (router.getRepository(Ticket) as RoutedRepository<Ticket>).queryBuilder();
      expect(await withTenant("b", () => later.getCount())).toBe(1);
    });

    it("routes entity-less builders by the entity they name, in the tenant in context", async () => {
      await withTenant("cold", () =>
        router.manager
          .createQueryBuilder()
          .insert()
          .into(Ticket)
          .values({ title: "cold: via insert().into()" })
          .execute(),
      );
      await withTenant("cold", () =>
        router.manager.createQueryBuilder().update(Ticket).set({ votes: 3 }).execute(),
      );
      expect(await titlesIn("cold")).toEqual(["cold: via insert().into()"]);
      const votes = await withTenant("cold", () =>
        router.manager
          .createQueryBuilder()
          .select("t.votes", "votes")
          .from(Ticket, "t")
          .getRawOne<{ votes: number }>(),
      );
      expect(Number(votes?.votes)).toBe(3);
      // With no entity and no tenant there is nowhere to go: it throws when it runs.
      await expect(
        router.manager
          .createQueryBuilder()
          .select("1", "one")
          .from("not_an_entity", "n")
          .getRawMany(),
      ).rejects.toThrow(UnroutableOperationError);
      await withTenant("cold", () =>
        router.manager.createQueryBuilder().delete().from(Ticket).execute(),
      );
      expect(await titlesIn("cold")).toEqual([]);
      expect(await titlesIn("a")).toEqual(["a: crash on save"]);
    });

    it("gives the escape hatch the tenant's own DataSource", async () => {
      const dataSource = await withTenant("a", () => router.dataSourceFor(Ticket));
      expect(dataSource.isInitialized).toBe(true);
      expect(await dataSource.getRepository(Ticket).count()).toBe(1);
      const other = await withTenant("b", () =>
        router.dataSourceFor(Ticket, { operation: "write" }),
      );
      expect(other).not.toBe(dataSource);
    });

    it("runs a repository's raw SQL on the entity's database", async () => {
      const rows = await withTenant("a", () =>
        router.getRepository(Ticket).query("SELECT title FROM ticket ORDER BY id"),
      );
      expect(rows).toEqual([{ title: "a: crash on save" }]);
    });
  });
}
