/**
 * The scheduler loop: one per state DB at a time (a lease in the DB), on an injectable clock.
 *
 * Each {@link Scheduler.tick}:
 * 1. takes or renews the lease (`scheduler_lease`); without it, does nothing else. On taking it,
 *    instances left `running` by another (dead) holder are marked failed — their job run too, so
 *    a rerun resumes it from its split checkpoints;
 * 2. turns each active schedule's fire times since its watermark into instances (catch-up rule
 *    for the ones missed by more than {@link SchedulerOptions.graceMs});
 * 3. acts on running instances it owns: kill requests, timeouts (fail, or alert and go on);
 * 4. starts waiting instances that are due and ready, oldest data time first: self-dependency
 *    (the previous cycle's instance succeeded), upstream dependencies (their instance for the same
 *    data time succeeded), execution type (parallel, serial-wait, serial-discard), the backfill's
 *    concurrency cap and {@link SchedulerOptions.maxRunning}. The waiting -> running transition
 *    is guarded by the lease in the same transaction, so two processes never fire one instance.
 *
 * Execution itself is an {@link Executor} (real runs: ./execute.ts; tests: a fake). A failed
 * instance with retries left waits again until `retryAt`; every end sends the alerts configured.
 */
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/index.js'
import type { InstanceRow, ScheduleRow } from '../store/scheduler.js'
import { compileCycle, dataTimeOf, normalizeDate, wallClock } from './cycle.js'
import type { AlertPayload, InstanceState, TargetView } from './types.js'

/** Milliseconds since the epoch; tests pass a fake. */
export interface Clock {
  now(): number
}
/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() }

/** How an execution ended. */
export interface ExecutionResult {
  state: 'succeeded' | 'failed' | 'terminated'
  error?: string
}

/** A started execution of an instance. */
export interface Execution {
  done: Promise<ExecutionResult>
  /** Stop it; `done` then resolves `terminated` (or `failed` for a timeout, as the scheduler records). */
  cancel(reason: string): void
}

/** What an executor may report while it runs. */
export interface ExecutionContext {
  /** Link the run it started (job instance: the run; recorded in `run_id`/`run_ids`). */
  setRunId(runId: string): void
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, nodeId?: string): void
  /** Resume: the instance's previous run/nodes may be taken up (rerun from failed, after a crash). */
  resume: boolean
}

/** Runs instances. */
export interface Executor {
  start(instance: InstanceRow, ctx: ExecutionContext): Execution
}

/** Sends alerts (./alerts.ts); the scheduler calls it and never waits on it to move on. */
export interface Alerter {
  send(payload: AlertPayload, spec: NonNullable<InstanceRow['config']['alerts']>): Promise<void>
}

export interface SchedulerOptions {
  store: Store
  executor: Executor
  clock?: Clock
  alerter?: Alerter
  /** Lease time-to-live; a holder that stops renewing loses it after this long. Default 30 s (`SLUICE_SCHEDULER_LEASE_MS`). */
  leaseTtlMs?: number
  /** A fire time up to this old is on time; older ones are "missed" and follow catch-up. Default 5 min. */
  graceMs?: number
  /** At most this many instances run at once in this process. Default 8. */
  maxRunning?: number
  /** Where the loop says what it does (the CLI prints it). */
  log?: (line: string) => void
  /** Lease holder id; default `<host>:<pid>:<random>`. */
  holder?: string
}

/** What one tick did. */
export interface TickResult {
  leader: boolean
  created: string[]
  started: string[]
  recovered: string[]
}

/** Why an instance cannot start now, or that it can. */
type Readiness = { ready: true } | { ready: false; waitingFor: string } | { skip: string; ready: false }

const DAY = 86_400_000

