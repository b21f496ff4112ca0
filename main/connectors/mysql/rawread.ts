/**
 * The raw read path (see main/connectors/raw.ts): a split streamed from the MySQL text protocol
 * straight into COPY text lines, one pass over the row packets' bytes, no JS value per field.
 *
 * mysql2 parses each row packet into JS values through a generated parser plus the canonical
 * typeCast; this path replaces only the row step of mysql2's Query command (`query.row`, the
 * state the command enters after the column definitions) with {@link RawRowEncoder}, so the
 * connection, authentication, error packets, flow control (`pause`/`resume`) and the end of the
 * result stay mysql2's. A text-protocol row is a sequence of length-encoded strings, NULL being
 * the single byte 0xFB (MySQL "Text Resultset Row"); each value is the server's own text, in the
 * connection character set (utf8mb4) for character columns.
 *
 * Columns whose canonical value is that text (integers, DECIMAL, FLOAT/DOUBLE, DATE, DATETIME,
 * TIME, YEAR, character strings, ENUM/SET, JSON) are copied (character data with COPY escaping);
 * TIMESTAMP gets the session offset appended (fixed-offset sessions only), binary strings and
 * BLOBs are written as bytea hex. A column without such a spelling (BIT, GEOMETRY, TIMESTAMP in
 * an IANA-zone session) makes the read throw {@link RawUnsupported} before the first batch.
 * `decode()` of a batch yields exactly the canonical values makeTypeCast would (BIGINT
 * number-or-string, DATETIME/TIME/TIMESTAMP fraction zeros trimmed, binary data as Buffers).
 */
import type { Row } from '../../core/types.js'
import { CopyTextDecoder, type FieldKind } from '../postgres/copy-text.js'
import { RawUnsupported, type RawBatch } from '../raw.js'
import type { ReadOptions } from '../types.js'
import type { FieldPacketLike } from './read.js'
import type { Session } from './session.js'
import { canonicalBigint, formatOffset, trimFraction } from './values.js'

const BINARY_CHARSET = 63
/** ASCII codes of the lower-case hex digits. */
const HEX = Uint8Array.from(Buffer.from('0123456789abcdef', 'latin1'))

/**
 * How a column is copied: 0 as is (ASCII text that never needs escaping), 1 with COPY escaping,
 * 2 as a bytea hex field (`\\x` + hex digits, what the PostgreSQL encoder writes for a Buffer),
 * 3 as is followed by the session offset (TIMESTAMP).
 */
type CopyClass = 0 | 1 | 2 | 3
/** Post-decode fix of a fallback value: 0 none, 1 BIGINT, 2 DATETIME/TIME fraction, 3 TIMESTAMP fraction before the offset. */
type Fix = 0 | 1 | 2 | 3

interface ColumnPlan {
  copy: CopyClass
  kind: FieldKind
  fix: Fix
}

/** What the column plans depend on besides the field packet. */
export interface RawContext {
  /** The session zone's offset when it is fixed (`+00:00` by default); TIMESTAMP needs one. */
  fixedOffset?: string
}

/**
 * The raw plan of one result column from its definition packet (protocol type codes, MySQL
 * "Column Definition"), or a reason why it has none.
 */
export function rawColumnPlan(f: FieldPacketLike, ctx: RawContext = {}): ColumnPlan | string {
  const t = (f.columnType ?? f.type ?? 254) & 0xff
  switch (t) {
    case 7: // TIMESTAMP: canonical is the session's text plus the session offset
      if (ctx.fixedOffset === undefined) return `column ${f.name} is a TIMESTAMP and the session time zone is not a fixed offset`
      return { copy: 3, kind: 'text', fix: 3 }
    case 245: // JSON (MySQL 8 reports it with the binary charset; its value is text)
      return { copy: 1, kind: 'text', fix: 0 }
    case 1: // TINY
    case 2: // SHORT
    case 3: // LONG
    case 9: // INT24
    case 13: // YEAR
      return { copy: 0, kind: 'int', fix: 0 }
    case 8: // LONGLONG
      return { copy: 0, kind: 'text', fix: 1 }
    case 0: // DECIMAL
    case 246: // NEWDECIMAL
    case 10: // DATE
    case 14: // NEWDATE
      return { copy: 0, kind: 'text', fix: 0 }
    case 4: // FLOAT
    case 5: // DOUBLE
      return { copy: 0, kind: 'float', fix: 0 }
    case 11: // TIME
    case 12: // DATETIME
      return { copy: 0, kind: 'text', fix: 2 }
    case 15: // VARCHAR
    case 253: // VAR_STRING
    case 254: // STRING (CHAR, ENUM, SET)
    case 249: // TINY_BLOB
    case 250: // MEDIUM_BLOB
    case 251: // LONG_BLOB
    case 252: // BLOB
      // Binary strings are Buffers canonically: they travel as bytea hex (the engine takes the raw
      // path for them only into bytea columns, see main/engine/rawpath.ts).
      if (f.characterSet === BINARY_CHARSET) return { copy: 2, kind: 'bytea', fix: 0 }
      return { copy: 1, kind: 'text', fix: 0 }
    default:
      return `column ${f.name} has protocol type ${t}`
  }
}

