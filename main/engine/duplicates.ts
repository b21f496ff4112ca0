/**
 * Source key duplicate detection before a table's import (`enable_pk_duplicate_detect`, the
 * OpenPie run configuration key; main/job/runconfig.ts): sources without enforced keys (a table
 * loaded without its primary key, a view, a copy) may hold several rows for one key. Every row of
 * a duplicated key is reported as a dirty record (code `SOURCE_DUPLICATE_KEY`) before any row
 * moves, so the errorLimit decides whether the run goes on.
 */
import type { Connector } from '../connectors/types.js'
import type { DirtyRecord } from './events.js'
import type { PlannedTask } from './plan.js'

/** Most duplicate rows reported per table (the rest are counted in the log line). */
export const MAX_DUPLICATE_ROWS = 10_000

/**
 * The key checked for a task: `keyColumns` (verify.key_columns) when given, else the source's
 * primary key, else the target key mapped back to source columns; undefined when there is none.
 */
export function duplicateKey(task: PlannedTask, keyColumns?: string[]): string[] | undefined {
  if (keyColumns?.length) return keyColumns
  if (task.sourceSchema?.primaryKey.length) return task.sourceSchema.primaryKey
  if (task.keyColumns?.length) {
    const src = task.keyColumns.map((k) => task.ops.find((o) => o.kind === 'column' && o.targetName === k))
    if (src.every((o) => o && o.kind === 'column')) return src.map((o) => (o as { sourceName: string }).sourceName)
  }
  return undefined
}

/**
 * Find the source rows whose key occurs more than once under the task's `where`.
 * @returns the dirty records (at most {@link MAX_DUPLICATE_ROWS}) and the number of duplicated keys.
 * @throws Error for a task reading a `querySql` (no table to group), or a database error.
 */
export async function sourceDuplicates(reader: Connector, task: PlannedTask, key: string[]): Promise<{ records: DirtyRecord[]; keys: number; rows: number }> {
  const table = task.read.table
  if (!table) throw new Error(`${task.taskId}: enable_pk_duplicate_detect needs a table read, not querySql`)
  const t = reader.quoteTable(table)
  const k = key.map((c) => reader.quoteIdent(c)).join(', ')
  const where = task.read.where?.trim() ? `(${task.read.where})` : ''
  const cols = task.read.columns?.length ? task.read.columns : task.sourceColumns.map((c) => c.name)
  const dupKeys = `SELECT ${k} FROM ${t}${where ? ` WHERE ${where}` : ''} GROUP BY ${k} HAVING count(*) > 1`
  const lhs = key.length === 1 ? k : `(${k})`
  const counted = await reader.query(`SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM ${t}${where ? ` WHERE ${where}` : ''} GROUP BY ${k} HAVING count(*) > 1) d`)
  const keys = Number(counted.rows[0]?.[0] ?? 0)
  const rows = Number(counted.rows[0]?.[1] ?? 0)
  if (keys === 0) return { records: [], keys: 0, rows: 0 }
  const r = await reader.query(
    `SELECT ${cols.map((c) => reader.quoteIdent(c)).join(', ')} FROM ${t} WHERE ${lhs} IN (${dupKeys})${where ? ` AND ${where}` : ''} ORDER BY ${k}`,
    [],
    { maxRows: MAX_DUPLICATE_ROWS },
  )
  const idx = key.map((c) => cols.indexOf(c))
  const records: DirtyRecord[] = r.rows.map((row) => ({
    taskId: task.taskId,
    reason: `duplicate key in the source: (${key.map((c, i) => `${c}=${idx[i]! >= 0 ? String(row[idx[i]!]) : '?'}`).join(', ')}) occurs more than once (enable_pk_duplicate_detect)`,
    code: 'SOURCE_DUPLICATE_KEY',
    columns: cols,
    values: row,
  }))
  return { records, keys, rows }
}
