/**
 * Scheduler actions shared by the API handlers and the CLI: schedules (set, publish, pause,
 * resume, remove), instances (rerun, kill, set success, rerun with downstream), backfill (plan,
 * start), workflows (save, run now) and the views the API returns.
 *
 * Actions only change the state DB; the process holding the scheduler lease (./core.ts) executes.
 * A kill of a running instance is a request (`kill_requested`) its runner acts on within a tick.
 */
import type { Store } from '../store/index.js'
import { ENDED_INSTANCE_STATES, type InstanceConfig, type InstanceRow, type ScheduleRow } from '../store/scheduler.js'
import { parseWorkflow } from '../workflow/spec.js'
import type { WorkflowSpec } from '../workflow/types.js'
import { addDaysToDate, checkScheduleSpec, compileCycle, dataTimeOf, instantOf, machineTimeZone, normalizeDate, previewFireTimes, wallClock } from './cycle.js'
import { instanceConfig, resolveTargetId, targetView, type Clock, systemClock } from './core.js'
import type {
  BackfillItem, BackfillRequest, FireTime, InstanceDetail, InstanceView, ScheduleSpec, ScheduleView, SchedulerStatus, TargetRef, TargetView,
} from './types.js'
import type { Problem } from '../job/spec.js'

/** An error of a scheduler action: `code` is an API error code, `path` names the field. */
export class SchedulerActionError extends Error {
  override name = 'SchedulerActionError'
  constructor(
    readonly code: 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'INVALID_WORKFLOW',
    message: string,
    readonly path?: string,
    readonly problems?: Problem[],
  ) {
    super(message)
  }
}

/** The actions, over a store and a clock. */
export class SchedulerService {
  constructor(
    readonly store: Store,
    readonly clock: Clock = systemClock,
  ) {}

  /** Resolve a target (id or name). @throws SchedulerActionError NOT_FOUND (path `target`). */
  target(t: TargetRef, path = 'target'): TargetView {
    if (!t || (t.kind !== 'job' && t.kind !== 'workflow') || typeof t.id !== 'string') throw new SchedulerActionError('BAD_REQUEST', `${path}: expected { kind: 'job' | 'workflow', id }`, path)
    const id = resolveTargetId(this.store, t.kind, t.id)
    const v = id ? targetView(this.store, t.kind, id) : undefined
    if (!v) throw new SchedulerActionError('NOT_FOUND', `${path}: no ${t.kind} named or with id ${JSON.stringify(t.id)}`, path)
    return v
  }

  latestVersion(kind: 'job' | 'workflow', id: string): number {
    return (kind === 'job' ? this.store.jobs.get(id)?.latestVersion : this.store.workflows.get(id)?.latestVersion) ?? 0
  }

  // ---------------- schedules ----------------

  scheduleView(s: ScheduleRow): ScheduleView {
    const target = targetView(this.store, s.targetKind, s.targetId) ?? { kind: s.targetKind, id: s.targetId, name: '(deleted)' }
    const published = this.store.scheduler.published(s.targetKind, s.targetId)
    const v: ScheduleView = {
      id: s.id,
      target,
      spec: s.spec,
      timezone: s.timezone,
      state: s.state,
      ...(published !== undefined ? { publishedVersion: published } : {}),
      latestVersion: this.latestVersion(s.targetKind, s.targetId),
      firedUntil: s.firedUntil,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    }
    if (s.state === 'active') {
      try {
        const [next] = previewFireTimes({ ...s.spec, timezone: s.timezone }, new Date(Math.max(this.clock.now(), Date.parse(s.firedUntil))), 1)
        if (next) {
          v.nextFireAt = next.fireAt
          v.nextCyctime = next.cyctime
        }
      } catch {
        /* a spec that no longer compiles shows no next fire */
      }
    }
    return v
  }

  getSchedule(t: TargetRef): ScheduleView | null {
    const target = this.target(t)
    const s = this.store.scheduler.scheduleFor(target.kind, target.id)
    return s ? this.scheduleView(s) : null
  }

