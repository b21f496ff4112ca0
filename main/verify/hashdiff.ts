/**
 * hashdiff: data-diff's bisection (datafold/data-diff `hashdiff_tables.py`), over two {@link Side}s.
 *
 * 1. Count and checksum (sum of 60-bit row hashes) the whole filtered table on both sides, in the
 *    databases. Equal counts and sums: consistent.
 * 2. Otherwise cut the key range into `bisectionFactor` segments: a single integer key by value
 *    between the two sides' MIN and MAX; any other key (strings, decimals, dates, composite keys
 *    compared as tuples) at sampled quantiles — every ceil(n/factor)-th key of the larger side in
 *    binary key order, computed with ROW_NUMBER() inside that database.
 * 3. Checksum each segment on both sides; skip equal ones; recurse into the others while the
 *    larger side holds at least `bisectionThreshold` rows; below it, download (key, row hash) of
 *    both sides for that segment and compare them in memory: keys only in the source, only in the
 *    target, and keys whose row hash differs (changed).
 * Segments are checked concurrently, at most `threads` query pairs at a time. Work stops once
 * `limit` differing rows were found (the result is then marked `truncated`).
 */
import type { Value } from '../core/types.js'
import type { Checksum, HashedRow, KeyRange, KeyTuple, Side } from './side.js'

/** Counters of one hashdiff run (data-diff's stats, plus ours). */
export interface HashdiffStats {
  /** Key ranges whose count and checksum were computed on both sides (the whole table included). */
  segmentsChecked: number
  /** Segments whose (key, hash) rows were downloaded and compared. */
  segmentsDownloaded: number
  /** Rows downloaded from both sides together. */
  rowsDownloaded: number
  /** Deepest bisection level reached (0 = the whole table). */
  maxLevel: number
  /** SQL statements run on the source and the target. */
  queries: number
  /** True when the search stopped at `limit` differing rows. */
  truncated: boolean
}

/** What a hashdiff found: keys as arrays of canonical values, sorted by key. */
export interface HashdiffOutcome {
  sourceRows: number
  targetRows: number
  onlyInSource: Value[][]
  onlyInTarget: Value[][]
  changed: Value[][]
  stats: HashdiffStats
}

/** Progress of a running diff. */
export interface DiffProgress {
  segmentsChecked: number
  rowsDownloaded: number
  differences: number
}

export interface HashdiffParams {
  bisectionThreshold: number
  bisectionFactor: number
  threads: number
  limit: number
  log?: (line: string) => void
  onProgress?: (p: DiffProgress) => void
}

/** A tiny counting semaphore. */
function semaphore(n: number) {
  let active = 0
  const waiting: Array<() => void> = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r))
    active++
    try {
      return await fn()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

/** Order of canonical key values: numbers/bigints/digit strings numerically, else by UTF-16 text, NULL first. */
export function compareKeys(a: Value[], b: Value[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? null
    const y = b[i] ?? null
    if (x === y) continue
    if (x === null) return -1
    if (y === null) return 1
    const num = (v: Value) => typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && /^-?\d+$/.test(v))
    if (num(x) && num(y) && Number.isInteger(Number(x)) && Number.isInteger(Number(y))) {
      const p = BigInt(String(x))
      const q = BigInt(String(y))
      if (p !== q) return p < q ? -1 : 1
      continue
    }
    const s = Buffer.isBuffer(x) ? x.toString('hex') : String(x)
    const t = Buffer.isBuffer(y) ? y.toString('hex') : String(y)
    if (s !== t) return s < t ? -1 : 1
  }
  return 0
}

const showRange = (r: KeyRange) => `${r.lower ? `[${r.lower.join(',')}` : '(-inf'} .. ${r.upper ? `${r.upper.join(',')})` : '+inf)'}`

/**
 * Compare two sides by bisection. `src` and `dst` must have the same compared columns (key
 * columns first) with the same normalizations.
 */
