/**
 * `sluice diff`: compare a table between two databases (countdiff, md5diff, hashdiff).
 *
 * Output like data-diff: `- key` for a row only in the source, `+ key` for a row only in the
 * target, a changed row as both, sorted by key, then one stats line. `--json` prints exactly
 * `{"algorithm","consistent","sourceRows","targetRows","onlyInSource","onlyInTarget","changed","elapsedMs","filters"}`
 * (`filters`: the `source` / `target` WHERE applied, each absent when that side was compared whole).
 * Exit code: 0 consistent, 1 not consistent, 2 error (bad usage, unreachable database, missing
 * table or column).
 */
import { Command, Option } from 'commander'
import type { TableRef, Value } from '../core/types.js'
import { openConnector } from '../connectors/index.js'
import type { ConnectionConfig, Connector } from '../connectors/types.js'
import { isConnectionUrl, maskUrl, parseConnectionUrl } from '../connectors/url.js'
import { compareKeys } from './hashdiff.js'
import { ALGORITHMS, DEFAULT_BISECTION_FACTOR, DEFAULT_BISECTION_THRESHOLD, diffTables, MAX_LIMIT, type Algorithm, type DiffResult } from './index.js'

const intOpt = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v)
  if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw new Error(`${name}: '${v}' must be an integer in ${min}..${max}`)
  return n
}

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** `schema.table` or `table`. */
export function parseTableArg(s: string): TableRef {
  const i = s.indexOf('.')
  return i > 0 ? { schema: s.slice(0, i), name: s.slice(i + 1) } : { name: s }
}

/** One key as text: a single value bare (strings JSON-quoted), a composite key as `(a, b)`. */
export function formatKey(k: Value[]): string {
  const one = (v: Value) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? `x'${v.toString('hex')}'` : typeof v === 'string' ? JSON.stringify(v) : String(v))
  return k.length === 1 ? one(k[0]!) : `(${k.map(one).join(', ')})`
}

/** The data-diff style lines (`- key` / `+ key`) of a result, sorted by key, `-` before `+`. */
export function diffLines(r: Pick<DiffResult, 'onlyInSource' | 'onlyInTarget' | 'changed'>): string[] {
  const rows: Array<[Value[], '-' | '+']> = [
    ...r.onlyInSource.map((k): [Value[], '-'] => [k, '-']),
    ...r.onlyInTarget.map((k): [Value[], '+'] => [k, '+']),
    ...r.changed.flatMap((k): Array<[Value[], '-' | '+']> => [
      [k, '-'],
      [k, '+'],
    ]),
  ]
  rows.sort((a, b) => compareKeys(a[0], b[0]) || (a[1] === b[1] ? 0 : a[1] === '-' ? -1 : 1))
  return rows.map(([k, s]) => `${s} ${formatKey(k)}`)
}

/** The closing stats line. */
export function statsLine(r: DiffResult): string {
  const secs = `${(r.elapsedMs / 1000).toFixed(2)} s`
  const head = `${r.algorithm}: ${r.consistent ? 'consistent' : 'NOT consistent'}; ${r.sourceRows} source rows, ${r.targetRows} target rows`
  if (r.algorithm === 'countdiff') return `${head}; ${secs}`
  if (r.algorithm === 'md5diff') return `${head}; ${r.stats.columns} columns checksummed; ${secs}`
  const more = r.stats.truncated ? ` (stopped at --limit; there may be more)` : ''
  return (
    `${head}; ${r.onlyInSource.length} only in source, ${r.onlyInTarget.length} only in target, ${r.changed.length} changed${more}; ` +
    `${r.stats.segmentsChecked} segments checked, ${r.stats.segmentsDownloaded} downloaded (${r.stats.rowsDownloaded} rows), ${r.stats.columns} columns; ${secs}`
  )
}

async function resolveConfig(ref: string, cmd: Command): Promise<ConnectionConfig> {
  if (isConnectionUrl(ref)) return parseConnectionUrl(ref)
  // A saved connection's name or id, from the state store.
  const { storeFor } = await import('../cli/core.js')
  const store = storeFor(cmd)
  try {
    return store.connections.resolveConfig(ref)
  } finally {
    store.close()
  }
}

