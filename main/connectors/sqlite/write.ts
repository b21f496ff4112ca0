/**
 * The SQLite writer: prepared multi-row INSERTs on a dedicated handle, each `write` in one
 * `BEGIN IMMEDIATE ... COMMIT` transaction, bad rows narrowed and reported as dirty rows.
 *
 * Statements (prepared once per writer):
 * - a multi-row `INSERT ... VALUES (?,...),(?,...)...` with as many rows as fit under SQLite's
 *   32,766 bound-variable limit (SQLITE_MAX_VARIABLE_NUMBER since 3.32);
 * - a 64-row statement for what remains of a batch (so a batch smaller than the big statement
 *   still goes in multi-row statements), and a single-row statement for the rest and for narrowing.
 * writeMode:
 * - insert: `INSERT INTO`; a key conflict is a dirty row (SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE).
 * - replace: `INSERT OR REPLACE INTO`, DataX's mysqlwriter `replace` semantics (REPLACE INTO):
 *   a row conflicting on the primary key *or any unique index* is deleted, then the new row is
 *   inserted; columns not written take their defaults (not their old values); the rowid changes;
 *   delete triggers fire only under `recursive_triggers`, and foreign keys are off during loads, so
 *   no cascades happen.
 * - update: `INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c` for every written non-key
 *   column (DataX `update` = MySQL's ON DUPLICATE KEY UPDATE); columns not written keep their
 *   stored values; with only key columns, `DO NOTHING`. The key (spec.keyColumns ?? primary key)
 *   must match a PRIMARY KEY or UNIQUE index, else opening the writer throws.
 *
 * Narrowing: SQLite rolls back only the failing statement on a constraint error (ABORT, the
 * default conflict resolution, "The ON CONFLICT Clause"), so the transaction continues: a failed
 * multi-row statement is retried row by row with the single-row statement, and each failing row is
 * a dirty row with the error's message, code (SQLITE_CONSTRAINT_NOTNULL, _UNIQUE, _PRIMARYKEY,
 * _CHECK, _DATATYPE in STRICT tables, _TRIGGER, SQLITE_MISMATCH, SQLITE_TOOBIG) and the column the
 * message names. Values are validated and converted before any statement ({@link encoderFor}):
 * values SQLite would silently change are dirty rows too (code SQLITE_MISMATCH / SQLITE_TOOBIG).
 * Any other error (SQLITE_BUSY after the busy timeout, SQLITE_READONLY, SQLITE_FULL, I/O, a table
 * dropped meanwhile) rolls the transaction back and is thrown: nothing of that `write` is committed.
 */
import type Database from 'better-sqlite3'
import type { Row } from '../../core/types.js'
import type { DirtyRow, WriteOutcome, WriteSpec, Writer } from '../types.js'
import { findRelation, relationColumns } from './catalog.js'
import { quoteTableRef } from './read.js'
import { errorCode, quoteIdent, type SqliteSession } from './session.js'
import { encoderFor, ValueError, type Bindable, type Encoder } from './values.js'
import { abortError } from '../abort.js'

/** SQLite's default (and better-sqlite3's build) limit on bound variables per statement. */
export const MAX_VARIABLES = 32_766
/** Rows per statement of the middle tier (the remainder of a batch). */
export const MEDIUM_ROWS_PER_INSERT = 64

/** Whether an SQLite error is about the row written (narrow to a dirty row) rather than the database. */
export function isRowError(e: unknown): boolean {
  const c = errorCode(e)
  if (!c) return false
  return c.startsWith('SQLITE_CONSTRAINT') || c === 'SQLITE_MISMATCH' || c === 'SQLITE_TOOBIG' || c === 'SQLITE_RANGE'
}

/**
 * The column an SQLite error message names, among `columns`: `NOT NULL constraint failed: t.c`,
 * `UNIQUE constraint failed: t.a, t.b` (the first), `cannot store TEXT value in INTEGER column t.c`,
 * `CHECK constraint failed: c` (when the constraint text is a column name).
 */
