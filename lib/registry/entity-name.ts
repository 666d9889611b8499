import { InstanceChecker } from "typeorm";

/**
 * The name of an entity as TypeORM names its metadata: a class's name, an `EntitySchema`'s
 * `options.name`, or the string itself.
 */
export function entityNameOf(entity: unknown): string {
  if (typeof entity === "string") return entity;
  if (typeof entity === "function") return entity.name;
  if (InstanceChecker.isEntitySchema(entity)) return String(entity.options.name);
  return String(entity);
}
