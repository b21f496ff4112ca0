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

/** Connection settings as screens see them: never the password, only whether one is saved. */
export interface ConnectionSummary {
  id: string
  name: string
  config: Omit<ConnectionConfig, 'password'>
  hasPassword: boolean
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
  /** Test a saved connection, or a draft (a draft's undefined password falls back to `id`'s saved one). */
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
}

export type ApiMethod = keyof Api
export type ApiArgs<M extends ApiMethod> = Parameters<Api[M]>[0]
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>

/** Events pushed to every connected screen: the engine's events (run state, task state, progress, log lines). */
export type ApiEvent = EngineEvent

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
  'settings/get', 'settings/set',
  'cleanup/overview', 'cleanup/dryRun', 'cleanup/start', 'cleanup/cancel', 'cleanup/history', 'cleanup/get', 'jobs/fromMapping',
] as const satisfies readonly ApiMethod[]

// Compile-time check that API_METHODS lists every method exactly.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>
const _exhaustive: Missing extends never ? true : Missing = true
void _exhaustive
