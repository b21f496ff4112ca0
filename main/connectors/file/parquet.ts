/**
 * Parquet with logical types, through hyparquet (reading) and hyparquet-writer (writing).
 *
 * Logical types written (Parquet format spec, LogicalTypes.md):
 * | Sluice       | Parquet                                                                   |
 * | bool         | BOOLEAN                                                                   |
 * | int ≤ 32     | INT32 (INT_8 / INT_16 / UINT_8 / UINT_16); unsigned 32 -> INT64          |
 * | int 64       | INT64; unsigned 64 -> INT64 UINT_64                                       |
 * | decimal(p,s) | DECIMAL(p,s) of its unscaled value: INT32 for p ≤ 9, INT64 for p ≤ 18,    |
 * |              | else FIXED_LEN_BYTE_ARRAY (big-endian two's complement), as the spec says  |
 * | decimal      | without a declared precision: STRING (its exact text)                     |
 * | float        | FLOAT / DOUBLE                                                            |
 * | date         | INT32 DATE (days since 1970-01-01)                                        |
 * | datetime     | INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false): wall clock                |
 * | timestamptz  | INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true): the instant (read back +00:00) |
 * | bytes        | BYTE_ARRAY                                                                |
 * | json         | BYTE_ARRAY JSON (the JSON text as stored)                                 |
 * | text and the rest | BYTE_ARRAY STRING                                                    |
 * The Sluice logical type of each column is also kept in the file's key-value metadata
 * (`sluice.columns`), so a file Sluice wrote reads back with the very types (time, enum, uuid...).
 *
 * Reading never lets a DECIMAL pass through a JS number (hyparquet converts DECIMAL to a number):
 * the DECIMAL annotation is removed from the metadata handed to hyparquet, so the unscaled value
 * arrives raw (INT32, INT64 or bytes) and is spelled exactly here. Timestamps arrive as raw
 * integers through custom parsers (no Date), dates as day numbers.
 *
 * Memory: the writer packs each column of the row group being filled ({@link ColumnBuffer}) and
 * encodes and flushes a row group as soon as it holds `rowGroupRows` rows or
 * {@link ROW_GROUP_BYTES}; it also takes COPY text lines from the raw path
 * ({@link scanCopyText}) without a JS value per text field. The reader decodes a range of rows
 * of the needed columns only (offset index, {@link PAGE_BYTES} pages), over random-access reads
 * of the file.
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Writable } from 'node:stream'
import { gunzipSync, gzipSync } from 'node:zlib'
import { type LogicalType, type Value } from '../../core/types.js'
import type { FileStore } from '../stores/types.js'
import { loadSnappy, loadZstd } from './compress.js'
import { daysFromCivil } from '../mysql/values.js'

type SchemaElement = import('hyparquet').SchemaElement
type FileMetaData = import('hyparquet').FileMetaData

/** A Parquet column as read from a file's schema. */
export interface ParquetColumn {
  name: string
  type: LogicalType
  nativeType: string
}

// ---------- exact conversions ----------

const DAY_MS = 86_400_000

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian, any year 0001–9999). */
export function daysFromDate(s: string): number {
  const y = Number(s.slice(0, 4))
  const m = Number(s.slice(5, 7))
  const d = Number(s.slice(8, 10))
  const t = new Date(0)
  t.setUTCFullYear(y, m - 1, d)
  t.setUTCHours(0, 0, 0, 0)
  return Math.round(t.getTime() / DAY_MS)
}

/** `YYYY-MM-DD` of a day number. */
export function dateFromDays(days: number): string {
  let s = DATE_TEXT.get(days)
  if (s !== undefined) return s
  const t = new Date(days * DAY_MS)
  s = `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`
  // Dates of a table repeat: reading a column spells each day once (a bounded cache).
  if (DATE_TEXT.size >= 1 << 16) DATE_TEXT.clear()
  DATE_TEXT.set(days, s)
  return s
}

/** {@link dateFromDays}' spellings by day number. */
const DATE_TEXT = new Map<number, string>()

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Microseconds since the epoch of a canonical datetime / timestamptz text (the offset, when
 * present, is applied: the result is the instant).
 * @throws Error naming the value when it is not canonical.
 */
export function microsFromText(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?|Z)?$/.exec(s)
  if (!m) throw new Error(`'${s}' is not a datetime`)
  const days = BigInt(daysFromDate(m[1]!))
  let secs = days * 86400n + BigInt(Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]))
  if (m[6]) {
    const off = Number(m[7]) * 3600 + Number(m[8]) * 60 + Number(m[9] ?? 0)
    secs -= BigInt(m[6] === '-' ? -off : off)
  }
  return secs * 1_000_000n + BigInt((m[5] ?? '').padEnd(6, '0') || '0')
}

/** Canonical text of microseconds since the epoch (fraction without trailing zeros); `utc` appends `+00:00`. */
export function textFromMicros(us: bigint, utc: boolean, fracDigits = 6): string {
  return us <= MAX_SAFE && us >= -MAX_SAFE ? textFromSafe(Number(us), utc, fracDigits) : textFromMicrosBig(us, utc, fracDigits)
}

/** {@link textFromMicros} in BigInt arithmetic, for any value (the reference its Number path is tested against). */
export function textFromMicrosBig(us: bigint, utc: boolean, fracDigits = 6): string {
  const unit = fracDigits === 9 ? 1_000_000_000n : 1_000_000n
  let secs = us / unit
  let frac = us % unit
  if (frac < 0n) {
    frac += unit
    secs -= 1n
  }
  let days = secs / 86400n
  let rem = secs % 86400n
  if (rem < 0n) {
    rem += 86400n
    days -= 1n
  }
  const r = Number(rem)
  const hh = String(Math.floor(r / 3600)).padStart(2, '0')
  const mi = String(Math.floor((r % 3600) / 60)).padStart(2, '0')
  const ss = String(r % 60).padStart(2, '0')
  const f = frac ? '.' + frac.toString().padStart(fracDigits, '0').replace(/0+$/, '') : ''
  return `${dateFromDays(Number(days))} ${hh}:${mi}:${ss}${f}${utc ? '+00:00' : ''}`
}

