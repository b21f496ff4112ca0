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

const col = (type: LogicalType, nativeType = ''): Column => ({ name: 'c', ordinal: 1, type, nativeType, nullable: true })
const op = (sourceType: LogicalType, extra: Partial<Extract<MapOp, { kind: 'column' }>> = {}): MapOp => ({ kind: 'column', index: 0, sourceName: 'c', targetName: 'c', sourceType, ...extra })
const one = (from: 'mysql' | 'postgres', to: 'mysql' | 'postgres', src: LogicalType, tgt: Column, extra = {}) => rawEligible(from, to, { ops: [op(src, extra)], sourceWidth: 1, targets: [tgt] })

describe('rawEligible', () => {
  const f = (from: 'mysql' | 'postgres' | 'file' | 's3', to: 'postgres' | 'file' | 'sftp', src: LogicalType, tgt: Column, names?: string[]) =>
    rawEligible(from, to, { ops: [op(src)], sourceWidth: names?.length ?? 1, targets: [tgt], ...(names ? { sourceNames: names } : {}) })

  it('MySQL / PostgreSQL -> delimited text files', () => {
    expect(f('mysql', 'file', { kind: 'int', bits: 64 }, col({ kind: 'int', bits: 64 }, 'bigint(20)'))).toBe(true)
    expect(f('mysql', 'sftp', { kind: 'datetime', precision: 3 }, col({ kind: 'datetime', precision: 3 }))).toBe(true)
    expect(f('mysql', 'file', { kind: 'float', bits: 32 }, col({ kind: 'float', bits: 32 }))).toBe(true)
    // ZEROFILL (padded text past 2^53), TIMESTAMP (offset re-spelled), BIT(1) booleans: canonical.
    expect(f('mysql', 'file', { kind: 'int', bits: 64 }, col({ kind: 'int', bits: 64 }, 'bigint(22) unsigned zerofill'))).toMatch(/no raw spelling/)
    expect(f('mysql', 'file', { kind: 'timestamptz', precision: 0 }, col({ kind: 'timestamptz', precision: 0 }))).toMatch(/no raw spelling/)
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
