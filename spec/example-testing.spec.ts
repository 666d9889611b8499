import { runTestingExample } from "../examples/testing/main";

describe("examples/testing (npm run example:testing)", () => {
  it("runs the data migration over old rows, reverts it, and diffs a hand-written schema", async () => {
    const lines: string[] = [];
    const result = await runTestingExample((line) => lines.push(line));
    expect(result.afterDataMigration).toEqual({ clean: 2, dirty: 1 });
    expect(result.columnsAfterRevert).toEqual(["id", "string_field", "is_clean"]);
    expect(result.strictDiff).toEqual([
      expect.stringMatching(/table pet: foreign key .*deferrable/),
    ]);
    expect(result.lenientDiff).toEqual([]);
    expect(lines).toContain("data migration 0003: 2 clean, 1 dirty");
  });
});