/** {@link textFromMicros} of a safe integer, in Number arithmetic (every step exact). */
function textFromSafe(n: number, utc: boolean, fracDigits: number): string {
  const unit = fracDigits === 9 ? 1_000_000_000 : 1_000_000
  let secs = Math.floor(n / unit)
  let frac = n - secs * unit
  // The quotient is rounded: correct a floor that landed one off.
  if (frac < 0) {
    frac += unit
    secs -= 1
  } else if (frac >= unit) {
    frac -= unit
    secs += 1
  }
  let days = Math.floor(secs / 86400)
  let r = secs - days * 86400
  if (r < 0) {
    r += 86400
    days -= 1
  } else if (r >= 86400) {
    r -= 86400
    days += 1
  }
  const hh = String(Math.floor(r / 3600)).padStart(2, '0')
  const mi = String(Math.floor((r % 3600) / 60)).padStart(2, '0')
  const ss = String(r % 60).padStart(2, '0')
  const f = frac ? '.' + String(frac).padStart(fracDigits, '0').replace(/0+$/, '') : ''
  return `${dateFromDays(days)} ${hh}:${mi}:${ss}${f}${utc ? '+00:00' : ''}`
}

/**
 * The unscaled integer of an exact decimal text at `scale` (`'-12.5'`, scale 2 -> -1250n).
 * @throws Error when the text has more fraction digits than `scale` (it would be rounded) or is not a decimal.
 */
export function unscaled(s: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim())
  if (!m || (!m[2] && !m[3])) throw new Error(`'${s}' is not a decimal`)
  let digits = (m[2] ?? '') + (m[3] ?? '')
  let exp = -(m[3] ?? '').length + Number(m[4] ?? 0)
  // value = digits * 10^exp; want digits * 10^(exp + scale)
  let shift = exp + scale
  if (shift < 0) {
    const cut = digits.slice(digits.length + shift)
    if (/[^0]/.test(cut)) throw new Error(`'${s}' has more than ${scale} fraction digits (it would be rounded)`)
    digits = digits.slice(0, digits.length + shift) || '0'
    shift = 0
  }
  const v = BigInt((digits || '0') + '0'.repeat(shift))
  return m[1] === '-' ? -v : v
}

