import { quantile } from "./measure";
import { formatCount, formatKilobytes, formatMs, goalCell, markdownTable } from "./report";
// Type-only: tenant-sides imports the bench entities, which the main process must not load.
import type { SideFigures, SideName, TenantSidesResult } from "./tenant-sides";

/**
 * Cold tenants read (untimed) before the timed ones: from the first half of the list, which
 * the timed ones (from the end) never reach.
 */
export const COLD_WARMUP = 10;

/** Issue 9's goals for these figures. */
const COLD_EXTRA_GOAL = 1.2;
const CPU_RATIO_GOAL = 1.05;
const MIKRO_ORM_THROUGHPUT_GOAL = 2;

type Figure = keyof SideFigures;

// The median of a per-repetition value, and its spread (min–max) over the repetitions.
interface Spread {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  return {
    median: quantile(values, 0.5),
    low: Math.min(...values),
    high: Math.max(...values),
  };
}

function ratioText(spread: Spread | undefined, digits = 2): string {
  if (!spread) return "—";
  return `${spread.median.toFixed(digits)}× (${spread.low.toFixed(digits)}–${spread.high.toFixed(digits)})`;
}

/**
 * The side-by-side section: per side, time and CPU per read on one tenant and round robin,
 * as ratios to the pg floor measured in the same repetition; the cold-read extra; the issue's
 * goals; the hand-rolled Map's stopping point.
 */
