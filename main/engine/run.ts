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
import type { Row, Value } from '../core/types.js'
import { openConnector } from '../connectors/index.js'
import type { ConnectionConfig, Connector, Split, Writer } from '../connectors/types.js'
import type { JobSpec, Problem } from '../job/spec.js'
import type { TimeContext } from '../job/variables.js'
import type { Counters, DirtyRecord, EngineEvent, RunState, RunSummary, TaskState, TaskSummary } from './events.js'
import { compileMapping, isMappingError, type RowMapper } from './mapping.js'
import { planJob, type Plan, type PlannedTask } from './plan.js'
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
  /** Called once a split's rows are all written (checkpoint). */
  onSplitDone?: (taskId: string, split: Split, counters: Counters) => void
  /** For resume: indexes of splits already done in an earlier attempt of this run. */
  doneSplits?: (taskId: string) => Set<number>
  /**
   * The TableDataDiff stage: verify a task's target against its source after ImportTable, when
   * the job has `verify`. Injected (main/verify) so the engine does not depend on the verifier.
   */
  verifyTask?: (args: { task: PlannedTask; reader: Connector; writer: Connector; spec: NonNullable<JobSpec['verify']>; signal: AbortSignal }) => Promise<{ consistent: boolean; diffRows: number; message: string }>
  /** Milliseconds between progress events per task (default 250). */
  progressIntervalMs?: number
}

/** Thrown (inside the run) when dirty records exceed `setting.errorLimit`. */
export class ErrorLimitExceeded extends Error {
  override name = 'ErrorLimitExceeded'
}

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
  mapper?: RowMapper
  lastProgress: number
  /** Rows found different by the TableDataDiff stage. */
  diffRows?: number
  created: boolean
  prepared: boolean
}

