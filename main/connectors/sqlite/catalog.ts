/**
 * The SQLite catalog, from `sqlite_schema` and the table-valued PRAGMA functions
 * (`pragma_table_xinfo`, `pragma_index_list`, `pragma_index_info`, `pragma_foreign_key_list`,
 * `pragma_table_list`, `pragma_database_list`), all with bound arguments.
 *
 * - Schemas: `main` and attached databases (`temp` excluded).
 * - Tables and views: `sqlite_schema` rows of type table/view, without SQLite's internal
 *   `sqlite_%` tables.
 * - Estimated rows: from `sqlite_stat1` (written by ANALYZE) when it has the table, else an exact
 *   `COUNT(*)` (SQLite keeps no row count; the count walks the smallest index, fine for the
 *   desktop-sized files this connector targets, and slow only on files of many millions of rows).
 *   Views get none.
 * - Columns: `pragma_table_xinfo` (generated columns included, hidden columns of virtual tables
 *   skipped); the logical type is parsed from the declared type ({@link parseDeclaredType}); the
 *   default is the SQL text SQLite stored.
 * - autoIncrement: a single-column INTEGER PRIMARY KEY of a rowid table (a rowid alias: SQLite
 *   assigns max(rowid)+1 when no value is given), with or without the AUTOINCREMENT keyword.
 *   `autoIncrementNext` is reported only for AUTOINCREMENT tables (`sqlite_sequence.seq + 1`).
 *   The `INTEGER PRIMARY KEY DESC` quirk (not an alias) is not detected.
 * - Indexes: `pragma_index_list`; the primary key's own autoindex (origin `pk`) is skipped, UNIQUE
 *   constraints' autoindexes (origin `u`) are kept as unique indexes. Expression and partial
 *   indexes are skipped (they cannot be described by column lists).
 * - Foreign keys: `pragma_foreign_key_list`, grouped by id; SQLite does not report constraint
 *   names, so they are named `fk_<table>_<id>`; a reference without columns means the parent's
 *   primary key, resolved here.
 */
import type Database from 'better-sqlite3'
import type { Column, ForeignKeyInfo, IndexInfo, OtherObject, TableRef, TableSchema, TableSummary } from '../../core/types.js'
import { NotFoundError, type CatalogReader } from '../types.js'
import { quoteIdent } from './session.js'
import { affinityOf, parseDeclaredType, type Affinity } from './types.js'
import { sqliteCreateChecks, sqliteGeneratedExpressions } from '../sql-expr.js'

/** A column with what the reader and writer need beyond {@link Column}: the declared type's affinity. */
export interface SqliteColumn extends Column {
  affinity: Affinity
}

/** A resolved table or view: its stored name and schema, kind and CREATE text. */
export interface Relation {
  schema: string
  name: string
  type: 'table' | 'view'
  sql: string | null
  withoutRowid: boolean
  strict: boolean
}

interface XInfoRow {
  cid: number
  name: string
  type: string
  notnull: number
  dflt_value: string | null
  pk: number
  hidden: number
}

/** Look a table or view up by name (case-insensitive, as SQLite resolves names). @throws NotFoundError */
export function findRelation(db: Database.Database, ref: TableRef, defaultSchema: string): Relation {
  const schema = ref.schema ?? defaultSchema
  const dbs = db.prepare('SELECT name FROM pragma_database_list').pluck().all() as string[]
  const s = dbs.find((d) => d.toLowerCase() === schema.toLowerCase())
  if (!s) throw new NotFoundError(`schema "${schema}" does not exist (attached: ${dbs.join(', ')})`)
  const row = db
    .prepare(`SELECT type, name, sql FROM ${quoteIdent(s)}.sqlite_schema WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE`)
    .get(ref.name) as { type: 'table' | 'view'; name: string; sql: string | null } | undefined
  if (!row) throw new NotFoundError(`table "${s}"."${ref.name}" does not exist`)
  const tl = db.prepare('SELECT wr, strict FROM pragma_table_list WHERE schema = ? AND name = ?').get(s, row.name) as { wr: number; strict: number } | undefined
  return { schema: s, name: row.name, type: row.type, sql: row.sql, withoutRowid: !!tl?.wr, strict: !!tl?.strict }
}