/** The loop. See the file comment. */
export class Scheduler {
  readonly store: Store
  readonly clock: Clock
  readonly holder: string
  readonly #executor: Executor
  readonly #alerter: Alerter | undefined
  readonly #ttl: number
  readonly #grace: number
  readonly #maxRunning: number
  readonly #log: (line: string) => void
  /** Instances running in this process. */
  readonly running = new Map<string, { execution: Execution; timedOut?: boolean; killed?: boolean; done: Promise<void> }>()
  #leader = false
  #timer: NodeJS.Timeout | undefined
  /** Alerts being sent; {@link stop} waits for them so that each one is recorded. */
  readonly #alerts = new Set<Promise<void>>()
  #ticking: Promise<TickResult> | undefined
  #wake: (() => void) | undefined

  constructor(opts: SchedulerOptions) {
    this.store = opts.store
    this.clock = opts.clock ?? systemClock
    this.#executor = opts.executor
    this.#alerter = opts.alerter
    this.#ttl = opts.leaseTtlMs ?? (Number(process.env.SLUICE_SCHEDULER_LEASE_MS) || 30_000)
    this.#grace = opts.graceMs ?? 5 * 60_000
    this.#maxRunning = opts.maxRunning ?? 8
    this.#log = opts.log ?? (() => {})
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  }

  /** True while this process holds the lease. */
  get leader(): boolean {
    return this.#leader
  }

