/**
 * DDL to re-create a table (possibly described by another database's catalog) in SQLite, split
 * into the phases of {@link DdlPlan}.
 */
import { columnTypeSql, defaultUnfit, fkActionClauses, partitionNote, translateChecks, translateGenerated } from '../ddl-common.js'
import type { Column, TableRef, TableSchema } from '../../core/types.js'
import type { DdlPlan } from '../types.js'
import { quoteIdent } from './session.js'
import { affinityOf, nativeTypeFor } from './types.js'

/** An SQL string literal (single quotes doubled; SQLite has no backslash escapes). */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}


/**
 * Translate a column default (SQL text from the source catalog) for a column declared `sqlType`,
 * or return undefined (the caller warns and leaves it out). Translated: NULL; numeric literals
 * (quoted when the column has TEXT affinity, so `0.10` stays the text '0.10', not REAL 0.1);
 * string literals without backslashes (a trailing PostgreSQL `::type` cast is dropped);
 * TRUE/FALSE and b'0'/b'1' as 1/0; CURRENT_TIMESTAMP / now() / LOCALTIMESTAMP -> CURRENT_TIMESTAMP
 * for datetime, CURRENT_DATE, CURRENT_TIME, and for timestamptz an expression giving
 * `YYYY-MM-DD HH:MM:SS+00:00`. SQLite evaluates these in UTC (its documented behaviour), where
 * MySQL uses the session time zone.
 */
export function translateDefault(def: string, col: Column, sqlType: string): string | undefined {
  let d = def.trim()
  const castRe = /::[a-z_ ]+(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?$/i
  for (let i = 0; i < 3 && castRe.test(d); i++) d = d.replace(castRe, '').trim()
  while (/^\(.*\)$/.test(d) && !/^\(.*\).*\(/.test(d)) d = d.slice(1, -1).trim()
  const kind = col.type.kind
  const textual = affinityOf(sqlType) === 'TEXT'
  if (/^null$/i.test(d)) return 'NULL'
  if (defaultUnfit(d, col.type)) return undefined
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(d)) {
    if (kind === 'bool') return d === '0' ? '0' : d === '1' ? '1' : undefined
    return textual ? quoteLiteral(d) : d
  }
  if (/^(true|false)$/i.test(d)) return kind === 'bool' ? (/^true$/i.test(d) ? '1' : '0') : undefined
  if (/^b'[01]'$/i.test(d) && kind === 'bool') return d[2]!
  if (/^'(?:[^'\\]|'')*'$/.test(d)) {
    const inner = d.slice(1, -1).replace(/''/g, "'")
    if (kind === 'bool') return inner === '0' || inner === 'f' || inner === 'false' ? '0' : inner === '1' || inner === 't' || inner === 'true' ? '1' : undefined
    return quoteLiteral(inner)
  }
  const u = d.toUpperCase().replace(/\s+/g, '')
  if (/^(CURRENT_TIMESTAMP|NOW|LOCALTIMESTAMP|TRANSACTION_TIMESTAMP|STATEMENT_TIMESTAMP)(\(\d?\))?$/.test(u)) {
    if (kind === 'datetime') return 'CURRENT_TIMESTAMP'
    if (kind === 'timestamptz') return `(strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'))`
    return undefined
  }
  if (/^(CURRENT_DATE|CURDATE\(\))$/.test(u) && kind === 'date') return 'CURRENT_DATE'
  if (/^(CURRENT_TIME|CURTIME\(\)|LOCALTIME)(\(\d?\))?$/.test(u) && kind === 'time') return 'CURRENT_TIME'
  return undefined
}

/** Name of a re-created index: SQLite index names share one namespace per database with tables, so they are prefixed `<table>_`. */
export function indexName(table: string, index: string): string {
  return index.startsWith(`${table}_`) ? index : `${table}_${index}`
}

