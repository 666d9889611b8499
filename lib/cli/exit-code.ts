import { RoutingError } from "../errors";

/** The exit codes of the `typeorm-router` command. */
export const ExitCode = Object.freeze({
  /** Everything worked. */
  Success: 0,
  /** A database failed, drift was found, or pending migrations were found with `--check`. */
  Failure: 1,
  /** Bad flags or an unloadable configuration: nothing was done. */
  Usage: 2,
} as const);

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

// Errors that mean the command was asked for something impossible before any work started.
const USAGE_CODES: ReadonlySet<string> = new Set([
  "BOOTSTRAP_FAILED",
  "INVALID_CONFIGURATION",
  "INVALID_TENANT_ID",
  "UNKNOWN_TENANT",
  "UNKNOWN_DATABASE",
  "TENANT_EXISTS",
  "CONFIRMATION_REQUIRED",
]);

/** Whether `error` says the command was misused or misconfigured (rather than that work failed). */
export function isUsageError(error: unknown): boolean {
  return error instanceof RoutingError && USAGE_CODES.has(error.code);
}

/** The exit code of a command that threw `error`. */
export function exitCodeOf(error: unknown): ExitCode {
  return isUsageError(error) ? ExitCode.Usage : ExitCode.Failure;
}
