/**
 * The runner: executes a planned job.
 *
 * plan -> tasks (one per table pair) -> splits (by splitPk) -> N channels pulling units
 * (task, split) from one queue -> per unit: reader batches -> field mapping -> writer batches,
 * with one batch of read-ahead, job-wide throttling, dirty records and errorLimit, progress
 * events, and a checkpoint per finished split.
 *
 * Table DDL follows pgloader's order: CREATE TABLE with its primary key before the data; secondary
 * indexes and sequence positions after the table's data; foreign keys after all tables.
 */
import { availableParallelism } from 'node:os'
import { openConnector } from '../connectors/index.js'
import { isFileStoreKind, type ConnectionConfig, type Connector, type DdlPlan, type Split } from '../connectors/types.js'
import type { JobSpec, Problem } from '../job/spec.js'
import type { TimeContext } from '../job/variables.js'
import type { ChannelMessage, RedoPlan, Unit } from './channel.js'
import type { Counters, DirtyRecord, EngineEvent, RunState, RunSummary, TaskState, TaskSummary } from './events.js'
import { DEFAULT_RETRY, type RetryPolicy } from './faults.js'
import { isFileConnector, withFileSides } from './files.js'
import { planJob, type Plan, type PlannedTask } from './plan.js'
import { InProcessHost, WorkerHost, type ChannelHost } from './pool.js'
import { rawEligible } from './rawpath.js'
import { rawReadable } from '../connectors/raw.js'
import { addsPrimaryKey, createSchemaObjects, describeStatement } from './schema-objects.js'
import { safeRedoPlan, targetFilter, type TargetFilter } from './redo.js'
import { type TargetLocks } from './writelock.js'
import { Throttle } from './throttle.js'
import { truncateTargets } from './truncate.js'
import { loadDependencies, readyTask } from './fkorder.js'
import { dataTimeDelete, prepareLoad, scopeRedo } from './loadmode.js'
import { duplicateKey, sourceDuplicates } from './duplicates.js'
import { normalizeRunConfig } from '../job/runconfig.js'

export interface RunContext {
  runId: string
  job: JobSpec
  /** Resolved reader / writer connection settings (passwords in clear, in memory only). */
  reader: ConnectionConfig
  writer: ConnectionConfig
  vars: Record<string, string>
  time: TimeContext
  /** Overrides `setting.speed.channel`. */
  channels?: number
  signal?: AbortSignal
  onEvent?: (e: EngineEvent) => void
  /** Receives dirty records as they are found (store them; never drop them). */
  onDirty?: (records: DirtyRecord[]) => void
  /** A split is re-done: drop the dirty records stored for it (`DirtyRecord.splitIndex`). */
  onDirtyReset?: (taskId: string, splitIndex: number) => void
  /** Called once a split's rows are all written and committed (after `checkpoints.markDone`). */
  onSplitDone?: (taskId: string, split: Split, counters: Counters) => void
  /** Split checkpoints and task preparation records (state DB); without it a run cannot be resumed. */
  checkpoints?: Checkpoints
  /**
   * Where channels run: `worker` (a worker thread per channel, own connections), `inprocess`
   * (async loops on this thread) or `auto` (default; env `SLUICE_CHANNEL_MODE` overrides): workers
   * when more than one channel runs and the job's estimated rows reach {@link WORKER_MIN_ROWS},
   * unless every task takes the raw path (main/engine/rawpath.ts), which runs in-process.
   */
  channelMode?: 'auto' | 'worker' | 'inprocess'
  /** A split try fails after this many ms without a batch moving (default 10 minutes; env `SLUICE_SPLIT_TIMEOUT_MS`). */
  splitTimeoutMs?: number
  /** Retries of transient errors per split (default {@link DEFAULT_RETRY}). */
  retry?: RetryPolicy
  /**
   * The TableDataDiff stage: verify a task's target against its source after ImportTable, when
   * the job has `verify`. Injected (main/verify) so the engine does not depend on the verifier.
   */
  verifyTask?: (args: { task: PlannedTask; reader: Connector; writer: Connector; spec: NonNullable<JobSpec['verify']>; signal: AbortSignal }) => Promise<{ consistent: boolean; diffRows?: number; message: string }>
  /** Milliseconds between progress events per task (default 250). */
  progressIntervalMs?: number
  /**
   * Take the run's write locks on its target tables, after planning and before any DDL, preSql or
   * truncate (service.ts: state DB leases + database advisory locks, main/engine/locks.ts).
   * Rejects with the refusal ("<target> is already being written by run R"): the run fails.
   */
  lockTargets?: (tasks: PlannedTask[], writer: Connector) => Promise<TargetLocks>
}

/** Thrown (inside the run) when dirty records exceed `setting.errorLimit`. */
export class ErrorLimitExceeded extends Error {
  override name = 'ErrorLimitExceeded'
}

/**
 * What a run records about a task it prepared (created / truncated the target, planned splits),
 * so that a resumed attempt neither re-runs DDL, preSql or truncate nor re-plans the splits.
 */
export interface PreparedTask {
  /** The run created or truncated the target: rows in it are the run's own. */
  owned: boolean
  /** The run created the target table. */
  created: boolean
  /** DDL to run after the data, when the run created the table. */
  afterDdl?: Pick<DdlPlan, 'indexes' | 'foreignKeys' | 'sequences' | 'foreignKeyFast'>
  /** The task finished (indexes, postSql done) in an earlier attempt. */
  finished?: boolean
  /** Schema objects the earlier attempt left out (a resumed run reports them again). */
  schemaWarnings?: string[]
}

/**
 * Where a run keeps its checkpoints (service.ts implements it on the state DB).
 *
 * Resume contract: a split is `done` only after its last write committed; `markDone` is called
 * right after that. A crash between the commit and `markDone` leaves the split not done: a resumed
 * run re-does it idempotently (see {@link RedoPlan}), so no row is duplicated or lost.
 */
export interface Checkpoints {
  /** The earlier attempt's record of the task, when it prepared it. */
  prepared(taskId: string): PreparedTask | undefined
  /** The split boundaries the earlier attempt planned (never re-computed on resume). */
  plannedSplits(taskId: string): Array<{ index: number; range?: Split['range'] }>
  /** Record the task's preparation and its split plan, before any of its rows is written. */
  savePrepared(taskId: string, info: PreparedTask, splits?: Split[]): void
  /** Optional: {@link savePrepared} of several tasks at once (one commit for a batch of tables). */
  savePreparedMany?(entries: Array<{ taskId: string; info: PreparedTask; splits?: Split[] }>): void
  /** Splits finished by earlier attempts: index -> rows written, bytes and dirty records kept. */
  done(taskId: string): Map<number, { rows: number; bytes: number; dirty?: number }>
  /** Record a split finished (its rows all committed). */
  markDone(taskId: string, split: Split, counters: Counters): void
}

/** `auto` channel mode uses worker threads when a table has this many estimated rows (and more than one channel). */
export const WORKER_MIN_ROWS = 200_000

/** Default channel count: min(4, cores). */
export function defaultChannels(): number {
  return Math.max(1, Math.min(4, availableParallelism()))
}

