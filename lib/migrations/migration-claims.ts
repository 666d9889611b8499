import os from "node:os";
import { Table, type QueryRunner } from "typeorm";
import { dialectFor } from "../dialects";
import type { Migration } from "./migration-set";
import { bookkeepingPath, deleteNamed, rememberTable, tableExists } from "./bookkeeping-tables";

/** A `transaction = false` migration claimed by a migrator that runs it (or ran it and died). */
export interface MigrationClaim {
  readonly name: string;
  /** Who claimed it: `host:pid`. */
  readonly owner: string;
  /** The database session that runs it, where the server can tell (`pid@start` on PostgreSQL). */
  readonly session: string | null;
  /** `"running"`: claimed, never completed nor withdrawn. */
  readonly state: string;
  /** When it was claimed. */
  readonly claimedAt: Date;
}

/** This process, as a claim's owner. */
export const CLAIM_OWNER = `${os.hostname()}:${process.pid}`;

/**
 * The claims of one group's `transaction = false` migrations in one database: a row per
 * migration that a migrator has started and not yet recorded as applied. A migrator claims
 * the migration (under the migration lock, in a transaction of its own), runs it outside any
 * transaction, then records it and removes the claim in one transaction; a failure removes
 * the claim. A claim that outlives its migrator (a crash, `kill -9`) is how a later run tells
 * an interrupted migration from a pending one: it is never reported up to date and never
 * rerun silently.
 */
export class MigrationClaims {
  /** The table, e.g. `migrations_default_claims`. */
  readonly name: string;

  constructor(migrationsTable: string) {
    this.name = `${migrationsTable}_claims`;
  }

  /** Creates the table unless it exists. */
  async ensure(queryRunner: QueryRunner): Promise<void> {
    if (await tableExists(queryRunner, this.name)) return;
    const driver = queryRunner.connection.driver;
    const type = (mapped: keyof typeof driver.mappedDataTypes) =>
      driver.normalizeType({ type: driver.mappedDataTypes[mapped] as string });
    const text = type("migrationName");
    await queryRunner.createTable(
      new Table({
        name: this.name,
        columns: [
          { name: "name", type: text, length: "255", isPrimary: true, isNullable: false },
          { name: "owner", type: text, length: "255", isNullable: false },
          { name: "session", type: text, length: "255", isNullable: true },
          { name: "state", type: text, length: "255", isNullable: false },
          { name: "claimed_at", type: type("migrationTimestamp"), isNullable: false },
        ],
      }),
      true,
    );
    rememberTable(queryRunner, this.name);
  }

  /** The claims, keyed by migration name; none when the table does not exist. */
  async read(queryRunner: QueryRunner): Promise<Map<string, MigrationClaim>> {
    if (!(await tableExists(queryRunner, this.name))) return new Map();
    const rows: Record<string, unknown>[] = await queryRunner.manager
      .createQueryBuilder(queryRunner)
      .select("*")
      .from(bookkeepingPath(queryRunner, this.name), "claims")
      .getRawMany();
    return new Map(
      rows.map((row) => [
        String(row.name),
        Object.freeze({
          name: String(row.name),
          owner: String(row.owner),
          session: row.session === null || row.session === undefined ? null : String(row.session),
          state: String(row.state),
          claimedAt: new Date(Number(row.claimed_at)),
        }),
      ]),
    );
  }

  /** Claims `migration` for this process, on the session `queryRunner` holds. */
  async claim(queryRunner: QueryRunner, migration: Migration): Promise<void> {
    await queryRunner.manager
      .createQueryBuilder(queryRunner)
      .insert()
      .into(bookkeepingPath(queryRunner, this.name))
      .values({
        name: migration.name,
        owner: CLAIM_OWNER,
        session: await sessionOf(queryRunner),
        state: "running",
        claimed_at: Date.now(),
      })
      .execute();
  }

  /** Removes the claim of `name` (completed, withdrawn, or resolved). */
  async release(queryRunner: QueryRunner, name: string): Promise<void> {
    if (!(await tableExists(queryRunner, this.name))) return;
    await deleteNamed(queryRunner, this.name, name);
  }
}

/**
 * Whether the migrator that made `claim` is still at work: its database session is still
 * connected (PostgreSQL: the backend's pid and start time in `pg_stat_activity`, so a killed
 * client whose statement still runs on the server counts as running), or else, on this host,
 * its process still exists. `undefined` when that cannot be told (another host, no session).
 */
export async function claimAlive(
  queryRunner: QueryRunner,
  claim: MigrationClaim,
): Promise<boolean | undefined> {
  const dialect = dialectFor(queryRunner.connection);
  if (claim.session !== null && dialect.sessionAlive) {
    return dialect.sessionAlive(queryRunner, claim.session);
  }
  const [host, pid] = [
    claim.owner.slice(0, claim.owner.lastIndexOf(":")),
    claim.owner.slice(claim.owner.lastIndexOf(":") + 1),
  ];
  if (host !== os.hostname()) return undefined;
  // This process holds the database's migration mutex: a claim of its own is a dead one's.
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

// The server session running the migration, where the server can name it.
async function sessionOf(queryRunner: QueryRunner): Promise<string | null> {
  return (await dialectFor(queryRunner.connection).currentSession?.(queryRunner)) ?? null;
}
