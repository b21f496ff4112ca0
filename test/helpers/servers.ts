/**
 * Real servers on loopback for integration tests. Without a server a suite reports itself
 * skipped; under CI=true a missing server fails the run instead.
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const MYSQL = { host: process.env.SLUICE_TEST_MYSQL_HOST ?? '127.0.0.1', port: Number(process.env.SLUICE_TEST_MYSQL_PORT ?? 3306), user: process.env.SLUICE_TEST_MYSQL_USER ?? 'root', password: process.env.SLUICE_TEST_MYSQL_PASSWORD ?? '' }
export const PG = { host: process.env.SLUICE_TEST_PG_HOST ?? '127.0.0.1', port: Number(process.env.SLUICE_TEST_PG_PORT ?? 5432), user: process.env.SLUICE_TEST_PG_USER ?? 'postgres', password: process.env.SLUICE_TEST_PG_PASSWORD ?? '' }

const here = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(here, '../..')
/** The shared Chinook files (../shared/datasets/chinook beside the repo). */
export const CHINOOK_DIR = process.env.SLUICE_CHINOOK_DIR ?? path.resolve(REPO_ROOT, '../shared/datasets/chinook')
/** Rows per Chinook table (version 1.4.5, the same in all three dialects): 11 tables, 15,607 rows. */
export const CHINOOK_COUNTS: Readonly<Record<string, number>> = {
  Album: 347,
  Artist: 275,
  Customer: 59,
  Employee: 8,
  Genre: 25,
  Invoice: 412,
  InvoiceLine: 2240,
  MediaType: 5,
  Playlist: 18,
  PlaylistTrack: 8715,
  Track: 3503,
}

/** The Chinook SQLite copy bundled with the app (resources/). */
export const CHINOOK_SQLITE = path.join(REPO_ROOT, 'resources/demo/Chinook_Sqlite.sqlite')

async function probe(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn()
    return true
  } catch {
    return false
  }
}

let mysqlUp: Promise<boolean> | undefined
let pgUp: Promise<boolean> | undefined

export function mysqlAvailable(): Promise<boolean> {
  mysqlUp ??= probe(async () => {
    const c = await mysql.createConnection({ ...MYSQL, connectTimeout: 3000 })
    await c.end()
  })
  return mysqlUp
}

export function pgAvailable(): Promise<boolean> {
  pgUp ??= probe(async () => {
    const c = new pg.Client({ ...PG, database: 'postgres', connectionTimeoutMillis: 3000 })
    await c.connect()
    await c.end()
  })
  return pgUp
}

/**
 * Resolve whether a suite needing `servers` can run. Returns true to run, false to skip.
 * Under CI=true a missing server throws, so CI goes red rather than silently skipping.
 */
export async function serversReady(...servers: Array<'mysql' | 'postgres'>): Promise<boolean> {
  const missing: string[] = []
  for (const s of servers) {
    const up = s === 'mysql' ? await mysqlAvailable() : await pgAvailable()
    if (!up) missing.push(s)
  }
  if (missing.length && process.env.CI === 'true') {
    throw new Error(`CI=true but these servers are not reachable on loopback: ${missing.join(', ')}`)
  }
  return missing.length === 0
}

/** A short random suffix for per-test database names. */
export function uniq(): string {
  return `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}`
}

/** Create (drop first) a MySQL database and return its name. */
export async function freshMysqlDb(name: string): Promise<string> {
  const c = await mysql.createConnection(MYSQL)
  await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  await c.end()
  return name
}

export async function dropMysqlDb(name: string): Promise<void> {
  const c = await mysql.createConnection(MYSQL)
  await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await c.end()
}

/** Create (drop first) a PostgreSQL database and return its name. */
export async function freshPgDb(name: string): Promise<string> {
  const c = new pg.Client({ ...PG, database: 'postgres' })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  await c.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`)
  await c.end()
  return name
}

export async function dropPgDb(name: string): Promise<void> {
  const c = new pg.Client({ ...PG, database: 'postgres' })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  await c.end()
}

/**
 * Load Chinook into MySQL as database `name` (the script creates `Chinook`; we rewrite the name).
 * Uses the mysql client, as the dataset's README says.
 */
export function loadChinookMysql(name: string): void {
  const sql = readFileSync(path.join(CHINOOK_DIR, 'Chinook_MySql.sql'), 'utf8').replace(/`Chinook`/g, `\`${name}\``)
  execFileSync('mysql', ['-h', MYSQL.host, '-P', String(MYSQL.port), '-u', MYSQL.user, ...(MYSQL.password ? [`-p${MYSQL.password}`] : []), '--default-character-set=utf8mb4'], { input: sql, stdio: ['pipe', 'ignore', 'inherit'], maxBuffer: 1 << 26 })
}

/** Load Chinook into PostgreSQL as database `name` (the script creates `chinook`; we rewrite it). */
export function loadChinookPg(name: string): void {
  const sql = readFileSync(path.join(CHINOOK_DIR, 'Chinook_PostgreSql.sql'), 'utf8')
    .replace(/DROP DATABASE IF EXISTS chinook;/gi, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE);`)
    .replace(/CREATE DATABASE chinook;/gi, `CREATE DATABASE "${name}";`)
    .replace(/\\c chinook;/gi, `\\c "${name}";`)
  execFileSync('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', 'postgres', '-q', '-v', 'ON_ERROR_STOP=1'], { input: sql, stdio: ['pipe', 'ignore', 'inherit'], env: { ...process.env, PGPASSWORD: PG.password }, maxBuffer: 1 << 26 })
}

export { existsSync }

/** The CLI URL of MySQL database `db` on the test server (password included when set). */
export const mysqlUrl = (db: string): string => `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${db}`
/** The CLI URL of PostgreSQL database `db` on the test server (password included when set). */
export const pgUrl = (db: string): string => `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${db}`

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Wait until `cond` holds (checked every 10 ms), or fail naming `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}
