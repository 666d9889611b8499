import { DataSource, type DataSourceOptions } from "typeorm";
import { aliasTarget, tenantTarget, type DatabaseTarget } from "../routing/database-target";
import { TENANT_GROUP, type EntityRegistry } from "../registry/entity-registry";
import { markSynchronizable } from "../registry/mark-synchronizable";
import { ConfigurationError, MigrationFailedError, toRoutingError } from "../errors";
import { templateOptionsOf } from "../tenants/strategies/tenant-strategy";
import type { NormalizedOptions } from "../config/router-options";
import { dialectFor } from "../dialects";
import type { Migrator } from "./migrator";

/** Options of `router.generateMigration(group, name, options)`. */
export interface GenerateMigrationOptions {
  /** The 13-digit JavaScript timestamp that ends the class name. Default `Date.now()`. */
  readonly timestamp?: number;
}

/** One statement of a generated migration. */
export interface GeneratedQuery {
  readonly query: string;
  readonly parameters?: readonly unknown[];
}

/** A migration written by `router.generateMigration()`: its source and what it runs. */
export interface GeneratedMigration {
  /** The migration group it belongs to (`"tenant"` or an alias). */
  readonly group: string;
  /** `<Name><timestamp>`, e.g. `AddNotes1700000000000`. */
  readonly className: string;
  /** `<timestamp>-<Name>.ts`, the file name to save `source` under. */
  readonly fileName: string;
  /** What `up()` runs, in order. */
  readonly upQueries: readonly GeneratedQuery[];
  /** What `down()` runs, in order (the reverse of `up()`). */
  readonly downQueries: readonly GeneratedQuery[];
  /** The TypeScript source of the migration class. */
  readonly source: string;
}

/** What {@link generateMigration} needs from the router. */
export interface GenerateMigrationProps {
  readonly group: string;
  readonly name: string;
  readonly timestamp: number;
  readonly options: NormalizedOptions;
  readonly registry: EntityRegistry;
  readonly migrator: Migrator;
}

// The id the tenant strategy is asked for when only the driver and server matter; the same
// id the router uses to build tenant metadata at bootstrap.
const PLACEHOLDER_TENANT = "blueprint";

/**
 * Writes the migration that brings `group`'s databases from its current migrations to its
 * entities: creates a scratch database next to the group's real one (a temporary SQLite
 * file, or a uniquely named PostgreSQL database), runs the migrations that apply there,
 * asks TypeORM's schema builder what the entities placed (and managed) in `group` still
 * need, and drops the scratch database. Resolves `undefined` when nothing differs.
 *
 * @throws ConfigurationError for a group that is neither `"tenant"` nor an alias, or an
 * invalid name or timestamp.
 * @throws MigrationFailedError (or the migration's routing error) when an existing migration
 * fails on the scratch database.
 */
