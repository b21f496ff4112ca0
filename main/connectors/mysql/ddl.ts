/**
 * DDL to re-create a table (from any connector's catalog) in MySQL/MariaDB.
 *
 * - CREATE TABLE with ENGINE=InnoDB, utf8mb4 and a binary NO PAD collation ({@link binaryCollation}:
 *   compares like PostgreSQL and SQLite, trailing spaces included, so keys unique at the source stay
 *   unique here), NOT NULL, the defaults
 *   that translate (numbers, string literals, CURRENT_TIMESTAMP/now()), the primary key, and the
 *   AUTO_INCREMENT attribute (MySQL allows one, and it must lead an index: a KEY is added when it
 *   does not lead the primary key).
 * - Indexes after the data. InnoDB cannot index TEXT/BLOB without a prefix and caps keys at 3,072
 *   bytes, so such columns get a prefix (191 characters / 255 bytes, 768 characters for long
 *   VARCHAR) with a warning; on a UNIQUE index this makes uniqueness apply to the prefix. JSON and
 *   geometry columns are not indexed (warning).
 * - CHECK constraints in CREATE TABLE (MySQL 8.0.16+ and MariaDB 10.2+ enforce them; adding one
 *   later copies the table), or after the data when the server refuses them there.
 * - Foreign keys as `ALTER TABLE ... ADD CONSTRAINT`, after all tables' data.
 * - Sequences: after the load the AUTO_INCREMENT is set to GREATEST(MAX(col) + 1, the source's next
 *   value). ALTER TABLE takes only a literal, so the plan computes it into a user variable and
 *   runs the ALTER as a prepared statement; the four statements must run in order on one
 *   connection (`execute()` does).
 */
import { columnTypeSql, defaultUnfit, partitionNote, translateChecks, translateGenerated } from '../ddl-common.js'
import type { LogicalType, TableRef, TableSchema } from '../../core/types.js'
import type { DdlPlan } from '../types.js'
import { quoteIdent } from './read.js'
import { mysqlNativeType, sqlString } from './types.js'

/** Translate a column default (any dialect's SQL text) to MySQL, or undefined when it does not translate. */
export function translateDefault(def: string, t: LogicalType): string | undefined {
  let d = def.trim()
  // PostgreSQL casts: 'abc'::character varying, 0::numeric
  d = d.replace(/::[a-z_ ]+(\([\d, ]*\))?(\[\])?$/i, '').trim()
  if (/^\(.*\)$/.test(d) && !/^\(.*\)\s*\(/.test(d)) d = d.slice(1, -1).trim()
  if (/^null$/i.test(d)) return 'NULL'
  if (defaultUnfit(d, t)) return undefined
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(d)) return t.kind === 'bool' ? (Number(d) ? '1' : '0') : d
  if (/^(true|false)$/i.test(d)) return /^true$/i.test(d) ? '1' : '0'
  if (/^b'[01]*'$/i.test(d)) return d
  if (/^'(?:[^']|'')*'$/.test(d)) {
    const text = d.slice(1, -1).replace(/''/g, "'")
    if (t.kind === 'bool') return /^(t|true|1|y|yes|on)$/i.test(text) ? '1' : /^(f|false|0|n|no|off)$/i.test(text) ? '0' : undefined
    return sqlString(text)
  }
  // MariaDB reports its own literals with backslash escapes: keep them as they are.
  if (/^'(?:[^'\\]|\\.|'')*'$/.test(d)) return d
  if (/^(current_timestamp|now|localtimestamp|localtime)(\s*\(\s*\d*\s*\))?$/i.test(d) && (t.kind === 'datetime' || t.kind === 'timestamptz')) {
    const p = 'precision' in t && t.precision ? `(${Math.min(6, t.precision)})` : ''
    return `CURRENT_TIMESTAMP${p}`
  }
  return undefined
}

const NEEDS_PREFIX = /^(tiny|medium|long)?(text|blob)$/i

/**
 * The binary collation a created table gets: one with NO PAD, so 'a' and 'a ' stay two keys as
 * they are in PostgreSQL and SQLite (utf8mb4_bin is PAD SPACE: a unique index would refuse the
 * second). MariaDB 10.2+ has utf8mb4_nopad_bin, MySQL 8.0 utf8mb4_0900_bin; older servers (or a
 * flavor not yet known) get utf8mb4_bin.
 */
export function binaryCollation(flavor?: { version: string; mariadb: boolean }): string {
  if (!flavor) return 'utf8mb4_bin'
  const [maj = 0, min = 0] = flavor.version.split(/[.-]/).map(Number)
  if (flavor.mariadb) return maj > 10 || (maj === 10 && min >= 2) ? 'utf8mb4_nopad_bin' : 'utf8mb4_bin'
  return maj >= 8 ? 'utf8mb4_0900_bin' : 'utf8mb4_bin'
}

/**
 * Build the {@link DdlPlan} for `table` under the name `target`. `overrides`: column -> native
 * type SQL. `flavor`: the server's, for the collation ({@link binaryCollation}).
 */
