/**
 * The scheduler on a fake clock: cycles (every type, cron with/without seconds), DST in
 * Europe/Berlin and America/New_York, month ends, catch-up, execution types, self-dependency,
 * upstream dependencies, backfill ordering and cap, the lease and crash recovery.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Scheduler, type Execution, type ExecutionResult, type Executor } from '../../main/scheduler/core.js'
import { previewFireTimes, wallClock, instantOf } from '../../main/scheduler/cycle.js'
import { SchedulerService } from '../../main/scheduler/service.js'
import type { ScheduleSpec } from '../../main/scheduler/types.js'
import { openStore, type Store } from '../../main/store/index.js'
import type { InstanceRow } from '../../main/store/scheduler.js'

class FakeClock {
  constructor(public t: number) {}
  now() {
    return this.t
  }
  set(iso: string) {
    this.t = Date.parse(iso)
  }
  advance(ms: number) {
    this.t += ms
  }
}

/** Executes instances by hand: each start is recorded; `finish` ends one. */
class FakeExecutor implements Executor {
  started: InstanceRow[] = []
  pending = new Map<string, (r: ExecutionResult) => void>()
  /** When set, instances end at once with this result (per instance). */
  auto?: (i: InstanceRow) => ExecutionResult
  start(i: InstanceRow): Execution {
    this.started.push(i)
    let resolve!: (r: ExecutionResult) => void
    const done = new Promise<ExecutionResult>((r) => (resolve = r))
    if (this.auto) resolve(this.auto(i))
    else this.pending.set(i.id, resolve)
    return { done, cancel: (reason) => resolve({ state: 'terminated', error: reason }) }
  }
  finish(id: string, r: ExecutionResult = { state: 'succeeded' }) {
    const f = this.pending.get(id)
    if (!f) throw new Error(`instance ${id} is not running`)
    this.pending.delete(id)
    f(r)
  }
}

let dir: string
let store: Store
let clock: FakeClock
let exec: FakeExecutor
let sched: Scheduler
let svc: SchedulerService

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-sched-'))
  store = openStore({ dataDir: dir, file: ':memory:' })
  clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'))
  exec = new FakeExecutor()
  sched = new Scheduler({ store, executor: exec, clock, leaseTtlMs: 60_000, graceMs: 60_000 })
  svc = new SchedulerService(store, clock)
})
afterEach(async () => {
  await sched.stop({ terminate: true })
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const job = (name: string) => store.jobs.save({ version: 1, name, reader: { connection: 'sqlite::memory:' }, writer: { connection: 'sqlite::memory:' }, tables: [] }, { name }).id
/** Tick, and let instance completions be recorded. */
async function tick() {
  await sched.tick()
  for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r))
}
const states = (jobId: string) =>
  store.scheduler
    .listInstances({ targetKind: 'job', targetId: jobId, limit: 1000 })
    .rows.sort((a, b) => (a.dataTime < b.dataTime ? -1 : a.dataTime > b.dataTime ? 1 : a.id < b.id ? -1 : 1))
    .map((i) => `${i.dataTime}:${i.state}`)

