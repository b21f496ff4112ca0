/**
 * The API's handlers: one function per method of {@link Api}, built over the state store, the run
 * service and the connectors. Both transports (Electron IPC in electron/main.ts, HTTP + WebSocket
 * in ./http.ts) register exactly this map, by looping over `API_METHODS`.
 *
 * Rules kept here:
 * - Passwords never leave: connections go out as summaries (`hasPassword` only).
 * - Live connectors (catalog browsing, SQL editor) are cached, one per saved connection id, and
 *   dropped (closed) when the connection is updated or deleted, and on `dispose()`.
 * - Runs are started with `startRun` (recorded in the store); their engine events are forwarded
 *   to `emit` as they happen, except the final `run/state`, which is sent once the run's summary is
 *   recorded (so `runs/get` right after it shows the ended run). Active runs are kept by id so
 *   `runs/cancel` can reach them.
 * - Errors are thrown; the transports turn them into data with `toErrorData` (./errors.ts).
 */
import { performance } from 'node:perf_hooks'
import { describeType, type TableRef } from '../core/types.js'
import { isFileStoreKind, openConnector, type ConnectionConfig, type Connector } from '../connectors/index.js'
import { checkConnectionPath, type PathPolicy } from './confine.js'
import { jobsUsingConnection, relinkJobs, workbenchHandlers } from './workbench.js'
import { probeReads } from '../engine/probe.js'
import { planJob } from '../engine/plan.js'
import { resolveConnectionRef, startRun, type RunHandle } from '../engine/service.js'
import { maskSpec } from '../job/secrets.js'
import { jobJsonSchema, parseJob, type ConnectionRef, type Problem, type TablePair } from '../job/spec.js'
import { substitute, timeContext } from '../job/variables.js'
import type { Store, RunTask, Run } from '../store/index.js'
import { SECRET_PATHS } from '../store/connections.js'
import type { Api, ApiEvent, ConnectionDraft, RunDetail, RunListItem, TaskPreview } from './contract.js'
import { apiError } from './errors.js'
import { sqliteRefusal } from './sqlguard.js'
import { cleanupHandlers } from '../cleanup/handlers.js'
import { createSchedulerHandlers, jobScheduleInfo, removeTarget } from '../scheduler/api.js'

/** What {@link createHandlers} needs. */
export interface HandlerDeps {
  store: Store
  /** The data dir (reported by `app/info`). */
  dataDir: string
  /** The app version (package.json `version`, or Electron's `app.getVersion()`). */
  version: string
  /** Which transport serves these handlers (reported by `app/info`). */
  transport: 'ipc' | 'http'
  /** Receives every live event (engine events of every run started here). Must not throw. */
  emit: (e: ApiEvent) => void
  /** `sluice serve`: SQLite files only inside these folders, never the state DB (confine.ts). Unset: no confinement (desktop). */
  confine?: PathPolicy
  /** The lease holder id of this app's own scheduler loop, if it runs one (`scheduler/status`). */
  schedulerHolder?: () => string | undefined
}

/** The handler map and its cleanup. */
export interface Handlers {
  handlers: Api
  /**
   * Terminate active runs (each ends `terminated` and is recorded; waits up to 15 s for them),
   * abort running SQL queries and close cached connectors. Safe to call twice.
   */
  dispose(): Promise<void>
}

/** Default `maxRows` of `sql/query` (the SQL editor pages larger results). */
export const DEFAULT_MAX_ROWS = 1000
/** How long `dispose()` waits for terminated runs to be recorded. */
const DISPOSE_RUN_WAIT_MS = 15_000

/** Run states after which nothing changes. */
const FINAL_STATES: ReadonlySet<string> = new Set(['succeeded', 'succeeded_with_warnings', 'failed', 'terminated', 'inconsistent'])

/** Task states of a finished run that `runs/rerun { failedOnly }` runs again. */
const RERUN_TASK_STATES: ReadonlySet<string> = new Set(['failed', 'terminated', 'pending', 'running'])

