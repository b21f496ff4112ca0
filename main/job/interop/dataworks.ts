/**
 * DataWorks (Alibaba Cloud Data Integration) script-mode JSON: export and import.
 *
 * Shape (DataWorks "configure a batch synchronization node in the code editor"):
 * ```json
 * { "type": "job", "version": "2.0",
 *   "steps": [ { "stepType": "mysql", "parameter": { "datasource": "src", "table": ["t"], "column": [...], "splitPk": "id", "where": "" },
 *                "name": "Reader", "category": "reader" },
 *              { "stepType": "postgresql", "parameter": { "datasource": "dst", "table": "t", "column": [...], "preSql": [], "postSql": [] },
 *                "name": "Writer", "category": "writer" } ],
 *   "setting": { "errorLimit": { "record": "0" }, "speed": { "throttle": false, "concurrent": 2 } },
 *   "order": { "hops": [ { "from": "Reader", "to": "Writer" } ] } }
 * ```
 * DataWorks data sources hold host, database and credentials: steps name a `datasource` (the
 * Sluice connection name) and carry no password at all. `${bizdate}` and other scheduling
 * parameters are resolved by DataWorks itself. One file per table pair (one node syncs one pair).
 * A schema other than the data source's default goes in the table name (`schema.table`).
 */
import type { ConnectionConfig, ConnectorKind } from '../../connectors/types.js'
import type { ConnectionRef, JobSpec, JobSpecInput, TablePair } from '../spec.js'
import { InteropError, isObject, normalizePairs, quoteIdent, slug, splitTableRef, variablesIn, type ExportOptions, type ExportResult, type NamedConnection } from './common.js'
import { exportColumns, applyImportedColumns, importColumns } from './columns.js'
import { commonWarnings, DEFAULT_EXPORT_CHANNELS, resolveSides, type ImportOptions, type ImportResult } from './datax.js'

const STEP_TYPE: Partial<Record<ConnectorKind, string>> = { mysql: 'mysql', postgres: 'postgresql' }
const MB = 1024 * 1024

/**
 * Export a job as DataWorks script-mode files (one per table pair).
 * @throws InteropError when a connection cannot be resolved.
 */
