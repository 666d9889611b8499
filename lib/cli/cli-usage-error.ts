import { ConfigurationError, messageOf } from "../errors";

/**
 * Thrown by the `typeorm-router` command for a missing or unloadable `--config`, or flags that
 * do not fit together. Its code is `INVALID_CONFIGURATION`; the command exits with 2.
 */
export class CliUsageError extends ConfigurationError {
  /** `--config` was not given. */
  static missingConfig(): CliUsageError {
    return new CliUsageError(
      `--config is missing: every command needs the module that exports your TenantRouter ` +
        `(or its options). Pass e.g. --config dist/router.config.js.`,
    );
  }

  /** Nothing exists at the resolved `--config` path. */
  static configNotFound(given: string, resolved: string): CliUsageError {
    return new CliUsageError(
      `--config "${given}" does not exist (resolved to ${resolved} from the current ` +
        `directory). Check the path; relative paths are resolved from where you run the command.`,
    );
  }

  /** A TypeScript config was given with no TypeScript loader registered. */
  static typescriptConfig(file: string): CliUsageError {
    return new CliUsageError(
      `--config ${file} is TypeScript, which node cannot load on its own. Compile it with tsc ` +
        `(experimentalDecorators and emitDecoratorMetadata on, so entity metadata survives) ` +
        `and pass the compiled .js file to --config.`,
    );
  }

  /** Importing the config module threw `cause`. */
  static configFailed(file: string, cause: unknown): CliUsageError {
    return new CliUsageError(
      `Loading --config ${file} failed: ${messageOf(cause)}. Fix the module so that ` +
        `\`node -e 'require("${file}")'\` loads it on its own.`,
      { cause },
    );
  }

  /** The config module exported nothing the CLI can turn into a router. */
  static configExportsNothing(file: string, found: string): CliUsageError {
    return new CliUsageError(
      `--config ${file} exports ${found}, not a TenantRouter. Export (as default, "router" or ` +
        `"options") a TenantRouter, a promise of one, a function returning one, or the options ` +
        `of TenantRouter.create.`,
    );
  }

  /** A flag is missing or does not fit with the others; `problem` names the flags. */
  static badFlags(problem: string, fix: string): CliUsageError {
    return new CliUsageError(`${problem}. ${fix}`);
  }
}