/** mysql2's Packet, as far as the row step reads it. */
interface PacketLike {
  buffer: Buffer
  offset: number
  end: number
  isEOF(): boolean
}

/**
 * Turns text-protocol row packets into COPY text lines in large Buffers, cutting a batch when it
 * reaches `batchBytes`.
 */
export class RawRowEncoder {
  private buf: Buffer
  private pos = 0
  private rows = 0
  private readonly copy: Uint8Array

  private readonly suffix: Buffer

  constructor(
    private readonly plans: ColumnPlan[],
    private readonly batchBytes: number,
    private readonly onBatch: (b: RawBatch) => void,
    private readonly ctx: RawContext = {},
  ) {
    this.copy = Uint8Array.from(plans.map((p) => p.copy))
    this.suffix = Buffer.from(ctx.fixedOffset ?? '', 'latin1')
    this.buf = Buffer.allocUnsafeSlow(batchBytes + (64 << 10))
  }

  /** Encode one row packet (not the end-of-result packet). */
  row(packet: PacketLike): void {
    const src = packet.buffer
    let p = packet.offset
    const end = packet.end
    const n = this.copy.length
    // Worst case: every byte as hex or escaped, plus per column `\\x`, `\N` or an offset and a
    // separator, and the newline.
    const need = 2 * (end - p) + (4 + this.suffix.length) * n + 1
    if (this.pos + need > this.buf.length) this.grow(need)
    const out = this.buf
    let o = this.pos
    for (let c = 0; c < n; c++) {
      if (c > 0) out[o++] = 9
      let len = src[p++]!
      if (len === 0xfb) {
        out[o++] = 92
        out[o++] = 78
        continue
      }
      if (len >= 0xfc) {
        if (len === 0xfc) {
          len = src[p]! | (src[p + 1]! << 8)
          p += 2
        } else if (len === 0xfd) {
          len = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16)
          p += 3
        } else {
          len = src.readUInt32LE(p) + src.readUInt32LE(p + 4) * 0x100000000
          p += 8
        }
      }
      const e = p + len
      if (e > end) throw new Error(`mysql raw read: row packet ends inside column ${c + 1}`)
      const k = this.copy[c]
      if (k === 2) {
        out[o++] = 92
        out[o++] = 92
        out[o++] = 120
        while (p < e) {
          const x = src[p++]!
          out[o++] = HEX[x >> 4]!
          out[o++] = HEX[x & 15]!
        }
        continue
      }
      if (k === 3) {
        src.copy(out, o, p, e)
        o += len
        p = e
        o += this.suffix.copy(out, o)
        continue
      }
      if (k === 1) {
        // Character data: find the first byte that needs an escape (backslash, TAB, LF, CR).
        let q = p
        while (q < e) {
          const x = src[q]!
          if (x === 92 || (x < 14 && (x === 9 || x === 10 || x === 13))) break
          q++
        }
        if (q < e) {
          while (p < e) {
            const x = src[p++]!
            if (x === 92) (out[o++] = 92), (out[o++] = 92)
            else if (x === 9) (out[o++] = 92), (out[o++] = 116)
            else if (x === 10) (out[o++] = 92), (out[o++] = 110)
            else if (x === 13) (out[o++] = 92), (out[o++] = 114)
            else out[o++] = x
          }
          continue
        }
      }
      if (len < 32) while (p < e) out[o++] = src[p++]!
      else {
        src.copy(out, o, p, e)
        o += len
        p = e
      }
    }
    out[o++] = 10
    this.pos = o
    this.rows++
    if (o >= this.batchBytes) this.flush()
  }

  /** Hand over the rows encoded so far as a batch (nothing when there are none). */
  flush(): void {
    if (!this.rows) return
    const whole = this.buf
    const data = whole.subarray(0, this.pos)
    const rows = this.rows
    const plans = this.plans
    let released = false
    const release = () => {
      if (released) return
      released = true
      if (this.spare.length < 3 && whole.length === this.batchBytes + (64 << 10)) this.spare.push(whole)
    }
    this.onBatch({ data, rows, approxBytes: data.length, decode: () => decodeRaw(data, plans, this.ctx), release })
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.batchBytes + (64 << 10))
    this.pos = 0
    this.rows = 0
  }

  /** Buffers of released batches, reused by {@link flush}. */
  private readonly spare: Buffer[] = []

  private grow(need: number): void {
    if (this.rows) {
      this.flush()
      if (need <= this.buf.length) return
    }
    this.buf = Buffer.allocUnsafeSlow(need + (64 << 10))
    this.pos = 0
  }
}

