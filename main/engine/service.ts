/**
 * Runs as the user sees them: a job (saved or ad hoc) becomes a recorded run in the state DB,
 * executed by the engine, with its tasks, progress, logs, dirty records and split checkpoints
 * written to the store as they happen. The CLI, `sluice serve` and the desktop app all start runs
 * here.
 */
import type { ConnectionConfig } from '../connectors/types.js'
import { isConnectionUrl, parseConnectionUrl } from '../connectors/url.js'
import { parseJob, type ConnectionRef, type JobSpec, type Problem } from '../job/spec.js'
import { timeContext } from '../job/variables.js'
import type { RunTaskInput, RunTaskPatch, Store } from '../store/index.js'
import type { Split } from '../connectors/types.js'
import type { EngineEvent, RunSummary, TaskState } from './events.js'
import { tableDataDiff } from './verify-stage.js'
import { connectionLabel } from './export-files.js'
import { runJob, type Checkpoints, type PreparedTask } from './run.js'
import { takeRunLeases, targetLocker } from './writelock.js'
import { normalizeRunConfig } from '../job/runconfig.js'

/** A job document failed structural validation. */
export class InvalidJobError extends Error {
  override name = 'InvalidJobError'
  readonly exitCode = 2
  constructor(public readonly problems: Problem[]) {
    super(`the job is not valid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`)
  }
}

/**
 * Turn a job's connection reference into settings: an inline object as is, a URL parsed, or a
 * saved connection's name or id looked up in the store (password decrypted, in memory only).
 * @throws Error naming `path` when a saved connection does not exist or no store is open.
 */
