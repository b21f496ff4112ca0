/**
 * Type fidelity across all six directions: a table of edge values per type is created by plain
 * SQL in each source database, migrated by Sluice into the other two, and every target value is
 * checked against the expected canonical value — not merely against what the engine read.
 * Runs under a non-UTC process time zone to prove no value is shifted by it. Times are compared
 * as exact text: every connector spells them canonically (main/core/types.ts).
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { Value } from '../../main/core/types.js'
import { runJob } from '../../main/engine/run.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { readAll, sameValue, show } from '../helpers/compare.js'
import { main as cliMain } from '../../main/cli.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

type Kind = 'mysql' | 'postgres' | 'sqlite'
const COLS = ['id', 'u64', 'i64', 'dec38', 'txt', 'body', 'bin', 'dt', 'd', 'ts', 'f', 'j', 'b'] as const

/** The expected canonical values (ts in UTC with its offset; b only where the source has booleans). */
const ROWS: Value[][] = [
  [1, '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', '😀 中文 ü', 'tab\there\nnew\\line\rcr', Buffer.from([0, 0xff, 0, 0x5c, 0x0a]), '2024-02-29 23:59:59.999999', '0001-01-01', '2038-01-19 03:14:07.499999+00:00', 0.1, '{"a": [1, 2], "b": "ü"}', true],
  [2, '0', '9223372036854775807', '0.0000000001', '', 'x', Buffer.alloc(0), '1000-01-01 00:00:00', '9999-12-31', '1970-01-01 00:00:01+00:00', -1.7976931348623157e308, '[]', false],
  [3, null, null, null, null, null, null, null, null, null, null, null, null],
]

const DDL: Record<Kind, string> = {
  mysql: `CREATE TABLE edge (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(100) NULL, body TEXT NULL, bin BLOB NULL, dt DATETIME(6) NULL, d DATE NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, f DOUBLE NULL, j JSON NULL, b BOOLEAN NULL) DEFAULT CHARSET=utf8mb4`,
  postgres: `CREATE TABLE edge (id int PRIMARY KEY, u64 numeric(20,0), i64 bigint, dec38 numeric(38,10), txt varchar(100), body text, bin bytea, dt timestamp(6), d date, ts timestamptz(6), f double precision, j jsonb, b boolean)`,
  sqlite: `CREATE TABLE edge (id INTEGER PRIMARY KEY, u64 DECIMAL_TEXT(20,0), i64 BIGINT, dec38 DECIMAL_TEXT(38,10), txt VARCHAR(100), body TEXT, bin BLOB, dt DATETIME, d DATE, ts TIMESTAMPTZ, f REAL, j JSON, b BOOLEAN)`,
}

