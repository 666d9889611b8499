import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from "typeorm";
import { External, TenantRouter, currentTenant, withTenant } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Stamp {
  @PrimaryGeneratedColumn()
  id!: number;

  /** The tenant the request meant to write to. */
  @Column({ type: "varchar" })
  tenant!: string;

  /** The number of the request that wrote it. */
  @Column({ type: "integer" })
  seq!: number;
}

const TENANTS = Array.from({ length: 20 }, (_, index) => `t${String(index).padStart(2, "0")}`);
const REQUESTS = 1000;

/** A seeded linear congruential generator (Numerical Recipes constants): floats in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** One asynchronous hop a request makes before it writes. */
type Step =
  | { readonly kind: "timer"; readonly ms: number }
  | { readonly kind: "immediate" }
  | { readonly kind: "promise-chain"; readonly length: number }
  | { readonly kind: "nested"; readonly tenant: string };

interface Plan {
  readonly seq: number;
  readonly tenant: string;
  readonly steps: readonly Step[];
}

/** The requests, planned up front so that the same seed always gives the same run. */
function planRequests(seed: number): Plan[] {
  const random = lcg(seed);
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: REQUESTS }, (_, seq) => {
    const tenant = TENANTS[pick(TENANTS.length)];
    const steps: Step[] = Array.from({ length: 1 + pick(4) }, (): Step => {
      switch (pick(4)) {
        case 0:
          return { kind: "timer", ms: pick(6) };
        case 1:
          return { kind: "immediate" };
        case 2:
          return { kind: "promise-chain", length: 1 + pick(5) };
        default:
          return { kind: "nested", tenant: TENANTS[pick(TENANTS.length)] };
      }
    });
    return { seq, tenant, steps };
  });
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const tenantOptions = (tenant: string): DataSourceOptions => {
      const options = { ...db.optionsFor(`tenant_${tenant}`), synchronize: true };
      // 20 tenants x the drivers' default 10 connections would exceed the server's
      // max_connections (PostgreSQL 100, MariaDB 151).
      return db.name === "sqlite" ? options : ({ ...options, poolSize: 2 } as DataSourceOptions);
    };

    beforeAll(async () => {
      db = fixture();
      const defaultOptions = await db.createDatabase("default");
      for (const tenant of TENANTS) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [Stamp],
        databases: { default: defaultOptions },
        tenants: { list: TENANTS, options: tenantOptions },
        pool: { maxOpenTenants: 25 },
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it(`routes ${REQUESTS} interleaved requests over ${TENANTS.length} tenants with zero leaks`, async () => {
      const plans = planRequests(0x5eed);
      // Context seen in flight that differs from the request's tenant (should stay empty).
      const strays: string[] = [];
      const check = (plan: Plan, where: string, expected = plan.tenant) => {
        const seen = currentTenant();
        if (seen !== expected)
          strays.push(`#${plan.seq} ${where}: saw ${seen}, expected ${expected}`);
      };

      const hop = async (plan: Plan, step: Step): Promise<void> => {
        switch (step.kind) {
          case "timer":
            await new Promise<void>((resolve) => setTimeout(resolve, step.ms));
            return;
          case "immediate":
            await new Promise<void>((resolve) => setImmediate(resolve));
            return;
          case "promise-chain": {
            let chain = Promise.resolve();
            for (let link = 0; link < step.length; link++) {
              chain = chain.then(() => check(plan, `promise-chain link ${link}`));
            }
            await chain;
            return;
          }
          case "nested":
            await withTenant(step.tenant, async () => {
              await new Promise<void>((resolve) => setImmediate(resolve));
              check(plan, "inside a nested withTenant", step.tenant);
            });
            return;
        }
      };

      await Promise.all(
        plans.map((plan) =>
          withTenant(plan.tenant, async () => {
            for (const [index, step] of plan.steps.entries()) {
              await hop(plan, step);
              check(plan, `after step ${index} (${step.kind})`);
            }
            await router.getRepository(Stamp).save({ tenant: plan.tenant, seq: plan.seq });
            check(plan, "after save");
          }),
        ),
      );

      expect(strays).toEqual([]);
      expect(router.poolStats().openTenants).toBe(TENANTS.length);

      let total = 0;
      for (const tenant of TENANTS) {
        const rows = await db.rows<{ tenant: string; seq: number }>(
          tenantOptions(tenant),
          "SELECT tenant, seq FROM stamp ORDER BY seq",
        );
        const expected = plans.filter((plan) => plan.tenant === tenant).map((plan) => plan.seq);
        // Every row in this database was meant for this tenant...
        expect(rows.filter((row) => row.tenant !== tenant)).toEqual([]);
        // ...and exactly the requests sent to this tenant are here, once each.
        expect(rows.map((row) => Number(row.seq))).toEqual(expected);
        total += rows.length;
      }
      expect(total).toBe(REQUESTS);
      // The plan really spreads the load: every tenant got requests.
      for (const tenant of TENANTS) {
        expect(plans.some((plan) => plan.tenant === tenant)).toBe(true);
      }
      expect(await db.tables(db.optionsFor("default"))).toEqual([]);
    });
  });
}
