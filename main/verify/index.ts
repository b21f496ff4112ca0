/**
 * Verification: does a target table provably equal its source? Three algorithms, any pairing of
 * MySQL/MariaDB, PostgreSQL and SQLite, through the {@link Connector} interface only (a SQLite
 * side also opens its own read-only handle on the same file, see ./side.ts):
 *
 * - `countdiff`: exact row counts (with the where filter) on both sides.
 * - `md5diff`: one order-independent checksum per side computed inside the database: the count
 *   and the SUM of a 60-bit slice of MD5 over each row's canonical text (./normalize.ts). Says
 *   only whether the tables differ. A sum (rather than an ordered aggregate) needs no sort and no
 *   agreement on key collation between databases; a difference goes unnoticed only if the
 *   changed rows' 60-bit hashes happen to sum to the same value (about 2^-60).
 * - `hashdiff`: data-diff's bisection down to the differing rows (./hashdiff.ts).
 *
 * The canonical text of each column type is documented in ./normalize.ts; it agrees with the
 * engine's type mapping, so a table migrated MySQL -> PostgreSQL -> SQLite verifies consistent.
 */
import { z } from 'zod'
import type { Column, TableRef, TableSchema, Value } from '../core/types.js'
import { openConnector } from '../connectors/index.js'
import type { ConnectionConfig, Connector } from '../connectors/types.js'
import { hashdiff, type DiffProgress, type HashdiffStats } from './hashdiff.js'
import { planColumn } from './normalize.js'
import { keyKindOf, Side, type KeyKind, type SideColumnPlan } from './side.js'

export type { DiffProgress } from './hashdiff.js'

/** Verification algorithms (DESIGN.md glossary). */
export const ALGORITHMS = ['countdiff', 'md5diff', 'hashdiff'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** data-diff's defaults: `DEFAULT_BISECTION_THRESHOLD = 1024 * 16`, `DEFAULT_BISECTION_FACTOR = 32`. */
export const DEFAULT_BISECTION_THRESHOLD = 16_384
export const DEFAULT_BISECTION_FACTOR = 32
/** Most differing rows a result lists. */
export const MAX_LIMIT = 1000

/**
 * The verification settings of a run (the job spec embeds this), snake_case like the seeds and
 * data-diff's options: `key_columns` (default: the source primary key), `extra_columns`
 * (default: every column both tables have, by case-insensitive name), `algorithm` (default
 * md5diff), `limit` (differing rows listed, 1–1000), `threads` (segment query pairs at once),
 * `bisection_threshold` (rows under which a segment is downloaded), `bisection_factor`
 * (segments per cut; must be below the threshold, as data-diff requires), `verbose`.
 */
export const VerifyConfigSchema = z
  .strictObject({
    algorithm: z.enum(ALGORITHMS).default('md5diff').describe('countdiff: row counts; md5diff: one checksum per table; hashdiff: bisection down to differing rows'),
    key_columns: z.array(z.string().min(1)).min(1).optional().describe('Key columns (source names); default: the source primary key'),
    extra_columns: z.array(z.string().min(1)).optional().describe('Columns compared besides the key (source names); default: all common columns'),
    limit: z.number().int().min(1).max(MAX_LIMIT).default(MAX_LIMIT).describe('Differing rows listed (hashdiff)'),
    threads: z.number().int().min(1).max(64).default(1).describe('Segment checksum queries run at once (hashdiff)'),
    bisection_threshold: z.number().int().min(3).default(DEFAULT_BISECTION_THRESHOLD).describe('Segments smaller than this many rows are downloaded and compared (hashdiff)'),
    bisection_factor: z.number().int().min(2).max(4096).default(DEFAULT_BISECTION_FACTOR).describe('Segments per cut (hashdiff)'),
    verbose: z.boolean().default(false).describe('Log every segment'),
    where: z.string().optional().describe("Source filter for verification (default: the task's reader where)"),
    target_where: z.string().optional().describe('Target filter for verification (default: the source filter when the columns it names are loaded under the same names, else none)'),
  })
  .refine((c) => c.bisection_factor < c.bisection_threshold, { message: 'bisection_factor must be lower than bisection_threshold', path: ['bisection_factor'] })

export type VerifyConfigInput = z.input<typeof VerifyConfigSchema>
export type VerifyConfig = z.output<typeof VerifyConfigSchema>

/** A row's key: one canonical value per key column (main/core/types.ts). */
export type KeyValues = Value[]

export interface DiffOptions {
  source: Connector
  target: Connector
  sourceTable: TableRef
  targetTable: TableRef
  /** Key columns (source names; the target's are matched case-insensitively). Default: the source primary key. */
  keyColumns?: string[]
  /** Compared non-key columns (source names). Default: every column both tables have, matched by case-insensitive name. */
  columns?: string[]
  /** Explicit source -> target column names (a run's field mapping); overrides name matching. */
  columnMap?: Record<string, string>
  /** Default md5diff. */
  algorithm?: Algorithm
  /** SQL filter applied on both sides (unless `targetWhere` is given for the target). */
  where?: string
  targetWhere?: string
  /** Differing rows returned, 1–1000 (default 1000). */
  limit?: number
  /** Segment query pairs run at once (default 1). */
  threads?: number
  /** Default 16384, like data-diff. */
  bisectionThreshold?: number
  /** Default 32, like data-diff. */
  bisectionFactor?: number
  /** Log segments (to `log`, default stderr). */
  verbose?: boolean
  log?: (line: string) => void
  signal?: AbortSignal
  onProgress?: (p: DiffProgress) => void
}

/** Counters of a diff. Zero for what an algorithm does not do. */
export interface DiffStats extends HashdiffStats {
  /** Columns compared per row (key included); 0 for countdiff. */
  columns: number
}

export interface DiffResult {
  algorithm: Algorithm
  /** True when the algorithm found no difference (counts for countdiff, checksums otherwise). */
  consistent: boolean
  sourceRows: number
  targetRows: number
  /** Keys only in the source / only in the target / in both with different values (hashdiff only; sorted by key). */
  onlyInSource: KeyValues[]
  onlyInTarget: KeyValues[]
  changed: KeyValues[]
  elapsedMs: number
  stats: DiffStats
  /** The filters applied (absent side: the whole table was compared). */
  filters: { source?: string; target?: string }
}

const lower = (s: string) => s.toLowerCase()

/** Words a filter may hold besides column names (SQL keywords and literal prefixes). */
const FILTER_WORDS = new Set(
  'and or not in is null between like ilike true false date time timestamp interval current_date current_time current_timestamp localtime localtimestamp case when then else end escape day month year hour minute second'.split(' '),
)

/**
 * Whether a reader filter can be applied to the target as it is: every column it names is loaded
 * into a target column of the same name (case-insensitively). Words followed by `(` are taken as
 * functions, quoted text as literals. A word that is neither a keyword nor a mapped column (an
 * unmapped source column, a renamed one) makes it unusable, and the target is then compared whole.
 */
export function filterFitsTarget(where: string, columnMap: Record<string, string>): boolean {
  const mapped = new Map(Object.entries(columnMap).map(([s, t]) => [lower(s), lower(t)]))
  const text = where.replace(/'(?:[^']|'')*'/g, "''")
  const re = /"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|([A-Za-z_][A-Za-z0-9_$]*)(\s*\()?/g
  let m: RegExpExecArray | null
  while ((m = re.exec(text))) {
    if (m[4]) continue // a function call
    const name = m[1] ?? m[2] ?? m[3]!
    const quoted = m[3] === undefined
    if (!quoted && FILTER_WORDS.has(lower(name))) continue
    const t = mapped.get(lower(name))
    if (t === undefined || t !== lower(name)) return false
  }
  return true
}

