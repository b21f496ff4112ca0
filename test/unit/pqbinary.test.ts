/**
 * Parquet values -> binary COPY tuples (main/connectors/file/pqbinary.ts): the values it has no
 * exact binary form for refuse the batch (undefined), so that the canonical path decides; the
 * plans accept only the column pairs whose binary value is the canonical one.
 */
import { describe, expect, it } from 'vitest'
import { encodeParquetTuples, pqPlan, PqOp } from '../../main/connectors/file/pqbinary.js'

const el = (e: Record<string, unknown>) => ({ name: 'c', ...e }) as never
const col = (type: Record<string, unknown>) => ({ name: 'c', type, nativeType: '' }) as never

describe('Parquet -> binary COPY tuples', () => {
  it('encodes each kind, NULL as length -1', () => {
    const plans = [PqOp.INT2, PqOp.INT8, PqOp.FLOAT8, PqOp.TEXT, PqOp.DATE, PqOp.TIMESTAMP, PqOp.BOOL, PqOp.DEC_NUMERIC].map((op) => ({ op, scale: op === PqOp.DEC_NUMERIC ? 2 : 0 }))
    const b = encodeParquetTuples([[-32768, null], [9007199254740993n, 1], [0.1, -0], [Buffer.from('ü'), new Uint8Array()], [10957, -719162], [946684800000001n, 0n], [true, false], [Uint8Array.of(0xff, 0x85), -12345n]], 2, plans)!
    expect(b.readInt16BE(0)).toBe(8)
    expect(b.readInt32BE(2)).toBe(2)
    expect(b.readInt16BE(6)).toBe(-32768)
    expect(b.readBigInt64BE(12)).toBe(9007199254740993n)
    expect(b.readDoubleBE(24)).toBe(0.1)
    expect(b.subarray(36, 38).toString('utf8')).toBe('ü')
    expect(b.readInt32BE(42)).toBe(0) // 2000-01-01: day 0 of PostgreSQL's epoch
    expect(b.readBigInt64BE(50)).toBe(1n) // 2000-01-01 00:00:00.000001
    expect(b[62]).toBe(1)
    // -123 / 10^2 = -1.23: numeric, 2 digits (1, 2300), weight 0, negative, scale 2.
    expect([...b.subarray(63, 63 + 16)]).toEqual([0, 0, 0, 12, 0, 2, 0, 0, 0x40, 0, 0, 2, 0, 1, 0x08, 0xfc])
    // Row 2 starts with the field count; its smallint is NULL.
    expect(b.readInt16BE(79)).toBe(8)
    expect(b.readInt32BE(81)).toBe(-1)
  })

  it('refuses what it has no exact form for: NaN and infinities, out-of-range integers, years outside 1-9999', () => {
    const one = (op: number, v: unknown) => encodeParquetTuples([[v]], 1, [{ op, scale: 0 }])
    expect(one(PqOp.FLOAT8, NaN)).toBeUndefined()
    expect(one(PqOp.FLOAT8, -Infinity)).toBeUndefined()
    expect(one(PqOp.INT2, 32768)).toBeUndefined()
    expect(one(PqOp.INT4, 2147483648n)).toBeUndefined()
    expect(one(PqOp.INT8, 9223372036854775808n)).toBeUndefined()
    expect(one(PqOp.DATE, -719163)).toBeUndefined()
    expect(one(PqOp.DATE, 2932897)).toBeUndefined()
    expect(one(PqOp.TIMESTAMP, 253402300800000000n)).toBeUndefined()
    expect(one(PqOp.TEXT_NUMERIC, Buffer.from('NaN'))).toBeUndefined()
    expect(one(PqOp.TEXT_NUMERIC, Buffer.from('1e5'))).toBeUndefined()
    expect(one(PqOp.TEXT_NUMERIC, Buffer.from('-1.50'))).toBeDefined()
    expect(one(PqOp.DATE, 2932896)).toBeDefined()
  })

  it('plans only pairs whose binary value is the canonical one', () => {
    expect(pqPlan(col({ kind: 'int', bits: 64 }), el({ type: 'INT64' }), 'int8')).toEqual({ op: PqOp.INT8, scale: 0 })
    expect(pqPlan(col({ kind: 'decimal', precision: 12, scale: 2 }), el({ type: 'FIXED_LEN_BYTE_ARRAY', converted_type: 'DECIMAL', scale: 2, precision: 12 }), 'numeric')).toEqual({ op: PqOp.DEC_NUMERIC, scale: 2 })
    expect(pqPlan(col({ kind: 'datetime', precision: 6 }), el({ type: 'INT64', logical_type: { type: 'TIMESTAMP', unit: 'NANOS', isAdjustedToUTC: false } }), 'timestamp')).toBeUndefined()
    expect(pqPlan(col({ kind: 'timestamptz', precision: 6 }), el({ type: 'INT64', logical_type: { type: 'TIMESTAMP', unit: 'MICROS', isAdjustedToUTC: true } }), 'timestamp')).toBeUndefined()
    expect(pqPlan(col({ kind: 'text' }), el({ type: 'BYTE_ARRAY' }), 'int4')).toBeUndefined()
    expect(pqPlan(col({ kind: 'datetime', precision: 6 }), el({ type: 'INT96' }), 'timestamp')).toBeUndefined()
    expect(pqPlan(col({ kind: 'bytes' }), el({ type: 'BYTE_ARRAY' }), 'text')).toBeUndefined()
  })
})
