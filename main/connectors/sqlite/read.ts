/**
 * Reads: describe, splits and streaming reads over better-sqlite3.
 *
 * A read prepares `SELECT cols FROM t WHERE <range> AND (<where>)` with the range bounds bound as
 * parameters, and iterates it with `raw(true)` and `safeIntegers(true)` (an INTEGER never passes
 * through a double), decoding each value per column ({@link decoderFor}). The driver is
 * synchronous: rows are pulled into a batch until `batchBytes` is reached, then the batch is
 * yielded and the generator gives the event loop a turn (`setImmediate`) before pulling more, so a
 * long read does not starve timers, IPC or progress events; `opts.signal` is checked there.
 */
import { canonicalInt, orderByClause, integerBoundaries, sameBoundary, splitConditions, splitFractions, splitsFromBoundaries, type SplitOptions } from '../splits.js'
import type Database from 'better-sqlite3'
import type { LogicalType, Row, RowBatch, TableRef, Value } from '../../core/types.js'
import { approxValueBytes } from '../../core/types.js'
import type { ReadOptions, ReadSpec, ResultColumn, Split } from '../types.js'
import { findRelation, relationColumns, type SqliteColumn } from './catalog.js'
import { quoteIdent, type SqliteSession } from './session.js'
import { affinityOf, parseDeclaredType, type Affinity } from './types.js'
import { decoderFor, type Decoder } from './values.js'
import { abortError } from '../abort.js'

/** Default batch size: 4 MiB of approximate value bytes. */
export const DEFAULT_BATCH_BYTES = 4 << 20

/** `"schema"."table"` with the default schema filled in. */
export function quoteTableRef(ref: TableRef, defaultSchema: string): string {
  return `${quoteIdent(ref.schema ?? defaultSchema)}.${quoteIdent(ref.name)}`
}

/** Strip trailing semicolons and whitespace from a free query. */
export function stripQuery(sql: string): string {
  return sql.replace(/[\s;]+$/, '')
}

/** A result column with the affinity its decoder needs. */
export interface ReadColumn extends ResultColumn {
  affinity: Affinity
}

/** Result columns of a prepared statement: declared types of table columns, `other('')` for expressions. */
export function statementColumns(stmt: Database.Statement): ReadColumn[] {
  return stmt.columns().map((c) => {
    const type: LogicalType = parseDeclaredType(c.type)
    return { name: c.name, type, nativeType: c.type ?? '', affinity: affinityOf(c.type) }
  })
}

/** The table's columns chosen by `read.columns` (all when empty); a missing one throws naming table and column. */
export function tableReadColumns(db: Database.Database, read: ReadSpec, defaultSchema: string): { columns: SqliteColumn[]; all: SqliteColumn[]; primaryKey: string[]; table: TableRef } {
  if (!read.table) throw new Error('read: either table or querySql is required')
  const rel = findRelation(db, read.table, defaultSchema)
  const { columns: all, primaryKey } = relationColumns(db, rel)
  const table = { schema: rel.schema, name: rel.name }
  if (!read.columns?.length) return { columns: all, all, primaryKey, table }
  const columns = read.columns.map((name) => {
    const c = all.find((x) => x.name === name) ?? all.find((x) => x.name.toLowerCase() === name.toLowerCase())
    if (!c) throw new Error(`read: column "${name}" does not exist in table "${rel.schema}"."${rel.name}"`)
    return c
  })
  return { columns, all, primaryKey, table }
}

/** Column metadata of a read: the table's (chosen) columns, or the columns of `querySql`'s prepared statement. */
export function describeRead(db: Database.Database, read: ReadSpec, defaultSchema: string): ReadColumn[] {
  if (read.querySql) return statementColumns(db.prepare(stripQuery(read.querySql)))
  return tableReadColumns(db, read, defaultSchema).columns.map((c) => ({ name: c.name, type: c.type, nativeType: c.nativeType, affinity: c.affinity }))
}

