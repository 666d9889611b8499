import path from "node:path";
import {
  Column,
  Entity,
  EntitySchema,
  PrimaryGeneratedColumn,
  type DataSourceOptions,
} from "typeorm";
import {
  BootstrapError,
  ConfigurationError,
  EntityNotDiscoveredError,
  External,
  NoTenantContextError,
  ReadOnly,
  ReadOnlyDatabaseError,
  RoutedTo,
  TenantRouter,
  withTenant,
  type Router,
} from "./setup/public-api";
import { DRIVERS, describeDriver, useSqliteFixture, type DriverFixture } from "./setup/drivers";

interface Customer {
  id: number;
  name: string;
  purchases?: Purchase[];
}

interface Purchase {
  id: number;
  amount: number;
  customer?: Customer;
}

interface Metric {
  id: number;
  hits: number;
}

interface Label {
  id: number;
  text: string;
}

// Placed by calling External on the schema (the form that returns the schema).
const CustomerSchema = External(
  new EntitySchema<Customer>({
    name: "Customer",
    tableName: "customer",
    columns: {
      id: { type: "integer", primary: true, generated: true },
      name: { type: "varchar" },
    },
    relations: {
      purchases: { type: "one-to-many", target: "Purchase", inverseSide: "customer" },
    },
  }),
);

// Placed by applying the decorator to the schema, as @External() would be to a class.
const PurchaseSchema = new EntitySchema<Purchase>({
  name: "Purchase",
  tableName: "purchase",
  columns: {
    id: { type: "integer", primary: true, generated: true },
    amount: { type: "integer" },
  },
  relations: {
    customer: {
      type: "many-to-one",
      target: "Customer",
      inverseSide: "purchases",
      joinColumn: { name: "customer_id" },
      onDelete: "CASCADE",
    },
  },
});
External()(PurchaseSchema);

const MetricSchema = RoutedTo("analytics")(
  new EntitySchema<Metric>({
    name: "Metric",
    tableName: "metric_row",
    columns: {
      id: { type: "integer", primary: true, generated: true },
      hits: { type: "integer" },
    },
  }),
);

const FrozenMetricSchema = ReadOnly()(
  RoutedTo("analytics")(
    new EntitySchema<Metric>({
      name: "FrozenMetric",
      tableName: "frozen_metric",
      columns: {
        id: { type: "integer", primary: true, generated: true },
        hits: { type: "integer" },
      },
    }),
  ),
);

// Placed by the `placements` option only: no decorator at all.
const LabelSchema = new EntitySchema<Label>({
  name: "Label",
  tableName: "label",
  columns: {
    id: { type: "integer", primary: true, generated: true },
    text: { type: "varchar" },
  },
});

@Entity()
class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  email!: string;
}

