/**
 * Running one workflow instance: its nodes in dependency order, several at once when
 * independent (at most {@link MAX_PARALLEL_NODES}). Each node's state is kept in
 * `node_instances`; a failed node marks its transitive downstream `skipped` and the other
 * branches go on; the instance fails when any node did not succeed. A resumed instance (rerun
 * from the failed node, or after a crash) keeps the nodes that succeeded and runs the rest; a
 * sync node whose run failed resumes that run from its checkpoints.
 *
 * Node types: sync (a job run, linked by run id), sql (statement by statement, each logged with
 * its rows affected), shell (a command with the variables in its environment), and cleanup (the
 * source clean-up of a job's run for the instance's data time: ./cleanup-node.ts).
 */
import { spawn } from 'node:child_process'
import { openConnector } from '../connectors/index.js'
import { resolveConnectionRef, startRun, type RunHandle } from '../engine/service.js'
import { builtinVariables, substitute, timeContext, type TimeContext } from '../job/variables.js'
import type { Store } from '../store/index.js'
import type { InstanceRow } from '../store/scheduler.js'
import type { Execution, ExecutionContext, ExecutionResult } from '../scheduler/core.js'
import { parseWorkflow } from './spec.js'
import { splitSqlStatements } from './sql-split.js'
import { runCleanupNode } from './cleanup-node.js'
import type { ShellNode, SqlNode, SyncNode, WorkflowNode, WorkflowSpec } from './types.js'

/** At most this many nodes of one instance run at once. */
export const MAX_PARALLEL_NODES = 4

/** What a node executor gets. */
export interface NodeContext {
  store: Store
  instance: InstanceRow
  workflow: WorkflowSpec
  /** Variables: the workflow's and the node's, values substituted. */
  vars: Record<string, string>
  time: TimeContext
  signal: AbortSignal
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void
  /** Link a run (sync-like nodes). */
  setRunId(runId: string): void
  /** The run this node made in an earlier attempt, when resuming. */
  previousRunId?: string
}

/** What a node reports when it succeeds (it throws to fail). */
export interface NodeOutcome {
  rowsAffected?: number
}



/** A `Date` whose local wall-clock fields are `wall` (`YYYY-MM-DD HH:mm:ss`), for {@link timeContext}. */
export function localDate(wall: string): Date {
  const [d, t = '00:00:00'] = wall.split(' ')
  const [y, m, day] = d!.split('-').map(Number) as [number, number, number]
  const [h, mi, s] = t.split(':').map(Number) as [number, number, number]
  return new Date(y, m - 1, day, h, mi, s)
}

/** The time context of an instance: its cyctime, and its data time as `${bizdate}`. */
export function instanceTime(i: Pick<InstanceRow, 'cyctime' | 'dataTime'>): TimeContext {
  return timeContext({ now: localDate(i.cyctime), bizdate: i.dataTime })
}