export function errorColumn(message: string, columns: readonly string[]): string | undefined {
  const m = /(?:constraint failed: |column )(.+)$/.exec(message)
  if (!m) return undefined
  const first = m[1]!.split(', ')[0]!.trim()
  let best: string | undefined
  for (const c of columns) if ((first === c || first.endsWith(`.${c}`)) && (!best || c.length > best.length)) best = c
  return best
}


/**
 * Open a writer on its own handle. Checks that the table exists (NotFoundError) and has every
 * written column, resolves the key for update/replace, and prepares the statements (so a key
 * without a matching unique index, or a generated column among the written ones, throws here).
 */
export async function openWriter(session: SqliteSession, spec: WriteSpec, defaultSchema: string): Promise<Writer> {
  const handle = session.borrow('write')
  try {
    const db = handle.db
    const rel = findRelation(db, spec.table, defaultSchema)
    const table = quoteTableRef({ schema: rel.schema, name: rel.name }, defaultSchema)
    if (rel.type !== 'table') throw new Error(`writer ${table}: is a view, not a table`)
    const names = spec.columns.map((c) => c.name)
    if (!names.length) throw new Error(`writer ${table}: no columns to write`)
    const { columns: actual, primaryKey } = relationColumns(db, rel)
    const encoders: Encoder[] = spec.columns.map((c) => {
      const a = actual.find((x) => x.name === c.name) ?? actual.find((x) => x.name.toLowerCase() === c.name.toLowerCase())
      if (!a) throw new Error(`writer ${table}: column "${c.name}" does not exist`)
      return encoderFor(c.type, a.affinity)
    })
    const colList = names.map(quoteIdent).join(', ')
    let head = `INSERT INTO ${table} (${colList}) VALUES `
    let tail = ''
    if (spec.writeMode === 'replace') head = `INSERT OR REPLACE INTO ${table} (${colList}) VALUES `
    if (spec.writeMode === 'update') {
      const keys = spec.keyColumns?.length ? spec.keyColumns : primaryKey
      if (!keys.length) throw new Error(`writer ${table}: writeMode update needs key columns (the table has no primary key)`)
      for (const k of keys) if (!names.includes(k)) throw new Error(`writer ${table}: key column "${k}" is not among the written columns`)
      const rest = names.filter((n) => !keys.includes(n))
      tail = ` ON CONFLICT (${keys.map(quoteIdent).join(', ')}) ${rest.length ? `DO UPDATE SET ${rest.map((n) => `${quoteIdent(n)} = excluded.${quoteIdent(n)}`).join(', ')}` : 'DO NOTHING'}`
    }
    const tuple = `(${names.map(() => '?').join(', ')})`
    const big = Math.max(1, Math.floor(MAX_VARIABLES / names.length))
    const sizes = [...new Set([big, Math.min(big, MEDIUM_ROWS_PER_INSERT), 1])]
    const tiers = sizes.map((n) => ({ rows: n, stmt: db.prepare(head + Array.from({ length: n }, () => tuple).join(', ') + tail), flat: new Array<Bindable>(n * names.length) }))
    const w = new SqliteWriter(db, handle.release, table, names, encoders, tiers)
    if (spec.firstSql) w.firstSql = spec.firstSql
    return w
  } catch (e) {
    handle.release()
    throw e
  }
}

class SqliteWriter implements Writer {
  private closed = false
  /** WriteSpec.firstSql until a transaction that ran it commits. */
  firstSql: { sql: string; params: unknown[] } | undefined
  private readonly begin: Database.Statement
  private readonly commit: Database.Statement
  private readonly rollback: Database.Statement

