// OpenTelemetry without depending on it: @opentelemetry/api is an optional peer, required the
// first time a span could be made. When it is absent every helper here is one null check.

/** The attributes typeorm-router sets on spans. */
export interface SpanAttributes {
  /** `typeorm_router.tenant`: the tenant concerned. */
  readonly tenant?: string;
  /** `typeorm_router.database`: an alias or a tenant's database label. */
  readonly database?: string;
  /** `typeorm_router.operation`. */
  readonly operation?: string;
  /** `typeorm_router.migration_group`. */
  readonly group?: string;
}

/** The span attribute that names the tenant. */
export const TENANT_ATTRIBUTE = "typeorm_router.tenant";

// The few members of @opentelemetry/api used here, so that no type of it reaches our .d.ts.
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setAttributes(attributes: Record<string, string | number | boolean>): unknown;
  recordException(exception: Error | string): void;
  setStatus(status: { code: number; message?: string }): unknown;
  isRecording(): boolean;
  end(): void;
}
interface OtelTracer {
  startActiveSpan<T>(
    name: string,
    options: { attributes?: Record<string, string> },
    fn: (span: OtelSpan) => T,
  ): T;
}
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): OtelTracer;
    getActiveSpan(): OtelSpan | undefined;
  };
}

const SPAN_STATUS_ERROR = 2; // SpanStatusCode.ERROR

let api: OtelApi | null | undefined;

function otel(): OtelApi | null {
  if (api === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      api = require("@opentelemetry/api") as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

function attributesOf(attributes: SpanAttributes): Record<string, string> {
  const result: Record<string, string> = {};
  if (attributes.tenant !== undefined) result[TENANT_ATTRIBUTE] = attributes.tenant;
  if (attributes.database !== undefined) result["typeorm_router.database"] = attributes.database;
  if (attributes.operation !== undefined) result["typeorm_router.operation"] = attributes.operation;
  if (attributes.group !== undefined) result["typeorm_router.migration_group"] = attributes.group;
  return result;
}

/**
 * Runs `fn` inside a span `name` (e.g. `typeorm_router.tenant.open`) with `attributes`, ending
 * it when `fn` settles and recording a thrown error on it, or the error `failureOf(result)`
 * returns (for work that reports failure in its result). Without `@opentelemetry/api`
 * installed it only calls `fn`.
 */
export function span<T>(
  name: string,
  attributes: SpanAttributes,
  fn: () => Promise<T>,
  failureOf?: (result: T) => unknown,
): Promise<T> {
  const otelApi = otel();
  if (!otelApi) return fn();
  const tracer = otelApi.trace.getTracer("typeorm-router");
  return tracer.startActiveSpan(name, { attributes: attributesOf(attributes) }, async (active) => {
    try {
      const result = await fn();
      const failure = failureOf?.(result);
      if (failure) fail(active, failure);
      return result;
    } catch (error) {
      fail(active, error);
      throw error;
    } finally {
      active.end();
    }
  });
}

function fail(active: OtelSpan, error: unknown): void {
  active.recordException(error instanceof Error ? error : String(error));
  active.setStatus({
    code: SPAN_STATUS_ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Sets `typeorm_router.tenant` on the active span (an HTTP server span, a span of
 * `@opentelemetry/instrumentation-typeorm`), when there is one that records. Without
 * `@opentelemetry/api` it is one null check.
 */
export function tagActiveSpan(tenant: string | undefined): void {
  if (tenant === undefined) return;
  const active = otel()?.trace.getActiveSpan();
  if (active?.isRecording()) active.setAttribute(TENANT_ATTRIBUTE, tenant);
}

/** @internal For specs: forget whether @opentelemetry/api was found, or pretend it is absent. */
export function resetTracingForTests(absent = false): void {
  api = absent ? null : undefined;
}
