import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Client } from "pg";

/** The peaks a {@link ResourceSampler} saw. */
export interface ResourcePeaks {
  /** Highest resident set size of this process, in bytes. */
  readonly peakRss: number;
  /** Most backends connected to the watched database at one sample. */
  readonly peakBackends: number;
  /** Samples of pg_stat_activity taken. */
  readonly samples: number;
  /**
   * CPU time the watched database's backends used while sampling, in ms, read from
   * /proc/<pid>/stat (so only when the server runs on this machine and /proc is readable).
   */
  readonly serverCpuMs: number | undefined;
}

/**
 * Samples, every `intervalMs`, this process's RSS and the PostgreSQL backends connected to one
 * database (`pg_stat_activity`, from its own connection to another database, so it never
 * counts itself), and keeps the peaks; where the server is local, it also adds up the CPU
 * time those backends used.
 */
export class ResourceSampler {
  readonly #client: Client;
  readonly #database: string;
  readonly #intervalMs: number;
  // Per backend pid: its CPU ticks when first and when last seen.
  readonly #ticks = new Map<number, { first: number; last: number }>();
  // Whether the backends' /proc entries can be read: unknown until backends are seen.
  #procReadable: boolean | undefined;
  #peakRss = 0;
  #peakBackends = 0;
  #samples = 0;
  #running = false;
  #loop: Promise<void> | undefined;

  /** `adminUrl` points at another database of the same server, e.g. `postgres`. */
  constructor(adminUrl: string, database: string, intervalMs = 20) {
    this.#client = new Client({ connectionString: adminUrl });
    this.#database = database;
    this.#intervalMs = intervalMs;
  }

  /** Connects and starts sampling. */
  async start(): Promise<void> {
    await this.#client.connect();
    await this.#sample();
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops sampling, disconnects, and returns the peaks (including one last sample). */
  async stop(): Promise<ResourcePeaks> {
    this.#running = false;
    await this.#loop;
    await this.#sample();
    await this.#client.end();
    let ticks = 0;
    for (const { first, last } of this.#ticks.values()) ticks += last - first;
    return {
      peakRss: this.#peakRss,
      peakBackends: this.#peakBackends,
      samples: this.#samples,
      serverCpuMs: this.#procReadable === true ? (ticks * 1000) / clockTicksPerSecond() : undefined,
    };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
      await this.#sample();
    }
  }

  async #sample(): Promise<void> {
    this.#peakRss = Math.max(this.#peakRss, process.memoryUsage.rss());
    const result = await this.#client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1",
      [this.#database],
    );
    this.#peakBackends = Math.max(this.#peakBackends, result.rows.length);
    this.#samples++;
    if (this.#procReadable === false) return;
    for (const { pid } of result.rows) {
      const ticks = cpuTicksOf(pid);
      // The first backends seen decide: none readable means a remote server (or no access).
      this.#procReadable ??= ticks !== undefined;
      if (ticks === undefined) continue; // e.g. a backend that just exited
      const seen = this.#ticks.get(pid);
      if (seen) seen.last = ticks;
      else this.#ticks.set(pid, { first: ticks, last: ticks });
    }
  }
}

// utime + stime of a local postgres process, in clock ticks (fields 14 and 15 of
// /proc/<pid>/stat); undefined when there is no such postgres process here.
function cpuTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (!stat.startsWith(`${pid} (postgres)`)) return undefined;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;

function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}
