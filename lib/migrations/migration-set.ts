import type { MigrationInterface } from "typeorm";
import { loadClasses } from "../registry/class-loader";
import type { BootstrapProblem } from "../errors";

/** A migration class (TypeORM's `MigrationInterface`, named `<Name><13-digit timestamp>`). */
export type MigrationClass = new () => MigrationInterface;

/** A migration source: a class, or a glob whose files are imported at bootstrap. */
export type MigrationSource = MigrationClass | string;

/** Migration sets per group: `{ default: [...], tenant: [...], <alias>: [...] }`. */
export type MigrationsOptions = { readonly [group: string]: readonly MigrationSource[] };

/** One loaded migration of a group. */
export interface Migration {
  readonly group: string;
  /** The class name (or the instance's `name`), ending in its timestamp. */
  readonly name: string;
  /** The 13-digit JavaScript timestamp at the end of the name. */
  readonly timestamp: number;
  readonly instance: MigrationInterface;
}

/**
 * The migrations of every group, loaded eagerly and sorted by timestamp. Each group is
 * applied to the databases `allowMigrate` allows and recorded in its own table.
 */
export class MigrationSets {
  readonly #groups: ReadonlyMap<string, readonly Migration[]>;

  private constructor(groups: Map<string, readonly Migration[]>) {
    this.#groups = groups;
  }

  /** Loads every group; problems (bad names, duplicates, empty globs) go to `problems`. */
  static async load(
    options: MigrationsOptions,
    cwd: string,
    problems: BootstrapProblem[],
  ): Promise<MigrationSets> {
    const groups = new Map<string, readonly Migration[]>();
    for (const [group, sources] of Object.entries(options)) {
      const option = `migrations.${group}`;
      const loaded = await loadClasses(
        sources as readonly MigrationSource[],
        cwd,
        option,
        problems,
      );
      const migrations: Migration[] = [];
      const seen = new Set<string>();
      for (const { value } of loaded) {
        if (
          typeof value.prototype?.up !== "function" ||
          typeof value.prototype?.down !== "function"
        ) {
          continue; // a helper exported next to a migration, not a migration
        }
        const instance = new (value as MigrationClass)();
        const name = instance.name ?? value.name;
        const timestamp = Number.parseInt(name.slice(-13), 10);
        if (!/\d{13}$/.test(name) || Number.isNaN(timestamp)) {
          problems.push({
            kind: "invalid-migration",
            message: `Migration "${name}" in ${option} has no 13-digit timestamp at the end of its name (e.g. "AddUsers1700000000000"), so it cannot be ordered. Rename it.`,
          });
          continue;
        }
        if (seen.has(name)) {
          problems.push({
            kind: "invalid-migration",
            message: `Migration "${name}" appears twice in ${option}. Remove the duplicate.`,
          });
          continue;
        }
        seen.add(name);
        migrations.push(Object.freeze({ group, name, timestamp, instance }));
      }
      migrations.sort((a, b) => a.timestamp - b.timestamp || a.name.localeCompare(b.name));
      groups.set(group, Object.freeze(migrations));
    }
    return new MigrationSets(groups);
  }

  /** The configured group names. */
  get groups(): readonly string[] {
    return [...this.#groups.keys()];
  }

  /** The migrations of `group`, oldest first (empty for an unknown group). */
  migrationsOf(group: string): readonly Migration[] {
    return this.#groups.get(group) ?? [];
  }
}
