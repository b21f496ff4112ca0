/**
 * Pieces shared by the DataX, DataWorks and SeaTunnel converters: password placeholders,
 * JDBC URLs, identifier quoting, SQL literals for constants, and the normalized table pair the
 * exporters work from.
 */
import type { ConnectionConfig, ConnectorKind } from '../../connectors/types.js'
import { isConnectionUrl } from '../../connectors/url.js'
import type { ConnectionRef, FieldMapping, JobSpec, TablePair } from '../spec.js'

/** An import or export that cannot produce anything runnable. */
export class InteropError extends Error {
  override name = 'InteropError'
  constructor(
    message: string,
    /** The report lines gathered before giving up. */
    readonly report: string[] = [],
  ) {
    super(message)
  }
}

/** A connection as an import hands it back: its settings plus the name it was given. */
export type NamedConnection = ConnectionConfig & { name: string }

/** The export formats. `seatunnel-hocon` and `seatunnel-json` are the same config in two syntaxes. */
export type ExportFormat = 'datax' | 'dataworks' | 'seatunnel-hocon' | 'seatunnel-json'

/** One exported file. */
export interface ExportedFile {
  name: string
  content: string
}

/** What an export returns: the files and every thing the format could not express. */
export interface ExportResult {
  files: ExportedFile[]
  warnings: string[]
}

/** Options of {@link exportJob}. */
export interface ExportOptions {
  /**
   * Table names for a whole-database selection (`tables: { include: '*' }`), resolved by the
   * caller from the reader's catalog. Without it such a job exports nothing (and says so).
   */
  tables?: string[]
}

/**
 * The placeholder that stands for a connection's password in exported files:
 * `${PASSWORD_<NAME>}`, the name uppercased and every non-alphanumeric character turned into `_`.
 */
export function passwordVar(connectionName: string): string {
  return `PASSWORD_${connectionName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
}

/** The name a side's connection goes by in exported files: the saved connection's name, else `reader` / `writer`. */
export function connectionName(ref: ConnectionRef, side: 'reader' | 'writer'): string {
  return typeof ref === 'string' && !isConnectionUrl(ref) ? ref : side
}

/** JDBC driver class names, as SeaTunnel's Jdbc connector documents them (appendix of `docs/en/connector-v2/source/Jdbc.md`). */
export const JDBC_DRIVER: Record<ConnectorKind, string> = {
  mysql: 'com.mysql.cj.jdbc.Driver',
  postgres: 'org.postgresql.Driver',
  sqlite: 'org.sqlite.JDBC',
}

function hostPart(host: string | undefined): string {
  const h = host ?? '127.0.0.1'
  return h.includes(':') ? `[${h}]` : h
}

/**
 * The JDBC URL of a connection, never with its password: `jdbc:mysql://host:port/db`,
 * `jdbc:postgresql://host:port/db[?currentSchema=s]` (pgJDBC's `currentSchema` parameter), `jdbc:sqlite:path`.
 */
export function jdbcUrl(c: ConnectionConfig, schema?: string): string {
  if (c.kind === 'sqlite') return `jdbc:sqlite:${c.path ?? ''}`
  const port = c.port ?? (c.kind === 'mysql' ? 3306 : 5432)
  const db = encodeURIComponent(c.database ?? '')
  if (c.kind === 'mysql') return `jdbc:mysql://${hostPart(c.host)}:${port}/${db}`
  return `jdbc:postgresql://${hostPart(c.host)}:${port}/${db}${schema ? `?currentSchema=${encodeURIComponent(schema)}` : ''}`
}

/** A parsed JDBC URL: the connection settings plus the URL parameters Sluice did not use. */
export interface ParsedJdbcUrl {
  config: ConnectionConfig
  /** pgJDBC `currentSchema`. */
  schema?: string
  /** Parameters that have no Sluice meaning (reported by the importers). */
  ignoredParams: string[]
}

/**
 * Parse `jdbc:mysql://host[:port]/db[?k=v...]`, `jdbc:mariadb://...`, `jdbc:postgresql://host[:port]/db[?currentSchema=s]`
 * or `jdbc:sqlite:path`.
 * @throws InteropError naming the URL when it is none of these.
 */
export function parseJdbcUrl(url: string): ParsedJdbcUrl {
  const m = /^jdbc:(mysql|mariadb|postgresql|sqlite):(.*)$/i.exec(url.trim())
  if (!m) throw new InteropError(`jdbcUrl '${url}': not a MySQL, PostgreSQL or SQLite JDBC URL`)
  const scheme = m[1]!.toLowerCase()
  if (scheme === 'sqlite') return { config: { kind: 'sqlite', path: m[2]! }, ignoredParams: [] }
  let u: URL
  try {
    u = new URL(`${scheme === 'postgresql' ? 'postgres' : 'mysql'}:${m[2]!}`)
  } catch {
    throw new InteropError(`jdbcUrl '${url}': not a valid URL`)
  }
  const kind: ConnectorKind = scheme === 'postgresql' ? 'postgres' : 'mysql'
  const config: ConnectionConfig = {
    kind,
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : kind === 'mysql' ? 3306 : 5432,
  }
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (db) config.database = db
  let schema: string | undefined
  const ignoredParams: string[] = []
  for (const [k, v] of u.searchParams) {
    if (kind === 'postgres' && k === 'currentSchema') schema = v
    else ignoredParams.push(`${k}=${v}`)
  }
  return { config, ...(schema ? { schema } : {}), ignoredParams }
}

const MYSQL_PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*$/
const PG_PLAIN = /^[a-z_][a-z0-9_$]*$/
/** Words both dialects reserve that users commonly give columns; quoted even though they look plain. */
const RESERVED = new Set(['all', 'and', 'as', 'asc', 'between', 'by', 'case', 'check', 'column', 'create', 'default', 'delete', 'desc', 'distinct', 'drop', 'else', 'end', 'false', 'from', 'group', 'having', 'in', 'index', 'insert', 'into', 'is', 'join', 'key', 'like', 'limit', 'not', 'null', 'on', 'or', 'order', 'primary', 'references', 'select', 'table', 'then', 'to', 'true', 'union', 'unique', 'update', 'user', 'using', 'values', 'when', 'where', 'with'])

/**
 * Quote an identifier for SQL that DataX / SeaTunnel paste verbatim into their statements, only
 * when needed: MySQL backquotes (`` ` `` doubled), PostgreSQL / SQLite double quotes (`"` doubled).
 * PostgreSQL folds unquoted names to lower case, so any upper-case letter forces quotes there.
 */
export function quoteIdent(kind: ConnectorKind, name: string): string {
  const plain = kind === 'mysql' ? MYSQL_PLAIN.test(name) : PG_PLAIN.test(name)
  if (plain && !RESERVED.has(name.toLowerCase())) return name
  return kind === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"'
}

/** Always quote (for SQL Sluice writes itself, e.g. SeaTunnel `query`). */
export function quoteAlways(kind: ConnectorKind, name: string): string {
  return kind === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"'
}

/**
 * Undo one level of identifier quoting: `` `a``b` `` -> ``a`b``, `"x"` -> `x` (the latter for PostgreSQL / SQLite only:
 * in MySQL's default sql_mode a double-quoted item is a string). Returns undefined when `s` is not one quoted identifier.
 */
export function unquoteIdent(kind: ConnectorKind, s: string): string | undefined {
  const bq = /^`((?:[^`]|``)+)`$/.exec(s)
  if (bq) return bq[1]!.replace(/``/g, '`')
  if (kind !== 'mysql') {
    const dq = /^"((?:[^"]|"")+)"$/.exec(s)
    if (dq) return dq[1]!.replace(/""/g, '"')
  }
  return undefined
}

