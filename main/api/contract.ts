/**
 * The one API contract between the engine (main/) and any screen. Two transports carry it:
 * Electron IPC (preload exposes it as `window.sluice`) and HTTP + WebSocket (`sluice serve`).
 *
 * - Every method is `'domain/verb'`, takes ONE argument object and returns a Promise.
 * - Errors cross as data `{ name, code, message, path? }` ({@link ApiErrorData}) and are rebuilt
 *   as {@link ApiError} on the other side.
 * - Values JSON cannot carry (bigint, Buffer/Uint8Array, Date) are encoded explicitly by the
 *   HTTP transport (see `main/api/wire.ts`); IPC uses structured clone.
 * - Live events ({@link ApiEvent}) are pushed, never polled per row.
 *
 * This file is imported by the renderer: types only from main/, no Node APIs.
 */
import type { Column, OtherObject, TableRef, TableSchema, TableSummary, Value } from '../core/types.js'
import type { ConnectionConfig, NativeTypeChoice, QueryResult, TestResult } from '../connectors/types.js'
import type { EngineEvent, RunState, RunSummary } from '../engine/events.js'
import type { Problem } from '../job/spec.js'
import type { CleanupBatchRecord, CleanupDryRun, CleanupOverviewItem, CleanupRecord, CleanupTaskRecord } from '../cleanup/types.js'
import type {
  AlertPayload, AlertRecord, BackfillItem, BackfillRequest, FireTime, InstanceDetail, InstanceLogLine, InstanceState, InstanceView,
  ScheduleSpec, ScheduleView, SchedulerStatus, TargetRef, TargetView,
} from '../scheduler/types.js'
import type { WorkflowDetail, WorkflowListItem, WorkflowSpec } from '../workflow/types.js'

export type * from '../scheduler/types.js'
export type * from '../workflow/types.js'

/** State of an export file (main/store/export-files.ts). */
export type ExportFileState = 'exists' | 'deleted' | 'absent'

/** One file a run exported, as screens see it. */
export interface ExportFileView {
  id: number
  runId: string
  taskId: string
  /** Display form of the writer connection (no secret). */
  connection: string
  path: string
  rows: number
  bytes: number
  sha256: string
  state: ExportFileState
  createdAt: string
  checkedAt?: string
}

/** Connection settings as screens see them: never the password, only whether one is saved. */
export interface ConnectionSummary {
  id: string
  name: string
  config: Omit<ConnectionConfig, 'password' | 'privateKey' | 'passphrase'>
  hasPassword: boolean
  /** The secrets saved (`password`, `privateKey`, `passphrase`, `ssh.password`, `ssh.privateKey`, ...); never their values. */
  secrets: string[]
  createdAt: string
  updatedAt: string
}

/**
 * A connection being edited. `password`: undefined keeps the saved one (edit), '' clears it,
 * a string sets it. The API never returns a saved password.
 */
export interface ConnectionDraft {
  name: string
  config: ConnectionConfig
}

export interface JobListItem {
  id: string
  name: string
  latestVersion: number
  updatedAt: string
  lastRun?: { id: string; state: RunState; createdAt: string; endedAt?: string }
  /** Next scheduled instance, when a schedule exists (scheduler issue). */
  nextRunAt?: string
  /** The job's schedule, when it has one: its id, whether it is paused, and the published version it runs. */
  schedule?: { id: string; state: 'active' | 'paused'; publishedVersion?: number }
}

export interface JobDetail {
  id: string
  name: string
  version: number
  latestVersion: number
  /** The job document as saved (JSON value). */
  spec: unknown
  specText: string
  updatedAt: string
}

export interface RunListItem {
  id: string
  jobId?: string
  jobVersion?: number
  name: string
  state: RunState
  error?: string
  createdAt: string
  startedAt?: string
  endedAt?: string
  rowsRead: number
  rowsWritten: number
  bytes: number
  dirty: number
}

export interface RunTaskView {
  taskId: string
  source: string
  target: string
  state: string
  stage: 'ExportTable' | 'ImportTable' | 'TableDataDiff'
  rowsRead: number
  rowsWritten: number
  bytes: number
  dirty: number
  estimatedRows?: number
  error?: string
  startedAt?: string
  endedAt?: string
}

