/**
 * SeaTunnel batch config (connector-v2 `Jdbc` source and sink), as HOCON or as JSON.
 *
 * Options as apache/seatunnel documents them (`docs/en/connector-v2/source/Jdbc.md`,
 * `docs/en/connector-v2/sink/Jdbc.md`; lists in `test/fixtures/interop/seatunnel-jdbc-*.json`):
 * ```hocon
 * env { job.mode = "BATCH", parallelism = 2 }
 * source { Jdbc { url = "jdbc:mysql://h:3306/db", driver = "com.mysql.cj.jdbc.Driver", user = "etl", password = ${PASSWORD_SRC},
 *                 table_path = "db.orders" (or query = "SELECT ..."), partition_column = "id", plugin_output = "src_1_orders" } }
 * sink { Jdbc { url, driver, user, password, database = "dw", table = "public.orders", generate_sink_sql = true,
 *               schema_save_mode = "CREATE_SCHEMA_WHEN_NOT_EXIST", data_save_mode = "APPEND_DATA", plugin_input = "src_1_orders" } }
 * ```
 * One source and one sink per table pair, linked by `plugin_output` / `plugin_input`. Field
 * mapping (renames, constants, nullDefault) is expressed in the source `query` with SQL aliases,
 * because the sink generates its INSERT from the field names it receives.
 * HOCON is written by {@link toHocon} (no maintained npm package serializes HOCON; the parsers on
 * npm only read it). Strings are written as JSON strings, which HOCON accepts as quoted strings,
 * so `${bizdate}` inside them stays literal for HOCON and is replaced by SeaTunnel's `-i` variables.
 */
import type { ConnectionConfig, ConnectorKind } from '../../connectors/types.js'
import type { ConnectionRef, JobSpec } from '../spec.js'
import { JDBC_DRIVER, jdbcUrl, normalizePairs, passwordVar, quoteAlways, slug, sqlLiteral, variablesIn, type ExportOptions, type ExportResult, type NormalizedPair } from './common.js'
import { DEFAULT_EXPORT_CHANNELS, resolveSides } from './datax.js'

/** A HOCON substitution `${NAME}` (written unquoted, so HOCON resolves it, falling back to the environment). */
export class Substitution {
  constructor(readonly name: string) {}
}

/** A value of the config tree. */
export type StValue = string | number | boolean | Substitution | StValue[] | { [k: string]: StValue }

/** A SeaTunnel config as a tree: `env`, and the plugin blocks of `source` and `sink`. */
export interface SeaTunnelConfig {
  env: Record<string, StValue>
  source: Array<{ plugin: string; options: Record<string, StValue> }>
  sink: Array<{ plugin: string; options: Record<string, StValue> }>
}

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/

function hoconKey(k: string): string {
  // Dotted bare keys are HOCON paths, which is what SeaTunnel means by `job.mode`.
  return BARE_KEY.test(k) ? k : JSON.stringify(k)
}

function hoconValue(v: StValue, indent: string): string {
  if (v instanceof Substitution) return '${' + v.name + '}'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`HOCON: ${v} is not a finite number`)
    return String(v)
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v)) return `[${v.map((x) => hoconValue(x, indent)).join(', ')}]`
  const inner = indent + '  '
  const lines = Object.entries(v).map(([k, x]) => `${inner}${hoconKey(k)} = ${hoconValue(x, inner)}`)
  return lines.length ? `{\n${lines.join('\n')}\n${indent}}` : '{}'
}

/** Serialize a config as HOCON (SeaTunnel's `.conf`). Plugin blocks repeat under `source` / `sink`, as SeaTunnel expects. */
export function toHocon(cfg: SeaTunnelConfig): string {
  const block = (name: string, body: Record<string, StValue>, indent: string) => {
    const inner = indent + '  '
    const lines = Object.entries(body).map(([k, x]) => `${inner}${hoconKey(k)} = ${hoconValue(x, inner)}`)
    return `${indent}${name} {\n${lines.join('\n')}\n${indent}}`
  }
  const out = [block('env', cfg.env, '')]
  out.push(`source {\n${cfg.source.map((s) => block(s.plugin, s.options, '  ')).join('\n')}\n}`)
  out.push(`sink {\n${cfg.sink.map((s) => block(s.plugin, s.options, '  ')).join('\n')}\n}`)
  return out.join('\n\n') + '\n'
}

