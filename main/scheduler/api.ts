/**
 * The scheduler's part of the API ({@link Api} methods `schedules/*`, `instances/*`,
 * `alerts/list`, `backfill/*`, `scheduler/status`, `workflows/*`), merged into the one handler
 * map by main/api/handlers.ts, and the live events: every API host tails the state DB's change
 * feed (`instance_events`) and the desktop alerts, so instances run by a scheduler in a worker
 * thread or in another process (`sluice scheduler`) still reach the screens as `instance/state`,
 * `instance/node` and `alert` events.
 */
import type { Api, ApiEvent } from '../api/contract.js'
import { apiError } from '../api/errors.js'
import type { Store } from '../store/index.js'
import { exportDolphinScheduler } from '../workflow/dolphinscheduler.js'
import { parseWorkflow, workflowJsonSchema } from '../workflow/spec.js'
import type { WorkflowSpec } from '../workflow/types.js'
import { alertText } from './alerts.js'
import { targetView } from './core.js'
import { SchedulerService } from './service.js'
import type { AlertPayload } from './types.js'

/** The scheduler's methods of the API. */
export type SchedulerApi = Pick<
  Api,
  | 'schedules/get' | 'schedules/set' | 'schedules/preview' | 'schedules/publish' | 'schedules/pause' | 'schedules/resume' | 'schedules/remove' | 'schedules/list'
  | 'instances/list' | 'instances/get' | 'instances/logs' | 'instances/rerun' | 'instances/kill' | 'instances/setSuccess' | 'instances/rerunDownstream' | 'alerts/list'
  | 'backfill/plan' | 'backfill/start' | 'scheduler/status'
  | 'workflows/list' | 'workflows/get' | 'workflows/save' | 'workflows/delete' | 'workflows/run' | 'workflows/validate' | 'workflows/schema' | 'workflows/export'
>

/** How often the change feed is read for live events. */
export const FEED_INTERVAL_MS = 500

/**
 * Build the scheduler handlers. With `emit`, starts tailing the change feed (stop it with
 * `dispose`). `holder` tells which lease holder is this app's own loop (for `scheduler/status`).
 */
