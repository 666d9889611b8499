import { InstanceChecker, type EntitySchema } from "typeorm";
import { ConfigurationError, RegistryFrozenError } from "../lib/errors";

/** One routing mark recorded by a decorator on a class. */
export type PlacementMark =
  | { readonly kind: "external" }
  | { readonly kind: "routedTo"; readonly alias: string }
  | { readonly kind: "readOnly" }
  | { readonly kind: "unmanaged"; readonly createInTests: boolean };

/** The decorator a mark came from, as users write it. */
export const DECORATOR_NAMES: Readonly<Record<PlacementMark["kind"], string>> = Object.freeze({
  external: "External",
  routedTo: "RoutedTo",
  readOnly: "ReadOnly",
  unmanaged: "Unmanaged",
});

// A class constructor, as TypeORM and decorators see it.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ClassTarget = Function;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySchema = EntitySchema<any>;

/** What a routing mark is recorded on: an entity class, or an `EntitySchema` object. */
export type MarkTarget = ClassTarget | AnySchema;

/**
 * A placement decorator: used as a class decorator (`@External()`), or called on an
 * `EntitySchema` (`External()(NoteSchema)`), which it returns so that a schema can be
 * defined and placed in one expression.
 */
export interface PlacementDecorator {
  /** Records the mark on an entity class (as `@Decorator()`); the class is not replaced. */
  <TFunction extends ClassTarget>(target: TFunction): void;
  /** Records the mark on an EntitySchema and returns the same schema. */
  <Schema extends AnySchema>(schema: Schema): Schema;
}

interface PlacementStore {
  /** Marks per class, own marks only: a subclass does not inherit its parent's placement. */
  readonly marks: Map<MarkTarget, PlacementMark[]>;
  /** How many open routers hold the registry frozen. */
  frozenBy: number;
}

// Keyed by Symbol.for so that two installed copies of the package share one store.
const STORE_KEY = Symbol.for("typeorm-router.placement-store");

function store(): PlacementStore {
  const holder = globalThis as unknown as Record<symbol, PlacementStore | undefined>;
  let current = holder[STORE_KEY];
  if (!current) {
    current = { marks: new Map(), frozenBy: 0 };
    holder[STORE_KEY] = current;
  }
  return current;
}

/**
 * Returns a decorator that records `mark` on a class and returns nothing, so the class itself
 * is never replaced and the decorator works above or below `@Entity`; called on an
 * `EntitySchema`, it records `mark` on the schema object and returns the schema.
 *
 * @throws RegistryFrozenError when a TenantRouter is already open.
 * @throws ConfigurationError when applied to something that is neither a class nor an
 * EntitySchema.
 */
export function placementDecorator(mark: PlacementMark): PlacementDecorator {
  return ((target: unknown) => {
    const schema = InstanceChecker.isEntitySchema(target);
    if (typeof target !== "function" && !schema) {
      throw ConfigurationError.invalid(
        `${DECORATOR_NAMES[mark.kind]}()(${typeof target})`,
        "it was applied to something that is neither an entity class nor an EntitySchema",
        `Use it as a class decorator (@${DECORATOR_NAMES[mark.kind]}()) or call it on an EntitySchema.`,
      );
    }
    const current = store();
    if (current.frozenBy > 0) {
      throw RegistryFrozenError.lateDecorator(
        DECORATOR_NAMES[mark.kind],
        markTargetName(target as MarkTarget),
      );
    }
    const marks = current.marks.get(target as MarkTarget);
    if (marks) marks.push(mark);
    else current.marks.set(target as MarkTarget, [mark]);
    return schema ? target : undefined;
  }) as PlacementDecorator;
}

/** The name of a mark's target: the class name, or the EntitySchema's `options.name`. */
export function markTargetName(target: MarkTarget): string {
  return typeof target === "function" ? target.name : String(target.options.name);
}

/** Checks a decorator argument at decoration time. */
export function assertAlias(alias: unknown, decorator: string): asserts alias is string {
  if (typeof alias !== "string" || alias.length === 0) {
    throw ConfigurationError.invalid(
      `@${decorator}(${JSON.stringify(alias) ?? String(alias)})`,
      "the alias must be a non-empty string",
      `Pass the name of a database configured under "databases", e.g. @${decorator}("analytics").`,
    );
  }
}

/** The marks recorded on exactly this class or schema (not on a class's parents). */
export function ownMarksOf(target: MarkTarget): readonly PlacementMark[] {
  return store().marks.get(target) ?? [];
}

/** Every class and EntitySchema that carries at least one routing mark. */
export function markedClasses(): MarkTarget[] {
  return [...store().marks.keys()];
}

/** Freezes the registry for one router: later decorators throw until it is released. */
export function holdFreeze(): () => void {
  const current = store();
  current.frozenBy += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    current.frozenBy -= 1;
  };
}
