/**
 * Canonical values -> what MySQL receives, for both write paths:
 * - {@link toWire} converts one value for one target column (the strict path binds the result);
 * - {@link encodeTsv} renders a batch as the LOAD DATA text the fast path streams.
 *
 * LOAD DATA format (MySQL manual, "LOAD DATA Statement", FIELDS/LINES defaults): fields end with
 * TAB, lines with LF, no enclosure, escape character `\`. NULL is `\N`; inside a field we escape
 * `\` `TAB` `LF` `CR` and NUL as `\\` `\t` `\n` `\r` `\0`, which LOAD DATA decodes back. The
 * statement says `CHARACTER SET utf8mb4`, so text is converted by the server into each column's
 * own charset (a character it cannot hold raises a warning, which sends the batch to the strict
 * path). Binary columns (BINARY/VARBINARY/BLOB/BIT/geometry) travel as hex and are decoded with
 * `UNHEX()` in the statement's SET clause, so their bytes never pass through a charset.
 */
import type { Column, Value } from '../../core/types.js'
import { isBinaryColumn, isBitColumn, parseNativeType } from './types.js'
import { bitBytes, hasOffset, type SessionZone, toZoneWallClock } from './values.js'

/** How a target column takes its values. */
export interface WireColumn {
  name: string
  /**
   * `text`: as text; `hex`: bytes (hex in LOAD DATA, Buffer when bound); `bit`: BIT(n) bytes;
   * `time`: DATETIME/TIMESTAMP (offsets converted); `int`: integer columns (a value with a
   * fraction is refused: MySQL and MariaDB round 12.3 and '12.3' to 12 without an error or a
   * warning, even in strict mode); `year`: YEAR (4 digits: MySQL reads the number or string `0`
   * as 2000 and only `0000` as the year 0).
   */
  mode: 'text' | 'hex' | 'bit' | 'time' | 'int' | 'year'
  bits: number
  /** Fractional-second digits the column keeps (DATETIME/TIMESTAMP/TIME), to refuse values it would round. */
  frac?: number
}

/** Classify target columns for the writer. */
export function wireColumns(cols: Column[]): WireColumn[] {
  return cols.map((c) => {
    if (isBitColumn(c)) return { name: c.name, mode: 'bit', bits: Number(parseNativeType(c.nativeType || 'bit(1)').args[0] ?? 1) }
    if (isBinaryColumn(c)) return { name: c.name, mode: 'hex', bits: 0 }
    if (c.type.kind === 'datetime' || c.type.kind === 'timestamptz') return { name: c.name, mode: 'time', bits: 0, frac: c.type.precision ?? 0 }
    if (c.type.kind === 'time') return { name: c.name, mode: 'text', bits: 0, frac: c.type.precision ?? 0 }
    if (c.type.kind === 'int') return { name: c.name, mode: 'int', bits: 0 }
    if (c.type.kind === 'year') return { name: c.name, mode: 'year', bits: 0 }
    return { name: c.name, mode: 'text', bits: 0 }
  })
}

/** A value that cannot be converted for its column; becomes a dirty row naming the column. */
export class ValueError extends Error {
  override name = 'ValueError'
  constructor(
    message: string,
    readonly column: string,
  ) {
    super(message)
  }
}

/**
 * Convert a canonical value for column `c`: NULL stays null; booleans become `1`/`0`; numbers and
 * bigints their exact decimal text (`String(n)` is the shortest round-trip form of a double);
 * timestamptz values going into DATETIME/TIMESTAMP become the session zone's wall clock
 * (microseconds kept); bytes stay Buffers; BIT values become their big-endian bytes.
 * @throws ValueError naming the column for a value that has no faithful form (NaN/Infinity,
 *   a BIT value out of range).
 */
export function toWire(v: Value, c: WireColumn, zone: SessionZone): string | Buffer | null {
  if (v === null || v === undefined) return null
  switch (c.mode) {
    case 'bit':
      try {
        return bitBytes(v, c.bits)
      } catch (e) {
        throw new ValueError(`column '${c.name}': ${(e as Error).message}`, c.name)
      }
    case 'hex':
      if (Buffer.isBuffer(v)) return v
      if (typeof v === 'string') return Buffer.from(v, 'utf8')
      break
    case 'time':
      if (typeof v === 'string' && hasOffset(v)) return checkFraction(toZoneWallClock(v, zone)!, c)
      break
    case 'int':
    case 'year': {
      if (typeof v === 'boolean' || typeof v === 'bigint') break
      const text = integerText(v, c)
      if (c.mode === 'int') return text
      // YEAR: the year 0 only as '0000' ('0' and 0 mean 2000); other years as their digits.
      return /^\d{1,3}$/.test(text) ? text.padStart(4, '0') : text
    }
  }
  switch (typeof v) {
    case 'string':
      return c.frac !== undefined ? checkFraction(v, c) : v
    case 'boolean':
      return v ? '1' : '0'
    case 'number':
      if (!Number.isFinite(v)) throw new ValueError(`column '${c.name}': ${v} cannot be stored in MySQL`, c.name)
      return Object.is(v, -0) ? '-0' : String(v)
    case 'bigint':
      return v.toString()
    default:
      return v as Buffer
  }
}

