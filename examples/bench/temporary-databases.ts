import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** What a probe of the PostgreSQL server found. */
export type PostgresProbe =
  | { readonly reachable: true; readonly version: string }
  | { readonly reachable: false; readonly reason: string };

const CONNECT_TIMEOUT_MS = 3000;

/** Connects to the server at `url`, runs `fn`, and always disconnects. */
async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An error after connecting (e.g. the server going away) must reject the query, not crash.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Whether PostgreSQL answers at `url`, with its version or the reason it does not. */
export async function probePostgres(url: string): Promise<PostgresProbe> {
  try {
    const version = await withClient(url, async (client) => {
      const result = await client.query<{ server_version: string }>("SHOW server_version");
      return result.rows[0].server_version;
    });
    return { reachable: true, version };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    return {
      reachable: false,
      reason: code && !message.includes(code) ? `${code}: ${message}` : message,
    };
  }
}

/**
 * Uniquely named temporary databases on one PostgreSQL server. Every name is recorded before
 * its CREATE DATABASE runs, so `dropAll()` also removes one whose creation half-failed.
 */
export class TemporaryDatabases {
  readonly #adminUrl: string;
  readonly #prefix = `typeorm_router_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  readonly #names: string[] = [];

  /** `adminUrl` points at a database the server always has, e.g. `postgres`. */
  constructor(adminUrl: string) {
    this.#adminUrl = adminUrl;
  }

  /**
   * Creates database `<prefix>_<label>` and returns its connection URL. With
   * `synchronousCommit: false`, its sessions commit without waiting for the WAL flush.
   */
  async create(label: string, options: { synchronousCommit?: boolean } = {}): Promise<string> {
    if (!/^[a-z0-9_]+$/.test(label)) throw new Error(`invalid database label "${label}"`);
    const name = `${this.#prefix}_${label}`;
    this.#names.push(name);
    await withClient(this.#adminUrl, async (client) => {
      await client.query(`CREATE DATABASE "${name}"`);
      if (options.synchronousCommit === false) {
        await client.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
      }
    });
    const url = new URL(this.#adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /**
   * Drops the database created here that `url` points at, disconnecting whoever still uses
   * it (e.g. to free a large one before the next scenario).
   *
   * @throws Error when `url` names no database created here.
   */
  async drop(url: string): Promise<void> {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    if (!this.#names.includes(name)) throw new Error(`${name} was not created here`);
    await withClient(this.#adminUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
    this.#names.splice(this.#names.indexOf(name), 1);
  }

  /**
   * Drops every database created here, disconnecting whoever still uses it. A database that
   * could not be dropped stays recorded, so calling it again retries.
   *
   * @throws the first error, after trying to drop every database.
   */
  async dropAll(): Promise<void> {
    if (this.#names.length === 0) return;
    const errors: unknown[] = [];
    await withClient(this.#adminUrl, async (client) => {
      for (const name of [...this.#names]) {
        try {
          await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          this.#names.splice(this.#names.indexOf(name), 1);
        } catch (error) {
          errors.push(error);
        }
      }
    });
    if (errors.length > 0) throw errors[0];
  }
}
