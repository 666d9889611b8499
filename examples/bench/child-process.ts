import { spawn } from "node:child_process";
import path from "node:path";

/** How to start a scenario's child process. */
export interface ChildOptions {
  /** Start node with --expose-gc (needed to read a settled heap). */
  readonly exposeGc?: boolean;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs the compiled scenario `script` (a file next to this one, e.g. `many-tenants.js`) in
 * a fresh Node process, so that its memory and module state are its own: `request` goes in as
 * argv[2] (JSON), the child's progress lines (stderr) are passed through, and the last stdout
 * line is parsed as its result.
 *
 * @throws Error when the child exits with a failure or prints no JSON result.
 */
export function runChild<T>(
  script: string,
  request: unknown,
  options: ChildOptions = {},
): Promise<T> {
  const args = [
    ...(options.exposeGc ? ["--expose-gc"] : []),
    path.join(__dirname, script),
    JSON.stringify(request),
  ];
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        reject(
          new Error(`${script} failed (exit ${code ?? signal}); its output: ${stdout.trim()}`),
        );
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result; its output: ${stdout.trim()}`));
      }
    });
  });
}

/**
 * The child side of {@link runChild}: when `module` is the process's entry point, runs `fn`
 * with the request from argv[2] and prints its result as the last stdout line.
 */
export function childMain<Request, Result>(
  module: NodeModule,
  fn: (request: Request) => Promise<Result>,
): void {
  if (require.main !== module) return;
  fn(JSON.parse(process.argv[2]) as Request)
    .then((result) => console.log(JSON.stringify(result)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}

/** Writes a progress line to stderr (stdout carries the child's result). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
