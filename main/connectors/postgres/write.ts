/**
 * The PostgreSQL writer: COPY FROM STDIN (text format) on one dedicated connection, each `write`
 * in its own transaction, bad rows narrowed inside savepoints and reported as dirty rows.
 *
 * - insert: `COPY t (cols) FROM STDIN`; a duplicate key is a dirty row (23505).
 * - update / replace: COPY into a temporary stage table, then
 *   `INSERT INTO t (cols) SELECT cols FROM stage ON CONFLICT (key) DO UPDATE SET <non-key> =
 *   EXCLUDED.<non-key>`. Both modes upsert; columns not written keep their stored values (unlike
 *   MySQL REPLACE, which resets them to defaults). With only key columns: `DO NOTHING`.
 *   Two rows of one batch with the same key make PostgreSQL refuse the statement (21000); narrowing
 *   then applies them one after the other, so the last one wins, as with row-by-row upserts.
 *   The stage (`CREATE TEMP TABLE sluice_stage ON COMMIT DELETE ROWS AS SELECT cols FROM t WITH
 *   NO DATA`: the target's column types, no constraints) is created once when the writer opens, not
 *   per batch: creating and dropping a temp table per transaction (ON COMMIT DROP) churns pg_class /
 *   pg_attribute and bloats the system catalogs over a long load. It is emptied after every attempt.
 *
 * Narrowing: every attempt runs inside `SAVEPOINT`; on a row error (SQLSTATE classes 21, 22, 23,
 * 54 and P0001 raised by triggers) the attempt is rolled back to the savepoint and the rows are cut:
 * when COPY names the failing line (`COPY t, line N[, column c]`) for a per-row check (data
 * exceptions, NOT NULL, unique, CHECK, exclusion) that row is dirty, the rows before it are retried
 * in one attempt and the rows after it in two halves (rows keep their order: of two duplicate keys
 * the first lands); otherwise the rows are bisected down to single bad rows. Good rows are
 * committed. Measured on one batch of 40,000 rows with 13,333 refused by a CHECK: 7-13 s, against
 * 15-24 s when each bad row re-sent the whole rest of the batch (2-core VM under load).
 * `SET CONSTRAINTS ALL IMMEDIATE` makes deferred constraints fail inside the attempt too.
 * Any other error (connection lost, relation missing, permission denied, cancel) rolls the whole
 * transaction back and is thrown: nothing of that `write` is committed.
 *
 * Values are converted per target column (see {@link encodeCopyField}): numbers/bigints/decimal
 * strings into numeric as their exact text, booleans into integer columns as 1/0, Buffers into
 * bytea as hex. A datetime (no zone) written into timestamptz is interpreted by PostgreSQL in the
 * session time zone (UTC unless `connection.timezone` says otherwise). Text holding NUL (U+0000),
 * which PostgreSQL cannot store, is a dirty row (22021), never stripped.
 */
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Row } from '../../core/types.js'
import type { DirtyRow, WriteOutcome, WriteSpec } from '../types.js'
import type { RawBatch, RawTarget, RawWriter } from '../raw.js'
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER, pgBinaryTypeOf, type PgBinaryType } from '../pg-binary.js'
import { createCatalog } from './catalog.js'
import { EncodedRows, encodeCopyRow, quoteIdent, quoteLiteral, ValueEncodeError } from './copy-text.js'
import { errorCode, type PgSession } from './session.js'
import { quoteTableRef } from './read.js'
import { encodeKindOf } from './types.js'
import { abortError } from '../abort.js'

const STAGE = 'sluice_stage'

/** Whether an error is about the rows written (narrow to dirty rows) rather than the connection or schema. */
export function isRowError(e: unknown): boolean {
  const c = errorCode(e)
  if (!c || c.length !== 5) return false
  const cls = c.slice(0, 2)
  return cls === '21' || cls === '22' || cls === '23' || cls === '54' || c === 'P0001'
}

/** Codes whose COPY line number reliably names the failing row (checked while the row is inserted). */
function lineIsExact(code: string | undefined): boolean {
  return !!code && (code.startsWith('22') || code === '23502' || code === '23505' || code === '23514' || code === '23P01')
}

interface PgErr {
  message: string
  code?: string
  detail?: string
  column?: string
  where?: string
}

/** Parse `COPY t, line N[, column c: ...]` from an error's `where`: the 1-based line and the column (one of `columns`). */
export function copyErrorPosition(where: string | undefined, columns: readonly string[]): { line?: number; column?: string } {
  if (!where) return {}
  const m = /COPY .*?, line (\d+)(?:, column (.*))?/.exec(where)
  if (!m) return {}
  const out: { line?: number; column?: string } = { line: Number(m[1]) }
  if (m[2] !== undefined) {
    // pick the longest known column name the text starts with (names may contain ':' or ', ')
    let best: string | undefined
    for (const c of columns) if ((m[2] === c || m[2].startsWith(c + ':')) && (!best || c.length > best.length)) best = c
    if (best) out.column = best
  }
  return out
}

