/**
 * SQLite stored values <-> canonical values (pure functions, no I/O).
 *
 * Reads run with `safeIntegers(true)`, so an INTEGER arrives as a `bigint` and never passes
 * through a double; REAL as `number`, TEXT as `string`, BLOB as `Buffer`, NULL as `null`.
 * SQLite lets any column hold any storage class (a non-STRICT `INTEGER` column can hold 'abc').
 * A value whose storage class does not fit its column's logical kind is never coerced: it passes
 * through in its own JS type (TEXT -> string, REAL -> number, BLOB -> Buffer, INTEGER -> number,
 * or `bigint` beyond 2^53), so the writer on the other side refuses it as a dirty row with its
 * own reason instead of receiving a bent value.
 *
 * Writes validate every value against the target column's logical kind and the affinity of its
 * declared type ({@link encoderFor}); a value SQLite would silently change (a 16-digit decimal
 * into a NUMERIC column, '20240101' into a `DATE` column of NUMERIC affinity, NaN which SQLite
 * stores as NULL, an integer beyond 64 bits into an INTEGER column) is refused with
 * {@link ValueError} and becomes a dirty row.
 */
import type { LogicalType, Value } from '../../core/types.js'
import type { Affinity } from './types.js'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = -MAX_SAFE
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** Canonical integer: a `number` when safe, else its decimal string. */
export function canonicalInt(v: bigint): number | string {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString()
}

/** A mismatched INTEGER passed through: `number` when safe, else the `bigint` itself (not a string, so it cannot pass for text). */
function passInt(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v
}

/**
 * Plain decimal text of a double: the shortest string that round-trips (`String(n)`, ECMAScript
 * Number::toString), moved out of exponent notation (`1e-7` -> `0.0000001`, `1e+21` ->
 * `1000000000000000000000`), then padded with zeros to `scale` fraction digits when it has fewer.
 * Never rounds and never adds digits the double does not carry (padding zeros aside); a value with
 * more fraction digits than `scale` keeps them. -0 prints as `0`.
 * @throws RangeError for NaN and infinities.
 */
export function doubleToDecimal(n: number, scale?: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a finite number`)
  let s = String(n)
  const e = s.indexOf('e')
  if (e >= 0) {
    const neg = s.startsWith('-')
    const mant = s.slice(neg ? 1 : 0, e)
    const exp = Number(s.slice(e + 1))
    const dot = mant.indexOf('.')
    const digits = mant.replace('.', '')
    const point = (dot < 0 ? mant.length : dot) + exp // position of the point within digits
    let out: string
    if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`
    else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length)
    else out = `${digits.slice(0, point)}.${digits.slice(point)}`
    s = (neg ? '-' : '') + out
  }
  return padScale(s, scale)
}

/** Pad a plain decimal string with zeros to `scale` fraction digits (never cuts). */
export function padScale(s: string, scale: number | undefined): string {
  if (!scale || scale <= 0) return s
  const dot = s.indexOf('.')
  const have = dot < 0 ? 0 : s.length - dot - 1
  if (have >= scale) return s
  return (dot < 0 ? `${s}.` : s) + '0'.repeat(scale - have)
}

/** Turns one stored value (as better-sqlite3 returns it with safeIntegers) into its canonical form. */
export type Decoder = (v: unknown) => Value

function passThrough(v: unknown): Value {
  if (typeof v === 'bigint') return passInt(v)
  return v as Value
}

/**
 * Decoder for a column of logical type `t` whose declared type has affinity `affinity`.
 * - int, year: INTEGER -> number when safe, else decimal string (int) ; digit TEXT in a TEXT-affinity
 *   int column (`UNSIGNED_BIG_TEXT`) -> the same canonical form; anything else passes through.
 * - bool: INTEGER 0/1 -> false/true; anything else passes through.
 * - decimal: TEXT as stored; INTEGER as its digits; REAL via {@link doubleToDecimal}; both padded
 *   to the declared scale (Chinook's NUMERIC(10,2) REAL 0.99 -> '0.99', 1.1 -> '1.10'); NaN/Inf pass through.
 * - float: REAL as is; INTEGER -> number when safe.
 * - bytes, geometry: BLOB as Buffer.
 * - text kinds (string, text, date, time, datetime, timestamptz, json, uuid, enum, set): TEXT
 *   exactly as stored. A date/time column holding an INTEGER or REAL (unix time, julian day)
 *   passes through as that number: no calendar is guessed.
 * - other: every storage class as is (INTEGER -> number when safe, else bigint).
 */
