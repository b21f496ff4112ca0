/**
 * Helpers the wizard uses on the job document: the table pairs, the where filter kinds, the
 * connection id behind a reference. Pure functions over the JSON document.
 */
import type { Doc } from '../stores/jobEditor.js'

/** The source table name of a pair (string form or `{ table }`), or undefined for querySql. */
export function pairSource(p: Doc): string | undefined {
  if (typeof p.source === 'string') return p.source
  return typeof p.source?.table === 'string' ? p.source.table : undefined
}

/** The pairs array, or undefined when `tables` is a whole-database selection. */
export function pairs(spec: Doc): Doc[] | undefined {
  return Array.isArray(spec.tables) ? (spec.tables as Doc[]) : undefined
}

/** A where clause built by the time-range filter: `col >= 'from' AND col < 'to'`. */
export function timeRangeWhere(col: string, from: string, to: string, quote: (s: string) => string): string {
  return `${quote(col)} >= '${from}' AND ${quote(col)} < '${to}'`
}

/** Recognise a where clause the time-range filter wrote (so the wizard shows the builder again). */
export function parseTimeRange(where: string | undefined): { col: string; from: string; to: string } | undefined {
  if (!where) return undefined
  const m = /^\s*([`"]?)([^`"\s]+)\1\s*>=\s*'([^']*)'\s+AND\s+\1\2\1\s*<\s*'([^']*)'\s*$/i.exec(where)
  return m ? { col: m[2]!, from: m[3]!, to: m[4]! } : undefined
}

/** Identifier quoting of a connection kind (MySQL backticks, others double quotes). */
export function quoterFor(kind: string | undefined): (s: string) => string {
  return kind === 'mysql' ? (s) => '`' + s.replace(/`/g, '``') + '`' : (s) => '"' + s.replace(/"/g, '""') + '"'
}

/** `a\nb` <-> `['a','b']` for preSql/postSql (one statement per line, blank lines dropped). */
export function linesToList(text: string): string[] {
  return text.split('\n').map((s) => s.trim()).filter(Boolean)
}
