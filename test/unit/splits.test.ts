import { describe, expect, it } from 'vitest'
import { integerBoundaries, splitFractions, splitsFromBoundaries, splitWeights } from '../../main/connectors/splits.js'

describe('split arithmetic', () => {
  it('cuts an integer range into equal half-open parts', () => {
    expect(integerBoundaries(1n, 100n, 4)).toEqual([26, 51, 76])
    expect(integerBoundaries(5n, 6n, 8)).toEqual([6])
    expect(integerBoundaries(7n, 7n, 4)).toEqual([])
  })
  it('tapers: big first parts, small last ones, so channels taking splits in order finish together', () => {
    expect(splitWeights(4, true)).toEqual([4, 3, 2, 1])
    expect(splitFractions(4, true)).toEqual([0.4, 0.7, 0.9])
    expect(splitFractions(4)).toEqual([0.25, 0.5, 0.75])
    // 1..100 in parts of 40, 30, 20 and 10 keys.
    expect(integerBoundaries(1n, 100n, 4, true)).toEqual([41, 71, 91])
    // Fewer keys than parts: still distinct, ascending boundaries.
    expect(integerBoundaries(1n, 3n, 8, true)).toEqual([2, 3])
    const b = integerBoundaries(0n, 18446744073709551615n, 3, true) as string[]
    expect(b.map(BigInt)).toEqual([9223372036854775808n, 15372286728091293013n])
  })
  it('keeps BIGINT UNSIGNED boundaries exact', () => {
    const b = integerBoundaries(0n, 18446744073709551615n, 2)
    expect(b).toEqual(['9223372036854775808'])
  })
  it('builds splits where every key falls in exactly one range and NULLs in the last', () => {
    const s = splitsFromBoundaries({ table: { name: 't' } }, 'id', [10, 20])
    expect(s.map((x) => x.range)).toEqual([
      { column: 'id', upper: 10, upperInclusive: false },
      { column: 'id', lower: 10, lowerInclusive: true, upper: 20, upperInclusive: false },
      { column: 'id', lower: 20, lowerInclusive: true, includeNull: true },
    ])
    expect(s.every((x) => x.read.splitPk === 'id')).toBe(true)
  })
})

import { splitConditions } from '../../main/connectors/splits.js'
describe('split conditions', () => {
  const q = (n: string) => `"${n}"`
  const lit = (v: unknown) => `<${String(v)}>`
  const read = { table: { name: 't' }, where: 'a = 1 OR b = 2' }
  it('ranges, NULL keys and the read filter', () => {
    expect(splitConditions({ index: 0, read, range: { column: 'id', upper: 10, upperInclusive: false } }, q, lit)).toEqual(['("id" < <10>)', '(a = 1 OR b = 2)'])
    expect(splitConditions({ index: 1, read, range: { column: 'id', lower: 10, lowerInclusive: true, includeNull: true } }, q, lit)).toEqual(['(("id" >= <10>) OR "id" IS NULL)', '(a = 1 OR b = 2)'])
    expect(splitConditions({ index: 0, read: { table: { name: 't' } }, range: { column: 'id' } }, q, lit)).toEqual(['"id" IS NOT NULL'])
    expect(splitConditions({ index: 0, read: { table: { name: 't' } }, range: { column: 'id', includeNull: true } }, q, lit)).toEqual([])
    expect(splitConditions({ index: 0, read }, q, lit)).toEqual(['(a = 1 OR b = 2)'])
  })
  it('renders bounds in order, so positional parameters line up', () => {
    const params: unknown[] = []
    splitConditions({ index: 0, read: { table: { name: 't' } }, range: { column: 'k', lower: 'a', upper: 'm' } }, q, (v) => (params.push(v), '?'))
    expect(params).toEqual(['a', 'm'])
  })
})
