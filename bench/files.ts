/**
 * File cases of `npm run bench`: Sluice's file export and import against the shell pipes a user
 * would otherwise write, on the bench table (`bench.orders`, 1M rows; see bench/index.ts).
 *
 * Alternating within each round (3 rounds by default, medians):
 *   - sluice MySQL -> gzip CSV on a local folder   vs  `mysql --quick -B -N -e 'SELECT ...' | gzip -1 > f`
 *   - sluice that gzip CSV -> PostgreSQL           vs  `zcat f | psql \copy ... from stdin`
 *   - sluice that gzip CSV -> MySQL (sluice_bench_out) vs  `zcat f | mysql -e "LOAD DATA LOCAL INFILE '/dev/stdin' ..."`
 *   - sluice MySQL -> Parquet and Parquet -> PostgreSQL, reported beside them.
 * Every Sluice run is a child process (`node bin/sluice.mjs run`) measured by `/usr/bin/time`
 * (peak RSS). Prints the table and the two ratios the issue sets (export at most 1.0x the pipe,
 * import at most 1.2x), the gzip CSV -> MySQL ratio (reported, no target), and writes
 * `bench/results/files-latest.json` (git-ignored).
 *
 * Options: `--rounds N` (default 3), `--rows N` (default 1,000,000 = bench.orders; a smaller N
 * builds `sluice_bench_files.orders` with the same generator, for a quick proof run),
 * `--channels N`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { args, logger, median, mysqlQ, opt, psqlQ, ROOT as root, sh, timed } from './common.js'

const SQL_1M = path.resolve(root, '../shared/bench/mysql_orders_1m.sql')
const ROUNDS = Number(opt('--rounds') ?? 3)
const ROWS = Number(opt('--rows') ?? 1_000_000)
const CHANNELS = opt('--channels')
const PGDB = 'sluice_bench'
/** The MySQL database the file -> MySQL cases write into (tables made LIKE the source's orders). */
const MYOUT = 'sluice_bench_files_out'
const SMALLDB = 'sluice_bench_files'

const log = logger('bench files')



