/**
 * Runs, their tasks (one per table pair) and split checkpoints.
 */
import type Database from 'better-sqlite3'
import type { Split } from '../connectors/types.js'
import { sealSpec, unsealSpec } from '../job/secrets.js'
import { decodeValue, encodeValue, type EncodedValue } from './codec.js'
import type { SecretBox } from './secrets.js'
import { StoreError } from './errors.js'
import { jsonStringify, jsonText, newId, nowIso, paging, toIso } from './util.js'

/**
 * Life of a run: `created` -> `running` -> `succeeded` | `failed` | `terminated` (cancelled by the
 * user). `inconsistent`: the run stopped without reaching a final state (its process died) or its
 * verification found the target differs; a resumed run may go back to `running`.
 */
export type RunState = 'created' | 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'terminated' | 'inconsistent'
/** Every {@link RunState}. `succeeded_with_warnings`: the data moved but a schema object was left out (main/engine/events.ts). */
export const RUN_STATES: readonly RunState[] = ['created', 'running', 'succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent']
const FINAL: ReadonlySet<RunState> = new Set(['succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent'])

/** Input of `runs.create`. */
export interface RunInput {
  /** The saved job this run executes, if any (must exist). */
  jobId?: string
  /** The job version executed; default: the job's latest version when `jobId` is given. */
  jobVersion?: number
  /** Display name (usually the job's name). */
  name: string
  /** Variable values the spec was resolved with. */
  vars?: Record<string, string>
  /** Snapshot of the spec the run executes (JSON value, or JSON text stored exactly). */
  spec: unknown
}

/**
 * Totals recorded by `runs.finish`. The named fields are also columns (for lists); the whole
 * object, extra fields included, is kept as JSON in `summary`.
 */
export interface RunSummary {
  /** ISO-8601 (UTC with milliseconds once stored). */
  startedAt?: string
  endedAt?: string
  rowsRead: number
  rowsWritten: number
  /** Bytes moved (approximate, see `approxValueBytes`). */
  bytes: number
  /** Dirty records kept. */
  dirty: number
  [extra: string]: unknown
}

/** A run as lists show it (without the spec snapshot). */
export interface RunListItem {
  id: string
  jobId?: string
  jobVersion?: number
  name: string
  vars: Record<string, string>
  state: RunState
  /** The error message of a failed run (set by `setState`). */
  error?: string
  createdAt: string
  updatedAt: string
  startedAt?: string
  endedAt?: string
  rowsRead: number
  rowsWritten: number
  bytes: number
  dirty: number
  summary?: RunSummary
}

/** A run with its spec snapshot. */
export interface Run extends RunListItem {
  spec: unknown
  specText: string
}

interface RunRow {
  id: string
  job_id: string | null
  job_version: number | null
  name: string
  vars: string
  spec?: string
  state: RunState
  error: string | null
  created_at: string
  updated_at: string
  started_at: string | null
  ended_at: string | null
  rows_read: number
  rows_written: number
  bytes: number
  dirty: number
  summary: string | null
  secrets?: Buffer | null
  secrets_scheme?: string | null
}

const LIST_COLS = 'id, job_id, job_version, name, vars, state, error, created_at, updated_at, started_at, ended_at, rows_read, rows_written, bytes, dirty, summary'

/** The runs repository (`store.runs`). Runs list newest first (ids are time-ordered). */
export class RunsRepo {
  readonly #db: Database.Database
  readonly #insert: Database.Statement<[RunRow]>
  readonly #get: Database.Statement<[string], RunRow>
  readonly #latestVersion: Database.Statement<[string], { latest_version: number }>
  readonly #hasVersion: Database.Statement<[string, number], unknown>
  readonly #setState: Database.Statement<[{ id: string; state: RunState; error: string | null; now: string; final: number }]>
  readonly #finish: Database.Statement<[Record<string, unknown>]>
  readonly #list: Database.Statement<[{ state: string | null; job_id: string | null; limit: number; offset: number }], RunRow>
  readonly #count: Database.Statement<[{ state: string | null; job_id: string | null }], { n: number }>
  readonly #delete: Database.Statement<[string]>
  readonly #box: SecretBox | undefined