export async function hashdiff(src: Side, dst: Side, p: HashdiffParams): Promise<HashdiffOutcome> {
  const intKey = src.keyCount === 1 && src.keyKinds[0] === 'int'
  const sem = semaphore(Math.max(1, p.threads))
  const stats: HashdiffStats = { segmentsChecked: 0, segmentsDownloaded: 0, rowsDownloaded: 0, maxLevel: 0, queries: 0, truncated: false }
  const onlyInSource: Value[][] = []
  const onlyInTarget: Value[][] = []
  const changed: Value[][] = []
  const found = () => onlyInSource.length + onlyInTarget.length + changed.length
  const progress = () => p.onProgress?.({ segmentsChecked: stats.segmentsChecked, rowsDownloaded: stats.rowsDownloaded, differences: found() })
  let skipped = false
  const stopped = () => {
    if (found() < p.limit) return false
    skipped = true
    return true
  }

  const checksumBoth = (range: KeyRange) => sem(() => Promise.all([src.checksum(range, intKey), dst.checksum(range, intKey)]))

  const compare = (a: HashedRow[], b: HashedRow[]) => {
    const left = new Map<string, HashedRow[]>()
    for (const r of a) {
      const l = left.get(r.keyText)
      if (l) l.push(r)
      else left.set(r.keyText, [r])
    }
    const right = new Map<string, HashedRow[]>()
    for (const r of b) {
      const l = right.get(r.keyText)
      if (l) l.push(r)
      else right.set(r.keyText, [r])
    }
    for (const [k, ls] of left) {
      const rs = [...(right.get(k) ?? [])]
      right.delete(k)
      const rest: HashedRow[] = []
      for (const l of ls) {
        const i = rs.findIndex((r) => r.hash === l.hash)
        if (i >= 0) rs.splice(i, 1)
        else rest.push(l)
      }
      const pairs = Math.min(rest.length, rs.length)
      for (let i = 0; i < pairs; i++) changed.push(rest[i]!.key)
      for (let i = pairs; i < rest.length; i++) onlyInSource.push(rest[i]!.key)
      for (let i = pairs; i < rs.length; i++) onlyInTarget.push(rs[i]!.key)
    }
    for (const rs of right.values()) for (const r of rs) onlyInTarget.push(r.key)
  }

  const downloadAndCompare = async (range: KeyRange, level: number) => {
    if (stopped()) return
    const [a, b] = await sem(() => Promise.all([src.download(range), dst.download(range)]))
    stats.segmentsDownloaded++
    stats.rowsDownloaded += a.length + b.length
    const before = found()
    compare(a, b)
    p.log?.(`${'. '.repeat(level)}downloaded ${showRange(range)}: ${a.length} / ${b.length} rows, ${found() - before} different`)
    progress()
  }

  const split = async (range: KeyRange, a: Checksum, b: Checksum): Promise<KeyTuple[]> => {
    if (intKey) {
      const mins = [a.min, b.min].filter((v): v is bigint => v !== undefined)
      const maxs = [a.max, b.max].filter((v): v is bigint => v !== undefined)
      if (!mins.length || !maxs.length) return []
      const lo = mins.reduce((x, y) => (y < x ? y : x))
      const hi = maxs.reduce((x, y) => (y > x ? y : x))
      const n = hi - lo + 1n
      const parts = n < BigInt(p.bisectionFactor) ? n : BigInt(p.bisectionFactor)
      const out: KeyTuple[] = []
      for (let i = 1n; i < parts; i++) out.push([lo + (n * i) / parts])
      return out
    }
    const [side, count] = a.count >= b.count ? [src, a.count] : [dst, b.count]
    const qs = await sem(() => side.quantiles(range, count, p.bisectionFactor))
    const out: KeyTuple[] = []
    let prev = range.lower ? JSON.stringify(range.lower.map(String)) : undefined
    for (const t of qs) {
      const s = JSON.stringify(t.map(String))
      if (s !== prev) out.push(t)
      prev = s
    }
    return out
  }

  const diffRange = async (range: KeyRange, a: Checksum, b: Checksum, level: number): Promise<void> => {
    if (stopped()) return
    stats.maxLevel = Math.max(stats.maxLevel, level)
    if (Math.max(a.count, b.count) < p.bisectionThreshold || level >= 64) return downloadAndCompare(range, level)
    const bounds = await split(range, a, b)
    if (!bounds.length) return downloadAndCompare(range, level)
    const edges: Array<KeyTuple | undefined> = [range.lower, ...bounds, range.upper]
    const children: KeyRange[] = []
    for (let i = 0; i + 1 < edges.length; i++) {
      const r: KeyRange = {}
      if (edges[i]) r.lower = edges[i]!
      if (edges[i + 1]) r.upper = edges[i + 1]!
      children.push(r)
    }
    p.log?.(`${'. '.repeat(level)}segment ${showRange(range)}: ${a.count} / ${b.count} rows differ, cut into ${children.length}`)
    await Promise.all(
      children.map(async (child) => {
        if (stopped()) return
        const [ca, cb] = await checksumBoth(child)
        stats.segmentsChecked++
        progress()
        if (ca.count === 0 && cb.count === 0) return
        if (ca.count === cb.count && ca.sum === cb.sum) return
        await diffRange(child, ca, cb, level + 1)
      }),
    )
  }

  const [a, b] = await checksumBoth({})
  stats.segmentsChecked++
  progress()
  if (a.count !== b.count || a.sum !== b.sum) await diffRange({}, a, b, 0)

  stats.queries = src.queries + dst.queries
  const sort = (l: Value[][]) => l.sort(compareKeys)
  sort(onlyInSource)
  sort(onlyInTarget)
  sort(changed)
  stats.truncated = skipped || found() > p.limit
  if (found() > p.limit) {
    let room = p.limit
    const take = (l: Value[][]) => {
      const n = Math.min(room, l.length)
      room -= n
      return l.slice(0, n)
    }
    return { sourceRows: a.count, targetRows: b.count, onlyInSource: take(onlyInSource), onlyInTarget: take(onlyInTarget), changed: take(changed), stats }
  }
  return { sourceRows: a.count, targetRows: b.count, onlyInSource, onlyInTarget, changed, stats }
}
