import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { version } from "../package.json";

// The published package, as a user gets it: `npm pack`, unpacked into scratch apps under
// os.tmpdir() as npm lays a package out (node_modules/typeorm-router and its bin link; every
// dependency copied in from this checkout's node_modules, so nothing is downloaded and no
// registry metadata is needed: `npm i --offline` asks the npm cache for packuments a fresh
// machine does not have), then type-checked with skipLibCheck: false in three module
// setups, with and without @types/jest, and loaded by node.

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const TSC = require.resolve("typescript/bin/tsc", { paths: [ROOT] });

// What the scratch apps need besides typeorm-router: its dependencies and required peers,
// Nest (for typeorm-router/nestjs), and the Node types. Copied with their dependency closure.
const CORE = ["typeorm", "reflect-metadata", "commander", "tinyglobby", "debug", "@types/node"];
const NEST = ["@nestjs/common", "@nestjs/core", "rxjs"];

interface Manifest {
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

async function manifestOf(name: string): Promise<Manifest> {
  return JSON.parse(
    await readFile(path.join(ROOT, "node_modules", name, "package.json"), "utf8"),
  ) as Manifest;
}

async function closureOf(names: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (seen.has(name) || !existsSync(path.join(ROOT, "node_modules", name, "package.json"))) {
      return;
    }
    seen.add(name);
    const manifest = await manifestOf(name);
    for (const dependency of Object.keys({
      ...manifest.dependencies,
      ...manifest.optionalDependencies,
    })) {
      await visit(dependency);
    }
  };
  for (const name of names) await visit(name);
  return [...seen];
}

