/**
 * The SQLite connector (better-sqlite3 12, synchronous).
 *
 * - Handles: ./session.ts (main handle opened lazily; reads and writers on their own handles; WAL
 *   for files it creates; foreign_keys OFF; `config.options`: mustExist, busyTimeoutMs, attach,
 *   foreignKeys).
 * - Catalog: ./catalog.ts. Types and affinity: ./types.ts. Values: ./values.ts. DDL: ./ddl.ts.
 * - Reads and splits: ./read.ts. Writes: ./write.ts.
 *
 * `defaultSchema` is `main`; attached databases are further schemas.
 */
import type Database from 'better-sqlite3'
import type { LogicalType, Row, TableRef } from '../../core/types.js'
import type { ConnectionConfig, Connector, QueryOptions, QueryResult, ReadSpec, Split, TestResult, WriteSpec } from '../types.js'
import { createCatalog, findRelation } from './catalog.js'
import { buildDdl } from './ddl.js'
import type { SplitOptions } from '../splits.js'
import { describeRead, planSplits, quoteTableRef, readSplit, statementColumns, stripQuery } from './read.js'
import { errorCode, quoteIdent, SqliteSession } from './session.js'
import { nativeTypeFor } from './types.js'
import { decoderFor } from './values.js'
import { openWriter } from './write.js'
import { abortError } from '../abort.js'

export { affinityOf, nativeTypeFor, parseDeclaredType } from './types.js'
export type { SqliteOptions } from './session.js'

/** Parameters for better-sqlite3: booleans as 1/0, undefined as NULL, integral safe numbers as INTEGER. */
function bindParams(params: unknown[]): unknown[] {
  return params.map((p) => {
    if (p === undefined) return null
    if (typeof p === 'boolean') return p ? 1 : 0
    if (typeof p === 'number' && Number.isSafeInteger(p)) return BigInt(p)
    return p
  })
}


/**
 * Create the SQLite connector for `config` (`config.path`: a file path, or `:memory:`). Nothing is
 * opened until the first call.
 * @throws Error when `config.path` is missing.
 */
export function createSqliteConnector(config: ConnectionConfig): Connector {
  const session = new SqliteSession(config)
  const defaultSchema = 'main'
  const db = (): Database.Database => session.main()

  const connector: Connector = {
    kind: 'sqlite',
    config,
    defaultSchema,
    catalog: createCatalog(db, defaultSchema),

    /**
     * Open the file on a fresh handle (without creating it unless `options.mustExist === false`),
     * read `sqlite_schema` (so a file that is not a database fails with SQLITE_NOTADB) and
     * `sqlite_version()`. Errors come back as data with better-sqlite3's message and code
     * (SQLITE_CANTOPEN, SQLITE_NOTADB...). `latencyMs` times the test queries.
     */
    async test(): Promise<TestResult> {
      const t0 = performance.now()
      let h: Database.Database | undefined
      try {
        const mustExist = session.options.mustExist ?? true
        h = session.openHandle(mustExist ? { readonly: true } : {})
        const t1 = performance.now()
        h.prepare('SELECT count(*) FROM sqlite_schema').get()
        const v = h.prepare('SELECT sqlite_version()').pluck().get() as string
        const latencyMs = Math.round((performance.now() - t1) * 100) / 100
        return { ok: true, latencyMs, serverVersion: `SQLite ${v}` }
      } catch (e) {
        const err = e as Error
        const out: TestResult = { ok: false, latencyMs: Math.round((performance.now() - t0) * 100) / 100, error: err?.message || String(e) }
        const code = errorCode(e)
        if (code) out.code = code
        return out
      } finally {
        h?.close()
      }
    },

    quoteIdent,
    quoteTable: (ref: TableRef) => quoteTableRef(ref, defaultSchema),

    splits: async (read: ReadSpec, count: number, opts?: SplitOptions) => planSplits(db(), read, count, defaultSchema, opts),
    read: (split: Split, opts) => readSplit(session, split, opts, defaultSchema),
    describeRead: async (read: ReadSpec) => describeRead(db(), read, defaultSchema).map(({ affinity: _a, ...c }) => c),
    writer: (spec: WriteSpec) => openWriter(session, spec, defaultSchema),

    nativeType: (t: LogicalType) => nativeTypeFor(t),
    ddl: (table, target, overrides) => buildDdl(table, target, defaultSchema, overrides),

    /**
     * Run one statement with `?` parameters on the main handle. Row-returning statements: rows as
     * canonical values (decoded per the result column's declared type, `other` for expressions),
     * at most `maxRows` (`truncated` set when more existed; the rest is never fetched). Other
     * statements: `affectedRows` = changes.
     */
    async query(sql: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<QueryResult> {
      if (opts.signal?.aborted) throw abortError('query')
      const stmt = db().prepare(stripQuery(sql))
      const bound = bindParams(params)
      if (!stmt.reader) {
        const info = stmt.run(...bound)
        return { columns: [], rows: [], affectedRows: info.changes }
      }
      const cols = statementColumns(stmt)
      const decoders = cols.map((c) => decoderFor(c.type, c.affinity))
      stmt.safeIntegers(true)
      stmt.raw(true)
      const rows: Row[] = []
      const max = opts.maxRows
      let truncated = false
      for (const r of stmt.iterate(...bound) as IterableIterator<unknown[]>) {
        if (max !== undefined && rows.length >= max) {
          truncated = true
          break
        }
        rows.push(r.map((v, i) => decoders[i]!(v)))
      }
      const out: QueryResult = { columns: cols.map(({ affinity: _a, ...c }) => c), rows }
      if (truncated) out.truncated = true
      return out
    },

    /** Run statements in order on the main handle (each may hold several `;`-separated statements); stops at the first error, naming its position. */
    async execute(statements: string[]): Promise<void> {
      const h = db()
      for (let i = 0; i < statements.length; i++) {
        try {
          h.exec(statements[i]!)
        } catch (e) {
          const err = e as Error
          err.message = `statement ${i + 1} of ${statements.length}: ${err.message}`
          throw err
        }
      }
    },

    /** Exact `count(*)` with an optional where (SQL text, wrapped in parentheses). @throws NotFoundError for a missing table. */
    async count(table: TableRef, where?: string): Promise<number> {
      const rel = findRelation(db(), table, defaultSchema)
      return db()
        .prepare(`SELECT count(*) FROM ${quoteTableRef({ schema: rel.schema, name: rel.name }, defaultSchema)}${where?.trim() ? ` WHERE (${where})` : ''}`)
        .safeIntegers(false)
        .pluck()
        .get() as number
    },

    close: async () => session.close(),
  }
  return connector
}
