import {
  Column,
  Entity,
  EventSubscriber,
  PrimaryGeneratedColumn,
  type EntitySubscriberInterface,
  type DataSource,
  type InsertEvent,
  type LoadEvent,
} from "typeorm";
import { External, TenantRouter, schemaPerTenant, withTenant } from "./setup/public-api";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { DRIVERS, describeDriver, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Memo {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

// An event's DataSource: `dataSource` on TypeORM 1.x (where `connection` is deprecated), only
// `connection` on 0.3.
function dataSourceOf(event: object): DataSource {
  const named = event as { dataSource?: DataSource; connection?: DataSource };
  return (named.dataSource ?? named.connection)!;
}

// Lives in `default`: what a subscriber of a tenant entity writes through its event's DataSource.
@Entity()
class MemoAudit {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

@EventSubscriber()
class MemoAuditor implements EntitySubscriberInterface<Memo> {
  readonly loadedFrom: unknown[] = [];

  listenTo(): typeof Memo {
    return Memo;
  }

  async afterInsert(event: InsertEvent<Memo>): Promise<void> {
    await dataSourceOf(event).getRepository(MemoAudit).save({ body: event.entity.body });
  }

  afterLoad(_memo: Memo, event?: LoadEvent<Memo>): void {
    this.loadedFrom.push(event && dataSourceOf(event));
  }
}

@EventSubscriber()
class MemoRecorder implements EntitySubscriberInterface<Memo> {
  readonly seen: { body: string; data: unknown }[] = [];

  listenTo(): typeof Memo {
    return Memo;
  }

  afterInsert(event: InsertEvent<Memo>): void {
    this.seen.push({ body: event.entity.body, data: event.queryRunner.data });
  }
}

for (const driver of DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    let router: TenantRouter;

    beforeAll(async () => {
      db = fixture();
      for (const tenant of ["a", "b"]) await db.createDatabase(`memo_${tenant}`);
      router = await TenantRouter.create({
        entities: [Memo, MemoAudit],
        databases: {
          default: { ...(await db.createDatabase("memo_default")), synchronize: true },
        },
        tenants: {
          list: ["a", "b"],
          options: (tenant) => ({
            ...db.optionsFor(`memo_${tenant}`),
            synchronize: true,
            subscribers: [MemoRecorder, MemoAuditor],
          }),
        },
      });
    });

    afterAll(async () => {
      await router?.close();
    });

    it("gives every database one instance of a subscriber: the one the router's DataSource lists", async () => {
      const facade = router.manager.connection;
      const recorders = facade.subscribers.filter((s) => s instanceof MemoRecorder);
      expect(recorders).toHaveLength(1);
      const recorder = recorders[0] as MemoRecorder;
      // TypeORM 0.3 keeps one instance per class for the whole process: only this test's.
      const seenBefore = recorder.seen.length;
      const memos = router.getRepository(Memo);
      await withTenant("a", () => memos.save({ body: "a: first" }, { data: { from: "a" } }));
      await withTenant("b", () => memos.save({ body: "b: first" }, { data: { from: "b" } }));
      // The events of both tenants' DataSources, with the query data of each save.
      expect(recorder.seen.slice(seenBefore)).toEqual([
        { body: "a: first", data: { from: "a" } },
        { body: "b: first", data: { from: "b" } },
      ]);
      for (const tenant of ["a", "b"]) {
        const own = await router.dataSourceOf({ tenant });
        expect(own.subscribers.filter((s) => s instanceof MemoRecorder)).toEqual([recorder]);
        const bodies = await db.rows<{ body: string }>(
          db.optionsFor(`memo_${tenant}`),
          "SELECT body FROM memo",
        );
        expect(bodies.map((row) => row.body)).toEqual([`${tenant}: first`]);
      }
    });

    it("gives every event the router's DataSource, so what a subscriber runs through it is routed", async () => {
      const facade = router.manager.connection;
      const auditor = facade.subscribers.find((s) => s instanceof MemoAuditor) as MemoAuditor;
      auditor.loadedFrom.length = 0; // one instance per process on TypeORM 0.3
      const memos = router.getRepository(Memo);
      await withTenant("a", () => memos.save({ body: "a: audited" }));
      await withTenant("b", () => memos.save({ body: "b: audited" }));
      await withTenant("a", () => memos.find());
      expect(auditor.loadedFrom.length).toBeGreaterThan(0);
      expect(auditor.loadedFrom.every((dataSource) => dataSource === facade)).toBe(true);
      // The audit rows (of this test's saves and the first test's) are in `default`, where
      // MemoAudit is placed; no tenant has its table.
      const audited = await db.rows<{ body: string }>(
        db.optionsFor("memo_default"),
        "SELECT body FROM memo_audit ORDER BY id",
      );
      expect(audited.map((row) => row.body)).toEqual([
        "a: first",
        "b: first",
        "a: audited",
        "b: audited",
      ]);
      for (const tenant of ["a", "b"]) {
        expect(await db.tables(db.optionsFor(`memo_${tenant}`))).toEqual(["memo"]);
      }
    });

    if (driver.name === "postgres") {
      it("gives the router's DataSource to events of tenants in schemas of one database too", async () => {
        await db.createDatabase("memo_schemas");
        const base = { ...db.optionsFor("memo_schemas"), synchronize: true };
        const schemas = await TenantRouter.create({
          entities: [Memo, MemoAudit],
          databases: {
            default: { ...(await db.createDatabase("memo_schemas_default")), synchronize: true },
          },
          tenants: {
            ...inMemoryTenants([]),
            strategy: schemaPerTenant({
              base: { ...base, subscribers: [MemoRecorder, MemoAuditor] } as never,
            }),
          },
        });
        try {
          await schemas.tenants.create("s1");
          const facade = schemas.manager.connection;
          const auditor = facade.subscribers.find((s) => s instanceof MemoAuditor) as MemoAuditor;
          auditor.loadedFrom.length = 0; // one instance per process on TypeORM 0.3
          await withTenant("s1", () => schemas.getRepository(Memo).save({ body: "s1: audited" }));
          await withTenant("s1", () => schemas.getRepository(Memo).find());
          expect(auditor.loadedFrom.length).toBeGreaterThan(0);
          expect(auditor.loadedFrom.every((dataSource) => dataSource === facade)).toBe(true);
          const audited = await db.rows<{ body: string }>(
            db.optionsFor("memo_schemas_default"),
            "SELECT body FROM memo_audit",
          );
          expect(audited.map((row) => row.body)).toEqual(["s1: audited"]);
        } finally {
          await schemas.close();
        }
      });
    }
  });
}