// Hard links (instant, same file system) or, across file systems, a copy.
async function copyPackage(name: string, into: string): Promise<void> {
  const from = path.join(ROOT, "node_modules", name);
  const to = path.join(into, "node_modules", name);
  await mkdir(path.dirname(to), { recursive: true });
  try {
    await run("cp", ["-al", from, to]);
  } catch {
    await cp(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

/** A scratch app with the tarball installed as npm installs it, offline. */
async function scratchApp(folder: string, tarball: string, withJest: boolean): Promise<string> {
  await mkdir(folder, { recursive: true });
  const provided = withJest ? [...CORE, "@types/jest"] : [...CORE, ...NEST];
  for (const name of await closureOf(provided)) await copyPackage(name, folder);
  const dependencies: Record<string, string> = { "typeorm-router": `file:${tarball}` };
  for (const name of provided) dependencies[name] = (await manifestOf(name)).version;
  await writeFile(
    path.join(folder, "package.json"),
    JSON.stringify({ name: "scratch", version: "1.0.0", private: true, dependencies }, null, 2),
  );
  const installed = path.join(folder, "node_modules", "typeorm-router");
  await mkdir(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  // The bin links npm makes from the manifest's `bin`.
  const { bin = {} } = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as {
    bin?: Record<string, string>;
  };
  const bins = path.join(folder, "node_modules", ".bin");
  await mkdir(bins, { recursive: true });
  for (const [name, file] of Object.entries(bin)) {
    await symlink(path.join("..", "typeorm-router", file), path.join(bins, name));
    await chmod(path.join(installed, file), 0o755);
  }
  return folder;
}

const APP_SOURCE = `import "reflect-metadata";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External, TenantRouter, withTenant, type RoutedRepository } from "typeorm-router";
import { RoutedTo } from "typeorm-router/decorators";
import { createTestDatabases, schemaMatchers, snapshotSchema } from "typeorm-router/testing";

@External()
@Entity()
export class Project {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}

export const helpers = [RoutedTo, createTestDatabases, schemaMatchers, snapshotSchema];

export async function main(): Promise<void> {
  const router = await TenantRouter.create({
    entities: [Project],
    databases: { default: { type: "better-sqlite3", database: ":memory:" } },
    tenants: { list: ["acme"], options: (tenant) => ({ type: "better-sqlite3", database: tenant }) },
  });
  await withTenant("acme", async () => {
    const projects: RoutedRepository<Project> = router.getRepository(Project);
    const builder = await projects.queryBuilder("p");
    await builder.where("p.name = :name", { name: "x" }).getMany();
  });
  await router.close();
}
`;

const NEST_SOURCE = `import { Module } from "@nestjs/common";
import type { RoutedRepository } from "typeorm-router";
import { InjectRoutedRepository, TenantRouterModule, tenantFromHeader } from "typeorm-router/nestjs";
import { Project } from "./app.js";

export class ProjectsService {
  constructor(@InjectRoutedRepository(Project) readonly projects: RoutedRepository<Project>) {}
}

@Module({
  imports: [
    TenantRouterModule.forRoot({
      router: { entities: [Project], databases: { default: { type: "better-sqlite3", database: ":memory:" } } },
      tenant: { resolve: tenantFromHeader("x-tenant-id") },
    }),
    TenantRouterModule.forFeature([Project]),
  ],
  providers: [ProjectsService],
})
export class AppModule {}
`;

const JEST_SOURCE = `import "typeorm-router/testing/jest";
import type { DataSource } from "typeorm";

export async function check(a: DataSource, b: DataSource): Promise<void> {
  await expect(a).toMatchSchema(b, { ignore: { constraintNames: true } });
}
`;

/** The three module setups a user may have. */
const SETUPS = [
  {
    name: "CommonJS, node10 resolution",
    module: "commonjs",
    resolution: "node10",
    type: undefined,
  },
  { name: "NodeNext ESM", module: "nodenext", resolution: "nodenext", type: "module" },
  { name: "bundler resolution", module: "esnext", resolution: "bundler", type: undefined },
] as const;

async function typeCheck(
  app: string,
  setup: (typeof SETUPS)[number],
  withJest: boolean,
): Promise<{ ok: boolean; output: string }> {
  const folder = path.join(app, setup.module);
  await mkdir(folder, { recursive: true });
  if (setup.type) await writeFile(path.join(folder, "package.json"), '{ "type": "module" }\n');
  await writeFile(path.join(folder, "app.ts"), APP_SOURCE);
  // Nest does not meet jest's types: the app without them also checks typeorm-router/nestjs.
  const extra = withJest ? { "matchers.ts": JEST_SOURCE } : { "nest.ts": NEST_SOURCE };
  for (const [file, source] of Object.entries(extra)) {
    await writeFile(path.join(folder, file), source);
  }
  const files = ["app.ts", ...Object.keys(extra)];
  const compilerOptions = {
    strict: true,
    target: "ES2022",
    module: setup.module,
    moduleResolution: setup.resolution,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    skipLibCheck: false,
    noEmit: true,
    types: withJest ? ["node", "jest"] : ["node"],
  };
  await writeFile(
    path.join(folder, "tsconfig.json"),
    JSON.stringify({ compilerOptions, files }, null, 2),
  );
  try {
    await run(process.execPath, [TSC, "-p", folder]);
    return { ok: true, output: "" };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout ?? ""}${stderr ?? ""}` };
  }
}

// Six tsc runs over the typeorm and Nest declarations share the CPU with the other suites: on
// a loaded machine (load average 10+) one takes minutes, which is not a failure.
const LOADED_MACHINE_MS = 600_000;

describe("the packed tarball (npm pack), installed offline into scratch apps", () => {
  let scratch: string;
  let tarball: string;
  let packed: string[];
  const apps: Record<"with" | "without", string> = { with: "", without: "" };
  // Every type check starts once the apps are installed; each test awaits its own.
  const checks = new Map<string, Promise<{ ok: boolean; output: string }>>();
  const checkKey = (setup: (typeof SETUPS)[number], withJest: boolean) =>
    `${setup.module}:${withJest}`;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-packaging-"));
    const stage = path.join(scratch, "package");
    // tsconfig.build.json as `npm run build` uses it, without examples/ (not shipped).
    const buildConfig = path.join(scratch, "tsconfig.pack.json");
    await writeFile(
      buildConfig,
      JSON.stringify({
        extends: path.join(ROOT, "tsconfig.build.json"),
        compilerOptions: {
          rootDir: ROOT,
          outDir: path.join(stage, "dist"),
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
        },
        include: [path.join(ROOT, "lib"), path.join(ROOT, "decorators")],
      }),
    );
    await run(process.execPath, [TSC, "-p", buildConfig]);
    for (const file of ["package.json", "README.md", "CHANGELOG.md"]) {
      await cp(path.join(ROOT, file), path.join(stage, file));
    }
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", scratch], {
      cwd: stage,
    });
    const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(scratch, result.filename);
    packed = result.files.map((file) => file.path);
    [apps.with, apps.without] = await Promise.all([
      scratchApp(path.join(scratch, "with-jest"), tarball, true),
      scratchApp(path.join(scratch, "without-jest"), tarball, false),
    ]);
    for (const withJest of [false, true]) {
      for (const setup of SETUPS) {
        const check = typeCheck(withJest ? apps.with : apps.without, setup, withJest);
        // Awaited by its test; never an unhandled rejection meanwhile.
        check.catch(() => undefined);
        checks.set(checkKey(setup, withJest), check);
      }
    }
  }, LOADED_MACHINE_MS);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("ships the built entries with source maps that carry their sources, and nothing else", async () => {
    for (const entry of [
      "lib/index",
      "lib/testing/index",
      "lib/testing/jest",
      "lib/nestjs/index",
      "decorators/index",
      "lib/cli/main",
    ]) {
      expect(packed).toContain(`dist/${entry}.js`);
      expect(packed).toContain(`dist/${entry}.d.ts`);
    }
    expect(packed.filter((file) => /^(lib|decorators|spec|examples)\//.test(file))).toEqual([]);
    expect(packed.filter((file) => file.startsWith("dist/examples/"))).toEqual([]);
    const maps = packed.filter((file) => file.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(50);
    const installed = path.join(apps.without, "node_modules", "typeorm-router");
    for (const map of maps) {
      const content = JSON.parse(await readFile(path.join(installed, map), "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect({
        map,
        withSources:
          content.sourcesContent?.length === content.sources.length &&
          content.sourcesContent.every((source) => typeof source === "string" && source.length > 0),
      }).toEqual({ map, withSources: true });
    }
  });

  for (const withJest of [false, true]) {
    for (const setup of SETUPS) {
      it(
        `type-checks with skipLibCheck: false: ${setup.name}, ${withJest ? "with" : "without"} @types/jest`,
        async () => {
          const app = withJest ? apps.with : apps.without;
          expect(existsSync(path.join(app, "node_modules", "@types", "jest"))).toBe(withJest);
          const result = await checks.get(checkKey(setup, withJest))!;
          expect(result.output).toBe("");
          expect(result.ok).toBe(true);
        },
        LOADED_MACHINE_MS,
      );
    }
  }

  it("loads in node: the main, testing and decorators entries never load Nest or jest", async () => {
    const script = `
      require("reflect-metadata");
      const main = require("typeorm-router");
      require("typeorm-router/testing");
      require("typeorm-router/decorators");
      const loaded = Object.keys(require.cache);
      const nest = require("typeorm-router/nestjs");
      console.log(JSON.stringify({
        router: typeof main.TenantRouter,
        nestLoaded: loaded.filter((file) => file.includes("@nestjs") || file.includes("rxjs")).length,
        nestjsEntry: typeof nest.TenantRouterModule,
      }));`;
    const { stdout } = await run(process.execPath, ["-e", script], { cwd: apps.without });
    expect(JSON.parse(stdout)).toEqual({
      router: "function",
      nestLoaded: 0,
      nestjsEntry: "function",
    });
    const esm = `import { TenantRouter, withTenant } from "typeorm-router";
      import { TenantRouterModule } from "typeorm-router/nestjs";
      console.log(typeof TenantRouter, typeof withTenant, typeof TenantRouterModule);`;
    const imported = await run(process.execPath, ["--input-type=module", "-e", esm], {
      cwd: apps.without,
    });
    expect(imported.stdout.trim()).toBe("function function function");
  });

  it("has a typeorm-router bin that prints its version", async () => {
    const bin = path.join(apps.without, "node_modules", ".bin", "typeorm-router");
    const { stdout } = await run(bin, ["--version"]);
    expect(stdout.trim()).toBe(version);
    expect((await readdir(path.join(apps.without, "node_modules", ".bin"))).sort()).toContain(
      "typeorm-router",
    );
  });
});
