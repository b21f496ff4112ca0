import { describe, expect, it, vi } from 'vitest'
import { decode, encode, parse, stringify } from '../../main/api/wire.js'
import { toErrorData } from '../../main/api/errors.js'
import { ApiError } from '../../main/api/contract.js'
import { StoreError } from '../../main/store/index.js'
import { InvalidJobError } from '../../main/engine/service.js'

const roundTrip = (v: unknown) => parse(stringify(v))

describe('wire encode/decode', () => {
  it('bigint: exact at and beyond 64-bit limits', () => {
    for (const b of [0n, -1n, 9007199254740993n, -9223372036854775808n, 18446744073709551615n, 10n ** 40n]) {
      expect(encode(b)).toEqual({ $bigint: b.toString() })
      expect(roundTrip(b)).toBe(b)
    }
    expect(JSON.stringify(encode({ n: 9223372036854775807n }))).toBe('{"n":{"$bigint":"9223372036854775807"}}')
  })

  it('bytes: Buffer and Uint8Array, every byte value, empty', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    expect(encode(all)).toEqual({ $bytes: all.toString('base64') })
    const back = roundTrip(all) as Buffer
    expect(Buffer.isBuffer(back)).toBe(true)
    expect(back.equals(all)).toBe(true)
    const u8 = new Uint8Array([0xde, 0xad, 0xbe, 0xef])
    expect(encode(u8)).toEqual({ $bytes: '3q2+7w==' })
    expect([...(roundTrip(u8) as Uint8Array)]).toEqual([0xde, 0xad, 0xbe, 0xef])
    // a view into a larger buffer encodes only its own bytes
    const view = new Uint8Array(all.buffer, all.byteOffset + 10, 3)
    expect(encode(view)).toEqual({ $bytes: Buffer.from([10, 11, 12]).toString('base64') })
    expect((roundTrip(Buffer.alloc(0)) as Buffer).length).toBe(0)
  })

  it('bytes: the browser path (no Buffer global) decodes to Uint8Array with the same bytes', async () => {
    const g = globalThis as { Buffer?: unknown }
    const saved = g.Buffer
    let browser: typeof import('../../main/api/wire.js')
    try {
      g.Buffer = undefined
      vi.resetModules()
      browser = await import('../../main/api/wire.js')
    } finally {
      g.Buffer = saved
    }
    const bytes = new Uint8Array(70000).map((_, i) => (i * 7) % 256)
    const b64 = Buffer.from(bytes).toString('base64')
    expect(browser.bytesToBase64(bytes)).toBe(b64)
    const back = browser.decode({ $bytes: b64 }) as Uint8Array
    expect(Buffer.isBuffer(back)).toBe(false)
    expect(back).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true)
    // what the browser encodes, Node decodes to a Buffer with the same bytes
    const node = decode(JSON.parse(JSON.stringify(browser.encode({ b: new Uint8Array([1, 2, 255]) })))) as { b: Buffer }
    expect(Buffer.isBuffer(node.b) && [...node.b]).toEqual([1, 2, 255])
  })

  it('Date: ISO with milliseconds, invalid date refused with its path', () => {
    const d = new Date('2024-02-29T23:59:59.123Z')
    expect(encode(d)).toEqual({ $date: '2024-02-29T23:59:59.123Z' })
    expect((roundTrip(d) as Date).getTime()).toBe(d.getTime())
    expect(() => encode({ a: [new Date(NaN)] })).toThrow('$.a[0]: cannot encode an invalid Date')
  })

  it('escapes user objects that look like tagged values', () => {
    for (const o of [{ $bigint: '5' }, { $bytes: 'AA==' }, { $date: '2024-01-01T00:00:00.000Z' }, { $obj: { x: 1 } }, { $obj: { $bigint: '1' } }]) {
      const wire = encode(o) as Record<string, unknown>
      expect(Object.keys(wire)).toEqual(['$obj'])
      expect(roundTrip(o)).toEqual(o)
    }
    // two keys are not a tag: passed as is
    expect(encode({ $bigint: '1', other: 2 })).toEqual({ $bigint: '1', other: 2 })
    expect(roundTrip({ $bigint: '1', other: 2 })).toEqual({ $bigint: '1', other: 2 })
  })

  it('nested rows of mixed values, strings that look numeric stay strings', () => {
    const row = [null, true, 3.5, 42, 2n ** 63n, '12345678901234567890.123456789', Buffer.from('héllo'), '2024-01-01 00:00:00.000001']
    const back = roundTrip({ rows: [row], meta: { n: 1n, deep: [{ when: new Date(0) }] } }) as { rows: unknown[][]; meta: { n: bigint; deep: Array<{ when: Date }> } }
    expect(back.rows[0]!.slice(0, 6)).toEqual(row.slice(0, 6))
    expect((back.rows[0]![6] as Buffer).toString('utf8')).toBe('héllo')
    expect(back.rows[0]![7]).toBe('2024-01-01 00:00:00.000001')
    expect(back.meta.n).toBe(1n)
    expect(back.meta.deep[0]!.when.toISOString()).toBe('1970-01-01T00:00:00.000Z')
  })

  it('undefined members dropped, __proto__ stays a member, cycles refused', () => {
    expect(stringify({ a: undefined, b: 1 })).toBe('{"b":1}')
    const o = parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(o)).toEqual(['__proto__'])
    const c: Record<string, unknown> = {}
    c.self = c
    expect(() => encode(c)).toThrow('$.self: cannot encode a cyclic structure')
    // the same object twice (not a cycle) is fine
    const shared = { x: 1n }
    expect(roundTrip([shared, shared])).toEqual([{ x: 1n }, { x: 1n }])
  })

  it('malformed tagged values are refused with their path', () => {
    expect(() => decode({ a: { $bigint: '1.5' } })).toThrow('$.a.$bigint: expected a decimal integer string')
    expect(() => decode({ $bytes: 'a*b=' })).toThrow('$.$bytes: not valid base64')
    expect(() => decode({ $date: 'yesterday' })).toThrow('$.$date: expected an ISO-8601 date string')
  })
})