/** The source table: bench.orders (1M), or a smaller copy of its generator in sluice_bench_files. */
function sourceDb(): string {
  if (ROWS >= 1_000_000) {
    if (mysqlQ(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'orders'`) !== '1') {
      log('loading bench.orders (1M rows)')
      sh(`mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 < ${JSON.stringify(SQL_1M)}`)
    }
    return 'bench'
  }
  log(`building ${SMALLDB}.orders (${ROWS} rows, the bench generator)`)
  const sql = readFileSync(SQL_1M, 'utf8').replace(/\bbench\b/g, SMALLDB).replace('seq_1_to_1000000', `seq_1_to_${ROWS}`)
  sh(`mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4`, sql)
  return SMALLDB
}

const PG_DDL = (name: string) =>
  `DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id bigint PRIMARY KEY, customer_id int NOT NULL, sku varchar(32) NOT NULL, title varchar(200) NOT NULL,
   amount numeric(12,2) NOT NULL, qty smallint NOT NULL, created_at timestamp(3) NOT NULL, ship_date date, status text NOT NULL, note text,
   is_gift smallint NOT NULL, ratio double precision)`

type Case = { name: string; prepare: () => void; cmd: string; measured: boolean; verify: () => void }

function main(): void {
  const db = sourceDb()
  if (psqlQ('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${PGDB}'`) !== '1') psqlQ('postgres', `CREATE DATABASE ${PGDB}`)
  const work = mkdtempSync(path.join(tmpdir(), 'sluice-bench-files-'))
  const dataDir = path.join(work, 'state')
  mkdirSync(dataDir)
  const csvDir = path.join(work, 'csv')
  const pqDir = path.join(work, 'pq')
  const pipeFile = path.join(work, 'pipe.tsv.gz')
  mkdirSync(csvDir)
  mkdirSync(pqDir)
  const setting = CHANNELS ? { setting: { speed: { channel: Number(CHANNELS) } } } : {}
  const job = (name: string, spec: Record<string, unknown>) => {
    const f = path.join(work, `${name}.json`)
    writeFileSync(f, JSON.stringify({ version: 1, name, ...spec, ...setting }))
    return `node ${JSON.stringify(path.join(root, 'bin/sluice.mjs'))} --data-dir ${dataDir} run ${f} -q`
  }
  const my = `mysql://root@127.0.0.1:3306/${db}`
  const pg = `postgres://postgres@127.0.0.1:5432/${PGDB}`
  const exportCsv = job('my2csv', { reader: { connection: my }, writer: { connection: `file://${csvDir}`, file: { format: 'csv', compression: 'gzip' } }, tables: [{ source: 'orders' }] })
  const importCsv = job('csv2pg', { reader: { connection: `file://${csvDir}` }, writer: { connection: pg }, tables: [{ source: 'orders-*.csv.gz', target: 'orders_fcsv' }] })
  const exportPq = job('my2pq', { reader: { connection: my }, writer: { connection: `file://${pqDir}`, file: { format: 'parquet' } }, tables: [{ source: 'orders' }] })
  const importCsvMy = job('csv2my', { reader: { connection: `file://${csvDir}` }, writer: { connection: `mysql://root@127.0.0.1:3306/${MYOUT}` }, tables: [{ source: 'orders-*.csv.gz', target: 'orders_fcsv' }] })
  const myTable = (t: string) => mysqlQ(`CREATE DATABASE IF NOT EXISTS ${MYOUT}; DROP TABLE IF EXISTS ${MYOUT}.${t}; CREATE TABLE ${MYOUT}.${t} LIKE ${db}.orders`)
  const countMy = (t: string) => Number(mysqlQ(`SELECT COUNT(*) FROM ${MYOUT}.${t}`))
  // The pipe file is `mysql -B -N` output: TAB-separated, backslash escapes, NULL spelled NULL.
  const myPipe = `zcat ${pipeFile} | mysql -uroot -h127.0.0.1 --local-infile=1 --default-character-set=utf8mb4 -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE ${MYOUT}.orders_fpipe CHARACTER SET utf8mb4 (id, customer_id, sku, title, amount, qty, created_at, @ship, status, @note, is_gift, @ratio) SET ship_date = NULLIF(@ship, 'NULL'), note = NULLIF(@note, 'NULL'), ratio = NULLIF(@ratio, 'NULL')"`
  const importPq = job('pq2pg', { reader: { connection: `file://${pqDir}` }, writer: { connection: pg }, tables: [{ source: 'orders-*.parquet', target: 'orders_fpq' }] })
  const countPg = (t: string) => Number(psqlQ(PGDB, `SELECT count(*) FROM ${t}`))
  const expectRows = (n: number, what: string) => {
    if (n !== ROWS) throw new Error(`${what}: ${n} rows, expected ${ROWS}`)
  }
  const gzRows = (dir: string, ext: string) => readdirSync(dir).filter((f) => f.endsWith(ext)).length
  const cases: Case[] = [
    { name: 'sluice mysql->csv.gz', prepare: () => undefined, cmd: exportCsv, measured: true, verify: () => (gzRows(csvDir, '.csv.gz') ? undefined : (() => { throw new Error('no csv.gz part') })()) },
    { name: 'pipe mysql|gzip -1', prepare: () => rmSync(pipeFile, { force: true }), cmd: `mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 --quick -B -N -e 'SELECT * FROM ${db}.orders' | gzip -1 > ${pipeFile}`, measured: false, verify: () => (existsSync(pipeFile) ? undefined : (() => { throw new Error('no pipe file') })()) },
    { name: 'sluice csv.gz->pg', prepare: () => psqlQ(PGDB, PG_DDL('orders_fcsv')), cmd: importCsv, measured: true, verify: () => expectRows(countPg('orders_fcsv'), 'sluice csv.gz->pg') },
    { name: 'pipe zcat|psql \\copy', prepare: () => psqlQ(PGDB, PG_DDL('orders_fpipe')), cmd: `zcat ${pipeFile} | psql -h127.0.0.1 -Upostgres -d ${PGDB} -q -c "\\copy orders_fpipe from stdin with (null 'NULL')"`, measured: false, verify: () => expectRows(countPg('orders_fpipe'), 'pipe zcat|psql') },
    { name: 'sluice csv.gz->mysql', prepare: () => myTable('orders_fcsv'), cmd: importCsvMy, measured: true, verify: () => expectRows(countMy('orders_fcsv'), 'sluice csv.gz->mysql') },
    { name: 'pipe zcat|mysql LOAD', prepare: () => myTable('orders_fpipe'), cmd: myPipe, measured: false, verify: () => expectRows(countMy('orders_fpipe'), 'pipe zcat|mysql LOAD') },
    { name: 'sluice mysql->parquet', prepare: () => undefined, cmd: exportPq, measured: true, verify: () => (gzRows(pqDir, '.parquet') ? undefined : (() => { throw new Error('no parquet part') })()) },
    { name: 'sluice parquet->pg', prepare: () => psqlQ(PGDB, 'DROP TABLE IF EXISTS orders_fpq'), cmd: importPq, measured: true, verify: () => expectRows(countPg('orders_fpq'), 'sluice parquet->pg') },
  ]
  const results = new Map<string, { s: number[]; rss: number[] }>(cases.map((c) => [c.name, { s: [], rss: [] }]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of cases) {
      c.prepare()
      psqlQ(PGDB, 'CHECKPOINT')
      const r = timed(c.cmd, c.measured)
      c.verify()
      results.get(c.name)!.s.push(r.s)
      if (r.rssMb !== undefined) results.get(c.name)!.rss.push(r.rssMb)
      log(`round ${round}: ${c.name} ${r.s.toFixed(2)} s${r.rssMb !== undefined ? `, ${r.rssMb} MB` : ''}`)
    }
  }
  const med = (n: string) => median(results.get(n)!.s)
  const rss = (n: string) => Math.max(0, ...results.get(n)!.rss)
  const rows = cases.map((c) => ({ case: c.name, seconds: Number(med(c.name).toFixed(3)), ...(c.measured ? { peakRssMb: rss(c.name) } : {}) }))
  const exportRatio = med('sluice mysql->csv.gz') / med('pipe mysql|gzip -1')
  const importRatio = med('sluice csv.gz->pg') / med('pipe zcat|psql \\copy')
  const importMyRatio = med('sluice csv.gz->mysql') / med('pipe zcat|mysql LOAD')
  process.stdout.write(`\nFile cases, ${ROWS.toLocaleString('en')} rows, medians of ${ROUNDS} alternating rounds\n`)
  for (const r of rows) process.stdout.write(`  ${r.case.padEnd(24)} ${r.seconds.toFixed(2).padStart(8)} s${r.peakRssMb !== undefined ? `   peak RSS ${r.peakRssMb} MB` : ''}\n`)
  process.stdout.write(`  export ratio (sluice / mysql|gzip -1):   ${exportRatio.toFixed(2)}x (target at most 1.0x)\n`)
  process.stdout.write(`  import ratio (sluice / zcat|psql \\copy): ${importRatio.toFixed(2)}x (target at most 1.2x)\n`)
  process.stdout.write(`  import ratio (sluice / zcat|mysql LOAD DATA): ${importMyRatio.toFixed(2)}x (reported)\n`)
  const outDir = path.join(root, 'bench', 'results')
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'files-latest.json'), JSON.stringify({ at: new Date().toISOString(), rows: ROWS, rounds: ROUNDS, cases: rows, exportRatio, importRatio, importMyRatio }, null, 2) + '\n')
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true })
  else log(`kept ${work}`)
  if (ROWS < 1_000_000 && !args.includes('--keep')) mysqlQ(`DROP DATABASE IF EXISTS ${SMALLDB}`)
}

main()