interface TaskRt {
  plan: PlannedTask
  counters: Counters
  state: TaskState
  error?: string
  started: number
  ended?: number
  pending: number
  lastProgress: number
  /** The run's own rows are the only ones in the target (it created or truncated it). */
  owned: boolean
  /** Prepared by an earlier attempt of this run (resume): no DDL, preSql or truncate again. */
  resumed: boolean
  /** DDL still to run after the data (from this attempt's plan, or the earlier attempt's record). */
  afterDdl?: Pick<DdlPlan, 'indexes' | 'foreignKeys' | 'sequences' | 'foreignKeyFast'>
  /** Rows found different by the TableDataDiff stage. */
  diffRows?: number
  created: boolean
  prepared: boolean
  /** Holds one of the run's table slots (setting.speed.tables). */
  slot?: boolean
  /** Created and recorded by {@link bulkPrepare} (with this one split), target columns re-read. */
  bulk?: Split[]
  /** Its bulkPrepare batch, while that batch is being created (prepare() waits for it). */
  bulkPending?: Promise<void>
  /** The after-data index statements of a table created in a bulk batch ({@link createTable}). */
  afterIndexes?: string[]
  /** Schema objects of this table left out or refused by the target (see schema-objects.ts). */
  schemaWarnings: string[]
  /** The task's row filter on the target, for redo DELETEs (main/engine/redo.ts). */
  filter?: TargetFilter
  /** Other runs that wrote the target since this run first did (void range ownership). */
  intruders?: string[]
  /**
   * An APPEND rerun's delete of its data time's rows (loadmode.ts), run in the transaction of the
   * first batch of split `carrier`; the task's other splits wait until that batch committed.
   */
  gate?: { sql: string; params: unknown[]; carrier: number; open: boolean; opened: Promise<void>; release: () => void }
}

/** Open both sides, plan and run a job. Never throws for a data or job problem: the summary says it. */
export async function runJob(ctx: RunContext): Promise<RunSummary> {
  const startedAt = new Date()
  try {
    ctx = withFileSides(ctx)
  } catch {
    /* a bad variable in writer.file is reported by the planner's checks below */
  }
  const emit = (e: EngineEvent) => ctx.onEvent?.(e)
  const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string, taskId?: string) =>
    emit({ type: 'run/log', runId: ctx.runId, level, message, ts: new Date().toISOString(), ...(taskId ? { taskId } : {}) })
  const setRunState = (state: RunState, error?: string) => emit({ type: 'run/state', runId: ctx.runId, state, ...(error ? { error } : {}) })

  const abort = new AbortController()
  const onOuterAbort = () => abort.abort(ctx.signal!.reason ?? new Error('terminated'))
  if (ctx.signal) {
    if (ctx.signal.aborted) onOuterAbort()
    else ctx.signal.addEventListener('abort', onOuterAbort, { once: true })
  }

  let reader: Connector | undefined
  let writer: Connector | undefined
  const tasks: TaskRt[] = []
  let plan: Plan | undefined
  const warnings: string[] = []
  let runError: string | undefined
  let state: RunState = 'running'
  let locks: TargetLocks | undefined
  const total: Counters = { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }
  setRunState('running')

  try {
    // Both ends connect at once; whichever opened is closed in `finally` if the other failed.
    const [r, w] = await Promise.allSettled([openConnector(ctx.reader), openConnector(ctx.writer)])
    if (r.status === 'fulfilled') reader = r.value
    if (w.status === 'fulfilled') writer = w.value
    if (r.status === 'rejected') throw r.reason
    if (w.status === 'rejected') throw w.reason
    plan = await planJob(ctx.job, { reader: r.value, writer: w.value, vars: ctx.vars, time: ctx.time })
    for (const p of plan.problems) {
      const line = `${p.path}: ${p.message}`
      if (p.severity === 'warning') {
        warnings.push(line)
        log('warn', line)
      }
    }
    const errors = plan.problems.filter((p) => p.severity === 'error')
    if (errors.length) throw new JobInvalid(errors)
    if (ctx.lockTargets) locks = await ctx.lockTargets(plan.tasks, w.value)
    for (const t of plan.tasks) {
      tasks.push({ plan: t, counters: { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }, state: 'created', started: 0, pending: 0, lastProgress: 0, created: false, prepared: false, owned: false, resumed: false, schemaWarnings: [] })
      emit({ type: 'task/state', runId: ctx.runId, taskId: t.taskId, state: 'created', source: describeRead(t), target: t.target.name, ...(t.estimatedRows !== undefined ? { estimatedRows: t.estimatedRows } : {}) })
    }
    if (plan.notMigrated.length) log('info', `not migrated (listed only): ${plan.notMigrated.join(', ')}`)
    // A resumed run ran the writer's preSql in its first attempt already.
    const resuming = plan.tasks.some((t) => ctx.checkpoints?.prepared(t.taskId))
    if (resuming) log('info', 'resuming: tasks prepared by an earlier attempt keep their splits; finished splits are skipped')
    if (plan.preSql.length && !resuming) await w.value.execute(plan.preSql.filter(Boolean))
    // Truncate before load: every existing target of the job in one step, before any row moves (truncate.ts).
    try {
      for (const id of await truncateTargets(w.value, plan.tasks, (id) => !!ctx.checkpoints?.prepared(id))) tasks.find((t) => t.plan.taskId === id)!.owned = true
    } catch (e) {
      for (const t of tasks.filter((t) => t.plan.truncate && t.plan.targetExists)) {
        Object.assign(t, { state: 'failed', error: (e as Error).message, ended: Date.now() })
        emitTaskState(ctx, t, emit, 'ImportTable')
      }
      throw e
    }

    for (const t of tasks) {
      const intr = locks?.intruders(t.plan.target)
      if (intr?.length) t.intruders = intr
    }
    await runTasks(ctx, r.value, w.value, tasks, total, abort, log, emit, await loadDependencies(w.value, plan.tasks))

    // Foreign keys after all tables' data, for the tables this run created (each one skipped when
    // it exists already: an earlier attempt was killed after creating it).
    await createForeignKeys(ctx, w.value, tasks, log, emit, abort.signal)
    if (plan.postSql.length && !abort.signal.aborted) await w.value.execute(plan.postSql.filter(Boolean))
    const failed = tasks.filter((t) => t.state === 'failed')
    const inconsistent = tasks.filter((t) => t.state === 'inconsistent')
    if (abort.signal.aborted) {
      const reason = abort.signal.reason
      if (reason instanceof ErrorLimitExceeded) {
        state = 'failed'
        runError = reason.message
      } else {
        state = 'terminated'
        runError = 'terminated by user'
      }
    } else if (failed.length) {
      state = 'failed'
      runError = `${failed.length} of ${tasks.length} tasks failed: ${failed.map((t) => `${t.plan.taskId} (${t.error})`).join('; ')}`
    } else if (inconsistent.length) {
      state = 'inconsistent'
      runError = `data inconsistent in ${inconsistent.length} of ${tasks.length} tables: ${inconsistent.map((t) => `${t.plan.taskId} (${t.diffRows !== undefined ? `${t.diffRows} rows differ` : 'checksums differ'})`).join('; ')}`
    } else state = outcomeState(tasks, plan.notMigrated)
    for (const t of tasks) warnings.push(...t.schemaWarnings)
  } catch (e) {
    state = abort.signal.aborted && !(abort.signal.reason instanceof ErrorLimitExceeded) ? 'terminated' : 'failed'
    runError = e instanceof JobInvalid ? e.message : (e as Error).message
    if (abort.signal.reason instanceof ErrorLimitExceeded) runError = (abort.signal.reason as Error).message
    log('error', runError)
  } finally {
    ctx.signal?.removeEventListener('abort', onOuterAbort)
    await locks?.release().catch(() => undefined)
    // Bounded: a connection a channel failed to give back (a reader left mid-split) keeps a
    // pool's close waiting forever; the run ends anyway and says so.
    const open = await closeWithin({ reader, writer }, CLOSE_GRACE_MS)
    if (open.length) log('warn', `${open.join(' and ')} connections still in use ${CLOSE_GRACE_MS} ms after the run ended; not waiting for them`)
  }
  // Tables the run never reached (an errorLimit broken elsewhere, a failure): say so, and whether
  // their targets exist (new small tables are created together before the load: bulkPrepare).
  const never = tasks.filter((t) => t.state === 'created')
  const notStarted = never.map((t) => t.plan.taskId)
  if (notStarted.length && state !== 'succeeded' && state !== 'succeeded_with_warnings') {
    const empty = never.filter((t) => t.created).map((t) => t.plan.taskId)
    const how = empty.length === never.length ? 'no rows moved, targets created empty' : empty.length ? `no rows moved; created empty: ${empty.join(', ')}; the others not created` : 'target not created, no rows moved'
    const line = `${notStarted.length} of ${tasks.length} tables not started (${how}): ${notStarted.join(', ')}`
    runError = runError ? `${runError}; ${line}` : line
    log('warn', line)
  }
  for (const t of tasks) {
    if (t.state === 'created' || t.state === 'running') {
      const never = t.state === 'created'
      t.state = state === 'terminated' ? 'terminated' : 'failed'
      t.error ??= state === 'terminated' ? 'terminated' : never ? `not started: ${runError}` : runError
      t.ended ??= Date.now()
      emitTaskState(ctx, t, emit)
    }
  }
  setRunState(state, runError)
  const endedAt = new Date()
  const summary: RunSummary = {
    runId: ctx.runId,
    state,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    elapsedMs: endedAt.getTime() - startedAt.getTime(),
    ...total,
    tasks: tasks.map((t): TaskSummary => ({
      taskId: t.plan.taskId,
      source: describeRead(t.plan),
      target: t.plan.target.name,
      state: t.state,
      ...t.counters,
      ...(t.error ? { error: t.error } : {}),
      elapsedMs: t.started ? (t.ended ?? Date.now()) - t.started : 0,
      ...(t.plan.estimatedRows !== undefined ? { estimatedRows: t.plan.estimatedRows } : {}),
      ...(t.diffRows !== undefined ? { diffRows: t.diffRows } : {}),
      ...(t.schemaWarnings.length ? { schemaWarnings: t.schemaWarnings } : {}),
    })),
    notMigrated: plan?.notMigrated ?? [],
    warnings,
    ...(notStarted.length ? { notStarted } : {}),
    ...(runError ? { error: runError } : {}),
  }
  return summary
}

