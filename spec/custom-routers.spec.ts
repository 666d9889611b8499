import { Column, Entity, ManyToOne, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import {
  ConfigurationError,
  External,
  TenantRouter,
  UnknownDatabaseError,
  withTenant,
  type Router,
  type RoutingHints,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@Entity()
class Customer {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

@External()
@Entity()
class Device {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  serial!: string;
}

@Entity()
class DeviceLink {
  @PrimaryGeneratedColumn()
  id!: number;

  // Crosses placements: allowed only because the foreign key is off and a router allows it.
  @ManyToOne(() => Device, { createForeignKeyConstraints: false, nullable: true })
  device!: Device | null;

  @Column({ type: "varchar" })
  label!: string;
}

const ENTITIES = [Customer, Device, DeviceLink];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let primary: DataSourceOptions;
    let replica: DataSourceOptions;
    const seen: RoutingHints[] = [];
    const routers: Router[] = [
      {
        // Reads of Customer go to the replica; everything else has no opinion.
        dbForRead: (entity, hints) => {
          seen.push(hints);
          return entity === Customer ? "replica" : undefined;
        },
        dbForWrite: (_entity, hints) => {
          seen.push(hints);
          return undefined;
        },
        allowRelation: (a, b) => (a === DeviceLink && b === Device ? true : undefined),
      },
    ];
    let router: TenantRouter;

    beforeAll(async () => {
      db = fixture();
      primary = await db.createDatabase("primary");
      replica = await db.createDatabase("replica");
      await db.createDatabase("tenant_t1");
      router = await TenantRouter.create({
        entities: ENTITIES,
        databases: {
          default: { ...primary, synchronize: true },
          replica: { ...replica, synchronize: true },
        },
        tenants: {
          list: ["t1"],
          options: (t) => ({ ...db.optionsFor(`tenant_${t}`), synchronize: true }),
        },
        routers,
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("asks custom routers first: reads go where dbForRead says, writes fall through to the decorators", async () => {
      await router.getRepository(Customer).save({ name: "written to default" });
      // The replica is a copy of default made elsewhere: the router never creates tables there.
      expect(await db.tables(replica)).toEqual([]);
      await router.query(
        "replica",
        "CREATE TABLE customer (id integer PRIMARY KEY, name varchar(64) NOT NULL)",
      );
      await router.query(
        "replica",
        "INSERT INTO customer (id, name) VALUES (1, 'only on the replica')",
      );
      const names = (await router.getRepository(Customer).find()).map((c) => c.name);
      expect(names).toEqual(["only on the replica"]);
      expect(await db.rows(primary, "SELECT name FROM customer")).toEqual([
        { name: "written to default" },
      ]);
    });

    it("passes hints with the tenant, the operation, the instance and test mode", async () => {
      seen.length = 0;
      const device = Object.assign(new Device(), { serial: "X1" });
      await withTenant("t1", () => router.manager.save(device));
      expect(seen).toEqual([
        { tenant: "t1", operation: "write", instance: device, testMode: false },
      ]);
    });

    it("places entities related across placements only where they belong", async () => {
      await router.getRepository(DeviceLink).save({ label: "no device", device: null });
      await withTenant("t1", () => router.getRepository(Device).count());
      expect(await db.tables(primary)).toEqual(["customer", "device_link"]);
      expect(await db.tables(db.optionsFor("tenant_t1"))).toEqual(["device"]);
    });
  });
}

describe("invalid router answers", () => {
  let db: DriverFixture;
  beforeAll(async () => {
    db = await DRIVERS[0].create();
    await db.createDatabase("default");
    await db.createDatabase("tenant_t1");
  });
  afterAll(async () => {
    await db.cleanup();
  }, CLEANUP_TIMEOUT_MS);

  const routerWith = (custom: Router) =>
    TenantRouter.create({
      entities: ENTITIES,
      databases: { default: { ...db.optionsFor("default"), synchronize: true } },
      tenants: { list: ["t1"], options: (t) => db.optionsFor(`tenant_${t}`) },
      routers: [custom, { allowRelation: () => true }],
    });

  it("rejects an alias that is not configured with UnknownDatabaseError", async () => {
    const router = await routerWith({ dbForRead: () => "reporting" });
    try {
      const error = await router
        .getRepository(Customer)
        .find()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownDatabaseError);
      expect((error as Error).message).toContain('"reporting"');
      expect((error as Error).message).toContain('"default"');
    } finally {
      await router.close();
    }
  });

  it("rejects an answer that is neither an alias nor { tenant } with ConfigurationError", async () => {
    const router = await routerWith({ dbForWrite: () => 42 as unknown as string });
    try {
      await expect(router.getRepository(Customer).save({ name: "x" })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
      expect(await db.tables(db.optionsFor("default"))).toEqual([]);
    } finally {
      await router.close();
    }
  });

  it("routes to a tenant when a router answers { tenant }", async () => {
    const router = await routerWith({
      dbForWrite: (entity) => (entity === Device ? { tenant: "t1" } : undefined),
    });
    try {
      // The generated key of @PrimaryGeneratedColumn, in each server's own words.
      const id = { sqlite: "integer", postgres: "serial", mariadb: "integer AUTO_INCREMENT" }[
        db.name
      ];
      await router.query(
        { tenant: "t1" },
        `CREATE TABLE device (id ${id} PRIMARY KEY, serial varchar(64) NOT NULL)`,
      );
      await router.getRepository(Device).save({ serial: "no context needed" });
      expect(await db.rows(db.optionsFor("tenant_t1"), "SELECT serial FROM device")).toEqual([
        { serial: "no context needed" },
      ]);
    } finally {
      await router.close();
    }
  });
});
