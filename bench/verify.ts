/**
 * Benchmark: hashdiff of a 1M-row table between MySQL/MariaDB and PostgreSQL, identical and with
 * 10 changed rows, against the floor: the time both databases take to scan the table with the
 * same checksum query (the one hashdiff runs first, run on both sides at once).
 *
 *     npx tsx bench/verify.ts [--runs 3] [--keep]
 *
 * Source: MySQL `bench.orders` (loaded from /work/shared/bench/mysql_orders_1m.sql with the mysql
 * client when missing). Target: a private PostgreSQL database `sl_vbench` filled by
 * `mysql --quick -B | psql \copy` (dropped afterwards unless --keep). Prints medians and ratios.
 * Environment: SLUICE_TEST_MYSQL_* / SLUICE_TEST_PG_* like the tests (default loopback root/postgres).
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { openConnector } from '../main/connectors/index.js'
import type { ConnectionConfig, Connector } from '../main/connectors/types.js'
import { diffTables, planColumns } from '../main/verify/index.js'
import { Side } from '../main/verify/side.js'

const MY = { host: process.env.SLUICE_TEST_MYSQL_HOST ?? '127.0.0.1', port: Number(process.env.SLUICE_TEST_MYSQL_PORT ?? 3306), user: process.env.SLUICE_TEST_MYSQL_USER ?? 'root', password: process.env.SLUICE_TEST_MYSQL_PASSWORD ?? '' }
const PGC = { host: process.env.SLUICE_TEST_PG_HOST ?? '127.0.0.1', port: Number(process.env.SLUICE_TEST_PG_PORT ?? 5432), user: process.env.SLUICE_TEST_PG_USER ?? 'postgres', password: process.env.SLUICE_TEST_PG_PASSWORD ?? '' }
const PG_DB = 'sl_vbench'
const here = path.dirname(fileURLToPath(import.meta.url))
const ORDERS_SQL = process.env.SLUICE_BENCH_ORDERS_SQL ?? path.resolve(here, '../../shared/bench/mysql_orders_1m.sql')
const CHANGED_IDS = [1, 99_991, 200_003, 333_333, 424_242, 500_000, 617_283, 777_777, 888_888, 1_000_000]

const args = process.argv.slice(2)
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3
const KEEP = args.includes('--keep')

const PG_DDL = `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, sku varchar(32) NOT NULL, title varchar(200) NOT NULL,
  amount numeric(12,2) NOT NULL, qty smallint NOT NULL, created_at timestamp(3) NOT NULL, ship_date date, status text NOT NULL, note text,
  is_gift smallint NOT NULL, ratio double precision)`

const mysqlArgs = ['-h', MY.host, '-P', String(MY.port), '-u', MY.user, ...(MY.password ? [`-p${MY.password}`] : []), '--default-character-set=utf8mb4']
const psqlEnv = { ...process.env, PGPASSWORD: PGC.password }
const psqlArgs = (db: string) => ['-h', PGC.host, '-p', String(PGC.port), '-U', PGC.user, '-d', db, '-q', '-v', 'ON_ERROR_STOP=1']

async function ensureMysqlSource(): Promise<void> {
  const c = await mysql.createConnection(MY)
  try {
    const [rows] = (await c.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench' AND TABLE_NAME = 'orders'`)) as unknown as [Array<{ n: number }>]
    if (Number(rows[0]!.n) > 0) return
  } finally {
    await c.end()
  }
  if (!existsSync(ORDERS_SQL)) throw new Error(`bench.orders is missing and ${ORDERS_SQL} does not exist`)
  console.log(`loading bench.orders from ${ORDERS_SQL} ...`)
  execFileSync('sh', ['-c', `mysql ${mysqlArgs.map((a) => `'${a}'`).join(' ')} < '${ORDERS_SQL}'`], { stdio: 'inherit' })
}

/** Copy bench.orders into PostgreSQL with the C clients (mysql -B | psql \copy). */
async function copyToPg(): Promise<void> {
  const admin = new pg.Client({ ...PGC, database: 'postgres' })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${PG_DB} ENCODING 'UTF8' TEMPLATE template0`)
  await admin.end()
  execFileSync('psql', [...psqlArgs(PG_DB), '-c', PG_DDL], { env: psqlEnv, stdio: 'inherit' })
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const my = spawn('mysql', [...mysqlArgs, '--quick', '-B', '-N', '-e', 'SELECT * FROM bench.orders'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const ps = spawn('psql', [...psqlArgs(PG_DB), '-c', `\\copy orders FROM STDIN WITH (NULL 'NULL')`], { env: psqlEnv, stdio: ['pipe', 'inherit', 'inherit'] })
    my.stdout.pipe(ps.stdin)
    let done = 0
    const fin = (name: string) => (code: number | null) => {
      if (code !== 0) reject(new Error(`${name} exited with ${code}`))
      else if (++done === 2) resolve()
    }
    my.on('exit', fin('mysql'))
    ps.on('exit', fin('psql'))
  })
  execFileSync('psql', [...psqlArgs(PG_DB), '-c', 'ANALYZE orders'], { env: psqlEnv, stdio: 'inherit' })
  console.log(`copied 1M rows to PostgreSQL ${PG_DB} in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, value }
}