/** Start a workflow instance. */
export function runWorkflowInstance(store: Store, i: InstanceRow, ctx: ExecutionContext): Execution {
  const controller = new AbortController()
  const done = (async (): Promise<ExecutionResult> => {
    const saved = store.workflows.get(i.targetId, i.version)
    if (!saved) return { state: 'failed', error: `workflow ${i.targetName} version ${i.version} no longer exists` }
    const parsed = parseWorkflow(JSON.parse(saved.specText))
    if (!parsed.ok) return { state: 'failed', error: `workflow ${i.targetName} v${i.version} is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` }
    const wf = parsed.workflow
    const sch = store.scheduler
    sch.ensureNodes(i.id, wf.nodes.map((n) => ({ nodeId: n.id, type: n.type })))
    const state = new Map(sch.nodes(i.id).map((n) => [n.nodeId, n]))
    for (const n of wf.nodes) {
      const cur = state.get(n.id)!
      if (ctx.resume && cur.state === 'succeeded') continue
      if (cur.state !== 'waiting') sch.updateNode(i.id, n.id, { state: 'waiting', error: null, endedAt: null, startedAt: null })
      cur.state = 'waiting'
    }
    const upstream = new Map(wf.nodes.map((n) => [n.id, wf.edges.filter(([, b]) => b === n.id).map(([a]) => a)]))
    const downstream = (id: string): string[] => {
      const out: string[] = []
      const q = [id]
      while (q.length) {
        const c = q.shift()!
        for (const [a, b] of wf.edges) if (a === c && !out.includes(b)) (out.push(b), q.push(b))
      }
      return out
    }
    const time = instanceTime(i)
    const running = new Map<string, Promise<void>>()
    const failed: string[] = []
    /** Why each failed node failed: the instance's error names them with their reasons. */
    const errors = new Map<string, string>()
    const finishNode = (id: string, ok: boolean, error?: string, outcome?: NodeOutcome) => {
      const now = new Date().toISOString()
      const cur = state.get(id)!
      cur.state = ok ? 'succeeded' : controller.signal.aborted ? 'terminated' : 'failed'
      sch.updateNode(i.id, id, { state: cur.state, error: error ?? null, endedAt: now, ...(outcome?.rowsAffected !== undefined ? { rowsAffected: outcome.rowsAffected } : {}) })
      ctx.log(ok ? 'info' : 'error', `node ${id} ${cur.state}${error ? `: ${error}` : ''}`, id)
      if (!ok) {
        failed.push(id)
        if (error) errors.set(id, error)
        for (const d of downstream(id)) {
          const dn = state.get(d)!
          if (dn.state === 'waiting') {
            dn.state = 'skipped'
            sch.updateNode(i.id, d, { state: 'skipped', error: `upstream node ${id} did not succeed` })
          }
        }
      }
    }
    for (;;) {
      if (!controller.signal.aborted) {
        for (const n of wf.nodes) {
          if (running.size >= MAX_PARALLEL_NODES) break
          const cur = state.get(n.id)!
          if (cur.state !== 'waiting' || running.has(n.id)) continue
          if (!upstream.get(n.id)!.every((u) => state.get(u)!.state === 'succeeded')) continue
          const previousRunId = ctx.resume ? cur.runId : undefined
          cur.state = 'running'
          sch.updateNode(i.id, n.id, { state: 'running', attempt: cur.attempt + 1, startedAt: new Date().toISOString(), error: null })
          cur.attempt++
          const p = runNodeWithRetries(store, n, {
            store,
            instance: i,
            workflow: wf,
            vars: nodeVars(wf, n, time),
            time,
            signal: controller.signal,
            log: (level, message) => ctx.log(level, message, n.id),
            setRunId: (runId) => {
              cur.runId = runId
              sch.updateNode(i.id, n.id, { runId })
            },
            ...(previousRunId ? { previousRunId } : {}),
          })
            .then(
              (o) => finishNode(n.id, true, undefined, o),
              (e) => finishNode(n.id, false, (e as Error)?.message ?? String(e)),
            )
            .finally(() => running.delete(n.id))
          running.set(n.id, p)
        }
      }
      if (running.size === 0) break
      await Promise.race(running.values())
    }
    const leftover = [...state.values()].filter((n) => n.state === 'waiting')
    for (const n of leftover) sch.updateNode(i.id, n.nodeId, { state: controller.signal.aborted ? 'terminated' : 'skipped' })
    if (controller.signal.aborted) return { state: 'terminated', error: String(controller.signal.reason?.message ?? controller.signal.reason ?? 'terminated') }
    if (failed.length) return { state: 'failed', error: failed.map((id) => `node ${id} failed${errors.has(id) ? `: ${errors.get(id)}` : ''}`).join('; ') }
    return { state: 'succeeded' }
  })()
  return { done, cancel: (reason) => controller.abort(new Error(reason)) }
}

