import { ConfigurationError } from "../errors";
import {
  migrationTester,
  type MigrationTester,
  type MigrationTesterOptions,
} from "./migration-tester";

type HookRegistrar = (hook: () => Promise<void>) => void;

/**
 * Creates a {@link migrationTester} for the tests of the enclosing `describe` block and
 * registers its `reset()` in `afterEach`, so that every test starts with `before()` on a new
 * database and no database outlives its test. Call it in the body of `describe`, not inside
 * a test or hook.
 *
 * @example
 * describe("FillIsClean1700000000003", () => {
 *   const migrator = useMigrationTester({ options: { type: "postgres", url }, migrations });
 *   it("marks rows that mention 'bad' dirty", async () => {
 *     const old = await migrator.before("AddIsClean1700000000002");
 *     await old.table("item").insert({ string_field: "bad apple" });
 *     const next = await migrator.after("FillIsClean1700000000003");
 *     expect(await next.table("item").count({ is_clean: false })).toBe(1);
 *   });
 * });
 *
 * @throws ConfigurationError when there is no global `afterEach` (not running under jest or a
 *   runner with the same globals).
 */
export function useMigrationTester(options: MigrationTesterOptions): MigrationTester {
  const afterEach = (globalThis as { afterEach?: HookRegistrar }).afterEach;
  if (typeof afterEach !== "function") {
    throw ConfigurationError.invalid(
      "useMigrationTester()",
      "there is no global afterEach() to register reset() with",
      "Call it in a describe() block of a jest test file, or use migrationTester() and call " +
        "reset() yourself after each test.",
    );
  }
  const tester = migrationTester(options);
  afterEach(() => tester.reset());
  return tester;
}