function findColumn(t: TableSchema, name: string, what: string): Column {
  const exact = t.columns.find((c) => c.name === name)
  if (exact) return exact
  const ci = t.columns.filter((c) => lower(c.name) === lower(name))
  if (ci.length === 1) return ci[0]!
  if (ci.length > 1) throw new Error(`verify: ${what} column '${name}' matches several columns of table ${t.name} (${ci.map((c) => c.name).join(', ')})`)
  throw new Error(`verify: ${what} column '${name}' not found in table ${t.schema ? `${t.schema}.` : ''}${t.name}`)
}

/** The compared column pairs, key columns first. */
export function planColumns(
  src: TableSchema,
  dst: TableSchema,
  opts: { keyColumns?: string[]; columns?: string[]; columnMap?: Record<string, string> },
): { pairs: Array<[SideColumnPlan, SideColumnPlan]>; keyCount: number } {
  const keys = opts.keyColumns?.length ? opts.keyColumns : src.primaryKey
  if (!keys.length) throw new Error(`verify: table ${src.name} has no primary key: pass key columns (--key / key_columns)`)
  const map = opts.columnMap ? new Map(Object.entries(opts.columnMap).map(([k, v]) => [lower(k), v])) : undefined
  const targetOf = (s: Column, what: string): Column => {
    const mapped = map?.get(lower(s.name))
    if (map && mapped === undefined) throw new Error(`verify: ${what} column '${s.name}' has no target column in the field mapping`)
    return findColumn(dst, mapped ?? s.name, what)
  }
  const keyCols = keys.map((k) => findColumn(src, k, 'key'))
  let others: Column[]
  if (opts.columns) others = opts.columns.map((c) => findColumn(src, c, 'compared'))
  else if (map) others = src.columns.filter((c) => map.has(lower(c.name)))
  else others = src.columns.filter((c) => dst.columns.some((d) => lower(d.name) === lower(c.name)))
  const keyNames = new Set(keyCols.map((c) => c.name))
  const cols = [...keyCols, ...others.filter((c) => !keyNames.has(c.name))]
  const pairs = cols.map((s, i): [SideColumnPlan, SideColumnPlan] => {
    const d = targetOf(s, i < keyCols.length ? 'key' : 'compared')
    const norm = planColumn(s.type, d.type)
    return [
      { column: s, norm },
      { column: d, norm },
    ]
  })
  return { pairs, keyCount: keyCols.length }
}

