import type { MigrationProgress } from "../migrations/migration-report";
import type { OutputStream } from "./cli-io";
import { formatDuration } from "./text-format";

// Carriage return, then "erase the whole line": the next text redraws the same line.
const CLEAR_LINE = "\r\x1b[2K";
const REDRAW_EVERY_MS = 250;

/**
 * A live progress line for a terminal: databases done of total, failures so far and elapsed
 * time, redrawn in place. Lines printed through {@link ProgressLine.print} appear above it.
 */
export class ProgressLine {
  readonly #stream: OutputStream;
  readonly #label: string;
  readonly #startedAt = Date.now();
  #progress: MigrationProgress | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: OutputStream, label: string) {
    this.#stream = stream;
    this.#label = label;
  }

  /** Draws the line and keeps its elapsed time ticking until {@link ProgressLine.stop}. */
  start(): void {
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), REDRAW_EVERY_MS);
    this.#timer.unref();
  }

  /** Redraws the line with the latest progress. */
  update(progress: MigrationProgress): void {
    this.#progress = progress;
    this.#draw();
  }

  /** Prints `line` above the progress line. */
  print(line: string): void {
    this.#stream.write(`${CLEAR_LINE}${line}\n`);
    this.#draw();
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write(CLEAR_LINE);
  }

  #draw(): void {
    const elapsed = formatDuration(Date.now() - this.#startedAt);
    const progress = this.#progress;
    const text = progress
      ? `${this.#label}  ${progress.done}/${progress.total} databases  ${progress.failed} failed  ${elapsed}`
      : `${this.#label}  starting  ${elapsed}`;
    this.#stream.write(`${CLEAR_LINE}${text}`);
  }
}
