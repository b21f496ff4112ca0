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
})