export interface RunDetail extends RunListItem {
  spec: unknown
  vars: Record<string, string>
  tasks: RunTaskView[]
  summary?: RunSummary
}

export interface LogLine {
  id: number
  ts: string
  level: 'debug' | 'info' | 'warn' | 'error'
  taskId?: string
  message: string
}

export interface DirtyRecordView {
  id: number
  taskId: string
  reason: string
  code?: string
  column?: string
  columns: string[]
  values: Value[]
  createdAt: string
}

/** A planned task as the wizard previews it (no side effects). */
export interface TaskPreview {
  taskId: string
  source: string
  target: TableRef
  targetExists: boolean
  sourceColumns: Array<{ name: string; type: string; nativeType?: string }>
  targetColumns: Array<{ name: string; type: string; nativeType: string; nullable: boolean }>
  /** CREATE TABLE (and later DDL) when the target is to be created. */
  ddl?: { create: string[]; indexes: string[]; foreignKeys: string[]; sequences: string[] }
  /** target column -> source column (or `=constant`). */
  mapping: Array<{ target: string; source?: string; constant?: Value }>
  /** The read's where with variables resolved (the Run dialog shows it before a run starts). */
  where?: string
}

export interface QueryHistoryItem {
  id: number
  connectionId: string
  sql: string
  elapsedMs: number
  rows?: number
  error?: string
  ts: string
}

/** The API: every handler takes one argument object. */
export interface Api {
  'app/info': (a: Record<string, never>) => Promise<{ version: string; dataDir: string; transport: 'ipc' | 'http'; secretScheme: string; platform: string }>

  'connections/list': (a: Record<string, never>) => Promise<ConnectionSummary[]>
  'connections/get': (a: { id: string }) => Promise<ConnectionSummary>
  'connections/create': (a: { draft: ConnectionDraft }) => Promise<ConnectionSummary>
  'connections/update': (a: { id: string; draft: ConnectionDraft }) => Promise<ConnectionSummary>
  /**
   * Delete a connection. `ifUsed` decides when jobs refer to it (connections/usage): `refuse`
   * answers IN_USE naming them, `cascade` deletes those jobs too; unset deletes the connection only.
   */
  'connections/delete': (a: { id: string; ifUsed?: 'refuse' | 'cascade' }) => Promise<void>
  /** The jobs whose latest version refers to the connection (by id, or by name as older jobs do). */
  'connections/usage': (a: { id: string }) => Promise<Array<{ id: string; name: string }>>
  'connections/duplicate': (a: { id: string; name?: string }) => Promise<ConnectionSummary>
  /** Test a saved connection, or a draft (a draft's undefined secrets, password, keys and passphrases, fall back to `id`'s saved ones). */
  'connections/test': (a: { id: string } | { draft: ConnectionDraft; id?: string }) => Promise<TestResult>

  'catalog/schemas': (a: { connectionId: string }) => Promise<string[]>
  'catalog/tables': (a: { connectionId: string; schema?: string }) => Promise<TableSummary[]>
  'catalog/table': (a: { connectionId: string; table: TableRef }) => Promise<TableSchema>
  'catalog/columns': (a: { connectionId: string; table: TableRef }) => Promise<Column[]>
  'catalog/others': (a: { connectionId: string; schema?: string }) => Promise<OtherObject[]>
  /** Native type the target would use for each column of `table` (DDL preview per column). */
  'catalog/nativeTypes': (a: { connectionId: string; columns: Column[] }) => Promise<NativeTypeChoice[]>

