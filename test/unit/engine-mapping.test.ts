import { describe, expect, it } from 'vitest'
import { compileMapping, isMappingError, isZeroDate, type MapOp } from '../../main/engine/mapping.js'
import { formatWallClock, parseWallClock } from '../../main/engine/timeformat.js'
import { checkNarrowing } from '../../main/engine/compat.js'
import { parseConnectionUrl, maskUrl, describeConnection } from '../../main/connectors/url.js'
import { jobJsonSchema, jsonPath, parseJob } from '../../main/job/spec.js'
import type { Column, LogicalType } from '../../main/core/types.js'

const col = (index: number, name: string, type: LogicalType = { kind: 'text' }): MapOp => ({ kind: 'column', index, sourceName: name, targetName: name, sourceType: type })

describe('field mapping', () => {
  it('passes rows through untouched when the mapping is the identity', () => {
    const m = compileMapping([col(0, 'a'), col(1, 'b')], 2, 'error')
    expect(m.identity).toBe(true)
    const row = [1, 'x']
    expect(m.map(row)).toBe(row)
  })
  it('reorders, drops, adds constants and NULL defaults', () => {
    const m = compileMapping([col(2, 'c'), { kind: 'constant', value: '20260101', targetName: 'dt' }, { ...col(0, 'a'), nullDefault: 'n/a' } as MapOp], 3, 'error')
    expect(m.identity).toBe(false)
    expect(m.map([null, 'b', 'c'])).toEqual(['c', '20260101', 'n/a'])
    expect(m.map(['a', 'b', null])).toEqual([null, '20260101', 'a'])
  })
  it('applies the zero-date policy to date and datetime columns only', () => {
    const ops = [col(0, 'd', { kind: 'date' }), col(1, 't', { kind: 'text' })]
    const strict = compileMapping(ops, 2, 'error')
    const r = strict.map(['0000-00-00', '0000-00-00'])
    expect(isMappingError(r)).toBe(true)
    expect(r).toMatchObject({ column: 'd', code: 'ZERO_DATE' })
    expect(compileMapping(ops, 2, 'null').map(['2020-00-15', '0000-00-00'])).toEqual([null, '0000-00-00'])
    expect(compileMapping(ops, 2, 'error').map(['2020-01-15', 'x'])).toEqual(['2020-01-15', 'x'])
    expect(isZeroDate('0000-00-00 00:00:00')).toBe(true)
    expect(isZeroDate('2020-01-00')).toBe(true)
    expect(isZeroDate('2000-10-10 00:00:00')).toBe(false)
  })
  it('converts time formats on wall clock and reports bad text as a mapping error', () => {
    const op = { ...col(0, 'd', { kind: 'string' as const, length: 8 }), timeFormat: { from: 'yyyyMMdd' } } as MapOp
    const m = compileMapping([op], 1, 'error')
    expect(m.map(['20240229'])).toEqual(['2024-02-29'])
    expect(m.map(['20230229'])).toMatchObject({ code: 'TIME_FORMAT', column: 'd' })
    expect(m.map(['2024-02-29'])).toMatchObject({ code: 'TIME_FORMAT' })
  })
})

describe('time formats', () => {
  it('parses and formats without a time zone', () => {
    const w = parseWallClock('29/03/2026 02:30:15.123456', 'dd/MM/yyyy HH:mm:ss.SSSSSS')
    expect(typeof w).toBe('object')
    expect(formatWallClock(w as never)).toBe('2026-03-29 02:30:15.123456')
    expect(formatWallClock(w as never, "yyyyMMdd'T'HHmmss")).toBe('20260329T023015')
    expect(() => formatWallClock(w as never, 'HH:mm:ss.SSS')).toThrow(/more digits/)
  })
})

const c = (type: LogicalType, nullable = true): Column => ({ name: 'x', ordinal: 1, type, nativeType: '', nullable })
describe('narrowing', () => {
  it('reports what can be lost and stays quiet when everything fits', () => {
    expect(checkNarrowing(c({ kind: 'text' }), c({ kind: 'string', length: 20 }))?.message).toMatch(/longer than 20/)
    expect(checkNarrowing(c({ kind: 'decimal', precision: 12, scale: 2 }), c({ kind: 'int', bits: 32 }))?.message).toMatch(/fraction/)
    expect(checkNarrowing(c({ kind: 'int', bits: 64, unsigned: true }), c({ kind: 'int', bits: 64 }))?.message).toMatch(/outside/)
    expect(checkNarrowing(c({ kind: 'datetime', precision: 6 }), c({ kind: 'datetime', precision: 0 }))?.message).toMatch(/fractional/)
    expect(checkNarrowing(c({ kind: 'string', length: 10 }), c({ kind: 'string', length: 20 }))).toBeUndefined()
    expect(checkNarrowing(c({ kind: 'int', bits: 32 }), c({ kind: 'int', bits: 64 }))).toBeUndefined()
    expect(checkNarrowing(c({ kind: 'decimal', precision: 10, scale: 2 }), c({ kind: 'decimal', precision: 12, scale: 2 }))).toBeUndefined()
    expect(checkNarrowing(c({ kind: 'decimal', precision: 12, scale: 4 }), c({ kind: 'decimal', precision: 12, scale: 2 }))?.message).toMatch(/rounded/)
  })
})

describe('connection URLs', () => {
  it('parses the three kinds and masks passwords', () => {
    expect(parseConnectionUrl('mysql://u:p%40ss@db.local:3307/Chinook')).toEqual({ kind: 'mysql', host: 'db.local', port: 3307, user: 'u', password: 'p@ss', database: 'Chinook' })
    expect(parseConnectionUrl('postgres://postgres@127.0.0.1/app?schema=s1')).toMatchObject({ kind: 'postgres', port: 5432, database: 'app', schema: 's1' })
    expect(parseConnectionUrl('sqlite:/tmp/x.db')).toEqual({ kind: 'sqlite', path: '/tmp/x.db' })
    expect(parseConnectionUrl('sqlite:rel/x.db')).toEqual({ kind: 'sqlite', path: 'rel/x.db' })
    expect(() => parseConnectionUrl('oracle://x')).toThrow(/unknown scheme/)
    expect(maskUrl('mysql://u:secret@h/db')).toBe('mysql://u:***@h/db')
    expect(describeConnection(parseConnectionUrl('mysql://u:secret@h:1/db'))).not.toContain('secret')
  })
})

describe('job spec', () => {
  it('names the JSON path of every problem', () => {
    const r = parseJob({ reader: { connection: 'a' }, writer: { connection: 'b', writeMode: 'merge' }, tables: [{ source: 'x', mapping: [{ target: 'y', source: 'a', constant: 1 }] }], extra: 1 })
    expect(r.ok).toBe(false)
    if (r.ok) return
    const paths = r.problems.map((p) => p.path)
    expect(paths).toContain('$.writer.writeMode')
    expect(paths).toContain('$.tables[0].mapping[0]')
    expect(r.problems.find((p) => p.path === '$')?.message).toMatch(/extra/)
  })
  it('applies defaults and publishes a JSON Schema generated from the same schema', () => {
    const r = parseJob({ reader: { connection: 'a' }, writer: { connection: 'b' }, tables: { include: '*' } })
    expect(r.ok && r.job.setting.errorLimit).toEqual({ record: 0 })
    expect(r.ok && r.job.writer.writeMode).toBe('insert')
    const schema = jobJsonSchema() as { properties: Record<string, unknown> }
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['reader', 'writer', 'tables', 'setting']))
    expect(jsonPath(['tables', 0, 'mapping', 2, 'target'])).toBe('$.tables[0].mapping[2].target')
  })
})