  /** One pass (see the file comment). Concurrent calls share the pass in progress. */
  tick(): Promise<TickResult> {
    if (!this.#ticking) this.#ticking = Promise.resolve().then(() => this.#tick()).finally(() => (this.#ticking = undefined))
    return this.#ticking
  }

  #tick(): TickResult {
    const sch = this.store.scheduler
    const now = this.clock.now()
    const result: TickResult = { leader: false, created: [], started: [], recovered: [] }
    const lease = sch.acquireLease(this.holder, process.pid, hostname(), now, this.#ttl)
    if (lease === 'held') {
      if (this.#leader) {
        // Another process took over (this one stalled past the lease): it marks our instances
        // failed, so stop running them here.
        this.#log('lost the scheduler lease to another process: terminating the instances running here')
        for (const r of this.running.values()) r.execution.cancel('the scheduler lost its lease')
      }
      this.#leader = false
      return result
    }
    if (lease === 'acquired') {
      this.#log(`scheduler lease taken by ${this.holder}`)
      result.recovered = this.#recover()
    }
    this.#leader = true
    result.leader = true
    for (const s of sch.schedules({ state: 'active' })) result.created.push(...this.#materialize(s, now))
    this.#watchRunning(now)
    result.started = this.#dispatch(now)
    return result
  }

  /** Instances left running by a holder that is gone: failed (their runs too), resumable. */
  #recover(): string[] {
    const sch = this.store.scheduler
    const out: string[] = []
    for (const i of sch.instancesInState(['running'])) {
      if (i.runner === this.holder && this.running.has(i.id)) continue
      const error = `the scheduler process that ran it stopped (${i.runner ?? 'unknown'}); a rerun resumes from its checkpoints`
      sch.updateInstance(i.id, { state: 'failed', error, endedAt: new Date(this.clock.now()).toISOString(), runner: null }, ['running'])
      for (const n of sch.nodes(i.id)) if (n.state === 'running') sch.updateNode(i.id, n.nodeId, { state: 'failed', error, endedAt: new Date(this.clock.now()).toISOString() })
      for (const runId of i.runIds) {
        const run = this.store.runs.get(runId)
        if (run && (run.state === 'running' || run.state === 'created')) this.store.runs.setState(runId, 'failed', error)
      }
      sch.log(i.id, 'error', error)
      this.#log(`instance ${i.id} (${i.targetName} ${i.dataTime}) failed: ${error}`)
      out.push(i.id)
    }
    return out
  }

  /** Make the instances of a schedule's fire times in (firedUntil, now]. */
  #materialize(s: ScheduleRow, now: number): string[] {
    const sch = this.store.scheduler
    const target = targetView(this.store, s.targetKind, s.targetId)
    if (!target) return []
    const version = sch.published(s.targetKind, s.targetId)
    if (version === undefined) return []
    let cycle
    try {
      cycle = compileCycle(s.spec.cycle, s.timezone)
    } catch (e) {
      this.#log(`schedule ${s.id} (${target.name}): ${(e as Error).message}`)
      return []
    }
    const catchUp = s.spec.catchUp ?? 'none'
    // Without catch-up, fire times older than the grace period are skipped without being listed.
    const from = catchUp === 'none' ? Math.max(Date.parse(s.firedUntil), now - this.#grace - 1) : Date.parse(s.firedUntil)
    if (!(now > from)) return []
    const firstMissed = catchUp === 'none' && from > Date.parse(s.firedUntil) ? cycle.next(new Date(s.firedUntil)) : undefined
    if (firstMissed && firstMissed.getTime() <= from)
      this.#log(`schedule of ${target.name}: fire times missed since ${s.firedUntil} are not run (catch-up none)`)
    const start = s.spec.startDataTime ? normalizeDate(s.spec.startDataTime, 'startDataTime') : undefined
    const end = s.spec.endDataTime ? normalizeDate(s.spec.endDataTime, 'endDataTime') : undefined
    const fires: Date[] = []
    let t = new Date(from)
    for (let guard = 0; ; guard++) {
      const n = cycle.next(t)
      if (!n || n.getTime() > now) break
      if (guard >= 100_000) {
        this.#log(`schedule of ${target.name}: more than 100000 missed fire times; the oldest are not run`)
        fires.shift()
      }
      fires.push(n)
      t = n
    }
    const missed = fires.filter((f) => f.getTime() < now - this.#grace)
    const onTime = fires.filter((f) => f.getTime() >= now - this.#grace)
    const take = catchUp === 'all' ? missed : catchUp === 'latest' ? missed.slice(-1) : []
    if (missed.length > take.length) this.#log(`schedule of ${target.name}: ${missed.length - take.length} missed fire time(s) not run (catch-up ${catchUp})`)
    const created: string[] = []
    sch.tx(() => {
      for (const f of [...take, ...onTime]) {
        const cyctime = wallClock(f, s.timezone)
        const dataTime = dataTimeOf(cyctime)
        if (start && dataTime < start) continue
        if (end && dataTime > end) continue
        const inst = sch.insertInstance({
          scheduleId: s.id,
          targetKind: s.targetKind,
          targetId: s.targetId,
          targetName: target.name,
          version,
          dataTime,
          cyctime,
          timezone: s.timezone,
          fireAt: f.toISOString(),
          origin: 'schedule',
          config: instanceConfig(this.store, s),
        })
        if (inst) {
          created.push(inst.id)
          this.#log(`instance ${inst.id}: ${target.name} data time ${dataTime} (cyctime ${cyctime})`)
        }
      }
      sch.setFiredUntil(s.id, new Date(now).toISOString())
    })
    return created
  }

  /** Kill requests and timeouts of the instances running here. */
  #watchRunning(now: number): void {
    const sch = this.store.scheduler
    for (const [id, r] of this.running) {
      const i = sch.instance(id)
      if (!i) continue
      if (i.killRequested && !r.killed) {
        r.killed = true
        r.execution.cancel('terminated by user')
        continue
      }
      const to = i.config.timeout
      if (to && i.startedAt && now - Date.parse(i.startedAt) > to.minutes * 60_000) {
        if (to.action === 'fail' && !r.timedOut) {
          r.timedOut = true
          sch.log(id, 'error', `timed out after ${to.minutes} min: terminating`)
          r.execution.cancel(`timed out after ${to.minutes} min`)
        } else if (to.action === 'alert' && !i.timeoutAlerted) {
          sch.updateInstance(id, { timeoutAlerted: true })
          sch.log(id, 'warn', `running longer than ${to.minutes} min (timeout alert; it goes on)`)
          this.#alert(i, 'timeout', `running longer than ${to.minutes} min`)
        }
      }
    }
  }

  /** Start what is due and ready. */
  #dispatch(now: number): string[] {
    const sch = this.store.scheduler
    const started: string[] = []
    for (const i of sch.instancesInState(['waiting'])) {
      // Instances started in this pass are already 'running' in the DB, so the counts below see them.
      const r = this.#readiness(i, now)
      if ('skip' in r) {
        sch.updateInstance(i.id, { state: 'skipped', error: r.skip, waitingFor: null, endedAt: new Date(now).toISOString() }, ['waiting'])
        sch.log(i.id, 'info', `skipped: ${r.skip}`)
        continue
      }
      if (!r.ready) {
        if (i.waitingFor !== r.waitingFor) sch.updateInstance(i.id, { waitingFor: r.waitingFor }, ['waiting'])
        continue
      }
      if (this.running.size >= this.#maxRunning) {
        const w = `a free slot (${this.#maxRunning} instances running)`
        if (i.waitingFor !== w) sch.updateInstance(i.id, { waitingFor: w }, ['waiting'])
        continue
      }
      const resume = i.attempt > 0 && !i.rerunAll
      const ok = sch.tx(() => {
        if (!sch.holdsLease(this.holder, this.clock.now())) return false
        return sch.updateInstance(
          i.id,
          { state: 'running', runner: this.holder, attempt: i.attempt + 1, startedAt: new Date(now).toISOString(), endedAt: null, waitingFor: null, retryAt: null, error: null, killRequested: false, timeoutAlerted: false },
          ['waiting'],
        )
      })
      if (!ok) continue
      started.push(i.id)
      this.#start(sch.instance(i.id)!, resume)
    }
    return started
  }

  /** Can `i` start at `now`? */
  #readiness(i: InstanceRow, now: number): Readiness {
    const sch = this.store.scheduler
    if (Date.parse(i.fireAt) > now) return { ready: false, waitingFor: `its time (${i.cyctime} ${i.timezone})` }
    if (i.retryAt && Date.parse(i.retryAt) > now) return { ready: false, waitingFor: `retry at ${i.retryAt}` }
    if (i.config.selfDependency) {
      const prev = sch.previousOf(i.targetKind, i.targetId, i.dataTime)
      if (prev && prev.state !== 'succeeded' && prev.state !== 'skipped') return { ready: false, waitingFor: `the previous cycle (${prev.dataTime}, ${prev.state})` }
    }
    for (const d of i.config.dependsOn ?? []) {
      const up = sch.latestFor(d.kind, d.id, i.dataTime)
      if (!up || up.state !== 'succeeded') {
        const name = targetView(this.store, d.kind, d.id)?.name ?? d.id
        return { ready: false, waitingFor: `upstream ${d.kind} ${name} for ${i.dataTime} (${up ? up.state : 'no instance yet'})` }
      }
    }
    const busy = sch.countRunning(i.targetKind, i.targetId)
    if (i.origin === 'schedule') {
      const et = i.config.executionType ?? 'parallel'
      if (et === 'serial-wait' && busy > 0) return { ready: false, waitingFor: 'the running instance of the same schedule (serial-wait)' }
      if (et === 'serial-discard' && busy > 0) return { ready: false, skip: 'another instance of the same schedule was running (serial-discard)' }
    }
    // One writer per job (main/engine/writelock.ts): an instance of a job another run is writing
    // waits for it instead of starting and being refused; parallel backfill instances of one job
    // thus take turns on its targets.
    if (i.targetKind === 'job') {
      const held = this.store.locks.holder(`job:${i.targetId}`)
      if (held && !this.store.locks.isStale(held)) return { ready: false, waitingFor: `job ${i.targetName} is being written by run ${held.runId} (one writer per target)` }
    }
    if (i.backfillId) {
      const cap = Math.max(1, i.config.parallel ?? 1)
      const n = sch.countRunningInBackfill(i.backfillId)
      if (n >= cap) return { ready: false, waitingFor: `a backfill slot (${n}/${cap} running)` }
    }
    return { ready: true }
  }

