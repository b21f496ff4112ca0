/**
 * Validation that asks the source database (issue 14, item 4): each planned task's read is sent
 * to the reader as `SELECT <columns> FROM <table> WHERE (<where>) LIMIT 0` (or
 * `SELECT * FROM (<querySql>) AS q LIMIT 0`), which the database parses, resolves and plans but
 * returns no row from. What it refuses (a syntax error, a column the table lacks) becomes a problem
 * at the JSON path of the spec field, naming the table: `$.tables[3].where`, or `$.reader.where`
 * (table Album) for a job-wide where, as in a whole-database job.
 */
import type { Connector } from '../connectors/types.js'
import type { JobSpec, Problem } from '../job/spec.js'
import type { PlannedTask } from './plan.js'

/** The probe statement of a task's read (no row returned), or undefined when there is nothing to ask. */
export function probeSql(reader: Pick<Connector, 'quoteIdent' | 'quoteTable'>, task: Pick<PlannedTask, 'read'>): string | undefined {
  const r = task.read
  if (r.querySql) return `SELECT * FROM (${r.querySql.trim().replace(/;\s*$/, '')}) AS sluice_probe LIMIT 0`
  if (!r.table || !r.where?.trim()) return undefined
  const cols = r.columns?.length ? r.columns.map((c) => reader.quoteIdent(c)).join(', ') : '*'
  return `SELECT ${cols} FROM ${reader.quoteTable(r.table)} WHERE (${r.where}) LIMIT 0`
}

/**
 * Probe every task's read on `reader` (one statement at a time). Returns one error problem per
 * refused read, with the JSON path of the field that made it (the pair's own `where` / querySql, or
 * `$.reader.where`) and the table in the message.
 */
export async function probeReads(job: JobSpec, tasks: PlannedTask[], reader: Connector): Promise<Problem[]> {
  const problems: Problem[] = []
  for (const t of tasks) {
    const sql = probeSql(reader, t)
    if (!sql) continue
    try {
      await reader.query(sql, [])
    } catch (e) {
      const err = e as Error & { detail?: string; hint?: string; code?: string }
      const pair = Array.isArray(job.tables) && t.path.startsWith('$.tables[') ? job.tables[t.index] : undefined
      const src = pair && typeof pair.source === 'object' ? pair.source : undefined
      const path = t.read.querySql ? (src?.querySql !== undefined ? `${t.path}.source.querySql` : t.path) : pair?.where !== undefined ? `${t.path}.where` : '$.reader.where'
      const what = t.read.querySql ? `querySql (${t.taskId})` : `where on table ${t.read.table!.name}`
      const extra = [err.detail, err.hint].filter(Boolean).join('; ')
      problems.push({ path, message: `${what}: the source database refuses it: ${err.message}${extra && !err.message.includes(extra) ? ` (${extra})` : ''}`, severity: 'error', code: 'sql' })
    }
  }
  return problems
}
