/**
 * Field mapping <-> DataX-style `column` lists (DataX and DataWorks script mode share them).
 *
 * DataX matches reader and writer `column` items by position (same-row mapping): the n-th reader
 * item feeds the n-th writer column. Reader items are SQL evaluated by the source database
 * (column names, constants, expressions); writer items are column names only (mysqlwriter.md:
 * "column 不能配置任何常量值"). `["*"]` means every column in table order.
 *
 * Canonical forms (what an import produces, so export -> import is the identity on them):
 * - reader `*` and writer `*`: no `columns`, `mappingMode: 'position'`;
 * - reader list and writer `*`: `columns`, `mappingMode: 'position'`;
 * - equal reader and writer name lists: `columns` only (same-name = same-row there);
 * - anything else: `mapping` (by source name, constants, or by position for `*` / querySql readers), no `columns`.
 */
import type { ConnectorKind } from '../../connectors/types.js'
import type { FieldMapping, TablePair } from '../spec.js'
import { classifyColumnItem, quoteAlways, quoteIdent, type NormalizedPair } from './common.js'

/** Reader and writer `column` lists of one pair; `reader` is absent for a querySql source. */
export interface ColumnLists {
  reader?: string[]
  writer: string[]
}

/**
 * Build the `column` lists for a pair. Whatever DataX cannot express (nullDefault, timeFormat,
 * by-position mapping onto unknown columns, same-name matching) is pushed to `warnings`.
 */
export function exportColumns(np: NormalizedPair, rk: ConnectorKind, wk: ConnectorKind, warnings: string[], format: string): ColumnLists {
  const rq = (n: string) => quoteIdent(rk, n)
  const wq = (n: string) => quoteIdent(wk, n)
  if (np.mapping) {
    const reader: string[] = []
    const writer: string[] = []
    const positions: number[] = []
    np.mapping.forEach((m, j) => {
      const at = `${np.path}.mapping[${j}]`
      if (m.nullDefault !== undefined) warnings.push(`${at}.nullDefault: ${format} has no NULL default; NULLs are written as NULL`)
      if (m.timeFormat) warnings.push(`${at}.timeFormat: ${format} cannot re-format text times (${m.timeFormat.from}${m.timeFormat.to ? ' -> ' + m.timeFormat.to : ''}); the text is written as read`)
      writer.push(wq(m.target))
      if (m.constant !== undefined) {
        if (np.querySql) warnings.push(`${at}.constant: a querySql reader has no column list to carry the constant; add it to the query`)
        reader.push(sqlConstant(rk, m.constant))
        warnings.push(`${at}.constant: exported as the SQL literal ${sqlConstant(rk, m.constant)} in the reader's column list; the source database evaluates it`)
      } else if (m.position !== undefined) {
        positions.push(m.position)
        if (np.columns && np.columns[m.position] !== undefined) reader.push(rq(np.columns[m.position]!))
        else reader.push('')
      } else reader.push(rq(m.source ?? m.target))
    })
    if (positions.length) {
      const inOrder = positions.length === np.mapping.length && positions.every((p, k) => p === k)
      if (np.querySql || !np.columns) {
        if (!inOrder) warnings.push(`${np.path}.mapping: positions ${positions.join(',')} cannot be expressed without source column names; ${format} matches the query / "*" columns to the writer list in order`)
        return np.querySql ? { writer } : { reader: ['*'], writer }
      }
    }
    return np.querySql ? { writer } : { reader, writer }
  }
  if (np.querySql) {
    if (np.mappingMode !== 'position') warnings.push(`${np.path}: same-name mapping of a querySql result: ${format} writes the query's columns by position into writer column ["*"]; list the target columns if their order differs`)
    return { writer: ['*'] }
  }
  if (np.columns) {
    if (np.mappingMode === 'position') return { reader: np.columns.map(rq), writer: ['*'] }
    return { reader: np.columns.map(rq), writer: np.columns.map(wq) }
  }
  if (np.mappingMode !== 'position')
    warnings.push(`${np.path}: same-name mapping without a column list: exported as column ["*"] -> ["*"], which ${format} matches by position; correct only when the target's columns are in the source's order (list the columns to be safe)`)
  return { reader: ['*'], writer: ['*'] }
}

function sqlConstant(kind: ConnectorKind, v: string | number | boolean | null): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') return String(v)
  const body = kind === 'mysql' ? v.replace(/\\/g, '\\\\').replace(/'/g, "''") : v.replace(/'/g, "''")
  return `'${body}'`
}

