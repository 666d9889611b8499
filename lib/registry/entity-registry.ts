import { getMetadataArgsStorage, InstanceChecker, type EntitySchema } from "typeorm";
import { loadClasses } from "./class-loader";
import { entityNameOf } from "./entity-name";
import {
  DECORATOR_NAMES,
  holdFreeze,
  markTargetName,
  markedClasses,
  ownMarksOf,
  type PlacementMark,
} from "../../decorators/placement";
import { EntityNotDiscoveredError, type BootstrapProblem } from "../errors";
import type { EntityClass, RoutableEntity } from "../routing/router-chain";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySchema = EntitySchema<any>;

/** The placement group of `@External` entities and the name of the tenant migration group. */
export const TENANT_GROUP = "tenant";

/** The alias an undecorated entity is placed in. */
export const DEFAULT_ALIAS = "default";

/** Where an entity's table lives. */
export interface Placement {
  /**
   * The entity: its class, or the `EntitySchema` object for an entity defined by a schema
   * (what routers are given).
   */
  readonly entity: RoutableEntity;
  /** The entity name (the class name, or the schema's `options.name`), as TypeORM names it. */
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

/**
 * What to discover: entity classes, `EntitySchema` objects, and globs whose files are imported
 * eagerly (every class and EntitySchema a matched file exports is a candidate).
 */
export type EntitySource = EntityClass | AnySchema | string;

/**
 * Where an entity is placed by configuration (the `placements` option, keyed by entity name)
 * rather than by decorators; useful for `EntitySchema` entities. A string is a shorthand:
 * `"tenant"` places the entity in every tenant database (like `External`), any other string
 * is the alias it is routed to (like `RoutedTo(alias)`). The object form combines the
 * decorators: `{ routedTo: "legacy", readOnly: true }`.
 */
export type PlacementOption =
  | string
  | {
      /** Every tenant database, never `default` (like `External`). */
      readonly external?: boolean;
      /** The alias the entity lives in (like `RoutedTo(alias)`). */
      readonly routedTo?: string;
      /** Writes refused outside test mode (like `ReadOnly`). */
      readonly readOnly?: boolean;
      /** Never created or migrated (like `Unmanaged`); `{ createInTests: true }` in tests. */
      readonly unmanaged?: boolean | { readonly createInTests?: boolean };
    };

/** Options of {@link EntityRegistry.discover}. */
export interface DiscoveryProps {
  readonly entities: readonly EntitySource[];
  /** Placements by entity name, added to the entities' decorators. */
  readonly placements: Readonly<Record<string, PlacementOption>>;
  /** The configured aliases. */
  readonly aliases: readonly string[];
  /** What to do with entities TypeORM knows about that were not discovered. */
  readonly undiscoveredEntities: "error" | "ignore";
  /** Base directory that relative globs are resolved from. */
  readonly cwd: string;
  /** Consulted for relations across placement groups: only `true` allows one. */
  readonly allowRelation: (a: RoutableEntity, b: RoutableEntity) => boolean | undefined;
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
  // By class, EntitySchema object, and a schema's `target` class.
  readonly #placements: ReadonlyMap<unknown, Placement>;
  readonly #byName: ReadonlyMap<string, Placement>;
  // By table name and table path, once the metadata is built (see indexTables).
  readonly #tables = new Map<string, Placement>();
  readonly #release: () => void;

  private constructor(index: PlacementIndex) {
    this.#placements = index.byEntity;
    this.#byName = index.byName;
    this.#release = holdFreeze();
  }

