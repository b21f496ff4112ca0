/**
 * The MySQL/MariaDB catalog, read from information_schema (SCHEMATA, TABLES, COLUMNS, STATISTICS,
 * KEY_COLUMN_USAGE, REFERENTIAL_CONSTRAINTS, CHECK_CONSTRAINTS, TRIGGERS, ROUTINES, EVENTS).
 */
import type { CheckConstraint, Column, ForeignKeyInfo, IndexInfo, OtherObject, TableRef, TableSchema, TableSummary } from '../../core/types.js'
import { type CatalogReader, NotFoundError } from '../types.js'
import { cbQuery, type Session } from './session.js'
import { logicalFromNative, normalizeDefault } from './types.js'

/** Databases that belong to the server, never listed. */
export const SYSTEM_SCHEMAS = ['information_schema', 'mysql', 'performance_schema', 'sys']

type R = Record<string, unknown>

const str = (v: unknown) => (v === null || v === undefined ? undefined : String(v))
const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v))

/** A {@link CatalogReader} over `session`; `defaultSchema` is used when a ref has no schema. */
export function mysqlCatalog(session: Session, defaultSchema: () => Promise<string>): CatalogReader {
  const q = (sql: string, params: unknown[]) => session.with((c) => cbQuery<R[]>(c, sql, params))
  const schemaOf = async (s?: string) => s ?? (await defaultSchema())


  /**
   * Full descriptions of the tables `names` of schema `s` (every base table when `names` is
   * undefined), read with five queries whatever their number: a whole database of 300 tables
   * costs five round trips, not 1,500. Tables that do not exist are absent from the map.
   */
  async function readTables(s: string, names?: readonly string[]): Promise<Map<string, TableSchema>> {
    const out = new Map<string, TableSchema>()
    if (names && !names.length) return out
    // One name: `=`, which MariaDB's information_schema answers by opening that table only.
    const list = names ? (names.length === 1 ? ' = ?' : ` IN (${names.map(() => '?').join(',')})`) : ''
    const filter = names ? ` AND TABLE_NAME${list}` : ''
    const kfilter = names ? ` AND k.TABLE_NAME${list}` : ''
    const args = [s, ...(names ?? [])]
    const { mariadb } = await session.serverFlavor()
    // The lookups are independent: run them at once on pooled connections.
    const [tRows, checks, colRows, statRows, fkRows] = await Promise.all([
      q(`SELECT TABLE_NAME AS tn, TABLE_ROWS AS est, AUTO_INCREMENT AS ai, TABLE_COMMENT AS cmt, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?${filter}`, args),
      // CHECK constraints: MariaDB 10.2+ lists them with their table; MySQL 8.0.16+ through
      // TABLE_CONSTRAINTS (older MySQL parses CHECK and drops it: nothing to list).
      (mariadb
        ? q(`SELECT TABLE_NAME AS tn, CONSTRAINT_NAME AS n, CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?${filter} ORDER BY TABLE_NAME, CONSTRAINT_NAME`, args)
        : q(
            `SELECT tc.TABLE_NAME AS tn, cc.CONSTRAINT_NAME AS n, cc.CHECK_CLAUSE AS c FROM information_schema.TABLE_CONSTRAINTS tc
               JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
              WHERE tc.TABLE_SCHEMA = ?${names ? ` AND tc.TABLE_NAME${list}` : ''} AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME`,
            args,
          )
      ).catch(() => [] as R[]),
      q(
        `SELECT TABLE_NAME AS tn, COLUMN_NAME AS name, ORDINAL_POSITION AS pos, COLUMN_TYPE AS ctype, DATA_TYPE AS dtype, IS_NULLABLE AS nullable,
                COLUMN_DEFAULT AS def, EXTRA AS extra, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS coll, COLUMN_COMMENT AS cmt,
                GENERATION_EXPRESSION AS gexpr
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
        args,
      ),
      q(
        `SELECT TABLE_NAME AS tn, INDEX_NAME AS name, NON_UNIQUE AS nu, COLUMN_NAME AS col, SEQ_IN_INDEX AS seq, INDEX_TYPE AS itype FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
        args,
      ),
      q(
        `SELECT k.TABLE_NAME AS tn, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_SCHEMA AS rs, k.REFERENCED_TABLE_NAME AS rt,
                k.REFERENCED_COLUMN_NAME AS rc, r.UPDATE_RULE AS upd, r.DELETE_RULE AS del
           FROM information_schema.KEY_COLUMN_USAGE k
           JOIN information_schema.REFERENTIAL_CONSTRAINTS r
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
          WHERE k.TABLE_SCHEMA = ?${kfilter} AND k.REFERENCED_TABLE_NAME IS NOT NULL
          ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
        args,
      ),
    ])
    const by = (rows: R[]) => {
      const m = new Map<string, R[]>()
      for (const r of rows) {
        const k = String(r.tn)
        let l = m.get(k)
        if (!l) m.set(k, (l = []))
        l.push(r)
      }
      return m
    }
    const [checksBy, colsBy, statsBy, fksBy] = [by(checks), by(colRows), by(statRows), by(fkRows)]
    for (const t of tRows) {
      const name = String(t.tn)
      out.set(name, assembleTable(s, name, t, checksBy.get(name) ?? [], colsBy.get(name) ?? [], statsBy.get(name) ?? [], fksBy.get(name) ?? [], mariadb))
    }
    return out
  }

  return {
    async schemas() {
      const rows = await q(
        `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(',')}) ORDER BY SCHEMA_NAME`,
        SYSTEM_SCHEMAS,
      )
      return rows.map((r) => String(r.name))
    },

    async tables(schema) {
      const s = await schemaOf(schema)
      const rows = await q(
        `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS est FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`,
        [s],
      )
      return rows.map((r): TableSummary => {
        const t: TableSummary = { schema: s, name: String(r.name), kind: r.type === 'VIEW' ? 'view' : 'table' }
        if (r.type !== 'VIEW' && r.est !== null) t.estimatedRows = Number(r.est)
        return t
      })
    },

    async table(ref: TableRef): Promise<TableSchema> {
      const s = await schemaOf(ref.schema)
      const got = await readTables(s, [ref.name])
      const t = got.get(ref.name)
      if (!t) throw new NotFoundError(`table \`${s}\`.\`${ref.name}\` does not exist`)
      return t
    },

    async tablesDetailed(schema, names) {
      return readTables(await schemaOf(schema), names)
    },

    async others(schema) {
      const s = await schemaOf(schema)
      const out: OtherObject[] = []
      const add = (kind: OtherObject['kind'], rows: R[]) => rows.forEach((r) => out.push({ kind, schema: s, name: String(r.name) }))
      add('view', await q(`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'VIEW' ORDER BY 1`, [s]))
      add('sequence', await q(`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE' ORDER BY 1`, [s]))
      add('trigger', await q(`SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1`, [s]))
      add('routine', await q(`SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1`, [s]))
      add('event', await q(`SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1`, [s]))
      return out
    },
  }
}

