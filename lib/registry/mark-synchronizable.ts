import type { EntityMetadata } from "typeorm";
import type { EntityRegistry } from "./entity-registry";

/** Props of {@link markSynchronizable}. */
export interface MarkSynchronizableProps {
  readonly registry: EntityRegistry;
  /** The placement group of the DataSource whose metadata is marked. */
  readonly group: string;
  /**
   * `"managed"`: the group's entities but `@Unmanaged` ones (which test mode adds when they
   * say `createInTests`); `"test-only"`: just the `@Unmanaged({ createInTests: true })` ones.
   */
  readonly which: "managed" | "test-only";
  readonly testMode: boolean;
}

/**
 * Sets `synchronize` on the entity metadata of a DataSource of one placement group: it
 * decides which tables `synchronize()` creates there, migration generation compares and
 * `verifySchema` expects. Only entities placed in the group are marked (see
 * {@link MarkSynchronizableProps.which}), and never one whose own options say
 * `synchronize: false` (`@Entity({ synchronize: false })`), as TypeORM never synchronizes
 * it. Junction tables follow no placement of their own and keep TypeORM's value.
 */
export function markSynchronizable(
  metadatas: readonly EntityMetadata[],
  props: MarkSynchronizableProps,
): void {
  const { registry, group, which, testMode } = props;
  for (const metadata of metadatas) {
    const placement = registry.find(metadata.target);
    if (!placement) continue;
    const testOnly = testMode && placement.unmanaged && placement.createInTests;
    const wanted = which === "test-only" ? testOnly : !placement.unmanaged || testOnly;
    metadata.synchronize =
      placement.group === group && wanted && metadata.tableMetadataArgs.synchronize !== false;
  }
}
