/**
 * Delimited text records -> PostgreSQL binary COPY tuples (main/connectors/pg-binary.ts), for the
 * file reader's raw path into PostgreSQL (file/rawread.ts). It exists for speed: PostgreSQL spends
 * far less CPU receiving binary values than parsing CSV text with the types' input functions
 * (measured on the 1M-row bench table, two backends loading at once: 2.8-3.8 s of CPU against
 * 4.8-5.5 s for `COPY ... (FORMAT csv)`).
 *
 * The rule that keeps it exact: a field is encoded only when its text is in a strict spelling
 * whose value is known to be what the type's input function (PostgreSQL 15 src/backend/utils/adt:
 * int8.c / numutils.c pg_strtoint*, numeric.c numeric_in, float.c float8in, date.c date_in /
 * timestamp_in, varlena.c textin, jsonb.c jsonb_in) makes of the same text; the receive functions
 * then apply the column's typmod exactly as input does (numeric scale, varchar length, timestamp
 * precision). Any other spelling (blanks, exponents in a numeric, `24:00:00`, more than 6 fraction
 * digits, `Infinity`, an out-of-range integer...) fails the record, and its batch goes as CSV
 * records, where PostgreSQL's own parser decides as before.
 *
 * A record that encodes also passes the CSV path's field checks (file/rawread.ts FieldCheck):
 * where the strict spelling is not narrower than the check by construction, the check is run too.
 */
import { daysFromCivil } from '../mysql/values.js'
import { PG_EPOCH_DAYS, putMicros, putNumericAscii, type PgBinaryType } from '../pg-binary.js'
import { checkField, FieldCheck } from './rawread.js'

/** Binary types a delimited field can be encoded as (others keep the split on CSV). */
const ENCODED: ReadonlySet<PgBinaryType> = new Set(['int2', 'int4', 'int8', 'float8', 'numeric', 'text', 'jsonb', 'date', 'timestamp'])

const T = { INT2: 0, INT4: 1, INT8: 2, FLOAT8: 3, NUMERIC: 4, TEXT: 5, JSONB: 6, DATE: 7, TIMESTAMP: 8 } as const
const CODE: Record<string, number> = { int2: T.INT2, int4: T.INT4, int8: T.INT8, float8: T.FLOAT8, numeric: T.NUMERIC, text: T.TEXT, jsonb: T.JSONB, date: T.DATE, timestamp: T.TIMESTAMP }

/** Bytes one field may take beyond its text (length word, fixed-size values, the jsonb version). */
export const FIELD_EXTRA = 16

const isDigit = (c: number) => c >= 48 && c <= 57

/**
 * Encodes the fields of scanned records (file/rawread.ts RecordScanner offsets) as binary COPY
 * tuples in the target's column types.
 */
export class PgBinaryRecordEncoder {
  private readonly codes: Uint8Array
  /** Per column: the strict spelling implies the CSV check (no separate checkField). */
  private readonly implied: Uint8Array
  /** Per column, the last date read and its days (see dateDays). */
  private readonly dateCache: Uint8Array
  private readonly dateDays: Float64Array
  /** DataViews of the last output and input buffers (word stores and copies). */
  private outBuf?: Buffer
  private ov?: DataView
  private inBuf?: Buffer
  private iv?: DataView

  /**
   * @param types the target's binary types, one per written column (RawTarget `pgbinary`)
   * @param checks the CSV path's check per column, `fracs` its fraction-digit limits
   */
  private constructor(
    types: readonly PgBinaryType[],
    private readonly checks: Uint8Array,
    private readonly fracs: readonly number[],
    private readonly nullF: Buffer,
    private readonly quote: number,
  ) {
    this.codes = Uint8Array.from(types.map((t) => CODE[t]!))
    this.dateCache = new Uint8Array(types.length * 10)
    this.dateDays = new Float64Array(types.length).fill(NO_DATE)
    this.implied = Uint8Array.from(
      types.map((t, k) => {
        const c = checks[k]!
        if (c === FieldCheck.ANY) return 1
        if (c === FieldCheck.INT) return t === 'int2' || t === 'int4' || t === 'int8' ? 1 : 0
        // numeric's `[+-]digits[.digits]` and float8's grammar are within DEC's.
        if (c === FieldCheck.DEC) return t === 'numeric' || t === 'float8' ? 1 : 0
        if (c === FieldCheck.DATE) return t === 'date' ? 1 : 0
        // The timestamp spelling keeps the column's fraction limit (see encode).
        if (c === FieldCheck.DATETIME) return t === 'timestamp' ? 1 : 0
        return 0
      }),
    )
  }

