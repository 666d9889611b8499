#!/usr/bin/env node
// The `typeorm-router` bin. Entity decorators need reflect-metadata before any config loads.
import "reflect-metadata";
import { processIo, writeLine } from "./cli-io";
import { ExitCode } from "./exit-code";
import { runCli } from "./run-cli";

async function main(): Promise<void> {
  let exitCode: number;
  try {
    exitCode = await runCli(process.argv.slice(2), processIo());
  } catch (error) {
    writeLine(
      process.stderr,
      `typeorm-router crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}. ` +
        `This is a bug; please report it with the command you ran.`,
    );
    exitCode = ExitCode.Failure;
  }
  // Exit explicitly (a config may leave handles open), once stdout has been flushed.
  process.stdout.write("", () => process.exit(exitCode));
}

void main();
