import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from "typeorm";
import { External, TenantRouter, withTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Event {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  kind!: string;
}

// STRESS_REQUESTS / STRESS_TENANTS / STRESS_MAX_OPEN scale it up (the run: 100000
// requests over 200 tenants with 5 and with 20 open).
const REQUESTS = Number(process.env.STRESS_REQUESTS ?? 1500);
const TENANT_COUNT = Number(process.env.STRESS_TENANTS ?? 24);
const MAX_OPEN = Number(process.env.STRESS_MAX_OPEN ?? 3);
const IN_FLIGHT = 40;
const TENANTS = Array.from({ length: TENANT_COUNT }, (_, i) => `t${i}`);

type Work = (router: TenantRouter, kept: Map<string, DataSource>) => Promise<number>;

// Each kind of work resolves with how many rows it wrote.
const KINDS: Record<string, Work> = {
  repositorySave: async (router) => (await router.getRepository(Event).save({ kind: "save" }), 1),
  repositoryRead: async (router) => (await router.getRepository(Event).count(), 0),
  syncBuilder: async (router) => {
    const builder = router.getRepository(Event).createQueryBuilder("e");
    await new Promise((resolve) => setImmediate(resolve)); // let evictions happen in between
    return (await builder.getMany(), 0);
  },
  asyncBuilder: async (router) => (
    await (await router.getRepository(Event).queryBuilder("e")).getCount(),
    0
  ),
  builderInsert: async (router) => {
    await router.manager
      .createQueryBuilder()
      .insert()
      .into(Event)
      .values({ kind: "insert" })
      .execute();
    return 1;
  },
  transaction: async (router) => {
    await router.transaction(async (manager) => {
      await manager.save(Event, { kind: "tx" });
      await manager.getRepository(Event).createQueryBuilder("e").getCount();
      await manager.save(Event, { kind: "tx" });
    });
    return 2;
  },
  keptDataSource: async (router, kept) => {
    const tenant = (await import("./setup/public-api")).currentTenant()!;
    let dataSource = kept.get(tenant);
    if (!dataSource) {
      dataSource = await router.dataSourceFor(Event);
      kept.set(tenant, dataSource);
    }
    await dataSource.getRepository(Event).count();
    return 0;
  },
};

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;

    beforeAll(async () => {
      db = fixture();
      for (const tenant of TENANTS) await db.createDatabase(`stress_${tenant}`);
    });

    it(`survives ${REQUESTS} mixed requests over ${TENANT_COUNT} tenants with ${MAX_OPEN} open at most`, async () => {
      const router = await TenantRouter.create({
        entities: [Event],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: TENANTS,
          options: (tenant) => ({ ...db.optionsFor(`stress_${tenant}`), synchronize: true }),
        },
        pool: { maxOpenTenants: MAX_OPEN, idleTimeoutMs: 200, acquireTimeoutMs: 60_000 },
      });
      const written = new Map<string, number>();
      const failures: unknown[] = [];
      const kept = new Map<string, DataSource>();
      const kinds = Object.values(KINDS);
      let settled = 0;
      let next = 0;
      try {
        const worker = async () => {
          while (next < REQUESTS) {
            const index = next++;
            const tenant = TENANTS[(index * 7919) % TENANTS.length];
            const work = kinds[index % kinds.length];
            try {
              const rows = await withTenant(tenant, () => work(router, kept));
              written.set(tenant, (written.get(tenant) ?? 0) + rows);
            } catch (error) {
              failures.push(error);
            } finally {
              settled++;
            }
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      } finally {
        await router.close();
      }
      expect(failures.map((error) => String(error)).slice(0, 5)).toEqual([]);
      expect(settled).toBe(REQUESTS);
      // Every write that resolved is stored, and none that did not: read each database.
      for (const tenant of TENANTS) {
        const [row] = await db.rows<{ n: number | string }>(
          db.optionsFor(`stress_${tenant}`),
          "SELECT count(*) AS n FROM event",
        );
        expect({ tenant, rows: Number(row.n) }).toEqual({ tenant, rows: written.get(tenant) ?? 0 });
      }
      // A loaded machine (load average 10) has taken over 60 s for the default 1,500 requests.
    }, 600_000);
  });
}