function check(n: number | undefined, name: string, min: number, max: number, dflt: number): number {
  const v = n ?? dflt
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`verify: ${name} must be an integer in ${min}..${max} (got ${n})`)
  return v
}

/**
 * Compare two tables. Throws (naming the table or column) when a table or column does not exist,
 * a key cannot be cut into ranges, or a database refuses a query; differences are data, not errors.
 */
export async function diffTables(opts: DiffOptions): Promise<DiffResult> {
  // PostgreSQL sides verify on their own sessions with JIT off: checksum queries over wide rows
  // set off LLVM compilation per backend (9 backends at 1.5 GB, no result after 8 minutes on a
  // 200-column table; 38.7 s with jit = off).
  const own: Connector[] = []
  const session = async (c: Connector): Promise<Connector> => {
    if (c.kind !== 'postgres') return c
    const v = await openConnector(verifySessionConfig(c.config))
    own.push(v)
    return v
  }
  try {
    const source = await session(opts.source)
    const target = opts.target === opts.source ? source : await session(opts.target)
    return await diffTablesOn({ ...opts, source, target })
  } finally {
    await Promise.allSettled(own.map((c) => c.close()))
  }
}

/**
 * The settings of a verification session: for PostgreSQL, `jit = off` added to the startup
 * options (PostgreSQL manual, "JIT Compilation": `jit` is a session setting). Others unchanged.
 */
export function verifySessionConfig(cfg: ConnectionConfig): ConnectionConfig {
  if (cfg.kind !== 'postgres') return cfg
  const extra = typeof cfg.options?.options === 'string' ? `${cfg.options.options} ` : ''
  return { ...cfg, options: { ...cfg.options, options: `${extra}-c jit=off` } }
}

