import { createHash, randomBytes } from "node:crypto";
import type { DataSourceOptions, QueryRunner } from "typeorm";
import { sleep } from "../../concurrency/sleep";
import type { Dialect, ScratchDatabase } from "../dialect";
import { mysqlConnectionLost } from "./mysql-connection-lost";
import { mysqlReadOnly } from "./mysql-read-only";
import { databaseOf, onServer, quote, renamed, type MysqlOptions } from "./mysql-server";

// GET_LOCK is a named lock of the whole server, held by the session (not the transaction): a
// COMMIT does not release it, and a pooled connection would keep it after the migrator let it
// go. It is released explicitly, on the connection that took it (unlockMigrations). Names
// longer than 64 characters are refused by MySQL, so the database and scope are hashed.
const LOCK_SQL = "SELECT GET_LOCK(?, 0) AS locked";
const UNLOCK_SQL = "SELECT RELEASE_LOCK(?) AS released";

/**
 * The `GET_LOCK` name of the migration lock of `scope` in `database`: 55 characters, whatever
 * their length.
 */
export function mysqlLockName(database: string, scope: string): string {
  const digest = createHash("sha1").update(`${database}\u0000${scope}`).digest("hex");
  return `typeorm-router:${digest}`;
}

async function lockName(queryRunner: QueryRunner, scope: string): Promise<string> {
  const [row] = (await queryRunner.query("SELECT DATABASE() AS name")) as {
    name: string | null;
  }[];
  return mysqlLockName(row.name ?? "", scope);
}

/**
 * MySQL and MariaDB (mysql2): session locks (`GET_LOCK`) released on the same connection, and
 * DDL that is not transactional (each CREATE/ALTER/DROP commits), so a failed migration may be
 * partly applied and a dry run cannot be a rolled-back transaction.
 */
export const mysqlDialect: Dialect = {
  types: ["mysql", "mariadb"],
  transactionalDdl: false,
  readOnly: mysqlReadOnly,
  connectionLost: mysqlConnectionLost,
  async lockMigrations(
    queryRunner: QueryRunner,
    scope: string,
    timeoutMs: number,
  ): Promise<boolean> {
    const name = await lockName(queryRunner, scope);
    const deadline = Date.now() + timeoutMs;
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      const [row] = (await queryRunner.query(LOCK_SQL, [name])) as { locked: unknown }[];
      if (Number(row.locked) === 1) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(wait, Math.max(deadline - Date.now(), 1)));
    }
  },
  async unlockMigrations(queryRunner: QueryRunner, scope: string): Promise<void> {
    await queryRunner.query(UNLOCK_SQL, [await lockName(queryRunner, scope)]);
  },
  async createDatabase(options: DataSourceOptions): Promise<void> {
    const name = databaseOf(options as MysqlOptions);
    await onServer(options as MysqlOptions, (server) =>
      server.query(`CREATE DATABASE ${quote(name)}`),
    );
  },
  async dropDatabase(options: DataSourceOptions): Promise<void> {
    const name = databaseOf(options as MysqlOptions);
    await onServer(options as MysqlOptions, (server) =>
      server.query(`DROP DATABASE IF EXISTS ${quote(name)}`),
    );
  },
  // A uniquely named database on the same server.
  async createScratchDatabase(options: DataSourceOptions): Promise<ScratchDatabase> {
    const scratch = renamed(options as MysqlOptions, scratchName());
    await mysqlDialect.createDatabase(scratch);
    return Object.freeze({ options: scratch, drop: () => mysqlDialect.dropDatabase(scratch) });
  },
};

/** A unique database name for scratch and test databases (`typeorm_router_scratch_<hex>`). */
export function scratchName(): string {
  return `typeorm_router_scratch_${randomBytes(6).toString("hex")}`;
}
