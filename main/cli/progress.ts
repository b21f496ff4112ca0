/**
 * What the CLI prints while a run works and when it ends: on a terminal a live progress line
 * (rows, rows/s, MB/s, dirty rows, ETA from estimated row counts); otherwise plain log lines.
 */
import type { EngineEvent, RunSummary } from '../engine/events.js'

const MB = 1024 * 1024

/** Format a duration in ms as `1h02m03s`, `2m03s` or `3.4s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = Math.floor(s % 60)
  return h ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`
}

/** Group digits: 15607 -> `15,607`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** Renders engine events on a stream. Call `end()` before printing the summary. */
export class ProgressPrinter {
  private tasks = new Map<string, { read: number; written: number; bytes: number; dirty: number; est?: number; done: boolean }>()
  private started = Date.now()
  private timer: NodeJS.Timeout | undefined
  private lastLen = 0

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly opts: { tty: boolean; quiet?: boolean },
  ) {
    if (opts.tty && !opts.quiet) {
      this.timer = setInterval(() => this.draw(), 200)
      this.timer.unref()
    }
  }

  /** Feed one engine event. */
  onEvent = (e: EngineEvent): void => {
    if (e.type === 'task/state') {
      const t = this.tasks.get(e.taskId) ?? { read: 0, written: 0, bytes: 0, dirty: 0, done: false }
      if (e.estimatedRows !== undefined) t.est = e.estimatedRows
      t.done = ['succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent', 'skipped'].includes(e.state)
      this.tasks.set(e.taskId, t)
    } else if (e.type === 'run/progress') {
      const t = this.tasks.get(e.taskId) ?? { read: 0, written: 0, bytes: 0, dirty: 0, done: false }
      Object.assign(t, { read: e.rowsRead, written: e.rowsWritten, bytes: e.bytes, dirty: e.dirty })
      this.tasks.set(e.taskId, t)
    } else if (e.type === 'run/log') {
      if (this.opts.quiet && e.level !== 'error') return
      if (this.opts.tty) {
        if (e.level === 'debug' || e.level === 'info') return
        this.clear()
      }
      this.out.write(`${e.ts} ${e.level.toUpperCase().padEnd(5)} ${e.taskId ? `[${e.taskId}] ` : ''}${e.message}\n`)
      if (this.opts.tty) this.draw()
    }
  }

  private clear() {
    if (this.lastLen) this.out.write('\r' + ' '.repeat(this.lastLen) + '\r')
    this.lastLen = 0
  }

  private draw() {
    let read = 0
    let written = 0
    let bytes = 0
    let dirty = 0
    let est = 0
    let done = 0
    for (const t of this.tasks.values()) {
      read += t.read
      written += t.written
      bytes += t.bytes
      dirty += t.dirty
      est += Math.max(t.est ?? 0, t.read)
      if (t.done) done++
    }
    const s = Math.max(0.001, (Date.now() - this.started) / 1000)
    const rps = written / s
    const eta = rps > 0 && est > read ? formatDuration(((est - read) / rps) * 1000) : '-'
    const line = `tables ${done}/${this.tasks.size}  rows ${formatCount(written)}${est ? `/${formatCount(est)}` : ''}  ${formatCount(Math.round(rps))} rows/s  ${(bytes / MB / s).toFixed(1)} MB/s  dirty ${dirty}  ETA ${eta}`
    this.out.write('\r' + line + (this.lastLen > line.length ? ' '.repeat(this.lastLen - line.length) : ''))
    this.lastLen = line.length
  }

  /** Stop the live line. */
  end(): void {
    if (this.timer) clearInterval(this.timer)
    if (this.opts.tty) this.clear()
  }
}

/** The end-of-run summary as text. */
export function formatSummary(s: RunSummary, opts: { all?: boolean; shown?: boolean } = {}): string {
  const secs = Math.max(0.001, s.elapsedMs / 1000)
  const lines: string[] = []
  lines.push('')
  lines.push(`Run ${s.runId}: ${s.state.toUpperCase()}`)
  lines.push(`  start         ${s.startedAt}`)
  lines.push(`  end           ${s.endedAt}`)
  lines.push(`  elapsed       ${formatDuration(s.elapsedMs)}`)
  lines.push(`  rows read     ${formatCount(s.rowsRead)}`)
  lines.push(`  rows written  ${formatCount(s.rowsWritten)}`)
  lines.push(`  bytes         ${formatCount(s.bytes)} (${(s.bytes / MB).toFixed(2)} MB)`)
  lines.push(`  average       ${formatCount(Math.round(s.rowsWritten / secs))} rows/s, ${(s.bytes / MB / secs).toFixed(2)} MB/s`)
  lines.push(`  dirty rows    ${formatCount(s.dirty)}`)
  if (s.tasks.length) {
    const w = Math.max(5, ...s.tasks.map((t) => `${t.source} -> ${t.target}`.length))
    lines.push('')
    lines.push(`  ${'table'.padEnd(w)}  ${'state'.padEnd(10)} ${'read'.padStart(10)} ${'written'.padStart(10)} ${'dirty'.padStart(6)}  elapsed`)
    for (const t of s.tasks) {
      lines.push(
        `  ${`${t.source} -> ${t.target}`.padEnd(w)}  ${t.state.padEnd(10)} ${formatCount(t.rowsRead).padStart(10)} ${formatCount(t.rowsWritten).padStart(10)} ${String(t.dirty).padStart(6)}  ${formatDuration(t.elapsedMs)}${t.error ? `  ${t.error}` : ''}`,
      )
    }
    lines.push(`  ${s.tasks.length} tables`)
  }
  if (s.notMigrated.length) lines.push('', `  not migrated (listed only): ${s.notMigrated.join(', ')}`)
  if (s.notStarted?.length) lines.push('', `  not started (target not created): ${s.notStarted.join(', ')}`)
  if (s.warnings.length) {
    lines.push('', `  warnings (${s.warnings.length}):`)
    const max = opts.all ? Infinity : 20
    for (const w of s.warnings.slice(0, max)) lines.push(`    ${w}`)
    // `runs show` prints this very summary: point at its --all, never at itself.
    if (s.warnings.length > max) lines.push(`    ... ${s.warnings.length - 20} more (${opts.shown ? 'add --all' : `sluice runs show ${s.runId} --all`})`)
  }
  if (s.error) lines.push('', `  error: ${s.error}`)
  return lines.join('\n') + '\n'
}