/** Canonical rows of a raw batch (the values mysql2 + makeTypeCast give for the same columns). */
function decodeRaw(data: Buffer, plans: ColumnPlan[], ctx: RawContext): Row[] {
  const suffix = ctx.fixedOffset ?? ''
  const rows: Row[] = []
  const dec = new CopyTextDecoder(plans.map((p) => p.kind))
  dec.push(data, rows)
  dec.end()
  for (let c = 0; c < plans.length; c++) {
    const fix = plans[c]!.fix
    if (fix === 0) continue
    for (const r of rows) {
      const v = r[c]
      if (typeof v !== 'string') continue
      r[c] = fix === 1 ? canonicalBigint(v) : fix === 2 ? trimFraction(v) : trimFraction(v.slice(0, v.length - suffix.length)) + suffix
    }
  }
  return rows
}

/**
 * Stream `sql` as raw batches (see the file comment). Memory: the server is paused (`pause()`,
 * TCP back-pressure) while one finished batch waits for the consumer, so at most the batch being
 * written, the one read ahead, one waiting and one filling are held. Abort or an early end kills
 * the statement (`KILL QUERY`) and destroys the connection.
 * @throws RawUnsupported before the first batch when a column has no raw spelling.
 */
export async function* streamReadRaw(session: Session, sql: string, params: unknown[], opts: ReadOptions = {}): AsyncGenerator<RawBatch> {
  const ctx: RawContext = session.zone.fixed !== undefined ? { fixedOffset: formatOffset(session.zone.fixed) } : {}
  const batchBytes = opts.batchBytes ?? 4 * 1024 * 1024
  const signal = opts.signal
  signal?.throwIfAborted()
  const conn = await session.acquire()
  const ready: RawBatch[] = []
  let failure: Error | undefined
  let ended = false
  let paused = false
  let done = false
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  let encoder: RawRowEncoder | undefined
  const onBatch = (b: RawBatch) => {
    ready.push(b)
    if (!paused) {
      paused = true
      conn.pause()
    }
    notify()
  }
  const query = conn.query({ sql, values: params }) as unknown as {
    row: (packet: PacketLike, connection: unknown) => unknown
    on(ev: string, fn: (...a: never[]) => void): void
  }
  const protoRow = Object.getPrototypeOf(query).row as (packet: PacketLike, connection: unknown) => unknown
  query.on('fields', (fields: FieldPacketLike[]) => {
    const plans: ColumnPlan[] = []
    for (const f of fields) {
      const p = rawColumnPlan(f, ctx)
      if (typeof p === 'string') {
        failure ??= new RawUnsupported(`mysql raw read: ${p}`)
        notify()
        return
      }
      plans.push(p)
    }
    encoder = new RawRowEncoder(plans, batchBytes, onBatch, ctx)
  })
  query.row = function (this: typeof query, packet: PacketLike, connection: unknown) {
    if (packet.isEOF()) return protoRow.call(this, packet, connection)
    if (encoder && !failure) {
      try {
        encoder.row(packet)
      } catch (e) {
        failure = e as Error
        notify()
      }
    }
    return this.row
  }
  query.on('error', (e: Error) => {
    failure ??= e
    notify()
  })
  query.on('end', () => {
    if (!failure) encoder?.flush()
    ended = true
    notify()
  })
  const onAbort = () => {
    failure = signal?.reason instanceof Error ? signal.reason : new Error('read aborted')
    notify()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      if (failure) throw failure
      const b = ready.shift()
      if (b) {
        if (paused && !ready.length) {
          paused = false
          conn.resume()
        }
        yield b
        continue
      }
      if (ended) break
      await new Promise<void>((r) => (wake = r))
    }
    done = true
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (done) conn.release()
    else {
      const threadId = conn.threadId
      conn.destroy()
      await session.killQuery(threadId)
    }
  }
}
