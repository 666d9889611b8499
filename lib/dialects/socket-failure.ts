// Node's errors for a TCP connection that could not be made or broke, whatever the driver:
// refused, reset, aborted, written after the peer closed it, timed out, no route, and a DNS
// answer that failed for now (EAI_AGAIN; not ENOTFOUND, which is a wrong host name).
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
]);

/**
 * Whether `error` is Node's own error for a socket to a server that could not be opened or
 * broke (`ECONNREFUSED`, `ECONNRESET`, …), as drivers pass it on.
 */
export function isSocketFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SOCKET_CODES.has(code);
}
