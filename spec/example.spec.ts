import { readFileSync } from "node:fs";
import path from "node:path";
import { runExample } from "../examples/tenants/main";

describe("examples/tenants (npm run example)", () => {
  it("puts each tenant's rows in its own database, and nothing of theirs in default", async () => {
    const lines: string[] = [];
    const result = await runExample((line) => lines.push(line));
    expect(result.tables).toEqual({
      default: ["migrations_default", "project"],
      legacy: ["customers"],
      "tenant-acme": ["data_point", "migrations_tenant"],
      "tenant-globex": ["data_point", "migrations_tenant"],
    });
    expect(result.schemaClean).toBe(true);
    expect(result.dataPoints).toEqual({
      "tenant-acme": ["acme-1", "acme-2"],
      "tenant-globex": ["globex-1"],
    });
    expect(result.legacyWriteError).toContain('database "legacy"');
    expect(result.noTenantError).toContain('"DataPoint"');
    expect(lines).toContain("legacy: read 2 customers (Ada, Grace)");
  });

  it("is what the README quick start shows", () => {
    const source = readFileSync(path.join(__dirname, "../examples/tenants/main.ts"), "utf8");
    const region = /\/\/ #region quick-start\n([\s\S]*?)\n\s*\/\/ #endregion quick-start/.exec(
      source,
    );
    expect(region).not.toBeNull();
    const lines = region![1].split("\n");
    const indent = Math.min(
      ...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length),
    );
    const snippet = lines.map((l) => l.slice(indent)).join("\n");
    const readme = readFileSync(path.join(__dirname, "../README.md"), "utf8");
    expect(readme).toContain(snippet);
  });
});