  'jobs/list': (a: { search?: string }) => Promise<JobListItem[]>
  'jobs/get': (a: { id: string; version?: number }) => Promise<JobDetail>
  /** Save a job: a new job, or a new version of `id`. */
  'jobs/save': (a: { id?: string; name: string; spec: unknown }) => Promise<{ id: string; version: number; created: boolean }>
  'jobs/delete': (a: { id: string }) => Promise<void>
  'jobs/versions': (a: { id: string }) => Promise<Array<{ version: number; createdAt: string; specText: string }>>
  /** Structure + catalog validation; problems carry JSON paths. */
  'jobs/validate': (a: { spec: unknown; vars?: Record<string, string>; bizdate?: string; offline?: boolean }) => Promise<Problem[]>
  /** Plan without side effects: per-task columns, mapping and DDL preview. */
  'jobs/preview': (a: { spec: unknown; vars?: Record<string, string>; bizdate?: string }) => Promise<{ tasks: TaskPreview[]; problems: Problem[] }>
  /** The job JSON Schema (for Monaco). */
  'jobs/schema': (a: Record<string, never>) => Promise<Record<string, unknown>>
  /** Convert a DataX / DataWorks job file's text into a Sluice job (not saved), with the import report. */
  'jobs/import': (a: { text: string; fileName?: string }) => Promise<{ format: 'datax' | 'dataworks'; spec: unknown; report: string[] }>
  /**
   * "Export for server": the job as DataX / DataWorks / SeaTunnel files. Passwords become
   * `${PASSWORD_<CONN>}` placeholders; what the format cannot express is listed in `warnings`.
   */
  'jobs/export': (a: { spec: unknown; format: 'datax' | 'dataworks' | 'seatunnel-hocon' | 'seatunnel-json' }) => Promise<{ files: Array<{ name: string; content: string }>; warnings: string[] }>

  /** Start a saved job (latest version or `version`) or an unsaved spec. */
  'runs/start': (a: ({ jobId: string; version?: number } | { spec: unknown; name?: string }) & { vars?: Record<string, string>; bizdate?: string; channels?: number }) => Promise<{ runId: string }>
  'runs/cancel': (a: { runId: string }) => Promise<void>
  /** Start a new run of the same spec (rerun) — or only the failed tasks with `failedOnly`. */
  'runs/rerun': (a: { runId: string; failedOnly?: boolean }) => Promise<{ runId: string }>
  'runs/list': (a: { state?: RunState; jobId?: string; limit?: number; offset?: number }) => Promise<{ runs: RunListItem[]; total: number }>
  'runs/get': (a: { runId: string }) => Promise<RunDetail>
  'runs/logs': (a: { runId: string; afterId?: number; limit?: number }) => Promise<LogLine[]>
  'runs/dirty': (a: { runId: string; taskId?: string; limit?: number; offset?: number }) => Promise<{ records: DirtyRecordView[]; total: number }>
  /** The keys the TableDataDiff stage (hashdiff) found different, per task (`-` only in source, `+` only in target, `~` changed). */
  'runs/diffs': (a: { runId: string }) => Promise<Array<{ taskId: string; keyColumns: string[]; truncated: boolean; keys: Array<{ side: '-' | '+' | '~'; key: string[] }> }>>

  /** Run one SQL statement on a connection; `maxRows` pages large results. */
  'sql/query': (a: { connectionId: string; sql: string; params?: unknown[]; maxRows?: number; queryId?: string }) => Promise<QueryResult & { elapsedMs: number }>
  'sql/cancel': (a: { queryId: string }) => Promise<void>
  'sql/history': (a: { connectionId: string; limit?: number }) => Promise<QueryHistoryItem[]>

  /**
   * Files runs exported (file writers): one run's (`runId`), or every run's newest first (the
   * Data clean-up view), optionally in one state.
   */
  'exportFiles/list': (a: { runId?: string; state?: ExportFileState; limit?: number; offset?: number }) => Promise<{ files: ExportFileView[]; total: number }>
  /** Delete a run's export files in state `exists` (or exactly `ids`): each ends `deleted`, or `absent` when already gone. */
  'exportFiles/clean': (a: { runId: string; ids?: number[] }) => Promise<ExportFileView[]>
  /** Look for a run's export files in their store: `exists` or `absent` (deleted ones are left as they are). */
  'exportFiles/check': (a: { runId: string }) => Promise<ExportFileView[]>

  'settings/get': (a: Record<string, never>) => Promise<Record<string, unknown>>
  'settings/set': (a: { key: string; value: unknown }) => Promise<void>

