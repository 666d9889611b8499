import {
  CannotDetermineEntityError,
  Column,
  DataSource,
  Entity,
  MustBeEntityError,
  PrimaryGeneratedColumn,
  QueryRunnerAlreadyReleasedError,
  TypeORMError,
  type EntityManager,
  type QueryRunner,
} from "typeorm";
import {
  External,
  NoTenantContextError,
  RouterClosedError,
  TenantRouter,
  UnknownTenantError,
  UnroutableOperationError,
  withTenant,
} from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Entry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  text!: string;
}

const ROLLBACK = new Error("roll back");

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;
    const textsIn = async (tenant: string) =>
      (
        await db.rows<{ text: string }>(
          db.optionsFor(`tenant_${tenant}`),
          "SELECT text FROM entry ORDER BY text",
        )
      ).map((row) => row.text);

    beforeAll(async () => {
      db = fixture();
      for (const tenant of ["a", "b"]) await db.createDatabase(`tenant_${tenant}`);
      router = await TenantRouter.create({
        entities: [Entry],
        databases: { default: await db.createDatabase("default") },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({ ...db.optionsFor(`tenant_${tenant}`), synchronize: true }),
        },
      });
      for (const tenant of ["a", "b"])
        await withTenant(tenant, () => router.getRepository(Entry).count());
    });

    afterAll(async () => {
      await router?.close();
    });

    it("gives the transaction's manager its queryRunner, on the transaction's connection", async () => {
      await withTenant("a", () =>
        router.transaction(async (manager) => {
          expect(manager.queryRunner).toBeDefined();
          await manager.queryRunner!.query(`INSERT INTO entry (text) VALUES ('a: raw')`);
          expect(manager.queryRunner!.isTransactionActive).toBe(true);
          await manager.save(Entry, { text: "a: saved" });
          // The same connection sees both rows before the commit.
          const rows = (await manager.queryRunner!.query(`SELECT text FROM entry`)) as unknown[];
          expect(rows).toHaveLength(2);
        }),
      );
      expect(await textsIn("a")).toEqual(["a: raw", "a: saved"]);
      expect(await textsIn("b")).toEqual([]);
    });

    it("pins a transaction whose first operation is a query builder or raw SQL, and rolls it back", async () => {
      const attempts = [
        (manager: import("typeorm").EntityManager) =>
          manager
            .createQueryBuilder()
            .insert()
            .into(Entry)
            .values({ text: "b: builder" })
            .execute(),
        (manager: import("typeorm").EntityManager) =>
          manager.query(`INSERT INTO entry (text) VALUES ('b: raw')`),
      ];
      for (const first of attempts) {
        await expect(
          withTenant("b", () =>
            router.transaction(async (manager) => {
              await first(manager);
              await manager.save(Entry, { text: "b: after" });
              throw ROLLBACK;
            }),
          ),
        ).rejects.toBe(ROLLBACK);
      }
      expect(await textsIn("b")).toEqual([]);
    });

    it("validates the isolation level when the transaction starts, as TypeORM does", async () => {
      // A level TypeORM's own driver refuses: its SQLite drivers list READ UNCOMMITTED and
      // SERIALIZABLE only; PostgreSQL and MySQL/MariaDB list all four standard levels (a plain
      // TypeORM DataSource on MariaDB runs a READ COMMITTED transaction), and none has SNAPSHOT.
      const unsupported = driver.name === "sqlite" ? "READ COMMITTED" : "SNAPSHOT";
      const ran = jest.fn();
      const attempt = withTenant("a", () =>
        router.transaction({ isolationLevel: unsupported as never }, async () => ran()),
      );
      await expect(attempt).rejects.toThrow(TypeORMError);
      await expect(attempt).rejects.toThrow(`${unsupported} isolation level is not supported`);
      expect(ran).not.toHaveBeenCalled();
    });

    it("gives TypeORM's own errors for what cannot be saved", async () => {
      const plain = new DataSource({ ...db.optionsFor("tenant_a"), entities: [Entry] });
      await plain.initialize();
      try {
        for (const [value, type] of [
          [undefined, MustBeEntityError],
          [{}, CannotDetermineEntityError],
        ] as const) {
          const expected = await plain.manager.save(value as never).catch((error: Error) => error);
          const routed = await withTenant("a", () =>
            router.manager.save(value as never).catch((error: Error) => error),
          );
          expect(expected).toBeInstanceOf(type);
          expect(routed).toBeInstanceOf(type);
          expect((routed as Error).message).toBe((expected as Error).message);
        }
      } finally {
        await plain.destroy();
      }
    });

    it("hands a transaction's repositories its queryRunner, and withRepository() rebinds routed ones", async () => {
      const custom = router.getRepository(Entry).extend({
        async add(this: import("typeorm").Repository<Entry>, text: string) {
          return this.save({ text });
        },
      });
      await expect(
        withTenant("b", () =>
          router.transaction(async (manager) => {
            const entries = manager.getRepository(Entry);
            expect(entries.queryRunner).toBe(manager.queryRunner);
            // A locking read as the first statement: it needs the transaction to be active.
            const locked =
              driver.name === "postgres"
                ? manager.createQueryBuilder(Entry, "e").setLock("pessimistic_write")
                : manager.createQueryBuilder(Entry, "e");
            expect(await locked.getMany()).toHaveLength(0);
            await manager.withRepository(custom).add("b: custom in transaction");
            expect(await locked.getMany()).toHaveLength(1);
            throw ROLLBACK;
          }),
        ),
      ).rejects.toBe(ROLLBACK);
      expect(await textsIn("b")).toEqual([]);
    });

    it("keeps methods assigned on a routing runner, and a restore does not loop", async () => {
      const dataSource = await withTenant("a", () => router.dataSourceFor(Entry));
      const first = dataSource.createQueryRunner();
      const second = dataSource.createQueryRunner();
      expect(first.manager).not.toBe(second.manager);
      expect(first.manager.queryRunner).toBe(first);
      const original = first.query;
      const seen: string[] = [];
      first.query = ((sql: string, ...rest: unknown[]) => {
        seen.push(sql);
        return (original as (...args: unknown[]) => Promise<unknown>).call(first, sql, ...rest);
      }) as typeof first.query;
      try {
        expect(await first.manager.count(Entry)).toBeGreaterThanOrEqual(2);
        expect(seen.some((sql) => /count/i.test(sql))).toBe(true);
        first.query = original;
        expect(await first.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      } finally {
        await first.release();
        await second.release();
      }
    });

    it("rejects save(1) with TypeORM's MustBeEntityError", async () => {
      await expect(withTenant("a", () => router.manager.save(1 as never))).rejects.toBeInstanceOf(
        MustBeEntityError,
      );
    });

    it("runs a transaction's repository calls and raw SQL on manager.queryRunner, patches included", async () => {
      const seen: string[] = [];
      await withTenant("a", () =>
        router.transaction(async (manager) => {
          const runner = manager.queryRunner!;
          const original = runner.query;
          // As sinon installs a spy: with defineProperty, before the first statement.
          Object.defineProperty(runner, "query", {
            configurable: true,
            writable: true,
            value(this: QueryRunner, sql: string, ...rest: unknown[]) {
              seen.push(sql);
              return (original as (...args: unknown[]) => Promise<unknown>).call(
                this,
                sql,
                ...rest,
              );
            },
          });
          await manager.getRepository(Entry).find();
          await manager.query("SELECT 2 AS two");
        }),
      );
      expect(seen.some((sql) => /entry/i.test(sql))).toBe(true);
      expect(seen).toContain("SELECT 2 AS two");
    });

    it("releases a runner of the router's DataSource through its own release() when disposed, spies included", async () => {
      const runner = router.manager.connection.createQueryRunner();
      const release = runner.release;
      let released = 0;
      // As sinon installs a spy: with defineProperty.
      Object.defineProperty(runner, "release", {
        configurable: true,
        writable: true,
        value(this: QueryRunner) {
          released++;
          return release.call(this);
        },
      });
      await withTenant("a", () => runner.query("SELECT 1 AS one"));
      // What `await using runner = ...` calls at the end of its block (TypeORM 1.x).
      const dispose = (Symbol as { asyncDispose?: symbol }).asyncDispose!;
      await (runner as unknown as Record<symbol, () => Promise<void>>)[dispose]();
      expect(released).toBe(1);
      expect(runner.isReleased).toBe(true);
    });

    it("keeps a nested transaction's manager in the outer transaction after the savepoint, as TypeORM does", async () => {
      const run = (outcome: "commit" | "roll back") =>
        withTenant("a", () =>
          router.transaction(async () => {
            let inner: EntityManager | undefined;
            await router.transaction(async (manager) => {
              inner = manager;
              expect(manager.queryRunner!.isTransactionActive).toBe(true);
              await manager.save(Entry, { text: `a: nested ${outcome}, in savepoint` });
            });
            // The savepoint is released; the outer transaction still runs.
            await inner!.save(Entry, { text: `a: nested ${outcome}, after savepoint` });
            await inner!.query(`INSERT INTO entry (text) VALUES ('a: nested ${outcome}, raw')`);
            if (outcome === "roll back") throw ROLLBACK;
          }),
        );
      await run("commit");
      await expect(run("roll back")).rejects.toBe(ROLLBACK);
      const nested = (await textsIn("a")).filter((text) => text.startsWith("a: nested"));
      expect(nested).toEqual([
        "a: nested commit, after savepoint",
        "a: nested commit, in savepoint",
        "a: nested commit, raw",
      ]);
    });

    it("runs the transaction manager's calls inside its transaction, and refuses them once it ended", async () => {
      let kept: EntityManager | undefined;
      await expect(
        withTenant("a", () =>
          router.transaction(async (manager) => {
            kept = manager;
            await manager.save(Entry, { text: "a: tx-rolled-back" });
            await manager.insert(Entry, { text: "a: tx-rolled-back too" });
            // Read back on the transaction's connection: the rows are there, uncommitted.
            expect(await manager.countBy(Entry, { text: "a: tx-rolled-back" })).toBe(1);
            throw ROLLBACK;
          }),
        ),
      ).rejects.toBe(ROLLBACK);
      expect(await textsIn("a")).not.toContain("a: tx-rolled-back");
      expect(await textsIn("a")).not.toContain("a: tx-rolled-back too");
      // Kept past its transaction: TypeORM's error (inside a tenant or not), nothing written.
      const late = kept!;
      const writes: Array<[() => Promise<unknown>, outside: new (...args: never[]) => Error]> = [
        [() => late.save(Entry, { text: "a: late save" }), QueryRunnerAlreadyReleasedError],
        [
          () => late.query(`INSERT INTO entry (text) VALUES ('a: late raw')`),
          QueryRunnerAlreadyReleasedError,
        ],
        // A builder naming an @External entity is routed as it is made: no tenant, no builder.
        [
          () =>
            late
              .createQueryBuilder(Entry, "entry")
              .insert()
              .values({ text: "a: late builder" })
              .execute(),
          NoTenantContextError,
        ],
      ];
      for (const [write, outside] of writes) {
        await expect(withTenant("a", write)).rejects.toBeInstanceOf(
          QueryRunnerAlreadyReleasedError,
        );
        await expect(Promise.resolve().then(write)).rejects.toBeInstanceOf(outside);
      }
      expect((await textsIn("a")).filter((text) => text.startsWith("a: late"))).toEqual([]);
    });

    it("runs raw SQL in the tenant in context on a router with no entities, until it closes", async () => {
      const bare = await TenantRouter.create({
        entities: [],
        undiscoveredEntities: "ignore",
        databases: { default: db.optionsFor("default") },
        tenants: { list: ["a"], options: (tenant) => db.optionsFor(`tenant_${tenant}`) },
      });
      try {
        const rows = await withTenant("a", () =>
          bare.manager.query("SELECT count(*) AS n FROM entry"),
        );
        expect(rows).toHaveLength(1);
        // An explicit database, with no entity to name it by.
        const tenantA = await bare.dataSourceOf({ tenant: "a" });
        const counted = (await tenantA.query("SELECT count(*) AS n FROM entry")) as { n: number }[];
        expect(Number(counted[0].n)).toBe(Number((rows as { n: number }[])[0].n));
        await expect(bare.dataSourceOf({ tenant: "nobody" })).rejects.toThrow(UnknownTenantError);
        // A builder on a runner of the caller's own (as TypeORM's MigrationExecutor makes one)
        // runs there; without one, on the tenant in context, as the DataSource facade does.
        const runner = tenantA.createQueryRunner();
        try {
          const built = await withTenant("a", () =>
            bare.manager
              .createQueryBuilder(runner)
              .select("count(*)", "n")
              .from("entry", "entry")
              .getRawOne<{ n: number }>(),
          );
          expect(Number(built!.n)).toBe(Number(counted[0].n));
        } finally {
          await runner.release();
        }
        const contextual = await withTenant("a", () =>
          bare.manager
            .createQueryBuilder()
            .select("count(*)", "n")
            .from("entry", "entry")
            .getRawOne<{ n: number }>(),
        );
        expect(Number(contextual!.n)).toBe(Number(counted[0].n));
        const facade = bare.manager.connection;
        const viaFacade = (await withTenant("a", () =>
          facade.query("SELECT count(*) AS n FROM entry"),
        )) as { n: number }[];
        expect(Number(viaFacade[0].n)).toBe(Number(counted[0].n));
        // Outside a tenant, nothing names a database: it throws, never reads default.
        await expect(facade.query("SELECT count(*) AS n FROM entry")).rejects.toBeInstanceOf(
          UnroutableOperationError,
        );
      } finally {
        await bare.close();
      }
      await expect(withTenant("a", () => bare.manager.query("SELECT 1"))).rejects.toBeInstanceOf(
        RouterClosedError,
      );
    });
  });
}