  /**
   * An encoder for these columns, or undefined when a target type has no encoding here (the
   * split then sends CSV records).
   */
  static for(types: readonly PgBinaryType[] | undefined, checks: Uint8Array, fracs: readonly number[], nullF: Buffer, quote: number): PgBinaryRecordEncoder | undefined {
    if (!types || types.length !== checks.length || !types.every((t) => ENCODED.has(t))) return undefined
    return new PgBinaryRecordEncoder(types, checks, fracs, nullF, quote)
  }

  /**
   * Write the first `n` fields of a record (`buf[fs[k], fe[k])`, `fq[k]` 0 unquoted, 1 quoted,
   * 2 quoted with doubled quotes) as one binary COPY tuple at `out[o]`; the caller leaves room for
   * the record's bytes plus {@link FIELD_EXTRA} per field and 2.
   * @returns the new offset, or -1 when a field has no exact binary encoding or fails its CSV
   *   check (nothing usable written: the caller checks the record as CSV).
   */
  encode(buf: Buffer, fs: Int32Array, fe: Int32Array, fq: Uint8Array, n: number, out: Buffer, o: number): number {
    const nullF = this.nullF
    const nullLen = nullF.length
    if (this.outBuf !== out) {
      this.outBuf = out
      this.ov = new DataView(out.buffer, out.byteOffset, out.byteLength)
    }
    const ov = this.ov!
    if (this.inBuf !== buf) {
      this.inBuf = buf
      this.iv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    }
    const iv = this.iv!
    const bufLen = buf.length
    const codes = this.codes
    const implied = this.implied
    ov.setInt16(o, n)
    o += 2
    for (let k = 0; k < n; k++) {
      const s = fs[k]!
      const e = fe[k]!
      const q = fq[k]!
      if (q === 0 && e - s === nullLen) {
        let isNull = true
        for (let x = 0; x < nullLen; x++) {
          if (buf[s + x] !== nullF[x]) {
            isNull = false
            break
          }
        }
        if (isNull) {
          ov.setInt32(o, -1)
          o += 4
          continue
        }
      }
      if (!implied[k] && (q === 2 || !checkField(buf, s, e, this.checks[k] as FieldCheck, this.fracs[k]))) return -1
      const code = codes[k]!
      if (code === T.TEXT || code === T.JSONB) {
        const at = o
        o += 4
        if (code === T.JSONB) out[o++] = 1
        if (q === 2) {
          const quote = this.quote
          for (let x = s; x < e; x++) {
            const b = buf[x]!
            out[o++] = b
            if (b === quote) x++ // the doubled quote stands for one
          }
        } else if (e + 3 <= bufLen && e - s < 256) {
          // Whole 4-byte words; the up to 3 bytes past the field are overwritten next.
          for (let x = s, w = o; x < e; x += 4, w += 4) ov.setInt32(w, iv.getInt32(x))
          o += e - s
        } else o += buf.copy(out, o, s, e)
        ov.setInt32(at, o - at - 4)
        continue
      }
      // Typed values are never quoted with doubled quotes (their spellings hold no quote).
      if (q === 2) return -1
      switch (code) {
        case T.INT2:
        case T.INT4:
        case T.INT8: {
          const v = intOf(buf, s, e)
          if (v !== v) return -1 // not `[+-]?digits`, or more than 19 significant digits
          if (code === T.INT2) {
            if (v > INT2_MAX || v < -INT2_MAX - 1) return -1
            ov.setInt32(o, 2)
            ov.setInt16(o + 4, v)
            o += 6
          } else if (code === T.INT4) {
            if (v > INT4_MAX || v < -INT4_MAX - 1) return -1
            ov.setInt32(o, 4)
            ov.setInt32(o + 4, v)
            o += 8
          } else if (v === Infinity) {
            // 16-19 significant digits: exact in BigInt.
            if (bigInt > 9223372036854775807n || bigInt < -9223372036854775808n) return -1
            ov.setInt32(o, 8)
            ov.setBigInt64(o + 4, bigInt)
            o += 12
          } else {
            // Two's complement halves of a safe integer.
            const hi = Math.floor(v / 4294967296)
            ov.setInt32(o, 8)
            ov.setInt32(o + 4, hi)
            ov.setUint32(o + 8, v - hi * 4294967296)
            o += 12
          }
          break
        }
        case T.NUMERIC: {
          // putNumericAscii takes `[+-]digits[.digits]` (either part may be empty, not both).
          const r = putNumericAscii(buf, s, e, out, o)
          if (r < 0) return -1
          o = r
          break
        }
        case T.FLOAT8: {
          const v = float8Of(buf, s, e)
          if (v !== v) return -1 // NaN: no exact reading
          ov.setInt32(o, 8)
          ov.setFloat64(o + 4, v)
          o += 12
          break
        }
        case T.DATE: {
          if (e - s !== 10) return -1
          const days = dateDays(buf, s, this.dateCache, this.dateDays, k)
          if (days === NO_DATE) return -1
          ov.setInt32(o, 4)
          ov.setInt32(o + 4, days - PG_EPOCH_DAYS)
          o += 8
          break
        }
        case T.TIMESTAMP: {
          const r = putTimestamp(buf, s, e, Math.min(6, this.fracs[k]!), out, o, this.dateCache, this.dateDays, k)
          if (r < 0) return -1
          o = r
          break
        }
        default:
          return -1
      }
    }
    return o
  }
}

