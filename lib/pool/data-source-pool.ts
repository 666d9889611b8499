import type { DataSource } from "typeorm";
import { WakeSignal } from "../concurrency/wake-signal";
import type { DatabaseTarget } from "../routing/database-target";
import { PoolExhaustedError, RouterClosedError, messageOf } from "../errors";
import type { ChannelLog } from "../observability/router-log";
import { span } from "../observability/tracing";
import { RecencyList, type RecencyLinks } from "./recency-list";

/** A DataSource held open for the duration of some work; call `release()` when done. */
export interface Lease {
  readonly dataSource: DataSource;
  release(): void;
}

/** Limits of the tenant DataSource pool. */
export interface PoolOptions {
  /** Most tenant DataSources open at once; idle ones are evicted beyond it. Default 100. */
  readonly maxOpenTenants?: number;
  /** Close a tenant DataSource unused for this long; 0 never does. Default 300000 (5 min). */
  readonly idleTimeoutMs?: number;
  /** How long a call waits for a slot when every open tenant is busy. Default 30000. */
  readonly acquireTimeoutMs?: number;
  /**
   * How long `router.close()` lets work in flight (transactions, builders, streams) finish
   * before it closes the connections under it. Default 10000.
   */
  readonly closeTimeoutMs?: number;
}

/** What the pool needs from its owner. */
export interface PoolProps extends Required<PoolOptions> {
  /** Creates and initializes the DataSource of `target`; must throw a routing error on failure. */
  readonly open: (target: DatabaseTarget) => Promise<DataSource>;
  /** Destroys a DataSource from `open`, resolving once its connections are closed. */
  readonly close: (dataSource: DataSource) => Promise<void>;
  /**
   * `open` without waiting, when opening `target` needs no I/O (a known tenant's view of the
   * database its tenants share); `undefined` when it does (then `open` runs). Must refuse
   * (`undefined`) whatever `open` would refuse.
   */
  readonly openNow?: (target: DatabaseTarget) => DataSource | undefined;
  /**
   * Whether `dataSource` holds nothing to close (a view of a DataSource owned elsewhere): the
   * pool then drops it at once, without `close`, and its slot is free at once.
   */
  readonly holdsNothing?: (dataSource: DataSource) => boolean;
  /** The router's `pool` log channel. */
  readonly log: ChannelLog;
}

// An open tenant costs its entry: no promise or closure is kept once it is open.
interface Entry extends RecencyLinks<Entry> {
  readonly target: DatabaseTarget;
  /** Set once open. */
  dataSource: DataSource | undefined;
  refs: number;
  /** When it was last used, in ms since the pool was made (see `#now`), for idle eviction. */
  lastUsed: number;
}

/**
 * Opens DataSources on demand and keeps them: aliases for the router's lifetime, tenants in
 * an LRU capped at `maxOpenTenants` with idle eviction.
 *
 * - Single-flight: concurrent first calls for one target share one `initialize()`.
 * - Reference-counted: a DataSource in use by a call is never evicted.
 * - O(1): open tenants nobody holds sit in one intrusive list, least recently used first,
 *   so touching, evicting and sweeping never scan every open entry.
 * - Without a promise when it can: a tenant that opens with no I/O (`openNow`, a view of a
 *   shared database) opens, and one that holds nothing to close is evicted, in the calling
 *   tick; only the caller's own work is awaited.
 */
export class DataSourcePool {
  readonly #props: PoolProps;
  readonly #entries = new Map<string, Entry>();
  // Open tenant entries with no reference, least recently released first: the LRU order.
  readonly #idle = new RecencyList<Entry>();
  // Entries being opened: what their other callers wait for (only while they open).
  readonly #opening = new Map<Entry, Promise<DataSource>>();
  readonly #changed = new WakeSignal();
  // Closes in progress: their slots count as open until the DataSource is really closed.
  readonly #closing = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout | undefined;
  #openTenants = 0;
  #closed = false;
  readonly #epoch = Date.now();

