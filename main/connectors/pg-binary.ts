/**
 * PostgreSQL's binary COPY format, as far as the raw path writes it (main/connectors/raw.ts,
 * `RawBatch.format === 'pgbinary'`). Source: PostgreSQL 15 manual, "COPY", "Binary Format"
 * (https://www.postgresql.org/docs/15/sql-copy.html): a 19-byte header (signature
 * `PGCOPY\n\377\r\n\0`, int32 flags 0, int32 header-extension length 0), then per tuple an int16
 * field count and per field an int32 byte length (-1 for NULL) and the value in the type's
 * `send`/`recv` form, then an int16 -1 trailer. All integers are big-endian (network order).
 *
 * Value forms used here (PostgreSQL's src/backend/utils/adt/*.c `*_recv`): int2/int4/int8 as
 * two's complement; float8 as IEEE 754; bool one byte 0/1; text/varchar/bpchar/json/enum as the
 * bytes of the text in the server encoding (UTF-8 here; the server verifies it as for text
 * input); jsonb a version byte 1 and the text; bytea the bytes; date an int32 of days since
 * 2000-01-01; timestamp (without time zone) and time int64 microseconds since 2000-01-01
 * 00:00:00 / midnight; numeric int16 ndigits, int16 weight, int16 sign (0x0000 positive, 0x4000
 * negative), int16 dscale, then ndigits int16 base-10000 digits, most significant first.
 * The receive functions apply the column's typmod exactly as text input does (numeric scale and
 * precision, varchar/char length, timestamp precision), so a binary value lands as its text
 * spelling would.
 */
import type { Column } from '../core/types.js'

/** Target column types the binary raw path writes. */
export type PgBinaryType = 'int2' | 'int4' | 'int8' | 'float8' | 'numeric' | 'bool' | 'text' | 'jsonb' | 'date' | 'timestamp' | 'time' | 'bytea' | 'interval'

/** Numeric codes of {@link PgBinaryType} for hot loops (index into this list). */
export const PG_BINARY_TYPES: readonly PgBinaryType[] = ['int2', 'int4', 'int8', 'float8', 'numeric', 'bool', 'text', 'jsonb', 'date', 'timestamp', 'time', 'bytea', 'interval']

/**
 * The binary form a PostgreSQL target column takes on the raw path, from its catalog entry
 * (main/connectors/postgres/types.ts), or undefined when the raw path writes it as COPY text.
 */
export function pgBinaryTypeOf(c: Column): PgBinaryType | undefined {
  const t = c.type
  const native = c.nativeType.toLowerCase()
  switch (t.kind) {
    case 'int':
      return t.bits === 16 ? 'int2' : t.bits === 32 ? 'int4' : t.bits === 64 ? 'int8' : undefined
    case 'float':
      return t.bits === 64 ? 'float8' : undefined
    case 'decimal':
      return native.startsWith('numeric') ? 'numeric' : undefined
    case 'bool':
      return 'bool'
    case 'string':
    case 'text':
    case 'enum':
      return 'text'
    case 'json':
      return t.binary ? 'jsonb' : 'text'
    case 'date':
      return 'date'
    case 'datetime':
      return 'timestamp'
    case 'time':
      return native.startsWith('time') && !native.includes('with time zone') ? 'time' : undefined
    case 'other':
      // interval (int64 microseconds, int32 days, int32 months): the target Sluice creates for a MySQL TIME.
      return /^interval(\(\d\))?$/.test(native) ? 'interval' : undefined
    case 'bytes':
      return 'bytea'
    default:
      return undefined
  }
}

/** The binary COPY header (signature, flags 0, no extension). */
export const COPY_BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
/** The binary COPY trailer (field count -1). */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff])

/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's date and timestamp epoch. */
export const PG_EPOCH_DAYS = 10957

const TWO26 = 67108864
const TWO32 = 4294967296

/**
 * Write int64 microseconds `sec * 1e6 + us` big-endian at `o` (exact for |sec| < 5.7e11, i.e.
 * any year 0..9999, where the product itself would exceed 2^53).
 */
export function putMicros(out: Buffer, o: number, sec: number, us: number): void {
  const a = sec * 15625 // sec * 1e6 = a * 64, and |a| < 2^53
  let hi = Math.floor(a / TWO26)
  let lo = (a - hi * TWO26) * 64 + us
  if (lo >= TWO32) {
    lo -= TWO32
    hi += 1
  }
  put32(out, o, hi)
  put32(out, o + 4, lo)
}

/** Big-endian 32 bits of `v` (a signed or unsigned 32-bit integer) at `o`. */
function put32(out: Buffer, o: number, v: number): void {
  out[o] = (v >>> 24) & 255
  out[o + 1] = (v >>> 16) & 255
  out[o + 2] = (v >>> 8) & 255
  out[o + 3] = v & 255
}

/** Big-endian 16 bits of `v` at `o`. */
function put16(out: Buffer, o: number, v: number): void {
  out[o] = (v >>> 8) & 255
  out[o + 1] = v & 255
}

/** Group scratch for {@link putNumericAscii} (DECIMAL(65,30) needs 19 groups). */
const GROUPS = new Uint16Array(64)