/** Build the handlers. See {@link HandlerDeps}. */
export function createHandlers(deps: HandlerDeps): Handlers {
  const { store, emit } = deps
  const connectors = new Map<string, Promise<Connector>>()
  const runs = new Map<string, RunHandle>()
  const queries = new Map<string, AbortController>()
  let disposed = false

  const safeEmit = (e: ApiEvent) => {
    try {
      emit(e)
    } catch {
      /* a transport's failure never stops a run */
    }
  }

  /** The cached live connector of a saved connection (opened on first use). */
  const connectorFor = (connectionId: unknown, path = 'connectionId'): Promise<Connector> => {
    const id = str(connectionId, path)
    if (disposed) return Promise.reject(apiError('INTERNAL', 'the API is shutting down'))
    let p = connectors.get(id)
    if (!p) {
      const summary = store.connections.get(id)
      if (!summary) return Promise.reject(apiError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, path))
      p = (async () => {
        const config = store.connections.resolveConfig(id)
        checkConnectionPath(deps.confine, config, path)
        return openConnector(config)
      })()
      connectors.set(id, p)
      p.catch(() => {
        if (connectors.get(id) === p) connectors.delete(id)
      })
    }
    return p
  }

  /** Drop (and close) the cached connector of a connection. */
  const invalidate = async (id: string) => {
    const p = connectors.get(id)
    if (!p) return
    connectors.delete(id)
    try {
      await (await p).close()
    } catch {
      /* it failed to open or to close: nothing left to release */
    }
  }

  /**
   * A connector for a job's connection reference: a saved connection (by id or name) uses the
   * cache; a URL or inline object gets its own connector, closed by `release`.
   */
  const connectorForRef = async (ref: ConnectionRef, path: string): Promise<{ connector: Connector; release: () => Promise<void> }> => {
    if (typeof ref === 'string') {
      const saved = store.connections.get(ref) ?? store.connections.getByName(ref)
      if (saved) return { connector: await connectorFor(saved.id, path), release: async () => {} }
    }
    const config = resolveConnectionRef(store, ref, path)
    checkConnectionPath(deps.confine, config, path)
    const connector = await openConnector(config)
    return { connector, release: () => connector.close() }
  }

  /** Plan a job for validate/preview. Structural problems short-circuit (no connection made). */
  const plan = async (a: { spec: unknown; vars?: Record<string, string>; bizdate?: string }, probe = false) => {
    const parsed = parseJob(a.spec)
    if (!parsed.ok) return { problems: parsed.problems, tasks: undefined, natives: undefined }
    const job = parsed.job
    let time
    try {
      time = timeContext(a.bizdate !== undefined ? { bizdate: a.bizdate } : {})
    } catch (e) {
      throw apiError('BAD_REQUEST', (e as Error).message, 'bizdate')
    }
    const opened: Array<() => Promise<void>> = []
    try {
      const sides: Connector[] = []
      for (const [ref, path] of [
        [job.reader.connection, '$.reader.connection'],
        [job.writer.connection, '$.writer.connection'],
      ] as const) {
        try {
          // A file side plans with the job's file options (format, columns): its own connector.
          const cfg = (() => {
            try {
              return resolveConnectionRef(store, ref, path)
            } catch {
              return undefined
            }
          })()
          if (cfg && isFileStoreKind(cfg.kind)) {
            const { fileSideConfig } = await import('../engine/files.js')
            const connector = await openConnector(fileSideConfig(cfg, path.startsWith('$.reader') ? 'reader' : 'writer', job, a.vars ?? {}, time))
            opened.push(() => connector.close())
            sides.push(connector)
            continue
          }
          const { connector, release } = await connectorForRef(ref, path)
          opened.push(release)
          sides.push(connector)
        } catch (e) {
          return { problems: [connectionProblem(path, e)], tasks: undefined, natives: undefined }
        }
      }
      try {
        const p = await planJob(job, { reader: sides[0]!, writer: sides[1]!, vars: a.vars ?? {}, time })
        // Validation also asks the source to parse each task's read (probe.ts).
        // Native target types of tables still to be created, as their DDL will spell them (the grid shows these).
        const natives = new Map<string, string[]>()
        for (const t of p.tasks) {
          if (t.targetExists) continue
          const overrides = Array.isArray(job.tables) ? job.tables[t.index]?.typeOverrides : undefined
          natives.set(t.taskId, t.targetColumns.map((c) => overrides?.[c.name] ?? sides[1]!.nativeType(c.type).sql))
        }
        return { problems: probe ? [...p.problems, ...(await probeReads(job, p.tasks, sides[0]!))] : p.problems, tasks: p.tasks, natives }
      } catch (e) {
        // planJob returns job problems; what it throws is about reaching a database.
        return { problems: [{ path: '$', message: (e as Error).message, severity: 'error', code: codeOf(e) ?? 'connection' } satisfies Problem], tasks: undefined, natives: undefined }
      }
    } finally {
      await Promise.allSettled(opened.map((r) => r()))
    }
  }

  /** Start a run and keep its handle until it is recorded as ended. */
  const launch = (opts: { spec: unknown; jobId?: string; jobVersion?: number; name?: string; vars?: Record<string, string>; bizdate?: string; channels?: number }): { runId: string } => {
    if (disposed) throw apiError('INTERNAL', 'the API is shutting down')
    if (deps.confine) {
      const parsed = parseJob(opts.spec)
      if (parsed.ok)
        for (const [ref, at] of [[parsed.job.reader.connection, '$.reader.connection'], [parsed.job.writer.connection, '$.writer.connection']] as const) {
          let config: ConnectionConfig | undefined
          try {
            config = resolveConnectionRef(store, ref, at)
          } catch {
            /* the run reports an unknown connection itself */
          }
          if (config) checkConnectionPath(deps.confine, config, at)
        }
    }
    // The engine announces the final state before the run service has recorded the summary; hold
    // that event until `done`, so a screen that reacts to it with `runs/get` sees the ended run.
    let finalEvent: Extract<ApiEvent, { type: 'run/state' }> | undefined
    const forward = (e: ApiEvent) => {
      if (e.type === 'run/state' && FINAL_STATES.has(e.state)) finalEvent = e
      else safeEmit(e)
    }
    const handle = startRun({
      store,
      spec: opts.spec,
      ...(opts.jobId !== undefined ? { jobId: opts.jobId } : {}),
      ...(opts.jobVersion !== undefined ? { jobVersion: opts.jobVersion } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.vars !== undefined ? { vars: opts.vars } : {}),
      ...(opts.bizdate !== undefined ? { bizdate: opts.bizdate } : {}),
      ...(opts.channels !== undefined ? { channels: opts.channels } : {}),
      onEvent: forward,
    })
    runs.set(handle.runId, handle)
    handle.done
      .then((summary) => {
        const error = summary.error ?? finalEvent?.error
        safeEmit({ type: 'run/state', runId: handle.runId, state: summary.state, ...(error ? { error } : {}) })
      })
      .catch((e: unknown) => {
        // The engine never rejects for a job problem; this is a bug or the store failing.
        const message = (e as Error)?.message ?? String(e)
        try {
          store.runs.setState(handle.runId, 'failed', message)
        } catch {
          /* the store is gone */
        }
        safeEmit({ type: 'run/state', runId: handle.runId, state: 'failed', error: message })
      })
      .finally(() => runs.delete(handle.runId))
    return { runId: handle.runId }
  }

  const requireRun = (runId: unknown): Run => {
    const id = str(runId, 'runId')
    const run = store.runs.get(id)
    if (!run) throw apiError('NOT_FOUND', `no run with id ${JSON.stringify(id)}`, 'runId')
    return run
  }

  const cleanup = cleanupHandlers(store)
  const scheduler = createSchedulerHandlers({ store, emit: safeEmit, ...(deps.schedulerHolder ? { holder: deps.schedulerHolder } : {}) })
  const handlers: Api = {
    ...workbenchHandlers(store),
    ...cleanup.handlers,
    ...scheduler.handlers,
    async 'app/info'() {
      return { version: deps.version, dataDir: deps.dataDir, transport: deps.transport, secretScheme: store.secretScheme, platform: process.platform }
    },

    // -- connections ---------------------------------------------------------------------------
    async 'connections/list'() {
      return store.connections.list()
    },
    async 'connections/get'(a) {
      const id = str(a?.id, 'id')
      const c = store.connections.get(id)
      if (!c) throw apiError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, 'id')
      return c
    },
    async 'connections/create'(a) {
      const draft = checkDraft(a?.draft)
      checkConnectionPath(deps.confine, draft.config, 'draft.config.path')
      return store.connections.create({ name: draft.name, config: draft.config })
    },
    async 'connections/update'(a) {
      const id = str(a?.id, 'id')
      const draft = checkDraft(a?.draft)
      checkConnectionPath(deps.confine, draft.config, 'draft.config.path')
      const before = store.connections.get(id)
      const c = store.connections.update(id, { name: draft.name, config: draft.config })
      // Jobs that named it by its old name now refer to it by id (workbench.ts).
      if (before && before.name !== c.name) relinkJobs(store, id, before.name)
      await invalidate(id)
      return c
    },
    async 'connections/delete'(a) {
      const id = str(a?.id, 'id')
      const users = a?.ifUsed ? jobsUsingConnection(store, id) : []
      if (users.length && a.ifUsed === 'refuse') throw apiError('IN_USE', `used by ${users.length} job(s): ${users.map((j) => j.name).join(', ')}`, 'id')
      if (users.length && a.ifUsed === 'cascade') for (const j of users) store.jobs.delete(j.id)
      if (!store.connections.delete(id)) throw apiError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, 'id')
      await invalidate(id)
    },
    async 'connections/duplicate'(a) {
      return store.connections.duplicate(str(a?.id, 'id'), a.name)
    },
    async 'connections/test'(a) {
      let config: ConnectionConfig
      if (a && 'draft' in a && a.draft !== undefined) {
        const draft = checkDraft(a.draft)
        config = { ...draft.config }
        if (a.id !== undefined) config = withSavedSecrets(config, store.connections.resolveConfig(str(a.id, 'id')))
      } else {
        const id = str((a as { id?: unknown })?.id, 'id')
        if (!store.connections.get(id)) throw apiError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, 'id')
        config = store.connections.resolveConfig(id)
      }
      checkConnectionPath(deps.confine, config, 'draft.config.path')
      // A fresh connector: a test must really connect, not reuse a cached session.
      const t0 = performance.now()
      let connector: Connector | undefined
      try {
        connector = await openConnector(config)
        return await connector.test()
      } catch (e) {
        const code = codeOf(e)
        return { ok: false, latencyMs: performance.now() - t0, error: (e as Error)?.message ?? String(e), ...(code ? { code } : {}) }
      } finally {
        await connector?.close().catch(() => {})
      }
    },

    // -- catalog -------------------------------------------------------------------------------
    async 'catalog/schemas'(a) {
      return (await connectorFor(a?.connectionId)).catalog.schemas()
    },
    async 'catalog/tables'(a) {
      return (await connectorFor(a?.connectionId)).catalog.tables(a.schema)
    },
    async 'catalog/table'(a) {
      const c = await connectorFor(a?.connectionId)
      return c.catalog.table(tableRef(a.table))
    },
    async 'catalog/columns'(a) {
      const c = await connectorFor(a?.connectionId)
      return (await c.catalog.table(tableRef(a.table))).columns
    },
    async 'catalog/others'(a) {
      return (await connectorFor(a?.connectionId)).catalog.others(a.schema)
    },
    async 'catalog/nativeTypes'(a) {
      const c = await connectorFor(a?.connectionId)
      if (!Array.isArray(a.columns)) throw apiError('BAD_REQUEST', 'columns: expected an array of columns', 'columns')
      return a.columns.map((col, i) => {
        if (!col || typeof col.type !== 'object') throw apiError('BAD_REQUEST', `columns[${i}].type: expected a logical type`, `columns[${i}].type`)
        return c.nativeType(col.type)
      })
    },

    // -- jobs ----------------------------------------------------------------------------------
    async 'jobs/list'(a) {
      return store.jobs.list(a?.search ? { search: a.search } : {}).map((j) => ({
        id: j.id,
        name: j.name,
        latestVersion: j.latestVersion,
        updatedAt: j.updatedAt,
        ...(j.lastRun ? { lastRun: { id: j.lastRun.id, state: j.lastRun.state, createdAt: j.lastRun.createdAt, ...(j.lastRun.endedAt ? { endedAt: j.lastRun.endedAt } : {}) } } : {}),
        ...jobScheduleInfo(store, j.id),
      }))
    },
    async 'jobs/get'(a) {
      const id = str(a?.id, 'id')
      const j = store.jobs.get(id, a.version)
      if (!j) throw apiError('NOT_FOUND', a.version !== undefined ? `no version ${a.version} of job ${JSON.stringify(id)}` : `no job with id ${JSON.stringify(id)}`, a.version !== undefined && store.jobs.get(id) ? 'version' : 'id')
      return { id: j.id, name: j.name, version: j.version, latestVersion: j.latestVersion, spec: maskSpec(j.spec), specText: j.specText, updatedAt: j.updatedAt }
    },
    async 'jobs/save'(a) {
      return store.jobs.save(a?.spec, { name: a?.name, ...(a?.id !== undefined ? { id: a.id } : {}) })
    },
    async 'jobs/delete'(a) {
      const id = str(a?.id, 'id')
      const scheduled = store.jobs.get(id)
      if (scheduled?.id === id) removeTarget(store, 'job', id)
      if (!store.jobs.delete(id)) throw apiError('NOT_FOUND', `no job with id ${JSON.stringify(id)}`, 'id')
    },
    async 'jobs/versions'(a) {
      const id = str(a?.id, 'id')
      const v = store.jobs.versions(id)
      if (v.length === 0 && !store.jobs.get(id)) throw apiError('NOT_FOUND', `no job with id ${JSON.stringify(id)}`, 'id')
      return v
    },
    async 'jobs/validate'(a) {
      if (a?.offline) {
        const parsed = parseJob(a.spec)
        return parsed.ok ? [] : parsed.problems
      }
      return (await plan(a ?? { spec: undefined }, true)).problems
    },
    async 'jobs/preview'(a) {
      const p = await plan(a ?? { spec: undefined })
      return { problems: p.problems, tasks: (p.tasks ?? []).map((t) => toPreview(t, p.natives?.get(t.taskId))) }
    },
    async 'jobs/schema'() {
      return jobJsonSchema()
    },
    async 'jobs/export'(a) {
      const parsed = parseJob(a?.spec)
      if (!parsed.ok) throw apiError('INVALID_JOB', `the job is not valid: ${parsed.problems[0]!.path}: ${parsed.problems[0]!.message}`, parsed.problems[0]!.path)
      const job = parsed.job
      const formats = ['datax', 'dataworks', 'seatunnel-hocon', 'seatunnel-json'] as const
      if (!formats.includes(a.format)) throw apiError('BAD_REQUEST', `format: expected one of ${formats.join(', ')}`, 'format')
      // A whole-database selection exports one pair per table of the reader's schema.
      let tables: string[] | undefined
      if (!Array.isArray(job.tables)) {
        const { connector, release } = await connectorForRef(job.reader.connection, '$.reader.connection')
        try {
          tables = (await connector.catalog.tables(job.reader.schema)).filter((t) => t.kind === 'table').map((t) => t.name)
        } finally {
          await release()
        }
      }
      const { exportJob } = await import('../job/interop/index.js')
      // Saved connections go by their name in exported files (placeholders are named after it), not their id.
      const names = new Map(store.connections.list().map((c) => [c.id, c.name]))
      const byName = (ref: ConnectionRef): ConnectionRef => (typeof ref === 'string' && names.has(ref) ? names.get(ref)! : ref)
      const named = { ...job, reader: { ...job.reader, connection: byName(job.reader.connection) }, writer: { ...job.writer, connection: byName(job.writer.connection) } }
      const r = exportJob(named, a.format, (ref) => resolveConnectionRef(store, ref, 'connection'), tables ? { tables } : {})
      return { files: r.files.map((f) => ({ name: f.name, content: f.content })), warnings: r.warnings }
    },

    // -- runs ----------------------------------------------------------------------------------
    async 'runs/start'(a) {
      if (!a || typeof a !== 'object') throw apiError('BAD_REQUEST', 'expected { jobId } or { spec }')
      const common = { ...(a.vars ? { vars: a.vars } : {}), ...(a.bizdate ? { bizdate: a.bizdate } : {}), ...(a.channels ? { channels: a.channels } : {}) }
      if ('jobId' in a && a.jobId !== undefined) {
        const id = str(a.jobId, 'jobId')
        const job = store.jobs.get(id, a.version)
        if (!job) throw apiError('NOT_FOUND', `no job with id ${JSON.stringify(id)}${a.version !== undefined ? ` at version ${a.version}` : ''}`, a.version !== undefined ? 'version' : 'jobId')
        return launch({ spec: job.spec, jobId: job.id, jobVersion: job.version, name: job.name, ...common })
      }
      if (!('spec' in a)) throw apiError('BAD_REQUEST', 'expected { jobId } or { spec }', 'spec')
      return launch({ spec: a.spec, ...(a.name !== undefined ? { name: a.name } : {}), ...common })
    },
    async 'runs/cancel'(a) {
      store.locks.reapDead()
      const run = requireRun(a?.runId)
      const handle = runs.get(run.id)
      if (handle) return void handle.cancel()
      if (run.state === 'created' || run.state === 'running') {
        throw apiError('NOT_RUNNING_HERE', `run ${run.id} is ${run.state} in another process (CLI or another server); cancel it there`, 'runId')
      }
      // Already ended: nothing to do.
    },
    async 'runs/rerun'(a) {
      const run = requireRun(a?.runId)
      let spec: unknown = run.spec
      if (a.failedOnly) {
        const failed = store.runTasks.list(run.id).filter((t) => RERUN_TASK_STATES.has(t.state))
        if (failed.length === 0) throw apiError('NOTHING_TO_RERUN', `run ${run.id} has no failed tasks`, 'runId')
        spec = failedOnlySpec(run.spec, failed, run.vars)
      }
      return launch({
        spec,
        ...(run.jobId ? { jobId: run.jobId } : {}),
        ...(run.jobId && run.jobVersion ? { jobVersion: run.jobVersion } : {}),
        name: run.name,
        vars: run.vars,
      })
    },
    async 'runs/list'(a) {
      store.locks.reapDead() // runs left 'running' by a dead process show as failed (resumable)
      const filter = { ...(a?.state ? { state: a.state } : {}), ...(a?.jobId ? { jobId: a.jobId } : {}) }
      const list = store.runs.list({ ...filter, ...(a?.limit !== undefined ? { limit: a.limit } : {}), ...(a?.offset !== undefined ? { offset: a.offset } : {}) })
      return { runs: list.map(toRunListItem), total: store.runs.count(filter) }
    },
    async 'runs/get'(a) {
      store.locks.reapDead()
      const run = requireRun(a?.runId)
      const detail: RunDetail = { ...toRunListItem(run), spec: maskSpec(run.spec), vars: run.vars, tasks: store.runTasks.list(run.id).map(toTaskView) }
      if (run.summary) detail.summary = run.summary as unknown as NonNullable<RunDetail['summary']>
      return detail
    },
    async 'runs/logs'(a) {
      const run = requireRun(a?.runId)
      return store.logs.tail(run.id, { ...(a.afterId !== undefined ? { afterId: a.afterId } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}) }).map((l) => ({
        id: l.id,
        ts: l.ts,
        level: l.level,
        message: l.message,
        ...(l.taskId !== undefined ? { taskId: l.taskId } : {}),
      }))
    },
    async 'runs/dirty'(a) {
      const run = requireRun(a?.runId)
      const opts = { ...(a.taskId !== undefined ? { taskId: a.taskId } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}), ...(a.offset !== undefined ? { offset: a.offset } : {}) }
      const records = store.dirty.list(run.id, opts).map((d) => ({
        id: d.id,
        taskId: d.taskId,
        reason: d.reason,
        columns: d.columns,
        values: d.values,
        createdAt: d.createdAt,
        ...(d.code !== undefined ? { code: d.code } : {}),
        ...(d.column !== undefined ? { column: d.column } : {}),
      }))
      return { records, total: store.dirty.count(run.id, a.taskId) }
    },

    // -- SQL editor ----------------------------------------------------------------------------
    async 'sql/query'(a) {
      const connectionId = str(a?.connectionId, 'connectionId')
      const sql = str(a.sql, 'sql')
      const maxRows = a.maxRows ?? DEFAULT_MAX_ROWS
      if (!Number.isInteger(maxRows) || maxRows < 1) throw apiError('BAD_REQUEST', 'maxRows: expected a positive integer', 'maxRows')
      const connector = await connectorFor(connectionId)
      const refused = sqliteRefusal(connector.config, sql, store.file)
      if (refused) throw apiError('FORBIDDEN', refused, 'sql')
      const controller = new AbortController()
      if (a.queryId !== undefined) {
        queries.get(a.queryId)?.abort(new Error('replaced by a new query with the same queryId'))
        queries.set(a.queryId, controller)
      }
      const t0 = performance.now()
      try {
        const r = await connector.query(sql, a.params, { maxRows, signal: controller.signal })
        const elapsedMs = Math.round(performance.now() - t0)
        const rows = r.affectedRows !== undefined && r.rows.length === 0 ? r.affectedRows : r.rows.length
        recordHistory({ connectionId, sql, elapsedMs, rows })
        return { ...r, elapsedMs }
      } catch (e) {
        const elapsedMs = Math.round(performance.now() - t0)
        recordHistory({ connectionId, sql, elapsedMs, error: (e as Error)?.message ?? String(e) })
        if (controller.signal.aborted) throw apiError('ABORTED', `query cancelled (${(e as Error)?.message ?? String(e)})`)
        throw e
      } finally {
        if (a.queryId !== undefined && queries.get(a.queryId) === controller) queries.delete(a.queryId)
      }
    },
    async 'sql/cancel'(a) {
      queries.get(str(a?.queryId, 'queryId'))?.abort(new Error('cancelled by user'))
    },
    async 'sql/history'(a) {
      const connectionId = str(a?.connectionId, 'connectionId')
      return store.queryHistory.list(connectionId, a.limit !== undefined ? { limit: a.limit } : {}).map((h) => ({
        id: h.id,
        connectionId: h.connectionId,
        sql: h.sql,
        elapsedMs: h.elapsedMs ?? 0,
        ts: h.ts,
        ...(h.rows !== undefined ? { rows: h.rows } : {}),
        ...(h.error !== undefined ? { error: h.error } : {}),
      }))
    },

    // -- settings ------------------------------------------------------------------------------
    // -- export files (file writers; main/engine/export-files.ts) --------------------------------
    async 'exportFiles/list'(a) {
      if (a?.state !== undefined && !['exists', 'deleted', 'absent'].includes(a.state)) throw apiError('BAD_REQUEST', `state: expected exists, deleted or absent`, 'state')
      if (a?.runId !== undefined) {
        const run = requireRun(a.runId)
        const files = store.exportFiles.list(run.id).filter((f) => !a.state || f.state === a.state)
        return { files, total: files.length }
      }
      return store.exportFiles.listAll({ ...(a?.state ? { state: a.state } : {}), ...(a?.limit !== undefined ? { limit: a.limit } : {}), ...(a?.offset !== undefined ? { offset: a.offset } : {}) })
    },
    async 'exportFiles/clean'(a) {
      const run = requireRun(a?.runId)
      if (a.ids !== undefined && (!Array.isArray(a.ids) || a.ids.some((x) => !Number.isInteger(x)))) throw apiError('BAD_REQUEST', 'ids: expected an array of integers', 'ids')
      const { cleanExportFiles } = await import('../engine/export-files.js')
      return cleanExportFiles(store, run.id, a.ids ? { ids: a.ids } : {})
    },
    async 'exportFiles/check'(a) {
      const run = requireRun(a?.runId)
      const { cleanExportFiles } = await import('../engine/export-files.js')
      return cleanExportFiles(store, run.id, { checkOnly: true, ids: store.exportFiles.list(run.id).filter((f) => f.state !== 'deleted').map((f) => f.id) })
    },

    async 'settings/get'() {
      return store.settings.all()
    },
    async 'settings/set'(a) {
      store.settings.set(str(a?.key, 'key'), a.value)
    },
  }

  /** History is best effort: the connection may have been deleted meanwhile. */
  const recordHistory = (e: { connectionId: string; sql: string; elapsedMs: number; rows?: number; error?: string }) => {
    try {
      store.queryHistory.add(e)
    } catch {
      /* connection deleted while the query ran */
    }
  }

  return {
    handlers,
    async dispose() {
      if (disposed) return
      disposed = true
      scheduler.dispose()
      for (const c of queries.values()) c.abort(new Error('the API is shutting down'))
      queries.clear()
      const active = [...runs.values()]
      for (const h of active) h.cancel()
      if (active.length) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          Promise.allSettled(active.map((h) => h.done)),
          new Promise((r) => {
            timer = setTimeout(r, DISPOSE_RUN_WAIT_MS)
          }),
        ])
        clearTimeout(timer)
      }
      await cleanup.dispose()
      const all = [...connectors.keys()]
      await Promise.allSettled(all.map(invalidate))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

