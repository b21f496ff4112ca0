/**
 * Types of the source clean-up (main/cleanup), shared by the engine side, the API contract and the
 * renderer. No Node APIs here.
 */

/** Life of one clean-up: `running` -> `succeeded` | `failed` | `terminated`; `refused` never ran. */
export type CleanupState = 'running' | 'succeeded' | 'failed' | 'terminated' | 'refused'

/**
 * The source data state of a job as the "Data clean-up" view shows it: `not_cleaned` (no
 * clean-up of its latest run yet), `cleaning` (one is running, or stopped part-way and resumable),
 * `cleaned`, `refused` (the last attempt was refused: not verified, or a table without a key).
 */
export type SourceDataState = 'not_cleaned' | 'cleaning' | 'cleaned' | 'refused'

/** One clean-up as history lists it. Times are ISO-8601 UTC. */
export interface CleanupRecord {
  id: string
  jobId?: string
  runId: string
  /** The run's data time, `yyyymmdd`. */
  dataTime: string
  state: CleanupState
  /** Ran although the run's TableDataDiff had not passed. */
  forced: boolean
  /** Why it was forced (required with `forced`). */
  reason?: string
  /** Host and OS user that ran it. */
  host: string
  user: string
  /** Process id while running (to tell a live clean-up from a killed one). */
  pid?: number
  batchSize: number
  rowsDeleted: number
  error?: string
  createdAt: string
  updatedAt: string
  endedAt?: string
}

/** One table of a clean-up. `lastKey`: the primary key of the last row deleted (canonical values). */
export interface CleanupTaskRecord {
  cleanupId: string
  taskId: string
  /** `schema.table` of the source. */
  table: string
  /** The delete condition (variables substituted); undefined = the whole table. */
  condition?: string
  keyColumns: string[]
  /** The key-chunk SELECT and the DELETE, as run (placeholders for the keys). */
  selectSql: string
  deleteSql: string
  state: 'pending' | 'running' | 'done'
  lastKey?: unknown[]
  rowsDeleted: number
}

/** One batch: a DELETE of up to `batchSize` keys in its own transaction. */
export interface CleanupBatchRecord {
  id: number
  cleanupId: string
  taskId: string
  batchNo: number
  /** The DELETE as run (its key list abridged: `IN (? × 10000)`). */
  sql: string
  rows: number
  firstKey?: unknown[]
  lastKey?: unknown[]
  host: string
  user: string
  startedAt: string
  endedAt: string
  elapsedMs: number
}

/** What a dry run shows per table: how many rows the condition matches and the exact SQL. */
export interface CleanupDryRunTask {
  taskId: string
  table: string
  condition?: string
  keyColumns: string[]
  rows: number
  selectSql: string
  deleteSql: string
  /** Set when the table cannot be cleaned up (no primary key, a querySql read). */
  refused?: string
}

/** Whether the run's TableDataDiff passed for every table. */
export interface CleanupGate {
  consistent: boolean
  /** Per-table reasons when not consistent. */
  problems: string[]
}

/** The answer of a dry run. */
export interface CleanupDryRun {
  runId: string
  jobId?: string
  dataTime: string
  batchSize: number
  gate: CleanupGate
  tasks: CleanupDryRunTask[]
}

/** One job in the "Data clean-up" view. */
export interface CleanupOverviewItem {
  jobId: string
  jobName: string
  /** The job's latest finished run (the one a clean-up of the job works on). */
  runId?: string
  runState?: string
  dataTime?: string
  /** The run's TableDataDiff passed for every table. */
  verified: boolean
  sourceState: SourceDataState
  /** The latest clean-up of that run. */
  cleanup?: CleanupRecord
}
