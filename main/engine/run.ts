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
import type { Value } from '../core/types.js'
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
import { Throttle } from './throttle.js'

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
  afterDdl?: Pick<DdlPlan, 'indexes' | 'foreignKeys' | 'sequences'>
  /** The task finished (indexes, postSql done) in an earlier attempt. */
  finished?: boolean
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
  /** Splits finished by earlier attempts: index -> rows written and bytes. */
  done(taskId: string): Map<number, { rows: number; bytes: number }>
  /** Record a split finished (its rows all committed). */
  markDone(taskId: string, split: Split, counters: Counters): void
}

/** `auto` channel mode uses worker threads from this many estimated rows (and more than one channel). */
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
  afterDdl?: Pick<DdlPlan, 'indexes' | 'foreignKeys' | 'sequences'>
  /** Rows found different by the TableDataDiff stage. */
  diffRows?: number
  created: boolean
  prepared: boolean
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
    for (const t of plan.tasks) {
      tasks.push({ plan: t, counters: { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }, state: 'created', started: 0, pending: 0, lastProgress: 0, created: false, prepared: false, owned: false, resumed: false })
      emit({ type: 'task/state', runId: ctx.runId, taskId: t.taskId, state: 'created', source: describeRead(t), target: t.target.name, ...(t.estimatedRows !== undefined ? { estimatedRows: t.estimatedRows } : {}) })
    }
    if (plan.notMigrated.length) log('info', `not migrated (listed only): ${plan.notMigrated.join(', ')}`)
    // A resumed run ran the writer's preSql in its first attempt already.
    const resuming = plan.tasks.some((t) => ctx.checkpoints?.prepared(t.taskId))
    if (resuming) log('info', 'resuming: tasks prepared by an earlier attempt keep their splits; finished splits are skipped')
    if (plan.preSql.length && !resuming) await w.value.execute(plan.preSql.filter(Boolean))

    await runTasks(ctx, r.value, w.value, tasks, total, abort, log, emit)

    // Foreign keys after all tables' data, for the tables this run created.
    for (const t of tasks) {
      if (t.created && t.state === 'succeeded' && t.afterDdl?.foreignKeys.length) {
        try {
          await w.value.execute(t.afterDdl.foreignKeys)
        } catch (e) {
          const msg = `${t.plan.target.name}: foreign keys not created: ${(e as Error).message}`
          warnings.push(msg)
          log('warn', msg, t.plan.taskId)
        }
      }
    }
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
    } else state = 'succeeded'
  } catch (e) {
    state = abort.signal.aborted && !(abort.signal.reason instanceof ErrorLimitExceeded) ? 'terminated' : 'failed'
    runError = e instanceof JobInvalid ? e.message : (e as Error).message
    if (abort.signal.reason instanceof ErrorLimitExceeded) runError = (abort.signal.reason as Error).message
    log('error', runError)
  } finally {
    ctx.signal?.removeEventListener('abort', onOuterAbort)
    // Bounded: a connection a channel failed to give back (a reader left mid-split) keeps a
    // pool's close waiting forever; the run ends anyway and says so.
    const open = await closeWithin({ reader, writer }, CLOSE_GRACE_MS)
    if (open.length) log('warn', `${open.join(' and ')} connections still in use ${CLOSE_GRACE_MS} ms after the run ended; not waiting for them`)
  }
  for (const t of tasks) {
    if (t.state === 'created' || t.state === 'running') {
      t.state = state === 'terminated' ? 'terminated' : 'failed'
      t.error ??= state === 'terminated' ? 'terminated' : runError
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
    })),
    notMigrated: plan?.notMigrated ?? [],
    warnings,
    ...(runError ? { error: runError } : {}),
  }
  return summary
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
  const rows = estimatedRows ?? 0
  return rows >= SPLIT_ROWS ? Math.max(channels * 2, Math.ceil(rows / MAX_SPLIT_ROWS)) : channels
}

/** Estimated rows from which a table gets several splits per channel. */
export const SPLIT_ROWS = 50_000

/** Average rows per split above which a big table gets more splits (see {@link splitCount}). */
export const MAX_SPLIT_ROWS = 2_000_000

/** Channel mode for a run (see RunContext.channelMode). */
function chooseMode(ctx: RunContext, tasks: TaskRt[], channels: number): 'worker' | 'inprocess' {
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
  if (!throttled && process.env.SLUICE_RAW !== '0' && tasks.length && !isFileStoreKind(rk) && !isFileStoreKind(wk) && tasks.every((t) => rawEligible(rk, wk, { ops: t.plan.ops, sourceWidth: t.plan.sourceColumns.length, targets: t.plan.targetColumns }) === true)) return 'inprocess'
  const rows = tasks.reduce((n, t) => n + (t.plan.estimatedRows ?? 0), 0)
  return channels > 1 && rows >= WORKER_MIN_ROWS ? 'worker' : 'inprocess'
}

