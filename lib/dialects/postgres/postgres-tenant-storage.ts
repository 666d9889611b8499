import { DataSource, type DataSourceOptions } from "typeorm";
import type { TenantStorageDialect, StorageOwnership } from "../tenant-storage";
import { quote, split } from "./postgres-server";

type PostgresOptions = Extract<DataSourceOptions, { type: "postgres" }>;

// NAMEDATALEN - 1: PostgreSQL silently truncates longer identifiers.
const IDENTIFIER_LIMIT_BYTES = 63;
// duplicate_database, and the unique index of pg_database when two creates race.
const EXISTS_CODES = new Set(["42P04", "23505"]);

/**
 * PostgreSQL tenant databases: `CREATE DATABASE` (atomic: one winner, `42P04` for the rest)
 * then `COMMENT ON DATABASE … IS '<mark>'`; dropped `WITH (FORCE)` only when the comment is
 * the mark.
 */
export const postgresTenantStorage: TenantStorageDialect = {
  types: ["postgres"],
  systemDatabases: ["postgres", "template0", "template1"],
  nameOf(options) {
    return split(options as PostgresOptions).name;
  },
  identityOf(options) {
    const pg = options as PostgresOptions;
    const { name } = split(pg);
    if (pg.url) {
      const url = new URL(pg.url);
      return `postgres://${url.hostname || "localhost"}:${url.port || "5432"}/${name}`;
    }
    return `postgres://${pg.host ?? "localhost"}:${pg.port ?? 5432}/${name}`;
  },
  nameTooLong(name) {
    const bytes = Buffer.byteLength(name, "utf8");
    return bytes > IDENTIFIER_LIMIT_BYTES
      ? { length: `${bytes} bytes`, limit: `${IDENTIFIER_LIMIT_BYTES} bytes (NAMEDATALEN - 1)` }
      : undefined;
  },
  async createMarked(options, mark) {
    const { name, maintenance } = split(options as PostgresOptions);
    return onMaintenance(maintenance, async (server) => {
      try {
        await server.query(`CREATE DATABASE ${quote(name)}`);
      } catch (error) {
        if (EXISTS_CODES.has(codeOf(error) ?? "")) return "exists" as const;
        throw error;
      }
      try {
        await server.query(`COMMENT ON DATABASE ${quote(name)} IS ${literal(mark)}`);
      } catch (error) {
        // Ours, created a moment ago: an unmarked leftover could never be dropped by us.
        await server.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
        throw error;
      }
      return "created" as const;
    });
  },
  async ownership(options, mark): Promise<StorageOwnership> {
    const { name, maintenance } = split(options as PostgresOptions);
    const rows = (await onMaintenance(maintenance, (server) =>
      server.query(
        "SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1",
        [name],
      ),
    )) as { mark: string | null }[];
    if (rows.length === 0) return { state: "missing" };
    if (rows[0].mark === mark) return { state: "owned" };
    return { state: "foreign", found: rows[0].mark ?? undefined };
  },
  async drop(options) {
    const { name, maintenance } = split(options as PostgresOptions);
    await onMaintenance(maintenance, (server) =>
      server.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`),
    );
  },
  adoptHint(options, mark) {
    const { name } = split(options as PostgresOptions);
    return `COMMENT ON DATABASE ${quote(name)} IS ${literal(mark)};`;
  },
};

async function onMaintenance<T>(
  options: PostgresOptions,
  fn: (server: DataSource) => Promise<T>,
): Promise<T> {
  const server = new DataSource({
    ...options,
    // A pool bound to another database (schemaPerTenant shares one) must not be reused here.
    driver: undefined,
    entities: [],
    migrations: [],
    subscribers: [],
    synchronize: false,
    poolSize: 1,
  } as DataSourceOptions);
  await server.initialize();
  try {
    return await fn(server);
  } finally {
    await server.destroy();
  }
}

function codeOf(error: unknown): string | undefined {
  const withCode = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = withCode.driverError?.code ?? withCode.code;
  return typeof code === "string" ? code : undefined;
}

// A SQL string literal; COMMENT takes no parameters.
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