  listSchedules(f: { state?: 'active' | 'paused'; kind?: 'job' | 'workflow' } = {}): ScheduleView[] {
    return this.store.scheduler.schedules(f).map((s) => this.scheduleView(s))
  }

  /**
   * Create or replace a target's schedule. The first schedule of a never-published target
   * publishes its latest version (so that it has something to run); `publish` publishes the
   * latest version in any case.
   * @throws ScheduleError (path into the spec), SchedulerActionError (dependencies).
   */
  setSchedule(t: TargetRef, spec: ScheduleSpec, opts: { publish?: boolean } = {}): ScheduleView {
    const target = this.target(t)
    const { timezone } = checkScheduleSpec(spec)
    const clean: ScheduleSpec = { ...spec, timezone }
    if (clean.startDataTime) clean.startDataTime = normalizeDate(clean.startDataTime, 'startDataTime')
    if (clean.endDataTime) clean.endDataTime = normalizeDate(clean.endDataTime, 'endDataTime')
    if (clean.dependsOn) {
      clean.dependsOn = clean.dependsOn.map((d, i) => {
        const v = this.target(d, `dependsOn[${i}]`)
        if (v.kind === target.kind && v.id === target.id) throw new SchedulerActionError('BAD_REQUEST', `dependsOn[${i}]: a schedule cannot depend on its own target (use selfDependency)`, `dependsOn[${i}]`)
        return { kind: v.kind, id: v.id }
      })
      const cyc = this.#dependencyCycle(target, clean.dependsOn)
      if (cyc) throw new SchedulerActionError('BAD_REQUEST', `dependsOn: the dependencies form a cycle: ${cyc.join(' -> ')}`, 'dependsOn')
    }
    const sch = this.store.scheduler
    return sch.tx(() => {
      if (opts.publish || sch.published(target.kind, target.id) === undefined) sch.publish(target.kind, target.id, this.latestVersion(target.kind, target.id))
      const row = sch.upsertSchedule(target.kind, target.id, clean, timezone, new Date(this.clock.now()).toISOString())
      return this.scheduleView(row)
    })
  }