/** A required non-empty string argument. @throws ApiError BAD_REQUEST naming `path`. */
function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw apiError('BAD_REQUEST', `${path}: expected a non-empty string`, path)
  return v
}

/**
 * A draft being edited, with each secret it leaves out (`undefined`: "keep the saved one", as
 * `connections/update` reads it) taken from the saved connection: password, private keys and
 * passphrases, also those of the SSH tunnel and its jump host (main/store/connections.ts SECRET_PATHS).
 */
function withSavedSecrets(draft: ConnectionConfig, saved: ConnectionConfig): ConnectionConfig {
  const out = JSON.parse(JSON.stringify(draft)) as ConnectionConfig
  for (const p of SECRET_PATHS) {
    const parts = p.split('.')
    let from = saved as unknown as Record<string, unknown> | undefined
    let to = out as unknown as Record<string, unknown> | undefined
    for (const k of parts.slice(0, -1)) {
      from = from?.[k] as Record<string, unknown> | undefined
      to = to?.[k] as Record<string, unknown> | undefined
    }
    const leaf = parts[parts.length - 1]!
    if (to && typeof to === 'object' && to[leaf] === undefined && typeof from?.[leaf] === 'string') to[leaf] = from[leaf]
  }
  return out
}

function checkDraft(d: unknown): ConnectionDraft {
  if (typeof d !== 'object' || d === null) throw apiError('BAD_REQUEST', 'draft: expected { name, config }', 'draft')
  const draft = d as ConnectionDraft
  if (typeof draft.config !== 'object' || draft.config === null) throw apiError('BAD_REQUEST', 'draft.config: expected an object', 'draft.config')
  return draft
}

