import { Client } from "pg";

/** What {@link createTenantSchemas} creates in one database. */
export interface TenantSchemasOptions {
  /** Tenants to create: ids `t00000`, `t00001`, … (see {@link benchTenantId}). */
  readonly count: number;
  /**
   * Whether each schema gets the `bench_item` table (the BenchItem entity) with
   * `rowsPerTenant` rows naming the tenant; without it the schemas are empty.
   */
  readonly withTable: boolean;
  /** Rows per tenant table, ids 1..rowsPerTenant. Default 5. */
  readonly rowsPerTenant?: number;
  /** Schemas per SQL batch (one round trip, one transaction). Default 500. */
  readonly batchSize?: number;
}

/** The id of the `index`-th benchmark tenant: `t` and five digits. */
export function benchTenantId(index: number): string {
  return `t${String(index).padStart(5, "0")}`;
}

/** The schema schemaPerTenant() gives a tenant by default. */
export function benchSchemaOf(tenant: string): string {
  return `tenant_${tenant}`;
}

/**
 * Creates `count` tenant schemas in the database at `url`, fast: one multi-statement SQL
 * batch per `batchSize` schemas (CREATE SCHEMA, CREATE TABLE, one INSERT), run one batch at a
 * time so the locks a batch holds stay within the server's lock table. Returns the tenant ids.
 */
export async function createTenantSchemas(
  url: string,
  options: TenantSchemasOptions,
): Promise<string[]> {
  const rows = options.rowsPerTenant ?? 5;
  const batchSize = options.batchSize ?? 500;
  const tenants = Array.from({ length: options.count }, (_, index) => benchTenantId(index));
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (let start = 0; start < tenants.length; start += batchSize) {
      const statements = tenants.slice(start, start + batchSize).flatMap((tenant) => {
        const schema = `"${benchSchemaOf(tenant)}"`;
        if (!options.withTable) return [`CREATE SCHEMA ${schema};`];
        const values = Array.from(
          { length: rows },
          (_, row) => `(${row + 1}, '${tenant}', ${row + 1})`,
        ).join(", ");
        return [
          `CREATE SCHEMA ${schema};`,
          `CREATE TABLE ${schema}."bench_item" (id integer PRIMARY KEY, tenant varchar(64) NOT NULL, value integer NOT NULL);`,
          ...(rows > 0
            ? [`INSERT INTO ${schema}."bench_item" (id, tenant, value) VALUES ${values};`]
            : []),
        ];
      });
      await client.query(statements.join("\n"));
    }
  } finally {
    await client.end();
  }
  return tenants;
}