/** Columns of a resolved relation, in table order, with logical types and affinities. */
export function relationColumns(db: Database.Database, rel: Relation): { columns: SqliteColumn[]; primaryKey: string[] } {
  const rows = db.prepare('SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?)').all(rel.name, rel.schema) as XInfoRow[]
  const visible = rows.filter((r) => r.hidden !== 1)
  const primaryKey = visible
    .filter((r) => r.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((r) => r.name)
  const autoinc = !!rel.sql && /\bAUTOINCREMENT\b/i.test(rel.sql)
  const genExpr = rel.sql && visible.some((r) => r.hidden === 2 || r.hidden === 3) ? sqliteGeneratedExpressions(rel.sql) : undefined
  const columns = visible.map((r, i): SqliteColumn => {
    const c: SqliteColumn = {
      name: r.name,
      ordinal: i + 1,
      type: parseDeclaredType(r.type),
      nativeType: r.type ?? '',
      nullable: r.notnull === 0,
      affinity: affinityOf(r.type),
    }
    if (r.dflt_value !== null) c.default = r.dflt_value
    // hidden 2: a virtual generated column, 3: a stored one (pragma table_xinfo).
    if ((r.hidden === 2 || r.hidden === 3) && genExpr) c.generated = { expression: genExpr.get(r.name) ?? '?', stored: r.hidden === 3, dialect: 'sqlite' }
    if (rel.type === 'table' && !rel.withoutRowid && primaryKey.length === 1 && r.pk === 1 && (r.type ?? '').trim().toUpperCase() === 'INTEGER') {
      c.autoIncrement = true
      c.nullable = false // a rowid alias can never be NULL
    } else if (autoinc && r.pk === 1 && primaryKey.length === 1) c.autoIncrement = true
    return c
  })
  return { columns, primaryKey }
}

/** Row estimate of one table: sqlite_stat1 when present, else COUNT(*). */
function estimateRows(db: Database.Database, schema: string, name: string): number | undefined {
  const hasStat = db.prepare(`SELECT 1 FROM ${quoteIdent(schema)}.sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'`).get()
  if (hasStat) {
    const stat = db.prepare(`SELECT stat FROM ${quoteIdent(schema)}.sqlite_stat1 WHERE tbl = ? ORDER BY idx IS NOT NULL LIMIT 1`).pluck().get(name) as string | undefined
    const n = stat ? Number(stat.split(' ')[0]) : NaN
    if (Number.isFinite(n)) return n
  }
  try {
    const n = db.prepare(`SELECT count(*) FROM ${quoteIdent(schema)}.${quoteIdent(name)}`).safeIntegers(false).pluck().get() as number
    return n
  } catch {
    return undefined // e.g. a virtual table whose module is not loaded
  }
}

/** Create the catalog reader over the session's main handle. */
export function createCatalog(getDb: () => Database.Database, defaultSchema: string): CatalogReader {
  return {
    /** `main` and attached databases, in `PRAGMA database_list` order; `temp` excluded. */
    async schemas(): Promise<string[]> {
      const names = getDb().prepare('SELECT name FROM pragma_database_list ORDER BY seq').pluck().all() as string[]
      return names.filter((n) => n !== 'temp')
    },

    /** Tables and views of `schema` (default `main`), sorted by name, with row estimates for tables. */
    async tables(schema?: string): Promise<TableSummary[]> {
      const db = getDb()
      const s = schema ?? defaultSchema
      const rows = db
        .prepare(`SELECT type, name FROM ${quoteIdent(s)}.sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`)
        .all() as Array<{ type: 'table' | 'view'; name: string }>
      return rows.map((r) => {
        const t: TableSummary = { schema: s, name: r.name, kind: r.type }
        if (r.type === 'table') {
          const n = estimateRows(db, s, r.name)
          if (n !== undefined) t.estimatedRows = n
        }
        return t
      })
    },

    /** Full description of a table or view. @throws NotFoundError naming the table. */
    async table(ref: TableRef): Promise<TableSchema> {
      const db = getDb()
      const rel = findRelation(db, ref, defaultSchema)
      const { columns, primaryKey } = relationColumns(db, rel)
      const indexes: IndexInfo[] = []
      const foreignKeys: ForeignKeyInfo[] = []
      const omitted: string[] = []
      if (rel.type === 'table') {
        const list = db.prepare('SELECT name, "unique", origin, partial FROM pragma_index_list(?, ?) ORDER BY name').all(rel.name, rel.schema) as Array<{
          name: string
          unique: number
          origin: string
          partial: number
        }>
        for (const ix of list) {
          if (ix.origin === 'pk') continue
          const cols = db.prepare('SELECT cid, name FROM pragma_index_info(?, ?) ORDER BY seqno').all(ix.name, rel.schema) as Array<{ cid: number; name: string | null }>
          if (ix.partial || !cols.length || cols.some((c) => c.name === null || c.cid < 0)) {
            const def = db.prepare(`SELECT sql FROM ${quoteIdent(rel.schema)}.sqlite_schema WHERE type = 'index' AND name = ?`).pluck().get(ix.name) as string | null
            omitted.push(`index ${ix.name} not migrated: ${ix.partial ? 'a partial index' : 'an expression index'}${def ? ` (${def})` : ''}`)
            continue
          }
          indexes.push({ name: ix.name, columns: cols.map((c) => c.name!), unique: ix.unique === 1, primary: false })
        }
        const fkRows = db.prepare('SELECT id, seq, "table" AS ref, "from" AS col, "to" AS refcol, on_update, on_delete FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq').all(rel.name, rel.schema) as Array<{
          id: number
          seq: number
          ref: string
          col: string
          refcol: string | null
          on_update: string
          on_delete: string
        }>
        const byId = new Map<number, ForeignKeyInfo & { missing: boolean }>()
        for (const r of fkRows) {
          let fk = byId.get(r.id)
          if (!fk) {
            fk = { name: `fk_${rel.name}_${r.id}`, columns: [], refSchema: rel.schema, refTable: r.ref, refColumns: [], onDelete: r.on_delete, onUpdate: r.on_update, missing: false }
            byId.set(r.id, fk)
          }
          fk.columns.push(r.col)
          if (r.refcol === null) fk.missing = true
          else fk.refColumns.push(r.refcol)
        }
        for (const fk of byId.values()) {
          const { missing, ...info } = fk
          if (missing) {
            try {
              info.refColumns = relationColumns(db, findRelation(db, { schema: rel.schema, name: fk.refTable }, defaultSchema)).primaryKey
            } catch {
              info.refColumns = []
            }
          }
          foreignKeys.push(info)
        }
      }
      const out: TableSchema = { schema: rel.schema, name: rel.name, columns: columns.map(({ affinity: _a, ...c }) => c), primaryKey, indexes, foreignKeys }
      if (rel.type === 'table' && rel.sql) {
        const checks = sqliteCreateChecks(rel.sql, rel.name)
        if (checks.length) out.checks = checks.map((c) => ({ ...c, dialect: 'sqlite' as const }))
      }
      if (omitted.length) out.omitted = omitted
      if (rel.type === 'table') {
        const n = estimateRows(db, rel.schema, rel.name)
        if (n !== undefined) out.estimatedRows = n
        if (rel.sql && /\bAUTOINCREMENT\b/i.test(rel.sql)) {
          const hasSeq = db.prepare(`SELECT 1 FROM ${quoteIdent(rel.schema)}.sqlite_schema WHERE name = 'sqlite_sequence'`).get()
          const seq = hasSeq ? (db.prepare(`SELECT seq FROM ${quoteIdent(rel.schema)}.sqlite_sequence WHERE name = ?`).safeIntegers(true).pluck().get(rel.name) as bigint | undefined) : undefined
          out.autoIncrementNext = String((seq ?? 0n) + 1n)
        }
      }
      return out
    },

    /** Views and triggers of `schema` (default `main`). */
    async others(schema?: string): Promise<OtherObject[]> {
      const s = schema ?? defaultSchema
      const rows = getDb()
        .prepare(`SELECT type, name FROM ${quoteIdent(s)}.sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY type, name`)
        .all() as Array<{ type: 'view' | 'trigger'; name: string }>
      return rows.map((r) => ({ kind: r.type, schema: s, name: r.name }))
    },
  }
}