  #dependencyCycle(target: TargetView, deps: TargetRef[]): string[] | undefined {
    const key = (k: string, id: string) => `${k}:${id}`
    const edges = new Map<string, string[]>()
    for (const s of this.store.scheduler.schedules()) edges.set(key(s.targetKind, s.targetId), (s.spec.dependsOn ?? []).map((d) => key(d.kind, resolveTargetId(this.store, d.kind, d.id) ?? d.id)))
    edges.set(key(target.kind, target.id), deps.map((d) => key(d.kind, d.id)))
    const start = key(target.kind, target.id)
    const path: string[] = []
    const seen = new Set<string>()
    const name = (k: string) => {
      const [kind, id] = k.split(':') as ['job' | 'workflow', string]
      return targetView(this.store, kind, id)?.name ?? id
    }
    const visit = (n: string): boolean => {
      path.push(n)
      for (const m of edges.get(n) ?? []) {
        if (m === start) {
          path.push(m)
          return true
        }
        if (!seen.has(m)) {
          seen.add(m)
          if (visit(m)) return true
        }
      }
      path.pop()
      return false
    }
    return visit(start) ? path.map(name) : undefined
  }

  preview(spec: ScheduleSpec, count = 5, after?: string): FireTime[] {
    if (!Number.isInteger(count) || count < 1 || count > 100) throw new SchedulerActionError('BAD_REQUEST', 'count: expected an integer 1..100', 'count')
    const a = after ? new Date(after) : new Date(this.clock.now())
    if (Number.isNaN(a.getTime())) throw new SchedulerActionError('BAD_REQUEST', `after: '${after}' is not an ISO-8601 instant`, 'after')
    return previewFireTimes(spec, a, count)
  }

  /** Publish a version; optionally terminate running instances of older versions. */
  publish(t: TargetRef, version?: number, terminateRunning = false): { version: number; terminated: string[]; schedule: ScheduleView | null } {
    const target = this.target(t)
    const latest = this.latestVersion(target.kind, target.id)
    const v = version ?? latest
    if (!Number.isInteger(v) || v < 1 || v > latest) throw new SchedulerActionError('BAD_REQUEST', `version: ${target.kind} ${target.name} has versions 1..${latest}`, 'version')
    const sch = this.store.scheduler
    const terminated: string[] = []
    sch.tx(() => {
      sch.publish(target.kind, target.id, v)
      if (terminateRunning) {
        for (const i of sch.listInstances({ targetKind: target.kind, targetId: target.id, state: 'running', limit: 10_000 }).rows) {
          if (i.version !== v) {
            sch.updateInstance(i.id, { killRequested: true })
            sch.log(i.id, 'warn', `terminating: version ${v} was published`)
            terminated.push(i.id)
          }
        }
      }
    })
    const s = sch.scheduleFor(target.kind, target.id)
    return { version: v, terminated, schedule: s ? this.scheduleView(s) : null }
  }

  #schedule(id: string): ScheduleRow {
    const s = this.store.scheduler.schedule(id)
    if (!s) throw new SchedulerActionError('NOT_FOUND', `no schedule with id ${JSON.stringify(id)}`, 'id')
    return s
  }

  /** Pause: no new instances; waiting ones of this schedule become paused. */
  pause(id: string): ScheduleView {
    const s = this.#schedule(id)
    const sch = this.store.scheduler
    sch.tx(() => {
      sch.setScheduleState(id, 'paused')
      for (const i of sch.listInstances({ scheduleId: id, state: 'waiting', limit: 100_000 }).rows) sch.updateInstance(i.id, { state: 'paused' }, ['waiting'])
    })
    return this.scheduleView({ ...s, state: 'paused' })
  }

  resume(id: string): ScheduleView {
    this.#schedule(id)
    const sch = this.store.scheduler
    sch.tx(() => {
      sch.setScheduleState(id, 'active')
      for (const i of sch.listInstances({ scheduleId: id, state: 'paused', limit: 100_000 }).rows) sch.updateInstance(i.id, { state: 'waiting' }, ['paused'])
    })
    return this.scheduleView(sch.schedule(id)!)
  }

  /** Remove a schedule: running instances go on; waiting/paused ones are terminated. */
  remove(id: string): void {
    this.#schedule(id)
    const sch = this.store.scheduler
    sch.tx(() => {
      for (const st of ['waiting', 'paused'] as const)
        for (const i of sch.listInstances({ scheduleId: id, state: st, limit: 100_000 }).rows)
          sch.updateInstance(i.id, { state: 'terminated', error: 'its schedule was removed', endedAt: new Date(this.clock.now()).toISOString(), waitingFor: null }, [st])
      sch.deleteSchedule(id)
    })
  }

  // ---------------- instances ----------------

  instanceView(i: InstanceRow): InstanceView {
    return {
      id: i.id,
      ...(i.scheduleId ? { scheduleId: i.scheduleId } : {}),
      target: { kind: i.targetKind, id: i.targetId, name: targetView(this.store, i.targetKind, i.targetId)?.name ?? i.targetName },
      version: i.version,
      dataTime: i.dataTime,
      bizdate: i.dataTime.replaceAll('-', ''),
      cyctime: i.cyctime,
      timezone: i.timezone,
      fireAt: i.fireAt,
      state: i.state,
      ...(i.waitingFor && (i.state === 'waiting' || i.state === 'paused') ? { waitingFor: i.waitingFor } : {}),
      ...(i.runId ? { runId: i.runId } : {}),
      attempt: i.attempt,
      ...(i.error ? { error: i.error } : {}),
      origin: i.origin,
      ...(i.backfillId ? { backfillId: i.backfillId } : {}),
      createdAt: i.createdAt,
      ...(i.startedAt ? { startedAt: i.startedAt } : {}),
      ...(i.endedAt ? { endedAt: i.endedAt } : {}),
    }
  }

  instance(id: string): InstanceRow {
    const i = this.store.scheduler.instance(id)
    if (!i) throw new SchedulerActionError('NOT_FOUND', `no instance with id ${JSON.stringify(id)}`, 'id')
    return i
  }

  detail(id: string): InstanceDetail {
    const i = this.instance(id)
    return {
      ...this.instanceView(i),
      nodes: this.store.scheduler.nodes(id),
      runIds: i.runIds,
      alerts: this.store.scheduler.alerts({ instanceId: id, limit: 1000 }).map(({ payload: _p, ...a }) => a),
    }
  }

  list(f: { target?: TargetRef; scheduleId?: string; backfillId?: string; state?: string; from?: string; to?: string; limit?: number; offset?: number }): { instances: InstanceView[]; total: number } {
    const t = f.target ? this.target(f.target) : undefined
    const { rows, total } = this.store.scheduler.listInstances({
      ...(t ? { targetKind: t.kind, targetId: t.id } : {}),
      ...(f.scheduleId ? { scheduleId: f.scheduleId } : {}),
      ...(f.backfillId ? { backfillId: f.backfillId } : {}),
      ...(f.state ? { state: f.state } : {}),
      ...(f.from ? { from: normalizeDate(f.from, 'from') } : {}),
      ...(f.to ? { to: normalizeDate(f.to, 'to') } : {}),
      ...(f.limit !== undefined ? { limit: f.limit } : {}),
      ...(f.offset !== undefined ? { offset: f.offset } : {}),
    })
    return { instances: rows.map((r) => this.instanceView(r)), total }
  }

  /**
   * Rerun an ended instance: it waits again (same data time, dependencies checked again) and
   * the scheduler runs it as attempt + 1, resuming a failed job run from its checkpoints, or
   * re-running only the nodes of a workflow that did not succeed (unless `fromFailed` is false).
   */
  rerun(id: string, fromFailed = true): InstanceView {
    const i = this.instance(id)
    if (!ENDED_INSTANCE_STATES.has(i.state)) throw new SchedulerActionError('CONFLICT', `instance ${id} is ${i.state}: only an ended instance can be rerun`, 'id')
    const lastRun = i.runId ? this.store.runs.get(i.runId) : undefined
    const rerunAll = !fromFailed || (i.targetKind === 'job' && (!lastRun || lastRun.state === 'succeeded'))
    this.store.scheduler.updateInstance(
      id,
      { state: 'waiting', error: null, endedAt: null, retryAt: null, retriesLeft: i.config.retries?.count ?? 0, rerunAll, killRequested: false, waitingFor: 'the scheduler' },
      [i.state],
    )
    this.store.scheduler.log(id, 'info', `rerun requested${rerunAll ? '' : ' (resuming what did not succeed)'}`)
    return this.instanceView(this.instance(id))
  }

  /** Terminate: waiting/paused at once; running through its runner. */
  kill(id: string): InstanceView {
    const i = this.instance(id)
    const sch = this.store.scheduler
    if (i.state === 'waiting' || i.state === 'paused') {
      sch.updateInstance(id, { state: 'terminated', error: 'terminated by user', endedAt: new Date(this.clock.now()).toISOString(), waitingFor: null }, [i.state])
    } else if (i.state === 'running') {
      sch.updateInstance(id, { killRequested: true })
      sch.log(id, 'warn', 'termination requested')
    } else throw new SchedulerActionError('CONFLICT', `instance ${id} already ended (${i.state})`, 'id')
    return this.instanceView(this.instance(id))
  }

  /** Mark succeeded (not while it runs: kill it first). */
  setSuccess(id: string): InstanceView {
    const i = this.instance(id)
    if (i.state === 'running') throw new SchedulerActionError('CONFLICT', `instance ${id} is running: terminate it first`, 'id')
    this.store.scheduler.updateInstance(id, { state: 'succeeded', error: null, waitingFor: null, endedAt: new Date(this.clock.now()).toISOString() }, [i.state])
    this.store.scheduler.log(id, 'info', 'set to succeeded by user')
    return this.instanceView(this.instance(id))
  }

  /** Targets whose schedules depend on `t`, transitively (breadth first, each once). */
  downstreamOf(t: { kind: 'job' | 'workflow'; id: string }): ScheduleRow[] {
    const out: ScheduleRow[] = []
    const seen = new Set([`${t.kind}:${t.id}`])
    const all = this.store.scheduler.schedules()
    const queue = [t]
    while (queue.length) {
      const cur = queue.shift()!
      for (const s of all) {
        const k = `${s.targetKind}:${s.targetId}`
        if (seen.has(k)) continue
        if ((s.spec.dependsOn ?? []).some((d) => d.kind === cur.kind && (resolveTargetId(this.store, d.kind, d.id) ?? d.id) === cur.id)) {
          seen.add(k)
          out.push(s)
          queue.push({ kind: s.targetKind, id: s.targetId })
        }
      }
    }
    return out
  }

  /** Rerun an instance and its downstream instances for the same data time (created when missing). */
  rerunDownstream(id: string): InstanceView[] {
    const i = this.instance(id)
    const out = [this.rerun(id)]
    for (const s of this.downstreamOf({ kind: i.targetKind, id: i.targetId })) {
      const existing = this.store.scheduler.latestFor(s.targetKind, s.targetId, i.dataTime)
      if (existing && ENDED_INSTANCE_STATES.has(existing.state)) out.push(this.rerun(existing.id))
      else if (existing) out.push(this.instanceView(existing))
      else {
        const created = this.#create(s.targetKind, s.targetId, i.dataTime, 'manual', { config: instanceConfig(this.store, s), timezone: s.timezone, cycleOf: s })
        out.push(this.instanceView(created))
      }
    }
    return out
  }

  /** Create an instance for a data time (backfill/manual): cyctime from the schedule's cycle on the day after, else that day's 00:00. */
  #create(kind: 'job' | 'workflow', id: string, dataTime: string, origin: 'backfill' | 'manual', o: { config: InstanceConfig; timezone: string; cycleOf?: ScheduleRow; backfillId?: string; vars?: Record<string, string>; cyctime?: string }): InstanceRow {
    const target = targetView(this.store, kind, id)!
    const version = this.store.scheduler.published(kind, id) ?? this.latestVersion(kind, id)
    const cyctime = o.cyctime ?? this.cyctimeFor(dataTime, o.timezone, o.cycleOf)
    const fireAt = origin === 'manual' && o.cyctime ? new Date(this.clock.now()).toISOString() : new Date(Math.min(this.clock.now(), instantOf(cyctime, o.timezone).getTime())).toISOString()
    const row = this.store.scheduler.insertInstance({
      targetKind: kind,
      targetId: id,
      targetName: target.name,
      version,
      dataTime,
      cyctime,
      timezone: o.timezone,
      fireAt,
      origin,
      config: o.config,
      ...(o.backfillId ? { backfillId: o.backfillId } : {}),
      ...(o.vars ? { vars: o.vars } : {}),
    })
    return row!
  }

  /** The cyctime an instance for `dataTime` would have: the cycle's first fire on the next day, else that day 00:00:00. */
  cyctimeFor(dataTime: string, tz: string, s?: ScheduleRow): string {
    const day = addDaysToDate(dataTime, 1)
    if (s) {
      try {
        const cycle = compileCycle(s.spec.cycle, tz)
        const n = cycle.next(new Date(instantOf(`${day} 00:00:00`, tz).getTime() - 1))
        if (n) {
          const c = wallClock(n, tz)
          if (dataTimeOf(c) === dataTime) return c
        }
      } catch {
        /* fall through */
      }
    }
    return `${day} 00:00:00`
  }

  // ---------------- backfill ----------------

  #backfillDates(req: BackfillRequest): string[] {
    if (req.dates?.length) return [...new Set(req.dates.map((d, i) => normalizeDate(d, `dates[${i}]`)))].sort()
    if (!req.from || !req.to) throw new SchedulerActionError('BAD_REQUEST', 'from/to: a backfill needs a range (from, to) or a list of dates', req.from ? 'to' : 'from')
    const from = normalizeDate(req.from, 'from')
    const to = normalizeDate(req.to, 'to')
    if (to < from) throw new SchedulerActionError('BAD_REQUEST', `to: ${to} is before from ${from}`, 'to')
    const out: string[] = []
    for (let d = from; d <= to; d = addDaysToDate(d, 1)) {
      out.push(d)
      if (out.length > 3660) throw new SchedulerActionError('BAD_REQUEST', 'to: a backfill covers at most 3660 data times', 'to')
    }
    return out
  }

  /** What a backfill would create, oldest first, per target (with downstream after its upstream). */
  backfillPlan(req: BackfillRequest): { items: BackfillItem[]; warnings: string[] } {
    const target = this.target(req.target)
    if (req.parallel !== undefined && (!Number.isInteger(req.parallel) || req.parallel < 1 || req.parallel > 64)) throw new SchedulerActionError('BAD_REQUEST', 'parallel: expected an integer 1..64', 'parallel')
    const dates = this.#backfillDates(req)
    const targets: Array<{ view: TargetView; schedule?: ScheduleRow }> = [{ view: target, ...(this.#scheduleOf(target) ? { schedule: this.#scheduleOf(target)! } : {}) }]
    const warnings: string[] = []
    if (req.withDownstream) for (const s of this.downstreamOf(target)) targets.push({ view: targetView(this.store, s.targetKind, s.targetId)!, schedule: s })
    const inSet = new Set(targets.map((t) => `${t.view.kind}:${t.view.id}`))
    const items: BackfillItem[] = []
    for (const d of dates) {
      for (const t of targets) {
        const tz = t.schedule?.timezone ?? machineTimeZone()
        const after: string[] = []
        if (t.schedule?.spec.selfDependency) {
          const idx = dates.indexOf(d)
          after.push(`${t.view.name}@${idx > 0 ? dates[idx - 1] : (this.store.scheduler.previousOf(t.view.kind, t.view.id, d)?.dataTime ?? '(none)')}`)
          if (idx === 0 && after[0]!.endsWith('(none)')) after.pop()
        }
        for (const dep of t.schedule?.spec.dependsOn ?? []) {
          const depId = resolveTargetId(this.store, dep.kind, dep.id) ?? dep.id
          const name = targetView(this.store, dep.kind, depId)?.name ?? dep.id
          after.push(`${name}@${d}`)
          if (!inSet.has(`${dep.kind}:${depId}`) && this.store.scheduler.latestFor(dep.kind, depId, d)?.state !== 'succeeded')
            warnings.push(`${t.view.name}@${d} waits for ${name}@${d}, which has not succeeded and is not part of this backfill`)
        }
        items.push({ target: t.view, dataTime: d, cyctime: this.cyctimeFor(d, tz, t.schedule), after })
      }
    }
    if (this.store.scheduler.published(target.kind, target.id) === undefined) warnings.push(`${target.name} is not published: the backfill runs its latest version ${this.latestVersion(target.kind, target.id)}`)
    return { items, warnings }
  }

  #scheduleOf(t: TargetView): ScheduleRow | undefined {
    return this.store.scheduler.scheduleFor(t.kind, t.id)
  }

  /** Create a backfill's instances (the scheduler runs them oldest first, at most `parallel` at once). */
  backfillStart(req: BackfillRequest): { backfillId: string; instances: InstanceView[] } {
    const { items } = this.backfillPlan(req)
    const target = this.target(req.target)
    const parallel = req.parallel ?? 1
    const sch = this.store.scheduler
    return sch.tx(() => {
      const backfillId = sch.insertBackfill({ targetKind: target.kind, targetId: target.id, request: req, parallel })
      const out: InstanceView[] = []
      for (const it of items) {
        const s = sch.scheduleFor(it.target.kind, it.target.id)
        const base = s ? instanceConfig(this.store, s) : {}
        const { executionType: _e, ...config } = base
        const row = this.#create(it.target.kind, it.target.id, it.dataTime, 'backfill', { config: { ...config, parallel }, timezone: s?.timezone ?? machineTimeZone(), ...(s ? { cycleOf: s } : {}), backfillId, cyctime: it.cyctime })
        out.push(this.instanceView(row))
      }
      return { backfillId, instances: out }
    })
  }

  // ---------------- workflows ----------------

  /**
   * Save a workflow document (a string is kept as its exact text). Its `schedule`, when present,
   * becomes the workflow's schedule.
   * @throws SchedulerActionError INVALID_WORKFLOW with `problems`.
   */
  saveWorkflow(spec: unknown, id?: string): { id: string; version: number; created: boolean } {
    const text = typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2)
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      throw new SchedulerActionError('BAD_REQUEST', `spec: not JSON (${(e as Error).message})`, 'spec')
    }
    const parsed = parseWorkflow(doc)
    if (!parsed.ok) throw new SchedulerActionError('INVALID_WORKFLOW', `the workflow has problems: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, parsed.problems[0]?.path, parsed.problems)
    const wf = parsed.workflow
    for (const [i, n] of wf.nodes.entries())
      if (n.type === 'sync' && typeof n.job === 'string' && !this.store.jobs.get(n.job)) throw new SchedulerActionError('INVALID_WORKFLOW', `$.nodes[${i}].job: no saved job '${n.job}'`, `$.nodes[${i}].job`)
    const r = this.store.workflows.save(text, wf.name, id)
    if (wf.schedule) this.setSchedule({ kind: 'workflow', id: r.id }, wf.schedule, { publish: true })
    return r
  }

  /** A saved workflow's document. */
  workflow(idOrName: string, version?: number): { id: string; name: string; version: number; latestVersion: number; spec: WorkflowSpec; specText: string; updatedAt: string } {
    const w = this.store.workflows.get(idOrName, version)
    if (!w) throw new SchedulerActionError('NOT_FOUND', `no workflow ${JSON.stringify(idOrName)}${version ? ` version ${version}` : ''}`, 'id')
    return { ...w, spec: JSON.parse(w.specText) as WorkflowSpec }
  }

  /** Run a saved job/workflow now for a data time (default: yesterday): a `manual` instance. */
  runNow(t: TargetRef, opts: { bizdate?: string; version?: number } = {}): InstanceView {
    const target = this.target(t)
    const tz = this.#scheduleOf(target)?.timezone ?? machineTimeZone()
    const cyctime = wallClock(this.clock.now(), tz)
    const dataTime = opts.bizdate ? normalizeDate(opts.bizdate, 'bizdate') : dataTimeOf(cyctime)
    const version = opts.version ?? this.latestVersion(target.kind, target.id)
    const row = this.store.scheduler.insertInstance({
      targetKind: target.kind,
      targetId: target.id,
      targetName: target.name,
      version,
      dataTime,
      cyctime,
      timezone: tz,
      fireAt: new Date(this.clock.now()).toISOString(),
      origin: 'manual',
      config: {},
    })!
    return this.instanceView(row)
  }

  status(holder?: string): SchedulerStatus {
    const l = this.store.scheduler.lease()
    const running = !!l && l.expiresAt > this.clock.now()
    return {
      running,
      ...(l && running ? { holder: { id: l.holder, pid: l.pid, host: l.host, since: l.since, expiresAt: new Date(l.expiresAt).toISOString() } } : {}),
      here: running && !!holder && l!.holder === holder,
    }
  }
}