/**
 * How to make a re-write of `split` safe (see {@link RedoPlan}): idempotent writeModes need
 * nothing; a target the run owns with an integer splitPk copied as is gets its range deleted; a
 * target with a key is upserted; a whole-table split of an owned target is emptied; anything else
 * cannot be re-done without risking duplicates.
 */
export function redoPlan(t: { plan: PlannedTask; owned: boolean }, split: Split, writer: Connector, splitCount: number): RedoPlan {
  const p = t.plan
  // A file writer re-writes a split idempotently: it deletes the split's earlier parts first.
  if (p.writeMode !== 'insert' || writer.kind === 'file') return { kind: 'none' }
  const r = split.range
  const table = writer.quoteTable(p.target)
  if (t.owned && r) {
    const op = p.ops.find((o) => o.kind === 'column' && o.sourceName === r.column)
    if (op && op.kind === 'column' && (op.sourceType.kind === 'int' || op.sourceType.kind === 'year') && op.nullDefault === undefined && !op.timeFormat) {
      const col = writer.quoteIdent(op.targetName)
      const params: unknown[] = []
      const ph = () => (writer.kind === 'postgres' ? `$${params.length}` : '?')
      const bind = (v: Value) => {
        const s = String(v)
        if (!/^-?\d+$/.test(s)) return undefined
        params.push(writer.kind === 'mysql' && !Number.isSafeInteger(Number(s)) ? BigInt(s) : writer.kind === 'postgres' ? s : Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s))
        return ph()
      }
      const parts: string[] = []
      let ok = true
      if (r.lower !== undefined && r.lower !== null) {
        const x = bind(r.lower)
        if (x) parts.push(`${col} ${r.lowerInclusive === false ? '>' : '>='} ${x}`)
        else ok = false
      }
      if (r.upper !== undefined && r.upper !== null) {
        const x = bind(r.upper)
        if (x) parts.push(`${col} ${r.upperInclusive ? '<=' : '<'} ${x}`)
        else ok = false
      }
      if (ok) {
        let pred = parts.length ? parts.join(' AND ') : `${col} IS NOT NULL`
        if (r.includeNull) pred = `(${pred}) OR ${col} IS NULL`
        return { kind: 'delete', sql: `DELETE FROM ${table} WHERE ${pred}`, params }
      }
    }
  }
  if (p.keyColumns?.length) return { kind: 'upsert' }
  if (t.owned && splitCount === 1) return { kind: 'delete', sql: `DELETE FROM ${table}`, params: [] }
  return { kind: 'impossible', reason: `${p.target.name} has no key and the run does not own its rows (set writer.truncate, or a primary key, to make the load resumable)` }
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
): Promise<void> {
  const job = ctx.job
  const channels = Math.max(1, ctx.channels ?? job.setting.speed.channel ?? defaultChannels())
  const throttle = new Throttle(job.setting.speed.record, job.setting.speed.byte)
  const limit = job.setting.errorLimit
  const interval = ctx.progressIntervalMs ?? 250
  const signal = abort.signal
  const cp = ctx.checkpoints
  const timeoutMs = ctx.splitTimeoutMs ?? (Number(process.env.SLUICE_SPLIT_TIMEOUT_MS) || 10 * 60_000)
  const retry = ctx.retry ?? DEFAULT_RETRY
  const byId = new Map(tasks.map((t) => [t.plan.taskId, t]))

  // Units are produced lazily: a task is prepared (DDL, preSql, truncate, splits) when the first
  // channel reaches it, so a long job starts moving rows at once.
  type Pending = { t: TaskRt; split: Split; redo: RedoPlan; redoFirst: boolean }
  const queue: Pending[] = []
  let nextTask = 0
  let preparing: Promise<void> | undefined
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

  const failTask = (t: TaskRt, e: unknown) => {
    if (t.state === 'failed' || t.state === 'terminated') return
    t.state = signal.aborted ? (signal.reason instanceof ErrorLimitExceeded ? 'failed' : 'terminated') : 'failed'
    t.error = signal.aborted && signal.reason instanceof Error ? signal.reason.message : e instanceof Error ? e.message : String(e)
    t.ended = Date.now()
    log('error', `${t.plan.taskId}: ${t.error}`, t.plan.taskId)
    emitTaskState(ctx, t, emit)
    // Drop the task's remaining units.
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.t === t) queue.splice(i, 1)
  }

  const prepare = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    t.started = Date.now()
    t.state = 'running'
    emitTaskState(ctx, t, emit, 'ExportTable')
    try {
      const before = cp?.prepared(p.taskId)
      let splits: Split[]
      if (before) {
        // Resume: the target is as the earlier attempt left it; reuse its split boundaries.
        t.resumed = true
        t.owned = before.owned
        t.created = before.created
        if (before.afterDdl) t.afterDdl = before.afterDdl
        splits = cp!.plannedSplits(p.taskId).map((s) => ({ index: s.index, read: s.range ? { ...p.read, splitPk: s.range.column } : p.read, ...(s.range ? { range: s.range } : {}) }))
        if (!splits.length) splits = [{ index: 0, read: p.read }]
        if (before.finished) {
          t.prepared = true
          t.state = 'succeeded'
          t.ended = Date.now()
          for (const d of cp!.done(p.taskId).values()) count(t, d.rows, d.rows, d.bytes)
          log('info', `${p.taskId}: finished in an earlier attempt`, p.taskId)
          progress(t, true)
          emitTaskState(ctx, t, emit)
          return
        }
      } else {
        // The source's split plan is read while the target is being prepared (other connections).
        const wanted = splitCount(channels, p.estimatedRows)
        const planned = reader.splits(p.read, wanted, { tapered: wanted > channels })
        planned.catch(() => undefined)
        if (!p.targetExists && p.ddl) {
          log('info', isFileConnector(writer) ? `writing files for ${p.target.name}` : `creating ${p.target.name}`, p.taskId)
          await writer.execute(p.ddl.create)
          t.created = true
          t.owned = true
          t.afterDdl = { indexes: p.ddl.indexes, foreignKeys: p.ddl.foreignKeys, sequences: p.ddl.sequences }
        }
        if (p.preSql.length) await writer.execute(p.preSql.filter(Boolean))
        // A file target: writer.file.writeMode (truncate / append / nonConflict) applies now.
        if (isFileConnector(writer)) await writer.prepareTarget(p.target)
        if (p.truncate && p.targetExists) {
          await writer.execute([writer.kind === 'sqlite' ? `DELETE FROM ${writer.quoteTable(p.target)}` : `TRUNCATE TABLE ${writer.quoteTable(p.target)}`])
          t.owned = true
        }
        // Several splits per channel are tapered (big first, small last) so channels finish together.
        splits = await planned
        cp?.savePrepared(p.taskId, { owned: t.owned, created: t.created, ...(t.afterDdl ? { afterDdl: t.afterDdl } : {}) }, splits)
      }
      if (t.created) {
        // Write with the types the target really has now.
        const created = await writer.catalog.table(p.target)
        const cols = new Map(created.columns.map((c) => [c.name, c]))
        p.targetColumns = p.targetColumns.map((c) => cols.get(c.name) ?? c)
        if (!p.keyColumns && created.primaryKey.length) p.keyColumns = created.primaryKey
      }
      const done = t.resumed ? cp!.done(p.taskId) : new Map<number, { rows: number; bytes: number }>()
      for (const d of done.values()) count(t, d.rows, d.rows, d.bytes)
      const todo = splits.filter((s) => !done.has(s.index))
      if (done.size) log('info', `resuming: ${splits.length - todo.length} of ${splits.length} splits already done`, p.taskId)
      t.prepared = true
      t.pending = todo.length
      for (const split of todo) queue.push({ t, split, redo: redoPlan(t, split, writer, splits.length), redoFirst: t.resumed })
      emitTaskState(ctx, t, emit, 'ImportTable')
      if (todo.length === 0) await finishTask(t)
    } catch (e) {
      failTask(t, e)
    }
  }

  const finishTask = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    try {
      if (t.created && t.afterDdl) {
        if (t.afterDdl.indexes.length) {
          log('info', `creating ${t.afterDdl.indexes.length} indexes on ${p.target.name}`, p.taskId)
          await writer.execute(t.afterDdl.indexes)
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
      cp?.savePrepared(p.taskId, { owned: t.owned, created: t.created, ...(t.afterDdl ? { afterDdl: t.afterDdl } : {}), finished: true })
      t.state = 'succeeded'
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
      const u = queue.shift()
      if (u) return u
      if (nextTask >= tasks.length && !preparing) return undefined
      if (preparing) {
        await preparing
        continue
      }
      const t = tasks[nextTask++]!
      preparing = prepare(t).finally(() => (preparing = undefined))
      await preparing
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
      case 'log':
        log(m.level, m.message, m.taskId)
        return
    }
  }

  const mode = chooseMode(ctx, tasks, channels)
  const n = channels
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
        write: { table: p.target, columns: p.targetColumns, writeMode: p.writeMode, ...(p.keyColumns ? { keyColumns: p.keyColumns } : {}) },
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
  }
}
