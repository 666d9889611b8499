import {
  Column,
  DefaultNamingStrategy,
  Entity,
  EventSubscriber,
  PrimaryGeneratedColumn,
  type EntitySubscriberInterface,
  type InsertEvent,
  type Logger,
} from "typeorm";
import { createTestDatabases, type TestDatabases } from "typeorm-router/testing";
import { External, TenantRouter, withTenant, type TenantRouterOptions } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

// createTestDatabases keeps every option of the app's databases that shapes behaviour:
// subscribers (an audit subscriber must run in tests), logging and the naming strategy.

@Entity()
class Invoice {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  number!: string;
}

@External()
@Entity()
class Shipment {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  tracking!: string;
}

const audited: string[] = [];

@EventSubscriber()
class AuditSubscriber implements EntitySubscriberInterface {
  afterInsert(event: InsertEvent<object>): void {
    audited.push(event.metadata.tableName);
  }
}

// Tables named app_<name>: visible in the test database's catalog.
class PrefixedNaming extends DefaultNamingStrategy {
  override tableName(targetName: string, userSpecifiedName: string | undefined): string {
    return `app_${super.tableName(targetName, userSpecifiedName)}`;
  }
}

const logged: string[] = [];
const logger: Logger = {
  logQuery: (query) => void logged.push(query),
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

describe("createTestDatabases keeps the app's database options", () => {
  const db = useSqliteFixture();
  let test: TestDatabases;

  beforeAll(async () => {
    const shared = {
      subscribers: [AuditSubscriber],
      namingStrategy: new PrefixedNaming(),
      logging: ["query" as const],
      logger,
    };
    const config: TenantRouterOptions = {
      entities: [Invoice, Shipment],
      databases: { default: { ...db.optionsFor("app_default"), ...shared } },
      tenants: {
        list: ["acme"],
        options: (tenant) => ({ ...db.optionsFor(`app_${tenant}`), ...shared }),
      },
    };
    test = await createTestDatabases(config, { tenants: ["acme"] });
  });
  afterAll(async () => {
    await test?.teardown();
  });

  it("runs the app's subscribers, logger and naming strategy on the test databases", async () => {
    const router: TenantRouter = test.router;
    audited.length = 0;
    logged.length = 0;
    await router.getRepository(Invoice).save({ number: "INV-1" });
    await withTenant("acme", () => router.getRepository(Shipment).save({ tracking: "T-1" }));
    expect(audited).toEqual(["app_invoice", "app_shipment"]);
    expect(logged.some((query) => query.includes('INSERT INTO "app_invoice"'))).toBe(true);
    expect(await db.tables(test.databases.get("alias:default")!)).toContain("app_invoice");
    expect(await db.tables(test.databases.get("tenant:acme")!)).toContain("app_shipment");
    // The app's own files were never created.
    expect(await db.tables(db.optionsFor("app_default"))).toEqual([]);
  });
});
