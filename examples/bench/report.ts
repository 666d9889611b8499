import os from "node:os";
import type { Comparison } from "./measure";

/** One line of the results table. */
export interface ResultRow {
  readonly operation: string;
  readonly driver: string;
  readonly comparison: Comparison;
  /** The highest acceptable median ratio, or `undefined` when the row has no target. */
  readonly target: number | undefined;
}

/** One A/A control: the same operation on two plain DataSources. */
export interface ControlResult {
  readonly operation: string;
  readonly driver: string;
  readonly comparison: Comparison;
}

/** The results as a Markdown table, one row per operation and driver. */
export function resultsTable(rows: readonly ResultRow[]): string {
  const header = [
    "| operation | driver | plain ops/s | routed ops/s | ratio (median) | ratio 95% CI | target |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
  ];
  const lines = rows.map(({ operation, driver, comparison: c, target }) =>
    [
      "",
      operation,
      driver,
      formatRate(c.plainOpsPerSecond),
      formatRate(c.routedOpsPerSecond),
      c.ratio.toFixed(3),
      `${c.ratioLow.toFixed(3)}–${c.ratioHigh.toFixed(3)}`,
      targetCell(c.ratio, target),
      "",
    ]
      .join(" | ")
      .trim(),
  );
  return [...header, ...lines].join("\n");
}

/** The machine the numbers come from: CPU model, cores, Node version, memory, OS. */
export function machineDescription(): string {
  const cpus = os.cpus();
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return [
    `CPU: ${cpus[0]?.model.trim() ?? "unknown"}`,
    `cores: ${cpus.length}`,
    `Node ${process.version}`,
    `memory: ${memoryGiB} GiB`,
    `${os.type()} ${os.release()} ${os.arch()}`,
  ].join(", ");
}

/** One line saying how far from 1 a ratio comes with no router at all. */
export function controlLine({ operation, driver, comparison: c }: ControlResult): string {
  return (
    `${driver}, ${operation}: ratio ${c.ratio.toFixed(3)} ` +
    `(95% CI ${c.ratioLow.toFixed(3)}–${c.ratioHigh.toFixed(3)}; ` +
    `${formatRate(c.plainOpsPerSecond)} vs ${formatRate(c.routedOpsPerSecond)} ops/s)`
  );
}

function targetCell(ratio: number, target: number | undefined): string {
  if (target === undefined) return "none (router CPU overhead, reported)";
  return `≤ ${target.toFixed(2)} ${ratio <= target ? "(met)" : "(MISSED)"}`;
}

function formatRate(opsPerSecond: number): string {
  return Math.round(opsPerSecond).toLocaleString("en-US");
}