function tableRef(t: unknown): TableRef {
  if (typeof t !== 'object' || t === null || typeof (t as TableRef).name !== 'string') throw apiError('BAD_REQUEST', 'table: expected { schema?, name }', 'table')
  return t as TableRef
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown })?.code
  return typeof c === 'string' && c !== '' ? c : typeof c === 'number' ? String(c) : undefined
}

function connectionProblem(path: string, e: unknown): Problem {
  const message = ((e as Error)?.message ?? String(e)).replace(/^\$[^\s:]*:\s*/, '')
  return { path, message, severity: 'error', code: codeOf(e) ?? 'connection' }
}

function toRunListItem(r: Run | import('../store/index.js').RunListItem): RunListItem {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    createdAt: r.createdAt,
    rowsRead: r.rowsRead,
    rowsWritten: r.rowsWritten,
    bytes: r.bytes,
    dirty: r.dirty,
    ...(r.jobId !== undefined ? { jobId: r.jobId } : {}),
    ...(r.jobVersion !== undefined ? { jobVersion: r.jobVersion } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
    ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
  }
}

function toTaskView(t: RunTask): RunDetail['tasks'][number] {
  return {
    taskId: t.taskId,
    source: t.source,
    target: t.target,
    state: t.state,
    stage: t.stage,
    rowsRead: t.rowsRead,
    rowsWritten: t.rowsWritten,
    bytes: t.bytes,
    dirty: t.dirty,
    ...(t.estimatedRows !== undefined ? { estimatedRows: t.estimatedRows } : {}),
    ...(t.error !== undefined ? { error: t.error } : {}),
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(t.endedAt !== undefined ? { endedAt: t.endedAt } : {}),
  }
}