export function resolveConnectionRef(store: Store | undefined, ref: ConnectionRef, path: string): ConnectionConfig {
  if (typeof ref !== 'string') return { ...ref } as ConnectionConfig
  if (isConnectionUrl(ref)) return parseConnectionUrl(ref)
  if (!store) throw new Error(`${path}: '${ref}' is not a URL and no state store is open to look up a saved connection`)
  try {
    return store.connections.resolveConfig(ref)
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`)
  }
}

export interface StartRunOptions {
  store: Store
  /** The job document (validated here) or an already-validated spec. Ignored with `resumeRunId`. */
  spec?: unknown
  /**
   * Resume this earlier run (the dashboard's retry, `sluice run --resume`): same run id, its own
   * spec snapshot, variables and data time; tasks it prepared keep their split plan, finished
   * splits are skipped and the rest re-done idempotently (see run.ts `redoPlan`).
   */
  resumeRunId?: string
  jobId?: string
  jobVersion?: number
  /** Display name; default: the job's name. */
  name?: string
  /** User variables (`--var k=v`). */
  vars?: Record<string, string>
  /** Data time override (`yyyymmdd`). */
  bizdate?: string
  /** The run's clock (its `cyctime`, read as local wall-clock time); default now. The scheduler passes an instance's scheduled time. */
  now?: Date
  /** Overrides `setting.speed.channel`. */
  channels?: number
  /** Live events, after the store has recorded them. */
  onEvent?: (e: EngineEvent) => void
}

export interface RunHandle {
  runId: string
  /** Resolves when the run has ended and everything is recorded. Never rejects for a job problem. */
  done: Promise<RunSummary>
  /** Terminate: stops all channels; the run ends `terminated` with what was written so far. */
  cancel(): void
}

const TASK_STATE_IN_STORE: Record<TaskState, 'pending' | 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'terminated' | 'inconsistent' | 'skipped'> = {
  created: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  succeeded_with_warnings: 'succeeded_with_warnings',
  failed: 'failed',
  terminated: 'terminated',
  inconsistent: 'inconsistent',
  skipped: 'skipped',
}

/** Settings key of a run's resume record ({@link ResumeRecord}). */
export const resumeKey = (runId: string) => `engine.resume.${runId}`

/**
 * What a run keeps for a later resume, besides the split checkpoints (`store.splits`): the data
 * time it resolved variables with, and per task what it prepared. Kept in `store.settings` under
 * {@link resumeKey}; removed when the run succeeds.
 */
export interface ResumeRecord {
  /** The first attempt's clock (ISO-8601): `cyctime` and the default data time derive from it. */
  now: string
  /** `--bizdate` of the first attempt, when given. */
  bizdate?: string
  tasks: Record<string, PreparedTask>
}

/**
 * Milliseconds between two writes of a run's queued progress (task rows, finished splits, log
 * lines) to the state DB. Each write is one transaction: a run of 300 small tables costs a few
 * dozen synchronous commits instead of thousands.
 */
export const STATE_FLUSH_MS = 200

/**
 * Checkpoints of run `runId` on the state DB (see run.ts {@link Checkpoints}).
 *
 * `savePrepared` is written at once (a task's preparation must be durable before any of its rows
 * is); `markDone` is queued and written by `flush` (called every {@link STATE_FLUSH_MS} by
 * `startRun`): a split marked done later than its commit is only re-done by a resume after a
 * crash, idempotently (run.ts `redoPlan`), never lost or doubled.
 */
export function storeCheckpoints(store: Store, runId: string, record: ResumeRecord): Checkpoints & { flush(): void; pending(): boolean } {
  let queued: { taskId: string; splitIndex: number; rows: number; bytes: number; range?: Split['range'] }[] = []
  /** "Task finished" records, queued like finished splits (a resume that misses one re-runs idempotent after-DDL). */
  let finished: { taskId: string; info: PreparedTask }[] = []
  return {
    prepared: (taskId) => record.tasks[taskId],
    plannedSplits: (taskId) => store.splits.list(runId, taskId).map((s) => ({ index: s.splitIndex, ...(s.range ? { range: s.range } : {}) })),
    savePrepared: (taskId, info, splits?: Split[]) => {
      if (info.finished && !splits) {
        finished.push({ taskId, info })
        record.tasks[taskId] = info
        return
      }
      // Split boundaries with it, in one transaction: a task recorded as prepared always has its plan.
      store.splits.savePrepared(runId, [{ taskId, info, ...(splits ? { splits: splits.map((s) => ({ splitIndex: s.index, ...(s.range ? { range: s.range } : {}) })) } : {}) }])
      record.tasks[taskId] = info
    },
    savePreparedMany: (entries) => {
      store.splits.savePrepared(
        runId,
        entries.map((e) => ({ taskId: e.taskId, info: e.info, ...(e.splits ? { splits: e.splits.map((s) => ({ splitIndex: s.index, ...(s.range ? { range: s.range } : {}) })) } : {}) })),
      )
      for (const e of entries) record.tasks[e.taskId] = e.info
    },
    done: (taskId) => {
      const dirty = store.dirty.countBySplit(runId, taskId)
      return new Map(store.splits.doneSplits(runId, taskId).map((s) => [s.splitIndex, { rows: s.rows, bytes: s.bytes, dirty: dirty.get(s.splitIndex) ?? 0 }]))
    },
    markDone: (taskId, split, c) => void queued.push({ taskId, splitIndex: split.index, rows: c.rowsWritten, bytes: c.bytes, ...(split.range ? { range: split.range } : {}) }),
    /** Whether finished splits or tasks wait for the next flush. */
    pending: () => queued.length > 0 || finished.length > 0,
    flush: () => {
      if (!queued.length && !finished.length) return
      const q = queued
      const f = finished
      queued = []
      finished = []
      store.transaction(() => {
        store.splits.markDoneMany(runId, q)
        if (f.length) store.splits.savePrepared(runId, f)
      })
    },
  }
}

/**
 * A run's resume record: the settings value (data time) with the tasks' preparation records from
 * `run_task_prep` (and, for runs recorded before that table existed, from the settings value).
 */
function loadResumeRecord(store: Store, runId: string): ResumeRecord | undefined {
  const rec = store.settings.get<ResumeRecord>(resumeKey(runId))
  if (!rec) return undefined
  const tasks = { ...(rec.tasks ?? {}) }
  for (const [taskId, info] of store.splits.prepared<PreparedTask>(runId)) tasks[taskId] = info
  return { ...rec, tasks }
}

/**
 * Validate the job, record a new run (or take up `resumeRunId`) and start it.
 * @throws InvalidJobError (with JSON paths) when the document is not a valid job;
 *   Error naming the JSON path when a connection reference cannot be resolved;
 *   Error when `resumeRunId` names no run or a run that succeeded.
 */
export function startRun(opts: StartRunOptions): RunHandle {
  const store = opts.store
  // Runs left 'running' by a dead process become failed (and resumable) first.
  store.locks.reapDead()
  const previous = opts.resumeRunId !== undefined ? store.runs.get(opts.resumeRunId) : undefined
  if (opts.resumeRunId !== undefined) {
    if (!previous) throw new Error(`resume: no run '${opts.resumeRunId}'`)
    if (previous.state === 'succeeded' || previous.state === 'succeeded_with_warnings') throw new Error(`resume: run ${previous.id} already succeeded`)
  }
  const specDoc = previous ? previous.spec : opts.spec
  const parsed = parseJob(specDoc)
  if (!parsed.ok) throw new InvalidJobError(parsed.problems)
  const job: JobSpec = parsed.job
  const reader = resolveConnectionRef(store, job.reader.connection, '$.reader.connection')
  const writer = resolveConnectionRef(store, job.writer.connection, '$.writer.connection')
  // source_timezone (run configuration alias): the session time zone of both sides.
  const tz = normalizeRunConfig(job).timezone
  if (tz) reader.timezone = writer.timezone = tz
  const record: ResumeRecord = (previous && loadResumeRecord(store, previous.id)) || { now: (opts.now ?? new Date()).toISOString(), ...(opts.bizdate !== undefined ? { bizdate: opts.bizdate } : {}), tasks: {} }
  const time = timeContext({ now: new Date(record.now), ...(record.bizdate !== undefined ? { bizdate: record.bizdate } : {}) })
  const vars = previous ? previous.vars : (opts.vars ?? {})
  const run =
    previous ??
    store.runs.create({
      ...(opts.jobId ? { jobId: opts.jobId } : {}),
      ...(opts.jobVersion ? { jobVersion: opts.jobVersion } : {}),
      name: opts.name ?? job.name ?? 'ad hoc job',
      vars,
      spec: specDoc,
    })
  const runId = run.id
  const writerLabel = connectionLabel(job.writer.connection)
  // One writer per run and per saved job (targets are locked once planned, see targetLocker).
  const leases = takeRunLeases(store, runId, previous?.jobId ?? opts.jobId, !previous)
  // The settings value keeps the data time; tasks' preparation goes to run_task_prep, one row each.
  store.settings.set(resumeKey(runId), { now: record.now, ...(record.bizdate !== undefined ? { bizdate: record.bizdate } : {}), tasks: {} } satisfies ResumeRecord)
  // A resumed run re-does its unfinished splits: the dirty records they kept are found again.
  if (previous) store.dirty.clearUnfinished(runId)
  const controller = new AbortController()

  // Logs, task rows and finished splits are queued and written together, one transaction per
  // STATE_FLUSH_MS (and at the end of the run); live events go out at once.
  const checkpoints = storeCheckpoints(store, runId, record)
  let logBuf: { level: 'debug' | 'info' | 'warn' | 'error'; taskId?: string; message: string; ts: string }[] = []
  /** Task rows to write: the first sight of a task inserts it (in order), later events patch it. */
  const taskQ = new Map<string, { insert?: RunTaskInput; patch: RunTaskPatch }>()
  /** Tasks known to the DB or queued, and whether their start time is recorded. */
  const known = new Map<string, { started: boolean }>((previous ? store.runTasks.list(runId) : []).map((t) => [t.taskId, { started: !!t.startedAt }]))
  const patchTask = (taskId: string, patch: RunTaskPatch) => {
    const q = taskQ.get(taskId)
    if (q) Object.assign(q.patch, patch)
    else taskQ.set(taskId, { patch: { ...patch } })
  }
  const flush = () => {
    if (!logBuf.length && !taskQ.size) {
      checkpoints.flush()
      return
    }
    const logs = logBuf
    logBuf = []
    const tasks = [...taskQ]
    taskQ.clear()
    // Without a checkpoint in the batch (only progress and log lines) the commit skips its fsync:
    // the next checkpoint's commit makes it durable (Store.transaction `durable`).
    store.transaction(
      () => {
        for (const [taskId, q] of tasks) {
          if (q.insert) store.runTasks.upsert(q.insert)
          if (Object.keys(q.patch).length) store.runTasks.update(runId, taskId, q.patch)
        }
        checkpoints.flush()
        if (logs.length) store.logs.append(runId, logs)
      },
      { durable: checkpoints.pending() },
    )
  }
  const timer = setInterval(flush, STATE_FLUSH_MS)
  timer.unref?.()

  const onEvent = (e: EngineEvent) => {
    switch (e.type) {
      case 'run/state':
        if (e.state === 'running') store.runs.setState(runId, 'running')
        break
      case 'task/state': {
        const now = new Date().toISOString()
        const state = TASK_STATE_IN_STORE[e.state]
        const k = known.get(e.taskId)
        if (!k) {
          known.set(e.taskId, { started: false })
          taskQ.set(e.taskId, { insert: { runId, taskId: e.taskId, source: e.source, target: e.target, state, ...(e.estimatedRows !== undefined ? { estimatedRows: e.estimatedRows } : {}) }, patch: {} })
        } else {
          const started = e.state === 'running' && !k.started
          if (started) k.started = true
          patchTask(e.taskId, {
            state,
            ...(e.stage ? { stage: e.stage } : {}),
            ...(e.error ? { error: e.error } : {}),
            ...(started ? { startedAt: now } : {}),
            ...(['succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent'].includes(e.state) ? { endedAt: now } : {}),
          })
        }
        break
      }
      case 'run/progress':
        patchTask(e.taskId, { rowsRead: e.rowsRead, rowsWritten: e.rowsWritten, bytes: e.bytes, dirty: e.dirty })
        break
      case 'run/log':
        logBuf.push({ level: e.level, message: e.message, ts: e.ts, ...(e.taskId ? { taskId: e.taskId } : {}) })
        break
      case 'task/files':
        // Export-file tracking (main/store/export-files.ts, main/engine/export-files.ts).
        store.exportFiles.add(runId, e.taskId, writerLabel, e.files)
        break
    }
    opts.onEvent?.(e)
  }

  const done = runJob({
    runId,
    job,
    reader,
    writer,
    vars,
    time,
    ...(opts.channels ? { channels: opts.channels } : {}),
    signal: controller.signal,
    onEvent,
    onDirty: (records) => {
      const byTask = new Map<string, typeof records>()
      for (const r of records) byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r])
      for (const [taskId, rs] of byTask)
        store.dirty.add(
          runId,
          taskId,
          rs.map((r) => ({ reason: r.reason, values: r.values, columns: r.columns, ...(r.code ? { code: r.code } : {}), ...(r.column ? { column: r.column } : {}), ...(r.splitIndex !== undefined ? { splitIndex: r.splitIndex } : {}) })),
        )
    },
    onDirtyReset: (taskId, splitIndex) => void store.dirty.clearSplit(runId, taskId, splitIndex),
    lockTargets: targetLocker(store, runId, writer),
    checkpoints,
    verifyTask: async (args) => {
      const r = await tableDataDiff(args)
      // The differing keys are kept for the run page ("download as CSV").
      if (r.keys) store.diffs.save(runId, args.task.taskId, r.keys)
      return r
    },
  })
    .finally(() => leases.release())
    .then((summary) => {
    clearInterval(timer)
    for (const t of summary.tasks) patchTask(t.taskId, { rowsRead: t.rowsRead, rowsWritten: t.rowsWritten, bytes: t.bytes, dirty: t.dirty })
    flush()
    // `runTime`: the clock and data time the run resolved its variables with (the source clean-up
    // re-resolves the job's where with them, main/cleanup).
    store.runs.finish(runId, { ...summary, runTime: { now: record.now, ...(record.bizdate !== undefined ? { bizdate: record.bizdate } : {}) } })
    store.runs.setState(runId, summary.state, summary.error)
    if (summary.state === 'succeeded' || summary.state === 'succeeded_with_warnings') {
      store.settings.delete(resumeKey(runId))
      store.splits.clearPrepared(runId)
    }
    return summary
  })
  return { runId, done, cancel: () => controller.abort(new Error('terminated by user')) }
}