/** A split bound as a parameter: digit strings of an INTEGER-affinity key as BigInt, integral numbers as BigInt. */
function bindBound(v: Value, keyAffinity: Affinity): unknown {
  if (typeof v === 'string' && keyAffinity === 'INTEGER' && /^-?\d+$/.test(v)) return BigInt(v)
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
  if (typeof v === 'boolean') return v ? 1n : 0n
  return v
}

/** The WHERE clause (with bound parameters) of a split: its range ANDed with `(read.where)`. */
export function splitWhere(split: Split, keyAffinity: Affinity): { sql: string; params: unknown[] } {
  const params: unknown[] = []
  const conds = splitConditions(split, quoteIdent, (v) => (params.push(bindBound(v, keyAffinity)), '?'))
  return { sql: conds.length ? ` WHERE ${conds.join(' AND ')}` : '', params }
}


const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Stream one split as canonical rows in batches of about `opts.batchBytes` (default 4 MiB; a batch
 * exceeds it by at most one row). Runs on its own read-only handle (see {@link SqliteSession.borrow}),
 * closed when the generator ends, breaks or fails. Errors are re-thrown with the table and split
 * index prefixed, keeping the SQLite `code`.
 */
export async function* readSplit(session: SqliteSession, split: Split, opts: ReadOptions | undefined, defaultSchema: string): AsyncGenerator<RowBatch> {
  const signal = opts?.signal
  const batchBytes = opts?.batchBytes && opts.batchBytes > 0 ? opts.batchBytes : DEFAULT_BATCH_BYTES
  const read = split.read
  const what = read.querySql ? `querySql split ${split.index}` : `table ${quoteTableRef(read.table ?? { name: '?' }, defaultSchema)} split ${split.index}`
  if (signal?.aborted) throw abortError('read', signal)
  const handle = session.borrow('read')
  let iter: IterableIterator<unknown[]> | undefined
  try {
    let stmt: Database.Statement
    let params: unknown[] = []
    let columns: ReadColumn[]
    if (read.querySql) {
      stmt = handle.db.prepare(stripQuery(read.querySql))
      if (!stmt.reader) throw new Error('querySql must be a statement that returns rows (SELECT, WITH, VALUES, PRAGMA...)')
      columns = statementColumns(stmt)
    } else {
      const t = tableReadColumns(handle.db, read, defaultSchema)
      columns = t.columns
      const key = split.range ? t.all.find((c) => c.name === split.range!.column) : undefined
      if (split.range && !key) throw new Error(`split column "${split.range.column}" does not exist`)
      const w = splitWhere(split, key?.affinity ?? 'BLOB')
      params = w.params
      stmt = handle.db.prepare(`SELECT ${columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteTableRef(t.table, defaultSchema)}${w.sql}${orderByClause(read)}`)
    }
    const decoders: Decoder[] = columns.map((c) => decoderFor(c.type, c.affinity))
    const n = decoders.length
    stmt.safeIntegers(true)
    stmt.raw(true)
    iter = stmt.iterate(...params) as IterableIterator<unknown[]>
    let rows: Row[] = []
    let bytes = 0
    for (;;) {
      const next = iter.next()
      if (next.done) break
      const src = next.value
      const row: Row = new Array(n)
      for (let i = 0; i < n; i++) {
        const v = decoders[i]!(src[i])
        row[i] = v
        bytes += approxValueBytes(v)
      }
      rows.push(row)
      if (bytes >= batchBytes) {
        const batch = { rows, approxBytes: bytes }
        rows = []
        bytes = 0
        yield batch
        await tick()
        if (signal?.aborted) throw abortError('read', signal)
      }
    }
    iter = undefined
    if (rows.length) yield { rows, approxBytes: bytes }
  } catch (e) {
    if (signal?.aborted) throw abortError('read', signal)
    const err = e as Error
    if (err && typeof err.message === 'string' && !err.message.startsWith('read ')) err.message = `read ${what}: ${err.message}`
    throw err
  } finally {
    try {
      iter?.return?.()
    } catch {
      // the statement is reset with the handle
    }
    handle.release()
  }
}

