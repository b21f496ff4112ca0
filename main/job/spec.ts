/**
 * The job spec, version 1: a declarative JSON document interpreted by fixed code (never compiled).
 *
 * The zod schema below is the single source of truth: the engine validates with it, and the
 * published JSON Schema (`resources/job.schema.json`, `sluice schema`) is generated from it, so
 * the two cannot drift. Field names follow DataX where DataX has the concept (reader / writer,
 * `column`-like lists, `splitPk`, `where`, `querySql`, `writeMode`, `preSql` / `postSql`,
 * `setting.speed.channel|record|byte`, `setting.errorLimit.record|percentage`).
 *
 * Shape (abridged):
 * ```json
 * {
 *   "version": 1,
 *   "name": "chinook to pg",
 *   "reader": { "connection": "mysql://root@127.0.0.1:3306/Chinook", "where": "1=1" },
 *   "writer": { "connection": "pg-prod", "schema": "public", "writeMode": "insert", "truncate": true,
 *               "createTable": true, "preSql": [], "postSql": [] },
 *   "tables": [ { "source": "Invoice", "target": "invoice", "where": "InvoiceDate < '${bizdate}'",
 *                 "mapping": [ { "source": "InvoiceId", "target": "invoice_id" } ] } ],
 *   "setting": { "speed": { "channel": 2 }, "errorLimit": { "record": 0 } }
 * }
 * ```
 * `tables` may instead be `{ "include": "*", "exclude": [...] }`: every table of the reader's schema.
 *
 * This file is imported by the renderer too (for types and the schema): keep it free of Node APIs.
 */
import { z } from 'zod'
import { FileReaderSchema, FileWriterSchema } from './file-spec.js'

const nonEmpty = z.string().min(1)

/**
 * A connection reference: the name or id of a saved connection, a URL
 * (`mysql://user:pass@host:port/db`, `postgres://user:pass@host:port/db?schema=s`, `sqlite:path`),
 * or an inline connection object.
 */
export const ConnectionRefSchema = z.union([
  nonEmpty.describe('Saved connection name or id, or a URL: mysql://user:pass@host:3306/db, postgres://user:pass@host:5432/db?schema=public, sqlite:/path/file.db'),
  z
    .strictObject({
      kind: z.enum(['mysql', 'postgres', 'sqlite']),
      host: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      user: z.string().optional(),
      password: z.string().optional().describe('Clear text; prefer a saved connection. Never exported.'),
      database: z.string().optional(),
      schema: z.string().optional(),
      path: z.string().optional().describe('SQLite file path'),
      timezone: z.string().optional().describe("Session time zone, default '+00:00'"),
    })
    .describe('Inline connection settings'),
])

const SqlList = z.array(z.string()).default([])

/** One target column fed by a source column, a constant, or (by position) the n-th source column. */
export const FieldMappingSchema = z
  .strictObject({
    target: nonEmpty.describe('Target column name'),
    source: z.string().optional().describe('Source column name (by-name mapping)'),
    position: z.number().int().min(0).optional().describe('0-based source column position (same-row mapping)'),
    constant: z
      .union([z.string(), z.number(), z.boolean(), z.null()])
      .optional()
      .describe('A constant value for every row (variables such as ${bizdate} are substituted)'),
    nullDefault: z
      .union([z.string(), z.number(), z.boolean()])
      .optional()
      .describe('Value written when the source value is NULL'),
    timeFormat: z
      .strictObject({
        from: nonEmpty.describe('Pattern of the source text, e.g. yyyyMMdd or dd/MM/yyyy HH:mm:ss'),
        to: z.string().optional().describe('Pattern of the written text; default: canonical yyyy-MM-dd[ HH:mm:ss[.SSSSSS]]'),
      })
      .optional()
      .describe('Convert a time written as text in one pattern into another, wall clock, no time-zone shift'),
  })
  .refine((m) => [m.source !== undefined, m.position !== undefined, m.constant !== undefined].filter(Boolean).length <= 1, {
    message: 'a mapping takes at most one of source, position, constant',
  })