export function decoderFor(t: LogicalType, affinity: Affinity): Decoder {
  switch (t.kind) {
    case 'int':
    case 'year':
      return (v) => {
        if (typeof v === 'bigint') return canonicalInt(v)
        if (typeof v === 'string' && affinity === 'TEXT' && /^-?(0|[1-9]\d*)$/.test(v)) return canonicalInt(BigInt(v))
        return passThrough(v)
      }
    case 'bool':
      return (v) => (v === 0n ? false : v === 1n ? true : passThrough(v))
    case 'decimal': {
      const scale = t.scale
      return (v) => {
        if (typeof v === 'bigint') return padScale(v.toString(), scale)
        if (typeof v === 'number' && Number.isFinite(v)) return doubleToDecimal(v, scale)
        return passThrough(v)
      }
    }
    case 'float':
      return passThrough
    default:
      return passThrough
  }
}

/** A value a column cannot take; becomes a dirty row with `code`. */
export class ValueError extends Error {
  override name = 'ValueError'
  constructor(
    message: string,
    public readonly code = 'SQLITE_MISMATCH',
  ) {
    super(message)
  }
}

/** A value ready for better-sqlite3 to bind. */
export type Bindable = null | number | bigint | string | Buffer

/** Converts one canonical value for a target column, or throws {@link ValueError}. */
export type Encoder = (v: Value) => Bindable

/**
 * A string SQLite's numeric affinity would convert (a well-formed integer or real literal, with
 * optional surrounding spaces, as `sqlite3AtoF` accepts); conservative: when in doubt, true.
 */
export function looksNumeric(s: string): boolean {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s)
}

const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/

/** Significant digits of a plain decimal string (leading zeros and trailing fraction zeros dropped). */
export function significantDigits(s: string): number {
  let d = s.replace(/^[+-]/, '')
  if (d.includes('.')) d = d.replace(/0+$/, '').replace(/\.$/, '')
  d = d.replace('.', '').replace(/^0+/, '')
  if (!d) return 1
  return d.replace(/0+$/, '').length || 1
}