function dirtyFrom(index: number, e: unknown, columns: readonly string[]): DirtyRow {
  const err = e as PgErr
  const d: DirtyRow = { index, reason: err.detail ? `${err.message} (${err.detail})` : err.message }
  if (err.code) d.code = err.code
  let column = err.column ?? copyErrorPosition(err.where, columns).column
  if (!column && err.detail) {
    const m = /^Key \(([^,()]+)\)=/.exec(err.detail)
    if (m && columns.includes(m[1])) column = m[1]
  }
  if (column) {
    d.column = column
    // PostgreSQL's messages often omit the column ("value too long for type character varying(5)"): name it.
    if (!d.reason.includes(column)) d.reason = `column ${column}: ${d.reason}`
  }
  return d
}

/**
 * A `COPY ... FROM STDIN` stream (pg-copy-streams) whose messages go out in as few socket writes
 * as possible: pg-copy-streams writes each CopyData as two buffers (its 5-byte header, then the
 * chunk) and CopyDone as a third; on loopback each write is a system call that also runs the
 * receiving end's TCP path, about 0.3 ms here, which on 300 small tables was a second of CPU.
 * The socket is corked while a flush runs and uncorked on the next tick, so a batch whose chunks
 * were written before PostgreSQL's CopyInResponse (all of a small one) and its CopyDone leave in
 * one writev. The bytes on the wire are the same.
 */
function corkedCopyFrom(sql: string): ReturnType<typeof copyFrom> {
  const stream = copyFrom(sql)
  const s = stream as unknown as { flush(cb?: () => void): void; connection?: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } } }
  const flush = s.flush.bind(stream)
  s.flush = (cb) => {
    const sock = s.connection?.stream
    if (!sock) return flush(cb)
    sock.cork()
    try {
      flush(cb)
    } finally {
      process.nextTick(() => sock.uncork())
    }
  }
  return stream
}

/** `data` in slices of 1 MiB (views, no copy). */
function* slices(data: Buffer): Generator<Buffer> {
  for (let off = 0; off < data.length; off += 1 << 20) yield data.subarray(off, Math.min(data.length, off + (1 << 20)))
}


/**
 * Open a writer on a dedicated connection. Checks that the table exists (throws NotFoundError)
 * and, for update/replace, resolves the key (spec.keyColumns ?? primary key; throws when none).
 */
export async function openWriter(session: PgSession, spec: WriteSpec, defaultSchema: string): Promise<RawWriter> {
  const client = await session.dedicatedClient()
  try {
    const table = quoteTableRef(spec.table, defaultSchema)
    const names = spec.columns.map((c) => c.name)
    if (!names.length) throw new Error(`writer ${table}: no columns to write`)
    const kinds = spec.columns.map((c) => encodeKindOf(c.type))
    const colList = names.map(quoteIdent).join(', ')
    const upsert = spec.writeMode === 'update' || spec.writeMode === 'replace'
    // The engine's columns are the catalog's own when it says so (WriteSpec.columnsFromCatalog);
    // otherwise the table is read here: its columns must exist and their real types decide the
    // binary COPY form.
    const trusted = spec.columnsFromCatalog && (!upsert || !!spec.keyColumns?.length)
    const schema = trusted ? { columns: spec.columns, primaryKey: spec.keyColumns ?? [] } : await createCatalog(() => client, defaultSchema).table(spec.table)
    for (const n of names) if (!schema.columns.some((c) => c.name === n)) throw new Error(`writer ${table}: column "${n}" does not exist`)
    let upsertSql = ''
    if (upsert) {
      const keys = spec.keyColumns?.length ? spec.keyColumns : schema.primaryKey
      if (!keys.length) throw new Error(`writer ${table}: writeMode ${spec.writeMode} needs key columns (the table has no primary key)`)
      for (const k of keys) if (!names.includes(k)) throw new Error(`writer ${table}: key column "${k}" is not among the written columns`)
      const rest = names.filter((n) => !keys.includes(n))
      const action = rest.length ? `DO UPDATE SET ${rest.map((n) => `${quoteIdent(n)} = EXCLUDED.${quoteIdent(n)}`).join(', ')}` : 'DO NOTHING'
      upsertSql = `INSERT INTO ${table} (${colList}) SELECT ${colList} FROM pg_temp.${STAGE} ON CONFLICT (${keys.map(quoteIdent).join(', ')}) ${action}`
    }
    const copySql = `COPY ${upsert ? `pg_temp.${STAGE}` : table} (${colList}) FROM STDIN`
    if (upsert) await client.query(`CREATE TEMP TABLE ${STAGE} ON COMMIT DELETE ROWS AS SELECT ${colList} FROM ${table} WITH NO DATA`)
    // The binary COPY form of every written column, from the table as it is (its real types).
    const types = names.map((n) => pgBinaryTypeOf(schema.columns.find((c) => c.name === n)!))
    const target: RawTarget | undefined = types.every((t): t is PgBinaryType => t !== undefined) ? { format: 'pgbinary', types } : undefined
    const w = new PgWriter(client, table, names, kinds, copySql, upsert ? upsertSql : undefined, target, session)
    if (spec.firstSql) w.firstSql = spec.firstSql
    return w
  } catch (e) {
    await client.end().catch(() => {})
    throw e
  }
}