  // Source clean-up after a verified run (main/cleanup, issue 15). `target`: a run id or a saved job (its latest finished run).
  /** Every saved job with its latest finished run, whether it was verified, and its source data state. */
  'cleanup/overview': (a: Record<string, never>) => Promise<CleanupOverviewItem[]>
  /** Rows each table would lose and the exact SQL; deletes nothing. */
  'cleanup/dryRun': (a: { target: string; batch?: number }) => Promise<CleanupDryRun>
  /** Start (or resume) a clean-up in the background; refused (code CLEANUP_REFUSED) unless verified or forced with a reason. */
  'cleanup/start': (a: { target: string; batch?: number; force?: boolean; reason?: string }) => Promise<{ cleanupId: string }>
  /** Stop a running clean-up after its current batch (it ends terminated, resumable). */
  'cleanup/cancel': (a: { cleanupId: string }) => Promise<void>
  'cleanup/history': (a: { jobId?: string; runId?: string; limit?: number }) => Promise<CleanupRecord[]>
  'cleanup/get': (a: { cleanupId: string }) => Promise<CleanupRecord & { tasks: CleanupTaskRecord[]; batches: CleanupBatchRecord[] }>
  /** A job from an MMA table-mapping file's text (one task per line); bad lines with their line numbers. */
  'jobs/fromMapping': (a: { text: string; reader: string; writer: string; name?: string }) => Promise<{ spec: unknown; problems: Array<{ line: number; message: string }>; tasks: number }>
  // ---- Scheduler (issue 10). Targets accept an id or a name. ----
  /** The schedule of a job/workflow, or null when it has none. */
  'schedules/get': (a: { target: TargetRef }) => Promise<ScheduleView | null>
  /**
   * Create or replace the schedule of a job/workflow (state and publishedVersion are kept on
   * replace). Problems (bad cycle, cron, time zone, dates, dependency cycle) are an error with a
   * `path` into `spec` (e.g. `cycle.expr`). `publish: true` also publishes the latest version.
   */
  'schedules/set': (a: { target: TargetRef; spec: ScheduleSpec; publish?: boolean }) => Promise<ScheduleView>
  /** The next `count` (default 5, max 100) fire times of a spec after `after` (ISO instant, default now), without saving. Errors carry a path into `spec`. */
  'schedules/preview': (a: { spec: ScheduleSpec; count?: number; after?: string }) => Promise<FireTime[]>
  /**
   * Publish a version (default: the latest) of a job/workflow: its schedule runs it from now on.
   * `terminateRunning` terminates running instances of older versions. Returns the schedule (null
   * when the target has none yet; the published version is remembered for when it gets one).
   */
  'schedules/publish': (a: { target: TargetRef; version?: number; terminateRunning?: boolean }) => Promise<{ version: number; terminated: string[]; schedule: ScheduleView | null }>
  /** Stop making new instances (waiting instances become `paused`; running ones go on). */
  'schedules/pause': (a: { id: string }) => Promise<ScheduleView>
  /** Resume: `paused` instances wait again; missed fire times follow the schedule's catch-up. */
  'schedules/resume': (a: { id: string }) => Promise<ScheduleView>
  /** Delete a schedule. Instances already running go on; waiting/paused ones are terminated; history stays. */
  'schedules/remove': (a: { id: string }) => Promise<void>
  'schedules/list': (a: { state?: 'active' | 'paused'; kind?: 'job' | 'workflow' }) => Promise<ScheduleView[]>

