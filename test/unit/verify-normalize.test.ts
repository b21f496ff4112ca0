/**
 * Pure parts of verification: column pairing, canonical texts, row text and hash, the config
 * schema, key ordering and the CLI's output lines.
 */
import { describe, expect, it } from 'vitest'
import { decimalText, datetimeText, floatText, normalizeValue, planColumn, rowHashHex, rowText, timeText } from '../../main/verify/normalize.js'
import { VerifyConfigSchema } from '../../main/verify/index.js'
import { compareKeys } from '../../main/verify/hashdiff.js'
import { diffLines, formatKey, parseTableArg, statsLine } from '../../main/verify/cli.js'
import { keyKindOf } from '../../main/verify/side.js'

describe('planColumn', () => {
  it('pairs logical types into one normalization', () => {
    expect(planColumn({ kind: 'int', bits: 8 }, { kind: 'bool' })).toEqual({ kind: 'int' })
    expect(planColumn({ kind: 'decimal', precision: 10, scale: 2 }, { kind: 'decimal', precision: 12, scale: 4 })).toEqual({ kind: 'decimal', scale: 4 })
    expect(planColumn({ kind: 'decimal', precision: 10, scale: 2 }, { kind: 'int', bits: 32 })).toEqual({ kind: 'decimal', scale: 2 })
    expect(planColumn({ kind: 'decimal', precision: 10, scale: 2 }, { kind: 'decimal' })).toEqual({ kind: 'decimal' })
    expect(planColumn({ kind: 'float', bits: 64 }, { kind: 'float', bits: 64 })).toEqual({ kind: 'float', digits: 15 })
    expect(planColumn({ kind: 'float', bits: 32 }, { kind: 'float', bits: 64 })).toEqual({ kind: 'float', digits: 9 })
    expect(planColumn({ kind: 'decimal', precision: 10, scale: 2 }, { kind: 'float', bits: 64 })).toEqual({ kind: 'float', digits: 15 })
    expect(planColumn({ kind: 'timestamptz' }, { kind: 'datetime' })).toEqual({ kind: 'datetime' })
    expect(planColumn({ kind: 'date' }, { kind: 'date' })).toEqual({ kind: 'date' })
    expect(planColumn({ kind: 'date' }, { kind: 'datetime' })).toEqual({ kind: 'datetime' })
    expect(planColumn({ kind: 'bytes' }, { kind: 'geometry' })).toEqual({ kind: 'bytes' })
    expect(planColumn({ kind: 'uuid' }, { kind: 'string', length: 36, fixed: true })).toEqual({ kind: 'uuid' })
    expect(planColumn({ kind: 'json' }, { kind: 'json', binary: true })).toEqual({ kind: 'text' })
    expect(planColumn({ kind: 'enum', values: ['a'] }, { kind: 'text' })).toEqual({ kind: 'text' })
  })
})

describe('canonical texts', () => {
  it('floats: rounded to 15 (or 6) significant digits, one spelling for NaN, infinities and zero', () => {
    expect(floatText(0.1 + 0.2)).toBe('300000000000000e-1')
    expect(floatText(0.3)).toBe('300000000000000e-1')
    expect(floatText(-1 / 3)).toBe('-333333333333333e-1')
    expect(floatText(1e20)).toBe('100000000000000e20')
    expect(floatText(999.9999999999999)).toBe('100000000000000e3')
    expect(floatText(1000)).toBe('100000000000000e3')
    expect(floatText(5e-300)).toBe('500000000000000e-300')
    expect(floatText(-0)).toBe('0')
    expect(floatText(NaN)).toBe('NaN')
    expect(floatText(-Infinity)).toBe('-Infinity')
    expect(floatText(Math.fround(3.14), 6)).toBe('314000e0')
    expect(floatText(3.14, 6)).toBe('314000e0')
    expect(floatText(5.714285714285714)).not.toBe(floatText(5.714285714285714 * (1 + 1e-13)))
  })

  it('decimals: exact, at the scale asked, or trimmed', () => {
    expect(decimalText('1.5', 4)).toBe('1.5000')
    expect(decimalText('001.50', 2)).toBe('1.50')
    expect(decimalText('-0.00', 2)).toBe('0.00')
    expect(decimalText('12.3400', undefined)).toBe('12.34')
    expect(decimalText('100', undefined)).toBe('100')
    expect(decimalText('1.505', 2)).toBe('1.505')
    expect(decimalText('1.5000', 2)).toBe('1.50')
    // SQLite stores Chinook's NUMERIC(10,2) prices as REAL 0.99.
    expect(normalizeValue({ kind: 'decimal', scale: 2 }, 0.99)).toBe('0.99')
    expect(normalizeValue({ kind: 'decimal', scale: 4 }, 99999999.9999)).toBe('99999999.9999')
    expect(normalizeValue({ kind: 'decimal', scale: 2 }, 7n)).toBe('7.00')
    expect(normalizeValue({ kind: 'decimal' }, 1e21)).toBe('1000000000000000000000')
    expect(normalizeValue({ kind: 'decimal' }, 1.5e-7)).toBe('0.00000015')
  })

  it('integers and booleans as digits', () => {
    expect(normalizeValue({ kind: 'int' }, true)).toBe('1')
    expect(normalizeValue({ kind: 'int' }, 0n)).toBe('0')
    expect(normalizeValue({ kind: 'int' }, '-9223372036854775808')).toBe('-9223372036854775808')
    expect(normalizeValue({ kind: 'int' }, 42)).toBe('42')
  })

  it('datetimes with 6 fraction digits, offsets converted to UTC', () => {
    expect(datetimeText('2020-01-01 10:00:00')).toBe('2020-01-01 10:00:00.000000')
    expect(datetimeText('2020-01-01T10:00:00.5')).toBe('2020-01-01 10:00:00.500000')
    expect(datetimeText('2020-01-01 01:30:00.123456+05:30')).toBe('2019-12-31 20:00:00.123456')
    expect(datetimeText('2020-01-01 10:00:00.000001Z')).toBe('2020-01-01 10:00:00.000001')
    expect(datetimeText('2020-01-01')).toBe('2020-01-01 00:00:00.000000')
    expect(normalizeValue({ kind: 'date' }, '2020-02-29 00:00:00')).toBe('2020-02-29')
    expect(timeText('-838:59:59')).toBe('-838:59:59.000000')
    expect(timeText('1:02:03.4')).toBe('01:02:03.400000')
  })

  it('bytes as lower-case hex, text as is', () => {
    expect(normalizeValue({ kind: 'bytes' }, Buffer.from([0, 171, 255]))).toBe('00abff')
    expect(normalizeValue({ kind: 'text' }, 'a  ')).toBe('a  ')
    expect(normalizeValue({ kind: 'text' }, null)).toBeNull()
  })

  it('row text keeps column boundaries and NULL apart from every text', () => {
    expect(rowText(['ab', 'c'])).not.toBe(rowText(['a', 'bc']))
    expect(rowText([null])).not.toBe(rowText(['']))
    expect(rowText([null])).not.toBe(rowText(['~']))
    expect(rowText(['ü', null, ''])).toBe('2:ü|~|0:')
    // The same 60 bits MySQL's CONV(SUBSTRING(MD5('abc'), 18), 16, 10) and PostgreSQL's bit(60) cast give.
    expect(rowHashHex('abc')).toBe('6963f7d28e17f72')
    expect(BigInt('0x' + rowHashHex('abc'))).toBe(474636617523494770n)
  })
})

