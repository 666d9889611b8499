import "reflect-metadata";
import { Pool } from "pg";
import { DataSource } from "typeorm";
import { withTenant } from "typeorm-router";
import { BenchItem } from "./bench-item.entity";
import { createBenchRouter } from "./bench-router";
import { childMain, progress } from "./child-process";
import { quantile } from "./measure";
import { mikroOrmUnavailable, openMikroOrm, type ItemRow } from "./peer-orms";
import { COLD_WARMUP } from "./tenant-sides-section";
import { benchSchemaOf, benchTenantId } from "./tenant-schemas";
import { runClosedLoop } from "./workload";

/** What the side-by-side run is asked to do (one child process). */
export interface TenantSidesRequest {
  /** The database holding the tenant schemas (createTenantSchemas, with tables). */
  readonly url: string;
  readonly tenants: number;
  readonly rowsPerTenant: number;
  /** Connections of every side's pool (the router's schemaPerTenant cap). */
  readonly maxConnections: number;
  /** pool.maxOpenTenants of the bounded router side. */
  readonly maxOpenTenants: number;
  /** Reads per measured workload (closed loop, `maxConnections` workers). */
  readonly reads: number;
  /** Cold tenants timed per side and repetition. */
  readonly coldSamples: number;
  readonly repetitions: number;
}

/** The sides, in the table's order. */
export type SideName =
  | "pg floor"
  | "plain TypeORM"
  | "router, all open"
  | "router, maxOpenTenants bounded"
  | "MikroORM fork({ schema })";

/** One side's figures in one repetition (a workload it does not run is absent). */
export interface SideFigures {
  /** Wall time per read (workload duration ÷ reads), ms: single tenant, round robin. */
  readonly singleMsPerRead?: number;
  readonly roundRobinMsPerRead?: number;
  /** This process's CPU time per read, ms. */
  readonly singleCpuMsPerRead?: number;
  readonly roundRobinCpuMsPerRead?: number;
  /** Median first read of a tenant the side never touched, and the read right after, ms. */
  readonly coldMs?: number;
  readonly warmMs?: number;
  /** Median over those tenants of each one's cold read minus its warm read, ms. */
  readonly coldExtraMs?: number;
}

/** How far the hand-rolled `Map<tenant, DataSource>` got. */
export interface HandRolledMapResult {
  /** Tenants it opened before its connections exceeded the cap. */
  readonly tenantsOpened: number;
  readonly connectionsAtStop: number;
  /** Median time of a tenant's first read (new DataSource, initialize, read), ms. */
  readonly openAndReadMs: number;
  /** Heap growth per opened tenant DataSource (after a forced GC when exposed), bytes. */
  readonly heapPerTenant: number;
}

/** Everything the run measured. */
export interface TenantSidesResult {
  readonly request: TenantSidesRequest;
  /** Per side, one entry per repetition. */
  readonly sides: Partial<Record<SideName, SideFigures[]>>;
  readonly handRolledMap: HandRolledMapResult;
  /** Why MikroORM did not run, if it did not. */
  readonly mikroOrmSkipped?: string;
}

/** One side: how it reads row `id` of a tenant, and which workloads it runs. */
interface Side {
  readonly name: SideName;
  open(): Promise<(tenant: string, id: number) => Promise<ItemRow | null>>;
  close(): Promise<void>;
  readonly single: boolean;
  readonly roundRobin: boolean;
  readonly cold: boolean;
}

const FLOOR_SQL = (schema: string) =>
  `SELECT "id", "tenant", "value" FROM "${schema}"."bench_item" WHERE "id" = $1`;

/**
 * Runs every side on the same tenant schemas, one side at a time (each with a pool of its
 * own, closed afterwards, so no two sides hold connections at once), in an order that rotates
 * each repetition: a cold phase (the first read of tenants the side's fresh connections never
 * touched, then the same read warm, after a few untimed cold reads), a single-tenant workload, an unmeasured round-robin pass
 * over every tenant, then the measured round robin. Every read checks its row names its
 * tenant. Before them, the hand-rolled `Map<tenant, DataSource>` opens tenants until it
 * holds more connections than the cap.
 */