describe.skipIf(!ready)('type fidelity in six directions', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-fid-'))
  const made: Array<[Kind, string]> = []
  const cfg = (kind: Kind, db: string): ConnectionConfig => (kind === 'mysql' ? { kind, ...MYSQL, database: db } : kind === 'postgres' ? { kind, ...PG, database: db } : { kind, path: db })
  const srcDb: Record<Kind, string> = { mysql: `sl_fid_${id}_src`, postgres: `sl_fid_${id}_src`, sqlite: path.join(dir, 'src.sqlite') }

  beforeAll(async () => {
    // MySQL source, session in UTC so TIMESTAMP literals mean UTC.
    await freshMysqlDb(srcDb.mysql)
    made.push(['mysql', srcDb.mysql])
    const my = await mysql.createConnection({ ...MYSQL, database: srcDb.mysql, charset: 'utf8mb4', timezone: '+00:00' })
    await my.query("SET time_zone = '+00:00'")
    await my.query(DDL.mysql)
    for (const r of ROWS) {
      const v = r.map((x, i) => (COLS[i] === 'ts' && typeof x === 'string' ? x.replace('+00:00', '') : x))
      await my.query(`INSERT INTO edge VALUES (${v.map(() => '?').join(',')})`, v)
    }
    await my.end()
    // PostgreSQL source.
    await freshPgDb(srcDb.postgres)
    made.push(['postgres', srcDb.postgres])
    const c = new pg.Client({ ...PG, database: srcDb.postgres })
    await c.connect()
    await c.query(DDL.postgres)
    for (const r of ROWS) await c.query(`INSERT INTO edge VALUES (${r.map((_, i) => `$${i + 1}`).join(',')})`, r as unknown[])
    await c.end()
    // SQLite source.
    const s = new Database(srcDb.sqlite)
    s.exec(DDL.sqlite)
    const ins = s.prepare(`INSERT INTO edge VALUES (${COLS.map(() => '?').join(',')})`)
    for (const r of ROWS) ins.run(...r.map((x, i) => (typeof x === 'boolean' ? (x ? 1 : 0) : COLS[i] === 'i64' && typeof x === 'string' ? BigInt(x) : x)))
    s.close()
  })

  afterAll(async () => {
    for (const [k, db] of made) if (k === 'mysql') await dropMysqlDb(db)
    for (const [k, db] of made) if (k === 'postgres') await dropPgDb(db)
    rmSync(dir, { recursive: true, force: true })
  })

  const directions: Array<[Kind, Kind]> = [
    ['mysql', 'postgres'], ['postgres', 'mysql'], ['mysql', 'sqlite'], ['sqlite', 'mysql'], ['postgres', 'sqlite'], ['sqlite', 'postgres'],
  ]
  for (const [from, to] of directions) {
    it(`${from} -> ${to}`, async () => {
      const target = to === 'sqlite' ? path.join(dir, `t-${from}.sqlite`) : `sl_fid_${id}_${from.slice(0, 2)}`
      if (to === 'mysql') made.push(['mysql', await freshMysqlDb(target)])
      if (to === 'postgres') made.push(['postgres', await freshPgDb(target)])
      const parsed = parseJob({ reader: { connection: cfg(from, srcDb[from]) }, writer: { connection: cfg(to, target) }, tables: [{ source: 'edge' }] })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
      const summary = await runJob({ runId: `fid-${from}-${to}`, job: parsed.job, reader: cfg(from, srcDb[from]), writer: cfg(to, target), vars: {}, time: timeContext() })
      expect(summary.error).toBeUndefined()
      expect(summary.state).toBe('succeeded')
      expect(summary.rowsWritten).toBe(ROWS.length)

      const dst = await openConnector(cfg(to, target))
      try {
        const { columns, rows } = await readAll(dst, 'edge')
        expect(columns).toEqual([...COLS])
        for (let r = 0; r < ROWS.length; r++) {
          for (let c = 0; c < COLS.length; c++) {
            let want: Value = ROWS[r]![c]!
            let got: Value = rows[r]![c]!
            if (COLS[c] === 'b' && from === 'mysql') want = want === null ? null : want ? 1 : 0 // MySQL BOOLEAN is TINYINT(1)
            if (COLS[c] === 'ts' && to === 'mysql' && typeof want === 'string') want = want.replace('+00:00', '') // stored as UTC wall clock (documented)
            if (COLS[c] === 'j' && typeof want === 'string' && typeof got === 'string') {
              expect(JSON.parse(got), `${COLS[c]} row ${r}`).toEqual(JSON.parse(want))
              continue
            }
            expect(sameValue(got, want), `${from} -> ${to} row ${r + 1} column ${COLS[c]}: got ${show(got)}, want ${show(want)}`).toBe(true)
          }
        }
      } finally {
        await dst.close()
      }
    })
  }

  // `sluice migrate --verify hashdiff` of this correct copy exits 0 (TableDataDiff consistent),
  // and `sluice diff` of the copy made above exits 0, in all six directions.
  for (const [from, to] of directions) {
    it(`migrate --verify hashdiff exits 0, sluice diff exits 0: ${from} -> ${to} (edge)`, async () => {
      const target = to === 'sqlite' ? path.join(dir, `v-${from}.sqlite`) : `sl_fid_${id}_v${from.slice(0, 2)}`
      if (to === 'mysql') made.push(['mysql', await freshMysqlDb(target)])
      if (to === 'postgres') made.push(['postgres', await freshPgDb(target)])
      const m = await runCli(['--data-dir', mkdtempSync(path.join(dir, 'state-')), 'migrate', urlOf(from, srcDb[from]), urlOf(to, target), '--tables', 'edge', '--verify', 'hashdiff', '--json', '-q'])
      expect(JSON.parse(m.out).tasks[0].state, m.out).toBe('succeeded')
      expect(m.code).toBe(0)
      const d = await runCli(['diff', urlOf(from, srcDb[from]), urlOf(to, target), '--table', 'edge', '--algorithm', 'hashdiff', '--json'])
      expect(d.code, d.out).toBe(0)
    }, 120_000)
  }
})