/**
 * Write a decimal number given as ASCII text `src[p, e)` (`[-+]digits[.digits]`, as MySQL prints
 * DECIMAL and integers) as a binary numeric field, length prefix included, at `o`. dscale is the
 * number of fraction digits of the text (`12.30` keeps scale 2). Returns the new offset, or -1
 * when the text is not such a number (nothing usable written).
 */
export function putNumericAscii(src: Uint8Array, p: number, e: number, out: Buffer, o: number): number {
  let neg = false
  if (src[p] === 45) {
    neg = true
    p++
  } else if (src[p] === 43) p++
  let dot = e
  for (let k = p; k < e; k++) {
    if (src[k] === 46) {
      dot = k
      break
    }
  }
  const nInt = dot - p
  const nFrac = dot < e ? e - dot - 1 : 0
  if (nInt + nFrac === 0 || nInt + nFrac > 4 * GROUPS.length - 8) return -1
  let g = 0
  let acc = 0
  let need = nInt % 4 || 4
  for (let k = p; k < dot; k++) {
    const d = src[k]! - 48
    if (d < 0 || d > 9) return -1
    acc = acc * 10 + d
    if (--need === 0) {
      GROUPS[g++] = acc
      acc = 0
      need = 4
    }
  }
  const intGroups = g
  let cnt = 0
  for (let k = dot + 1; k < e; k++) {
    const d = src[k]! - 48
    if (d < 0 || d > 9) return -1
    acc = acc * 10 + d
    if (++cnt === 4) {
      GROUPS[g++] = acc
      acc = 0
      cnt = 0
    }
  }
  if (cnt) {
    for (; cnt < 4; cnt++) acc *= 10
    GROUPS[g++] = acc
  }
  let weight = intGroups - 1
  let s = 0
  while (s < g && GROUPS[s] === 0) {
    s++
    weight--
  }
  let t = g
  while (t > s && GROUPS[t - 1] === 0) t--
  const nd = t - s
  if (nd === 0) {
    weight = 0
    neg = false
  }
  put32(out, o, 8 + 2 * nd)
  put16(out, o + 4, nd)
  put16(out, o + 6, weight)
  put16(out, o + 8, neg ? 0x4000 : 0)
  put16(out, o + 10, nFrac)
  o += 12
  for (let k = s; k < t; k++) {
    put16(out, o, GROUPS[k]!)
    o += 2
  }
  return o
}

/** The text of a binary numeric value `b[p, p + len)` with exactly dscale fraction digits. */
export function numericText(b: Buffer, p: number, len: number): string {
  if (len < 8) throw new Error('numeric: short value')
  const nd = b.readInt16BE(p)
  const weight = b.readInt16BE(p + 2)
  const sign = b.readUInt16BE(p + 4)
  const dscale = b.readInt16BE(p + 6)
  if (sign === 0xc000) return 'NaN'
  const digit = (i: number) => (i >= 0 && i < nd ? b.readUInt16BE(p + 8 + 2 * i) : 0)
  let s = ''
  if (weight < 0) s = '0'
  else for (let i = 0; i <= weight; i++) s += i === 0 ? String(digit(i)) : String(digit(i)).padStart(4, '0')
  if (dscale > 0) {
    let f = ''
    for (let i = weight + 1; f.length < dscale; i++) f += String(digit(i)).padStart(4, '0')
    s += '.' + f.slice(0, dscale)
  }
  return sign === 0x4000 ? '-' + s : s
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n
const pad4 = (n: number) => String(n).padStart(4, '0')

/** `YYYY-MM-DD` of a calendar date given as days since 1970-01-01 (proleptic Gregorian, years 1..9999). */
export function dateText(days1970: number, civil: (z: number) => [number, number, number]): string {
  const [y, m, d] = civil(days1970)
  return `${pad4(y)}-${pad2(m)}-${pad2(d)}`
}

/** `.ffffff` without trailing zeros, or '' for 0 microseconds. */
function fraction(us: number): string {
  if (!us) return ''
  return ('.' + String(us).padStart(6, '0')).replace(/0+$/, '')
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f]` (fraction zeros trimmed) of int64 microseconds since 2000-01-01.
 */
export function timestampText(micros: bigint, civil: (z: number) => [number, number, number]): string {
  let sec = micros / 1_000_000n
  let us = micros - sec * 1_000_000n
  if (us < 0n) {
    us += 1_000_000n
    sec -= 1n
  }
  const s = Number(sec)
  const days = Math.floor(s / 86400)
  const rest = s - days * 86400
  return `${dateText(days + PG_EPOCH_DAYS, civil)} ${pad2(Math.floor(rest / 3600))}:${pad2(Math.floor((rest % 3600) / 60))}:${pad2(rest % 60)}${fraction(Number(us))}`
}

/** `HH:MM:SS[.f]` (fraction zeros trimmed) of microseconds since midnight (0..86400e6). */
export function timeText(micros: number): string {
  const us = micros % 1_000_000
  const s = (micros - us) / 1_000_000
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}${fraction(us)}`
}

/**
 * `[-]HH:MM:SS[.f]` (fraction zeros trimmed, hours past 24 kept) of a signed number of
 * microseconds: a MySQL TIME's canonical text from an interval's time part.
 */
export function signedTimeText(micros: bigint): string {
  const neg = micros < 0n
  const a = neg ? -micros : micros
  const us = Number(a % 1_000_000n)
  const s = Number(a / 1_000_000n)
  return `${neg ? '-' : ''}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}${fraction(us)}`
}
