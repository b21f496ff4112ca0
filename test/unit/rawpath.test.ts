/**
 * Which column pairs may take the raw path (main/engine/rawpath.ts): only those where the wire
 * text is what the canonical path would write, or the target reads both as the same value.
 */
import { describe, expect, it } from 'vitest'
import type { Column, LogicalType } from '../../main/core/types.js'
import { rawEligible } from '../../main/engine/rawpath.js'
import { rawColumnPlan } from '../../main/connectors/mysql/rawread.js'
import { boolsAsDigits, hasForeignEscape } from '../../main/connectors/mysql/write.js'
import type { MapOp } from '../../main/engine/mapping.js'
import { checkField, FieldCheck } from '../../main/connectors/file/rawread.js'
import { copyToDelimited, rawDialect, RawFieldOp } from '../../main/connectors/file/rawtext.js'

const col = (type: LogicalType, nativeType = ''): Column => ({ name: 'c', ordinal: 1, type, nativeType, nullable: true })
const op = (sourceType: LogicalType, extra: Partial<Extract<MapOp, { kind: 'column' }>> = {}): MapOp => ({ kind: 'column', index: 0, sourceName: 'c', targetName: 'c', sourceType, ...extra })
const one = (from: 'mysql' | 'postgres', to: 'mysql' | 'postgres', src: LogicalType, tgt: Column, extra = {}) => rawEligible(from, to, { ops: [op(src, extra)], sourceWidth: 1, targets: [tgt] })

