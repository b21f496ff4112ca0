/**
 * Byte loops of the file connector's raw path (main/connectors/raw.ts): PostgreSQL COPY text
 * lines <-> delimited text (CSV / TSV / any one-byte delimiter), without a JS value per field.
 *
 * COPY text (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format"): one row per line
 * ended by LF, fields separated by TAB, NULL spelled `\N`; inside a field a backslash introduces
 * `\b \f \n \r \t \v \\`, `\NNN` (octal) or `\xHH` (hex), and before any other character stands
 * for that character.
 *
 * Delimited text is what the canonical path writes and reads (main/connectors/file/text.ts):
 * csv-stringify with `quoted_match` [CR/LF, the nullFormat] and csv-parse, i.e. RFC 4180
 * (https://www.rfc-editor.org/rfc/rfc4180) quoting with the quote doubled inside a quoted field,
 * NULL as the unquoted nullFormat. Both functions here produce exactly the bytes / values that
 * path would, for the column kinds they are given (see {@link RawFieldOp}); what they cannot
 * prove equal they refuse (a reason string), and the caller takes the canonical path.
 */

/**
 * How a COPY text field becomes the canonical path's text for its column, by the column's kind:
 * - `TEXT`: the unescaped bytes (strings, decimals, JSON, UUID, PostgreSQL integers...);
 * - `INT`: an integer as `String(number)` when it is a safe integer, else its text (what
 *   `valueToText` gives for the MySQL reader's canonical value: ZEROFILL padding dropped);
 * - `FLOAT`: `String(Number(text))`, `-0` kept (the canonical double's shortest spelling);
 * - `DATE`: as is, but a MySQL zero date (`0000-..`, month or day `00`) refuses the batch (the
 *   mapping's zeroDate policy decides on the canonical path);
 * - `DATETIME`: zero dates refused like `DATE`, trailing fraction zeros dropped (canonical times);
 * - `TIME`: trailing fraction zeros dropped;
 * - `BOOL`: PostgreSQL's `t` / `f` as `true` / `false`;
 * - `BYTES`: bytea hex (`\x0a0b`) as hex digits, or base64 when the file's bytesFormat says so;
 * - `TIMESTAMPTZ`: the MySQL raw reader's TIMESTAMP, `yyyy-MM-dd HH:mm:ss[.f...]` followed by the
 *   session's fixed offset as formatOffset spells it (`+00:00`, `-03:30`, `+05:53:28`; see
 *   mysql/rawread.ts): trailing fraction zeros dropped before the offset (the canonical value is
 *   `trimFraction(text) + offset`, mysql/values.ts makeTypeCast), zero dates refused like `DATE`,
 *   any other spelling refused.
 */
export const RawFieldOp = { TEXT: 0, INT: 1, FLOAT: 2, DATE: 3, DATETIME: 4, TIME: 5, BOOL: 6, BYTES: 7, TIMESTAMPTZ: 8 } as const
export type RawFieldOp = (typeof RawFieldOp)[keyof typeof RawFieldOp]

/** The delimited dialect the raw loops handle: one-byte ASCII delimiter and quote, escape = quote. */
export interface RawDialect {
  /** Field delimiter byte (ASCII, not CR, LF or the quote). */
  delimiter: number
  /** Quote byte (ASCII); the escape is the same byte (a quote inside a quoted field is doubled). */
  quote: number
  /** Record delimiter bytes written after each row (writer; ASCII). */
  recordDelimiter: Buffer
  /** UTF-8 bytes of the nullFormat (an unquoted field equal to it is NULL). */
  nullFormat: Buffer
  /** Binary columns as base64 instead of hex. */
  base64: boolean
}

const BS = 92
const TAB = 9
const LF = 10
const CR = 13