const INT2_MAX = 32767
const INT4_MAX = 2147483647

/** The value of the last {@link intOf} that returned Infinity. */
let bigInt = 0n

/**
 * The integer `[+-]?digits` at `b[s, e)` (leading zeros allowed, as pg_strtoint16/32/64 take
 * them; blanks, which they also take, are not): the number when it has at most 15 significant
 * digits, Infinity when it has 16-19 (its value then in {@link bigInt}), NaN otherwise.
 */
function intOf(b: Buffer, s: number, e: number): number {
  let i = s
  const neg = b[i] === 45
  if (neg || b[i] === 43) i++
  if (i === e) return NaN
  while (i < e - 1 && b[i] === 48) i++
  const nd = e - i
  if (nd > 19) return NaN
  let v = 0
  for (let x = i; x < e; x++) {
    const d = b[x]! - 48
    if (d < 0 || d > 9) return NaN
    v = v * 10 + d
  }
  if (nd <= 15) return neg ? -v : v
  bigInt = BigInt(b.toString('latin1', i, e))
  if (neg) bigInt = -bigInt
  return Infinity
}

/** Exact powers of ten as doubles (10^0 .. 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

/**
 * The float8 of a DEC-grammar number (`[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`), or
 * NaN: another spelling, or a value float8in refuses (overflow to infinity, or underflow to zero
 * of a number that is not zero; subnormal results are kept, as float8in keeps them). Both JS's
 * Number() and strtod round a decimal correctly to the nearest double; the fast path (at most 15
 * significant digits and a power of ten up to 22) divides or multiplies two exact doubles, which
 * IEEE 754 rounds correctly too (Clinger, "How to Read Floating Point Numbers Accurately", 1990).
 */
function float8Of(b: Buffer, s: number, e: number): number {
  let i = s
  const neg = b[i] === 45
  if (neg || b[i] === 43) i++
  let m = 0 // significant digits as an integer, while exact
  let sig = 0 // digits in m after the leading zeros
  let nonzero = false
  let a = 0 // digits before the point
  let f = 0 // digits after it
  let dot = false
  for (; i < e; i++) {
    const c = b[i]!
    if (c === 46 && !dot) {
      dot = true
      continue
    }
    const d = c - 48
    if (d < 0 || d > 9) break
    if (d) nonzero = true
    if (sig || d) {
      m = m * 10 + d
      sig++
    }
    if (dot) f++
    else a++
  }
  if (a === 0 && f === 0) return NaN
  let exp = false
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    exp = true
    i++
    if (b[i] === 43 || b[i] === 45) i++
    let xd = 0
    while (i < e && isDigit(b[i]!)) {
      i++
      xd++
    }
    if (!xd) return NaN
  }
  if (i !== e) return NaN
  if (!exp && sig <= 15 && f <= 22) {
    const v = f ? m / POW10[f]! : m
    return neg ? -v : v
  }
  const v = Number(b.toString('latin1', s, e))
  if (!Number.isFinite(v) || (v === 0 && nonzero)) return NaN
  return v
}

