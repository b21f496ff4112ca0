/**
 * DataX job JSON: export a Sluice job as DataX jobs, import DataX jobs as Sluice jobs, and print
 * DataX's closing run figures.
 *
 * Format, as the plugin docs of alibaba/DataX describe it (`mysqlreader/doc/mysqlreader.md`,
 * `mysqlwriter/doc/mysqlwriter.md`, `postgresqlreader/doc/postgresqlreader.md`,
 * `postgresqlwriter/doc/postgresqlwriter.md`; parameter lists in `test/fixtures/interop/`):
 * ```json
 * { "job": { "setting": { "speed": { "channel": 3, "record": 0, "byte": 0 }, "errorLimit": { "record": 0, "percentage": 0.02 } },
 *            "content": [ { "reader": { "name": "mysqlreader", "parameter": { "username", "password", "column": [...], "splitPk", "where",
 *                                        "connection": [ { "table": ["t"], "jdbcUrl": ["jdbc:mysql://h:3306/db"] } ] } },
 *                           "writer": { "name": "postgresqlwriter", "parameter": { "username", "password", "column": [...], "preSql", "postSql",
 *                                        "connection": [ { "table": ["t"], "jdbcUrl": "jdbc:postgresql://h:5432/db" } ] } } } ] } }
 * ```
 * Decisions:
 * - One file per table pair: stock DataX runs only `content[0]` (alibaba/DataX issues #1198, #1497),
 *   so several content entries in one file would silently drop tables. Import accepts several
 *   content entries (and several files) all the same.
 * - SQLite: DataX has no SQLite plugin; rather than a generic `rdbmsreader` that needs a driver
 *   registered by hand, a job with a SQLite side is not exported (a warning says so).
 * - Passwords become `${PASSWORD_<NAME>}`; DataX substitutes `${...}` from `-p"-DPASSWORD_<NAME>=..."`.
 * - DataX's MySQL reader appends `zeroDateTimeBehavior=convertToNull` to the JDBC URL, so an
 *   imported MySQL reader gets `setting.zeroDate: "null"`.
 */
import { isFileStoreKind, type ConnectionConfig, type ConnectorKind, type DatabaseConfig } from '../../connectors/types.js'
import { maskUrl } from '../../connectors/url.js'
import type { RunSummary } from '../../engine/events.js'
import type { ConnectionRef, JobSpec, JobSpecInput, TablePair } from '../spec.js'
import {
  connectionName,
  InteropError,
  isObject,
  jdbcUrl,
  normalizePairs,
  parseJdbcUrl,
  passwordVar,
  quoteIdent,
  slug,
  splitTableRef,
  variablesIn,
  type ExportOptions,
  type ExportResult,
  type NamedConnection,
  type NormalizedPair,
} from './common.js'
import { exportColumns, applyImportedColumns, importColumns } from './columns.js'
import { importDataXFileContent, isDataXFileContent } from './files.js'

/** Channel count written when the job leaves `speed.channel` to Sluice's default (DataX requires one). */
export const DEFAULT_EXPORT_CHANNELS = 4
const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024
const TRUNCATE_AT_TABLE = 'TRUNCATE TABLE @table'

const READER_PLUGIN: Partial<Record<ConnectorKind, string>> = { mysql: 'mysqlreader', postgres: 'postgresqlreader' }
const WRITER_PLUGIN: Partial<Record<ConnectorKind, string>> = { mysql: 'mysqlwriter', postgres: 'postgresqlwriter' }

/** Both sides of a job resolved for an export. */
export interface ResolvedSides {
  reader: DatabaseConfig
  writer: DatabaseConfig
  readerName: string
  writerName: string
  /** MySQL: the database; PostgreSQL: the schema. */
  readerSchema?: string
  writerSchema?: string
}

/** Resolve both sides, naming the failing side in the error. */
export function resolveSides(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig): ResolvedSides {
  const one = (ref: ConnectionRef, side: 'reader' | 'writer') => {
    try {
      return resolve(ref)
    } catch (e) {
      // Never let a URL's password reach the message.
      const msg = typeof ref === 'string' ? (e as Error).message.split(ref).join(maskUrl(ref)) : (e as Error).message
      throw new InteropError(`$.${side}.connection: ${msg}`)
    }
  }
  const db = (c: ConnectionConfig, side: 'reader' | 'writer'): DatabaseConfig => {
    if (isFileStoreKind(c.kind)) throw new InteropError(`$.${side}.connection: a ${c.kind} file connection has no database plugin to export to`)
    return c as DatabaseConfig
  }
  const reader = db(one(job.reader.connection, 'reader'), 'reader')
  const writer = db(one(job.writer.connection, 'writer'), 'writer')
  const rs = job.reader.schema ?? (reader.kind === 'mysql' ? reader.database : reader.schema)
  const ws = job.writer.schema ?? (writer.kind === 'mysql' ? writer.database : writer.schema)
  return {
    reader,
    writer,
    readerName: connectionName(job.reader.connection, 'reader'),
    writerName: connectionName(job.writer.connection, 'writer'),
    ...(rs ? { readerSchema: rs } : {}),
    ...(ws ? { writerSchema: ws } : {}),
  }
}

