import { Client } from "pg";

/**
 * The explicit timeout of every hook that drops databases. Each `DROP DATABASE` waits for a
 * checkpoint, which takes seconds on a loaded machine (load average ≥ 10): the default 60 s
 * test timeout is not a budget for cleanup.
 */
export const CLEANUP_TIMEOUT_MS = 180_000;

// Concurrent drops share their checkpoints; a few at a time keep the server's backends free.
const DROP_CONCURRENCY = 6;
// WITH (FORCE) waits 5 s for the terminated backends to exit, then fails with 55006 ("is
// being accessed by other users"): on a loaded machine a backend may need longer.
const DROP_ATTEMPTS = 5;

/**
 * Drops the databases `names` on the server at `serverUrl`, concurrently (a few at a time),
 * `WITH (FORCE)` so that leftover connections are terminated, and retries a drop that found
 * a backend still exiting. Missing databases are fine.
 *
 * @throws the last driver error of a database that could not be dropped after every attempt.
 */
export async function dropDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const queue = [...new Set(names)];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      await dropOne(serverUrl, name);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(DROP_CONCURRENCY, queue.length) }, worker),
  );
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/**
 * Drops every database whose name starts with `prefix` on the server at `serverUrl` (see
 * {@link dropDatabases}): for suites that create databases through code that does not report
 * their names (the CLI, `tenants.create`).
 */
export async function dropDatabasesByPrefix(serverUrl: string, prefix: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  let names: string[];
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [prefix],
    );
    names = rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
  await dropDatabases(serverUrl, names);
}

async function dropOne(serverUrl: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const client = new Client({ connectionString: serverUrl });
    try {
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "55006" || attempt >= DROP_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
