/**
 * PostgreSQL COPY text format: a streaming decoder (COPY ... TO STDOUT) and a field encoder
 * (COPY ... FROM STDIN), plus SQL literal / identifier quoting used where values cannot be bound.
 *
 * The text format (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format"): one row per
 * line ended by `\n`, fields separated by a tab, NULL written `\N`; inside a field a backslash
 * introduces `\b \f \n \r \t \v \\`, `\NNN` (1–3 octal digits, one byte) or `\xHH` (1–2 hex digits,
 * one byte), and a backslash before any other character stands for that character. Raw tab and
 * newline bytes therefore only ever appear as delimiters, and since both are below 0x80 they never
 * occur inside a multi-byte UTF-8 sequence: the decoder can cut rows and fields on bytes and decode
 * UTF-8 per field, which makes chunk boundaries (inside a row, an escape or a character) harmless.
 */
import { float32Text, type Row, type Value } from '../../core/types.js'

/**
 * How a field's text becomes its canonical value (see main/core/types.ts):
 * - `text`: the string as is (varchar, text, numeric, int8, date, time, timestamp, json, uuid, enum, other);
 * - `int`: a JS number (int2/int4 only: always safe integers);
 * - `float`: a JS number, `NaN`, `Infinity`, `-Infinity` included;
 * - `bool`: `t`/`f` -> true/false;
 * - `bytea`: the hex output `\x0a0b` -> Buffer (the session sets `bytea_output=hex`);
 * - `timestamptz`: the string with its offset widened to `±HH:MM` (`+00` -> `+00:00`).
 */
/** `float4`: a real, whose canonical value is its exact float32 (`Math.fround` of the text). */
export type FieldKind = 'text' | 'int' | 'float' | 'float4' | 'bool' | 'bytea' | 'timestamptz'

/** Thrown when the COPY stream is not valid text format (a bug or a protocol desync, never data). */
export class CopyFormatError extends Error {
  override name = 'CopyFormatError'
}

/**
 * Widen a PostgreSQL timestamptz text offset to the canonical `±HH:MM`.
 * `2024-01-01 10:00:00.123456+00` -> `2024-01-01 10:00:00.123456+00:00`; `+05:30` is kept.
 * Offsets with seconds (`+00:19:32`, historic local mean time in non-UTC sessions), BC dates and
 * `infinity` are returned unchanged: they have no canonical form and are never rewritten.
 */
