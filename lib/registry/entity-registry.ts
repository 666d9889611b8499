import { getMetadataArgsStorage } from "typeorm";
import { loadClasses } from "./class-loader";
import {
  DECORATOR_NAMES,
  holdFreeze,
  markedClasses,
  ownMarksOf,
  type PlacementMark,
} from "../../decorators/placement";
import { EntityNotDiscoveredError, type BootstrapProblem } from "../errors";
import type { EntityClass } from "../routing/router-chain";

/** The placement group of `@External` entities and the name of the tenant migration group. */
export const TENANT_GROUP = "tenant";

/** The alias an undecorated entity is placed in. */
export const DEFAULT_ALIAS = "default";

/** Where an entity's table lives. */
export interface Placement {
  /** The entity class. */
  readonly entity: EntityClass;
  /** The entity class name, for messages. */
  readonly name: string;
  /** `"tenant"` for `@External` entities, otherwise the alias. */
  readonly group: string;
  /** Whether the entity lives in tenant databases. */
  readonly external: boolean;
  /** Whether writes are refused outside test mode (`@ReadOnly`). */
  readonly readOnly: boolean;
  /** Whether the table is never created or migrated (`@Unmanaged`). */
  readonly unmanaged: boolean;
  /** Whether an unmanaged table is created in test databases. */
  readonly createInTests: boolean;
}

/** What to discover: entity classes, and globs whose files are imported eagerly. */
export type EntitySource = EntityClass | string;

/** Options of {@link EntityRegistry.discover}. */
export interface DiscoveryProps {
  readonly entities: readonly EntitySource[];
  /** The configured aliases. */
  readonly aliases: readonly string[];
  /** What to do with entities TypeORM knows about that were not discovered. */
  readonly undiscoveredEntities: "error" | "ignore";
  /** Base directory that relative globs are resolved from. */
  readonly cwd: string;
  /** Consulted for relations across placement groups: only `true` allows one. */
  readonly allowRelation: (a: EntityClass, b: EntityClass) => boolean | undefined;
}

/** The result of discovery: the registry, or the list of every problem found. */
export type DiscoveryResult =
  | { readonly ok: true; readonly registry: EntityRegistry }
  | { readonly ok: false; readonly problems: readonly BootstrapProblem[] };

/**
 * The frozen set of discovered entities and their placements.
 *
 * Discovery is eager: globs are imported at bootstrap, every routing decorator is checked
 * against TypeORM's metadata storage, and while the registry is open any late decorator
 * throws.
 */
export class EntityRegistry {
  readonly #placements: ReadonlyMap<EntityClass, Placement>;
  readonly #byName: ReadonlyMap<string, Placement>;
  readonly #release: () => void;