/** Warnings common to DataX and DataWorks: what the job says that neither can. */
export function commonWarnings(job: JobSpec, sides: ResolvedSides, pairs: NormalizedPair[], format: string): string[] {
  const w: string[] = []
  if (job.writer.createTable) w.push(`$.writer.createTable: ${format} does not create target tables; create them before running (e.g. run the job once with Sluice, or \`sluice migrate\`)`)
  if (job.writer.identifierCase === 'lower') w.push(`$.writer.identifierCase: "lower" is applied to the exported target names; ${format} itself keeps names as written`)
  if (job.setting.batchBytes !== DEFAULT_BATCH_BYTES) w.push(`$.setting.batchBytes: ${format} batches by rows (batchSize, default 1024), not bytes; not exported`)
  if (sides.reader.kind === 'mysql' && job.setting.zeroDate === 'error')
    w.push(`$.setting.zeroDate: ${format}'s MySQL reader turns zero dates into NULL (zeroDateTimeBehavior=convertToNull); "error" cannot be expressed`)
  if (sides.reader.timezone) w.push(`$.reader.connection.timezone: the reader has no session parameter; ${format} reads in its JVM's time zone`)
  for (const p of pairs) {
    if (p.typeOverrides) w.push(`${p.path}.typeOverrides: ${format} does not create tables, so column types cannot be overridden`)
    if (p.writeMode !== 'insert' && sides.writer.kind === 'postgres')
      w.push(`${p.path}: writeMode "${p.writeMode}" on PostgreSQL: ${format}'s postgresqlwriter only inserts (no writeMode parameter); duplicates become dirty records`)
  }
  return w
}

/** The per-format notes on secrets and variables. */
function secretsNote(names: string[], format: 'datax'): string {
  const vars = [...new Set(names.map(passwordVar))]
  if (format === 'datax') return `passwords are placeholders ${vars.map((v) => '${' + v + '}').join(', ')}: run python datax.py -p"${vars.map((v) => `-D${v}=...`).join(' ')}" job.json`
  return ''
}

/**
 * Export a job as DataX job files (one per table pair).
 * @throws InteropError when a connection cannot be resolved.
 */
