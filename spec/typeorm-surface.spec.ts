import {
  Column,
  Entity,
  PrimaryGeneratedColumn,
  Tree,
  TreeChildren,
  TreeParent,
  ViewColumn,
  ViewEntity,
  type DataSource,
  type DataSourceOptions,
} from "typeorm";

type QueryResultCache = NonNullable<DataSource["queryResultCache"]>;
import { External, TenantRouter, withTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
@Tree("closure-table")
class Folder {
  @PrimaryGeneratedColumn()
  id!: number;
  @Column({ type: "varchar" })
  name!: string;
  @TreeChildren()
  children!: Folder[];
  @TreeParent()
  parent?: Folder;
}

@External()
@Entity()
@Tree("materialized-path")
class Topic {
  @PrimaryGeneratedColumn()
  id!: number;
  @Column({ type: "varchar" })
  name!: string;
  @TreeChildren()
  children!: Topic[];
  @TreeParent()
  parent?: Topic;
}

@External()
@Entity()
@Tree("nested-set")
class Region {
  @PrimaryGeneratedColumn()
  id!: number;
  @Column({ type: "varchar" })
  name!: string;
  @TreeChildren()
  children!: Region[];
  @TreeParent()
  parent?: Region;
}

// One cache store shared by every DataSource, as Redis would be.
function sharedCache(): { store: Map<string, unknown>; provider: () => QueryResultCache } {
  const store = new Map<string, unknown>();
  const cache = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    synchronize: async () => undefined,
    clear: async () => store.clear(),
    isExpired: () => false,
    getFromCache: async (options: { identifier?: string; query?: string }) =>
      store.get(options.identifier ?? options.query ?? "") as never,
    storeInCache: async (options: { identifier?: string; query?: string }) => {
      store.set(options.identifier ?? options.query ?? "", options);
    },
    remove: async (identifiers: string[]) => identifiers.forEach((id) => store.delete(id)),
  };
  return { store, provider: () => cache as unknown as QueryResultCache };
}

// A view over a tenant's table: placed like an entity, created in each tenant's database.
@External()
@ViewEntity({
  expression: (dataSource: DataSource) =>
    dataSource.createQueryBuilder().select("folder.name", "name").from(Folder, "folder"),
})
class FolderName {
  @ViewColumn()
  name!: string;
}

const TREES = [Folder, Topic, Region] as const;

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const cache = sharedCache();
    const tenantDb = (tenant: string): DataSourceOptions => db.optionsFor(`tenant_${tenant}`);

    beforeAll(async () => {
      db = fixture();
      for (const tenant of ["a", "b"]) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [...TREES, FolderName],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: ["a", "b"],
          options: (tenant) =>
            ({
              ...tenantDb(tenant),
              synchronize: true,
              cache: { provider: cache.provider },
            }) as DataSourceOptions,
        },
      });
      for (const tenant of ["a", "b"]) {
        await withTenant(tenant, () => router.getRepository(Folder).count());
      }
    });

    afterAll(async () => {
      await router?.close();
    });

    for (const entity of TREES) {
      it(`routes the ${entity.name} tree repository to the tenant in context`, async () => {
        const tree = router.getTreeRepository(entity);
        expect(router.manager.getTreeRepository(entity)).toBe(tree);
        await withTenant("a", async () => {
          const root = await tree.save(tree.create({ name: "root" }));
          const child = await tree.save(tree.create({ name: "child", parent: root }));
          await tree.save(tree.create({ name: "grandchild", parent: child }));
        });
        const trees = await withTenant("a", () => tree.findTrees());
        expect(trees).toHaveLength(1);
        expect(trees[0].name).toBe("root");
        expect(trees[0].children[0].children[0].name).toBe("grandchild");
        const root = trees[0];
        const descendants = await withTenant("a", () => tree.findDescendants(root));
        expect(descendants.map((node) => node.name).sort()).toEqual([
          "child",
          "grandchild",
          "root",
        ]);
        expect(await withTenant("b", () => tree.findTrees())).toEqual([]);
        const table = router.getRepository(entity).metadata.tableName;
        expect(await db.rows(tenantDb("a"), `SELECT name FROM ${table}`)).toHaveLength(3);
        expect(await db.rows(tenantDb("b"), `SELECT name FROM ${table}`)).toHaveLength(0);
      });
    }

    it("gives third-party code a manager.connection that routes", async () => {
      const connection = router.getRepository(Folder).manager.connection;
      expect(connection.isInitialized).toBe(true);
      expect(connection.getMetadata(Folder).tableName).toBe("folder");
      await withTenant("b", async () => {
        await connection.transaction((manager) =>
          manager.save(Folder, { name: "b: via connection" }),
        );
        const viaRepository = await connection
          .getRepository(Folder)
          .findBy({ name: "b: via connection" });
        expect(viaRepository).toHaveLength(1);
        const viaBuilder = await connection.createQueryBuilder(Folder, "f").getCount();
        expect(viaBuilder).toBeGreaterThanOrEqual(1);
        const viaQuery = (await connection.query(`SELECT name FROM folder`)) as { name: string }[];
        expect(viaQuery.map((row) => row.name)).toContain("b: via connection");
      });
      const inA = await db.rows<{ name: string }>(tenantDb("a"), `SELECT name FROM folder`);
      expect(inA.map((row) => row.name)).not.toContain("b: via connection");
    });

    it("places a view entity like a table and reads it in the tenant in context", async () => {
      await withTenant("b", () => router.getRepository(Folder).save({ name: "b: in a view" }));
      const names = async (tenant: string) =>
        (await withTenant(tenant, () => router.getRepository(FolderName).find())).map(
          (row) => row.name,
        );
      expect(await names("b")).toContain("b: in a view");
      expect(await names("a")).not.toContain("b: in a view");
    });

    it("keeps the query result cache apart per tenant", async () => {
      await withTenant("a", () => router.getRepository(Folder).save({ name: "a: cached" }));
      const names = (rows: Folder[]) => rows.map((row) => row.name);
      const repositoryRead = () =>
        router.getRepository(Folder).find({ where: { name: "a: cached" }, cache: 60_000 });
      const builderRead = () =>
        router
          .getRepository(Folder)
          .createQueryBuilder("f")
          .where("f.name = :name", { name: "a: cached" })
          .cache(60_000)
          .getMany();
      for (const read of [repositoryRead, builderRead]) {
        expect(names(await withTenant("a", read))).toEqual(["a: cached"]);
        // Same SQL, same cache store: tenant b must still read its own (empty) table.
        expect(await withTenant("b", read)).toEqual([]);
      }
      expect(cache.store.size).toBeGreaterThanOrEqual(4);
    });
  });
}
