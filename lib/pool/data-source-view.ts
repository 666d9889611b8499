import type { DataSource, EntityManager, QueryRunner, ReplicationMode } from "typeorm";
import { RdbmsSchemaBuilder } from "typeorm/schema-builder/RdbmsSchemaBuilder";

/**
 * A DataSource that shares everything with `base` (driver, pool, metadata, subscribers) but
 * whose query runners are created by `createQueryRunner` (e.g. scoped to a tenant's schema):
 * a tenant of a shared database costs this small object, not a DataSource of its own. Its
 * schema builder (synchronize, verify) runs on its own runners too. Closing it closes nothing
 * (the base is closed by its owner).
 */
export function createDataSourceView(
  base: DataSource,
  createQueryRunner: (mode?: ReplicationMode) => QueryRunner,
): DataSource {
  const view = Object.create(base) as DataSource;
  let manager: EntityManager | undefined;
  const driver = Object.create(base.driver, {
    createSchemaBuilder: { value: () => new RdbmsSchemaBuilder(view) },
  }) as DataSource["driver"];
  Object.defineProperties(view, {
    createQueryRunner: { value: createQueryRunner },
    driver: { value: driver },
    manager: { get: () => (manager ??= view.createEntityManager()) },
    destroy: { value: () => Promise.resolve() },
  });
  return view;
}