/** Exact decimal text of an unscaled integer at `scale` (a number must be a safe integer). */
export function decimalText(v: bigint | number, scale: number): string {
  const neg = v < 0
  let s = String(neg ? -v : v)
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`
  }
  return (neg ? '-' : '') + s
}

/** The big-endian two's complement integer of `b`: a number when it has at most 6 bytes (exact), else a bigint. */
export function intFromBytes(b: Uint8Array): number | bigint {
  if (b.length > 6) return bigintFromBytes(b)
  let v = 0
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!
  return b.length && b[0]! & 0x80 ? v - 2 ** (8 * b.length) : v
}

function bigintFromBytes(b: Uint8Array): bigint {
  if (!b.length) return 0n
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8)
  return v
}

/** Bytes needed for a FIXED_LEN_BYTE_ARRAY decimal of `precision` digits. */
export function decimalBytes(precision: number): number {
  let n = 1
  while (2n ** BigInt(8 * n - 1) - 1n < 10n ** BigInt(precision)) n++
  return n
}

// ---------- writing ----------

/**
 * How a column's values are held while its row group fills: packed in typed arrays (`i32`,
 * `i64`, `u64`, `f64`, `bool`), as UTF-8 bytes in one buffer (`bytes`), or as JS values (`any`).
 */
type Slot = 'i32' | 'i64' | 'u64' | 'f64' | 'bool' | 'bytes' | 'any'

interface ColPlan {
  element: SchemaElement
  slot: Slot
  /** The value as its slot holds it. @throws Error with the reason when the value is not one of the column's Parquet type. */
  conv: (v: Value) => unknown
  /**
   * The same conversion from the value's text as bytes `data[start, end)`, without allocating,
   * for the common spellings whose result is a safe integer (or a double): returns
   * {@link SLOW} for any other text (then `conv` of the text decides), or {@link BAD} with no
   * reason when `conv` would throw.
   */
  fast?: (data: Buffer, start: number, end: number) => number
}

/** Index of the low 32-bit word of a 64-bit integer in memory (0 on little-endian machines). */
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1

/** {@link ColPlan.fast}: the text is not a common spelling; convert it with `conv`. */
const SLOW = Number.POSITIVE_INFINITY
/** {@link ColPlan.fast}: `conv` would refuse the text. */
const BAD = Number.NEGATIVE_INFINITY

/**
 * The integer spelled by ASCII digits `data[start, end)` with an optional leading `-`, when it has
 * at most 15 digits (a safe integer); {@link SLOW} otherwise.
 */
function digitsAt(data: Buffer, start: number, end: number): number {
  let i = start
  const neg = data[i] === 0x2d
  if (neg) i++
  if (i >= end || end - i > 15) return SLOW
  let n = 0
  for (; i < end; i++) {
    const c = data[i]! - 0x30
    if (c < 0 || c > 9) return SLOW
    n = n * 10 + c
  }
  return neg ? -n : n
}

/** Two ASCII digits at `i`, or -1. */
function two(data: Buffer, i: number): number {
  const a = data[i]! - 0x30
  const b = data[i + 1]! - 0x30
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * Days of a real `YYYY-MM-DD` date at `data[start]` (year 1-9999, a day of its month), {@link BAD}
 * for a zero or partial date (which the canonical path decides on), {@link SLOW} for another spelling.
 */
function dateAt(data: Buffer, start: number): number {
  const y1 = two(data, start)
  const y2 = two(data, start + 2)
  const m = two(data, start + 5)
  const d = two(data, start + 8)
  if (y1 < 0 || y2 < 0 || m < 0 || d < 0 || data[start + 4] !== 0x2d || data[start + 7] !== 0x2d) return SLOW
  const y = y1 * 100 + y2
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > monthDays(y, m)) return BAD
  return daysFromCivil(y, m, d)
}

const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n
const U64_MAX = (1n << 64n) - 1n

/** A bigint of `v` (integer text, number or bigint) within [min, max]. @throws Error otherwise. */
function bigintIn(v: Value, min: bigint, max: bigint): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? v : String(v).trim())
  if (b < min || b > max) throw new Error(`${String(v)} is out of range [${min}, ${max}]`)
  return b
}

/** The Parquet schema element, holding slot and value conversion for a column of logical type `t`. */
function columnPlan(name: string, t: LogicalType): ColPlan {
  const str = (v: Value) => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))
  const text: ColPlan = { element: { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' }, slot: 'bytes', conv: str }
  switch (t.kind) {
    case 'bool':
      return { element: { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' }, slot: 'bool', conv: (v) => v === true || v === 1 || v === '1' || v === 'true' }
    case 'int':
    case 'year': {
      // Converted types, not the INTEGER logical type: hyparquet-writer spells its bitWidth as an
      // i32 where the Thrift schema has an i8, which other readers (DuckDB) refuse.
      const bits = t.kind === 'year' ? 16 : t.bits
      const unsigned = t.kind === 'int' && !!t.unsigned
      const ct = (unsigned ? 'UINT_' : 'INT_') + (bits === 24 ? 32 : bits)
      if (bits <= 32 && !(unsigned && bits === 32)) {
        // The range of the converted type (INT_32 for 24 and 32 bits): a value outside it would be
        // wrapped by the encoder.
        const w = bits === 24 ? 32 : bits
        const min = unsigned ? 0 : -(2 ** (w - 1))
        const max = unsigned ? 2 ** w - 1 : 2 ** (w - 1) - 1
        return {
          element: { name, type: 'INT32', ...(bits < 32 || unsigned ? { converted_type: ct as 'INT_8' } : {}), repetition_type: 'OPTIONAL' },
          slot: 'i32',
          conv: (v) => {
            const n = Number(v)
            if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${String(v)} is not an integer in [${min}, ${max}]`)
            return n
          },
          fast: (data, start, end) => {
            const n = digitsAt(data, start, end)
            return n === SLOW ? SLOW : n < min || n > max ? BAD : n
          },
        }
      }
      if (unsigned && bits === 64)
        return {
          element: { name, type: 'INT64', converted_type: 'UINT_64', repetition_type: 'OPTIONAL' },
          slot: 'u64',
          conv: (v) => bigintIn(v, 0n, U64_MAX),
          fast: (data, start, end) => {
            const n = digitsAt(data, start, end)
            return n < 0 ? BAD : n
          },
        }
      return { element: { name, type: 'INT64', repetition_type: 'OPTIONAL' }, slot: 'i64', conv: (v) => bigintIn(v, I64_MIN, I64_MAX), fast: digitsAt }
    }
    case 'decimal': {
      if (t.precision === undefined || t.precision < 1 || t.precision > 76) return text
      const scale = t.scale ?? 0
      const precision = t.precision
      const limit = 10n ** BigInt(precision)
      // The physical type LogicalTypes.md gives each precision ("DECIMAL ... int32: for
      // 1 <= precision <= 9; int64: for 1 <= precision <= 18", else fixed_len_byte_array), as
      // Spark and DuckDB write them: an integer page is smaller and costs no bytes per value.
      const physical =
        precision <= 9
          ? ({ type: 'INT32' } as const)
          : precision <= 18
            ? ({ type: 'INT64' } as const)
            : ({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision) } as const)
      return {
        element: { name, ...physical, converted_type: 'DECIMAL', precision, scale, logical_type: { type: 'DECIMAL', precision, scale }, repetition_type: 'OPTIONAL' },
        // Unscaled values of up to 18 digits fit an int64. INT32 decimals are kept in the i64
        // slot too: hyparquet-writer takes a bigint as the unscaled value, but scales a number.
        slot: precision <= 18 ? 'i64' : 'any',
        conv: (v) => {
          const u = unscaled(typeof v === 'string' ? v : String(v), scale)
          if (u >= limit || u <= -limit) throw new Error(`'${String(v)}' has more than ${precision} digits`)
          return u
        },
        // `-123.45`: digits, a point and at most `scale` fraction digits, 15 digits in all.
        ...(precision <= 18
          ? {
              fast: (data: Buffer, start: number, end: number) => {
                let i = start
                const neg = data[i] === 0x2d
                if (neg) i++
                let n = 0
                let digits = 0
                let frac = -1
                for (; i < end; i++) {
                  const c = data[i]!
                  if (c === 0x2e && frac < 0) {
                    frac = 0
                    continue
                  }
                  const x = c - 0x30
                  if (x < 0 || x > 9) return SLOW
                  n = n * 10 + x
                  digits++
                  if (frac >= 0) frac++
                }
                if (frac < 0) frac = 0
                if (!digits || frac > scale || digits + scale - frac > 15) return SLOW
                n *= 10 ** (scale - frac)
                if (n >= 10 ** precision) return BAD
                return neg ? -n : n
              },
            }
          : {}),
      }
    }
    case 'float':
      return { element: { name, type: t.bits === 32 ? 'FLOAT' : 'DOUBLE', repetition_type: 'OPTIONAL' }, slot: 'f64', conv: (v) => Number(v) }
    case 'date':
      return {
        element: { name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type: 'OPTIONAL' },
        slot: 'i32',
        conv: (v) => daysFromDate(String(v)),
        fast: (data, start, end) => (end - start === 10 ? dateAt(data, start) : SLOW),
      }
    case 'datetime':
      return {
        element: { name, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
        slot: 'i64',
        conv: (v) => microsFromText(String(v)),
        // `YYYY-MM-DD HH:MM:SS[.f{1,6}]` of years 1685-2254 (micros within 2^53), as microsFromText reads it.
        fast: (data, start, end) => {
          const len = end - start
          if (len < 19 || len === 20 || len > 26 || data[start + 10] !== 0x20 || data[start + 13] !== 0x3a || data[start + 16] !== 0x3a) return SLOW
          const days = dateAt(data, start)
          const hh = two(data, start + 11)
          const mi = two(data, start + 14)
          const ss = two(data, start + 17)
          if (days === SLOW || hh < 0 || mi < 0 || ss < 0) return SLOW
          if (days === BAD) return BAD
          let frac = 0
          if (len > 19) {
            if (data[start + 19] !== 0x2e) return SLOW
            for (let i = start + 20; i < start + 26; i++) {
              const x = i < end ? data[i]! - 0x30 : 0
              if (x < 0 || x > 9) return SLOW
              frac = frac * 10 + x
            }
          }
          const secs = days * 86400 + hh * 3600 + mi * 60 + ss
          return Math.abs(secs) < 9e9 ? secs * 1e6 + frac : SLOW
        },
      }
    case 'timestamptz':
      return { element: { name, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL' }, slot: 'i64', conv: (v) => microsFromText(String(v)) }
    case 'bytes':
    case 'geometry':
      return { element: { name, type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' }, slot: 'bytes', conv: (v) => (Buffer.isBuffer(v) ? v : String(v)) }
    case 'json':
      return { element: { name, type: 'BYTE_ARRAY', logical_type: { type: 'JSON' }, repetition_type: 'OPTIONAL' }, slot: 'bytes', conv: str }
    default:
      return text
  }
}

/**
 * The values of one column of the row group being filled, packed by its {@link Slot}: numbers in
 * typed arrays, text and bytes as UTF-8 bytes in one buffer with end offsets, so a row group of
 * 100,000 rows holds a few bytes per value instead of a JS value each (the V8 heap of a channel
 * stays small; the strings of the source rows are released as soon as a batch is added).
 *
 * hyparquet-writer's `ParquetWriter.write` takes it as a column's `data`: it reads `length` and
 * calls `slice(start, end)` once per row group, column after column, so the JS values of only one
 * column exist at a time (null is a NULL; bytes come as views of the buffer, which the writer
 * encodes as they are).
 */
export class ColumnBuffer {
  /** Rows held. */
  length = 0
  private nulls: Uint8Array
  private nums?: Int32Array | BigInt64Array | BigUint64Array | Float64Array | Uint8Array
  /** `i64` / `u64`: the same memory as 32-bit words (see {@link pushNumber}). */
  private words?: Int32Array
  private any?: unknown[]
  private bytes?: Buffer
  /** `ends[i]`: end offset in `bytes` of row i's value. */
  private ends?: Uint32Array
  private used = 0

  constructor(
    readonly slot: Slot,
    capacity = 1024,
  ) {
    this.nulls = new Uint8Array(capacity)
    if (slot === 'any') this.any = []
    else if (slot === 'bytes') {
      this.bytes = Buffer.allocUnsafe(capacity * 16)
      this.ends = new Uint32Array(capacity)
    } else this.setNums(this.alloc(capacity))
  }

  private setNums(a: NonNullable<ColumnBuffer['nums']>): void {
    this.nums = a
    if (this.slot === 'i64' || this.slot === 'u64') this.words = new Int32Array(a.buffer, a.byteOffset, a.length * 2)
  }

  private alloc(n: number): NonNullable<ColumnBuffer['nums']> {
    switch (this.slot) {
      case 'i32':
        return new Int32Array(n)
      case 'i64':
        return new BigInt64Array(n)
      case 'u64':
        return new BigUint64Array(n)
      case 'f64':
        return new Float64Array(n)
      default:
        return new Uint8Array(n)
    }
  }

  private grow(): void {
    const n = this.nulls.length * 2
    const nulls = new Uint8Array(n)
    nulls.set(this.nulls)
    this.nulls = nulls
    if (this.nums) {
      const a = this.alloc(n)
      a.set(this.nums as never)
      this.setNums(a)
    }
    if (this.ends) {
      const e = new Uint32Array(n)
      e.set(this.ends)
      this.ends = e
    }
  }

  /** Append a value as its column's `conv` returned it, or null. */
  push(v: unknown): void {
    const i = this.length
    if (i === this.nulls.length) this.grow()
    if (v === null) {
      this.nulls[i] = 1
      if (this.ends) this.ends[i] = this.used
      else if (this.any) this.any.push(null)
    } else {
      this.nulls[i] = 0
      switch (this.slot) {
        case 'any':
          this.any!.push(v)
          break
        case 'bool':
          this.nums![i] = v ? 1 : 0
          break
        case 'bytes': {
          const b = v as string | Uint8Array
          const need = typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length
          if (this.used + need > this.bytes!.length) {
            const nb = Buffer.allocUnsafe(Math.max(this.bytes!.length * 2, this.used + need))
            this.bytes!.copy(nb, 0, 0, this.used)
            this.bytes = nb
          }
          if (typeof b === 'string') this.bytes!.write(b, this.used, 'utf8')
          else this.bytes!.set(b, this.used)
          this.used += need
          this.ends![i] = this.used
          break
        }
        default:
          ;(this.nums as unknown as unknown[])[i] = v
      }
    }
    this.length = i + 1
  }

  /**
   * Append a number to a numeric slot without making a bigint: a safe integer to `i64` / `u64`
   * (written as its two 32-bit halves), any number to `i32` / `f64`.
   */
  pushNumber(n: number): void {
    const i = this.length
    if (i === this.nulls.length) this.grow()
    this.nulls[i] = 0
    const words = this.words
    if (words) {
      const hi = Math.floor(n / 4294967296)
      words[2 * i + LOW_WORD] = n - hi * 4294967296 // 0..2^32-1, stored as its int32 bits
      words[2 * i + 1 - LOW_WORD] = hi
    } else (this.nums as Int32Array | Float64Array)[i] = n
    this.length = i + 1
  }

  /**
   * Append the bytes `src[start, end)` of a `bytes` column, unescaping COPY text escapes when
   * `escaped` (the field was checked by {@link scanCopyText}: every backslash starts a known escape).
   */
  pushBytes(src: Buffer, start: number, end: number, escaped: boolean): void {
    const i = this.length
    if (i === this.nulls.length) this.grow()
    this.nulls[i] = 0
    const need = end - start
    if (this.used + need > this.bytes!.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes!.length * 2, this.used + need))
      this.bytes!.copy(nb, 0, 0, this.used)
      this.bytes = nb
    }
    const dst = this.bytes!
    if (!escaped) {
      src.copy(dst, this.used, start, end)
      this.used += need
    } else {
      let o = this.used
      for (let k = start; k < end; k++) {
        const c = src[k]!
        dst[o++] = c === 0x5c ? COPY_ESCAPES[src[++k]!]! : c
      }
      this.used = o
    }
    this.ends![i] = this.used
    this.length = i + 1
  }

  /** Drop the last value (a row that failed in a later column). */
  pop(): void {
    if (!this.length) return
    this.length--
    if (this.any) this.any.pop()
    if (this.ends) this.used = this.length ? this.ends[this.length - 1]! : 0
  }

  /** Bytes of a value of a fixed-width slot (0 for `bytes`, whose size is {@link usedBytes}), for the row group's byte bound. */
  static fixedBytes(slot: Slot): number {
    return slot === 'bytes' ? 0 : slot === 'i32' ? 4 : slot === 'bool' ? 1 : slot === 'any' ? 16 : 8
  }

  /** Bytes of the values of a `bytes` slot (0 for the others). */
  get usedBytes(): number {
    return this.used
  }

  /** Values [start, end) as JS values: null, number, bigint, boolean, or a view of the UTF-8 / byte buffer. */
  slice(start = 0, end = this.length): unknown[] {
    end = Math.min(end, this.length)
    const out = new Array<unknown>(Math.max(0, end - start))
    for (let i = start; i < end; i++) {
      let v: unknown = null
      if (!this.nulls[i]) {
        if (this.any) v = this.any[i]
        else if (this.ends) v = this.bytes!.subarray(i ? this.ends[i - 1]! : 0, this.ends[i]!)
        else if (this.slot === 'bool') v = this.nums![i] === 1
        else v = this.nums![i]
      }
      out[i - start] = v
    }
    return out
  }
}

/**
 * The byte a COPY text escape `\x` stands for, by the byte after the backslash (PostgreSQL
 * COPY "Text Format": `\b \f \n \r \t \v \\`); -1 for the others (octal and hex escapes,
 * which neither PostgreSQL's COPY TO nor Sluice's MySQL raw reader writes, are not taken).
 */
const COPY_ESCAPES = (() => {
  const t = new Int16Array(256).fill(-1)
  t[0x62] = 8
  t[0x66] = 12
  t[0x6e] = 10
  t[0x72] = 13
  t[0x74] = 9
  t[0x76] = 11
  t[0x5c] = 0x5c
  return t
})()

/** Field bounds of COPY text lines, from {@link scanCopyText}. */
export interface CopyFields {
  /** `2 * (row * width + col)`: start, end (exclusive) of the field in the data; start = -1: NULL. */
  bounds: Int32Array
  /** 1 where the field holds an escape. */
  escaped: Uint8Array
}

/** One column of converted COPY text fields (see ParquetPartWriter.convertCopyText). */
export interface CopyColumn {
  /** By line: the value when it is a number (i32, f64, or a safe integer of i64 / u64). */
  nums: Float64Array
  /** By line: the value when it is not a number (a bigint). */
  other?: unknown[]
}

/**
 * The fields of `rows` COPY text lines of `width` fields each (main/connectors/raw.ts): TAB
 * separated, LF ended, `\N` = NULL. Returns why not when a line has another field count or a
 * field an escape other than the single-character ones of {@link COPY_ESCAPES}.
 */
export function scanCopyText(data: Buffer, rows: number, width: number): CopyFields | string {
  const bounds = new Int32Array(rows * width * 2)
  const escaped = new Uint8Array(rows * width)
  let p = 0
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const start = p
      let esc = 0
      for (;;) {
        if (p >= data.length) return `line ${r + 1} ends early`
        const b = data[p]!
        if (b === 9 || b === 10) break
        if (b === 0x5c) {
          const n = data[p + 1]
          if (n === 0x4e && p === start && (data[p + 2] === 9 || data[p + 2] === 10)) {
            p += 2
            esc = -1
            break
          }
          if (n === undefined || COPY_ESCAPES[n]! < 0) return `line ${r + 1}: an escape the raw Parquet writer does not take`
          esc = 1
          p += 2
          continue
        }
        p++
      }
      const k = r * width + c
      if (esc < 0) bounds[2 * k] = -1
      else {
        bounds[2 * k] = start
        bounds[2 * k + 1] = p
        escaped[k] = esc
      }
      const sep = data[p]
      if (c < width - 1 ? sep !== 9 : sep !== 10) return `line ${r + 1} has ${c < width - 1 ? 'fewer' : 'more'} than ${width} fields`
      p++
    }
  }
  if (p !== data.length) return 'more lines than the batch counts'
  return { bounds, escaped }
}