/**
 * Split a table reference on its unquoted dot: `sales.orders` / `"Sales"."Orders"` -> schema and table.
 * Each part is unquoted. A reference with no dot gives only `table`.
 */
export function splitTableRef(kind: ConnectorKind, ref: string): { schema?: string; table: string } {
  const parts: string[] = []
  let cur = ''
  let q: string | undefined
  for (let i = 0; i < ref.length; i++) {
    const ch = ref[i]!
    if (q) {
      cur += ch
      if (ch === q) {
        if (ref[i + 1] === q) cur += ref[++i]!
        else q = undefined
      }
    } else if (ch === '`' || ch === '"') {
      q = ch
      cur += ch
    } else if (ch === '.') {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  const un = (p: string) => unquoteIdent(kind, p.trim()) ?? p.trim()
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: un(parts[0]), table: un(parts[1]) }
  return { table: un(ref) }
}

/**
 * A constant as a SQL literal of the source dialect (DataX readers evaluate `column` items as SQL):
 * strings in single quotes (`'` doubled; MySQL also doubles `\`, its default escape character),
 * numbers as written, booleans as TRUE / FALSE, null as NULL.
 */
export function sqlLiteral(kind: ConnectorKind, v: string | number | boolean | null): string {
  if (v === null) return 'NULL'
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v === 'number') return String(v)
  const body = kind === 'mysql' ? v.replace(/\\/g, '\\\\').replace(/'/g, "''") : v.replace(/'/g, "''")
  return `'${body}'`
}

/** What one DataX reader `column` item is. */
export type ColumnItem =
  | { kind: 'all' }
  | { kind: 'column'; name: string }
  | { kind: 'constant'; value: string | number | boolean | null; note?: string }
  | { kind: 'expression'; sql: string }

/**
 * Classify one reader `column` item the way DataX's RDBMS readers document it (mysqlreader.md:
 * `["id", "`table`", "1", "'bazhen.csy'", "null", "to_char(a + 1)", "2.3", "true"]`;
 * postgresqlreader.md: `["id", "'hello'::varchar", "true", "2.5::real", "power(2,3)"]`).
 * Numbers that a JS number cannot hold exactly stay strings (never rounded).
 */
