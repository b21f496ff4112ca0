/**
 * Append-mostly records of runs and connections: run logs, dirty records, SQL query history, plus
 * the settings key/value table.
 */
import type Database from 'better-sqlite3'
import type { Value } from '../core/types.js'
import { decodeValues, encodeValues, type EncodedValue } from './codec.js'
import { StoreError } from './errors.js'
import { fkGuard } from './runs.js'
import { jsonStringify, nowIso, paging, toIso } from './util.js'

// ---------------------------------------------------------------------------------------------
// Run logs

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
/** Every {@link LogLevel}, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** One log line to append. `ts` defaults to now; a Date / epoch ms / zoned ISO string is stored as UTC ISO with ms. */
export interface LogInput {
  level: LogLevel
  taskId?: string
  message: string
  ts?: string | number | Date
}

/** A stored log line. `id` increases with every append and is never reused: use it as a tail cursor. */
export interface LogEntry {
  id: number
  runId: string
  ts: string
  level: LogLevel
  taskId?: string
  message: string
}

/** The run logs repository (`store.logs`). */
export class LogsRepo {
  readonly #db: Database.Database
  readonly #insert: Database.Statement<[string, string, string, string | null, string]>
  readonly #after: Database.Statement<[string, number, number], LogRow>
  readonly #last: Database.Statement<[string, number], LogRow>

  constructor(db: Database.Database) {
    this.#db = db
    this.#insert = db.prepare('INSERT INTO run_logs (run_id, ts, level, task_id, message) VALUES (?, ?, ?, ?, ?)')
    this.#after = db.prepare('SELECT * FROM run_logs WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?')
    this.#last = db.prepare('SELECT * FROM run_logs WHERE run_id = ? ORDER BY id DESC LIMIT ?')
  }

