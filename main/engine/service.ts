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
import type { Store } from '../store/index.js'
import type { Split } from '../connectors/types.js'
import type { EngineEvent, RunSummary, TaskState } from './events.js'
import { tableDataDiff } from './verify-stage.js'
import { connectionLabel } from './export-files.js'
import { runJob, type Checkpoints, type PreparedTask } from './run.js'

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

const TASK_STATE_IN_STORE: Record<TaskState, 'pending' | 'running' | 'succeeded' | 'failed' | 'terminated' | 'inconsistent' | 'skipped'> = {
  created: 'pending',
  running: 'running',
  succeeded: 'succeeded',
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

/** Checkpoints of run `runId` on the state DB (see run.ts {@link Checkpoints}). */
export function storeCheckpoints(store: Store, runId: string, record: ResumeRecord): Checkpoints {
  return {
    prepared: (taskId) => record.tasks[taskId],
    plannedSplits: (taskId) => store.splits.list(runId, taskId).map((s) => ({ index: s.splitIndex, ...(s.range ? { range: s.range } : {}) })),
    savePrepared: (taskId, info, splits?: Split[]) => {
      // Split boundaries first: a task recorded as prepared always has its plan.
      if (splits) store.splits.plan(runId, taskId, splits.map((s) => ({ splitIndex: s.index, ...(s.range ? { range: s.range } : {}) })))
      record.tasks[taskId] = info
      store.settings.set(resumeKey(runId), record)
    },
    done: (taskId) => new Map(store.splits.doneSplits(runId, taskId).map((s) => [s.splitIndex, { rows: s.rows, bytes: s.bytes }])),
    markDone: (taskId, split, c) => store.splits.markDone(runId, taskId, split.index, { rows: c.rowsWritten, bytes: c.bytes, ...(split.range ? { range: split.range } : {}) }),
  }
}

/**
 * Validate the job, record a new run (or take up `resumeRunId`) and start it.
 * @throws InvalidJobError (with JSON paths) when the document is not a valid job;
 *   Error naming the JSON path when a connection reference cannot be resolved;
 *   Error when `resumeRunId` names no run or a run that succeeded.
 */
export function startRun(opts: StartRunOptions): RunHandle {
  const store = opts.store
  const previous = opts.resumeRunId !== undefined ? store.runs.get(opts.resumeRunId) : undefined
  if (opts.resumeRunId !== undefined) {
    if (!previous) throw new Error(`resume: no run '${opts.resumeRunId}'`)
    if (previous.state === 'succeeded') throw new Error(`resume: run ${previous.id} already succeeded`)
  }
  const specDoc = previous ? previous.spec : opts.spec
  const parsed = parseJob(specDoc)
  if (!parsed.ok) throw new InvalidJobError(parsed.problems)
  const job: JobSpec = parsed.job
  const reader = resolveConnectionRef(store, job.reader.connection, '$.reader.connection')
  const writer = resolveConnectionRef(store, job.writer.connection, '$.writer.connection')
  const record: ResumeRecord = (previous && store.settings.get<ResumeRecord>(resumeKey(previous.id))) || { now: new Date().toISOString(), ...(opts.bizdate !== undefined ? { bizdate: opts.bizdate } : {}), tasks: {} }
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
  store.settings.set(resumeKey(runId), record)
  const controller = new AbortController()

  // Logs are appended in batches; progress is already throttled by the engine.
  let logBuf: { level: 'debug' | 'info' | 'warn' | 'error'; taskId?: string; message: string; ts: string }[] = []
  const flushLogs = () => {
    if (!logBuf.length) return
    const b = logBuf
    logBuf = []
    store.logs.append(runId, b)
  }
  const timer = setInterval(flushLogs, 500)
  timer.unref?.()

  const onEvent = (e: EngineEvent) => {
    switch (e.type) {
      case 'run/state':
        if (e.state === 'running') store.runs.setState(runId, 'running')
        break
      case 'task/state': {
        const now = new Date().toISOString()
        const existing = store.runTasks.get(runId, e.taskId)
        const state = TASK_STATE_IN_STORE[e.state]
        if (!existing)
          store.runTasks.upsert({ runId, taskId: e.taskId, source: e.source, target: e.target, state, ...(e.estimatedRows !== undefined ? { estimatedRows: e.estimatedRows } : {}) })
        else
          store.runTasks.update(runId, e.taskId, {
            state,
            ...(e.stage ? { stage: e.stage } : {}),
            ...(e.error ? { error: e.error } : {}),
            ...(e.state === 'running' && !existing.startedAt ? { startedAt: now } : {}),
            ...(['succeeded', 'failed', 'terminated', 'inconsistent'].includes(e.state) ? { endedAt: now } : {}),
          })
        break
      }
      case 'run/progress':
        store.runTasks.update(runId, e.taskId, { rowsRead: e.rowsRead, rowsWritten: e.rowsWritten, bytes: e.bytes, dirty: e.dirty })
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
          rs.map((r) => ({ reason: r.reason, values: r.values, columns: r.columns, ...(r.code ? { code: r.code } : {}), ...(r.column ? { column: r.column } : {}) })),
        )
    },
    checkpoints: storeCheckpoints(store, runId, record),
    verifyTask: tableDataDiff,
  }).then((summary) => {
    clearInterval(timer)
    flushLogs()
    for (const t of summary.tasks) {
      store.runTasks.update(runId, t.taskId, { rowsRead: t.rowsRead, rowsWritten: t.rowsWritten, bytes: t.bytes, dirty: t.dirty })
    }
    store.runs.finish(runId, { ...summary })
    store.runs.setState(runId, summary.state, summary.error)
    if (summary.state === 'succeeded') store.settings.delete(resumeKey(runId))
    return summary
  })
  return { runId, done, cancel: () => controller.abort(new Error('terminated by user')) }
}