/**
 * Whether a column of logical type `t` takes COPY text as the canonical path would take its value
 * (its text is the canonical value's text: main/engine/rawpath.ts decides which pairs qualify):
 * integers, doubles, decimals, dates, datetimes and the text kinds. Not booleans (`t`/`f`), bytes
 * (hex), time and timestamptz (re-spelled canonically) nor geometry.
 */
export function parquetTakesCopyText(t: LogicalType): boolean {
  switch (t.kind) {
    case 'int':
    case 'year':
    case 'float':
    case 'decimal':
    case 'date':
    case 'datetime':
    case 'string':
    case 'text':
    case 'enum':
    case 'set':
    case 'json':
    case 'uuid':
    case 'other':
      return true
    default:
      return false
  }
}

/** Days in a month of the proleptic Gregorian calendar. */
function monthDays(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31
}

/** A `YYYY-MM-DD` prefix that is a real date (not MySQL's zero or partial dates, which the canonical path decides on). */
function realDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return false
  const y = Number(s.slice(0, 4))
  const m = Number(s.slice(5, 7))
  const d = Number(s.slice(8, 10))
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= monthDays(y, m)
}

/**
 * A row group is written once its packed values hold about this many bytes, even before
 * `rowGroupRows` (memory bound): hyparquet-writer encodes a column chunk from one JS value per row,
 * whose garbage (many times the packed bytes) is what bounds a channel's heap. At 2 MiB a table of
 * ~130 packed bytes a row gets row groups of about 15,000 rows; MySQL -> Parquet of the 1M-row
 * bench table (two channels) peaked at ~390 MB RSS with 32 MiB, ~340 MB with 8 MiB, ~320 MB with
 * 4 MiB and ~290 MB with 2 MiB, and ran faster with the smaller groups.
 */
