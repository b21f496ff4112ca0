/**
 * Reads: describe, splits and streaming COPY reads.
 *
 * Reads run `COPY (SELECT ...) TO STDOUT` (text format) and decode it with {@link CopyTextDecoder}.
 * COPY cannot take bound parameters, so split bounds are rendered as SQL literals by
 * {@link sqlLiteral}: integer bounds are validated digit strings, every other bound goes through
 * {@link quoteLiteral} (quote_literal semantics, unit-tested against the server). `read.where` is
 * the user's own SQL (variables already substituted by the engine) and is wrapped in parentheses.
 */
import { giveBuffer, takeBuffer } from '../bufpool.js'
import { integerBoundaries, orderByClause, splitConditions, splitFractions, splitsFromBoundaries, type SplitOptions } from '../splits.js'
import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { Row, RowBatch, TableRef, Value } from '../../core/types.js'
import { SNAPSHOT_TTL_MS, type ReadOptions, type ReadSpec, type ResultColumn, type Split } from '../types.js'
import { describeFields, findRelation, relationColumns } from './catalog.js'
import { CopyFormatError, CopyTextDecoder, quoteIdent, sqlLiteral, type FieldKind } from './copy-text.js'
import type { RawBatch } from '../raw.js'
import { RawCopyOut, type CopyOutSink } from './rawcopy.js'
import { backendPid, type PgSession } from './session.js'
import { fieldKindOf } from './types.js'
import { abortError } from '../abort.js'

/** Default batch size: 4 MiB of approximate value bytes. */
export const DEFAULT_BATCH_BYTES = 4 << 20

/** `"schema"."table"` with the connector's default schema filled in. */
export function quoteTableRef(ref: TableRef, defaultSchema: string): string {
  return `${quoteIdent(ref.schema ?? defaultSchema)}.${quoteIdent(ref.name)}`
}

/** Strip trailing semicolons and whitespace so a free query can be wrapped as a subquery. */
export function stripQuery(sql: string): string {
  return sql.replace(/[\s;]+$/, '')
}

/**
 * Column metadata of a read. Table reads: the catalog's columns (all, or `read.columns` in that
 * order; a missing column throws naming table and column). `querySql`: the query wrapped as
 * `SELECT * FROM (<q>) AS q LIMIT 0`, its field OIDs and typmods resolved through pg_type.
 */
export async function describeRead(session: PgSession, read: ReadSpec, defaultSchema: string): Promise<ResultColumn[]> {
  const pool = session.getPool()
  if (read.querySql) {
    const res = await pool.query({ text: `SELECT * FROM (${stripQuery(read.querySql)}) AS sluice_q LIMIT 0`, rowMode: 'array' })
    return describeFields(pool, res.fields)
  }
  if (!read.table) throw new Error('read: either table or querySql is required')
  const schema = read.table.schema ?? defaultSchema
  const snap = session.readColumns.get(`${schema}\u0000${read.table.name}`)
  let all = snap && Date.now() - snap.at < SNAPSHOT_TTL_MS ? snap.columns : undefined
  if (!all) {
    const rel = await findRelation(pool, read.table, defaultSchema)
    all = (await relationColumns(pool, rel.oid)).map((c): ResultColumn => ({ name: c.name, type: c.type, nativeType: c.nativeType }))
  }
  if (!read.columns?.length) return all
  return read.columns.map((name) => {
    const c = all.find((x) => x.name === name)
    if (!c) throw new Error(`read: column "${name}" does not exist in table "${schema}"."${read.table!.name}"`)
    return c
  })
}

/**
 * A split bound as a SQL literal (COPY takes no parameters): validated digits for an integer key,
 * else a quoted literal (`sqlLiteral`). @throws Error naming the split for a non-integer bound of an integer key.
 */
function boundLiteral(split: Split, intKey: boolean): (v: Value) => string {
  return (v: Value): string => {
    if (!intKey) return sqlLiteral(v)
    const s = typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : ''
    if (!/^-?\d+$/.test(s)) throw new Error(`split ${split.index}: bound ${String(v)} of integer key "${split.range?.column}" is not an integer`)
    return s.startsWith('-') ? `(${s})` : s
  }
}