  constructor(props: PoolProps) {
    this.#props = props;
    if (props.idleTimeoutMs > 0) {
      const every = Math.max(Math.min(props.idleTimeoutMs / 2, 60_000), 50);
      // Failures are reported as warnings by #destroy; nothing else to do with them here.
      this.#sweeper = setInterval(() => void this.#sweepIdle().catch(() => undefined), every);
      this.#sweeper.unref();
    }
  }

  /** Runs `fn` with the DataSource of `target`, holding it open until `fn` settles. */
  use<T>(target: DatabaseTarget, fn: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const entry = this.#entries.get(target.key);
    if (entry?.dataSource !== undefined && !this.#closed)
      return this.#run(entry, entry.dataSource, fn);
    const openedNow = entry === undefined ? this.#openNow(target) : undefined;
    if (openedNow) return this.#run(openedNow, openedNow.dataSource!, fn, true);
    return this.#acquireEntry(target).then((opened) =>
      this.#run(opened, opened.dataSource!, fn, true),
    );
  }

  /** Holds the DataSource of `target` open until the lease is released. */
  async acquire(target: DatabaseTarget): Promise<Lease> {
    return this.#lease(await this.#acquireEntry(target));
  }

  /**
   * {@link acquire} without waiting: the lease when `target`'s DataSource is open right now
   * or opens without I/O (see `PoolProps.openNow`), else `undefined` (opening it, or the pool
   * closed: `acquire` then says how it goes).
   */
  tryAcquire(target: DatabaseTarget): Lease | undefined {
    if (this.#closed) return undefined;
    const entry = this.#entries.get(target.key);
    if (entry === undefined) {
      const opened = this.#openNow(target);
      return opened && this.#lease(opened);
    }
    if (entry.dataSource === undefined) return undefined;
    this.#hold(entry);
    return this.#lease(entry);
  }

  #lease(entry: Entry): Lease {
    let released = false;
    return {
      dataSource: entry.dataSource!,
      release: () => {
        if (released) return;
        released = true;
        this.#release(entry);
      },
    };
  }