export const ROW_GROUP_BYTES = 2 << 20

/**
 * Target uncompressed size of a data page (hyparquet-writer's default is 1 MiB). Smaller pages let
 * a reader decode a range of rows without decoding much outside it (see openParquet's
 * readColumns, which reads batch by batch); the offset index lists every page.
 */
export const PAGE_BYTES = 64 << 10

/** Options of {@link ParquetPartWriter}. */
export interface ParquetWriteOptions {
  codec: 'snappy' | 'gzip' | 'zstd' | 'none'
  rowGroupRows: number
}

/**
 * Writes one Parquet file to a stream, a row group at a time: values are packed into a
 * {@link ColumnBuffer} per column as rows are added, and a row group is encoded and flushed to the
 * stream once it holds `rowGroupRows` rows or {@link ROW_GROUP_BYTES}, so memory holds one packed
 * row group (and the encoded bytes of one row group while they drain).
 */
export class ParquetPartWriter {
  private readonly plans: ColPlan[]
  private cols: ColumnBuffer[]
  private n = 0
  private writer?: import('hyparquet-writer').ParquetWriter
  /** Bytes a row takes in the fixed-width columns. */
  private readonly rowFixedBytes: number
  /** Indexes of the `bytes` columns. */
  private readonly byteCols: number[]

  constructor(
    private readonly names: string[],
    private readonly types: LogicalType[],
    private readonly out: Writable,
    private readonly o: ParquetWriteOptions,
  ) {
    this.plans = names.map((n, i) => columnPlan(n, types[i]!))
    this.cols = this.newColumns()
    this.rowFixedBytes = this.plans.reduce((b, p) => b + ColumnBuffer.fixedBytes(p.slot), 0)
    this.byteCols = this.plans.flatMap((p, j) => (p.slot === 'bytes' ? [j] : []))
  }

  private newColumns(): ColumnBuffer[] {
    const cap = Math.max(16, Math.min(this.o.rowGroupRows, 16_384))
    return this.plans.map((p) => new ColumnBuffer(p.slot, cap))
  }

