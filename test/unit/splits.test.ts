import { describe, expect, it } from 'vitest'
import { integerBoundaries, splitsFromBoundaries } from '../../main/connectors/splits.js'

describe('split arithmetic', () => {
  it('cuts an integer range into equal half-open parts', () => {
    expect(integerBoundaries(1n, 100n, 4)).toEqual([26, 51, 76])
    expect(integerBoundaries(5n, 6n, 8)).toEqual([6])
    expect(integerBoundaries(7n, 7n, 4)).toEqual([])
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