/** One table's {@link TableSchema} from its information_schema rows (see readTables). */
function assembleTable(s: string, tableName: string, t: R, checks: R[], colRows: R[], statRows: R[], fkRows: R[], mariadb: boolean): TableSchema {
  const jsonCols = new Set<string>()
  const checkList: CheckConstraint[] = []
  for (const r of checks) {
    const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.c).trim())
    if (m && mariadb) jsonCols.add(m[1]!.replace(/``/g, '`'))
    else checkList.push({ name: String(r.n), expression: String(r.c).trim(), dialect: 'mysql' })
  }
  const columns = colRows.map((r): Column => {
    const name = String(r.name)
    const nativeType = String(r.ctype)
    const extra = String(r.extra ?? '')
    const c: Column = {
      name,
      ordinal: Number(r.pos),
      type: logicalFromNative(nativeType, jsonCols.has(name)),
      nativeType,
      nullable: r.nullable === 'YES',
    }
    const def = normalizeDefault(str(r.def) ?? null, mariadb, String(r.dtype), extra)
    if (def !== undefined) c.default = def
    if (/auto_increment/i.test(extra)) c.autoIncrement = true
    if (/on update current_timestamp/i.test(extra)) c.onUpdateCurrentTimestamp = true
    if (/\bGENERATED\b/i.test(extra) && r.gexpr) {
      c.generated = { expression: String(r.gexpr), stored: /STORED|PERSISTENT/i.test(extra), dialect: 'mysql' }
      delete c.default
    }
    if (r.cs) c.charset = String(r.cs)
    if (r.coll) c.collation = String(r.coll)
    if (r.cmt) c.comment = String(r.cmt)
    return c
  })

  const idx = new Map<string, IndexInfo>()
  for (const r of statRows) {
    const name = String(r.name)
    let i = idx.get(name)
    if (!i) {
      i = { name, columns: [], unique: Number(r.nu) === 0, primary: name === 'PRIMARY' }
      const method = String(r.itype ?? '').toLowerCase()
      if (method === 'fulltext' || method === 'spatial') i.method = method
      idx.set(name, i)
    }
    if (r.col !== null) i.columns.push(String(r.col))
  }
  const omitted: string[] = []
  // MySQL 8 functional key parts have no column: such an index cannot be described by names.
  for (const r of statRows)
    if (r.col === null && idx.has(String(r.name))) {
      omitted.push(`index ${String(r.name)} (a functional key part) not migrated: its expression is not translated`)
      idx.delete(String(r.name))
    }
  const indexes = [...idx.values()]
  const primaryKey = indexes.find((i) => i.primary)?.columns ?? []

  const fks = new Map<string, ForeignKeyInfo>()
  for (const r of fkRows) {
    const name = String(r.name)
    let f = fks.get(name)
    if (!f) {
      f = { name, columns: [], refSchema: str(r.rs), refTable: String(r.rt), refColumns: [], onUpdate: str(r.upd), onDelete: str(r.del) }
      fks.set(name, f)
    }
    f.columns.push(String(r.col))
    f.refColumns.push(String(r.rc))
  }

  const out: TableSchema = { schema: s, name: tableName, columns, primaryKey, indexes, foreignKeys: [...fks.values()] }
  const est = num(t.est)
  if (est !== undefined) out.estimatedRows = est
  if (t.ai !== null && t.ai !== undefined) out.autoIncrementNext = String(t.ai)
  if (t.cmt) out.comment = String(t.cmt)
  if (checkList.length) out.checks = checkList
  if (omitted.length) out.omitted = omitted
  return out
}
