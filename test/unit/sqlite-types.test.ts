import { describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import type { LogicalType } from '../../main/core/types.js'
import { affinityOf, nativeTypeFor, parseDeclaredType } from '../../main/connectors/sqlite/types.js'
import { decoderFor, doubleToDecimal, encoderFor, looksNumeric, padScale, significantDigits, ValueError } from '../../main/connectors/sqlite/values.js'
import { errorColumn } from '../../main/connectors/sqlite/write.js'

describe('SQLite affinity', () => {
  it('follows the five rules in order', () => {
    expect(affinityOf('INTEGER')).toBe('INTEGER')
    expect(affinityOf('BIGINT_TEXT UNSIGNED')).toBe('INTEGER') // "INT" wins over "TEXT": why we do not emit it
    expect(affinityOf('POINT')).toBe('INTEGER')
    expect(affinityOf('NVARCHAR(160)')).toBe('TEXT')
    expect(affinityOf('CLOB')).toBe('TEXT')
    expect(affinityOf('BLOB')).toBe('BLOB')
    expect(affinityOf('')).toBe('BLOB')
    expect(affinityOf(null)).toBe('BLOB')
    expect(affinityOf('DOUBLE PRECISION')).toBe('REAL')
    expect(affinityOf('FLOAT4')).toBe('REAL')
    expect(affinityOf('NUMERIC(10,2)')).toBe('NUMERIC')
    expect(affinityOf('DATETIME')).toBe('NUMERIC')
    expect(affinityOf('BOOLEAN')).toBe('NUMERIC')
  })

  it('matches what SQLite itself does (typeof after inserting text into each declared type)', () => {
    const db = new Database(':memory:')
    const decls = ['INTEGER', 'NVARCHAR(10)', 'BLOB', 'REAL', 'NUMERIC(10,2)', 'DATETIME', 'DECIMAL_TEXT(10,2)', 'UNSIGNED_BIG_TEXT', 'DATE_TEXT', 'JSON_TEXT', 'TIMESTAMPTZ_TEXT(6)', 'UUID_TEXT', 'BOOLEAN', 'YEAR']
    db.exec(`CREATE TABLE t (${decls.map((d, i) => `c${i} ${d}`).join(', ')})`)
    db.prepare(`INSERT INTO t VALUES (${decls.map(() => "'12'").join(', ')})`).run()
    const types = db.prepare(`SELECT ${decls.map((_, i) => `typeof(c${i})`).join(', ')} FROM t`).raw(true).get() as string[]
    const expected = decls.map((d) => ({ INTEGER: 'integer', TEXT: 'text', BLOB: 'text', REAL: 'real', NUMERIC: 'integer' })[affinityOf(d)])
    expect(types).toEqual(expected)
    db.close()
  })
})

describe('parseDeclaredType', () => {
  const cases: Array<[string, LogicalType]> = [
    ['INTEGER', { kind: 'int', bits: 64 }],
    ['int', { kind: 'int', bits: 64 }],
    ['BIGINT', { kind: 'int', bits: 64 }],
    ['TINYINT', { kind: 'int', bits: 8 }],
    ['SMALLINT UNSIGNED', { kind: 'int', bits: 16, unsigned: true }],
    ['MEDIUMINT', { kind: 'int', bits: 24 }],
    ['UNSIGNED BIG INT', { kind: 'int', bits: 64, unsigned: true }],
    ['UNSIGNED_BIG_TEXT', { kind: 'int', bits: 64, unsigned: true }],
    ['BIGINT_TEXT UNSIGNED', { kind: 'int', bits: 64, unsigned: true }],
    ['NUMERIC(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['DECIMAL(5)', { kind: 'decimal', precision: 5, scale: 0 }],
    ['NUMERIC', { kind: 'decimal' }],
    ['DECIMAL_TEXT(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
    ['REAL', { kind: 'float', bits: 64 }],
    ['DOUBLE', { kind: 'float', bits: 64 }],
    ['FLOAT', { kind: 'float', bits: 64 }],
    ['FLOAT4', { kind: 'float', bits: 32 }],
    ['BOOLEAN', { kind: 'bool' }],
    ['bool', { kind: 'bool' }],
    ['NVARCHAR(160)', { kind: 'string', length: 160 }],
    ['VARCHAR(20)', { kind: 'string', length: 20 }],
    ['CHARACTER VARYING(5)', { kind: 'string', length: 5 }],
    ['CHAR(3)', { kind: 'string', length: 3, fixed: true }],
    ['NCHAR(2)', { kind: 'string', length: 2, fixed: true }],
    ['TEXT', { kind: 'text' }],
    ['CLOB', { kind: 'text' }],
    ['BLOB', { kind: 'bytes' }],
    ['VARBINARY(16)', { kind: 'bytes', length: 16 }],
    ['DATE', { kind: 'date' }],
    ['DATE_TEXT', { kind: 'date' }],
    ['DATETIME', { kind: 'datetime' }],
    ['TIMESTAMP', { kind: 'datetime' }],
    ['DATETIME_TEXT(6)', { kind: 'datetime', precision: 6 }],
    ['TIMESTAMPTZ', { kind: 'timestamptz' }],
    ['TIMESTAMPTZ_TEXT(3)', { kind: 'timestamptz', precision: 3 }],
    ['TIME', { kind: 'time' }],
    ['TIME_TEXT(6)', { kind: 'time', precision: 6 }],
    ['JSON', { kind: 'json' }],
    ['JSON_TEXT', { kind: 'json' }],
    ['UUID', { kind: 'uuid' }],
    ['UUID_TEXT', { kind: 'uuid' }],
    ['YEAR', { kind: 'year' }],
    ['GEOMETRY', { kind: 'geometry', subtype: 'geometry' }],
    ['', { kind: 'other', native: '' }],
    ['INTERVAL', { kind: 'other', native: 'INTERVAL' }],
    // affinity fallbacks
    ['STRING', { kind: 'decimal' }],
    ['WHATEVERINT', { kind: 'int', bits: 64 }],
    ['MYTEXTTYPE', { kind: 'text' }],
    ['FLOATY', { kind: 'float', bits: 64 }],
  ]
  it.each(cases)('%s', (decl, expected) => {
    expect(parseDeclaredType(decl)).toEqual(expected)
  })
})

describe('nativeTypeFor', () => {
  const all: LogicalType[] = [
    { kind: 'bool' },
    { kind: 'int', bits: 8 },
    { kind: 'int', bits: 16, unsigned: true },
    { kind: 'int', bits: 24 },
    { kind: 'int', bits: 32 },
    { kind: 'int', bits: 64 },
    { kind: 'int', bits: 64, unsigned: true },
    { kind: 'decimal', precision: 38, scale: 10 },
    { kind: 'decimal' },
    { kind: 'float', bits: 64 },
    { kind: 'float', bits: 32 },
    { kind: 'string', length: 20 },
    { kind: 'string', length: 3, fixed: true },
    { kind: 'text' },
    { kind: 'bytes' },
    { kind: 'bytes', length: 16 },
    { kind: 'date' },
    { kind: 'time', precision: 6 },
    { kind: 'datetime', precision: 6 },
    { kind: 'datetime' },
    { kind: 'timestamptz', precision: 3 },
    { kind: 'json' },
    { kind: 'uuid' },
    { kind: 'year' },
  ]
  it('reads back as the same logical type (int32 widens to int64)', () => {
    for (const t of all) {
      const back = parseDeclaredType(nativeTypeFor(t).sql)
      if (t.kind === 'int' && t.bits === 32) expect(back).toEqual({ kind: 'int', bits: 64 })
      else expect(back, nativeTypeFor(t).sql).toEqual(t)
    }
  })
  it('gives TEXT affinity to every kind whose canonical value is text', () => {
    for (const t of all) {
      const sql = nativeTypeFor(t).sql
      const a = affinityOf(sql)
      if (t.kind === 'int' && !(t.bits === 64 && t.unsigned)) expect(a, sql).toBe('INTEGER')
      else if (t.kind === 'bool' || t.kind === 'year') expect(a, sql).toBe('NUMERIC')
      else if (t.kind === 'float') expect(a, sql).toBe('REAL')
      else if (t.kind === 'bytes') expect(['BLOB', 'NUMERIC']).toContain(a)
      else expect(a, sql).toBe('TEXT')
    }
  })
  it('names the exact declarations', () => {
    expect(nativeTypeFor({ kind: 'decimal', precision: 10, scale: 2 })).toEqual({ sql: 'DECIMAL_TEXT(10,2)' })
    expect(nativeTypeFor({ kind: 'int', bits: 64, unsigned: true })).toEqual({ sql: 'UNSIGNED_BIG_TEXT' })
    expect(nativeTypeFor({ kind: 'string', length: 40 })).toEqual({ sql: 'VARCHAR(40)' })
    expect(nativeTypeFor({ kind: 'date' })).toEqual({ sql: 'DATE_TEXT' })
    expect(nativeTypeFor({ kind: 'enum', values: ['a'] })).toEqual({ sql: 'TEXT' })
    expect(nativeTypeFor({ kind: 'set', values: ['a', 'b'] }).warning).toMatch(/SET\(a,b\) stored as TEXT/)
    expect(nativeTypeFor({ kind: 'geometry' })).toMatchObject({ sql: 'BLOB', warning: expect.stringMatching(/SRID \+ WKB/) })
    expect(nativeTypeFor({ kind: 'other', native: 'interval' })).toMatchObject({ sql: 'TEXT', warning: expect.stringMatching(/interval/) })
  })
})

describe('decimal text of doubles', () => {
  it('uses the shortest round-trip form, expanded and padded to the scale', () => {
    expect(doubleToDecimal(0.99, 2)).toBe('0.99')
    expect(doubleToDecimal(1.1, 2)).toBe('1.10')
    expect(doubleToDecimal(5, 2)).toBe('5.00')
    expect(doubleToDecimal(-0, 2)).toBe('0.00')
    expect(doubleToDecimal(1e-7)).toBe('0.0000001')
    expect(doubleToDecimal(-1.25e-8, 2)).toBe('-0.0000000125')
    expect(doubleToDecimal(1e21)).toBe('1000000000000000000000')
    expect(doubleToDecimal(1.5e22)).toBe('15000000000000000000000')
    expect(doubleToDecimal(0.1 + 0.2)).toBe('0.30000000000000004') // all the digits the double carries, never rounded
    expect(() => doubleToDecimal(NaN)).toThrow(RangeError)
    expect(padScale('12', 3)).toBe('12.000')
    expect(padScale('1.23456', 2)).toBe('1.23456')
    expect(significantDigits('0.10')).toBe(1)
    expect(significantDigits('-1234567890.12345')).toBe(15)
    expect(significantDigits('1000')).toBe(1)
    expect(significantDigits('0.000123')).toBe(3)
  })
})

describe('decoders', () => {
  it('converts stored values per kind and passes mismatched storage classes through', () => {
    const int = decoderFor({ kind: 'int', bits: 64 }, 'INTEGER')
    expect(int(5n)).toBe(5)
    expect(int(-9223372036854775808n)).toBe('-9223372036854775808')
    expect(int('abc')).toBe('abc')
    expect(int(2.5)).toBe(2.5)
    const u64 = decoderFor({ kind: 'int', bits: 64, unsigned: true }, 'TEXT')
    expect(u64('18446744073709551615')).toBe('18446744073709551615')
    expect(u64('42')).toBe(42)
    const dec = decoderFor({ kind: 'decimal', precision: 10, scale: 2 }, 'NUMERIC')
    expect(dec(0.99)).toBe('0.99')
    expect(dec(1.1)).toBe('1.10')
    expect(dec(7n)).toBe('7.00')
    expect(dec('0.10')).toBe('0.10')
    expect(dec(Infinity)).toBe(Infinity)
    const bool = decoderFor({ kind: 'bool' }, 'NUMERIC')
    expect([bool(1n), bool(0n), bool(2n)]).toEqual([true, false, 2])
    const dt = decoderFor({ kind: 'datetime' }, 'NUMERIC')
    expect(dt('2024-01-01 00:00:00')).toBe('2024-01-01 00:00:00')
    expect(dt(1704067200n)).toBe(1704067200) // unix time stays a number: no calendar guessed
    expect(dt(2n ** 60n)).toBe(2n ** 60n)
  })
})

describe('encoders', () => {
  const enc = (t: LogicalType, a: Parameters<typeof encoderFor>[1]) => encoderFor(t, a)
  const bad = (f: () => unknown, re: RegExp, code = 'SQLITE_MISMATCH') => {
    try {
      f()
    } catch (e) {
      expect(e).toBeInstanceOf(ValueError)
      expect((e as ValueError).message).toMatch(re)
      expect((e as ValueError).code).toBe(code)
      return
    }
    throw new Error('expected a ValueError')
  }
  it('binds integers as 64-bit, and beyond int64 only as text', () => {
    const i = enc({ kind: 'int', bits: 64 }, 'INTEGER')
    expect(i('-9223372036854775808')).toBe(-9223372036854775808n)
    expect(i(5)).toBe(5n)
    expect(i(true)).toBe(1n)
    bad(() => i('18446744073709551615'), /outside SQLite's 64-bit INTEGER range/, 'SQLITE_TOOBIG')
    bad(() => i('abc'), /'abc' is not an integer/)
    bad(() => i(1.5), /number 1.5 is not an integer/)
    const u = enc({ kind: 'int', bits: 64, unsigned: true }, 'TEXT')
    expect(u('18446744073709551615')).toBe('18446744073709551615')
    expect(u(7)).toBe('7')
  })
  it('binds decimals as exact text into TEXT affinity, and into NUMERIC only when they survive', () => {
    const t = enc({ kind: 'decimal', precision: 38, scale: 10 }, 'TEXT')
    expect(t('-1234567890123456789012345678.0123456789')).toBe('-1234567890123456789012345678.0123456789')
    expect(t('0.10')).toBe('0.10')
    bad(() => t('NaN'), /not a decimal number/)
    const n = enc({ kind: 'decimal', precision: 10, scale: 2 }, 'NUMERIC')
    expect(n('0.99')).toBe(0.99)
    expect(n('12')).toBe(12n)
    expect(n('12345678901234.5')).toBe(12345678901234.5)
    bad(() => n('123456789012345.6'), /16 significant digits/)
    bad(() => n('1234567890123456.7'), /17 significant digits; SQLite's NUMERIC affinity keeps only 15/)
  })
  it('refuses what SQLite would silently change', () => {
    bad(() => enc({ kind: 'float', bits: 64 }, 'REAL')(NaN), /stores a NaN as NULL/)
    expect(enc({ kind: 'float', bits: 64 }, 'REAL')(-Infinity)).toBe(-Infinity)
    bad(() => enc({ kind: 'date' }, 'NUMERIC')('20240101'), /would be stored as a number by SQLite's NUMERIC affinity/)
    expect(enc({ kind: 'date' }, 'NUMERIC')('2024-01-01')).toBe('2024-01-01')
    expect(enc({ kind: 'date' }, 'TEXT')('20240101')).toBe('20240101')
    bad(() => enc({ kind: 'json' }, 'NUMERIC')('1.50'), /stored as a number/)
    bad(() => enc({ kind: 'text' }, 'TEXT')(Buffer.from('x')), /1-byte binary value is not text/)
    bad(() => enc({ kind: 'bytes' }, 'BLOB')('x'), /not binary data/)
    expect(enc({ kind: 'text' }, 'TEXT')(12)).toBe('12')
    expect(enc({ kind: 'bool' }, 'NUMERIC')(false)).toBe(0n)
    bad(() => enc({ kind: 'bool' }, 'NUMERIC')(2), /not a boolean/)
    expect(looksNumeric(' 12 ')).toBe(true)
    expect(looksNumeric('1e5')).toBe(true)
    expect(looksNumeric('0x10')).toBe(false)
  })
})

describe('errorColumn', () => {
  it('finds the column SQLite names', () => {
    const cols = ['a', 'b', 'x.y']
    expect(errorColumn('NOT NULL constraint failed: t.a', cols)).toBe('a')
    expect(errorColumn('UNIQUE constraint failed: t.b, t.a', cols)).toBe('b')
    expect(errorColumn('cannot store TEXT value in INTEGER column t.a', cols)).toBe('a')
    expect(errorColumn('CHECK constraint failed: b', cols)).toBe('b')
    expect(errorColumn('NOT NULL constraint failed: t.x.y', cols)).toBe('x.y')
    expect(errorColumn('CHECK constraint failed: a > 0', cols)).toBeUndefined()
  })
})