export function createSchedulerHandlers(deps: { store: Store; emit?: (e: ApiEvent) => void; holder?: () => string | undefined }): { handlers: SchedulerApi; dispose(): void } {
  const { store } = deps
  const svc = new SchedulerService(store)
  let timer: NodeJS.Timeout | undefined
  if (deps.emit) {
    const emit = deps.emit
    let lastEvent = store.scheduler.lastEventId()
    let lastAlert = store.scheduler.alerts({ limit: 1 })[0]?.id ?? 0
    const poll = () => {
      try {
        for (;;) {
          const evs = store.scheduler.eventsAfter(lastEvent)
          if (!evs.length) break
          lastEvent = evs[evs.length - 1]!.id
          const seen = new Set<string>()
          for (const e of evs) {
            const key = `${e.instanceId}/${e.nodeId ?? ''}`
            if (seen.has(key)) continue
            seen.add(key)
            const i = store.scheduler.instance(e.instanceId)
            if (!i) continue
            if (e.nodeId) {
              const n = store.scheduler.nodes(i.id).find((x) => x.nodeId === e.nodeId)
              if (n) emit({ type: 'instance/node', instanceId: i.id, nodeId: n.nodeId, state: n.state, ...(n.runId ? { runId: n.runId } : {}), ...(n.error ? { error: n.error } : {}) })
            } else {
              const v = svc.instanceView(i)
              emit({ type: 'instance/state', instanceId: i.id, target: v.target, dataTime: i.dataTime, state: i.state, ...(i.runId ? { runId: i.runId } : {}), ...(i.error ? { error: i.error } : {}), ...(v.waitingFor ? { waitingFor: v.waitingFor } : {}) })
            }
          }
        }
        const alerts = store.scheduler.alerts({ afterId: lastAlert, channel: 'desktop', limit: 100 }).reverse()
        for (const a of alerts) {
          lastAlert = Math.max(lastAlert, a.id)
          const payload = a.payload as AlertPayload
          emit({ type: 'alert', payload, ...alertText(payload), ...(payload.runId ? { runId: payload.runId } : {}) })
        }
      } catch {
        /* the store may be closing */
      }
    }
    timer = setInterval(poll, FEED_INTERVAL_MS)
    timer.unref?.()
  }

  const str = (v: unknown, path: string): string => {
    if (typeof v !== 'string' || v === '') throw apiError('BAD_REQUEST', `${path}: expected a non-empty string`, path)
    return v
  }
  const changed = (scheduleId: string, removed = false) => deps.emit?.({ type: 'schedule/changed', scheduleId, ...(removed ? { removed: true } : {}) })

  const wfSpec = (a: { id?: string; version?: number; spec?: unknown }): WorkflowSpec => {
    if (a.spec !== undefined) {
      const p = parseWorkflow(typeof a.spec === 'string' ? JSON.parse(a.spec) : a.spec)
      if (!p.ok) throw Object.assign(apiError('BAD_REQUEST', `spec: ${p.problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`, p.problems[0]?.path), { problems: p.problems })
      return p.workflow
    }
    return svc.workflow(str(a.id, 'id'), a.version).spec
  }

  const handlers: SchedulerApi = {
    async 'schedules/get'(a) {
      return svc.getSchedule(a.target)
    },
    async 'schedules/set'(a) {
      const v = svc.setSchedule(a.target, a.spec, { ...(a.publish ? { publish: true } : {}) })
      changed(v.id)
      return v
    },
    async 'schedules/preview'(a) {
      return svc.preview(a.spec, a.count ?? 5, a.after)
    },
    async 'schedules/publish'(a) {
      const r = svc.publish(a.target, a.version, a.terminateRunning ?? false)
      if (r.schedule) changed(r.schedule.id)
      return r
    },
    async 'schedules/pause'(a) {
      const v = svc.pause(str(a?.id, 'id'))
      changed(v.id)
      return v
    },
    async 'schedules/resume'(a) {
      const v = svc.resume(str(a?.id, 'id'))
      changed(v.id)
      return v
    },
    async 'schedules/remove'(a) {
      svc.remove(str(a?.id, 'id'))
      changed(a.id, true)
    },
    async 'schedules/list'(a) {
      return svc.listSchedules({ ...(a?.state ? { state: a.state } : {}), ...(a?.kind ? { kind: a.kind } : {}) })
    },

    async 'instances/list'(a) {
      return svc.list(a ?? {})
    },
    async 'instances/get'(a) {
      return svc.detail(str(a?.id, 'id'))
    },
    async 'instances/logs'(a) {
      svc.instance(str(a?.id, 'id'))
      return store.scheduler.logs(a.id, { ...(a.nodeId ? { nodeId: a.nodeId } : {}), ...(a.afterId !== undefined ? { afterId: a.afterId } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}) })
    },
    async 'instances/rerun'(a) {
      return svc.rerun(str(a?.id, 'id'), a.fromFailed ?? true)
    },
    async 'instances/kill'(a) {
      return svc.kill(str(a?.id, 'id'))
    },
    async 'instances/setSuccess'(a) {
      return svc.setSuccess(str(a?.id, 'id'))
    },
    async 'instances/rerunDownstream'(a) {
      return { instances: svc.rerunDownstream(str(a?.id, 'id')) }
    },
    async 'alerts/list'(a) {
      return store.scheduler.alerts({ ...(a?.instanceId ? { instanceId: a.instanceId } : {}), limit: a?.limit ?? 100 }).map(({ payload: _p, ...r }) => r)
    },

    async 'backfill/plan'(a) {
      return svc.backfillPlan(a)
    },
    async 'backfill/start'(a) {
      return svc.backfillStart(a)
    },
    async 'scheduler/status'() {
      return svc.status(deps.holder?.())
    },

    async 'workflows/list'(a) {
      return store.workflows.list(a?.search).map((w) => {
        let nodeCount = 0
        try {
          nodeCount = (JSON.parse(w.specText) as WorkflowSpec).nodes?.length ?? 0
        } catch {
          /* stored text always parses */
        }
        const s = store.scheduler.scheduleFor('workflow', w.id)
        const sv = s ? svc.scheduleView(s) : undefined
        const published = store.scheduler.published('workflow', w.id)
        const last = store.scheduler.listInstances({ targetKind: 'workflow', targetId: w.id, limit: 1 }).rows[0]
        return {
          id: w.id,
          name: w.name,
          latestVersion: w.latestVersion,
          ...(published !== undefined ? { publishedVersion: published } : {}),
          nodeCount,
          updatedAt: w.updatedAt,
          ...(sv ? { schedule: { id: sv.id, state: sv.state, ...(sv.nextFireAt ? { nextFireAt: sv.nextFireAt } : {}) } } : {}),
          ...(last ? { lastInstance: { id: last.id, state: last.state, dataTime: last.dataTime } } : {}),
        }
      })
    },
    async 'workflows/get'(a) {
      const w = svc.workflow(str(a?.id, 'id'), a.version)
      const published = store.scheduler.published('workflow', w.id)
      return { ...w, ...(published !== undefined ? { publishedVersion: published } : {}) }
    },
    async 'workflows/save'(a) {
      return svc.saveWorkflow(a.spec, a.id)
    },
    async 'workflows/delete'(a) {
      const id = str(a?.id, 'id')
      if (!store.workflows.get(id)) throw apiError('NOT_FOUND', `no workflow with id ${JSON.stringify(id)}`, 'id')
      removeTarget(store, 'workflow', id)
      store.workflows.delete(id)
    },
    async 'workflows/run'(a) {
      let id: string
      let version: number | undefined
      if ('spec' in a && a.spec !== undefined) id = svc.saveWorkflow(a.spec).id
      else {
        id = svc.workflow(str((a as { id: string }).id, 'id')).id
        version = (a as { version?: number }).version
      }
      const v = svc.runNow({ kind: 'workflow', id }, { ...(a.bizdate ? { bizdate: a.bizdate } : {}), ...(version ? { version } : {}) })
      return { instanceId: v.id }
    },
    async 'workflows/validate'(a) {
      const p = parseWorkflow(a?.spec)
      if (!p.ok) return p.problems
      const problems = []
      for (const [i, n] of p.workflow.nodes.entries())
        if (n.type === 'sync' && typeof n.job === 'string' && !store.jobs.get(n.job)) problems.push({ path: `$.nodes[${i}].job`, message: `no saved job '${n.job}'`, severity: 'error' as const, code: 'unknown-job' })
      return problems
    },
    async 'workflows/schema'() {
      return workflowJsonSchema()
    },
    async 'workflows/export'(a) {
      if (a.format !== 'dolphinscheduler') throw apiError('BAD_REQUEST', `format: expected 'dolphinscheduler'`, 'format')
      const spec = wfSpec(a as { id?: string; version?: number; spec?: unknown })
      const wid = 'id' in a && a.id ? svc.workflow(a.id).id : undefined
      const schedule = wid ? store.scheduler.scheduleFor('workflow', wid) : undefined
      return exportDolphinScheduler(spec, { store, ...(schedule ? { schedule: { ...schedule.spec, timezone: schedule.timezone } } : {}) })
    },
  }

  return {
    handlers,
    dispose() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}

/**
 * A job or workflow is being deleted: its schedule goes, its waiting/paused instances are
 * terminated, running ones go on; its publication is forgotten.
 */
export function removeTarget(store: Store, kind: 'job' | 'workflow', id: string): void {
  const s = store.scheduler.scheduleFor(kind, id)
  const svc = new SchedulerService(store)
  if (s) svc.remove(s.id)
  store.scheduler.deleteWaitingOf(kind, id)
  store.scheduler.unpublish(kind, id)
}

/** The schedule line of a job in `jobs/list`: next run and paused state. */
export function jobScheduleInfo(store: Store, jobId: string): { nextRunAt?: string; schedule?: { id: string; state: 'active' | 'paused'; publishedVersion?: number } } {
  const s = store.scheduler.scheduleFor('job', jobId)
  if (!s || !targetView(store, 'job', jobId)) return {}
  const v = new SchedulerService(store).scheduleView(s)
  return {
    ...(v.nextFireAt ? { nextRunAt: v.nextFireAt } : {}),
    schedule: { id: v.id, state: v.state, ...(v.publishedVersion !== undefined ? { publishedVersion: v.publishedVersion } : {}) },
  }
}
