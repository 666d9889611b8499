import { randomBytes } from "node:crypto";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { TenantRouter, withPrimary, withTenant } from "./setup/public-api";
import { PG_PRIMARY_URL, PG_REPLICA_URL, databaseUrl, describeServer } from "./setup/drivers";
import { CLEANUP_TIMEOUT_MS, dropDatabases } from "./setup/cleanup";
import { queryAt } from "./setup/pg";

// A real streaming replica: `bash .ci/pg-replica.sh` runs a primary on 5433 and a replica of
// it (pg_basebackup) on 5434. The spec proves where each query ran from the servers' own
// pg_stat_statements, and makes replication lag visible by pausing WAL replay.

@Entity({ name: "replica_probe" })
class Probe {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

/** Rows of `text` run on `database` of `server`, without the router. */
const sql = <T>(server: string, database: string, text: string, parameters: unknown[] = []) =>
  queryAt<T>(databaseUrl(database, server), text, parameters);

const PRIMARY_URL = PG_PRIMARY_URL;
const REPLICA_URL = PG_REPLICA_URL;

const suite = "read replicas on a real streaming replica";
describeServer(suite, PG_PRIMARY_URL, () => describeServer(suite, PG_REPLICA_URL, replicaSuite));

function replicaSuite(): void {
  const database = `tr_replica_${randomBytes(4).toString("hex")}`;
  const routers: TenantRouter[] = [];

  // SELECT/INSERT calls on replica_probe in our database, as each server counted them.
  const calls = async (server: string, verb: "SELECT" | "INSERT"): Promise<number> => {
    const rows = await sql<{ calls: string }>(
      server,
      "postgres",
      `SELECT coalesce(sum(s.calls), 0) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 AND s.query ILIKE $2 AND s.query ILIKE '%replica_probe%'`,
      [database, `${verb}%`],
    );
    return Number(rows[0].calls);
  };
  const counts = async () => ({
    primarySelects: await calls(PRIMARY_URL, "SELECT"),
    replicaSelects: await calls(REPLICA_URL, "SELECT"),
    primaryInserts: await calls(PRIMARY_URL, "INSERT"),
    replicaInserts: await calls(REPLICA_URL, "INSERT"),
  });
  const onReplica = (label: string) =>
    sql(REPLICA_URL, database, "SELECT 1 FROM replica_probe WHERE label = $1", [label]).then(
      (rows) => rows.length > 0,
    );
  const waitForReplica = async (label: string) => {
    const deadline = Date.now() + 15_000;
    while (!(await onReplica(label))) {
      if (Date.now() > deadline) throw new Error(`"${label}" never reached the replica`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const create = async (stickyMs: number) => {
    const router = await TenantRouter.create({
      entities: [Probe],
      databases: {
        default: {
          primary: { type: "postgres", url: databaseUrl(database, PRIMARY_URL), synchronize: true },
          replicas: [{ type: "postgres", url: databaseUrl(database, REPLICA_URL) }],
          stickyMs,
        },
      },
      tenants: {
        list: ["a", "b"],
        options: () => ({ type: "postgres", url: databaseUrl(database, PRIMARY_URL) }),
      },
    });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    const [{ replica }] = await sql<{ replica: boolean }>(
      REPLICA_URL,
      "postgres",
      "SELECT pg_is_in_recovery() AS replica",
    );
    if (!replica)
      throw new Error(`${REPLICA_URL} answers but is not a replica: run bash .ci/pg-replica.sh.`);
    await sql(PRIMARY_URL, "postgres", `CREATE DATABASE "${database}"`);
    // The replica replays CREATE DATABASE: wait until it can be reached there.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = await sql(
        REPLICA_URL,
        "postgres",
        "SELECT 1 FROM pg_database WHERE datname = $1",
        [database],
      );
      if (rows.length > 0) break;
      if (Date.now() > deadline) throw new Error("the test database never reached the replica");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const router = await create(2000);
    // Reads go to the replica: open the primary explicitly, where synchronize creates the table.
    await withPrimary(() => router.getRepository(Probe).count());
    await router.close();
    routers.length = 0;
  });

  afterEach(async () => {
    await sql(REPLICA_URL, "postgres", "SELECT pg_wal_replay_resume()");
    await Promise.all(routers.splice(0).map((router) => router.close()));
  });

  afterAll(async () => {
    await dropDatabases(databaseUrl("postgres", PRIMARY_URL), [database]);
  }, CLEANUP_TIMEOUT_MS);

  it("sends reads to the replica and writes to the primary", async () => {
    const router = await create(0);
    await router.getRepository(Probe).save({ label: "written" });
    await waitForReplica("written");
    const before = await counts();
    expect(await router.getRepository(Probe).countBy({ label: "written" })).toBe(1);
    await router.getRepository(Probe).find();
    await router.getRepository(Probe).save({ label: "second" });
    const after = await counts();
    expect(after.replicaSelects - before.replicaSelects).toBe(2);
    expect(after.primarySelects - before.primarySelects).toBe(0);
    expect(after.primaryInserts - before.primaryInserts).toBe(1);
    expect(after.replicaInserts).toBe(0);
  });

  it("reads a context's own write from the primary inside the sticky window, while the replica lags", async () => {
    const router = await create(2000);
    await sql(REPLICA_URL, "postgres", "SELECT pg_wal_replay_pause()");
    const before = await counts();
    const seenByWriter = await withTenant("a", async () => {
      await router.getRepository(Probe).save({ label: "fresh" });
      return router.getRepository(Probe).countBy({ label: "fresh" });
    });
    // Another request, which did not write, reads the (lagging) replica.
    const seenByOther = await withTenant("b", () =>
      router.getRepository(Probe).countBy({ label: "fresh" }),
    );
    const after = await counts();
    expect(seenByWriter).toBe(1); // read-your-writes
    expect(seenByOther).toBe(0); // the replica has not replayed the write yet
    expect(after.primarySelects - before.primarySelects).toBe(1);
    expect(after.replicaSelects - before.replicaSelects).toBe(1);
    expect(await onReplica("fresh")).toBe(false);
    await sql(REPLICA_URL, "postgres", "SELECT pg_wal_replay_resume()");
    await waitForReplica("fresh");
  });

  it("returns to the replica once the sticky window has passed", async () => {
    const router = await create(150);
    await withTenant("a", async () => {
      await router.getRepository(Probe).save({ label: "window" });
      await waitForReplica("window");
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = await counts();
      await router.getRepository(Probe).countBy({ label: "window" });
      const after = await counts();
      expect(after.replicaSelects - before.replicaSelects).toBe(1);
      expect(after.primarySelects - before.primarySelects).toBe(0);
    });
  });

  it("forces the primary with withPrimary and inside transactions", async () => {
    const router = await create(0);
    await router.getRepository(Probe).save({ label: "forced" });
    await waitForReplica("forced");
    const before = await counts();
    await withPrimary(() => router.getRepository(Probe).countBy({ label: "forced" }));
    await router.transaction(async () => {
      await router.getRepository(Probe).countBy({ label: "forced" });
      await router.getRepository(Probe).save({ label: "in transaction" });
      await router.getRepository(Probe).countBy({ label: "in transaction" });
    });
    const after = await counts();
    expect(after.primarySelects - before.primarySelects).toBe(3);
    expect(after.replicaSelects - before.replicaSelects).toBe(0);
  });

  it("never migrates or verifies a replica", async () => {
    const router = await create(0);
    const report = await router.migrate();
    expect(report.results.map((r) => `${r.database.kind}:${r.database.name}`)).toEqual([
      "alias:default",
      "tenant:a",
      "tenant:b",
    ]);
    const schema = await router.verifySchema();
    expect(schema.results.map((r) => `${r.database.kind}:${r.database.name}`)).toEqual([
      "alias:default",
      "tenant:a",
      "tenant:b",
    ]);
    expect(router.poolStats().keys.filter((key) => key.includes("#replica"))).toEqual([]);
  });
}