/** Build the SELECT a split reads (also used for `count`). */
export function splitSelect(split: Split, columns: ResultColumn[], defaultSchema: string, intKey: boolean): string {
  const read = split.read
  if (read.querySql) return stripQuery(read.querySql)
  if (!read.table) throw new Error('read: either table or querySql is required')
  const conds = splitConditions(split, quoteIdent, boundLiteral(split, intKey))
  // A real is read widened to double precision (exact): its text is then the float32's exact
  // value ('3.4028234663852886e+38'), which a double parser (MySQL's LOAD DATA on the raw path)
  // turns back into the same float32; real's own shortest text ('3.4028235e+38') is above
  // every float32 as a double.
  const list = columns.map((c) => (c.type.kind === 'float' && c.type.bits === 32 ? `${quoteIdent(c.name)}::float8 AS ${quoteIdent(c.name)}` : quoteIdent(c.name)))
  return `SELECT ${list.join(', ')} FROM ${quoteTableRef(read.table, defaultSchema)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}${orderByClause(read)}`
}

/** The error a failed split read rethrows: the abort reason, or the driver's error with `read <what>:` prefixed (its SQLSTATE `code` kept). */
function readError(e: unknown, signal: AbortSignal | undefined, what: string): Error {
  if (signal?.aborted) return abortError('read', signal)
  const err = e as Error
  if (err && typeof err.message === 'string' && !err.message.startsWith('read ')) err.message = `read ${what}: ${err.message}`
  return err
}


/**
 * Stream one split as canonical rows, in batches of about `opts.batchBytes` (default 4 MiB; one
 * batch can exceed it by at most one network chunk). The COPY stream is pulled only as the
 * consumer asks for batches, so a slow consumer holds the server back (TCP back-pressure).
 *
 * Ending early (consumer `break`, `opts.signal` aborted, an error) cancels the COPY
 * (`pg_cancel_backend`) and destroys the client rather than returning it to the pool.
 * Errors are re-thrown with the table and split index prefixed, keeping the SQLSTATE `code`.
 */
export async function* readSplit(session: PgSession, split: Split, opts: ReadOptions | undefined, defaultSchema: string): AsyncGenerator<RowBatch> {
  const signal = opts?.signal
  const batchBytes = opts?.batchBytes && opts.batchBytes > 0 ? opts.batchBytes : DEFAULT_BATCH_BYTES
  const { sql, kinds, what } = await prepareCopy(session, split, signal, defaultSchema)
  const decoder = new CopyTextDecoder(kinds)
  yield* copyOut(session, `COPY (${sql}) TO STDOUT`, what, signal, async function* (stream) {
    let rows: Row[] = []
    let bytes = 0
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += decoder.push(chunk, rows)
      if (bytes >= batchBytes) {
        const batch = { rows, approxBytes: bytes }
        rows = []
        bytes = 0
        yield batch
        if (signal?.aborted) throw abortError('read', signal)
      }
    }
    decoder.end()
    if (rows.length) yield { rows, approxBytes: bytes }
  })
}

/**
 * The raw read path (main/connectors/raw.ts): the split's `COPY (SELECT ...) TO STDOUT` text as
 * it arrives, copied by {@link RawCopyOut} straight from the socket into batches of about
 * `opts.batchBytes` bytes (default 4 MiB) of whole lines, no value decoded; `decode()` gives the
 * rows {@link readSplit} would. The server is paused (TCP back-pressure) while a finished batch
 * waits for the consumer. Same cancel and error rules as {@link readSplit}; the rows received
 * must add up to the count the server reports.
 */
