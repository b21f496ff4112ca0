/**
 * The PostgreSQL connector (pg + pg-copy-streams).
 *
 * - Session: see ./session.ts (UTC by default, ISO dates, iso_8601 intervals, hex bytea, per-connection
 *   type parsers from ./types.ts; never the global pg.types).
 * - Catalog: ./catalog.ts over pg_catalog. Types: ./types.ts. DDL: ./ddl.ts.
 * - Reads: COPY (SELECT ...) TO STDOUT decoded by ./copy-text.ts (./read.ts).
 * - Writes: COPY FROM STDIN with savepoint narrowing of bad rows (./write.ts).
 * - Raw path (../raw.ts): `raw.readRaw` streams a split's COPY text as is (./rawcopy.ts), and
 *   writers take raw batches (`writeRaw`).
 *
 * One small pg.Pool (default max 8) opens on first use; writers hold their own dedicated client.
 */
import type pg from 'pg'
import type { LogicalType, Row, TableRef } from '../../core/types.js'
import type { ConnectionConfig, Connector, QueryOptions, QueryResult, ReadSpec, Split, TestResult, WriteSpec } from '../types.js'
import { describeFields, createCatalog } from './catalog.js'
import { quoteIdent } from './copy-text.js'
import { buildDdl } from './ddl.js'
import type { SplitOptions } from '../splits.js'
import { describeRead, planSplits, quoteTableRef, readSplit, readSplitRaw, stripQuery } from './read.js'
import type { RawReadable } from '../raw.js'
import { backendPid, errorCode, PgSession } from './session.js'
import { nativeTypeFor } from './types.js'
import { openWriter } from './write.js'
import { abortError } from '../abort.js'

export { pgTimeZone } from './session.js'

