import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** Where `npm run bench:peers` installs the pinned peers (outside the library's dependencies). */
export const PEERS_FOLDER = path.resolve(__dirname, "../../../examples/bench/peers");

/** The MikroORM version the bench pins (7.x needs Node 22). */
export const MIKRO_ORM_VERSION = "6.6.16";

/** A bench_item row as every side reads it. */
export interface ItemRow {
  readonly id: number;
  readonly tenant: string;
}

/** MikroORM, opened on a database of tenant schemas. */
export interface MikroOrmSide {
  /** Reads row `id` of `schema`'s bench_item through a fresh `em.fork({ schema })`. */
  read(schema: string, id: number): Promise<ItemRow | null>;
  close(): Promise<void>;
}

// The few MikroORM 6 calls the bench makes, typed here: the library never depends on it.
interface MikroOrmModule {
  readonly MikroORM: { init(options: object): Promise<MikroOrm> };
  readonly EntitySchema: new (meta: object) => object;
}
interface MikroOrm {
  readonly em: { fork(options: { schema: string }): MikroEntityManager };
  close(force?: boolean): Promise<void>;
}
interface MikroEntityManager {
  findOne(entity: string, where: object): Promise<ItemRow | null>;
}

/**
 * Why the MikroORM side cannot run (peers not installed, or another version), or
 * `undefined` when it can.
 */
export function mikroOrmUnavailable(): string | undefined {
  const manifest = path.join(PEERS_FOLDER, "node_modules/@mikro-orm/postgresql/package.json");
  if (!existsSync(manifest)) {
    return "MikroORM side skipped: the pinned peers are not installed (run `npm run bench:peers`).";
  }
  const { version } = createRequire(manifest)(manifest) as { version: string };
  if (version !== MIKRO_ORM_VERSION) {
    return `MikroORM side skipped: ${version} is installed, the bench pins ${MIKRO_ORM_VERSION} (run \`npm run bench:peers\`).`;
  }
  return undefined;
}

/**
 * Opens MikroORM 6 on `url` with `maxConnections` pooled connections and the bench_item
 * table as an EntitySchema without a schema of its own, so `em.fork({ schema })` picks it.
 */
export async function openMikroOrm(url: string, maxConnections: number): Promise<MikroOrmSide> {
  const load = createRequire(path.join(PEERS_FOLDER, "package.json"));
  const { MikroORM, EntitySchema } = load("@mikro-orm/postgresql") as MikroOrmModule;
  const item = new EntitySchema({
    name: "BenchItem",
    tableName: "bench_item",
    properties: {
      id: { type: "number", primary: true },
      tenant: { type: "string" },
      value: { type: "number" },
    },
  });
  const orm = await MikroORM.init({
    entities: [item],
    clientUrl: url,
    pool: { min: 0, max: maxConnections },
    discovery: { warnWhenNoEntities: false },
    debug: false,
    ensureDatabase: false,
  });
  return {
    read: (schema, id) => orm.em.fork({ schema }).findOne("BenchItem", { id }),
    close: () => orm.close(true),
  };
}
