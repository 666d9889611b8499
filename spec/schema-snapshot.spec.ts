import {
  DataSource,
  Table,
  TableCheck,
  TableForeignKey,
  TableIndex,
  TableUnique,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from "typeorm";
import {
  diffSchemas,
  schemaMatchers,
  snapshotSchema,
  type ColumnSnapshot,
  type SchemaDiffIgnore,
  type SchemaSnapshot,
  type TableSnapshot,
} from "typeorm-router/testing";
// Types `expect(...).toMatchSchema` (and registers it; the explicit extend below stays harmless).
import "typeorm-router/testing/jest";
import { ConfigurationError } from "./setup/public-api";
import { DRIVERS, describeDriver, type DriverCase, type DriverFixture } from "./setup/drivers";

expect.extend(schemaMatchers);

// MariaDB's snapshot has a suite of its own (mysql.spec.ts): this port story is written in
// PostgreSQL and SQLite DDL.
type DriverName = Exclude<DriverFixture["name"], "mariadb">;

// The schema of the port story, written by hand the Flyway way. It has what TypeORM's own
// introspection misses: an expression index, a partial index, a DESC key, a deferrable unique
// (PostgreSQL) and a composite, cascading, DEFERRABLE INITIALLY DEFERRED foreign key.
const HAND_WRITTEN: Record<DriverName, readonly string[]> = {
  postgres: [
    "CREATE TYPE item_kind AS ENUM ('book', 'game', 'tool')",
    `CREATE TABLE "order" (
      id integer NOT NULL,
      region varchar(8) NOT NULL,
      placed_at timestamptz NOT NULL DEFAULT now(),
      status varchar(16) NOT NULL DEFAULT 'new',
      CONSTRAINT order_pkey PRIMARY KEY (id, region))`,
    `CREATE INDEX order_placed_at_idx ON "order" (placed_at DESC)`,
    `CREATE TABLE item (
      id integer GENERATED ALWAYS AS IDENTITY,
      sku varchar(40) NOT NULL,
      name varchar(200) NOT NULL,
      kind item_kind NOT NULL DEFAULT 'book',
      qty integer NOT NULL DEFAULT 0,
      archived boolean NOT NULL DEFAULT false,
      note text,
      CONSTRAINT item_pkey PRIMARY KEY (id),
      CONSTRAINT item_sku_key UNIQUE (sku) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT item_qty_check CHECK (qty >= 0))`,
    "CREATE INDEX item_lower_name_idx ON item (lower(name))",
    "CREATE INDEX item_kind_name_idx ON item (kind, name)",
    "CREATE UNIQUE INDEX item_live_name_idx ON item (name) WHERE NOT archived",
    `CREATE TABLE order_line (
      id serial NOT NULL,
      order_id integer NOT NULL,
      order_region varchar(8) NOT NULL,
      item_id integer NOT NULL,
      quantity integer NOT NULL DEFAULT 1,
      unit_cents integer NOT NULL,
      total_cents integer GENERATED ALWAYS AS (quantity * unit_cents) STORED,
      CONSTRAINT order_line_pkey PRIMARY KEY (id),
      CONSTRAINT order_line_order_fk FOREIGN KEY (order_id, order_region)
        REFERENCES "order" (id, region) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT order_line_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
        ON DELETE RESTRICT ON UPDATE CASCADE,
      CONSTRAINT order_line_quantity_check CHECK (quantity > 0))`,
  ],
  sqlite: [
    `CREATE TABLE "order" (
      id integer NOT NULL,
      region varchar(8) NOT NULL,
      placed_at datetime NOT NULL DEFAULT (datetime('now')),
      status varchar(16) NOT NULL DEFAULT 'new',
      CONSTRAINT order_pkey PRIMARY KEY (id, region))`,
    `CREATE INDEX order_placed_at_idx ON "order" (placed_at DESC)`,
    `CREATE TABLE item (
      id integer PRIMARY KEY AUTOINCREMENT NOT NULL,
      sku varchar(40) NOT NULL,
      name varchar(200) NOT NULL,
      kind varchar(8) NOT NULL DEFAULT 'book',
      qty integer NOT NULL DEFAULT 0,
      archived boolean NOT NULL DEFAULT 0,
      note text,
      CONSTRAINT item_sku_key UNIQUE (sku),
      CONSTRAINT item_kind_check CHECK (kind IN ('book', 'game', 'tool')),
      CONSTRAINT item_qty_check CHECK (qty >= 0))`,
    "CREATE INDEX item_lower_name_idx ON item (lower(name))",
    "CREATE INDEX item_kind_name_idx ON item (kind, name)",
    "CREATE UNIQUE INDEX item_live_name_idx ON item (name) WHERE archived = 0",
    `CREATE TABLE order_line (
      id integer PRIMARY KEY AUTOINCREMENT NOT NULL,
      order_id integer NOT NULL,
      order_region varchar(8) NOT NULL,
      item_id integer NOT NULL CONSTRAINT order_line_item_fk REFERENCES item (id)
        ON DELETE RESTRICT ON UPDATE CASCADE,
      quantity integer NOT NULL DEFAULT 1,
      unit_cents integer NOT NULL,
      total_cents integer GENERATED ALWAYS AS (quantity * unit_cents) VIRTUAL,
      CONSTRAINT order_line_order_fk FOREIGN KEY (order_id, order_region)
        REFERENCES "order" (id, region) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT order_line_quantity_check CHECK (quantity > 0))`,
  ],
};

interface PortVariant {
  /** The key order of the (kind, name) index. */
  readonly kindNameIndex: readonly string[];
  /** Whether the composite foreign key is DEFERRABLE INITIALLY DEFERRED, as in the SQL. */
  readonly deferredForeignKey: boolean;
}

const PORTED: PortVariant = { kindNameIndex: ["kind", "name"], deferredForeignKey: false };

// The same schema as a TypeORM migration, the way a port writes it: Table API, TypeORM's own
// constraint names, a plain foreign key, and raw SQL only where the Table API has no words.
function portMigration(driver: DriverName, variant: PortVariant) {
  const postgres = driver === "postgres";
  const integer = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
    name,
    type: "integer",
    ...extra,
  });
  const varchar = (name: string, length: number, extra: Partial<TableColumnOptions> = {}) => ({
    name,
    type: "varchar",
    length: String(length),
    ...extra,
  });
  return class PortSchema1700000000000 implements MigrationInterface {
    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createTable(
        new Table({
          name: "order",
          columns: [
            integer("id", { isPrimary: true }),
            varchar("region", 8, { isPrimary: true }),
            postgres
              ? { name: "placed_at", type: "timestamptz", default: "now()" }
              : { name: "placed_at", type: "datetime", default: "datetime('now')" },
            varchar("status", 16, { default: "'new'" }),
          ],
        }),
      );
      await queryRunner.query('CREATE INDEX "order_placed_at_idx" ON "order" ("placed_at" DESC)');
      await queryRunner.createTable(
        new Table({
          name: "item",
          columns: [
            postgres
              ? integer("id", {
                  isPrimary: true,
                  isGenerated: true,
                  generationStrategy: "identity",
                  generatedIdentity: "ALWAYS",
                })
              : integer("id", {
                  isPrimary: true,
                  isGenerated: true,
                  generationStrategy: "increment",
                }),
            varchar("sku", 40),
            varchar("name", 200),
            postgres
              ? {
                  name: "kind",
                  type: "enum",
                  enum: ["book", "game", "tool"],
                  enumName: "item_kind",
                  default: "'book'",
                }
              : varchar("kind", 8, { default: "'book'" }),
            integer("qty", { default: "0" }),
            { name: "archived", type: "boolean", default: postgres ? "false" : "0" },
            { name: "note", type: "text", isNullable: true },
          ],
          uniques: [
            new TableUnique({
              columnNames: ["sku"],
              deferrable: postgres ? "INITIALLY DEFERRED" : undefined,
            }),
          ],
          checks: [
            ...(postgres
              ? []
              : [new TableCheck({ expression: `kind IN ('book', 'game', 'tool')` })]),
            new TableCheck({ expression: "qty >= 0" }),
          ],
          indices: [
            new TableIndex({ columnNames: [...variant.kindNameIndex] }),
            new TableIndex({
              columnNames: ["name"],
              isUnique: true,
              where: postgres ? "NOT archived" : "archived = 0",
            }),
          ],
        }),
      );
      await queryRunner.query('CREATE INDEX "item_lower_name_idx" ON "item" (lower("name"))');
      await queryRunner.createTable(
        new Table({
          name: "order_line",
          columns: [
            integer("id", { isPrimary: true, isGenerated: true, generationStrategy: "increment" }),
            integer("order_id"),
            varchar("order_region", 8),
            integer("item_id"),
            integer("quantity", { default: "1" }),
            integer("unit_cents"),
          ],
          checks: [new TableCheck({ expression: "quantity > 0" })],
          foreignKeys: [
            new TableForeignKey({
              columnNames: ["order_id", "order_region"],
              referencedTableName: "order",
              referencedColumnNames: ["id", "region"],
              onDelete: "CASCADE",
              deferrable: variant.deferredForeignKey ? "INITIALLY DEFERRED" : undefined,
            }),
            new TableForeignKey({
              columnNames: ["item_id"],
              referencedTableName: "item",
              referencedColumnNames: ["id"],
              onDelete: "RESTRICT",
              onUpdate: "CASCADE",
            }),
          ],
        }),
      );
      // TypeORM records generated columns in typeorm_metadata; plain SQL keeps the port exact.
      await queryRunner.query(
        'ALTER TABLE "order_line" ADD COLUMN "total_cents" integer GENERATED ALWAYS AS ' +
          `("quantity" * "unit_cents") ${postgres ? "STORED" : "VIRTUAL"}`,
      );
    }

    async down(): Promise<void> {}
  };
}

