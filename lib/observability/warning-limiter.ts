/** What {@link WarningLimiter.take} decided for one warning. */
export interface WarningDecision {
  /** Whether to write this warning. */
  readonly write: boolean;
  /** When written: how many warnings with the same key were dropped since the last one. */
  readonly suppressed: number;
}

interface Window {
  until: number;
  suppressed: number;
}

// Bounds memory when many distinct keys (tenants) warn: expired windows are swept first.
const MAX_KEYS = 10_000;

/**
 * Lets one warning per key through per interval and counts the others, so that an outage of
 * one tenant's server writes one line per interval, not one per failed call.
 */
export class WarningLimiter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decides whether the warning with `key` is written now. */
  take(key: string): WarningDecision {
    const now = this.now();
    const window = this.#windows.get(key);
    if (window && now < window.until) {
      window.suppressed++;
      return { write: false, suppressed: 0 };
    }
    const suppressed = window?.suppressed ?? 0;
    if (!window && this.#windows.size >= MAX_KEYS) this.#sweep(now);
    this.#windows.set(key, { until: now + this.intervalMs, suppressed: 0 });
    return { write: true, suppressed };
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now >= window.until) this.#windows.delete(key);
    }
    // Still full: every key warned within the interval; forget the oldest.
    if (this.#windows.size >= MAX_KEYS) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
  }
}
