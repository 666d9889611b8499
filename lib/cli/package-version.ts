import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The version of the installed typeorm-router, read from its package.json: the nearest one
 * above this file named `typeorm-router` (from `lib/cli` in the sources, `dist/lib/cli` once
 * built).
 *
 * @throws Error when no such package.json exists above this file (a broken install).
 */
export function packageVersion(): string {
  for (let folder = __dirname; ; folder = path.dirname(folder)) {
    const file = path.join(folder, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "typeorm-router" && manifest.version) return manifest.version;
    }
    if (path.dirname(folder) === folder) {
      throw new Error(
        `typeorm-router: no package.json of typeorm-router above ${__dirname}; reinstall it.`,
      );
    }
  }
}