export function normalizeTimestamptz(s: string): string {
  const n = s.length
  if (n >= 3) {
    const sign = s.charCodeAt(n - 3)
    if ((sign === 43 || sign === 45) && isDigit(s.charCodeAt(n - 2)) && isDigit(s.charCodeAt(n - 1))) return s + ':00'
  }
  return s
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

const BS = 92 // backslash

const utf8 = (b: Buffer, start: number, end: number): string => b.toString('utf8', start, end)
const latin1 = (b: Buffer, start: number, end: number): string => b.toString('latin1', start, end)
const TAB = 9
const NL = 10

/**
 * Streaming decoder of COPY text output into canonical rows.
 *
 * Feed it the Buffers exactly as they arrive (`push`); it keeps the incomplete tail (a partial row,
 * escape or UTF-8 character) for the next chunk. Call `end()` after the last chunk: it throws if a
 * partial row is left over. Fields are cut with one pass over the bytes; a field without a
 * backslash is decoded straight from the chunk, a field with one goes through a scratch buffer.
 */
export class CopyTextDecoder {
  private carry: Buffer[] = []
  private scratch = Buffer.allocUnsafe(1024)
  /** Rows decoded so far (for error messages: 1-based line of the next row is `rowsDecoded + 1`). */
  rowsDecoded = 0

  /** @param kinds one entry per column, in COPY column order. */
  constructor(private readonly kinds: readonly FieldKind[]) {
    if (kinds.length === 0) throw new Error('CopyTextDecoder: at least one column is required')
  }

  /**
   * Decode every complete row in `carry + chunk`, appending them to `out`.
   * @returns the approximate bytes of the decoded values (UTF-8 bytes for text/bytes, 8 per number/boolean, 1 per NULL).
   * @throws CopyFormatError when a row has the wrong number of fields or an invalid escape/value.
   */
  push(chunk: Buffer, out: Row[]): number {
    const last = chunk.lastIndexOf(NL)
    if (last < 0) {
      if (chunk.length) this.carry.push(chunk)
      return 0
    }
    let data: Buffer
    if (this.carry.length) {
      this.carry.push(chunk.subarray(0, last + 1))
      data = Buffer.concat(this.carry)
      this.carry = []
    } else {
      data = chunk.subarray(0, last + 1)
    }
    if (last + 1 < chunk.length) this.carry.push(chunk.subarray(last + 1))
    return this.parse(data, out)
  }

  /** Signal the end of the stream. @throws CopyFormatError when an incomplete row remains. */
  end(): void {
    const left = this.carry.reduce((n, b) => n + b.length, 0)
    if (left > 0) throw new CopyFormatError(`COPY output ended inside row ${this.rowsDecoded + 1} (${left} bytes without a newline)`)
  }

  private parse(data: Buffer, out: Row[]): number {
    const kinds = this.kinds
    const ncols = kinds.length
    let bytes = 0
    let row: Value[] = new Array(ncols)
    let col = 0
    let start = 0
    let esc = false
    const len = data.length
    for (let i = 0; i < len; i++) {
      const b = data[i]
      if (b === BS) {
        esc = true
        i++ // the escaped byte can never be a delimiter
        continue
      }
      if (b !== TAB && b !== NL) continue
      if (col >= ncols) throw new CopyFormatError(`COPY row ${this.rowsDecoded + 1}: more than ${ncols} fields`)
      const kind = kinds[col]
      let v: Value
      if (esc && i - start === 2 && data[start + 1] === 78 /* N */) {
        v = null
        bytes += 1
      } else if (esc) {
        v = this.decodeEscaped(data, start, i, kind)
        bytes += kind === 'int' || kind === 'float' || kind === 'float4' || kind === 'bool' ? 8 : i - start
      } else {
        v = decodePlain(data, start, i, kind, this.rowsDecoded + 1, col)
        bytes += kind === 'int' || kind === 'float' || kind === 'float4' || kind === 'bool' ? 8 : i - start
      }
      row[col++] = v
      start = i + 1
      esc = false
      if (b === NL) {
        if (col !== ncols) throw new CopyFormatError(`COPY row ${this.rowsDecoded + 1}: ${col} fields, expected ${ncols}`)
        out.push(row)
        this.rowsDecoded++
        row = new Array(ncols)
        col = 0
      }
    }
    return bytes
  }

  private decodeEscaped(data: Buffer, start: number, end: number, kind: FieldKind): Value {
    // bytea hex output arrives as `\\x<hex>`: decode it without the scratch copy.
    if (kind === 'bytea' && end - start >= 3 && data[start] === BS && data[start + 1] === BS && data[start + 2] === 120) {
      return hexToBuffer(latin1(data, start + 3, end), this.rowsDecoded + 1)
    }
    if (this.scratch.length < end - start) this.scratch = Buffer.allocUnsafe(Math.max(end - start, this.scratch.length * 2))
    const s = this.scratch
    let n = 0
    for (let i = start; i < end; i++) {
      const b = data[i]
      if (b !== BS) {
        s[n++] = b
        continue
      }
      const c = data[++i]
      switch (c) {
        case 98: s[n++] = 8; break // \b
        case 102: s[n++] = 12; break // \f
        case 110: s[n++] = 10; break // \n
        case 114: s[n++] = 13; break // \r
        case 116: s[n++] = 9; break // \t
        case 118: s[n++] = 11; break // \v
        case 120: { // \xH or \xHH
          const h1 = hexVal(data[i + 1])
          if (i + 1 < end && h1 >= 0) {
            let v = h1
            i++
            const h2 = hexVal(data[i + 1])
            if (i + 1 < end && h2 >= 0) {
              v = v * 16 + h2
              i++
            }
            s[n++] = v
          } else s[n++] = 120 // a lone \x is the letter x
          break
        }
        default:
          if (c >= 48 && c <= 55) { // \N, \NN, \NNN octal
            let v = c - 48
            for (let k = 0; k < 2 && i + 1 < end && data[i + 1] >= 48 && data[i + 1] <= 55; k++) v = v * 8 + (data[++i] - 48)
            s[n++] = v & 0xff
          } else s[n++] = c
      }
    }
    switch (kind) {
      case 'bytea': {
        if (n >= 2 && s[0] === BS && s[1] === 120) return hexToBuffer(latin1(s, 2, n), this.rowsDecoded + 1)
        throw new CopyFormatError(`COPY row ${this.rowsDecoded + 1}: bytea value is not in hex format (bytea_output must be 'hex')`)
      }
      case 'int':
      case 'float':
        return Number(latin1(s, 0, n))
      case 'float4':
        return Math.fround(Number(latin1(s, 0, n)))
      case 'bool':
        return s[0] === 116
      case 'timestamptz':
        return normalizeTimestamptz(utf8(s, 0, n))
      default:
        return utf8(s, 0, n)
    }
  }
}

function decodePlain(data: Buffer, start: number, end: number, kind: FieldKind, line: number, col: number): Value {
  switch (kind) {
    case 'text':
      return utf8(data, start, end)
    case 'int': {
      let i = start
      let neg = false
      if (data[i] === 45) {
        neg = true
        i++
      }
      if (i === end) throw new CopyFormatError(`COPY row ${line}, field ${col + 1}: empty integer`)
      let v = 0
      for (; i < end; i++) {
        const d = data[i] - 48
        if (d < 0 || d > 9) throw new CopyFormatError(`COPY row ${line}, field ${col + 1}: '${latin1(data, start, end)}' is not an integer`)
        v = v * 10 + d
      }
      return neg ? -v : v
    }
    case 'float':
      return Number(latin1(data, start, end))
    case 'float4':
      return Math.fround(Number(latin1(data, start, end)))
    case 'bool':
      return data[start] === 116 // 't'
    case 'timestamptz':
      return normalizeTimestamptz(utf8(data, start, end))
    case 'bytea':
      // hex output always contains a backslash; reaching here means a non-hex bytea_output
      throw new CopyFormatError(`COPY row ${line}, field ${col + 1}: bytea value is not in hex format (bytea_output must be 'hex')`)
  }
}

function hexVal(b: number | undefined): number {
  if (b === undefined) return -1
  if (b >= 48 && b <= 57) return b - 48
  if (b >= 97 && b <= 102) return b - 87
  if (b >= 65 && b <= 70) return b - 55
  return -1
}

function hexToBuffer(hex: string, line: number): Buffer {
  const buf = Buffer.from(hex, 'hex')
  // Buffer.from stops silently at the first invalid digit: check nothing was dropped.
  if (buf.length * 2 !== hex.length) throw new CopyFormatError(`COPY row ${line}: invalid bytea hex text`)
  return buf
}

// ---------------------------------------------------------------------------------------------
// Encoder (COPY FROM STDIN, text format)

/**
 * How a canonical value is spelled for a target column (decided from the target column's logical type):
 * - `bool`: booleans `t`/`f`; other values as text (PostgreSQL also accepts `1`/`0`, `true`, `yes`...);
 * - `num`: int/decimal/float/year columns: booleans become `1`/`0`, numbers `String(n)` (`-0` kept,
 *   `NaN`/`Infinity`/`-Infinity` spelled as PostgreSQL reads them), bigint and decimal strings as is;
 * - `bytea`: Buffers as `\x` hex; a string is stored as its UTF-8 bytes;
 * - `text`: everything else (strings as is, a Buffer must be valid UTF-8, booleans `true`/`false`
 *   like PostgreSQL's own boolean-to-text cast).
 */
export type EncodeKind = 'bool' | 'num' | 'float4' | 'bytea' | 'text'

/** A value that cannot be written into its column; becomes a dirty row (never silently altered). */
export class ValueEncodeError extends Error {
  override name = 'ValueEncodeError'
  constructor(
    message: string,
    /** The SQLSTATE PostgreSQL itself would report for the same value. */
    public readonly code: string,
  ) {
    super(message)
  }
}

const NEEDS_ESCAPE = /[\\\t\n\r\0]/
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * Escape a string for one COPY text field: backslash, tab, newline and carriage return.
 * @throws ValueEncodeError (SQLSTATE 22021) when the string contains NUL: PostgreSQL text types
 *   cannot store U+0000, and we never strip it.
 */
export function escapeCopyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s
  const nul = s.indexOf('\0')
  if (nul >= 0) throw new ValueEncodeError(`text contains a NUL character (U+0000) at offset ${nul}; PostgreSQL text types cannot store NUL`, '22021')
  return s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c])
}

