import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DataSourceOptions } from "typeorm";
import { ConfigurationError } from "../../errors";

/** A folder of temporary SQLite test databases, removed by `remove()`. */
export interface TemporarySqliteFolder {
  readonly path: string;
  /**
   * Options of the SQLite test database `name` in this folder (`name` must be path-safe; the
   * file is in a subfolder of its own, created by the driver on opening) that
   * stands in for the database `real` in test mode. It uses the app's own SQLite driver when
   * `real` is SQLite (`sqlite`, node-sqlite3, needs no better-sqlite3), else better-sqlite3.
   *
   * @throws ConfigurationError when `real` is MySQL or MariaDB, whose column types SQLite
   *   rejects: such a database needs `testOptions` (or `createTestDatabases`).
   */
  optionsFor(name: string, real?: DataSourceOptions): DataSourceOptions;
  remove(): Promise<void>;
}

// Schemas written for these drivers use types SQLite rejects (mediumtext, enum(...), unsigned).
const NEEDS_ITS_OWN_SERVER = ["mysql", "mariadb"];

/** Creates a fresh temporary folder for SQLite test databases. */
export async function createTemporarySqliteFolder(): Promise<TemporarySqliteFolder> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-test-"));
  return Object.freeze({
    path: folder,
    optionsFor: (name: string, real?: DataSourceOptions): DataSourceOptions => {
      if (real && NEEDS_ITS_OWN_SERVER.includes(real.type)) {
        throw ConfigurationError.invalid(
          `testMode (${name.replace("-", ' "')}")`,
          `test mode puts a database without testOptions in a temporary SQLite file, which cannot hold a ${real.type} schema`,
          `Give it testOptions pointing at a test database on a ${real.type} server, or build the test router with createTestDatabases(config) from typeorm-router/testing, which creates temporary databases on the app's ${real.type} server.`,
        );
      }
      // A folder per database: SQLite drivers attach `@Entity({ database: "x.db" })` files
      // from the database's own folder, which test databases must not share.
      return {
        type: (real?.type as string | undefined) === "sqlite" ? "sqlite" : "better-sqlite3",
        database: path.join(folder, name, `${name}.sqlite`),
      } as DataSourceOptions;
    },
    remove: () => rm(folder, { recursive: true, force: true }),
  });
}
