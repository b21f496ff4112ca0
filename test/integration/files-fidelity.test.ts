/**
 * Fidelity through files: the fidelity suite's edge values go database -> file -> database through
 * CSV (gzip, into an existing table whose types the untyped CSV columns adopt) and through Parquet
 * (into a table created from the Parquet file's schema), from each of MySQL, PostgreSQL and SQLite
 * into the next, and every target value is checked against the expected canonical value. The
 * Parquet files are also read by an independent reader (DuckDB), not only by Sluice's own.
 * Runs under a non-UTC process time zone: nothing may shift.
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { Value } from '../../main/core/types.js'
import { runJob } from '../../main/engine/run.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { readAll, sameValue, show } from '../helpers/compare.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

type Kind = 'mysql' | 'postgres' | 'sqlite'
const COLS = ['id', 'u64', 'i64', 'dec38', 'txt', 'body', 'bin', 'dt', 'd', 'ts', 'f', 'j', 'b'] as const

const ROWS: Value[][] = [
  [1, '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', '😀 中文 ü', 'tab\there\nnew\\line\rcr', Buffer.from([0, 0xff, 0, 0x5c, 0x0a]), '2024-02-29 23:59:59.999999', '0001-01-01', '2038-01-19 03:14:07.499999+00:00', 0.1, '{"a": [1, 2], "b": "ü"}', true],
  [2, '0', '9223372036854775807', '0.0000000001', '', 'x', Buffer.alloc(0), '1000-01-01 00:00:00', '9999-12-31', '1970-01-01 00:00:01+00:00', -1.7976931348623157e308, '[]', false],
  [3, null, null, null, null, null, null, null, null, null, null, null, null],
  [4, '1', '1', '1.0000000000', '\\N', 'NULL', Buffer.from('\\N'), '2000-01-01 00:00:00.5', '2000-01-01', '2000-01-01 00:00:00+00:00', 1e-300, '{}', true],
]

const DDL: Record<Kind, string> = {
  mysql: `CREATE TABLE edge (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(100) NULL, body TEXT NULL, bin BLOB NULL, dt DATETIME(6) NULL, d DATE NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, f DOUBLE NULL, j JSON NULL, b BOOLEAN NULL) DEFAULT CHARSET=utf8mb4`,
  postgres: `CREATE TABLE edge (id int PRIMARY KEY, u64 numeric(20,0), i64 bigint, dec38 numeric(38,10), txt varchar(100), body text, bin bytea, dt timestamp(6), d date, ts timestamptz(6), f double precision, j jsonb, b boolean)`,
  sqlite: `CREATE TABLE edge (id INTEGER PRIMARY KEY, u64 DECIMAL_TEXT(20,0), i64 BIGINT, dec38 DECIMAL_TEXT(38,10), txt VARCHAR(100), body TEXT, bin BLOB, dt DATETIME, d DATE, ts TIMESTAMPTZ, f REAL, j JSON, b BOOLEAN)`,
}

const NEXT: Record<Kind, Kind> = { mysql: 'postgres', postgres: 'sqlite', sqlite: 'mysql' }

describe.skipIf(!ready)('fidelity through files (CSV and Parquet)', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-ffid-'))
  const made: Array<[Kind, string]> = []
  const cfg = (kind: Kind, db: string): ConnectionConfig => (kind === 'mysql' ? { kind, ...MYSQL, database: db } : kind === 'postgres' ? { kind, ...PG, database: db } : { kind, path: db })
  const srcDb: Record<Kind, string> = { mysql: `sl_ffid_${id}_src`, postgres: `sl_ffid_${id}_src`, sqlite: path.join(dir, 'src.sqlite') }

  beforeAll(async () => {
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
    await freshPgDb(srcDb.postgres)
    made.push(['postgres', srcDb.postgres])
    const c = new pg.Client({ ...PG, database: srcDb.postgres })
    await c.connect()
    await c.query(DDL.postgres)
    for (const r of ROWS) await c.query(`INSERT INTO edge VALUES (${r.map((_, i) => `$${i + 1}`).join(',')})`, r as unknown[])
    await c.end()
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

  async function run(reader: ConnectionConfig, writer: ConnectionConfig, spec: Record<string, unknown>, runId: string) {
    const ref = (c: ConnectionConfig) => (c.kind === 'file' ? `file://${c.path}` : c)
    const sp = spec as { reader?: Record<string, unknown>; writer?: Record<string, unknown> }
    const parsed = parseJob({ ...spec, reader: { ...sp.reader, connection: ref(reader) }, writer: { ...sp.writer, connection: ref(writer) } })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const dirty: string[] = []
    const summary = await runJob({ runId, job: parsed.job, reader, writer, vars: {}, time: timeContext(), channelMode: 'inprocess', onDirty: (rs) => dirty.push(...rs.map((r) => r.reason)) })
    expect(dirty).toEqual([])
    expect(summary.error).toBeUndefined()
    expect(summary.state).toBe('succeeded')
    expect(summary.dirty).toBe(0)
    expect(summary.rowsWritten).toBe(ROWS.length)
  }

  async function check(from: Kind, to: Kind, target: string, via: string, created: boolean) {
    const dst = await openConnector(cfg(to, target))
    try {
      const { columns, rows } = await readAll(dst, 'edge')
      expect(columns).toEqual([...COLS])
      expect(rows.length).toBe(ROWS.length)
      for (let r = 0; r < ROWS.length; r++) {
        for (let c = 0; c < COLS.length; c++) {
          let want: Value = ROWS[r]![c]!
          const got: Value = rows[r]![c]!
          if (COLS[c] === 'b' && from === 'mysql') want = want === null ? null : want ? 1 : 0
          if (COLS[c] === 'ts' && to === 'mysql' && created && typeof want === 'string') want = want.replace('+00:00', '') // a created MySQL column is DATETIME holding UTC (as in the direct migration)
          if (COLS[c] === 'j' && typeof want === 'string' && typeof got === 'string') {
            expect(JSON.parse(got), `${via} ${COLS[c]} row ${r}`).toEqual(JSON.parse(want))
            continue
          }
          expect(sameValue(got, want), `${from} -> ${via} -> ${to} row ${r + 1} column ${COLS[c]}: got ${show(got)}, want ${show(want)}`).toBe(true)
        }
      }
    } finally {
      await dst.close()
    }
  }

  async function target(to: Kind, name: string, create: boolean): Promise<string> {
    if (to === 'sqlite') {
      const f = path.join(dir, `${name}.sqlite`)
      if (create) {
        const s = new Database(f)
        s.exec(DDL.sqlite)
        s.close()
      }
      return f
    }
    const db = `sl_ffid_${id}_${name}`
    if (to === 'mysql') made.push(['mysql', await freshMysqlDb(db)])
    else made.push(['postgres', await freshPgDb(db)])
    if (create) {
      if (to === 'mysql') {
        const my = await mysql.createConnection({ ...MYSQL, database: db })
        await my.query(DDL.mysql)
        await my.end()
      } else {
        const c = new pg.Client({ ...PG, database: db })
        await c.connect()
        await c.query(DDL.postgres)
        await c.end()
      }
    }
    return db
  }

  for (const from of ['mysql', 'postgres', 'sqlite'] as const) {
    const to = NEXT[from]
    it(`${from} -> CSV (gzip) -> ${to}`, async () => {
      const folder = path.join(dir, `csv-${from}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      await run(cfg(from, srcDb[from]), files, { tables: [{ source: 'edge' }], writer: { connection: files, file: { format: 'csv', compression: 'gzip', exportBatchRows: 3 } }, setting: { speed: { channel: 1 } } }, `ffid-csv-w-${from}`)
      const parts = readdirSync(folder).filter((f) => f.endsWith('.csv.gz')).sort()
      expect(parts).toEqual(['edge-000-00001.csv.gz', 'edge-000-00002.csv.gz'])
      const manifest = JSON.parse(readFileSync(path.join(folder, 'edge.manifest.json'), 'utf8'))
      expect(manifest.rows).toBe(ROWS.length)
      expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([3, 1])
      // NULL is the unquoted \N; the text '\N' is quoted.
      const text = gunzipSync(readFileSync(path.join(folder, parts[1]!))).toString('utf8')
      expect(text.split('\n')[0]).toBe(COLS.join(','))
      expect(text).toContain(',"\\N",')
      const first = gunzipSync(readFileSync(path.join(folder, parts[0]!))).toString('utf8')
      expect(first.split('\n').some((l) => l.startsWith('3,\\N,\\N,'))).toBe(true)
      const t = await target(to, `csv_${from}`, true)
      await run(files, cfg(to, t), { tables: [{ source: 'edge-*.csv.gz', target: 'edge' }], reader: { connection: files, file: { format: 'csv' } } }, `ffid-csv-r-${from}`)
      await check(from, to, t, 'CSV', false)
    })

    it(`${from} -> Parquet -> ${to} (table created from the Parquet schema)`, async () => {
      const folder = path.join(dir, `pq-${from}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      await run(cfg(from, srcDb[from]), files, { tables: [{ source: 'edge' }], writer: { connection: files, file: { format: 'parquet' } } }, `ffid-pq-w-${from}`)
      expect(existsSync(path.join(folder, 'edge-000-00001.parquet'))).toBe(true)
      const file = path.join(folder, 'edge-*.parquet')
      // An independent reader: DuckDB sees the logical types and exact values.
      const { DuckDBInstance } = await import('@duckdb/node-api')
      const inst = await DuckDBInstance.create(':memory:')
      const con = await inst.connect()
      const types = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowsJson().map((r) => [r[0], r[1]])
      const t = Object.fromEntries(types as Array<[string, string]>)
      expect(t.dec38).toBe('DECIMAL(38,10)')
      expect(t.i64).toBe('BIGINT')
      expect(t.dt).toBe('TIMESTAMP')
      expect(t.ts).toBe('TIMESTAMP WITH TIME ZONE')
      expect(t.d).toBe('DATE')
      expect(t.bin).toBe('BLOB')
      await con.run(`SET TimeZone='UTC'`)
      const rows = (await con.runAndReadAll(`SELECT id, u64::VARCHAR, i64::VARCHAR, dec38::VARCHAR, dt::VARCHAR, d::VARCHAR, ts::VARCHAR, hex(bin), txt FROM read_parquet('${file}') ORDER BY id`)).getRowsJson()
      expect(rows.length, JSON.stringify(rows)).toBe(ROWS.length)
      expect([String(rows[0]![0]), ...rows[0]!.slice(1)]).toEqual(['1', '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', '2024-02-29 23:59:59.999999', '0001-01-01', '2038-01-19 03:14:07.499999+00', '00FF005C0A', '😀 中文 ü'])
      expect(rows[1]!.slice(1, 7)).toEqual(['0', '9223372036854775807', '0.0000000001', '1000-01-01 00:00:00', '9999-12-31', '1970-01-01 00:00:01+00'])
      expect(rows[2]!.slice(1)).toEqual([null, null, null, null, null, null, null, null])
      con.closeSync()
      const tgt = await target(to, `pq_${from}`, false)
      await run(files, cfg(to, tgt), { tables: [{ source: 'edge-*.parquet', target: 'edge' }], reader: { connection: files } }, `ffid-pq-r-${from}`)
      await check(from, to, tgt, 'Parquet', true)
    })
  }
})
