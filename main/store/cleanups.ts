/**
 * Source clean-up history (`store.cleanups`, main/cleanup): one row per clean-up (who, where,
 * which run and data time, forced with which reason), per table (condition, key, SQL, last key
 * deleted: the resume point) and per batch (SQL, rows, first / last key, times).
 */
import type Database from 'better-sqlite3'
import type { Value } from '../core/types.js'
import type { CleanupBatchRecord, CleanupRecord, CleanupState, CleanupTaskRecord } from '../cleanup/types.js'
import { decodeValues, encodeValues, type EncodedValue } from './codec.js'
import { StoreError } from './errors.js'
import { newId, nowIso } from './util.js'

interface CleanupRow {
  id: string
  job_id: string | null
  run_id: string
  data_time: string
  state: CleanupState
  forced: number
  reason: string | null
  host: string
  user: string
  pid: number | null
  batch_size: number
  rows_deleted: number
  error: string | null
  created_at: string
  updated_at: string
  ended_at: string | null
}

interface TaskRow {
  cleanup_id: string
  task_id: string
  source_table: string
  condition: string | null
  key_columns: string
  select_sql: string
  delete_sql: string
  state: 'pending' | 'running' | 'done'
  last_key: string | null
  rows_deleted: number
}

interface BatchRow {
  id: number
  cleanup_id: string
  task_id: string
  batch_no: number
  sql: string
  rows: number
  first_key: string | null
  last_key: string | null
  host: string
  user: string
  started_at: string
  ended_at: string
  elapsed_ms: number
}

/** Input of `cleanups.create`: a record's own fields (counters and times start at zero / now). */
export type CleanupInput = Pick<CleanupRecord, 'jobId' | 'runId' | 'dataTime' | 'forced' | 'reason' | 'host' | 'user' | 'pid' | 'batchSize' | 'error'> & { state: 'running' | 'refused' }

const keyText = (k: readonly Value[] | undefined) => (k ? JSON.stringify(encodeValues(k as Value[])) : null)
const keyOf = (s: string | null): Value[] | undefined => (s === null ? undefined : decodeValues(JSON.parse(s) as EncodedValue[]))

/** The clean-up history repository. */
export class CleanupsRepo {
  readonly #db: Database.Database

  constructor(db: Database.Database) {
    this.#db = db
  }

  /**
   * Record a clean-up (running, or refused with its `error`).
   * @throws StoreError `NOT_FOUND` (path `runId`) when the run does not exist.
   */
  create(input: CleanupInput): CleanupRecord {
    if (!this.#db.prepare('SELECT 1 FROM runs WHERE id = ?').get(input.runId)) throw new StoreError('NOT_FOUND', `runId: no run with id ${JSON.stringify(input.runId)}`, 'runId')
    const now = nowIso()
    const row: CleanupRow = {
      id: newId(),
      job_id: input.jobId && this.#db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(input.jobId) ? input.jobId : null,
      run_id: input.runId,
      data_time: input.dataTime,
      state: input.state,
      forced: input.forced ? 1 : 0,
      reason: input.reason ?? null,
      host: input.host,
      user: input.user,
      pid: input.pid ?? null,
      batch_size: input.batchSize,
      rows_deleted: 0,
      error: input.error ?? null,
      created_at: now,
      updated_at: now,
      ended_at: input.state === 'refused' ? now : null,
    }
    this.#db
      .prepare(
        `INSERT INTO cleanups (id, job_id, run_id, data_time, state, forced, reason, host, user, pid, batch_size, rows_deleted, error, created_at, updated_at, ended_at)
         VALUES (@id, @job_id, @run_id, @data_time, @state, @forced, @reason, @host, @user, @pid, @batch_size, @rows_deleted, @error, @created_at, @updated_at, @ended_at)`,
      )
      .run(row)
    return toCleanup(row)
  }

  /** A clean-up by id; undefined when there is none. */
  get(id: string): CleanupRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM cleanups WHERE id = ?').get(id) as CleanupRow | undefined
    return r ? toCleanup(r) : undefined
  }

  /** Clean-ups newest first, of one run and/or job. Default limit 50. */
  list(opts: { runId?: string; jobId?: string; limit?: number } = {}): CleanupRecord[] {
    const rows = this.#db
      .prepare(`SELECT * FROM cleanups WHERE (@run IS NULL OR run_id = @run) AND (@job IS NULL OR job_id = @job) ORDER BY id DESC LIMIT @limit`)
      .all({ run: opts.runId ?? null, job: opts.jobId ?? null, limit: Math.max(1, Math.min(opts.limit ?? 50, 1000)) }) as CleanupRow[]
    return rows.map(toCleanup)
  }

  /** Take up a clean-up again (resume): running, with this process's host, user and pid. */
  resume(id: string, who: { host: string; user: string; pid: number }): void {
    this.#db.prepare(`UPDATE cleanups SET state = 'running', host = ?, user = ?, pid = ?, error = NULL, ended_at = NULL, updated_at = ? WHERE id = ?`).run(who.host, who.user, who.pid, nowIso(), id)
  }