function jsonValue(v: StValue): unknown {
  if (v instanceof Substitution) return '${' + v.name + '}'
  if (Array.isArray(v)) return v.map(jsonValue)
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]))
  return v
}

/** Serialize a config as SeaTunnel's JSON form: `{ env, source: [{ plugin_name, ... }], sink: [...] }`. */
export function toSeaTunnelJson(cfg: SeaTunnelConfig): string {
  const doc = {
    env: jsonValue(cfg.env),
    source: cfg.source.map((s) => ({ plugin_name: s.plugin, ...(jsonValue(s.options) as object) })),
    sink: cfg.sink.map((s) => ({ plugin_name: s.plugin, ...(jsonValue(s.options) as object) })),
  }
  return JSON.stringify(doc, null, 2) + '\n'
}

function qualified(kind: ConnectorKind, schema: string | undefined, table: string): string {
  return kind !== 'sqlite' && schema ? `${quoteAlways(kind, schema)}.${quoteAlways(kind, table)}` : quoteAlways(kind, table)
}

/** The SELECT that carries a pair's columns, mapping and filter; undefined when `table_path` suffices. */
function sourceQuery(np: NormalizedPair, rk: ConnectorKind, schema: string | undefined, lower: boolean, warnings: string[]): string | undefined {
  if (np.querySql) {
    if (np.mapping) warnings.push(`${np.path}.mapping: with a querySql source SeaTunnel writes the query's columns by name; put the mapping in the query`)
    if (np.mappingMode === 'position') warnings.push(`${np.path}.mappingMode: SeaTunnel's sink matches fields by name, not position`)
    return np.querySql
  }
  const q = (n: string) => quoteAlways(rk, n)
  const items: string[] = []
  const alias = (expr: string, src: string | undefined, target: string) => (src === target ? expr : `${expr} AS ${q(target)}`)
  if (np.mapping) {
    np.mapping.forEach((m, j) => {
      const at = `${np.path}.mapping[${j}]`
      if (m.timeFormat) warnings.push(`${at}.timeFormat: SeaTunnel's Jdbc connectors cannot re-format text times; written as read`)
      if (m.constant !== undefined) {
        items.push(`${sqlLiteral(rk, m.constant)} AS ${q(m.target)}`)
        return
      }
      let src: string | undefined
      if (m.position !== undefined) {
        src = np.columns?.[m.position]
        if (src === undefined) {
          warnings.push(`${at}.position: SeaTunnel needs column names; position ${m.position} without a columns list is not exported`)
          return
        }
      } else src = m.source ?? m.target
      const expr = m.nullDefault !== undefined ? `COALESCE(${q(src)}, ${sqlLiteral(rk, m.nullDefault)})` : q(src)
      items.push(m.nullDefault !== undefined ? `${expr} AS ${q(m.target)}` : alias(expr, src, m.target))
    })
  } else if (np.columns) {
    if (np.mappingMode === 'position') warnings.push(`${np.path}.mappingMode: SeaTunnel's sink matches fields by name, not position`)
    for (const c of np.columns) items.push(alias(q(c), c, lower ? c.toLowerCase() : c))
  } else if (np.where || rk === 'sqlite') {
    if (np.mappingMode === 'position') warnings.push(`${np.path}.mappingMode: SeaTunnel's sink matches fields by name, not position`)
    items.push('*')
  } else {
    if (np.mappingMode === 'position') warnings.push(`${np.path}.mappingMode: SeaTunnel's sink matches fields by name, not position`)
    return undefined
  }
  return `SELECT ${items.join(', ')} FROM ${qualified(rk, np.sourceSchema ?? schema, np.sourceTable!)}${np.where ? ` WHERE ${np.where}` : ''}`
}

