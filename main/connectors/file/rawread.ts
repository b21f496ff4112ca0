/**
 * The file reader's raw path (main/connectors/raw.ts): delimited text records checked by one byte
 * scanner, no JS value per field, and passed on as they are (`RawBatch.format` `csv`, which
 * PostgreSQL reads with `COPY ... (FORMAT csv)`: same quoting rules, an unquoted NULL string,
 * https://www.postgresql.org/docs/15/sql-copy.html "CSV Format") when the writer takes that
 * ({@link RawScanOptions.csv}) and the file's fields are the written columns in order, else
 * rewritten as PostgreSQL COPY text lines (reordered or partial columns, or a writer that takes
 * COPY text only: MySQL's LOAD DATA reads the same text, see raw.ts). Batches sent as they are
 * never hold an empty line (PostgreSQL would read it as a row) nor a line `\.` (its end-of-data
 * marker). Where the writer also takes PostgreSQL's binary COPY (RawTarget `pgbinary`), a batch
 * of such records goes as binary tuples instead when every record of it has an exact binary
 * encoding (file/pgbinary.ts; PostgreSQL receives binary values for far less CPU than it parses
 * CSV), else as the records.
 *
 * Records follow RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180) as csv-parse reads them with
 * the canonical reader's options (main/connectors/file/text.ts readDelimited): a field starting
 * with the quote is quoted up to the next quote not doubled, and may hold delimiters and line
 * breaks; an unquoted field equal to the nullFormat is NULL; empty lines are skipped; the record
 * delimiter is the first line break of the file (LF or CRLF; a file whose first line break is a
 * bare CR is left to the canonical reader). COPY text output: see raw.ts (`\\`, `\t`, `\n`, `\r`
 * escaped, NULL `\N`).
 *
 * A batch is marked `refused` (written by the canonical path, which reports dirty records with
 * file and line) when a record is not what the scanner can prove equal to the canonical reader's
 * result: a field count that is not the header's, a field that the column's type does not accept
 * in its strict canonical spelling (see {@link FieldCheck}), a quote inside an unquoted field, a
 * line break other than the file's record delimiter, a COPY text batch that is not valid UTF-8
 * (the canonical reader decodes invalid bytes as U+FFFD). `decode()` re-reads the batch's own bytes
 * with csv-parse and the canonical row builder, so it yields exactly the canonical rows, with
 * their `@file` / `@line`.
 */
import { isUtf8 } from 'node:buffer'
import type { Readable } from 'node:stream'
import { parse as parseSync } from 'csv-parse/sync'
import type { Row } from '../../core/types.js'
import type { PgBinaryType } from '../pg-binary.js'
import { RawUnsupported, type RawBatch } from '../raw.js'
import { FIELD_EXTRA, PgBinaryRecordEncoder } from './pgbinary.js'

/**
 * What a column's field must look like to go raw, so that PostgreSQL reads the text as the value
 * the canonical reader (codec.ts textToValue) would make of it:
 * - `ANY`: passed as is (text-like columns, and declared-text columns whose value is the string);
 * - `INT`: `[+-]?digits` (no blanks; `true`/`false`, which the canonical reader takes as 1/0, go
 *   canonical);
 * - `DEC`: codec.ts's decimal grammar `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)`, no blanks
 *   (NaN / Infinity go canonical);
 * - `DATE`: `dddd-dd-dd`, not a zero date (year 0000, month or day 00: the canonical path applies
 *   the zeroDate policy to those, main/engine/mapping.ts, where a target might store them);
 * - `DATETIME`: `dddd-dd-dd[ T]dd:dd:dd[.d{1,9}]` or a date alone (the same instant in both paths:
 *   PostgreSQL and MySQL read the `T` form and the trailing fraction zeros the canonical path
 *   drops), not a zero date, with at most the column's fraction digits
 *   ({@link RawScanOptions.setup} `fracs`: MySQL rounds longer fractions silently, where the
 *   canonical writer refuses them).
 */
export const FieldCheck = { ANY: 0, INT: 1, DEC: 2, DATE: 3, DATETIME: 4 } as const
export type FieldCheck = (typeof FieldCheck)[keyof typeof FieldCheck]

