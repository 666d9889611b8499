import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External, PoolExhaustedError, TenantRouter, withTenant } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

@External()
@Entity()
class Entry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  label!: string;
}

// TypeORM's SQLite drivers put every caller on one connection. Plain TypeORM then nests
// concurrent transactions into each other (the second BEGIN fails, its rollback ends the
// first): through the router they take the connection in turn, as on a server.
describe("SQLite: one connection per database, transactions take it in turn", () => {
  const db = useSqliteFixture();
  let router: TenantRouter;

  beforeAll(async () => {
    router = await TenantRouter.create({
      entities: [Entry],
      databases: { default: await db.createDatabase("default") },
      tenants: {
        list: ["a"],
        options: () => ({ ...db.optionsFor("one_connection_a"), synchronize: true }),
      },
      pool: { acquireTimeoutMs: 60_000 },
    });
  });
  afterAll(() => router?.close());

  const stored = async () =>
    (
      await db.rows<{ label: string }>(
        db.optionsFor("one_connection_a"),
        "SELECT label FROM entry ORDER BY label",
      )
    ).map((row) => row.label);

  it("commits 20 concurrent transactions, rolls back the failing ones alone, and mixes with plain saves", async () => {
    const outcomes = await withTenant("a", () =>
      Promise.allSettled(
        Array.from({ length: 30 }, async (_, index) => {
          if (index % 3 === 2) {
            await router.getRepository(Entry).save({ label: `save-${index}` });
            return;
          }
          await router.transaction(async (manager) => {
            await manager.save(Entry, { label: `tx-${index}-1` });
            await manager.getRepository(Entry).createQueryBuilder("e").getCount();
            await manager.save(Entry, { label: `tx-${index}-2` });
            if (index % 3 === 1) throw new Error(`rollback ${index}`);
          });
        }),
      ),
    );
    const failed = outcomes.flatMap((outcome, index) =>
      outcome.status === "rejected" ? [{ index, reason: String(outcome.reason) }] : [],
    );
    expect(failed).toEqual(
      Array.from({ length: 10 }, (_, n) => ({
        index: 3 * n + 1,
        reason: `Error: rollback ${3 * n + 1}`,
      })),
    );
    const expected = Array.from({ length: 10 }, (_, n) => [
      `tx-${3 * n}-1`,
      `tx-${3 * n}-2`,
      `save-${3 * n + 2}`,
    ])
      .flat()
      .sort();
    expect(await stored()).toEqual(expected);
  });

  it("keeps an open transaction's rows from statements outside it (they wait, then see its rollback)", async () => {
    let proceed!: () => void;
    const holding = new Promise<void>((resolve) => (proceed = resolve));
    let inserted!: () => void;
    const inside = new Promise<void>((resolve) => (inserted = resolve));
    const before = (await stored()).length;
    const transaction = withTenant("a", () =>
      router.transaction(async (manager) => {
        await manager.save(Entry, { label: "rolled-back" });
        inserted();
        await holding;
        throw new Error("roll back");
      }),
    );
    await inside;
    // Outside the transaction: waits for it (never reads its uncommitted row).
    const count = withTenant("a", () => router.getRepository(Entry).count());
    await new Promise((resolve) => setTimeout(resolve, 50));
    proceed();
    await expect(transaction).rejects.toThrow("roll back");
    expect(await count).toBe(before);
    expect(await stored()).not.toContain("rolled-back");
  });

  it("fails a transaction that waited longer than pool.acquireTimeoutMs with PoolExhaustedError, writing nothing", async () => {
    const impatient = await TenantRouter.create({
      entities: [Entry],
      databases: { default: await db.createDatabase("impatient_default") },
      tenants: { list: ["a"], options: () => db.optionsFor("one_connection_a") },
      pool: { acquireTimeoutMs: 500 },
    });
    const before = await stored();
    let proceed!: () => void;
    const holding = new Promise<void>((resolve) => (proceed = resolve));
    let inserted!: () => void;
    const inside = new Promise<void>((resolve) => (inserted = resolve));
    const holder = withTenant("a", () =>
      impatient.transaction(async (manager) => {
        await manager.save(Entry, { label: "held" });
        inserted();
        await holding;
      }),
    );
    await inside;
    const waiter = withTenant("a", () =>
      impatient.transaction((manager) => manager.save(Entry, { label: "waited" })),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const error = await waiter;
    proceed();
    await holder;
    await impatient.close();
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect(String(error)).toMatch(/SQLite has one connection per database/);
    expect(await stored()).toEqual([...before, "held"].sort());
  });
});