/**
 * The state of a run whose tasks all finished: `succeeded_with_warnings` when a task left a schema
 * object out (or the target refused one) or the source holds objects listed as not migrated
 * (views, triggers, routines); `succeeded` only when everything was carried.
 */
export function outcomeState(tasks: ReadonlyArray<{ state: TaskState }>, notMigrated: readonly string[]): RunState {
  return notMigrated.length || tasks.some((t) => t.state === 'succeeded_with_warnings') ? 'succeeded_with_warnings' : 'succeeded'
}

/** Record schema warnings on a task, logging each; a `succeeded` task becomes `succeeded_with_warnings`. */
function addSchemaWarnings(ctx: RunContext, t: TaskRt, ws: string[], log: (level: 'warn', message: string, taskId?: string) => void, emit: (e: EngineEvent) => void): void {
  if (!ws.length) return
  for (const w of ws) log('warn', w, t.plan.taskId)
  t.schemaWarnings.push(...ws)
  if (t.state === 'succeeded') {
    t.state = 'succeeded_with_warnings'
    emitTaskState(ctx, t, emit)
  }
}

/** Tables whose foreign keys PostgreSQL gets in one statement batch (see createForeignKeys). */
const FK_GROUP = 100

/** Foreign keys after all tables' data, for the tables this run created: each on its own. */
async function createForeignKeys(ctx: RunContext, writer: Connector, tasks: TaskRt[], log: (level: 'warn', message: string, taskId?: string) => void, emit: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
  // FK_CONCURRENCY tables at once (each ALTER validates its rows: on 300 tables one after another
  // that was seconds); each constraint of a table on its own (createSchemaObjects).
  let todo = tasks.filter((t) => t.created && (t.state === 'succeeded' || t.state === 'succeeded_with_warnings') && t.afterDdl?.foreignKeys.length)
  if (writer.kind === 'postgres') {
    // PostgreSQL: FK_GROUP tables' foreign keys in one round trip and one transaction, one group
    // after another (concurrent groups could deadlock: an ALTER locks the referenced table too).
    // A group the target refuses created nothing; its tables go the per-constraint way below.
    const fresh = todo.filter((t) => !t.resumed)
    const failed: TaskRt[] = []
    for (let i = 0; i < fresh.length && !signal.aborted; i += FK_GROUP) {
      const group = fresh.slice(i, i + FK_GROUP)
      try {
        await writer.execute([group.flatMap((t) => t.afterDdl!.foreignKeys.map((x) => x.replace(/;\s*$/, ''))).join(';\n')])
      } catch {
        failed.push(...group)
      }
    }
    todo = [...todo.filter((t) => t.resumed), ...failed]
  }
  let next = 0
  const worker = async () => {
    for (let t = todo[next++]; t; t = todo[next++]) {
      if (signal.aborted) return
      const fast = !t.resumed ? t.afterDdl!.foreignKeyFast : undefined
      const ws = fast ? await createForeignKeysFast(writer, t.afterDdl!.foreignKeys, fast, t.plan.target.name, signal) : await createSchemaObjects(writer, t.afterDdl!.foreignKeys, t.plan.target.name, signal, t.resumed ? { target: t.plan.target } : undefined)
      addSchemaWarnings(ctx, t, ws, log, emit)
    }
  }
  await Promise.all(Array.from({ length: Math.min(FK_CONCURRENCY, todo.length) }, worker))
}

/**
 * A table's foreign keys by {@link DdlPlan.foreignKeyFast}: each checked by its orphan query, then
 * added without the server's own check; each on its own, as createSchemaObjects does.
 * @returns one warning per constraint not created: an orphan row (its key values) or the error.
 */
async function createForeignKeysFast(writer: Connector, statements: readonly string[], fast: NonNullable<DdlPlan['foreignKeyFast']>, table: string, signal: AbortSignal): Promise<string[]> {
  const warnings: string[] = []
  for (let i = 0; i < fast.length; i++) {
    signal.throwIfAborted()
    const what = describeStatement(statements[i] ?? fast[i]!.add)
    try {
      const r = await writer.query(fast[i]!.orphans, [], { maxRows: 1 })
      const orphan = r.rows[0]
      if (orphan) {
        warnings.push(`${table}: ${what} not created: a row with (${r.columns.map((c) => c.name).join(', ')}) = (${orphan.map((v) => (v === null ? 'NULL' : String(v))).join(', ')}) has no parent row`)
        continue
      }
      await writer.execute([fast[i]!.add])
    } catch (e) {
      warnings.push(`${table}: ${what} not created: ${((e as Error).message ?? String(e)).replace(/^statement 1 of 1: /, '')}`)
    }
  }
  return warnings
}

/**
 * How long (ms) the end of a run waits for the reader's and writer's connections to close. Short,
 * so that a terminated run still ends within its 2 s budget.
 */
