/**
 * `npm run bench`: Sluice against the C-client pipes and pgloader on the shared bench table.
 *
 * Loads `../shared/bench/mysql_orders_1m.sql` into MariaDB when `bench.orders` is missing, and
 * builds `bench.orders5m` (same generator, `seq_1_to_5000000`) when missing; installs pgloader
 * (Debian package) when absent. Then, in one run, alternating the commands within each round
 * (5 rounds by default, medians):
 *   - sluice MySQL -> PostgreSQL, `mysql --quick -B | psql \copy` (target created with its
 *     primary key first, as Sluice does), pgloader MySQL -> PostgreSQL;
 *   - sluice PostgreSQL -> MySQL, `psql \copy to stdout | mysql LOAD DATA LOCAL INFILE '/dev/stdin'`;
 * plus one Sluice MySQL -> PostgreSQL run of the 5M-row table for peak RSS. PostgreSQL runs a
 * CHECKPOINT before every measured command, so none pays for the previous one's WAL. Every Sluice run is a
 * child process (`node bin/sluice.mjs run`, as a user runs it) measured by `/usr/bin/time`, whose
 * max RSS covers the main thread and its channel workers. Prints a table and writes
 * `bench/results/latest.json` (git-ignored).
 *
 * Options: `--rounds N` (default 5), `--skip-5m`, `--channels N` (default: Sluice's own),
 * `--only a,b` (quick mode: only the cases whose name contains one of the comma-separated words,
 * e.g. `--only sluice-mysql-pg` or `--only mysql->pg`; `-` in a word matches a space, `>` or `|`;
 * implies `--skip-5m` unless `--with-5m`).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { args, logger, median, mysqlQ, opt, psqlQ, ROOT as root, sh, timed } from './common.js'

const SQL_1M = path.resolve(root, '../shared/bench/mysql_orders_1m.sql')
const ROUNDS = Number(opt('--rounds') ?? 5)
const ONLY = opt('--only')
  ?.split(',')
  .map((w) => w.trim().toLowerCase())
  .filter(Boolean)
const SKIP_5M = args.includes('--skip-5m') || (ONLY !== undefined && !args.includes('--with-5m'))
/** Whether a case runs under `--only` (see the file comment). */
const selected = (name: string) => !ONLY || ONLY.some((w) => name.toLowerCase().replace(/->|[ |]/g, '-').includes(w.replace(/->|[ |]/g, '-')))
const CHANNELS = opt('--channels')
const PGDB = 'sluice_bench'
const MYOUT = 'sluice_bench_out'


const log = logger('bench')



