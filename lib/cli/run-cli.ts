import { CommanderError } from "commander";
import type { CliIo } from "./cli-io";
import { executeInvocation } from "./execute-invocation";
import { ExitCode } from "./exit-code";
import { buildProgram } from "./program";

/**
 * Runs `typeorm-router` with `argv` (the arguments after the program name) and resolves with
 * its exit code: 0 success, 1 a database failed or drift was found, 2 bad flags or config.
 * Never exits the process itself.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.Success;
  const program = buildProgram(io, async (globals, invocation) => {
    exitCode = await executeInvocation(globals, invocation, io);
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    // Commander already wrote its message (or the help) to stderr / stdout.
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
    }
    throw error;
  }
  return exitCode;
}