/** What an import makes of one pair's column lists. */
export interface ImportedColumns {
  columns?: string[]
  mapping?: FieldMapping[]
  mappingMode?: 'position'
  /** Set when a reader item is an expression: the pair then reads through this query. */
  querySql?: string
}

/**
 * Put imported columns on a table pair: a forced querySql replaces the source; otherwise the
 * column list, and the reader's `where` and `splitPk` unless the reader itself was a querySql
 * (DataX and DataWorks ignore them then). Shared by the DataX and DataWorks importers.
 */
export function applyImportedColumns(pair: Partial<TablePair>, cols: ImportedColumns, reader: { querySql?: string; where?: string; splitPk?: string }): void {
  if (cols.querySql) pair.source = { querySql: cols.querySql }
  else {
    if (cols.columns) pair.columns = cols.columns
    if (!reader.querySql && reader.where) pair.where = reader.where
    if (!reader.querySql && reader.splitPk) pair.splitPk = reader.splitPk
  }
  if (cols.mapping) pair.mapping = cols.mapping
  if (cols.mappingMode) pair.mappingMode = cols.mappingMode
}

/**
 * Turn reader / writer `column` lists into Sluice columns + mapping (see the canonical forms above).
 * @param reader undefined for a querySql reader.
 * @param table the source table as written in the job (used when expressions force a querySql).
 * @returns undefined when the lists cannot be matched (the reason is in `report`).
 */
export function importColumns(
  rk: ConnectorKind,
  wk: ConnectorKind,
  reader: string[] | undefined,
  writer: string[],
  src: { table?: string; schema?: string; where?: string },
  report: string[],
  at: string,
): ImportedColumns | undefined {
  const wItems = writer.map((w) => w.trim())
  const wAll = wItems.length === 1 && wItems[0] === '*'
  const wNames = wAll ? [] : wItems.map((w) => {
    const c = classifyColumnItem(wk, w)
    return c.kind === 'column' ? c.name : w
  })
  if (!reader) {
    if (wAll) return { mappingMode: 'position' }
    return { mapping: wNames.map((target, position) => ({ target, position })) }
  }
  const items = reader.map((r) => classifyColumnItem(rk, r))
  const rAll = items.length === 1 && items[0]!.kind === 'all'
  if (rAll) {
    if (wAll) return { mappingMode: 'position' }
    return { mapping: wNames.map((target, position) => ({ target, position })) }
  }
  if (items.some((i) => i.kind === 'all')) {
    report.push(`${at}.reader.column: "*" mixed with other items is not supported`)
    return undefined
  }
  if (items.some((i) => i.kind === 'expression')) {
    // The source database evaluates expressions, as DataX lets it: read through a query instead.
    const exprs = items.filter((i) => i.kind === 'expression').map((i) => (i as { sql: string }).sql)
    const from = src.schema ? `${quoteAlways(rk, src.schema)}.${quoteAlways(rk, src.table ?? '')}` : quoteAlways(rk, src.table ?? '')
    const sql = `SELECT ${reader.map((r) => r.trim()).join(', ')} FROM ${from}${src.where ? ` WHERE ${src.where}` : ''}`
    report.push(`${at}.reader.column: expression(s) ${exprs.join(', ')} are evaluated by the source database: the pair reads through querySql "${sql}" (splitPk no longer applies)`)
    if (wAll) return { querySql: sql, mappingMode: 'position' }
    if (wNames.length !== items.length) {
      report.push(`${at}: reader has ${items.length} columns but writer has ${wNames.length}; DataX requires the same count`)
      return undefined
    }
    return { querySql: sql, mapping: wNames.map((target, position) => ({ target, position })) }
  }
  for (const i of items) if (i.kind === 'constant' && i.note) report.push(`${at}.reader.column: ${i.note}`)
  const colNames = items.filter((i) => i.kind === 'column').map((i) => (i as { name: string }).name)
  if (wAll) {
    if (colNames.length !== items.length) {
      report.push(`${at}: constants in the reader column list need named writer columns (writer column is ["*"]); the constants are left out`)
    }
    return { columns: colNames, mappingMode: 'position' }
  }
  if (wNames.length !== items.length) {
    report.push(`${at}: reader has ${items.length} columns but writer has ${wNames.length}; DataX requires the same count`)
    return undefined
  }
  if (colNames.length === items.length && colNames.every((n, k) => n === wNames[k])) return { columns: colNames }
  const mapping: FieldMapping[] = items.map((i, k) => {
    const target = wNames[k]!
    if (i.kind === 'constant') return { target, constant: i.value }
    return { source: (i as { name: string }).name, target }
  })
  return { mapping }
}
