import createDebug from "debug";
import type {
  LogChannel,
  LogLevel,
  LogRecord,
  LoggingOptions,
  RouterLogger,
} from "./router-logger";
import { WarningLimiter } from "./warning-limiter";

/** The fields of a record, without its channel (the channel log adds it). */
export type LogFields = Omit<LogRecord, "channel">;

/** The logging of one channel of one router. */
export interface ChannelLog {
  /** Whether debug records are written: check it before building one on a hot path. */
  readonly debugEnabled: boolean;
  /** A debug record (what the router does, step by step). */
  debug(message: string, fields?: LogFields): void;
  /** An info record (a tenant created, a database migrated). */
  info(message: string, fields?: LogFields): void;
  /**
   * A warning with a stable `code`, rate-limited per code and tenant (or database): one per
   * interval, carrying the count of those dropped since the previous one.
   */
  warn(code: string, message: string, fields?: LogFields): void;
  /** An error record (something failed that the caller also sees thrown). */
  error(message: string, fields?: LogFields): void;
}

const CHANNELS: readonly LogChannel[] = ["route", "pool", "migrate", "tenant"];
const DEFAULT_WARNING_INTERVAL_MS = 60_000;

// One debug instance per namespace for the process: `debug` caches whether each is enabled.
const namespaces = new Map<LogChannel, createDebug.Debugger>(
  CHANNELS.map((channel) => [channel, createDebug(`typeorm-router:${channel}`)]),
);

/**
 * The logs of one router, one {@link ChannelLog} per channel, over the `logger` option: the
 * `debug` namespaces by default, a user's {@link RouterLogger}, or nothing.
 */
export class RouterLog {
  /** Where calls are routed. */
  readonly route: ChannelLog;
  /** DataSources and connections: opening, waiting, closing. */
  readonly pool: ChannelLog;
  /** Migrations per database and their locks. */
  readonly migrate: ChannelLog;
  /** The tenant directory; creating and dropping tenants. */
  readonly tenant: ChannelLog;

  private constructor(logger: RouterLogger | false | undefined, warningIntervalMs: number) {
    const limiter = new WarningLimiter(warningIntervalMs);
    const channel = (name: LogChannel): ChannelLog =>
      logger === false
        ? SILENT
        : logger
          ? userChannel(name, logger, limiter, warningIntervalMs)
          : debugChannel(name, limiter, warningIntervalMs);
    this.route = channel("route");
    this.pool = channel("pool");
    this.migrate = channel("migrate");
    this.tenant = channel("tenant");
  }

  /** The logs of a router created with `options` (validated by the router's options). */
  static create(options: LoggingOptions = {}): RouterLog {
    return new RouterLog(options.logger, options.warningIntervalMs ?? DEFAULT_WARNING_INTERVAL_MS);
  }

  /** The default logs, for code that runs without a router's options. */
  static get default(): RouterLog {
    return (defaultLog ??= RouterLog.create());
  }
}

let defaultLog: RouterLog | undefined;

const SILENT: ChannelLog = Object.freeze({
  debugEnabled: false,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

function limited(
  limiter: WarningLimiter,
  intervalMs: number,
  code: string,
  message: string,
  fields: LogFields | undefined,
  write: (message: string, suppressed: number) => void,
): void {
  const decision = limiter.take(`${code}|${fields?.tenant ?? fields?.database ?? ""}`);
  if (!decision.write) return;
  const note =
    decision.suppressed > 0
      ? ` (${decision.suppressed} more like it in the last ${Math.round(intervalMs / 1000)} s were not shown)`
      : "";
  write(`${message}${note}`, decision.suppressed);
}

function debugChannel(name: LogChannel, limiter: WarningLimiter, intervalMs: number): ChannelLog {
  const debug = namespaces.get(name)!;
  const write = (message: string, fields: LogFields | undefined) => {
    if (debug.enabled) debug("%s%s", message, formatFields(fields));
  };
  return {
    get debugEnabled() {
      return debug.enabled;
    },
    debug: write,
    info: write,
    error: write,
    warn: (code, message, fields) =>
      limited(limiter, intervalMs, code, message, fields, (text) => {
        write(text, { ...fields, code });
        process.emitWarning(`typeorm-router: ${text}`, { code });
      }),
  };
}

function userChannel(
  name: LogChannel,
  logger: RouterLogger,
  limiter: WarningLimiter,
  intervalMs: number,
): ChannelLog {
  const call = (level: LogLevel, message: string, fields: LogFields | undefined) => {
    try {
      logger[level]?.(message, { ...fields, channel: name });
    } catch {
      // A throwing logger must not break the call being logged.
    }
  };
  return {
    debugEnabled: typeof logger.debug === "function",
    debug: (message, fields) => call("debug", message, fields),
    info: (message, fields) => call("info", message, fields),
    error: (message, fields) => call("error", message, fields),
    warn: (code, message, fields) =>
      limited(limiter, intervalMs, code, message, fields, (text, suppressed) =>
        call("warn", text, { ...fields, code, ...(suppressed > 0 ? { suppressed } : {}) }),
      ),
  };
}

// ` tenant=acme database=tenant:acme durationMs=12`, in a stable order.
function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  let text = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const shown =
      value instanceof Error
        ? value.message
        : typeof value === "string"
          ? value
          : typeof value === "number" || typeof value === "boolean"
            ? String(value)
            : JSON.stringify(value);
    text += ` ${key}=${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
  }
  return text;
}
