import { Column, Entity, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { BootstrapError, External, RoutedTo, TenantRouter } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

// Every class here is wrong in one way; bootstrap must report all of them at once.

@External()
export class NotAnEntity {}

class PlainHelper {}

@Entity()
export class Forgotten {
  @PrimaryGeneratedColumn()
  id!: number;
}

@External()
@RoutedTo("analytics")
@Entity()
class Conflicted {
  @PrimaryGeneratedColumn()
  id!: number;
}

@RoutedTo("nowhere")
@Entity()
class Lost {
  @PrimaryGeneratedColumn()
  id!: number;
}

@External()
@Entity()
class Sensor {
  @PrimaryGeneratedColumn()
  id!: number;
}

@Entity()
class SensorOwner {
  @PrimaryGeneratedColumn()
  id!: number;

  // A foreign key from default into tenant databases cannot exist.
  @ManyToOne(() => Sensor)
  sensor!: Sensor;

  // Foreign key off, but no router allows the relation.
  @ManyToOne(() => Sensor, { createForeignKeyConstraints: false })
  lastSensor!: Sensor;

  @Column({ type: "varchar" })
  name!: string;
}

describe("bootstrap validation", () => {
  const db = useSqliteFixture();

  const create = (overrides: Partial<Parameters<typeof TenantRouter.create>[0]> = {}) =>
    TenantRouter.create({
      entities: [Conflicted, Lost, Sensor, SensorOwner, PlainHelper],
      databases: { default: db.optionsFor("default"), analytics: db.optionsFor("analytics") },
      tenants: { list: ["t1"], options: (t) => db.optionsFor(`tenant_${t}`) },
      ...overrides,
    }).catch((e: unknown) => e);

  it("fails with one error that lists every problem", async () => {
    const error = await create();
    expect(error).toBeInstanceOf(BootstrapError);
    const { problems, message, code } = error as BootstrapError;
    expect(code).toBe("BOOTSTRAP_FAILED");
    expect(problems.map((p) => p.kind).sort()).toEqual(
      [
        "conflicting-placement",
        "cross-placement-relation",
        "cross-placement-relation",
        "decorator-on-non-entity",
        "not-an-entity",
        "undiscovered-entity",
        "unknown-alias",
      ].sort(),
    );
    const text = (kind: string) =>
      problems
        .filter((p) => p.kind === kind)
        .map((p) => p.message)
        .join("\n");
    expect(text("decorator-on-non-entity")).toContain('"NotAnEntity" has @External()');
    expect(text("not-an-entity")).toContain('"PlainHelper"');
    expect(text("undiscovered-entity")).toContain('"Forgotten"');
    expect(text("conflicting-placement")).toContain('@External(), @RoutedTo("analytics")');
    expect(text("unknown-alias")).toContain('@RoutedTo("nowhere")');
    expect(text("cross-placement-relation")).toContain("SensorOwner.sensor");
    expect(text("cross-placement-relation")).toContain("createForeignKeyConstraints: false");
    expect(text("cross-placement-relation")).toContain("SensorOwner.lastSensor");
    expect(text("cross-placement-relation")).toContain("allowRelation");
    for (let n = 1; n <= problems.length; n++) expect(message).toContain(`\n  ${n}. `);
    // Nothing was opened: no database file exists.
    expect(await db.tables(db.optionsFor("default"))).toEqual([]);
  });

  it("drops only the undiscovered-entity problem with the documented opt-out", async () => {
    const error = (await create({ undiscoveredEntities: "ignore" })) as BootstrapError;
    expect(error.problems.map((p) => p.kind)).not.toContain("undiscovered-entity");
    expect(error.problems.length).toBe(6);
  });

  it("accepts the cross-placement relation once its foreign key is off and a router allows it", async () => {
    const error = (await create({
      undiscoveredEntities: "ignore",
      routers: [
        { allowRelation: (a, b) => (a === SensorOwner && b === Sensor ? true : undefined) },
      ],
    })) as BootstrapError;
    const relationProblems = error.problems.filter((p) => p.kind === "cross-placement-relation");
    expect(relationProblems.map((p) => p.message)).toEqual([
      expect.stringContaining("SensorOwner.sensor "),
    ]);
  });
});
