/**
 * Source clean-up after the copy (issue 15; OpenPie PieDataCS "清理源数据"): once a run's
 * TableDataDiff passed for every table, delete the rows it migrated from the source.
 *
 * - The condition of a table is `job.cleanup.where`, else the table's `where`, else the reader's
 *   `where`, with the run's own variables and data time (so a daily job cleans exactly the day
 *   it copied). Without any condition the whole table is emptied — still in chunks.
 * - Rows go by primary-key chunks, the pt-archiver way: `SELECT pk FROM t WHERE (cond) AND pk >
 *   last ORDER BY pk LIMIT n` (index walk, no lock), then `DELETE FROM t WHERE (cond) AND pk IN
 *   (...those keys)`, one statement, its own transaction (autocommit): never one huge DELETE that
 *   holds locks and undo for the whole table. Composite keys compare as `(a > ?) OR (a = ? AND
 *   b > ?)`, which every engine can walk by index. The DELETE repeats the condition, so a row
 *   changed since the SELECT to no longer match is kept. A table without a primary key is refused.
 * - `batch` rows per chunk (default 10,000; fewer when the key list would pass the engine's bound
 *   parameter limit), `pauseMs` between chunks, `maxRowsPerSecond` cap.
 * - Each committed chunk is recorded (state DB `cleanup_batches`: host, user, SQL, times, rows,
 *   first/last key) in one SQLite transaction with the table's resume point (the last key
 *   deleted). A clean-up killed mid-way is taken up again by the next clean-up of the same run from
 *   that key; a chunk deleted but not yet recorded when the process died is simply not found again
 *   (its rows are gone), so nothing is deleted twice and nothing is missed.
 * - It runs only when every task of the run ended `succeeded` after its TableDataDiff stage,
 *   unless `force` with a `reason`, which is recorded. A refused attempt is recorded too.
 *
 * Entry point for the CLI (`sluice cleanup`), the API (`cleanup/*`) and a workflow's `cleanup`
 * node: {@link runCleanup}.
 */
import { hostname, userInfo } from 'node:os'
import type { TableRef, Value } from '../core/types.js'
import { openConnector } from '../connectors/index.js'
import type { Connector } from '../connectors/types.js'
import { resolveConnectionRef } from '../engine/service.js'
import { parseJob, type JobSpec, type TablePair } from '../job/spec.js'
import { substitute, timeContext, type TimeContext } from '../job/variables.js'
import type { Run, Store } from '../store/index.js'
import type { CleanupDryRun, CleanupDryRunTask, CleanupGate, CleanupOverviewItem, CleanupRecord, SourceDataState } from './types.js'

export type * from './types.js'

/** Default rows per clean-up batch (OpenPie's default round). */
export const DEFAULT_CLEANUP_BATCH = 10_000

/** Options of {@link runCleanup}. */
export interface CleanupOptions {
  /** A run id, or a saved job's id or name (then: the job's latest finished run). */
  target: string
  /** Count and show the SQL; delete nothing, record nothing. */
  dryRun?: boolean
  /** Rows per batch; default `job.cleanup.batch` or {@link DEFAULT_CLEANUP_BATCH}. */
  batch?: number
  /** Pause between batches in ms; default `job.cleanup.pauseMs` or 0. */
  pauseMs?: number
  /** Rows per second at most; default `job.cleanup.maxRowsPerSecond` or 0 (unlimited). */
  maxRowsPerSecond?: number
  /** Run although the run's TableDataDiff did not pass; needs `reason`. */
  force?: boolean
  reason?: string
  /** Recorded as the user; default the OS user. */
  user?: string
  /** Stops between batches (the clean-up ends `terminated`, resumable). */
  signal?: AbortSignal
  /** Called once the clean-up is recorded (before the first batch), with its id. */
  onStart?: (cleanupId: string) => void
  /** Called after each committed batch. */
  onBatch?: (b: { cleanupId: string; taskId: string; batchNo: number; rows: number; totalRows: number }) => void
}

/** The result of a clean-up that ran (or was resumed). */
export interface CleanupResult {
  cleanup: CleanupRecord
  /** Id of the clean-up resumed, when this call took one up. */
  resumed: boolean
}

