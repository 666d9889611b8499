import { randomBytes } from "node:crypto";
import type { DataSourceOptions } from "typeorm";
import type { ScratchDatabase, TestingDialect } from "../dialect";
import { postgresDialect } from "./postgres-dialect";
import { introspectPostgres } from "./postgres-introspection";
import { onServer, quote, renamed, split, type PostgresDataSourceOptions } from "./postgres-server";

/** PostgreSQL introspection (`pg_catalog`) and cloning (`CREATE DATABASE … TEMPLATE`). */
export const postgresTesting: TestingDialect = {
  types: postgresDialect.types,
  introspect: introspectPostgres,
  async cloneDatabase(template: DataSourceOptions): Promise<ScratchDatabase> {
    const { name: templateName, maintenance } = split(template as PostgresDataSourceOptions);
    const name = `typeorm_router_scratch_${randomBytes(6).toString("hex")}`;
    await onServer(maintenance, `CREATE DATABASE ${quote(name)} TEMPLATE ${quote(templateName)}`);
    const clone = renamed(template as PostgresDataSourceOptions, name);
    return Object.freeze({ options: clone, drop: () => postgresDialect.dropDatabase(clone) });
  },
};