  /**
   * Imports the globs, resolves every placement and validates the whole set.
   * Returns every problem found rather than stopping at the first.
   */
  static async discover(props: DiscoveryProps): Promise<DiscoveryResult> {
    const problems: BootstrapProblem[] = [];
    const candidates = await loadClasses<EntityClass | AnySchema>(
      props.entities,
      props.cwd,
      "entities",
      problems,
      isEntityCandidate,
    );
    const storage = getMetadataArgsStorage();
    const entityTargets = new Set(
      storage.tables
        .filter(
          (table) =>
            table.type === "regular" || table.type === "entity-child" || table.type === "view",
        )
        .map((table) => table.target),
    );

    const discovered = new Set<RoutableEntity>();
    for (const candidate of candidates) {
      if (typeof candidate.value !== "function") discovered.add(candidate.value);
      else if (entityTargets.has(candidate.value)) discovered.add(candidate.value);
      else if (candidate.explicit) {
        problems.push({
          kind: "not-an-entity",
          message:
            `"${candidate.value.name}" is listed in "entities" but is not decorated with ` +
            `@Entity (or @ViewEntity). Add @Entity() to it or remove it from "entities".`,
        });
      }
    }
    // A schema's `target` class is that entity's class: its marks are the schema's.
    const schemaTargets = new Map<EntityClass, AnySchema>();
    for (const entity of discovered) {
      const target = schemaTarget(entity);
      if (target) schemaTargets.set(target, entity as AnySchema);
    }

    for (const marked of markedClasses()) {
      const decorators = ownMarksOf(marked).map((mark) => `${DECORATOR_NAMES[mark.kind]}()`);
      if (typeof marked === "function") {
        if (entityTargets.has(marked) || schemaTargets.has(marked)) continue;
        problems.push({
          kind: "decorator-on-non-entity",
          message:
            `Class "${marked.name}" has ${decorators.map((d) => `@${d}`).join(", ")} but is not ` +
            `an @Entity, so it has no table to place. Add @Entity() to it or remove the ` +
            `routing decorator.`,
        });
      } else if (!discovered.has(marked) && props.undiscoveredEntities === "error") {
        problems.push({
          kind: "undiscovered-entity",
          message:
            `EntitySchema "${markTargetName(marked)}" is placed with ${decorators.join(", ")} ` +
            `but was not discovered: it is not listed in "entities" and no glob matched the ` +
            `file that exports it. Add it (or a glob matching its file) to "entities", or pass ` +
            `undiscoveredEntities: "ignore" if it belongs to another DataSource.`,
        });
      }
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

    const configured = configuredMarks(props.placements, discovered, problems);
    const index: PlacementIndex = { byEntity: new Map(), byName: new Map(), entities: [] };
    for (const entity of discovered) {
      const name = entityNameOf(entity);
      const marks = [
        ...ownMarksOf(entity),
        ...(schemaTarget(entity) ? ownMarksOf(schemaTarget(entity)!) : []),
        ...(configured.get(name) ?? []),
      ];
      const placement = resolvePlacement(entity, marks, props.aliases, problems);
      if (!placement) continue;
      const same = index.byName.get(name);
      if (same) {
        problems.push({
          kind: "conflicting-placement",
          message:
            `Two discovered entities are named "${name}" (${describeEntity(same.entity)} and ` +
            `${describeEntity(entity)}); TypeORM finds entities by name, so only one of them ` +
            `could be reached. Rename one, or list only one of them in "entities".`,
        });
        continue;
      }
      index.byName.set(name, placement);
      index.byEntity.set(entity, placement);
      const target = schemaTarget(entity);
      if (target) index.byEntity.set(target, placement);
      index.entities.push(entity);
    }
    checkRelations(index, props.allowRelation, problems);

    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, registry: new EntityRegistry(index) };
  }

  /**
   * The placement of `entity`, found as TypeORM finds metadata: by class, by `EntitySchema`
   * (the object, or its `options.name`), or by a string that is an entity name or a table
   * name (a table path when it contains a dot; table names are known once
   * {@link indexTables} ran).
   *
   * @throws EntityNotDiscoveredError when the entity was not discovered.
   */
  placementOf(entity: unknown): Placement {
    const placement = this.find(entity);
    if (placement) return placement;
    throw EntityNotDiscoveredError.forEntity(entityNameOf(entity));
  }

  /** Whether `entity` (see {@link placementOf}) was discovered and placed. */
  isPlaced(entity: unknown): boolean {
    return this.find(entity) !== undefined;
  }