/**
 * Cut a table read into at most `count` splits on its splitPk (read.splitPk ?? the single-column
 * primary key; none: one split). One split (no range) for querySql, count <= 1, no usable key or
 * no rows.
 *
 * - Integer keys (int kind with INTEGER affinity, e.g. a rowid alias): the smallest and largest
 *   INTEGER keys (by ordered index walks, `ORDER BY k LIMIT 1`), then `count` equal ranges computed
 *   with BigInt; bounds are canonical ints.
 * - Any other key: boundaries sampled in key order with `ORDER BY k LIMIT 1 OFFSET ?` at
 *   `i * rows / count`, deduplicated; bounds keep their storage class (text, number, bigint, Buffer).
 * Ranges are [lower, upper): the first split has no lower bound and the last no upper bound and
 * also reads NULL keys. SQLite orders all values totally (numbers < text < blob, text by the
 * column's collation, used alike by ORDER BY and the range comparisons), so every row falls in
 * exactly one split even when a column mixes storage classes (a REAL or 'abc' in an INTEGER key
 * lands in the range that orders it).
 */
export function planSplits(db: Database.Database, read: ReadSpec, count: number, defaultSchema: string, opts: SplitOptions = {}): Split[] {
  const single: Split[] = [{ index: 0, read }]
  if (read.querySql || count <= 1 || !read.table) return single
  const t = tableReadColumns(db, { table: read.table }, defaultSchema)
  let key = read.splitPk
  if (!key) {
    if (t.primaryKey.length !== 1) return single
    key = t.primaryKey[0]!
  }
  const keyCol = t.all.find((c) => c.name === key) ?? t.all.find((c) => c.name.toLowerCase() === key!.toLowerCase())
  if (!keyCol) throw new Error(`splitPk: column "${key}" does not exist in table "${t.table.schema}"."${t.table.name}"`)
  key = keyCol.name
  const table = quoteTableRef(t.table, defaultSchema)
  const col = quoteIdent(key)
  const where = read.where?.trim() ? ` AND (${read.where})` : ''
  const make = (bounds: Value[]): Split[] => splitsFromBoundaries(read, key!, bounds)

  if (keyCol.type.kind === 'int' && keyCol.affinity === 'INTEGER') {
    const lo = db.prepare(`SELECT ${col} FROM ${table} WHERE typeof(${col}) = 'integer'${where} ORDER BY ${col} LIMIT 1`).safeIntegers(true).pluck().get() as bigint | undefined
    const hi = db.prepare(`SELECT ${col} FROM ${table} WHERE typeof(${col}) = 'integer'${where} ORDER BY ${col} DESC LIMIT 1`).safeIntegers(true).pluck().get() as bigint | undefined
    if (lo === undefined || hi === undefined) return single
    return make(integerBoundaries(lo, hi, count, opts.tapered))
  }

  const total = db.prepare(`SELECT count(*) FROM ${table} WHERE ${col} IS NOT NULL${where}`).safeIntegers(false).pluck().get() as number
  if (!total) return single
  const at = db.prepare(`SELECT ${col} FROM ${table} WHERE ${col} IS NOT NULL${where} ORDER BY ${col} LIMIT 1 OFFSET ?`).safeIntegers(true).pluck()
  const bounds: Value[] = []
  for (const f of splitFractions(count, opts.tapered)) {
    const off = Math.floor(total * f)
    if (off <= 0 || off >= total) continue
    let v = at.get(off) as Value | undefined
    if (v === undefined || v === null) continue
    if (typeof v === 'bigint') v = canonicalInt(v)
    const last = bounds[bounds.length - 1]
    if (last !== undefined && sameBoundary(last, v)) continue
    bounds.push(v)
  }
  return make(bounds)
}

