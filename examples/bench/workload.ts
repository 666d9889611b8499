import { quantile } from "./measure";

/** Throughput and latency of a closed-loop workload. */
export interface WorkloadResult {
  readonly operations: number;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly operationsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

/**
 * Runs `operations` calls of `operation(index)` with `concurrency` workers, each starting the
 * next index as soon as its previous call settles (a closed loop), and times every call.
 *
 * @throws the first error an operation throws (the other workers stop taking new work).
 */
export async function runClosedLoop(
  operations: number,
  concurrency: number,
  operation: (index: number) => Promise<void>,
): Promise<WorkloadResult> {
  const latenciesMs = new Float64Array(operations);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < operations) {
      const index = next++;
      const start = process.hrtime.bigint();
      try {
        await operation(index);
      } catch (error) {
        failed = true;
        throw error;
      }
      latenciesMs[index] = Number(process.hrtime.bigint() - start) / 1e6;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const sorted = Array.from(latenciesMs);
  return {
    operations,
    concurrency,
    durationMs,
    operationsPerSecond: (operations * 1000) / durationMs,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
  };
}