describe('rawEligible', () => {
  const f = (from: 'mysql' | 'postgres' | 'file' | 's3', to: 'mysql' | 'postgres' | 'file' | 'sftp', src: LogicalType, tgt: Column, names?: string[]) =>
    rawEligible(from, to, { ops: [op(src)], sourceWidth: names?.length ?? 1, targets: [tgt], ...(names ? { sourceNames: names } : {}) })

  it('MySQL / PostgreSQL -> delimited text files', () => {
    expect(f('mysql', 'file', { kind: 'int', bits: 64 }, col({ kind: 'int', bits: 64 }, 'bigint(20)'))).toBe(true)
    expect(f('mysql', 'sftp', { kind: 'datetime', precision: 3 }, col({ kind: 'datetime', precision: 3 }))).toBe(true)
    expect(f('mysql', 'file', { kind: 'float', bits: 32 }, col({ kind: 'float', bits: 32 }))).toBe(true)
    // TIMESTAMP: the reader's text plus the session's fixed offset (RawFieldOp.TIMESTAMPTZ).
    expect(f('mysql', 'file', { kind: 'timestamptz', precision: 0 }, col({ kind: 'timestamptz', precision: 0 }))).toBe(true)
    // ZEROFILL (padded text past 2^53), BIT(1) booleans: canonical.
    expect(f('mysql', 'file', { kind: 'int', bits: 64 }, col({ kind: 'int', bits: 64 }, 'bigint(22) unsigned zerofill'))).toMatch(/no raw spelling/)
    expect(f('mysql', 'file', { kind: 'bool' }, col({ kind: 'bool' }))).toMatch(/no raw spelling/)
    expect(f('postgres', 'file', { kind: 'bool' }, col({ kind: 'bool' }))).toBe(true)
    expect(f('postgres', 'file', { kind: 'float', bits: 32 }, col({ kind: 'float', bits: 32 }))).toMatch(/no raw spelling/)
    expect(f('postgres', 'file', { kind: 'timestamptz', precision: 6 }, col({ kind: 'timestamptz', precision: 6 }))).toMatch(/no raw spelling/)
    expect(f('postgres', 'file', { kind: 'string' }, col({ kind: 'text' }))).toMatch(/no raw spelling/)
  })

  it('delimited text files -> PostgreSQL', () => {
    // An untyped column adopts the target's type; the hidden @ columns after the mapped ones are not rows.
    expect(f('file', 'postgres', { kind: 'int', bits: 32 }, col({ kind: 'int', bits: 32 }), ['c', '@file', '@line', '@error'])).toBe(true)
    expect(f('s3', 'postgres', { kind: 'datetime', precision: 6 }, col({ kind: 'datetime', precision: 6 }), ['c', '@file', '@line', '@error'])).toBe(true)
    expect(f('file', 'postgres', { kind: 'text' }, col({ kind: 'int', bits: 32 }), ['c', '@file', '@line', '@error'])).toBe(true)
    expect(f('file', 'postgres', { kind: 'int', bits: 32 }, col({ kind: 'int', bits: 32 }), ['c', 'name', '@file'])).toMatch(/one target column per source column/)
    expect(f('file', 'postgres', { kind: 'bytes' }, col({ kind: 'bytes' }), ['c', '@file'])).toMatch(/no raw spelling/)
    expect(f('file', 'postgres', { kind: 'bool' }, col({ kind: 'bool' }), ['c', '@file'])).toMatch(/no raw spelling/)
    expect(f('file', 'postgres', { kind: 'float', bits: 32 }, col({ kind: 'float', bits: 32 }), ['c', '@file'])).toMatch(/no raw spelling/)
    expect(f('file', 'file' as never, { kind: 'text' }, col({ kind: 'text' }), ['c', '@file'])).toMatch(/no raw path/)
  })

  it('delimited text files -> MySQL', () => {
    const n = ['c', '@file', '@line', '@error']
    expect(f('file', 'mysql', { kind: 'int', bits: 64, unsigned: true }, col({ kind: 'int', bits: 64, unsigned: true }, 'bigint(20) unsigned'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'decimal', precision: 38, scale: 10 }, col({ kind: 'decimal', precision: 38, scale: 10 }, 'decimal(38,10)'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'float', bits: 64 }, col({ kind: 'float', bits: 64 }, 'double'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'date' }, col({ kind: 'date' }, 'date'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'json' }, col({ kind: 'json' }, 'json'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'text' }, col({ kind: 'string', length: 20 }, 'varchar(20)'), n)).toBe(true)
    // DATETIME(p): only when the source's fraction digits fit p (MySQL rounds silently).
    expect(f('file', 'mysql', { kind: 'datetime', precision: 6 }, col({ kind: 'datetime', precision: 6 }, 'datetime(6)'), n)).toBe(true)
    expect(f('file', 'mysql', { kind: 'datetime', precision: 6 }, col({ kind: 'datetime', precision: 3 }, 'datetime(3)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'datetime' }, col({ kind: 'datetime' }, 'datetime'), n)).toMatch(/no raw spelling/)
    // A declared text column into an integer or time column: the canonical writer checks the text.
    expect(f('file', 'mysql', { kind: 'text' }, col({ kind: 'int', bits: 32 }, 'int(11)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'text' }, col({ kind: 'datetime', precision: 6 }, 'datetime(6)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'float', bits: 64 }, col({ kind: 'float', bits: 64 }, 'double(10,2)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'float', bits: 32 }, col({ kind: 'float', bits: 32 }, 'float'), n)).toMatch(/no raw spelling/)
    for (const k of ['time', 'timestamptz'] as const) expect(f('file', 'mysql', { kind: k, precision: 6 }, col({ kind: k, precision: 6 }), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'year' }, col({ kind: 'year' }, 'year(4)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'bool' }, col({ kind: 'bool' }, 'bit(1)'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'text' }, col({ kind: 'bytes' }, 'blob'), n)).toMatch(/no raw spelling/)
    expect(f('file', 'mysql', { kind: 'string' }, col({ kind: 'string' }, 'varbinary(10)'), n)).toMatch(/no raw spelling/)
  })

  it('MySQL -> PostgreSQL', () => {
    expect(one('mysql', 'postgres', { kind: 'int', bits: 64, unsigned: true }, col({ kind: 'decimal', precision: 20, scale: 0 }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'decimal', precision: 12, scale: 2 }, col({ kind: 'text' }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'string', length: 10 }, col({ kind: 'string', length: 10 }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'datetime', precision: 3 }, col({ kind: 'datetime', precision: 3 }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'float', bits: 64 }, col({ kind: 'float', bits: 64 }))).toBe(true)
    // ZEROFILL text would differ in a text column; zero dates would land in a text column.
    expect(one('mysql', 'postgres', { kind: 'int', bits: 32 }, col({ kind: 'text' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'date' }, col({ kind: 'text' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'float', bits: 64 }, col({ kind: 'float', bits: 32 }))).toMatch(/no raw spelling/)
    // TIMESTAMP carries the session offset; binary data goes as bytea hex, only into bytea.
    expect(one('mysql', 'postgres', { kind: 'timestamptz', precision: 0 }, col({ kind: 'timestamptz' }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'timestamptz', precision: 0 }, col({ kind: 'text' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'bytes' }, col({ kind: 'bytes' }))).toBe(true)
    expect(one('mysql', 'postgres', { kind: 'bytes' }, col({ kind: 'text' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'string' }, col({ kind: 'bytes' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'bool' }, col({ kind: 'bool' }))).toMatch(/no raw spelling/)
    expect(one('mysql', 'postgres', { kind: 'string' }, col({ kind: 'text' }), { nullDefault: 'x' })).toMatch(/transform/)
    expect(one('mysql', 'sqlite' as never, { kind: 'string' }, col({ kind: 'text' }))).toMatch(/no raw path/)
  })

  it('PostgreSQL -> MySQL', () => {
    expect(one('postgres', 'mysql', { kind: 'int', bits: 64 }, col({ kind: 'int', bits: 64 }, 'bigint'))).toBe(true)
    expect(one('postgres', 'mysql', { kind: 'datetime', precision: 3 }, col({ kind: 'datetime', precision: 3 }, 'datetime(3)'))).toBe(true)
    expect(one('postgres', 'mysql', { kind: 'text' }, col({ kind: 'text' }, 'longtext'))).toBe(true)
    // MySQL would round the extra digits silently; text into DATETIME goes through offset checks.
    expect(one('postgres', 'mysql', { kind: 'datetime', precision: 6 }, col({ kind: 'datetime', precision: 3 }, 'datetime(3)'))).toMatch(/no raw spelling/)
    expect(one('postgres', 'mysql', { kind: 'datetime' }, col({ kind: 'datetime', precision: 0 }, 'datetime'))).toMatch(/no raw spelling/)
    expect(one('postgres', 'mysql', { kind: 'text' }, col({ kind: 'datetime', precision: 6 }, 'datetime(6)'))).toMatch(/no raw spelling/)
    // t / f are spelled 1 / 0 by the MySQL writer (boolsAsDigits).
    expect(one('postgres', 'mysql', { kind: 'bool' }, col({ kind: 'int', bits: 8 }, 'tinyint(1)'))).toBe(true)
    expect(one('postgres', 'mysql', { kind: 'bool' }, col({ kind: 'bool' }, 'bit(1)'))).toMatch(/no raw spelling/)
    expect(one('postgres', 'mysql', { kind: 'text' }, col({ kind: 'bytes' }, 'blob'))).toMatch(/no raw spelling/)
    expect(one('postgres', 'mysql', { kind: 'timestamptz' }, col({ kind: 'datetime', precision: 6 }, 'datetime(6)'))).toMatch(/no raw spelling/)
  })

  it('needs one plain copy per source column in order', () => {
    const t = col({ kind: 'text' }, 'text')
    expect(rawEligible('postgres', 'mysql', { ops: [op({ kind: 'text' })], sourceWidth: 2, targets: [t] })).toMatch(/one target column per source column/)
    expect(rawEligible('postgres', 'mysql', { ops: [{ kind: 'constant', value: 1, targetName: 'c' }], sourceWidth: 1, targets: [t] })).toMatch(/not source column/)
  })
})

describe('MySQL rawColumnPlan', () => {
  const f = (columnType: number, characterSet = 45) => ({ name: 'c', columnType, characterSet, decimals: 0, flags: 0 })
  it('spells each protocol type, or says why not', () => {
    expect(rawColumnPlan(f(8))).toEqual({ copy: 0, kind: 'text', fix: 1 })
    expect(rawColumnPlan(f(253))).toEqual({ copy: 1, kind: 'text', fix: 0 })
    expect(rawColumnPlan(f(252, 63))).toEqual({ copy: 2, kind: 'bytea', fix: 0 })
    expect(rawColumnPlan(f(245, 63))).toEqual({ copy: 1, kind: 'text', fix: 0 })
    // TIMESTAMP needs a fixed session offset (an IANA zone's offset varies per value).
    expect(rawColumnPlan(f(7), { fixedOffset: '+00:00' })).toEqual({ copy: 3, kind: 'text', fix: 3 })
    expect(rawColumnPlan(f(7))).toMatch(/not a fixed offset/)
    expect(rawColumnPlan(f(16))).toMatch(/protocol type 16/)
    expect(rawColumnPlan(f(255))).toMatch(/protocol type 255/)
  })
})

describe('file raw helpers', () => {
  const b = (s: string) => Buffer.from(s)
  it('checkField refuses zero dates and DATETIME fractions past the limit', () => {
    const ok = (s: string, c: FieldCheck, frac?: number) => checkField(b(s), 0, b(s).length, c, frac)
    expect(ok('2024-01-02', FieldCheck.DATE)).toBe(true)
    for (const z of ['0000-01-01', '2024-00-01', '2024-01-00']) expect(ok(z, FieldCheck.DATE)).toBe(false)
    expect(ok('0000-00-00 00:00:00', FieldCheck.DATETIME)).toBe(false)
    expect(ok('2024-01-02T03:04:05.123456789', FieldCheck.DATETIME)).toBe(true)
    expect(ok('2024-01-02 03:04:05.123456', FieldCheck.DATETIME, 6)).toBe(true)
    expect(ok('2024-01-02 03:04:05.1234560', FieldCheck.DATETIME, 6)).toBe(false)
    expect(ok('2024-01-02 03:04:05.1', FieldCheck.DATETIME, 0)).toBe(false)
    expect(ok('2024-01-02 03:04:05', FieldCheck.DATETIME, 0)).toBe(true)
  })
  it('copyToDelimited spells a MySQL TIMESTAMP as the canonical value: fraction zeros dropped before the offset', () => {
    const d = rawDialect({ delimiter: ',', quote: '"', escape: '"', nullFormat: '\\N', bytesFormat: 'hex' }, true) as Exclude<ReturnType<typeof rawDialect>, string>
    const ops = Uint8Array.of(RawFieldOp.TIMESTAMPTZ)
    const one = (s: string) => {
      const r = copyToDelimited(b(`${s}\n`), 1, ops, d)
      return typeof r === 'string' ? r : r.data.toString()
    }
    expect(one('2024-01-02 03:04:05.120000+00:00')).toBe('2024-01-02 03:04:05.12+00:00\n')
    expect(one('2024-01-02 03:04:05.000+05:30')).toBe('2024-01-02 03:04:05+05:30\n')
    expect(one('2024-01-02 03:04:05-03:30')).toBe('2024-01-02 03:04:05-03:30\n')
    expect(one('2024-01-02 03:04:05.000001+05:53:28')).toBe('2024-01-02 03:04:05.000001+05:53:28\n')
    expect(one('\\N')).toBe('\\N\n')
    expect(one('0000-00-00 00:00:00+00:00')).toMatch(/zero date/)
    expect(one('2024-01-02 03:04:05+00')).toMatch(/unexpected spelling/)
    expect(one('2024-01-02T03:04:05+00:00')).toMatch(/unexpected spelling/)
  })
})

describe('MySQL writer raw helpers', () => {
  it('boolsAsDigits spells t/f as 1/0 in the named columns only, keeps NULL, refuses anything else', () => {
    const data = Buffer.from('t\tt\\\tf\n\\N\tf\tt\nf\t\\N\t\\\\\n')
    expect(boolsAsDigits(data, 3, [0])!.toString()).toBe('1\tt\\\tf\n\\N\tf\tt\n0\t\\N\t\\\\\n')
    expect(boolsAsDigits(Buffer.from('true\n'), 1, [0])).toBeUndefined()
    expect(data.toString().startsWith('t\t')).toBe(true) // the batch itself is untouched
  })
  it('hasForeignEscape finds \\f and \\v, not an escaped backslash before f', () => {
    expect(hasForeignEscape(Buffer.from('a\\fb\n'))).toBe(true)
    expect(hasForeignEscape(Buffer.from('a\\vb\n'))).toBe(true)
    expect(hasForeignEscape(Buffer.from('a\\\\fb\\tc\n'))).toBe(false)
  })
})
