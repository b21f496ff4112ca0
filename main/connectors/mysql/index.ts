/**
 * The MySQL / MariaDB connector (mysql2). See the files beside this one:
 * - session.ts: pool (lazily opened, `connectionLimit` default 4) and session settings;
 * - catalog.ts: information_schema reader; types.ts: native <-> logical types;
 * - values.ts: canonical values on read (typeCast) and time-zone arithmetic;
 * - read.ts: splits, streaming reads, describeRead; wire.ts + write.ts: the writer; ddl.ts;
 * - rawread.ts: the raw path's reader (`raw.readRaw`, rows as COPY text, see ../raw.ts); the
 *   writer takes raw batches through LOAD DATA (`writeRaw`).
 *
 * Canonical values read from MySQL (see main/core/types.ts): BIGINT is a number when it is a safe
 * integer (|v| <= 2^53-1) and otherwise its exact decimal string; other integers are numbers;
 * DECIMAL is its exact string; DATE/DATETIME/TIME are the server's text untouched (zero dates
 * `0000-00-00 00:00:00` included: the engine applies the zero-date policy); TIMESTAMP is the
 * session-rendered text plus the session offset (`2024-01-01 00:00:00.000000+00:00`); JSON is its
 * text; BIT(1) a boolean, BIT(n) and binary strings/BLOBs Buffers; GEOMETRY the internal Buffer
 * (SRID + WKB); YEAR, FLOAT, DOUBLE numbers. A zero TIMESTAMP reads as `0000-00-00 00:00:00+00:00`
 * (offset appended like any other TIMESTAMP; the engine's zero-date policy matches the prefix).
 *
 * Known limits: with an IANA `timezone`, a TIMESTAMP read back in the repeated DST hour gets the
 * later offset (use an offset zone, the default, for exactness); LOAD DATA is written for the
 * default backslash escaping, so under sql_mode NO_BACKSLASH_ESCAPES the writer uses the strict
 * INSERT path only.
 *
 * `config.options`: mysql2 options passed through, plus `connectionLimit` (pool size) and
 * `loadData: false` (never use LOAD DATA LOCAL INFILE; always the strict INSERT path).
 */
import type { TableRef } from '../../core/types.js'
import { SNAPSHOT_TTL_MS, type ConnectionConfig, type Connector, type QueryOptions, type QueryResult, type ReadOptions, type ReadSpec, type Split, type TestResult, type WriteSpec } from '../types.js'
import { mysqlCatalog } from './catalog.js'
import { mysqlDdl } from './ddl.js'
import { describe, buildReadSql, planSplits, quoteIdent, streamRead, logicalFromField, readShapeOf, type FieldPacketLike, type ReadShape } from './read.js'
import { cbQuery, Session } from './session.js'
import { mysqlNativeType } from './types.js'
import { openMysqlWriter } from './write.js'
import type { RawReadable, RawReadOptions } from '../raw.js'
import type { SplitOptions } from '../splits.js'
import { streamReadRaw } from './rawread.js'

/**
 * Create a MySQL/MariaDB connector. No connection is opened until the first call that needs one.
 * @throws Error when `config.timezone` is neither an offset nor an IANA zone name.
 */
