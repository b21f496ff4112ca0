/**
 * Run configuration aliases (issue 15): OpenPie PieDataCS names for settings a user expects to
 * find, accepted in the job's `setting` (and `enable_pk_duplicate_detect` in `verify` too), turned
 * here into what the engine uses. Keep this free of Node APIs (the renderer imports spec.ts).
 *
 * | seed key                     | engine setting                                               |
 * | ---------------------------- | ------------------------------------------------------------ |
 * | `enable_pk_duplicate_detect` | before each table's import, its source key is checked for duplicates; every row of a duplicated key is a dirty record (`SOURCE_DUPLICATE_KEY`) |
 * | `import_order_by`            | `ORDER BY` of each table read (one ordered split per table)  |
 * | `source_timezone`            | `timezone` of the reader's and the writer's sessions         |
 * | `heartbeat_timeout` (s)      | the split timeout (`RunContext.splitTimeoutMs`, ms)          |
 * | `batch_parallel_size`        | `setting.speed.tables` (tables loaded at once)               |
 * | `export_batch_rows`          | the files writer's `exportBatchRows` (rows per export file)  |
 */
import type { JobSpec } from './spec.js'

/** The engine's view of the run configuration aliases; every field absent when not set. */
export interface RunConfig {
  /** Check source keys for duplicates before the import. */
  pkDuplicateDetect: boolean
  /** ORDER BY text of table reads. */
  orderBy?: string
  /** Session time zone of both sides. */
  timezone?: string
  /** Split timeout in milliseconds. */
  splitTimeoutMs?: number
  /** Tables loaded at once (`setting.speed.tables` wins when both are given). */
  tablesAtOnce?: number
  /** Rows per export file (`writer.exportBatchRows` wins when both are given). */
  exportBatchRows?: number
}

/** Read the aliases of a validated job (see the table above). Never throws. */
export function normalizeRunConfig(job: JobSpec): RunConfig {
  const s = job.setting
  const speedTables = (s.speed as { tables?: unknown }).tables
  const writerRows = (job.writer as { exportBatchRows?: unknown }).exportBatchRows
  const tables = typeof speedTables === 'number' ? speedTables : s.batch_parallel_size
  const rows = typeof writerRows === 'number' ? writerRows : s.export_batch_rows
  const orderBy = s.import_order_by?.trim()
  return {
    pkDuplicateDetect: Boolean(s.enable_pk_duplicate_detect ?? job.verify?.enable_pk_duplicate_detect),
    ...(orderBy ? { orderBy } : {}),
    ...(s.source_timezone ? { timezone: s.source_timezone } : {}),
    ...(s.heartbeat_timeout !== undefined ? { splitTimeoutMs: Math.round(s.heartbeat_timeout * 1000) } : {}),
    ...(tables !== undefined ? { tablesAtOnce: tables } : {}),
    ...(rows !== undefined ? { exportBatchRows: rows } : {}),
  }
}
