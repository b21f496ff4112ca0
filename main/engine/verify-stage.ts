/**
 * The TableDataDiff stage: after a task's ImportTable, compare its target with its source using
 * the job's `verify` settings (countdiff, md5diff or hashdiff; see main/verify). The engine calls
 * it through `RunContext.verifyTask`, so the runner does not depend on the verifier.
 *
 * What is compared: the task's source table with the job's filter against the whole target table,
 * over the columns copied as they are. Columns the mapping changes on purpose (constants,
 * `nullDefault`, `timeFormat`) are left out, and named in the message.
 */
import type { Value } from '../core/types.js'
import type { Connector } from '../connectors/types.js'
import type { JobSpec } from '../job/spec.js'
import { verifyTask } from '../verify/index.js'
import type { PlannedTask } from './plan.js'

/** Result of the stage as the runner records it. */
export interface StageResult {
  consistent: boolean
  /**
   * Rows that differ: only in the source + only in the target + changed (hashdiff; a lower bound
   * when the search stopped at `limit`, which the message says), the count difference
   * (countdiff, a lower bound), or undefined when the algorithm cannot tell (md5diff).
   */
  diffRows?: number
  message: string
  /** hashdiff: the differing keys (at most `verify.limit`) and the key columns they are values of. */
  keys?: { keyColumns: string[]; truncated: boolean; onlyInSource: Value[][]; onlyInTarget: Value[][]; changed: Value[][] }
}

/** Verify one task. @throws Error from the verifier (bad settings, a key it cannot split). */
export async function tableDataDiff(args: { task: PlannedTask; reader: Connector; writer: Connector; spec: NonNullable<JobSpec['verify']>; signal: AbortSignal }): Promise<StageResult> {
  const { task, spec } = args
  if (!task.read.table) return { consistent: true, diffRows: 0, message: 'not verified: the source is a querySql, not a table' }
  const columns: Array<{ source: string; target: string }> = []
  const skipped: string[] = []
  for (const op of task.ops) {
    if (op.kind !== 'column') continue
    if (op.nullDefault !== undefined || op.timeFormat) skipped.push(op.targetName)
    else columns.push({ source: op.sourceName, target: op.targetName })
  }
  const keyColumns = task.read.splitPk && !task.sourceSchema?.primaryKey.length ? [task.read.splitPk] : task.sourceSchema?.primaryKey ?? []
  const algorithm = !spec.key_columns?.length && !keyColumns.length && spec.algorithm === 'hashdiff' ? 'md5diff' : spec.algorithm
  const r = await verifyTask({
    source: args.reader,
    target: args.writer,
    sourceTable: task.read.table,
    targetTable: task.target,
    keyColumns,
    columns,
    config: { ...spec, algorithm },
    ...(task.read.where ? { where: task.read.where } : {}),
    signal: args.signal,
  })
  const diffRows = r.consistent ? 0 : algorithm === 'countdiff' ? Math.abs(r.sourceRows - r.targetRows) : algorithm === 'hashdiff' ? r.onlyInSource.length + r.onlyInTarget.length + r.changed.length : undefined
  const notes = [
    ...(algorithm !== spec.algorithm ? [`hashdiff needs a key; ${task.taskId} has none, md5diff used`] : []),
    ...(skipped.length ? [`not compared (changed by the mapping): ${skipped.join(', ')}`] : []),
  ]
  const f = r.filters
  const filterNote = f.source || f.target ? [`filters: source ${f.source ? `WHERE ${f.source}` : 'none'}, target ${f.target ? `WHERE ${f.target}` : 'none (whole table)'}`] : []
  const body = r.consistent
    ? `consistent, ${r.sourceRows} rows`
    : algorithm === 'md5diff'
      ? `checksums differ (${r.sourceRows} source rows, ${r.targetRows} target rows)`
      : algorithm === 'countdiff'
        ? `${r.sourceRows} source rows, ${r.targetRows} target rows`
        : `${r.stats.truncated ? 'at least ' : ''}${diffRows} rows differ: ${r.onlyInSource.length} only in source, ${r.onlyInTarget.length} only in target, ${r.changed.length} changed${r.stats.truncated ? ` (search stopped at verify.limit = ${spec.limit})` : ''}`
  const keys = algorithm === 'hashdiff' && !r.consistent ? { keyColumns: spec.key_columns?.length ? spec.key_columns : keyColumns, truncated: !!r.stats.truncated, onlyInSource: r.onlyInSource, onlyInTarget: r.onlyInTarget, changed: r.changed } : undefined
  return { consistent: r.consistent, ...(diffRows !== undefined ? { diffRows } : {}), message: [body, ...notes, ...filterNote].join('; '), ...(keys ? { keys } : {}) }
}