/** A connection URL for the CLI. */
function urlOf(kind: Kind, db: string): string {
  return kind === 'mysql' ? `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${db}` : kind === 'postgres' ? `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${db}` : `sqlite:${db}`
}

// ---------------------------------------------------------------------------------------------
// Fidelity classes (issue 13): one table per class, created by plain SQL in every source it
// applies to, migrated in every direction it applies to, and each target value checked against
// the expected canonical value (or the expected dirty records).
// ---------------------------------------------------------------------------------------------

const f32 = Math.fround
/** The float32 values every source holds (MySQL stores 16777217 as 16777216: a float32 cannot hold it). */
const F32_IN = [16777217, 3.14159274, 3.4028234663852886e38, -1.17549435e-38, 1.401298464324817e-45, 0.1]
const F64 = [5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.1]

interface FidClass {
  table: string
  /** Statements creating and filling the table, per source kind (absent: not a source of this class). */
  source: Partial<Record<Kind, string[]>>
  /** Expected target rows (sorted by id) for a direction, or undefined when the direction does not apply. */
  expect(from: Kind, to: Kind): { rows: Value[][]; dirty?: number } | undefined
  /** Run settings for the class (zero dates, a tolerated errorLimit for expected dirty rows). */
  setting?: Record<string, unknown>
  /** Part of the hashdiff verification of a correct copy (classes whose copy is meant to be identical). */
  verify: boolean
}

/** Run the CLI in-process, capturing stdout; resolves with the exit code and what it printed. */
async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write
  try {
    const code = await cliMain(['node', 'sluice', ...args])
    return { code, out: out.join('') }
  } finally {
    process.stdout.write = write
  }
}
const sqlNum = (x: number) => (Object.is(x, -0) ? '-0.0' : String(x))