  /** Instances, newest data time first. `from`/`to` filter the data time (`YYYY-MM-DD`, inclusive). */
  'instances/list': (a: { target?: TargetRef; scheduleId?: string; backfillId?: string; state?: InstanceState; from?: string; to?: string; limit?: number; offset?: number }) => Promise<{ instances: InstanceView[]; total: number }>
  'instances/get': (a: { id: string }) => Promise<InstanceDetail>
  /** Scheduler log lines of an instance (decisions, SQL statements, shell output); `nodeId` filters. */
  'instances/logs': (a: { id: string; nodeId?: string; afterId?: number; limit?: number }) => Promise<InstanceLogLine[]>
  /**
   * Run an ended instance again (same instance, attempt + 1, same data time). A job instance whose
   * last run failed or was terminated resumes that run from its checkpoints; a workflow instance
   * re-runs only the nodes that did not succeed (`fromFailed`, default true) or all nodes.
   */
  'instances/rerun': (a: { id: string; fromFailed?: boolean }) => Promise<InstanceView>
  /** Terminate a waiting/running instance (its run is cancelled). */
  'instances/kill': (a: { id: string }) => Promise<InstanceView>
  /** Mark an ended (or waiting) instance succeeded, so that what depends on it can go on. */
  'instances/setSuccess': (a: { id: string }) => Promise<InstanceView>
  /** Rerun this instance and every instance (same data time) of the jobs/workflows depending on it, transitively. */
  'instances/rerunDownstream': (a: { id: string }) => Promise<{ instances: InstanceView[] }>
  /** Alerts sent (newest first), for one instance or all. */
  'alerts/list': (a: { instanceId?: string; limit?: number }) => Promise<AlertRecord[]>

  /** The instances a backfill would create, oldest data time first, with what each waits for (no side effects). */
  'backfill/plan': (a: BackfillRequest) => Promise<{ items: BackfillItem[]; warnings: string[] }>
  /** Create the backfill's instances (the scheduler runs them, oldest first, at most `parallel` at once). */
  'backfill/start': (a: BackfillRequest) => Promise<{ backfillId: string; instances: InstanceView[] }>

  /** Whether a scheduler loop holds the lease (in this app, or a headless `sluice scheduler`). */
  'scheduler/status': (a: Record<string, never>) => Promise<SchedulerStatus>

  'workflows/list': (a: { search?: string }) => Promise<WorkflowListItem[]>
  'workflows/get': (a: { id: string; version?: number }) => Promise<WorkflowDetail>
  /** Save a workflow (new, or a new version of `id`); invalid documents are an error with `problems`. A `schedule` in the document is saved as the workflow's schedule. */
  'workflows/save': (a: { id?: string; spec: WorkflowSpec | unknown }) => Promise<{ id: string; version: number; created: boolean }>
  /** Delete a workflow, its schedule and waiting instances (history of ended ones stays). */
  'workflows/delete': (a: { id: string }) => Promise<void>
  /** Run a saved workflow (latest version, or `version`) or an unsaved document now, for data time `bizdate` (default yesterday). */
  'workflows/run': (a: ({ id: string; version?: number } | { spec: WorkflowSpec | unknown }) & { bizdate?: string }) => Promise<{ instanceId: string }>
  /** Problems with JSON paths; a cycle is reported with the path that closes it (`a -> b -> c -> a`). */
  'workflows/validate': (a: { spec: unknown }) => Promise<Problem[]>
  /** The workflow JSON Schema. */
  'workflows/schema': (a: Record<string, never>) => Promise<Record<string, unknown>>
  /** DolphinScheduler workflow-definition import JSON (DataX task per sync node, SQL, SHELL); `warnings` list what does not map. */
  'workflows/export': (a: ({ id: string; version?: number } | { spec: WorkflowSpec | unknown }) & { format: 'dolphinscheduler' }) => Promise<{ files: Array<{ name: string; content: string }>; warnings: string[] }>
}

export type ApiMethod = keyof Api
export type ApiArgs<M extends ApiMethod> = Parameters<Api[M]>[0]
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>

/**
 * Scheduler events (issue 10). Each may carry `runId` (the run concerned, when there is one), so
 * screens that filter every event by `e.runId` keep working.
 */
export type SchedulerEvent =
  /** An instance changed state (created, waiting -> running, ended, rerun, ...). */
  | { type: 'instance/state'; instanceId: string; target: TargetView; dataTime: string; state: InstanceState; runId?: string; error?: string; waitingFor?: string }
  /** A node of a workflow instance changed state. */
  | { type: 'instance/node'; instanceId: string; nodeId: string; state: InstanceState; runId?: string; error?: string }
  /** A schedule was created, changed, paused, resumed, published or removed. */
  | { type: 'schedule/changed'; scheduleId: string; removed?: boolean; runId?: undefined }
  /** An alert to show (Electron turns it into a desktop notification). */
  | { type: 'alert'; payload: AlertPayload; title: string; body: string; runId?: string }

