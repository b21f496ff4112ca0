/**
 * The fidelity suite's edge values (test/integration/fidelity.test.ts) as a fixture for the file
 * tests: a table `edge` created by plain SQL in MySQL, PostgreSQL or SQLite, and a check that a
 * target's `edge` holds every expected canonical value.
 */
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { expect } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { Value } from '../../main/core/types.js'
import { readAll, sameValue, show } from './compare.js'
import { MYSQL, PG } from './servers.js'

export type DbKind = 'mysql' | 'postgres' | 'sqlite'
export const EDGE_COLS = ['id', 'u64', 'i64', 'dec38', 'txt', 'body', 'bin', 'dt', 'd', 'ts', 'f', 'j', 'b'] as const

/** Expected canonical values (ts in UTC with its offset). Row 4 spells NULL-like text. */
export const EDGE_ROWS: Value[][] = [
  [1, '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', '😀 中文 ü', 'tab\there\nnew\\line\rcr', Buffer.from([0, 0xff, 0, 0x5c, 0x0a]), '2024-02-29 23:59:59.999999', '0001-01-01', '2038-01-19 03:14:07.499999+00:00', 0.1, '{"a": [1, 2], "b": "ü"}', true],
  [2, '0', '9223372036854775807', '0.0000000001', '', 'x', Buffer.alloc(0), '1000-01-01 00:00:00', '9999-12-31', '1970-01-01 00:00:01+00:00', -1.7976931348623157e308, '[]', false],
  [3, null, null, null, null, null, null, null, null, null, null, null, null],
  [4, '1', '1', '1.0000000000', '\\N', 'NULL', Buffer.from('\\N'), '2000-01-01 00:00:00.5', '2000-01-01', '2000-01-01 00:00:00+00:00', 1e-300, '{}', true],
]

export const EDGE_DDL: Record<DbKind, string> = {
  mysql: `CREATE TABLE edge (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(100) NULL, body TEXT NULL, bin BLOB NULL, dt DATETIME(6) NULL, d DATE NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, f DOUBLE NULL, j JSON NULL, b BOOLEAN NULL) DEFAULT CHARSET=utf8mb4`,
  postgres: `CREATE TABLE edge (id int PRIMARY KEY, u64 numeric(20,0), i64 bigint, dec38 numeric(38,10), txt varchar(100), body text, bin bytea, dt timestamp(6), d date, ts timestamptz(6), f double precision, j jsonb, b boolean)`,
  sqlite: `CREATE TABLE edge (id INTEGER PRIMARY KEY, u64 DECIMAL_TEXT(20,0), i64 BIGINT, dec38 DECIMAL_TEXT(38,10), txt VARCHAR(100), body TEXT, bin BLOB, dt DATETIME, d DATE, ts TIMESTAMPTZ, f REAL, j JSON, b BOOLEAN)`,
}

/** Settings of database `db` of a kind (SQLite: `db` is the file). */
export function dbConfig(kind: DbKind, db: string): ConnectionConfig {
  return kind === 'mysql' ? { kind, ...MYSQL, database: db } : kind === 'postgres' ? { kind, ...PG, database: db } : { kind, path: db }
}

/** Create `edge` in an existing database (or SQLite file), optionally with the rows. */
export async function createEdge(kind: DbKind, db: string, withRows: boolean): Promise<void> {
  if (kind === 'mysql') {
    const my = await mysql.createConnection({ ...MYSQL, database: db, charset: 'utf8mb4', timezone: '+00:00' })
    await my.query("SET time_zone = '+00:00'")
    await my.query(EDGE_DDL.mysql)
    if (withRows)
      for (const r of EDGE_ROWS) {
        const v = r.map((x, i) => (EDGE_COLS[i] === 'ts' && typeof x === 'string' ? x.replace('+00:00', '') : x))
        await my.query(`INSERT INTO edge VALUES (${v.map(() => '?').join(',')})`, v)
      }
    await my.end()
  } else if (kind === 'postgres') {
    const c = new pg.Client({ ...PG, database: db })
    await c.connect()
    await c.query(EDGE_DDL.postgres)
    if (withRows) for (const r of EDGE_ROWS) await c.query(`INSERT INTO edge VALUES (${r.map((_, i) => `$${i + 1}`).join(',')})`, r as unknown[])
    await c.end()
  } else {
    const s = new Database(db)
    s.exec(EDGE_DDL.sqlite)
    if (withRows) {
      const ins = s.prepare(`INSERT INTO edge VALUES (${EDGE_COLS.map(() => '?').join(',')})`)
      for (const r of EDGE_ROWS) ins.run(...r.map((x, i) => (typeof x === 'boolean' ? (x ? 1 : 0) : EDGE_COLS[i] === 'i64' && typeof x === 'string' ? BigInt(x) : x)))
    }
    s.close()
  }
}

/**
 * Check that `edge` in the target holds every expected value. `created`: the target table was
 * created by Sluice (a created MySQL column for a timestamptz is DATETIME holding UTC, as in the
 * direct migration; a pre-created TIMESTAMP reads back with its offset).
 */
export async function checkEdge(from: DbKind, to: DbKind, target: string, via: string, created: boolean): Promise<void> {
  const dst = await openConnector(dbConfig(to, target))
  try {
    const { columns, rows } = await readAll(dst, 'edge')
    expect(columns).toEqual([...EDGE_COLS])
    expect(rows.length).toBe(EDGE_ROWS.length)
    for (let r = 0; r < EDGE_ROWS.length; r++) {
      for (let c = 0; c < EDGE_COLS.length; c++) {
        let want: Value = EDGE_ROWS[r]![c]!
        const got: Value = rows[r]![c]!
        if (EDGE_COLS[c] === 'b' && from === 'mysql') want = want === null ? null : want ? 1 : 0
        if (EDGE_COLS[c] === 'ts' && to === 'mysql' && created && typeof want === 'string') want = want.replace('+00:00', '')
        if (EDGE_COLS[c] === 'j' && typeof want === 'string' && typeof got === 'string') {
          expect(JSON.parse(got), `${via} ${EDGE_COLS[c]} row ${r}`).toEqual(JSON.parse(want))
          continue
        }
        expect(sameValue(got, want), `${from} -> ${via} -> ${to} row ${r + 1} column ${EDGE_COLS[c]}: got ${show(got)}, want ${show(want)}`).toBe(true)
      }
    }
  } finally {
    await dst.close()
  }
}
