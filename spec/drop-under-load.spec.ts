import { randomBytes } from "node:crypto";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  RoutingError,
  TenantRouter,
  schemaPerTenant,
  withTenant,
  type TenantsConfig,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { PG_URL, databaseUrl } from "./setup/drivers";
import { createTableMigration } from "./setup/migrations";
import { queryAt } from "./setup/pg";

// Dropping a tenant while 50 requests hammer it: new work is refused at once
// (UnknownTenantError), in-flight work drains, the storage is dropped without deadlocking,
// and a second router instance (another process's view) answers UnknownTenantError within
// its refresh interval instead of raw "does not exist" driver errors.

@External()
@Entity()
class Tick {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  note!: string;
}

const CreateTicks1700000000001 = createTableMigration("CreateTicks1700000000001", "tick", [
  { name: "note", type: "varchar" },
]);

const pgAvailable = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1";
const REFRESH_MS = 200;

const modes = [
  {
    name: "database per tenant",
    tenants: (prefix: string): Partial<TenantsConfig> => ({
      options: (tenant) => ({ type: "postgres", url: databaseUrl(`${prefix}${tenant}`) }),
    }),
  },
  {
    name: "schema per tenant",
    tenants: (prefix: string): Partial<TenantsConfig> => ({
      strategy: schemaPerTenant({
        base: { type: "postgres", url: databaseUrl(`${prefix}default`) },
        maxConnections: 8,
      }),
    }),
  },
];

for (const mode of modes) {
  (pgAvailable ? describe : describe.skip)(`dropping a tenant under load, ${mode.name}`, () => {
    const prefix = `tr_dul_${randomBytes(3).toString("hex")}_`;
    const routers: TenantRouter[] = [];
    const source: string[] = [];

    const open = async () => {
      const router = await TenantRouter.create({
        entities: [Tick],
        databases: { default: { type: "postgres", url: databaseUrl(`${prefix}default`) } },
        tenants: {
          list: () => [...source],
          register: async (tenant) => void source.push(tenant),
          unregister: async (tenant) => void source.splice(source.indexOf(tenant), 1),
          refreshIntervalMs: REFRESH_MS,
          ...mode.tenants(prefix),
        } as TenantsConfig,
        migrations: { tenant: [CreateTicks1700000000001] },
      });
      routers.push(router);
      return router;
    };

    beforeAll(async () => {
      await queryAt(PG_URL, `CREATE DATABASE "${prefix}default"`);
    });
    afterAll(async () => {
      await Promise.all(routers.map((router) => router.close()));
      await dropDatabasesByPrefix(PG_URL, prefix);
    }, CLEANUP_TIMEOUT_MS);

    it("refuses new work, drains, drops without deadlock; no raw driver error anywhere; the other router follows", async () => {
      const main = await open();
      const other = await open();
      await main.tenants.create("victim");
      await main.tenants.create("bystander");
      // The other router has the victim open, as a second process would.
      await withTenant("victim", () => other.getRepository(Tick).save({ note: "warm" }));

      const failures: unknown[] = [];
      let succeeded = 0;
      let stop = false;
      const hammer = (router: TenantRouter, index: number) =>
        (async () => {
          while (!stop) {
            try {
              await withTenant("victim", () =>
                index % 5 === 0
                  ? router.transaction(async (manager) => {
                      await manager.getRepository(Tick).save({ note: `t${index}` });
                      await manager.getRepository(Tick).count();
                    })
                  : router.getRepository(Tick).save({ note: `w${index}` }),
              );
              succeeded++;
            } catch (error) {
              failures.push(error);
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          }
        })();
      const workers = [
        ...Array.from({ length: 50 }, (_, i) => hammer(main, i)),
        ...Array.from({ length: 10 }, (_, i) => hammer(other, i)),
      ];
      await new Promise((resolve) => setTimeout(resolve, 300));
      const startedAt = Date.now();
      await main.tenants.drop("victim", { confirm: "victim", drainTimeoutMs: 2000 });
      const dropMs = Date.now() - startedAt;
      // Let the other router's refresh interval pass, then check its answers.
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS * 3));
      stop = true;
      await Promise.all(workers);

      expect(succeeded).toBeGreaterThan(0);
      // No deadlock: a 2 s drain, then the drop (DROP DATABASE waits for a checkpoint, which
      // takes seconds on a loaded machine).
      expect(dropMs).toBeLessThan(45_000);
      const raw = failures.filter(
        (error) =>
          !(error instanceof RoutingError) ||
          !["UNKNOWN_TENANT", "ROUTER_CLOSED"].includes(error.code),
      );
      // With their stacks: where a raw error escaped is what a failure must tell.
      expect(raw.map((error) => String((error as Error)?.stack ?? error))).toEqual([]);
      await expect(
        withTenant("victim", () => other.getRepository(Tick).count()),
      ).rejects.toMatchObject({ code: "UNKNOWN_TENANT" });
      await expect(
        withTenant("victim", () => main.getRepository(Tick).count()),
      ).rejects.toMatchObject({ code: "UNKNOWN_TENANT" });
      // The bystander never noticed.
      await withTenant("bystander", () => other.getRepository(Tick).save({ note: "fine" }));
      expect(await main.tenants.list()).toEqual(["bystander"]);
    }, 60_000);
  });
}