function nodeVars(wf: WorkflowSpec, n: WorkflowNode, time: TimeContext): Record<string, string> {
  const raw = { ...(wf.vars ?? {}), ...('vars' in n && n.vars ? n.vars : {}) }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) out[k] = substitute(v, {}, time, `vars.${k}`)
  return out
}

async function runNodeWithRetries(store: Store, n: WorkflowNode, ctx0: NodeContext): Promise<NodeOutcome> {
  const attempts = 1 + (n.retries?.count ?? 0)
  // A retry of a sync node resumes the run its previous attempt made.
  let previousRunId = ctx0.previousRunId
  const ctx: NodeContext = {
    ...ctx0,
    setRunId: (runId) => {
      previousRunId = runId
      ctx0.setRunId(runId)
    },
  }
  for (let a = 1; ; a++) {
    const local = new AbortController()
    const onAbort = () => local.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const timer = n.timeoutMinutes ? setTimeout(() => local.abort(new Error(`node timed out after ${n.timeoutMinutes} min`)), n.timeoutMinutes * 60_000) : undefined
    try {
      const { previousRunId: _p, ...rest } = ctx
      return await runNode(store, n, { ...rest, signal: local.signal, ...(previousRunId ? { previousRunId } : {}) })
    } catch (e) {
      if (ctx.signal.aborted || a >= attempts) throw local.signal.aborted && !ctx.signal.aborted ? new Error(String(local.signal.reason?.message ?? e)) : e
      ctx.log('warn', `attempt ${a} failed (${(e as Error).message}); retrying in ${n.retries!.intervalSeconds} s`)
      await new Promise((r) => setTimeout(r, n.retries!.intervalSeconds * 1000))
    } finally {
      if (timer) clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
    }
  }
}

/** Run one node. @throws Error (the node fails with its message). */
export async function runNode(store: Store, n: WorkflowNode, ctx: NodeContext): Promise<NodeOutcome> {
  switch (n.type) {
    case 'sync':
      return runSyncNode(store, n, ctx)
    case 'sql':
      return runSqlNode(store, n, ctx)
    case 'shell':
      return runShellNode(n, ctx)
    case 'cleanup':
      return runCleanupNode(store, n, ctx)
    default:
      throw new Error(`node type '${(n as { type: string }).type}' has no executor`)
  }
}

async function runSyncNode(store: Store, n: SyncNode, ctx: NodeContext): Promise<NodeOutcome> {
  let handle: RunHandle
  const prev = ctx.previousRunId ? store.runs.get(ctx.previousRunId) : undefined
  if (prev && prev.state !== 'succeeded') {
    ctx.log('info', `resuming run ${prev.id} from its checkpoints`)
    handle = startRun({ store, resumeRunId: prev.id })
  } else {
    let spec: unknown = n.job
    let jobId: string | undefined
    let jobVersion: number | undefined
    let name = `${ctx.workflow.name}/${n.id}`
    if (typeof n.job === 'string') {
      const latest = store.jobs.get(n.job)
      if (!latest) throw new Error(`no saved job '${n.job}'`)
      jobVersion = store.scheduler.published('job', latest.id) ?? latest.version
      const job = store.jobs.get(latest.id, jobVersion)!
      spec = job.spec
      jobId = job.id
      name = `${job.name} (${ctx.workflow.name}/${n.id})`
    }
    handle = startRun({
      store,
      spec,
      ...(jobId ? { jobId, jobVersion: jobVersion! } : {}),
      name: `${name} ${builtinVariables(ctx.time).bizdate}`,
      vars: ctx.vars,
      bizdate: ctx.instance.dataTime.replaceAll('-', ''),
      now: localDate(ctx.instance.cyctime),
    })
  }
  ctx.setRunId(handle.runId)
  ctx.log('info', `run ${handle.runId} started`)
  const onAbort = () => handle.cancel()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    const summary = await handle.done
    if (summary.state !== 'succeeded') throw new Error(`run ${handle.runId} ${summary.state}${summary.error ? `: ${summary.error}` : ''}`)
    return { rowsAffected: summary.rowsWritten }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
  }
}

