import { DataSource, type DataSourceOptions } from "typeorm";
import { TenantRouter, withTenant } from "typeorm-router";
import { BenchRow } from "./bench-row.entity";

/** The tenant the routed side runs as. */
export const BENCH_TENANT = "bench";

/** Where each side's database is: the same driver, three separate databases. */
export interface BenchTargetsOptions {
  /** Options of the plain side's database (without entities or synchronize). */
  readonly plain: DataSourceOptions;
  /** Options of the routed side's database, given to the router as the tenant's options. */
  readonly routed: DataSourceOptions;
  /** Options of a third database, used by a second plain DataSource (the A/A control). */
  readonly control: DataSourceOptions;
  /** Rows to insert on each side before measuring, with ids 1..seedRows. */
  readonly seedRows: number;
}

/** A plain DataSource, a router and a control DataSource, over three databases alike. */
export interface BenchTargets {
  readonly plain: DataSource;
  readonly router: TenantRouter;
  /** A second plain DataSource, to measure plain against plain (the noise floor). */
  readonly control: DataSource;
  /** Closes the router and both plain DataSources. */
  close(): Promise<void>;
}

const SEED_CHUNK = 250;

/**
 * Opens a plain TypeORM DataSource, a TenantRouter whose only tenant, `bench`, has its
 * database at `options.routed`, and a control DataSource (synchronize: true on all three),
 * then seeds the same rows on each through its own API.
 */
export async function openBenchTargets(options: BenchTargetsOptions): Promise<BenchTargets> {
  const plain = new DataSource({ ...options.plain, entities: [BenchRow], synchronize: true });
  const control = new DataSource({ ...options.control, entities: [BenchRow], synchronize: true });
  let router: TenantRouter | undefined;
  try {
    await plain.initialize();
    await control.initialize();
    router = await TenantRouter.create({
      entities: [BenchRow],
      // `default` is required but holds no entity here, so it is never opened.
      databases: { default: options.routed },
      tenants: {
        list: [BENCH_TENANT],
        options: () => ({ ...options.routed, synchronize: true }),
      },
    });
    const routedRows = router.getRepository(BenchRow);
    for (const chunk of seedChunks(options.seedRows)) {
      await plain.getRepository(BenchRow).insert(chunk);
      await control.getRepository(BenchRow).insert(chunk);
      await withTenant(BENCH_TENANT, () => routedRows.insert(chunk));
    }
  } catch (error) {
    await closeAll(router, plain, control);
    throw error;
  }
  const opened = router;
  return { plain, router: opened, control, close: () => closeAll(opened, plain, control) };
}

// Closes everything that was opened, even when closing one of them fails.
async function closeAll(
  router: TenantRouter | undefined,
  ...dataSources: DataSource[]
): Promise<void> {
  const results = await Promise.allSettled([
    router?.close(),
    ...dataSources.map((dataSource) => dataSource.isInitialized && dataSource.destroy()),
  ]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

function* seedChunks(rows: number): Generator<Array<Pick<BenchRow, "label" | "value">>> {
  for (let start = 0; start < rows; start += SEED_CHUNK) {
    const size = Math.min(SEED_CHUNK, rows - start);
    yield Array.from({ length: size }, (_, offset) => ({
      label: `seed-${start + offset + 1}`,
      value: start + offset + 1,
    }));
  }
}