/** COPY text escapes: the byte `\x` stands for, for the letters PostgreSQL uses. */
const UNESCAPE = new Int16Array(256).fill(-1)
for (const [c, v] of [
  ['b', 8],
  ['f', 12],
  ['n', 10],
  ['r', 13],
  ['t', 9],
  ['v', 11],
] as const)
  UNESCAPE[c.charCodeAt(0)] = v

function hexVal(b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  if (b >= 97 && b <= 102) return b - 87
  if (b >= 65 && b <= 70) return b - 55
  return -1
}

/** Output of {@link copyToDelimited}: the text and where each row ends in it. */
export interface DelimitedChunk {
  data: Buffer
  /** `ends[i]` = byte offset just past row i's record delimiter. */
  ends: Int32Array
}

/**
 * Turn `rows` COPY text lines into delimited text records, one per line, byte for byte what the
 * canonical writer (DelimitedFormatter + valueToText) writes for the canonical values the lines
 * stand for: fields unescaped; quoted (the quote doubled inside) when they hold the delimiter, the
 * quote, CR or LF, or equal the nullFormat, or are empty while the nullFormat is empty; NULL as the
 * unquoted nullFormat; per-column kinds per {@link RawFieldOp}.
 * @param ops one {@link RawFieldOp} per column, in line order.
 * @returns the chunk, or a string saying why the batch must take the canonical path (a zero date,
 *   a value of an unexpected spelling).
 * @throws Error when `data` is not `rows` lines of `ops.length` fields (a bug, never data).
 */
export function copyToDelimited(data: Buffer, rows: number, ops: Uint8Array, d: RawDialect): DelimitedChunk | string {
  const ncols = ops.length
  const ends = new Int32Array(rows)
  const nl = d.recordDelimiter
  const nullF = d.nullFormat
  const nullLen = nullF.length
  const delim = d.delimiter
  const quote = d.quote
  const emptyQuoted = nullLen === 0
  const cls = classes(d)
  // Whether a re-spelled number, date or code can hold a byte that needs quoting.
  const fixedMayNeedQuote = REWRITTEN.includes(delim) || REWRITTEN.includes(quote)
  let out: Buffer = Buffer.allocUnsafe(Math.max(1024, Math.ceil(data.length * 1.25) + rows * (nl.length + 4)))
  let o = 0
  let p = 0
  const len = data.length
  for (let r = 0; r < rows; r++) {
    const lineEnd = data.indexOf(LF, p)
    if (lineEnd < 0) throw new Error(`COPY text row ${r + 1}: the batch ends inside a row`)
    // Room for the row: every byte a doubled quote, every field a nullFormat or two quotes.
    const need = 2 * (lineEnd - p) + ncols * (nullLen + 3) + nl.length + 64
    if (o + need > out.length) out = grow(out, o, need)
    for (let c = 0; c < ncols; c++) {
      if (c) out[o++] = delim
      // NULL: exactly `\N`.
      if (data[p] === BS && data[p + 1] === 78) {
        const t = data[p + 2]
        if (t === TAB || t === LF) {
          for (let k = 0; k < nullLen; k++) out[o++] = nullF[k]!
          p += 3
          if ((t === LF) !== (c === ncols - 1)) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
          continue
        }
      }
      const fs = o
      let special = false
      let i = p
      let k = 0
      for (;;) {
        const b = data[i]!
        k = cls[b]!
        if (k === 0) {
          out[o++] = b
          i++
        } else if (k === 4) {
          special = true
          out[o++] = b
          i++
        } else if (k === 3) {
          // A COPY escape.
          const n = data[i + 1]!
          let u = UNESCAPE[n]!
          i += 2
          if (u < 0) {
            if (n >= 48 && n <= 55) {
              u = n - 48
              for (let q = 0; q < 2 && data[i]! >= 48 && data[i]! <= 55; q++) u = u * 8 + (data[i++]! - 48)
              u &= 0xff
            } else if (n === 120 && hexVal(data[i]!) >= 0) {
              u = hexVal(data[i++]!)
              if (hexVal(data[i]!) >= 0) u = u * 16 + hexVal(data[i++]!)
            } else u = n
          }
          if (u === delim || u === quote || u === LF || u === CR) special = true
          out[o++] = u
        } else break
      }
      p = i + 1
      if ((k === 2) !== (c === ncols - 1)) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
      const op = ops[c]!
      if (op !== RawFieldOp.TEXT) {
        const r2 = fixField(out, fs, o, op, d)
        if (typeof r2 === 'string') return r2
        if (r2 < 0) {
          // Re-spelled as a string (in `fixed`).
          const s = fixed!
          fixed = undefined
          if (fs + 2 * s.length + 2 > out.length) out = grow(out, fs, 2 * s.length + 2 + need)
          o = fs + out.write(s, fs, 'latin1')
        } else o = r2
        special = false
        if (fixedMayNeedQuote) {
          for (let x = fs; x < o; x++) {
            const b = out[x]!
            if (b === delim || b === quote) special = true
          }
        }
      }
      const flen = o - fs
      let quoteIt = special
      if (!quoteIt) {
        if (flen === 0) quoteIt = emptyQuoted
        else if (flen === nullLen) {
          quoteIt = true
          for (let x = 0; x < nullLen; x++) {
            if (out[fs + x] !== nullF[x]) {
              quoteIt = false
              break
            }
          }
        }
      }
      if (quoteIt) {
        // Quote: shift right by 1 + the number of quotes inside, doubling them.
        let q = 0
        for (let x = fs; x < o; x++) if (out[x] === quote) q++
        if (o + q + 2 > out.length) out = grow(out, o, q + 2 + need)
        let w = o + q + 1
        out[w] = quote
        for (let x = o - 1; x >= fs; x--) {
          const b = out[x]!
          out[--w] = b
          if (b === quote) out[--w] = quote
        }
        out[fs] = quote
        o = o + q + 2
      }
    }
    if (p !== lineEnd + 1) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
    for (let k = 0; k < nl.length; k++) out[o++] = nl[k]!
    ends[r] = o
  }
  if (p !== len) throw new Error(`COPY text: ${len - p} bytes after ${rows} rows`)
  return { data: out.subarray(0, o), ends }
}