type PlannedTask = Awaited<ReturnType<typeof planJob>>['tasks'][number]

/** A planned task as the wizard previews it; `natives`: the target's native column types of a table to be created. */
function toPreview(t: PlannedTask, natives?: string[]): TaskPreview {
  const source = t.read.querySql ?? (t.read.table ? (t.read.table.schema ? `${t.read.table.schema}.${t.read.table.name}` : t.read.table.name) : t.taskId)
  const p: TaskPreview = {
    taskId: t.taskId,
    source,
    target: t.target,
    targetExists: t.targetExists,
    sourceColumns: t.sourceColumns.map((c) => ({ name: c.name, type: describeType(c.type), ...(c.nativeType !== undefined ? { nativeType: c.nativeType } : {}) })),
    targetColumns: t.targetColumns.map((c, i) => ({ name: c.name, type: describeType(c.type), nativeType: natives?.[i] ?? c.nativeType, nullable: c.nullable })),
    mapping: t.ops.map((op) => (op.kind === 'column' ? { target: op.targetName, source: op.sourceName } : { target: op.targetName, constant: op.value })),
  }
  if (t.read.where) p.where = t.read.where
  if (t.ddl) p.ddl = { create: t.ddl.create, indexes: t.ddl.indexes, foreignKeys: t.ddl.foreignKeys, sequences: t.ddl.sequences }
  return p
}

