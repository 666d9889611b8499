import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DataSourceOptions } from "typeorm";

/** A folder of temporary SQLite test databases, removed by `remove()`. */
export interface TemporarySqliteFolder {
  readonly path: string;
  /** Options of the SQLite database `name` in this folder (`name` must be path-safe). */
  optionsFor(name: string): DataSourceOptions;
  remove(): Promise<void>;
}

/** Creates a fresh temporary folder for SQLite test databases (better-sqlite3). */
export async function createTemporarySqliteFolder(): Promise<TemporarySqliteFolder> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-test-"));
  return Object.freeze({
    path: folder,
    optionsFor: (name: string): DataSourceOptions => ({
      type: "better-sqlite3",
      database: path.join(folder, `${name}.sqlite`),
    }),
    remove: () => rm(folder, { recursive: true, force: true }),
  });
}
