import { isSocketFailure } from "../socket-failure";

// mysql2's codes when the server closed the socket, and the server's own: too many
// connections (1040), shutting down (1053), the session killed (MariaDB 1927), ended for
// inactivity (MySQL 8: 4031), server gone or lost (2006, 2013).
const LOST_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
  "ER_CLIENT_INTERACTION_TIMEOUT",
  "CR_SERVER_GONE_ERROR",
  "CR_SERVER_LOST",
]);
const LOST_ERRNOS = new Set([1040, 1053, 1927, 4031, 2006, 2013]);
// mysql2, on a connection that closed before: it carries no code.
const CLOSED_STATE = /^Can't add new command when connection is in closed state/;

/**
 * Whether a mysql2 error says the connection to the server broke or could not be made (see
 * `Dialect.connectionLost`).
 */
export function mysqlConnectionLost(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, errno, message } = error as { code?: unknown; errno?: unknown; message?: unknown };
  if (typeof code === "string" && LOST_CODES.has(code)) return true;
  if (typeof errno === "number" && LOST_ERRNOS.has(errno)) return true;
  if (isSocketFailure(error)) return true;
  return code === undefined && typeof message === "string" && CLOSED_STATE.test(message);
}
