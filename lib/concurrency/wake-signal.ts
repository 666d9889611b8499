/**
 * Callers waiting for "something changed" (a slot freed, a connection given back), each until
 * the next {@link wakeAll} or its own timeout, whichever comes first.
 */
export class WakeSignal {
  readonly #waiters = new Set<() => void>();

  /** Whether anyone waits. */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /** Resolves at the next {@link wakeAll}, or after `timeoutMs` (never, when omitted). */
  next(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** Wakes every caller waiting now. */
  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
