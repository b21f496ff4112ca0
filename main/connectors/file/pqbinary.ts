/**
 * Parquet column values -> PostgreSQL binary COPY tuples (main/connectors/pg-binary.ts), for the
 * file reader's raw path from Parquet into PostgreSQL (connector.ts readParquetRaw). It exists
 * for speed: the canonical path makes a JS value per field (a BigInt per INT64, a string per
 * text, a text per date and timestamp), then COPY text of it, which PostgreSQL parses again.
 *
 * Exactness: each value is written as the binary form of the value PostgreSQL would make of the
 * canonical path's text for it (parquet.ts readConv, then the writer's COPY text): the same
 * integer, the same double, the decimal's digits and scale, the UTF-8 bytes, the day or the
 * microsecond. Values the canonical path could spell differently or refuse are not encoded: the
 * batch is then marked refused and goes through the canonical path (a float that is NaN or
 * infinite, a date or timestamp outside years 1-9999).
 */
import type { LogicalType } from '../../core/types.js'
import { PG_EPOCH_DAYS, putNumericAscii, type PgBinaryType } from '../pg-binary.js'
import { decimalText, intFromBytes, type ParquetColumn } from './parquet.js'

type SchemaElement = import('hyparquet').SchemaElement

/** How a Parquet column's raw values (ParquetSource.readRawColumns) become one binary field. */
export const PqOp = { INT2: 0, INT4: 1, INT8: 2, INT_NUMERIC: 3, DEC_NUMERIC: 4, FLOAT8: 5, TEXT: 6, JSONB: 7, DATE: 8, TIMESTAMP: 9, BOOL: 10, BYTES: 11, TEXT_NUMERIC: 12 } as const

/** One column's op and, for decimals, the scale. */
export interface PqPlan {
  op: number
  scale: number
}

const isString = (k: LogicalType['kind']) => k === 'string' || k === 'text' || k === 'enum' || k === 'json'

/**
 * The op writing column `c` (its schema element `e`) into a target column of binary type `t`, or
 * undefined when there is none (the split then takes the canonical path).
 */
export function pqPlan(c: ParquetColumn, e: SchemaElement, t: PgBinaryType): PqPlan | undefined {
  const k = c.type.kind
  const lt = e.logical_type
  const ct = e.converted_type
  const isDec = ct === 'DECIMAL' || lt?.type === 'DECIMAL'
  const scale = isDec ? (lt?.type === 'DECIMAL' ? lt.scale : e.scale ?? 0) : 0
  switch (t) {
    case 'int2':
    case 'int4':
    case 'int8':
      if (k !== 'int' || isDec || (e.type !== 'INT32' && e.type !== 'INT64')) return undefined
      return { op: t === 'int2' ? PqOp.INT2 : t === 'int4' ? PqOp.INT4 : PqOp.INT8, scale: 0 }
    case 'numeric':
      if (isDec && k === 'decimal' && scale >= 0) return { op: PqOp.DEC_NUMERIC, scale }
      if (k === 'int' && !isDec && (e.type === 'INT32' || e.type === 'INT64')) return { op: PqOp.INT_NUMERIC, scale: 0 }
      // A decimal without precision (PostgreSQL's bare numeric) is written as its text.
      if (!isDec && (k === 'decimal' || isString(k)) && e.type === 'BYTE_ARRAY') return { op: PqOp.TEXT_NUMERIC, scale: 0 }
      return undefined
    case 'float8':
      return k === 'float' && (e.type === 'DOUBLE' || e.type === 'FLOAT') ? { op: PqOp.FLOAT8, scale: 0 } : undefined
    case 'text':
      return isString(k) && e.type === 'BYTE_ARRAY' ? { op: PqOp.TEXT, scale: 0 } : undefined
    case 'jsonb':
      return k === 'json' && e.type === 'BYTE_ARRAY' ? { op: PqOp.JSONB, scale: 0 } : undefined
    case 'date':
      return k === 'date' && e.type === 'INT32' && (ct === 'DATE' || lt?.type === 'DATE') ? { op: PqOp.DATE, scale: 0 } : undefined
    case 'timestamp': {
      // A TIMESTAMP not adjusted to UTC (kind datetime) in milli- or microseconds.
      const unit = lt?.type === 'TIMESTAMP' ? lt.unit : undefined
      return k === 'datetime' && e.type === 'INT64' && (unit === 'MILLIS' || unit === 'MICROS') ? { op: PqOp.TIMESTAMP, scale: 0 } : undefined
    }
    case 'bool':
      return k === 'bool' && e.type === 'BOOLEAN' ? { op: PqOp.BOOL, scale: 0 } : undefined
    case 'bytea':
      return k === 'bytes' && e.type === 'BYTE_ARRAY' ? { op: PqOp.BYTES, scale: 0 } : undefined
    default:
      return undefined
  }
}

/** Days (since 1970-01-01) of 0001-01-01 and 9999-12-31. */
const MIN_DAYS = -719162
const MAX_DAYS = 2932896
/** Microseconds (since 1970) of 0001-01-01 00:00:00 and of 9999-12-31 23:59:59.999999; PostgreSQL's epoch. */
const MIN_US = -62135596800000000n
const MAX_US = 253402300799999999n
const PG_EPOCH_US = 946684800000000n

