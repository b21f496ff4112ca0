/**
 * One channel's work on one unit (a split of a task): reader batches -> field mapping -> writer,
 * or, when the pair and every column allow it, the raw path (main/connectors/raw.ts,
 * main/engine/rawpath.ts: wire text straight from reader to writer, refused batches narrowed on
 * the canonical path), with one batch of read-ahead, the job-wide throttle, dirty records, a no-progress timeout and
 * retries of transient errors. The same code runs in a worker thread (worker.ts) and, for small
 * jobs, as an async loop on the main thread (run.ts): a unit is plain data (structured-cloneable),
 * and everything the channel reports is a {@link ChannelMessage}.
 *
 * A unit ends with exactly one `splitDone` (every row of the split was read and either written or
 * reported dirty, all writes committed) or one `error` message.
 */
import type { Row, RowBatch, Value } from '../core/types.js'
import { rawReadable, RawUnsupported, rawWriter, type RawBatch } from '../connectors/raw.js'
import type { Connector, Split, Writer, WriteSpec } from '../connectors/types.js'
import type { Counters, DirtyRecord, LogLevel } from './events.js'
import { backoffMs, isTransient, SplitTimeout, type RetryPolicy } from './faults.js'
import { compileMapping, isMappingError, type MapOp, type ZeroDatePolicy } from './mapping.js'
import { rawEligible } from './rawpath.js'
import { sleep, type Throttle } from './throttle.js'

/**
 * How a split that may have been partly written before (a retry after a transient error, or a
 * resumed run) is made safe to write again, so that no row is duplicated or lost:
 * - `none`: the writeMode (update / replace) is idempotent by key already;
 * - `delete`: delete the split's own rows on the target first (`sql` with bound `params`): its key
 *   range AND the task's `where` on the target, when the run owns the target table (created or
 *   truncated it) and the splitPk is an integer column copied as is (main/engine/redo.ts);
 * - `upsert`: write the split with writeMode `update` on the target's key (rows already there are
 *   overwritten with the same values);
 * - `impossible`: no key and no owned range: the split is not retried (the task fails with `reason`).
 */
export type RedoPlan = { kind: 'none' } | { kind: 'delete'; sql: string; params: unknown[] } | { kind: 'upsert' } | { kind: 'impossible'; reason: string }

/** One split of one task, as a channel receives it (plain data: it crosses to worker threads). */
export interface Unit {
  /** Unique within the run. */
  unitId: number
  taskId: string
  split: Split
  /** The target, its columns in write order, writeMode and key. */
  write: WriteSpec
  /** Compiled field mapping inputs (see mapping.ts). */
  ops: MapOp[]
  sourceWidth: number
  /** Source column names (dirty records carry them). */
  srcNames: string[]
  /**
   * File readers: index of the `@error` source column; a row with a non-NULL value there (a line
   * that could not be parsed, a field not of its column's type) is a dirty record with that reason.
   */
  errorIndex?: number
  zeroDate: ZeroDatePolicy
  /** `setting.batchBytes`. */
  batchBytes: number
  redo: RedoPlan
  /** Apply `redo` before the first try as well: an earlier attempt of the run may have written part of this split. */
  redoFirst: boolean
  /** A try fails with {@link SplitTimeout} after this many ms without a batch moving. */
  timeoutMs: number
  retry: RetryPolicy
}

/** What a channel reports (worker -> main thread, or in-process callback). Counters in `progress` are deltas. */
export type ChannelMessage =
  | { type: 'ready' }
  | { type: 'progress'; unitId: number; taskId: string; rowsRead: number; rowsWritten: number; bytes: number }
  | { type: 'dirty'; unitId: number; taskId: string; records: DirtyRecord[] }
  | { type: 'splitDone'; unitId: number; taskId: string; splitIndex: number; counters: Counters }
  | { type: 'log'; level: LogLevel; message: string; taskId?: string }
  /** A split is re-done from scratch: its `count` dirty records reported so far are void (found again). */
  | { type: 'dirtyReset'; unitId: number; taskId: string; splitIndex: number; count: number }
  | { type: 'done' }
  | { type: 'error'; unitId?: number; taskId?: string; message: string; name?: string; code?: string }

/** What a channel needs besides the unit. */
export interface ChannelEnv {
  reader: Connector
  writer: Connector
  throttle: Throttle
  /** Aborts the unit (cancel, errorLimit): the channel stops and reports an error. */
  signal: AbortSignal
  post: (m: ChannelMessage) => void
  /** The channel's open writer between units of the same table (see {@link WriterCache}). */
  writers?: WriterCache
}