/**
 * The exact integer text of a value bound for an integer or YEAR column: a number must be an
 * integer, a string integer digits (a zero fraction, `12.00`, is exact and allowed).
 * @throws ValueError naming the column for a fraction (SQLite's dynamic typing lets a REAL like
 *   12.3 sit in an INTEGER column; MySQL would round it silently) or a non-numeric text.
 */
function integerText(v: string | number | Buffer, c: WireColumn): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : Number.isSafeInteger(v) ? String(v) : BigInt(v).toString()
    throw new ValueError(`column '${c.name}': ${v} is not an integer; MySQL would round it to ${Math.round(v)}`, c.name)
  }
  if (typeof v === 'string') {
    const m = /^\s*([+-]?\d+)(?:\.0*)?\s*$/.exec(v)
    if (m) return m[1]!
    throw new ValueError(`column '${c.name}': '${v.length > 40 ? `${v.slice(0, 40)}…` : v}' is not an integer; MySQL would round or truncate it`, c.name)
  }
  throw new ValueError(`column '${c.name}': bytes are not an integer`, c.name)
}

/**
 * MariaDB/MySQL drop (or round) fractional seconds beyond a column's precision without an error
 * or a warning, so the writer refuses such values itself: the row becomes a dirty record.
 */
function checkFraction(s: string, c: WireColumn): string {
  const dot = s.lastIndexOf('.')
  if (dot < 0) return s
  let end = s.length
  while (end > dot + 1 && (s.charCodeAt(end - 1) < 48 || s.charCodeAt(end - 1) > 57)) end-- // (no offset remains here; defensive)
  let last = end
  while (last > dot + 1 && s.charCodeAt(last - 1) === 48) last--
  if (last - dot - 1 > (c.frac ?? 6)) throw new ValueError(`column '${c.name}': '${s}' has more fractional-second digits than the column keeps (${c.frac ?? 0}); it would be rounded`, c.name)
  return s
}

const ESC = /[\t\n\r\\\0]/
const ESC_G = /[\t\n\r\\\0]/g
const ESC_MAP: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\', '\0': '\\0' }
const escChar = (ch: string) => ESC_MAP[ch]!

/** A growable output buffer. */
class Out {
  buf: Buffer
  pos = 0
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const nb = Buffer.allocUnsafe(size)
    this.buf.copy(nb, 0, 0, this.pos)
    this.buf = nb
  }
  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }
  text(s: string): void {
    this.ensure(s.length * 3)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }
  latin1(s: string): void {
    this.ensure(s.length)
    this.pos += this.buf.write(s, this.pos, 'latin1')
  }
  /** Raw bytes with LOAD DATA escaping. */
  escapedBytes(b: Buffer): void {
    this.ensure(b.length * 2)
    const o = this.buf
    let p = this.pos
    for (let i = 0; i < b.length; i++) {
      const x = b[i]!
      if (x === 9) (o[p++] = 92), (o[p++] = 116)
      else if (x === 10) (o[p++] = 92), (o[p++] = 110)
      else if (x === 13) (o[p++] = 92), (o[p++] = 114)
      else if (x === 92) (o[p++] = 92), (o[p++] = 92)
      else if (x === 0) (o[p++] = 92), (o[p++] = 48)
      else o[p++] = x
    }
    this.pos = p
  }
}

/** Result of {@link encodeTsv}: the LOAD DATA payload and rows left out because a value could not be converted. */
export interface TsvBatch {
  data: Buffer
  /** Batch indices of the rows in `data`, in order. */
  included: number[]
  /** Rows left out, with the conversion error. */
  bad: Array<{ index: number; error: ValueError }>
}

/**
 * Encode rows (values in `cols` order) as LOAD DATA text. One pass into one growing Buffer; text
 * without special characters is written straight from the JS string (no per-value Buffer).
 */
export function encodeTsv(rows: Value[][], cols: WireColumn[], zone: SessionZone): TsvBatch {
  const out = new Out(64 * 1024)
  const included: number[] = []
  const bad: TsvBatch['bad'] = []
  const n = cols.length
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const start = out.pos
    try {
      for (let i = 0; i < n; i++) {
        if (i > 0) out.byte(9)
        const c = cols[i]!
        let v: Value | undefined = row[i]
        if (v === null || v === undefined) {
          out.byte(92)
          out.byte(78)
          continue
        }
        if (c.mode !== 'text' || typeof v !== 'string') v = toWire(v, c, zone)
        if (v === null) {
          out.byte(92)
          out.byte(78)
          continue
        }
        if (typeof v === 'string') {
          if (c.mode === 'hex') out.latin1(Buffer.from(v, 'utf8').toString('hex'))
          else if (ESC.test(v)) out.text(v.replace(ESC_G, escChar))
          else out.text(v)
        } else if (c.mode === 'hex' || c.mode === 'bit') {
          out.latin1((v as Buffer).toString('hex'))
        } else {
          out.escapedBytes(v as Buffer)
        }
      }
      out.byte(10)
      included.push(r)
    } catch (e) {
      if (!(e instanceof ValueError)) throw e
      out.pos = start
      bad.push({ index: r, error: e })
    }
  }
  return { data: out.buf.subarray(0, out.pos), included, bad }
}
