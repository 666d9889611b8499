import { DataSource } from "typeorm";
import { ConfigurationError } from "../errors";
import { diffSchemas, type SchemaDiffOptions } from "./schema-diff";
import { isSchemaSnapshot, snapshotSchema, type SchemaSnapshot } from "./schema-snapshot";

/** What `toMatchSchema` compares: a snapshot, or an initialized DataSource to snapshot. */
export type SchemaSource = SchemaSnapshot | DataSource;

/**
 * The part of a test runner's matcher context `toMatchSchema` uses: jest's and vitest's
 * `expect.extend` both give it, so this entry needs neither runner's types.
 */
export interface SchemaMatcherContext {
  readonly isNot?: boolean;
  readonly promise?: string;
  readonly utils: {
    matcherHint(
      matcherName: string,
      received?: string,
      expected?: string,
      options?: { isNot?: boolean; promise?: string },
    ): string;
  };
}

/** What a matcher returns to `expect.extend`. */
export interface SchemaMatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

/**
 * Matchers for schema snapshots; register them with `expect.extend(schemaMatchers)` (jest or
 * vitest). For the `toMatchSchema` type on jest's `expect`, import `typeorm-router/testing/jest`
 * (which also registers them).
 * `await expect(a).toMatchSchema(b, { ignore })` snapshots DataSources with
 * {@link snapshotSchema}, compares with {@link diffSchemas}, and prints the differences.
 *
 * @example
 * expect.extend(schemaMatchers);
 * await expect(handWritten).toMatchSchema(migrated, { ignore: { fkDeferrability: true } });
 * @throws ConfigurationError (the expectation fails with it) when a side is neither a
 *   DataSource nor a snapshot.
 */
export const schemaMatchers = {
  async toMatchSchema(
    this: SchemaMatcherContext,
    received: unknown,
    expected: unknown,
    options: SchemaDiffOptions = {},
  ): Promise<SchemaMatcherResult> {
    const [a, b] = await Promise.all([
      snapshotOf(received, "the received value"),
      snapshotOf(expected, "the expected value"),
    ]);
    const differences = diffSchemas(a, b, options);
    const ignored = Object.entries(options.ignore ?? {})
      .filter(([, value]) => value !== false && value !== undefined)
      .map(([key]) => key);
    const under = ignored.length ? ` (ignoring ${ignored.join(", ")})` : "";
    const hint = this.utils.matcherHint("toMatchSchema", "received", "expected", {
      isNot: this.isNot,
      promise: this.promise,
    });
    return {
      pass: differences.length === 0,
      message: () =>
        differences.length === 0
          ? `${hint}\n\nExpected the schemas to differ${under}, but they match.`
          : `${hint}\n\nExpected the schemas to match${under}; found ${differences.length} ` +
            `difference(s) between a (received) and b (expected):\n` +
            differences.map((line) => `  - ${line}`).join("\n"),
    };
  },
};

async function snapshotOf(value: unknown, role: string): Promise<SchemaSnapshot> {
  if (value instanceof DataSource) return snapshotSchema(value);
  if (isSchemaSnapshot(value)) return value;
  throw ConfigurationError.invalid(
    `toMatchSchema: ${role}`,
    `expected a DataSource or a schema snapshot, got ${describe(value)}`,
    "Pass an initialized DataSource, or the result of `await snapshotSchema(dataSource)`.",
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "an object";
}
