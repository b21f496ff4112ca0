/**
 * Spelling one field of delimited text (CSV / TSV / any one-byte delimiter) the way the file
 * connector's canonical writer does (main/connectors/file/text.ts: csv-stringify with
 * `quoted_match` [CR/LF, the nullFormat] and valueToText), from the field's text bytes, without a
 * JS value per field. Shared by the file writer's COPY text loop (file/rawtext.ts
 * copyToDelimited) and the MySQL raw reader's direct delimited output (mysql/rawread.ts), so
 * both write exactly the same bytes for the same value.
 *
 * Quoting is RFC 4180's (https://www.rfc-editor.org/rfc/rfc4180): a field holding the delimiter,
 * the quote, CR or LF is quoted with the quote doubled inside; a field equal to the nullFormat (or
 * empty while the nullFormat is empty) is quoted so it does not read back as NULL; NULL itself is
 * the unquoted nullFormat.
 */

const BS = 92
const LF = 10
const CR = 13

/**
 * How a field's text (for COPY text: the unescaped field) becomes the canonical path's text for its column, by the column's kind:
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

/** Bytes a re-spelled (non-text) field can hold: digits, signs, points, date and code characters. */
const REWRITTEN = Array.from(Buffer.from('0123456789+-.:/= TtrueInfinityNaNabcdefABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz', 'latin1'))


/**
 * Finishes delimited fields in place for one dialect: a field's text bytes are written at
 * `out[fs, o)` by the caller (for COPY text, already unescaped), then {@link end} applies the
 * column's {@link RawFieldOp}, and quotes the field when it must be.
 *
 * Room: {@link end} writes at most `2 * (o - fs) + FIELD_ROOM` bytes from `fs` (a re-spelled
 * number is at most 24 characters, quoting at most doubles a field and adds two quotes); the
 * caller makes sure `out` holds them.
 */
export class DelimitedSpeller {
  /** Extra bytes per field {@link end} may need beyond twice the field's text (see the class comment). */
  static readonly FIELD_ROOM = 64
  /** Per byte: 1 when a text field holding it must be quoted (delimiter, quote, CR, LF), else 0. */
  readonly special: Uint8Array
  /** Whether a re-spelled number, date or code can hold the delimiter or the quote. */
  readonly fixedMayNeedQuote: boolean
  readonly nullFormat: Buffer
  readonly delimiter: number
  readonly recordDelimiter: Buffer
  private readonly quote: number
  private readonly emptyQuoted: boolean

  constructor(readonly dialect: RawDialect) {
    this.delimiter = dialect.delimiter
    this.quote = dialect.quote
    this.nullFormat = dialect.nullFormat
    this.recordDelimiter = dialect.recordDelimiter
    this.emptyQuoted = dialect.nullFormat.length === 0
    this.fixedMayNeedQuote = REWRITTEN.includes(dialect.delimiter) || REWRITTEN.includes(dialect.quote)
    const s = new Uint8Array(256)
    s[dialect.delimiter] = 1
    s[dialect.quote] = 1
    s[CR] = 1
    s[LF] = 1
    this.special = s
  }

  /** Write the nullFormat (a NULL) at `o`; returns the new offset. */
  putNull(out: Buffer, o: number): number {
    const n = this.nullFormat
    for (let k = 0; k < n.length; k++) out[o++] = n[k]!
    return o
  }

  /**
   * Finish the field whose text is `out[fs, o)`: apply `op` (see {@link RawFieldOp}), then quote
   * it when `special` (the caller saw a byte of {@link special} in the text; recomputed here for
   * re-spelled kinds), when it equals the nullFormat, or when it is empty and the nullFormat is
   * empty.
   * @returns the field's new end, or a reason why this value has no raw spelling (a zero date, a
   *   value of an unexpected spelling): the batch then takes the canonical path.
   */
  end(out: Buffer, fs: number, o: number, op: number, special: boolean): number | string {
    if (op !== RawFieldOp.TEXT) {
      const r = fixField(out, fs, o, op, this.dialect)
      if (typeof r === 'string') return r
      if (r < 0) {
        // Re-spelled as a string (in `fixed`).
        const s = fixed!
        fixed = undefined
        o = fs + out.write(s, fs, 'latin1')
      } else o = r
      special = false
      if (this.fixedMayNeedQuote) {
        const d = this.delimiter
        const q = this.quote
        for (let x = fs; x < o; x++) {
          const b = out[x]!
          if (b === d || b === q) special = true
        }
      }
    }
    const flen = o - fs
    let quoteIt = special
    if (!quoteIt) {
      const nullF = this.nullFormat
      const nullLen = nullF.length
      if (flen === 0) quoteIt = this.emptyQuoted
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
    if (!quoteIt) return o
    // Quote: shift right by 1 + the number of quotes inside, doubling them.
    const quote = this.quote
    let q = 0
    for (let x = fs; x < o; x++) if (out[x] === quote) q++
    let w = o + q + 1
    out[w] = quote
    for (let x = o - 1; x >= fs; x--) {
      const b = out[x]!
      out[--w] = b
      if (b === quote) out[--w] = quote
    }
    out[fs] = quote
    return o + q + 2
  }
}

const spellers = new WeakMap<RawDialect, DelimitedSpeller>()

/** The dialect's {@link DelimitedSpeller}, made once per dialect object. */
export function spellerOf(d: RawDialect): DelimitedSpeller {
  let s = spellers.get(d)
  if (!s) spellers.set(d, (s = new DelimitedSpeller(d)))
  return s
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