/** Scratch for a decimal's text (putNumericAscii reads bytes). */
let scratch = Buffer.allocUnsafe(256)

/**
 * Encode rows [0, rows) of the raw column values (one array per written column, in write order;
 * null/undefined = NULL) as binary COPY tuples.
 * @returns the tuples, or undefined when a value has no exact binary form here (the batch then
 *   takes the canonical path).
 */
export function encodeParquetTuples(values: readonly unknown[][], rows: number, plans: readonly PqPlan[]): Buffer | undefined {
  const n = plans.length
  // Sizes: fixed-size fields exactly, byte arrays by their length.
  let size = 2 * rows
  for (let k = 0; k < n; k++) {
    const op = plans[k]!.op
    const col = values[k]!
    if (op === PqOp.TEXT || op === PqOp.JSONB || op === PqOp.BYTES) {
      for (let r = 0; r < rows; r++) {
        const v = col[r]
        size += 5 + (v instanceof Uint8Array ? v.length : typeof v === 'string' ? Buffer.byteLength(v) : 0)
      }
    } else size += rows * (op === PqOp.INT_NUMERIC || op === PqOp.DEC_NUMERIC || op === PqOp.TEXT_NUMERIC ? 12 + 2 * 64 : 12)
  }
  const out = Buffer.allocUnsafe(size)
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  let o = 0
  for (let r = 0; r < rows; r++) {
    dv.setInt16(o, n)
    o += 2
    for (let k = 0; k < n; k++) {
      const v = values[k]![r]
      if (v === null || v === undefined) {
        dv.setInt32(o, -1)
        o += 4
        continue
      }
      const p = plans[k]!
      switch (p.op) {
        case PqOp.INT2:
        case PqOp.INT4:
        case PqOp.INT8: {
          const x = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? v : undefined
          if (x === undefined) return undefined
          if (p.op === PqOp.INT8) {
            const b = typeof x === 'bigint' ? x : BigInt(x)
            if (b > 9223372036854775807n || b < -9223372036854775808n) return undefined
            dv.setInt32(o, 8)
            dv.setBigInt64(o + 4, b)
            o += 12
          } else {
            const y = Number(x)
            const max = p.op === PqOp.INT2 ? 32767 : 2147483647
            if (y > max || y < -max - 1) return undefined
            if (p.op === PqOp.INT2) {
              dv.setInt32(o, 2)
              dv.setInt16(o + 4, y)
              o += 6
            } else {
              dv.setInt32(o, 4)
              dv.setInt32(o + 4, y)
              o += 8
            }
          }
          break
        }
        case PqOp.INT_NUMERIC:
        case PqOp.DEC_NUMERIC: {
          let s: string
          if (p.op === PqOp.INT_NUMERIC) {
            if (typeof v !== 'bigint' && typeof v !== 'number') return undefined
            s = String(v)
          } else {
            const u = v instanceof Uint8Array ? intFromBytes(v) : typeof v === 'number' || typeof v === 'bigint' ? v : undefined
            if (u === undefined) return undefined
            s = decimalText(u, p.scale)
          }
          if (s.length > scratch.length) scratch = Buffer.allocUnsafe(2 * s.length)
          const len = scratch.write(s, 0, 'latin1')
          const e = putNumericAscii(scratch, 0, len, out, o)
          if (e < 0) return undefined
          o = e
          break
        }
        case PqOp.TEXT_NUMERIC: {
          // `[+-]digits[.digits]` as numeric_in reads it; NaN, exponents or blanks: canonical.
          if (!(v instanceof Uint8Array)) return undefined
          const e = putNumericAscii(v, 0, v.length, out, o)
          if (e < 0) return undefined
          o = e
          break
        }
        case PqOp.FLOAT8: {
          if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
          dv.setInt32(o, 8)
          dv.setFloat64(o + 4, v)
          o += 12
          break
        }
        case PqOp.TEXT:
        case PqOp.JSONB:
        case PqOp.BYTES: {
          const at = o
          o += 4
          if (p.op === PqOp.JSONB) out[o++] = 1
          if (v instanceof Uint8Array) {
            if (v.length < 32) for (let x = 0; x < v.length; x++) out[o++] = v[x]!
            else {
              out.set(v, o)
              o += v.length
            }
          } else if (typeof v === 'string' && p.op !== PqOp.BYTES) o += out.write(v, o, 'utf8')
          else return undefined
          dv.setInt32(at, o - at - 4)
          break
        }
        case PqOp.DATE: {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_DAYS || v > MAX_DAYS) return undefined
          dv.setInt32(o, 4)
          dv.setInt32(o + 4, v - PG_EPOCH_DAYS)
          o += 8
          break
        }
        case PqOp.TIMESTAMP: {
          if (typeof v !== 'bigint' || v < MIN_US || v > MAX_US) return undefined
          dv.setInt32(o, 8)
          dv.setBigInt64(o + 4, v - PG_EPOCH_US)
          o += 12
          break
        }
        case PqOp.BOOL: {
          if (typeof v !== 'boolean') return undefined
          dv.setInt32(o, 1)
          out[o + 4] = v ? 1 : 0
          o += 5
          break
        }
        default:
          return undefined
      }
    }
  }
  return out.subarray(0, o)
}
