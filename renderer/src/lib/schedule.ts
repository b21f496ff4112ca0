/**
 * Helpers of the schedule screens: a fresh {@link ScheduleSpec}, the machine's time zone and the
 * list of IANA zones the browser knows, target keys for selects, and small formatters of fire
 * times. Shapes are the API's (`main/scheduler/types.ts`); the API validates and computes fire
 * times (`schedules/preview`, croner) — nothing here interprets a cycle or a cron expression.
 */
import type { CycleSpec, ScheduleSpec, TargetRef, TargetView } from '../../../main/api/contract.js'

/** The browser's IANA time zone (the machine's, under Electron). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** Every IANA time zone the runtime knows, the local one first; `UTC` is always present. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] }
  const all = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : []
  const local = localTimeZone()
  return [local, ...['UTC', ...all].filter((z) => z !== local)].filter((z, i, a) => a.indexOf(z) === i)
}

/** `YYYY-MM-DD` of a local date, shifted by `days`. */
export function localDate(days = 0, from = new Date()): string {
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate() + days)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** A new schedule: daily at 00:30 in the local zone, data times from yesterday, parallel, no catch-up. */
export function newScheduleSpec(): ScheduleSpec {
  return {
    cycle: { type: 'daily', at: '00:30' },
    timezone: localTimeZone(),
    startDataTime: localDate(-1),
    selfDependency: false,
    dependsOn: [],
    executionType: 'parallel',
    retries: { count: 0, intervalSeconds: 60 },
    catchUp: 'none',
  }
}

/** The cycle types in the order the form shows them. */
export const CYCLE_TYPES = ['once', 'minutes', 'hourly', 'daily', 'weekly', 'monthly', 'cron'] as const satisfies ReadonlyArray<CycleSpec['type']>

/**
 * A cycle of `type`, keeping the time of day (`at`) of the previous cycle where both have one, so
 * switching daily -> weekly keeps 00:30.
 */
export function cycleOfType(type: CycleSpec['type'], prev?: CycleSpec): CycleSpec {
  const at = prev && 'at' in prev && /^\d{2}:\d{2}$/.test(prev.at) ? prev.at : '00:30'
  switch (type) {
    case 'once':
      return { type, at: `${localDate(1)}T${at}` }
    case 'minutes':
      return { type, every: 30 }
    case 'hourly':
      return { type, minute: 0 }
    case 'daily':
      return { type, at }
    case 'weekly':
      return { type, days: [1], at }
    case 'monthly':
      return { type, days: [1], at }
    case 'cron':
      return { type, expr: '30 0 * * *' }
  }
}

/** Select key of a target: `job:<id>` / `workflow:<id>`. */
export function targetKey(t: TargetRef | TargetView): string {
  return `${t.kind}:${t.id}`
}

/** The target of a select key made by {@link targetKey}. */
export function targetOfKey(key: string): TargetRef {
  const i = key.indexOf(':')
  const kind = key.slice(0, i)
  if (kind !== 'job' && kind !== 'workflow') throw new Error(`not a target key: ${key}`)
  return { kind, id: key.slice(i + 1) }
}

/** The ISO instant as local `YYYY-MM-DD HH:mm:ss` with the short weekday of `locale` (for fire-time previews). */
export function fireLabel(iso: string, locale: string): string {
  const d = new Date(iso)
  const p = (n: number) => String(n).padStart(2, '0')
  const wd = d.toLocaleDateString(locale, { weekday: 'short' })
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${wd}`
}
