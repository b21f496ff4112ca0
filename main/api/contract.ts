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
  'connections/delete': (a: { id: string }) => Promise<void>
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
  'connections/list', 'connections/get', 'connections/create', 'connections/update', 'connections/delete', 'connections/duplicate', 'connections/test',
  'catalog/schemas', 'catalog/tables', 'catalog/table', 'catalog/columns', 'catalog/others', 'catalog/nativeTypes',
  'jobs/list', 'jobs/get', 'jobs/save', 'jobs/delete', 'jobs/versions', 'jobs/validate', 'jobs/preview', 'jobs/schema', 'jobs/export',
  'runs/start', 'runs/cancel', 'runs/rerun', 'runs/list', 'runs/get', 'runs/logs', 'runs/dirty',
  'sql/query', 'sql/cancel', 'sql/history',
  'exportFiles/list', 'exportFiles/clean', 'exportFiles/check',
  'settings/get', 'settings/set',
] as const satisfies readonly ApiMethod[]

// Compile-time check that API_METHODS lists every method exactly.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>
const _exhaustive: Missing extends never ? true : Missing = true
void _exhaustive
