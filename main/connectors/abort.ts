/**
 * The error a connector operation throws when its AbortSignal fired: the signal's reason when it
 * is an Error (the engine aborts with the cause: terminate, errorLimit, split timeout), else an
 * Error named `AbortError` saying `<what> aborted` (`read`, `write`, `query`).
 */
export function abortError(what: 'read' | 'write' | 'query', signal?: AbortSignal): Error {
  const reason = signal?.reason
  if (reason instanceof Error) return reason
  const e = new Error(`${what} aborted`)
  e.name = 'AbortError'
  return e
}
