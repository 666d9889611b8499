import { copyFile } from "node:fs/promises";
import type { DataSourceOptions } from "typeorm";
import type { ScratchDatabase, TestingDialect } from "../dialect";
import { sqliteDialect } from "./sqlite-dialect";
import { introspectSqlite } from "./sqlite-introspection";

/** SQLite introspection (`sqlite_master`, pragmas and the stored DDL) and cloning (a file copy). */
export const sqliteTesting: TestingDialect = {
  types: sqliteDialect.types,
  introspect: introspectSqlite,
  async cloneDatabase(template: DataSourceOptions): Promise<ScratchDatabase> {
    const scratch = await sqliteDialect.createScratchDatabase(template);
    await copyFile(String(template.database), String(scratch.options.database));
    return scratch;
  },
};