/** What {@link readDelimitedRaw} needs to know about the file and the columns. */
export interface RawScanOptions {
  /** Field delimiter and quote bytes (ASCII; the escape is the quote). */
  delimiter: number
  quote: number
  /** The nullFormat as UTF-8 bytes, and as text (for decode). */
  nullFormat: Buffer
  header: boolean
  /**
   * The writer takes `format: 'csv'` batches (main/connectors/raw.ts RawReadOptions.csv): records
   * may then be passed as they are; otherwise every batch is COPY text.
   */
  csv?: boolean
  /**
   * The writer's binary COPY types (main/connectors/raw.ts RawTarget `pgbinary`), one per written
   * column: where records would be passed as they are (`csv`), batches whose every record has
   * an exact binary encoding (file/pgbinary.ts) go as `pgbinary` tuples instead, the others as
   * CSV records. Env `SLUICE_FILE_PGBINARY=0` turns this off.
   */
  pg?: readonly PgBinaryType[]
  /** Decompressed text bytes target per batch. */
  batchBytes: number
  signal?: AbortSignal
  /**
   * Called once with the header names (or, without a header, undefined and the first record's
   * field count): the field index of each raw column in write order, its check, and the canonical
   * row builder for decode, and optionally per column the most fraction digits a `DATETIME` field
   * may have (default 9). Throws RawUnsupported when the columns have no raw path.
   */
  setup(header: string[] | undefined, width: number): Promise<{ fields: number[]; checks: FieldCheck[]; fracs?: number[]; build: (rec: Array<string | null>, line: number) => Row }>
}

const LF = 10
const CR = 13
const BS = 92
const TAB = 9

/**
 * Stream `input` (decompressed UTF-8 delimited text) as raw batches of the setup's columns: the
 * records themselves (`format: 'csv'`, for PostgreSQL's `COPY ... (FORMAT csv)`) when the file's
 * fields are the columns in write order, else COPY text lines.
 * @throws the input's errors; RawUnsupported from `setup`, or when the file's first line break
 *   is a bare CR (both before the first batch: the caller reads the file canonically).
 */