/** Bytes a re-spelled (non-text) field can hold: digits, signs, points, date and code characters. */
const REWRITTEN = Array.from(Buffer.from('0123456789+-.:/= TtrueInfinityNaNabcdefABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz', 'latin1'))

const classCache = new WeakMap<RawDialect, Uint8Array>()

/** Byte classes of the writer loop: 0 copy, 1 TAB (field end), 2 LF (row end), 3 backslash, 4 needs quoting. */
function classes(d: RawDialect): Uint8Array {
  let c = classCache.get(d)
  if (!c) {
    c = new Uint8Array(256)
    c[d.delimiter] = 4
    c[d.quote] = 4
    c[CR] = 4
    c[TAB] = 1
    c[LF] = 2
    c[BS] = 3
    classCache.set(d, c)
  }
  return c
}

function grow(b: Buffer, used: number, need: number): Buffer {
  const n = Buffer.allocUnsafe(Math.max(b.length * 2, used + need + 1024))
  b.copy(n, 0, 0, used)
  return n
}

/** A field rewritten as a string by {@link fixField} (returned as -1). */
let fixed: string | undefined

const isDigit = (b: number) => b >= 48 && b <= 57

/** `dddd-dd-dd dd:dd:dd` at `s`. */
function dateTimeAt(b: Buffer, s: number): boolean {
  for (let k = 0; k < 19; k++) {
    const x = b[s + k]!
    const want = k === 4 || k === 7 ? 45 : k === 10 ? 32 : k === 13 || k === 16 ? 58 : -1
    if (want < 0 ? !isDigit(x) : x !== want) return false
  }
  return true
}

