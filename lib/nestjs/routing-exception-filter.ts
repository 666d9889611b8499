import { STATUS_CODES } from "node:http";
import {
  Catch,
  Inject,
  Logger,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { throwError, type Observable } from "rxjs";
import { RoutingError } from "../index";
import { TENANT_ROUTER_MODULE_OPTIONS } from "./injection-tokens";
import type { TenantRouterModuleOptions } from "./tenant-router-module-options";
import { routingErrorStatus } from "./routing-error-status";

/** The JSON body the filter sends for a routing error. */
export interface RoutingErrorBody {
  readonly statusCode: number;
  /** The status text, e.g. `"Not Found"`. */
  readonly error: string;
  /** The error's stable code, e.g. `"UNKNOWN_TENANT"`. */
  readonly code: string;
  /** The error's message for a 4xx; the status text for a 5xx (details go to the log). */
  readonly message: string;
}

interface ExpressLikeResponse {
  status?(code: number): { json(body: unknown): unknown };
  code?(code: number): { send(body: unknown): unknown };
}

/**
 * Answers HTTP requests that failed with a `RoutingError` with the status of its code
 * (`routingErrorStatus`): 400 for an invalid tenant id or no tenant, 404 for an unknown tenant,
 * 403 for a write to a read-only database, 503 for an exhausted pool, and so on, instead of
 * Nest's 500. 5xx details are logged, not sent. Registered globally by `TenantRouterModule`.
 *
 * For RPC the error is passed on unchanged (as an Observable error), and for GraphQL it is
 * returned to the GraphQL error formatter; each transport reports it in its own way.
 */
@Catch(RoutingError)
export class RoutingExceptionFilter implements ExceptionFilter<RoutingError> {
  readonly #logger = new Logger("TenantRouter");

  constructor(
    @Optional()
    @Inject(TENANT_ROUTER_MODULE_OPTIONS)
    private readonly options?: TenantRouterModuleOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Maps `error` to a response on `host`'s transport. */
  catch(error: RoutingError, host: ArgumentsHost): Observable<never> | RoutingError | void {
    const type = host.getType<string>();
    if (type === "rpc") return throwError(() => error);
    if (type !== "http") return error;
    const status = routingErrorStatus(error.code, this.options?.statuses);
    const text = STATUS_CODES[status] ?? "Error";
    if (status >= 500) this.#logger.error(error.message, error.stack);
    const body: RoutingErrorBody = {
      statusCode: status,
      error: text,
      code: error.code,
      message: status >= 500 ? text : error.message,
    };
    const response = host.switchToHttp().getResponse<ExpressLikeResponse>();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      adapter.reply(response, body, status);
    } else if (typeof response.status === "function") {
      response.status(status).json(body);
    } else {
      response.code?.(status).send(body);
    }
  }
}
