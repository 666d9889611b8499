import type { DatabaseTarget } from "./database-target";
import type { ReadSession, RoutingContext } from "../context/tenant-context";

/**
 * Picks where a read of a replicated alias goes: a replica in turn, unless the context is in a
 * transaction, inside `withPrimary`, or wrote to that alias less than `stickyMs` ago
 * (read-your-writes). Writes go to the primary and open the sticky window.
 */
export class ReplicaSelector {
  readonly #next = new Map<string, number>();
  // Writes made outside any context make every out-of-context read sticky: the safe default.
  readonly #processSession: ReadSession = { primaryUntil: new Map() };

  /** The target a read of `primary` goes to in `context`. */
  readTarget(primary: DatabaseTarget, context: RoutingContext | undefined): DatabaseTarget {
    const replicas = primary.replicas!;
    if (context?.transaction || context?.primary) return primary;
    const session = context?.session ?? this.#processSession;
    const until = session.primaryUntil.get(primary.key);
    if (until !== undefined && until > Date.now()) return primary;
    const turn = this.#next.get(primary.key) ?? 0;
    this.#next.set(primary.key, (turn + 1) % replicas.length);
    return replicas[turn];
  }

  /** Opens (or extends) the read-your-writes window of `primary` in `context`. */
  recordWrite(primary: DatabaseTarget, context: RoutingContext | undefined): void {
    const session = context?.session ?? this.#processSession;
    session.primaryUntil.set(primary.key, Date.now() + (primary.stickyMs ?? 0));
  }
}