const NO_DATE = -1e9

/**
 * Days since 1970-01-01 of a valid `dddd-dd-dd` at `s` (year 0001-9999), else {@link NO_DATE}.
 * `cache` holds the last date read for this column (10 bytes at `c * 10`, its days in `days[c]`):
 * the dates of a column tend to repeat from one record to the next.
 */
function dateDays(b: Buffer, s: number, cache: Uint8Array, days: Float64Array, c: number): number {
  const at = c * 10
  if (days[c] !== NO_DATE) {
    let same = true
    for (let k = 9; k >= 0; k--) {
      if (b[s + k] !== cache[at + k]) {
        same = false
        break
      }
    }
    if (same) return days[c]!
  }
  const d = readDate(b, s)
  if (d !== NO_DATE) {
    for (let k = 0; k < 10; k++) cache[at + k] = b[s + k]!
    days[c] = d
  }
  return d
}

function readDate(b: Buffer, s: number): number {
  for (let k = 0; k < 10; k++) {
    const c = b[s + k]!
    if (k === 4 || k === 7 ? c !== 45 : !isDigit(c)) return NO_DATE
  }
  const y = (b[s]! - 48) * 1000 + (b[s + 1]! - 48) * 100 + (b[s + 2]! - 48) * 10 + (b[s + 3]! - 48)
  const m = (b[s + 5]! - 48) * 10 + (b[s + 6]! - 48)
  const d = (b[s + 8]! - 48) * 10 + (b[s + 9]! - 48)
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return NO_DATE
  return daysFromCivil(y, m, d)
}

function daysIn(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

/**
 * `dddd-dd-dd` (midnight) or `dddd-dd-dd[ T]HH:MM:SS[.f]` with HH 00-23, MM and SS 00-59 and
 * 1..`maxFrac` fraction digits (at most 6: microseconds, PostgreSQL's resolution) as a timestamp
 * at `o`, or -1.
 */
function putTimestamp(b: Buffer, s: number, e: number, maxFrac: number, out: Buffer, o: number, cache: Uint8Array, cached: Float64Array, c: number): number {
  const n = e - s
  if (n !== 10 && n < 19) return -1
  const days = dateDays(b, s, cache, cached, c)
  if (days === NO_DATE) return -1
  let sec = (days - PG_EPOCH_DAYS) * 86400
  let us = 0
  if (n > 10) {
    const t = s + 11
    if (b[s + 10] !== 32 && b[s + 10] !== 84) return -1
    if (!(isDigit(b[t]!) && isDigit(b[t + 1]!) && b[t + 2] === 58 && isDigit(b[t + 3]!) && isDigit(b[t + 4]!) && b[t + 5] === 58 && isDigit(b[t + 6]!) && isDigit(b[t + 7]!))) return -1
    const h = (b[t]! - 48) * 10 + (b[t + 1]! - 48)
    const mi = (b[t + 3]! - 48) * 10 + (b[t + 4]! - 48)
    const se = (b[t + 6]! - 48) * 10 + (b[t + 7]! - 48)
    if (h > 23 || mi > 59 || se > 59) return -1
    sec += h * 3600 + mi * 60 + se
    if (n > 19) {
      if (b[s + 19] !== 46) return -1
      const f = n - 20
      if (f < 1 || f > maxFrac) return -1
      for (let x = s + 20; x < e; x++) {
        const d = b[x]! - 48
        if (d < 0 || d > 9) return -1
        us = us * 10 + d
      }
      for (let x = f; x < 6; x++) us *= 10
    }
  }
  out.writeInt32BE(8, o)
  putMicros(out, o + 4, sec, us)
  return o + 12
}