export async function* readDelimitedRaw(input: Readable, o: RawScanOptions): AsyncGenerator<RawBatch> {
  const onAbort = () => input.destroy(o.signal!.reason instanceof Error ? o.signal!.reason : new Error('aborted'))
  o.signal?.addEventListener('abort', onAbort, { once: true })
  const nullF = o.nullFormat
  const nullLen = nullF.length
  const delim = o.delimiter
  const quote = o.quote
  // Byte classes: 0 plain, 1 delimiter, 2 LF, 3 CR, 4 quote.
  const cls = new Uint8Array(256)
  cls[delim] = 1
  cls[LF] = 2
  cls[CR] = 3
  cls[quote] = 4
  const csv = { delimiter: String.fromCharCode(delim), quote: String.fromCharCode(quote), null: nullF.toString('utf8') }
  // PostgreSQL's CSV reader takes the nullFormat as its NULL string only without these bytes.
  const csvNullOk = !nullF.includes(delim) && !nullF.includes(quote) && !nullF.includes(LF) && !nullF.includes(CR)
  let carry: Buffer = Buffer.alloc(0)
  let started = false
  let plan: Awaited<ReturnType<RawScanOptions['setup']>> | undefined
  let width = -1
  let direct = false
  let ncols = 0
  let fracs: number[] = []
  let line0 = 0 // line breaks before buf (csv-parse's info.lines - 1 of its first record)
  const pending: Buffer[] = []
  let pendingBytes = 0
  // Per-record field offsets (reused).
  const sc = new RecordScanner(cls, delim, quote)
  let checks: Uint8Array | undefined
  // Binary COPY tuples of the direct batches, when the writer takes them (o.pg).
  let enc: PgBinaryRecordEncoder | undefined
  const setEncoder = () => {
    enc = direct && process.env.SLUICE_FILE_PGBINARY !== '0' ? PgBinaryRecordEncoder.for(o.pg, checks!, fracs, nullF, quote) : undefined
  }
  // Reused text buffers (RawBatch.release): no fresh megabytes to allocate and fault in per batch.
  const pool: Buffer[] = []
  const take = (n: number): Buffer => {
    const k = pool.findIndex((b) => b.length >= n)
    return k >= 0 ? pool.splice(k, 1)[0]! : Buffer.allocUnsafeSlow(Math.max(n, Math.ceil(o.batchBytes * 1.5)))
  }
  const give = (b: Buffer) => {
    if (pool.length < 4) pool.push(b)
  }
  try {
    const iter = input[Symbol.asyncIterator]()
    // The first turns are small and double up to batchBytes: the writer starts on a file's first
    // records at once instead of after a whole batch was decompressed and scanned (as the database
    // readers' first batch of a split, 64 KiB doubling).
    let turnBytes = Math.min(o.batchBytes, FIRST_TURN_BYTES)
    let eof = false
    while (!eof) {
      // Gather about batchBytes of text.
      while (pendingBytes < turnBytes) {
        const r = await iter.next()
        if (r.done) {
          eof = true
          break
        }
        const b = Buffer.isBuffer(r.value) ? (r.value as Buffer) : Buffer.from(r.value as string)
        pending.push(b)
        pendingBytes += b.length
      }
      // The text of this turn: one chunk as it came, else the carry and the chunks copied into a
      // buffer of the pool (given back when every batch cut from it is released).
      let mem: Buffer | undefined
      let buf: Buffer
      if (!carry.length && pending.length === 1) buf = pending[0]!
      else {
        const total = carry.length + pendingBytes
        mem = take(total)
        let at = carry.copy(mem, 0)
        for (const c of pending) at += c.copy(mem, at)
        buf = mem.subarray(0, total)
      }
      pending.length = 0
      pendingBytes = 0
      if (!started && line0 === 0 && !carry.length) {
        if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
        else if (buf.length < 3 && !eof) {
          carry = buf
          continue
        }
      }
      const len = buf.length
      sc.begin()
      const ready: RawBatch[] = []
      let refs = 0
      let out: Buffer = direct && !enc ? EMPTY : enc ? take(Math.ceil(len * 1.3) + 1024) : Buffer.allocUnsafe(Math.ceil(len * 1.1) + 1024)
      // The binary tuples' buffer goes back to the pool once this turn and its binary batches
      // are done with it (refs: 1 for the turn, 1 per batch not yet released).
      const tuples = { buf: enc ? out : EMPTY, refs: 1 }
      const doneTuples = () => {
        if (--tuples.refs === 0 && tuples.buf !== EMPTY) give(tuples.buf)
      }
      let o2 = 0
      // Direct batches with an encoder: where this batch's tuples start in `out`, and whether every
      // record so far had its binary encoding (else the batch goes as CSV records).
      let oStart = 0
      let binOk = true
      let rows = 0
      let refused = false
      let p = 0 // start of the current record
      let lines = 0 // line breaks in buf[0, p)
      let bStart = 0 // start of the current batch's records
      let bLines = 0 // line breaks in buf[0, bStart)
      const close = (end: number) => {
        if (!rows) return
        const src = buf.subarray(bStart, end)
        const pl = plan!
        const first = line0 + bLines
        const decode = () => decodeRecords(src, o, sc.crlf ?? false, first, pl.build)
        const via = direct ? 'delimited text as is' : 'delimited text scanner'
        const binary = !refused && direct && !!enc && binOk
        let released = false
        const release = () => {
          if (released) return
          released = true
          if (mem && --refs === 0) give(mem)
          if (binary) doneTuples()
        }
        refs++
        if (binary) tuples.refs++
        // The canonical reader decodes invalid UTF-8 as U+FFFD; PostgreSQL and MySQL would refuse
        // or mangle the bytes instead. (Batches sent as they are: PostgreSQL refuses them.)
        if (!refused && !direct && !isUtf8(out.subarray(0, o2))) refused = true
        if (refused) ready.push({ refused: true, data: EMPTY, rows, approxBytes: src.length, via, decode, release })
        else if (direct && enc && binOk) ready.push({ format: 'pgbinary', data: out.subarray(oStart, o2), rows, approxBytes: src.length, via: 'delimited text as PostgreSQL binary COPY', decode, release })
        else if (direct) ready.push({ format: 'csv', csv, data: src, rows, approxBytes: src.length, via, decode, release })
        else ready.push({ data: out.subarray(0, o2), rows, approxBytes: src.length, via, decode, release })
        rows = 0
        refused = false
        if (direct && enc) {
          // A batch that went as CSV (or refused) leaves its partial tuples behind.
          if (!binary) o2 = oStart
          oStart = o2
          binOk = true
        }
      }
      for (;;) {
        let i = p
        if (i >= len) break
        // An empty line (the file's record delimiter alone): skipped (csv-parse skip_empty_lines), counted.
        const c0 = buf[i]
        if (c0 === LF || c0 === CR) {
          if (c0 === CR && i + 1 >= len && !eof) break
          if (sc.crlf === undefined) {
            if (c0 === LF) sc.crlf = false
            else if (buf[i + 1] === LF) sc.crlf = true
            else throw new RawUnsupported('the first line break is a bare CR')
          }
          const n = sc.crlf ? (c0 === CR && buf[i + 1] === LF ? 2 : 0) : c0 === LF ? 1 : 0
          if (n) {
            // A batch sent as is cannot hold the empty line: it ends here.
            if (direct) close(i)
            lines++
            p = i + n
            if (direct || !started) {
              bStart = p
              bLines = lines
            }
            continue
          }
        }
        const complete = sc.scan(buf, i, len, eof)
        const nf = sc.nf
        const bad = sc.bad
        const recLines = sc.recLines
        const recEnd = sc.recEnd
        const fs = sc.fs
        const fe = sc.fe
        const fq = sc.fq
        if (!complete) break
        const brk = recEnd > 0 && (buf[recEnd - 1] === LF || buf[recEnd - 1] === CR) ? 1 : 0
        // The record [p, recEnd) with nf fields.
        if (!started) {
          started = true
          if (o.header) {
            const names: string[] = []
            for (let k = 0; k < nf; k++) names.push(fieldText(buf, fs[k]!, fe[k]!, fq[k]!, quote))
            width = nf
            plan = await o.setup(names, nf)
            lines += recLines + brk
            p = recEnd
            bStart = p
            bLines = lines
            ncols = plan.fields.length
            checks = Uint8Array.from(plan.checks)
            direct = !!o.csv && csvNullOk && (width === ncols) && plan.fields.every((f, k) => f === k)
            fracs = fracsOf(plan, ncols)
            setEncoder()
            if (direct && !enc) out = EMPTY
            continue
          }
          plan = await o.setup(undefined, nf)
          ncols = plan.fields.length
          checks = Uint8Array.from(plan.checks)
          direct = !!o.csv && csvNullOk && plan.fields.every((f, k) => f === k)
          fracs = fracsOf(plan, ncols)
          setEncoder()
          if (direct && !enc) out = EMPTY
        }
        const pl = plan!
        if (!refused) {
          if (bad || (width >= 0 && nf !== width) || (direct && nf !== ncols)) refused = true
          else if (direct) {
            let ok: boolean
            if (enc && binOk) {
              // Room: the record's bytes plus each field's length word and fixed-size value.
              const need = recEnd - i + ncols * FIELD_EXTRA + 2
              if (o2 + need > out.length) {
                // A bigger buffer: the earlier one is left to the garbage collector.
                out = grow(out, o2, need)
                if (tuples.buf !== EMPTY) tuples.buf = out
              }
              const r = enc.encode(buf, sc.fs, sc.fe, sc.fq, ncols, out, o2)
              if (r >= 0) {
                o2 = r
                ok = true
              } else {
                binOk = false
                ok = sc.fieldsOk(buf, checks!, fracs, ncols, nullF)
              }
            } else ok = sc.fieldsOk(buf, checks!, fracs, ncols, nullF)
            if (!ok) refused = true
            // PostgreSQL reads a line `\.` as the end of the data.
            if (nf === 1 && fq[0] === 0 && fe[0]! - fs[0]! === 2 && buf[fs[0]!] === BS && buf[fs[0]! + 1] === 46) refused = true
          } else {
            // Room: every byte escaped, plus separators and `\N`s.
            let need = 4 + 3 * ncols
            for (let k = 0; k < ncols; k++) {
              const f = pl.fields[k]!
              if (f < nf) need += 2 * (fe[f]! - fs[f]!)
            }
            if (o2 + need > out.length) out = grow(out, o2, need)
            for (let k = 0; k < ncols; k++) {
              if (k) out[o2++] = TAB
              const f = pl.fields[k]!
              if (f >= nf) {
                refused = true
                break
              }
              const s = fs[f]!
              const e = fe[f]!
              const q = fq[f]!
              if (q === 0 && e - s === nullLen && sameBytes(buf, s, nullF)) {
                out[o2++] = BS
                out[o2++] = 78
                continue
              }
              const check = pl.checks[k]!
              if (check !== FieldCheck.ANY && (q === 2 || !checkField(buf, s, e, check, fracs[k]!))) {
                refused = true
                break
              }
              for (let x = s; x < e; x++) {
                const b = buf[x]!
                const m = ESC_OUT[b]!
                if (m === 0) out[o2++] = b
                else {
                  out[o2++] = BS
                  out[o2++] = m
                }
                if (b === quote && q === 2) x++ // the doubled quote stands for one
              }
            }
            out[o2++] = LF
          }
        }
        rows++
        lines += recLines + brk
        p = recEnd
      }
      close(p)
      carry = p < len ? Buffer.from(buf.subarray(p)) : Buffer.alloc(0)
      if (mem && !refs) give(mem)
      doneTuples()
      for (const b of ready) yield b
      line0 += lines
      turnBytes = Math.min(o.batchBytes, turnBytes * 2)
      // At the end only an incomplete trailing CR can be left: nothing more to read.
      if (eof) carry = Buffer.alloc(0)
    }
    if (!started && !o.header) await o.setup(undefined, 0)
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
    input.destroy()
  }
}