// What the catalog really holds for HAND_WRITTEN, read off the DDL above.
function expectedSnapshot(driver: DriverName): SchemaSnapshot {
  const pg = driver === "postgres";
  const column = (name: string, type: string, extra: Partial<ColumnSnapshot> = {}) => ({
    name,
    type,
    nullable: false,
    default: null,
    generated: null,
    ...extra,
  });
  const increment = { kind: "increment" } as const;
  return {
    tables: [
      {
        name: "item",
        columns: [
          column("id", "integer", {
            generated: pg ? { kind: "identity", always: true } : increment,
          }),
          column("sku", "varchar(40)"),
          column("name", "varchar(200)"),
          column("kind", pg ? "item_kind" : "varchar(8)", {
            default: pg ? "'book'::item_kind" : "'book'",
          }),
          column("qty", "integer", { default: "0" }),
          column("archived", "boolean", { default: pg ? "false" : "0" }),
          column("note", "text", { nullable: true }),
        ],
        // SQLite keeps no name for a column-level PRIMARY KEY without CONSTRAINT.
        primaryKey: { name: pg ? "item_pkey" : null, columns: ["id"] },
        // SQLite cannot defer a UNIQUE constraint, so the SQLite DDL does not ask for it.
        uniques: [
          { name: "item_sku_key", columns: ["sku"], deferrable: pg, initiallyDeferred: pg },
        ],
        indexes: [
          { name: "item_kind_name_idx", columns: ["kind", "name"], unique: false, where: null },
          {
            name: "item_live_name_idx",
            columns: ["name"],
            unique: true,
            where: pg ? "NOT archived" : "archived = 0",
          },
          {
            name: "item_lower_name_idx",
            columns: [pg ? "lower(name::text)" : "lower(name)"],
            unique: false,
            where: null,
          },
        ],
        checks: [
          ...(pg
            ? []
            : [{ name: "item_kind_check", expression: "kind IN ('book', 'game', 'tool')" }]),
          { name: "item_qty_check", expression: "qty >= 0" },
        ],
        foreignKeys: [],
      },
      {
        name: "order",
        columns: [
          column("id", "integer"),
          column("region", "varchar(8)"),
          pg
            ? column("placed_at", "timestamptz", { default: "now()" })
            : column("placed_at", "datetime", { default: "datetime('now')" }),
          column("status", "varchar(16)", {
            default: pg ? "'new'::character varying" : "'new'",
          }),
        ],
        primaryKey: { name: "order_pkey", columns: ["id", "region"] },
        uniques: [],
        indexes: [
          { name: "order_placed_at_idx", columns: ["placed_at DESC"], unique: false, where: null },
        ],
        checks: [],
        foreignKeys: [],
      },
      {
        name: "order_line",
        columns: [
          column("id", "integer", { generated: increment }),
          column("order_id", "integer"),
          column("order_region", "varchar(8)"),
          column("item_id", "integer"),
          column("quantity", "integer", { default: "1" }),
          column("unit_cents", "integer"),
          column("total_cents", "integer", {
            nullable: true,
            generated: { kind: "computed", expression: "quantity * unit_cents", stored: pg },
          }),
        ],
        primaryKey: { name: pg ? "order_line_pkey" : null, columns: ["id"] },
        uniques: [],
        indexes: [],
        checks: [{ name: "order_line_quantity_check", expression: "quantity > 0" }],
        foreignKeys: [
          {
            name: "order_line_item_fk",
            columns: ["item_id"],
            referencedTable: "item",
            referencedColumns: ["id"],
            onDelete: "RESTRICT",
            onUpdate: "CASCADE",
            deferrable: false,
            initiallyDeferred: false,
          },
          {
            name: "order_line_order_fk",
            columns: ["order_id", "order_region"],
            referencedTable: "order",
            referencedColumns: ["id", "region"],
            onDelete: "CASCADE",
            onUpdate: "NO ACTION",
            deferrable: true,
            initiallyDeferred: true,
          },
        ],
      },
    ],
    enums: pg ? [{ name: "item_kind", labels: ["book", "game", "tool"] }] : [],
  };
}