/** Leading keyword of a statement (comments skipped), upper-cased. */
function leadingKeyword(sql: string): string {
  const s = sql.replace(/^(\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, '')
  return (/^[A-Za-z]+/.exec(s)?.[0] ?? '').toUpperCase()
}

/**
 * Create the PostgreSQL connector for `config`. Nothing connects until the first call.
 * Default schema: `config.schema ?? 'public'`.
 */
export function createPostgresConnector(config: ConnectionConfig): Connector {
  const session = new PgSession(config)
  const defaultSchema = config.schema ?? 'public'
  const pool = () => session.getPool()

  /** Run `fn` with a pooled client; `signal` cancels the running statement (pg_cancel_backend) and discards the client. */
  async function withClient<T>(signal: AbortSignal | undefined, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw abortError('query')
    const c = await pool().connect()
    let aborted = false
    const onAbort = () => {
      aborted = true
      void session.cancelBackend(backendPid(c))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await fn(c)
    } catch (e) {
      if (aborted) throw abortError('query')
      throw e
    } finally {
      signal?.removeEventListener('abort', onAbort)
      c.release(aborted ? true : undefined)
    }
  }

  // A whole-schema snapshot (the planner's CatalogReader.tablesDetailed: a fixed number of
  // queries for any number of tables) also gives the columns each split's read describes, so
  // reading 300 tables does not mean 600 more catalog queries. The plan's columns come from it too.
  const catalog = createCatalog(pool, defaultSchema)
  const detailed = catalog.tablesDetailed?.bind(catalog)
  if (detailed) {
    catalog.tablesDetailed = async (schema, names) => {
      const got = await detailed(schema, names)
      const at = Date.now()
      for (const [name, t] of got) session.readColumns.set(`${schema ?? defaultSchema}\u0000${name}`, { at, columns: t.columns.map((c) => ({ name: c.name, type: c.type, ...(c.nativeType !== undefined ? { nativeType: c.nativeType } : {}) })) })
      return got
    }
  }

  const connector: Connector & { raw: RawReadable } = {
    kind: 'postgres',
    config,
    defaultSchema,
    catalog,

    /** Connect with a fresh client, run `SELECT version()`; errors come back as data with their SQLSTATE / errno code. */
    async test(): Promise<TestResult> {
      const t0 = performance.now()
      let c: pg.Client | undefined
      try {
        c = await session.dedicatedClient()
        const t1 = performance.now()
        const { rows } = await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)
        const latencyMs = Math.round((performance.now() - t1) * 100) / 100
        return { ok: true, latencyMs, serverVersion: `PostgreSQL ${rows[0].v.split(' ')[0]}` }
      } catch (e) {
        const err = e as Error
        return { ok: false, latencyMs: Math.round(performance.now() - t0), error: err.message || String(e), code: errorCode(e) }
      } finally {
        await c?.end().catch(() => {})
      }
    },

    quoteIdent,
    quoteTable: (ref: TableRef) => quoteTableRef(ref, defaultSchema),

    splits: (read: ReadSpec, count: number, opts?: SplitOptions) => planSplits(session, read, count, defaultSchema, opts),
    async warm(connections: number): Promise<void> {
      const got = await Promise.allSettled(Array.from({ length: Math.min(connections, 6) }, () => session.getPool().connect()))
      for (const g of got) if (g.status === 'fulfilled') g.value.release()
    },
    read: (split: Split, opts) => readSplit(session, split, opts, defaultSchema),
    /** The raw read path (main/connectors/raw.ts, `readSplitRaw`). */
    raw: { readRaw: (split: Split, opts) => readSplitRaw(session, split, opts, defaultSchema) },
    describeRead: (read: ReadSpec) => describeRead(session, read, defaultSchema),
    writer: (spec: WriteSpec) => openWriter(session, spec, defaultSchema),

    nativeType: (t: LogicalType) => nativeTypeFor(t),
    ddl: (table, target, overrides) => buildDdl(table, target, defaultSchema, overrides),

    /**
     * Run one statement with `$1` parameters; rows as arrays of canonical values (per-field type
     * parsers), columns with logical types. With `maxRows`, a SELECT/WITH/VALUES/TABLE statement
     * runs through `DECLARE ... NO SCROLL CURSOR` and fetches `maxRows + 1` rows, so a huge result
     * is never transferred; other statements run as given and their rows are cut.
     */
    async query(sql: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<QueryResult> {
      return withClient(opts.signal, async (c) => {
        const max = opts.maxRows
        const kw = leadingKeyword(sql)
        let res: pg.QueryResult<unknown[]>
        if (max !== undefined && max >= 0 && (kw === 'SELECT' || kw === 'WITH' || kw === 'VALUES' || kw === 'TABLE')) {
          await c.query('BEGIN')
          try {
            await c.query({ text: `DECLARE sluice_cur NO SCROLL CURSOR FOR ${stripQuery(sql)}`, values: params })
            res = await c.query({ text: `FETCH FORWARD ${max + 1} FROM sluice_cur`, rowMode: 'array' })
            await c.query('CLOSE sluice_cur; COMMIT')
          } catch (e) {
            await c.query('ROLLBACK').catch(() => {})
            // e.g. data-modifying WITH cannot be a cursor: run it directly
            if (errorCode(e) !== '0A000') throw e
            res = await c.query({ text: sql, values: params, rowMode: 'array' })
          }
        } else {
          res = await c.query({ text: sql, values: params, rowMode: 'array' })
        }
        const last = (Array.isArray(res) ? res[res.length - 1] : res) as pg.QueryResult<unknown[]>
        let rows = (last.rows ?? []) as Row[]
        const truncated = max !== undefined && rows.length > max
        if (truncated) rows = rows.slice(0, max)
        const columns = last.fields?.length ? await describeFields(c, last.fields) : []
        const out: QueryResult = { columns, rows }
        if (last.command && last.command !== 'SELECT' && last.command !== 'FETCH' && typeof last.rowCount === 'number') out.affectedRows = last.rowCount
        if (truncated) out.truncated = true
        return out
      })
    },

    /** Run statements in order on one pooled connection; stops at the first error, naming the statement's position. */
    async execute(statements: string[]): Promise<void> {
      await withClient(undefined, async (c) => {
        for (let i = 0; i < statements.length; i++) {
          try {
            await c.query(statements[i])
          } catch (e) {
            const err = e as Error & { detail?: string; hint?: string }
            // PostgreSQL's detail and hint name the table / constraint: keep them in the message.
            const extra = [err.detail ? `detail: ${err.detail}` : '', err.hint ? `hint: ${err.hint}` : ''].filter(Boolean).join('; ')
            err.message = `statement ${i + 1} of ${statements.length}: ${err.message}${extra ? ` (${extra})` : ''}`
            throw err
          }
        }
      })
    },

    /** Exact `count(*)` with an optional where (SQL text, wrapped in parentheses). */
    async count(table: TableRef, where?: string): Promise<number> {
      const { rows } = await pool().query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTableRef(table, defaultSchema)}${where?.trim() ? ` WHERE (${where})` : ''}`)
      return Number(rows[0].n)
    },

    close: () => session.close(),
  }
  return connector
}

