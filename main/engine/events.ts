/**
 * What a run reports while it works: a typed union shared by the engine, worker threads, the
 * CLI's progress line, the state DB and the API's live events.
 */
import type { Value } from '../core/types.js'

/**
 * `succeeded_with_warnings`: every row moved (or the errorLimit allowed the dirty ones), but a schema
 * object of the source (an index, a foreign key, a CHECK, a trigger, a comment, a default...) could
 * not be created in the target or was left out; the summary's `warnings` / the task's `schemaWarnings`
 * say which and why. Never reported as a plain `succeeded` (CLI exit code 3).
 */
export type RunState = 'created' | 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'terminated' | 'inconsistent'
export type TaskState = 'created' | 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'terminated' | 'inconsistent' | 'skipped'
/** Stages of one table's task, as the run dashboard shows them. */
export type TaskStage = 'ExportTable' | 'ImportTable' | 'TableDataDiff'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** Counters of a task (or of a whole run). */
export interface Counters {
  rowsRead: number
  rowsWritten: number
  /** Approximate bytes read (see `approxValueBytes`). */
  bytes: number
  dirty: number
}

export type EngineEvent =
  | { type: 'run/state'; runId: string; state: RunState; error?: string }
  | {
      type: 'task/state'
      runId: string
      taskId: string
      state: TaskState
      stage?: TaskStage
      source: string
      target: string
      estimatedRows?: number
      error?: string
    }
  | ({ type: 'run/progress'; runId: string; taskId: string; estimatedRows?: number } & Counters)
  | { type: 'run/log'; runId: string; level: LogLevel; taskId?: string; message: string; ts: string }
  /** A file target's task published its files (main/connectors/file/): export-file tracking. */
  | { type: 'task/files'; runId: string; taskId: string; files: Array<{ path: string; rows: number; bytes: number; sha256: string }> }

/** One dirty record as the engine hands it to the state DB: the source row and why it failed. */
export interface DirtyRecord {
  taskId: string
  reason: string
  code?: string
  column?: string
  /** Source column names, parallel to `values`. */
  columns: string[]
  values: Value[]
  /** The split the row was read in (a re-done split replaces its records). */
  splitIndex?: number
}

/** Per-task line of a run summary. */
export interface TaskSummary extends Counters {
  taskId: string
  source: string
  target: string
  state: TaskState
  error?: string
  elapsedMs: number
  estimatedRows?: number
  /** Rows that differ, when a TableDataDiff stage ran and its algorithm can count them (not md5diff). */
  diffRows?: number
  /** Schema objects of this table not created in the target or left out, each with its reason. */
  schemaWarnings?: string[]
}

/** The end-of-run summary (CLI, state DB, dashboard). */
export interface RunSummary extends Counters {
  runId: string
  state: RunState
  startedAt: string
  endedAt: string
  elapsedMs: number
  tasks: TaskSummary[]
  /** Views, triggers, routines... found in the source and not migrated. */
  notMigrated: string[]
  warnings: string[]
  /** Tables whose task never started because the run stopped first (errorLimit, a failure). */
  notStarted?: string[]
  error?: string
}