export async function runTenantSides(request: TenantSidesRequest): Promise<TenantSidesResult> {
  const tenants = Array.from({ length: request.tenants }, (_, index) => benchTenantId(index));
  const mikroOrmSkipped = mikroOrmUnavailable();
  const sides = buildSides(request, tenants, mikroOrmSkipped === undefined);
  // First, in the fresh process: no garbage of other sides to be collected under its reading.
  const handRolledMap = await runHandRolledMap(request, tenants);
  progress(
    `  hand-rolled Map: ${handRolledMap.tenantsOpened} tenants before exceeding ` +
      `${request.maxConnections} connections`,
  );
  const results: Partial<Record<SideName, SideFigures[]>> = {};
  const stride = Math.max(1, Math.floor(tenants.length / 2 / request.coldSamples));
  const coldTenants = Array.from(
    { length: request.coldSamples },
    (_, sample) => tenants[tenants.length - 1 - sample * stride],
  );
  for (let repetition = 0; repetition < request.repetitions; repetition++) {
    const order = sides.map((_, index) => sides[(index + repetition) % sides.length]);
    for (const side of order) {
      const figures = await measureSide(side, request, tenants, coldTenants);
      (results[side.name] ??= []).push(figures);
      progress(`  repetition ${repetition + 1}, ${side.name}: ${describe(figures)}`);
    }
  }
  return { request, sides: results, handRolledMap, mikroOrmSkipped };
}

function describe(figures: SideFigures): string {
  return Object.entries(figures)
    .map(([key, value]) => `${key} ${(value as number).toFixed(3)}`)
    .join(", ");
}

function buildSides(
  request: TenantSidesRequest,
  tenants: readonly string[],
  withMikroOrm: boolean,
): Side[] {
  const sides: Side[] = [];
  let pool: Pool | undefined;
  sides.push({
    name: "pg floor",
    single: true,
    roundRobin: true,
    cold: true,
    async open() {
      const opened = new Pool({ connectionString: request.url, max: request.maxConnections });
      pool = opened;
      return async (tenant, id) => {
        const schema = benchSchemaOf(tenant);
        const result = await opened.query<ItemRow>({
          name: schema,
          text: FLOOR_SQL(schema),
          values: [id],
        });
        return result.rows[0] ?? null;
      };
    },
    close: () => pool!.end(),
  });
  let plain: DataSource | undefined;
  sides.push({
    name: "plain TypeORM",
    single: true,
    roundRobin: false,
    cold: false,
    async open() {
      plain = new DataSource({
        type: "postgres",
        url: request.url,
        schema: benchSchemaOf(tenants[0]),
        entities: [BenchItem],
        poolSize: request.maxConnections,
      });
      await plain.initialize();
      const items = plain.getRepository(BenchItem);
      return (_tenant, id) => items.findOneBy({ id });
    },
    close: () => plain!.destroy(),
  });
  for (const [name, maxOpenTenants] of [
    ["router, all open", tenants.length],
    ["router, maxOpenTenants bounded", request.maxOpenTenants],
  ] as const) {
    let close: () => Promise<void> = async () => undefined;
    sides.push({
      name,
      single: name === "router, all open",
      roundRobin: true,
      cold: name === "router, all open",
      async open() {
        const router = await createBenchRouter({
          url: request.url,
          tenants,
          maxConnections: request.maxConnections,
          maxOpenTenants,
        });
        close = () => router.close();
        const items = router.getRepository(BenchItem);
        return (tenant, id) => withTenant(tenant, () => items.findOneBy({ id }));
      },
      close: () => close(),
    });
  }
  if (withMikroOrm) {
    let close: () => Promise<void> = async () => undefined;
    sides.push({
      name: "MikroORM fork({ schema })",
      single: true,
      roundRobin: true,
      cold: true,
      async open() {
        const orm = await openMikroOrm(request.url, request.maxConnections);
        close = () => orm.close();
        return (tenant, id) => orm.read(benchSchemaOf(tenant), id);
      },
      close: () => close(),
    });
  }
  return sides;
}