const EMPTY = Buffer.alloc(0)

/** Text bytes of a file's first turn (batch) on the raw path; later turns double up to batchBytes. */
const FIRST_TURN_BYTES = 256 << 10

/** COPY text escapes of the output: 0 copied as is, else the letter written after a backslash. */
const ESC_OUT = new Uint8Array(256)
ESC_OUT[BS] = BS
ESC_OUT[TAB] = 116
ESC_OUT[LF] = 110
ESC_OUT[CR] = 114

/** The setup's fraction limits, 9 (no limit) where it gives none. */
function fracsOf(plan: { fracs?: number[] }, ncols: number): number[] {
  return Array.from({ length: ncols }, (_, k) => Math.min(9, Math.max(0, plan.fracs?.[k] ?? 9)))
}

/**
 * One record's field boundaries, scanned from a byte offset (the scanner's hot loop, kept out of
 * the async generator so that V8 optimizes it as a plain method with its state in locals). After
 * {@link scan}: `nf` fields at `fs[k], fe[k])` with `fq[k]` (0 unquoted, 1 quoted, 2 quoted with
 * doubled quotes), `bad` (a record the canonical reader must judge: refused), `recLines` (line
 * breaks inside quotes), `recEnd` (past the record's terminator), `crlf` (the file's record
 * delimiter once seen).
 */