async function main(): Promise<void> {
  await ensureMysqlSource()
  await copyToPg()
  const srcCfg: ConnectionConfig = { kind: 'mysql', ...MY, database: 'bench' }
  const dstCfg: ConnectionConfig = { kind: 'postgres', ...PGC, database: PG_DB }
  const source: Connector = await openConnector(srcCfg)
  const target: Connector = await openConnector(dstCfg)
  const table = { name: 'orders' }
  try {
    const [s, d] = await Promise.all([source.catalog.table(table), target.catalog.table(table)])
    const { pairs, keyCount } = planColumns(s, d, {})
    const srcSide = new Side(source, table, pairs.map((p) => p[0]), keyCount, ['int'], undefined)
    const dstSide = new Side(target, table, pairs.map((p) => p[1]), keyCount, ['int'], undefined)

    const floorMy: number[] = []
    const floorPg: number[] = []
    const floorBoth: number[] = []
    for (let i = 0; i < RUNS; i++) {
      floorMy.push((await time(() => srcSide.checksum({}, true))).ms)
      floorPg.push((await time(() => dstSide.checksum({}, true))).ms)
      const both = await time(() => Promise.all([srcSide.checksum({}, true), dstSide.checksum({}, true)]))
      floorBoth.push(both.ms)
      if (both.value[0].sum !== both.value[1].sum) throw new Error('floor: the copy does not checksum equal to the source')
    }
    const floor = median(floorBoth)
    console.log(`floor (checksum query over 1M rows): MySQL ${secs(median(floorMy))}, PostgreSQL ${secs(median(floorPg))}, both at once ${secs(floor)}`)

    const run = async (label: string, threads: number, expectChanged: number) => {
      const ms: number[] = []
      let last
      for (let i = 0; i < RUNS; i++) {
        const r = await diffTables({ source, target, sourceTable: table, targetTable: table, algorithm: 'hashdiff', threads })
        if (r.changed.length !== expectChanged || r.onlyInSource.length || r.onlyInTarget.length) throw new Error(`${label}: expected ${expectChanged} changed rows, got ${JSON.stringify(r)}`)
        ms.push(r.elapsedMs)
        last = r
      }
      const m = median(ms)
      console.log(
        `${label.padEnd(34)} median ${secs(m)}  = ${(m / floor).toFixed(2)} x floor  (${last!.stats.segmentsChecked} segments, ${last!.stats.rowsDownloaded} rows downloaded, ${last!.stats.queries} queries)`,
      )
    }
    await run('hashdiff identical, threads 1', 1, 0)
    const upd = new pg.Client({ ...PGC, database: PG_DB })
    await upd.connect()
    await upd.query(`UPDATE orders SET amount = amount + 0.01 WHERE id = ANY($1::bigint[])`, [CHANGED_IDS])
    await upd.end()
    await run('hashdiff 10 changed, threads 1', 1, CHANGED_IDS.length)
    await run('hashdiff 10 changed, threads 2', 2, CHANGED_IDS.length)
    await run('hashdiff 10 changed, threads 4', 4, CHANGED_IDS.length)
    const md5 = await time(() => diffTables({ source, target, sourceTable: table, targetTable: table, algorithm: 'md5diff' }))
    console.log(`${'md5diff (one run)'.padEnd(34)} ${secs(md5.ms)}  = ${(md5.ms / floor).toFixed(2)} x floor  consistent=${md5.value.consistent}`)
    srcSide.close()
    dstSide.close()
  } finally {
    await Promise.allSettled([source.close(), target.close()])
    if (!KEEP) {
      const admin = new pg.Client({ ...PGC, database: 'postgres' })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`)
      await admin.end()
    }
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