  /** `box` encrypts the inline passwords of run specs (main/job/secrets.ts); without it such a spec is refused. */
  constructor(db: Database.Database, box?: SecretBox) {
    this.#db = db
    this.#box = box
    this.#insert = db.prepare(
      `INSERT INTO runs (id, job_id, job_version, name, vars, spec, state, error, created_at, updated_at, started_at, ended_at, rows_read, rows_written, bytes, dirty, summary, secrets, secrets_scheme)
       VALUES (@id, @job_id, @job_version, @name, @vars, @spec, @state, @error, @created_at, @updated_at, @started_at, @ended_at, @rows_read, @rows_written, @bytes, @dirty, @summary, @secrets, @secrets_scheme)`,
    )
    this.#get = db.prepare('SELECT * FROM runs WHERE id = ?')
    this.#latestVersion = db.prepare('SELECT latest_version FROM jobs WHERE id = ?')
    this.#hasVersion = db.prepare('SELECT 1 FROM job_versions WHERE job_id = ? AND version = ?')
    this.#setState = db.prepare(
      `UPDATE runs SET state = @state, error = @error, updated_at = @now,
         started_at = CASE WHEN @state = 'running' AND started_at IS NULL THEN @now ELSE started_at END,
         ended_at = CASE WHEN @final THEN COALESCE(ended_at, @now) ELSE NULL END
       WHERE id = @id`,
    )
    this.#finish = db.prepare(
      `UPDATE runs SET started_at = COALESCE(@started_at, started_at), ended_at = COALESCE(@ended_at, ended_at),
         rows_read = @rows_read, rows_written = @rows_written, bytes = @bytes, dirty = @dirty, summary = @summary, updated_at = @now
       WHERE id = @id`,
    )
    const where = `(@state IS NULL OR state = @state) AND (@job_id IS NULL OR job_id = @job_id)`
    this.#list = db.prepare(`SELECT ${LIST_COLS} FROM runs WHERE ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
    this.#count = db.prepare(`SELECT count(*) AS n FROM runs WHERE ${where}`)
    this.#delete = db.prepare('DELETE FROM runs WHERE id = ?')
  }

  /**
   * Record a new run in state `created`.
   * @throws StoreError `NOT_FOUND` (path `jobId`) for an unknown job, `INVALID` (path `jobVersion`,
   *   `name`, `vars`, `spec`).
   */
  create(input: RunInput): Run {
    if (typeof input?.name !== 'string' || input.name === '') throw new StoreError('INVALID', 'name: a run needs a name', 'name')
    const vars = input.vars ?? {}
    for (const [k, v] of Object.entries(vars)) {
      if (typeof v !== 'string') throw new StoreError('INVALID', `vars.${k}: expected a string, got ${typeof v}`, `vars.${k}`)
    }
    let spec = jsonText(input.spec, 'spec')
    // Inline passwords never reach the spec text: masked there, kept encrypted beside it.
    const sealed = sealSpec(spec)
    let secrets: Buffer | null = null
    if (Object.keys(sealed.secrets).length) {
      if (!this.#box) throw new StoreError('INVALID', 'spec: holds an inline password and the store has no secret box to encrypt it', 'spec')
      spec = JSON.stringify(sealed.masked)
      secrets = this.#box.encrypt(JSON.stringify(sealed.secrets))
    }
    let jobVersion = input.jobVersion ?? null
    if (input.jobId !== undefined) {
      const job = this.#latestVersion.get(input.jobId)
      if (!job) throw new StoreError('NOT_FOUND', `jobId: no job with id ${JSON.stringify(input.jobId)}`, 'jobId')
      jobVersion ??= job.latest_version
      if (!this.#hasVersion.get(input.jobId, jobVersion)) {
        throw new StoreError('INVALID', `jobVersion: job ${input.jobId} has no version ${jobVersion}`, 'jobVersion')
      }
    }
    const now = nowIso()
    const row: RunRow = {
      id: newId(),
      job_id: input.jobId ?? null,
      job_version: jobVersion,
      name: input.name,
      vars: JSON.stringify(vars),
      spec,
      state: 'created',
      error: null,
      created_at: now,
      updated_at: now,
      started_at: null,
      ended_at: null,
      rows_read: 0,
      rows_written: 0,
      bytes: 0,
      dirty: 0,
      summary: null,
      secrets,
      secrets_scheme: secrets ? this.#box!.scheme : null,
    }
    this.#insert.run(row)
    return this.#unseal(row, toRun(row) as Run)
  }

  /**
   * Move a run to `state`, recording `error` (cleared when absent). Entering `running` sets
   * `startedAt` the first time and clears `endedAt` (a resumed run); entering a final state
   * (`succeeded`, `succeeded_with_warnings`, `failed`, `terminated`, `inconsistent`) sets `endedAt` if unset.
   * @throws StoreError `INVALID` (path `state`), `NOT_FOUND` (path `id`).
   */
  setState(id: string, state: RunState, error?: string): void {
    if (!RUN_STATES.includes(state)) throw new StoreError('INVALID', `state: expected one of ${RUN_STATES.join(', ')}, got ${JSON.stringify(state)}`, 'state')
    const r = this.#setState.run({ id, state, error: error ?? null, now: nowIso(), final: FINAL.has(state) ? 1 : 0 })
    if (r.changes === 0) throw new StoreError('NOT_FOUND', `no run with id ${JSON.stringify(id)}`, 'id')
  }

  /**
   * Record a run's totals (does not change its state; call `setState` for that). `startedAt` /
   * `endedAt`, when given, override the times `setState` recorded.
   * @throws StoreError `NOT_FOUND` (path `id`), `INVALID` naming the summary field.
   */
  finish(id: string, summary: RunSummary): void {
    const row: Record<string, unknown> = { id, now: nowIso(), started_at: null, ended_at: null }
    const stored: RunSummary = { ...summary }
    for (const k of ['startedAt', 'endedAt'] as const) {
      if (summary[k] !== undefined) row[k === 'startedAt' ? 'started_at' : 'ended_at'] = stored[k] = toIso(summary[k]!, `summary.${k}`)
    }
    for (const [k, col] of [['rowsRead', 'rows_read'], ['rowsWritten', 'rows_written'], ['bytes', 'bytes'], ['dirty', 'dirty']] as const) {
      const v = summary[k]
      if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('INVALID', `summary.${k}: expected a non-negative integer, got ${String(v)}`, `summary.${k}`)
      row[col] = v
    }
    row.summary = jsonStringify(stored, 'summary')
    if (this.#finish.run(row).changes === 0) throw new StoreError('NOT_FOUND', `no run with id ${JSON.stringify(id)}`, 'id')
  }

  /**
   * A run with its spec snapshot; undefined when there is none. `spec` has its inline passwords
   * back (in memory, for a resume or rerun); `specText` is the stored text, passwords masked.
   * Mask `spec` (main/job/secrets.ts `maskSpec`) before showing it anywhere.
   */
  get(id: string): Run | undefined {
    const row = this.#get.get(id)
    return row ? this.#unseal(row, toRun(row) as Run) : undefined
  }

  #unseal(row: RunRow, run: Run): Run {
    if (!row.secrets || !this.#box || row.secrets_scheme !== this.#box.scheme) return run
    try {
      run.spec = unsealSpec(run.spec, JSON.parse(this.#box.decrypt(row.secrets)) as Record<string, string>)
    } catch {
      /* another key: the spec stays masked (its connections fail to log in, saying so) */
    }
    return run
  }

  /** Runs newest first, optionally of one state and/or job. Default limit 50. */
  list(opts: { state?: RunState; jobId?: string; limit?: number; offset?: number } = {}): RunListItem[] {
    const { limit, offset } = paging(opts, 50)
    return this.#list.all({ state: opts.state ?? null, job_id: opts.jobId ?? null, limit, offset }).map(toRun)
  }

  /** Number of runs matching the same filters as `list`. */
  count(opts: { state?: RunState; jobId?: string } = {}): number {
    return this.#count.get({ state: opts.state ?? null, job_id: opts.jobId ?? null })!.n
  }

  /** Delete a run with its tasks, splits, logs and dirty records. @returns false when there was none. */
  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0
  }

  /** Run `fn` in one transaction (e.g. several `setState`/`finish` calls that belong together). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate()
  }
}

function toRun(r: RunRow): RunListItem | Run {
  const out: RunListItem & Partial<Run> = {
    id: r.id,
    name: r.name,
    vars: JSON.parse(r.vars) as Record<string, string>,
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    rowsRead: r.rows_read,
    rowsWritten: r.rows_written,
    bytes: r.bytes,
    dirty: r.dirty,
  }
  if (r.job_id !== null) out.jobId = r.job_id
  if (r.job_version !== null) out.jobVersion = r.job_version
  if (r.error !== null) out.error = r.error
  if (r.started_at !== null) out.startedAt = r.started_at
  if (r.ended_at !== null) out.endedAt = r.ended_at
  if (r.summary !== null) out.summary = JSON.parse(r.summary) as RunSummary
  if (r.spec !== undefined) {
    out.specText = r.spec
    out.spec = JSON.parse(r.spec)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Run tasks

/** State of one task. `skipped`: nothing to do (e.g. excluded, or already complete on resume). */
export type TaskState = 'pending' | 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'terminated' | 'inconsistent' | 'skipped'
/** Every {@link TaskState}. */
export const TASK_STATES: readonly TaskState[] = ['pending', 'running', 'succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent', 'skipped']
/** The dashboard stages of one table's run (DESIGN.md glossary). */
export type TaskStage = 'ExportTable' | 'ImportTable' | 'TableDataDiff'
/** Every {@link TaskStage}, in dashboard order. */
export const TASK_STAGES: readonly TaskStage[] = ['ExportTable', 'ImportTable', 'TableDataDiff']

/** One task of a run: one table pair. Counters are totals so far (not deltas). */
export interface RunTask {
  runId: string
  /** Stable within the run, e.g. `Album`. */
  taskId: string
  /** Display name of the source table / query, e.g. `chinook.Album`. */
  source: string
  /** Display name of the target table. */
  target: string
  state: TaskState
  stage: TaskStage
  rowsRead: number
  rowsWritten: number
  bytes: number
  dirty: number
  /** From the source's statistics (not exact). */
  estimatedRows?: number
  error?: string
  startedAt?: string
  endedAt?: string
}

/** Input of `runTasks.upsert`: omitted fields take the defaults `pending`, `ExportTable`, 0. */
export type RunTaskInput = Pick<RunTask, 'runId' | 'taskId' | 'source' | 'target'> & Partial<Omit<RunTask, 'runId' | 'taskId' | 'source' | 'target'>>

/** Fields `runTasks.update` may change. `undefined` keeps a field; `null` clears an optional one. */
export interface RunTaskPatch {
  source?: string
  target?: string
  state?: TaskState
  stage?: TaskStage
  rowsRead?: number
  rowsWritten?: number
  bytes?: number
  dirty?: number
  estimatedRows?: number | null
  error?: string | null
  /** ISO-8601 / Date / epoch ms; stored as UTC with milliseconds. */
  startedAt?: string | Date | number | null
  endedAt?: string | Date | number | null
}

const TASK_COLS: Record<keyof RunTaskPatch, string> = {
  source: 'source',
  target: 'target',
  state: 'state',
  stage: 'stage',
  rowsRead: 'rows_read',
  rowsWritten: 'rows_written',
  bytes: 'bytes',
  dirty: 'dirty',
  estimatedRows: 'estimated_rows',
  error: 'error',
  startedAt: 'started_at',
  endedAt: 'ended_at',
}

interface TaskRow {
  run_id: string
  task_id: string
  source: string
  target: string
  state: TaskState
  stage: TaskStage
  rows_read: number
  rows_written: number
  bytes: number
  dirty: number
  estimated_rows: number | null
  error: string | null
  started_at: string | null
  ended_at: string | null
}

/** The run tasks repository (`store.runTasks`). */
export class RunTasksRepo {
  readonly #db: Database.Database
  readonly #upsert: Database.Statement<[Record<string, unknown>]>
  readonly #get: Database.Statement<[string, string], TaskRow>
  readonly #list: Database.Statement<[string], TaskRow>
  readonly #updates = new Map<string, Database.Statement<[Record<string, unknown>]>>()

  constructor(db: Database.Database) {
    this.#db = db
    this.#upsert = db.prepare(
      `INSERT INTO run_tasks (run_id, task_id, source, target, state, stage, rows_read, rows_written, bytes, dirty, estimated_rows, error, started_at, ended_at, ord)
       VALUES (@run_id, @task_id, @source, @target, @state, @stage, @rows_read, @rows_written, @bytes, @dirty, @estimated_rows, @error, @started_at, @ended_at,
               (SELECT COALESCE(MAX(ord), 0) + 1 FROM run_tasks WHERE run_id = @run_id))
       ON CONFLICT (run_id, task_id) DO UPDATE SET source = excluded.source, target = excluded.target, state = excluded.state, stage = excluded.stage,
         rows_read = excluded.rows_read, rows_written = excluded.rows_written, bytes = excluded.bytes, dirty = excluded.dirty,
         estimated_rows = excluded.estimated_rows, error = excluded.error, started_at = excluded.started_at, ended_at = excluded.ended_at`,
    )
    this.#get = db.prepare('SELECT * FROM run_tasks WHERE run_id = ? AND task_id = ?')
    this.#list = db.prepare('SELECT * FROM run_tasks WHERE run_id = ? ORDER BY ord')
  }

  /**
   * Create a task or replace all its fields (omitted ones take their defaults). Keeps its position
   * in the run's task order.
   * @throws StoreError `NOT_FOUND` (path `runId`) for an unknown run, `INVALID` naming the field.
   */
  upsert(task: RunTaskInput): RunTask {
    const full: RunTaskPatch = { state: 'pending', stage: 'ExportTable', rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0, ...task }
    const params: Record<string, unknown> = { run_id: task.runId, task_id: task.taskId }
    for (const [k, col] of Object.entries(TASK_COLS) as [keyof RunTaskPatch, string][]) params[col] = taskValue(k, full[k] ?? null)
    if (typeof task.taskId !== 'string' || task.taskId === '') throw new StoreError('INVALID', 'taskId: expected a non-empty string', 'taskId')
    fkGuard(() => this.#upsert.run(params), 'runId', task.runId)
    return this.get(task.runId, task.taskId)!
  }

  /**
   * Change some fields of a task (cheap: one cached prepared UPDATE per set of fields). Meant for
   * progress every second or so, not per row.
   * @throws StoreError `NOT_FOUND` (path `taskId`), `INVALID` naming the field.
   */
  update(runId: string, taskId: string, patch: RunTaskPatch): void {
    const keys = (Object.keys(patch) as (keyof RunTaskPatch)[]).filter((k) => patch[k] !== undefined).sort()
    if (keys.length === 0) {
      if (!this.#get.get(runId, taskId)) throw notFoundTask(runId, taskId)
      return
    }
    const params: Record<string, unknown> = { run_id: runId, task_id: taskId }
    for (const k of keys) {
      if (!(k in TASK_COLS)) throw new StoreError('INVALID', `${k}: not a task field`, k)
      params[TASK_COLS[k]] = taskValue(k, patch[k]!)
    }
    const sig = keys.join(',')
    let stmt = this.#updates.get(sig)
    if (!stmt) {
      stmt = this.#db.prepare(`UPDATE run_tasks SET ${keys.map((k) => `${TASK_COLS[k]} = @${TASK_COLS[k]}`).join(', ')} WHERE run_id = @run_id AND task_id = @task_id`)
      this.#updates.set(sig, stmt)
    }
    if (stmt.run(params).changes === 0) throw notFoundTask(runId, taskId)
  }

  /** Apply several task patches of one run in one transaction (one progress tick for all tasks). */
  updateMany(runId: string, patches: ({ taskId: string } & RunTaskPatch)[]): void {
    this.#db
      .transaction(() => {
        for (const { taskId, ...patch } of patches) this.update(runId, taskId, patch)
      })
      .immediate()
  }

  /** One task; undefined when there is none. */
  get(runId: string, taskId: string): RunTask | undefined {
    const r = this.#get.get(runId, taskId)
    return r ? toTask(r) : undefined
  }

  /** The tasks of a run, in the order they were first upserted. */
  list(runId: string): RunTask[] {
    return this.#list.all(runId).map(toTask)
  }
}

function notFoundTask(runId: string, taskId: string): StoreError {
  return new StoreError('NOT_FOUND', `run ${runId} has no task ${JSON.stringify(taskId)}`, 'taskId')
}

/** Validate one task field and convert it to its column value. */
function taskValue(k: keyof RunTaskPatch, v: unknown): unknown {
  switch (k) {
    case 'state':
      if (!TASK_STATES.includes(v as TaskState)) throw new StoreError('INVALID', `state: expected one of ${TASK_STATES.join(', ')}, got ${JSON.stringify(v)}`, 'state')
      return v
    case 'stage':
      if (!TASK_STAGES.includes(v as TaskStage)) throw new StoreError('INVALID', `stage: expected one of ${TASK_STAGES.join(', ')}, got ${JSON.stringify(v)}`, 'stage')
      return v
    case 'source':
    case 'target':
      if (typeof v !== 'string') throw new StoreError('INVALID', `${k}: expected a string`, k)
      return v
    case 'rowsRead':
    case 'rowsWritten':
    case 'bytes':
    case 'dirty':
      return count(v, k)
    case 'estimatedRows':
      return v === null ? null : count(v, k)
    case 'error':
      if (v !== null && typeof v !== 'string') throw new StoreError('INVALID', `error: expected a string or null`, 'error')
      return v
    case 'startedAt':
    case 'endedAt':
      return v === null ? null : toIso(v as string, k)
  }
}

function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new StoreError('INVALID', `${field}: expected a non-negative integer, got ${String(v)}`, field)
  return v
}

function toTask(r: TaskRow): RunTask {
  const t: RunTask = {
    runId: r.run_id,
    taskId: r.task_id,
    source: r.source,
    target: r.target,
    state: r.state,
    stage: r.stage,
    rowsRead: r.rows_read,
    rowsWritten: r.rows_written,
    bytes: r.bytes,
    dirty: r.dirty,
  }
  if (r.estimated_rows !== null) t.estimatedRows = r.estimated_rows
  if (r.error !== null) t.error = r.error
  if (r.started_at !== null) t.startedAt = r.started_at
  if (r.ended_at !== null) t.endedAt = r.ended_at
  return t
}

/** Run `fn`; turn a foreign key failure into `NOT_FOUND` naming `field`. */
export function fkGuard<T>(fn: () => T, field: string, value: unknown): T {
  try {
    return fn()
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new StoreError('NOT_FOUND', `${field}: no such ${field.replace(/Id$/, '')} ${JSON.stringify(value)}`, field)
    }
    throw e
  }
}

// ---------------------------------------------------------------------------------------------
// Split checkpoints

/** Key range of a split (`Split.range` of the connector interface). */
export type SplitRange = NonNullable<Split['range']>

/** Checkpoint of one split of one task. A `done` split is not read again when the run resumes. */
export interface SplitCheckpoint {
  runId: string
  taskId: string
  /** `Split.index`: 0-based, stable for a given plan. */
  splitIndex: number
  state: 'pending' | 'done'
  /** Rows written by the split (when done). */
  rows: number
  bytes: number
  /** The split's key range; bounds round-trip exactly (bigint, Buffer, strings). */
  range?: SplitRange
  updatedAt: string
}

interface SplitRow {
  run_id: string
  task_id: string
  split_index: number
  state: 'pending' | 'done'
  rows: number
  bytes: number
  range: string | null
  updated_at: string
}

/** The split checkpoints repository (`store.splits`). */
export class SplitsRepo {
  readonly #db: Database.Database
  readonly #tasks: RunTasksRepo
  readonly #plan: Database.Statement<[Record<string, unknown>]>
  readonly #done: Database.Statement<[Record<string, unknown>]>
  readonly #doneList: Database.Statement<[string, string], SplitRow>
  readonly #list: Database.Statement<[string, string], SplitRow>
  readonly #clear: Database.Statement<[string, string]>
  readonly #prep: Database.Statement<[string, string, string, string]>
  readonly #preps: Database.Statement<[string], { task_id: string; info: string }>
  readonly #clearPreps: Database.Statement<[string]>

  constructor(db: Database.Database, tasks: RunTasksRepo) {
    this.#db = db
    this.#tasks = tasks
    this.#plan = db.prepare(
      `INSERT INTO splits (run_id, task_id, split_index, state, rows, bytes, range, updated_at)
       VALUES (@run_id, @task_id, @split_index, 'pending', 0, 0, @range, @now) ON CONFLICT DO NOTHING`,
    )
    this.#done = db.prepare(
      `INSERT INTO splits (run_id, task_id, split_index, state, rows, bytes, range, updated_at)
       VALUES (@run_id, @task_id, @split_index, 'done', @rows, @bytes, @range, @now)
       ON CONFLICT (run_id, task_id, split_index) DO UPDATE SET state = 'done', rows = excluded.rows, bytes = excluded.bytes,
         range = COALESCE(excluded.range, range), updated_at = excluded.updated_at`,
    )
    this.#doneList = db.prepare(`SELECT * FROM splits WHERE run_id = ? AND task_id = ? AND state = 'done' ORDER BY split_index`)
    this.#list = db.prepare(`SELECT * FROM splits WHERE run_id = ? AND task_id = ? ORDER BY split_index`)
    this.#clear = db.prepare('DELETE FROM splits WHERE run_id = ? AND task_id = ?')
    this.#prep = db.prepare(
      `INSERT INTO run_task_prep (run_id, task_id, info, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, task_id) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at`,
    )
    this.#preps = db.prepare('SELECT task_id, info FROM run_task_prep WHERE run_id = ?')
    this.#clearPreps = db.prepare('DELETE FROM run_task_prep WHERE run_id = ?')
  }

  /**
   * Record what several tasks of a run prepared (JSON `info` per task, see main/engine/run.ts
   * PreparedTask) with their planned splits (as {@link plan}), all in one transaction: a task
   * recorded as prepared always has its split plan, and 300 tables cost one commit, not 600.
   * @throws StoreError `NOT_FOUND` (path `runId`), `INVALID` naming the field.
   */
  savePrepared(runId: string, entries: { taskId: string; info: unknown; splits?: { splitIndex: number; range?: SplitRange }[] }[]): void {
    const now = nowIso()
    this.#db
      .transaction(() => {
        for (const e of entries) {
          e.splits?.forEach((s, i) => {
            const params = { run_id: runId, task_id: e.taskId, split_index: index(s.splitIndex, `splits[${i}].splitIndex`), range: encodeRange(s.range, `splits[${i}].range`), now }
            fkGuard(() => this.#plan.run(params), 'runId', runId)
          })
          fkGuard(() => this.#prep.run(runId, e.taskId, jsonStringify(e.info, 'info'), now), 'runId', runId)
        }
      })
      .immediate()
  }

  /** What each task of a run recorded with {@link savePrepared}: taskId -> info. */
  prepared<T = unknown>(runId: string): Map<string, T> {
    return new Map(this.#preps.all(runId).map((r) => [r.task_id, JSON.parse(r.info) as T]))
  }

  /** Forget a run's task preparation records (the run succeeded: nothing left to resume). */
  clearPrepared(runId: string): void {
    this.#clearPreps.run(runId)
  }

  /**
   * Mark several splits done in one transaction (see {@link markDone}; the engine batches them so
   * a run of many small tables does not pay one synchronous commit per split).
   */
  markDoneMany(runId: string, splits: { taskId: string; splitIndex: number; rows: number; bytes: number; range?: SplitRange }[]): void {
    if (!splits.length) return
    const now = nowIso()
    this.#db
      .transaction(() => {
        for (const d of splits) {
          const params = { run_id: runId, task_id: d.taskId, split_index: index(d.splitIndex, 'splitIndex'), rows: count(d.rows, 'rows'), bytes: count(d.bytes, 'bytes'), range: encodeRange(d.range, 'range'), now }
          fkGuard(() => this.#done.run(params), 'runId', runId)
        }
      })
      .immediate()
  }

  /**
   * Record a task's planned splits as `pending`, in one transaction. Splits already recorded (from a
   * previous attempt of the run) are left as they are, so `done` stays done.
   * @throws StoreError `NOT_FOUND` (path `runId`), `INVALID` (path `splits[i].range...`).
   */
  plan(runId: string, taskId: string, splits: { splitIndex: number; range?: SplitRange }[]): void {
    const now = nowIso()
    this.#db
      .transaction(() => {
        splits.forEach((s, i) => {
          const params = { run_id: runId, task_id: taskId, split_index: index(s.splitIndex, `splits[${i}].splitIndex`), range: encodeRange(s.range, `splits[${i}].range`), now }
          fkGuard(() => this.#plan.run(params), 'runId', runId)
        })
      })
      .immediate()
  }

  /**
   * Mark a split done with the rows and bytes it wrote, in its own transaction (committed, and with
   * the store's `synchronous=FULL` durable, when this returns). `task`, when given, is applied to the
   * task's row in the same transaction (e.g. its counters), so counters and checkpoints agree after
   * a crash.
   * @throws StoreError `NOT_FOUND` (path `runId` / `taskId`), `INVALID` naming the field.
   */
  markDone(runId: string, taskId: string, splitIndex: number, done: { rows: number; bytes: number; range?: SplitRange }, task?: RunTaskPatch): void {
    const params = {
      run_id: runId,
      task_id: taskId,
      split_index: index(splitIndex, 'splitIndex'),
      rows: count(done.rows, 'rows'),
      bytes: count(done.bytes, 'bytes'),
      range: encodeRange(done.range, 'range'),
      now: nowIso(),
    }
    this.#db
      .transaction(() => {
        fkGuard(() => this.#done.run(params), 'runId', runId)
        if (task) this.#tasks.update(runId, taskId, task)
      })
      .immediate()
  }

  /** The done splits of a task, by index (what a resumed run skips). */
  doneSplits(runId: string, taskId: string): SplitCheckpoint[] {
    return this.#doneList.all(runId, taskId).map(toSplit)
  }

  /** All recorded splits of a task, by index. */
  list(runId: string, taskId: string): SplitCheckpoint[] {
    return this.#list.all(runId, taskId).map(toSplit)
  }

  /** Forget a task's checkpoints (e.g. the target was truncated and the task starts over). @returns rows deleted. */
  clear(runId: string, taskId: string): number {
    return this.#clear.run(runId, taskId).changes
  }
}

function index(v: unknown, field: string): number {
  return count(v, field)
}

interface EncodedRange extends Omit<SplitRange, 'lower' | 'upper'> {
  lower?: EncodedValue
  upper?: EncodedValue
}

function encodeRange(r: SplitRange | undefined, field: string): string | null {
  if (r === undefined || r === null) return null
  if (typeof r !== 'object' || typeof r.column !== 'string') throw new StoreError('INVALID', `${field}.column: expected the splitPk column name`, `${field}.column`)
  const e: EncodedRange = { ...r, lower: undefined, upper: undefined }
  if ('lower' in r && r.lower !== undefined) e.lower = encodeValue(r.lower, `${field}.lower`)
  if ('upper' in r && r.upper !== undefined) e.upper = encodeValue(r.upper, `${field}.upper`)
  return JSON.stringify(e)
}

function toSplit(r: SplitRow): SplitCheckpoint {
  const s: SplitCheckpoint = { runId: r.run_id, taskId: r.task_id, splitIndex: r.split_index, state: r.state, rows: r.rows, bytes: r.bytes, updatedAt: r.updated_at }
  if (r.range !== null) {
    const e = JSON.parse(r.range) as EncodedRange
    const range: SplitRange = { ...e, lower: undefined, upper: undefined }
    delete range.lower
    delete range.upper
    if ('lower' in e) range.lower = decodeValue(e.lower!, 'range.lower')
    if ('upper' in e) range.upper = decodeValue(e.upper!, 'range.upper')
    s.range = range
  }
  return s
}