async function diffTablesOn(opts: DiffOptions): Promise<DiffResult> {
  const t0 = performance.now()
  const algorithm = opts.algorithm ?? 'md5diff'
  if (!ALGORITHMS.includes(algorithm)) throw new Error(`verify: unknown algorithm '${algorithm}' (countdiff, md5diff, hashdiff)`)
  const limit = check(opts.limit, 'limit', 1, MAX_LIMIT, MAX_LIMIT)
  const threads = check(opts.threads, 'threads', 1, 64, 1)
  const threshold = check(opts.bisectionThreshold, 'bisection threshold', 3, Number.MAX_SAFE_INTEGER, DEFAULT_BISECTION_THRESHOLD)
  const factor = check(opts.bisectionFactor, 'bisection factor', 2, 4096, DEFAULT_BISECTION_FACTOR)
  if (factor >= threshold) throw new Error('verify: bisection factor must be lower than the bisection threshold')
  const srcWhere = opts.where
  const dstWhere = opts.targetWhere ?? opts.where
  const log = opts.verbose ? (opts.log ?? ((l: string) => void process.stderr.write(`${l}\n`))) : undefined
  const stats: DiffStats = { columns: 0, segmentsChecked: 0, segmentsDownloaded: 0, rowsDownloaded: 0, maxLevel: 0, queries: 0, truncated: false }
  const filters: DiffResult['filters'] = { ...(srcWhere?.trim() ? { source: srcWhere.trim() } : {}), ...(dstWhere?.trim() ? { target: dstWhere.trim() } : {}) }
  const done = (r: Omit<DiffResult, 'algorithm' | 'elapsedMs' | 'stats' | 'filters'>): DiffResult => ({ algorithm, ...r, elapsedMs: Math.round(performance.now() - t0), stats, filters })

  if (algorithm === 'countdiff') {
    const [a, b] = await Promise.all([
      opts.source.count(opts.sourceTable, srcWhere?.trim() ? srcWhere : undefined),
      opts.target.count(opts.targetTable, dstWhere?.trim() ? dstWhere : undefined),
    ])
    stats.queries = 2
    log?.(`countdiff: ${a} source rows, ${b} target rows`)
    return done({ consistent: a === b, sourceRows: a, targetRows: b, onlyInSource: [], onlyInTarget: [], changed: [] })
  }

  const [srcSchema, dstSchema] = await Promise.all([opts.source.catalog.table(opts.sourceTable), opts.target.catalog.table(opts.targetTable)])
  const { pairs, keyCount } = planColumns(srcSchema, dstSchema, opts)
  stats.columns = pairs.length
  const keyKinds: KeyKind[] =
    algorithm === 'hashdiff' ? pairs.slice(0, keyCount).map(([s, d]) => keyKindOf(s.column.name, s.column.type, d.column.type)) : pairs.slice(0, keyCount).map(() => 'string')
  log?.(`${algorithm}: columns ${pairs.map(([s, d]) => `${s.column.name}${s.column.name === d.column.name ? '' : `->${d.column.name}`}:${s.norm.kind}${s.norm.scale !== undefined ? `(${s.norm.scale})` : ''}`).join(', ')}`)

  let src: Side | undefined
  let dst: Side | undefined
  try {
    src = new Side(opts.source, opts.sourceTable, pairs.map((p) => p[0]), keyCount, keyKinds, srcWhere, opts.signal)
    dst = new Side(opts.target, opts.targetTable, pairs.map((p) => p[1]), keyCount, keyKinds, dstWhere, opts.signal)
    if (algorithm === 'md5diff') {
      const [a, b] = await Promise.all([src.checksum({}, false), dst.checksum({}, false)])
      stats.segmentsChecked = 1
      stats.queries = 2
      log?.(`md5diff: source ${a.count} rows sum ${a.sum}, target ${b.count} rows sum ${b.sum}`)
      return done({ consistent: a.count === b.count && a.sum === b.sum, sourceRows: a.count, targetRows: b.count, onlyInSource: [], onlyInTarget: [], changed: [] })
    }
    const r = await hashdiff(src, dst, {
      bisectionThreshold: threshold,
      bisectionFactor: factor,
      threads,
      limit,
      ...(log ? { log } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    })
    Object.assign(stats, r.stats)
    const consistent = r.sourceRows === r.targetRows && !r.onlyInSource.length && !r.onlyInTarget.length && !r.changed.length
    return done({ consistent, sourceRows: r.sourceRows, targetRows: r.targetRows, onlyInSource: r.onlyInSource, onlyInTarget: r.onlyInTarget, changed: r.changed })
  } finally {
    src?.close()
    dst?.close()
  }
}

/** What the engine hands the TableDataDiff stage of one task. */
export interface VerifyTaskInput {
  source: Connector
  target: Connector
  sourceTable: TableRef
  targetTable: TableRef
  /** Key columns (source names) the engine found: the job's splitPk/primary key. `config.key_columns` overrides. */
  keyColumns: string[]
  /** The task's field mapping as source -> target column names (only these are compared). */
  columns: Record<string, string> | Array<{ source: string; target: string }>
  config: VerifyConfigInput | VerifyConfig
  /**
   * The task's reader filter (`config.where` overrides it). The target is compared with
   * `targetWhere` (`config.target_where` overrides it); by default with the same filter when every
   * column it names is loaded under the same name ({@link filterFitsTarget}), so rows of an
   * existing, larger target outside the filter are not reported; else the whole target.
   */
  where?: string
  targetWhere?: string
  signal?: AbortSignal
  onProgress?: (p: DiffProgress) => void
  log?: (line: string) => void
}

/**
 * Run the TableDataDiff stage of one task after its ImportTable: compare the task's source table
 * (with its filter) with the loaded target table over the mapped columns, with the job's
 * verification settings. Returns the same {@link DiffResult} as {@link diffTables}.
 * @throws ZodError-derived Error naming the setting when `config` is invalid.
 */
export async function verifyTask(input: VerifyTaskInput): Promise<DiffResult> {
  const parsed = VerifyConfigSchema.safeParse(input.config)
  if (!parsed.success) {
    const i = parsed.error.issues[0]!
    throw new Error(`verify.${i.path.join('.')}: ${i.message}`)
  }
  const cfg = parsed.data
  const map: Record<string, string> = Array.isArray(input.columns) ? Object.fromEntries(input.columns.map((c) => [c.source, c.target])) : { ...input.columns }
  const keys = cfg.key_columns ?? input.keyColumns
  const where = cfg.where ?? input.where
  const targetWhere = cfg.target_where ?? input.targetWhere ?? (where?.trim() && filterFitsTarget(where, map) ? where : '')
  return diffTables({
    source: input.source,
    target: input.target,
    sourceTable: input.sourceTable,
    targetTable: input.targetTable,
    keyColumns: keys,
    columnMap: map,
    ...(cfg.extra_columns ? { columns: cfg.extra_columns } : {}),
    algorithm: cfg.algorithm,
    ...(where !== undefined ? { where } : {}),
    targetWhere,
    limit: cfg.limit,
    threads: cfg.threads,
    bisectionThreshold: cfg.bisection_threshold,
    bisectionFactor: cfg.bisection_factor,
    verbose: cfg.verbose,
    ...(input.log ? { log: input.log } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  })
}