export function exportDataWorks(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig, opts: ExportOptions = {}): ExportResult {
  const warnings: string[] = []
  const sides = resolveSides(job, resolve)
  const rt = STEP_TYPE[sides.reader.kind]
  const wt = STEP_TYPE[sides.writer.kind]
  if (!rt || !wt) {
    warnings.push(`DataWorks has no ${!rt ? sides.reader.kind : sides.writer.kind} data source type here: nothing exported`)
    return { files: [], warnings }
  }
  const pairs = normalizePairs(job, opts.tables, warnings)
  warnings.push(...commonWarnings(job, sides, pairs, 'DataWorks'))
  for (const [side, ref, name] of [['reader', job.reader.connection, sides.readerName], ['writer', job.writer.connection, sides.writerName]] as const) {
    if (typeof ref !== 'string' || name === side) warnings.push(`$.${side}.connection: not a saved connection: create a DataWorks data source named "${name}" for it`)
  }
  warnings.push(`credentials: DataWorks data sources "${sides.readerName}" and "${sides.writerName}" hold them; the files have no password field`)
  if (sides.writer.timezone || sides.reader.timezone) warnings.push('$.*.connection.timezone: set on the DataWorks data source, not in the node')
  const channel = job.setting.speed.channel ?? DEFAULT_EXPORT_CHANNELS
  if (job.setting.speed.channel === undefined) warnings.push(`$.setting.speed.channel: unset (Sluice default min(4, cores)); exported as concurrent ${DEFAULT_EXPORT_CHANNELS}`)
  const speed: Record<string, unknown> = { throttle: job.setting.speed.byte > 0, concurrent: channel }
  if (job.setting.speed.byte > 0) {
    const mbps = job.setting.speed.byte / MB
    if (!Number.isInteger(mbps)) warnings.push(`$.setting.speed.byte: ${job.setting.speed.byte} B/s is not a whole number of MB/s; DataWorks mbps set to ${Math.max(1, Math.floor(mbps))}`)
    speed.mbps = String(Math.max(1, Math.floor(mbps)))
  }
  if (job.setting.speed.record > 0) warnings.push(`$.setting.speed.record: DataWorks limits by MB/s only; the ${job.setting.speed.record} records/s cap is not exported`)
  const errorLimit: Record<string, string> = {}
  if (job.setting.errorLimit.record !== undefined) errorLimit.record = String(job.setting.errorLimit.record)
  if (job.setting.errorLimit.percentage !== undefined) warnings.push('$.setting.errorLimit.percentage: DataWorks limits dirty records by count only; not exported')
  if (pairs.length > 1 && (job.writer.preSql.length || job.writer.postSql.length))
    warnings.push('$.writer.preSql/postSql: in the first (preSql) and last (postSql) node only: make the nodes depend on each other in that order')

  const rSchema = job.reader.schema
  const wSchema = job.writer.schema
  const files = pairs.map((np, i) => {
    const cols = exportColumns(np, sides.reader.kind, sides.writer.kind, warnings, 'DataWorks')
    const rq = (n: string) => quoteIdent(sides.reader.kind, n)
    const reader: Record<string, unknown> = { datasource: sides.readerName }
    if (np.querySql) {
      reader.querySql = np.querySql
    } else {
      const schema = np.sourceSchema ?? rSchema
      reader.table = [schema ? `${rq(schema)}.${rq(np.sourceTable!)}` : rq(np.sourceTable!)]
      reader.column = cols.reader
      if (np.splitPk) reader.splitPk = np.splitPk
      if (np.where) reader.where = np.where
    }
    const writer: Record<string, unknown> = { datasource: sides.writerName }
    const wq = (n: string) => quoteIdent(sides.writer.kind, n)
    writer.table = wSchema ? `${wq(wSchema)}.${wq(np.target)}` : wq(np.target)
    writer.column = cols.writer
    if (sides.writer.kind === 'mysql') writer.writeMode = np.writeMode
    const pre = [...(i === 0 ? job.writer.preSql : []), ...(np.truncate ? [`TRUNCATE TABLE ${writer.table as string}`] : []), ...np.preSql]
    const post = [...np.postSql, ...(i === pairs.length - 1 ? job.writer.postSql : [])]
    if (pre.length) writer.preSql = pre
    if (post.length) writer.postSql = post
    const doc = {
      type: 'job',
      version: '2.0',
      steps: [
        { stepType: rt, parameter: reader, name: 'Reader', category: 'reader' },
        { stepType: wt, parameter: writer, name: 'Writer', category: 'writer' },
      ],
      setting: { errorLimit, speed },
      order: { hops: [{ from: 'Reader', to: 'Writer' }] },
    }
    const base = slug(job.name ?? 'job')
    const name = pairs.length === 1 ? `${base}.dataworks.json` : `${base}-${String(i + 1).padStart(2, '0')}-${slug(np.sourceTable ?? np.target)}.dataworks.json`
    return { name, content: JSON.stringify(doc, null, 2) + '\n' }
  })
  const vars = variablesIn(files.map((f) => f.content).join('\n'))
  if (vars.length) warnings.push(`variables kept verbatim: ${vars.join(', ')}: DataWorks resolves scheduling parameters (\${bizdate}, $[yyyymmdd-1], ...) itself; define custom ones in the node's scheduling parameters`)
  return { files, warnings }
}

const READER_KNOWN = new Set(['datasource', 'table', 'column', 'splitPk', 'where', 'querySql', 'encoding', 'connection'])
const WRITER_KNOWN = new Set(['datasource', 'table', 'column', 'writeMode', 'preSql', 'postSql', 'batchSize', 'connection'])

function strList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  return undefined
}

function stepKind(t: unknown): ConnectorKind | undefined {
  const s = String(t ?? '').toLowerCase()
  return s === 'mysql' ? 'mysql' : s === 'postgresql' || s === 'postgres' ? 'postgres' : undefined
}

/**
 * Import a DataWorks script-mode job. Data sources become saved-connection references by name
 * (DataWorks holds their settings), listed in `connections` with their kind.
 * @throws InteropError when nothing runnable remains.
 */