/** MySQL zero / partial-zero dates (mapping.ts isZeroDate: `^0000-|^\d{4}-00-|^\d{4}-\d{2}-00`). */
function zeroDate(b: Buffer, s: number, e: number): boolean {
  if (e - s < 5 || !isDigit(b[s]!) || !isDigit(b[s + 1]!) || !isDigit(b[s + 2]!) || !isDigit(b[s + 3]!) || b[s + 4] !== 45) return false
  if (b[s] === 48 && b[s + 1] === 48 && b[s + 2] === 48 && b[s + 3] === 48) return true
  if (e - s >= 8 && b[s + 5] === 48 && b[s + 6] === 48 && b[s + 7] === 45) return true
  return e - s >= 10 && isDigit(b[s + 5]!) && isDigit(b[s + 6]!) && b[s + 7] === 45 && b[s + 8] === 48 && b[s + 9] === 48
}

/**
 * Apply a non-text op to the field at `out[s, e)`: the new end (in place), -1 when the new text is
 * in `fixed`, or a reason to refuse the batch.
 */
function fixField(out: Buffer, s: number, e: number, op: number, d: RawDialect): number | string {
  switch (op) {
    case RawFieldOp.INT: {
      // Plain digits without a leading zero and at most 15 of them are their own String(n)
      // (`-0` included: valueToText spells the number -0 `-0`).
      let i = s
      if (out[i] === 45) i++
      const n = e - i
      if (n > 0 && n <= 15 && (out[i] !== 48 || n === 1)) {
        let ok = true
        for (let k = i; k < e; k++) if (!isDigit(out[k]!)) ok = false
        if (ok) return e
      }
      const t = out.toString('latin1', s, e)
      const v = Number(t)
      fixed = Number.isSafeInteger(v) ? (Object.is(v, -0) ? '-0' : String(v)) : t
      return -1
    }
    case RawFieldOp.FLOAT: {
      if (plainShortest(out, s, e)) return e
      const v = Number(out.toString('latin1', s, e))
      fixed = Object.is(v, -0) ? '-0' : String(v)
      return -1
    }
    case RawFieldOp.DATE:
      return zeroDate(out, s, e) ? 'a zero date' : e
    case RawFieldOp.DATETIME:
    case RawFieldOp.TIME: {
      if (op === RawFieldOp.DATETIME && zeroDate(out, s, e)) return 'a zero date'
      // trimFraction (mysql/values.ts): drop trailing zeros of the fraction, and a bare point.
      let dot = -1
      for (let k = s; k < e; k++) {
        if (out[k] === 46) {
          dot = k
          break
        }
      }
      if (dot < 0) return e
      let j = e
      while (j > dot + 1 && out[j - 1] === 48) j--
      return j === dot + 1 ? dot : j
    }
    case RawFieldOp.TIMESTAMPTZ: {
      if (zeroDate(out, s, e)) return 'a zero date'
      // `dddd-dd-dd dd:dd:dd`, then `.d+`, then `[+-]dd:dd(:dd)?` to the end.
      const t = s + 19
      if (e - s < 25 || !dateTimeAt(out, s)) return 'a TIMESTAMP of an unexpected spelling'
      let i = t
      if (out[i] === 46) {
        i++
        while (i < e && isDigit(out[i]!)) i++
        if (i === t + 1) return 'a TIMESTAMP of an unexpected spelling'
      }
      const off = i
      const n = e - off
      if (!((n === 6 || n === 9) && (out[off] === 43 || out[off] === 45) && isDigit(out[off + 1]!) && isDigit(out[off + 2]!) && out[off + 3] === 58 && isDigit(out[off + 4]!) && isDigit(out[off + 5]!) && (n === 6 || (out[off + 6] === 58 && isDigit(out[off + 7]!) && isDigit(out[off + 8]!)))))
        return 'a TIMESTAMP of an unexpected spelling'
      if (off === t) return e
      let j = off
      while (j > t + 1 && out[j - 1] === 48) j--
      if (j === t + 1) j = t
      if (j === off) return e
      out.copy(out, j, off, e)
      return j + n
    }
    case RawFieldOp.BOOL:
      if (e - s === 1 && (out[s] === 116 || out[s] === 102)) {
        fixed = out[s] === 116 ? 'true' : 'false'
        return -1
      }
      return `a boolean spelled '${out.toString('utf8', s, e)}'`
    case RawFieldOp.BYTES: {
      if (e - s < 2 || out[s] !== BS || out[s + 1] !== 120) return 'a bytea value not in hex format'
      if (d.base64) {
        fixed = Buffer.from(out.toString('latin1', s + 2, e), 'hex').toString('base64')
        return -1
      }
      out.copy(out, s, s + 2, e)
      return e - 2
    }
    default:
      return e
  }
}

