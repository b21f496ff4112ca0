/**
 * Table-mapping files (Alibaba MMA's batch format, issue 15): one line per table,
 * `source_db.source_table[:partition spec],target_db.target_table`, e.g.
 *
 * ```
 * # source,target
 * sales.orders,dw.orders
 * sales.events:dt='20261204'/region='eu',dw.events_eu
 * sales.metrics:dt>='20261101'/dt<'20261201',dw.metrics_202611
 * ```
 *
 * Every line becomes one task of one job: the source `db.table` its source (schema + table), the
 * target table its target, and the partition spec its `where` (`col<op>value` terms joined by `/`,
 * ANDed; op one of = != <> >= <= > <; values quoted '...' or bare, always bound as SQL string
 * literals). Lines are parsed with csv-parse (so a quoted field may hold a comma); blank lines and
 * lines starting with `#` are skipped. Bad lines are reported with their line number.
 */
import { parse } from 'csv-parse/sync'
import type { JobSpecInput, TablePair } from './spec.js'

/** A bad line of a mapping file. `line` is 1-based. */
export interface MappingProblem {
  line: number
  message: string
}

/** The job built from a mapping file, and the lines that could not be used. */
export interface MappingResult {
  job: JobSpecInput
  problems: MappingProblem[]
  /** Lines turned into tasks. */
  tasks: number
}

const IDENT = /^[^\s.:,'"`]+$/

/** `'a''b'` -> `a'b`; bare text as is. */
function unquote(v: string): string {
  const t = v.trim()
  if (/^'(?:[^']|'')*'$/.test(t)) return t.slice(1, -1).replace(/''/g, "'")
  if (/^"(?:[^"]|"")*"$/.test(t)) return t.slice(1, -1).replace(/""/g, '"')
  return t
}

/**
 * A SQL string literal, single quotes doubled. A backslash is refused: MySQL reads it as an escape
 * (default sql_mode) and PostgreSQL does not, so no one spelling means the same on both.
 */
function literal(v: string): string {
  if (v.includes('\\')) throw new Error(`partition value '${v}' holds a backslash, which MySQL and PostgreSQL read differently`)
  return `'${v.replace(/'/g, "''")}'`
}

/**
 * A partition spec -> a where: `dt='20261204'/region=eu` -> `dt = '20261204' AND region = 'eu'`.
 * Column names are checked (letters, digits, `_`, `$`), never pasted raw otherwise.
 * @throws Error naming the bad term.
 */
export function partitionWhere(spec: string, quote: (name: string) => string = (n) => n): string {
  const terms = spec.split('/').map((s) => s.trim()).filter(Boolean)
  if (!terms.length) throw new Error('empty partition spec after ":"')
  return terms
    .map((term) => {
      const m = /^([A-Za-z_$][\w$]*)\s*(>=|<=|!=|<>|=|>|<)\s*(.+)$/.exec(term)
      if (!m) throw new Error(`partition term '${term}' is not column<op>value (op: = != <> >= <= > <)`)
      const value = unquote(m[3]!)
      return `${quote(m[1]!)} ${m[2]} ${literal(value)}`
    })
    .join(' AND ')
}

function splitName(text: string, what: string): { schema?: string; table: string } {
  const t = text.trim()
  if (!t) throw new Error(`${what} table is empty`)
  const parts = t.split('.')
  if (parts.length > 2) throw new Error(`${what} '${t}' is not [db.]table`)
  for (const p of parts) if (!IDENT.test(p)) throw new Error(`${what} '${t}' is not [db.]table`)
  return parts.length === 2 ? { schema: parts[0]!, table: parts[1]! } : { table: parts[0]! }
}

/**
 * Build one job from a mapping file's text.
 * @param o.reader / o.writer connection references (saved names or URLs), used as they are.
 */
export function jobFromMapping(text: string, o: { reader: string; writer: string; name?: string }): MappingResult {
  const problems: MappingProblem[] = []
  let records: string[][]
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: false, trim: true, comment: '#', comment_no_infix: true }) as string[][]
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 0
    return { job: emptyJob(o), problems: [{ line, message: (e as Error).message }], tasks: 0 }
  }
  // csv-parse drops nothing but comment lines' content; recover line numbers by re-walking the text.
  const lineNos = recordLines(text)
  const tables: TablePair[] = []
  let writerSchema: { name: string; line: number } | undefined
  const targets = new Map<string, number>()
  records.forEach((rec, i) => {
    const line = lineNos[i] ?? i + 1
    const fields = rec.filter((f, k) => !(f === '' && k >= 2))
    if (fields.length === 0 || (fields.length === 1 && fields[0] === '')) return
    try {
      if (fields.length !== 2) throw new Error(`expected 2 fields (source[:partition],target), got ${fields.length}`)
      const [srcText, tgtText] = fields as [string, string]
      const colon = srcText.indexOf(':')
      const src = splitName(colon >= 0 ? srcText.slice(0, colon) : srcText, 'source')
      const where = colon >= 0 ? partitionWhere(srcText.slice(colon + 1)) : undefined
      const tgt = splitName(tgtText, 'target')
      if (tgt.schema) {
        if (!writerSchema) writerSchema = { name: tgt.schema, line }
        else if (writerSchema.name !== tgt.schema) throw new Error(`target database '${tgt.schema}' differs from '${writerSchema.name}' (line ${writerSchema.line}): one job writes into one schema`)
      }
      const seen = targets.get(tgt.table)
      if (seen !== undefined) throw new Error(`target table '${tgt.table}' is already the target of line ${seen}`)
      targets.set(tgt.table, line)
      tables.push({ source: src.schema ? { schema: src.schema, table: src.table } : src.table, target: tgt.table, ...(where ? { where } : {}) } as TablePair)
    } catch (e) {
      problems.push({ line, message: (e as Error).message })
    }
  })
  if (!tables.length && !problems.length) problems.push({ line: 0, message: 'the mapping file has no table lines' })
  const job: JobSpecInput = {
    version: 1,
    name: o.name ?? 'table mapping',
    reader: { connection: o.reader },
    writer: { connection: o.writer, ...(writerSchema ? { schema: writerSchema.name } : {}) },
    tables: tables.length ? tables : [{ source: '' } as unknown as TablePair],
  }
  return { job, problems, tasks: tables.length }
}

function emptyJob(o: { reader: string; writer: string; name?: string }): JobSpecInput {
  return { version: 1, name: o.name ?? 'table mapping', reader: { connection: o.reader }, writer: { connection: o.writer }, tables: [] as unknown as TablePair[] }
}

/** 1-based line numbers of the records csv-parse returns (comment and blank lines skipped as it skips them). */
function recordLines(text: string): number[] {
  const out: number[] = []
  const lines = text.split(/\r\n|\n|\r/)
  let inQuote = false
  lines.forEach((l, i) => {
    if (!inQuote) {
      if (/^\s*#/.test(l)) return
      out.push(i + 1)
    }
    const quotes = (l.match(/"/g) ?? []).length
    if (quotes % 2 === 1) inQuote = !inQuote
  })
  return out
}