  /**
   * Add rows. Returns the indexes (in `rows`) of rows a value of which cannot be written as its
   * column's Parquet type, with the reason; the other rows are written.
   */
  async add(rows: Value[][]): Promise<Array<{ index: number; reason: string; column: string }>> {
    const bad: Array<{ index: number; reason: string; column: string }> = []
    const w = this.plans.length
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      const cols = this.cols // (a new set after each row group)
      // Converted straight into the columns (no array per row); a value that fails takes back
      // the ones its row already pushed.
      let err: { reason: string; column: string } | undefined
      let j = 0
      for (; j < w; j++) {
        const v = r[j]!
        if (v === null) {
          cols[j]!.push(null)
          continue
        }
        let c: unknown
        try {
          c = this.plans[j]!.conv(v)
        } catch (e) {
          err = { column: this.names[j]!, reason: `column ${this.names[j]}: ${(e as Error).message}` }
          break
        }
        cols[j]!.push(c)
      }
      if (err) {
        for (let k = 0; k < j; k++) cols[k]!.pop()
        bad.push({ index: i, ...err })
        continue
      }
      this.n++
      if (this.n >= this.o.rowGroupRows || this.groupBytes() >= ROW_GROUP_BYTES) await this.flushGroup()
    }
    return bad
  }

  /**
   * Convert the non-text fields of COPY text lines (see {@link scanCopyText}) as {@link add}
   * converts values, without adding them: per column (undefined for the text columns, taken as
   * bytes) the numbers, and the values that are not numbers (bigints beyond 2^53, wide decimals)
   * in `other`; or why the lines cannot be written raw (a value that is not one of its column's
   * type, or a date the canonical path decides on): then nothing is added and the caller writes
   * the rows canonically (dirty records as usual).
   */
  convertCopyText(data: Buffer, rows: number, f: CopyFields): Array<CopyColumn | undefined> | string {
    const w = this.plans.length
    const out: Array<CopyColumn | undefined> = this.plans.map((p) => (p.slot === 'bytes' ? undefined : { nums: new Float64Array(rows) }))
    for (let j = 0; j < w; j++) {
      const o = out[j]
      if (!o) continue
      const plan = this.plans[j]!
      const kind = this.types[j]!.kind
      const dated = kind === 'date' || kind === 'datetime'
      const fast = plan.fast
      for (let r = 0; r < rows; r++) {
        const k = r * w + j
        const start = f.bounds[2 * k]!
        if (start < 0) continue
        if (f.escaped[k]) return `column ${this.names[j]}: an escaped value`
        const end = f.bounds[2 * k + 1]!
        if (fast) {
          const n = fast(data, start, end)
          if (n === BAD) return `column ${this.names[j]}: '${data.toString('latin1', start, end)}' is not a value of its type here`
          if (n !== SLOW) {
            o.nums[r] = n
            continue
          }
        }
        const text = data.toString('latin1', start, end)
        if (dated && !realDate(text)) return `column ${this.names[j]}: '${text}' is not a real date`
        let v: unknown
        try {
          v = plan.conv(text)
        } catch (e) {
          return `column ${this.names[j]}: ${(e as Error).message}`
        }
        if (typeof v === 'number') o.nums[r] = v
        else (o.other ??= [])[r] = v
      }
    }
    return out
  }

  /**
   * Add lines [from, to) of COPY text whose non-text fields {@link convertCopyText} converted
   * (`values`); text fields are copied as their UTF-8 bytes (unescaped), no JS string made.
   */
  async addCopyText(data: Buffer, f: CopyFields, values: Array<CopyColumn | undefined>, from: number, to: number): Promise<void> {
    const w = this.plans.length
    for (let r = from; r < to; r++) {
      const cols = this.cols
      for (let j = 0; j < w; j++) {
        const k = r * w + j
        const start = f.bounds[2 * k]!
        if (start < 0) {
          cols[j]!.push(null)
          continue
        }
        const v = values[j]
        if (!v) cols[j]!.pushBytes(data, start, f.bounds[2 * k + 1]!, f.escaped[k] === 1)
        else if (v.other?.[r] !== undefined) cols[j]!.push(v.other[r])
        else cols[j]!.pushNumber(v.nums[r]!)
      }
      this.n++
      if (this.n >= this.o.rowGroupRows || this.groupBytes() >= ROW_GROUP_BYTES) await this.flushGroup()
    }
  }

  /** Bytes of the packed values of the row group being filled. */
  private groupBytes(): number {
    let b = this.n * this.rowFixedBytes
    for (const j of this.byteCols) b += this.cols[j]!.usedBytes
    return b
  }

  private async open(): Promise<void> {
    if (this.writer) return
    const hw = await import('hyparquet-writer')
    const compressors: Record<string, (b: Uint8Array) => Uint8Array> = {}
    if (this.o.codec === 'gzip') compressors.GZIP = (b) => gzipSync(b)
    if (this.o.codec === 'snappy') {
      const sn = await loadSnappy()
      if (sn) compressors.SNAPPY = sn.compress
    }
    if (this.o.codec === 'zstd') {
      const z = await loadZstd()
      compressors.ZSTD = (b) => z.compress(b, 3)
    }
    const bw = new hw.ByteWriter(1 << 20)
    const out = this.out
    // Drain the encoded bytes to the upload after every row group (offsets keep counting).
    ;(bw as unknown as { flush: () => Promise<void> }).flush = () => {
      const chunk = Buffer.from(bw.buffer.slice(0, bw.index))
      bw.index = 0
      return writeAsync(out, chunk)
    }
    ;(bw as unknown as { finish: () => Promise<void> }).finish = () => (bw as unknown as { flush: () => Promise<void> }).flush()
    const schema: SchemaElement[] = [{ name: 'schema', num_children: this.plans.length }, ...this.plans.map((p) => p.element)]
    this.writer = new hw.ParquetWriter({
      writer: bw as never,
      schema: schema as never,
      codec: this.o.codec === 'none' ? 'UNCOMPRESSED' : (this.o.codec.toUpperCase() as 'SNAPPY'),
      compressors: compressors as never,
      kvMetadata: [{ key: 'sluice.columns', value: JSON.stringify(this.names.map((name, i) => ({ name, type: this.types[i] }))) }],
      createdBy: 'sluice',
    })
  }

  private async flushGroup(): Promise<void> {
    await this.open()
    if (!this.n) return
    // Each ColumnBuffer stands for the column's array (see ColumnBuffer): the writer takes one
    // column's values at a time.
    const columnData = this.plans.map((p, j) => ({ name: p.element.name, data: this.cols[j]! as never }))
    this.cols = this.newColumns()
    const n = this.n
    this.n = 0
    await this.writer!.write({ columnData, rowGroupSize: n, pageSize: PAGE_BYTES })
    // The footer keeps each column chunk's min / max until the file ends: a byte value is a view
    // of the row group's whole buffer, so keep a copy of its bytes instead.
    for (const c of this.writer!.row_groups.at(-1)?.columns ?? []) {
      const st = c.meta_data?.statistics
      if (!st) continue
      if (st.min_value instanceof Uint8Array) st.min_value = new Uint8Array(st.min_value)
      if (st.max_value instanceof Uint8Array) st.max_value = new Uint8Array(st.max_value)
    }
  }

  /** Write the last row group and the footer. */
  async finish(): Promise<void> {
    await this.flushGroup()
    await this.open()
    await this.writer!.finish()
  }
}