/**
 * The one writer a channel keeps open between its units of the same table, so the next split
 * starts writing at once instead of opening a connection and reading the table's catalog again
 * (10-50 ms a split). Only a writer whose try succeeded is kept: every batch it wrote is
 * committed and it holds no transaction. A unit for another table (or write spec) closes it;
 * the channel's host closes it when the channel ends or stops. SQLite writers are not kept (a
 * borrowed file handle; opening one costs nothing).
 */
export class WriterCache {
  private key?: string
  private w?: Writer

  /** The kept writer when `key` matches, else a new one from `open` (closing the kept one). */
  async take(key: string, open: () => Promise<Writer>): Promise<Writer> {
    if (this.w && this.key === key) {
      const w = this.w
      this.w = undefined
      return w
    }
    await this.close()
    return open()
  }

  /** Keep `w` (after a successful try) for the next unit with the same key. */
  keep(key: string, w: Writer): void {
    this.key = key
    this.w = w
  }

  /** Close the kept writer, if any. Never throws. */
  async close(): Promise<void> {
    const w = this.w
    this.w = undefined
    this.key = undefined
    await w?.close().catch(() => undefined)
  }
}

/** Run one unit to its end; never throws (the outcome is the last message posted). */
export async function executeUnit(unit: Unit, env: ChannelEnv): Promise<void> {
  const { post, signal } = env
  const where = `${unit.taskId} split ${unit.split.index}`
  // The counters of failed tries, taken back once the retry has cleared what they wrote.
  let takeBack: Counters | undefined
  for (let attempt = 0; ; attempt++) {
    const sc: Counters = { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }
    try {
      const redo = attempt > 0 || unit.redoFirst ? unit.redo : { kind: 'none' as const }
      if (redo.kind === 'impossible') throw Object.assign(new Error(`${where}: cannot be re-written safely: ${redo.reason}`), { code: 'NOT_RESUMABLE' })
      if (redo.kind === 'delete') {
        try {
          await env.writer.query(redo.sql, redo.params, { signal })
        } catch (e) {
          if (e instanceof Error) e.message = `${where}: re-doing the split (DELETE of its key range): ${e.message}`
          throw e
        }
      }
      if (takeBack) {
        // The rows of the failed tries are gone (deleted) or will be overwritten (upsert); their
        // dirty records are found again by this try.
        post({ type: 'progress', unitId: unit.unitId, taskId: unit.taskId, rowsRead: -takeBack.rowsRead, rowsWritten: -takeBack.rowsWritten, bytes: -takeBack.bytes })
        if (takeBack.dirty) post({ type: 'dirtyReset', unitId: unit.unitId, taskId: unit.taskId, splitIndex: unit.split.index, count: takeBack.dirty })
        takeBack = undefined
      }
      const write: WriteSpec = redo.kind === 'upsert' ? { ...unit.write, writeMode: 'update' } : unit.write
      await oneTry(unit, env, write, sc)
      post({ type: 'splitDone', unitId: unit.unitId, taskId: unit.taskId, splitIndex: unit.split.index, counters: sc })
      return
    } catch (e) {
      const err = e as Error & { code?: string }
      const retryable = !signal.aborted && !(e instanceof SplitTimeout) && isTransient(e) && attempt < unit.retry.retries && unit.redo.kind !== 'impossible'
      // A retry re-does the split from scratch: its counters are taken back once the retry has
      // cleared what this try wrote. Otherwise (terminated, failed, or a retry whose clearing
      // failed) the batches written so far stay committed, and the counters say so.
      if (retryable && (sc.rowsRead || sc.rowsWritten || sc.bytes || sc.dirty)) {
        takeBack ??= { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }
        takeBack.rowsRead += sc.rowsRead
        takeBack.rowsWritten += sc.rowsWritten
        takeBack.bytes += sc.bytes
        takeBack.dirty += sc.dirty
      }
      if (!retryable) {
        const message = signal.aborted && signal.reason instanceof Error ? signal.reason.message : err?.message ?? String(e)
        post({ type: 'error', unitId: unit.unitId, taskId: unit.taskId, message, ...(err?.name ? { name: err.name } : {}), ...(err?.code ? { code: String(err.code) } : {}) })
        return
      }
      const wait = backoffMs(attempt, unit.retry)
      post({ type: 'log', level: 'warn', taskId: unit.taskId, message: `${where}: ${err.message} (transient; retry ${attempt + 1} of ${unit.retry.retries} in ${(wait / 1000).toFixed(1)} s)` })
      try {
        await sleep(wait, signal)
      } catch {
        /* aborted: the next loop turn reports it */
      }
    }
  }
}