const GLOB = path.join(__dirname, "fixtures/entity-schema/*.schema.{ts,js}");
// Classes, schemas and a glob that exports only a schema, mixed.
const ENTITIES = [
  Account,
  CustomerSchema,
  PurchaseSchema,
  MetricSchema,
  FrozenMetricSchema,
  LabelSchema,
  GLOB,
];

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let defaultOptions: DataSourceOptions;
    let analyticsOptions: DataSourceOptions;
    const tenants = new Map<string, DataSourceOptions>();
    let router: TenantRouter;

    beforeAll(async () => {
      db = fixture();
      defaultOptions = await db.createDatabase("default");
      analyticsOptions = await db.createDatabase("analytics");
      for (const tenant of ["a", "b"])
        tenants.set(tenant, await db.createDatabase(`tenant_${tenant}`));
      router = await TenantRouter.create({
        entities: ENTITIES,
        placements: { Label: { routedTo: "analytics" } },
        databases: {
          default: { ...defaultOptions, synchronize: true },
          analytics: { ...analyticsOptions, synchronize: true },
        },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({ ...db.optionsFor(`tenant_${tenant}`), synchronize: true }),
        },
      });
      await router.getRepository(Account).save({ email: "x@example.com" }); // opens default
    });

    afterAll(async () => {
      await router?.close();
    });

    const tenant = (name: string) => tenants.get(name)!;

    it("stores an External EntitySchema's rows in the tenant's database only", async () => {
      await withTenant("a", () => router.getRepository(CustomerSchema).save({ name: "ada" }));
      await withTenant("b", () => router.getRepository(CustomerSchema).count());

      expect(await db.rows(tenant("a"), "SELECT name FROM customer")).toEqual([{ name: "ada" }]);
      expect(await db.rows(tenant("b"), "SELECT name FROM customer")).toEqual([]);
      expect(await db.tables(defaultOptions)).toEqual(["account"]);
      expect(router.placementOf(CustomerSchema)).toMatchObject({
        name: "Customer",
        group: "tenant",
        external: true,
        entity: CustomerSchema,
      });
    });

    it("finds the repository by schema object, entity name and table name, as TypeORM does", async () => {
      await withTenant("b", () => router.getRepository("Customer").save({ name: "by-name" }));
      await withTenant("b", () => router.getRepository("customer").save({ name: "by-table" }));

      const names = await withTenant("b", async () =>
        (await router.getRepository(CustomerSchema).find({ order: { id: "ASC" } })).map(
          (customer) => customer.name,
        ),
      );
      expect(names).toEqual(["by-name", "by-table"]);
      expect(await db.rows(tenant("b"), "SELECT name FROM customer ORDER BY id")).toEqual([
        { name: "by-name" },
        { name: "by-table" },
      ]);
      expect(await db.rows(tenant("a"), "SELECT name FROM customer")).toEqual([{ name: "ada" }]);
      expect(router.placementOf("customer")).toBe(router.placementOf(CustomerSchema));
      expect(() => router.getRepository("no_such_table")).toThrow(EntityNotDiscoveredError);
    });

    it("routes query builders on an EntitySchema, with and without the entity up front", async () => {
      await withTenant("a", async () => {
        await router.manager
          .createQueryBuilder()
          .insert()
          .into(CustomerSchema)
          .values({ name: "builder" })
          .execute();
        await router.manager
          .createQueryBuilder()
          .update("Customer")
          .set({ name: "grace" })
          .where("name = :name", { name: "ada" })
          .execute();
      });
      const found = await withTenant("a", () =>
        router
          .getRepository(CustomerSchema)
          .createQueryBuilder("c")
          .where("c.name IN (:...names)", { names: ["grace", "builder"] })
          .orderBy("c.name")
          .getMany(),
      );
      expect(found.map((customer) => customer.name)).toEqual(["builder", "grace"]);
      expect(await db.rows(tenant("a"), "SELECT name FROM customer ORDER BY name")).toEqual([
        { name: "builder" },
        { name: "grace" },
      ]);
    });

    it("saves and loads relations between two EntitySchemas in the tenant's database", async () => {
      const loaded = await withTenant("b", async () => {
        const customer = await router.getRepository(CustomerSchema).save({ name: "rel" });
        await router.getRepository(PurchaseSchema).save([
          { amount: 3, customer },
          { amount: 4, customer },
        ]);
        return router.getRepository(CustomerSchema).findOne({
          where: { name: "rel" },
          relations: { purchases: true },
        });
      });
      expect(loaded?.purchases?.map((purchase) => purchase.amount).sort()).toEqual([3, 4]);
      const rows = await db.rows<{ amount: number; name: string }>(
        tenant("b"),
        "SELECT p.amount, c.name FROM purchase p JOIN customer c ON c.id = p.customer_id ORDER BY p.amount",
      );
      expect(rows.map((row) => [Number(row.amount), row.name])).toEqual([
        [3, "rel"],
        [4, "rel"],
      ]);
      expect(await db.rows(tenant("a"), "SELECT amount FROM purchase")).toEqual([]);
    });

    it("refuses an External EntitySchema with no tenant in context", async () => {
      await expect(router.getRepository(CustomerSchema).find()).rejects.toBeInstanceOf(
        NoTenantContextError,
      );
      // Built synchronously with no tenant; refused when it runs.
      const builder = router.getRepository(CustomerSchema).createQueryBuilder("c");
      await expect(builder.getMany()).rejects.toBeInstanceOf(NoTenantContextError);
    });

    it("routes RoutedTo and `placements` EntitySchemas to their alias, never default", async () => {
      await router.getRepository(MetricSchema).save({ hits: 7 });
      await router.getRepository("Label").save({ text: "configured" });

      expect(await db.rows(analyticsOptions, "SELECT hits FROM metric_row")).toEqual([{ hits: 7 }]);
      expect(await db.rows(analyticsOptions, "SELECT text FROM label")).toEqual([
        { text: "configured" },
      ]);
      expect(await db.tables(defaultOptions)).toEqual(["account"]);
      expect(router.placementOf(LabelSchema)).toMatchObject({
        group: "analytics",
        external: false,
      });
    });

    it("refuses writes to a ReadOnly EntitySchema and leaves its table untouched", async () => {
      await expect(
        router.getRepository(FrozenMetricSchema).save({ hits: 1 }),
      ).rejects.toBeInstanceOf(ReadOnlyDatabaseError);
      await expect(
        router.manager
          .createQueryBuilder()
          .insert()
          .into(FrozenMetricSchema)
          .values({ hits: 2 })
          .execute(),
      ).rejects.toBeInstanceOf(ReadOnlyDatabaseError);
      expect(await db.rows(analyticsOptions, "SELECT hits FROM frozen_metric")).toEqual([]);
    });

    it("discovers a glob file that exports only an EntitySchema, and routes it", async () => {
      expect(router.placementOf("AuditEntry")).toMatchObject({ group: "tenant", external: true });
      await withTenant("a", () => router.getRepository("AuditEntry").save({ action: "login" }));

      expect(await db.rows(tenant("a"), "SELECT action FROM audit_entry")).toEqual([
        { action: "login" },
      ]);
      expect(await db.rows(tenant("b"), "SELECT action FROM audit_entry")).toEqual([]);
      expect(await db.tables(defaultOptions)).not.toContain("audit_entry");
    });
  });
}

