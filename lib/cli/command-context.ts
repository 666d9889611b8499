import type { TenantRouter } from "../tenant-router";
import type { CliIo } from "./cli-io";

/** What a command runs with: the loaded router, where to write, and the output format. */
export interface CommandContext {
  /** The command as typed, e.g. `migrate` or `tenants drop`, for messages and JSON. */
  readonly command: string;
  readonly router: TenantRouter;
  readonly io: CliIo;
  /** `--json`: write one JSON document on stdout and nothing else. */
  readonly json: boolean;
}
