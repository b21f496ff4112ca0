/**
 * Reading: split planning, streaming reads with back-pressure, result-column description.
 */
import { integerBoundaries, orderByClause, sameBoundary, splitConditions, splitFractions, splitsFromBoundaries, type SplitOptions } from '../splits.js'
import type { Column, LogicalType, RowBatch, Row, TableRef, Value } from '../../core/types.js'
import { approxValueBytes } from '../../core/types.js'
import type { CatalogReader, ReadOptions, ReadSpec, ResultColumn, Split } from '../types.js'
import { cbQuery, type Session } from './session.js'

/** Quote a MySQL identifier with backticks, doubling embedded backticks. */
export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`'
}

/** mysql2 column-definition packet fields we use. */
export interface FieldPacketLike {
  name: string
  columnType?: number
  type?: number
  columnLength?: number
  length?: number
  decimals: number
  flags: number
  characterSet?: number
}

const UNSIGNED_FLAG = 32
const ENUM_FLAG = 256
const SET_FLAG = 2048
const BINARY_CHARSET = 63

/** Logical type of a result column from its field packet (protocol type codes, MySQL "Column Definition"). */
export function logicalFromField(f: FieldPacketLike): ResultColumn {
  const t = f.columnType ?? f.type ?? 254
  const len = f.columnLength ?? f.length ?? 0
  const unsigned = (f.flags & UNSIGNED_FLAG) !== 0
  const bin = f.characterSet === BINARY_CHARSET
  const int = (bits: 8 | 16 | 24 | 32 | 64, native: string): ResultColumn => ({
    name: f.name,
    type: unsigned ? { kind: 'int', bits, unsigned } : { kind: 'int', bits },
    nativeType: native + (unsigned ? ' unsigned' : ''),
  })
  const col = (type: LogicalType, nativeType: string): ResultColumn => ({ name: f.name, type, nativeType })
  switch (t) {
    case 1:
      return int(8, 'tinyint')
    case 2:
      return int(16, 'smallint')
    case 9:
      return int(24, 'mediumint')
    case 3:
      return int(32, 'int')
    case 8:
      return int(64, 'bigint')
    case 0:
    case 246: {
      const scale = f.decimals
      const precision = len - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1)
      return col({ kind: 'decimal', precision, scale }, `decimal(${precision},${scale})`)
    }
    case 4:
      return col({ kind: 'float', bits: 32 }, 'float')
    case 5:
      return col({ kind: 'float', bits: 64 }, 'double')
    case 7:
      return col({ kind: 'timestamptz', precision: f.decimals || 0 }, 'timestamp')
    case 10:
    case 14:
      return col({ kind: 'date' }, 'date')
    case 11:
      return col({ kind: 'time', precision: f.decimals || 0, wide: true }, 'time')
    case 12:
      return col({ kind: 'datetime', precision: f.decimals || 0 }, 'datetime')
    case 13:
      return col({ kind: 'year' }, 'year')
    case 16:
      return len === 1 ? col({ kind: 'bool' }, 'bit(1)') : col({ kind: 'bytes', length: Math.ceil(len / 8), fixed: true }, `bit(${len})`)
    case 245:
      return col({ kind: 'json' }, 'json')
    case 255:
      return col({ kind: 'geometry' }, 'geometry')
    case 249:
    case 250:
    case 251:
    case 252:
      return bin ? col({ kind: 'bytes', maxBytes: len }, 'blob') : col({ kind: 'text', maxBytes: len }, 'text')
    default:
      if (f.flags & ENUM_FLAG) return col({ kind: 'enum', values: [] }, 'enum')
      if (f.flags & SET_FLAG) return col({ kind: 'set', values: [] }, 'set')
      if (t === 6) return col({ kind: 'other', native: 'null' }, 'null')
      return bin ? col({ kind: 'bytes', length: len }, 'varbinary') : col({ kind: 'string' }, 'varchar')
  }
}

/** SQL and params of a read (one split): `SELECT cols FROM t WHERE (range) AND (where)`. */
export function buildReadSql(split: Split, quoteTable: (r: TableRef) => string, shape?: ReadShape): { sql: string; params: unknown[] } {
  const read = split.read
  if (read.querySql) return { sql: read.querySql, params: [] }
  if (!read.table) throw new Error('read: either table or querySql is required')
  const names = read.columns?.length ? read.columns : shape?.float32.size ? shape.columns : undefined
  // FLOAT (single precision): the text protocol spells it with 6 significant digits (16777216 as
  // 16777200), a changed value. Widened to DOUBLE in the server (exact: every float32 is a
  // double) it comes with all its bits, and the canonical value is that exact float32 (a double).
  const cols = names ? names.map((n) => (shape?.float32.has(n) ? `CAST(${quoteIdent(n)} AS DOUBLE) AS ${quoteIdent(n)}` : quoteIdent(n))).join(', ') : '*'
  const params: unknown[] = []
  const conds = splitConditions(split, quoteIdent, (v) => (params.push(bindValue(v)), '?'))
  return { sql: `SELECT ${cols} FROM ${quoteTable(read.table)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}${orderByClause(read)}`, params }
}

/** What a table read needs to know of its columns: all names in order, and the FLOAT (float32) ones. */
export interface ReadShape {
  columns: string[]
  float32: ReadonlySet<string>
}

/** The {@link ReadShape} of a table from its catalog description. */
export function readShapeOf(t: { columns: Array<{ name: string; type: { kind: string; bits?: number } }> }): ReadShape {
  return { columns: t.columns.map((c) => c.name), float32: new Set(t.columns.filter((c) => c.type.kind === 'float' && c.type.bits === 32).map((c) => c.name)) }
}

/**
 * Bound values for range predicates. Integers beyond 2^53 travel as text, which MySQL would
 * compare as DOUBLE against an integer column; mysql2 renders a bigint as an unquoted integer
 * literal, so exact integer strings are bound as bigint.
 */
function bindValue(v: Value): unknown {
  if (typeof v === 'string' && /^-?\d{16,}$/.test(v)) return BigInt(v)
  return v
}

/**
 * Plan splits (see Connector.splits). Integer keys: `MIN`/`MAX`, then `count` equal ranges by
 * BigInt arithmetic; the first split is open below and the last open above (and takes NULL keys),
 * so rows inserted after planning still fall in exactly one split. Other keys: boundaries from
 * ordered sampling (`ORDER BY pk LIMIT 1 OFFSET k*rows/count`), deduplicated.
 */
export async function planSplits(
  session: Session,
  catalog: CatalogReader,
  read: ReadSpec,
  count: number,
  quoteTable: (r: TableRef) => string,
  opts: SplitOptions = {},
): Promise<Split[]> {
  const whole: Split[] = [{ index: 0, read }]
  if (read.querySql || !read.table || count <= 1) return whole
  const schema = await catalog.table(read.table)
  const pk = read.splitPk ?? (schema.primaryKey.length === 1 ? schema.primaryKey[0] : undefined)
  if (!pk) return whole
  const col = schema.columns.find((c) => c.name === pk)
  if (!col) throw new Error(`splitPk: column '${pk}' does not exist in table \`${schema.schema}\`.\`${schema.name}\``)
  const t = quoteTable(read.table)
  const c = quoteIdent(pk)
  const where = read.where?.trim() ? ` AND (${read.where})` : ''
  const q = (sql: string, params: unknown[] = []) => session.with((conn) => cbQuery<unknown[][]>(conn, { sql, rowsAsArray: true }, params))
  const boundaries: Value[] = []
  if (col.type.kind === 'int' || col.type.kind === 'year') {
    // MIN/MAX skip NULLs by themselves; an `IS NOT NULL` filter here would make MariaDB scan the
    // whole index instead of reading its two ends ("Select tables optimized away").
    const [row] = await q(`SELECT CAST(MIN(${c}) AS CHAR), CAST(MAX(${c}) AS CHAR) FROM ${t}${read.where?.trim() ? ` WHERE (${read.where})` : ''}`)
    if (!row || row[0] === null) return [{ index: 0, read, range: { column: pk, includeNull: true } }]
    boundaries.push(...integerBoundaries(BigInt(String(row[0])), BigInt(String(row[1])), count, opts.tapered))
  } else {
    const [row] = await q(`SELECT COUNT(*) FROM ${t} WHERE ${c} IS NOT NULL${where}`)
    const total = Number(row?.[0] ?? 0)
    for (const f of total > 0 ? splitFractions(count, opts.tapered) : []) {
      const off = Math.floor(f * total)
      const [b] = await q(`SELECT ${c} FROM ${t} WHERE ${c} IS NOT NULL${where} ORDER BY ${c} LIMIT 1 OFFSET ${off}`)
      if (b && (boundaries.length === 0 || !sameBoundary(boundaries[boundaries.length - 1]!, b[0] as Value))) boundaries.push(b[0] as Value)
    }
  }
  return splitsFromBoundaries(read, pk, boundaries)
}