/** Open both sides, plan and run a job. Never throws for a data or job problem: the summary says it. */
export async function runJob(ctx: RunContext): Promise<RunSummary> {
  const startedAt = new Date()
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
    reader = await openConnector(ctx.reader)
    writer = await openConnector(ctx.writer)
    plan = await planJob(ctx.job, { reader, writer, vars: ctx.vars, time: ctx.time })
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
      tasks.push({ plan: t, counters: { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }, state: 'created', started: 0, pending: 0, lastProgress: 0, created: false, prepared: false })
      emit({ type: 'task/state', runId: ctx.runId, taskId: t.taskId, state: 'created', source: describeRead(t), target: t.target.name, ...(t.estimatedRows !== undefined ? { estimatedRows: t.estimatedRows } : {}) })
    }
    if (plan.notMigrated.length) log('info', `not migrated (listed only): ${plan.notMigrated.join(', ')}`)
    if (plan.preSql.length) await writer.execute(plan.preSql.filter(Boolean))

    await runTasks(ctx, reader, writer, tasks, total, abort, log, emit)

    // Foreign keys after all tables' data, for the tables this run created.
    for (const t of tasks) {
      if (t.created && t.state === 'succeeded' && t.plan.ddl?.foreignKeys.length) {
        try {
          await writer.execute(t.plan.ddl.foreignKeys)
        } catch (e) {
          const msg = `${t.plan.target.name}: foreign keys not created: ${(e as Error).message}`
          warnings.push(msg)
          log('warn', msg, t.plan.taskId)
        }
      }
    }
    if (plan.postSql.length && !abort.signal.aborted) await writer.execute(plan.postSql.filter(Boolean))
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
      runError = `data inconsistent in ${inconsistent.length} of ${tasks.length} tables: ${inconsistent.map((t) => `${t.plan.taskId} (${t.diffRows} rows differ)`).join('; ')}`
    } else state = 'succeeded'
  } catch (e) {
    state = abort.signal.aborted && !(abort.signal.reason instanceof ErrorLimitExceeded) ? 'terminated' : 'failed'
    runError = e instanceof JobInvalid ? e.message : (e as Error).message
    if (abort.signal.reason instanceof ErrorLimitExceeded) runError = (abort.signal.reason as Error).message
    log('error', runError)
  } finally {
    ctx.signal?.removeEventListener('abort', onOuterAbort)
    await Promise.allSettled([reader?.close(), writer?.close()])
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

  // Units are produced lazily: a task is prepared (DDL, preSql, truncate, splits) when the first
  // channel reaches it, so a long job starts moving rows at once.
  type Unit = { t: TaskRt; split: Split }
  const queue: Unit[] = []
  let nextTask = 0
  let preparing: Promise<void> | undefined

  const progress = (t: TaskRt, force = false) => {
    const now = Date.now()
    if (!force && now - t.lastProgress < interval) return
    t.lastProgress = now
    emit({ type: 'run/progress', runId: ctx.runId, taskId: t.plan.taskId, ...t.counters, ...(t.plan.estimatedRows !== undefined ? { estimatedRows: t.plan.estimatedRows } : {}) })
  }

  const failTask = (t: TaskRt, e: unknown) => {
    if (t.state === 'failed') return
    t.state = signal.aborted ? (signal.reason instanceof ErrorLimitExceeded ? 'failed' : 'terminated') : 'failed'
    t.error = signal.aborted && signal.reason instanceof Error ? signal.reason.message : (e as Error).message
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
      if (!p.targetExists && p.ddl) {
        log('info', `creating ${p.target.name}`, p.taskId)
        await writer.execute(p.ddl.create)
        t.created = true
        // Write with the types the target really has now.
        const created = await writer.catalog.table(p.target)
        const byName = new Map(created.columns.map((c) => [c.name, c]))
        p.targetColumns = p.targetColumns.map((c) => byName.get(c.name) ?? c)
        if (!p.keyColumns && created.primaryKey.length) p.keyColumns = created.primaryKey
      }
      if (p.preSql.length) await writer.execute(p.preSql.filter(Boolean))
      if (p.truncate && p.targetExists) {
        await writer.execute([writer.kind === 'sqlite' ? `DELETE FROM ${writer.quoteTable(p.target)}` : `TRUNCATE TABLE ${writer.quoteTable(p.target)}`])
      }
      t.mapper = compileMapping(p.ops, p.sourceColumns.length, job.setting.zeroDate)
      const splits = await reader.splits(p.read, channels)
      const done = ctx.doneSplits?.(p.taskId) ?? new Set<number>()
      const todo = splits.filter((s) => !done.has(s.index))
      if (done.size) log('info', `resuming: ${splits.length - todo.length} of ${splits.length} splits already done`, p.taskId)
      t.prepared = true
      t.pending = todo.length
      for (const split of todo) queue.push({ t, split })
      emitTaskState(ctx, t, emit, 'ImportTable')
      if (todo.length === 0) await finishTask(t)
    } catch (e) {
      failTask(t, e)
    }
  }

  const finishTask = async (t: TaskRt): Promise<void> => {
    const p = t.plan
    try {
      if (t.created && p.ddl) {
        if (p.ddl.indexes.length) {
          log('info', `creating ${p.ddl.indexes.length} indexes on ${p.target.name}`, p.taskId)
          await writer.execute(p.ddl.indexes)
        }
        if (p.ddl.sequences.length) await writer.execute(p.ddl.sequences)
      }
      if (p.postSql.length) await writer.execute(p.postSql.filter(Boolean))
      progress(t, true)
      if (job.verify && ctx.verifyTask) {
        emitTaskState(ctx, t, emit, 'TableDataDiff')
        const v = await ctx.verifyTask({ task: p, reader, writer, spec: job.verify, signal })
        t.diffRows = v.diffRows
        log(v.consistent ? 'info' : 'warn', `${p.taskId}: TableDataDiff (${job.verify.algorithm}): ${v.message}`, p.taskId)
        if (!v.consistent) {
          t.state = 'inconsistent'
          t.error = `data inconsistent: ${v.message}`
          t.ended = Date.now()
          emitTaskState(ctx, t, emit, 'TableDataDiff')
          return
        }
      }
      t.state = 'succeeded'
      t.ended = Date.now()
      log('info', `${p.taskId} -> ${p.target.name}: ${t.counters.rowsWritten} rows written, ${t.counters.dirty} dirty, ${((t.ended - t.started) / 1000).toFixed(2)} s`, p.taskId)
      emitTaskState(ctx, t, emit)
    } catch (e) {
      failTask(t, e)
    }
  }

  const nextUnit = async (): Promise<Unit | undefined> => {
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
    if (limit.record !== undefined && dirty > limit.record) throw new ErrorLimitExceeded(`errorLimit exceeded: ${dirty} dirty records, setting.errorLimit.record allows ${limit.record}`)
    if (limit.percentage !== undefined && total.rowsRead > 0 && dirty / total.rowsRead > limit.percentage)
      throw new ErrorLimitExceeded(`errorLimit exceeded: ${dirty} dirty of ${total.rowsRead} records read (${((dirty / total.rowsRead) * 100).toFixed(2)} %), setting.errorLimit.percentage allows ${limit.percentage * 100} %`)
  }

  const runUnit = async (u: Unit): Promise<void> => {
    const { t, split } = u
    const p = t.plan
    const srcNames = p.sourceColumns.map((c) => c.name)
    let w: Writer | undefined
    const sc: Counters = { rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0 }
    try {
      w = await writer.writer({ table: p.target, columns: p.targetColumns, writeMode: p.writeMode, ...(p.keyColumns ? { keyColumns: p.keyColumns } : {}) })
      const it = reader.read(split, { signal, batchBytes: job.setting.batchBytes })[Symbol.asyncIterator]()
      let next = it.next()
      for (;;) {
        const r = await next
        if (r.done) break
        next = it.next() // read ahead while this batch is written
        next.catch(() => undefined)
        const batch = r.value
        const rows = batch.rows
        sc.rowsRead += rows.length
        sc.bytes += batch.approxBytes
        t.counters.rowsRead += rows.length
        t.counters.bytes += batch.approxBytes
        total.rowsRead += rows.length
        total.bytes += batch.approxBytes
        await throttle.take(rows.length, batch.approxBytes, signal)

        let out: Row[] = rows
        let origin: number[] | undefined // index in `rows` of each row in `out`, when some were dropped
        const dirty: DirtyRecord[] = []
        const mapper = t.mapper!
        if (!mapper.identity) {
          out = new Array<Row>(rows.length)
          let k = 0
          for (let i = 0; i < rows.length; i++) {
            const m = mapper.map(rows[i]!)
            if (isMappingError(m)) {
              dirty.push({ taskId: p.taskId, reason: m.reason, code: m.code, column: m.column, columns: srcNames, values: rows[i]! as Value[] })
              origin ??= Array.from({ length: k }, (_, j) => j)
            } else {
              if (origin) origin.push(i)
              out[k++] = m
            }
          }
          out.length = k
        }
        const res = out.length ? await w.write(out, signal) : { written: 0, dirty: [] }
        for (const d of res.dirty) {
          const src = rows[origin ? origin[d.index]! : d.index]!
          dirty.push({ taskId: p.taskId, reason: d.reason, ...(d.code ? { code: d.code } : {}), ...(d.column ? { column: d.column } : {}), columns: srcNames, values: src as Value[] })
        }
        sc.rowsWritten += res.written
        t.counters.rowsWritten += res.written
        total.rowsWritten += res.written
        if (dirty.length) {
          sc.dirty += dirty.length
          t.counters.dirty += dirty.length
          total.dirty += dirty.length
          ctx.onDirty?.(dirty)
          log('warn', `${dirty.length} dirty record(s) in ${p.taskId}; first: ${dirty[0]!.reason}`, p.taskId)
          checkLimit()
        }
        progress(t)
      }
      await w.close()
      w = undefined
      ctx.onSplitDone?.(p.taskId, split, sc)
      t.pending--
      if (t.pending === 0 && t.state === 'running') await finishTask(t)
    } catch (e) {
      if (e instanceof ErrorLimitExceeded) {
        failTask(t, e)
        abort.abort(e)
        throw e
      }
      failTask(t, e)
    } finally {
      await w?.close().catch(() => undefined)
    }
  }

  const channel = async (): Promise<void> => {
    for (;;) {
      const u = await nextUnit()
      if (!u) return
      if (u.t.state !== 'running') continue
      await runUnit(u)
    }
  }
  await Promise.allSettled(Array.from({ length: channels }, channel)).then((rs) => {
    const hard = rs.find((r) => r.status === 'rejected' && !(r.reason instanceof ErrorLimitExceeded))
    if (hard) throw (hard as PromiseRejectedResult).reason
  })
}

