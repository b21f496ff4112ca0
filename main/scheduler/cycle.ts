/**
 * Fire times of a schedule's cycle, in its time zone. Every cycle type is turned into one or more
 * croner patterns (never a hand-parsed cron) and the earliest next fire of them is taken, so DST
 * is croner's: a wall-clock time inside a spring-forward gap fires at the first instant after the
 * gap (02:30 -> 03:00 in Europe/Berlin on 2026-03-29); a time that occurs twice on a fall-back day
 * fires once, at its first occurrence.
 *
 * Data time: an instance's data time is its `cyctime` one day earlier (the date part), exactly as
 * `main/job/variables.ts` `timeContext` defines `${bizdate}`.
 */
import { Cron } from 'croner'
import type { CycleSpec, FireTime, ScheduleSpec } from './types.js'

/** A schedule problem naming the field (path relative to the schedule spec). */
export class ScheduleError extends Error {
  override name = 'ScheduleError'
  readonly code = 'BAD_REQUEST'
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`)
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/
const DATE = /^(\d{4})-?(\d{2})-?(\d{2})$/

/** The machine's IANA time zone. */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** @throws ScheduleError when `tz` is not an IANA time zone Intl knows. */
export function checkTimeZone(tz: string, path = 'timezone'): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
  } catch {
    throw new ScheduleError(`'${tz}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`, path)
  }
  return tz
}

/**
 * A data time `YYYY-MM-DD` from `YYYY-MM-DD` or `yyyymmdd`.
 * @throws ScheduleError naming `path` when it is not a calendar date.
 */
export function normalizeDate(s: string, path: string): string {
  const m = DATE.exec(String(s))
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
    if (d.getUTCDate() === Number(m[3]) && d.getUTCMonth() === Number(m[2]) - 1) return `${m[1]}-${m[2]}-${m[3]}`
  }
  throw new ScheduleError(`'${s}' is not a date (YYYY-MM-DD or yyyymmdd)`, path)
}

const fmtCache = new Map<string, Intl.DateTimeFormat>()
/** Wall clock of an instant in `tz`, as `YYYY-MM-DD HH:mm:ss`. */
export function wallClock(instant: Date | number, tz: string): string {
  let f = fmtCache.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    fmtCache.set(tz, f)
  }
  const p: Record<string, string> = {}
  for (const x of f.formatToParts(new Date(instant))) p[x.type] = x.value
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** Add days to a `YYYY-MM-DD` date. */
export function addDaysToDate(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** The data time (`YYYY-MM-DD`) of a `cyctime` (`YYYY-MM-DD HH:mm:ss`): the day before. */
export function dataTimeOf(cyctime: string): string {
  return addDaysToDate(cyctime.slice(0, 10), -1)
}

/** `YYYY-MM-DD` -> `yyyymmdd`. */
export const bizdateOf = (dataTime: string) => dataTime.replaceAll('-', '')

/**
 * The instant of a wall-clock time in `tz` (`YYYY-MM-DD HH:mm[:ss]`). In a DST gap it gives the
 * instant after the gap; when the time occurs twice, the first.
 */
export function instantOf(wall: string, tz: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall)
  if (!m) throw new ScheduleError(`'${wall}' is not a local date-time (YYYY-MM-DDTHH:mm)`, 'at')
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as number[]
  const guess = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
  // Try the offsets in effect around the guess; keep the earliest instant whose wall clock matches.
  const want = `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}`
  const candidates: number[] = []
  for (const probe of [guess - 86_400_000, guess, guess + 86_400_000]) {
    const off = offsetMs(probe, tz)
    const t = guess - off
    if (wallClock(t, tz) === want) candidates.push(t)
  }
  if (candidates.length) return new Date(Math.min(...candidates))
  // In a gap: the first instant after it (the transition), found by bisection to the second.
  let lo = guess - offsetMs(guess + 86_400_000, tz) - 86_400_000 / 12
  let hi = guess - offsetMs(guess - 86_400_000, tz) + 86_400_000 / 12
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000
    if (wallClock(mid, tz) >= want) hi = mid
    else lo = mid
  }
  return new Date(hi)
}

function offsetMs(instant: number, tz: string): number {
  const w = wallClock(instant, tz)
  const asUtc = Date.parse(w.replace(' ', 'T') + 'Z')
  return asUtc - Math.floor(instant / 1000) * 1000
}

function parseAt(at: unknown, path: string): [number, number] {
  const m = HHMM.exec(String(at))
  if (!m) throw new ScheduleError(`'${String(at)}' is not a time of day HH:mm (00:00..23:59)`, path)
  return [Number(m[1]), Number(m[2])]
}

const intIn = (v: unknown, lo: number, hi: number, path: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new ScheduleError(`expected an integer ${lo}..${hi}, got ${JSON.stringify(v)}`, path)
  return v
}

