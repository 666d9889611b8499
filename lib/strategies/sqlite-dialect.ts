import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { Dialect, ScratchDatabase, Unlock } from "./dialect";
import { introspectSqlite } from "./sqlite-introspection";

// SQLite serializes writers itself; this lock keeps two migrators of one process from
// interleaving on the same file (across processes SQLite's own file lock applies).
const held = new Map<string, Promise<void>>();

/** SQLite (better-sqlite3): an in-process lock per database file. */
export const sqliteDialect: Dialect = {
  types: ["better-sqlite3"],
  introspect: introspectSqlite,
  async lockMigrations(
    queryRunner: QueryRunner,
    scope: string,
    timeoutMs: number,
  ): Promise<Unlock | undefined> {
    const key = `${String(queryRunner.connection.options.database)}:${scope}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = held.get(key);
      if (!current) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        current,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    let release!: () => void;
    held.set(key, new Promise<void>((resolve) => (release = resolve)));
    return async () => {
      held.delete(key);
      release();
    };
  },
  // The file is created when the DataSource first opens it.
  async createDatabase(): Promise<void> {},
  async dropDatabase(options: DataSourceOptions): Promise<void> {
    const file = String(options.database);
    if (file === ":memory:") return;
    await Promise.all(
      ["", "-wal", "-shm", "-journal"].map((suffix) => rm(`${file}${suffix}`, { force: true })),
    );
  },
  // A file in a fresh temporary folder; dropping it removes the folder.
  async createScratchDatabase(options: DataSourceOptions): Promise<ScratchDatabase> {
    const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-scratch-"));
    return Object.freeze({
      options: { ...options, database: path.join(folder, "scratch.sqlite") } as DataSourceOptions,
      drop: () => rm(folder, { recursive: true, force: true }),
    });
  },
  async cloneDatabase(template: DataSourceOptions): Promise<ScratchDatabase> {
    const scratch = await sqliteDialect.createScratchDatabase(template);
    await copyFile(String(template.database), String(scratch.options.database));
    return scratch;
  },
};