/** Events pushed to every connected screen: the engine's events (run state, task state, progress, log lines) and the scheduler's. */
export type ApiEvent = EngineEvent | SchedulerEvent

/** An error as it crosses a transport. `path` is a JSON path when the error concerns a job field. */
export interface ApiErrorData {
  name: string
  code: string
  message: string
  path?: string
  problems?: Problem[]
}

/** An error rebuilt on the calling side of a transport. */
export class ApiError extends Error {
  readonly code: string
  readonly path?: string
  readonly problems?: Problem[]
  constructor(data: ApiErrorData) {
    super(data.message)
    this.name = data.name
    this.code = data.code
    if (data.path !== undefined) this.path = data.path
    if (data.problems !== undefined) this.problems = data.problems
  }
}

/** The client surface both transports provide to the renderer (under Electron: `bridgeClient(window.sluice)`). */
export interface SluiceClient {
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>>
  /** Subscribe to live events; returns an unsubscribe function. */
  onEvent(listener: (e: ApiEvent) => void): () => void
}

/**
 * The answer of one call, on both transports: the HTTP response body (values wire-encoded, see
 * wire.ts) and the Electron IPC result (values by structured clone). Errors travel as data because
 * Electron's `ipcRenderer.invoke` keeps only an error's message.
 */
export type ApiResponse<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorData }

/**
 * What the Electron preload exposes as `window.sluice`: `call` resolves to the {@link ApiResponse}
 * envelope (never rejects for a handler error). Wrap it with {@link bridgeClient}.
 */
export interface SluiceBridge {
  call(method: string, args: unknown): Promise<ApiResponse>
  onEvent(listener: (e: ApiEvent) => void): () => void
}

/** A {@link SluiceClient} over the preload bridge: unwraps the envelope, rebuilds {@link ApiError}. */
export function bridgeClient(bridge: SluiceBridge): SluiceClient {
  return {
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      const r = await bridge.call(method, args ?? {})
      if (r.ok) return r.result as ApiResult<M>
      throw new ApiError(r.error)
    },
    onEvent: (listener) => bridge.onEvent(listener),
  }
}

/** All method names, for registering handlers in one loop and for the preload's allow-list. */
export const API_METHODS = [
  'app/info',
  'connections/list', 'connections/get', 'connections/create', 'connections/update', 'connections/delete', 'connections/duplicate', 'connections/test', 'connections/usage',
  'catalog/schemas', 'catalog/tables', 'catalog/table', 'catalog/columns', 'catalog/others', 'catalog/nativeTypes',
  'jobs/list', 'jobs/get', 'jobs/save', 'jobs/delete', 'jobs/versions', 'jobs/validate', 'jobs/preview', 'jobs/schema', 'jobs/export', 'jobs/import',
  'runs/start', 'runs/cancel', 'runs/rerun', 'runs/list', 'runs/get', 'runs/logs', 'runs/dirty', 'runs/diffs',
  'sql/query', 'sql/cancel', 'sql/history',
  'exportFiles/list', 'exportFiles/clean', 'exportFiles/check',
  'settings/get', 'settings/set',
  'cleanup/overview', 'cleanup/dryRun', 'cleanup/start', 'cleanup/cancel', 'cleanup/history', 'cleanup/get', 'jobs/fromMapping',
  'schedules/get', 'schedules/set', 'schedules/preview', 'schedules/publish', 'schedules/pause', 'schedules/resume', 'schedules/remove', 'schedules/list',
  'instances/list', 'instances/get', 'instances/logs', 'instances/rerun', 'instances/kill', 'instances/setSuccess', 'instances/rerunDownstream', 'alerts/list',
  'backfill/plan', 'backfill/start', 'scheduler/status',
  'workflows/list', 'workflows/get', 'workflows/save', 'workflows/delete', 'workflows/run', 'workflows/validate', 'workflows/schema', 'workflows/export',
] as const satisfies readonly ApiMethod[]

// Compile-time check that API_METHODS lists every method exactly.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>
const _exhaustive: Missing extends never ? true : Missing = true
void _exhaustive