describe('cycles', () => {
  const fires = (spec: ScheduleSpec, after: string, n = 5) => previewFireTimes(spec, new Date(after), n).map((f) => f.cyctime)

  it('once, every N minutes, hourly, daily, weekly', () => {
    expect(fires({ cycle: { type: 'once', at: '2026-05-01T10:00' }, timezone: 'UTC' }, '2026-04-01T00:00:00Z')).toEqual(['2026-05-01 10:00:00'])
    expect(fires({ cycle: { type: 'once', at: '2026-05-01T10:00' }, timezone: 'UTC' }, '2026-06-01T00:00:00Z')).toEqual([])
    expect(fires({ cycle: { type: 'minutes', every: 15 }, timezone: 'UTC' }, '2026-04-01T00:00:00Z', 3)).toEqual(['2026-04-01 00:15:00', '2026-04-01 00:30:00', '2026-04-01 00:45:00'])
    // 7 does not divide the hour: multiples of 7 minutes from midnight, restarting each day.
    expect(fires({ cycle: { type: 'minutes', every: 7 }, timezone: 'UTC' }, '2026-04-01T00:55:00Z', 3)).toEqual(['2026-04-01 00:56:00', '2026-04-01 01:03:00', '2026-04-01 01:10:00'])
    expect(fires({ cycle: { type: 'minutes', every: 7 }, timezone: 'UTC' }, '2026-04-01T23:50:00Z', 2)).toEqual(['2026-04-01 23:55:00', '2026-04-02 00:00:00'])
    expect(fires({ cycle: { type: 'minutes', every: 120 }, timezone: 'UTC' }, '2026-04-01T00:00:00Z', 2)).toEqual(['2026-04-01 02:00:00', '2026-04-01 04:00:00'])
    expect(fires({ cycle: { type: 'hourly', minute: 5 }, timezone: 'UTC' }, '2026-04-01T00:00:00Z', 2)).toEqual(['2026-04-01 00:05:00', '2026-04-01 01:05:00'])
    expect(fires({ cycle: { type: 'hourly', minute: 0, everyHours: 6 }, timezone: 'UTC' }, '2026-04-01T00:00:00Z', 3)).toEqual(['2026-04-01 06:00:00', '2026-04-01 12:00:00', '2026-04-01 18:00:00'])
    expect(fires({ cycle: { type: 'daily', at: '00:30' }, timezone: 'Asia/Shanghai' }, '2026-04-01T00:00:00Z', 2)).toEqual(['2026-04-02 00:30:00', '2026-04-03 00:30:00'])
    // 2026-04-01 is a Wednesday.
    expect(fires({ cycle: { type: 'weekly', days: [1, 5], at: '08:00' }, timezone: 'UTC' }, '2026-04-01T00:00:00Z', 3)).toEqual(['2026-04-03 08:00:00', '2026-04-06 08:00:00', '2026-04-10 08:00:00'])
  })

  it('monthly: the 31st skips short months, last day, Feb 29 only in leap years', () => {
    expect(fires({ cycle: { type: 'monthly', days: [31], at: '01:00' }, timezone: 'UTC' }, '2028-01-15T00:00:00Z', 3)).toEqual(['2028-01-31 01:00:00', '2028-03-31 01:00:00', '2028-05-31 01:00:00'])
    expect(fires({ cycle: { type: 'monthly', days: ['last'], at: '23:00' }, timezone: 'UTC' }, '2028-01-15T00:00:00Z', 3)).toEqual(['2028-01-31 23:00:00', '2028-02-29 23:00:00', '2028-03-31 23:00:00'])
    expect(fires({ cycle: { type: 'monthly', days: ['last'], at: '23:00' }, timezone: 'UTC' }, '2027-02-01T00:00:00Z', 1)).toEqual(['2027-02-28 23:00:00'])
    expect(fires({ cycle: { type: 'monthly', days: [1, 'last'], at: '06:00' }, timezone: 'UTC' }, '2026-04-15T00:00:00Z', 3)).toEqual(['2026-04-30 06:00:00', '2026-05-01 06:00:00', '2026-05-31 06:00:00'])
    expect(fires({ cycle: { type: 'cron', expr: '0 0 29 2 *' }, timezone: 'UTC' }, '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29 00:00:00', '2032-02-29 00:00:00'])
  })

  it('cron with 5 and 6 fields; bad ones name the field', () => {
    expect(fires({ cycle: { type: 'cron', expr: '30 2 * * 1-5' }, timezone: 'UTC' }, '2026-04-03T00:00:00Z', 2)).toEqual(['2026-04-03 02:30:00', '2026-04-06 02:30:00'])
    expect(fires({ cycle: { type: 'cron', expr: '15 */10 * * * *' }, timezone: 'UTC' }, '2026-04-03T00:00:00Z', 3)).toEqual(['2026-04-03 00:00:15', '2026-04-03 00:10:15', '2026-04-03 00:20:15'])
    expect(() => previewFireTimes({ cycle: { type: 'cron', expr: '* * *' } }, new Date(), 1)).toThrow(/^cycle\.expr: .*has 3/)
    expect(() => previewFireTimes({ cycle: { type: 'cron', expr: '0 0 0 * * * 2026' } }, new Date(), 1)).toThrow(/^cycle\.expr/)
    expect(() => previewFireTimes({ cycle: { type: 'cron', expr: '61 * * * *' } }, new Date(), 1)).toThrow(/^cycle\.expr/)
    expect(() => previewFireTimes({ cycle: { type: 'daily', at: '24:00' } }, new Date(), 1)).toThrow(/^cycle\.at/)
    expect(() => previewFireTimes({ cycle: { type: 'daily', at: '01:00' }, timezone: 'Mars/Olympus' }, new Date(), 1)).toThrow(/^timezone/)
  })

  it('data times respect start and end', () => {
    const f = previewFireTimes({ cycle: { type: 'daily', at: '00:30' }, timezone: 'UTC', startDataTime: '2026-04-03', endDataTime: '2026-04-05' }, new Date('2026-04-01T00:00:00Z'), 10)
    expect(f.map((x) => x.dataTime)).toEqual(['2026-04-03', '2026-04-04', '2026-04-05'])
  })

  it('wall clock <-> instant in a time zone', () => {
    expect(instantOf('2026-03-29 02:30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:00:00.000Z') // in the gap: after it
    expect(instantOf('2026-10-25 02:30', 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z') // twice: the first
    expect(wallClock(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York')).toBe('2026-07-01 08:00:00')
  })
})

describe('DST: a daily 02:30 job runs once on both days', () => {
  for (const [tz, spring, fall] of [
    ['Europe/Berlin', '2026-03-29', '2026-10-25'],
    ['America/New_York', '2026-03-08', '2026-11-01'],
  ] as const) {
    it(tz, async () => {
      const id = job('dst')
      for (const day of [spring, fall]) {
        const prev = new Date(Date.parse(day + 'T00:00:00Z') - 2 * 86_400_000).toISOString()
        clock.set(prev)
        const s = svc.getSchedule({ kind: 'job', id })
        if (s) svc.remove(s.id)
        svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'daily', at: '02:30' }, timezone: tz })
        exec.auto = () => ({ state: 'succeeded' })
        // Walk the clock minute by minute... in 10-minute steps across 4 days, ticking each step.
        for (let k = 0; k < 6 * 24 * 4; k++) {
          clock.advance(10 * 60_000)
          await tick()
        }
        const onDay = store.scheduler.listInstances({ targetId: id, limit: 100 }).rows.filter((i) => i.cyctime.startsWith(day))
        expect(onDay).toHaveLength(1)
        expect(onDay[0]!.state).toBe('succeeded')
        expect(onDay[0]!.dataTime).toBe(new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10))
        // Spring forward: 02:30 does not exist, it runs at 03:00; fall back: the first 02:30.
        expect(onDay[0]!.cyctime).toBe(day === spring ? `${day} 03:00:00` : `${day} 02:30:00`)
        if (day === fall) expect(wallClock(Date.parse(onDay[0]!.fireAt), tz)).toBe(`${day} 02:30:00`)
      }
      // One instance per calendar day over both 4-day walks.
      const days = store.scheduler.listInstances({ targetId: id, limit: 100 }).rows.map((i) => i.cyctime.slice(0, 10))
      expect(new Set(days).size).toBe(days.length)
    })
  }
})

describe('catch-up after a 3-day gap', () => {
  for (const [mode, expected] of [
    ['none', ['2026-03-04']],
    ['latest', ['2026-03-03', '2026-03-04']],
    ['all', ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']],
  ] as const) {
    it(mode, async () => {
      const id = job('cu')
      clock.set('2026-03-01T12:00:00Z')
      svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', catchUp: mode })
      exec.auto = () => ({ state: 'succeeded' })
      // The scheduler was not running from 03-01 12:00 until 03-05 01:00:30 (fires on 03-02, 03-03, 03-04 missed; 03-05 on time).
      clock.set('2026-03-05T01:00:30Z')
      await tick()
      expect(store.scheduler.listInstances({ targetId: id }).rows.map((i) => i.dataTime).sort()).toEqual(expected)
      expect(states(id).every((s) => s.endsWith('succeeded'))).toBe(true)
    })
  }
})

describe('execution types', () => {
  it('serial-wait waits for the running instance; serial-discard skips', async () => {
    const a = job('wait')
    const b = job('discard')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id: a }, { cycle: { type: 'minutes', every: 10 }, timezone: 'UTC', executionType: 'serial-wait' })
    svc.setSchedule({ kind: 'job', id: b }, { cycle: { type: 'minutes', every: 10 }, timezone: 'UTC', executionType: 'serial-discard' })
    for (let k = 0; k < 3; k++) {
      clock.advance(10 * 60_000)
      await tick()
    }
    // a: first runs, two wait; b: first runs, two skipped.
    expect(store.scheduler.listInstances({ targetId: a }).rows.map((i) => i.state).sort()).toEqual(['running', 'waiting', 'waiting'])
    expect(store.scheduler.listInstances({ targetId: b }).rows.map((i) => i.state).sort()).toEqual(['running', 'skipped', 'skipped'])
    const waiting = store.scheduler.listInstances({ targetId: a, state: 'waiting' }).rows
    expect(waiting[0]!.waitingFor).toMatch(/serial-wait/)
    // a's instances then run one at a time, oldest first.
    const order: string[] = []
    for (let k = 0; k < 3; k++) {
      const run = store.scheduler.listInstances({ targetId: a, state: 'running' }).rows
      expect(run).toHaveLength(1)
      order.push(run[0]!.fireAt)
      exec.finish(run[0]!.id)
      for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r))
      await tick()
    }
    expect(order).toEqual([...order].sort())
    expect(states(a).every((s) => s.endsWith('succeeded'))).toBe(true)
  })
})

