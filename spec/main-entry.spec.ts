import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

// Loads an entry point in a fresh node process (TypeScript transpiled on require, as the
// compiled package would load it) and lists the project modules it loaded. Jest's own module
// registry cannot answer this: it loads everything the spec setup touches.
const ROOT = path.resolve(__dirname, "..");
const LOADER = `
  const ts = require("typescript");
  const fs = require("fs");
  require.extensions[".ts"] = (module, filename) => {
    const source = fs.readFileSync(filename, "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
      },
      fileName: filename,
    });
    module._compile(outputText, filename);
  };
  require("reflect-metadata");
  require(process.argv[1]);
  const root = process.cwd() + "/";
  const loaded = Object.keys(require.cache)
    .filter((file) => file.startsWith(root) && !file.includes("/node_modules/"))
    .map((file) => file.slice(root.length));
  process.stdout.write(JSON.stringify(loaded));
`;

async function modulesLoadedBy(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["-e", LOADER, path.join(ROOT, entry)],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as string[];
}

// Catalog introspection and DDL parsing: only typeorm-router/testing needs them.
const TESTING_ONLY = [
  "lib/dialects/testing-dialects.ts",
  "lib/dialects/postgres/postgres-introspection.ts",
  "lib/dialects/sqlite/sqlite-introspection.ts",
  "lib/dialects/sqlite/sqlite-ddl.ts",
  "lib/dialects/sql-tokens.ts",
];

describe("entry points", () => {
  it('require("typeorm-router") loads no introspection or DDL-parsing module', async () => {
    const loaded = await modulesLoadedBy("lib/index.ts");
    expect(loaded).toContain("lib/tenant-router.ts");
    expect(loaded).toContain("lib/dialects/postgres/postgres-dialect.ts");
    expect(loaded.filter((file) => TESTING_ONLY.includes(file))).toEqual([]);
  });

  it('require("typeorm-router/testing") loads them', async () => {
    const loaded = await modulesLoadedBy("lib/testing/index.ts");
    expect(TESTING_ONLY.filter((file) => !loaded.includes(file))).toEqual([]);
  });
});