async function runSqlNode(store: Store, n: SqlNode, ctx: NodeContext): Promise<NodeOutcome> {
  const script = substitute(n.sql, ctx.vars, ctx.time, `nodes.${n.id}.sql`)
  const statements = splitSqlStatements(script)
  const connector = await openConnector(resolveConnectionRef(store, n.connection, `nodes.${n.id}.connection`))
  let total = 0
  try {
    for (const [k, sql] of statements.entries()) {
      if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('terminated')
      ctx.log('info', `statement ${k + 1}/${statements.length}: ${sql.length > 500 ? sql.slice(0, 500) + '…' : sql}`)
      const t0 = Date.now()
      let r
      try {
        r = await connector.query(sql, [], { maxRows: 1000, signal: ctx.signal })
      } catch (e) {
        throw new Error(`statement ${k + 1}/${statements.length} failed: ${(e as Error).message}`)
      }
      const rows = r.affectedRows ?? r.rows.length
      total += r.affectedRows ?? 0
      ctx.log('info', `statement ${k + 1}: ${r.affectedRows !== undefined ? `${rows} row(s) affected` : `${rows} row(s) returned`} in ${Date.now() - t0} ms`)
    }
  } finally {
    await connector.close().catch(() => {})
  }
  return { rowsAffected: total }
}

/** The environment a shell node (or command alert) gets: the variables as `SLUICE_*` plus `vars` as-is. */
export function nodeEnv(ctx: Pick<NodeContext, 'instance' | 'time' | 'vars' | 'workflow'>, nodeId: string): Record<string, string> {
  const b = builtinVariables(ctx.time)
  return {
    SLUICE_BIZDATE: b.bizdate!,
    SLUICE_CYCTIME: b.cyctime!,
    SLUICE_DATA_TIME: ctx.instance.dataTime,
    SLUICE_INSTANCE_ID: ctx.instance.id,
    SLUICE_WORKFLOW: ctx.workflow.name,
    SLUICE_NODE: nodeId,
    ...ctx.vars,
  }
}

function runShellNode(n: ShellNode, ctx: NodeContext): Promise<NodeOutcome> {
  const command = substitute(n.command, ctx.vars, ctx.time, `nodes.${n.id}.command`)
  ctx.log('info', `$ ${command}`)
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, cwd: n.cwd, env: { ...process.env, ...nodeEnv(ctx, n.id) }, stdio: ['ignore', 'pipe', 'pipe'] })
    const rest = { info: '', warn: '' }
    const pipe = (level: 'info' | 'warn') => (chunk: Buffer) => {
      let buf = rest[level] + chunk.toString('utf8')
      let k
      while ((k = buf.indexOf('\n')) >= 0) {
        ctx.log(level, buf.slice(0, k))
        buf = buf.slice(k + 1)
      }
      if (buf.length > 8192) (ctx.log(level, buf), (buf = ''))
      rest[level] = buf
    }
    const flush = () => {
      for (const level of ['info', 'warn'] as const) if (rest[level]) (ctx.log(level, rest[level]), (rest[level] = ''))
    }
    child.stdout.on('data', pipe('info'))
    child.stderr.on('data', pipe('warn'))
    const onAbort = () => child.kill('SIGTERM')
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (e) => reject(new Error(`cannot start the command: ${e.message}`)))
    child.on('close', (code, sig) => {
      flush()
      ctx.signal.removeEventListener('abort', onAbort)
      if (code === 0) resolve({})
      else reject(new Error(ctx.signal.aborted ? String(ctx.signal.reason?.message ?? 'terminated') : sig ? `the command was killed by ${sig}` : `the command exited with code ${code}`))
    })
  })
}