/** A compiled cycle: next fire strictly after an instant. */
export interface CompiledCycle {
  /** The next fire instant strictly after `after`, or undefined when there is none (once, in the past). */
  next(after: Date): Date | undefined
  /** The croner patterns behind it (shown in previews and exports; `once` has none). */
  patterns: string[]
}

/**
 * Compile a cycle for time zone `tz`.
 * @throws ScheduleError with a path under `cycle` for every bad field (cron errors carry croner's message).
 */
export function compileCycle(cycle: CycleSpec, tz: string): CompiledCycle {
  if (!cycle || typeof cycle !== 'object') throw new ScheduleError('expected a cycle object { type: once|minutes|hourly|daily|weekly|monthly|cron, ... }', 'cycle')
  const crons = (patterns: string[], path: string): CompiledCycle => {
    const cs = patterns.map((p) => {
      try {
        return new Cron(p, { timezone: tz, paused: true })
      } catch (e) {
        throw new ScheduleError((e as Error).message, path)
      }
    })
    return {
      patterns,
      next(after) {
        let best: Date | undefined
        for (const c of cs) {
          const n = c.nextRun(after)
          if (n && n.getTime() > after.getTime() && (!best || n < best)) best = n
        }
        return best
      },
    }
  }
  switch (cycle.type) {
    case 'once': {
      if (typeof cycle.at !== 'string') throw new ScheduleError('expected a local date-time YYYY-MM-DDTHH:mm', 'cycle.at')
      let at: Date
      try {
        at = instantOf(cycle.at, tz)
      } catch (e) {
        throw new ScheduleError((e as Error).message.replace(/^at: /, ''), 'cycle.at')
      }
      return { patterns: [], next: (after) => (at.getTime() > after.getTime() ? at : undefined) }
    }
    case 'minutes': {
      const n = intIn(cycle.every, 1, 1440, 'cycle.every')
      if (60 % n === 0) return crons([`*/${n} * * * *`], 'cycle.every')
      if (n % 60 === 0 && 1440 % n === 0) return crons([`0 */${n / 60} * * *`], 'cycle.every')
      // Minutes of the day that are multiples of n (restarting at midnight), one pattern per hour.
      const byHour = new Map<number, number[]>()
      for (let m = 0; m < 1440; m += n) byHour.set(Math.floor(m / 60), [...(byHour.get(Math.floor(m / 60)) ?? []), m % 60])
      const groups = new Map<string, number[]>()
      for (const [h, ms] of byHour) groups.set(ms.join(','), [...(groups.get(ms.join(',')) ?? []), h])
      return crons([...groups].map(([ms, hs]) => `${ms} ${hs.join(',')} * * *`), 'cycle.every')
    }
    case 'hourly': {
      const m = intIn(cycle.minute, 0, 59, 'cycle.minute')
      const every = cycle.everyHours === undefined ? 1 : intIn(cycle.everyHours, 1, 23, 'cycle.everyHours')
      return crons([`${m} ${every === 1 ? '*' : `*/${every}`} * * *`], 'cycle.minute')
    }
    case 'daily': {
      const [h, m] = parseAt(cycle.at, 'cycle.at')
      return crons([`${m} ${h} * * *`], 'cycle.at')
    }
    case 'weekly': {
      const [h, m] = parseAt(cycle.at, 'cycle.at')
      if (!Array.isArray(cycle.days) || cycle.days.length === 0) throw new ScheduleError('expected at least one weekday (0 = Sunday .. 6 = Saturday)', 'cycle.days')
      const days = [...new Set(cycle.days.map((d, i) => intIn(d, 0, 6, `cycle.days[${i}]`)))].sort()
      return crons([`${m} ${h} * * ${days.join(',')}`], 'cycle.days')
    }
    case 'monthly': {
      const [h, m] = parseAt(cycle.at, 'cycle.at')
      if (!Array.isArray(cycle.days) || cycle.days.length === 0) throw new ScheduleError("expected at least one day of month (1..31 or 'last')", 'cycle.days')
      const nums: number[] = []
      let last = false
      cycle.days.forEach((d, i) => {
        if (d === 'last') last = true
        else nums.push(intIn(d, 1, 31, `cycle.days[${i}]`))
      })
      const patterns: string[] = []
      if (nums.length) patterns.push(`${m} ${h} ${[...new Set(nums)].sort((a, b) => a - b).join(',')} * *`)
      if (last) patterns.push(`${m} ${h} L * *`)
      return crons(patterns, 'cycle.days')
    }
    case 'cron': {
      if (typeof cycle.expr !== 'string' || !cycle.expr.trim()) throw new ScheduleError('expected a cron expression of 5 or 6 fields', 'cycle.expr')
      const fields = cycle.expr.trim().split(/\s+/)
      if (fields.length !== 5 && fields.length !== 6) throw new ScheduleError(`a cron expression has 5 fields (minute hour day month weekday) or 6 (second first); '${cycle.expr}' has ${fields.length}`, 'cycle.expr')
      return crons([fields.join(' ')], 'cycle.expr')
    }
    default:
      throw new ScheduleError(`unknown cycle type ${JSON.stringify((cycle as { type?: unknown }).type)} (once, minutes, hourly, daily, weekly, monthly, cron)`, 'cycle.type')
  }
}

