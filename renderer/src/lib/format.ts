/** Small display helpers (durations, counts, rates, dates in the interface language). */
import { i18n } from '../i18n.js'

/** `1h 02m 03s`, `2m 03s`, `3.4s`, `120ms`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = Math.floor(s % 60)
  return h ? `${h}h ${String(m).padStart(2, '0')}m ${String(sec).padStart(2, '0')}s` : `${m}m ${String(sec).padStart(2, '0')}s`
}

/** Thousands separators, exact integer. */
export function count(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US')
}

/** Milliseconds between two ISO timestamps (end defaults to now). */
export function between(start?: string, end?: string): number | undefined {
  if (!start) return undefined
  return (end ? Date.parse(end) : Date.now()) - Date.parse(start)
}

/** `12,345 rows/s`, from rows and elapsed ms. */
export function rate(rows: number, ms: number | undefined): string {
  if (!ms || ms <= 0) return '—'
  return `${Math.round((rows * 1000) / ms).toLocaleString('en-US')}/s`
}

/** Local date-time of an ISO timestamp, formatted for the interface language (zh-CN or en-US). */
export function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString(dateLocale()) : '—'
}

/** The BCP 47 locale dates are formatted in: the interface language's. */
export function dateLocale(): string {
  return (i18n.global.locale as unknown as { value: string }).value === 'zh-CN' ? 'zh-CN' : 'en-US'
}