const CLASSES: FidClass[] = [
  {
    // SQLite's dynamic typing: a REAL in an INTEGER/SMALLINT column is never rounded into MySQL
    // (MariaDB rounds 12.3 and '12.3' to 12 without a warning even in strict mode): a dirty record.
    table: 'realint',
    source: { sqlite: ['CREATE TABLE realint (id INTEGER PRIMARY KEY, n INTEGER, s SMALLINT)', 'INSERT INTO realint VALUES (1, 12, 3), (2, 12.3, 2), (3, 5, 2.7), (4, 7.0, NULL)'] },
    expect: (from, to) => (from === 'sqlite' && to !== 'sqlite' ? { rows: [[1, 12, 3], [4, 7, null]], dirty: 2 } : undefined),
    setting: { errorLimit: { record: 10 } },
    verify: false,
  },
  {
    // YEAR 0 ('0000') stays 0, never 2000; MySQL -> SQLite -> MySQL is checked on its own below.
    table: 'yr',
    source: {
      mysql: ['CREATE TABLE yr (id INT PRIMARY KEY, y YEAR NULL)', 'INSERT INTO yr VALUES (1, 0), (2, 1901), (3, 2155), (4, NULL)'],
      sqlite: ['CREATE TABLE yr (id INTEGER PRIMARY KEY, y YEAR)', 'INSERT INTO yr VALUES (1, 0), (2, 1901), (3, 2155), (4, NULL)'],
    },
    expect: (from, to) => (from === 'postgres' || from === to ? undefined : { rows: [[1, 0], [2, 1901], [3, 2155], [4, null]] }),
    verify: true,
  },
  {
    // FLOAT (float32) carried exactly: the value the source holds, never its 6-digit text.
    table: 'flt',
    source: {
      mysql: ['CREATE TABLE flt (id INT PRIMARY KEY, f FLOAT NULL)', `INSERT INTO flt VALUES ${F32_IN.map((x, i) => `(${i + 1}, ${sqlNum(x)})`).join(', ')}, (${F32_IN.length + 1}, NULL)`],
      postgres: ['CREATE TABLE flt (id int PRIMARY KEY, f real)', `INSERT INTO flt VALUES ${F32_IN.map((x, i) => `(${i + 1}, '${sqlNum(x)}')`).join(', ')}, (${F32_IN.length + 1}, NULL)`],
      sqlite: ['CREATE TABLE flt (id INTEGER PRIMARY KEY, f FLOAT4)', `INSERT INTO flt VALUES ${F32_IN.map((x, i) => `(${i + 1}, ${sqlNum(f32(x))})`).join(', ')}, (${F32_IN.length + 1}, NULL)`],
    },
    expect: (from, to) => (from === to ? undefined : { rows: [...F32_IN.map((x, i) => [i + 1, f32(x)]), [F32_IN.length + 1, null]] }),
    verify: true,
  },
  {
    // DOUBLE extremes, subnormals included (the verifier once overflowed on 5e-324).
    table: 'dbl',
    source: {
      mysql: ['CREATE TABLE dbl (id INT PRIMARY KEY, d DOUBLE NULL)', `INSERT INTO dbl VALUES ${F64.map((x, i) => `(${i + 1}, ${sqlNum(x)})`).join(', ')}`],
      postgres: ['CREATE TABLE dbl (id int PRIMARY KEY, d double precision)', `INSERT INTO dbl VALUES ${F64.map((x, i) => `(${i + 1}, '${sqlNum(x)}')`).join(', ')}`],
      sqlite: ['CREATE TABLE dbl (id INTEGER PRIMARY KEY, d REAL)', `INSERT INTO dbl VALUES ${F64.map((x, i) => `(${i + 1}, ${sqlNum(x)})`).join(', ')}`],
    },
    expect: (from, to) => (from === to ? undefined : { rows: F64.map((x, i) => [i + 1, x]) }),
    verify: true,
  },
  {
    // MySQL TIME spans ±838:59:59: PostgreSQL gets interval (read back as ISO 8601), SQLite text.
    table: 'tm',
    source: { mysql: ['CREATE TABLE tm (id INT PRIMARY KEY, t TIME(6) NULL)', "INSERT INTO tm VALUES (1, '-838:59:59'), (2, '838:59:59'), (3, '25:00:00.5'), (4, '00:00:00'), (5, '-00:00:01.000001')"] },
    expect: (from, to) =>
      from !== 'mysql' || to === 'mysql'
        ? undefined
        : to === 'postgres'
          ? { rows: [[1, 'PT-838H-59M-59S'], [2, 'PT838H59M59S'], [3, 'PT25H0.5S'], [4, 'PT0S'], [5, 'PT-1.000001S']] }
          : { rows: [[1, '-838:59:59'], [2, '838:59:59'], [3, '25:00:00.5'], [4, '00:00:00'], [5, '-00:00:01.000001']] },
    verify: true,
  },
  {
    // Text unique only by trailing spaces: a NO PAD binary collation in MySQL keeps both keys.
    table: 'tsp',
    source: {
      postgres: ['CREATE TABLE tsp (id int PRIMARY KEY, s varchar(10) UNIQUE)', "INSERT INTO tsp VALUES (1, 'a'), (2, 'a '), (3, 'a  ')"],
      sqlite: ['CREATE TABLE tsp (id INTEGER PRIMARY KEY, s VARCHAR(10) UNIQUE)', "INSERT INTO tsp VALUES (1, 'a'), (2, 'a '), (3, 'a  ')"],
    },
    expect: (from, to) => (from !== to ? { rows: [[1, 'a'], [2, 'a '], [3, 'a  ']] } : undefined),
    verify: true,
  },
  {
    // An invalid MySQL ENUM value ('' at index 0, stored outside strict mode) passes the CHECK Sluice creates.
    table: 'en',
    source: { mysql: ["CREATE TABLE en (id INT PRIMARY KEY, e ENUM('a','b') NULL)", "SET SESSION sql_mode = ''", "INSERT INTO en VALUES (1, 'a'), (2, 'zzz'), (3, NULL)"] },
    expect: (from, to) => (from === 'mysql' && to !== 'mysql' ? { rows: [[1, 'a'], [2, ''], [3, null]] } : undefined),
    verify: true,
  },
  {
    // BIT(8): bytes, 0x00 and 0x01 included (the verifier once saw HEX(0x01) = '1').
    table: 'bits',
    source: { mysql: ['CREATE TABLE bits (id INT PRIMARY KEY, b BIT(8) NULL)', "INSERT INTO bits VALUES (1, b'00000000'), (2, b'00000001'), (3, b'11111111'), (4, NULL)"] },
    expect: (from, to) => (from === 'mysql' && to !== 'mysql' ? { rows: [[1, Buffer.from([0])], [2, Buffer.from([1])], [3, Buffer.from([255])], [4, null]] } : undefined),
    verify: true,
  },
  {
    // A zero MySQL TIMESTAMP follows setting.zeroDate like DATE and DATETIME (here: null).
    table: 'zts',
    source: { mysql: ['CREATE TABLE zts (id INT PRIMARY KEY, ts TIMESTAMP NULL DEFAULT NULL, d DATE NULL)', "SET SESSION sql_mode = ''", "INSERT INTO zts VALUES (1, '0000-00-00 00:00:00', '0000-00-00'), (2, '2001-02-03 04:05:06', '2001-02-03')"] },
    expect: (from, to) => (from === 'mysql' && to !== 'mysql' ? { rows: [[1, null, null], [2, '2001-02-03 04:05:06+00:00', '2001-02-03']] } : undefined),
    setting: { zeroDate: 'null' },
    verify: false,
  },
  {
    // ... and under zeroDate 'error' the zero TIMESTAMP is a dirty record in every target.
    table: 'ztse',
    source: { mysql: ['CREATE TABLE ztse (id INT PRIMARY KEY, ts TIMESTAMP NULL DEFAULT NULL)', "SET SESSION sql_mode = ''", "INSERT INTO ztse VALUES (1, '0000-00-00 00:00:00'), (2, '2001-02-03 04:05:06')"] },
    expect: (from, to) => (from === 'mysql' && to !== 'mysql' ? { rows: [[2, '2001-02-03 04:05:06+00:00']], dirty: 1 } : undefined),
    setting: { zeroDate: 'error', errorLimit: { record: 10 } },
    verify: false,
  },
]