  private constructor(placements: Map<EntityClass, Placement>) {
    this.#placements = placements;
    this.#byName = new Map(
      [...placements.values()].map((placement) => [placement.name, placement]),
    );
    this.#release = holdFreeze();
  }

  /**
   * Imports the globs, resolves every placement and validates the whole set.
   * Returns every problem found rather than stopping at the first.
   */
  static async discover(props: DiscoveryProps): Promise<DiscoveryResult> {
    const problems: BootstrapProblem[] = [];
    const candidates = await loadClasses(props.entities, props.cwd, "entities", problems);
    const storage = getMetadataArgsStorage();
    const entityTargets = new Set(
      storage.tables
        .filter((table) => table.type === "regular" || table.type === "entity-child")
        .map((table) => table.target),
    );

    const discovered = new Set<EntityClass>();
    for (const candidate of candidates) {
      if (entityTargets.has(candidate.value)) discovered.add(candidate.value);
      else if (candidate.explicit) {
        problems.push({
          kind: "not-an-entity",
          message:
            `"${candidate.value.name}" is listed in "entities" but is not decorated with ` +
            `@Entity. Add @Entity() to it or remove it from "entities".`,
        });
      }
    }

    for (const marked of markedClasses()) {
      if (entityTargets.has(marked)) continue;
      const decorators = ownMarksOf(marked).map((mark) => `@${DECORATOR_NAMES[mark.kind]}()`);
      problems.push({
        kind: "decorator-on-non-entity",
        message:
          `Class "${marked.name}" has ${decorators.join(", ")} but is not an @Entity, so it ` +
          `has no table to place. Add @Entity() to it or remove the routing decorator.`,
      });
    }

    if (props.undiscoveredEntities === "error") {
      for (const target of entityTargets) {
        if (typeof target !== "function" || discovered.has(target)) continue;
        problems.push({
          kind: "undiscovered-entity",
          message:
            `Entity "${target.name}" is known to TypeORM but was not discovered: it is not ` +
            `listed in "entities" and no glob matched its file, so it would have no ` +
            `placement. Add it (or a glob matching its file) to "entities", or pass ` +
            `undiscoveredEntities: "ignore" if it belongs to another DataSource.`,
        });
      }
    }

    const placements = new Map<EntityClass, Placement>();
    for (const entity of discovered) {
      const placement = resolvePlacement(entity, props.aliases, problems);
      if (placement) placements.set(entity, placement);
    }
    checkRelations(placements, props.allowRelation, problems);

    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, registry: new EntityRegistry(placements) };
  }

  /**
   * The placement of `entity` (a class or an entity name).
   *
   * @throws EntityNotDiscoveredError when the entity was not discovered.
   */
  placementOf(entity: EntityClass | string): Placement {
    const placement =
      typeof entity === "string" ? this.#byName.get(entity) : this.#placements.get(entity);
    if (placement) return placement;
    throw EntityNotDiscoveredError.forEntity(typeof entity === "string" ? entity : entity.name);
  }

  /** Whether `entity` (a class or an entity name) was discovered and placed. */
  isPlaced(entity: EntityClass | string): boolean {
    return typeof entity === "string" ? this.#byName.has(entity) : this.#placements.has(entity);
  }

  /** Every discovered placement. */
  get placements(): readonly Placement[] {
    return [...this.#placements.values()];
  }

  /** The entities whose tables live in `group`. */
  entitiesIn(group: string): EntityClass[] {
    return this.placements.filter((placement) => placement.group === group).map((p) => p.entity);
  }

  /**
   * The entities a DataSource of `group` must know for TypeORM to build its metadata: the
   * group's own entities plus, transitively, the entities they relate to — or every entity
   * when `everything` is set (custom routers may send any entity anywhere). Only the
   * group's own entities are ever created there.
   */
  metadataEntitiesFor(group: string, everything: boolean): EntityClass[] {
    if (everything) return [...this.#placements.keys()];
    const storage = getMetadataArgsStorage();
    const needed = new Set(this.entitiesIn(group));
    for (const entity of needed) {
      for (const relation of storage.filterRelations(entity)) {
        const other = relationTarget(relation.type);
        if (other && this.#placements.has(other)) needed.add(other);
      }
    }
    return [...needed];
  }

  /** Lets decorators run again once the router that froze the registry closes. */
  release(): void {
    this.#release();
  }
}

function resolvePlacement(
  entity: EntityClass,
  aliases: readonly string[],
  problems: BootstrapProblem[],
): Placement | undefined {
  const marks = ownMarksOf(entity);
  const locations = marks.filter(
    (mark): mark is Extract<PlacementMark, { kind: "external" | "routedTo" }> =>
      mark.kind === "external" || mark.kind === "routedTo",
  );
  // Decorators run bottom-up; list them in the order they are written.
  const described = locations
    .map((mark) => (mark.kind === "external" ? "@External()" : `@RoutedTo("${mark.alias}")`))
    .reverse();
  const duplicates = (["readOnly", "unmanaged"] as const).filter(
    (kind) => marks.filter((mark) => mark.kind === kind).length > 1,
  );
  if (locations.length > 1 || duplicates.length > 0) {
    const all = [...described, ...duplicates.map((kind) => `@${DECORATOR_NAMES[kind]}() twice`)];
    problems.push({
      kind: "conflicting-placement",
      message:
        `Entity "${entity.name}" has conflicting placements: ${all.join(", ")}. An entity ` +
        `lives in exactly one place; keep one of them.`,
    });
    return undefined;
  }
  const location = locations[0];
  if (location?.kind === "routedTo" && !aliases.includes(location.alias)) {
    problems.push({
      kind: "unknown-alias",
      message:
        `Entity "${entity.name}" is @RoutedTo("${location.alias}"), but no database ` +
        `"${location.alias}" is configured (configured: ${aliases.map((a) => `"${a}"`).join(", ")}). ` +
        `Add it under "databases" or fix the alias.`,
    });
    return undefined;
  }
  const unmanaged = marks.find((mark) => mark.kind === "unmanaged");
  return Object.freeze({
    entity,
    name: entity.name,
    group:
      location === undefined
        ? DEFAULT_ALIAS
        : location.kind === "external"
          ? TENANT_GROUP
          : location.alias,
    external: location?.kind === "external",
    readOnly: marks.some((mark) => mark.kind === "readOnly"),
    unmanaged: unmanaged !== undefined,
    createInTests: unmanaged?.kind === "unmanaged" && unmanaged.createInTests,
  });
}

function checkRelations(
  placements: ReadonlyMap<EntityClass, Placement>,
  allowRelation: DiscoveryProps["allowRelation"],
  problems: BootstrapProblem[],
): void {
  const storage = getMetadataArgsStorage();
  for (const placement of placements.values()) {
    for (const relation of storage.filterRelations(placement.entity)) {
      const other = relationTarget(relation.type);
      const otherPlacement = other ? placements.get(other) : undefined;
      if (!otherPlacement || otherPlacement.group === placement.group) continue;
      const where =
        `Relation ${placement.name}.${relation.propertyName} (${relation.relationType}) links ` +
        `"${placement.name}" in ${describeGroup(placement.group)} to "${otherPlacement.name}" in ` +
        `${describeGroup(otherPlacement.group)}`;
      if (relation.relationType === "many-to-many") {
        problems.push({
          kind: "cross-placement-relation",
          message: `${where}; a many-to-many junction table cannot live in two places. Model the link as an entity of its own.`,
        });
        continue;
      }
      const holdsForeignKey = relation.relationType !== "one-to-many";
      if (holdsForeignKey && relation.options.createForeignKeyConstraints !== false) {
        problems.push({
          kind: "cross-placement-relation",
          message: `${where}, and a foreign key cannot cross databases. Set createForeignKeyConstraints: false on it and allow it with a router's allowRelation().`,
        });
        continue;
      }
      if (allowRelation(placement.entity, otherPlacement.entity) !== true) {
        problems.push({
          kind: "cross-placement-relation",
          message: `${where}, and no router's allowRelation() allows it. Add a router whose allowRelation(${placement.name}, ${otherPlacement.name}) returns true, or move one of them.`,
        });
      }
    }
  }
}

function describeGroup(group: string): string {
  return group === TENANT_GROUP ? "tenant databases (@External)" : `database "${group}"`;
}

function relationTarget(type: unknown): EntityClass | undefined {
  if (typeof type !== "function") return undefined;
  // RelationTypeInFunction is a thunk `() => Class`; call it to get the class.
  const resolved: unknown = (type as () => unknown)();
  return typeof resolved === "function" ? (resolved as EntityClass) : undefined;
}
