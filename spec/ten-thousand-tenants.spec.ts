import { randomBytes } from "node:crypto";
import { TenantRouter, schemaPerTenant, withTenant } from "./setup/public-api";
import { BenchItem } from "../examples/bench/bench-item.entity";
import { benchSchemaOf, createTenantSchemas } from "../examples/bench/tenant-schemas";
import { DRIVERS, PG_URL, databaseUrl, describeDriver } from "./setup/drivers";
import { dropDatabases } from "./setup/cleanup";
import { queryAt, withClient } from "./setup/pg";

// Issue 5's must-show at full size: 10,000 tenant schemas, a workload that writes to every
// one of them through a 20-connection cap, the cap sampled from pg_stat_activity while it
// runs, and every row checked to be in its own schema.
const TENANTS = 10_000;
const CAP = 20;

// Creating and dropping 10,000 schemas (30,000 relations: tables, keys, sequences) is I/O:
// about a minute at rest, past 180 s at a load average of 10 (DROP DATABASE unlinks every
// relation file, after a checkpoint that flushes what creating them dirtied).
const HEAVY_HOOK_TIMEOUT_MS = 600_000;

for (const driver of DRIVERS.filter((d) => d.name === "postgres")) {
  describeDriver(driver, () => {
    const database = `tr_tenk_${randomBytes(4).toString("hex")}`;
    const url = databaseUrl(database);
    let tenants: string[];
    let router: TenantRouter | undefined;

    beforeAll(async () => {
      await queryAt(PG_URL, `CREATE DATABASE "${database}"`);
      tenants = await createTenantSchemas(url, {
        count: TENANTS,
        withTable: true,
        rowsPerTenant: 0,
      });
    }, HEAVY_HOOK_TIMEOUT_MS);

    afterAll(async () => {
      await router?.close();
      await dropDatabases(PG_URL, [database]);
    }, HEAVY_HOOK_TIMEOUT_MS);

    it("writes to all 10,000 schemas without ever exceeding the connection cap, each row in its own schema", async () => {
      router = await TenantRouter.create({
        entities: [BenchItem],
        databases: { default: { type: "postgres", url } },
        tenants: {
          list: tenants,
          strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections: CAP }),
        },
        pool: { maxOpenTenants: 500, idleTimeoutMs: 0 },
      });
      let peak = 0;
      let samples = 0;
      let sampling = true;
      const sampler = withClient(PG_URL, async (client) => {
        while (sampling) {
          const { rows } = await client.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1",
            [database],
          );
          peak = Math.max(peak, Number(rows[0].n));
          samples++;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      let next = 0;
      const worker = async () => {
        while (next < tenants.length) {
          const tenant = tenants[next++];
          await withTenant(tenant, () =>
            router!.getRepository(BenchItem).insert({ id: 1, tenant, value: next }),
          );
        }
      };
      try {
        await Promise.all(Array.from({ length: 2 * CAP }, worker));
      } finally {
        sampling = false;
        await sampler;
      }
      expect(samples).toBeGreaterThan(10);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(CAP);
      expect(router.poolStats().openTenants).toBeLessThanOrEqual(500);

      // Read every schema back directly: exactly one row, naming its own tenant.
      const misplaced: string[] = [];
      for (let start = 0; start < tenants.length; start += 1000) {
        const selects = tenants
          .slice(start, start + 1000)
          .map(
            (tenant) =>
              `SELECT '${tenant}' AS owner, tenant, count(*) OVER () AS n FROM "${benchSchemaOf(tenant)}".bench_item`,
          );
        const rows = await queryAt<{ owner: string; tenant: string; n: string }>(
          url,
          selects.join(" UNION ALL "),
        );
        expect(rows).toHaveLength(Math.min(1000, tenants.length - start));
        for (const row of rows)
          if (row.owner !== row.tenant || row.n !== "1") misplaced.push(row.owner);
      }
      expect(misplaced).toEqual([]);
      expect(
        await queryAt(url, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"),
      ).toEqual([]);
    }, 600_000);
  });
}