describe("EntitySchema bootstrap checks", () => {
  const db = useSqliteFixture();

  const create = (options: Partial<Parameters<typeof TenantRouter.create>[0]>) =>
    TenantRouter.create({
      entities: [],
      databases: { default: db.optionsFor("default"), analytics: db.optionsFor("analytics") },
      tenants: { list: ["a"], options: (t) => db.optionsFor(`tenant_${t}`) },
      undiscoveredEntities: "ignore",
      ...options,
    });

  const problemsOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BootstrapError);
    return (error as BootstrapError).problems;
  };

  const schema = (name: string, relations: EntitySchema["options"]["relations"] = {}) =>
    new EntitySchema<{ id: number }>({
      name,
      columns: { id: { type: "integer", primary: true, generated: true } },
      relations,
    });

  it("fails on a placement that names no discovered entity, listing the known names", async () => {
    const problems = await problemsOf(
      create({ entities: [schema("Note"), Account], placements: { Nope: "tenant" } }),
    );
    expect(problems.map((p) => p.kind)).toEqual(["unknown-placement"]);
    expect(problems[0].message).toContain('"Nope"');
    expect(problems[0].message).toContain('discovered: "Account", "Note"');
  });

  it("fails on a placement to an alias that is not configured", async () => {
    const problems = await problemsOf(
      create({ entities: [schema("Note")], placements: { Note: "warehouse" } }),
    );
    expect(problems.map((p) => p.kind)).toEqual(["unknown-alias"]);
    expect(problems[0].message).toContain('"warehouse"');
  });

  it("refuses a malformed placement with a ConfigurationError", async () => {
    await expect(
      create({
        entities: [schema("Note")],
        placements: { Note: { routedto: "analytics" } as never },
      }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("fails on a relation between EntitySchemas in different placements", async () => {
    const problems = await problemsOf(
      create({
        entities: [
          schema("Shelf"),
          schema("Book", { shelf: { type: "many-to-one", target: "Shelf" } }),
        ],
        placements: { Book: "tenant" },
      }),
    );
    expect(problems.map((p) => p.kind)).toEqual(["cross-placement-relation"]);
    expect(problems[0].message).toContain("Book.shelf");
  });

  it("allows that relation without a foreign key when a router allows it", async () => {
    const shelf = schema("Shelf");
    const book = schema("Book", {
      shelf: { type: "many-to-one", target: "Shelf", createForeignKeyConstraints: false },
    });
    const seen: unknown[] = [];
    const allow: Router = {
      allowRelation: (a, b) => {
        seen.push(a, b);
        return true;
      },
    };
    const router = await create({
      entities: [shelf, book],
      placements: { Book: "tenant" },
      routers: [allow],
    });
    await router.close();
    expect(seen).toEqual([book, shelf]); // routers are given the schema objects
  });

  it("does not report EntitySchemas as undiscovered TypeORM entities", async () => {
    const router = await create({
      entities: [...ENTITIES, schema("Note")],
      placements: { Label: "analytics" },
      undiscoveredEntities: "error",
    });
    await router.close();
  });

  // Last: the schema it marks stays marked for the rest of this file.
  it("fails on a placed EntitySchema that is not in `entities`", async () => {
    External(schema("Forgotten"));
    const problems = await problemsOf(
      create({ entities: ENTITIES, undiscoveredEntities: "error" }),
    );
    expect(problems.map((p) => p.kind)).toEqual(["undiscovered-entity"]);
    expect(problems[0].message).toContain('EntitySchema "Forgotten"');
  });
});
