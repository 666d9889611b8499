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

/** A Markdown table; `right` marks the columns to right-align. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[] = [],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = header.map((_, index) => (right[index] ? "---:" : "---"));
  return [line(header), line(rule), ...rows.map(line)].join("\n");
}

/** `text (met)` or `text (MISSED)`. */
export function goalCell(met: boolean, text: string): string {
  return `${text} ${met ? "(met)" : "(MISSED)"}`;
}

/** Milliseconds with two decimals below 10 ms, one below 100 ms, none above. */
export function formatMs(ms: number): string {
  const digits = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${ms.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })} ms`;
}

/** Bytes in MB (10^6 bytes), one decimal. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Bytes in KB (10^3 bytes), one decimal. */
export function formatKilobytes(bytes: number): string {
  return `${(bytes / 1e3).toFixed(1)} KB`;
}

/** A whole number with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}
