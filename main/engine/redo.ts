/**
 * What a redo (a retry after a transient error, or a resumed run) may remove from the target.
 *
 * The rule: a redo removes only rows this task wrote, or nothing at all.
 *
 * 1. writeMode `update` / `replace`: nothing is removed; rows are overwritten by key.
 * 2. writeMode `insert`, and the task reads a filtered set (`where`):
 *    - the target has a key: the split is rewritten as an upsert (nothing removed);
 *    - no key, the run owns the target (created / truncated it) and the `where` can be evaluated
 *      on the target: `DELETE ... WHERE <split range> AND (<where on the target>)`. "Can be
 *      evaluated" means: every column the `where` names is copied to the target as is (no
 *      `nullDefault`, no `timeFormat`; renamed columns are rewritten to their target names), it
 *      names no qualified column, no string needs dialect-specific escapes, and the target accepts
 *      `SELECT 1 FROM <target> WHERE (<where>) AND 1 = 0` (types and functions exist there);
 *    - otherwise the redo is refused with the reason (no row is touched).
 *    A `querySql` task counts as filtered and is never evaluable on the target.
 * 3. writeMode `insert`, the task reads the whole source table: the split's key range holds only
 *    this task's rows while the run owns the target and no other run has written it since the
 *    run's first attempt (main/store/locks.ts `writersSince`): then `DELETE` of the range (or of
 *    the whole table for a single split). Otherwise an upsert on the key, or a refusal.
 *
 * Where a `where` is evaluated on both sides, equal text can compare differently (MySQL's
 * case-insensitive collations against PostgreSQL's): that is why a target with a key always
 * takes the upsert, and the filtered DELETE is kept for key-less targets only.
 */
import type { Value } from '../core/types.js'
import type { Connector, ConnectorKind, Split } from '../connectors/types.js'
import type { RedoPlan } from './channel.js'
import type { PlannedTask } from './plan.js'

/** The task's row filter as the target can evaluate it. */
export type TargetFilter =
  | { kind: 'none' }
  | { kind: 'sql'; sql: string }
  | { kind: 'opaque'; reason: string }

/** The task's facts a redo plan depends on (run.ts TaskRt carries them). */
export interface RedoTask {
  plan: PlannedTask
  /** The run created or truncated the target. */
  owned: boolean
  /** The task's filter on the target (see {@link targetFilter}); absent = not computed (treated as none when the task has no where). */
  filter?: TargetFilter
  /** Other runs that wrote the target since this run's first attempt (they void `owned` for range deletes). */
  intruders?: string[]
  /**
   * The target's primary key is built after the data and is not there yet (run.ts deferKey): no
   * unique index to upsert by, so the target counts as keyless until the task finishes.
   */
  keyPending?: boolean
}

/**
 * Rewrite a source `where` for the target: source column names become the target's quoted
 * column names. Returns a reason instead when the text cannot be trusted there (file comment).
 */