function writeAsync(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(chunk)) return resolve()
    const onErr = (e: Error) => {
      out.off('drain', onDrain)
      reject(e)
    }
    const onDrain = () => {
      out.off('error', onErr)
      resolve()
    }
    out.once('drain', onDrain)
    out.once('error', onErr)
  })
}

// ---------- reading ----------

/** The Sluice logical type of a Parquet leaf column. */
export function logicalTypeOf(e: SchemaElement): { type: LogicalType; native: string } {
  const lt = e.logical_type
  const ct = e.converted_type
  const native = [e.type, lt?.type ?? ct].filter(Boolean).join(' ')
  if (ct === 'DECIMAL' || lt?.type === 'DECIMAL') {
    const precision = lt?.type === 'DECIMAL' ? lt.precision : e.precision
    const scale = lt?.type === 'DECIMAL' ? lt.scale : e.scale ?? 0
    return { type: { kind: 'decimal', ...(precision !== undefined ? { precision, scale } : {}) }, native: `${native}(${precision},${scale})` }
  }
  if (lt?.type === 'TIMESTAMP') return { type: { kind: lt.isAdjustedToUTC ? 'timestamptz' : 'datetime', precision: 6 }, native }
  if (ct === 'TIMESTAMP_MICROS' || ct === 'TIMESTAMP_MILLIS') return { type: { kind: 'timestamptz', precision: 6 }, native }
  if (e.type === 'INT96') return { type: { kind: 'datetime', precision: 6 }, native }
  if (ct === 'DATE' || lt?.type === 'DATE') return { type: { kind: 'date' }, native }
  if (lt?.type === 'TIME' || ct === 'TIME_MICROS' || ct === 'TIME_MILLIS') return { type: { kind: 'time', precision: 6 }, native }
  if (lt?.type === 'JSON' || ct === 'JSON') return { type: { kind: 'json' }, native }
  if (lt?.type === 'UUID') return { type: { kind: 'uuid' }, native }
  if (lt?.type === 'STRING' || ct === 'UTF8' || ct === 'ENUM' || lt?.type === 'ENUM') return { type: { kind: 'text' }, native }
  switch (e.type) {
    case 'BOOLEAN':
      return { type: { kind: 'bool' }, native }
    case 'INT32': {
      const unsigned = (lt?.type === 'INTEGER' && !lt.isSigned) || ct === 'UINT_32' || ct === 'UINT_16' || ct === 'UINT_8'
      const bits = lt?.type === 'INTEGER' ? lt.bitWidth : ct === 'INT_8' || ct === 'UINT_8' ? 8 : ct === 'INT_16' || ct === 'UINT_16' ? 16 : 32
      return { type: { kind: 'int', bits: (unsigned && bits === 32 ? 64 : bits) as 8 | 16 | 32 | 64, ...(unsigned ? { unsigned } : {}) }, native }
    }
    case 'INT64': {
      const unsigned = (lt?.type === 'INTEGER' && !lt.isSigned) || ct === 'UINT_64'
      return { type: { kind: 'int', bits: 64, ...(unsigned ? { unsigned } : {}) }, native }
    }
    case 'FLOAT':
      return { type: { kind: 'float', bits: 32 }, native }
    case 'DOUBLE':
      return { type: { kind: 'float', bits: 64 }, native }
    default:
      return { type: { kind: 'bytes' }, native }
  }
}

/** An opened Parquet file: columns, row groups, and a reader of row ranges as canonical values. */
export interface ParquetSource {
  columns: ParquetColumn[]
  /** Row groups in file order: rows [start, end) of the file, and their uncompressed bytes (footer's `total_byte_size`). */
  rowGroups: Array<{ start: number; end: number; bytes: number }>
  /**
   * Rows [start, end) of the columns `cols` (indexes into {@link columns}): one array of canonical
   * values per entry of `cols`, each `end - start` long. Only those columns' pages that hold the
   * rows are fetched and decoded (the offset index, when the file has one, narrows the pages).
   */
  readColumns(start: number, end: number, cols: readonly number[]): Promise<Value[][]>
  /** The leaf schema elements, in column order. */
  elements: readonly SchemaElement[]
  /**
   * Rows [start, end) of the columns `cols` as hyparquet's raw values, for the raw path
   * (file/pqbinary.ts): integers as numbers (INT32) or bigints (INT64), floats as numbers,
   * booleans, byte arrays (text and JSON too) as Uint8Arrays, DECIMAL as its unscaled integer
   * (number, bigint or big-endian bytes), DATE as days since 1970-01-01, TIMESTAMP (milli- or
   * microseconds) as bigint microseconds since 1970; null for NULL.
   */
  readRawColumns(start: number, end: number, cols: readonly number[]): Promise<unknown[][]>
  /** The canonical value (what {@link readColumns} gives) of a raw value of column `c`. */
  canonical(c: number, v: unknown): Value
  /** Rows [start, end) of all columns, in column order. */
  read(start: number, end: number): Promise<Value[][]>
  close(): Promise<void>
}
/**
 * Open a Parquet file of a store: a local file is read in place; any other store's file is first
 * downloaded to a temporary file (Parquet needs random access to its footer).
 * @throws Error naming the file when it is not Parquet or has nested columns.
 */
