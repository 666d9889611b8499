import type { DataSource, QueryRunner } from "typeorm";

type QueryResultCache = NonNullable<DataSource["queryResultCache"]>;
type CacheOptions = Parameters<QueryResultCache["getFromCache"]>[0];

/**
 * Keeps `dataSource`'s query result cache (`cache: true`, Redis, a custom provider) apart per
 * database: every cache identifier and query key is prefixed with `key()` (a target's key, or
 * the tenant in context for a DataSource that serves many), so two tenants running the same
 * SQL (the same text, with a shared metadata set) never read each other's cached rows. A
 * `remove(["id"])` removes the entry of the same key. Does nothing when caching is off.
 */
export function keyCacheBy(dataSource: DataSource, key: () => string | undefined): void {
  const cache = dataSource.queryResultCache;
  if (!cache) return;
  const keyed = (value: string | undefined, prefix: string | undefined) =>
    value === undefined || prefix === undefined ? value : `${prefix}|${value}`;
  const withKey = (options: CacheOptions): CacheOptions => {
    const prefix = key();
    return prefix === undefined
      ? options
      : {
          ...options,
          identifier: keyed(options.identifier, prefix),
          query: keyed(options.query, prefix),
        };
  };
  const wrapper = Object.create(cache, {
    getFromCache: {
      value: (options: CacheOptions, queryRunner?: QueryRunner) =>
        cache.getFromCache(withKey(options), queryRunner),
    },
    storeInCache: {
      value: (options: CacheOptions, saved: CacheOptions | undefined, queryRunner?: QueryRunner) =>
        cache.storeInCache(withKey(options), saved, queryRunner),
    },
    remove: {
      value: (identifiers: string[], queryRunner?: QueryRunner) => {
        const prefix = key();
        return cache.remove(
          identifiers.map((identifier) => keyed(identifier, prefix)!),
          queryRunner,
        );
      },
    },
  }) as QueryResultCache;
  Object.defineProperty(dataSource, "queryResultCache", {
    value: wrapper,
    writable: true,
    configurable: true,
  });
}
