/**
 * The MySQL writer: one dedicated connection, one transaction per `write(rows)`.
 *
 * Fast path: `LOAD DATA LOCAL INFILE` fed from memory (mysql2 `infileStreamFactory`), text as
 * utf8mb4 and binary columns as hex (see wire.ts). With LOCAL, MySQL/MariaDB downgrade data errors
 * and duplicate keys to warnings and skip or truncate (MySQL manual, "LOAD DATA", Duplicate-Key and
 * Error Handling), so after the load we require `Records == rows`, `Skipped == 0`,
 * `Warnings == 0` (and `affectedRows == rows` for insert); otherwise we ROLLBACK and redo the batch
 * on the strict path. For writeMode update the batch is loaded into a per-writer TEMPORARY table
 * (`CREATE TEMPORARY TABLE ... LIKE target`) and merged with `INSERT ... SELECT ... ON DUPLICATE
 * KEY UPDATE`, which runs in strict mode.
 *
 * Strict path (also used for good when local_infile is off or LOAD DATA is refused): multi-row
 * prepared `INSERT`/`REPLACE`/`INSERT ... ON DUPLICATE KEY UPDATE`, at most 65,535 placeholders
 * and ~4 MiB of values per statement, each statement under a SAVEPOINT. A statement that fails
 * with a row error (SQLSTATE class 22/23 or a known data errno), or leaves warnings (e.g. a
 * DECIMAL fraction rounded, reported as Note 1265), is rolled back to its savepoint and bisected
 * down to single rows; each bad row becomes a DirtyRow, the good rows are committed. Other errors
 * (connection lost, table missing, permission denied) roll back the whole batch and throw.
 *
 * Update mode updates every non-key column; note that MySQL's ON DUPLICATE KEY fires on any
 * unique key of the table, not only `keyColumns`.
 */
import { Readable } from 'node:stream'
import type { Column, Row, TableRef, Value } from '../../core/types.js'
import { approxValueBytes } from '../../core/types.js'
import type { DirtyRow, WriteOutcome, WriteSpec } from '../types.js'
import type { RawBatch, RawWriter } from '../raw.js'
import { quoteIdent } from './read.js'
import { cbQuery, type Session } from './session.js'
import { encodeTsv, toWire, ValueError, type WireColumn, wireColumns } from './wire.js'
import type { Connection as CbConnection } from 'mysql2'

/** A MySQL writer; `stats` counts batches per path (for tests and logs). */
export interface MysqlWriter extends RawWriter {
  readonly stats: { fastBatches: number; strictBatches: number; loadDataDisabled: boolean }
}

/** Most placeholders one prepared statement may carry (protocol limit, 2-byte count). */
export const MAX_PLACEHOLDERS = 65_535
/** Budget of value bytes per strict-path statement (max_allowed_packet is 16 MiB by default on MariaDB, 64 MiB on MySQL 8). */
export const STATEMENT_BYTES = 4 * 1024 * 1024