/** Build the SeaTunnel config tree of a job (the HOCON and JSON outputs serialize the same tree). */
export function buildSeaTunnelConfig(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig, opts: ExportOptions = {}): { config: SeaTunnelConfig; warnings: string[] } {
  const warnings: string[] = []
  const sides = resolveSides(job, resolve)
  const rk = sides.reader.kind
  const wk = sides.writer.kind
  const pairs = normalizePairs(job, opts.tables, warnings)
  const env: Record<string, StValue> = { 'job.mode': 'BATCH', parallelism: job.setting.speed.channel ?? DEFAULT_EXPORT_CHANNELS }
  if (job.setting.speed.channel === undefined) warnings.push(`$.setting.speed.channel: unset (Sluice default min(4, cores)); env.parallelism set to ${DEFAULT_EXPORT_CHANNELS}`)
  if (job.setting.speed.record) env['read_limit.rows_per_second'] = job.setting.speed.record
  if (job.setting.speed.byte) env['read_limit.bytes_per_second'] = job.setting.speed.byte
  if ((job.setting.errorLimit.record ?? 0) > 0 || job.setting.errorLimit.percentage !== undefined)
    warnings.push('$.setting.errorLimit: SeaTunnel\'s Jdbc sink has no dirty-record limit; the first failing row fails the job')
  if (job.setting.batchBytes !== 4 * 1024 * 1024) warnings.push('$.setting.batchBytes: SeaTunnel batches by rows (batch_size); not exported')
  if (job.writer.preSql.length) warnings.push(`$.writer.preSql: SeaTunnel has no job-level pre-statements; not exported (${job.writer.preSql.length})`)
  if (job.writer.postSql.length) warnings.push(`$.writer.postSql: SeaTunnel has no post-statements; not exported (${job.writer.postSql.length})`)
  if (sides.reader.timezone || sides.writer.timezone) warnings.push('$.*.connection.timezone: set the driver\'s time zone in the url (serverTimezone / options) yourself; not exported')
  const lower = job.writer.identifierCase === 'lower'

  const rUrl = jdbcUrl(rk === 'mysql' && sides.readerSchema ? { ...sides.reader, database: sides.readerSchema } : sides.reader)
  const wUrl = jdbcUrl(wk === 'mysql' && sides.writerSchema ? { ...sides.writer, database: sides.writerSchema } : sides.writer)
  for (const [side, c] of [['reader', sides.reader], ['writer', sides.writer]] as const)
    if (c.kind === 'sqlite' && c.path && !c.path.startsWith('/')) warnings.push(`$.${side}.connection: SQLite path '${c.path}' is relative: SeaTunnel resolves it on the worker`)
  const creds = (c: ConnectionConfig, name: string): Record<string, StValue> =>
    c.kind === 'sqlite' ? {} : { user: c.user ?? (c.kind === 'mysql' ? 'root' : 'postgres'), password: new Substitution(passwordVar(name)) }

  const source: SeaTunnelConfig['source'] = []
  const sink: SeaTunnelConfig['sink'] = []
  for (const np of pairs) {
    const link = `src_${np.index + 1}_${slug(np.sourceTable ?? np.target).replace(/-/g, '_')}`
    const so: Record<string, StValue> = { url: rUrl, driver: JDBC_DRIVER[rk], ...creds(sides.reader, sides.readerName) }
    const rSchema = rk === 'postgres' ? sides.readerSchema : undefined
    const query = sourceQuery(np, rk, rSchema, lower, warnings)
    if (query !== undefined) so.query = query
    else {
      const db = rk === 'mysql' ? sides.readerSchema ?? sides.reader.database : sides.reader.database
      so.table_path = rk === 'mysql' ? `${db}.${np.sourceTable}` : `${db}.${np.sourceSchema ?? rSchema ?? 'public'}.${np.sourceTable}`
      if (np.sourceSchema && rk === 'mysql') so.table_path = `${np.sourceSchema}.${np.sourceTable}`
    }
    if (np.splitPk) {
      if (np.querySql) warnings.push(`${np.path}.splitPk: exported as partition_column over the query`)
      so.partition_column = np.splitPk
    }
    if (rk === 'mysql' && job.setting.zeroDate === 'null') so.properties = { zeroDateTimeBehavior: 'CONVERT_TO_NULL' }
    so.plugin_output = link
    source.push({ plugin: 'Jdbc', options: so })

    const si: Record<string, StValue> = { url: wUrl, driver: JDBC_DRIVER[wk], ...creds(sides.writer, sides.writerName) }
    if (wk === 'mysql') si.database = sides.writerSchema ?? sides.writer.database ?? ''
    else if (wk === 'postgres') si.database = sides.writer.database ?? 'postgres'
    else si.database = 'main'
    si.table = wk === 'postgres' ? `${sides.writerSchema ?? 'public'}.${np.target}` : np.target
    si.generate_sink_sql = true
    if (np.writeMode !== 'insert')
      warnings.push(`${np.path}: writeMode "${np.writeMode}": SeaTunnel upserts on primary_keys; add primary_keys = ["..."] to the sink (the key is not known offline)${np.writeMode === 'replace' ? '; an upsert updates the row rather than replacing it' : ''}`)
    si.schema_save_mode = job.writer.createTable ? 'CREATE_SCHEMA_WHEN_NOT_EXIST' : 'ERROR_WHEN_SCHEMA_NOT_EXIST'
    if (np.truncate) si.data_save_mode = 'DROP_DATA'
    else if (np.preSql.length === 1) {
      si.data_save_mode = 'CUSTOM_PROCESSING'
      si.custom_sql = np.preSql[0]!
    } else si.data_save_mode = 'APPEND_DATA'
    if (np.preSql.length > (np.truncate ? 0 : 1)) warnings.push(`${np.path}.preSql: SeaTunnel runs one custom_sql (and none with truncate); ${np.preSql.length} statement(s) not exported`)
    if (np.postSql.length) warnings.push(`${np.path}.postSql: SeaTunnel has no post-statements; not exported`)
    if (np.typeOverrides) warnings.push(`${np.path}.typeOverrides: SeaTunnel derives column types itself; not exported`)
    if (lower) si.field_ide = 'LOWERCASE'
    si.plugin_input = link
    sink.push({ plugin: 'Jdbc', options: si })
  }
  const names = [...new Set([rk !== 'sqlite' ? passwordVar(sides.readerName) : '', wk !== 'sqlite' ? passwordVar(sides.writerName) : ''].filter(Boolean))]
  if (names.length) warnings.push(`passwords are \${${names.join('}, ${')}}: pass them with ${names.map((n) => `-i ${n}=...`).join(' ')} (or as environment variables, which HOCON substitution falls back to)`)
  const vars = variablesIn(JSON.stringify(source))
  if (vars.length) warnings.push(`variables kept verbatim: ${vars.join(', ')}: pass them to SeaTunnel with -i name=value (it has no DataWorks time expressions)`)
  return { config: { env, source, sink }, warnings }
}

/** Export a job as a SeaTunnel config file (`hocon`: `.conf`, `json`: `.json`). */
export function exportSeaTunnel(job: JobSpec, resolve: (ref: ConnectionRef) => ConnectionConfig, syntax: 'hocon' | 'json', opts: ExportOptions = {}): ExportResult {
  const { config, warnings } = buildSeaTunnelConfig(job, resolve, opts)
  if (!config.source.length) return { files: [], warnings }
  const base = slug(job.name ?? 'job')
  return {
    files: [syntax === 'hocon' ? { name: `${base}.seatunnel.conf`, content: toHocon(config) } : { name: `${base}.seatunnel.json`, content: toSeaTunnelJson(config) }],
    warnings,
  }
}