function setup(): void {
  if (mysqlQ(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'orders'`) !== '1') {
    log('loading bench.orders (1M rows)')
    sh(`mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 < ${JSON.stringify(SQL_1M)}`)
  }
  if (!SKIP_5M && mysqlQ(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'orders5m'`) !== '1') {
    log('building bench.orders5m (5M rows, same generator)')
    const sql = readFileSync(SQL_1M, 'utf8').replace(/\borders\b/g, 'orders5m').replace('seq_1_to_1000000', 'seq_1_to_5000000')
    sh(`mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4`, sql)
  }
  mysqlQ('ANALYZE TABLE bench.orders')
  if (!SKIP_5M) mysqlQ('ANALYZE TABLE bench.orders5m')
  if (psqlQ('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${PGDB}'`) !== '1') psqlQ('postgres', `CREATE DATABASE ${PGDB}`)
  mysqlQ(`CREATE DATABASE IF NOT EXISTS ${MYOUT} CHARACTER SET utf8mb4`)
  if (spawnSync('bash', ['-c', 'command -v pgloader']).status !== 0) {
    log('installing pgloader (apt-get)')
    spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgloader'], { stdio: 'inherit' })
  }
}

const PG_DDL = (name: string) =>
  `DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id bigint PRIMARY KEY, customer_id int NOT NULL, sku varchar(32) NOT NULL, title varchar(200) NOT NULL,
   amount numeric(12,2) NOT NULL, qty smallint NOT NULL, created_at timestamp(3) NOT NULL, ship_date date, status text NOT NULL, note text,
   is_gift smallint NOT NULL, ratio double precision)`

const work = mkdtempSync(path.join(tmpdir(), 'sluice-bench-'))
const dataDir = path.join(work, 'state')
mkdirSync(dataDir)

function sluiceJob(name: string, reader: string, writer: string, source: string, target: string): string {
  const file = path.join(work, `${name}.json`)
  writeFileSync(file, JSON.stringify({ version: 1, name, reader: { connection: reader }, writer: { connection: writer, createTable: true }, tables: [{ source, target }], ...(CHANNELS ? { setting: { speed: { channel: Number(CHANNELS) } } } : {}) }))
  return file
}

const sluice = (job: string) => `node ${JSON.stringify(path.join(root, 'bin/sluice.mjs'))} --data-dir ${dataDir} run ${job} -q`

type Case = { name: string; prepare: () => void; cmd: string; measured?: boolean; verify?: () => void }

function main(): void {
  setup()
  const my = 'mysql://root@127.0.0.1:3306/bench'
  const pgUrl = `postgres://postgres@127.0.0.1:5432/${PGDB}`
  const myOut = `mysql://root@127.0.0.1:3306/${MYOUT}`
  const jobMyPg = sluiceJob('my2pg', my, pgUrl, 'orders', 'orders')
  const jobPgMy = sluiceJob('pg2my', pgUrl, myOut, 'orders', 'orders')
  const pgl = path.join(work, 'pgloader.load')
  writeFileSync(
    pgl,
    `LOAD DATABASE FROM mysql://root@127.0.0.1/bench INTO postgresql://postgres@127.0.0.1/${PGDB}
     WITH include drop, create tables, create indexes, reset sequences, workers = 4, concurrency = 1
     INCLUDING ONLY TABLE NAMES MATCHING 'orders'
     ALTER SCHEMA 'bench' RENAME TO 'pgl';\n`,
  )
  const countPg = (t: string) => Number(psqlQ(PGDB, `SELECT count(*) FROM ${t}`))
  const countMy = (t: string) => Number(mysqlQ(`SELECT COUNT(*) FROM ${MYOUT}.${t}`))
  const expect1m = (n: number, what: string) => {
    if (n !== 1_000_000) throw new Error(`${what}: ${n} rows, expected 1,000,000`)
  }
  const allCases: Case[] = [
    { name: 'sluice mysql->pg', prepare: () => psqlQ(PGDB, 'DROP TABLE IF EXISTS orders'), cmd: sluice(jobMyPg), measured: true, verify: () => expect1m(countPg('orders'), 'sluice mysql->pg') },
    {
      name: 'pipe mysql|psql',
      prepare: () => psqlQ(PGDB, PG_DDL('orders_pipe')),
      cmd: `mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 --quick -B -N -e 'SELECT * FROM bench.orders' | psql -h127.0.0.1 -Upostgres -d ${PGDB} -q -c "\\copy orders_pipe from stdin with (null 'NULL')"`,
      verify: () => expect1m(countPg('orders_pipe'), 'pipe mysql|psql'),
    },
    {
      name: 'pgloader mysql->pg',
      prepare: () => psqlQ(PGDB, 'DROP SCHEMA IF EXISTS pgl CASCADE'),
      cmd: `pgloader --quiet ${pgl}`,
      verify: () => expect1m(countPg('pgl.orders'), 'pgloader'),
    },
    { name: 'sluice pg->mysql', prepare: () => mysqlQ(`DROP TABLE IF EXISTS ${MYOUT}.orders`), cmd: sluice(jobPgMy), measured: true, verify: () => expect1m(countMy('orders'), 'sluice pg->mysql') },
    {
      name: 'pipe psql|LOAD DATA',
      prepare: () => mysqlQ(`DROP TABLE IF EXISTS ${MYOUT}.orders_pipe; CREATE TABLE ${MYOUT}.orders_pipe LIKE bench.orders`),
      cmd: `psql -h127.0.0.1 -Upostgres -d ${PGDB} -q -c "\\copy orders_pipe to stdout" | mysql -uroot -h127.0.0.1 --local-infile=1 --default-character-set=utf8mb4 ${MYOUT} -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE orders_pipe CHARACTER SET utf8mb4"`,
      verify: () => expect1m(countMy('orders_pipe'), 'pipe psql|LOAD DATA'),
    },
  ]
  const cases = allCases.filter((c) => selected(c.name))
  if (!cases.length) throw new Error(`--only ${ONLY?.join(',')}: no case matches (${allCases.map((c) => c.name).join('; ')})`)
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  const rss = new Map<string, number[]>()
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate: rotate the order every round so no command always runs on a warm (or cold) cache.
    const order = cases.map((_, i) => cases[(i + r) % cases.length]!)
    // The PostgreSQL -> MySQL cases read what the MySQL -> PostgreSQL cases wrote.
    order.sort((a, b) => Number(a.name.includes('pg->') || a.name.includes('psql|')) - Number(b.name.includes('pg->') || b.name.includes('psql|')))
    for (const c of order) {
      c.prepare()
      // Every command starts from the same server state: no WAL of the previous one left to flush.
      psqlQ(PGDB, 'CHECKPOINT')
      // pgloader (SBCL) now and then dies at start ("Failed to start the monitor thread"): one retry.
      let m: { s: number; rssMb?: number }
      try {
        m = timed(c.cmd, c.measured)
      } catch (e) {
        if (!c.name.startsWith('pgloader')) throw e
        log(`${c.name} failed at start, retrying once: ${String(e).split('\n')[0]}`)
        c.prepare()
        m = timed(c.cmd, c.measured)
      }
      c.verify?.()
      times.get(c.name)!.push(m.s)
      if (m.rssMb !== undefined) rss.set(c.name, [...(rss.get(c.name) ?? []), m.rssMb])
      log(`round ${r + 1}: ${c.name} ${m.s.toFixed(2)} s${m.rssMb !== undefined ? `, max RSS ${m.rssMb} MB` : ''}`)
    }
  }
  let rss5m: number | undefined
  let time5m: number | undefined
  if (!SKIP_5M) {
    const job5 = sluiceJob('my2pg5m', my, pgUrl, 'orders5m', 'orders5m')
    psqlQ(PGDB, 'DROP TABLE IF EXISTS orders5m')
    const m = timed(sluice(job5), true)
    const n = countPg('orders5m')
    if (n !== 5_000_000) throw new Error(`sluice 5M: ${n} rows, expected 5,000,000`)
    rss5m = m.rssMb
    time5m = m.s
    log(`5M: sluice mysql->pg ${m.s.toFixed(2)} s, max RSS ${m.rssMb} MB`)
    psqlQ(PGDB, 'DROP TABLE IF EXISTS orders5m')
  }

  const med = (n: string) => (times.get(n)?.length ? median(times.get(n)!) : NaN)
  const r = {
    machine: { cores: Number(sh('nproc').trim()), node: process.version },
    rounds: ROUNDS,
    medians: Object.fromEntries(cases.map((c) => [c.name, Number(med(c.name).toFixed(3))])),
    runs: Object.fromEntries([...times].map(([k, v]) => [k, v.map((x) => Number(x.toFixed(3)))])),
    ratios: {
      'sluice/pipe mysql->pg': Number((med('sluice mysql->pg') / med('pipe mysql|psql')).toFixed(3)),
      'sluice/pgloader mysql->pg': Number((med('sluice mysql->pg') / med('pgloader mysql->pg')).toFixed(3)),
      'sluice/pipe pg->mysql': Number((med('sluice pg->mysql') / med('pipe psql|LOAD DATA')).toFixed(3)),
    },
    peakRssMb: { '1m mysql->pg': Math.max(...(rss.get('sluice mysql->pg') ?? [0])), '1m pg->mysql': Math.max(...(rss.get('sluice pg->mysql') ?? [0])), ...(rss5m ? { '5m mysql->pg': rss5m } : {}) },
    ...(time5m ? { time5mS: Number(time5m.toFixed(2)) } : {}),
  }
  const rss1 = r.peakRssMb['1m mysql->pg']
  const targets = {
    // Issue 12's targets (two bench runs in a row must pass the 0.85x ones).
    'mysql->pg <= 0.85x pipe': r.ratios['sluice/pipe mysql->pg'] <= 0.85,
    'mysql->pg <= 0.35x pgloader': r.ratios['sluice/pgloader mysql->pg'] <= 0.35,
    'pg->mysql <= 0.85x pipe': r.ratios['sluice/pipe pg->mysql'] <= 0.85,
    'peak RSS < 250 MB': Math.max(...Object.values(r.peakRssMb)) < 250,
    ...(rss5m ? { 'RSS 5M within 15 % of 1M': Math.abs(rss5m - rss1) / rss1 <= 0.15 } : {}),
  }
  const out = { ...r, targets, at: new Date().toISOString() }
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true })
  writeFileSync(path.join(root, 'bench', 'results/latest.json'), JSON.stringify(out, null, 2) + '\n')

  const lines = [
    '',
    `Sluice benchmark, 1,000,000 rows (bench.orders), ${ROUNDS} rounds alternating, medians`,
    '',
    '| command | median s | runs |',
    '| --- | ---: | --- |',
    ...cases.map((c) => `| ${c.name} | ${med(c.name).toFixed(2)} | ${times.get(c.name)!.map((x) => x.toFixed(2)).join(', ')} |`),
    '',
    ...Object.entries(r.ratios).map(([k, v]) => `${k.padEnd(28)} ${v.toFixed(2)}x`),
    ...Object.entries(r.peakRssMb).map(([k, v]) => `peak RSS ${k.padEnd(19)} ${v} MB`),
    ...(time5m ? [`5M mysql->pg time            ${time5m.toFixed(2)} s`] : []),
    '',
    ...Object.entries(targets).map(([k, v]) => `${v ? 'PASS' : 'FAIL'}  ${k}`),
    '',
    `written ${path.relative(root, path.join(root, 'bench', 'results/latest.json'))}`,
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

try {
  main()
} finally {
  rmSync(work, { recursive: true, force: true })
  if (existsSync(path.join(tmpdir(), `sluice-bench-rss-${process.pid}`))) rmSync(path.join(tmpdir(), `sluice-bench-rss-${process.pid}`))
}