describe('errors as data', () => {
  it('StoreError keeps code and path', () => {
    expect(toErrorData(new StoreError('DUPLICATE', 'name: taken', 'name'))).toEqual({ name: 'StoreError', code: 'DUPLICATE', message: 'name: taken', path: 'name' })
  })
  it('InvalidJobError carries problems and the first path', () => {
    const d = toErrorData(new InvalidJobError([{ path: '$.reader', message: 'Required', severity: 'error', code: 'schema' }]))
    expect(d.code).toBe('INVALID_JOB')
    expect(d.path).toBe('$.reader')
    expect(d.problems).toEqual([{ path: '$.reader', message: 'Required', severity: 'error', code: 'schema' }])
  })
  it('driver codes pass through; a JSON-path message prefix becomes path; non-errors', () => {
    const e = Object.assign(new Error("Access denied for user 'x'@'localhost'"), { code: 'ER_ACCESS_DENIED_ERROR' })
    expect(toErrorData(e)).toEqual({ name: 'Error', code: 'ER_ACCESS_DENIED_ERROR', message: "Access denied for user 'x'@'localhost'" })
    expect(toErrorData(new Error("$.writer.connection: no connection with id or name \"x\""))).toMatchObject({ code: 'INTERNAL', path: '$.writer.connection' })
    expect(toErrorData('boom')).toEqual({ name: 'Error', code: 'INTERNAL', message: 'boom' })
    const back = new ApiError(toErrorData(new StoreError('NOT_FOUND', 'no job', 'id')))
    expect([back.name, back.code, back.message, back.path]).toEqual(['StoreError', 'NOT_FOUND', 'no job', 'id'])
  })
})