describe('dependencies', () => {
  it('self-dependency: an instance waits for the previous cycle to succeed, in order', async () => {
    const id = job('self')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', selfDependency: true, catchUp: 'all' })
    clock.set('2026-03-04T01:00:10Z')
    await tick()
    // Four instances (fires on 03-01 .. 03-04): only the oldest runs.
    expect(states(id)).toEqual(['2026-02-28:running', '2026-03-01:waiting', '2026-03-02:waiting', '2026-03-03:waiting'])
    exec.finish(exec.started[0]!.id, { state: 'failed', error: 'boom' })
    await tick()
    await tick()
    expect(states(id)).toEqual(['2026-02-28:failed', '2026-03-01:waiting', '2026-03-02:waiting', '2026-03-03:waiting'])
    expect(store.scheduler.listInstances({ targetId: id, state: 'waiting' }).rows.find((i) => i.dataTime === '2026-03-01')!.waitingFor).toMatch(/previous cycle \(2026-02-28, failed\)/)
    // Fix and rerun: the rest follows one by one.
    svc.rerun(exec.started[0]!.id)
    await tick()
    expect(states(id)).toEqual(['2026-02-28:running', '2026-03-01:waiting', '2026-03-02:waiting', '2026-03-03:waiting'])
    exec.finish(exec.started[1]!.id)
    await tick()
    await tick()
    expect(states(id)).toEqual(['2026-02-28:succeeded', '2026-03-01:running', '2026-03-02:waiting', '2026-03-03:waiting'])
    exec.finish(exec.started[2]!.id)
    await tick()
    await tick()
    exec.finish(exec.started[3]!.id)
    await tick()
    await tick()
    exec.finish(exec.started[4]!.id)
    await tick()
    expect(states(id)).toEqual(['2026-02-28:succeeded', '2026-03-01:succeeded', '2026-03-02:succeeded', '2026-03-03:succeeded'])
    expect(exec.started.map((i) => i.dataTime)).toEqual(['2026-02-28', '2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03'])
    // The rerun was attempt 2 and resumed.
    expect(store.scheduler.instance(exec.started[0]!.id)!.attempt).toBe(2)
  })

  it('upstream: waits for the same data time of the job it depends on', async () => {
    const up = job('up')
    const down = job('down')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id: up }, { cycle: { type: 'daily', at: '02:00' }, timezone: 'UTC' })
    svc.setSchedule({ kind: 'job', id: down }, { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', dependsOn: [{ kind: 'job', id: 'up' }] })
    clock.set('2026-03-02T01:00:10Z')
    await tick()
    expect(states(down)).toEqual(['2026-03-01:waiting'])
    expect(store.scheduler.listInstances({ targetId: down }).rows[0]!.waitingFor).toMatch(/upstream job up for 2026-03-01 \(no instance yet\)/)
    clock.set('2026-03-02T02:00:10Z')
    await tick()
    expect(states(up)).toEqual(['2026-03-01:running'])
    expect(states(down)).toEqual(['2026-03-01:waiting'])
    exec.finish(exec.started[0]!.id)
    await tick()
    await tick()
    expect(states(down)).toEqual(['2026-03-01:running'])
    // A dependency cycle is refused with its path.
    expect(() => svc.setSchedule({ kind: 'job', id: up }, { cycle: { type: 'daily', at: '02:00' }, dependsOn: [{ kind: 'job', id: 'down' }] })).toThrow(/cycle: up -> down -> up/)
  })
})

