import type { DataSource, EntityManager, QueryRunner, ReplicationMode } from "typeorm";

/**
 * A DataSource that shares everything with `base` (driver, pool, metadata, subscribers) but
 * whose query runners are passed through `scope` first: a tenant of a shared database costs
 * this small object, not a DataSource of its own. Closing it closes nothing (the base is
 * closed by its owner).
 */
export function createDataSourceView(
  base: DataSource,
  scope: (queryRunner: QueryRunner) => QueryRunner,
): DataSource {
  const view = Object.create(base) as DataSource;
  let manager: EntityManager | undefined;
  Object.defineProperties(view, {
    createQueryRunner: {
      value: (mode?: ReplicationMode) => scope(base.createQueryRunner(mode)),
    },
    manager: { get: () => (manager ??= view.createEntityManager()) },
    destroy: { value: () => Promise.resolve() },
  });
  return view;
}