  /**
   * Append log lines, all in one transaction (batch them: one call per flush, not per line).
   * @returns the id of the last line appended (0 when `entries` is empty).
   * @throws StoreError `NOT_FOUND` (path `runId`), `INVALID` (path `entries[i].level` / `.message` / `.ts`).
   */
  append(runId: string, entries: LogInput | readonly LogInput[]): number {
    const list = Array.isArray(entries) ? entries : [entries as LogInput]
    const now = nowIso()
    const rows = list.map((e, i): [string, string, string, string | null, string] => {
      if (!LOG_LEVELS.includes(e.level)) throw new StoreError('INVALID', `entries[${i}].level: expected one of ${LOG_LEVELS.join(', ')}`, `entries[${i}].level`)
      if (typeof e.message !== 'string') throw new StoreError('INVALID', `entries[${i}].message: expected a string`, `entries[${i}].message`)
      return [runId, e.ts === undefined ? now : toIso(e.ts, `entries[${i}].ts`), e.level, e.taskId ?? null, e.message]
    })
    if (rows.length === 0) return 0
    return this.#db
      .transaction(() => {
        let last = 0
        for (const r of rows) last = Number(fkGuard(() => this.#insert.run(...r), 'runId', runId).lastInsertRowid)
        return last
      })
      .immediate()
  }

  /**
   * Log lines of a run in append order. With `afterId`: the lines after it, up to `limit` (follow a
   * running run by passing the last id seen). Without: the last `limit` lines. Default limit 200.
   */
  tail(runId: string, opts: { limit?: number; afterId?: number } = {}): LogEntry[] {
    const { limit } = paging(opts, 200)
    if (opts.afterId !== undefined) return this.#after.all(runId, opts.afterId, limit).map(toLog)
    return this.#last.all(runId, limit).reverse().map(toLog)
  }
}

interface LogRow {
  id: number
  run_id: string
  ts: string
  level: LogLevel
  task_id: string | null
  message: string
}

function toLog(r: LogRow): LogEntry {
  const e: LogEntry = { id: r.id, runId: r.run_id, ts: r.ts, level: r.level, message: r.message }
  if (r.task_id !== null) e.taskId = r.task_id
  return e
}

// ---------------------------------------------------------------------------------------------
// Dirty records

/** A row the target refused, with the source values (canonical {@link Value}s, stored losslessly by codec.ts). */
export interface DirtyInput {
  /** The database's message. */
  reason: string
  /** The database's error code (`ER_DATA_TOO_LONG`, `22001`, ...). */
  code?: string
  /** The target column the error names. */
  column?: string
  /** The row's values, in the order of `columns`. */
  values: Value[]
  /** Column names of `values`. */
  columns: string[]
  /** The split of the task the row was read in (a re-done split's records are replaced). */
  splitIndex?: number
}

/** A stored dirty record. `id` increases in insertion order. */
export interface DirtyRecord extends DirtyInput {
  id: number
  runId: string
  taskId: string
  createdAt: string
}

interface DirtyRow {
  id: number
  run_id: string
  task_id: string
  reason: string
  code: string | null
  column_name: string | null
  columns: string
  vals: string
  created_at: string
  split_index?: number | null
}

/** The dirty records repository (`store.dirty`). */
export class DirtyRepo {
  readonly #db: Database.Database
  readonly #insert: Database.Statement<[Omit<DirtyRow, 'id'>]>
  readonly #list: Database.Statement<[{ run_id: string; task_id: string | null; limit: number; offset: number }], DirtyRow>
  readonly #count: Database.Statement<[{ run_id: string; task_id: string | null }], { n: number }>

  constructor(db: Database.Database) {
    this.#db = db
    this.#insert = db.prepare(
      `INSERT INTO dirty_records (run_id, task_id, reason, code, column_name, columns, vals, created_at, split_index)
       VALUES (@run_id, @task_id, @reason, @code, @column_name, @columns, @vals, @created_at, @split_index)`,
    )
    const where = 'run_id = @run_id AND (@task_id IS NULL OR task_id = @task_id)'
    this.#list = db.prepare(`SELECT * FROM dirty_records WHERE ${where} ORDER BY id LIMIT @limit OFFSET @offset`)
    this.#count = db.prepare(`SELECT count(*) AS n FROM dirty_records WHERE ${where}`)
  }

  /**
   * Keep dirty records of a task, all in one transaction.
   * @returns the number added.
   * @throws StoreError `NOT_FOUND` (path `runId`), `INVALID` naming `records[i].values[j]` for a value
   *   that is not canonical, or `records[i].columns` when it does not match the values' length.
   */
  add(runId: string, taskId: string, records: readonly DirtyInput[]): number {
    const now = nowIso()
    const rows = records.map((r, i): Omit<DirtyRow, 'id'> => {
      const p = `records[${i}]`
      if (typeof r.reason !== 'string') throw new StoreError('INVALID', `${p}.reason: expected a string`, `${p}.reason`)
      if (!Array.isArray(r.columns) || !Array.isArray(r.values) || r.columns.length !== r.values.length) {
        throw new StoreError('INVALID', `${p}.columns: expected one column name per value (${r.values?.length} values)`, `${p}.columns`)
      }
      return {
        run_id: runId,
        task_id: taskId,
        reason: r.reason,
        code: r.code ?? null,
        column_name: r.column ?? null,
        columns: JSON.stringify(r.columns),
        vals: JSON.stringify(encodeValues(r.values, `${p}.values`)),
        created_at: now,
        split_index: r.splitIndex ?? null,
      }
    })
    this.#db
      .transaction(() => {
        for (const r of rows) fkGuard(() => this.#insert.run(r), 'runId', runId)
      })
      .immediate()
    return rows.length
  }

  /** Delete the records of one split of a task (it is being re-done). @returns how many. */
  clearSplit(runId: string, taskId: string, splitIndex: number): number {
    return this.#db.prepare('DELETE FROM dirty_records WHERE run_id = ? AND task_id = ? AND split_index = ?').run(runId, taskId, splitIndex).changes
  }

  /**
   * Delete the records of every split of the run not checkpointed done (a resumed run re-does
   * those splits and finds their bad rows again). Records without a split index are kept.
   * @returns how many were deleted.
   */
  clearUnfinished(runId: string): number {
    return this.#db
      .prepare(
        `DELETE FROM dirty_records WHERE run_id = ? AND split_index IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM splits s WHERE s.run_id = dirty_records.run_id AND s.task_id = dirty_records.task_id AND s.split_index = dirty_records.split_index AND s.state = 'done')`,
      )
      .run(runId).changes
  }

  /** Number of records per split index of a task (records without one are left out). */
  countBySplit(runId: string, taskId: string): Map<number, number> {
    const rows = this.#db.prepare('SELECT split_index AS s, count(*) AS n FROM dirty_records WHERE run_id = ? AND task_id = ? AND split_index IS NOT NULL GROUP BY split_index').all(runId, taskId) as { s: number; n: number }[]
    return new Map(rows.map((r) => [r.s, r.n]))
  }

  /** Dirty records of a run (optionally one task) in insertion order, values decoded exactly. Default limit 100. */
  list(runId: string, opts: { taskId?: string; limit?: number; offset?: number } = {}): DirtyRecord[] {
    const { limit, offset } = paging(opts, 100)
    return this.#list.all({ run_id: runId, task_id: opts.taskId ?? null, limit, offset }).map((r) => {
      const d: DirtyRecord = {
        id: r.id,
        runId: r.run_id,
        taskId: r.task_id,
        reason: r.reason,
        columns: JSON.parse(r.columns) as string[],
        values: decodeValues(JSON.parse(r.vals) as EncodedValue[]),
        createdAt: r.created_at,
      }
      if (r.code !== null) d.code = r.code
      if (r.column_name !== null) d.column = r.column_name
      return d
    })
  }

  /** Number of dirty records of a run, or of one of its tasks. */
  count(runId: string, taskId?: string): number {
    return this.#count.get({ run_id: runId, task_id: taskId ?? null })!.n
  }
}

// ---------------------------------------------------------------------------------------------
// Query history