describe('backfill', () => {
  it('runs oldest first within its cap; plan is a dry run', async () => {
    const id = job('bf')
    clock.set('2026-03-10T12:00:00Z')
    const plan = svc.backfillPlan({ target: { kind: 'job', id: 'bf' }, from: '2026-03-01', to: '2026-03-05' })
    expect(plan.items.map((i) => i.dataTime)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'])
    expect(plan.items[0]!.cyctime).toBe('2026-03-02 00:00:00')
    expect(store.scheduler.listInstances({ targetId: id }).total).toBe(0)
    svc.backfillStart({ target: { kind: 'job', id: 'bf' }, from: '2026-03-01', to: '2026-03-05', parallel: 2 })
    await tick()
    expect(exec.started.map((i) => i.dataTime)).toEqual(['2026-03-01', '2026-03-02'])
    expect(store.scheduler.listInstances({ targetId: id, state: 'waiting' }).rows[0]!.waitingFor).toMatch(/backfill slot \(2\/2/)
    exec.finish(exec.started[1]!.id)
    await tick()
    await tick()
    expect(exec.started.map((i) => i.dataTime)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03'])
    exec.auto = () => ({ state: 'succeeded' })
    exec.finish(exec.started[0]!.id)
    exec.finish(exec.started[2]!.id)
    for (let k = 0; k < 4; k++) await tick()
    expect(exec.started.map((i) => i.dataTime)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'])
    expect(states(id).every((s) => s.endsWith('succeeded'))).toBe(true)
  })

  it('honours self-dependency and plans downstream after upstream', async () => {
    const a = job('bfa')
    const b = job('bfb')
    clock.set('2026-03-10T12:00:00Z')
    svc.setSchedule({ kind: 'job', id: a }, { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', selfDependency: true })
    svc.setSchedule({ kind: 'job', id: b }, { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', dependsOn: [{ kind: 'job', id: a }] })
    const plan = svc.backfillPlan({ target: { kind: 'job', id: a }, dates: ['20260303', '2026-03-01'], withDownstream: true })
    expect(plan.items.map((i) => `${i.target.name}@${i.dataTime}<${i.after.join(',')}`)).toEqual(['bfa@2026-03-01<', 'bfb@2026-03-01<bfa@2026-03-01', 'bfa@2026-03-03<bfa@2026-03-01', 'bfb@2026-03-03<bfa@2026-03-03'])
    svc.backfillStart({ target: { kind: 'job', id: a }, dates: ['2026-03-01', '2026-03-03'], withDownstream: true, parallel: 4 })
    exec.auto = (i) => (i.targetName === 'bfa' && i.dataTime === '2026-03-01' ? { state: 'failed', error: 'x' } : { state: 'succeeded' })
    for (let k = 0; k < 4; k++) await tick()
    expect(states(a)).toEqual(['2026-03-01:failed', '2026-03-03:waiting'])
    expect(states(b)).toEqual(['2026-03-01:waiting', '2026-03-03:waiting'])
  })
})

describe('lease and recovery', () => {
  it('two schedulers on one DB: only the lease holder fires', async () => {
    const id = job('lease')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'minutes', every: 5 }, timezone: 'UTC' })
    const exec2 = new FakeExecutor()
    const other = new Scheduler({ store, executor: exec2, clock, leaseTtlMs: 60_000 })
    exec.auto = exec2.auto = () => ({ state: 'succeeded' })
    for (let k = 0; k < 12; k++) {
      clock.advance(5 * 60_000)
      await Promise.all([sched.tick(), other.tick()])
      for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r))
    }
    expect(exec.started.length + exec2.started.length).toBe(12)
    expect(Math.min(exec.started.length, exec2.started.length)).toBe(0)
    expect(new Set([...exec.started, ...exec2.started].map((i) => i.id)).size).toBe(12)
    await other.stop()
  })

  it('an instance left running by a dead holder is failed when the lease is taken over', async () => {
    const id = job('crash')
    clock.set('2026-03-01T00:00:00Z')
    svc.runNow({ kind: 'job', id }, { bizdate: '2026-02-27' })
    await tick()
    expect(states(id)).toEqual(['2026-02-27:running'])
    // The holder dies (no stop, no renewal); another process starts after the lease expired.
    const exec2 = new FakeExecutor()
    const other = new Scheduler({ store, executor: exec2, clock, leaseTtlMs: 60_000 })
    await other.tick()
    expect(exec2.started).toHaveLength(0)
    clock.advance(61_000)
    const r = await other.tick()
    expect(r.recovered).toHaveLength(1)
    expect(states(id)).toEqual(['2026-02-27:failed'])
    expect(store.scheduler.instance(r.recovered[0]!)!.error).toMatch(/scheduler process that ran it stopped/)
    // Its rerun resumes.
    svc.rerun(r.recovered[0]!)
    exec2.auto = () => ({ state: 'succeeded' })
    await other.tick()
    for (let j = 0; j < 5; j++) await new Promise((r2) => setImmediate(r2))
    expect(states(id)).toEqual(['2026-02-27:succeeded'])
    await other.stop()
  })
})

describe('pause, resume, remove, retries, timeout', () => {
  it('pause keeps running instances; remove never touches a running one', async () => {
    const id = job('pr')
    clock.set('2026-03-01T00:00:00Z')
    const s = svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'minutes', every: 10 }, timezone: 'UTC', executionType: 'serial-wait' })
    clock.advance(10 * 60_000)
    await tick()
    clock.advance(10 * 60_000)
    await tick()
    expect(states(id).map((x) => x.split(':')[1]).sort()).toEqual(['running', 'waiting'])
    svc.pause(s.id)
    expect(states(id).map((x) => x.split(':')[1]).sort()).toEqual(['paused', 'running'])
    clock.advance(30 * 60_000)
    await tick()
    expect(store.scheduler.listInstances({ targetId: id }).total).toBe(2)
    svc.remove(s.id)
    expect(states(id).map((x) => x.split(':')[1]).sort()).toEqual(['running', 'terminated'])
    exec.finish(exec.started[0]!.id)
    await tick()
    expect(states(id).map((x) => x.split(':')[1]).sort()).toEqual(['succeeded', 'terminated'])
  })

  it('retries after the interval, then fails; a timeout fails the instance', async () => {
    const id = job('retry')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'once', at: '2026-03-01T00:05' }, timezone: 'UTC', retries: { count: 1, intervalSeconds: 60 }, timeout: { minutes: 5, action: 'fail' } })
    clock.advance(5 * 60_000)
    await tick()
    exec.finish(exec.started[0]!.id, { state: 'failed', error: 'e1' })
    await tick()
    expect(states(id)).toEqual(['2026-02-28:waiting'])
    await tick()
    expect(exec.started).toHaveLength(1)
    clock.advance(61_000)
    await tick()
    expect(exec.started).toHaveLength(2)
    clock.advance(6 * 60_000)
    await tick()
    for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r))
    const i = store.scheduler.listInstances({ targetId: id }).rows[0]!
    expect(i.state).toBe('failed')
    expect(i.error).toMatch(/timed out after 5 min/)
    expect(i.attempt).toBe(2)
  })
})