export type FieldMapping = z.output<typeof FieldMappingSchema>

const WriteModeSchema = z
  .enum(['insert', 'replace', 'update'])
  .describe('insert: plain insert, a duplicate key is a dirty record; replace: replace the row on key conflict; update: upsert on key')

/** One table pair: one task of the job. */
export const TablePairSchema = z.strictObject({
  source: z
    .union([nonEmpty, z.strictObject({ table: z.string().optional(), schema: z.string().optional(), querySql: z.string().optional() })])
    .describe('Source table name, or { schema, table } or { querySql }'),
  target: z.string().optional().describe('Target table name; default: the source name under writer.identifierCase'),
  columns: z.array(nonEmpty).optional().describe('Source columns to read; default all (or ["*"])'),
  where: z.string().optional().describe('Filter (SQL boolean expression), overrides reader.where'),
  splitPk: z.string().optional().describe('Column used to cut the table into ranges for parallel channels'),
  mapping: z.array(FieldMappingSchema).optional().describe('Field mapping; default: same-name (or same-row with mappingMode)'),
  mappingMode: z.enum(['name', 'position']).optional().describe('How unmapped columns are matched: same-name (default) or same-row'),
  writeMode: WriteModeSchema.optional(),
  truncate: z.boolean().optional(),
  preSql: z.array(z.string()).optional(),
  postSql: z.array(z.string()).optional(),
  typeOverrides: z.record(z.string(), nonEmpty).optional().describe('Target column -> native SQL type used when the table is created'),
})

export type TablePair = z.output<typeof TablePairSchema>

/**
 * Verification after each table's load (the TableDataDiff stage), configured as the seeds write
 * it (snake_case). Present = enabled. See main/verify for the algorithms.
 */
export const VerifySpecSchema = z.strictObject({
  algorithm: z.enum(['countdiff', 'md5diff', 'hashdiff']).default('md5diff').describe('countdiff: row counts; md5diff: one checksum per side; hashdiff: bisecting checksums down to rows'),
  key_columns: z.array(nonEmpty).optional().describe('Key columns (default: the primary key)'),
  extra_columns: z.array(nonEmpty).optional().describe('Columns compared besides the key (default: every mapped column)'),
  limit: z.number().int().min(1).max(1000).default(1000).describe('Differing rows returned at most'),
  threads: z.number().int().min(1).max(64).optional(),
  bisection_threshold: z.number().int().min(2).optional().describe('Below this many rows a segment is downloaded and compared row by row'),
  bisection_factor: z.number().int().min(2).optional().describe('Segments a mismatching range is cut into'),
  verbose: z.boolean().default(false),
  where: z.string().optional().describe("Source filter for verification (default: the task's reader where)"),
  target_where: z.string().optional().describe('Target filter for verification (default: the source filter when the columns it names are loaded under the same names, else none)'),
  enable_pk_duplicate_detect: z.boolean().optional().describe('Alias (OpenPie run configuration): check the source key for duplicates before the import and report them as dirty records (same as setting.enable_pk_duplicate_detect)'),
})

export type VerifySpec = z.output<typeof VerifySpecSchema>

/**
 * How the target is loaded (issue 15, "After the copy"; main/engine/loadmode.ts applies it):
 * `loadMode: "truncate"` empties the target first (as `truncate: true`); `"append"` stamps every
 * row's `etlColumn` with the load's data time and, on a rerun for the same data time, deletes that
 * data time's rows first. `partition` makes the target partitioned by that column, one partition
 * per data time named `P_${YYYYMM}` / `P_${YYYYMMDD}` / `P_${YYYYMMDDHH}`.
 */