/** Error numbers that are about a row's values (MySQL/MariaDB server error reference). */
const ROW_ERRNOS = new Map<number, string>([
  [1048, 'ER_BAD_NULL_ERROR'],
  [1062, 'ER_DUP_ENTRY'],
  [1263, 'ER_WARN_NULL_TO_NOTNULL'],
  [1264, 'ER_WARN_DATA_OUT_OF_RANGE'],
  [1265, 'WARN_DATA_TRUNCATED'],
  [1292, 'ER_TRUNCATED_WRONG_VALUE'],
  [1300, 'ER_INVALID_CHARACTER_STRING'],
  [1364, 'ER_NO_DEFAULT_FOR_FIELD'],
  [1365, 'ER_DIVISION_BY_ZERO'],
  [1366, 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'],
  [1406, 'ER_DATA_TOO_LONG'],
  [1416, 'ER_CANT_CREATE_GEOMETRY_OBJECT'],
  [1451, 'ER_ROW_IS_REFERENCED_2'],
  [1452, 'ER_NO_REFERENCED_ROW_2'],
  [1525, 'ER_WRONG_VALUE'],
  [1557, 'ER_FOREIGN_DUPLICATE_KEY'],
  [1586, 'ER_DUP_ENTRY_WITH_KEY_NAME'],
  [1690, 'ER_DATA_OUT_OF_RANGE'],
  [1761, 'ER_FOREIGN_DUPLICATE_KEY_WITH_CHILD_INFO'],
  [1762, 'ER_FOREIGN_DUPLICATE_KEY_WITHOUT_CHILD_INFO'],
  [3140, 'ER_INVALID_JSON_TEXT'],
  [3819, 'ER_CHECK_CONSTRAINT_VIOLATED'],
  [4025, 'ER_CONSTRAINT_FAILED'],
])

/** Error numbers meaning "LOAD DATA LOCAL is not allowed here": switch to the strict path for good. */
const LOCAL_REFUSED = new Set([1148, 2068, 3948, 3950, 4166])

interface SqlError extends Error {
  errno?: number
  code?: string
  sqlState?: string
  fatal?: boolean
}

/** True when `e` is about the values of a row (it becomes a dirty row), not about the connection or the table. */
export function isRowError(e: unknown): boolean {
  const err = e as SqlError
  if (!err || err.fatal || typeof err.errno !== 'number') return false
  if (err.errno === 1213 || err.errno === 1205) return false // deadlock / lock wait: the transaction is gone
  return ROW_ERRNOS.has(err.errno) || /^2[23]/.test(err.sqlState ?? '')
}

/**
 * The column a server message names: `Data too long for column 'x' at row 1`,
 * `Incorrect integer value: 'a' for column `db`.`t`.`x` at row 1`, `Column 'x' cannot be null`,
 * `Field 'x' doesn't have a default value`, MariaDB's `CONSTRAINT `t.x` failed for ...`.
 */
export function columnFromMessage(msg: string): string | undefined {
  let m = /column ((?:`(?:[^`]|``)*`\.?)+)/i.exec(msg)
  if (m) {
    const parts = m[1]!.match(/`(?:[^`]|``)*`/g)!
    return parts[parts.length - 1]!.slice(1, -1).replace(/``/g, '`')
  }
  m = /column '((?:[^']|'')+)'/i.exec(msg) ?? /field '((?:[^']|'')+)'/i.exec(msg)
  if (m) return m[1]!.replace(/''/g, "'")
  m = /CONSTRAINT `(?:[^`.]*)\.((?:[^`]|``)+)` failed/i.exec(msg)
  if (m) return m[1]!.replace(/``/g, '`')
  return undefined
}

interface LoadResult {
  affectedRows: number
  info?: string
  warningStatus?: number
}

/** Parse `Records: 3  Deleted: 0  Skipped: 0  Warnings: 0` (the LOAD DATA OK-packet info). */
export function parseLoadInfo(info: string | undefined): { records: number; deleted: number; skipped: number; warnings: number } | undefined {
  const m = /Records:\s*(\d+)\s+Deleted:\s*(\d+)\s+Skipped:\s*(\d+)\s+Warnings:\s*(\d+)/i.exec(info ?? '')
  if (!m) return undefined
  return { records: Number(m[1]), deleted: Number(m[2]), skipped: Number(m[3]), warnings: Number(m[4]) }
}

/** A Readable over `buf` in slices (mysql2 sends each chunk as one packet, which must stay < 16 MiB). */
function sliceStream(buf: Buffer, slice = 1 << 20): Readable {
  let off = 0
  return new Readable({
    read() {
      if (off >= buf.length) {
        this.push(null)
        return
      }
      const end = Math.min(buf.length, off + slice)
      this.push(buf.subarray(off, end))
      off = end
    },
  })
}

/** Options the connector hands the writer. */
export interface WriterContext {
  session: Session
  quoteTable: (r: TableRef) => string
  /** Primary key of the target, for replace/update when `keyColumns` is not given. */
  primaryKey: () => Promise<string[]>
  /** Disable the LOAD DATA fast path (tests, or `options.loadData === false`). */
  fastPath?: boolean
}

/** `@@session.sql_mode` of a dedicated connection, read once per connection (they are reused). */
const SQL_MODES = new WeakMap<object, string>()
/** Dedicated connections set to autocommit = 0 (see openMysqlWriter). */
const AUTOCOMMIT_OFF = new WeakSet<object>()

/** Open a writer (see the file comment). The connection is dedicated and closed by `close()`. */
export async function openMysqlWriter(spec: WriteSpec, ctx: WriterContext): Promise<MysqlWriter> {
  if (!spec.columns.length) throw new Error(`writer for ${ctx.quoteTable(spec.table)}: no columns`)
  const { session } = ctx
  const zone = session.zone
  const cols: WireColumn[] = wireColumns(spec.columns)
  const table = ctx.quoteTable(spec.table)
  const colList = spec.columns.map((c) => quoteIdent(c.name)).join(', ')
  let keys: string[] = []
  if (spec.writeMode === 'update') {
    keys = spec.keyColumns?.length ? spec.keyColumns : await ctx.primaryKey()
    if (!keys.length) throw new Error(`writeMode update on ${table}: the table has no primary key and no keyColumns were given`)
  }
  const nonKey = spec.columns.filter((c: Column) => !keys.includes(c.name))
  const updateClause =
    spec.writeMode === 'update'
      ? ` ON DUPLICATE KEY UPDATE ${(nonKey.length ? nonKey : [spec.columns.find((c) => keys.includes(c.name)) ?? spec.columns[0]!])
          .map((c) => `${quoteIdent(c.name)} = VALUES(${quoteIdent(c.name)})`)
          .join(', ')}`
      : ''
  const verb = spec.writeMode === 'replace' ? 'REPLACE' : 'INSERT'
  const rowPlaceholder = `(${cols.map(() => '?').join(', ')})`
  const maxRowsPerStatement = Math.max(1, Math.floor(MAX_PLACEHOLDERS / cols.length))

  let conn: CbConnection | undefined = await session.dedicated()
  /** Abort of a write in flight: drop the connection (the server rolls back its open transaction). */
  const onAbort = () => {
    reusable = false
    const c = conn
    conn = undefined
    closed = true
    c?.destroy()
  }
  let fast = ctx.fastPath !== false
  if (fast) {
    // The LOAD DATA clauses below use backslash escapes, which NO_BACKSLASH_ESCAPES disables.
    let mode = SQL_MODES.get(conn)
    if (mode === undefined) {
      const [m] = await cbQuery<Array<{ m: string }>>(conn, 'SELECT @@session.sql_mode AS m')
      mode = String(m?.m ?? '')
      SQL_MODES.set(conn, mode)
    }
    if (/NO_BACKSLASH_ESCAPES/i.test(mode)) fast = false
  }
  /** False once an error left the connection in an unknown state: it is then ended, not given back. */
  let reusable = true
  // Writer connections run with autocommit off (once per connection; they are reused): every batch
  // is a transaction that COMMIT or ROLLBACK ends, and the next statement starts the next one, so
  // a batch needs no START TRANSACTION round trip.
  if (!AUTOCOMMIT_OFF.has(conn)) {
    await cbQuery(conn, 'SET autocommit = 0')
    AUTOCOMMIT_OFF.add(conn)
  }
  let stage: string | undefined
  let closed = false
  /** WriteSpec.firstSql until a transaction that ran it commits. */
  let firstSql = spec.firstSql
  const stats = { fastBatches: 0, strictBatches: 0, loadDataDisabled: !fast }

  const q = <T = LoadResult>(sql: string | Record<string, unknown>, params?: unknown[]) => {
    if (!conn) throw new Error(`writer for ${table} is closed`)
    return cbQuery<T>(conn, sql as never, params)
  }
  const exec = (sql: string, params: unknown[]) =>
    new Promise<LoadResult>((resolve, reject) => {
      if (!conn) return reject(new Error(`writer for ${table} is closed`))
      conn.execute(sql, params as never, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res as LoadResult)))
    })
  const rollback = async () => {
    try {
      await q('ROLLBACK')
    } catch {
      /* connection may be gone; the server rolls back on disconnect */
    }
  }

  /** LOAD DATA column list + SET clause. */
  const loadTarget = () => {
    const list: string[] = []
    const sets: string[] = []
    cols.forEach((c, i) => {
      if (c.mode === 'hex' || c.mode === 'bit') {
        list.push(`@sl_${i}`)
        sets.push(`${quoteIdent(c.name)} = UNHEX(@sl_${i})`)
      } else list.push(quoteIdent(c.name))
    })
    return `(${list.join(', ')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`
  }
  const loadSql = (into: string, replace: boolean) =>
    `LOAD DATA LOCAL INFILE 'sluice-batch.tsv' ${replace ? 'REPLACE ' : ''}INTO TABLE ${into} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\n' STARTING BY '' ${loadTarget()}`

  /** Returns true when the whole payload landed cleanly and was committed. */
  async function fastLoad(data: Buffer, n: number): Promise<boolean> {
    if (spec.writeMode === 'update' && !stage) {
      stage = ctx.quoteTable({ schema: spec.table.schema, name: `_sluice_stage_${Math.random().toString(36).slice(2, 10)}` })
      await q(`CREATE TEMPORARY TABLE ${stage} LIKE ${table}`)
    }
    // (A transaction starts by itself: autocommit is off, see above.)
    try {
      if (firstSql) await exec(firstSql.sql, firstSql.params)
      let clean: boolean
      if (stage) {
        await q(`DELETE FROM ${stage}`)
        const r = await q({ sql: loadSql(stage, false), infileStreamFactory: () => sliceStream(data) })
        clean = loadClean(r, n, false)
        if (clean) {
          const m = await q(`INSERT INTO ${table} (${colList}) SELECT ${colList} FROM ${stage}${updateClause}`)
          clean = !m.warningStatus
        }
      } else {
        const r = await q({ sql: loadSql(table, spec.writeMode === 'replace'), infileStreamFactory: () => sliceStream(data) })
        clean = loadClean(r, n, spec.writeMode === 'replace')
      }
      if (!clean) {
        await rollback()
        return false
      }
      await q('COMMIT')
      firstSql = undefined
      return true
    } catch (e) {
      await rollback()
      throw e
    }
  }

  function loadClean(r: LoadResult, n: number, replace: boolean): boolean {
    const info = parseLoadInfo(r.info)
    if (r.warningStatus) return false
    if (info && (info.records !== n || info.skipped !== 0 || info.warnings !== 0)) return false
    if (!replace && r.affectedRows !== n) return false
    return true
  }

  /** Strict path over `rows[idx]` for idx in `indices`; pushes to `dirty`; returns rows written. */
  async function strict(rows: Row[], indices: number[], dirty: DirtyRow[]): Promise<number> {
    const prepared: Array<{ index: number; values: Array<string | Buffer | null>; bytes: number }> = []
    for (const index of indices) {
      const row = rows[index]!
      try {
        const values = cols.map((c, i) => toWire(row[i] as Value, c, zone))
        let bytes = 0
        for (const v of values) bytes += v === null ? 1 : approxValueBytes(v)
        prepared.push({ index, values, bytes })
      } catch (e) {
        if (!(e instanceof ValueError)) throw e
        dirty.push({ index, reason: e.message, column: e.column })
      }
    }
    let written = 0
    const attempt = async (part: typeof prepared): Promise<void> => {
      if (!part.length) return
      const sql = `${verb} INTO ${table} (${colList}) VALUES ${Array(part.length).fill(rowPlaceholder).join(', ')}${updateClause}`
      await q('SAVEPOINT sluice_sp')
      let failure: SqlError | undefined
      try {
        const r = await exec(
          sql,
          part.flatMap((p) => p.values),
        )
        if (r.warningStatus) {
          const warns = (await q<Array<{ Level: string; Code: number; Message: string }>>('SHOW WARNINGS')).filter((w) => w.Code !== 1287)
          if (warns.length) {
            const w = warns[0]!
            failure = Object.assign(new Error(w.Message), { errno: w.Code, code: ROW_ERRNOS.get(w.Code) ?? String(w.Code), sqlState: '01000' })
          }
        }
      } catch (e) {
        if (!isRowError(e)) throw e
        failure = e as SqlError
      }
      if (!failure) {
        written += part.length
        return
      }
      await q('ROLLBACK TO SAVEPOINT sluice_sp')
      if (part.length === 1) {
        const d: DirtyRow = { index: part[0]!.index, reason: failure.message }
        if (failure.code) d.code = failure.code
        const column = columnFromMessage(failure.message)
        if (column) d.column = column
        dirty.push(d)
        return
      }
      const mid = part.length >> 1
      await attempt(part.slice(0, mid))
      await attempt(part.slice(mid))
    }
    await q('START TRANSACTION')
    try {
      if (firstSql) await exec(firstSql.sql, firstSql.params)
      let chunk: typeof prepared = []
      let bytes = 0
      for (const p of prepared) {
        if (chunk.length && (chunk.length >= maxRowsPerStatement || bytes + p.bytes > STATEMENT_BYTES)) {
          await attempt(chunk)
          chunk = []
          bytes = 0
        }
        chunk.push(p)
        bytes += p.bytes
      }
      await attempt(chunk)
      await q('COMMIT')
      firstSql = undefined
    } catch (e) {
      await rollback()
      throw e
    }
    return written
  }

  const close = async () => {
    if (closed) return
    closed = true
    const c = conn
    conn = undefined
    if (!c) return
    // A writer that ended cleanly leaves its connection idle and outside a transaction (every
    // batch commits or rolls back); with no stage table it can serve the next writer.
    if (reusable && !stage) await ctx.session.giveBack(c)
    else await new Promise<void>((resolve) => c.end(() => resolve()))
  }

  return {
    stats,
    async write(rows: Row[], signal?: AbortSignal): Promise<WriteOutcome> {
      if (closed) throw new Error(`writer for ${table} is closed`)
      signal?.throwIfAborted()
      if (!rows.length) return { written: 0, dirty: [] }
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const dirty: DirtyRow[] = []
        if (fast) {
          const enc = encodeTsv(rows, cols, zone)
          for (const b of enc.bad) dirty.push({ index: b.index, reason: b.error.message, column: b.error.column })
          if (!enc.included.length) return { written: 0, dirty }
          try {
            if (await fastLoad(enc.data, enc.included.length)) {
              stats.fastBatches++
              return { written: enc.included.length, dirty }
            }
          } catch (e) {
            const err = e as SqlError
            if (LOCAL_REFUSED.has(err.errno ?? -1) || /local infile|loading local data/i.test(err.message ?? '')) {
              fast = false
              stats.loadDataDisabled = true
            }
            else if (!isRowError(e)) throw e
          }
          stats.strictBatches++
          return { written: await strict(rows, enc.included, dirty), dirty: sortDirty(dirty) }
        }
        stats.strictBatches++
        return { written: await strict(rows, rows.map((_, i) => i), dirty), dirty: sortDirty(dirty) }
      } catch (e) {
        reusable = false
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('write aborted')
        throw e
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
    /**
     * The raw path (main/connectors/raw.ts): the batch's lines go to LOAD DATA as they are, with
     * the same cleanliness checks as the fast path. `null` (nothing committed) when the target
     * refused or warned about a row, when LOAD DATA is not available, when a target column
     * travels as hex (binary, BIT) or when the text holds PostgreSQL's `\f` / `\v` escapes,
     * which LOAD DATA reads as plain `f` / `v`. Only COPY text batches (`format` `text`): the
     * PostgreSQL-only formats (`csv`, `pgbinary`) resolve `null` as well. Sources of COPY text:
     * PostgreSQL's own COPY (postgres/rawcopy.ts) and the file reader's scanner
     * (file/rawread.ts), both read by LOAD DATA as PostgreSQL reads them (raw.ts).
     */
    async writeRaw(batch: RawBatch, signal?: AbortSignal): Promise<WriteOutcome | null> {
      if (closed) throw new Error(`writer for ${table} is closed`)
      signal?.throwIfAborted()
      if (!batch.rows) return { written: 0, dirty: [] }
      if ((batch.format ?? 'text') !== 'text' || !fast || cols.some((c) => c.mode === 'hex' || c.mode === 'bit') || hasForeignEscape(batch.data)) return null
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const data = batch.boolColumns?.length ? boolsAsDigits(batch.data, cols.length, batch.boolColumns) : batch.data
        if (!data) return null
        if (await fastLoad(data, batch.rows)) {
          stats.fastBatches++
          return { written: batch.rows, dirty: [] }
        }
        return null
      } catch (e) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('write aborted')
        const err = e as SqlError
        if (LOCAL_REFUSED.has(err.errno ?? -1) || /local infile|loading local data/i.test(err.message ?? '')) {
          fast = false
          stats.loadDataDisabled = true
          return null
        }
        if (isRowError(e)) return null
        reusable = false
        throw e
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
    close,
  }
}

/**
 * A copy of COPY text lines (`ncols` fields each) with the boolean fields `t` / `f` of the given
 * columns spelled `1` / `0`, as {@link toWire} spells booleans; `\N` stays NULL. Undefined when
 * such a field holds anything else (the caller takes the canonical path).
 */
export function boolsAsDigits(data: Buffer, ncols: number, columns: readonly number[]): Buffer | undefined {
  const isBool = new Uint8Array(ncols)
  for (const c of columns) isBool[c] = 1
  const out = Buffer.from(data)
  const n = out.length
  let col = 0
  let start = 0
  for (let i = 0; i < n; i++) {
    const b = out[i]!
    if (b === 92) {
      i++ // an escaped byte is never a separator
      continue
    }
    if (b !== 9 && b !== 10) continue
    if (col < ncols && isBool[col]) {
      const len = i - start
      const x = out[start]
      if (len === 1 && x === 116) out[start] = 49
      else if (len === 1 && x === 102) out[start] = 48
      else if (!(len === 2 && x === 92 && out[start + 1] === 78)) return undefined
    }
    col = b === 10 ? 0 : col + 1
    start = i + 1
  }
  return out
}

/** True when COPY text holds `\f` or `\v`, escapes LOAD DATA does not know (it reads them as `f`, `v`). */
export function hasForeignEscape(b: Buffer): boolean {
  for (let i = b.indexOf(92); i >= 0 && i + 1 < b.length; i = b.indexOf(92, i + 2)) {
    const x = b[i + 1]
    if (x === 102 || x === 118) return true
  }
  return false
}

function sortDirty(d: DirtyRow[]): DirtyRow[] {
  return d.sort((a, b) => a.index - b.index)
}