async function oneTry(unit: Unit, env: ChannelEnv, write: WriteSpec, sc: Counters): Promise<void> {
  const { post, throttle } = env
  const p = unit
  // A per-try controller: the outer signal, or the no-progress watchdog.
  const ac = new AbortController()
  const onOuter = () => ac.abort(env.signal.reason)
  if (env.signal.aborted) onOuter()
  else env.signal.addEventListener('abort', onOuter, { once: true })
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => ac.abort(new SplitTimeout(`${p.taskId} split ${p.split.index}: no batch moved for ${(p.timeoutMs / 1000).toFixed(0)} s (split timeout); the split failed`)), p.timeoutMs)
    timer.unref?.()
  }
  const signal = ac.signal
  let w: Writer | undefined
  let reading: AsyncIterator<RowBatch | RawBatch> | undefined
  const mapper = compileMapping(p.ops, p.sourceWidth, p.zeroDate)
  const report = (read: number, written: number, bytes: number) => {
    sc.rowsRead += read
    sc.rowsWritten += written
    sc.bytes += bytes
    post({ type: 'progress', unitId: p.unitId, taskId: p.taskId, rowsRead: read, rowsWritten: written, bytes })
  }

  /** The canonical path for one batch: mapping, throttle, write, dirty records. */
  const writeRows = async (writer: Writer, rows: Row[], approx: number): Promise<void> => {
    let out: Row[] = rows
    let origin: number[] | undefined // index in `rows` of each row in `out`, when some were dropped
    const dirty: DirtyRecord[] = []
    const ei = p.errorIndex ?? -1
    if (ei >= 0) {
      let kept: Row[] | undefined
      for (let i = 0; i < rows.length; i++) {
        const e = rows[i]![ei]
        if (e !== null && e !== undefined) {
          dirty.push({ taskId: p.taskId, reason: String(e), code: 'FILE_VALUE', columns: p.srcNames, values: rows[i]! as Value[] })
          kept ??= rows.slice(0, i)
        } else if (kept) kept.push(rows[i]!)
      }
      if (kept) {
        // The refused lines count as read.
        report(rows.length - kept.length, 0, 0)
        rows = kept
      }
    }
    if (!mapper.identity) {
      out = new Array<Row>(rows.length)
      let k = 0
      for (let i = 0; i < rows.length; i++) {
        const m = mapper.map(rows[i]!)
        if (isMappingError(m)) {
          dirty.push({ taskId: p.taskId, reason: m.reason, code: m.code, column: m.column, columns: p.srcNames, values: rows[i]! as Value[] })
          origin ??= Array.from({ length: k }, (_, j) => j)
        } else {
          if (origin) origin.push(i)
          out[k++] = m
        }
      }
      out.length = k
    }
    // Throttled: pass the batch in chunks of a tenth of a second's allowance.
    const chunk = throttle.limited ? throttle.chunkRows(approx / Math.max(1, rows.length)) : Infinity
    if (chunk >= out.length) {
      await throttle.take(rows.length, approx, signal)
      let written = 0
      if (out.length) {
        const res = await writer.write(out, signal)
        written = res.written
        for (const d of res.dirty) dirty.push(dirtyOf(p, d, rows[origin ? origin[d.index]! : d.index]!))
      }
      report(rows.length, written, approx)
    } else {
      // Throttled: chunks of a tenth of a second's allowance, each reported as it lands.
      const perRow = approx / Math.max(1, rows.length)
      let bytesLeft = approx
      for (let off = 0; off < out.length; off += chunk) {
        const part = out.slice(off, off + chunk)
        const bytes = Math.min(bytesLeft, Math.round(part.length * perRow))
        bytesLeft -= bytes
        await throttle.take(part.length, bytes, signal)
        arm()
        const res = await writer.write(part, signal)
        for (const d of res.dirty) {
          const i = off + d.index
          dirty.push(dirtyOf(p, d, rows[origin ? origin[i]! : i]!))
        }
        report(part.length, res.written, bytes)
      }
      // Rows dropped by the mapping still count against the limit.
      if (rows.length > out.length) await throttle.take(rows.length - out.length, bytesLeft, signal)
      report(rows.length - out.length, 0, bytesLeft)
    }
    if (dirty.length) {
      for (const d of dirty) d.splitIndex = p.split.index
      sc.dirty += dirty.length
      post({ type: 'dirty', unitId: p.unitId, taskId: p.taskId, records: dirty })
    }
  }

  try {
    arm()
    // File writers publish their parts at the split's end (commit): never kept between splits.
    const cache = env.writer.kind === 'sqlite' || env.writer.kind === 'file' ? undefined : env.writers
    const key = cache ? JSON.stringify(write) : ''
    w = cache ? await cache.take(key, () => env.writer.writer(write)) : await env.writer.writer({ ...write, splitIndex: p.split.index })
    const writer = w
    // The raw path (main/connectors/raw.ts) when the reader, the writer and every column pair
    // allow it and no speed limit needs row-sized chunks; otherwise canonical rows. Env
    // `SLUICE_RAW=0` turns it off (diagnosis, and tests comparing both paths).
    const rr = process.env.SLUICE_RAW === '0' ? undefined : rawReadable(env.reader)
    const rw = rawWriter(writer)
    let raw = !!rr && !!rw && !throttle.limited && rawEligible(env.reader.kind, env.writer.kind, { ops: p.ops, sourceWidth: p.sourceWidth, targets: write.columns, sourceNames: p.srcNames }) === true
    let it: AsyncIterator<RowBatch | RawBatch> | undefined
    let next: Promise<IteratorResult<RowBatch | RawBatch>> | undefined
    if (raw) {
      const target = rw!.rawTarget?.()
      it = rr!.readRaw(p.split, { signal, batchBytes: p.batchBytes, ...(target ? { target } : {}), ...(rw!.takesCsv ? { csv: true } : {}) })[Symbol.asyncIterator]()
      reading = it
      try {
        const first = await it.next()
        next = Promise.resolve(first)
        const via = first.done ? undefined : (first.value as RawBatch).via
        post({ type: 'log', level: 'debug', taskId: p.taskId, message: `${p.taskId} split ${p.split.index}: raw path${via ? ` (${via})` : ''}` })
      } catch (e) {
        if (!(e instanceof RawUnsupported)) throw e
        post({ type: 'log', level: 'debug', taskId: p.taskId, message: `${p.taskId} split ${p.split.index}: canonical path (${e.message})` })
        raw = false
      }
    }
    if (!raw) {
      it = env.reader.read(p.split, { signal, batchBytes: p.batchBytes })[Symbol.asyncIterator]()
      reading = it
      next = it.next()
    }
    for (;;) {
      const r = await next!
      if (r.done) break
      arm()
      // Read ahead while this batch is written, unless it is oversized (rows bigger than
      // batchBytes, e.g. 50 MB blobs, come one per batch): then the next one is read after, so a
      // channel holds one such row at a time (plus what its reader keeps ready).
      const oversized = (r.value as { approxBytes: number }).approxBytes > 2 * p.batchBytes
      if (!oversized) {
        next = it!.next()
        next.catch(() => undefined)
      }
      if (raw) {
        const b = r.value as RawBatch
        // A refused batch (a value its binary format cannot carry) goes the canonical way.
        const res = b.refused ? null : await rw!.writeRaw(b, signal)
        if (res) {
          b.release?.()
          report(b.rows, res.written, b.approxBytes)
        } else {
          // Some row was refused: narrow the batch on the canonical path.
          const rows = b.decode()
          b.release?.()
          await writeRows(writer, rows, b.approxBytes)
        }
      } else {
        const b = r.value as RowBatch
        await writeRows(writer, b.rows, b.approxBytes)
      }
      if (oversized) {
        next = it!.next()
        next.catch(() => undefined)
      }
      arm()
    }
    if (w.finish) await w.finish()
    if (cache) cache.keep(key, w)
    else await w.close()
    w = undefined
  } catch (e) {
    // The watchdog's reason is the useful error, not the abort it caused.
    if (signal.aborted && !env.signal.aborted && signal.reason instanceof SplitTimeout) throw signal.reason
    throw e
  } finally {
    if (timer) clearTimeout(timer)
    env.signal.removeEventListener('abort', onOuter)
    await w?.close().catch(() => undefined)
    // Give the reader back: a try that ended early (an error, terminate) leaves its iterator
    // suspended, holding a connection. Abort first, so a pending read settles, then end it.
    if (!ac.signal.aborted) ac.abort(new Error('split try ended'))
    await reading?.return?.(undefined as never)?.catch(() => undefined)
  }
}

function dirtyOf(p: Unit, d: { reason: string; code?: string; column?: string }, src: Row): DirtyRecord {
  return { taskId: p.taskId, reason: d.reason, ...(d.code ? { code: d.code } : {}), ...(d.column ? { column: d.column } : {}), columns: p.srcNames, values: src as Value[] }
}

/**
 * Structured clone turns a Buffer into a plain Uint8Array; turn them back (deeply, in arrays and
 * plain objects) so values keep their canonical form after crossing a thread.
 */
export function reviveBuffers<T>(v: T): T {
  if (v instanceof Uint8Array) return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)) as T
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveBuffers(v[i])
    return v
  }
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = reviveBuffers((v as Record<string, unknown>)[k])
  }
  return v
}
