/**
 * Which errors a channel retries, and how long it waits between tries.
 *
 * Transient (retried with exponential backoff, the split re-done idempotently, see run.ts):
 * - the connection went away: Node socket errors (`ECONNRESET`, `EPIPE`, `ETIMEDOUT`,
 *   `ECONNREFUSED`...), mysql2 `PROTOCOL_CONNECTION_LOST`, MySQL/MariaDB errno 1053 (server
 *   shutdown), 1927 (ER_CONNECTION_KILLED, MariaDB: `KILL <id>`), 2006/2013 (gone away / lost),
 *   PostgreSQL SQLSTATE class 08 (connection exception) and 57P01..57P03 (admin shutdown, e.g.
 *   `pg_terminate_backend`; crash shutdown; cannot connect now), node-postgres' "Connection
 *   terminated" errors, which carry no code; mysql2's "Can't add new command when connection is
 *   in closed state" (a query on a connection the server killed: the next try opens a new one);
 * - concurrency: MySQL 1213 (deadlock), 1205 (lock wait timeout), PostgreSQL 40001
 *   (serialization_failure), 40P01 (deadlock_detected);
 * - load: MySQL 1040 (too many connections), 1203 (max_user_connections), PostgreSQL 53300
 *   (too_many_connections).
 * Not transient: everything else, notably a read-only target (MySQL 1290 / 1836, PostgreSQL
 * 25006): such a run fails and is resumed with `sluice run --resume` once the target is writable.
 */

const NODE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT'])
const MYSQL_ERRNOS = new Set([1040, 1053, 1203, 1205, 1213, 1927, 2006, 2013])
const PG_STATES = new Set(['40001', '40P01', '53300', '57P01', '57P02', '57P03'])
const MESSAGES = /Connection terminated|connection error and is not queryable|socket hang up|read ECONNRESET|Connection lost: The server closed the connection|Connection was killed|Can't add new command when connection is in closed state|connection is in closed state|This socket has been ended by the other party/i

/** True when `e` (or the error it wraps as `cause`) is worth retrying (see the file comment). */
export function isTransient(e: unknown): boolean {
  for (let err = e as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 4; err = err.cause as typeof err, depth++) {
    const code = typeof err.code === 'string' ? err.code : undefined
    if (code && (NODE_CODES.has(code) || PG_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true
    if (typeof err.errno === 'number' && MYSQL_ERRNOS.has(err.errno)) return true
    if (typeof err.message === 'string' && MESSAGES.test(err.message)) return true
  }
  return false
}

/** Retry policy of a split: at most `retries` more tries, waiting `baseMs × 2^attempt` (capped) between them. */
export interface RetryPolicy {
  /** Tries after the first (default 4). */
  retries: number
  /** First wait in ms (default 500). */
  baseMs: number
  /** Longest wait in ms (default 8,000). */
  maxMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseMs: 500, maxMs: 8000 }

/** The wait before retry number `attempt` (0-based): exponential, capped, with ±20 % jitter. */
export function backoffMs(attempt: number, p: RetryPolicy = DEFAULT_RETRY): number {
  const base = Math.min(p.maxMs, p.baseMs * 2 ** attempt)
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

/** A split made no progress (no batch read and written) for longer than its timeout. */
export class SplitTimeout extends Error {
  override name = 'SplitTimeout'
  readonly code = 'SPLIT_TIMEOUT'
}