  /** Run an instance and record how it ends. */
  #start(i: InstanceRow, resume: boolean): void {
    const sch = this.store.scheduler
    this.#log(`start ${i.id}: ${i.targetKind} ${i.targetName} data time ${i.dataTime} (attempt ${i.attempt}${resume ? ', resuming' : ''})`)
    sch.log(i.id, 'info', `started (attempt ${i.attempt}${resume ? ', resuming' : ''}) by ${this.holder}`)
    let execution: Execution
    const ctx: ExecutionContext = {
      resume,
      setRunId: (runId) => {
        const cur = sch.instance(i.id)
        sch.updateInstance(i.id, { runId, runIds: [...new Set([...(cur?.runIds ?? []), runId])] })
      },
      log: (level, message, nodeId) => sch.log(i.id, level, message, nodeId),
    }
    try {
      execution = this.#executor.start(i, ctx)
    } catch (e) {
      execution = { done: Promise.resolve({ state: 'failed', error: (e as Error).message }), cancel: () => {} }
    }
    const entry = { execution, done: Promise.resolve() as Promise<void> } as { execution: Execution; timedOut?: boolean; killed?: boolean; done: Promise<void> }
    this.running.set(i.id, entry)
    entry.done = execution.done
      .catch((e): ExecutionResult => ({ state: 'failed', error: (e as Error)?.message ?? String(e) }))
      .then((res) => this.#finish(i.id, res, entry))
      .finally(() => {
        this.running.delete(i.id)
        this.#wake?.()
      })
  }

