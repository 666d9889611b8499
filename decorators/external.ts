import type { EntitySchema } from "typeorm";
import { placementDecorator, type PlacementDecorator } from "./placement";

/**
 * Places an entity in every tenant database (or schema), never in `default`.
 *
 * Using it with no tenant in context throws `NoTenantContextError`; it never falls back.
 *
 * @example
 * ```ts
 * @External()
 * @Entity()
 * export class DataPoint { ... }
 * ```
 *
 * An `EntitySchema` is placed by passing it (`External(NoteSchema)`, which returns the
 * schema) or, like the other placement decorators, with `External()(NoteSchema)`.
 *
 * @example
 * ```ts
 * export const Note = External(new EntitySchema<Note>({ name: "Note", columns: { ... } }));
 * ```
 * @throws RegistryFrozenError when applied after a TenantRouter was created.
 */
export function External(): PlacementDecorator;
/** Places an `EntitySchema` in every tenant database and returns it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function External<Schema extends EntitySchema<any>>(schema: Schema): Schema;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function External(schema?: EntitySchema<any>): PlacementDecorator | EntitySchema<any> {
  const decorator = placementDecorator({ kind: "external" });
  return schema === undefined ? decorator : decorator(schema);
}