class RecordScanner {
  fs: Int32Array = new Int32Array(64)
  fe: Int32Array = new Int32Array(64)
  fq: Uint8Array = new Uint8Array(64)
  nf = 0
  bad = false
  recLines = 0
  recEnd = 0
  crlf: boolean | undefined = undefined

  /** Offsets of the next quote and CR in the current text (-1: not looked for yet; len: none). */
  private nextQuote = -1
  private nextCr = -1
  /** The delimiter repeated in a 32-bit word, and a DataView of the text (fast path). */
  private readonly delimWord: number
  private view?: DataView
  private viewOf?: Buffer
  /** `fq` may hold a non-zero flag (set by the byte-class loop). */
  private fqDirty = false

  /** @param cls byte classes: 0 plain, 1 delimiter, 2 LF, 3 CR, 4 quote. */
  constructor(
    private readonly cls: Uint8Array,
    private readonly delim: number,
    private readonly quote: number,
  ) {
    this.delimWord = (delim * 0x01010101) | 0
  }

  /**
   * Whether the last scanned record's first `n` fields pass their checks ({@link FieldCheck}, one
   * per field, with `fracs`: the most fraction digits of a `DATETIME` field): a field equal to the unquoted `nullFormat` is NULL and passes; a field with
   * doubled quotes never passes a check other than ANY.
   */
  fieldsOk(buf: Buffer, checks: Uint8Array, fracs: readonly number[], n: number, nullF: Buffer): boolean {
    const fs = this.fs
    const fe = this.fe
    const fq = this.fq
    const nullLen = nullF.length
    for (let k = 0; k < n; k++) {
      const check = checks[k]! as FieldCheck
      if (check === FieldCheck.ANY) continue
      const s = fs[k]!
      const e = fe[k]!
      if (fq[k] === 0 && e - s === nullLen && sameBytes(buf, s, nullF)) continue
      if (fq[k] === 2 || !checkField(buf, s, e, check, fracs[k]!)) return false
    }
    return true
  }