/** One statement run in the SQL editor. */
export interface QueryHistoryInput {
  connectionId: string
  sql: string
  /** Wall time in milliseconds. */
  elapsedMs?: number
  /** Rows returned (or affected). */
  rows?: number
  /** The driver's error message when it failed. */
  error?: string
  /** Default now. */
  ts?: string | number | Date
}

/** A stored query history entry; `id` increases in insertion order. Absent fields were not recorded. */
export interface QueryHistoryEntry {
  id: number
  connectionId: string
  sql: string
  elapsedMs?: number
  rows?: number
  error?: string
  ts: string
}

interface HistoryRow {
  id: number
  connection_id: string
  sql: string
  elapsed_ms: number | null
  rows: number | null
  error: string | null
  ts: string
}

/** The SQL query history repository (`store.queryHistory`), per connection; deleted with its connection. */
export class QueryHistoryRepo {
  readonly #insert: Database.Statement<[Omit<HistoryRow, 'id'>]>
  readonly #list: Database.Statement<[{ connection_id: string; search: string | null; limit: number; offset: number }], HistoryRow>
  readonly #clear: Database.Statement<[string]>

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO query_history (connection_id, sql, elapsed_ms, rows, error, ts) VALUES (@connection_id, @sql, @elapsed_ms, @rows, @error, @ts)')
    this.#list = db.prepare(
      `SELECT * FROM query_history WHERE connection_id = @connection_id AND (@search IS NULL OR sql LIKE '%' || @search || '%' ESCAPE '\\')
       ORDER BY id DESC LIMIT @limit OFFSET @offset`,
    )
    this.#clear = db.prepare('DELETE FROM query_history WHERE connection_id = ?')
  }

  /** Record a statement. @throws StoreError `NOT_FOUND` (path `connectionId`), `INVALID`. */
  add(entry: QueryHistoryInput): QueryHistoryEntry {
    if (typeof entry.sql !== 'string') throw new StoreError('INVALID', 'sql: expected a string', 'sql')
    const row: Omit<HistoryRow, 'id'> = {
      connection_id: entry.connectionId,
      sql: entry.sql,
      elapsed_ms: entry.elapsedMs ?? null,
      rows: entry.rows ?? null,
      error: entry.error ?? null,
      ts: entry.ts === undefined ? nowIso() : toIso(entry.ts, 'ts'),
    }
    const id = Number(fkGuard(() => this.#insert.run(row), 'connectionId', entry.connectionId).lastInsertRowid)
    return toHistory({ id, ...row })
  }

  /** A connection's history, newest first; `search` matches a substring of the SQL. Default limit 100. */
  list(connectionId: string, opts: { search?: string; limit?: number; offset?: number } = {}): QueryHistoryEntry[] {
    const { limit, offset } = paging(opts, 100)
    const search = opts.search ? opts.search.replace(/[\\%_]/g, (c) => '\\' + c) : null
    return this.#list.all({ connection_id: connectionId, search, limit, offset }).map(toHistory)
  }

  /** Forget a connection's history. @returns entries deleted. */
  clear(connectionId: string): number {
    return this.#clear.run(connectionId).changes
  }
}

function toHistory(r: HistoryRow): QueryHistoryEntry {
  const e: QueryHistoryEntry = { id: r.id, connectionId: r.connection_id, sql: r.sql, ts: r.ts }
  if (r.elapsed_ms !== null) e.elapsedMs = r.elapsed_ms
  if (r.rows !== null) e.rows = r.rows
  if (r.error !== null) e.error = r.error
  return e
}

// ---------------------------------------------------------------------------------------------
// Settings

/** The settings repository (`store.settings`): JSON values by key (`theme`, `language`, `window`...). */
export class SettingsRepo {
  readonly #get: Database.Statement<[string], { value: string }>
  readonly #set: Database.Statement<[string, string, string]>
  readonly #delete: Database.Statement<[string]>
  readonly #all: Database.Statement<[], { key: string; value: string }>

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT value FROM settings WHERE key = ?')
    this.#set = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    this.#delete = db.prepare('DELETE FROM settings WHERE key = ?')
    this.#all = db.prepare('SELECT key, value FROM settings ORDER BY key')
  }

  /** The value of `key` (parsed JSON), or undefined when unset. The type parameter is not checked. */
  get<T = unknown>(key: string): T | undefined {
    const r = this.#get.get(key)
    return r ? (JSON.parse(r.value) as T) : undefined
  }

  /** Set `key` to a JSON value. @throws StoreError `INVALID` (path `value`) for values JSON cannot hold. */
  set(key: string, value: unknown): void {
    if (typeof key !== 'string' || key === '') throw new StoreError('INVALID', 'key: expected a non-empty string', 'key')
    this.#set.run(key, jsonStringify(value, 'value'), nowIso())
  }

  /** Remove `key`. @returns false when it was not set. */
  delete(key: string): boolean {
    return this.#delete.run(key).changes > 0
  }

  /** Every setting. */
  all(): Record<string, unknown> {
    return Object.fromEntries(this.#all.all().map((r) => [r.key, JSON.parse(r.value)]))
  }
}