/** Finished batches a read keeps ready for its consumer before it pauses the server. */
const READ_AHEAD = 1

/**
 * Stream one split as batches of canonical rows. Uses mysql2's row stream (callback API) with a
 * high-water mark of one row, and does its own flow control by bytes: rows are gathered into a
 * batch until it reaches `batchBytes` (so a row bigger than that is a batch of its own, with at
 * most the small rows before it); once {@link READ_AHEAD} finished batch waits for the consumer,
 * the stream (and with it the socket) is paused. Memory per read: the batch the consumer holds,
 * the one waiting and the one filling, whatever the row size (a 256-row high-water mark let 50 MB
 * rows pile up to gigabytes). Abort (`opts.signal`) or an early `break` kills the running
 * statement (`KILL QUERY`) and destroys the connection; a connection killed by the server is
 * noticed within seconds even while paused (`Session.watchRead`).
 */
export async function* streamRead(session: Session, sql: string, params: unknown[], opts: ReadOptions = {}): AsyncGenerator<RowBatch> {
  const batchBytes = opts.batchBytes ?? 4 * 1024 * 1024
  const signal = opts.signal
  signal?.throwIfAborted()
  const conn = await session.acquire()
  let done = false
  const query = conn.query({ sql, values: params, rowsAsArray: true })
  const stream = query.stream({ highWaterMark: 1 })
  const ready: RowBatch[] = []
  let rows: Row[] = []
  let bytes = 0
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  let last = Date.now()
  stream.on('data', (row: Row) => {
    for (let i = 0; i < row.length; i++) bytes += approxValueBytes(row[i]!)
    rows.push(row)
    if (bytes >= batchBytes) {
      ready.push({ rows, approxBytes: bytes })
      rows = []
      bytes = 0
      last = Date.now()
      if (ready.length >= READ_AHEAD) stream.pause()
      notify()
    }
  })
  stream.on('end', () => {
    if (rows.length) ready.push({ rows, approxBytes: bytes })
    rows = []
    ended = true
    notify()
  })
  stream.on('error', (e: Error) => {
    failure ??= e
    notify()
  })
  const onAbort = () => {
    failure ??= signal?.reason instanceof Error ? signal.reason : new Error('read aborted')
    stream.destroy()
    notify()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  // A killed connection whose socket stays open would stall this read until the split timeout.
  const unwatch = session.watchRead(conn.threadId, () => last, (e) => {
    failure ??= e
    stream.destroy()
    notify()
  })
  // mysql2 reports a connection lost mid-stream (server gone, SSH tunnel dropped) on the
  // connection only, never on the query's stream, which would then wait forever: end it here.
  const onLost = (e?: Error): void => {
    stream.destroy(e ?? Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' }))
  }
  const onEnd = (): void => onLost()
  conn.on('error', onLost)
  conn.on('end', onEnd)
  try {
    for (;;) {
      if (failure) throw failure
      const b = ready.shift()
      if (b) {
        if (stream.isPaused() && ready.length < READ_AHEAD && !ended) stream.resume()
        yield b
        signal?.throwIfAborted()
        continue
      }
      if (ended) break
      await new Promise<void>((r) => (wake = r))
    }
    done = true
  } finally {
    unwatch()
    signal?.removeEventListener('abort', onAbort)
    conn.removeListener('error', onLost)
    conn.removeListener('end', onEnd)
    if (done) {
      conn.release()
    } else {
      const threadId = conn.threadId
      stream.destroy()
      conn.destroy()
      await session.killQuery(threadId)
    }
  }
}

/** Columns of a read: the catalog's for a table read, field packets of `SELECT * FROM (q) LIMIT 0` for querySql. */
export async function describe(session: Session, catalog: CatalogReader, read: ReadSpec): Promise<ResultColumn[]> {
  if (read.querySql) {
    const inner = read.querySql.trim().replace(/;+\s*$/, '')
    return session.with(
      (conn) =>
        new Promise<ResultColumn[]>((resolve, reject) => {
          conn.query(`SELECT * FROM (${inner}) AS _sluice_q LIMIT 0`, (err, _rows, fields) => {
            if (err) reject(err)
            else resolve(((fields ?? []) as unknown as FieldPacketLike[]).map(logicalFromField))
          })
        }),
    )
  }
  if (!read.table) throw new Error('read: either table or querySql is required')
  const t = await catalog.table(read.table)
  const pick: Column[] = read.columns?.length
    ? read.columns.map((n) => {
        const c = t.columns.find((x) => x.name === n)
        if (!c) throw new Error(`read.columns: column '${n}' does not exist in table \`${t.schema}\`.\`${t.name}\``)
        return c
      })
    : t.columns
  return pick.map((c) => ({ name: c.name, type: c.type, nativeType: c.nativeType }))
}
