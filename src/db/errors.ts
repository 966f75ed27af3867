/**
 * What a database error means, wherever drizzle wrapped it (DrizzleQueryError carries the
 * driver's error as `cause`).
 */

/** The error and its causes, outermost first. */
export function causeChain(err: unknown, max = 5): object[] {
  const out: object[] = [];
  for (let e: unknown = err; e !== null && typeof e === 'object' && out.length < max; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** postgres.js's codes for a connection that is gone or cannot be made, and Node's socket errors. */
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server that dropped the session or cannot take one now (besides class 08,
 * connection exception): admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown,
 * cannot_connect_now (starting up, recovering), idle_session_timeout, too_many_connections.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300']);

/**
 * True when the database could not be reached or dropped the connection: the request may succeed
 * when retried (with its Idempotency-Key), so the API answers 503, not 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return causeChain(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code));
  });
}
