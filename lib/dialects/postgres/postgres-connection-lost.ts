import { isSocketFailure } from "../socket-failure";

/**
 * pg's own errors (they carry no SQLSTATE) when the server closed the socket: on the query that
 * was running ("Connection terminated unexpectedly"), on a connect that timed out
 * ("Connection terminated due to connection timeout"), then on every later query of that client.
 */
export const PG_SOCKET_CLOSED =
  /^(Connection terminated|Client has encountered a connection error)/;

// The server ending or refusing sessions: admin_shutdown (pg_terminate_backend, a fast
// shutdown), crash_shutdown, cannot_connect_now (starting up or shutting down),
// idle_session_timeout, too_many_connections. Not database_dropped (57P04): storage is gone.
const SERVER_ENDED = new Set(["57P01", "57P02", "57P03", "57P05", "53300"]);
// PgBouncer reports nearly everything as protocol_violation (08P01), a missing database and a
// failed login too: only these of its messages say that the server is unavailable.
const PROTOCOL_VIOLATION = "08P01";
const PGBOUNCER_UNAVAILABLE =
  /^(pgbouncer cannot connect to server|server login has been failing|server conn crashed|query_wait_timeout|no more connections allowed)/;

/**
 * Whether a pg error says the connection to the server broke or could not be made (see
 * `Dialect.connectionLost`): Node's socket errors, pg's own, the rest of class 08
 * (connection_exception), the server ending sessions, and PgBouncer's unavailable server.
 */
export function postgresConnectionLost(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== "string")
    return typeof message === "string" && PG_SOCKET_CLOSED.test(message);
  if (code === PROTOCOL_VIOLATION) {
    return typeof message === "string" && PGBOUNCER_UNAVAILABLE.test(message);
  }
  return code.startsWith("08") || SERVER_ENDED.has(code) || isSocketFailure(error);
}
