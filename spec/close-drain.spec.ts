import { Client } from "pg";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  RouterClosedError,
  TenantRouter,
  schemaPerTenant,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, PG_URL, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Order {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  item!: string;
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;

    beforeAll(async () => {
      db = fixture();
      await db.createDatabase("tenant_a");
    });

    it("lets transactions in flight finish, then refuses new work with RouterClosedError", async () => {
      const router = await TenantRouter.create({
        entities: [Order],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: ["a"],
          options: () => ({ ...db.optionsFor("tenant_a"), synchronize: true }),
        },
        pool: { closeTimeoutMs: 30_000 },
      });
      const orders = router.getRepository(Order);
      let proceed!: () => void;
      const holding = new Promise<void>((resolve) => (proceed = resolve));
      let started!: () => void;
      const inside = new Promise<void>((resolve) => (started = resolve));
      const transaction = withTenant("a", () =>
        router.transaction(async (manager) => {
          await manager.save(Order, { item: "first" });
          started();
          await holding;
          await manager.save(Order, { item: "second" });
        }),
      );
      await inside;
      const closing = router.close();
      // New work is refused at once, while the transaction still runs.
      await expect(withTenant("a", () => orders.count())).rejects.toThrow(RouterClosedError);
      expect(() => router.getRepository(Order)).toThrow(RouterClosedError);
      proceed();
      await expect(transaction).resolves.toBeUndefined();
      await closing;
      const rows = await db.rows<{ item: string }>(
        db.optionsFor("tenant_a"),
        `SELECT item FROM ${db.name === "mariadb" ? "`order`" : '"order"'} ORDER BY id`,
      );
      expect(rows.map((row) => row.item)).toEqual(["first", "second"]);
      if (db.name === "postgres") {
        const name = (db.optionsFor("tenant_a") as { url: string }).url.split("/").pop();
        const [row] = await db.rows<{ n: string }>(
          db.optionsFor("default"),
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '${name}'`,
        );
        expect(Number(row.n)).toBe(0);
      }
    });

    // pg's pool.end() resolves before its clients' sockets close: close() waits for them, so
    // when it resolves the server has ended every session (a DROP DATABASE cannot find one).
    (driver.name === "postgres" ? it : it.skip).each([
      ["database per tenant", false],
      ["schema per tenant", true],
    ])("resolves once the server ended every session (%s)", async (_mode, schemas) => {
      const base = await db.createDatabase(`sessions_${schemas ? "s" : "d"}`);
      const tenantDb = schemas ? base : await db.createDatabase("sessions_t");
      const names = [...new Set([base, tenantDb])].map((options) =>
        (options as { url: string }).url.split("/").pop(),
      );
      const probe = new Client({ connectionString: PG_URL });
      await probe.connect();
      try {
        for (let round = 0; round < 10; round++) {
          const router = await TenantRouter.create({
            entities: [Order],
            databases: { default: base },
            tenants: schemas
              ? {
                  list: ["a", "b"],
                  strategy: schemaPerTenant({ base: base as never, maxConnections: 4 }),
                }
              : { list: ["a", "b"], options: () => tenantDb },
          });
          for (const tenant of ["a", "b"]) {
            await withTenant(tenant, () =>
              Promise.all(
                Array.from({ length: 4 }, () =>
                  router.transaction((manager) => manager.query("SELECT 1")),
                ),
              ),
            );
          }
          await router.close();
          const { rows } = await probe.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1)",
            [names],
          );
          expect({ round, sessions: rows[0].n }).toEqual({ round, sessions: 0 });
        }
      } finally {
        await probe.end();
      }
    });
  });
}