// The port's differences that are expected and allowed: names, and TypeORM's own table.
const PORT_IGNORE: SchemaDiffIgnore = { constraintNames: true, tables: ["migrations"] };

type Draft<T> = { -readonly [K in keyof T]: Draft<T[K]> };

// A copy of `snapshot` (through its JSON) with one table changed by `change`.
function edited(
  snapshot: SchemaSnapshot,
  table: string,
  change: (draft: Draft<TableSnapshot>) => void,
): SchemaSnapshot {
  const copy = JSON.parse(JSON.stringify(snapshot)) as Draft<SchemaSnapshot>;
  change(copy.tables.find((candidate) => candidate.name === table)!);
  return copy;
}

const PORT_DRIVERS = DRIVERS.filter(
  (driver): driver is DriverCase & { readonly name: DriverName } => driver.name !== "mariadb",
);

for (const driver of PORT_DRIVERS) {
  describeDriver(driver, (fixture) => {
    let db: DriverFixture;
    const opened: DataSource[] = [];
    let count = 0;

    beforeAll(() => {
      db = fixture();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((source) => source.destroy()));
    });

    const open = async (
      options: DataSourceOptions,
      migrations: DataSourceOptions["migrations"] = [],
    ) => {
      const source = new DataSource({ ...options, migrations, synchronize: false });
      await source.initialize();
      opened.push(source);
      return source;
    };

    // Database A: the hand-written SQL, run statement by statement.
    const handWritten = async (statements = HAND_WRITTEN[driver.name]) => {
      const source = await open(await db.createDatabase(`hand_${++count}`));
      for (const statement of statements) await source.query(statement);
      return source;
    };

    // Database B: the TypeORM migration, run by TypeORM (which adds its "migrations" table).
    const ported = async (variant: PortVariant = PORTED) => {
      const source = await open(await db.createDatabase(`port_${++count}`), [
        portMigration(driver.name, variant),
      ]);
      expect(await source.runMigrations()).toHaveLength(1);
      return source;
    };

    it("snapshots tables, columns, keys, uniques, expression and partial indexes, checks, foreign keys and enums", async () => {
      const snapshot = await snapshotSchema(await handWritten());

      expect(snapshot).toEqual(expectedSnapshot(driver.name));
    });

    it("is stable: the same JSON on every call and whatever order the DDL ran in", async () => {
      const statements = HAND_WRITTEN[driver.name];
      // Tables and indexes created in another order (the enum type, when present, first).
      const reordered =
        driver.name === "postgres"
          ? [0, 3, 6, 5, 4, 1, 2, 7].map((index) => statements[index])
          : [2, 5, 4, 3, 0, 1, 6].map((index) => statements[index]);
      expect([...reordered].sort()).toEqual([...statements].sort());
      const source = await handWritten();

      const first = await snapshotSchema(source);
      const second = await snapshotSchema(source);
      const other = await snapshotSchema(await handWritten(reordered));

      expect(JSON.stringify(second)).toBe(JSON.stringify(first));
      expect(JSON.stringify(other)).toBe(JSON.stringify(first));
      expect(JSON.parse(JSON.stringify(first))).toEqual(first);
      expect(first.tables.map((table) => table.name)).toEqual(["item", "order", "order_line"]);
    });

    it("leaves out the tables `exclude` names or matches", async () => {
      const source = await handWritten();

      const snapshot = await snapshotSchema(source, { exclude: ["order_line", /^ord/] });

      expect(snapshot.tables.map((table) => table.name)).toEqual(["item"]);
      expect(snapshot.tables[0]).toEqual(expectedSnapshot(driver.name).tables[0]);
    });

    it("reads another schema (PostgreSQL) or attached database (SQLite) when asked", async () => {
      const source = await handWritten();
      if (driver.name === "postgres") {
        await source.query("CREATE SCHEMA sales");
        await source.query("CREATE TYPE sales.tier AS ENUM ('gold', 'silver')");
        await source.query(
          "CREATE TABLE sales.customer (id integer PRIMARY KEY, " +
            "tier sales.tier NOT NULL DEFAULT 'silver', item_id integer REFERENCES public.item (id))",
        );
      } else {
        const file = (db.optionsFor(`sales_${++count}`) as { database: string }).database;
        await source.query(`ATTACH DATABASE '${file}' AS sales`);
        await source.query(
          "CREATE TABLE sales.customer (id integer PRIMARY KEY, " +
            "tier varchar(8) NOT NULL DEFAULT 'silver', item_id integer)",
        );
      }

      const snapshot = await snapshotSchema(source, { schema: "sales" });

      const pg = driver.name === "postgres";
      expect(snapshot).toEqual({
        tables: [
          {
            name: "customer",
            columns: [
              {
                name: "id",
                type: "integer",
                nullable: false,
                default: null,
                // SQLite: an INTEGER PRIMARY KEY without AUTOINCREMENT is the rowid.
                generated: pg ? null : { kind: "rowid" },
              },
              {
                name: "tier",
                // Not "sales.tier": the schema being read is implied.
                type: pg ? "tier" : "varchar(8)",
                nullable: false,
                default: pg ? "'silver'::sales.tier" : "'silver'",
                generated: null,
              },
              { name: "item_id", type: "integer", nullable: true, default: null, generated: null },
            ],
            primaryKey: { name: pg ? "customer_pkey" : null, columns: ["id"] },
            uniques: [],
            indexes: [],
            checks: [],
            foreignKeys: pg
              ? [
                  {
                    name: "customer_item_id_fkey",
                    columns: ["item_id"],
                    referencedTable: "public.item",
                    referencedColumns: ["id"],
                    onDelete: "NO ACTION",
                    onUpdate: "NO ACTION",
                    deferrable: false,
                    initiallyDeferred: false,
                  },
                ]
              : [],
          },
        ],
        enums: pg ? [{ name: "tier", labels: ["gold", "silver"] }] : [],
      });
      expect((await snapshotSchema(source)).tables.map((table) => table.name)).toEqual([
        "item",
        "order",
        "order_line",
      ]);
    });

    it("throws a ConfigurationError for an unknown schema, an uninitialized DataSource or a non-schema", async () => {
      const source = await handWritten();

      const unknown = snapshotSchema(source, { schema: "nowhere" });
      await expect(unknown).rejects.toThrow(ConfigurationError);
      await expect(unknown).rejects.toThrow(
        driver.name === "postgres"
          ? /schema "nowhere" does not exist in PostgreSQL database "tr_\w+_hand_\d+"/
          : /no SQLite database is attached as "nowhere" \(attached: "main"\)/,
      );
      const closed = new DataSource({ ...(await db.createDatabase(`closed_${++count}`)) });
      await expect(snapshotSchema(closed)).rejects.toThrow(
        /snapshotSchema\(dataSource\): the DataSource is not initialized.*dataSource\.initialize\(\)/,
      );
      await expect(expect({ tables: "item" }).toMatchSchema(source)).rejects.toThrow(
        /toMatchSchema: the received value: expected a DataSource or a schema snapshot, got Object/,
      );
    });

    describe("the port story: hand-written SQL in A, a TypeORM migration in B", () => {
      it("matches once names, TypeORM's migrations table and FK deferrability are ignored", async () => {
        const [a, b] = [await handWritten(), await ported()];

        await expect(a).toMatchSchema(b, { ignore: { ...PORT_IGNORE, fkDeferrability: true } });
        expect(
          diffSchemas(await snapshotSchema(a), await snapshotSchema(b), {
            ignore: { ...PORT_IGNORE, fkDeferrability: true },
          }),
        ).toEqual([]);
      });

      it("fails on the DEFERRABLE INITIALLY DEFERRED foreign key when its deferrability counts", async () => {
        const [a, b] = [await handWritten(), await ported()];

        await expect(expect(a).toMatchSchema(b, { ignore: PORT_IGNORE })).rejects.toThrow(
          /found 1 difference\(s\) between a \(received\) and b \(expected\):\n {2}- table order_line: foreign key order_line_order_fk \(b: FK_\w+\): deferrable DEFERRABLE INITIALLY DEFERRED vs NOT DEFERRABLE$/,
        );
        await expect(a).not.toMatchSchema(b, { ignore: PORT_IGNORE });
        // With B's foreign key deferred too, nothing else differs.
        await expect(a).toMatchSchema(await ported({ ...PORTED, deferredForeignKey: true }), {
          ignore: PORT_IGNORE,
        });
      });

      it("lists the name differences when constraint names count", async () => {
        const differences = diffSchemas(
          await snapshotSchema(await handWritten()),
          await snapshotSchema(await ported({ ...PORTED, deferredForeignKey: true })),
          { ignore: { tables: ["migrations"] } },
        );

        expect(differences).toContainEqual(
          expect.stringMatching(/^table item: unique item_sku_key: name item_sku_key vs UQ_\w+$/),
        );
        expect(differences).toContainEqual(
          expect.stringMatching(
            /^table item: index item_kind_name_idx: name item_kind_name_idx vs IDX_\w+$/,
          ),
        );
        expect(differences).toContainEqual(
          expect.stringMatching(
            /^table order_line: foreign key order_line_order_fk: name order_line_order_fk vs FK_\w+$/,
          ),
        );
        expect(differences.every((line) => / name \S+ vs \S+$/.test(line))).toBe(true);
      });

      it("fails naming the index whose key order changed", async () => {
        const a = await handWritten();
        const b = await ported({ ...PORTED, kindNameIndex: ["name", "kind"] });

        await expect(
          expect(a).toMatchSchema(b, { ignore: { ...PORT_IGNORE, fkDeferrability: true } }),
        ).rejects.toThrow(
          /found 1 difference\(s\)[^\n]*\n {2}- table item: index item_kind_name_idx \(b: IDX_\w+\): columns \(kind, name\) vs \(name, kind\)$/,
        );
      });
    });

    it("reports each kind of difference, and each ignore option removes exactly its own", async () => {
      const a = await snapshotSchema(await handWritten());
      const cases: [SchemaSnapshot, string[], SchemaDiffIgnore][] = [
        [
          edited(a, "item", (item) => item.columns.push(item.columns.splice(5, 1)[0])),
          [
            "table item: columns order (id, sku, name, kind, qty, archived, note) vs (id, sku, name, kind, qty, note, archived)",
          ],
          { columnOrder: true },
        ],
        [
          edited(a, "item", (item) => (item.columns[4].default = "1")),
          ["table item: column qty: default 0 vs 1"],
          { defaults: true },
        ],
        [
          edited(a, "item", (item) => {
            item.uniques[0].deferrable = !item.uniques[0].deferrable;
            item.uniques[0].initiallyDeferred = false;
          }),
          [
            driver.name === "postgres"
              ? "table item: unique item_sku_key: deferrable DEFERRABLE INITIALLY DEFERRED vs NOT DEFERRABLE"
              : "table item: unique item_sku_key: deferrable NOT DEFERRABLE vs DEFERRABLE INITIALLY IMMEDIATE",
          ],
          { uniqueDeferrability: true },
        ],
        [
          edited(a, "item", (item) => (item.indexes[0].name = "item_by_kind")),
          ["table item: index item_kind_name_idx: name item_kind_name_idx vs item_by_kind"],
          { indexNames: true },
        ],
        [
          edited(a, "order", (order) => (order.checks = [{ name: null, expression: "id > 0" }])),
          ["table order: check (id > 0): missing in a"],
          { tables: [/^order$/] },
        ],
        [
          { ...a, tables: a.tables.filter((table) => table.name !== "order_line") },
          ["table order_line: missing in b"],
          { tables: ["order_line"] },
        ],
      ];
      for (const [b, lines, ignore] of cases) {
        expect(diffSchemas(a, b)).toEqual(lines);
        expect(diffSchemas(a, b, { ignore })).toEqual([]);
      }
      const retyped = edited(a, "item", (item) => {
        item.columns[6].type = "varchar(10)";
        item.columns.splice(1, 1);
        item.checks.pop();
      });
      expect(diffSchemas(a, retyped, { ignore: { columnOrder: true, defaults: true } })).toEqual([
        "table item: column sku: missing in b",
        "table item: column note: type text vs varchar(10)",
        "table item: check item_qty_check: missing in b",
      ]);
    });
  });
}