describe('VerifyConfig', () => {
  it('has data-diff defaults and snake_case names', () => {
    expect(VerifyConfigSchema.parse({})).toEqual({ algorithm: 'md5diff', limit: 1000, threads: 1, bisection_threshold: 16384, bisection_factor: 32, verbose: false })
    expect(VerifyConfigSchema.safeParse({ limit: 1001 }).success).toBe(false)
    expect(VerifyConfigSchema.safeParse({ keyColumns: ['id'] }).success).toBe(false)
    expect(VerifyConfigSchema.safeParse({ bisection_factor: 40, bisection_threshold: 40 }).success).toBe(false)
    expect(VerifyConfigSchema.parse({ algorithm: 'hashdiff', key_columns: ['a', 'b'], extra_columns: ['c'] })).toMatchObject({ key_columns: ['a', 'b'], extra_columns: ['c'] })
  })
})

describe('keys and output', () => {
  it('orders keys numerically, then as text, NULL first', () => {
    const keys = [[10], [9], ['100'], [null], ['b'], ['B']]
    expect([...keys].sort(compareKeys)).toEqual([[null], [9], [10], ['100'], ['B'], ['b']])
    expect(compareKeys(['eu', 2], ['eu', 10])).toBeLessThan(0)
  })

  it('refuses keys that cannot be cut into ranges', () => {
    expect(keyKindOf('id', { kind: 'int', bits: 64 }, { kind: 'decimal', precision: 20, scale: 0 })).toBe('int')
    expect(keyKindOf('k', { kind: 'string', length: 10 }, { kind: 'text' })).toBe('string')
    expect(() => keyKindOf('f', { kind: 'float', bits: 64 }, { kind: 'float', bits: 64 })).toThrow('verify: key column f: cannot cut key ranges on float vs float')
  })

  it('prints data-diff style lines and a stats line', () => {
    expect(formatKey([1])).toBe('1')
    expect(formatKey(['eu', 7])).toBe('("eu", 7)')
    expect(parseTableArg('public.t')).toEqual({ schema: 'public', name: 't' })
    expect(diffLines({ onlyInSource: [[3]], onlyInTarget: [[1]], changed: [[2]] })).toEqual(['+ 1', '- 2', '+ 2', '- 3'])
    const stats = { columns: 3, segmentsChecked: 9, segmentsDownloaded: 2, rowsDownloaded: 100, maxLevel: 1, queries: 22, truncated: false }
    expect(statsLine({ algorithm: 'hashdiff', consistent: false, sourceRows: 10, targetRows: 11, onlyInSource: [], onlyInTarget: [[1]], changed: [], elapsedMs: 1234, stats, filters: {} })).toBe(
      'hashdiff: NOT consistent; 10 source rows, 11 target rows; 0 only in source, 1 only in target, 0 changed; 9 segments checked, 2 downloaded (100 rows), 3 columns; 1.23 s',
    )
  })
})