function describe(v: Value): string {
  if (Buffer.isBuffer(v)) return `a ${v.length}-byte binary value`
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`
  return `${typeof v} ${String(v)}`
}

function toBigInt(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined
  if (typeof v === 'boolean') return v ? 1n : 0n
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return BigInt(v.trim())
  return undefined
}

/**
 * Encoder for a target column of logical type `t` whose declared type has `affinity`.
 * - int/year: integers (number, bigint, digit string, boolean) bound as 64-bit INTEGER; beyond
 *   int64 only into a TEXT-affinity column (`UNSIGNED_BIG_TEXT`, as digits), else refused.
 * - decimal: plain decimal strings (numbers and bigints accepted too). TEXT affinity
 *   (`DECIMAL_TEXT`): bound as the exact text. Other affinities: an integer within int64 as INTEGER;
 *   otherwise only with at most 15 significant digits (bound as a double, which SQLite's NUMERIC
 *   affinity would produce anyway and which reads back with the same digits); more digits are
 *   refused (SQLite would round them through a double).
 * - float: numbers (and numeric strings/bigints) bound as REAL; NaN refused (SQLite stores NULL).
 * - bool: booleans, 0/1, '0'/'1'/'true'/'false' -> INTEGER 1/0.
 * - bytes, geometry: Buffers only.
 * - text kinds: strings exactly; numbers/bigints as their decimal text. Into a column whose affinity
 *   is not TEXT or BLOB (e.g. a declared `DATE` or `JSON`), a string SQLite would turn into a number
 *   is refused. Buffers refused.
 * - other: strings, numbers, bigints and Buffers as they are (with the same numeric-text check).
 */
export function encoderFor(t: LogicalType, affinity: Affinity): Encoder {
  const textual = affinity === 'TEXT'
  const converts = affinity !== 'TEXT' && affinity !== 'BLOB'
  const textOnly = (s: string): string => {
    if (converts && looksNumeric(s))
      throw new ValueError(`${describe(s)} would be stored as a number by SQLite's ${affinity} affinity of this column's declared type (declare it with TEXT affinity to keep the text)`)
    return s
  }
  switch (t.kind) {
    case 'int':
    case 'year':
      return (v) => {
        if (v === null) return null
        const b = toBigInt(v)
        if (b === undefined) throw new ValueError(`${describe(v)} is not an integer`)
        if (b < INT64_MIN || b > INT64_MAX) {
          if (textual) return b.toString()
          throw new ValueError(`${b} is outside SQLite's 64-bit INTEGER range`, 'SQLITE_TOOBIG')
        }
        return textual ? b.toString() : b
      }
    case 'decimal':
      return (v) => {
        if (v === null) return null
        let s: string
        if (typeof v === 'string') {
          s = v.trim()
          if (!PLAIN_DECIMAL.test(s)) throw new ValueError(`${describe(v)} is not a decimal number`)
        } else if (typeof v === 'number') {
          if (!Number.isFinite(v)) throw new ValueError(`${v} cannot be stored in a decimal column`)
          s = doubleToDecimal(v)
        } else if (typeof v === 'bigint') s = v.toString()
        else if (typeof v === 'boolean') s = v ? '1' : '0'
        else throw new ValueError(`${describe(v)} is not a decimal number`)
        if (textual) return s
        if (/^[+-]?\d+$/.test(s)) {
          const b = BigInt(s)
          if (b >= INT64_MIN && b <= INT64_MAX) return b
        }
        if (significantDigits(s) <= 15) return Number(s)
        throw new ValueError(`${s} has ${significantDigits(s)} significant digits; SQLite's ${affinity} affinity keeps only 15 (declare the column DECIMAL_TEXT(p,s) to keep every digit)`)
      }
    case 'float':
      return (v) => {
        if (v === null) return null
        let n: number
        if (typeof v === 'number') n = v
        else if (typeof v === 'bigint') n = Number(v)
        else if (typeof v === 'boolean') n = v ? 1 : 0
        else if (typeof v === 'string' && looksNumeric(v)) n = Number(v)
        else throw new ValueError(`${describe(v)} is not a number`)
        if (Number.isNaN(n)) throw new ValueError('NaN cannot be stored: SQLite stores a NaN as NULL')
        return n
      }
    case 'bool':
      return (v) => {
        if (v === null) return null
        if (typeof v === 'boolean') return v ? 1n : 0n
        if (v === 0 || v === 1) return BigInt(v)
        if (v === 0n || v === 1n) return v
        if (typeof v === 'string') {
          const l = v.trim().toLowerCase()
          if (l === '1' || l === 'true' || l === 't') return 1n
          if (l === '0' || l === 'false' || l === 'f') return 0n
        }
        throw new ValueError(`${describe(v)} is not a boolean`)
      }
    case 'bytes':
    case 'geometry':
      return (v) => {
        if (v === null) return null
        if (Buffer.isBuffer(v)) return v
        throw new ValueError(`${describe(v)} is not binary data (expected bytes)`)
      }
    case 'other':
      return (v) => {
        if (v === null) return null
        if (Buffer.isBuffer(v)) return v
        if (typeof v === 'string') return textOnly(v)
        if (typeof v === 'boolean') return v ? 1n : 0n
        if (typeof v === 'number') {
          if (Number.isNaN(v)) throw new ValueError('NaN cannot be stored: SQLite stores a NaN as NULL')
          if (textual) return String(v)
          return Number.isSafeInteger(v) ? BigInt(v) : v
        }
        if (typeof v === 'bigint') {
          if (textual || v < INT64_MIN || v > INT64_MAX) return v.toString()
          return v
        }
        throw new ValueError(`${describe(v)} cannot be stored`)
      }
    default:
      // string, text, date, time, datetime, timestamptz, json, uuid, enum, set
      return (v) => {
        if (v === null) return null
        if (typeof v === 'string') return textOnly(v)
        if (typeof v === 'number' || typeof v === 'bigint') return textOnly(String(v))
        if (typeof v === 'boolean') return textOnly(v ? 'true' : 'false')
        throw new ValueError(`${describe(v)} is not text (column kind ${t.kind})`)
      }
  }
}