export function exportDataX(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig, opts: ExportOptions = {}): ExportResult {
  const warnings: string[] = []
  const sides = resolveSides(job, resolve)
  const rp = READER_PLUGIN[sides.reader.kind]
  const wp = WRITER_PLUGIN[sides.writer.kind]
  if (!rp || !wp) {
    warnings.push(`DataX has no ${!rp ? 'reader' : 'writer'} plugin for ${!rp ? sides.reader.kind : sides.writer.kind}: nothing exported (export to SeaTunnel, whose Jdbc connector reads and writes SQLite)`)
    return { files: [], warnings }
  }
  const pairs = normalizePairs(job, opts.tables, warnings)
  warnings.push(...commonWarnings(job, sides, pairs, 'DataX'))
  const speed: Record<string, number> = { channel: job.setting.speed.channel ?? DEFAULT_EXPORT_CHANNELS }
  if (job.setting.speed.channel === undefined) warnings.push(`$.setting.speed.channel: unset (Sluice default min(4, cores)); DataX needs a value: exported as ${DEFAULT_EXPORT_CHANNELS}`)
  if (job.setting.speed.record) speed.record = job.setting.speed.record
  if (job.setting.speed.byte) speed.byte = job.setting.speed.byte
  const errorLimit: Record<string, number> = {}
  if (job.setting.errorLimit.record !== undefined) errorLimit.record = job.setting.errorLimit.record
  if (job.setting.errorLimit.percentage !== undefined) errorLimit.percentage = job.setting.errorLimit.percentage
  if (pairs.length > 1 && (job.writer.preSql.length || job.writer.postSql.length))
    warnings.push(`$.writer.preSql/postSql: DataX runs them per file; they are in the first (preSql) and last (postSql) file: run the files in order`)
  if (sides.writer.kind === 'postgres' && sides.writer.timezone) warnings.push(`$.writer.connection.timezone: postgresqlwriter has no session parameter; not exported`)

  const files = pairs.map((np, i) => {
    const cols = exportColumns(np, sides.reader.kind, sides.writer.kind, warnings, 'DataX')
    const readerParam: Record<string, unknown> = {
      username: sides.reader.user ?? (sides.reader.kind === 'mysql' ? 'root' : 'postgres'),
      password: '${' + passwordVar(sides.readerName) + '}',
    }
    const rSchema = sides.reader.kind === 'postgres' ? sides.readerSchema : undefined
    const rUrl = jdbcUrl(sides.reader.kind === 'mysql' ? { ...sides.reader, ...(sides.readerSchema ? { database: sides.readerSchema } : {}) } : sides.reader, rSchema)
    if (np.querySql) {
      readerParam.connection = [{ querySql: [np.querySql], jdbcUrl: [rUrl] }]
      if (np.where) warnings.push(`${np.path}.where: ignored by DataX with querySql (as by Sluice); not exported`)
      if (np.splitPk) warnings.push(`${np.path}.splitPk: DataX does not split a querySql reader; not exported`)
    } else {
      const table = np.sourceSchema ? `${quoteIdent(sides.reader.kind, np.sourceSchema)}.${quoteIdent(sides.reader.kind, np.sourceTable!)}` : quoteIdent(sides.reader.kind, np.sourceTable!)
      readerParam.column = cols.reader
      if (np.splitPk) readerParam.splitPk = np.splitPk
      if (np.where) readerParam.where = np.where
      readerParam.connection = [{ table: [table], jdbcUrl: [rUrl] }]
    }
    const wSchema = sides.writer.kind === 'postgres' ? sides.writerSchema : undefined
    const wUrl = jdbcUrl(sides.writer.kind === 'mysql' ? { ...sides.writer, ...(sides.writerSchema ? { database: sides.writerSchema } : {}) } : sides.writer, wSchema)
    const writerParam: Record<string, unknown> = {}
    if (sides.writer.kind === 'mysql') writerParam.writeMode = np.writeMode
    writerParam.username = sides.writer.user ?? (sides.writer.kind === 'mysql' ? 'root' : 'postgres')
    writerParam.password = '${' + passwordVar(sides.writerName) + '}'
    writerParam.column = cols.writer
    if (sides.writer.kind === 'mysql' && sides.writer.timezone) writerParam.session = [`SET time_zone = '${sides.writer.timezone.replace(/'/g, "''")}'`]
    const pre = [...(i === 0 ? job.writer.preSql : []), ...(np.truncate ? [TRUNCATE_AT_TABLE] : []), ...np.preSql]
    const post = [...np.postSql, ...(i === pairs.length - 1 ? job.writer.postSql : [])]
    if (pre.length) writerParam.preSql = pre
    if (post.length) writerParam.postSql = post
    writerParam.connection = [{ table: [quoteIdent(sides.writer.kind, np.target)], jdbcUrl: wUrl }]
    const doc = {
      job: {
        setting: { speed, errorLimit },
        content: [{ reader: { name: rp, parameter: readerParam }, writer: { name: wp, parameter: writerParam } }],
      },
    }
    const base = slug(job.name ?? 'job')
    const name = pairs.length === 1 ? `${base}.datax.json` : `${base}-${String(i + 1).padStart(2, '0')}-${slug(np.sourceTable ?? np.target)}.datax.json`
    return { name, content: JSON.stringify(doc, null, 2) + '\n' }
  })
  if (files.length) {
    warnings.push(secretsNote([sides.readerName, sides.writerName], 'datax'))
    const vars = variablesIn(files.map((f) => f.content).join('\n'))
    const cyc = vars.filter((v) => v.startsWith('$['))
    const biz = vars.filter((v) => v.startsWith('${'))
    if (biz.length) warnings.push(`variables kept verbatim: ${biz.join(', ')}: DataX substitutes \${name} from -p"-Dname=value" (DataWorks resolves scheduling parameters such as \${bizdate} itself)`)
    if (cyc.length) warnings.push(`variables ${cyc.join(', ')}: DataX has no $[...] time expressions; pass the computed value as a -D parameter instead`)
  }
  return { files, warnings }
}

// ---------------------------------------------------------------------------------------------
// Import