export async function generateMigration(
  props: GenerateMigrationProps,
): Promise<GeneratedMigration | undefined> {
  const { group, name, timestamp, options, registry, migrator } = props;
  checkName(name, group);
  checkTimestamp(timestamp);
  const realOptions = groupOptions(group, options);
  const target = scratchTarget(group);
  const scratch = await dialectFor(realOptions).createScratchDatabase(realOptions);
  try {
    const dataSource = new DataSource({
      ...scratch.options,
      entities: registry.metadataEntitiesFor(group, options.routers.length > 0),
      migrations: [],
      synchronize: false,
      migrationsRun: false,
      dropSchema: false,
      logging: false,
    } as DataSourceOptions);
    await dataSource.initialize().catch((cause: unknown) => {
      throw MigrationFailedError.failed(
        "(opening the scratch database)",
        target.description,
        "Nothing was generated.",
        cause,
      );
    });
    try {
      const result = await migrator.migrateDataSource(target, dataSource);
      if (result.error) throw result.error;
      // Only the group's own managed tables are compared: the scratch database may hold
      // tables of other groups, and entities related from elsewhere are metadata only.
      markSynchronizable(dataSource.entityMetadatas, {
        registry,
        group,
        which: "managed",
        testMode: false,
      });
      const sql = await dataSource.driver.createSchemaBuilder().log();
      if (sql.upQueries.length === 0) return undefined;
      // Schema per tenant: the scratch database stands for every tenant's schema from its
      // default one, which TypeORM still names in some statements (DROP INDEX "public"."IDX_…"
      // in down()): unqualified, they run in each tenant's search_path, and revert works.
      const unqualify = perTenantSchema(group, options) ? unqualified : (q: GeneratedQuery) => q;
      const upQueries = sql.upQueries.map(toGenerated).map(unqualify);
      const downQueries = sql.downQueries.map(toGenerated).map(unqualify).reverse();
      const className = `${name}${timestamp}`;
      return Object.freeze({
        group,
        className,
        fileName: `${timestamp}-${name}.ts`,
        upQueries: Object.freeze(upQueries),
        downQueries: Object.freeze(downQueries),
        source: renderMigration(className, group, upQueries, downQueries),
      });
    } catch (error) {
      throw toRoutingError(error, {
        migration: "(comparing the entities with the migrations)",
        database: target.description,
        rolledBack: "Nothing was generated.",
      });
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await scratch.drop();
  }
}

function groupOptions(group: string, options: NormalizedOptions): DataSourceOptions {
  if (group === TENANT_GROUP && options.tenants) {
    return templateOptionsOf(options.tenants.strategy, PLACEHOLDER_TENANT);
  }
  const database = options.databases.get(group);
  if (database) return database.options;
  const known = [...options.databases.keys(), ...(options.tenants ? [TENANT_GROUP] : [])];
  throw ConfigurationError.invalid(
    `generateMigration("${group}")`,
    `"${group}" is neither a configured alias nor "${TENANT_GROUP}" (with tenants configured), ` +
      `so no entities are placed in it`,
    `Pass one of ${known.map((g) => `"${g}"`).join(", ")}.`,
  );
}

function scratchTarget(group: string): DatabaseTarget {
  const tenant = group === TENANT_GROUP;
  return Object.freeze({
    ...(tenant ? tenantTarget(PLACEHOLDER_TENANT) : aliasTarget(group, false)),
    key: `scratch:${group}`,
    description: `the scratch database of ${tenant ? "the tenant databases" : `database "${group}"`}`,
  });
}

function checkName(name: string, group: string): void {
  if (typeof name === "string" && /^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return;
  throw ConfigurationError.invalid(
    `generateMigration("${group}", ${JSON.stringify(name)})`,
    "the name is not a class name",
    'Use letters, digits and "_", starting with a letter, e.g. "AddNotes".',
  );
}

function checkTimestamp(timestamp: number): void {
  if (Number.isInteger(timestamp) && String(timestamp).length === 13) return;
  throw ConfigurationError.invalid(
    "generateMigration({ timestamp })",
    `${timestamp} is not a 13-digit JavaScript timestamp`,
    "Leave it out to use Date.now(), or pass one such as 1700000000000.",
  );
}

// Whether `group` is the tenant group of a strategy that puts each tenant in its own schema.
function perTenantSchema(group: string, options: NormalizedOptions): boolean {
  if (group !== TENANT_GROUP || !options.tenants) return false;
  const template = templateOptionsOf(options.tenants.strategy, PLACEHOLDER_TENANT);
  const real = options.tenants.strategy.optionsFor(PLACEHOLDER_TENANT);
  return (
    (real as { schema?: string }).schema !== undefined &&
    (template as { schema?: string }).schema === undefined
  );
}

// The scratch database's default schema, as the schema builder qualifies names with it.
const SCRATCH_SCHEMA = /"public"\./g;

function unqualified(query: GeneratedQuery): GeneratedQuery {
  const text = query.query.replace(SCRATCH_SCHEMA, "");
  return text === query.query ? query : Object.freeze({ ...query, query: text });
}

function toGenerated(query: { query: string; parameters?: unknown[] }): GeneratedQuery {
  return query.parameters && query.parameters.length > 0
    ? Object.freeze({ query: query.query, parameters: Object.freeze([...query.parameters]) })
    : Object.freeze({ query: query.query });
}

function renderMigration(
  className: string,
  group: string,
  up: readonly GeneratedQuery[],
  down: readonly GeneratedQuery[],
): string {
  const body = (queries: readonly GeneratedQuery[]) =>
    queries
      .map((q) => {
        const parameters = q.parameters ? `, ${JSON.stringify(q.parameters)}` : "";
        return `    await queryRunner.query(\`${escapeTemplate(q.query)}\`${parameters});`;
      })
      .join("\n");
  return [
    `import type { MigrationInterface, QueryRunner } from "typeorm";`,
    ``,
    `/** Generated by typeorm-router from the entities placed in group "${group}". */`,
    `export class ${className} implements MigrationInterface {`,
    `  name = "${className}";`,
    ``,
    `  async up(queryRunner: QueryRunner): Promise<void> {`,
    body(up),
    `  }`,
    ``,
    `  async down(queryRunner: QueryRunner): Promise<void> {`,
    body(down),
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

function escapeTemplate(sql: string): string {
  return sql.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
}