export function classifyColumnItem(kind: ConnectorKind, raw: string): ColumnItem {
  const s = raw.trim()
  if (s === '*') return { kind: 'all' }
  const q = unquoteIdent(kind, s)
  if (q !== undefined) return { kind: 'column', name: q }
  const lower = s.toLowerCase()
  if (lower === 'null') return { kind: 'constant', value: null }
  if (lower === 'true' || lower === 'false') return { kind: 'constant', value: lower === 'true' }
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(s)) return { kind: 'column', name: s }
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const n = Number(s)
    return { kind: 'constant', value: Number.isFinite(n) && String(n) === s.replace(/^\+/, '') ? n : s, ...(String(n) === s.replace(/^\+/, '') ? {} : { note: `numeric constant ${s} kept as the text '${s}' (a JS number would change it)` }) }
  }
  const str = kind === 'mysql' ? /^(['"])((?:\\.|(?!\1).|\1\1)*)\1((?:::[A-Za-z ]+)?)$/s.exec(s) : /^(')((?:[^']|'')*)'((?:::[A-Za-z ]+)?)$/s.exec(s)
  if (str) {
    const quote = str[1]!
    let body = str[2]!.split(quote + quote).join(quote)
    if (kind === 'mysql') body = body.replace(/\\(.)/gs, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c)
    return { kind: 'constant', value: body, ...(str[3] ? { note: `constant ${s}: the cast ${str[3]} is dropped; the target column's type decides` } : {}) }
  }
  return { kind: 'expression', sql: s }
}

/** A table pair with every default of the job applied: what the exporters work from. */
export interface NormalizedPair {
  index: number
  /** JSON path of the pair in the job, for warnings. */
  path: string
  sourceTable?: string
  sourceSchema?: string
  querySql?: string
  target: string
  columns?: string[]
  where?: string
  splitPk?: string
  mapping?: FieldMapping[]
  mappingMode?: 'name' | 'position'
  writeMode: 'insert' | 'replace' | 'update'
  truncate: boolean
  preSql: string[]
  postSql: string[]
  typeOverrides?: Record<string, string>
}

/**
 * Expand the job's tables into normalized pairs. A whole-database selection needs `opts.tables`;
 * without it a warning is added and no pair is returned.
 */
export function normalizePairs(job: JobSpec, tables: string[] | undefined, warnings: string[]): NormalizedPair[] {
  let pairs: Array<{ pair: TablePair; path: string }>
  if (Array.isArray(job.tables)) pairs = job.tables.map((pair, i) => ({ pair, path: `$.tables[${i}]` }))
  else {
    const sel = job.tables
    const exclude = new Set(sel.exclude)
    let names: string[]
    if (sel.include === '*') {
      if (!tables) {
        warnings.push('$.tables: a whole-database selection ({ include: "*" }) needs the table list; pass the reader\'s tables (ExportOptions.tables / --tables). Nothing exported.')
        return []
      }
      names = tables
    } else names = sel.include
    pairs = names.filter((n) => !exclude.has(n)).map((n, i) => ({ pair: { source: n }, path: `$.tables.include[${i}]` }))
  }
  const caseFn = job.writer.identifierCase === 'lower' ? (s: string) => s.toLowerCase() : (s: string) => s
  return pairs.map(({ pair, path }, index) => {
    const src = typeof pair.source === 'string' ? { table: pair.source } : pair.source
    const np: NormalizedPair = {
      index,
      path,
      target: pair.target ?? caseFn(src.table ?? `query${index + 1}`),
      writeMode: pair.writeMode ?? job.writer.writeMode,
      truncate: pair.truncate ?? job.writer.truncate,
      preSql: pair.preSql ?? [],
      postSql: pair.postSql ?? [],
    }
    if (src.querySql) np.querySql = src.querySql
    else if (src.table) np.sourceTable = src.table
    if (src.schema) np.sourceSchema = src.schema
    if (pair.columns && !(pair.columns.length === 1 && pair.columns[0] === '*')) np.columns = pair.columns
    const where = pair.where ?? job.reader.where
    if (where !== undefined && where !== '') np.where = where
    const splitPk = pair.splitPk ?? job.reader.splitPk
    if (splitPk) np.splitPk = splitPk
    if (pair.mapping && pair.mapping.length) np.mapping = pair.mapping
    if (pair.mappingMode) np.mappingMode = pair.mappingMode
    if (pair.typeOverrides && Object.keys(pair.typeOverrides).length) np.typeOverrides = pair.typeOverrides
    return np
  })
}

/** `${name}` / `$[expr]` variables used anywhere in a text (password placeholders excluded). */
export function variablesIn(text: string): string[] {
  const out = new Set<string>()
  for (const m of text.matchAll(/\$\{([^}]+)\}|\$\[([^\]]+)\]/g)) {
    const whole = m[0]
    if (/^\$\{PASSWORD_[A-Z0-9_]*\}$/.test(whole)) continue
    out.add(whole)
  }
  return [...out]
}

/** A file-name-safe slug: `Chinook to PG` -> `chinook-to-pg`. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'job'
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