  /** The placement of `entity` (see {@link placementOf}), or `undefined`. */
  find(entity: unknown): Placement | undefined {
    const placement = this.#placements.get(entity);
    if (placement) return placement;
    if (typeof entity === "string") return this.#findByName(entity);
    if (InstanceChecker.isEntitySchema(entity)) return this.#byName.get(entity.options.name);
    // TypeORM's `{ name, type }` entity targets.
    if (
      entity &&
      typeof entity === "object" &&
      typeof (entity as { name?: unknown }).name === "string"
    )
      return this.#findByName((entity as { name: string }).name);
    return undefined;
  }

  /**
   * Records the table name and path of each placed entity's metadata, so that
   * `getRepository("table_name")` finds it as TypeORM does. Called once the metadata of every
   * group is built; the first entity to claim a name keeps it.
   */
  indexTables(
    metadatas: Iterable<{
      readonly target: unknown;
      readonly tableName: string;
      readonly tablePath: string;
    }>,
  ): void {
    for (const metadata of metadatas) {
      const placement = this.find(metadata.target);
      if (!placement) continue;
      for (const name of [metadata.tableName, metadata.tablePath]) {
        if (!this.#tables.has(name)) this.#tables.set(name, placement);
      }
    }
  }

  /** Every discovered placement. */
  get placements(): readonly Placement[] {
    return [...this.#byName.values()];
  }

  /** The entities whose tables live in `group`. */
  entitiesIn(group: string): RoutableEntity[] {
    return this.placements.filter((placement) => placement.group === group).map((p) => p.entity);
  }

  /**
   * The entities a DataSource of `group` must know for TypeORM to build its metadata: the
   * group's own entities plus, transitively, the entities they relate to — or every entity
   * when `everything` is set (custom routers may send any entity anywhere). Only the
   * group's own entities are ever created there.
   */
  metadataEntitiesFor(group: string, everything: boolean): RoutableEntity[] {
    if (everything) return this.placements.map((placement) => placement.entity);
    const needed = new Set(this.entitiesIn(group));
    for (const entity of needed) {
      for (const relation of relationsOf(entity)) {
        const other = this.find(relation.target);
        if (other) needed.add(other.entity);
      }
    }
    return [...needed];
  }

  /** Lets decorators run again once the router that froze the registry closes. */
  release(): void {
    this.#release();
  }

  // TypeORM: a name with a dot is a table path; otherwise an entity name or a table name.
  #findByName(name: string): Placement | undefined {
    if (name.includes(".")) return this.#tables.get(name);
    return this.#byName.get(name) ?? this.#tables.get(name);
  }
}

interface PlacementIndex {
  readonly byEntity: Map<unknown, Placement>;
  readonly byName: Map<string, Placement>;
  readonly entities: RoutableEntity[];
}

function isEntityCandidate(value: unknown): value is EntityClass | AnySchema {
  return typeof value === "function" || InstanceChecker.isEntitySchema(value);
}

// The class an EntitySchema declares as its `target`, if any.
function schemaTarget(entity: RoutableEntity): EntityClass | undefined {
  if (typeof entity === "function") return undefined;
  const target: unknown = entity.options.target;
  return typeof target === "function" ? (target as EntityClass) : undefined;
}

function describeEntity(entity: RoutableEntity): string {
  return typeof entity === "function" ? `class ${entity.name}` : "an EntitySchema";
}

// The `placements` option as marks, by entity name; unknown names are problems.
function configuredMarks(
  placements: Readonly<Record<string, PlacementOption>>,
  discovered: ReadonlySet<RoutableEntity>,
  problems: BootstrapProblem[],
): Map<string, PlacementMark[]> {
  const names = new Set([...discovered].map(entityNameOf));
  const marks = new Map<string, PlacementMark[]>();
  for (const [name, option] of Object.entries(placements)) {
    if (!names.has(name)) {
      const known = [...names].sort().map((known) => `"${known}"`);
      problems.push({
        kind: "unknown-placement",
        message:
          `placements names entity "${name}", but no discovered entity has that name ` +
          `(discovered: ${known.length > 0 ? known.join(", ") : "none"}). Use the entity's ` +
          `name (its class name, or its EntitySchema's name), or add it to "entities".`,
      });
      continue;
    }
    marks.set(name, marksOf(option));
  }
  return marks;
}

function marksOf(option: PlacementOption): PlacementMark[] {
  if (typeof option === "string") {
    return [option === TENANT_GROUP ? { kind: "external" } : { kind: "routedTo", alias: option }];
  }
  const marks: PlacementMark[] = [];
  if (option.external === true) marks.push({ kind: "external" });
  if (option.routedTo !== undefined) marks.push({ kind: "routedTo", alias: option.routedTo });
  if (option.readOnly === true) marks.push({ kind: "readOnly" });
  if (option.unmanaged !== undefined && option.unmanaged !== false) {
    const createInTests =
      typeof option.unmanaged === "object" && option.unmanaged.createInTests === true;
    marks.push({ kind: "unmanaged", createInTests });
  }
  return marks;
}

function resolvePlacement(
  entity: RoutableEntity,
  marks: readonly PlacementMark[],
  aliases: readonly string[],
  problems: BootstrapProblem[],
): Placement | undefined {
  const name = entityNameOf(entity);
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
        `Entity "${name}" has conflicting placements: ${all.join(", ")}. An entity ` +
        `lives in exactly one place; keep one of them.`,
    });
    return undefined;
  }
  const location = locations[0];
  if (location?.kind === "routedTo" && !aliases.includes(location.alias)) {
    problems.push({
      kind: "unknown-alias",
      message:
        `Entity "${name}" is @RoutedTo("${location.alias}"), but no database ` +
        `"${location.alias}" is configured (configured: ${aliases.map((a) => `"${a}"`).join(", ")}). ` +
        `Add it under "databases" or fix the alias.`,
    });
    return undefined;
  }
  const unmanaged = marks.find((mark) => mark.kind === "unmanaged");
  return Object.freeze({
    entity,
    name,
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
  index: PlacementIndex,
  allowRelation: DiscoveryProps["allowRelation"],
  problems: BootstrapProblem[],
): void {
  const find = (target: unknown) =>
    index.byEntity.get(target) ??
    (typeof target === "string" ? index.byName.get(target) : undefined) ??
    (InstanceChecker.isEntitySchema(target) ? index.byName.get(target.options.name) : undefined);
  for (const placement of index.byName.values()) {
    for (const relation of relationsOf(placement.entity)) {
      const otherPlacement = find(relation.target);
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
      if (holdsForeignKey && relation.createForeignKeyConstraints !== false) {
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

/** One relation of an entity, from its decorators or its EntitySchema. */
interface RelationFacts {
  readonly propertyName: string;
  readonly relationType: string;
  /** The related entity: a class, an EntitySchema or an entity name. */
  readonly target: unknown;
  readonly createForeignKeyConstraints: boolean | undefined;
}

function relationsOf(entity: RoutableEntity): RelationFacts[] {
  if (typeof entity === "function") {
    return getMetadataArgsStorage()
      .filterRelations(entity)
      .map((relation) => ({
        propertyName: relation.propertyName,
        relationType: relation.relationType,
        target: relationTarget(relation.type),
        createForeignKeyConstraints: relation.options.createForeignKeyConstraints,
      }));
  }
  return Object.entries(entity.options.relations ?? {}).flatMap(([propertyName, relation]) =>
    relation
      ? [
          {
            propertyName,
            relationType: relation.type,
            target: relation.target,
            createForeignKeyConstraints: relation.createForeignKeyConstraints,
          },
        ]
      : [],
  );
}

function describeGroup(group: string): string {
  return group === TENANT_GROUP ? "tenant databases (@External)" : `database "${group}"`;
}

function relationTarget(type: unknown): unknown {
  // RelationTypeInFunction is a thunk `() => Class` (or `() => "Name"`); a string names the
  // entity.
  return typeof type === "function" ? (type as () => unknown)() : type;
}
