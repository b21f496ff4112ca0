import { describe, expect, it } from 'vitest'
import { encodeTsv, toWire, wireColumns } from '../../main/connectors/mysql/wire.js'
import { civilFromDays, daysFromCivil, SessionZone, timestampWithOffset, toZoneWallClock, canonicalBigint, bitBytes } from '../../main/connectors/mysql/values.js'
import type { Column } from '../../main/core/types.js'

const col = (name: string, type: Column['type'], nativeType: string): Column => ({ name, ordinal: 1, type, nativeType, nullable: true })
const utc = new SessionZone('+00:00')

describe('tsv encoder', () => {
  const cols = wireColumns([
    col('s', { kind: 'string', length: 50 }, 'varchar(50)'),
    col('b', { kind: 'bytes', maxBytes: 65535 }, 'blob'),
    col('f', { kind: 'bool' }, 'bit(1)'),
    col('t', { kind: 'datetime', precision: 6 }, 'datetime(6)'),
    col('n', { kind: 'int', bits: 64, unsigned: true }, 'bigint(20) unsigned'),
  ])
  it('escapes tab, newline, CR, backslash, NUL; NULL is \\N; binary as hex', () => {
    const enc = encodeTsv(
      [
        ['a\tb\nc\rd\\e\0f', Buffer.from([0, 9, 255]), true, '2024-01-01 05:30:00.5+05:30', 18446744073709551615n],
        ['', null, false, '2024-02-29 23:59:59.999999', '-1'],
        ['😀 中文 ü', Buffer.alloc(0), null, null, 12],
      ],
      cols,
      utc,
    )
    expect(enc.data.toString('utf8')).toBe(
      'a\\tb\\nc\\rd\\\\e\\0f\t0009ff\t01\t2024-01-01 00:00:00.5\t18446744073709551615\n' +
        '\t\\N\t00\t2024-02-29 23:59:59.999999\t-1\n' +
        '😀 中文 ü\t\t\\N\t\\N\t12\n',
    )
    expect(enc.included).toEqual([0, 1, 2])
    expect(enc.bad).toEqual([])
  })
  it('leaves out rows whose values cannot be converted, naming the column', () => {
    const enc = encodeTsv([['x', null, 256, null, 1], ['y', null, true, null, Number.NaN]], cols, utc)
    expect(enc.included).toEqual([])
    expect(enc.bad.map((b) => [b.index, b.error.column])).toEqual([[0, 'f'], [1, 'n']])
    expect(enc.data.length).toBe(0)
  })
  it('grows past its initial buffer', () => {
    const big = 'x'.repeat(100_000)
    const enc = encodeTsv([[big, null, null, null, null], [big, null, null, null, null]], cols, utc)
    expect(enc.data.length).toBe(2 * (100_000 + 4 + 4 * 2 + 1))
  })
})

describe('values', () => {
  it('civil date arithmetic round-trips 0001-01-01..9999-12-31', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0)
    expect(civilFromDays(daysFromCivil(1, 1, 1))).toEqual([1, 1, 1])
    expect(civilFromDays(daysFromCivil(9999, 12, 31))).toEqual([9999, 12, 31])
    expect(civilFromDays(daysFromCivil(2024, 2, 29))).toEqual([2024, 2, 29])
  })
  it('converts offsets exactly, keeping microseconds', () => {
    expect(toZoneWallClock('2024-01-01 00:10:00.000001+05:30', utc)).toBe('2023-12-31 18:40:00.000001')
    expect(toZoneWallClock('0001-01-01 00:00:00-01:00', utc)).toBe('0001-01-01 01:00:00')
    expect(toZoneWallClock('2024-03-01 00:00:00Z', new SessionZone('-08:00'))).toBe('2024-02-29 16:00:00')
    expect(toZoneWallClock('2024-07-01 12:00:00+00:00', new SessionZone('Europe/Paris'))).toBe('2024-07-01 14:00:00')
    expect(toZoneWallClock('2024-07-01 12:00:00', utc)).toBeUndefined()
  })
  it('renders TIMESTAMP with the session offset', () => {
    expect(timestampWithOffset('2024-01-01 00:00:00.123456', utc)).toBe('2024-01-01 00:00:00.123456+00:00')
    expect(timestampWithOffset('2024-01-01 00:00:00', new SessionZone('+05:30'))).toBe('2024-01-01 00:00:00+05:30')
    expect(timestampWithOffset('2024-07-01 14:00:00', new SessionZone('Europe/Paris'))).toBe('2024-07-01 14:00:00+02:00')
  })
  it('bigint canonical form', () => {
    expect(canonicalBigint('9007199254740991')).toBe(9007199254740991)
    expect(canonicalBigint('9007199254740993')).toBe('9007199254740993')
    expect(canonicalBigint('-9223372036854775808')).toBe('-9223372036854775808')
  })
  it('BIT bytes refuse values that do not fit', () => {
    expect(bitBytes(true, 1)).toEqual(Buffer.from([1]))
    expect(bitBytes(257, 9)).toEqual(Buffer.from([1, 1]))
    expect(() => bitBytes(65536, 16)).toThrow(/does not fit/)
  })
  it('toWire', () => {
    const [c] = wireColumns([col('x', { kind: 'int', bits: 8 }, 'tinyint(1)')])
    expect(toWire(true, c!, utc)).toBe('1')
    expect(toWire(12345678901234567890n, c!, utc)).toBe('12345678901234567890')
    expect(toWire(null, c!, utc)).toBeNull()
  })
})

describe('fractional seconds the column cannot keep', () => {
  const [dt0, dt3, tm0] = wireColumns([
    { name: 'dt0', ordinal: 1, type: { kind: 'datetime', precision: 0 }, nativeType: 'datetime', nullable: true },
    { name: 'dt3', ordinal: 2, type: { kind: 'datetime', precision: 3 }, nativeType: 'datetime(3)', nullable: true },
    { name: 'tm0', ordinal: 3, type: { kind: 'time', precision: 0 }, nativeType: 'time', nullable: true },
  ])
  const zone = { fixed: 0 } as never
  it('refuses values MySQL would silently round, naming the column', () => {
    expect(() => toWire('2024-02-29 23:59:59.999999', dt0!, zone)).toThrow(/dt0.*fractional-second/)
    expect(() => toWire('2024-02-29 23:59:59.1234', dt3!, zone)).toThrow(/dt3/)
    expect(() => toWire('10:00:00.5', tm0!, zone)).toThrow(/tm0/)
  })
  it('accepts values that fit, trailing zeros included', () => {
    expect(toWire('2024-02-29 23:59:59', dt0!, zone)).toBe('2024-02-29 23:59:59')
    expect(toWire('2024-02-29 23:59:59.000000', dt0!, zone)).toBe('2024-02-29 23:59:59.000000')
    expect(toWire('2024-02-29 23:59:59.120', dt3!, zone)).toBe('2024-02-29 23:59:59.120')
  })
})

import { makeTypeCast } from '../../main/connectors/mysql/values.js'
describe('DOUBLE parsing', () => {
  it('parses the server text correctly rounded (mysql2 alone was one ulp off)', () => {
    const cast = makeTypeCast(new SessionZone('+00:00'))
    const field = (text: string) => ({ type: 'DOUBLE', length: 22, string: () => text, buffer: () => Buffer.from(text) })
    expect(cast(field('91.57142857142857'), () => 91.57142857142856)).toBe(641 / 7)
    expect(cast(field('-1.7976931348623157e308'), () => 0)).toBe(-1.7976931348623157e308)
    expect(cast(field('5e-324'), () => 0)).toBe(5e-324)
  })
})