export const CLOSE_GRACE_MS = 500

/** Close the connectors, waiting at most `ms`; resolves with the names of those not closed by then. Never rejects. */
async function closeWithin(cs: Record<string, Connector | undefined>, ms: number): Promise<string[]> {
  const open = new Set<string>()
  const closing = Object.entries(cs).map(([name, c]) => {
    if (!c) return Promise.resolve()
    open.add(name)
    return c.close().then(
      () => void open.delete(name),
      () => void open.delete(name),
    )
  })
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(closing), new Promise<void>((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
  return [...open]
}

/** The job failed validation against the catalogs; carries the problems. */
export class JobInvalid extends Error {
  override name = 'JobInvalid'
  constructor(public readonly problems: Problem[]) {
    super(`the job is not valid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`)
  }
}

function describeRead(t: PlannedTask): string {
  return t.read.table ? t.read.table.name : 'querySql'
}

function emitTaskState(ctx: RunContext, t: TaskRt, emit: (e: EngineEvent) => void, stage?: 'ExportTable' | 'ImportTable' | 'TableDataDiff') {
  emit({
    type: 'task/state',
    runId: ctx.runId,
    taskId: t.plan.taskId,
    state: t.state,
    source: describeRead(t.plan),
    target: t.plan.target.name,
    ...(stage ? { stage } : {}),
    ...(t.plan.estimatedRows !== undefined ? { estimatedRows: t.plan.estimatedRows } : {}),
    ...(t.error ? { error: t.error } : {}),
  })
}


/**
 * How many splits to cut a table into: one per channel for small tables; from {@link SPLIT_ROWS}
 * estimated rows, two per channel, tapered (main/connectors/splits.ts: with 2 channels the parts
 * are 40/30/20/10 %, so both channels end together), and more for big tables so no split holds
 * more than {@link MAX_SPLIT_ROWS} rows on average (a resumed run re-does at most one split per
 * channel). Measured on the 1M-row bench table: 4 splits ran 3 % faster than 8 and 16 (each split
 * restarts the read and the first batch), DataX cuts `channel × splitFactor` likewise.
 */
export function splitCount(channels: number, estimatedRows: number | undefined): number {
  if (estimatedRows !== undefined && estimatedRows < WHOLE_ROWS) return 1
  const rows = estimatedRows ?? 0
  return rows >= SPLIT_ROWS ? Math.max(channels * 2, Math.ceil(rows / MAX_SPLIT_ROWS)) : channels
}

/**
 * Estimated rows below which a table is one split, read and written whole by one channel, with no
 * split query: on a database of many small tables, cutting a 500-row table in two costs two reads
 * and two COPYs for nothing; the other channels move other tables meanwhile (see {@link tablesAtOnce}).
 */
export const WHOLE_ROWS = 20_000

/**
 * How many tables a run moves at once (`setting.speed.tables`, OpenPie's `batch_parallel_size`).
 * Default: one when the job has no more tables than channels (every channel on one table, then
 * the next, as a single-table job); else max(channels, 4): a whole database of many small tables
 * is bound by round trips (catalog, DDL, COPY start, index builds), not by a core.
 */
export function tablesAtOnce(channels: number, tables: number | undefined, taskCount: number): number {
  return Math.max(1, Math.min(tables ?? (taskCount > channels ? Math.max(channels, 4) : 1), Math.max(1, taskCount)))
}

/** Estimated rows from which a table gets several splits per channel. */
export const SPLIT_ROWS = 50_000

/** Average rows per split above which a big table gets more splits (see {@link splitCount}). */
export const MAX_SPLIT_ROWS = 2_000_000

/** Channel mode for a run (see RunContext.channelMode). */
function chooseMode(ctx: RunContext, tasks: TaskRt[], channels: number, reader: Connector, writer: Connector): 'worker' | 'inprocess' {
  const env = process.env.SLUICE_CHANNEL_MODE
  const mode = ctx.channelMode && ctx.channelMode !== 'auto' ? ctx.channelMode : env === 'worker' || env === 'inprocess' ? env : 'auto'
  if (mode !== 'auto') return mode
  // SQLite connections are in-process files: no gain from threads.
  if (ctx.reader.kind === 'sqlite' && ctx.writer.kind === 'sqlite') return 'inprocess'
  // Units on the raw path (rawpath.ts) do almost no JS work per row: one thread drives every
  // channel's connections, without worker start-up (tsx, modules) or a heap per channel.
  const sp = ctx.job.setting.speed
  const throttled = (sp.record ?? 0) > 0 || (sp.byte ?? 0) > 0
  const rk = ctx.reader.kind
  const wk = ctx.writer.kind
  // A file side must really have its raw reader / writer (csv or tsv in UTF-8, a plain dialect;
  // Parquet files of kinds that take COPY text, whose encoding is JS work per value, yet measured
  // lighter and no slower in one thread than in a worker per channel).
  const sides =
    !!rawReadable(reader) &&
    (!isFileConnector(reader) || tasks.every((t) => reader.rawReadableFiles(t.plan.read.table?.name ?? '', writer.kind))) &&
    (!isFileConnector(writer) || tasks.every((t) => writer.takesRaw(t.plan.targetColumns.map((c) => c.type))))
  if (!throttled && sides && process.env.SLUICE_RAW !== '0' && tasks.length && tasks.every((t) => rawEligible(rk, wk, { ops: t.plan.ops, sourceWidth: t.plan.sourceColumns.length, targets: t.plan.targetColumns, sourceNames: t.plan.sourceColumns.map((c) => c.name) }) === true)) return 'inprocess'
  // Threads pay off for big tables on the canonical path (per-value work in JS); a database of
  // many small tables is bound by round trips, and a thread (with its own heap and connections)
  // per channel would only add start-up and memory: 300 small tables took 448 MB in workers.
  const biggest = tasks.reduce((n, t) => Math.max(n, t.plan.estimatedRows ?? 0), 0)
  return channels > 1 && biggest >= WORKER_MIN_ROWS ? 'worker' : 'inprocess'
}

/**
 * How to make a re-write of `split` safe (see {@link RedoPlan}); the rule lives in
 * main/engine/redo.ts: a redo removes only the task's own rows (its key range AND its `where` on
 * the target, or its range while no other run wrote the target), upserts by key, or is refused.
 */
export function redoPlan(t: { plan: PlannedTask; owned: boolean; filter?: TargetFilter; intruders?: string[]; afterDdl?: PreparedTask['afterDdl'] }, split: Split, writer: Connector, splitCount: number): RedoPlan {
  // A file writer re-writes a split idempotently: it deletes the split's earlier parts first.
  if (writer.kind === 'file') return { kind: 'none' }
  // A key built after the data (deferKey) is not there to upsert by until the task finishes.
  return safeRedoPlan({ ...t, keyPending: !!t.afterDdl?.indexes.some(addsPrimaryKey) }, split, writer, splitCount)
}

/**
 * Whether a new table's primary key is built after its data ({@link DdlPlan.primaryKeyAfterData})
 * instead of with the table: when several splits load it at once (`splits` > 1), each channel's
 * key range would insert into the middle of the index. Only where the key's values are known to be
 * distinct already, so the build cannot fail where the per-row check would have made a dirty
 * record: a MySQL or PostgreSQL table (the server enforces its primary key), read as a table (no
 * querySql), every key column carried as is (a plain column mapping, no time format; the DDL plan
 * offers the variant only for key columns of an exact type), plain inserts into a table this run
 * creates (no upsert, append / partition load or duplicate detection, which rely on the key), and
 * no `where` (a redo of a filtered read upserts by the key: main/engine/redo.ts).
 */
export function deferKey(p: PlannedTask, splits: number, readerKind: string, dupDetect: boolean): boolean {
  const src = p.sourceSchema
  if (!p.ddl?.primaryKeyAfterData || splits < 2 || p.targetExists || p.writeMode !== 'insert' || p.load || dupDetect || p.read.where?.trim()) return false
  if ((readerKind !== 'mysql' && readerKind !== 'postgres') || !src?.primaryKey.length || p.read.querySql !== undefined || !p.read.table) return false
  const key = p.targetSchema?.primaryKey ?? []
  if (key.length !== src.primaryKey.length) return false
  return key.every((name, i) => p.ops.some((op) => op.kind === 'column' && op.targetName === name && op.sourceName === src.primaryKey[i] && !op.timeFormat))
}

/** Tables whose foreign keys are created at once after the data (separate pooled connections). */
export const FK_CONCURRENCY = 4

/** Tables created per round trip by {@link bulkPrepare}. */
export const BULK_DDL_TABLES = 100

/**
 * DDL in bulk: the new, small tables of a job (one split, no preSql, not resumed) are created
 * {@link BULK_DDL_TABLES} at a time (on PostgreSQL as one multi-statement query: one round trip
 * and one commit for the batch), their real column types read back in one catalog snapshot, and
 * their preparation records saved in one state-DB transaction. A batch that fails is rolled back
 * (PostgreSQL) or left to the per-task path, which reports the table that cannot be created.
 * Before, each of 300 tables paid a CREATE, a commit, a catalog read and a state-DB commit in turn.
 */
async function bulkPrepare(ctx: RunContext, writer: Connector, tasks: TaskRt[], channels: number, log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, taskId?: string) => void): Promise<{ rest: Promise<void> }> {
  const cp = ctx.checkpoints
  const dupDetect = normalizeRunConfig(ctx.job).pkDuplicateDetect
  const cand = tasks.filter((t) => {
    const p = t.plan
    // Append / partitioned loads and duplicate detection prepare more than the table: per task.
    return !p.targetExists && p.ddl && !p.preSql.length && !p.load && !dupDetect && splitCount(channels, p.estimatedRows) === 1 && !cp?.prepared(p.taskId)
  })
  // File sides plan their own splits (a file is a split) and have no DDL to batch.
  if (cand.length < 2 || ctx.signal?.aborted || isFileStoreKind(ctx.reader.kind) || isFileStoreKind(ctx.writer.kind)) return { rest: Promise.resolve() }
  const batches: TaskRt[][] = []
  for (let i = 0; i < cand.length; i += BULK_DDL_TABLES) batches.push(cand.slice(i, i + BULK_DDL_TABLES))
  // The first batch is created before the channels start; the others while the first tables load
  // (a task of a later batch waits for its batch in prepare(): t.bulkPending).
  let chain: Promise<void> = Promise.resolve()
  for (const batch of batches) {
    const done = chain.then(() => (ctx.signal?.aborted ? undefined : createBatch(batch))).catch((e) => log('debug', `creating tables at once failed: ${(e as Error).message}`))
    for (const t of batch) t.bulkPending = done
    chain = done
  }
  await batches[0]![0]!.bulkPending
  return { rest: chain }

  async function createBatch(batch: TaskRt[]): Promise<void> {
    let made: TaskRt[] = []
    if (writer.kind === 'postgres') {
      // One multi-statement query: an implicit transaction, all created or none.
      try {
        await writer.execute([batch.flatMap((t) => t.plan.ddl!.create.map((c) => c.replace(/;\s*$/, ''))).join(';\n')])
        made = batch
      } catch (e) {
        log('debug', `creating ${batch.length} tables at once failed (${(e as Error).message}); the tables are created one by one`)
        return
      }
    } else {
      // DDL commits by itself here: one table at a time, a failing one left to the per-task path.
      for (const t of batch) {
        try {
          t.afterIndexes = await createTable(writer, t.plan.ddl!)
          made.push(t)
        } catch {
          /* prepare() creates it again and reports the error on its task */
        }
      }
    }
    if (!made.length) return
    log('info', `created ${made.length} tables`)
    const snap = await writer.catalog.tablesDetailed?.(made[0]!.plan.target.schema, made.map((t) => t.plan.target.name)).catch(() => undefined)
    const entries: Array<{ taskId: string; info: PreparedTask; splits?: Split[] }> = []
    for (const t of made) {
      const p = t.plan
      t.created = true
      t.owned = true
      t.afterDdl = { indexes: t.afterIndexes ?? p.ddl!.indexes, foreignKeys: p.ddl!.foreignKeys, sequences: p.ddl!.sequences, ...(p.ddl!.foreignKeyFast ? { foreignKeyFast: p.ddl!.foreignKeyFast } : {}) }
      const created = snap?.get(p.target.name) ?? (await writer.catalog.table(p.target))
      const cols = new Map(created.columns.map((c) => [c.name, c]))
      p.targetColumns = p.targetColumns.map((c) => cols.get(c.name) ?? c)
      if (!p.keyColumns && created.primaryKey.length) p.keyColumns = created.primaryKey
      for (const o of p.ddl!.omitted ?? []) {
        const w = `${p.target.name}: ${o}`
        t.schemaWarnings.push(w)
        log('warn', w, p.taskId)
      }
      t.bulk = [{ index: 0, read: p.read }]
      entries.push({ taskId: p.taskId, info: { owned: true, created: true, afterDdl: t.afterDdl }, splits: t.bulk })
    }
    if (cp?.savePreparedMany) cp.savePreparedMany(entries)
    else for (const e of entries) cp?.savePrepared(e.taskId, e.info, e.splits)
  }
}

async function runTasks(
  ctx: RunContext,
  reader: Connector,
  writer: Connector,
  tasks: TaskRt[],
  total: Counters,
  abort: AbortController,
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, taskId?: string) => void,
  emit: (e: EngineEvent) => void,
  /** Task id -> ids of tasks whose target its existing target references (fkorder.ts): loaded after them. */
  deps: Map<string, string[]> = new Map(),
): Promise<void> {
  const job = ctx.job
  const channels = Math.max(1, ctx.channels ?? job.setting.speed.channel ?? defaultChannels())
  const throttle = new Throttle(job.setting.speed.record, job.setting.speed.byte)
  const limit = job.setting.errorLimit
  const interval = ctx.progressIntervalMs ?? 250
  const signal = abort.signal
  const cp = ctx.checkpoints
  const runConfig = normalizeRunConfig(job)
  const timeoutMs = ctx.splitTimeoutMs ?? runConfig.splitTimeoutMs ?? (Number(process.env.SLUICE_SPLIT_TIMEOUT_MS) || 10 * 60_000)
  const retry = ctx.retry ?? DEFAULT_RETRY
  const byId = new Map(tasks.map((t) => [t.plan.taskId, t]))

  // Units are produced lazily: a task is prepared (DDL, preSql, truncate, splits) when the first
  // channel reaches it, so a long job starts moving rows at once.
  type Pending = { t: TaskRt; split: Split; redo: RedoPlan; redoFirst: boolean }
  const queue: Pending[] = []
  /** Tasks not started yet, in job order (started when a table slot is free and, for an existing target, the tables it references have ended: fkorder.ts). */
  const waiting = [...tasks]
  /** Preparations in flight (each channel that finds no unit prepares the next task itself). */
  const preparing = new Set<Promise<void>>()
  /** Tables in flight at most (see {@link tablesAtOnce}). */
  const tableCap = tablesAtOnce(channels, runConfig.tablesAtOnce, tasks.length)
  let active = 0
  /** Wakes channels waiting for a table slot (a task ended) or for units (a task was prepared). */
  let wake: () => void = () => {}
  let woken = new Promise<void>((r) => (wake = r))
  const notify = () => {
    const w = wake
    woken = new Promise<void>((r) => (wake = r))
    w()
  }
  /** A task left the running set (finished, failed, terminated): free its table slot once. */
  const release = (t: TaskRt) => {
    if (!t.slot) return
    t.slot = false
    active--
    notify()
  }
  let unitSeq = 0
  const inflight = new Map<number, { t: TaskRt; split: Split; outcome?: 'done' | 'error' }>()

  const progress = (t: TaskRt, force = false) => {
    const now = Date.now()
    if (!force && now - t.lastProgress < interval) return
    t.lastProgress = now
    emit({ type: 'run/progress', runId: ctx.runId, taskId: t.plan.taskId, ...t.counters, ...(t.plan.estimatedRows !== undefined ? { estimatedRows: t.plan.estimatedRows } : {}) })
  }

  /** Add rows and bytes to a task and to the run's totals (always both: the summary sums neither). */
  const count = (t: TaskRt, read: number, written: number, bytes: number) => {
    t.counters.rowsRead += read
    t.counters.rowsWritten += written
    t.counters.bytes += bytes
    total.rowsRead += read
    total.rowsWritten += written
    total.bytes += bytes
  }

  /** A split finished by an earlier attempt: its rows, bytes and dirty records count once. */
  const countDone = (t: TaskRt, d: { rows: number; bytes: number; dirty?: number }) => {
    count(t, d.rows, d.rows, d.bytes)
    if (d.dirty) {
      t.counters.dirty += d.dirty
      total.dirty += d.dirty
    }
  }
  /** Let the task's other splits go (its first batch, with the APPEND delete, committed). */
  const openGate = (t: TaskRt) => {
    if (!t.gate || t.gate.open) return
    t.gate.open = true
    t.gate.release()
    notify()
  }
  /** A unit held back until its task's first batch committed. */
  const gated = (u: { t: TaskRt; split: Split }) => !!u.t.gate && !u.t.gate.open && u.split.index !== u.t.gate.carrier

  const failTask = (t: TaskRt, e: unknown) => {
    openGate(t)
    if (t.state === 'failed' || t.state === 'terminated') return
    t.state = signal.aborted ? (signal.reason instanceof ErrorLimitExceeded ? 'failed' : 'terminated') : 'failed'
    t.error = signal.aborted && signal.reason instanceof Error ? signal.reason.message : e instanceof Error ? e.message : String(e)
    t.ended = Date.now()
    log('error', `${t.plan.taskId}: ${t.error}`, t.plan.taskId)
    emitTaskState(ctx, t, emit)
    // Drop the task's remaining units.
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.t === t) queue.splice(i, 1)
    release(t)
  }

  const prepare = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    if (t.bulkPending) {
      // Created with others in the background (bulkPrepare); when that failed, t.bulk stays unset
      // and the task creates its table itself below.
      await t.bulkPending
      t.bulkPending = undefined
    }
    t.started = Date.now()
    t.state = 'running'
    emitTaskState(ctx, t, emit, 'ExportTable')
    try {
      const before = t.bulk ? undefined : cp?.prepared(p.taskId)
      let splits: Split[]
      if (t.bulk) {
        // Created with other tables in one batch (bulkPrepare), its record saved with theirs.
        splits = t.bulk
      } else if (before) {
        // Resume: the target is as the earlier attempt left it; reuse its split boundaries.
        t.resumed = true
        t.owned = before.owned
        t.created = before.created
        if (before.afterDdl) t.afterDdl = before.afterDdl
        if (before.created && !before.finished) for (const o of p.ddl?.omitted ?? []) t.schemaWarnings.push(`${p.target.name}: ${o}`)
        splits = cp!.plannedSplits(p.taskId).map((s) => ({ index: s.index, read: s.range ? { ...p.read, splitPk: s.range.column } : p.read, ...(s.range ? { range: s.range } : {}) }))
        if (!splits.length) splits = [{ index: 0, read: p.read }]
        // An APPEND load whose first attempt finished no split may not have deleted its data
        // time's rows yet (the delete rides on the first batch): delete them now.
        const del = !before.finished && cp!.done(p.taskId).size === 0 ? dataTimeDelete(writer, p) : undefined
        if (del) await writer.query(del.sql, del.params)
        if (before.finished) {
          t.prepared = true
          t.schemaWarnings.push(...(before.schemaWarnings ?? []))
          t.state = t.schemaWarnings.length ? 'succeeded_with_warnings' : 'succeeded'
          t.ended = Date.now()
          for (const d of cp!.done(p.taskId).values()) countDone(t, d)
          log('info', `${p.taskId}: finished in an earlier attempt`, p.taskId)
          progress(t, true)
          emitTaskState(ctx, t, emit)
          return
        }
      } else {
        // The source's split plan is read while the target is being prepared (other connections).
        // An ordered read (import_order_by) is one split, so the order holds across the table.
        const wanted = p.read.orderBy ? 1 : splitCount(channels, p.estimatedRows)
        // One split of a database table needs no split query; a file reader's splits are its files.
        const planned: Promise<Split[]> = wanted === 1 && reader.kind !== 'file' ? Promise.resolve([{ index: 0, read: p.read }]) : reader.splits(p.read, wanted, { tapered: wanted > channels })
        planned.catch(() => undefined)
        if (!p.targetExists && p.ddl) {
          log('info', isFileConnector(writer) ? `writing files for ${p.target.name}` : `creating ${p.target.name}`, p.taskId)
          const later = process.env.SLUICE_KEY_AFTER_DATA !== '0' && deferKey(p, wanted, reader.kind, !!runConfig.pkDuplicateDetect) ? p.ddl.primaryKeyAfterData : undefined
          if (later) log('debug', `${p.target.name}: primary key built after the data (${wanted} splits load it at once)`, p.taskId)
          const indexes = await createTable(writer, later ? { ...p.ddl, create: later.create, indexes: [later.add, ...p.ddl.indexes] } : p.ddl)
          t.created = true
          t.owned = true
          t.afterDdl = { indexes, foreignKeys: p.ddl.foreignKeys, sequences: p.ddl.sequences, ...(p.ddl.foreignKeyFast ? { foreignKeyFast: p.ddl.foreignKeyFast } : {}) }
          for (const o of p.ddl.omitted ?? []) {
            const w = `${p.target.name}: ${o}`
            t.schemaWarnings.push(w)
            log('warn', w, p.taskId)
          }
        }
        if (p.preSql.length) await writer.execute(p.preSql.filter(Boolean))
        // Truncated before any task (runJob, truncate.ts): t.owned is set already.
        // A file target: writer.file.writeMode (truncate / append / nonConflict) applies now.
        if (isFileConnector(writer)) await writer.prepareTarget(p.target)
        // Append / partitioned load (loadmode.ts): the data time's rows or partition are the run's own.
        if (p.load) {
          const del = await prepareLoad(writer, p, (m) => log('info', m, p.taskId))
          t.owned = true
          if (del) {
            let release!: () => void
            const opened = new Promise<void>((r) => (release = r))
            t.gate = { ...del, carrier: -1, open: false, opened, release }
          }
        }
        if (runConfig.pkDuplicateDetect) await detectDuplicates(t)
        // Several splits per channel are tapered (big first, small last) so channels finish together.
        splits = await planned
        cp?.savePrepared(p.taskId, { owned: t.owned, created: t.created, ...(t.afterDdl ? { afterDdl: t.afterDdl } : {}) }, splits)
      }
      if (t.created && !t.bulk) {
        // Write with the types the target really has now.
        const created = await writer.catalog.table(p.target)
        const cols = new Map(created.columns.map((c) => [c.name, c]))
        p.targetColumns = p.targetColumns.map((c) => cols.get(c.name) ?? c)
        if (!p.keyColumns && created.primaryKey.length) p.keyColumns = created.primaryKey
      }
      const done = t.resumed ? cp!.done(p.taskId) : new Map<number, { rows: number; bytes: number }>()
      for (const d of done.values()) countDone(t, d)
      // What a redo of a split may remove is decided by the task's filter on the target (redo.ts).
      if (p.writeMode === 'insert' && (p.read.where?.trim() || p.read.querySql !== undefined)) t.filter = await targetFilter(p, reader, writer)
      const todo = splits.filter((s) => !done.has(s.index))
      if (done.size) log('info', `resuming: ${splits.length - todo.length} of ${splits.length} splits already done`, p.taskId)
      t.prepared = true
      t.pending = todo.length
      if (t.gate) {
        if (todo.length) t.gate.carrier = todo[0]!.index
        else openGate(t)
      }
      for (const split of todo) queue.push({ t, split, redo: scopeRedo(redoPlan(t, split, writer, splits.length), p, writer), redoFirst: t.resumed })
      emitTaskState(ctx, t, emit, 'ImportTable')
      if (todo.length === 0) await finishTask(t)
    } catch (e) {
      failTask(t, e)
    }
  }

  /** enable_pk_duplicate_detect: report the source rows of duplicated keys as dirty records before the import. */
  const detectDuplicates = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    const key = duplicateKey(p, job.verify?.key_columns)
    if (!key || !p.read.table) {
      log('warn', `${p.taskId}: enable_pk_duplicate_detect: ${p.read.table ? 'no key to check (no primary key; set verify.key_columns)' : 'a querySql read is not checked'}`, p.taskId)
      return
    }
    const d = await sourceDuplicates(reader, p, key)
    if (!d.keys) {
      log('info', `${p.taskId}: no duplicate (${key.join(', ')}) in the source`, p.taskId)
      return
    }
    log('warn', `${p.taskId}: ${d.keys} duplicated key(s) (${key.join(', ')}) in the source, ${d.rows} rows${d.records.length < d.rows ? `; the first ${d.records.length} reported` : ''}`, p.taskId)
    onMessage({ type: 'dirty', unitId: -1, taskId: p.taskId, records: d.records })
    if (signal.aborted) throw signal.reason
  }

  const finishTask = async (t: TaskRt): Promise<void> => {
    try {
      await finishTaskWork(t)
    } finally {
      if (t.state !== 'running') release(t)
    }
  }

  const finishTaskWork = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    try {
      if (t.created && t.afterDdl) {
        // Each index (CHECK, trigger, comment) on its own: one the target refuses is a schema
        // warning, never a failed task, and never skips the sequence position below.
        if (t.afterDdl.indexes.length) {
          log('info', `creating ${t.afterDdl.indexes.length} indexes and constraints on ${p.target.name}`, p.taskId)
          for (const w of await createSchemaObjects(writer, t.afterDdl.indexes, p.target.name, signal, t.resumed ? { target: p.target } : undefined)) {
            t.schemaWarnings.push(w)
            log('warn', w, p.taskId)
          }
        }
        if (t.afterDdl.sequences.length) await writer.execute(t.afterDdl.sequences)
      }
      // A file target: the manifest, and the files the run tracks (export files).
      if (isFileConnector(writer)) emit({ type: 'task/files', runId: ctx.runId, taskId: p.taskId, files: await writer.finishTarget(p.target) })
      if (p.postSql.length) await writer.execute(p.postSql.filter(Boolean))
      progress(t, true)
      if (job.verify && ctx.verifyTask) {
        emitTaskState(ctx, t, emit, 'TableDataDiff')
        const v = await ctx.verifyTask({ task: p, reader, writer, spec: job.verify, signal })
        if (v.diffRows !== undefined) t.diffRows = v.diffRows
        log(v.consistent ? 'info' : 'warn', `${p.taskId}: TableDataDiff (${job.verify.algorithm}): ${v.message}`, p.taskId)
        if (!v.consistent) {
          t.state = 'inconsistent'
          t.error = `data inconsistent: ${v.message}`
          t.ended = Date.now()
          emitTaskState(ctx, t, emit, 'TableDataDiff')
          return
        }
      }
      cp?.savePrepared(p.taskId, { owned: t.owned, created: t.created, ...(t.afterDdl ? { afterDdl: t.afterDdl } : {}), finished: true, ...(t.schemaWarnings.length ? { schemaWarnings: t.schemaWarnings } : {}) })
      t.state = t.schemaWarnings.length ? 'succeeded_with_warnings' : 'succeeded'
      t.ended = Date.now()
      log('info', `${p.taskId} -> ${p.target.name}: ${t.counters.rowsWritten} rows written, ${t.counters.dirty} dirty, ${((t.ended - t.started) / 1000).toFixed(2)} s`, p.taskId)
      emitTaskState(ctx, t, emit)
    } catch (e) {
      failTask(t, e)
    }
  }

  const nextUnit = async (): Promise<Pending | undefined> => {
    for (;;) {
      if (signal.aborted) return undefined
      const i = queue.findIndex((x) => !gated(x))
      if (i >= 0) return queue.splice(i, 1)[0]
      if (waiting.length && active < tableCap) {
        const ended = (id: string) => !['created', 'running'].includes(byId.get(id)?.state ?? 'succeeded')
        const t = readyTask(waiting, deps, ended, active > 0 || preparing.size > 0)
        if (t) {
          // Prepare it here; other channels prepare other tasks meanwhile (tables in parallel).
          waiting.splice(waiting.indexOf(t), 1)
          t.slot = true
          active++
          const pr: Promise<void> = prepare(t).finally(() => {
            preparing.delete(pr)
            if (t.state !== 'running') release(t)
            notify()
          })
          preparing.add(pr)
          await pr
          continue
        }
      }
      // Every task started, none being prepared and no unit held back by an APPEND gate: what is
      // left runs on other channels.
      if (!waiting.length && !preparing.size && !queue.length) return undefined
      // Wait: for a table slot, for a referenced table to end, for units from a preparation, or
      // for a gate to open (openGate notifies).
      await woken
    }
  }

  const checkLimit = () => {
    const dirty = total.dirty
    if (limit.record !== undefined && dirty > limit.record) return new ErrorLimitExceeded(`errorLimit exceeded: ${dirty} dirty records, setting.errorLimit.record allows ${limit.record}`)
    if (limit.percentage !== undefined && total.rowsRead > 0 && dirty / total.rowsRead > limit.percentage)
      return new ErrorLimitExceeded(`errorLimit exceeded: ${dirty} dirty of ${total.rowsRead} records read (${((dirty / total.rowsRead) * 100).toFixed(2)} %), setting.errorLimit.percentage allows ${limit.percentage * 100} %`)
    return undefined
  }

  const onMessage = (m: ChannelMessage) => {
    switch (m.type) {
      case 'progress': {
        const t = byId.get(m.taskId)
        if (!t) return
        count(t, m.rowsRead, m.rowsWritten, m.bytes)
        // A written batch has committed (with the APPEND delete): the other splits may go.
        if (m.rowsWritten > 0) openGate(t)
        progress(t)
        return
      }
      case 'dirty': {
        const t = byId.get(m.taskId)
        if (!t) return
        t.counters.dirty += m.records.length
        total.dirty += m.records.length
        ctx.onDirty?.(m.records)
        log('warn', `${m.records.length} dirty record(s) in ${m.taskId}; first: ${m.records[0]!.reason}`, m.taskId)
        // setting.errorLimit.tableRecord: the table fails on its own, the others go on.
        if (limit.tableRecord !== undefined && t.counters.dirty > limit.tableRecord && t.state === 'running')
          failTask(t, new Error(`errorLimit exceeded for table ${t.plan.taskId}: ${t.counters.dirty} dirty records, setting.errorLimit.tableRecord allows ${limit.tableRecord}`))
        const over = checkLimit()
        if (over && !signal.aborted) {
          failTask(t, over)
          abort.abort(over)
        }
        return
      }
      case 'splitDone': {
        const u = inflight.get(m.unitId)
        if (!u) return
        u.outcome = 'done'
        // A split whose dirty records broke the errorLimit is not checkpointed: a resume re-does
        // it (clearing its range first), so the rows refused the first time are tried again.
        if (m.counters.dirty && signal.reason instanceof ErrorLimitExceeded) return
        cp?.markDone(u.t.plan.taskId, u.split, m.counters)
        ctx.onSplitDone?.(u.t.plan.taskId, u.split, m.counters)
        return
      }
      case 'error': {
        const u = m.unitId !== undefined ? inflight.get(m.unitId) : undefined
        if (u) {
          u.outcome = 'error'
          failTask(u.t, new Error(m.message))
        } else log('error', m.message)
        return
      }
      case 'dirtyReset': {
        // A retried split drops the dirty records of its failed tries (they are found again).
        const t = byId.get(m.taskId)
        if (!t) return
        t.counters.dirty -= m.count
        total.dirty -= m.count
        ctx.onDirtyReset?.(m.taskId, m.splitIndex)
        return
      }
      case 'log':
        log(m.level, m.message, m.taskId)
        return
    }
  }

  const bulk = await bulkPrepare(ctx, writer, tasks, channels, log)
  const mode = chooseMode(ctx, tasks, channels, reader, writer)
  // Lanes: `channel` splits of a big table, or `tables` small tables, in flight at once.
  const n = Math.max(channels, tableCap)
  // In-process channels read through the run's own reader: open its connections while the first
  // task is prepared.
  if (mode === 'inprocess' && n > 1) void reader.warm?.(n).catch(() => undefined)
  log('info', `${n} channel${n > 1 ? 's' : ''} (${mode === 'worker' ? 'worker threads' : 'in-process'})`)
  const hosts: ChannelHost[] = []
  for (let i = 0; i < n; i++) {
    hosts.push(
      mode === 'worker'
        ? new WorkerHost({ reader: ctx.reader, writer: ctx.writer, throttle: { records: throttle.records, bytes: throttle.bytes, buffer: throttle.buffer } }, onMessage, job.setting.batchBytes)
        : new InProcessHost(reader, writer, throttle, signal, onMessage),
    )
  }
  const stopAll = () => Promise.allSettled(hosts.map((h) => h.stop(1500)))
  let stopping: Promise<unknown> | undefined
  const onAbort = () => {
    stopping ??= stopAll()
    notify()
  }
  signal.addEventListener('abort', onAbort, { once: true })

  const channel = async (host: ChannelHost): Promise<void> => {
    let started = false
    for (;;) {
      // The first unit is asked for before the channel is ready: tasks are prepared (DDL,
      // splits) while worker threads start.
      const u = await nextUnit()
      if (!started) {
        started = true
        try {
          await host.ready
        } catch (e) {
          if (u) queue.unshift(u)
          if (!signal.aborted) throw new Error(`channel could not start: ${(e as Error).message}`)
          return
        }
      }
      if (!u) {
        await host.finish()
        return
      }
      if (u.t.state !== 'running') continue
      const p = u.t.plan
      const unitId = ++unitSeq
      const unit: Unit = {
        unitId,
        taskId: p.taskId,
        split: u.split,
        write: {
          table: p.target,
          columns: p.targetColumns,
          writeMode: p.writeMode,
          ...(p.keyColumns ? { keyColumns: p.keyColumns } : {}),
          // Created by this run (or its earlier attempt), the columns were read back from the catalog.
          ...(u.t.created ? { columnsFromCatalog: true } : {}),
          ...(u.t.gate && !u.t.gate.open && u.split.index === u.t.gate.carrier ? { firstSql: { sql: u.t.gate.sql, params: u.t.gate.params } } : {}),
        },
        ops: p.ops,
        sourceWidth: p.sourceColumns.length,
        srcNames: p.sourceColumns.map((c) => c.name),
        ...(reader.kind === 'file' ? { errorIndex: p.sourceColumns.findIndex((c) => c.name === '@error') } : {}),
        zeroDate: job.setting.zeroDate,
        batchBytes: job.setting.batchBytes,
        redo: u.redo,
        redoFirst: u.redoFirst,
        timeoutMs,
        retry,
      }
      const rec = { t: u.t, split: u.split } as { t: TaskRt; split: Split; outcome?: 'done' | 'error' }
      inflight.set(unitId, rec)
      await host.run(unit)
      inflight.delete(unitId)
      const gate = u.t.gate
      if (gate && !gate.open && u.split.index === gate.carrier) {
        // The first split wrote no row, so no transaction carried the APPEND delete: run it alone
        // before the other splits write.
        try {
          if (rec.outcome === 'done' && u.t.counters.rowsWritten === 0) await writer.query(gate.sql, gate.params)
        } catch (e) {
          failTask(u.t, e)
        }
        openGate(u.t)
      }
      if (rec.outcome === 'done') {
        u.t.pending--
        if (u.t.pending === 0 && u.t.state === 'running') await finishTask(u.t)
      } else if (!rec.outcome) failTask(u.t, new Error(`${p.taskId} split ${u.split.index}: the channel ended without a result`))
    }
  }
  try {
    const rs = await Promise.allSettled(hosts.map(channel))
    const hard = rs.find((r) => r.status === 'rejected')
    if (hard && !signal.aborted) throw (hard as PromiseRejectedResult).reason
  } finally {
    signal.removeEventListener('abort', onAbort)
    await (stopping ?? stopAll())
    // Tables still being created in the background (an aborted run stops after the current batch).
    await bulk.rest
  }
}

/**
 * Run a DDL plan's CREATE TABLE; when the target refuses it and the plan has a fallback
 * ({@link DdlPlan.createFallback}: constraints put inline for speed), run the fallback, whose
 * deferred constraints join the after-data statements. Returns the after-data index statements.
 * @throws the target's error when the plan has no fallback, or the fallback's error.
 */
async function createTable(writer: Connector, ddl: DdlPlan): Promise<string[]> {
  try {
    await writer.execute(ddl.create)
    return ddl.indexes
  } catch (e) {
    if (!ddl.createFallback) throw e
    await writer.execute(ddl.createFallback.create)
    return [...ddl.createFallback.indexes, ...ddl.indexes]
  }
}
