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

interface PlacementStore {
  /** Marks per class, own marks only: a subclass does not inherit its parent's placement. */
  readonly marks: Map<ClassTarget, PlacementMark[]>;
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
 * Returns a class decorator that records `mark` on the class and returns nothing, so the
 * class itself is never replaced and the decorator works above or below `@Entity`.
 *
 * @throws RegistryFrozenError when a TenantRouter is already open.
 */
export function placementDecorator(mark: PlacementMark): ClassDecorator {
  return (target) => {
    const current = store();
    if (current.frozenBy > 0) {
      throw RegistryFrozenError.lateDecorator(DECORATOR_NAMES[mark.kind], target.name);
    }
    const marks = current.marks.get(target);
    if (marks) marks.push(mark);
    else current.marks.set(target, [mark]);
  };
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

/** The marks recorded on exactly this class (not on its parents). */
export function ownMarksOf(target: ClassTarget): readonly PlacementMark[] {
  return store().marks.get(target) ?? [];
}

/** Every class that carries at least one routing mark. */
export function markedClasses(): ClassTarget[] {
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
