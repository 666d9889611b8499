import type { DataSource, EntitySubscriberInterface } from "typeorm";

// The event methods of a subscriber, with the position of their event argument.
const EVENT_ARGUMENT = new Map<string, number>([
  ["afterLoad", 1],
  ...[
    "beforeQuery",
    "afterQuery",
    "beforeInsert",
    "afterInsert",
    "beforeUpdate",
    "afterUpdate",
    "beforeRemove",
    "afterRemove",
    "beforeSoftRemove",
    "afterSoftRemove",
    "beforeRecover",
    "afterRecover",
    "beforeTransactionStart",
    "afterTransactionStart",
    "beforeTransactionCommit",
    "afterTransactionCommit",
    "beforeTransactionRollback",
    "afterTransactionRollback",
  ].map((name): [string, number] => [name, 0]),
]);

type Subscriber = EntitySubscriberInterface & Record<string, unknown>;
type Method = (...args: unknown[]) => unknown;

// The DataSource the events of each adopted DataSource report (its router's), looked up by
// the firing DataSource or what it is made from (a schema's view, the union of a router's
// groups). Process-wide, as subscriber instances may be: TypeORM 0.3 keeps one per class in
// its container, which two routers (one after the other, in tests) then share.
const REPORTED_AS = new WeakMap<object, () => DataSource | undefined>();
// Subscriber instances whose event methods are wrapped (once, whichever router came first).
const WRAPPED = new WeakSet<object>();

/**
 * One instance of each subscriber class for every DataSource of a router (TypeORM 0.3 kept one
 * per class in its container; 1.x makes one per DataSource). The router is one DataSource to
 * its users: `router.manager.connection.subscribers` are the instances that receive the events
 * of every database, whichever tenant DataSource fires them, and each event's `dataSource`
 * (and `connection`) is that routed DataSource, so what a subscriber runs through it routes
 * like any other call. The event's `manager` and `queryRunner` stay the firing connection's,
 * as TypeORM gives them (the transaction's, during one).
 */
export class SharedSubscribers {
  readonly #instances = new Map<unknown, EntitySubscriberInterface>();
  #routed: (() => DataSource) | undefined;

  /** Makes every event carry `dataSource()` (the router's DataSource) from now on. */
  reportEventsOn(dataSource: () => DataSource): void {
    this.#routed = dataSource;
  }

  /**
   * Makes `dataSource` use the shared instances: once it has built its subscribers (in
   * `initialize()`, before anything can fire an event), each is replaced by the instance of
   * its class made first by any DataSource of the router.
   */
  adopt(dataSource: DataSource): void {
    REPORTED_AS.set(dataSource, () => this.#routed?.());
    const target = dataSource as unknown as { buildMetadatas(): Promise<void> };
    const build = target.buildMetadatas.bind(dataSource);
    target.buildMetadatas = async () => {
      await build();
      const subscribers = dataSource.subscribers;
      for (let index = 0; index < subscribers.length; index++) {
        const type = subscribers[index].constructor;
        const known = this.#instances.get(type);
        if (known) subscribers[index] = known;
        else this.#instances.set(type, this.#routeEvents(subscribers[index] as Subscriber));
      }
    };
  }

  // Wraps each event method of `subscriber` (own properties: the instance stays the same
  // object) so that its event names the routed DataSource. The method it calls is looked up
  // at each call, so a spy installed later on the class's prototype still sees the events.
  #routeEvents(subscriber: Subscriber): Subscriber {
    if (WRAPPED.has(subscriber)) return subscriber;
    WRAPPED.add(subscriber);
    for (const [name, position] of EVENT_ARGUMENT) {
      if (typeof subscriber[name] !== "function") continue;
      const own = Object.getOwnPropertyDescriptor(subscriber, name)?.value as Method | undefined;
      Object.defineProperty(subscriber, name, {
        configurable: true,
        writable: true,
        value: function (this: unknown, ...args: unknown[]): unknown {
          const event = args[position];
          if (event && typeof event === "object") reportRouted(event as Record<string, unknown>);
          const method = own ?? (Reflect.get(Object.getPrototypeOf(subscriber), name) as Method);
          return method.apply(this, args);
        },
      });
    }
    return subscriber;
  }
}

// Sets the event's `dataSource` and `connection` to the router's DataSource of the one that
// fired it (left as they are for a DataSource no router adopted).
function reportRouted(event: Record<string, unknown>): void {
  const firing = (event.dataSource ?? event.connection) as object | undefined;
  for (let source = firing; source; source = Object.getPrototypeOf(source) as object | undefined) {
    const reported = REPORTED_AS.get(source);
    if (!reported) continue;
    const routed = reported();
    if (routed) event.dataSource = event.connection = routed;
    return;
  }
}