  constructor(
    private readonly db: Database.Database,
    private readonly release: () => void,
    private readonly table: string,
    private readonly names: string[],
    private readonly encoders: Encoder[],
    /** Multi-row statements, largest first; the last one is single-row. */
    private readonly tiers: Array<{ rows: number; stmt: Database.Statement; flat: Bindable[] }>,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE')
    this.commit = db.prepare('COMMIT')
    this.rollback = db.prepare('ROLLBACK')
  }

  /** Write `rows` (values in the spec's column order) in one transaction; see the module comment. */
  async write(rows: Row[], signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) throw new Error(`writer ${this.table}: closed`)
    if (signal?.aborted) throw abortError('write')
    const dirty: DirtyRow[] = []
    const ncol = this.names.length
    // Encode every row first: value errors become dirty rows without touching the database.
    const good: number[] = []
    const encoded: Bindable[][] = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      if (row.length !== ncol) {
        dirty.push({ index: i, reason: `row has ${row.length} values, expected ${ncol}`, code: 'SQLITE_RANGE' })
        continue
      }
      const out: Bindable[] = new Array(ncol)
      let bad: DirtyRow | undefined
      for (let j = 0; j < ncol; j++) {
        try {
          out[j] = this.encoders[j]!(row[j]!)
        } catch (e) {
          if (!(e instanceof ValueError)) throw e
          bad = { index: i, reason: `column "${this.names[j]}": ${e.message}`, code: e.code, column: this.names[j]! }
          break
        }
      }
      if (bad) dirty.push(bad)
      else {
        encoded[i] = out
        good.push(i)
      }
    }
    if (!good.length) return { written: 0, dirty }

    const db = this.db
    let written = 0
    try {
      this.begin.run()
      if (this.firstSql) db.prepare(this.firstSql.sql).run(...(this.firstSql.params as Bindable[]))
      let k = 0
      for (const tier of this.tiers) {
        if (tier.rows === 1) break
        const flat = tier.flat
        while (good.length - k >= tier.rows) {
          if (signal?.aborted) throw abortError('write')
          let p = 0
          for (let r = 0; r < tier.rows; r++) {
            const vals = encoded[good[k + r]!]!
            for (let j = 0; j < ncol; j++) flat[p++] = vals[j]!
          }
          try {
            tier.stmt.run(flat)
            written += tier.rows
          } catch (e) {
            if (!isRowError(e) || !db.inTransaction) throw e
            written += this.rowByRow(good.slice(k, k + tier.rows), encoded, dirty)
          }
          k += tier.rows
        }
      }
      if (k < good.length) written += this.rowByRow(good.slice(k), encoded, dirty)
      if (signal?.aborted) throw abortError('write')
      this.commit.run()
      this.firstSql = undefined
    } catch (e) {
      if (db.inTransaction) {
        try {
          this.rollback.run()
        } catch {
          // already rolled back by SQLite
        }
      }
      const err = e as Error
      if (err && typeof err.message === 'string' && err.name !== 'AbortError') err.message = `write ${this.table}: ${err.message}`
      throw e
    }
    dirty.sort((a, b) => a.index - b.index)
    return { written, dirty }
  }

  /** Insert rows one at a time; row errors become dirty rows, other errors are thrown. Returns rows written. */
  private rowByRow(idx: number[], encoded: Bindable[][], dirty: DirtyRow[]): number {
    let n = 0
    for (const i of idx) {
      try {
        this.tiers[this.tiers.length - 1]!.stmt.run(encoded[i]!)
        n++
      } catch (e) {
        if (!isRowError(e) || !this.db.inTransaction) throw e
        const err = e as Error
        const d: DirtyRow = { index: i, reason: err.message }
        const code = errorCode(e)
        if (code) d.code = code
        const column = errorColumn(err.message, this.names)
        if (column) d.column = column
        dirty.push(d)
      }
    }
    return n
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.db.open && this.db.inTransaction) {
      try {
        this.rollback.run()
      } catch {
        // nothing to roll back
      }
    }
    this.release()
  }
}