/**
 * Check a schedule spec (everything but its dependencies, which need the store).
 * @returns the compiled cycle and the time zone in effect.
 * @throws ScheduleError naming the field.
 */
export function checkScheduleSpec(spec: ScheduleSpec, defaultTz = machineTimeZone()): { cycle: CompiledCycle; timezone: string } {
  if (!spec || typeof spec !== 'object') throw new ScheduleError('expected a schedule object', '$')
  const timezone = checkTimeZone(spec.timezone ?? defaultTz)
  const cycle = compileCycle(spec.cycle, timezone)
  const start = spec.startDataTime !== undefined ? normalizeDate(spec.startDataTime, 'startDataTime') : undefined
  const end = spec.endDataTime !== undefined ? normalizeDate(spec.endDataTime, 'endDataTime') : undefined
  if (start && end && end < start) throw new ScheduleError(`${end} is before startDataTime ${start}`, 'endDataTime')
  if (spec.executionType !== undefined && !['parallel', 'serial-wait', 'serial-discard'].includes(spec.executionType))
    throw new ScheduleError(`expected parallel, serial-wait or serial-discard, got ${JSON.stringify(spec.executionType)}`, 'executionType')
  if (spec.catchUp !== undefined && !['none', 'latest', 'all'].includes(spec.catchUp)) throw new ScheduleError(`expected none, latest or all, got ${JSON.stringify(spec.catchUp)}`, 'catchUp')
  if (spec.timeout !== undefined) {
    if (typeof spec.timeout.minutes !== 'number' || !(spec.timeout.minutes > 0)) throw new ScheduleError('expected a number of minutes > 0', 'timeout.minutes')
    if (!['fail', 'alert'].includes(spec.timeout.action)) throw new ScheduleError(`expected fail or alert, got ${JSON.stringify(spec.timeout.action)}`, 'timeout.action')
  }
  if (spec.retries !== undefined) {
    intIn(spec.retries.count, 0, 10, 'retries.count')
    intIn(spec.retries.intervalSeconds, 0, 86_400, 'retries.intervalSeconds')
  }
  if (spec.selfDependency !== undefined && typeof spec.selfDependency !== 'boolean') throw new ScheduleError('expected true or false', 'selfDependency')
  if (spec.dependsOn !== undefined) {
    if (!Array.isArray(spec.dependsOn)) throw new ScheduleError('expected a list of { kind, id }', 'dependsOn')
    spec.dependsOn.forEach((d, i) => {
      if (!d || (d.kind !== 'job' && d.kind !== 'workflow') || typeof d.id !== 'string' || !d.id) throw new ScheduleError('expected { kind: job|workflow, id: <id or name> }', `dependsOn[${i}]`)
    })
  }
  const a = spec.alerts
  if (a !== undefined) {
    if (a.on !== undefined && (!Array.isArray(a.on) || a.on.some((x) => !['failure', 'timeout', 'success'].includes(x)))) throw new ScheduleError('expected a list of failure, timeout, success', 'alerts.on')
    if (a.webhook !== undefined) {
      let u: URL | undefined
      try {
        u = new URL(a.webhook.url)
      } catch {
        /* below */
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new ScheduleError(`'${a.webhook?.url}' is not an http(s) URL`, 'alerts.webhook.url')
    }
    if (a.command !== undefined && (typeof a.command !== 'string' || !a.command.trim())) throw new ScheduleError('expected a non-empty command', 'alerts.command')
  }
  return { cycle, timezone }
}

/**
 * The next `count` fire times strictly after `after`, within the spec's data-time bounds.
 * @throws ScheduleError as {@link checkScheduleSpec}.
 */
export function previewFireTimes(spec: ScheduleSpec, after: Date, count = 5, defaultTz?: string): FireTime[] {
  const { cycle, timezone } = checkScheduleSpec(spec, defaultTz)
  const start = spec.startDataTime ? normalizeDate(spec.startDataTime, 'startDataTime') : undefined
  const end = spec.endDataTime ? normalizeDate(spec.endDataTime, 'endDataTime') : undefined
  const out: FireTime[] = []
  let t = after
  for (let guard = 0; out.length < count && guard < 100_000; guard++) {
    const n = cycle.next(t)
    if (!n) break
    t = n
    const cyctime = wallClock(n, timezone)
    const dataTime = dataTimeOf(cyctime)
    if (end && dataTime > end) break
    if (start && dataTime < start) continue
    out.push({ fireAt: n.toISOString(), cyctime, dataTime })
  }
  return out
}
