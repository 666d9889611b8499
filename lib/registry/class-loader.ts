import path from "node:path";
import type { Logger } from "typeorm";
import { importClassesFromDirectories } from "typeorm/util/DirectoryExportedClassesLoader";
import { glob } from "tinyglobby";
import { messageOf, type BootstrapProblem } from "../errors";
import type { EntityClass } from "../routing/router-chain";

/** A class found by {@link loadClasses}: given directly, or exported by a globbed file. */
export interface LoadedClass<T = EntityClass> {
  readonly value: T;
  /** True when the class was listed directly rather than found through a glob. */
  readonly explicit: boolean;
}

const SILENT_LOGGER = { log: () => undefined } as unknown as Logger;

/**
 * Loads classes eagerly: classes are taken as they are, globs are expanded and every file they
 * match is imported now (through TypeORM's loader, so CommonJS and ESM both work). A glob that
 * matches nothing and a file that fails to import are added to `problems`.
 *
 * @param option The option name, for messages (e.g. `entities`, `migrations.tenant`).
 * @param accepts Which values to take, given or exported (default: classes); an `entities`
 * load also takes `EntitySchema` objects.
 */
export async function loadClasses<T = EntityClass>(
  sources: readonly (T | string)[],
  cwd: string,
  option: string,
  problems: BootstrapProblem[],
  accepts: (value: unknown) => value is T = isClass as (value: unknown) => value is T,
): Promise<LoadedClass<T>[]> {
  const loaded: LoadedClass<T>[] = [];
  for (const source of sources) {
    if (typeof source !== "string") {
      loaded.push({ value: source, explicit: true });
      continue;
    }
    const pattern = path.isAbsolute(source) ? source : path.join(cwd, source);
    const files = (await glob(pattern.split(path.sep).join("/"), { absolute: true }))
      .filter((file) => !file.endsWith(".d.ts"))
      .sort();
    if (files.length === 0) {
      problems.push({
        kind: "empty-glob",
        message:
          `The ${option} glob "${source}" matched no files (resolved from ${cwd}). Fix the ` +
          `pattern; a glob that silently matches nothing is how classes get lost.`,
      });
    }
    for (const file of files) {
      try {
        for (const value of await importClassesFromDirectories(SILENT_LOGGER, [file])) {
          if (accepts(value)) loaded.push({ value, explicit: false });
        }
      } catch (cause) {
        problems.push({
          kind: "import-failed",
          message:
            `Importing "${file}" (matched by the ${option} glob "${source}") failed: ` +
            `${messageOf(cause)}. Fix the module so it loads on its own.`,
          cause,
        });
      }
    }
  }
  return loaded;
}

function isClass(value: unknown): value is EntityClass {
  return typeof value === "function";
}
