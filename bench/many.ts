/**
 * `npm run bench` (third part) or `npx tsx bench/many.ts`: a whole database of many tables.
 *
 * Builds MariaDB database `manyt` with `../shared/bench/many_tables.sh` when it is missing (300
 * tables, each with a primary key, two secondary indexes and a foreign key; 555,000 rows), a
 * PostgreSQL copy (`manyt_src`, made by Sluice once) and a SQLite copy (`bench/results/manyt.db`,
 * made by Sluice once). Then, alternating the commands within each round (`--rounds N`, default
 * 1: one round is about two minutes here; medians over rounds):
 *   - MySQL -> PostgreSQL: `sluice migrate`, pgloader, and a per-table pipe loop (the schema's
 *     pre-data restored by psql, then `mysql --quick -B | psql \copy` per table in FK order, then
 *     the post-data: indexes and foreign keys);
 *   - PostgreSQL -> MySQL: `sluice migrate` and the per-table loop (`mysqldump --no-data` schema
 *     restored, `psql \copy to stdout | mysql LOAD DATA LOCAL INFILE` per table, FK checks off as
 *     a dump restore does);
 *   - SQLite -> PostgreSQL: `sluice migrate`, pgloader, and the per-table loop
 *     (`sqlite3 -csv | psql \copy csv`, same pre/post-data as above).
 * Then Chinook (11 tables) from the bundled SQLite file and from MariaDB into PostgreSQL, 3 runs
 * each (the issue's "< 2 s" for the workbench's whole-database run).
 * Each Sluice run is a child process measured by `/usr/bin/time` (wall seconds, peak RSS).
 * Prints ratios (Sluice / reference, lower is better) and merges them, with the machine's CPU
 * model and core count, into `bench/results/latest.json` under `many`.
 */
import { cpus, tmpdir } from 'node:os'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { args, logger, median, mysqlQ, opt, psqlQ, ROOT as root, sh, timed } from './common.js'

const GEN = path.resolve(root, '../shared/bench/many_tables.sh')
const ROUNDS = Number(opt('--rounds') ?? 1)
const SKIP_PGLOADER = args.includes('--skip-pgloader')
const RESULTS = path.join(root, 'bench', 'results')
const SQLITE_COPY = path.join(RESULTS, 'manyt.db')
const DATA_DIR = path.join(tmpdir(), `sluice-bench-many-${process.pid}`)
const SLUICE = `node ${JSON.stringify(path.join(root, 'bin/sluice.mjs'))} --data-dir ${JSON.stringify(DATA_DIR)}`

const log = logger('bench many')



function freshPg(db: string): void {
  sh(`psql -h127.0.0.1 -Upostgres -d postgres -qc 'DROP DATABASE IF EXISTS "${db}" WITH (FORCE)' -c 'CREATE DATABASE "${db}"'`)
}
function freshMy(db: string): void {
  mysqlQ(`DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db} CHARACTER SET utf8mb4`)
}
const checkpoint = () => psqlQ('postgres', 'CHECKPOINT')

/** Tables of `manyt` in foreign-key order (each references the one before it). */
const TABLES = Array.from({ length: 300 }, (_, i) => `t${String(i).padStart(3, '0')}`)
const COLS = (t: string) => `id, code, title, amount, qty, created_at, day, flag, note${t === 't000' ? '' : ', parent_id'}`