describe('alerts and publish', () => {
  class FakeAlerter {
    sent: Array<{ kind: string; state: string; error?: string; channels: string[] }> = []
    async send(p: { kind: string; state: string; error?: string }, spec: { webhook?: unknown; command?: unknown; desktop?: boolean }) {
      this.sent.push({ kind: p.kind, state: p.state, ...(p.error ? { error: p.error } : {}), channels: [...(spec.desktop !== false ? ['desktop'] : []), ...(spec.webhook ? ['webhook'] : []), ...(spec.command ? ['command'] : [])] })
    }
  }

  it('timeout alert goes on once; failure and success alert as configured; no spec still alerts the desktop on failure', async () => {
    const alerter = new FakeAlerter()
    const s2 = new Scheduler({ store, executor: exec, clock, alerter, leaseTtlMs: 60_000, graceMs: 60_000 })
    const id = job('alerts')
    const plain = job('plain')
    clock.set('2026-03-01T00:00:00Z')
    svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'once', at: '2026-03-01T00:05' }, timezone: 'UTC', timeout: { minutes: 2, action: 'alert' }, alerts: { on: ['timeout', 'success'], webhook: { url: 'http://127.0.0.1:9/x' } } })
    svc.setSchedule({ kind: 'job', id: plain }, { cycle: { type: 'once', at: '2026-03-01T00:05' }, timezone: 'UTC' })
    clock.advance(5 * 60_000)
    await s2.tick()
    expect(exec.started).toHaveLength(2)
    clock.advance(3 * 60_000)
    await s2.tick()
    await s2.tick()
    expect(alerter.sent).toEqual([{ kind: 'timeout', state: 'running', error: 'running longer than 2 min', channels: ['desktop', 'webhook'] }])
    expect(store.scheduler.listInstances({ targetId: id }).rows[0]!.state).toBe('running')
    exec.finish(exec.started.find((i) => i.targetId === id)!.id)
    exec.finish(exec.started.find((i) => i.targetId === plain)!.id, { state: 'failed', error: 'no table' })
    for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r))
    expect(alerter.sent.slice(1).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'failure', state: 'failed', error: 'no table', channels: ['desktop'] },
      { kind: 'success', state: 'succeeded', channels: ['desktop', 'webhook'] },
    ])
    await s2.stop()
  })

  it('schedules run the published version; publishing can terminate running instances of the old one', async () => {
    clock.set('2026-03-01T00:00:00Z')
    const id = job('pub')
    store.jobs.save({ version: 1, name: 'pub', reader: { connection: 'sqlite::memory:' }, writer: { connection: 'sqlite::memory:' }, tables: [], setting: { speed: { channel: 1 } } }, { name: 'pub', id })
    // First schedule publishes the latest version (2).
    svc.setSchedule({ kind: 'job', id }, { cycle: { type: 'minutes', every: 10 }, timezone: 'UTC' })
    store.jobs.save({ version: 1, name: 'pub', reader: { connection: 'sqlite::memory:' }, writer: { connection: 'sqlite::memory:' }, tables: [], setting: { speed: { channel: 2 } } }, { name: 'pub', id })
    clock.advance(10 * 60_000)
    await tick()
    expect(exec.started.map((i) => i.version)).toEqual([2])
    const r = svc.publish({ kind: 'job', id: 'pub' }, undefined, true)
    expect(r).toMatchObject({ version: 3, terminated: [exec.started[0]!.id] })
    await tick()
    for (let j = 0; j < 5; j++) await new Promise((res) => setImmediate(res))
    expect(store.scheduler.instance(exec.started[0]!.id)!.state).toBe('terminated')
    clock.advance(10 * 60_000)
    await tick()
    expect(exec.started.map((i) => i.version)).toEqual([2, 3])
    expect(() => svc.publish({ kind: 'job', id: 'pub' }, 9)).toThrow(/versions 1\.\.3/)
  })
})