export function mysqlDdl(table: TableSchema, target: TableRef, quoteTable: (r: TableRef) => string, overrides: Record<string, string> = {}, flavor?: { version: string; mariadb: boolean }): DdlPlan {
  const warnings: string[] = []
  const gen = translateGenerated(table, 'mysql')
  const omitted: string[] = [...(table.omitted ?? []), ...gen.omitted]
  const collation = binaryCollation(flavor)
  const t = quoteTable(target)
  const native = new Map<string, string>()
  const lines: string[] = []
  const generated: string[] = []
  const autoCols = table.columns.filter((c) => c.autoIncrement)
  const autoCol = autoCols[0]
  if (autoCols.length > 1) warnings.push(`${table.name}: MySQL allows one AUTO_INCREMENT column; kept on '${autoCol!.name}' only`)

  for (const c of table.columns) {
    const sql = columnTypeSql(c, overrides, mysqlNativeType, warnings, `${table.name}.${c.name}`)
    native.set(c.name, sql)
    let line = `${quoteIdent(c.name)} ${sql}`
    const genExpr = overrides[c.name] === undefined ? gen.expressions.get(c.name) : undefined
    if (genExpr !== undefined) {
      line += ` AS (${genExpr}) ${c.generated!.stored ? 'STORED' : 'VIRTUAL'}`
      if (!c.nullable) line += ' NOT NULL'
      if (c.comment) line += ` COMMENT ${sqlString(c.comment)}`
      lines.push(line)
      generated.push(c.name)
      continue
    }
    if (!c.nullable) line += ' NOT NULL'
    if (c === autoCol) {
      line += ' AUTO_INCREMENT'
    } else if (c.default !== undefined) {
      const d = translateDefault(c.default, c.type)
      if (d === undefined) {
        if (!/^nextval\(/i.test(c.default)) omitted.push(`column ${c.name}: default ${c.default} has no MySQL translation (${defaultUnfit(c.default.replace(/::[a-z_ ]+$/i, ''), c.type) ?? 'no equivalent'}); dropped`)
      } else if (d !== 'NULL' || c.nullable) {
        const baseType = sql.split(/[\s(]/)[0]!.toUpperCase()
        // TEXT/BLOB/JSON/geometry take only expression defaults (MySQL 8.0.13+, MariaDB 10.2+).
        const expr = /TEXT$|BLOB$|^JSON$|^GEOMETRY|^POINT|^LINESTRING|^POLYGON|^MULTI/.test(baseType) && d !== 'NULL'
        line += ` DEFAULT ${expr ? `(${d})` : d}`
      }
    }
    if (c.comment) line += ` COMMENT ${sqlString(c.comment)}`
    lines.push(line)
  }

  const keyPart = (name: string, unique: boolean, what: string): string | undefined => {
    const sql = native.get(name)
    const col = table.columns.find((c) => c.name === name)
    if (!sql || !col) return quoteIdent(name)
    const base = sql.split(/[\s(]/)[0]!.toUpperCase()
    if (base === 'JSON' || /^(GEOMETRY|POINT|LINESTRING|POLYGON|MULTI|GEOMETRYCOLLECTION)/.test(base)) {
      warnings.push(`${table.name}: ${what} on ${base} column '${name}' skipped (not indexable with a plain index)`)
      return undefined
    }
    let prefix: number | undefined
    if (NEEDS_PREFIX.test(base)) prefix = /BLOB/.test(base) ? 255 : 191
    else if (base === 'VARCHAR' && Number(/\((\d+)\)/.exec(sql)?.[1] ?? 0) > 768) prefix = 768
    else if (base === 'VARBINARY' && Number(/\((\d+)\)/.exec(sql)?.[1] ?? 0) > 3072) prefix = 3072
    if (prefix === undefined) return quoteIdent(name)
    warnings.push(`${table.name}: ${what} on '${name}' (${sql}) uses a ${prefix}-${/BLOB|BINARY/.test(base) ? 'byte' : 'character'} prefix${unique ? '; uniqueness then applies to the prefix only' : ''}`)
    return `${quoteIdent(name)}(${prefix})`
  }

  const pkParts = table.primaryKey.map((n) => keyPart(n, true, 'PRIMARY KEY')).filter((x): x is string => !!x)
  if (pkParts.length) lines.push(`PRIMARY KEY (${pkParts.join(', ')})`)
  if (autoCol && table.primaryKey[0] !== autoCol.name) lines.push(`KEY ${quoteIdent(`${autoCol.name}_ai`)} (${quoteIdent(autoCol.name)})`)

  // CHECK constraints go in CREATE TABLE: MySQL and MariaDB add one to a filled table only by
  // copying the table (ALTER TABLE ... ADD CHECK is ALGORITHM=COPY; MySQL manual, "Online DDL
  // Operations"), 4-5 s per million rows. Inline, the load checks each row, and a row that
  // violates one is refused by the server, so it becomes a dirty record naming the constraint.
  // When the server refuses the expression itself, the table is created without them
  // (`createFallback`) and each is added after the data on its own.
  const translated = translateChecks(table, 'mysql')
  omitted.push(...translated.omitted)
  const checkLines = translated.checks.map((ck) => `CONSTRAINT ${quoteIdent(ck.name.slice(0, 64))} CHECK (${ck.sql})`)
  const comment = table.comment ? ` COMMENT=${sqlString(table.comment)}` : ''
  const createOf = (ls: string[]) => `CREATE TABLE ${t} (\n  ${ls.join(',\n  ')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}${comment}`
  const create = [createOf([...lines, ...checkLines])]
  const createFallback = checkLines.length
    ? { create: [createOf(lines)], indexes: translated.checks.map((ck) => `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(ck.name.slice(0, 64))} CHECK (${ck.sql})`) }
    : undefined

  const indexes: string[] = []
  const seen = new Set<string>()
  for (const ix of table.indexes) {
    if (ix.primary) continue
    const sig = `${ix.unique}:${ix.columns.join(',')}`
    if (seen.has(sig) || !ix.columns.length) continue
    seen.add(sig)
    const name = ix.name.length > 64 ? ix.name.slice(0, 64) : ix.name
    if (ix.method === 'fulltext' || ix.method === 'spatial') {
      indexes.push(`CREATE ${ix.method.toUpperCase()} INDEX ${quoteIdent(name)} ON ${t} (${ix.columns.map(quoteIdent).join(', ')})`)
      continue
    }
    if (ix.method) {
      omitted.push(`index ${ix.name} (${ix.method}) not created: MySQL has no such index`)
      continue
    }
    const parts = ix.columns.map((n) => keyPart(n, ix.unique, `index ${ix.name}`))
    if (parts.some((p) => p === undefined)) {
      omitted.push(`index ${ix.name} on ${ix.columns.join(', ')} not created: a column of it cannot be indexed in MySQL`)
      continue
    }
    indexes.push(`CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(name)} ON ${t} (${parts.join(', ')})`)
  }
  const pn = partitionNote(table)
  if (pn) omitted.push(pn)

  const foreignKeyFast: NonNullable<DdlPlan['foreignKeyFast']> = []
  const foreignKeys = table.foreignKeys.map((fk) => {
    const ref = quoteTable({ schema: target.schema, name: fk.refTable })
    const rule = (r: string | undefined, what: string) => (r && /^(CASCADE|SET NULL|RESTRICT|NO ACTION|SET DEFAULT)$/i.test(r) ? ` ON ${what} ${r.toUpperCase()}` : '')
    const alter = `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(fk.name.slice(0, 64))} FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${ref} (${fk.refColumns.map(quoteIdent).join(', ')})${rule(fk.onDelete, 'DELETE')}${rule(fk.onUpdate, 'UPDATE')}`
    // MariaDB: the check as a query, then the constraint added with the server's check off for
    // that statement only (SET STATEMENT, MariaDB 10.1.2+): InnoDB adds a foreign key in place only
    // when foreign_key_checks=0, otherwise it copies the whole child table (MySQL manual, "Online
    // DDL Operations", Foreign Key Operations) — 68 ms against 5 ms on a 5,000-row table. The
    // query finds a child row whose key columns are all non-NULL (MATCH SIMPLE, as InnoDB checks)
    // and have no parent row, compared as the constraint compares (the columns' collations).
    if (flavor?.mariadb && fk.columns.length === fk.refColumns.length) {
      const on = fk.columns.map((c, i) => `p.${quoteIdent(fk.refColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ')
      const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ')
      foreignKeyFast.push({
        orphans: `SELECT ${fk.columns.map((c) => `c.${quoteIdent(c)}`).join(', ')} FROM ${t} c LEFT JOIN ${ref} p ON ${on} WHERE ${notNull} AND p.${quoteIdent(fk.refColumns[0]!)} IS NULL LIMIT 1`,
        add: `SET STATEMENT foreign_key_checks = 0 FOR ${alter}`,
      })
    }
    return alter
  })

  const sequences: string[] = []
  if (autoCol) {
    const next = table.autoIncrementNext && /^\d+$/.test(table.autoIncrementNext) ? table.autoIncrementNext : '1'
    sequences.push(
      `SET @sluice_ai = (SELECT GREATEST(COALESCE(MAX(${quoteIdent(autoCol.name)}), 0) + 1, ${next}) FROM ${t})`,
      `SET @sluice_ai_sql = CONCAT(${sqlString(`ALTER TABLE ${t} AUTO_INCREMENT = `)}, @sluice_ai)`,
      'PREPARE sluice_ai_stmt FROM @sluice_ai_sql',
      'EXECUTE sluice_ai_stmt',
      'DEALLOCATE PREPARE sluice_ai_stmt',
    )
  }
  return { create, indexes, foreignKeys, sequences, warnings, omitted, ...(generated.length ? { generated } : {}), ...(createFallback ? { createFallback } : {}), ...(foreignKeyFast.length && foreignKeyFast.length === foreignKeys.length ? { foreignKeyFast } : {}) }
}