/** Spell a JS number as PostgreSQL float/numeric input reads it back exactly. */
export function numberText(n: number): string {
  if (Number.isFinite(n)) return Object.is(n, -0) ? '-0' : String(n)
  if (Number.isNaN(n)) return 'NaN'
  return n > 0 ? 'Infinity' : '-Infinity'
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/**
 * Encode one canonical value as a COPY text field (already escaped; `\N` for NULL).
 * @throws ValueEncodeError when the value cannot be represented in the column (NUL in text,
 *   bytes that are not UTF-8 for a text column).
 */
export function encodeCopyField(v: Value | undefined, kind: EncodeKind): string {
  if (v === null || v === undefined) return '\\N'
  switch (typeof v) {
    case 'string':
      if (kind === 'bytea') return '\\\\x' + Buffer.from(v, 'utf8').toString('hex')
      return escapeCopyText(v)
    case 'number':
      // A real column: the shortest digits that read back as the same float32 (exact either way).
      return kind === 'float4' && Number.isFinite(v) ? float32Text(v) : numberText(v)
    case 'bigint':
      return v.toString()
    case 'boolean':
      if (kind === 'bool') return v ? 't' : 'f'
      if (kind === 'num' || kind === 'float4') return v ? '1' : '0'
      return v ? 'true' : 'false'
    default: {
      const b = v as Buffer
      if (kind === 'bytea') return '\\\\x' + b.toString('hex')
      let s: string
      try {
        s = utf8Strict.decode(b)
      } catch {
        throw new ValueEncodeError('bytes are not valid UTF-8 and the column is not bytea', '22021')
      }
      return escapeCopyText(s)
    }
  }
}

/**
 * Encode one row as a COPY text line (fields joined by tabs, ended by a newline).
 * @throws ValueEncodeError with `column` set to the index of the offending field.
 */
export function encodeCopyRow(row: readonly Value[], kinds: readonly EncodeKind[]): string {
  let line = ''
  for (let i = 0; i < kinds.length; i++) {
    let f: string
    try {
      f = encodeCopyField(row[i], kinds[i])
    } catch (e) {
      if (e instanceof ValueEncodeError) (e as ValueEncodeError & { columnIndex?: number }).columnIndex = i
      throw e
    }
    line = i === 0 ? f : line + '\t' + f
  }
  return line + '\n'
}

// ---------------------------------------------------------------------------------------------
// SQL quoting (for places where values cannot be bound, e.g. inside COPY (SELECT ...))

/** Quote an identifier with double quotes, doubling embedded quotes (case and spelling kept). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error(`identifier contains a NUL character: ${JSON.stringify(name)}`)
  return '"' + name.replace(/"/g, '""') + '"'
}

/**
 * Quote a string as an SQL literal, like PostgreSQL's `quote_literal()`: quotes doubled, and when
 * the string holds a backslash the `E'...'` form with backslashes doubled, so the literal reads back
 * identically whatever `standard_conforming_strings` is.
 * @throws Error for NUL (no PostgreSQL literal can hold it).
 */
export function quoteLiteral(s: string): string {
  if (s.includes('\0')) throw new Error('a PostgreSQL literal cannot contain a NUL character')
  const q = s.replace(/'/g, "''")
  return s.includes('\\') ? `E'${q.replace(/\\/g, '\\\\')}'` : `'${q}'`
}

/**
 * Render a canonical value as an SQL literal (split bounds in COPY queries): integers as digits
 * (validated), finite numbers via `String`, NaN/Infinity as typed float literals, booleans as
 * TRUE/FALSE, Buffers via `decode('<hex>','hex')`, strings via {@link quoteLiteral} (untyped, so
 * PostgreSQL resolves them to the compared column's type).
 */
export function sqlLiteral(v: Value): string {
  if (v === null) return 'NULL'
  switch (typeof v) {
    case 'bigint':
      return v < 0n ? `(${v.toString()})` : v.toString()
    case 'number':
      if (Number.isFinite(v)) return v < 0 ? `(${String(v)})` : String(v)
      return `'${numberText(v)}'::float8`
    case 'boolean':
      return v ? 'TRUE' : 'FALSE'
    case 'string':
      return quoteLiteral(v)
    default:
      return `decode('${(v as Buffer).toString('hex')}', 'hex')`
  }
}

/** Size of the Buffers an {@link EncodedRows} fills (bytes). */
export const COPY_CHUNK_BYTES = 512 * 1024

/**
 * Rows encoded as COPY text lines straight into large Buffers (no per-batch string join), keeping
 * each row's position so any subset can be re-sent when a batch is narrowed.
 */
export class EncodedRows {
  private readonly chunks: Buffer[] = []
  private cur: Buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES)
  private used = 0
  private readonly rowChunk: Int32Array
  private readonly rowStart: Int32Array
  private readonly rowEnd: Int32Array

  constructor(rowCount: number) {
    this.rowChunk = new Int32Array(rowCount).fill(-1)
    this.rowStart = new Int32Array(rowCount)
    this.rowEnd = new Int32Array(rowCount)
  }

  /** Store row `index`'s encoded line (ending with `\n`). */
  add(index: number, line: string): void {
    const max = line.length * 3
    if (this.used + max > this.cur.length) {
      if (this.used > 0) this.chunks.push(this.cur.subarray(0, this.used))
      this.cur = Buffer.allocUnsafe(Math.max(COPY_CHUNK_BYTES, max))
      this.used = 0
    }
    const n = this.cur.write(line, this.used, 'utf8')
    this.rowChunk[index] = this.chunks.length
    this.rowStart[index] = this.used
    this.rowEnd[index] = this.used + n
    this.used += n
  }

  private chunk(i: number): Buffer {
    return i < this.chunks.length ? this.chunks[i] : this.cur
  }

  /**
   * The bytes of the given rows (ascending indices previously added), as Buffers of about
   * {@link COPY_CHUNK_BYTES}: contiguous rows are sent as slices of the stored chunks, no copy.
   */
  *pieces(indices: readonly number[]): Generator<Buffer> {
    let pend: Buffer[] = []
    let pendBytes = 0
    let runChunk = -1
    let runStart = 0
    let runEnd = 0
    const flushRun = () => {
      if (runChunk < 0) return
      const b = this.chunk(runChunk).subarray(runStart, runEnd)
      pend.push(b)
      pendBytes += b.length
      runChunk = -1
    }
    for (const i of indices) {
      const c = this.rowChunk[i]
      if (c < 0) throw new Error(`EncodedRows: row ${i} was not encoded`)
      if (c === runChunk && this.rowStart[i] === runEnd) runEnd = this.rowEnd[i]
      else {
        flushRun()
        runChunk = c
        runStart = this.rowStart[i]
        runEnd = this.rowEnd[i]
      }
      if (pendBytes + (runEnd - runStart) >= COPY_CHUNK_BYTES) {
        flushRun()
        yield pend.length === 1 ? pend[0] : Buffer.concat(pend, pendBytes)
        pend = []
        pendBytes = 0
      }
    }
    flushRun()
    if (pend.length) yield pend.length === 1 ? pend[0] : Buffer.concat(pend, pendBytes)
  }
}