/** What an import returns. */
export interface ImportResult {
  /** The Sluice job, with inline connections where the file held connection settings. */
  job: JobSpecInput
  /** The connections found, named after their password placeholder, else `reader` / `writer` (DataWorks: the data source names). */
  connections: NamedConnection[]
  /** One line per thing that was converted with a caveat, ignored, or not understood. */
  report: string[]
}

/** Options of the importers. */
export interface ImportOptions {
  /** Job name (e.g. the file's base name). */
  name?: string
  /** Where `${PASSWORD_X}` placeholders are looked up; default `process.env`. */
  env?: Record<string, string | undefined>
}

const READER_KNOWN = new Set(['username', 'password', 'column', 'splitPk', 'where', 'connection', 'querySql', 'jdbcConfig', 'fetchSize', 'session'])
const WRITER_KNOWN = new Set(['username', 'password', 'column', 'connection', 'writeMode', 'preSql', 'postSql', 'batchSize', 'session'])

interface SideParsed {
  kind: ConnectorKind
  config: ConnectionConfig
  name: string
  schema?: string
  url: string
  user: string
}

function strList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  return undefined
}

function parseCredentials(p: Record<string, unknown>, at: string, config: ConnectionConfig, env: Record<string, string | undefined>, report: string[], fallbackName: string): string {
  if (typeof p.username === 'string') config.user = p.username
  let name = fallbackName
  if (typeof p.password === 'string') {
    const ph = /^\$\{([A-Za-z_][A-Za-z0-9_.]*)\}$/.exec(p.password)
    if (ph) {
      const v = env[ph[1]!]
      if (ph[1]!.startsWith('PASSWORD_')) name = ph[1]!.slice('PASSWORD_'.length).toLowerCase()
      if (v !== undefined) config.password = v
      else report.push(`${at}.password: placeholder \${${ph[1]}} is not set in the environment; the connection has no password (set ${ph[1]}=... before running)`)
    } else if (p.password !== '') {
      config.password = p.password
      report.push(`${at}.password: the file holds a clear-text password; it is now in the imported job's inline connection (prefer a saved connection)`)
    }
  }
  return name
}

function sessionTimezone(stmts: string[], at: string, report: string[]): string | undefined {
  let tz: string | undefined
  for (const s of stmts) {
    const m = /^\s*set\s+(?:session\s+|@@session\.)?time_zone\s*=\s*'([^']*)'\s*;?\s*$/i.exec(s)
    if (m) tz = m[1]
    else report.push(`${at}.session: "${s}" is not applied (Sluice sets only the session time zone)`)
  }
  return tz
}

/** One content entry after parsing: its sides and its pairs. */
interface ContentParsed {
  reader: SideParsed
  writer: SideParsed
  pairs: TablePair[]
  writeMode: 'insert' | 'replace' | 'update'
  truncate: boolean
  preSql: string[]
  postSql: string[]
}

function parseSide(kind: ConnectorKind, url: string, p: Record<string, unknown>, at: string, env: Record<string, string | undefined>, report: string[], side: 'reader' | 'writer'): SideParsed {
  const parsed = parseJdbcUrl(url)
  if (parsed.config.kind !== kind) throw new InteropError(`${at}: jdbcUrl '${url}' is not a ${kind} URL`)
  for (const ip of parsed.ignoredParams) report.push(`${at}: jdbcUrl parameter ${ip} ignored`)
  const config = parsed.config
  const name = parseCredentials(p, at, config, env, report, side)
  return { kind, config, name, ...(parsed.schema ? { schema: parsed.schema } : {}), url, user: config.user ?? '' }
}