export function rewriteWhere(where: string, p: PlannedTask, readerKind: ConnectorKind, quoteIdent: (s: string) => string, writerKind: ConnectorKind): TargetFilter {
  const cols = new Map<string, { target?: string; why?: string }>()
  for (const c of p.sourceColumns) cols.set(c.name.toLowerCase(), { why: `column ${c.name} is not copied to the target` })
  for (const op of p.ops) {
    if (op.kind !== 'column') continue
    const plain = op.nullDefault === undefined && !op.timeFormat
    cols.set(op.sourceName.toLowerCase(), plain ? { target: op.targetName } : { why: `column ${op.sourceName} is changed on its way to the target (nullDefault / timeFormat)` })
  }
  let out = ''
  let i = 0
  const n = where.length
  const ident = (name: string, quoted: boolean): string | TargetFilter => {
    const c = cols.get(name.toLowerCase())
    if (!c) return quoted ? { kind: 'opaque', reason: `the where names ${name}, not a column of the source` } : name
    if (c.why) return { kind: 'opaque', reason: `the where uses ${c.why}` }
    return quoteIdent(c.target!)
  }
  while (i < n) {
    const ch = where[i]!
    if (ch === "'" || (ch === '"' && readerKind === 'mysql')) {
      let j = i + 1
      for (; j < n; j++) {
        if (where[j] === '\\') {
          if (writerKind !== readerKind || readerKind !== 'mysql') return { kind: 'opaque', reason: 'the where has a backslash in a string (dialect-specific escapes)' }
          j++
          continue
        }
        if (where[j] === ch) {
          if (where[j + 1] === ch) {
            j++
            continue
          }
          break
        }
      }
      if (j >= n) return { kind: 'opaque', reason: 'the where has an unterminated string' }
      const body = where.slice(i + 1, j)
      out += ch === '"' ? `'${body.replace(/""/g, '"').replace(/'/g, "''")}'` : where.slice(i, j + 1)
      i = j + 1
      continue
    }
    if (ch === '"' || ch === '`') {
      const j = where.indexOf(ch, i + 1)
      if (j < 0) return { kind: 'opaque', reason: 'the where has an unterminated quoted name' }
      if (where[j + 1] === '.' || where[i - 1] === '.') return { kind: 'opaque', reason: 'the where names a qualified column' }
      const r = ident(where.slice(i + 1, j), true)
      if (typeof r !== 'string') return r
      out += r
      i = j + 1
      continue
    }
    if (ch === '-' && where[i + 1] === '-') {
      const j = where.indexOf('\n', i)
      out += j < 0 ? where.slice(i) + '\n' : where.slice(i, j)
      i = j < 0 ? n : j
      continue
    }
    if (ch === '/' && where[i + 1] === '*') {
      const j = where.indexOf('*/', i + 2)
      if (j < 0) return { kind: 'opaque', reason: 'the where has an unterminated comment' }
      i = j + 2
      out += ' '
      continue
    }
    if (/[0-9]/.test(ch)) {
      const m = /^[0-9][0-9A-Za-z_.]*/.exec(where.slice(i))!
      out += m[0]
      i += m[0].length
      continue
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(where.slice(i))!
      if (where[i + m[0].length] === '.' || where[i - 1] === '.') return { kind: 'opaque', reason: 'the where names a qualified column' }
      const r = ident(m[0], false)
      if (typeof r !== 'string') return r
      out += r
      i += m[0].length
      continue
    }
    if (ch === '?' || ch === '$' || ch === ';') return { kind: 'opaque', reason: `the where holds '${ch}'` }
    out += ch
    i++
  }
  return { kind: 'sql', sql: out }
}

/**
 * The task's row filter on the target (see the file comment), checked against the target with a
 * `LIMIT 0`-like query. Never throws: a failure is an `opaque` filter naming the database's error.
 */
export async function targetFilter(p: PlannedTask, reader: Connector, writer: Connector): Promise<TargetFilter> {
  if (p.read.querySql !== undefined) return { kind: 'opaque', reason: 'the task reads a querySql, which cannot be evaluated on the target' }
  const where = p.read.where?.trim()
  if (!where) return { kind: 'none' }
  // A file writer re-writes its own parts (redoPlan): no rows to identify on the target.
  if (reader.kind === 'file' || writer.kind === 'file') return { kind: 'opaque', reason: 'a file side: a redo rewrites its own part files' }
  const f = rewriteWhere(where, p, reader.kind, (s) => writer.quoteIdent(s), writer.kind)
  if (f.kind !== 'sql') return f
  try {
    await writer.query(`SELECT 1 FROM ${writer.quoteTable(p.target)} WHERE (${f.sql}) AND 1 = 0`)
    return f
  } catch (e) {
    return { kind: 'opaque', reason: `the where cannot be evaluated on the target (${(e as Error).message})` }
  }
}

