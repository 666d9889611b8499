import type { DataSource, EntitySubscriberInterface } from "typeorm";

/**
 * One instance of each subscriber class for every DataSource of a router (TypeORM 0.3 kept one
 * per class in its container; 1.x makes one per DataSource). The router is one DataSource to
 * its users: `router.manager.connection.subscribers` are the instances that receive the events
 * of every database, whichever tenant DataSource fires them.
 */
export class SharedSubscribers {
  readonly #instances = new Map<unknown, EntitySubscriberInterface>();

  /**
   * Makes `dataSource` use the shared instances: once it has built its subscribers (in
   * `initialize()`, before anything can fire an event), each is replaced by the instance of
   * its class made first by any DataSource of the router.
   */
  adopt(dataSource: DataSource): void {
    const target = dataSource as unknown as { buildMetadatas(): Promise<void> };
    const build = target.buildMetadatas.bind(dataSource);
    target.buildMetadatas = async () => {
      await build();
      const subscribers = dataSource.subscribers;
      for (let index = 0; index < subscribers.length; index++) {
        const type = subscribers[index].constructor;
        const known = this.#instances.get(type);
        if (known) subscribers[index] = known;
        else this.#instances.set(type, subscribers[index]);
      }
    };
  }
}
