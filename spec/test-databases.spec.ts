import { existsSync } from "node:fs";
import {
  Column,
  Entity,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Table,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import {
  External,
  ReadOnly,
  ReadOnlyDatabaseError,
  RoutedTo,
  TenantRouter,
  Unmanaged,
  withTenant,
  type TenantRouterOptions,
} from "./setup/public-api";
import { createTestDatabases, type TestDatabases } from "typeorm-router/testing";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";
import { MYSQL_URL, mysqlRows } from "./setup/mysql";
import { ID_COLUMN } from "./setup/migrations";

@ReadOnly()
@Unmanaged({ createInTests: true })
@RoutedTo("legacy")
@Entity({ name: "customers" })
class LegacyCustomer {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

@External()
@Entity()
class Invoice {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  tenant!: string;
}

let migrationRuns = 0;
let failMigration = false;

class CreateInvoices1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    migrationRuns++;
    if (failMigration) throw new Error("the template migration fails on purpose");
    await queryRunner.createTable(
      new Table({ name: "invoice", columns: [ID_COLUMN, { name: "tenant", type: "varchar" }] }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("invoice");
  }
}

const TENANTS = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let config: TenantRouterOptions;
    let test: TestDatabases;
    let seeded = 0;
    // MariaDB: no `server`, so the default (the app's own MariaDB server) is what is tested.
    const server = () =>
      driver.name === "postgres" ? { type: "postgres" as const, url: PG_URL } : undefined;

    beforeAll(async () => {
      db = fixture();
      // The production configuration: real databases that the tests must never touch.
      config = {
        entities: [LegacyCustomer, Invoice],
        databases: {
          default: db.optionsFor("prod_default"),
          legacy: { options: db.optionsFor("prod_legacy"), readOnly: true },
        },
        tenants: { list: ["prod-only"], options: (t) => db.optionsFor(`prod_tenant_${t}`) },
        migrations: { tenant: [CreateInvoices1700000000001] },
      };
      migrationRuns = 0;
      test = await createTestDatabases(config, {
        tenants: TENANTS,
        server: server(),
        seed: async (router) => {
          seeded++;
          await router.getRepository(LegacyCustomer).save([
            { id: 1, name: "Ada" },
            { id: 2, name: "Grace" },
          ]);
        },
      });
    });

    afterAll(async () => {
      await test?.teardown();
    }, CLEANUP_TIMEOUT_MS);

    it("seeds the test copy of a read-only database once, and allows writes to it in tests", async () => {
      expect(seeded).toBe(1);
      expect(
        (await test.router.getRepository(LegacyCustomer).find({ order: { id: "ASC" } })).map(
          (c) => c.name,
        ),
      ).toEqual(["Ada", "Grace"]);
      await test.router.getRepository(LegacyCustomer).save({ id: 3, name: "Linus" });
      expect(
        await db.rows(
          test.databases.get("alias:legacy")!,
          "SELECT name FROM customers ORDER BY id",
        ),
      ).toEqual([{ name: "Ada" }, { name: "Grace" }, { name: "Linus" }]);
    });

    it("still has run the seed only once in a later test", () => {
      expect(seeded).toBe(1);
    });

    it("refuses the same write with the same config outside test mode, touching nothing", async () => {
      const production = await TenantRouter.create(config);
      try {
        await expect(
          production.getRepository(LegacyCustomer).save({ id: 4, name: "Margaret" }),
        ).rejects.toBeInstanceOf(ReadOnlyDatabaseError);
      } finally {
        await production.close();
      }
      if (driver.name === "sqlite")
        expect(existsSync((db.optionsFor("prod_legacy") as { database: string }).database)).toBe(
          false,
        );
    });

    it("clones 20 tenant databases from one migrated template: the migration ran once, each tenant is isolated", async () => {
      expect(migrationRuns).toBe(1);
      await Promise.all(
        TENANTS.map((tenant) =>
          withTenant(tenant, () => test.router.getRepository(Invoice).save({ tenant })),
        ),
      );
      for (const tenant of TENANTS) {
        const options = test.databases.get(`tenant:${tenant}`)!;
        expect(await db.rows(options, "SELECT tenant FROM invoice")).toEqual([{ tenant }]);
        expect(await db.rows(options, "SELECT name FROM migrations_tenant")).toEqual([
          { name: "CreateInvoices1700000000001" },
        ]);
      }
      const names = new Set([...test.databases.values()].map((o) => JSON.stringify(o)));
      expect(names.size).toBe(TENANTS.length + 2);
    });

    // Creates and drops seven databases: each DROP waits for a checkpoint, seconds apiece on a
    // loaded machine.
    it(
      "drops everything it created on teardown, and after a failed creation",
      async () => {
        const extra = await createTestDatabases(config, {
          tenants: ["x1", "x2"],
          server: server(),
        });
        const created = [...extra.databases.values()];
        await withTenant("x1", () => extra.router.getRepository(Invoice).save({ tenant: "x1" }));
        await extra.teardown();
        await extra.teardown(); // idempotent
        for (const options of created) expect(await exists(options)).toBe(false);

        const before = await scratchDatabases();
        failMigration = true;
        try {
          await expect(
            createTestDatabases(config, { tenants: ["y1"], server: server() }),
          ).rejects.toThrow("the template migration fails on purpose");
        } finally {
          failMigration = false;
        }
        // Other suites create and drop scratch databases concurrently: wait for any that are
        // not ours to go, and fail if one of ours stays.
        const deadline = Date.now() + 10_000;
        let left = (await scratchDatabases()).filter((name) => !before.includes(name));
        while (left.length > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          const now = await scratchDatabases();
          left = left.filter((name) => now.includes(name));
        }
        expect(left).toEqual([]);
      },
      CLEANUP_TIMEOUT_MS,
    );

    async function exists(options: { type: string }): Promise<boolean> {
      const { url, database } = options as { url?: string; database?: string };
      if (driver.name === "sqlite") return existsSync(database!);
      const name = new URL(url!).pathname.slice(1);
      return (await scratchDatabases()).includes(name);
    }

    async function scratchDatabases(): Promise<string[]> {
      if (driver.name === "sqlite") return [];
      if (driver.name === "mariadb") {
        const rows = await mysqlRows<{ name: string }>(
          MYSQL_URL,
          "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'typeorm\\_router\\_scratch\\_%'",
        );
        return rows.map((row) => row.name);
      }
      const rows = await db.rows<{ datname: string }>(
        { type: "postgres", url: PG_URL },
        "SELECT datname FROM pg_database WHERE datname LIKE 'typeorm_router_scratch_%'",
      );
      return rows.map((row) => row.datname);
    }
  });
}