/** Register `sluice diff` on the program. */
export function register(program: Command): void {
  program
    .command('diff')
    .description('verify that a target table equals its source: countdiff (row counts), md5diff (one checksum per table), hashdiff (bisection down to the differing rows)')
    .argument('<source-url>', 'mysql://user:pass@host:3306/db | postgres://user:pass@host:5432/db[?schema=s] | sqlite:path | a saved connection name')
    .argument('<target-url>', 'same forms as the source')
    .requiredOption('--table <name>', 'source table ([schema.]name)')
    .option('--target-table <name>', 'target table (default: the source table name)')
    .option('--key <list>', 'comma-separated key columns (default: the source primary key)', list)
    .option('--columns <list>', 'comma-separated columns to compare besides the key (default: all common columns)', list)
    .addOption(new Option('--algorithm <name>', 'verification algorithm').choices([...ALGORITHMS]).default('md5diff'))
    .option('--where <sql>', 'filter applied on both sides')
    .option('--target-where <sql>', 'filter for the target side (default: --where)')
    .option('--limit <n>', `differing rows listed (1-${MAX_LIMIT})`, intOpt('--limit', 1, MAX_LIMIT), MAX_LIMIT)
    .option('--threads <n>', 'segment query pairs run at once', intOpt('--threads', 1, 64), 1)
    .option('--bisection-threshold <n>', 'segments below this many rows are downloaded and compared', intOpt('--bisection-threshold', 3), DEFAULT_BISECTION_THRESHOLD)
    .option('--bisection-factor <n>', 'segments per cut', intOpt('--bisection-factor', 2, 4096), DEFAULT_BISECTION_FACTOR)
    .option('--json', 'print the result as JSON')
    .option('--verbose', 'log every segment to stderr')
    .action(async (sourceRef: string, targetRef: string, o, cmd: Command) => {
      let source: Connector | undefined
      let target: Connector | undefined
      try {
        const [sc, tc] = [await resolveConfig(sourceRef, cmd), await resolveConfig(targetRef, cmd)]
        source = await openConnector(sc)
        target = await openConnector(tc)
        const sourceTable = parseTableArg(o.table as string)
        const targetTable = o.targetTable ? parseTableArg(o.targetTable as string) : { name: sourceTable.name }
        const r = await diffTables({
          source,
          target,
          sourceTable,
          targetTable,
          ...(o.key ? { keyColumns: o.key as string[] } : {}),
          ...(o.columns ? { columns: o.columns as string[] } : {}),
          algorithm: o.algorithm as Algorithm,
          ...(o.where !== undefined ? { where: o.where as string } : {}),
          ...(o.targetWhere !== undefined ? { targetWhere: o.targetWhere as string } : {}),
          limit: o.limit as number,
          threads: o.threads as number,
          bisectionThreshold: o.bisectionThreshold as number,
          bisectionFactor: o.bisectionFactor as number,
          verbose: Boolean(o.verbose),
        })
        if (o.json) {
          const { algorithm, consistent, sourceRows, targetRows, onlyInSource, onlyInTarget, changed, elapsedMs, filters } = r
          const json = JSON.stringify({ algorithm, consistent, sourceRows, targetRows, onlyInSource, onlyInTarget, changed, elapsedMs, filters }, (_k, v: unknown) =>
            typeof v === 'bigint' ? v.toString() : v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v,
          )
          process.stdout.write(`${json}\n`)
        } else {
          const lines = diffLines(r)
          if (r.filters.source || r.filters.target) lines.push(`filters: source ${r.filters.source ? `WHERE ${r.filters.source}` : 'none'}, target ${r.filters.target ? `WHERE ${r.filters.target}` : 'none'}`)
          process.stdout.write(lines.map((l) => `${l}\n`).join('') + `${statsLine(r)}\n`)
        }
        process.exitCode = r.consistent ? 0 : 1
      } catch (e) {
        process.stderr.write(`sluice diff: ${maskUrl((e as Error).message)}\n`)
        process.exitCode = 2
      } finally {
        await Promise.allSettled([source?.close(), target?.close()])
      }
    })
}
