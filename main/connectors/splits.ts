/**
 * Split arithmetic shared by every connector: cutting an integer key range into equal parts and
 * turning sorted boundaries into splits. The SQL that finds MIN/MAX or sampled boundaries stays
 * in each connector (it is dialect-specific); the cutting and the split shape are the same.
 *
 * Splits are half-open key ranges `[lower, upper)`: the first has no lower bound, the last no
 * upper bound and also reads the rows whose key is NULL (`includeNull`), so every row falls in
 * exactly one split.
 */
import type { Value } from '../core/types.js'
import type { ReadSpec, Split, SplitOptions } from './types.js'

export type { SplitOptions }

/** A bigint as a canonical integer value: a number when it is safe, else its decimal text. */
export function canonicalInt(b: bigint): number | string {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString()
}

/**
 * Integer weights of `count` parts: all 1 (equal), or tapered `count, count-1, ..., 1` (the k-th
 * of n parts takes (n-k)/(n(n+1)/2) of the range: with 2 channels and 8 splits the first split is
 * 22 % of the table and the last 2.8 %, so the tail where one channel works alone is at most
 * that last split).
 */
export function splitWeights(count: number, tapered = false): number[] {
  return Array.from({ length: count }, (_, k) => (tapered ? count - k : 1))
}

/** Cumulative positions in (0, 1) of the `count - 1` inner boundaries for {@link splitWeights}. */
export function splitFractions(count: number, tapered = false): number[] {
  const w = splitWeights(count, tapered)
  const total = w.reduce((a, b) => a + b, 0)
  const out: number[] = []
  let acc = 0
  for (let k = 0; k < count - 1; k++) out.push((acc += w[k]!) / total)
  return out
}

/**
 * Boundaries cutting the integer key range `[lo, hi]` into at most `count` parts, equal or
 * tapered ({@link splitWeights}); fewer when the range holds fewer values. BigInt arithmetic:
 * keys may be BIGINT UNSIGNED.
 * @returns ascending, distinct inner boundaries (count - 1 at most), as canonical integers.
 */
export function integerBoundaries(lo: bigint, hi: bigint, count: number, tapered = false): Value[] {
  const span = hi - lo + 1n
  const n = BigInt(count) > span ? Number(span) : count
  const w = splitWeights(n, tapered)
  const total = BigInt(w.reduce((a, b) => a + b, 0))
  const out: Value[] = []
  let last: bigint | undefined
  let acc = 0n
  for (let i = 0; i < n - 1; i++) {
    acc += BigInt(w[i]!)
    const b = lo + (span * acc) / total
    if (last === undefined || b > last) out.push(canonicalInt(b))
    last = b
  }
  return out
}

/** True when two boundary values are the same key (Buffers by bytes). */
export function sameBoundary(a: Value, b: Value): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b)
  return a === b
}

/**
 * Splits from ascending inner boundaries on `column`: `bounds.length + 1` half-open ranges, the
 * last one also reading NULL keys. `read.splitPk` is set to `column` on every split.
 */
export function splitsFromBoundaries(read: ReadSpec, column: string, bounds: readonly Value[]): Split[] {
  const splits: Split[] = []
  for (let i = 0; i <= bounds.length; i++) {
    const range: NonNullable<Split['range']> = { column }
    if (i > 0) {
      range.lower = bounds[i - 1]
      range.lowerInclusive = true
    }
    if (i < bounds.length) {
      range.upper = bounds[i]
      range.upperInclusive = false
    }
    if (i === bounds.length) range.includeNull = true
    splits.push({ index: i, read: { ...read, splitPk: column }, range })
  }
  return splits
}

/** ` ORDER BY <read.orderBy>` for a table read that has one, else ''. */
export function orderByClause(read: { orderBy?: string }): string {
  return read.orderBy?.trim() ? ` ORDER BY ${read.orderBy}` : ''
}

/**
 * The WHERE conditions of one split: its key range and the read's `where` (in parentheses),
 * to be ANDed. `bound(v)` renders a bound value: it returns a placeholder after recording a
 * parameter (MySQL, SQLite), or a safe literal (PostgreSQL, whose COPY cannot take parameters).
 * A range with neither bound reads every non-NULL key, or every row when it includes NULLs.
 */
export function splitConditions(split: Split, quoteIdent: (name: string) => string, bound: (v: Value) => string): string[] {
  const conds: string[] = []
  const r = split.range
  if (r) {
    const col = quoteIdent(r.column)
    const parts: string[] = []
    if (r.lower !== undefined && r.lower !== null) parts.push(`${col} ${r.lowerInclusive === false ? '>' : '>='} ${bound(r.lower)}`)
    if (r.upper !== undefined && r.upper !== null) parts.push(`${col} ${r.upperInclusive ? '<=' : '<'} ${bound(r.upper)}`)
    if (parts.length) conds.push(r.includeNull ? `((${parts.join(' AND ')}) OR ${col} IS NULL)` : `(${parts.join(' AND ')})`)
    else if (!r.includeNull) conds.push(`${col} IS NOT NULL`)
  }
  if (split.read.where?.trim()) conds.push(`(${split.read.where})`)
  return conds
}