export async function* readSplitRaw(session: PgSession, split: Split, opts: ReadOptions | undefined, defaultSchema: string): AsyncGenerator<RawBatch> {
  const signal = opts?.signal
  const batchBytes = opts?.batchBytes && opts.batchBytes > 0 ? opts.batchBytes : DEFAULT_BATCH_BYTES
  const { sql, kinds, what } = await prepareCopy(session, split, signal, defaultSchema)
  const boolColumns = kinds.flatMap((k, i) => (k === 'bool' ? [i] : []))
  const ready: RawBatch[] = []
  let failure: Error | undefined
  let ended = false
  let reported = -1
  let received = 0
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const sink: CopyOutSink = {
    // Buffers of released batches are reused (main/connectors/bufpool.ts), across splits too.
    alloc: (min) => takeBuffer(min),
    batch: ({ buf, end, rows }) => {
      const data = buf.subarray(0, end)
      let released = false
      received += rows
      ready.push({
        data,
        rows,
        approxBytes: end,
        ...(boolColumns.length ? { boolColumns } : {}),
        decode: () => {
          const out: Row[] = []
          const d = new CopyTextDecoder(kinds)
          d.push(data, out)
          d.end()
          return out
        },
        release: () => {
          if (!released) giveBuffer(buf)
          released = true
        },
      })
      copy.pause()
      notify()
    },
    end: (rowCount) => {
      reported = rowCount
      ended = true
      notify()
    },
    error: (e) => {
      failure ??= e
      notify()
    },
  }
  const copy = new RawCopyOut(`COPY (${sql}) TO STDOUT`, batchBytes, sink)
  if (signal?.aborted) throw abortError('read', signal)
  const client: pg.PoolClient = await session.getPool().connect()
  // A terminated backend (pg_terminate_backend, a server restart) makes the client emit 'error';
  // the read reports it through its COPY, so the event must not become an uncaught exception.
  client.on('error', ignoreClientError)
  let clean = false
  const onAbort = () => {
    failure = abortError('read', signal)
    notify()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    void client.query(copy as unknown as pg.QueryConfig)
    for (;;) {
      if (failure) throw failure
      const b = ready.shift()
      if (b) {
        if (!ready.length) copy.resume()
        yield b
        continue
      }
      if (ended) break
      await new Promise<void>((r) => (wake = r))
    }
    if (reported !== received) throw new CopyFormatError(`COPY reported ${reported} rows, ${received} received`)
    clean = true
    // The buffer taken for a batch after the last one was never filled: back to the pool.
    const rest = copy.takeUnused()
    if (rest) giveBuffer(rest)
  } catch (e) {
    throw readError(e, signal, what)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    await releaseReadClient(session, client, clean)
  }
}

/** The SELECT a split's COPY reads and the decoder kinds of its columns. */
async function prepareCopy(session: PgSession, split: Split, signal: AbortSignal | undefined, defaultSchema: string): Promise<{ sql: string; kinds: FieldKind[]; what: string }> {
  const what = split.read.querySql ? `querySql split ${split.index}` : `table ${quoteTableRef(split.read.table ?? { name: '?' }, defaultSchema)} split ${split.index}`
  if (signal?.aborted) throw abortError('read', signal)
  const columns = await describeRead(session, split.read, defaultSchema)
  const keyCol = split.range ? columns.find((c) => c.name === split.range!.column) : undefined
  let intKey = keyCol?.type.kind === 'int'
  if (split.range && !keyCol && split.read.table) {
    // the split key is not among the read columns: look its type up
    const all = await describeRead(session, { table: split.read.table }, defaultSchema)
    intKey = all.find((c) => c.name === split.range!.column)?.type.kind === 'int'
  }
  return { sql: splitSelect(split, columns, defaultSchema, intKey), kinds: columns.map((c) => fieldKindOf(c.type)), what }
}

/**
 * Run `COPY ... TO STDOUT` on a pooled client and hand its stream to `body`. Ending early
 * (consumer `break`, `signal` aborted, an error) cancels the COPY (`pg_cancel_backend`) and
 * destroys the client rather than returning it to the pool. Errors are re-thrown with `what`
 * prefixed, keeping the SQLSTATE `code`.
 */
async function* copyOut<T>(session: PgSession, sql: string, what: string, signal: AbortSignal | undefined, body: (stream: AsyncIterable<Buffer>) => AsyncGenerator<T>): AsyncGenerator<T> {
  const client: pg.PoolClient = await session.getPool().connect()
  client.on('error', ignoreClientError)
  let clean = false
  let stream: ReturnType<typeof copyTo> | undefined
  const onAbort = () => stream?.destroy(abortError('read', signal))
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    stream = client.query(copyTo(sql))
    yield* body(stream as AsyncIterable<Buffer>)
    clean = true
  } catch (e) {
    throw readError(e, signal, what)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (!clean) stream?.destroy()
    await releaseReadClient(session, client, clean)
  }
}