async function measureSide(
  side: Side,
  request: TenantSidesRequest,
  tenants: readonly string[],
  coldTenants: readonly string[],
): Promise<SideFigures> {
  const read = await side.open();
  try {
    const checked = async (tenant: string, index: number) => {
      const id = (index % request.rowsPerTenant) + 1;
      const row = await read(tenant, id);
      if (row?.tenant !== tenant || row.id !== id) {
        throw new Error(`${side.name}: tenant ${tenant} read ${JSON.stringify(row)} for id ${id}`);
      }
    };
    const timed = async (tenant: string) => {
      const started = process.hrtime.bigint();
      await checked(tenant, 0);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const workload = async (tenantOf: (index: number) => string) => {
      const cpuBefore = process.cpuUsage();
      const result = await runClosedLoop(request.reads, request.maxConnections, (index) =>
        checked(tenantOf(index), index),
      );
      const cpu = process.cpuUsage(cpuBefore);
      return {
        msPerRead: result.durationMs / request.reads,
        cpuMsPerRead: (cpu.user + cpu.system) / 1000 / request.reads,
      };
    };
    const figures: { -readonly [K in keyof SideFigures]: SideFigures[K] } = {};
    // Opens the pool's first connection before anything is timed.
    await checked(tenants[0], 0);
    if (side.cold) {
      // Untimed first: the code that opens a tenant runs warm (JIT) in the timed reads, as in
      // a process that has served for a while. These tenants are not timed.
      for (const tenant of tenants.slice(1, 1 + COLD_WARMUP)) await checked(tenant, 0);
      const cold: number[] = [];
      const warm: number[] = [];
      for (const tenant of coldTenants) {
        cold.push(await timed(tenant));
        warm.push(await timed(tenant));
      }
      figures.coldMs = quantile(cold, 0.5);
      figures.warmMs = quantile(warm, 0.5);
      // Paired: each tenant's extra, so one slow read spoils one pair, not a median.
      figures.coldExtraMs = quantile(
        cold.map((ms, index) => ms - warm[index]),
        0.5,
      );
    }
    if (side.single) {
      await runClosedLoop(Math.min(request.reads, 2000), request.maxConnections, (index) =>
        checked(tenants[0], index),
      );
      const single = await workload(() => tenants[0]);
      figures.singleMsPerRead = single.msPerRead;
      figures.singleCpuMsPerRead = single.cpuMsPerRead;
    }
    if (side.roundRobin) {
      const roundRobin = (index: number) => tenants[index % tenants.length];
      // One unmeasured pass: every tenant touched once (opened, when the side keeps them).
      await runClosedLoop(tenants.length, request.maxConnections, (index) =>
        checked(roundRobin(index), index),
      );
      const measured = await workload(roundRobin);
      figures.roundRobinMsPerRead = measured.msPerRead;
      figures.roundRobinCpuMsPerRead = measured.cpuMsPerRead;
    }
    return figures;
  } finally {
    await side.close();
  }
}

// What people write by hand: one DataSource per tenant (its own pool, its own metadata),
// opened on first use and kept in a Map. It stops at the connection cap the other sides keep
// (rather than at the server's max_connections, which other users of the server share).
async function runHandRolledMap(
  request: TenantSidesRequest,
  tenants: readonly string[],
): Promise<HandRolledMapResult> {
  const open = new Map<string, DataSource>();
  const connections = () =>
    [...open.values()].reduce(
      (sum, dataSource) =>
        sum + ((dataSource.driver as unknown as { master?: Pool }).master?.totalCount ?? 0),
      0,
    );
  const openAndRead: number[] = [];
  // Collects until the heap stops shrinking (the child runs with --expose-gc).
  const settledHeap = async () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let pass = 0; pass < 10; pass++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((resolve) => setImmediate(resolve));
      const used = process.memoryUsage().heapUsed;
      if (used >= previous * 0.999) break;
      previous = used;
    }
    return process.memoryUsage().heapUsed;
  };
  // From the first tenant on, so what the earlier sides left for the GC does not count.
  let heapAtFirst = 0;
  try {
    for (const tenant of tenants) {
      const started = process.hrtime.bigint();
      const dataSource = new DataSource({
        type: "postgres",
        url: request.url,
        schema: benchSchemaOf(tenant),
        entities: [BenchItem],
      });
      await dataSource.initialize();
      open.set(tenant, dataSource);
      const row = await dataSource.getRepository(BenchItem).findOneBy({ id: 1 });
      if (row?.tenant !== tenant) throw new Error(`hand-rolled Map: ${tenant} read ${row?.tenant}`);
      openAndRead.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (open.size === 1) heapAtFirst = await settledHeap();
      if (connections() > request.maxConnections) break;
    }
    return {
      tenantsOpened: open.size,
      connectionsAtStop: connections(),
      openAndReadMs: quantile(openAndRead, 0.5),
      heapPerTenant: ((await settledHeap()) - heapAtFirst) / Math.max(1, open.size - 1),
    };
  } finally {
    await Promise.allSettled([...open.values()].map((dataSource) => dataSource.destroy()));
  }
}

childMain(module, runTenantSides);
