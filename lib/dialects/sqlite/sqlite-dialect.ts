import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DataSourceOptions } from "typeorm";
import { gateSqliteConnection } from "./sqlite-connection-gate";
import { sqliteReadOnly } from "./sqlite-read-only";
import type { Dialect, ScratchDatabase } from "../dialect";

/** SQLite, through better-sqlite3 (`better-sqlite3`) or node-sqlite3 (`sqlite`, TypeORM 0.3). */
export const sqliteDialect: Dialect = {
  types: ["better-sqlite3", "sqlite"],
  readOnly: sqliteReadOnly,
  // SQLite serializes writers itself: a second process's write waits for this transaction
  // (and fails rather than duplicate work if its view is stale). In-process migrators are
  // serialized by the migrator's mutex.
  async lockMigrations(): Promise<boolean> {
    return true;
  },
  async unlockMigrations(): Promise<void> {},
  transactionalDdl: true,
  shareConnection: gateSqliteConnection,
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
};