  /** Counts of open DataSources, for monitoring and tests. */
  stats(): { open: number; openTenants: number; inUse: number; keys: string[] } {
    const entries = [...this.#entries.values()];
    return {
      open: entries.length,
      openTenants: this.#openTenants,
      inUse: entries.filter((entry) => entry.refs > 0).length,
      keys: entries.map((entry) => entry.target.key),
    };
  }

  /**
   * Takes `target` out of the pool at once (new calls open it afresh) and closes its
   * DataSource once the calls using it have finished (e.g. before dropping a tenant).
   */
  async evict(target: DatabaseTarget): Promise<void> {
    const entry = this.#entries.get(target.key);
    if (entry) await this.#close(entry, true);
  }

  /** Closes every DataSource; later calls throw `RouterClosedError`. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#wakeAll();
    // New work is refused from here (RouterClosedError); work in flight may finish first.
    await this.#drain(Date.now() + this.#props.closeTimeoutMs);
    const errors: unknown[] = [];
    for (const entry of [...this.#entries.values()]) this.#close(entry);
    await Promise.all([...this.#closing].map((closing) => closing.catch((e) => errors.push(e))));
    if (errors.length > 0) throw errors[0];
  }

  // Waits until no entry is held, or until `deadline`.
  async #drain(deadline: number): Promise<void> {
    const held = () => [...this.#entries.values()].some((entry) => entry.refs > 0);
    while (held() && Date.now() < deadline) {
      await this.#changed.next(Math.max(0, Math.min(100, deadline - Date.now())));
    }
  }

  #run<T>(
    entry: Entry,
    dataSource: DataSource,
    fn: (dataSource: DataSource) => Promise<T>,
    alreadyCounted = false,
  ): Promise<T> {
    if (!alreadyCounted) this.#hold(entry);
    let result: Promise<T>;
    try {
      result = fn(dataSource);
    } catch (error) {
      this.#release(entry);
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        this.#release(entry);
        return value;
      },
      (error: unknown) => {
        this.#release(entry);
        throw error;
      },
    );
  }

  // Returns the entry with one reference taken for the caller.
  async #acquireEntry(target: DatabaseTarget): Promise<Entry> {
    const startedAt = Date.now();
    for (;;) {
      if (this.#closed) throw RouterClosedError.used(`open ${target.description}`);
      const existing = this.#entries.get(target.key);
      if (existing) {
        this.#hold(existing);
        const opening = this.#opening.get(existing);
        if (opening) {
          try {
            await opening;
          } catch (error) {
            existing.refs--;
            throw error;
          }
        }
        return existing;
      }
      const openedNow = this.#openNow(target);
      if (openedNow) return openedNow;
      if (target.kind === "tenant" && this.#openTenants >= this.#props.maxOpenTenants) {
        if (!(await this.#evictLeastRecentlyUsed())) await this.#waitLogged(target, startedAt);
        continue;
      }
      return this.#openEntry(target);
    }
  }

  // Opens `target` in this tick when its owner can (PoolProps.openNow) and a slot is free, or
  // the least recently used tenant holds nothing to close (then dropped for it): the entry,
  // held once; `undefined` when that cannot be done without waiting.
  #openNow(target: DatabaseTarget): Entry | undefined {
    const openNow = this.#props.openNow;
    if (openNow === undefined || this.#closed || this.#entries.has(target.key)) return undefined;
    let evicted: Entry | undefined;
    if (target.kind === "tenant" && this.#openTenants >= this.#props.maxOpenTenants) {
      evicted = this.#idle.oldest;
      if (evicted === undefined || !this.#holdsNothing(evicted)) return undefined;
    }
    const dataSource = openNow(target);
    if (dataSource === undefined) return undefined;
    if (evicted) this.#forget(evicted);
    return this.#addEntry(target, dataSource);
  }

  // A new entry of `target`, held once; `dataSource` is undefined while it opens.
  #addEntry(target: DatabaseTarget, dataSource: DataSource | undefined): Entry {
    const entry: Entry = {
      target,
      dataSource,
      refs: 1,
      lastUsed: this.#now(),
      older: undefined,
      newer: undefined,
    };
    this.#entries.set(target.key, entry);
    if (target.kind === "tenant") this.#openTenants++;
    return entry;
  }

  #holdsNothing(entry: Entry): boolean {
    return entry.dataSource !== undefined && this.#props.holdsNothing?.(entry.dataSource) === true;
  }

  async #openEntry(target: DatabaseTarget): Promise<Entry> {
    const entry = this.#addEntry(target, undefined);
    const opening = this.#open(entry);
    this.#opening.set(entry, opening);
    try {
      await opening;
    } finally {
      this.#opening.delete(entry);
    }
    return entry;
  }

  async #open(entry: Entry): Promise<DataSource> {
    let dataSource: DataSource;
    try {
      dataSource = await this.#props.open(entry.target);
    } catch (error) {
      this.#forget(entry);
      throw error;
    }
    if (this.#closed) {
      this.#forget(entry);
      await this.#props.close(dataSource);
      throw RouterClosedError.used(`open ${entry.target.description}`);
    }
    entry.dataSource = dataSource;
    return dataSource;
  }

  #hold(entry: Entry): void {
    if (entry.refs++ === 0) this.#idle.remove(entry);
  }

  #release(entry: Entry): void {
    entry.lastUsed = this.#now();
    if (--entry.refs > 0) return;
    if (entry.target.kind === "tenant" && this.#entries.get(entry.target.key) === entry) {
      // Pushed last: the list stays in least-recently-used order.
      this.#idle.push(entry);
    }
    if (this.#changed.waiting) this.#wakeAll();
  }

  async #evictLeastRecentlyUsed(): Promise<boolean> {
    const oldest = this.#idle.oldest;
    if (!oldest) return false;
    await this.#close(oldest);
    return true;
  }

  async #sweepIdle(): Promise<void> {
    const cutoff = this.#now() - this.#props.idleTimeoutMs;
    const idle: Entry[] = [];
    for (const entry of this.#idle.fromOldest()) {
      // Released in order, so the first entry used after the cutoff ends the run.
      if (entry.lastUsed >= cutoff) break;
      idle.push(entry);
    }
    await Promise.all(idle.map((entry) => this.#close(entry)));
  }

  // Removes the entry now; frees its slot only once its DataSource is really closed, so the
  // process never holds more connections than the cap allows.
  // An entry nobody holds whose DataSource holds nothing to close is dropped at once.
  #close(entry: Entry, waitForIdle = false): Promise<void> {
    if (this.#entries.get(entry.target.key) !== entry) return Promise.resolve();
    if (entry.refs === 0 && this.#holdsNothing(entry)) {
      this.#forget(entry);
      return Promise.resolve();
    }
    this.#entries.delete(entry.target.key);
    this.#idle.remove(entry);
    const closing = this.#destroy(entry, waitForIdle).finally(() => {
      this.#closing.delete(closing);
      if (entry.target.kind === "tenant") this.#openTenants--;
      this.#wakeAll();
    });
    this.#closing.add(closing);
    return closing;
  }

  async #destroy(entry: Entry, waitForIdle: boolean): Promise<void> {
    while (waitForIdle && entry.refs > 0 && !this.#closed) await this.#changed.next();
    const dataSource = entry.dataSource ?? (await this.#opening.get(entry)?.catch(() => undefined));
    if (!dataSource?.isInitialized) return;
    try {
      await this.#props.close(dataSource);
    } catch (error) {
      // Closing is best effort for evictions: report it, never hide it.
      this.#props.log.warn(
        "TYPEORM_ROUTER_CLOSE_FAILED",
        `closing ${entry.target.description} failed: ${messageOf(error)}`,
        {
          database: entry.target.key,
          ...(entry.target.kind === "tenant" && { tenant: entry.target.name }),
        },
      );
      if (this.#closed) throw error;
    }
  }

  #forget(entry: Entry): void {
    if (this.#entries.get(entry.target.key) !== entry) return;
    this.#entries.delete(entry.target.key);
    this.#idle.remove(entry);
    if (entry.target.kind === "tenant") this.#openTenants--;
    if (this.#changed.waiting) this.#wakeAll();
  }

  // Every open tenant is busy: wait for a slot, in a span and a debug record of the wait.
  #waitLogged(target: DatabaseTarget, startedAt: number): Promise<void> {
    const waitedFrom = Date.now();
    return span(
      "typeorm_router.pool.wait",
      { tenant: target.kind === "tenant" ? target.name : undefined, database: target.key },
      () => this.#waitForSlot(target, startedAt),
    ).finally(() => {
      if (this.#props.log.debugEnabled) {
        this.#props.log.debug(`waited for a slot for ${target.description}`, {
          database: target.key,
          durationMs: Date.now() - waitedFrom,
        });
      }
    });
  }

  #waitForSlot(target: DatabaseTarget, startedAt: number): Promise<void> {
    const remaining = this.#props.acquireTimeoutMs - (Date.now() - startedAt);
    if (remaining <= 0) {
      return Promise.reject(
        PoolExhaustedError.timedOut(
          target.description,
          this.#props.maxOpenTenants,
          this.#props.acquireTimeoutMs,
        ),
      );
    }
    return this.#changed.next(remaining);
  }

  // Milliseconds since the pool was made: a small integer (a V8 Smi, for 24 days), which an
  // entry holds inline where Date.now() would need a heap number per open tenant.
  #now(): number {
    // Math.floor: a difference of two Date.now() is a heap number even when integral.
    return Math.floor(Date.now() - this.#epoch);
  }

  #wakeAll(): void {
    this.#changed.wakeAll();
  }
}
