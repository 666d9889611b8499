import { open, rm } from "node:fs/promises";
import path from "node:path";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { StorageOwnership, TenantStorageDialect } from "../tenant-storage";

// PRAGMA application_id of the files the router creates: "TRTN" (typeorm-router tenant). An
// integer header field, so the mark costs no table that schema checks would see.
const APPLICATION_ID = 0x5452544e;

/**
 * SQLite tenant files: created with an exclusive create (`O_EXCL`, one winner across
 * processes), marked with `PRAGMA application_id`, and removed (with their `-wal`, `-shm`
 * and `-journal` files) only when they carry that mark.
 */
export const sqliteTenantStorage: TenantStorageDialect = {
  types: ["better-sqlite3", "sqlite"],
  systemDatabases: [],
  nameOf: (options) => fileOf(options),
  identityOf: (options) => `sqlite:${path.resolve(fileOf(options))}`,
  // A path, not an identifier: the file system reports a name it cannot take.
  nameTooLong: () => undefined,
  async createMarked(options, _mark) {
    const file = fileOf(options);
    try {
      await (await open(file, "wx")).close();
    } catch (error) {
      if ((error as { code?: string }).code === "EEXIST") return "exists";
      throw error;
    }
    try {
      await withFile(options, (db) => db.query(`PRAGMA application_id = ${APPLICATION_ID}`));
    } catch (error) {
      await remove(file);
      throw error;
    }
    return "created";
  },
  async ownership(options): Promise<StorageOwnership> {
    const file = fileOf(options);
    const handle = await open(file, "r").catch((error: { code?: string }) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (!handle) return { state: "missing" };
    // The application id is the big-endian integer at offset 68 of the header.
    const header = Buffer.alloc(72);
    try {
      await handle.read(header, 0, 72, 0);
    } finally {
      await handle.close();
    }
    const id = header.readUInt32BE(68);
    if (id === APPLICATION_ID) return { state: "owned" };
    return { state: "foreign", found: id === 0 ? undefined : `application_id ${id}` };
  },
  drop: (options) => remove(fileOf(options)),
  adoptHint: (options) =>
    `run PRAGMA application_id = ${APPLICATION_ID} on ${JSON.stringify(fileOf(options))} (sqlite3 "${fileOf(options)}" "PRAGMA application_id = ${APPLICATION_ID}").`,
};

function fileOf(options: DataSourceOptions): string {
  return String(options.database);
}

async function remove(file: string): Promise<void> {
  await Promise.all(
    ["", "-wal", "-shm", "-journal"].map((suffix) => rm(`${file}${suffix}`, { force: true })),
  );
}

async function withFile<T>(
  options: DataSourceOptions,
  fn: (db: DataSource) => Promise<T>,
): Promise<T> {
  const db = new DataSource({
    type: options.type,
    database: fileOf(options),
    entities: [],
    migrations: [],
    subscribers: [],
    synchronize: false,
  } as DataSourceOptions);
  await db.initialize();
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}