/** A clean-up refused (not verified without force, table without a key, one already running). */
export class CleanupRefused extends Error {
  override name = 'CleanupRefused'
  readonly code = 'CLEANUP_REFUSED'
  constructor(
    message: string,
    readonly cleanupId?: string,
  ) {
    super(message)
  }
}

/** What the clean-up of one table will run. */
interface TablePlan {
  taskId: string
  ref: TableRef
  label: string
  condition?: string
  key: string[]
  keyInt: boolean[]
  selectSql: string
  deleteSql: string
  refused?: string
}

interface Resolved {
  run: Run
  job: JobSpec
  time: TimeContext
  dataTime: string
}

const yyyymmdd = (d: Date) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`

/** The run a target names: a run id, or a job's latest finished run. */
function resolveRun(store: Store, target: string): Run {
  const run = store.runs.get(target)
  if (run) return run
  const job = store.jobs.get(target)
  if (!job) throw new Error(`cleanup: '${target}' is neither a run id nor a saved job`)
  const latest = store.runs.list({ jobId: job.id, limit: 50 }).find((r) => !['created', 'running'].includes(r.state))
  if (!latest) throw new Error(`cleanup: job '${job.name}' has no finished run to clean up after`)
  return store.runs.get(latest.id)!
}

function resolve(store: Store, target: string): Resolved {
  const run = resolveRun(store, target)
  const parsed = parseJob(run.spec)
  if (!parsed.ok) throw new Error(`cleanup: the spec of run ${run.id} is not valid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`)
  const rt = (run.summary as { runTime?: { now: string; bizdate?: string } } | undefined)?.runTime
  const time = timeContext({ now: new Date(rt?.now ?? run.startedAt ?? run.createdAt), ...(rt?.bizdate !== undefined ? { bizdate: rt.bizdate } : {}) })
  return { run, job: parsed.job, time, dataTime: yyyymmdd(time.dataTime) }
}

/**
 * The verification gate: every task of the run ended `succeeded` after its TableDataDiff stage
 * (`verify` in the job). Reasons name each table that did not.
 */
export function cleanupGate(store: Store, run: Run, job: JobSpec): CleanupGate {
  const problems: string[] = []
  const tasks = store.runTasks.list(run.id)
  if (!job.verify) problems.push('the job has no verify: no TableDataDiff ran, so nothing proves the copy complete')
  if (tasks.length === 0) problems.push('the run has no tasks')
  for (const t of tasks) {
    if (t.state === 'inconsistent') problems.push(`${t.taskId}: TableDataDiff found the target inconsistent`)
    else if (t.state !== 'succeeded') problems.push(`${t.taskId}: ${t.state}`)
    else if (job.verify && t.stage !== 'TableDataDiff') problems.push(`${t.taskId}: not verified`)
  }
  return { consistent: problems.length === 0, problems }
}

/** Table pairs of the run's tasks, matched the way the planner names tasks (source name, `#2`...). */
function pairsOf(job: JobSpec, taskIds: string[], vars: Record<string, string>, time: TimeContext): Map<string, { pair: TablePair; path: string }> {
  const out = new Map<string, { pair: TablePair; path: string }>()
  if (!Array.isArray(job.tables)) {
    for (const id of taskIds) out.set(id, { pair: { source: id.replace(/#\d+$/, '') } as TablePair, path: '$.tables' })
    return out
  }
  const used = new Set<string>()
  job.tables.forEach((pair, i) => {
    const src = typeof pair.source === 'string' ? pair.source : pair.source.querySql ? undefined : pair.source.table
    const base = src !== undefined ? substitute(src, vars, time, `$.tables[${i}].source`) : `query${i + 1}`
    let id = base
    for (let k = 2; used.has(id); k++) id = `${base}#${k}`
    used.add(id)
    out.set(id, { pair, path: `$.tables[${i}]` })
  })
  return out
}

/** Most bound parameters one statement may carry (SQLite's default limit, MySQL / PostgreSQL protocol limit). */
function maxParams(kind: Connector['kind']): number {
  return kind === 'sqlite' ? 32_766 : 65_535
}

async function planTables(store: Store, r: Resolved, c: Connector, batch: number): Promise<TablePlan[]> {
  const tasks = store.runTasks.list(r.run.id)
  const pairs = pairsOf(r.job, tasks.map((t) => t.taskId), r.run.vars, r.time)
  const out: TablePlan[] = []
  for (const t of tasks) {
    const found = pairs.get(t.taskId)
    const base = { taskId: t.taskId, key: [] as string[], keyInt: [] as boolean[], selectSql: '', deleteSql: '' }
    if (!found) {
      out.push({ ...base, ref: { name: t.taskId }, label: t.source, refused: `task ${t.taskId} matches no table pair of the run's spec` })
      continue
    }
    const { pair, path } = found
    const srcObj = typeof pair.source === 'string' ? { table: pair.source } : pair.source
    if (srcObj.querySql || !srcObj.table) {
      out.push({ ...base, ref: { name: t.taskId }, label: t.taskId, refused: `${t.taskId} reads a querySql: a clean-up needs a source table` })
      continue
    }
    const name = substitute(srcObj.table, r.run.vars, r.time, `${path}.source`)
    const ref: TableRef = { schema: srcObj.schema ?? r.job.reader.schema ?? c.defaultSchema, name }
    const label = `${ref.schema}.${ref.name}`
    const raw = r.job.cleanup?.where ?? pair.where ?? r.job.reader.where
    const wherePath = r.job.cleanup?.where !== undefined ? '$.cleanup.where' : pair.where !== undefined ? `${path}.where` : '$.reader.where'
    const condition = raw?.trim() ? substitute(raw, r.run.vars, r.time, wherePath) : undefined
    const schema = await c.catalog.table(ref)
    if (!schema.primaryKey.length) {
      out.push({ ...base, ref, label, ...(condition ? { condition } : {}), refused: `table ${label} has no primary key: a clean-up deletes by primary-key chunks and does not run on a table without one` })
      continue
    }
    const key = schema.primaryKey
    const keyInt = key.map((k) => ['int', 'year'].includes(schema.columns.find((col) => col.name === k)?.type.kind ?? ''))
    const sql = buildSql(c, ref, condition, key, batch, true)
    out.push({ taskId: t.taskId, ref, label, ...(condition ? { condition } : {}), key, keyInt, selectSql: sql.selectAfter, deleteSql: sql.deleteText })
  }
  return out
}

/** Placeholder n (1-based) for the connector's dialect. */
const ph = (c: Connector, n: number) => (c.kind === 'postgres' ? `$${n}` : '?')

/**
 * The statements of a clean-up: the first and the following key-chunk SELECTs, and the DELETE
 * of `n` keys (with its text abridged for the history when `abridge`).
 */
export function buildSql(c: Connector, ref: TableRef, condition: string | undefined, key: string[], n: number, abridge = false, offset = 0) {
  const t = c.quoteTable(ref)
  const q = key.map((k) => c.quoteIdent(k))
  const cond = condition ? `(${condition})` : ''
  // (a > ?) OR (a = ? AND b > ?) OR ...
  let p = offset
  const after = key
    .map((_, i) => {
      const parts = q.slice(0, i).map((col) => `${col} = ${ph(c, ++p)}`)
      parts.push(`${q[i]} > ${ph(c, ++p)}`)
      return `(${parts.join(' AND ')})`
    })
    .join(' OR ')
  const order = ` ORDER BY ${q.join(', ')} LIMIT ${n}`
  const selectFirst = `SELECT ${q.join(', ')} FROM ${t}${cond ? ` WHERE ${cond}` : ''}${order}`
  const selectAfter = `SELECT ${q.join(', ')} FROM ${t} WHERE ${cond ? `${cond} AND ` : ''}(${after})${order}`
  const lhs = key.length === 1 ? q[0]! : `(${q.join(', ')})`
  const deleteHead = `DELETE FROM ${t} WHERE ${cond ? `${cond} AND ` : ''}${lhs} IN `
  const one = key.length === 1 ? '?' : `(${key.map(() => '?').join(', ')})`
  const deleteText = abridge ? `${deleteHead}(${one} × ${n} keys)` : deleteHead
  return { selectFirst, selectAfter, deleteHead, deleteText, afterParams: p - offset }
}

/** Bind a canonical key value back: integer text as a number (BigInt past 2^53 on MySQL / SQLite). */
function bindKey(c: Connector, v: Value, isInt: boolean): unknown {
  if (!isInt || typeof v !== 'string' || !/^-?\d+$/.test(v)) return typeof v === 'bigint' && c.kind === 'postgres' ? v.toString() : v
  const n = Number(v)
  if (Number.isSafeInteger(n)) return n
  return c.kind === 'postgres' ? v : BigInt(v)
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/** This process, as a clean-up records it. */
function who(user?: string): { host: string; user: string; pid: number } {
  let u = user
  if (!u) {
    try {
      u = userInfo().username
    } catch {
      u = process.env.USER ?? 'unknown'
    }
  }
  return { host: hostname(), user: u, pid: process.pid }
}

/** A running clean-up whose process is gone (same host, pid not alive; other host: no batch for 15 minutes). */
function isStale(c: CleanupRecord): boolean {
  if (c.state !== 'running') return true
  if (c.host === hostname() && c.pid !== undefined) {
    if (c.pid === process.pid) return false
    try {
      process.kill(c.pid, 0)
      return false
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
  return Date.now() - Date.parse(c.updatedAt) > 15 * 60_000
}

/**
 * Dry run: whether the gate passes, and per table the rows the condition matches now and the
 * exact SQL a clean-up would run. Deletes and records nothing.
 * @throws Error when the target names no run or job.
 */
export async function dryRunCleanup(store: Store, opts: Pick<CleanupOptions, 'target' | 'batch'>): Promise<CleanupDryRun> {
  const r = resolve(store, opts.target)
  const batch = opts.batch ?? r.job.cleanup?.batch ?? DEFAULT_CLEANUP_BATCH
  const c = await openConnector(resolveConnectionRef(store, r.job.reader.connection, '$.reader.connection'))
  try {
    const plans = await planTables(store, r, c, batch)
    const tasks: CleanupDryRunTask[] = []
    for (const p of plans) {
      const rows = p.refused ? 0 : await c.count(p.ref, p.condition)
      const sql = p.refused ? undefined : buildSql(c, p.ref, p.condition, p.key, effectiveBatch(c, batch, p.key.length), true)
      tasks.push({
        taskId: p.taskId,
        table: p.label,
        ...(p.condition ? { condition: p.condition } : {}),
        keyColumns: p.key,
        rows,
        selectSql: sql ? `${sql.selectFirst};\n${sql.selectAfter};` : '',
        deleteSql: sql?.deleteText ?? '',
        ...(p.refused ? { refused: p.refused } : {}),
      })
    }
    return { runId: r.run.id, ...(r.run.jobId ? { jobId: r.run.jobId } : {}), dataTime: r.dataTime, batchSize: batch, gate: cleanupGate(store, r.run, r.job), tasks }
  } finally {
    await c.close()
  }
}

/** Rows per batch that keeps the DELETE's key list under the bound parameter limit. */
function effectiveBatch(c: Connector, batch: number, keyColumns: number): number {
  return Math.max(1, Math.min(batch, Math.floor((maxParams(c.kind) - 16) / Math.max(1, keyColumns))))
}

/**
 * Clean up the source after a run (see the module comment), or with `dryRun` only show what it
 * would do. Takes up an earlier clean-up of the same run that was killed, failed or terminated,
 * from each table's last deleted key.
 *
 * This is the function a workflow `cleanup` node calls: `runCleanup(store, { target: runId })`.
 *
 * @returns the clean-up record (state `succeeded`, `failed` or `terminated`); with `dryRun`, the
 *   {@link CleanupDryRun}.
 * @throws CleanupRefused when the run's TableDataDiff did not pass (without force), `force` has no
 *   reason, a table has no primary key or reads a querySql, or a clean-up of the run is running
 *   in a live process; the refusal is recorded (except the last). Error when the target names no
 *   run or job.
 */
export async function runCleanup(store: Store, opts: CleanupOptions & { dryRun: true }): Promise<CleanupDryRun>
export async function runCleanup(store: Store, opts: CleanupOptions): Promise<CleanupResult>
export async function runCleanup(store: Store, opts: CleanupOptions): Promise<CleanupResult | CleanupDryRun> {
  if (opts.dryRun) return dryRunCleanup(store, opts)
  if (opts.force && !opts.reason?.trim()) throw new CleanupRefused('cleanup: --force needs a --reason, which is recorded with the clean-up')
  const r = resolve(store, opts.target)
  const spec = r.job.cleanup
  const batch = opts.batch ?? spec?.batch ?? DEFAULT_CLEANUP_BATCH
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`cleanup: batch must be a positive integer, got ${batch}`)
  const pauseMs = opts.pauseMs ?? spec?.pauseMs ?? 0
  const maxRate = opts.maxRowsPerSecond ?? spec?.maxRowsPerSecond ?? 0
  const me = who(opts.user)
  const refuse = (message: string): never => {
    const rec = store.cleanups.create({ ...(r.run.jobId ? { jobId: r.run.jobId } : {}), runId: r.run.id, dataTime: r.dataTime, state: 'refused', forced: Boolean(opts.force), ...(opts.reason ? { reason: opts.reason } : {}), host: me.host, user: me.user, batchSize: batch, error: message })
    throw new CleanupRefused(message, rec.id)
  }

  // A clean-up of this run that did not finish is taken up again.
  const previous = store.cleanups.list({ runId: r.run.id, limit: 20 }).find((c) => c.state !== 'refused')
  const unfinished = previous && previous.state !== 'succeeded' ? previous : undefined
  if (unfinished && unfinished.state === 'running' && !isStale(unfinished)) throw new CleanupRefused(`cleanup: clean-up ${unfinished.id} of run ${r.run.id} is running (host ${unfinished.host}, pid ${unfinished.pid ?? '?'})`)
  if (previous?.state === 'succeeded' && !unfinished) {
    // Cleaned already: a new clean-up finds what matches the condition now (normally nothing).
  }

  const gate = cleanupGate(store, r.run, r.job)
  if (!gate.consistent && !opts.force) refuse(`cleanup refused: run ${r.run.id} (data time ${r.dataTime}) is not verified consistent: ${gate.problems.join('; ')}. Verify the run (job.verify), or --force with a --reason`)

  const c = await openConnector(resolveConnectionRef(store, r.job.reader.connection, '$.reader.connection'))
  let cleanupId: string | undefined
  try {
    const plans = await planTables(store, r, c, batch)
    const bad = plans.filter((p) => p.refused)
    if (bad.length) refuse(`cleanup refused: ${bad.map((p) => p.refused).join('; ')}`)

    let resumed = false
    if (unfinished) {
      cleanupId = unfinished.id
      store.cleanups.resume(cleanupId, me)
      resumed = true
    } else {
      const rec = store.cleanups.create({ ...(r.run.jobId ? { jobId: r.run.jobId } : {}), runId: r.run.id, dataTime: r.dataTime, state: 'running', forced: Boolean(opts.force) && !gate.consistent, ...(opts.force && !gate.consistent ? { reason: opts.reason! } : {}), host: me.host, user: me.user, pid: me.pid, batchSize: batch })
      cleanupId = rec.id
      store.cleanups.addTasks(plans.map((p) => ({ cleanupId: rec.id, taskId: p.taskId, table: p.label, ...(p.condition ? { condition: p.condition } : {}), keyColumns: p.key, selectSql: p.selectSql, deleteSql: p.deleteSql })))
    }
    opts.onStart?.(cleanupId)
    const id = cleanupId
    const recorded = new Map(store.cleanups.tasks(id).map((t) => [t.taskId, t]))
    const started = Date.now()
    let total = 0
    for (const p of plans) {
      const rec = recorded.get(p.taskId)
      if (rec?.state === 'done') continue
      store.cleanups.setTaskState(id, p.taskId, 'running')
      let last = rec?.lastKey as Value[] | undefined
      let batchNo = store.cleanups.batches(id, p.taskId).length
      const n = effectiveBatch(c, batch, p.key.length)
      const sql = buildSql(c, p.ref, p.condition, p.key, n)
      for (;;) {
        if (opts.signal?.aborted) throw Object.assign(new Error('terminated'), { terminated: true })
        const t0 = Date.now()
        const startedAt = new Date(t0).toISOString()
        const params = last ? afterParams(c, last, p.keyInt) : []
        const sel = await c.query(last ? sql.selectAfter : sql.selectFirst, params)
        const keys = sel.rows
        if (keys.length === 0) break
        const del: unknown[] = []
        let k = 0
        const tuple = () => (p.key.length === 1 ? ph(c, ++k) : `(${p.key.map(() => ph(c, ++k)).join(', ')})`)
        const items: string[] = []
        for (const row of keys) {
          items.push(tuple())
          row.forEach((v, i) => del.push(bindKey(c, v, p.keyInt[i]!)))
        }
        const list = c.kind === 'sqlite' && p.key.length > 1 ? `(VALUES ${items.join(', ')})` : `(${items.join(', ')})`
        const res = await c.query(`${sql.deleteHead}${list}`, del)
        const rows = res.affectedRows ?? keys.length
        const first = keys[0]!
        last = keys[keys.length - 1]!
        batchNo++
        total += rows
        const ended = Date.now()
        store.cleanups.addBatch({ cleanupId: id, taskId: p.taskId, batchNo, sql: `${sql.deleteHead}(${p.key.length === 1 ? '?' : `(${p.key.map(() => '?').join(', ')})`} × ${keys.length} keys)`, rows, firstKey: first, lastKey: last, host: me.host, user: me.user, startedAt, endedAt: new Date(ended).toISOString(), elapsedMs: ended - t0 })
        opts.onBatch?.({ cleanupId: id, taskId: p.taskId, batchNo, rows, totalRows: total })
        if (keys.length < n) break
        if (pauseMs) await sleep(pauseMs, opts.signal)
        if (maxRate > 0) await sleep((total / maxRate) * 1000 - (Date.now() - started), opts.signal)
      }
      store.cleanups.setTaskState(id, p.taskId, 'done')
    }
    store.cleanups.finish(id, 'succeeded')
    return { cleanup: store.cleanups.get(id)!, resumed }
  } catch (e) {
    if (cleanupId) {
      const terminated = (e as { terminated?: boolean }).terminated === true
      store.cleanups.finish(cleanupId, terminated ? 'terminated' : 'failed', terminated ? 'terminated by user' : (e as Error).message)
      if (terminated) return { cleanup: store.cleanups.get(cleanupId)!, resumed: false }
    }
    throw e
  } finally {
    await c.close()
  }
}

/** Parameters of the "after the last key" predicate: for key (a, b, c): a; a, b; a, b, c. */
function afterParams(c: Connector, last: Value[], keyInt: boolean[]): unknown[] {
  const out: unknown[] = []
  for (let i = 0; i < last.length; i++) for (let j = 0; j <= i; j++) out.push(bindKey(c, last[j]!, keyInt[j]!))
  return out
}

/** The source data state of a run from its latest clean-up. */
export function sourceDataState(latest: CleanupRecord | undefined): SourceDataState {
  if (!latest) return 'not_cleaned'
  if (latest.state === 'succeeded') return 'cleaned'
  if (latest.state === 'refused') return 'refused'
  return 'cleaning'
}

/**
 * The "Data clean-up" view: every saved job with its latest finished run, whether that run was
 * verified, and its source data state.
 */
export function cleanupOverview(store: Store): CleanupOverviewItem[] {
  return store.jobs.list().map((j) => {
    const run = store.runs.list({ jobId: j.id, limit: 50 }).find((r) => !['created', 'running'].includes(r.state))
    if (!run) return { jobId: j.id, jobName: j.name, verified: false, sourceState: 'not_cleaned' as const }
    let verified = false
    let dataTime: string | undefined
    try {
      const r = resolve(store, run.id)
      verified = cleanupGate(store, r.run, r.job).consistent
      dataTime = r.dataTime
    } catch {
      /* a run whose spec no longer parses: shown as not verified */
    }
    const latest = store.cleanups.list({ runId: run.id, limit: 1 })[0]
    return {
      jobId: j.id,
      jobName: j.name,
      runId: run.id,
      runState: run.state,
      ...(dataTime ? { dataTime } : {}),
      verified,
      sourceState: sourceDataState(latest),
      ...(latest ? { cleanup: latest } : {}),
    }
  })
}
