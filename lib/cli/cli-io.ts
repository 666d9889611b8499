/** Where the CLI writes: a stream with `write`, and whether it is a terminal. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** The process surroundings of one CLI run, passed in so that nothing reads globals. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** The directory `--config` and `--dir` are resolved from. */
  readonly cwd: string;
}

/** The real process: its stdout, stderr and working directory. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** Writes `text` and a newline to `stream`. */
export function writeLine(stream: OutputStream, text: string): void {
  stream.write(`${text}\n`);
}