  /** End a clean-up in `state` (with `error` for failed / terminated). */
  finish(id: string, state: Exclude<CleanupState, 'running'>, error?: string): void {
    const now = nowIso()
    this.#db.prepare('UPDATE cleanups SET state = ?, error = ?, pid = NULL, updated_at = ?, ended_at = ? WHERE id = ?').run(state, error ?? null, now, now, id)
  }

  /** Record the tables of a clean-up (once, when it starts). */
  addTasks(tasks: Array<Omit<CleanupTaskRecord, 'state' | 'rowsDeleted' | 'lastKey'>>): void {
    const ins = this.#db.prepare(
      `INSERT INTO cleanup_tasks (cleanup_id, task_id, source_table, condition, key_columns, select_sql, delete_sql, state, last_key, rows_deleted)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, 0)`,
    )
    this.#db.transaction(() => {
      for (const t of tasks) ins.run(t.cleanupId, t.taskId, t.table, t.condition ?? null, JSON.stringify(t.keyColumns), t.selectSql, t.deleteSql)
    })()
  }

  /** The tables of a clean-up, in the order they were added. */
  tasks(cleanupId: string): CleanupTaskRecord[] {
    return (this.#db.prepare('SELECT * FROM cleanup_tasks WHERE cleanup_id = ? ORDER BY rowid').all(cleanupId) as TaskRow[]).map(toTask)
  }

  /** Mark a table of a clean-up `running` or `done`. */
  setTaskState(cleanupId: string, taskId: string, state: 'running' | 'done'): void {
    this.#db.prepare('UPDATE cleanup_tasks SET state = ? WHERE cleanup_id = ? AND task_id = ?').run(state, cleanupId, taskId)
  }

  /**
   * Record one committed batch: its history row, the table's last key and counts, the clean-up's
   * count, in one transaction (the resume point moves only with a recorded batch).
   */
  addBatch(b: Omit<CleanupBatchRecord, 'id' | 'firstKey' | 'lastKey'> & { firstKey?: readonly Value[]; lastKey: readonly Value[] }): void {
    const now = nowIso()
    this.#db.transaction(() => {
      this.#db
        .prepare(`INSERT INTO cleanup_batches (cleanup_id, task_id, batch_no, sql, rows, first_key, last_key, host, user, started_at, ended_at, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(b.cleanupId, b.taskId, b.batchNo, b.sql, b.rows, keyText(b.firstKey), keyText(b.lastKey), b.host, b.user, b.startedAt, b.endedAt, b.elapsedMs)
      this.#db.prepare('UPDATE cleanup_tasks SET last_key = ?, rows_deleted = rows_deleted + ? WHERE cleanup_id = ? AND task_id = ?').run(keyText(b.lastKey), b.rows, b.cleanupId, b.taskId)
      this.#db.prepare('UPDATE cleanups SET rows_deleted = rows_deleted + ?, updated_at = ? WHERE id = ?').run(b.rows, now, b.cleanupId)
    })()
  }

  /** Batches of a clean-up, oldest first (optionally of one table). */
  batches(cleanupId: string, taskId?: string): CleanupBatchRecord[] {
    return (this.#db.prepare('SELECT * FROM cleanup_batches WHERE cleanup_id = ? AND (? IS NULL OR task_id = ?) ORDER BY id').all(cleanupId, taskId ?? null, taskId ?? null) as BatchRow[]).map(toBatch)
  }
}

function toCleanup(r: CleanupRow): CleanupRecord {
  return {
    id: r.id,
    ...(r.job_id !== null ? { jobId: r.job_id } : {}),
    runId: r.run_id,
    dataTime: r.data_time,
    state: r.state,
    forced: r.forced === 1,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    host: r.host,
    user: r.user,
    ...(r.pid !== null ? { pid: r.pid } : {}),
    batchSize: r.batch_size,
    rowsDeleted: r.rows_deleted,
    ...(r.error !== null ? { error: r.error } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  }
}

function toTask(r: TaskRow): CleanupTaskRecord {
  const lastKey = keyOf(r.last_key)
  return {
    cleanupId: r.cleanup_id,
    taskId: r.task_id,
    table: r.source_table,
    ...(r.condition !== null ? { condition: r.condition } : {}),
    keyColumns: JSON.parse(r.key_columns) as string[],
    selectSql: r.select_sql,
    deleteSql: r.delete_sql,
    state: r.state,
    ...(lastKey ? { lastKey } : {}),
    rowsDeleted: r.rows_deleted,
  }
}

function toBatch(r: BatchRow): CleanupBatchRecord {
  const firstKey = keyOf(r.first_key)
  const lastKey = keyOf(r.last_key)
  return {
    id: r.id,
    cleanupId: r.cleanup_id,
    taskId: r.task_id,
    batchNo: r.batch_no,
    sql: r.sql,
    rows: r.rows,
    ...(firstKey ? { firstKey } : {}),
    ...(lastKey ? { lastKey } : {}),
    host: r.host,
    user: r.user,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    elapsedMs: r.elapsed_ms,
  }
}