export function importDataWorks(doc: unknown, opts: ImportOptions = {}): ImportResult {
  const report: string[] = []
  if (!isObject(doc) || !Array.isArray(doc.steps)) throw new InteropError('not a DataWorks script-mode job (expected { type: "job", steps: [...] })')
  for (const k of Object.keys(doc)) if (!['type', 'version', 'steps', 'setting', 'order', 'extend'].includes(k)) report.push(`$.${k}: unknown key ignored`)
  const steps = doc.steps.filter(isObject)
  const rIdx = steps.findIndex((s) => s.category === 'reader')
  const wIdx = steps.findIndex((s) => s.category === 'writer')
  if (steps.length > 2) report.push(`$.steps: ${steps.length} steps; only the first reader and writer are imported`)
  if (rIdx < 0 || wIdx < 0) throw new InteropError('$.steps: needs a reader and a writer step', report)
  const rs = steps[rIdx]!
  const ws = steps[wIdx]!
  const rAt = `$.steps[${rIdx}]`
  const wAt = `$.steps[${wIdx}]`
  const rk = stepKind(rs.stepType)
  const wk = stepKind(ws.stepType)
  if (!rk) report.push(`${rAt}.stepType: '${String(rs.stepType)}' is not supported (mysql, postgresql)`)
  if (!wk) report.push(`${wAt}.stepType: '${String(ws.stepType)}' is not supported (mysql, postgresql)`)
  if (!rk || !wk) throw new InteropError('nothing runnable in the DataWorks job: unsupported step type', report)
  const rp = isObject(rs.parameter) ? rs.parameter : {}
  const wp = isObject(ws.parameter) ? ws.parameter : {}
  for (const k of Object.keys(rp)) if (!READER_KNOWN.has(k)) report.push(`${rAt}.parameter.${k}: unknown parameter ignored`)
  for (const k of Object.keys(wp)) if (!WRITER_KNOWN.has(k)) report.push(`${wAt}.parameter.${k}: unknown parameter ignored`)
  if (rp.encoding !== undefined) report.push(`${rAt}.parameter.encoding: ignored (Sluice reads the database's own encoding)`)

  // Sharded form: connection: [{ datasource, table: [...] }]; only the first entry is imported.
  const rConn = Array.isArray(rp.connection) && isObject(rp.connection[0]) ? rp.connection[0] : undefined
  if (Array.isArray(rp.connection) && rp.connection.length > 1) report.push(`${rAt}.parameter.connection: ${rp.connection.length} data sources (sharding); only the first is imported`)
  const rDs = typeof rp.datasource === 'string' ? rp.datasource : typeof rConn?.datasource === 'string' ? rConn.datasource : undefined
  const wConn = Array.isArray(wp.connection) && isObject(wp.connection[0]) ? wp.connection[0] : undefined
  const wDs = typeof wp.datasource === 'string' ? wp.datasource : typeof wConn?.datasource === 'string' ? wConn.datasource : undefined
  if (!rDs || !wDs) throw new InteropError(`${!rDs ? rAt : wAt}.parameter.datasource: missing`, report)
  const rTables = strList(rp.table) ?? strList(rConn?.table) ?? []
  const queries = strList(rp.querySql) ?? strList(rConn?.querySql) ?? []
  const wTables = strList(wp.table) ?? strList(wConn?.table) ?? []
  const rColumns = strList(rp.column)
  const wColumns = strList(wp.column)
  if (!wColumns || (!queries.length && !rColumns)) throw new InteropError(`${!wColumns ? wAt : rAt}.parameter.column: missing`, report)
  if (!wTables.length) throw new InteropError(`${wAt}.parameter.table: missing`, report)
  const sources: Array<{ table?: string; querySql?: string }> = queries.length ? queries.map((q) => ({ querySql: q })) : rTables.map((t) => ({ table: t }))
  if (!sources.length) throw new InteropError(`${rAt}.parameter: neither table nor querySql`, report)
  if (wTables.length !== 1 && wTables.length !== sources.length) throw new InteropError(`${wAt}.parameter.table: ${wTables.length} writer tables for ${sources.length} sources`, report)
  const where = typeof rp.where === 'string' && rp.where.trim() !== '' ? rp.where : undefined
  const splitPk = typeof rp.splitPk === 'string' && rp.splitPk.trim() !== '' ? rp.splitPk.trim() : undefined

  // A schema shared by every table becomes the side's schema.
  const rRefs = sources.map((s) => (s.table ? splitTableRef(rk, s.table) : undefined))
  const rSchemas = new Set(rRefs.map((r) => r?.schema))
  const readerSchema = rSchemas.size === 1 ? [...rSchemas][0] : undefined
  const wRefs = wTables.map((t) => splitTableRef(wk, t))
  const wSchemas = new Set(wRefs.map((r) => r.schema))
  if (wSchemas.size > 1) report.push(`${wAt}.parameter.table: writer tables in several schemas; the first one's schema is used`)
  const writerSchema = wRefs[0]!.schema

  const tables: TablePair[] = []
  let truncate = false
  sources.forEach((s, k) => {
    const tgt = wRefs.length === 1 ? wRefs[0]! : wRefs[k]!
    const ref = rRefs[k]
    const pair: Record<string, unknown> = {}
    if (s.querySql) pair.source = { querySql: s.querySql }
    else if (ref!.schema && ref!.schema !== readerSchema) pair.source = { schema: ref!.schema, table: ref!.table }
    else pair.source = ref!.table
    if (tgt.table !== ref?.table) pair.target = tgt.table
    const cols = importColumns(rk, wk, s.querySql ? undefined : rColumns, wColumns, { ...(ref ?? {}), ...(where ? { where } : {}) }, report, '$.steps')
    if (!cols) return
    applyImportedColumns(pair, cols, { ...(s.querySql ? { querySql: s.querySql } : {}), ...(where ? { where } : {}), ...(splitPk ? { splitPk } : {}) })
    tables.push(pair as TablePair)
  })
  if (!tables.length) throw new InteropError('nothing runnable in the DataWorks job', report)

  const wTableRaw = wTables.length === 1 ? wTables[0]! : undefined
  const preSql: string[] = []
  for (const s of strList(wp.preSql) ?? []) {
    const m = /^\s*truncate\s+(?:table\s+)?(.+?)\s*;?\s*$/i.exec(s)
    if (m && (m[1] === '@table' || (wTableRaw !== undefined && m[1] === wTableRaw && tables.length === 1))) truncate = true
    else preSql.push(wTableRaw ? s.replace(/@table/g, wTableRaw) : s)
  }
  const postSql = (strList(wp.postSql) ?? []).map((s) => (wTableRaw ? s.replace(/@table/g, wTableRaw) : s))
  let writeMode: 'insert' | 'replace' | 'update' = 'insert'
  if (wp.writeMode !== undefined) {
    const wm = String(wp.writeMode).trim().toLowerCase()
    if (wk === 'mysql' && (wm === 'insert' || wm === 'replace' || wm === 'update')) writeMode = wm
    else report.push(`${wAt}.parameter.writeMode: "${wm}" not supported for ${wk}; insert used`)
  }
  if (wp.batchSize !== undefined) report.push(`${wAt}.parameter.batchSize: ignored (Sluice batches by bytes: setting.batchBytes)`)

  const setting = isObject(doc.setting) ? doc.setting : {}
  const sp = isObject(setting.speed) ? setting.speed : {}
  const el = isObject(setting.errorLimit) ? setting.errorLimit : {}
  const speed: Record<string, number> = {}
  const concurrent = Number(sp.concurrent)
  if (sp.concurrent !== undefined) {
    if (Number.isInteger(concurrent) && concurrent >= 1 && concurrent <= 64) speed.channel = concurrent
    else report.push(`$.setting.speed.concurrent: ${JSON.stringify(sp.concurrent)} out of range; ignored`)
  }
  if (sp.throttle === true || sp.throttle === 'true') {
    const mbps = Number(sp.mbps)
    if (Number.isFinite(mbps) && mbps > 0) speed.byte = Math.round(mbps * MB)
    else report.push('$.setting.speed: throttle without a valid mbps; no byte limit')
  }
  for (const k of Object.keys(sp)) if (!['throttle', 'concurrent', 'mbps', 'dmu'].includes(k)) report.push(`$.setting.speed.${k}: ignored`)
  if (sp.dmu !== undefined) report.push('$.setting.speed.dmu: DataWorks resource units ignored')
  const errorLimit: Record<string, number> = {}
  if (el.record !== undefined && el.record !== null && el.record !== '') {
    const r = Number(el.record)
    if (Number.isInteger(r) && r >= 0) errorLimit.record = r
    else report.push(`$.setting.errorLimit.record: ${JSON.stringify(el.record)} ignored`)
  }
  report.push(`connections: "${rDs}" (${rk}) and "${wDs}" (${wk}) are DataWorks data sources: save Sluice connections with these names`)
  report.push('$.writer.createTable: false: DataWorks writes into existing tables only')
  const settingOut: Record<string, unknown> = { speed, errorLimit }
  if (rk === 'mysql') {
    settingOut.zeroDate = 'null'
    report.push('$.setting.zeroDate: "null", as the DataX-based MySQL reader (zeroDateTimeBehavior=convertToNull)')
  }
  const job: JobSpecInput = {
    version: 1,
    ...(opts.name ? { name: opts.name } : {}),
    reader: { connection: rDs, ...(readerSchema ? { schema: readerSchema } : {}) },
    writer: { connection: wDs, ...(writerSchema ? { schema: writerSchema } : {}), writeMode, truncate, createTable: false, preSql, postSql },
    tables,
    setting: settingOut as JobSpecInput['setting'],
  }
  const connections: NamedConnection[] = [{ name: rDs, kind: rk }]
  if (wDs !== rDs) connections.push({ name: wDs, kind: wk })
  return { job, connections, report }
}