class PgWriter implements RawWriter {
  private closed = false
  private busy = false
  /** WriteSpec.firstSql until a transaction that ran it commits. */
  firstSql: { sql: string; params: unknown[] } | undefined
  /** {@link writeRaw} takes `format: 'csv'` batches through `COPY ... (FORMAT csv)`. */
  readonly takesCsv = true

  constructor(
    private readonly client: pg.Client,
    private readonly table: string,
    private readonly names: string[],
    private readonly kinds: ReturnType<typeof encodeKindOf>[],
    private readonly copySql: string,
    private readonly upsertSql: string | undefined,
    private readonly target: RawTarget | undefined,
    private readonly session?: PgSession,
  ) {}

  /** The binary COPY types of the written columns, when all have one (main/connectors/pg-binary.ts). */
  rawTarget(): RawTarget | undefined {
    return this.target
  }

  async write(rows: Row[], signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) throw new Error(`writer ${this.table}: closed`)
    if (this.busy) throw new Error(`writer ${this.table}: write() called while another write is running`)
    if (signal?.aborted) throw abortError('write')
    this.busy = true
    try {
      return await this.writeTx(rows, signal)
    } finally {
      this.busy = false
    }
  }

  private async writeTx(rows: Row[], signal?: AbortSignal): Promise<WriteOutcome> {
    const dirty: DirtyRow[] = []
    const lines = new EncodedRows(rows.length)
    const todo: number[] = []
    for (let i = 0; i < rows.length; i++) {
      try {
        lines.add(i, encodeCopyRow(rows[i], this.kinds))
        todo.push(i)
      } catch (e) {
        if (!(e instanceof ValueEncodeError)) throw e
        const ci = (e as ValueEncodeError & { columnIndex?: number }).columnIndex
        const column = ci !== undefined ? this.names[ci] : undefined
        dirty.push({ index: i, reason: column ? `column "${column}": ${e.message}` : e.message, code: e.code, ...(column ? { column } : {}) })
      }
    }
    if (!todo.length) return { written: 0, dirty }
    const c = this.client
    let written = 0
    await c.query('BEGIN; SET CONSTRAINTS ALL IMMEDIATE')
    try {
      if (this.firstSql) await c.query(this.firstSql.sql, this.firstSql.params)
      // Work list of row-index ranges still to attempt (processed front to back, in row order).
      const queue: number[][] = [todo]
      while (queue.length) {
        if (signal?.aborted) throw abortError('write')
        const idx = queue.shift()!
        if (!idx.length) continue
        await c.query('SAVEPOINT sluice_w')
        let phase: 'copy' | 'upsert' = 'copy'
        try {
          await this.copy(idx, lines, signal)
          if (this.upsertSql) {
            phase = 'upsert'
            await c.query(this.upsertSql)
            await c.query(`TRUNCATE pg_temp.${STAGE}`)
          }
          await c.query('RELEASE SAVEPOINT sluice_w')
          written += idx.length
        } catch (e) {
          if (signal?.aborted) throw abortError('write')
          if (!isRowError(e)) throw e
          await c.query('ROLLBACK TO SAVEPOINT sluice_w; RELEASE SAVEPOINT sluice_w')
          if (idx.length === 1) {
            dirty.push(dirtyFrom(idx[0], e, this.names))
            continue
          }
          const err = e as PgErr
          const line = phase === 'copy' && lineIsExact(err.code) ? copyErrorPosition(err.where, this.names).line : undefined
          if (line !== undefined && line >= 1 && line <= idx.length) {
            // The rows before the named line passed their checks: they go in one attempt. The rest
            // is halved, so a batch dense with bad rows costs O(n log n) rows sent, not O(n x bad)
            // (re-sending the whole rest after each bad row took minutes for 25,707 bad rows).
            dirty.push(dirtyFrom(idx[line - 1], e, this.names))
            const rest = idx.slice(line)
            const half = rest.length >>> 1
            queue.unshift(idx.slice(0, line - 1), ...(rest.length > 64 ? [rest.slice(0, half), rest.slice(half)] : [rest]))
          } else {
            const mid = idx.length >>> 1
            queue.unshift(idx.slice(0, mid), idx.slice(mid))
          }
        }
      }
      await c.query('COMMIT')
      this.firstSql = undefined
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {})
      const err = e as Error
      if (err && typeof err.message === 'string' && err.name !== 'AbortError') err.message = `write ${this.table}: ${err.message}`
      throw e
    }
    dirty.sort((a, b) => a.index - b.index)
    return { written, dirty }
  }

  /**
   * The raw path (main/connectors/raw.ts): the batch's COPY text (or binary COPY tuples, or CSV
   * records with their options: `FORMAT csv`) sent as is (1 MiB messages) in
   * one transaction, upserted through the stage table like {@link write}. A row error rolls the
   * whole batch back and resolves `null` (the caller narrows it with {@link write}); the count
   * PostgreSQL reports must equal the batch's lines.
   */
  async writeRaw(batch: RawBatch, signal?: AbortSignal): Promise<WriteOutcome | null> {
    if (this.closed) throw new Error(`writer ${this.table}: closed`)
    if (this.busy) throw new Error(`writer ${this.table}: write() called while another write is running`)
    if (signal?.aborted) throw abortError('write')
    if (!batch.rows) return { written: 0, dirty: [] }
    this.busy = true
    const c = this.client
    try {
      // Without a first statement, BEGIN goes in the COPY's own query string (one round trip less
      // per batch; PostgreSQL runs a multi-statement simple query up to the COPY, then copy-in).
      let begin = 'BEGIN; SET CONSTRAINTS ALL IMMEDIATE; '
      if (this.firstSql) {
        await c.query(begin)
        begin = ''
      }
      try {
        if (this.firstSql) await c.query(this.firstSql.sql, this.firstSql.params)
        const binary = batch.format === 'pgbinary'
        if (binary && !this.target) throw new Error(`writer ${this.table}: a binary COPY batch for a table without binary column types`)
        const csv = batch.format === 'csv' ? batch.csv : undefined
        if (batch.format === 'csv' && !csv) throw new Error(`writer ${this.table}: a csv batch without its options`)
        const sql = binary ? `${this.copySql} (FORMAT binary)` : csv ? `${this.copySql} (FORMAT csv, DELIMITER ${quoteLiteral(csv.delimiter)}, QUOTE ${quoteLiteral(csv.quote)}, ESCAPE ${quoteLiteral(csv.quote)}, NULL ${quoteLiteral(csv.null)})` : this.copySql
        const stream = c.query(corkedCopyFrom(`${begin}${sql}`))
        const parts = binary ? [COPY_BINARY_HEADER, ...slices(batch.data), COPY_BINARY_TRAILER] : slices(batch.data)
        await pipeline(Readable.from(parts, { objectMode: false }), stream, signal ? { signal } : {})
        if (stream.rowCount !== batch.rows) throw new Error(`COPY took ${stream.rowCount} rows of a batch of ${batch.rows}`)
        if (this.upsertSql) {
          await c.query(this.upsertSql)
          await c.query(`TRUNCATE pg_temp.${STAGE}`)
        }
        await c.query('COMMIT')
        this.firstSql = undefined
        return { written: batch.rows, dirty: [] }
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {})
        if (signal?.aborted) throw abortError('write')
        if (isRowError(e)) return null
        const err = e as Error
        if (err && typeof err.message === 'string') err.message = `write ${this.table}: ${err.message}`
        throw e
      }
    } finally {
      this.busy = false
    }
  }

  /** COPY the given rows (by index), sent as Buffers of about 512 KiB. */
  private async copy(idx: number[], lines: EncodedRows, signal?: AbortSignal): Promise<void> {
    const stream = this.client.query(corkedCopyFrom(this.copySql))
    await pipeline(Readable.from(lines.pieces(idx), { objectMode: false }), stream, signal ? { signal } : {})
  }

  /**
   * End the writer. Its client goes back to the session for the next writer when it is clean: not
   * in a write (an aborted write's client is ended), and no stage table (upsert writers end theirs).
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.session && !this.busy && !this.upsertSql) await this.session.giveBack(this.client)
    else await this.client.end().catch(() => {})
  }
}