export function tenantSidesSection(result: TenantSidesResult): string {
  const { request, sides } = result;
  const floor = sides["pg floor"] ?? [];
  // Per repetition: `figure` of `side` ÷ `figure` of the floor (or of `over`'s `overFigure`).
  const ratios = (
    side: SideName,
    figure: Figure,
    over: SideName = "pg floor",
    overFigure: Figure = figure,
  ): Spread | undefined => {
    const own = sides[side] ?? [];
    const base = over === "pg floor" ? floor : (sides[over] ?? []);
    const values = own.flatMap((figures, repetition) => {
      const a = figures[figure];
      const b = base[repetition]?.[overFigure];
      return a === undefined || b === undefined ? [] : [a / b];
    });
    return spreadOf(values);
  };
  const values = (side: SideName, figure: Figure) =>
    spreadOf((sides[side] ?? []).flatMap((figures) => figures[figure] ?? []));
  const ms = (spread: Spread | undefined) =>
    spread
      ? `${formatMs(spread.median)} (${spread.low.toFixed(3)}–${spread.high.toFixed(3)})`
      : "—";

  const names = Object.keys(sides) as SideName[];
  const table = markdownTable(
    [
      "side",
      "one tenant: time per read",
      "÷ floor",
      "round robin: time per read",
      "÷ floor",
      "CPU per read, round robin ÷ one tenant",
      "cold − warm read",
    ],
    names.map((name) => {
      const cold = (sides[name] ?? []).flatMap((f) =>
        f.coldExtraMs === undefined ? [] : [f.coldExtraMs],
      );
      const sameSide = name === "router, maxOpenTenants bounded" ? "router, all open" : name;
      return [
        name === "router, maxOpenTenants bounded"
          ? `router, maxOpenTenants ${formatCount(request.maxOpenTenants)}`
          : name,
        ms(values(name, "singleMsPerRead")),
        ratioText(ratios(name, "singleMsPerRead")),
        ms(values(name, "roundRobinMsPerRead")),
        ratioText(ratios(name, "roundRobinMsPerRead")),
        ratioText(ratios(name, "roundRobinCpuMsPerRead", sameSide, "singleCpuMsPerRead")),
        ms(spreadOf(cold)),
      ];
    }),
    [false, true, true, true, true, true, true],
  );

  const routerSingle = ratios("router, all open", "singleMsPerRead");
  const goals: string[] = [];
  if (routerSingle) {
    for (const side of ["router, all open", "router, maxOpenTenants bounded"] as const) {
      const rr = ratios(side, "roundRobinMsPerRead");
      if (!rr) continue;
      goals.push(
        `- Round robin over ${formatCount(request.tenants)} schemas, ${side === "router, all open" ? "every tenant open" : `maxOpenTenants ${formatCount(request.maxOpenTenants)}`}: ` +
          goalCell(
            rr.median <= routerSingle.median,
            `${rr.median.toFixed(2)}× the floor, goal ≤ the router's single-tenant ratio ${routerSingle.median.toFixed(2)}×`,
          ),
      );
      const cpu = ratios(side, "roundRobinCpuMsPerRead", "router, all open", "singleCpuMsPerRead");
      if (cpu) {
        goals.push(
          `- Node CPU per read, round robin ÷ one tenant (${side}): ` +
            goalCell(
              cpu.median <= CPU_RATIO_GOAL,
              `${cpu.median.toFixed(2)}×, goal ≤ ${CPU_RATIO_GOAL}×`,
            ),
        );
      }
    }
  }
  const coldExtra = (side: SideName) =>
    spreadOf(
      (sides[side] ?? []).flatMap((f) => (f.coldExtraMs === undefined ? [] : [f.coldExtraMs])),
    );
  const routerCold = coldExtra("router, all open");
  const floorCold = coldExtra("pg floor");
  if (routerCold && floorCold) {
    const ratio = routerCold.median / floorCold.median;
    goals.push(
      `- Cold first read minus warm read: router ${formatMs(routerCold.median)}, floor's own ${formatMs(floorCold.median)}: ` +
        goalCell(ratio <= COLD_EXTRA_GOAL, `${ratio.toFixed(2)}×, goal ≤ ${COLD_EXTRA_GOAL}×`),
    );
  }
  const mikro = ratios("MikroORM fork({ schema })", "roundRobinMsPerRead", "router, all open");
  if (mikro) {
    goals.push(
      `- Round-robin throughput, router (all open) ÷ MikroORM: ` +
        goalCell(
          mikro.median >= MIKRO_ORM_THROUGHPUT_GOAL,
          `${mikro.median.toFixed(2)}× (${mikro.low.toFixed(2)}–${mikro.high.toFixed(2)}), goal ≥ ${MIKRO_ORM_THROUGHPUT_GOAL}×`,
        ),
    );
  }
  // What no router built on TypeORM can beat: plain TypeORM's own one-tenant read plus the
  // round-robin extra the server charges the floor (per repetition).
  const typeormBound = spreadOf(
    (sides["MikroORM fork({ schema })"] ?? []).flatMap((mikroOrm, repetition) => {
      const plain = sides["plain TypeORM"]?.[repetition]?.singleMsPerRead;
      const floorFigures = floor[repetition];
      const mikroOrmRoundRobin = mikroOrm.roundRobinMsPerRead;
      if (
        plain === undefined ||
        mikroOrmRoundRobin === undefined ||
        floorFigures?.roundRobinMsPerRead === undefined ||
        floorFigures.singleMsPerRead === undefined
      ) {
        return [];
      }
      const serverExtra = floorFigures.roundRobinMsPerRead - floorFigures.singleMsPerRead;
      return [mikroOrmRoundRobin / (plain + serverExtra)];
    }),
  );
  if (typeormBound) {
    goals.push(
      `  - the most any router on TypeORM could reach here: MikroORM's round robin ÷ (plain TypeORM's one-tenant read + the floor's own round-robin extra) = ${ratioText(typeormBound)}`,
    );
  }
  const map = result.handRolledMap;
  return [
    `## (f) Side by side over ${formatCount(request.tenants)} tenant schemas`,
    "",
    `One database of ${formatCount(request.tenants)} schemas (the database of (b)); every side reads ` +
      `\`bench_item\` by primary key with a ${request.maxConnections}-connection pool of its own and ` +
      `${request.maxConnections} workers (closed loop, ${formatCount(request.reads)} reads per workload), one side at a time, ` +
      `their order rotating over ${request.repetitions} repetitions; every read checks its row names its tenant. ` +
      "The floor is raw `pg` with a schema-qualified named prepared statement per schema. Round robin is measured on the pass " +
      "after an unmeasured one over every tenant. Cold: the first read of a tenant the side's fresh connections never touched " +
      `(${request.coldSamples} tenants, after ${COLD_WARMUP} untimed ones), then the same read warm; cold − warm is the median of each tenant's own difference. Figures are medians over the repetitions, (min–max) their spread; ` +
      "each ratio is taken within one repetition. CPU is this process's (all sides share it, one at a time).",
    "",
    table,
    "",
    ...goals,
    "",
    `Hand-rolled \`Map<tenant, DataSource>\` (one DataSource per tenant, TypeORM's default pool): it held ` +
      `${map.connectionsAtStop} connections after ${map.tenantsOpened} tenants, past the ${request.maxConnections}-connection cap the other sides keep, ` +
      `so it fails at the server's \`max_connections\` with about one connection per open tenant (stopped at the cap here, ` +
      `not at the shared server's limit). Opening a tenant and reading took ${formatMs(map.openAndReadMs)} (median); ` +
      `heap ${formatKilobytes(map.heapPerTenant)} per open tenant.`,
    ...(result.mikroOrmSkipped ? ["", result.mikroOrmSkipped] : []),
  ].join("\n");
}