export async function openParquet(store: FileStore, file: string, signal?: AbortSignal): Promise<ParquetSource> {
  const hp = await import('hyparquet')
  let local: string
  let tmpDir: string | undefined
  const lp = (store as unknown as { localPath?: (p: string) => string }).localPath
  if (lp) local = lp.call(store, file)
  else {
    tmpDir = await mkdtemp(path.join(tmpdir(), 'sluice-pq-'))
    local = path.join(tmpDir, 'file.parquet')
    await pipeline(await store.read(file, signal ? { signal } : {}), createWriteStream(local))
  }
  try {
    const buf = await hp.asyncBufferFromFile(local)
    let meta: FileMetaData
    try {
      meta = await hp.parquetMetadataAsync(buf)
    } catch (e) {
      throw new Error(`${file}: not a Parquet file (${(e as Error).message})`)
    }
    const root = meta.schema[0]!
    const leaves = meta.schema.slice(1)
    if (leaves.length !== (root.num_children ?? 0) || leaves.some((e) => e.num_children)) throw new Error(`${file}: nested Parquet columns (groups, lists, maps) are not supported`)
    let declared: Array<{ name: string; type: LogicalType }> | undefined
    const kv = meta.key_value_metadata?.find((k) => k.key === 'sluice.columns')?.value
    if (kv) {
      try {
        declared = JSON.parse(kv)
      } catch {
        /* ignore a foreign value */
      }
    }
    const columns: ParquetColumn[] = leaves.map((e, i) => {
      const lt = logicalTypeOf(e)
      const d = declared?.[i]
      return { name: e.name, type: d && d.name === e.name ? d.type : lt.type, nativeType: lt.native }
    })
    // Raw values: no DECIMAL conversion, timestamps and dates as integers.
    const raw: FileMetaData = { ...meta, schema: meta.schema.map((e) => (e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL' ? { ...e, converted_type: undefined, logical_type: undefined } : e)) as SchemaElement[] }
    const convs = leaves.map((e, i) => readConv(e, columns[i]!.type))
    const rowGroups: Array<{ start: number; end: number; bytes: number }> = []
    let at = 0
    for (const g of meta.row_groups) {
      const n = Number(g.num_rows)
      rowGroups.push({ start: at, end: at + n, bytes: Number(g.total_byte_size) })
      at += n
    }
    const z = meta.row_groups.some((g) => g.columns.some((c) => c.meta_data?.codec === 'ZSTD')) ? await loadZstd() : undefined
    const sn = meta.row_groups.some((g) => g.columns.some((c) => c.meta_data?.codec === 'SNAPPY')) ? await loadSnappy() : undefined
    const compressors = {
      GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
      ...(z ? { ZSTD: (input: Uint8Array) => z.decompress(input) } : {}),
      ...(sn ? { SNAPPY: (input: Uint8Array) => sn.uncompress(input) } : {}),
    }
    // hyparquet's value parsers (convert.js): dates as days and timestamps (milli- and
    // microseconds) as bigint microseconds, JSON as its bytes; nanoseconds as a tagged object.
    const rawParsers = {
      timestampFromMilliseconds: (v: bigint) => BigInt(v) * 1000n,
      timestampFromMicroseconds: (v: bigint) => BigInt(v),
      timestampFromNanoseconds: (v: bigint) => ({ ns: BigInt(v) }),
      dateFromDays: (d: number) => d,
      jsonFromBytes: (b: Uint8Array) => b,
    }
    const readRawColumns = async (start: number, end: number, cols: readonly number[]): Promise<unknown[][]> => {
      const n = Math.max(0, end - start)
      const out = cols.map(() => new Array<unknown>(n).fill(null))
      if (!n || !cols.length) return out
      const byName = new Map<string, unknown[][]>()
      cols.forEach((c, k) => {
        const name = leaves[c]!.name
        byName.set(name, [...(byName.get(name) ?? []), out[k]!])
      })
      await hp.parquetRead({
        file: buf,
        metadata: raw,
        columns: [...byName.keys()],
        rowStart: start,
        rowEnd: end,
        useOffsetIndex: true,
        utf8: false,
        compressors: compressors as never,
        parsers: rawParsers as never,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const from = Math.max(rowStart, start)
          const to = Math.min(rowStart + columnData.length, end)
          for (const o of byName.get(columnName) ?? []) {
            for (let r = from; r < to; r++) {
              const v = columnData[r - rowStart]
              o[r - start] = v === undefined ? null : v
            }
          }
        },
      })
      return out
    }
    // Which columns' raw values are DATE days or TIMESTAMP microseconds (parsers above).
    const rawKind = leaves.map((e) => (e.converted_type === 'DATE' || e.logical_type?.type === 'DATE' ? 'days' : e.type === 'INT64' && (e.logical_type?.type === 'TIMESTAMP' ? e.logical_type.unit !== 'NANOS' : e.converted_type === 'TIMESTAMP_MICROS' || e.converted_type === 'TIMESTAMP_MILLIS') ? 'us' : e.logical_type?.type === 'JSON' || e.converted_type === 'JSON' ? 'json' : ''))
    const canonical = (c: number, v: unknown): Value => {
      if (v === null || v === undefined) return null
      const k = rawKind[c]
      if (k === 'days' && typeof v === 'number') return convs[c]!({ days: v })
      if (k === 'us' && typeof v === 'bigint') return convs[c]!({ us: v })
      if (k === 'json' && v instanceof Uint8Array) return convs[c]!(Buffer.from(v).toString('utf8'))
      return convs[c]!(v)
    }
    // Canonical values: the raw ones, converted (a column asked for twice is converted twice).
    const readColumns = async (start: number, end: number, cols: readonly number[]): Promise<Value[][]> => {
      const data = await readRawColumns(start, end, cols)
      return data.map((col, k) => {
        const c = cols[k]!
        const out = new Array<Value>(col.length)
        for (let r = 0; r < col.length; r++) out[r] = canonical(c, col[r])
        return out
      })
    }
    const all = leaves.map((_, i) => i)
    return {
      columns,
      rowGroups,
      readColumns,
      elements: leaves,
      readRawColumns,
      canonical,
      read: async (start, end) => {
        const data = await readColumns(start, end, all)
        const rows = new Array<Value[]>(Math.max(0, end - start))
        for (let i = 0; i < rows.length; i++) rows[i] = data.map((c) => c[i]!)
        return rows
      },
      close: async () => {
        if (tmpDir) await rm(tmpDir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true })
    throw e
  }
}

/** Raw hyparquet value -> canonical value, for one column. */
function readConv(e: SchemaElement, t: LogicalType): (v: unknown) => Value {
  const isDec = e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL'
  if (isDec) {
    const scale = e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : e.scale ?? 0
    return (v) => decimalText(v instanceof Uint8Array ? intFromBytes(v) : typeof v === 'number' ? v : BigInt(v as bigint), scale)
  }
  const toText = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v))
  return (v) => {
    if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const o = v as { us?: bigint; ns?: bigint; days?: number }
      if (o.days !== undefined) return dateFromDays(o.days)
      const utc = t.kind === 'timestamptz'
      if (o.us !== undefined) return t.kind === 'date' ? textFromMicros(o.us, false).slice(0, 10) : textFromMicros(o.us, utc)
      if (o.ns !== undefined) return textFromMicros(o.ns, utc, 9)
    }
    switch (t.kind) {
      case 'int':
      case 'year': {
        if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
        return v as number
      }
      case 'bool':
        return !!v
      case 'float':
        return Number(v)
      case 'decimal':
        return typeof v === 'bigint' || typeof v === 'number' ? String(v) : toText(v)
      case 'bytes':
      case 'geometry':
        return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(String(v))
      default:
        if (typeof v === 'bigint') return v.toString()
        return toText(v)
    }
  }
}