  /** A new text (the next turn's buffer): forget where its quotes and CRs are. */
  begin(): void {
    this.nextQuote = -1
    this.nextCr = -1
  }

  /** Double the field arrays. */
  private grow(): void {
    this.fs = grow32(this.fs)
    this.fe = grow32(this.fe)
    const q = new Uint8Array(this.fq.length * 2)
    q.set(this.fq)
    this.fq = q
  }

  /**
   * Scan the record starting at `i` in `buf[0, len)`; `eof`: no more text follows `len`.
   * @returns whether the record is complete (false: it runs past `len`; read more and rescan).
   * @throws RawUnsupported when the file's first line break is a bare CR.
   */
  scan(buf: Buffer, i: number, len: number, eof: boolean): boolean {
    // Fast path, a record of an LF file with no quote and no CR up to its LF (most records): the
    // line break found by memchr (Buffer.indexOf), the fields split by one compare per byte.
    // Anything else (quotes, CRs, the last line without a break) takes the byte-class loop below.
    if (this.crlf === false) {
      const lf = buf.indexOf(LF, i)
      if (lf >= 0 && lf < len) {
        if (this.nextQuote < i) this.nextQuote = nextOf(buf, this.quote, i, len)
        if (this.nextCr < i) this.nextCr = nextOf(buf, CR, i, len)
        if (this.nextQuote > lf && this.nextCr > lf) {
          const delim = this.delim
          const rep = this.delimWord
          if (this.viewOf !== buf) {
            this.viewOf = buf
            this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
          }
          const dv = this.view!
          let fs = this.fs
          let fe = this.fe
          let nf = 0
          let s = i
          let k = i
          for (;;) {
            // Four bytes at a time while none is the delimiter (SWAR: haszero(word ^ delimiter
            // repeated), Bit Twiddling Hacks); a word that may hold one is looked at byte by byte.
            while (k + 4 <= lf) {
              const x = dv.getInt32(k, true) ^ rep
              if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break
              k += 4
            }
            const stop = k + 4 <= lf ? k + 4 : lf
            for (; k < stop; k++) {
              if (buf[k] !== delim) continue
              // Room for this field and the last one.
              if (nf + 1 >= fs.length) {
                this.grow()
                fs = this.fs
                fe = this.fe
              }
              fs[nf] = s
              fe[nf] = k
              nf++
              s = k + 1
            }
            if (k >= lf) break
          }
          fs[nf] = s
          fe[nf] = lf
          nf++
          // Quote flags: only the byte-class loop below sets any.
          if (this.fqDirty) {
            this.fq.fill(0)
            this.fqDirty = false
          }
          this.nf = nf
          this.bad = false
          this.recLines = 0
          this.recEnd = lf + 1
          return true
        }
      }
    }
    const cls = this.cls
    const delim = this.delim
    const quote = this.quote
    this.fqDirty = true
    let fs = this.fs
    let fe = this.fe
    let fq = this.fq
    let crlf = this.crlf
    let nf = 0
    let bad = false
    let recLines = 0
    let complete = false
    let recEnd = 0 // index past the record's terminator
    for (;;) {
      if (nf === fs.length) {
        this.grow()
        fs = this.fs
        fe = this.fe
        fq = this.fq
      }
      let flag = 0
      let start = i
      let end: number
      if (i < len && buf[i] === quote) {
        flag = 1
        i++
        start = i
        for (;;) {
          while (i < len && cls[buf[i]!]! < 2) i++
          if (i >= len) break
          const b = buf[i]!
          if (b === quote) {
            if (i + 1 < len && buf[i + 1] === quote) {
              flag = 2
              i += 2
              continue
            }
            if (i + 1 >= len && !eof) i = len
            break
          }
          // csv-parse counts a CR and an LF inside quotes as a line each (a quoted CRLF is two).
          recLines++
          i++
        }
        if (i >= len) {
          if (!eof) break
          bad = true // an unclosed quote: csv-parse's error, via decode
          end = len
        } else {
          end = i
          i++ // closing quote
        }
      } else {
        let k = 0
        while (i < len && (k = cls[buf[i]!]!) === 0) i++
        while (k === 4) {
          // A quote inside an unquoted field: csv-parse's error, via decode.
          bad = true
          i++
          while (i < len && (k = cls[buf[i]!]!) === 0) i++
        }
        end = i
      }
      fs[nf] = start
      fe[nf] = end
      fq[nf] = flag
      nf++
      if (i >= len) {
        if (eof) {
          complete = true
          recEnd = len
        }
        break
      }
      const b = buf[i]!
      if (b === delim) {
        i++
        if (i >= len && eof) {
          // A delimiter at the very end: one more, empty, field.
          fs[nf] = i
          fe[nf] = i
          fq[nf] = 0
          nf++
          complete = true
          recEnd = len
          break
        }
        continue
      }
      if (b === LF) {
        if (crlf === undefined) crlf = false
        if (crlf) {
          // A bare LF in a CRLF file: data to csv-parse, counted as a line.
          bad = true
          recLines++
          i++
          continue
        }
        complete = true
        recEnd = i + 1
        break
      }
      if (b === CR) {
        if (i + 1 >= len) {
          if (eof) {
            bad = true
            complete = true
            recEnd = len
          }
          break
        }
        if (buf[i + 1] === LF) {
          if (crlf === undefined) crlf = true
          if (!crlf) bad = true
          complete = true
          recEnd = i + 2
          break
        }
        if (crlf === undefined) {
          this.crlf = crlf
          throw new RawUnsupported('the first line break is a bare CR')
        }
        // A bare CR: data to csv-parse, counted as a line (the batch is refused: the field
        // offsets past it are the scanner's, decode() re-reads the text).
        bad = true
        recLines++
        i++
        continue
      }
      // After a closing quote, something else than a delimiter or line break.
      bad = true
      i++
    }
    this.nf = nf
    this.bad = bad
    this.recLines = recLines
    this.recEnd = recEnd
    this.crlf = crlf
    return complete
  }
}