/**
 * The spec of a "failed tasks only" rerun: the same document with `tables` narrowed to the pairs
 * whose task did not succeed.
 * - `tables: [pairs]`: the pairs whose task id (as the planner derives it: the source table name
 *   after variable substitution, or `query<N>`, with `#2`, `#3`... for repeats) is among `failed`,
 *   each kept as written (mapping, where, writeMode...).
 * - `tables: { include, exclude }`: `[{ source: <taskId> }, ...]` for the failed tasks, which is
 *   what include/exclude expanded to.
 */
export function failedOnlySpec(spec: unknown, failed: Pick<RunTask, 'taskId'>[], vars: Record<string, string>): unknown {
  const doc = typeof spec === 'string' ? (JSON.parse(spec) as unknown) : spec
  if (typeof doc !== 'object' || doc === null) throw apiError('INTERNAL', 'the run has no spec snapshot to rerun')
  const ids = new Set(failed.map((t) => t.taskId))
  const tables = (doc as { tables?: unknown }).tables
  if (!Array.isArray(tables)) {
    return { ...doc, tables: [...ids].map((id) => ({ source: id.replace(/#\d+$/, '') })) }
  }
  const time = timeContext()
  const used = new Set<string>()
  const kept: unknown[] = []
  ;(tables as TablePair[]).forEach((pair, i) => {
    const src = typeof pair?.source === 'string' ? pair.source : pair?.source?.querySql ? undefined : pair?.source?.table
    let base = `query${i + 1}`
    if (src !== undefined) {
      try {
        base = substitute(src, vars, time)
      } catch {
        base = src
      }
    }
    let id = base
    for (let k = 2; used.has(id); k++) id = `${base}#${k}`
    used.add(id)
    if (ids.has(id)) kept.push(pair)
  })
  if (kept.length === 0) throw apiError('NOTHING_TO_RERUN', 'none of the failed tasks matches a table pair of the job', 'runId')
  return { ...doc, tables: kept }
}
