/** One side of a comparison: runs `count` operations back to back, each awaited. */
export interface Side {
  run(count: number): Promise<void>;
}

/** How long and how often to measure. */
export interface MeasureSettings {
  /** Warm-up time per side, spent before any timing counts (JIT, caches, connections). */
  readonly warmupMs: number;
  /**
   * Aimed duration of one batch on the plain side; the batch size is calibrated from it.
   * Short batches keep the two halves of a round close in time, so a burst of load from
   * another process usually spoils a whole round (which the median discards) rather than
   * one side of many.
   */
  readonly batchMs: number;
  /** Measuring time for both sides together, after the warm-up. */
  readonly measureMs: number;
  /** Rounds to run even when `measureMs` has passed. */
  readonly minRounds: number;
}

/** The outcome of comparing a routed side with a plain side. */
export interface Comparison {
  /** Median over rounds of the plain side's operations per second. */
  readonly plainOpsPerSecond: number;
  /** Median over rounds of the routed side's operations per second. */
  readonly routedOpsPerSecond: number;
  /** Median over rounds of (routed time per operation) / (plain time per operation). */
  readonly ratio: number;
  /** Lower end of the 95% confidence interval of the median ratio. */
  readonly ratioLow: number;
  /** Upper end of the 95% confidence interval of the median ratio. */
  readonly ratioHigh: number;
  /** Operations per batch, per side. */
  readonly batchSize: number;
  /** Measured rounds. */
  readonly rounds: number;
}

// Small enough to alternate often during warm-up, large enough that timer cost is noise.
const WARMUP_CHUNK = 10;
// A batch still averages a few operations when one operation takes longer than `batchMs`.
const MIN_BATCH = 4;

/**
 * Measures `routed` against `plain` with interleaved batches, so machine noise (other
 * processes, GC, CPU frequency, disk) hits both sides alike: a warm-up that alternates the
 * sides, then rounds of one batch per side for `measureMs`, alternating which side goes
 * first (ABBA), and the median of the per-round ratios.
 */
export async function compare(
  plain: Side,
  routed: Side,
  settings: MeasureSettings,
): Promise<Comparison> {
  const batchSize = await warmUp(plain, routed, settings);
  const plainRates: number[] = [];
  const routedRates: number[] = [];
  const ratios: number[] = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(settings.measureMs * 1e6));
  for (let round = 0; round < settings.minRounds || process.hrtime.bigint() < deadline; round++) {
    let plainNs: number;
    let routedNs: number;
    if (round % 2 === 0) {
      plainNs = await timeBatch(plain, batchSize);
      routedNs = await timeBatch(routed, batchSize);
    } else {
      routedNs = await timeBatch(routed, batchSize);
      plainNs = await timeBatch(plain, batchSize);
    }
    plainRates.push((batchSize * 1e9) / plainNs);
    routedRates.push((batchSize * 1e9) / routedNs);
    ratios.push(routedNs / plainNs);
  }
  return {
    plainOpsPerSecond: quantile(plainRates, 0.5),
    routedOpsPerSecond: quantile(routedRates, 0.5),
    ratio: quantile(ratios, 0.5),
    ...medianConfidenceInterval(ratios),
    batchSize,
    rounds: ratios.length,
  };
}

/**
 * The `q`-quantile of `values` (0 ≤ q ≤ 1), interpolating linearly between ranks.
 *
 * @throws Error when `values` is empty.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantile() of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * A distribution-free 95% confidence interval of the median of `values`: the order
 * statistics at ranks n/2 ∓ 1.96·√n/2 (normal approximation of the binomial).
 *
 * @throws Error when `values` is empty.
 */
export function medianConfidenceInterval(values: readonly number[]): {
  ratioLow: number;
  ratioHigh: number;
} {
  if (values.length === 0) throw new Error("medianConfidenceInterval() of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const spread = (1.96 * Math.sqrt(n)) / 2;
  const low = Math.max(0, Math.floor(n / 2 - spread) - 1);
  const high = Math.min(n - 1, Math.ceil(n / 2 + spread) - 1);
  return { ratioLow: sorted[low], ratioHigh: sorted[high] };
}

// Alternates small chunks of both sides until each has run `warmupMs`, and returns the batch
// size that makes one plain batch last about `batchMs`, from the median chunk of the second
// half of the warm-up (a median, so that a chunk slowed by another process does not count).
async function warmUp(plain: Side, routed: Side, settings: MeasureSettings): Promise<number> {
  let plainNs = 0;
  let routedNs = 0;
  const lateChunksNs: number[] = [];
  const budgetNs = settings.warmupMs * 1e6;
  while (plainNs < budgetNs || routedNs < budgetNs) {
    const chunkNs = await timeBatch(plain, WARMUP_CHUNK);
    plainNs += chunkNs;
    routedNs += await timeBatch(routed, WARMUP_CHUNK);
    if (plainNs >= budgetNs / 2) lateChunksNs.push(chunkNs);
  }
  const nsPerOp = quantile(lateChunksNs, 0.5) / WARMUP_CHUNK;
  return Math.max(MIN_BATCH, Math.round((settings.batchMs * 1e6) / nsPerOp));
}

async function timeBatch(side: Side, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  await side.run(count);
  return Number(process.hrtime.bigint() - start);
}
