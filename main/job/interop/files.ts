/**
 * Interop for jobs with a file side.
 *
 * Import (DataX, as the plugin docs of alibaba/DataX describe them: `txtfilereader/doc`,
 * `txtfilewriter/doc`, `ftpreader/doc`, `ftpwriter/doc`):
 * - txtfilereader / ftpreader (`protocol` ftp or sftp): `path` (a string or a list; wildcards
 *   `*` and `?`), `column` (`["*"]` or `[{index, type, format}]` / `[{value, type}]`),
 *   `fieldDelimiter`, `compress`, `encoding`, `skipHeader`, `nullFormat`;
 * - txtfilewriter / ftpwriter: `path`, `fileName`, `writeMode` (truncate, append, nonConflict),
 *   `fieldDelimiter`, `compress`, `encoding`, `nullFormat`, `header`, `fileFormat`;
 * - the other side a MySQL / PostgreSQL plugin (or another file plugin: files -> files).
 * The file side becomes a connection URL (`file:///folder`, `ftp://`, `sftp://`) rooted at the
 * paths' common folder, plus `reader.file` / `writer.file`.
 *
 * Export (DataX: txtfilereader/-writer for local folders, ftpreader/-writer for FTP and SFTP;
 * SeaTunnel: LocalFile, FtpFile, SftpFile, S3File sources and sinks), with a warning for every
 * option the target format cannot express.
 */
import type { ConnectionConfig, ConnectorKind } from '../../connectors/types.js'
import { isFileStoreKind } from '../../connectors/types.js'
import type { FileColumn, FileReaderOptions, FileWriterOptions } from '../file-spec.js'
import type { ConnectionRef, JobSpec, JobSpecInput, TablePair } from '../spec.js'
import { connectionName, InteropError, isObject, jdbcUrl, normalizePairs, parseJdbcUrl, passwordVar, quoteIdent, slug, splitTableRef, type ExportFormat, type ExportOptions, type ExportResult, type NamedConnection } from './common.js'

const FILE_READERS = new Set(['txtfilereader', 'ftpreader'])
const FILE_WRITERS = new Set(['txtfilewriter', 'ftpwriter'])

/** True when a DataX content entry has a file plugin on either side. */
export function isDataXFileContent(c: unknown): boolean {
  if (!isObject(c) || !isObject(c.reader) || !isObject(c.writer)) return false
  return FILE_READERS.has(String(c.reader.name)) || FILE_WRITERS.has(String(c.writer.name))
}

function strList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  return undefined
}

/** Resolve a `${PASSWORD_X}` placeholder from the environment, or take a clear-text password. */
function password(p: Record<string, unknown>, at: string, env: Record<string, string | undefined>, report: string[]): string | undefined {
  if (typeof p.password !== 'string' || p.password === '') return undefined
  const ph = /^\$\{([A-Za-z_][A-Za-z0-9_.]*)\}$/.exec(p.password)
  if (!ph) {
    report.push(`${at}.password: the file holds a clear-text password; it is now in the imported job's connection URL (prefer a saved connection)`)
    return p.password
  }
  const v = env[ph[1]!]
  if (v === undefined) report.push(`${at}.password: placeholder \${${ph[1]}} is not set in the environment; the connection has no password`)
  return v
}