function setup(): { preData: string; postData: string; myDdl: string } {
  mkdirSync(RESULTS, { recursive: true })
  mkdirSync(DATA_DIR, { recursive: true })
  if (mysqlQ(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'manyt'`) !== '300') {
    log('building manyt (300 tables)')
    sh(`bash ${JSON.stringify(GEN)} manyt`)
  }
  if (!psqlQ('postgres', `SELECT 1 FROM pg_database WHERE datname = 'manyt_src'`)) {
    log('making the PostgreSQL copy manyt_src')
    freshPg('manyt_src')
    sh(`${SLUICE} migrate mysql://root@127.0.0.1:3306/manyt postgres://postgres@127.0.0.1:5432/manyt_src`)
  }
  if (!existsSync(SQLITE_COPY)) {
    log('making the SQLite copy')
    sh(`${SLUICE} migrate mysql://root@127.0.0.1:3306/manyt sqlite:${SQLITE_COPY}`)
    // pgloader's SQLite reader sees no tables in a WAL-mode file: a rollback journal for both.
    sh(`sqlite3 ${SQLITE_COPY} 'PRAGMA journal_mode=DELETE'`)
  }
  // The reference loops restore the schema the way a dump does: tables first, then indexes and FKs.
  const preData = path.join(RESULTS, 'manyt-pre.sql')
  const postData = path.join(RESULTS, 'manyt-post.sql')
  sh(`pg_dump -h127.0.0.1 -Upostgres -s --section=pre-data manyt_src > ${preData}`)
  sh(`pg_dump -h127.0.0.1 -Upostgres -s --section=post-data manyt_src > ${postData}`)
  const myDdl = path.join(RESULTS, 'manyt-my.sql')
  sh(`mysqldump -uroot -h127.0.0.1 --no-data --skip-add-drop-table manyt > ${myDdl}`)
  return { preData, postData, myDdl }
}

/** pgloader's command file for the SQLite copy (see the case below). */
const PGLOADER_SQLITE = path.join(RESULTS, 'manyt-sqlite.load')

function main(): void {
  const { preData, postData, myDdl } = setup()
  writeFileSync(
    PGLOADER_SQLITE,
    `LOAD DATABASE FROM sqlite://${SQLITE_COPY} INTO postgresql://postgres@127.0.0.1/manyt_dst
  WITH include drop, create tables, create indexes, reset sequences
  CAST type decimal_text to numeric drop typemod, type datetime_text to timestamp drop typemod, type date_text to date drop typemod;\n`,
  )
  const cases: Record<string, { prep: () => void; cmd: string; sluice?: boolean }> = {
    'sluice mysql->pg': { prep: () => freshPg('manyt_dst'), cmd: `${SLUICE} migrate mysql://root@127.0.0.1:3306/manyt postgres://postgres@127.0.0.1:5432/manyt_dst`, sluice: true },
    'pipe loop mysql->pg': {
      prep: () => freshPg('manyt_dst'),
      cmd: [
        `psql -h127.0.0.1 -Upostgres -d manyt_dst -q -v ON_ERROR_STOP=1 -f ${preData} >/dev/null`,
        ...TABLES.map((t) => `mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 --quick -B -N manyt -e "SELECT ${COLS(t)} FROM ${t}" | psql -h127.0.0.1 -Upostgres -d manyt_dst -q -c "\\copy ${t} (${COLS(t)}) from stdin with (null 'NULL')"`),
        `psql -h127.0.0.1 -Upostgres -d manyt_dst -q -v ON_ERROR_STOP=1 -f ${postData} >/dev/null`,
      ].join(' && '),
    },
    ...(SKIP_PGLOADER
      ? {}
      : {
          'pgloader mysql->pg': { prep: () => freshPg('manyt_dst'), cmd: `pgloader --quiet mysql://root@127.0.0.1/manyt postgresql://postgres@127.0.0.1/manyt_dst` },
        }),
    'sluice pg->mysql': { prep: () => freshMy('manyt_out'), cmd: `${SLUICE} migrate postgres://postgres@127.0.0.1:5432/manyt_src mysql://root@127.0.0.1:3306/manyt_out`, sluice: true },
    'pipe loop pg->mysql': {
      prep: () => freshMy('manyt_out'),
      cmd: `{ echo 'SET FOREIGN_KEY_CHECKS=0;'; cat ${myDdl}; } | mysql -uroot -h127.0.0.1 manyt_out && ` +
        TABLES.map((t) => `psql -h127.0.0.1 -Upostgres -d manyt_src -qc "\\copy ${t} (${COLS(t)}) to stdout" | mysql -uroot -h127.0.0.1 --local-infile=1 manyt_out -e "SET FOREIGN_KEY_CHECKS=0; LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE ${t} (${COLS(t)})"`).join(' && '),
    },
    'sluice sqlite->pg': { prep: () => freshPg('manyt_dst'), cmd: `${SLUICE} migrate sqlite:${SQLITE_COPY} postgres://postgres@127.0.0.1:5432/manyt_dst`, sluice: true },
    'pipe loop sqlite->pg': {
      prep: () => freshPg('manyt_dst'),
      cmd: [
        `psql -h127.0.0.1 -Upostgres -d manyt_dst -q -v ON_ERROR_STOP=1 -f ${preData} >/dev/null`,
        ...TABLES.map((t) => `sqlite3 -csv ${SQLITE_COPY} "SELECT ${COLS(t)} FROM ${t}" | psql -h127.0.0.1 -Upostgres -d manyt_dst -q -c "\\copy ${t} (${COLS(t)}) from stdin with (format csv)"`),
        `psql -h127.0.0.1 -Upostgres -d manyt_dst -q -v ON_ERROR_STOP=1 -f ${postData} >/dev/null`,
      ].join(' && '),
    },
    // Sluice's SQLite tables declare TEXT-affinity types (DECIMAL_TEXT, DATETIME_TEXT, DATE_TEXT: see
    // main/connectors/sqlite/types.ts) that pgloader does not know: a load file casts them.
    ...(SKIP_PGLOADER ? {} : { 'pgloader sqlite->pg': { prep: () => freshPg('manyt_dst'), cmd: `pgloader --quiet ${PGLOADER_SQLITE}` } }),
  }
  const times: Record<string, number[]> = {}
  const rss: Record<string, number> = {}
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, c] of Object.entries(cases)) {
      c.prep()
      checkpoint()
      try {
        const m = timed(c.cmd, c.sluice)
        ;(times[name] ??= []).push(m.s)
        if (m.rssMb !== undefined) rss[name] = Math.max(rss[name] ?? 0, m.rssMb)
        log(`round ${r}: ${name} ${m.s.toFixed(2)} s${m.rssMb !== undefined ? `, peak RSS ${m.rssMb} MB` : ''}`)
      } catch (e) {
        log(`round ${r}: ${name} failed: ${(e as Error).message.split('\n')[0]}`)
      }
    }
  }
  // The workbench's whole-database run of Chinook (11 tables, 15,607 rows): the bundled SQLite
  // copy and the MySQL one into PostgreSQL, as a whole `sluice migrate` process (start-up
  // included; the workbench runs the same engine in a process already started). Target: < 2 s.
  const CHINOOK_SQLITE = path.resolve(root, '../shared/datasets/chinook/Chinook_Sqlite.sqlite')
  if (mysqlQ(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'Chinook'`) !== '11') {
    log('loading Chinook into MariaDB')
    sh(`mysql -uroot -h127.0.0.1 --default-character-set=utf8mb4 < ${JSON.stringify(path.resolve(root, '../shared/datasets/chinook/Chinook_MySql.sql'))}`)
  }
  const chinook: Record<string, string> = {
    'sluice chinook sqlite->pg': `${SLUICE} migrate sqlite:${CHINOOK_SQLITE} postgres://postgres@127.0.0.1:5432/chinook_dst`,
    'sluice chinook mysql->pg': `${SLUICE} migrate mysql://root@127.0.0.1:3306/Chinook postgres://postgres@127.0.0.1:5432/chinook_dst`,
  }
  for (let r = 1; r <= 3; r++) {
    for (const [name, cmd] of Object.entries(chinook)) {
      freshPg('chinook_dst')
      const m = timed(cmd, true)
      ;(times[name] ??= []).push(m.s)
      if (m.rssMb !== undefined) rss[name] = Math.max(rss[name] ?? 0, m.rssMb)
      log(`chinook ${r}: ${name} ${m.s.toFixed(2)} s`)
    }
  }
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  const ratio = (a: string, b: string) => (med[a] !== undefined && med[b] !== undefined ? med[a]! / med[b]! : undefined)
  const ratios = {
    'mysql->pg vs pgloader': ratio('sluice mysql->pg', 'pgloader mysql->pg'),
    'mysql->pg vs pipe loop': ratio('sluice mysql->pg', 'pipe loop mysql->pg'),
    'pg->mysql vs pipe loop': ratio('sluice pg->mysql', 'pipe loop pg->mysql'),
    'sqlite->pg vs pgloader': ratio('sluice sqlite->pg', 'pgloader sqlite->pg'),
    'sqlite->pg vs pipe loop': ratio('sluice sqlite->pg', 'pipe loop sqlite->pg'),
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version }
  console.log(`\nMany tables (300 tables, 555,000 rows), ${ROUNDS} round(s), medians; ${machine.cpu}, ${machine.cores} cores`)
  for (const [k, v] of Object.entries(med)) console.log(`  ${k.padEnd(24)} ${v.toFixed(2)} s${rss[k] !== undefined ? `   peak RSS ${rss[k]} MB` : ''}`)
  for (const [k, v] of Object.entries(ratios)) if (v !== undefined) console.log(`  ${k.padEnd(24)} ${v.toFixed(2)}x`)
  const verdict = (ok: boolean, what: string) => console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`)
  verdict((ratios['mysql->pg vs pipe loop'] ?? 9) <= 0.3, 'many tables mysql->pg <= 0.3x the pipe loop')
  if (ratios['mysql->pg vs pgloader'] !== undefined) verdict(ratios['mysql->pg vs pgloader'] <= 0.15, 'many tables mysql->pg <= 0.15x pgloader')
  verdict(Math.max(...Object.entries(rss).filter(([k]) => k.startsWith('sluice')).map(([, v]) => v)) < 250, 'peak RSS < 250 MB')
  for (const k of Object.keys(chinook)) verdict((med[k] ?? 9) < 2, `${k.replace('sluice ', '')} < 2 s (${(med[k] ?? NaN).toFixed(2)} s)`)
  const out = path.join(RESULTS, 'latest.json')
  const prev = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {}
  writeFileSync(out, JSON.stringify({ ...prev, many: { at: new Date().toISOString(), machine, rounds: ROUNDS, seconds: med, peakRssMb: rss, ratios } }, null, 2) + '\n')
  rmSync(DATA_DIR, { recursive: true, force: true })
}

main()