describe.skipIf(!ready)('fidelity classes in six directions (issue 13)', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-fidc-'))
  const made: Array<[Kind, string]> = []
  const cfg = (kind: Kind, db: string): ConnectionConfig => (kind === 'mysql' ? { kind, ...MYSQL, database: db } : kind === 'postgres' ? { kind, ...PG, database: db } : { kind, path: db })
  const srcDb: Record<Kind, string> = { mysql: `sl_fidc_${id}_src`, postgres: `sl_fidc_${id}_src`, sqlite: path.join(dir, 'src.sqlite') }
  const url = urlOf

  beforeAll(async () => {
    await freshMysqlDb(srcDb.mysql)
    made.push(['mysql', srcDb.mysql])
    const my = await mysql.createConnection({ ...MYSQL, database: srcDb.mysql, timezone: '+00:00' })
    await my.query("SET time_zone = '+00:00'")
    for (const c of CLASSES) for (const q of c.source.mysql ?? []) await my.query(q)
    await my.end()
    await freshPgDb(srcDb.postgres)
    made.push(['postgres', srcDb.postgres])
    const pc = new pg.Client({ ...PG, database: srcDb.postgres })
    await pc.connect()
    for (const c of CLASSES) for (const q of c.source.postgres ?? []) await pc.query(q)
    await pc.end()
    const sq = new Database(srcDb.sqlite)
    for (const c of CLASSES) for (const q of c.source.sqlite ?? []) sq.exec(q)
    sq.close()
  }, 60_000)

  afterAll(async () => {
    for (const [k, db] of made) if (k === 'mysql') await dropMysqlDb(db)
    for (const [k, db] of made) if (k === 'postgres') await dropPgDb(db)
    rmSync(dir, { recursive: true, force: true })
  })

  const directions: Array<[Kind, Kind]> = [
    ['mysql', 'postgres'], ['postgres', 'mysql'], ['mysql', 'sqlite'], ['sqlite', 'mysql'], ['postgres', 'sqlite'], ['sqlite', 'postgres'],
  ]
  const fresh = async (to: Kind, name: string): Promise<string> => {
    if (to === 'sqlite') return path.join(dir, `${name}.sqlite`)
    made.push([to, to === 'mysql' ? await freshMysqlDb(name) : await freshPgDb(name)])
    return name
  }

  for (const [from, to] of directions) {
    const classes = CLASSES.filter((c) => c.source[from] && c.expect(from, to))
    it(`${from} -> ${to}: ${classes.map((c) => c.table).join(', ')}`, async () => {
      for (const c of classes) {
        const want = c.expect(from, to)!
        const target = await fresh(to, `sl_fidc_${id}_${from.slice(0, 2)}${to.slice(0, 2)}_${c.table}`)
        const parsed = parseJob({ reader: { connection: cfg(from, srcDb[from]) }, writer: { connection: cfg(to, target) }, tables: [{ source: c.table }], setting: { ...(c.setting ?? {}) } })
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
        const summary = await runJob({ runId: `fidc-${from}-${to}-${c.table}`, job: parsed.job, reader: cfg(from, srcDb[from]), writer: cfg(to, target), vars: {}, time: timeContext() })
        expect(summary.error, `${c.table}: ${summary.error}`).toBeUndefined()
        expect(summary.state, `${c.table}`).toBe('succeeded')
        expect(summary.dirty, `${c.table} dirty records`).toBe(want.dirty ?? 0)
        const dst = await openConnector(cfg(to, target))
        try {
          const { columns, rows } = await readAll(dst, c.table)
          expect(rows.length, `${from} -> ${to} ${c.table}: row count`).toBe(want.rows.length)
          for (let r = 0; r < want.rows.length; r++)
            for (let k = 0; k < columns.length; k++)
              expect(sameValue(rows[r]![k]!, want.rows[r]![k]!), `${from} -> ${to} ${c.table} row ${r + 1} column ${columns[k]}: got ${show(rows[r]![k]!)}, want ${show(want.rows[r]![k]!)}`).toBe(true)
        } finally {
          await dst.close()
        }
      }
    }, 120_000)
  }

  it('YEAR 0 survives MySQL -> SQLite -> MySQL', async () => {
    const mid = path.join(dir, 'yr-mid.sqlite')
    const back = await fresh('mysql', `sl_fidc_${id}_yrback`)
    for (const [a, b] of [[cfg('mysql', srcDb.mysql), cfg('sqlite', mid)], [cfg('sqlite', mid), cfg('mysql', back)]] as const) {
      const parsed = parseJob({ reader: { connection: a }, writer: { connection: b }, tables: [{ source: 'yr' }] })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
      const s = await runJob({ runId: 'fidc-yr', job: parsed.job, reader: a, writer: b, vars: {}, time: timeContext() })
      expect(s.state).toBe('succeeded')
    }
    const my = await mysql.createConnection({ ...MYSQL, database: back })
    const [rows] = await my.query('SELECT id, CAST(y AS CHAR) AS y FROM yr ORDER BY id')
    await my.end()
    expect(rows).toEqual([{ id: 1, y: '0000' }, { id: 2, y: '1901' }, { id: 3, y: '2155' }, { id: 4, y: null }])
  }, 60_000)

  // `sluice migrate --verify hashdiff` of a correct copy exits 0 for every class meant to copy
  // identically, in all six directions (and the TableDataDiff stage reports them consistent).
  for (const [from, to] of directions) {
    const tables = CLASSES.filter((c) => c.verify && c.source[from] && c.expect(from, to)).map((c) => c.table)
    it(`migrate --verify hashdiff exits 0: ${from} -> ${to} (${tables.join(', ')})`, async () => {
      const target = await fresh(to, `sl_fidc_${id}_v${from.slice(0, 2)}${to.slice(0, 2)}`)
      const dataDir = mkdtempSync(path.join(dir, 'state-'))
      const m = await runCli(['--data-dir', dataDir, 'migrate', url(from, srcDb[from]), url(to, target), '--tables', tables.join(','), '--verify', 'hashdiff', '--json', '-q'])
      const summary = JSON.parse(m.out) as { state: string; tasks: Array<{ taskId: string; state: string; error?: string }> }
      expect(summary.tasks.filter((t) => t.state !== 'succeeded'), JSON.stringify(summary.tasks)).toEqual([])
      expect(m.code).toBe(0)
      // `sluice diff` agrees table by table (never exit 2 on a value the databases can hold).
      for (const t of tables) {
        const d = await runCli(['diff', url(from, srcDb[from]), url(to, target), '--table', t, '--algorithm', 'hashdiff', '--json'])
        expect(d.code, `sluice diff ${t}: ${d.out}`).toBe(0)
      }
    }, 180_000)
  }
})
