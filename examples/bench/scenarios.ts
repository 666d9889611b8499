import type { DataSource, EntityManager, Repository } from "typeorm";
import { withTenant, type TenantRouter } from "typeorm-router";
import { BenchRow } from "./bench-row.entity";
import type { Side } from "./measure";

/** One measured operation, as a plain side and a routed side running the same code. */
export interface Scenario {
  /** How the table names the operation. */
  readonly operation: string;
  readonly plain: Side;
  readonly routed: Side;
}

/** The same operation on two plain DataSources: what a ratio looks like with no router. */
export interface ControlScenario {
  readonly operation: string;
  readonly plain: Side;
  readonly control: Side;
}

/** What the scenarios run against. */
export interface ScenarioProps {
  /** The plain TypeORM DataSource, initialized, schema synchronized, rows seeded. */
  readonly plain: DataSource;
  /** The router whose tenant `tenant` points at the routed database, rows seeded. */
  readonly router: TenantRouter;
  /** A second plain DataSource on a third database, rows seeded. */
  readonly control: DataSource;
  readonly tenant: string;
  /** Rows with ids 1..seededRows exist on both sides. */
  readonly seededRows: number;
}

/** The scenarios of one database pair, and a check that each side wrote where it should. */
export interface ScenarioSet {
  readonly scenarios: readonly Scenario[];
  /** `findOneBy` on the plain DataSource against the control DataSource (A/A). */
  readonly control: ControlScenario;
  /**
   * Checks that each side's table holds exactly its seeded rows plus the rows it inserted,
   * which fails if both sides shared one database or a routed write went elsewhere.
   *
   * @throws Error naming the side whose count is off.
   */
  verifyRowCounts(): Promise<void>;
}

// The API one side offers: the plain DataSource's or the router's, used by identical code.
interface Api {
  readonly rows: Repository<BenchRow>;
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>;
}

interface SideState {
  inserted: number;
}

type Operation = (api: Api, index: number, state: SideState) => Promise<void>;

const FIND_ONE_BY: readonly [string, (seededRows: number) => Operation] = [
  "findOneBy (primary key)",
  (seededRows) => async (api, index) => {
    const id = (index % seededRows) + 1;
    const row = await api.rows.findOneBy({ id });
    if (row?.id !== id) throw new Error(`findOneBy({ id: ${id} }) found ${row?.id}`);
  },
];

const OPERATIONS: ReadonlyArray<readonly [string, (seededRows: number) => Operation]> = [
  FIND_ONE_BY,
  [
    "save (new row)",
    () => async (api, index, state) => {
      const row = await api.rows.save({ label: `save-${index}`, value: index });
      state.inserted++;
      if (typeof row.id !== "number") throw new Error("save() returned no generated id");
    },
  ],
  [
    "transaction (insert + read)",
    () => async (api, index, state) => {
      await api.transaction(async (manager) => {
        const saved = await manager.save(BenchRow, { label: `tx-${index}`, value: index });
        const read = await manager.findOneBy(BenchRow, { id: saved.id });
        if (read?.label !== saved.label) throw new Error(`transaction read ${read?.label}`);
      });
      state.inserted++;
    },
  ],
  [
    "query builder getMany (10 rows)",
    (seededRows) => async (api, index) => {
      const from = (index % Math.max(1, seededRows - 10)) + 1;
      const rows = await api.rows
        .createQueryBuilder("row")
        .where("row.id >= :from AND row.id < :to", { from, to: from + 10 })
        .orderBy("row.id")
        .getMany();
      if (rows.length !== 10 || rows[0].id !== from) {
        throw new Error(`getMany from ${from} found ${rows.length} rows`);
      }
    },
  ],
];

/**
 * Builds every scenario for one plain database and one routed database. The plain side calls
 * `ds.getRepository(BenchRow)` and `ds.transaction`; the routed side calls
 * `router.getRepository(BenchRow)` and `router.transaction` inside `withTenant(tenant)`, one
 * `withTenant` per batch, as a request handler would. The control runs `findOneBy` on the
 * plain DataSource and on the control DataSource.
 */
export function buildScenarios(props: ScenarioProps): ScenarioSet {
  const plainApi = plainApiOf(props.plain);
  const controlApi = plainApiOf(props.control);
  const routedApi: Api = {
    rows: props.router.getRepository(BenchRow),
    transaction: (fn) => props.router.transaction(fn),
  };
  const plainState: SideState = { inserted: 0 };
  const routedState: SideState = { inserted: 0 };
  const controlState: SideState = { inserted: 0 };
  const scenarios = OPERATIONS.map(([operation, build]): Scenario => {
    const run = build(props.seededRows);
    const plain = side(plainApi, run, plainState);
    const routed = side(routedApi, run, routedState);
    return {
      operation,
      plain,
      routed: { run: (count) => withTenant(props.tenant, () => routed.run(count)) },
    };
  });
  const [controlOperation, buildControl] = FIND_ONE_BY;
  const control: ControlScenario = {
    operation: controlOperation,
    plain: side(plainApi, buildControl(props.seededRows), plainState),
    control: side(controlApi, buildControl(props.seededRows), controlState),
  };
  return {
    scenarios,
    control,
    async verifyRowCounts() {
      const plainCount = await plainApi.rows.count();
      const controlCount = await controlApi.rows.count();
      const routedCount = await withTenant(props.tenant, () => routedApi.rows.count());
      const expect = (name: string, actual: number, state: SideState) => {
        const expected = props.seededRows + state.inserted;
        if (actual !== expected) {
          throw new Error(
            `the ${name} database holds ${actual} rows, expected ${expected} (${props.seededRows} seeded + ${state.inserted} inserted)`,
          );
        }
      };
      expect("plain", plainCount, plainState);
      expect("routed", routedCount, routedState);
      expect("control", controlCount, controlState);
    },
  };
}

function plainApiOf(dataSource: DataSource): Api {
  return {
    rows: dataSource.getRepository(BenchRow),
    transaction: (fn) => dataSource.transaction(fn),
  };
}

// A side whose operation index keeps counting across batches (fresh labels, rotating ids).
function side(api: Api, operation: Operation, state: SideState): Side {
  let next = 0;
  return {
    async run(count) {
      for (let i = 0; i < count; i++) await operation(api, next++, state);
    },
  };
}
