import { Client } from "pg";

/**
 * Runs `fn` with a `pg` client connected to `url` (without TypeORM), and ends the client
 * afterwards, whether `fn` resolves or throws.
 */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs one statement on the database at `url` through a one-shot `pg` client and returns its
 * rows. Without `parameters` the text may hold several statements (simple query protocol).
 */
export function queryAt<T = Record<string, unknown>>(
  url: string,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<T[]> {
  return withClient(url, async (client) => (await client.query(sql, [...parameters])).rows as T[]);
}