/**
 * True when the decimal text at `b[s, e)` is already JS's `String(Number(text))`: an optional
 * minus, an integer part without a leading zero (or just `0`), an optional fraction not ending in
 * `0`, at most 15 significant digits (any such decimal round-trips through a double and is its
 * shortest spelling), not below 1e-6 in magnitude (where String switches to exponents), and not
 * `-0` written another way.
 */
function plainShortest(b: Buffer, s: number, e: number): boolean {
  let i = s
  if (b[i] === 45) i++
  if (i >= e) return false
  const intStart = i
  while (i < e && isDigit(b[i]!)) i++
  const intLen = i - intStart
  if (intLen === 0 || (intLen > 1 && b[intStart] === 48)) return false
  let sig = b[intStart] === 48 ? 0 : intLen
  if (i < e) {
    if (b[i] !== 46) return false
    i++
    const fs = i
    while (i < e && isDigit(b[i]!)) i++
    if (i !== e || i === fs || b[e - 1] === 48) return false
    if (sig === 0) {
      // 0.000001 is printed as is, 0.0000001 as 1e-7.
      let z = fs
      while (z < e && b[z] === 48) z++
      if (z - fs >= 6) return false
      sig = e - z
    } else sig += e - fs
  } else if (intLen === 1 && b[intStart] === 48 && intStart > s) return true // -0
  return sig <= 15
}

/**
 * The raw dialect of resolved delimited options (connector.ts delimitedOptions), or a string
 * saying why the raw loops cannot handle them: the delimiter and the quote must be one ASCII
 * character each, different, neither CR nor LF, the escape must be the quote; a writer's line
 * delimiter must be ASCII, a reader's must be left to detection (LF or CRLF, see rawread.ts).
 * @param writer true for the export side.
 */
export function rawDialect(o: { delimiter: string; quote: string; escape: string; lineDelimiter?: string; nullFormat: string; bytesFormat: 'hex' | 'base64' }, writer: boolean): RawDialect | string {
  const ascii = (s: string) => s.length === 1 && s.charCodeAt(0) < 0x80
  if (!ascii(o.delimiter)) return 'the field delimiter is not one ASCII character'
  if (!ascii(o.quote)) return 'the quote is not one ASCII character'
  if (o.escape !== o.quote) return 'the escape character is not the quote'
  const dl = o.delimiter.charCodeAt(0)
  const q = o.quote.charCodeAt(0)
  if (dl === q || dl === CR || dl === LF || q === CR || q === LF) return 'the delimiter or quote is CR, LF or each other'
  const nl = o.lineDelimiter ?? '\n'
  if (writer ? !/^[\x00-\x7f]+$/.test(nl) : nl !== '\n') return 'the line delimiter is not ASCII'
  return { delimiter: dl, quote: q, recordDelimiter: Buffer.from(nl, 'latin1'), nullFormat: Buffer.from(o.nullFormat, 'utf8'), base64: o.bytesFormat === 'base64' }
}