  #finish(id: string, res: ExecutionResult, entry: { timedOut?: boolean; killed?: boolean }): void {
    const sch = this.store.scheduler
    const i = sch.instance(id)
    if (!i || i.state !== 'running' || i.runner !== this.holder) return // recovered by another holder meanwhile
    const now = new Date(this.clock.now()).toISOString()
    let state: InstanceState = res.state
    let error = res.error
    if (entry.timedOut) {
      state = 'failed'
      error = `timed out after ${i.config.timeout?.minutes} min`
    } else if (entry.killed || i.killRequested) {
      state = 'terminated'
      error = error ?? 'terminated by user'
    }
    if (state === 'failed' && i.retriesLeft > 0) {
      const retryAt = new Date(this.clock.now() + (i.config.retries?.intervalSeconds ?? 0) * 1000).toISOString()
      sch.updateInstance(id, { state: 'waiting', retriesLeft: i.retriesLeft - 1, retryAt, error: error ?? null, runner: null, waitingFor: `retry at ${retryAt}` }, ['running'])
      sch.log(id, 'warn', `failed (${error}); retry ${(i.config.retries?.count ?? 0) - i.retriesLeft + 1}/${i.config.retries?.count} at ${retryAt}`)
      this.#log(`instance ${id} failed, retry at ${retryAt}: ${error}`)
      return
    }
    sch.updateInstance(id, { state, error: error ?? null, endedAt: now, runner: null, killRequested: false, rerunAll: false }, ['running'])
    sch.log(id, state === 'succeeded' ? 'info' : 'error', `${state}${error ? `: ${error}` : ''}`)
    this.#log(`instance ${id} (${i.targetName} ${i.dataTime}) ${state}${error ? `: ${error}` : ''}`)
    const ended = sch.instance(id)!
    if (state === 'failed') this.#alert(ended, entry.timedOut ? 'timeout' : 'failure', error)
    else if (state === 'succeeded') this.#alert(ended, 'success')
  }

  #alert(i: InstanceRow, kind: 'failure' | 'timeout' | 'success', error?: string): void {
    // Without an alert spec, failures and timeouts still raise a (recorded) desktop notification.
    const spec = i.config.alerts ?? {}
    if (!this.#alerter) return
    const on = spec.on ?? ['failure', 'timeout']
    if (!on.includes(kind)) return
    const payload: AlertPayload = {
      id: i.id,
      kind,
      state: i.state,
      target: { kind: i.targetKind, id: i.targetId, name: i.targetName },
      dataTime: i.dataTime,
      bizdate: i.dataTime.replaceAll('-', ''),
      cyctime: i.cyctime,
      ...(i.runId ? { runId: i.runId } : {}),
      ...(error ?? i.error ? { error: error ?? i.error } : {}),
      attempt: i.attempt,
      ts: new Date(this.clock.now()).toISOString(),
    }
    const p = this.#alerter
      .send(payload, spec)
      .catch((e) => this.#log(`alert for ${i.id} failed: ${(e as Error).message}`))
      .finally(() => this.#alerts.delete(p))
    this.#alerts.add(p)
  }

  /** True when nothing runs here and no waiting instance is ready or has a retry pending. */
  idle(): boolean {
    if (this.running.size > 0) return false
    const sch = this.store.scheduler
    const now = this.clock.now()
    if (!this.#leader && sch.instancesInState(['running']).length > 0) return false
    for (const i of sch.instancesInState(['waiting'])) {
      if (i.retryAt) return false
      const r = this.#readiness(i, now)
      if (r.ready || 'skip' in r) return false
    }
    return true
  }

  /** Wait until an instance running here ends, or `ms` passes. */
  async settle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.#wake = done
    })
    this.#wake = undefined
  }

  /** Loop: tick every `intervalMs` (and right after an instance ends) until {@link stop}. */
  start(intervalMs = 1000): void {
    if (this.#timer) return
    const loop = async () => {
      try {
        await this.tick()
      } catch (e) {
        this.#log(`scheduler tick failed: ${(e as Error).stack ?? e}`)
      }
      if (!this.#stopped) {
        await this.settle(intervalMs)
        if (!this.#stopped) this.#timer = setTimeout(loop, 0)
      }
    }
    this.#stopped = false
    this.#timer = setTimeout(loop, 0)
  }
  #stopped = true

  /** `--until-idle`: tick until {@link idle} after a tick (what is due or ready has run). */
  async runUntilIdle(intervalMs = 500): Promise<void> {
    for (;;) {
      await this.tick()
      if (this.idle()) {
        // One more pass: an instance that just ended may have made another ready.
        await this.tick()
        if (this.idle()) return
      }
      await this.settle(intervalMs)
    }
  }

  /**
   * Stop the loop. Running instances are terminated when `terminate` (the app quits); otherwise
   * this waits for them. Releases the lease.
   */
  async stop(opts: { terminate?: boolean } = {}): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#wake?.()
    if (opts.terminate) for (const r of this.running.values()) r.execution.cancel('the scheduler is shutting down')
    await Promise.all([...this.running.values()].map((r) => r.done))
    await Promise.all([...this.#alerts])
    if (this.#leader) this.store.scheduler.releaseLease(this.holder)
    this.#leader = false
  }
}

/** The config an instance of a schedule keeps (dependencies resolved to ids). */
export function instanceConfig(store: Store, s: ScheduleRow): InstanceRow['config'] {
  const spec = s.spec
  return {
    ...(spec.selfDependency ? { selfDependency: true } : {}),
    ...(spec.dependsOn?.length ? { dependsOn: spec.dependsOn.map((d) => ({ kind: d.kind, id: resolveTargetId(store, d.kind, d.id) ?? d.id })) } : {}),
    ...(spec.executionType ? { executionType: spec.executionType } : {}),
    ...(spec.timeout ? { timeout: spec.timeout } : {}),
    ...(spec.retries ? { retries: spec.retries } : {}),
    ...(spec.alerts ? { alerts: spec.alerts } : {}),
  }
}

/** A job/workflow id from an id or name. */
export function resolveTargetId(store: Store, kind: 'job' | 'workflow', idOrName: string): string | undefined {
  return kind === 'job' ? store.jobs.get(idOrName)?.id : store.workflows.get(idOrName)?.id
}

/** The target's id and current name (undefined when it was deleted). */
export function targetView(store: Store, kind: 'job' | 'workflow', id: string): TargetView | undefined {
  const t = kind === 'job' ? store.jobs.get(id) : store.workflows.get(id)
  return t ? { kind, id: t.id, name: t.name } : undefined
}

/** Days between two `YYYY-MM-DD` dates (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / DAY)
}
