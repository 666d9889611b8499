import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { RoutingError } from "../errors";
import type { TenantRouterOptions } from "../tenant-router";
import { TenantRouter } from "../tenant-router";
import { CliUsageError } from "./cli-usage-error";

// TypeScript compiles import() to require() under CommonJS; this keeps a real import() for
// ESM config modules (.mjs, or "type": "module" packages).
const nativeImport = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<unknown>;

/**
 * Loads the `--config` module (resolved from `cwd`) and returns the router it describes: a
 * `TenantRouter`, a promise of one, a function returning either, or `TenantRouterOptions`,
 * exported as `default`, `router` or `options` (or as the module itself).
 *
 * @throws CliUsageError when the path is missing, does not exist, cannot be loaded, or
 * exports nothing usable.
 * @throws BootstrapError or ConfigurationError from `TenantRouter.create`.
 */
export async function loadRouter(config: string | undefined, cwd: string): Promise<TenantRouter> {
  if (config === undefined || config === "") throw CliUsageError.missingConfig();
  const file = path.resolve(cwd, config);
  if (!existsSync(file)) throw CliUsageError.configNotFound(config, file);
  const extension = path.extname(file);
  if (/^\.[cm]?tsx?$/.test(extension) && !(extension in require.extensions)) {
    throw CliUsageError.typescriptConfig(file);
  }
  let value: unknown;
  try {
    value = exported(await importModule(file));
    if (typeof value === "function") value = (value as () => unknown)();
    value = await value;
  } catch (error) {
    if (error instanceof RoutingError) throw error;
    throw CliUsageError.configFailed(file, error);
  }
  if (isRouter(value)) return value;
  if (isOptions(value)) return TenantRouter.create(value);
  throw CliUsageError.configExportsNothing(file, describe(value));
}

async function importModule(file: string): Promise<unknown> {
  try {
    return createRequire(file)(file) as unknown;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_REQUIRE_ESM") throw error;
    return nativeImport(pathToFileURL(file).href);
  }
}

function exported(module: unknown): unknown {
  if (module === null || typeof module !== "object") return module;
  const record = module as Record<string, unknown>;
  for (const key of ["default", "router", "options"]) {
    if (record[key] !== undefined) {
      // An ESM namespace of a CommonJS module nests module.exports under default.
      const inner = record[key];
      return key === "default" && isNamespaceWrapper(inner) ? exported(inner) : inner;
    }
  }
  return module;
}

function isNamespaceWrapper(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    !isRouter(value) &&
    !isOptions(value) &&
    ["default", "router", "options"].some((key) => key in (value as object))
  );
}

// Duck-typed as well, so a router built by another copy of the package is accepted.
function isRouter(value: unknown): value is TenantRouter {
  if (value instanceof TenantRouter) return true;
  const candidate = value as Partial<Record<keyof TenantRouter, unknown>> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.migrate === "function" &&
    typeof candidate.migrationStatus === "function" &&
    typeof candidate.close === "function"
  );
}

function isOptions(value: unknown): value is TenantRouterOptions {
  return typeof value === "object" && value !== null && "databases" in value && "entities" in value;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (undefined)";
  if (value === null) return "null";
  if (typeof value !== "object") return `a ${typeof value}`;
  const keys = Object.keys(value);
  return keys.length === 0 ? "an empty object" : `an object with keys ${keys.join(", ")}`;
}