function parseContent(c: unknown, at: string, env: Record<string, string | undefined>, report: string[]): ContentParsed | undefined {
  if (!isObject(c) || !isObject(c.reader) || !isObject(c.writer)) {
    report.push(`${at}: not a { reader, writer } object; skipped`)
    return undefined
  }
  const rName = String(c.reader.name ?? '')
  const wName = String(c.writer.name ?? '')
  const rk: ConnectorKind | undefined = rName === 'mysqlreader' ? 'mysql' : rName === 'postgresqlreader' ? 'postgres' : undefined
  const wk: ConnectorKind | undefined = wName === 'mysqlwriter' ? 'mysql' : wName === 'postgresqlwriter' ? 'postgres' : undefined
  if (!rk) report.push(`${at}.reader.name: plugin '${rName}' is not supported (mysqlreader, postgresqlreader); content skipped`)
  if (!wk) report.push(`${at}.writer.name: plugin '${wName}' is not supported (mysqlwriter, postgresqlwriter); content skipped`)
  if (!rk || !wk) return undefined
  const rp = isObject(c.reader.parameter) ? c.reader.parameter : {}
  const wp = isObject(c.writer.parameter) ? c.writer.parameter : {}
  const rAt = `${at}.reader.parameter`
  const wAt = `${at}.writer.parameter`
  for (const k of Object.keys(rp)) if (!READER_KNOWN.has(k)) report.push(`${rAt}.${k}: unknown parameter ignored`)
  for (const k of Object.keys(wp)) if (!WRITER_KNOWN.has(k)) report.push(`${wAt}.${k}: unknown parameter ignored`)
  if (rp.jdbcConfig !== undefined) report.push(`${rAt}.jdbcConfig: JDBC properties ignored`)
  if (rp.fetchSize !== undefined) report.push(`${rAt}.fetchSize: ignored (Sluice streams in batches of setting.batchBytes)`)
  if (rp.session !== undefined) report.push(`${rAt}.session: ignored on the reader`)

  // Reader connection: the first entry, its first jdbcUrl.
  const rConns = Array.isArray(rp.connection) ? rp.connection.filter(isObject) : []
  if (!rConns.length) {
    report.push(`${rAt}.connection: missing; content skipped`)
    return undefined
  }
  if (rConns.length > 1) report.push(`${rAt}.connection: ${rConns.length} entries (sharded sources); only the first is imported`)
  const rc = rConns[0]!
  const rUrls = strList(rc.jdbcUrl) ?? []
  if (!rUrls.length) {
    report.push(`${rAt}.connection[0].jdbcUrl: missing; content skipped`)
    return undefined
  }
  if (rUrls.length > 1) report.push(`${rAt}.connection[0].jdbcUrl: ${rUrls.length} URLs (DataX probes them in turn); the first is used`)
  const reader = parseSide(rk, rUrls[0]!, rp, rAt, env, report, 'reader')

  const wConns = Array.isArray(wp.connection) ? wp.connection.filter(isObject) : []
  if (!wConns.length) {
    report.push(`${wAt}.connection: missing; content skipped`)
    return undefined
  }
  if (wConns.length > 1) report.push(`${wAt}.connection: ${wConns.length} entries; only the first is imported`)
  const wc = wConns[0]!
  const wUrl = strList(wc.jdbcUrl)?.[0]
  if (!wUrl) {
    report.push(`${wAt}.connection[0].jdbcUrl: missing; content skipped`)
    return undefined
  }
  const writer = parseSide(wk, wUrl, wp, wAt, env, report, 'writer')
  if (wk === 'mysql' && wp.session !== undefined) {
    const tz = sessionTimezone(strList(wp.session) ?? [], wAt, report)
    if (tz) writer.config.timezone = tz
  } else if (wp.session !== undefined) report.push(`${wAt}.session: ignored`)

  let writeMode: 'insert' | 'replace' | 'update' = 'insert'
  if (wp.writeMode !== undefined) {
    const wm = String(wp.writeMode).trim().toLowerCase()
    if (wk === 'postgres') report.push(`${wAt}.writeMode: postgresqlwriter has no writeMode (insert only); "${wm}" ignored`)
    else if (wm === 'insert' || wm === 'replace' || wm === 'update') writeMode = wm
    else report.push(`${wAt}.writeMode: "${wm}" is not insert, replace or update; insert used`)
  }
  if (wp.batchSize !== undefined) report.push(`${wAt}.batchSize: ignored (Sluice batches by bytes: setting.batchBytes)`)

  const wTables = strList(wc.table) ?? []
  if (!wTables.length) {
    report.push(`${wAt}.connection[0].table: missing; content skipped`)
    return undefined
  }
  const rTables = strList(rc.table) ?? []
  const queries = strList(rc.querySql) ?? strList(rp.querySql) ?? []
  const rColumns = strList(rp.column)
  const wColumns = strList(wp.column)
  if (!wColumns) {
    report.push(`${wAt}.column: missing (DataX requires it); content skipped`)
    return undefined
  }
  const where = typeof rp.where === 'string' && rp.where.trim() !== '' ? rp.where : undefined
  if (where && /\$(?![{[])[A-Za-z_]/.test(where)) report.push(`${rAt}.where: "${where}" uses $name without braces; Sluice substitutes only \${name} and $[...]`)
  const splitPk = typeof rp.splitPk === 'string' && rp.splitPk.trim() !== '' ? rp.splitPk.trim() : undefined

  const sources: Array<{ table?: string; querySql?: string }> = queries.length ? queries.map((q) => ({ querySql: q })) : rTables.map((t) => ({ table: t }))
  if (!sources.length) {
    report.push(`${rAt}.connection[0]: neither table nor querySql; content skipped`)
    return undefined
  }
  if (queries.length && rTables.length) report.push(`${rAt}: querySql given: table, column and where are ignored (DataX semantics)`)
  if (wTables.length !== 1 && wTables.length !== sources.length) {
    report.push(`${wAt}.connection[0].table: ${wTables.length} writer tables for ${sources.length} reader tables/queries; DataX needs one or the same number; content skipped`)
    return undefined
  }
  if (!queries.length && !rColumns) {
    report.push(`${rAt}.column: missing (DataX requires it); content skipped`)
    return undefined
  }

  const pairs: TablePair[] = []
  sources.forEach((s, k) => {
    const tRaw = wTables.length === 1 ? wTables[0]! : wTables[k]!
    const tgt = splitTableRef(wk, tRaw)
    if (tgt.schema) report.push(`${wAt}.connection[0].table: "${tRaw}": the schema part is dropped; the writer's schema is the JDBC URL's`)
    const pair: Record<string, unknown> = {}
    let srcRef: { schema?: string; table: string } | undefined
    if (s.querySql) pair.source = { querySql: s.querySql }
    else {
      srcRef = splitTableRef(rk, s.table!)
      pair.source = srcRef.schema ? { schema: srcRef.schema, table: srcRef.table } : srcRef.table
    }
    const srcName = srcRef?.table
    if (tgt.table !== srcName) pair.target = tgt.table
    const cols = importColumns(rk, wk, s.querySql ? undefined : rColumns, wColumns, { ...(srcRef ?? {}), ...(where ? { where } : {}) }, report, at)
    if (!cols) return
    applyImportedColumns(pair, cols, { ...(s.querySql ? { querySql: s.querySql } : {}), ...(where ? { where } : {}), ...(splitPk ? { splitPk } : {}) })
    if (s.querySql && splitPk) report.push(`${rAt}.splitPk: ignored with querySql (DataX semantics)`)
    pairs.push(pair as TablePair)
  })
  if (!pairs.length) return undefined

  // preSql / postSql: `TRUNCATE TABLE @table` is the truncate flag; @table is the writer table.
  let truncate = false
  const sub = (s: string) => s.replace(/@table/g, wTables.length === 1 ? wTables[0]! : wTables.join(','))
  const preSql: string[] = []
  for (const s of strList(wp.preSql) ?? []) {
    if (/^\s*truncate\s+(table\s+)?@table\s*;?\s*$/i.test(s)) truncate = true
    else {
      if (s.includes('@table') && wTables.length > 1) report.push(`${wAt}.preSql: "${s}" names @table with several writer tables; run once per table by DataX, once by Sluice`)
      preSql.push(sub(s))
    }
  }
  const postSql = (strList(wp.postSql) ?? []).map(sub)
  if (truncate && pairs.length > 1 && wTables.length === 1) {
    // Several sources into one table: truncate once, before the load, not once per task.
    preSql.unshift(`TRUNCATE TABLE ${wTables[0]!}`)
    truncate = false
    report.push(`${wAt}.preSql: TRUNCATE TABLE @table with ${pairs.length} sources into one table: kept as one preSql statement`)
  }
  return { reader, writer, pairs, writeMode, truncate, preSql, postSql }
}

function inlineConnection(s: SideParsed): Record<string, unknown> {
  const c: Record<string, unknown> = { kind: s.kind }
  for (const k of ['host', 'port', 'user', 'password', 'database', 'timezone'] as const) if (s.config[k] !== undefined) c[k] = s.config[k]
  return c
}

/**
 * Import a DataX job (or several DataX job files, as an array) as one Sluice job.
 * Connections become inline connection objects, so the job runs with no saved connection.
 * @throws InteropError when nothing runnable remains (the report says why).
 */
export function importDataX(doc: unknown, opts: ImportOptions = {}): ImportResult {
  const report: string[] = []
  const env = opts.env ?? (typeof process !== 'undefined' ? process.env : {})
  const docs = Array.isArray(doc) ? doc : [doc]
  const contents: Array<{ c: unknown; at: string; setting: unknown }> = []
  docs.forEach((d, di) => {
    const root = docs.length > 1 ? `$[${di}]` : '$'
    if (!isObject(d) || !isObject(d.job) || !Array.isArray(d.job.content)) {
      report.push(`${root}: not a DataX job (expected { job: { content: [...] } })`)
      return
    }
    for (const k of Object.keys(d)) if (k !== 'job' && k !== 'core' && k !== 'setting') report.push(`${root}.${k}: unknown key ignored`)
    if (d.core !== undefined) report.push(`${root}.core: DataX core settings ignored`)
    for (const k of Object.keys(d.job)) if (k !== 'setting' && k !== 'content') report.push(`${root}.job.${k}: unknown key ignored`)
    d.job.content.forEach((c, ci) => contents.push({ c, at: `${root}.job.content[${ci}]`, setting: (d.job as Record<string, unknown>).setting }))
  })
  // A file plugin on either side (txtfilereader/-writer, ftpreader/-writer): main/job/interop/files.ts.
  const withFiles = contents.filter((x) => isDataXFileContent(x.c))
  if (withFiles.length) {
    if (contents.length > 1) report.push(`$.job.content: ${contents.length} entries; the first with a file plugin (${withFiles[0]!.at}) is imported, as stock DataX runs one`)
    const f = withFiles[0]!
    try {
      const { job, connections } = importDataXFileContent(f.c as Record<string, unknown>, f.at, isObject(f.setting) ? f.setting : {}, opts, report)
      return { job, connections, report }
    } catch (e) {
      if (e instanceof InteropError) throw new InteropError(e.message, report)
      throw e
    }
  }
  if (contents.length > 1 && docs.length === 1) report.push(`$.job.content: ${contents.length} entries; stock DataX runs only the first (alibaba/DataX#1198), Sluice imports them all`)

  const parsed: ContentParsed[] = []
  for (const { c, at } of contents) {
    let p: ContentParsed | undefined
    try {
      p = parseContent(c, at, env, report)
    } catch (e) {
      report.push(`${at}: ${(e as Error).message}; content skipped`)
    }
    if (!p) continue
    const first = parsed[0]
    if (first && (first.reader.url !== p.reader.url || first.reader.user !== p.reader.user || first.writer.url !== p.writer.url || first.writer.user !== p.writer.user)) {
      report.push(`${at}: reads or writes other connections than the first content (one Sluice job has one reader and one writer); skipped: import it as its own job`)
      continue
    }
    parsed.push(p)
  }
  if (!parsed.length) throw new InteropError(`nothing runnable in the DataX job${report.length ? ': ' + report[report.length - 1] : ''}`, report)

  const first = parsed[0]!
  const single = parsed.length === 1
  const writeMode = first.writeMode
  const allTruncate = parsed.every((p) => p.truncate)
  const tables: TablePair[] = []
  for (const p of parsed) {
    for (const pair of p.pairs) {
      const t: Record<string, unknown> = { ...pair }
      if (p.writeMode !== writeMode) t.writeMode = p.writeMode
      if (p.truncate && !allTruncate) t.truncate = true
      if (!single) {
        if (p.preSql.length) t.preSql = p.preSql
        if (p.postSql.length) t.postSql = p.postSql
      }
      tables.push(t as TablePair)
    }
  }

  const setting = (isObject(contents[0]?.setting) ? contents[0]!.setting : {}) as Record<string, unknown>
  const speedIn = isObject(setting.speed) ? setting.speed : {}
  const errIn = isObject(setting.errorLimit) ? setting.errorLimit : {}
  for (const k of Object.keys(setting)) if (k !== 'speed' && k !== 'errorLimit') report.push(`$.job.setting.${k}: ignored`)
  const speed: Record<string, number> = {}
  const num = (v: unknown, at: string, min: number, max: number, int = true): number | undefined => {
    if (v === undefined || v === null || v === '') return undefined
    const n = typeof v === 'number' ? v : Number(v)
    if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
      report.push(`${at}: ${JSON.stringify(v)} is out of range; ignored`)
      return undefined
    }
    return n
  }
  const ch = num(speedIn.channel, '$.job.setting.speed.channel', 1, 64)
  if (ch !== undefined) speed.channel = ch
  const rec = num(speedIn.record, '$.job.setting.speed.record', 0, Number.MAX_SAFE_INTEGER)
  if (rec) speed.record = rec
  const byt = num(speedIn.byte, '$.job.setting.speed.byte', 0, Number.MAX_SAFE_INTEGER)
  if (byt) speed.byte = byt
  for (const k of Object.keys(speedIn)) if (!['channel', 'record', 'byte'].includes(k)) report.push(`$.job.setting.speed.${k}: ignored`)
  const errorLimit: Record<string, number> = {}
  const er = num(errIn.record, '$.job.setting.errorLimit.record', 0, Number.MAX_SAFE_INTEGER)
  if (er !== undefined) errorLimit.record = er
  const ep = num(errIn.percentage, '$.job.setting.errorLimit.percentage', 0, 1, false)
  if (ep !== undefined) errorLimit.percentage = ep

  const settingOut: Record<string, unknown> = { speed, errorLimit }
  if (first.reader.kind === 'mysql') {
    settingOut.zeroDate = 'null'
    report.push('$.setting.zeroDate: "null", as DataX\'s MySQL reader (zeroDateTimeBehavior=convertToNull)')
  }
  report.push('$.writer.createTable: false: DataX writes into existing tables only')

  const readerOut: Record<string, unknown> = { connection: inlineConnection(first.reader) }
  if (first.reader.schema) readerOut.schema = first.reader.schema
  const writerOut: Record<string, unknown> = {
    connection: inlineConnection(first.writer),
    writeMode,
    truncate: allTruncate,
    createTable: false,
    preSql: single ? first.preSql : [],
    postSql: single ? first.postSql : [],
  }
  if (first.writer.schema) writerOut.schema = first.writer.schema
  const job: JobSpecInput = {
    version: 1,
    ...(opts.name ? { name: opts.name } : {}),
    reader: readerOut as JobSpecInput['reader'],
    writer: writerOut as JobSpecInput['writer'],
    tables,
    setting: settingOut as JobSpecInput['setting'],
  }
  const connections: NamedConnection[] = [
    { ...first.reader.config, name: first.reader.name },
    { ...first.writer.config, name: first.writer.name === first.reader.name ? `${first.writer.name}_writer` : first.writer.name },
  ]
  return { job, connections, report }
}

// ---------------------------------------------------------------------------------------------
// Run summary

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

/** Local wall-clock time as DataX prints it (`yyyy-MM-dd HH:mm:ss`, the JVM's default zone). */
function dataxTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
}