const LoadModeFields = {
  loadMode: z.enum(['truncate', 'append']).optional().describe('truncate: empty the target before the load; append: stamp each row with the data time (etlColumn) and make reruns of the same data time replace their own rows'),
  etlColumn: nonEmpty.optional().describe('Column stamped with the load\'s data time (DATETIME, wall clock) in append mode or with partition; default etl_timestamp'),
  alterTable: z.boolean().optional().describe('Allow Sluice to ALTER an existing target (add etlColumn when it is missing); default false'),
  partition: z
    .strictObject({
      unit: z.enum(['month', 'day', 'hour']).describe('Partition per data-time month (P_YYYYMM), day (P_YYYYMMDD) or hour (P_YYYYMMDDHH)'),
    })
    .optional()
    .describe('Target partitioned by etlColumn (MySQL RANGE COLUMNS, PostgreSQL declarative): the data time\'s partition is created if missing and emptied before the load'),
}

/**
 * Source clean-up (main/cleanup): delete the migrated rows from the source once the run's
 * TableDataDiff passed, by primary-key chunks (pt-archiver's way).
 */
export const CleanupSpecSchema = z.strictObject({
  where: z.string().optional().describe("Condition of the rows to delete; default: each table's where (the job's reader.where), with the run's variables. Without one the whole table is emptied"),
  batch: z.number().int().min(1).max(100_000).default(10_000).describe('Rows deleted per batch (each batch in its own transaction)'),
  pauseMs: z.number().int().min(0).default(0).describe('Pause between batches, in milliseconds'),
  maxRowsPerSecond: z.number().int().min(0).default(0).describe('Rows deleted per second at most, 0 = unlimited'),
})

export type CleanupSpec = z.output<typeof CleanupSpecSchema>

/**
 * Run configuration keys under the names OpenPie PieDataCS uses, accepted in `setting` (and
 * `enable_pk_duplicate_detect` in `verify` too); `normalizeRunConfig` (main/job/runconfig.ts)
 * turns them into the engine's settings.
 */
const RunConfigAliasFields = {
  enable_pk_duplicate_detect: z.boolean().optional().describe('Check the source key for duplicates before the import; duplicate rows are reported as dirty records'),
  import_order_by: z.string().optional().describe('ORDER BY of the read (SQL text, e.g. "id DESC"); the table is then read as one ordered split'),
  source_timezone: z.string().optional().describe("Session time zone of both sides, e.g. '+08:00' or 'Asia/Shanghai' (overrides the connections')"),
  heartbeat_timeout: z.number().positive().optional().describe('Seconds a split may go without a batch moving before it fails (split timeout)'),
  batch_parallel_size: z.number().int().min(1).max(64).optional().describe('Tables loaded at once (alias of setting.speed.tables)'),
  export_batch_rows: z.number().int().min(1).optional().describe('Rows per export file (alias of the files writer\'s exportBatchRows)'),
}