function sameBytes(b: Buffer, s: number, x: Buffer): boolean {
  for (let k = 0; k < x.length; k++) if (b[s + k] !== x[k]) return false
  return true
}

/** The offset of the next `byte` in `buf[i, len)`, or `len` when there is none. */
function nextOf(buf: Buffer, byte: number, i: number, len: number): number {
  const k = buf.indexOf(byte, i)
  return k < 0 || k >= len ? len : k
}

function grow32(a: Int32Array): Int32Array {
  const n = new Int32Array(a.length * 2)
  n.set(a)
  return n
}

function grow(b: Buffer, used: number, need: number): Buffer {
  const n = Buffer.allocUnsafe(Math.max(b.length * 2, used + need + 1024))
  b.copy(n, 0, 0, used)
  return n
}

function fieldText(b: Buffer, s: number, e: number, q: number, quote: number): string {
  const t = b.toString('utf8', s, e)
  if (q !== 2) return t
  const qc = String.fromCharCode(quote)
  return t.replaceAll(qc + qc, qc)
}

const isDigit = (c: number) => c >= 48 && c <= 57

function digits(b: Buffer, i: number, e: number): number {
  const s = i
  while (i < e && isDigit(b[i]!)) i++
  return i - s
}

/**
 * Whether `b[s, e)` is in the strict spelling of `check` (see {@link FieldCheck}); `maxFrac`: the
 * most fraction digits a `DATETIME` may have (0-9).
 */
