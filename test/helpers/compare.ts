/**
 * Reading whole tables through connectors and comparing values across databases for tests.
 */
import type { Connector } from '../../main/connectors/types.js'
import type { Row, Value } from '../../main/core/types.js'

/** Every row of `table` (all columns, table order), sorted by the given column positions. */
export async function readAll(c: Connector, table: string, schema?: string, sortBy: number[] = [0]): Promise<{ columns: string[]; rows: Row[] }> {
  const ref = { name: table, ...(schema ? { schema } : {}) }
  const t = await c.catalog.table(ref)
  const columns = t.columns.map((x) => x.name)
  const rows: Row[] = []
  for await (const b of c.read({ index: 0, read: { table: ref, columns } })) rows.push(...b.rows)
  rows.sort((a, b) => {
    for (const i of sortBy) {
      const d = cmp(a[i]!, b[i]!)
      if (d) return d
    }
    return 0
  })
  return { columns, rows }
}

function cmp(a: Value, b: Value): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  const na = typeof a === 'number' || typeof a === 'bigint' || (typeof a === 'string' && /^-?\d+$/.test(a))
  const nb = typeof b === 'number' || typeof b === 'bigint' || (typeof b === 'string' && /^-?\d+$/.test(b))
  if (na && nb) {
    const x = BigInt(String(a))
    const y = BigInt(String(b))
    return x < y ? -1 : x > y ? 1 : 0
  }
  return String(a) < String(b) ? -1 : 1
}

/**
 * Semantic equality of canonical values across databases: integers compare by value whatever
 * their JS form (number / bigint / digit string), booleans equal 1/0, Buffers byte for byte,
 * everything else strictly (decimal strings, dates and texts must be identical).
 */
export function sameValue(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)
  if (typeof a === 'boolean') a = a ? 1 : 0
  if (typeof b === 'boolean') b = b ? 1 : 0
  const intLike = (v: Value) => typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
  if (intLike(a) && intLike(b) && (typeof a !== 'string' || typeof b !== 'string')) return BigInt(String(a)) === BigInt(String(b))
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b
  return a === b
}

/** Describe the first difference between two row sets, or undefined when equal. */
export function firstDifference(columns: string[], a: Row[], b: Row[]): string | undefined {
  if (a.length !== b.length) return `row count ${a.length} != ${b.length}`
  for (let r = 0; r < a.length; r++) {
    for (let c = 0; c < columns.length; c++) {
      if (!sameValue(a[r]![c]!, b[r]![c]!)) return `row ${r} column ${columns[c]}: ${show(a[r]![c]!)} != ${show(b[r]![c]!)}`
    }
  }
  return undefined
}

export function show(v: Value): string {
  if (Buffer.isBuffer(v)) return `<${v.toString('hex')}>`
  if (typeof v === 'bigint') return `${v}n`
  return JSON.stringify(v)
}