/**
 * DDL for `table` under the name `target` (schema: `target.schema ?? defaultSchema`).
 * - create: CREATE TABLE with types ({@link nativeTypeFor}, or `overrides[column]` verbatim), NOT
 *   NULL, translatable defaults, enum CHECK constraints, the primary key, and FOREIGN KEY clauses
 *   (SQLite cannot add a foreign key to an existing table, so they are inline; they are not
 *   enforced while foreign_keys is OFF, so load order does not matter). A single auto-increment
 *   integer primary key becomes `INTEGER PRIMARY KEY` (the rowid alias), with `AUTOINCREMENT`
 *   when the source reports a next value (`autoIncrementNext`) to carry over.
 * - indexes: CREATE [UNIQUE] INDEX for every non-primary index, named per {@link indexName}.
 * - foreignKeys: always empty.
 * - sequences: for AUTOINCREMENT, raise `sqlite_sequence` to the source's next value - 1 (SQLite
 *   itself keeps it at least at the largest rowid loaded); empty otherwise (the rowid continues from max + 1).
 * - warnings: types without an exact counterpart, defaults left out, cross-schema references.
 */
export function buildDdl(table: TableSchema, target: TableRef, defaultSchema: string, overrides: Record<string, string> = {}): DdlPlan {
  const schema = target.schema ?? defaultSchema
  const qTable = `${quoteIdent(schema)}.${quoteIdent(target.name)}`
  const warnings: string[] = []
  const gen = translateGenerated(table, 'sqlite')
  const omitted: string[] = [...(table.omitted ?? []), ...gen.omitted]
  const generated: string[] = []
  const onUpdate: Column[] = []
  const defs: string[] = []
  const pk = table.primaryKey
  let rowidAlias: string | undefined
  let autoincrement = false
  for (const col of table.columns) {
    const override = overrides[col.name]
    const sql = columnTypeSql(col, overrides, nativeTypeFor, warnings, `column "${col.name}"`)
    let def = `${quoteIdent(col.name)} ${sql}`
    const genExpr = override === undefined ? gen.expressions.get(col.name) : undefined
    if (genExpr !== undefined) {
      defs.push(`${def} GENERATED ALWAYS AS (${genExpr}) ${col.generated!.stored ? 'STORED' : 'VIRTUAL'}${col.nullable ? '' : ' NOT NULL'}`)
      generated.push(col.name)
      if (col.comment) omitted.push(`comment on column "${col.name}" not migrated: SQLite has no comments`)
      continue
    }
    const canAlias = col.type.kind === 'int' && !(col.type.bits === 64 && col.type.unsigned) && (override === undefined || override.trim().toUpperCase() === 'INTEGER')
    if (col.autoIncrement && pk.length === 1 && pk[0] === col.name && canAlias) {
      rowidAlias = col.name
      autoincrement = table.autoIncrementNext !== undefined && /^\d+$/.test(table.autoIncrementNext)
      def = `${quoteIdent(col.name)} INTEGER PRIMARY KEY${autoincrement ? ' AUTOINCREMENT' : ''}`
    } else {
      if (col.autoIncrement) warnings.push(`column "${col.name}": auto-increment is only possible on a single INTEGER PRIMARY KEY in SQLite, dropped`)
      if (col.default !== undefined) {
        const d = translateDefault(col.default, col, sql)
        if (d !== undefined) def += ` DEFAULT ${d}`
        else omitted.push(`column "${col.name}": default ${col.default} not translated (${defaultUnfit(col.default.replace(/::[a-z_ ]+$/i, ''), col.type) ?? 'no SQLite equivalent'}), left out`)
      }
    }
    if (!col.nullable) def += ' NOT NULL'
    // MySQL stores a value outside an ENUM's list as '' (index 0): the CHECK admits it.
    if (col.type.kind === 'enum' && override === undefined && col.type.values.length)
      def += ` CHECK (${quoteIdent(col.name)} IN (${[...col.type.values, ...(col.type.values.includes('') ? [] : [''])].map(quoteLiteral).join(', ')}))`
    if (col.onUpdateCurrentTimestamp && (col.type.kind === 'datetime' || col.type.kind === 'timestamptz')) onUpdate.push(col)
    if (col.comment) omitted.push(`comment on column "${col.name}" not migrated: SQLite has no comments`)
    defs.push(def)
  }
  if (table.comment) omitted.push('table comment not migrated: SQLite has no comments')
  // SQLite cannot add a CHECK to an existing table: translated ones go into CREATE TABLE (rows that
  // violate one become dirty records).
  const translated = translateChecks(table, 'sqlite')
  omitted.push(...translated.omitted)
  for (const ck of translated.checks) defs.push(`CONSTRAINT ${quoteIdent(ck.name)} CHECK (${ck.sql})`)
  if (pk.length && !rowidAlias) defs.push(`PRIMARY KEY (${pk.map(quoteIdent).join(', ')})`)
  for (const fk of table.foreignKeys) {
    if (fk.refSchema !== undefined && table.schema !== undefined && fk.refSchema !== table.schema)
      warnings.push(`foreign key "${fk.name}": references another schema "${fk.refSchema}"; SQLite resolves it in "${schema}"`)
    const refTable = fk.refTable === table.name && (fk.refSchema === undefined || fk.refSchema === table.schema) ? target.name : fk.refTable
    let sql = `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteIdent(refTable)}${fk.refColumns.length ? ` (${fk.refColumns.map(quoteIdent).join(', ')})` : ''}`
    sql += fkActionClauses(fk, warnings)
    defs.push(sql)
  }
  const create = [`CREATE TABLE ${qTable} (\n  ${defs.join(',\n  ')}\n)`]

  const indexes: string[] = []
  const used = new Set<string>()
  for (const ix of table.indexes) {
    if (ix.primary) continue
    let name = indexName(target.name, ix.name)
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${indexName(target.name, ix.name)}_${n}`
    used.add(name.toLowerCase())
    if (ix.method) {
      omitted.push(`index ${ix.name} (${ix.method.toUpperCase()} on ${ix.columns.join(', ')}) not created: SQLite has no such index (full-text search needs a separate FTS5 table)`)
      continue
    }
    indexes.push(`CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(schema)}.${quoteIdent(name)} ON ${quoteIdent(target.name)} (${ix.columns.map(quoteIdent).join(', ')})`)
  }
  // ON UPDATE CURRENT_TIMESTAMP as a trigger: when an UPDATE leaves the column unchanged it gets
  // the current time (UTC: SQLite's clock), as MySQL does. recursive_triggers is off by default,
  // so the trigger's own UPDATE does not fire it again.
  if (onUpdate.length) {
    const now = (c: Column) => (c.type.kind === 'timestamptz' ? `strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')` : 'CURRENT_TIMESTAMP')
    for (const c of onUpdate) {
      const q = quoteIdent(c.name)
      indexes.push(
        `CREATE TRIGGER ${quoteIdent(schema)}.${quoteIdent(`${target.name}_${c.name}_on_update`)} AFTER UPDATE ON ${quoteIdent(target.name)} FOR EACH ROW WHEN NEW.${q} IS OLD.${q} BEGIN UPDATE ${quoteIdent(target.name)} SET ${q} = ${now(c)} WHERE rowid = NEW.rowid; END`,
      )
    }
  }
  const pn = partitionNote(table)
  if (pn) omitted.push(pn)

  const sequences: string[] = []
  if (rowidAlias && autoincrement) {
    const seqTable = `${quoteIdent(schema)}.sqlite_sequence`
    const name = quoteLiteral(target.name)
    const floor = `max(${BigInt(table.autoIncrementNext!) - 1n}, (SELECT coalesce(max(${quoteIdent(rowidAlias)}), 0) FROM ${qTable}))`
    sequences.push(`UPDATE ${seqTable} SET seq = max(seq, ${floor}) WHERE name = ${name}`)
    sequences.push(`INSERT INTO ${seqTable} (name, seq) SELECT ${name}, ${floor} WHERE NOT EXISTS (SELECT 1 FROM ${seqTable} WHERE name = ${name})`)
  }
  return { create, indexes, foreignKeys: [], sequences, warnings, omitted, ...(generated.length ? { generated } : {}) }
}