export function checkField(b: Buffer, s: number, e: number, check: FieldCheck, maxFrac = 9): boolean {
  switch (check) {
    case FieldCheck.INT: {
      let i = s
      if (b[i] === 43 || b[i] === 45) i++
      return i < e && digits(b, i, e) === e - i
    }
    case FieldCheck.DEC: {
      let i = s
      if (b[i] === 43 || b[i] === 45) i++
      const a = digits(b, i, e)
      i += a
      let f = 0
      if (b[i] === 46 && i < e) {
        i++
        f = digits(b, i, e)
        i += f
      }
      if (a === 0 && f === 0) return false
      if (i < e && (b[i] === 101 || b[i] === 69)) {
        i++
        if (b[i] === 43 || b[i] === 45) i++
        const x = digits(b, i, e)
        if (!x) return false
        i += x
      }
      return i === e
    }
    case FieldCheck.DATE:
      return e - s === 10 && dateAt(b, s)
    case FieldCheck.DATETIME: {
      if (e - s === 10) return dateAt(b, s)
      if (e - s < 19 || !dateAt(b, s) || (b[s + 10] !== 32 && b[s + 10] !== 84)) return false
      const t = s + 11
      if (!(isDigit(b[t]!) && isDigit(b[t + 1]!) && b[t + 2] === 58 && isDigit(b[t + 3]!) && isDigit(b[t + 4]!) && b[t + 5] === 58 && isDigit(b[t + 6]!) && isDigit(b[t + 7]!))) return false
      if (e - s === 19) return true
      if (b[s + 19] !== 46) return false
      const f = e - s - 20
      return f >= 1 && f <= maxFrac && digits(b, s + 20, e) === f
    }
    default:
      return true
  }
}

/** A `dddd-dd-dd` date at `s` that is not a zero date (mapping.ts ZERO_DATE: year 0000, month or day 00). */
function dateAt(b: Buffer, s: number): boolean {
  if (!(isDigit(b[s]!) && isDigit(b[s + 1]!) && isDigit(b[s + 2]!) && isDigit(b[s + 3]!) && b[s + 4] === 45 && isDigit(b[s + 5]!) && isDigit(b[s + 6]!) && b[s + 7] === 45 && isDigit(b[s + 8]!) && isDigit(b[s + 9]!))) return false
  const Z = 48
  if (b[s] === Z && b[s + 1] === Z && b[s + 2] === Z && b[s + 3] === Z) return false
  return !(b[s + 5] === Z && b[s + 6] === Z) && !(b[s + 8] === Z && b[s + 9] === Z)
}

/**
 * The canonical rows of a batch's records: csv-parse with the canonical reader's options on the
 * batch's own bytes (NULL = an unquoted field equal to the nullFormat), each record built by the
 * canonical row builder with its line (`first` = line breaks before the batch).
 */
function decodeRecords(src: Buffer, o: RawScanOptions, crlf: boolean, first: number, build: (rec: Array<string | null>, line: number) => Row): Row[] {
  const nullFormat = o.nullFormat.toString('utf8')
  const recs = parseSync(src, {
    delimiter: String.fromCharCode(o.delimiter),
    quote: String.fromCharCode(o.quote),
    escape: String.fromCharCode(o.quote),
    record_delimiter: crlf ? '\r\n' : '\n',
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    cast: (v: string, c: { quoting: boolean }) => (!c.quoting && v === nullFormat ? null : v),
  }) as unknown as Array<{ record: Array<string | null>; info: { lines: number } }>
  return recs.map((r) => build(r.record, first + r.info.lines))
}
