/**
 * What every connector's DDL builder shares: choosing a column's native type, and a foreign key's
 * referential actions.
 */
import type { Column, ForeignKeyInfo, LogicalType, TableSchema } from '../core/types.js'
import type { NativeTypeChoice } from './types.js'
import { translateExpression, type Dialect } from './sql-expr.js'

/**
 * The native type SQL for `col`: the user's override (`typeOverrides` in the job) when there is
 * one, else the connector's mapping of the logical type; a mapping that is not exact adds its
 * warning, prefixed with `label` (e.g. `column "Total"` or `Invoice.Total`), to `warnings`.
 */
export function columnTypeSql(col: Column, overrides: Record<string, string>, nativeType: (t: LogicalType) => NativeTypeChoice, warnings: string[], label: string): string {
  const override = overrides[col.name]
  if (override !== undefined && override !== '') return override
  const choice = nativeType(col.type)
  if (choice.warning) warnings.push(`${label}: ${choice.warning}`)
  return choice.sql
}

/** Referential actions PostgreSQL and SQLite both accept (their manuals, "FOREIGN KEY" clauses). */
const FK_ACTIONS = new Set(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'])

/**
 * The ` ON DELETE …` / ` ON UPDATE …` clauses of a foreign key (NO ACTION, the default, is left
 * implicit); an action the target does not have is left out with a warning naming the key.
 */
export function fkActionClauses(fk: ForeignKeyInfo, warnings: string[]): string {
  let sql = ''
  for (const [clause, action] of [['ON DELETE', fk.onDelete], ['ON UPDATE', fk.onUpdate]] as const) {
    if (!action) continue
    const a = action.toUpperCase().replace(/\s+/g, ' ').trim()
    if (FK_ACTIONS.has(a)) {
      if (a !== 'NO ACTION') sql += ` ${clause} ${a}`
    } else warnings.push(`foreign key "${fk.name}": ${clause} ${action} not supported, left out`)
  }
  return sql
}

/**
 * Whether a default, already reduced to a literal (`'2024-01-01'`, `0`), can be held by a column
 * of logical type `t`; undefined when it can, else the reason. A MySQL zero date
 * (`'0000-00-00'`) is no date for PostgreSQL or SQLite, and a number (SQLite's `DEFAULT 0` on a
 * DATETIME) is no date or time at all: CREATE TABLE would fail (PostgreSQL) or every row would get
 * a value of the wrong kind (SQLite), so such a default is dropped with a warning instead.
 */
export function defaultUnfit(literal: string, t: LogicalType): string | undefined {
  const temporal = t.kind === 'date' || t.kind === 'datetime' || t.kind === 'timestamptz' || t.kind === 'time' || t.kind === 'year'
  if (!temporal) return undefined
  const d = literal.trim()
  if (/^\(?[+-]?\d+(\.\d+)?([eE][+-]?\d+)?\)?$/.test(d)) return t.kind === 'year' ? undefined : `a number is not a ${t.kind} value`
  const m = /^'(.*)'$/s.exec(d)
  if (!m) return undefined
  const text = m[1]!
  if (t.kind === 'time') return /^-?\d{1,3}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? undefined : `'${text}' is not a time value`
  const dm = /^(\d{4})-(\d{2})-(\d{2})([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}(:?\d{2})?|Z)?$/.exec(text)
  if (!dm) return `'${text}' is not a ${t.kind} value`
  if (dm[1] === '0000' || dm[2] === '00' || dm[3] === '00') return `'${text}' is a MySQL zero date`
  return undefined
}

/** Column names of a table mapped to themselves (CHECK and generated expressions refer to target columns by name). */
export function columnMap(table: TableSchema): Map<string, string> {
  const m = new Map(table.columns.map((c) => [c.name, c.name]))
  for (const [from, to] of Object.entries(table.renamed ?? {})) m.set(from, to)
  return m
}

/**
 * The CHECK constraints of `table` translated for `to` (main/connectors/sql-expr.ts): each as
 * `{ name, sql }`, or as a line for `omitted` naming the constraint and why it was left out.
 */
export function translateChecks(table: TableSchema, to: Dialect): { checks: Array<{ name: string; sql: string }>; omitted: string[] } {
  const checks: Array<{ name: string; sql: string }> = []
  const omitted: string[] = []
  const cols = columnMap(table)
  // SQLite keeps DECIMAL and unsigned BIGINT values as text (exactness, see sqlite/types.ts), where
  // `price < 100` would compare text with text: such a CHECK would refuse good rows.
  const textNumbers = new Set(to === 'sqlite' ? table.columns.filter((c) => c.type.kind === 'decimal' || (c.type.kind === 'int' && c.type.bits === 64 && c.type.unsigned)).map((c) => c.name) : [])
  // MySQL compares text by the column's collation (usually case- and trailing-space-insensitive),
  // SQLite byte for byte: a MySQL CHECK on text, created inline in SQLite (it cannot be added
  // after the data, where a violating row would only leave it out), could refuse rows MySQL took.
  const texts = new Set(to === 'sqlite' ? table.columns.filter((c) => ['string', 'text', 'enum', 'set'].includes(c.type.kind)).map((c) => c.name) : [])
  for (const ck of table.checks ?? []) {
    const r = translateExpression(ck.expression, ck.dialect, to, cols)
    const textual = r.ok ? r.columns.find((c) => textNumbers.has(c)) : undefined
    const collated = r.ok && ck.dialect === 'mysql' ? r.columns.find((c) => texts.has(c)) ?? (/'/.test(r.sql) ? '(a text literal)' : undefined) : undefined
    if (textual) omitted.push(`check ${ck.name} (${ck.expression}) not migrated: SQLite stores column ${textual} as exact text, where the comparison would differ`)
    else if (collated) omitted.push(`check ${ck.name} (${ck.expression}) not migrated: it compares text ${collated}, which MySQL does by collation and SQLite byte for byte`)
    else if (r.ok) checks.push({ name: ck.name, sql: r.sql })
    else omitted.push(`check ${ck.name} (${ck.expression}) not migrated: ${r.reason} has no equivalent known to be the same in ${to === 'postgres' ? 'PostgreSQL' : to === 'mysql' ? 'MySQL' : 'SQLite'}`)
  }
  return { checks, omitted }
}

/**
 * Generated columns of `table` for dialect `to`: the translated expression of each one that can be
 * re-created as a generated column (main/connectors/sql-expr.ts; not when it refers to another
 * generated column, which PostgreSQL forbids, or to an auto-increment column, which MySQL
 * forbids, or when it is part of the primary key), and a line for `omitted` for each other one,
 * which is created as a plain column holding the computed values the source had.
 */
export function translateGenerated(table: TableSchema, to: Dialect): { expressions: Map<string, string>; omitted: string[] } {
  const expressions = new Map<string, string>()
  const omitted: string[] = []
  const cols = columnMap(table)
  const generated = new Set(table.columns.filter((c) => c.generated).map((c) => c.name))
  const auto = new Set(table.columns.filter((c) => c.autoIncrement).map((c) => c.name))
  for (const c of table.columns) {
    const g = c.generated
    if (!g) continue
    const r = translateExpression(g.expression, g.dialect, to, cols)
    const why = !r.ok
      ? `${r.reason} has no equivalent known to be the same`
      : r.columns.some((x) => generated.has(x))
        ? 'it refers to another generated column'
        : to === 'mysql' && r.columns.some((x) => auto.has(x))
          ? 'it refers to the AUTO_INCREMENT column'
          : table.primaryKey.includes(c.name)
            ? 'it is part of the primary key'
            : undefined
    if (r.ok && !why) expressions.set(c.name, r.sql)
    else omitted.push(`column ${c.name}: generated (${g.stored ? 'stored' : 'virtual'}) AS (${g.expression}) in the source, not re-created (${why}): a plain column holding the computed values, which new rows do not compute`)
  }
  return { expressions, omitted }
}

/**
 * Line for `omitted` about a partitioned source table. It becomes one table in every target:
 * MySQL partitions are not used even where the bounds would be expressible, because InnoDB
 * refuses foreign keys on partitioned tables (and every unique key must contain the partition
 * key), so re-creating the partitions would cost the table its foreign keys; SQLite has none.
 */
export function partitionNote(table: TableSchema): string | undefined {
  const p = table.partitioning
  if (!p) return undefined
  return `partitioned by ${p.key} in the source (partitions ${p.partitions.join(', ') || 'none'}): created as one table holding every partition's rows; the partitioning is not re-created`
}
