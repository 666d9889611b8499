import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { TenantRouter, type RoutingError } from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS, dropDatabasesByPrefix } from "./setup/cleanup";
import { PG_URL, databaseUrl } from "./setup/drivers";
import { queryAt } from "./setup/pg";
import {
  CreateCounter1700000000001,
  SlowBackfill1700000000002,
} from "./fixtures/claims/slow-migrations";

// A transaction = false migration runs outside any transaction, so a migrator killed in the
// middle of it leaves it partly applied. The claim it took (owner, session, state "running")
// makes the next run report it: still running while its statement runs on the server, then
// interrupted, never "up to date" and never rerun silently, until the user resolves it.

const pgAvailable = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1";
const CHILD = path.join(__dirname, "fixtures", "claims", "migrate-child.js");
const SLEEP_SECONDS = 4;
const SLOW = "SlowBackfill1700000000002";

(pgAvailable ? describe : describe.skip)("a transaction = false migration killed mid-way", () => {
  const prefix = `tr_claims_${randomBytes(3).toString("hex")}_`;
  const routers: TenantRouter[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(routers.map((router) => router.close()));
    await dropDatabasesByPrefix(PG_URL, prefix);
  }, CLEANUP_TIMEOUT_MS);

  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /**
   * A database whose migrator (a child process) was killed with SIGKILL while the slow
   * migration ran, and whose pg_sleep has since ended on the server too.
   */
  async function interruptedDatabase(label: string) {
    const database = `${prefix}${label}`;
    const url = databaseUrl(database);
    await queryAt(PG_URL, `CREATE DATABASE "${database}"`);
    const child = spawn(process.execPath, [CHILD, url], {
      env: { ...process.env, SLOW_MIGRATION_SECONDS: String(SLEEP_SECONDS) },
      stdio: "ignore",
    });
    children.push(child);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const claims = () =>
      queryAt<{ name: string; owner: string; state: string; session: string }>(
        url,
        "SELECT name, owner, state, session FROM migrations_default_claims",
      ).catch(() => []);
    // Killed once the migration is mid-way: its first statement committed, pg_sleep running.
    await until(
      "the child to be mid-way through the slow migration",
      async () =>
        (
          await queryAt(
            url,
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'",
          )
        ).length > 0,
    );
    child.kill("SIGKILL");
    await exited;
    const [claim] = await claims();
    expect(claim).toMatchObject({
      name: SLOW,
      owner: `${os.hostname()}:${child.pid}`,
      state: "running",
    });
    const router = await TenantRouter.create({
      entities: [],
      undiscoveredEntities: "ignore",
      databases: { default: { type: "postgres", url } },
      migrations: { default: [CreateCounter1700000000001, SlowBackfill1700000000002] },
    });
    routers.push(router);
    return { url, router, child, claim };
  }

  const recorded = (url: string) =>
    queryAt<{ name: string }>(url, 'SELECT name FROM migrations_default ORDER BY "id"').then(
      (rows) => rows.map((row) => row.name),
    );
  const counterRows = async (url: string) =>
    (await queryAt<{ n: number }>(url, "SELECT count(*)::int AS n FROM counter"))[0].n;
  const sleeping = async (url: string, session: string) =>
    (
      await queryAt(url, "SELECT 1 FROM pg_stat_activity WHERE pid = $1", [
        Number(session.split("@")[0]),
      ])
    ).length > 0;

  it("is reported as still running, then as interrupted (never up to date); retry completes it exactly once", async () => {
    const { url, router, child, claim } = await interruptedDatabase("retry");
    expect(await counterRows(url)).toBe(1); // partly applied: its first statement committed
    expect(await recorded(url)).toEqual(["CreateCounter1700000000001"]);

    // The killed client's pg_sleep still runs on the server: the migration is left to it.
    expect(await sleeping(url, claim.session)).toBe(true);
    const running = await router.migrate();
    expect(running.results[0]).toMatchObject({ outcome: "failed" });
    expect(running.results[0].error).toMatchObject({ code: "MIGRATION_LOCKED" });
    expect(running.results[0].error!.message).toContain("still connected");
    await until(
      "the killed migration's statement to end",
      async () => !(await sleeping(url, claim.session)),
      15_000,
    );

    for (let run = 0; run < 2; run++) {
      const report = await router.migrate();
      expect(report.ok).toBe(false);
      expect(report.results[0]).toMatchObject({
        outcome: "failed",
        applied: [],
        pending: [{ group: "default", name: SLOW }],
      });
      const error = report.results[0].error as RoutingError & { owner: string; migration: string };
      expect(error).toMatchObject({
        code: "MIGRATION_INTERRUPTED",
        name: "MigrationInterruptedError",
        migration: SLOW,
        owner: `${os.hostname()}:${child.pid}`,
      });
      expect(error.message).toContain('resolveInterrupted: "retry"');
      expect(error.message).toContain("--mark-applied");
    }
    const [status] = await router.migrationStatus();
    expect(status.groups[0]).toMatchObject({ pending: [SLOW] });
    expect(status.groups[0].claimed.map((c) => [c.name, c.owner, c.state])).toEqual([
      [SLOW, `${os.hostname()}:${child.pid}`, "running"],
    ]);
    expect(await counterRows(url)).toBe(1); // nothing ran again
    expect(await recorded(url)).toEqual(["CreateCounter1700000000001"]);

    const retried = await router.migrate({ resolveInterrupted: "retry" });
    expect(retried.ok).toBe(true);
    expect(retried.results[0]).toMatchObject({
      outcome: "migrated",
      applied: [{ group: "default", name: SLOW }],
    });
    expect(await counterRows(url)).toBe(2); // ran once more, exactly once
    expect(await recorded(url)).toEqual(["CreateCounter1700000000001", SLOW]);
    expect(await queryAt(url, "SELECT * FROM migrations_default_claims")).toEqual([]);
    expect((await router.migrate()).results[0].outcome).toBe("up-to-date");
  }, 90_000);

  it("mark-applied records it without running it again", async () => {
    const { url, router, claim } = await interruptedDatabase("mark");
    await until(
      "the killed migration's statement to end",
      async () => !(await sleeping(url, claim.session)),
      15_000,
    );
    expect((await router.migrate()).results[0].error).toMatchObject({
      code: "MIGRATION_INTERRUPTED",
    });
    const marked = await router.migrate({ resolveInterrupted: "mark-applied" });
    expect(marked.results[0]).toMatchObject({
      outcome: "migrated",
      applied: [{ group: "default", name: SLOW }],
    });
    expect(await counterRows(url)).toBe(1);
    expect(await recorded(url)).toEqual(["CreateCounter1700000000001", SLOW]);
    expect(await queryAt(url, "SELECT * FROM migrations_default_claims")).toEqual([]);
  }, 90_000);

  it("refuses an unknown resolution", async () => {
    const router = await TenantRouter.create({
      entities: [],
      undiscoveredEntities: "ignore",
      databases: { default: { type: "postgres", url: databaseUrl("postgres") } },
    });
    routers.push(router);
    await expect(router.migrate({ resolveInterrupted: "skip" as "retry" })).rejects.toMatchObject({
      code: "INVALID_CONFIGURATION",
    });
  });
});