export function createMysqlConnector(config: ConnectionConfig): Connector {
  const session = new Session(config)
  const defaultSchema = config.database ?? ''
  let resolvedSchema: string | undefined = defaultSchema || undefined
  const schemaFor = async (): Promise<string> => {
    if (resolvedSchema) return resolvedSchema
    const rows = await session.with((c) => cbQuery<Array<{ d: string | null }>>(c, 'SELECT DATABASE() AS d'))
    const d = rows[0]?.d
    if (!d) throw new Error('mysql: no database selected (set connection.database or give the table a schema)')
    resolvedSchema = d
    return d
  }
  const quoteTable = (r: TableRef) => {
    const s = r.schema ?? defaultSchema
    return s ? `${quoteIdent(s)}.${quoteIdent(r.name)}` : quoteIdent(r.name)
  }
  const catalog = mysqlCatalog(session, schemaFor)
  const options = (config.options ?? {}) as { loadData?: boolean }
  // Column shapes of tables read (FLOAT columns are widened in the SELECT, see buildReadSql), one
  // catalog lookup per table for the connector's life.
  const shapes = new Map<string, Promise<ReadShape>>()
  /** Shapes from the last whole-schema snapshot (see below), used for SNAPSHOT_TTL_MS. */
  const primed = new Map<string, { at: number; shape: ReadShape }>()
  const shapeOf = (split: Split): Promise<ReadShape | undefined> => {
    const t = split.read.table
    if (!t || split.read.querySql) return Promise.resolve(undefined)
    const key = `${t.schema ?? ''}\u0000${t.name}`
    let p = shapes.get(key)
    const snap = primed.get(key)
    if (!p && snap && Date.now() - snap.at < SNAPSHOT_TTL_MS) return Promise.resolve(snap.shape)
    if (!p) {
      p = catalog.table(t).then(readShapeOf)
      p.catch(() => shapes.delete(key))
      shapes.set(key, p)
    }
    return p
  }
  // A whole-schema snapshot (the planner's CatalogReader.tablesDetailed: 5 queries for any number
  // of tables) gives the read shapes too, so reading 300 tables does not mean 300 more catalog
  // lookups (1,500 information_schema queries). The plan's columns come from the same snapshot.
  const detailed = catalog.tablesDetailed?.bind(catalog)
  if (detailed) {
    catalog.tablesDetailed = async (schema, names) => {
      const got = await detailed(schema, names)
      const isDefault = schema === undefined || schema === defaultSchema || schema === resolvedSchema
      const at = Date.now()
      for (const [name, t] of got) {
        const shape = { at, shape: readShapeOf(t) }
        if (schema !== undefined) primed.set(`${schema}\u0000${name}`, shape)
        if (isDefault) primed.set(`\u0000${name}`, shape)
      }
      return got
    }
  }

  const connector: Connector & { raw: RawReadable } = {
    kind: 'mysql',
    config,
    defaultSchema,
    catalog,
    quoteIdent,
    quoteTable,

    async test(): Promise<TestResult> {
      const t0 = performance.now()
      try {
        return await session.with(async (c) => {
          const t1 = performance.now()
          const rows = await cbQuery<Array<{ v: string }>>(c, 'SELECT VERSION() AS v')
          return { ok: true, latencyMs: Math.round((performance.now() - t1) * 100) / 100, serverVersion: String(rows[0]!.v) }
        })
      } catch (e) {
        const err = e as { message?: string; code?: string }
        const r: TestResult = { ok: false, latencyMs: Math.round((performance.now() - t0) * 100) / 100, error: err.message ?? String(e) }
        if (err.code) r.code = String(err.code)
        return r
      }
    },

    async warm(connections: number): Promise<void> {
      // Leave one pooled connection for catalog and planning queries; never wait for more than
      // the pool holds (the acquisitions are released only once all have settled).
      const n = Math.min(connections, session.poolSize - 1)
      const got = await Promise.allSettled(Array.from({ length: Math.max(0, n) }, () => session.acquire()))
      for (const g of got) if (g.status === 'fulfilled') g.value.release()
    },

    splits(read: ReadSpec, count: number, opts?: SplitOptions): Promise<Split[]> {
      return planSplits(session, catalog, read, count, quoteTable, opts)
    },

    async *read(split: Split, opts?: ReadOptions) {
      const { sql, params } = buildReadSql(split, quoteTable, await shapeOf(split))
      yield* streamRead(session, sql, params, opts)
    },

    describeRead(read: ReadSpec) {
      return describe(session, catalog, read)
    },

    /** The raw read path (main/connectors/raw.ts, rawread.ts). */
    raw: {
      async *readRaw(split: Split, opts?: RawReadOptions) {
        const { sql, params } = buildReadSql(split, quoteTable, await shapeOf(split))
        yield* streamReadRaw(session, sql, params, opts)
      },
    },

    writer(spec: WriteSpec) {
      return openMysqlWriter(spec, {
        session,
        quoteTable,
        primaryKey: async () => (await catalog.table(spec.table)).primaryKey,
        fastPath: options.loadData !== false,
      })
    },

    nativeType: mysqlNativeType,

    ddl(table, target, overrides) {
      return mysqlDdl(table, target, quoteTable, overrides, session.knownFlavor)
    },

    async query(sql: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<QueryResult> {
      const { maxRows, signal } = opts
      signal?.throwIfAborted()
      const conn = await session.acquire()
      return new Promise<QueryResult>((resolve, reject) => {
        let fields: FieldPacketLike[] | undefined
        const rows: unknown[][] = []
        let affectedRows: number | undefined
        let settled = false
        let released = false
        const stop = () => {
          if (released) return
          released = true
          const threadId = conn.threadId
          conn.destroy()
          void session.killQuery(threadId)
        }
        const finish = (err?: unknown, truncated = false) => {
          if (settled) return
          settled = true
          signal?.removeEventListener('abort', onAbort)
          if (err) return reject(err)
          const res: QueryResult = { columns: (fields ?? []).map(logicalFromField), rows: rows as QueryResult['rows'] }
          if (affectedRows !== undefined) res.affectedRows = affectedRows
          if (truncated) res.truncated = true
          resolve(res)
        }
        const onAbort = () => {
          stop()
          finish(signal?.reason instanceof Error ? signal.reason : new Error('query aborted'))
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        const q = conn.query({ sql, values: params, rowsAsArray: true })
        q.on('fields', (f: unknown) => {
          fields ??= f as FieldPacketLike[]
        })
        q.on('result', (row: unknown) => {
          if (settled) return
          if (!Array.isArray(row)) {
            affectedRows = Number((row as { affectedRows?: number }).affectedRows ?? 0)
            return
          }
          if (maxRows !== undefined && rows.length >= maxRows) {
            stop()
            finish(undefined, true)
            return
          }
          rows.push(row)
        })
        q.on('error', (err: unknown) => {
          if (!released) {
            released = true
            conn.release()
          }
          finish(err)
        })
        q.on('end', () => {
          if (!released) {
            released = true
            conn.release()
          }
          finish()
        })
      })
    },

    async execute(statements: string[]): Promise<void> {
      await session.with(async (c) => {
        for (const s of statements) await cbQuery(c, s)
      })
    },

    async count(table: TableRef, where?: string): Promise<number> {
      const sql = `SELECT COUNT(*) AS n FROM ${quoteTable(table)}${where?.trim() ? ` WHERE (${where})` : ''}`
      const rows = await session.with((c) => cbQuery<Array<{ n: number | string }>>(c, sql))
      return Number(rows[0]!.n)
    },

    close() {
      return session.close()
    },
  }
  return connector
}