/** The deepest folder without wildcards shared by `paths` (absolute POSIX paths). */
export function commonFolder(paths: string[]): string {
  const split = paths.map((p) => {
    const segs = p.split('/').filter(Boolean)
    const stop = segs.findIndex((s) => /[*?[{]/.test(s))
    // The last segment is a file name unless it ends with '/'.
    const dirSegs = stop >= 0 ? segs.slice(0, stop) : p.endsWith('/') ? segs : segs.slice(0, -1)
    return dirSegs
  })
  const first = split[0] ?? []
  let n = first.length
  for (const s of split) {
    let k = 0
    while (k < n && k < s.length && s[k] === first[k]) k++
    n = k
  }
  return '/' + first.slice(0, n).join('/')
}

function enc(s: string): string {
  return encodeURIComponent(s)
}

interface FileSide {
  url: string
  /** Store path pattern (reader) or folder (writer) under the URL's root. */
  rel: string
  kind: 'file' | 'ftp' | 'sftp'
  name: string
  config: ConnectionConfig
}

/** The connection URL and relative paths of a DataX file plugin's side. */
function fileSide(plugin: string, p: Record<string, unknown>, paths: string[], at: string, env: Record<string, string | undefined>, report: string[], side: 'reader' | 'writer'): FileSide & { rels: string[] } {
  const abs = paths.map((x) => (x.startsWith('/') ? x : '/' + x))
  const root = side === 'writer' ? abs[0]!.replace(/\/+$/, '') || '/' : commonFolder(abs)
  const rels = abs.map((x) => x.slice(root.length).replace(/^\/+/, ''))
  if (plugin.startsWith('txtfile')) {
    if (root === '/') throw new InteropError(`${at}.path: a path directly under / is not supported (Sluice roots a local connection at a folder)`)
    const url = `file://${root.split('/').map(enc).join('/')}`
    return { url, rel: '', rels, kind: 'file', name: side, config: { kind: 'file', path: root } }
  }
  const protocol = String(p.protocol ?? 'ftp').toLowerCase()
  if (protocol !== 'ftp' && protocol !== 'sftp') throw new InteropError(`${at}.protocol: '${protocol}' is not ftp or sftp`)
  const host = String(p.host ?? '')
  if (!host) throw new InteropError(`${at}.host: missing`)
  const port = p.port !== undefined ? Number(p.port) : protocol === 'sftp' ? 22 : 21
  const user = typeof p.username === 'string' ? p.username : protocol === 'ftp' ? 'anonymous' : ''
  const pw = password(p, at, env, report)
  let name = side as string
  if (typeof p.password === 'string') {
    const ph = /^\$\{PASSWORD_([A-Za-z0-9_]+)\}$/.exec(p.password)
    if (ph) name = ph[1]!.toLowerCase()
  }
  const q: string[] = []
  if (protocol === 'ftp' && String(p.connectPattern ?? 'PASV').toUpperCase() === 'PORT') q.push('passive=false')
  if (p.timeout !== undefined) report.push(`${at}.timeout: ignored (Sluice's connect timeout is 10 s)`)
  const url = `${protocol}://${enc(user)}${pw !== undefined ? ':' + enc(pw) : ''}@${host}:${port}${root === '/' ? '' : root.split('/').map(enc).join('/')}${q.length ? '?' + q.join('&') : ''}`
  const config: ConnectionConfig = { kind: protocol as 'ftp' | 'sftp', host, port, user, ...(pw !== undefined ? { password: pw } : {}), ...(root !== '/' ? { path: root } : {}), ...(q.includes('passive=false') ? { passive: false } : {}) }
  return { url, rel: '', rels, kind: protocol as 'ftp' | 'sftp', name, config }
}

const COMPRESS: Record<string, 'gzip' | 'zstd' | 'none'> = { gzip: 'gzip', gz: 'gzip', zstd: 'zstd', none: 'none', '': 'none' }

function formatOptions(p: Record<string, unknown>, at: string, report: string[], side: 'reader' | 'writer'): Partial<FileReaderOptions & FileWriterOptions> {
  const o: Partial<FileReaderOptions & FileWriterOptions> = { format: 'csv' }
  if (typeof p.fieldDelimiter === 'string') o.fieldDelimiter = p.fieldDelimiter
  if (typeof p.encoding === 'string' && !/^utf-?8$/i.test(p.encoding)) o.encoding = p.encoding
  if (typeof p.nullFormat === 'string') o.nullFormat = p.nullFormat
  if (p.compress !== undefined && p.compress !== null) {
    const c = COMPRESS[String(p.compress).toLowerCase()]
    if (!c) throw new InteropError(`${at}.compress: '${String(p.compress)}' is not supported (gzip, zstd)`)
    if (c !== 'none') o.compression = c
  }
  if (p.csvReaderConfig !== undefined) report.push(`${at}.csvReaderConfig: ignored (Sluice's CSV parser takes quote and escape)`)
  if (side === 'writer') {
    if (p.dateFormat !== undefined) report.push(`${at}.dateFormat: ignored: Sluice writes dates and times in their canonical text (yyyy-MM-dd HH:mm:ss[.ffffff])`)
    if (p.fileFormat !== undefined && String(p.fileFormat).toLowerCase() === 'text') o.quote = ''
  }
  return o
}

function readerColumns(cols: unknown, at: string, report: string[]): FileColumn[] | undefined {
  if (cols === undefined || (Array.isArray(cols) && cols.length === 1 && cols[0] === '*')) return undefined
  if (!Array.isArray(cols)) throw new InteropError(`${at}.column: expected ["*"] or a list of { index, type } / { value, type }`)
  return cols.map((c, i) => {
    if (!isObject(c)) throw new InteropError(`${at}.column[${i}]: expected { index, type } or { value, type }`)
    const out: FileColumn = {}
    if (c.index !== undefined) out.index = Number(c.index)
    if (c.value !== undefined) out.value = c.value as string
    if (c.index === undefined && c.value === undefined) throw new InteropError(`${at}.column[${i}]: needs index or value`)
    out.name = c.index !== undefined ? `c${c.index}` : `const${i}`
    if (typeof c.type === 'string') out.type = c.type
    if (typeof c.format === 'string') out.format = c.format
    return out
  })
}

/**
 * Import one DataX content entry with a file plugin on either side.
 * @throws InteropError naming the parameter when it cannot be imported.
 */
export function importDataXFileContent(c: Record<string, unknown>, at: string, setting: Record<string, unknown>, opts: { name?: string; env?: Record<string, string | undefined> }, report: string[]): { job: JobSpecInput; connections: NamedConnection[] } {
  const env = opts.env ?? (typeof process !== 'undefined' ? process.env : {})
  const r = c.reader as Record<string, unknown>
  const w = c.writer as Record<string, unknown>
  const rName = String(r.name)
  const wName = String(w.name)
  const rp = (isObject(r.parameter) ? r.parameter : {}) as Record<string, unknown>
  const wp = (isObject(w.parameter) ? w.parameter : {}) as Record<string, unknown>
  const rAt = `${at}.reader.parameter`
  const wAt = `${at}.writer.parameter`
  const connections: NamedConnection[] = []
  const reader: Record<string, unknown> = {}
  const writer: Record<string, unknown> = {}
  let source: TablePair['source'] | undefined
  let sourceCols: string[] | undefined
  let fileCols: FileColumn[] | undefined
  let dbReaderKind: ConnectorKind | undefined

  // ---- reader
  if (FILE_READERS.has(rName)) {
    const paths = strList(rp.path)
    if (!paths?.length) throw new InteropError(`${rAt}.path: missing`)
    const s = fileSide(rName, rp, paths, rAt, env, report, 'reader')
    const fo = formatOptions(rp, rAt, report, 'reader') as FileReaderOptions
    fo.header = rp.skipHeader === true
    fileCols = readerColumns(rp.column, rAt, report)
    if (fileCols) fo.column = fileCols
    if (rp.maxTraversalLevel !== undefined) report.push(`${rAt}.maxTraversalLevel: ignored (Sluice matches the pattern's own depth; use ** for any depth)`)
    reader.connection = s.url
    reader.file = fo
    source = s.rels.length === 1 ? s.rels[0]! : `{${s.rels.join(',')}}`
    connections.push({ ...s.config, name: s.name })
  } else {
    const rk: ConnectorKind | undefined = rName === 'mysqlreader' ? 'mysql' : rName === 'postgresqlreader' ? 'postgres' : undefined
    if (!rk) throw new InteropError(`${at}.reader.name: plugin '${rName}' is not supported with a file writer (mysqlreader, postgresqlreader, txtfilereader, ftpreader)`)
    dbReaderKind = rk
    const conn = Array.isArray(rp.connection) ? rp.connection.filter(isObject)[0] : undefined
    const url = conn ? strList(conn.jdbcUrl)?.[0] : undefined
    if (!conn || !url) throw new InteropError(`${rAt}.connection[0].jdbcUrl: missing`)
    const parsed = parseJdbcUrl(url)
    if (parsed.config.kind !== rk) throw new InteropError(`${rAt}: jdbcUrl '${url}' is not a ${rk} URL`)
    const cfg = parsed.config
    if (typeof rp.username === 'string') cfg.user = rp.username
    const pw = password(rp, rAt, env, report)
    if (pw !== undefined) cfg.password = pw
    const inline: Record<string, unknown> = { kind: rk }
    for (const k of ['host', 'port', 'user', 'password', 'database'] as const) if (cfg[k] !== undefined) inline[k] = cfg[k]
    reader.connection = inline
    if (parsed.schema) reader.schema = parsed.schema
    connections.push({ ...cfg, name: 'reader' })
    const q = strList(conn.querySql)?.[0]
    const t = strList(conn.table)?.[0]
    if (q) source = { querySql: q }
    else if (t) {
      const ref = splitTableRef(rk, t)
      source = ref.schema ? { schema: ref.schema, table: ref.table } : ref.table
    } else throw new InteropError(`${rAt}.connection[0]: neither table nor querySql`)
    const cols = strList(rp.column)
    if (!q && cols && !(cols.length === 1 && cols[0] === '*')) sourceCols = cols
    if (typeof rp.where === 'string' && rp.where.trim()) reader.where = rp.where
    if (typeof rp.splitPk === 'string' && rp.splitPk.trim()) reader.splitPk = rp.splitPk.trim()
  }

  // ---- writer
  let target: string | undefined
  const mapping: Array<Record<string, unknown>> = []
  if (FILE_WRITERS.has(wName)) {
    if (typeof wp.path !== 'string' || !wp.path) throw new InteropError(`${wAt}.path: missing`)
    const s = fileSide(wName, wp, [wp.path], wAt, env, report, 'writer')
    const fo = formatOptions(wp, wAt, report, 'writer') as FileWriterOptions
    const mode = String(wp.writeMode ?? 'append')
    if (mode !== 'truncate' && mode !== 'append' && mode !== 'nonConflict') throw new InteropError(`${wAt}.writeMode: '${mode}' is not truncate, append or nonConflict`)
    fo.writeMode = mode
    if (typeof wp.fileName === 'string' && wp.fileName) fo.fileName = wp.fileName
    else throw new InteropError(`${wAt}.fileName: missing`)
    const header = strList(wp.header)
    fo.header = !!header?.length
    report.push(`${wAt}.fileName: DataX writes ${fo.fileName}__<random>; Sluice writes ${fo.fileName}-<split>-<part>.csv${fo.compression === 'gzip' ? '.gz' : ''} and ${fo.fileName}.manifest.json`)
    writer.connection = s.url
    writer.file = fo
    target = fo.fileName
    if (header?.length) {
      // The header names are the written column names.
      const n = header.length
      for (let k = 0; k < n; k++) mapping.push({ target: header[k]!, position: k })
    }
    connections.push({ ...s.config, name: s.name === 'reader' ? 'writer' : s.name })
  } else {
    const wk: ConnectorKind | undefined = wName === 'mysqlwriter' ? 'mysql' : wName === 'postgresqlwriter' ? 'postgres' : undefined
    if (!wk) throw new InteropError(`${at}.writer.name: plugin '${wName}' is not supported with a file reader (mysqlwriter, postgresqlwriter, txtfilewriter, ftpwriter)`)
    const conn = Array.isArray(wp.connection) ? wp.connection.filter(isObject)[0] : undefined
    const url = conn ? strList(conn.jdbcUrl)?.[0] : undefined
    if (!conn || !url) throw new InteropError(`${wAt}.connection[0].jdbcUrl: missing`)
    const parsed = parseJdbcUrl(url)
    const cfg = parsed.config
    if (typeof wp.username === 'string') cfg.user = wp.username
    const pw = password(wp, wAt, env, report)
    if (pw !== undefined) cfg.password = pw
    const inline: Record<string, unknown> = { kind: wk }
    for (const k of ['host', 'port', 'user', 'password', 'database'] as const) if (cfg[k] !== undefined) inline[k] = cfg[k]
    writer.connection = inline
    if (parsed.schema) writer.schema = parsed.schema
    writer.createTable = false
    const t = strList(conn.table)?.[0]
    if (!t) throw new InteropError(`${wAt}.connection[0].table: missing`)
    target = splitTableRef(wk, t).table
    const cols = strList(wp.column)
    if (!cols?.length) throw new InteropError(`${wAt}.column: missing (DataX requires it)`)
    const wm = String(wp.writeMode ?? 'insert').toLowerCase()
    if (wk === 'mysql' && (wm === 'insert' || wm === 'replace' || wm === 'update')) writer.writeMode = wm
    const pre = strList(wp.preSql) ?? []
    const rest: string[] = []
    for (const sql of pre) {
      if (/^\s*truncate\s+(table\s+)?@table\s*;?\s*$/i.test(sql)) writer.truncate = true
      else rest.push(sql.replace(/@table/g, t))
    }
    if (rest.length) writer.preSql = rest
    const post = (strList(wp.postSql) ?? []).map((s) => s.replace(/@table/g, t))
    if (post.length) writer.postSql = post
    connections.push({ ...cfg, name: 'writer' })
    // File columns by position onto the writer's column list (DataX: same-row).
    if (cols.length === 1 && cols[0] === '*') {
      if (fileCols) report.push(`${wAt}.column: ["*"]: the file columns are written by position`)
    } else cols.forEach((name, k) => mapping.push({ target: name.replace(/^[`"]|[`"]$/g, ''), position: k }))
    report.push('$.writer.createTable: false: DataX writes into existing tables only')
  }

  const pair: Record<string, unknown> = { source, target }
  if (sourceCols) pair.columns = sourceCols
  if (mapping.length) pair.mapping = mapping
  if (dbReaderKind && FILE_WRITERS.has(wName) && !mapping.length) pair.mappingMode = 'name'
  const speedIn = isObject(setting.speed) ? setting.speed : {}
  const errIn = isObject(setting.errorLimit) ? setting.errorLimit : {}
  const speed: Record<string, number> = {}
  if (typeof speedIn.channel === 'number' && speedIn.channel >= 1) speed.channel = Math.min(64, Math.floor(speedIn.channel))
  if (typeof speedIn.record === 'number' && speedIn.record > 0) speed.record = speedIn.record
  if (typeof speedIn.byte === 'number' && speedIn.byte > 0) speed.byte = speedIn.byte
  const errorLimit: Record<string, number> = {}
  if (errIn.record !== undefined && Number.isInteger(Number(errIn.record))) errorLimit.record = Number(errIn.record)
  if (errIn.percentage !== undefined && Number(errIn.percentage) >= 0 && Number(errIn.percentage) <= 1) errorLimit.percentage = Number(errIn.percentage)
  const job: JobSpecInput = {
    version: 1,
    ...(opts.name ? { name: opts.name } : {}),
    reader: reader as JobSpecInput['reader'],
    writer: writer as JobSpecInput['writer'],
    tables: [pair as TablePair],
    setting: { speed, errorLimit, ...(dbReaderKind === 'mysql' ? { zeroDate: 'null' as const } : {}) },
  }
  return { job, connections }
}

// ---------------------------------------------------------------------------------------------
// Export

/** True when either side of `job` is a file connection. */
export function hasFileSide(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig): boolean {
  try {
    return isFileStoreKind(resolve(job.reader.connection).kind) || isFileStoreKind(resolve(job.writer.connection).kind)
  } catch {
    return false
  }
}

function dataxFileParams(c: ConnectionConfig, name: string, warnings: string[], at: string): { plugin: 'txtfile' | 'ftp'; params: Record<string, unknown>; root: string } {
  const root = (c.path ?? '').replace(/\/+$/, '')
  if (c.kind === 'file') return { plugin: 'txtfile', params: {}, root }
  if (c.kind === 'ftp' || c.kind === 'sftp') {
    const params: Record<string, unknown> = { protocol: c.kind, host: c.host, port: c.port ?? (c.kind === 'sftp' ? 22 : 21), username: c.user ?? 'anonymous', password: '${' + passwordVar(name) + '}' }
    if (c.kind === 'ftp' && c.passive === false) params.connectPattern = 'PORT'
    if (c.kind === 'ftp' && c.ssl) warnings.push(`${at}: explicit FTPS: DataX's ftpreader/ftpwriter speak plain FTP only`)
    if (c.privateKey) warnings.push(`${at}: SFTP key authentication: DataX's ftp plugins take a password only`)
    return { plugin: 'ftp', params, root: root.startsWith('/') || !root ? root : '/' + root }
  }
  throw new InteropError(`${at}: DataX has no plugin for ${c.kind} files (stock DataX has no S3 reader or writer); export to SeaTunnel (S3File)`)
}

function fileOptionsWarnings(o: FileReaderOptions | FileWriterOptions | undefined, at: string, warnings: string[], tool: string): void {
  if (!o) return
  if (o.format && o.format !== 'csv' && o.format !== 'tsv') warnings.push(`${at}.format: ${o.format}: ${tool}'s text plugins read and write delimited text only`)
  if (o.bytesFormat) warnings.push(`${at}.bytesFormat: ${tool} has no option for binary values in text`)
  if (o.quote !== undefined || o.escape !== undefined) warnings.push(`${at}.quote/escape: not expressible in ${tool}; its defaults apply`)
  const wo = o as FileWriterOptions
  if (wo.exportBatchRows) warnings.push(`${at}.exportBatchRows: ${tool} does not split output files by rows; one file per channel`)
  if (wo.manifest !== false && 'path' in o) warnings.push(`${at}.manifest: ${tool} writes no manifest (rows, bytes, SHA-256)`)
  if (wo.folderPerTable) warnings.push(`${at}.folderPerTable: exported as the table's folder under path`)
}

/**
 * Export a job with a file side: DataX (txtfilereader/-writer, ftpreader/-writer) or SeaTunnel
 * (LocalFile, FtpFile, SftpFile, S3File). One file per table pair.
 * @throws InteropError when a side has no plugin in the format (DataX and S3; DataWorks).
 */
export function exportFileJob(job: JobSpec, format: ExportFormat, resolve: (ref: ConnectionRef) => ConnectionConfig, opts: ExportOptions = {}): ExportResult {
  const warnings: string[] = []
  const rc = resolve(job.reader.connection)
  const wc = resolve(job.writer.connection)
  const rName = connectionName(job.reader.connection, 'reader')
  const wName = connectionName(job.writer.connection, 'writer')
  if (format === 'dataworks') throw new InteropError('DataWorks script mode with file sides is not exported (its FTP / OSS data sources are configured in DataWorks); export to DataX or SeaTunnel')
  if (format === 'datax') {
    const db = [rc, wc].find((c) => !isFileStoreKind(c.kind) && c.kind !== 'mysql' && c.kind !== 'postgres')
    if (db) {
      warnings.push(`DataX has no plugin for ${db.kind}: nothing exported (export to SeaTunnel, whose Jdbc connector reads and writes SQLite)`)
      return { files: [], warnings }
    }
  }
  const pairs = normalizePairs(job, opts.tables, warnings)
  const tool = format === 'datax' ? 'DataX' : 'SeaTunnel'
  fileOptionsWarnings(job.reader.file, '$.reader.file', warnings, tool)
  fileOptionsWarnings(job.writer.file, '$.writer.file', warnings, tool)
  const ro = job.reader.file ?? {}
  const wo = job.writer.file ?? {}
  const files = pairs.map((np, i) => {
    const base = slug(job.name ?? 'job')
    const nameOf = (ext: string) => (pairs.length === 1 ? `${base}.${ext}` : `${base}-${String(i + 1).padStart(2, '0')}-${slug(np.sourceTable ?? np.target)}.${ext}`)
    const srcPattern = np.sourceTable ?? ''
    const folder = [wo.path ?? '', wo.folderPerTable ?? !Array.isArray(job.tables) ? np.target : ''].filter(Boolean).join('/')
    const fileName = wo.fileName ?? np.target
    const dbColumns = np.columns ?? np.mapping?.filter((m) => m.source).map((m) => m.source!) ?? ['*']
    const targetColumns = np.mapping?.map((m) => m.target)
    if (format === 'datax') {
      let reader: Record<string, unknown>
      let writer: Record<string, unknown>
      if (isFileStoreKind(rc.kind)) {
        const s = dataxFileParams(rc, rName, warnings, '$.reader.connection')
        const params: Record<string, unknown> = { ...s.params, path: [`${s.root}/${srcPattern.replace(/^\/+/, '')}`], encoding: ro.encoding ?? 'UTF-8', fieldDelimiter: ro.fieldDelimiter ?? ',', skipHeader: ro.header ?? true, nullFormat: ro.nullFormat ?? '\\N' }
        params.column = ro.column?.length ? ro.column.map((c) => ({ ...(c.index !== undefined ? { index: c.index } : {}), ...(c.value !== undefined ? { value: c.value } : {}), type: dataxType(c.type), ...(c.format ? { format: c.format } : {}) })) : ['*']
        if (ro.column?.some((c) => c.index === undefined && c.value === undefined)) warnings.push(`$.reader.file.column: columns by header name: DataX reads by index only`)
        if (ro.compression && ro.compression !== 'auto' && ro.compression !== 'none') params.compress = ro.compression
        reader = { name: `${s.plugin}reader`, parameter: params }
      } else reader = dbSide(rc, rName, 'reader', np, dbColumns, job, warnings)
      if (isFileStoreKind(wc.kind)) {
        const s = dataxFileParams(wc, wName, warnings, '$.writer.connection')
        const params: Record<string, unknown> = { ...s.params, path: [s.root, folder].filter(Boolean).join('/') || '/', fileName, writeMode: wo.writeMode ?? 'truncate', encoding: wo.encoding ?? 'UTF-8', fieldDelimiter: wo.fieldDelimiter ?? ',', nullFormat: wo.nullFormat ?? '\\N', fileFormat: 'csv' }
        if (wo.compression && wo.compression !== 'none' && wo.compression !== 'auto') params.compress = wo.compression
        if ((wo.header ?? true) && targetColumns) params.header = targetColumns
        else if (wo.header ?? true) warnings.push(`$.writer.file.header: DataX writes a header only from an explicit list; add a mapping to name the columns`)
        writer = { name: `${s.plugin}writer`, parameter: params }
      } else writer = dbSide(wc, wName, 'writer', np, targetColumns ?? ['*'], job, warnings)
      const doc = { job: { setting: { speed: { channel: job.setting.speed.channel ?? 1 }, errorLimit: { record: job.setting.errorLimit.record ?? 0 } }, content: [{ reader, writer }] } }
      return { name: nameOf('datax.json'), content: JSON.stringify(doc, null, 2) + '\n' }
    }
    // SeaTunnel
    const src = isFileStoreKind(rc.kind) ? seaTunnelFile(rc, rName, 'source', `${(rc.path ?? '').replace(/\/+$/, '')}/${srcPattern.replace(/^\/+/, '')}`, ro, warnings) : seaTunnelJdbc(rc, rName, 'source', np, dbColumns)
    const sink = isFileStoreKind(wc.kind) ? seaTunnelFile(wc, wName, 'sink', [(wc.path ?? '').replace(/\/+$/, ''), folder].filter(Boolean).join('/'), { ...wo, fileName }, warnings) : seaTunnelJdbc(wc, wName, 'sink', np, targetColumns ?? [])
    const cfg = { env: { 'job.mode': 'BATCH', parallelism: job.setting.speed.channel ?? 1 }, source: [src], sink: [sink] }
    return { name: nameOf(format === 'seatunnel-json' ? 'seatunnel.json' : 'seatunnel.conf'), content: format === 'seatunnel-json' ? JSON.stringify(cfg, null, 2) + '\n' : hocon(cfg) }
  })
  warnings.push(`passwords are \${${passwordVar(rName)}} / \${${passwordVar(wName)}} placeholders: set them in the environment of the ${tool} run`)
  return { files, warnings }
}

function dataxType(t: string | undefined): string {
  if (!t) return 'string'
  const s = t.toLowerCase()
  if (/^(long|bigint|int|integer|int64|int32|smallint|tinyint)/.test(s)) return 'long'
  if (/^(double|float|real|decimal|numeric)/.test(s)) return 'double'
  if (/^(date|datetime|timestamp)/.test(s)) return 'date'
  if (/^bool/.test(s)) return 'boolean'
  if (/^(bytes|binary|blob)/.test(s)) return 'bytes'
  return 'string'
}

function dbSide(c: ConnectionConfig, name: string, side: 'reader' | 'writer', np: ReturnType<typeof normalizePairs>[number], columns: string[], job: JobSpec, warnings: string[]): Record<string, unknown> {
  if (c.kind !== 'mysql' && c.kind !== 'postgres') throw new InteropError(`$.${side}.connection: DataX has no ${side} plugin for ${c.kind}`)
  const kind = c.kind
  const params: Record<string, unknown> = { username: c.user ?? (kind === 'mysql' ? 'root' : 'postgres'), password: '${' + passwordVar(name) + '}' }
  const url = jdbcUrl(c, kind === 'postgres' ? (side === 'reader' ? job.reader.schema : job.writer.schema) ?? c.schema : undefined)
  if (side === 'reader') {
    if (np.querySql) params.connection = [{ querySql: [np.querySql], jdbcUrl: [url] }]
    else {
      params.column = columns.map((x) => (x === '*' ? x : quoteIdent(kind, x)))
      if (np.where) params.where = np.where
      if (np.splitPk) params.splitPk = np.splitPk
      params.connection = [{ table: [quoteIdent(kind, np.sourceTable!)], jdbcUrl: [url] }]
    }
    return { name: kind === 'mysql' ? 'mysqlreader' : 'postgresqlreader', parameter: params }
  }
  if (columns.length === 1 && columns[0] === '*') warnings.push(`$.tables: DataX writers need the column list; add a mapping naming the target columns`)
  params.column = columns
  if (kind === 'mysql') params.writeMode = np.writeMode
  const pre = [...job.writer.preSql, ...(np.truncate ? ['TRUNCATE TABLE @table'] : [])]
  if (pre.length) params.preSql = pre
  if (job.writer.postSql.length) params.postSql = job.writer.postSql
  params.connection = [{ table: [quoteIdent(kind, np.target)], jdbcUrl: url }]
  return { name: kind === 'mysql' ? 'mysqlwriter' : 'postgresqlwriter', parameter: params }
}

/** A SeaTunnel LocalFile / FtpFile / SftpFile / S3File source or sink (connector-file options). */
function seaTunnelFile(c: ConnectionConfig, name: string, role: 'source' | 'sink', p: string, o: (FileReaderOptions | FileWriterOptions) & { fileName?: string }, warnings: string[]): Record<string, unknown> {
  const plugin = c.kind === 'file' ? 'LocalFile' : c.kind === 'ftp' ? 'FtpFile' : c.kind === 'sftp' ? 'SftpFile' : 'S3File'
  const fmt = o.format === 'parquet' ? 'parquet' : o.format === 'jsonl' ? 'json' : 'csv'
  const out: Record<string, unknown> = { plugin_name: plugin, path: c.kind === 's3' ? '/' + p.replace(/^\/+/, '') : p, file_format_type: fmt }
  if (c.kind === 'ftp' || c.kind === 'sftp') Object.assign(out, { host: c.host, port: c.port ?? (c.kind === 'sftp' ? 22 : 21), user: c.user, password: '${' + passwordVar(name) + '}' })
  if (c.kind === 's3') Object.assign(out, { bucket: `s3a://${c.bucket}`, fs_s3a_endpoint: c.endpoint ?? 's3.amazonaws.com', access_key: c.user, secret_key: '${' + passwordVar(name) + '}', 'fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider' })
  if (fmt === 'csv') {
    out.field_delimiter = o.fieldDelimiter ?? ','
    if (role === 'source') out.skip_header_row_number = (o.header ?? true) ? 1 : 0
    else out.enable_header_write = o.header ?? true
    if (o.nullFormat !== undefined && role === 'source') out.null_format = o.nullFormat
    else if (o.nullFormat !== undefined) warnings.push(`$.writer.file.nullFormat: SeaTunnel's file sinks write NULL as an empty field`)
  }
  if (o.encoding) out.encoding = o.encoding
  const comp = o.compression && o.compression !== 'none' && o.compression !== 'auto' ? o.compression : undefined
  if (comp === 'gzip') out.compress_codec = role === 'source' ? 'gzip' : 'none'
  if (comp && role === 'sink') warnings.push(`$.writer.file.compression: ${comp}: SeaTunnel's text sinks compress with lzo only; written uncompressed`)
  if (comp === 'zstd' && role === 'source') warnings.push(`$.reader.file.compression: zstd: SeaTunnel's text sources read lzo and gzip only`)
  if (role === 'sink') {
    const wo = o as FileWriterOptions & { fileName?: string }
    out.custom_filename = true
    out.file_name_expression = `${wo.fileName}-\${transactionId}`
    out.is_enable_transaction = true
    if (wo.writeMode === 'append') warnings.push('$.writer.file.writeMode: append: SeaTunnel file sinks always add new files (as append)')
    if (wo.exportBatchRows) out.batch_size = wo.exportBatchRows
  }
  if (role === 'source' && (o as FileReaderOptions).column?.length) warnings.push('$.reader.file.column: declare the schema in SeaTunnel (schema.fields); column types are not exported')
  return out
}

function seaTunnelJdbc(c: ConnectionConfig, name: string, role: 'source' | 'sink', np: ReturnType<typeof normalizePairs>[number], columns: string[]): Record<string, unknown> {
  const kind = c.kind as 'mysql' | 'postgres' | 'sqlite'
  const url = jdbcUrl(c)
  const driver = kind === 'mysql' ? 'com.mysql.cj.jdbc.Driver' : kind === 'postgres' ? 'org.postgresql.Driver' : 'org.sqlite.JDBC'
  const out: Record<string, unknown> = { plugin_name: 'Jdbc', url, driver, ...(kind !== 'sqlite' ? { user: c.user, password: '${' + passwordVar(name) + '}' } : {}) }
  if (role === 'source') {
    const cols = columns.length === 1 && columns[0] === '*' ? '*' : columns.map((x) => quoteIdent(kind === 'sqlite' ? 'postgres' : kind, x)).join(', ')
    out.query = np.querySql ?? `SELECT ${cols} FROM ${quoteIdent(kind === 'sqlite' ? 'postgres' : kind, np.sourceTable!)}${np.where ? ` WHERE ${np.where}` : ''}`
  } else {
    out.generate_sink_sql = true
    out.database = c.database ?? ''
    out.table = np.target
  }
  return out
}

function hocon(v: Record<string, unknown>): string {
  const q = (s: string) => JSON.stringify(s)
  const val = (x: unknown, ind: string): string => {
    if (Array.isArray(x)) return x.map((e) => val(e, ind)).join('\n')
    if (x && typeof x === 'object') return Object.entries(x as Record<string, unknown>).map(([k, y]) => `${ind}${/^[A-Za-z_][\w.]*$/.test(k) ? k : q(k)} = ${typeof y === 'string' ? q(y) : JSON.stringify(y)}`).join('\n')
    return String(x)
  }
  let s = 'env {\n' + val(v.env, '  ') + '\n}\n'
  for (const part of ['source', 'sink'] as const) {
    s += `${part} {\n`
    for (const p of v[part] as Array<Record<string, unknown>>) {
      const { plugin_name, ...rest } = p
      s += `  ${String(plugin_name)} {\n${val(rest, '    ')}\n  }\n`
    }
    s += '}\n'
  }
  return s
}