/**
 * How to make a re-write of `split` safe (see the file comment and {@link RedoPlan}).
 * `splitCount` is the task's number of splits (a single split of an owned, unfiltered target
 * may empty the whole table).
 */
export function safeRedoPlan(t: RedoTask, split: Split, writer: Connector, splitCount: number): RedoPlan {
  const p = t.plan
  if (p.writeMode !== 'insert') return { kind: 'none' }
  const table = writer.quoteTable(p.target)
  const filter: TargetFilter = t.filter ?? (p.read.querySql !== undefined ? { kind: 'opaque', reason: 'the task reads a querySql' } : p.read.where?.trim() ? { kind: 'opaque', reason: 'the where was not checked against the target' } : { kind: 'none' })
  const intruded = !!t.intruders?.length
  const hasKey = !!p.keyColumns?.length && !t.keyPending
  // A filtered read into a keyed target: upsert, never delete.
  if (filter.kind !== 'none' && hasKey) return { kind: 'upsert' }
  const canDelete = t.owned && (filter.kind === 'sql' || (filter.kind === 'none' && !intruded))
  const r = split.range
  if (canDelete && r) {
    const range = rangePredicate(p, r, writer)
    const and = filter.kind === 'sql' ? ` AND (${filter.sql})` : ''
    if (range) return { kind: 'delete', sql: `DELETE FROM ${table} WHERE (${range.sql})${and}`, params: range.params }
  }
  if (hasKey) return { kind: 'upsert' }
  if (canDelete && !r && splitCount === 1) return { kind: 'delete', sql: filter.kind === 'sql' ? `DELETE FROM ${table} WHERE (${filter.sql})` : `DELETE FROM ${table}`, params: [] }
  const why =
    filter.kind === 'opaque'
      ? `${filter.reason}, and ${p.target.name} has no key: a redo could remove rows other jobs wrote`
      : intruded
        ? `${p.target.name} was written by run ${t.intruders!.join(', ')} since this run started, and has no key${t.keyPending ? ' yet (it is built after the data)' : ''}: a redo could remove that run's rows`
        : `${p.target.name} has no key and the run does not own its rows (set writer.truncate, or a primary key, to make the load resumable)`
  return { kind: 'impossible', reason: why }
}

/** `col >= lo AND col < hi` on the target for an integer splitPk copied as is; undefined otherwise. */
function rangePredicate(p: PlannedTask, r: NonNullable<Split['range']>, writer: Connector): { sql: string; params: unknown[] } | undefined {
  const op = p.ops.find((o) => o.kind === 'column' && o.sourceName === r.column)
  if (!op || op.kind !== 'column' || !(op.sourceType.kind === 'int' || op.sourceType.kind === 'year') || op.nullDefault !== undefined || op.timeFormat) return undefined
  const col = writer.quoteIdent(op.targetName)
  const params: unknown[] = []
  const ph = () => (writer.kind === 'postgres' ? `$${params.length}` : '?')
  const bind = (v: Value) => {
    const s = String(v)
    if (!/^-?\d+$/.test(s)) return undefined
    params.push(writer.kind === 'mysql' && !Number.isSafeInteger(Number(s)) ? BigInt(s) : writer.kind === 'postgres' ? s : Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s))
    return ph()
  }
  const parts: string[] = []
  if (r.lower !== undefined && r.lower !== null) {
    const x = bind(r.lower)
    if (!x) return undefined
    parts.push(`${col} ${r.lowerInclusive === false ? '>' : '>='} ${x}`)
  }
  if (r.upper !== undefined && r.upper !== null) {
    const x = bind(r.upper)
    if (!x) return undefined
    parts.push(`${col} ${r.upperInclusive ? '<=' : '<'} ${x}`)
  }
  let pred = parts.length ? parts.join(' AND ') : `${col} IS NOT NULL`
  if (r.includeNull) pred = `(${pred}) OR ${col} IS NULL`
  return { sql: pred, params }
}
