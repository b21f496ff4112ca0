/**
 * What every bench script shares (bench/index.ts, files.ts, many.ts): the repo root, command-line
 * options, shell and database one-liners, a timer that reports wall seconds and peak RSS, medians.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The script's arguments. */
export const args = process.argv.slice(2)
/** The value after `--name`, when given. */
export const opt = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

/** Run a shell command (stdin from `input` when given) and return its stdout; throws on a non-zero exit. */
export const sh = (cmd: string, input?: string): string =>
  execFileSync('bash', ['-c', cmd], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}), maxBuffer: 1 << 28 }).toString()
/** One MariaDB query on 127.0.0.1 as root, tab-separated output without headers. */
export const mysqlQ = (sql: string): string => sh(`mysql -uroot -h127.0.0.1 -N -B -e ${JSON.stringify(sql)}`).trim()
/** One PostgreSQL statement on 127.0.0.1 as postgres in `db`, unaligned output. */
export const psqlQ = (db: string, sql: string): string => sh(`psql -h127.0.0.1 -Upostgres -d ${db} -qtA -v ON_ERROR_STOP=1 -c ${JSON.stringify(sql.replace(/\s+/g, ' '))}`).trim()

/** A progress logger writing `[tag] message` lines to stderr. */
export const logger =
  (tag: string) =>
  (s: string): void =>
    void process.stderr.write(`[${tag}] ${s}\n`)

/**
 * Run a shell command (a pipeline fails when any part fails); wall seconds and, with `measured`,
 * the peak RSS in MB of the whole command (`/usr/bin/time` around a `bash -c` of it, so a pipeline
 * is measured as a whole, children and worker threads included).
 * @throws Error with the command and the tail of its stderr on a non-zero exit.
 */
export function timed(cmd: string, measured = false): { s: number; rssMb?: number } {
  const rssFile = path.join(tmpdir(), `sluice-bench-rss-${process.pid}`)
  const full = measured ? `/usr/bin/time -f %M -o ${rssFile} bash -o pipefail -c ${JSON.stringify(cmd)}` : cmd
  const t0 = performance.now()
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', full], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd.slice(0, 300)}\n${r.stderr.toString().slice(-2000)}`)
  if (!measured) return { s }
  const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop())
  return { s, rssMb: Math.round(kb / 1024) }
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2
}
