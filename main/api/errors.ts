/**
 * Errors as data across the API transports (DESIGN.md "The contract": errors cross as
 * `{ name, code, message, path? }` and are rebuilt as {@link ApiError} on the other side).
 *
 * `code` comes from the error itself when it has a string `code` (StoreError `NOT_FOUND`, a
 * driver's `ER_ACCESS_DENIED_ERROR` / `28P01` / `ECONNREFUSED` / `SQLITE_CANTOPEN`), otherwise from
 * the mapping in {@link toErrorData}. Messages are passed as they are: the driver's exact words.
 */
import { ApiError, type ApiErrorData } from './contract.js'
import type { Problem } from '../job/spec.js'

/** Codes the API layer itself uses (besides those carried by the errors it forwards). */
export type ApiErrorCode =
  /** The arguments do not have the documented shape (`path` names the field). */
  | 'BAD_REQUEST'
  /** An id does not exist (`path` names the argument). */
  | 'NOT_FOUND'
  /** A job document failed structural validation (`problems` lists them, `path` is the first one's). */
  | 'INVALID_JOB'
  /** The operation was cancelled (`sql/cancel`, `runs/cancel`). */
  | 'ABORTED'
  /** `runs/cancel` on a run that is active in another process (CLI, another server). */
  | 'NOT_RUNNING_HERE'
  /** `runs/rerun` with `failedOnly` on a run without failed tasks. */
  | 'NOTHING_TO_RERUN'
  /** A statement the SQL editor refuses (`sql/query` on the state DB, ATTACH, VACUUM INTO, load_extension). */
  | 'FORBIDDEN'
  /** `connections/delete` with `ifUsed: 'refuse'` on a connection jobs refer to. */
  | 'IN_USE'
  /** `sluice serve`: a SQLite path outside the `--allow-dir` folders, or the state DB (confine.ts). */
  | 'PATH_NOT_ALLOWED'
  /** Anything else. */
  | 'INTERNAL'

/** Build an {@link ApiError} thrown by handlers (it crosses the transport unchanged). */
export function apiError(code: ApiErrorCode, message: string, path?: string): ApiError {
  return new ApiError({ name: 'ApiError', code, message, ...(path !== undefined ? { path } : {}) })
}

/** Error class names mapped to a code when the error carries none. */
const CODE_BY_NAME: Record<string, ApiErrorCode> = {
  InvalidJobError: 'INVALID_JOB',
  AbortError: 'ABORTED',
  NotFoundError: 'NOT_FOUND',
}

/**
 * Turn anything thrown into {@link ApiErrorData}.
 * - `name`: the error's class name (`StoreError`, `InvalidJobError`, `Error`...).
 * - `code`: `e.code` when it is a string or number, else by class name, else `INTERNAL`.
 * - `path`: `e.path` when a string; for a job error the first problem's path; for a message that
 *   starts with a JSON path (`$.reader.connection: ...`, as the engine writes them) that path.
 * - `problems`: the job's problems (InvalidJobError).
 * Never includes a stack trace.
 */
export function toErrorData(e: unknown): ApiErrorData {
  if (!(e instanceof Error)) {
    return { name: 'Error', code: 'INTERNAL', message: typeof e === 'string' ? e : safeString(e) }
  }
  const any = e as Error & { code?: unknown; path?: unknown; problems?: unknown }
  const code = typeof any.code === 'string' && any.code !== '' ? any.code : typeof any.code === 'number' ? String(any.code) : (CODE_BY_NAME[e.name] ?? 'INTERNAL')
  const data: ApiErrorData = { name: e.name || 'Error', code, message: e.message }
  const problems = Array.isArray(any.problems) ? (any.problems as Problem[]) : undefined
  if (problems) data.problems = problems
  if (typeof any.path === 'string') data.path = any.path
  else if (problems?.[0]) data.path = problems[0].path
  else {
    const m = /^(\$[^\s:]*):\s/.exec(e.message)
    if (m) data.path = m[1]!
  }
  return data
}

/** Rebuild a thrown error from its data (the calling side of a transport). */
export function fromErrorData(d: ApiErrorData): ApiError {
  return new ApiError(d)
}

function safeString(v: unknown): string {
  try {
    return String(v)
  } catch {
    return 'unknown error'
  }
}