/**
 * Cut a table read into at most `count` splits on its splitPk (read.splitPk ?? the single-column
 * primary key). One split (no range) for querySql, count <= 1, no usable key, or an empty table.
 *
 * Integer keys: MIN/MAX under `read.where`, then `count` equal ranges computed with BigInt.
 * Other keys (text, uuid, dates...): boundaries are `percentile_disc` quantiles of the key (over a
 * TABLESAMPLE for tables estimated above 1M rows), deduplicated. The first split has no lower
 * bound and the last no upper bound; ranges are [lower, upper) so every row falls in exactly one
 * split, and the last split also reads NULL keys (`includeNull`).
 */
export async function planSplits(session: PgSession, read: ReadSpec, count: number, defaultSchema: string, opts: SplitOptions = {}): Promise<Split[]> {
  const single: Split[] = [{ index: 0, read }]
  if (read.querySql || count <= 1 || !read.table) return single
  const pool = session.getPool()
  const rel = await findRelation(pool, read.table, defaultSchema)
  let key = read.splitPk
  if (!key) {
    const { rows } = await pool.query<{ cols: string[] | string }>(
      `SELECT (SELECT json_agg(a.attname) FROM unnest(i.indkey::int2[]) AS k(n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)::text AS cols
         FROM pg_index i WHERE i.indrelid = $1 AND i.indisprimary`,
      [rel.oid],
    )
    const pk = rows[0] ? (JSON.parse(rows[0].cols as string) as string[]) : []
    if (pk.length !== 1) return single
    key = pk[0]
  }
  const cols = await relationColumns(pool, rel.oid)
  const keyCol = cols.find((c) => c.name === key)
  if (!keyCol) throw new Error(`splitPk: column "${key}" does not exist in table "${rel.schema}"."${read.table.name}"`)
  const table = quoteTableRef(read.table, defaultSchema)
  const col = quoteIdent(key)
  const where = read.where?.trim() ? ` AND (${read.where})` : ''
  const make = (bounds: Value[]): Split[] => splitsFromBoundaries(read, key!, bounds)

  if (keyCol.type.kind === 'int') {
    const { rows } = await pool.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${col})::text AS lo, max(${col})::text AS hi FROM ${table} WHERE ${col} IS NOT NULL${where}`,
    )
    if (rows[0].lo === null || rows[0].hi === null) return single
    return make(integerBoundaries(BigInt(rows[0].lo), BigInt(rows[0].hi), count, opts.tapered))
  }

  // Sampled quantiles for any other ordered key.
  const sample = rel.reltuples > 1_000_000 ? ` TABLESAMPLE SYSTEM (${Math.min(100, Math.max(0.01, (200_000 / rel.reltuples) * 100)).toFixed(4)})` : ''
  const fractions = splitFractions(count, opts.tapered)
  const { rows } = await pool.query<{ b: string }>(
    `SELECT unnest(percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY ${col}))::text AS b
       FROM ${table}${sample} WHERE ${col} IS NOT NULL${where}`,
    [fractions],
  )
  const bounds: Value[] = []
  for (const r of rows) {
    if (r.b === null) continue
    if (bounds.length && bounds[bounds.length - 1] === r.b) continue
    bounds.push(r.b)
  }
  if (keyCol.type.kind === 'bytes') return make(bounds.map((b) => Buffer.from(String(b).slice(2), 'hex')))
  return make(bounds)
}

/** The 'error' listener of a pooled client while a read holds it (see readSplitRaw). */
function ignoreClientError(): void {}

/**
 * Give a read's pooled client back: reused after a clean end (without the read's 'error'
 * listener), else its statement cancelled and the client destroyed (keeping the listener: its
 * socket may still report).
 */
async function releaseReadClient(session: PgSession, client: pg.PoolClient, clean: boolean): Promise<void> {
  if (clean) {
    client.removeListener('error', ignoreClientError)
    client.release()
  } else {
    await session.cancelBackend(backendPid(client))
    client.release(true)
  }
}
