/** The links a {@link RecencyList} keeps in its items (an item is in one list at most). */
export interface RecencyLinks<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * Items in the order they were last pushed, least recent first, linked through the items
 * themselves: push, remove and reading the oldest are O(1), and an item costs two fields
 * where a `Map` would cost a table entry (the pool keeps every idle open tenant in one).
 */
export class RecencyList<T extends RecencyLinks<T>> {
  #oldest: T | undefined;
  #newest: T | undefined;

  /** The least recently pushed item. */
  get oldest(): T | undefined {
    return this.#oldest;
  }

  /** Whether `item` is in this list. */
  has(item: T): boolean {
    return item.older !== undefined || this.#oldest === item;
  }

  /** Puts `item` last (the most recent), taking it out of its current place first. */
  push(item: T): void {
    this.remove(item);
    item.older = this.#newest;
    if (this.#newest) this.#newest.newer = item;
    else this.#oldest = item;
    this.#newest = item;
  }

  /** Takes `item` out of the list; does nothing when it is not in it. */
  remove(item: T): void {
    if (!this.has(item)) return;
    if (item.older) item.older.newer = item.newer;
    else this.#oldest = item.newer;
    if (item.newer) item.newer.older = item.older;
    else this.#newest = item.older;
    item.older = undefined;
    item.newer = undefined;
  }

  /** The items from the least recent on. */
  *fromOldest(): IterableIterator<T> {
    for (let item = this.#oldest; item; item = item.newer) yield item;
  }
}