/** Bytes as DataX's `StrUtil.stringify` renders them: `512B`, `1.50KB`, `2.00MB`, ... */
export function dataxBytes(n: number): string {
  const units: Array<[string, number]> = [['PB', 1024 ** 5], ['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]]
  for (const [u, size] of units) if (n >= size) return `${(n / size).toFixed(2)}${u}`
  return `${Math.floor(n)}B`
}

/** Java's `%-Ns` / `%Ns` pad by characters (UTF-16 units), which is what DataX's layout relies on. */
function padRight(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}
function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s
}

/**
 * DataX's closing figures for a run, in the layout of DataX's `JobContainer.logStatistics`
 * (`%-26s: %-18s` for the times, `%-26s: %19s` for the figures), each line followed by its English label:
 * ```
 * 任务启动时刻                    : 2024-05-01 10:00:00    Start time
 * 任务结束时刻                    : 2024-05-01 10:00:12    End time
 * 任务总计耗时                    :                 12s    Total elapsed
 * 任务平均流量                    :            1.50MB/s    Average throughput
 * 记录写入速度                    :          10000rec/s    Record write speed
 * 读出记录总数                    :              120000    Records read
 * 读写失败总数                    :                   0    Read/write failures
 * ```
 * As in DataX: elapsed is whole seconds, speeds divide by it (at least 1 s) and count records read,
 * failures are the dirty records.
 */
export function formatDataXSummary(summary: RunSummary): string {
  const secs = Math.floor(summary.elapsedMs / 1000)
  const div = Math.max(1, secs)
  const rows: Array<[string, string, string, boolean]> = [
    ['任务启动时刻', dataxTime(summary.startedAt), 'Start time', true],
    ['任务结束时刻', dataxTime(summary.endedAt), 'End time', true],
    ['任务总计耗时', `${secs}s`, 'Total elapsed', false],
    ['任务平均流量', `${dataxBytes(Math.floor(summary.bytes / div))}/s`, 'Average throughput', false],
    ['记录写入速度', `${Math.floor(summary.rowsRead / div)}rec/s`, 'Record write speed', false],
    ['读出记录总数', String(summary.rowsRead), 'Records read', false],
    ['读写失败总数', String(summary.dirty), 'Read/write failures', false],
  ]
  return '\n' + rows.map(([zh, v, en, left]) => `${padRight(zh, 26)}: ${left ? padRight(v, 18) : padLeft(v, 19)}    ${en}`).join('\n') + '\n'
}
