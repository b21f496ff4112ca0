import { describe, expect, it } from 'vitest'
import type { Value } from '../../main/core/types.js'
import { decodeValues, encodeValue, encodeValues, decodeValue } from '../../main/store/codec.js'
import { StoreError } from '../../main/store/errors.js'
import { ALL_VALUES, expectSameValues as same } from './store-fixtures.js'

describe('value codec', () => {
  it('round-trips every Value kind exactly through JSON text', () => {
    const text = JSON.stringify(encodeValues(ALL_VALUES))
    same(ALL_VALUES, decodeValues(JSON.parse(text)))
  })

  it('uses the documented tags', () => {
    expect(encodeValue(2n ** 64n)).toEqual({ $big: '18446744073709551616' })
    expect(encodeValue(Buffer.from([0, 1, 255]))).toEqual({ $b64: 'AAH/' })
    expect(encodeValue(-0)).toEqual({ $num: '-0' })
    expect(encodeValue(NaN)).toEqual({ $num: 'NaN' })
    expect(encodeValue('')).toBe('')
    expect(encodeValue(null)).toBe(null)
    // A Uint8Array that is not a Buffer decodes as a Buffer with the same bytes.
    const u = new Uint8Array([9, 8, 7]).subarray(1)
    expect((decodeValue(encodeValue(u as Buffer)) as Buffer).equals(Buffer.from([8, 7]))).toBe(true)
  })

  it('refuses non-values and malformed tags, naming the index', () => {
    expect(() => encodeValues([1, undefined as unknown as Value])).toThrow('values[1]: not a canonical value (undefined)')
    expect(() => encodeValues([new Date(0) as unknown as Value])).toThrow('values[0]: not a canonical value (Date)')
    expect(() => decodeValues([{ $big: '1.5' } as never])).toThrow(StoreError)
    expect(() => decodeValues([1, { $b64: 'A' } as never])).toThrow('values[1]: not an encoded value')
    expect(() => decodeValues([{ $big: '1', x: 1 } as never])).toThrow('values[0]')
  })
})