export const JobSpecSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1).describe('Job spec version'),
  name: z.string().optional(),
  description: z.string().optional(),
  reader: z.strictObject({
    connection: ConnectionRefSchema,
    schema: z.string().optional().describe('MySQL database / PostgreSQL schema; default: the connection\'s'),
    where: z.string().optional().describe('Filter applied to every table (variables allowed)'),
    splitPk: z.string().optional(),
    file: FileReaderSchema.optional(),
  }),
  writer: z.strictObject({
    connection: ConnectionRefSchema,
    schema: z.string().optional(),
    writeMode: WriteModeSchema.default('insert'),
    truncate: z.boolean().default(false).describe('Empty each target table before loading (TRUNCATE; DELETE on SQLite)'),
    createTable: z.boolean().default(true).describe('Create missing target tables (PK first; indexes, foreign keys and sequences after the data)'),
    identifierCase: z.enum(['keep', 'lower']).default('keep').describe('How created target table and column names are spelled'),
    preSql: SqlList.describe('Statements run on the target before the load'),
    postSql: SqlList.describe('Statements run on the target after the load'),
    ...LoadModeFields,
    file: FileWriterSchema.optional(),
  }),
  tables: z
    .union([
      z.array(TablePairSchema).min(1),
      z.strictObject({
        include: z.union([z.literal('*'), z.array(nonEmpty).min(1)]).describe('"*" for every table of the reader schema, or a list'),
        exclude: z.array(nonEmpty).default([]),
      }),
    ])
    .describe('Table pairs, or a whole-database selection'),
  verify: VerifySpecSchema.optional().describe('Verify each table after its load (TableDataDiff stage)'),
  cleanup: CleanupSpecSchema.optional().describe('Source clean-up after a verified run (see `sluice cleanup`)'),
  setting: z
    .strictObject({
      speed: z
        .strictObject({
          channel: z.number().int().min(1).max(64).optional().describe('Parallel channels (speed.channel); default: min(4, CPU cores)'),
          tables: z
            .number()
            .int()
            .min(1)
            .max(64)
            .optional()
            .describe("Tables moved at once (OpenPie's batch_parallel_size); default: max(channels, 4) when the job has more tables than channels, else one table at a time"),
          record: z.number().int().min(0).default(0).describe('Max records/s for the whole job, 0 = unlimited'),
          byte: z.number().int().min(0).default(0).describe('Max bytes/s for the whole job, 0 = unlimited'),
        })
        .prefault({}),
      errorLimit: z
        .strictObject({
          record: z.number().int().min(0).optional().describe('Max dirty records; 0 = the first dirty record fails the run'),
          percentage: z.number().min(0).max(1).optional().describe('Max share of dirty records among records read (0.02 = 2 %)'),
          tableRecord: z.number().int().min(0).optional().describe('Max dirty records per table: a table past it fails on its own while the other tables go on'),
        })
        .prefault({ record: 0 }),
      zeroDate: z
        .enum(['error', 'null'])
        .default('error')
        .describe("MySQL zero dates ('0000-00-00'): a dirty record (error) or written as NULL"),
      batchBytes: z.number().int().min(65_536).max(256 * 1024 * 1024).default(4 * 1024 * 1024).describe('Target batch size in bytes'),
      ...RunConfigAliasFields,
    })
    .prefault({}),
})

/** A job as written by a user (defaults not yet applied). */
export type JobSpecInput = z.input<typeof JobSpecSchema>
/** A validated job with defaults applied. */
export type JobSpec = z.output<typeof JobSpecSchema>
export type ConnectionRef = z.output<typeof ConnectionRefSchema>

/** One validation finding, located by a JSON path such as `$.tables[0].mapping[2].target`. */
export interface Problem {
  path: string
  message: string
  severity: 'error' | 'warning'
  code?: string
}

/** Render a zod path as a JSON path: `['tables', 0, 'where']` -> `$.tables[0].where`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '$'
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`
  return s
}

/**
 * Parse and validate a job document (structure only; the engine adds catalog checks).
 * @returns the job with defaults applied, or the problems with their JSON paths.
 */
export function parseJob(doc: unknown): { ok: true; job: JobSpec } | { ok: false; problems: Problem[] } {
  const r = JobSpecSchema.safeParse(doc)
  if (r.success) return { ok: true, job: r.data }
  const problems: Problem[] = []
  for (const issue of r.error.issues) {
    if (issue.code === 'invalid_union' && 'errors' in issue) {
      // Report the branch that got furthest, so the message names the real field.
      const branches = (issue as unknown as { errors: Array<Array<{ path: PropertyKey[]; message: string }>> }).errors
      const best = branches.reduce((a, b) => (deepest(b) > deepest(a) ? b : a), branches[0] ?? [])
      if (best.length && deepest(best) > 0) {
        for (const sub of best) problems.push({ path: jsonPath([...issue.path, ...sub.path]), message: sub.message, severity: 'error', code: 'schema' })
        continue
      }
    }
    const extra = issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.join(', ')})` : ''
    problems.push({ path: jsonPath(issue.path), message: issue.message + extra, severity: 'error', code: 'schema' })
  }
  return { ok: false, problems }
}

function deepest(issues: Array<{ path: PropertyKey[] }>): number {
  return issues.reduce((m, i) => Math.max(m, i.path.length), 0)
}

/** The JSON Schema of the job spec (draft 2020-12), generated from the zod schema the code validates with. */
export function jobJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(JobSpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { ...schema, $id: 'https://sluice.dev/schema/job-v1.json', title: 'Sluice job (version 1)' }
}
