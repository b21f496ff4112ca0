/**
 * `sluice runs list | head` and `sluice runs show R | head`: once the reader of stdout (or stderr)
 * has gone, writes fail with EPIPE, emitted as an 'error' event that would crash the process
 * with a stack trace. Here EPIPE is swallowed: what was not read is dropped, the command ends
 * normally (a run keeps running and is recorded; only its output is lost). Other stream errors
 * are rethrown.
 */
let installed = false

/** Make EPIPE on stdout/stderr harmless (idempotent). */
export function ignoreBrokenPipe(): void {
  if (installed) return
  installed = true
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return
      throw e
    })
  }
}
