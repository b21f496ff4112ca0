/**
 * Load modes (issue 15): APPEND stamps etl_timestamp with the data time and a rerun of the same
 * data time replaces its own rows (MySQL and PostgreSQL targets, created by Sluice or altered with
 * alterTable); daily time partitions P_YYYYMMDD on MySQL (RANGE COLUMNS) and PostgreSQL
 * (declarative): the data time's partition is created if missing and a rerun truncates only it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startRun } from '../../main/engine/service.js'
import { partitionFor } from '../../main/engine/loadmode.js'
import { openStore, type Store } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

describe('partition names', () => {
  it('P_YYYYMM / P_YYYYMMDD / P_YYYYMMDDHH with their ranges', () => {
    const d = new Date(Date.UTC(2026, 11, 31, 23, 0, 0))
    expect(partitionFor(d, 'month')).toEqual({ name: 'P_202612', lower: '2026-12-01 00:00:00', upper: '2027-01-01 00:00:00' })
    expect(partitionFor(d, 'day')).toEqual({ name: 'P_20261231', lower: '2026-12-31 00:00:00', upper: '2027-01-01 00:00:00' })
    expect(partitionFor(d, 'hour')).toEqual({ name: 'P_2026123123', lower: '2026-12-31 23:00:00', upper: '2027-01-01 00:00:00' })
  })
})

describe.skipIf(!ready)('load modes and time partitions', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-loadmode-'))
  const id = uniq()
  const src = `sl_lm_src_${id}`
  const tgt = `sl_lm_tgt_${id}`
  const pgDb = `sl_lm_${id}`
  let store: Store
  let my: mysql.Connection
  let pgc: pg.Client
  const srcUrl = `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${src}`
  const tgtUrl = `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${tgt}`
  const pgUrl = `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${pgDb}`
  const rows = async (sql: string) => ((await my.query(sql)) as [Array<Record<string, unknown>>, unknown])[0]

  const load = async (writer: Record<string, unknown>, table: string, bizdate: string, target?: string) => {
    const h = startRun({ store, spec: { version: 1, reader: { connection: srcUrl }, writer, tables: [{ source: table, ...(target ? { target } : {}) }] }, bizdate })
    const s = await h.done
    expect(s.state, s.error).toBe('succeeded')
    return s
  }

  beforeAll(async () => {
    await freshMysqlDb(src)
    await freshMysqlDb(tgt)
    await freshPgDb(pgDb)
    my = await mysql.createConnection({ ...MYSQL, database: src })
    await my.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(10,2))')
    await my.query('INSERT INTO items VALUES ?', [Array.from({ length: 50 }, (_, i) => [i + 1, `item ${i + 1}`, `${i}.50`])])
    pgc = new pg.Client({ ...PG, database: pgDb })
    await pgc.connect()
    store = openStore({ dataDir: dir })
  })
  afterAll(async () => {
    store?.close()
    await my?.end()
    await pgc?.end()
    await dropMysqlDb(src)
    await dropMysqlDb(tgt)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  it('APPEND into MySQL: rows stamped with the data time; reruns of the same data time leave no duplicates', async () => {
    const writer = { connection: tgtUrl, loadMode: 'append' }
    await load(writer, 'items', '20261204', 'items_append')
    await load(writer, 'items', '20261204', 'items_append') // rerun
    await load(writer, 'items', '20261205', 'items_append')
    await my.query("UPDATE items SET name = 'renamed' WHERE id = 7")
    await load(writer, 'items', '20261204', 'items_append') // rerun after a source change
    await my.query("UPDATE items SET name = 'item 7' WHERE id = 7")
    const byDay = await rows(`SELECT CAST(etl_timestamp AS CHAR) AS d, count(*) AS n, count(DISTINCT id) AS k FROM \`${tgt}\`.items_append GROUP BY etl_timestamp ORDER BY d`)
    expect(byDay.map((r) => [r.d, Number(r.n), Number(r.k)])).toEqual([
      ['2026-12-04 00:00:00', 50, 50],
      ['2026-12-05 00:00:00', 50, 50],
    ])
    expect((await rows(`SELECT name FROM \`${tgt}\`.items_append WHERE id = 7 ORDER BY etl_timestamp`)).map((r) => r.name)).toEqual(['renamed', 'item 7'])
    // The created table keys (id, etl_timestamp): the same source row once per data time.
    const pk = await rows(`SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = '${tgt}' AND TABLE_NAME = 'items_append' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`)
    expect(pk.map((r) => r.c)).toEqual(['id', 'etl_timestamp'])
  })

  it('APPEND: the delete rides in the first batch: a rerun whose first batch fails leaves the old rows of its data time', async () => {
    const writer = { connection: tgtUrl, loadMode: 'append', etlColumn: 'etl_ts' }
    const spec = { version: 1, reader: { connection: srcUrl }, writer, tables: [{ source: 'items', target: 'items_tx' }], setting: { speed: { channel: 4 } } }
    const s1 = await startRun({ store, spec, bizdate: '20261204' }).done
    expect(s1.state, s1.error).toBe('succeeded')
    // A trigger that fails the statement (SQLSTATE 45000: not a row error, so the batch is not narrowed).
    await my.query(`CREATE TRIGGER \`${tgt}\`.items_tx_boom BEFORE INSERT ON \`${tgt}\`.items_tx FOR EACH ROW BEGIN IF NEW.name = 'boom' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom refused'; END IF; END`)
    await my.query("UPDATE items SET name = 'boom' WHERE id = 1")
    try {
      const s2 = await startRun({ store, spec, bizdate: '20261204' }).done
      expect(s2.state).toBe('failed')
      expect(s2.error).toMatch(/boom refused/)
      // Split 0 (ids from 1) carried the delete and failed: nothing was deleted, and the other
      // splits never wrote (they wait for the first batch).
      const r = await rows(`SELECT count(*) AS n, sum(name = 'item 1') AS old FROM \`${tgt}\`.items_tx WHERE etl_ts = '2026-12-04 00:00:00'`)
      expect(Number(r[0]!.n)).toBe(50)
      expect(Number(r[0]!.old)).toBe(1)
    } finally {
      await my.query(`DROP TRIGGER \`${tgt}\`.items_tx_boom`)
      await my.query("UPDATE items SET name = 'item 1' WHERE id = 1")
    }
    await my.query("UPDATE items SET price = 99 WHERE id = 50")
    const s3 = await startRun({ store, spec, bizdate: '20261204' }).done
    expect(s3.state, s3.error).toBe('succeeded')
    const r = await rows(`SELECT count(*) AS n, count(DISTINCT id) AS k, sum(price = 99) AS p FROM \`${tgt}\`.items_tx`)
    expect([Number(r[0]!.n), Number(r[0]!.k), Number(r[0]!.p)]).toEqual([50, 50, 1])
    await my.query("UPDATE items SET price = 49.50 WHERE id = 50")
  })

  it('TRUNCATE: each load empties the target first (as writer.truncate)', async () => {
    const writer = { connection: tgtUrl, loadMode: 'truncate' }
    await load(writer, 'items', '20261204', 'items_trunc')
    await load(writer, 'items', '20261205', 'items_trunc')
    expect(Number((await rows(`SELECT count(*) AS n FROM \`${tgt}\`.items_trunc`))[0]!.n)).toBe(50)
  })

  it('APPEND into an existing table: refused without alterTable, the column added with it; custom column name', async () => {
    await my.query(`CREATE TABLE \`${tgt}\`.items_old (id INT, name VARCHAR(20), price DECIMAL(10,2))`)
    const h = startRun({ store, spec: { version: 1, reader: { connection: srcUrl }, writer: { connection: tgtUrl, loadMode: 'append', etlColumn: 'loaded_for' }, tables: [{ source: 'items', target: 'items_old' }] }, bizdate: '20261204' })
    const s = await h.done
    expect(s.state).toBe('failed')
    expect(s.error).toMatch(/\$\.writer\.etlColumn: target table 'items_old' has no column 'loaded_for'.*writer\.alterTable: true/)
    const writer = { connection: tgtUrl, loadMode: 'append', etlColumn: 'loaded_for', alterTable: true }
    await load(writer, 'items', '20261204', 'items_old')
    await load(writer, 'items', '20261204', 'items_old')
    const r = await rows(`SELECT CAST(loaded_for AS CHAR) AS d, count(*) AS n FROM \`${tgt}\`.items_old GROUP BY loaded_for`)
    expect(r.map((x) => [x.d, Number(x.n)])).toEqual([['2026-12-04 00:00:00', 50]])
  })

  it('APPEND into PostgreSQL: reruns of the same data time leave no duplicates', async () => {
    const writer = { connection: pgUrl, loadMode: 'append' }
    for (const d of ['20261204', '20261204', '20261205', '20261204']) await load(writer, 'items', d, 'items_append')
    const r = await pgc.query(`SELECT etl_timestamp::text AS d, count(*)::int AS n, count(DISTINCT id)::int AS k FROM items_append GROUP BY 1 ORDER BY 1`)
    expect(r.rows).toEqual([
      { d: '2026-12-04 00:00:00', n: 50, k: 50 },
      { d: '2026-12-05 00:00:00', n: 50, k: 50 },
    ])
  })

  it('daily partitioned MySQL target: the partition is created, a rerun truncates only it, a backfill splits the covering one', async () => {
    const writer = { connection: tgtUrl, loadMode: 'append', partition: { unit: 'day' } }
    await load(writer, 'items', '20261204', 'items_part')
    await load(writer, 'items', '20261205', 'items_part')
    const parts = async () =>
      (await rows(`SELECT PARTITION_NAME AS p, TABLE_ROWS AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = '${tgt}' AND TABLE_NAME = 'items_part' ORDER BY PARTITION_ORDINAL_POSITION`)).map((r) => r.p)
    expect(await parts()).toEqual(['P_20261204', 'P_20261205'])
    const count = async (p: string) => Number((await rows(`SELECT count(*) AS n FROM \`${tgt}\`.items_part PARTITION (${p})`))[0]!.n)
    // A marker row in P_20261205 shows the rerun of 20261204 leaves that partition alone.
    await my.query(`INSERT INTO \`${tgt}\`.items_part (id, name, price, etl_timestamp) VALUES (1000, 'marker', 1, '2026-12-05 00:00:00')`)
    await my.query('DELETE FROM items WHERE id > 40')
    await load(writer, 'items', '20261204', 'items_part')
    expect(await count('P_20261204')).toBe(40)
    expect(await count('P_20261205')).toBe(51)
    // Backfill of an earlier day: cut out of the partition covering it.
    await load(writer, 'items', '20261201', 'items_part')
    expect(await parts()).toEqual(['P_20261201', 'P_20261204', 'P_20261205'])
    expect(await count('P_20261201')).toBe(40)
    expect(await count('P_20261204')).toBe(40)
    const logs = store.logs.tail(store.runs.list({ limit: 2 })[1]!.id, { limit: 100 }).map((l) => l.message)
    expect(logs.some((m) => /truncating partition P_20261204 of items_part/.test(m))).toBe(true)
    await my.query('INSERT INTO items VALUES ?', [Array.from({ length: 10 }, (_, i) => [i + 41, `item ${i + 41}`, `${i + 40}.50`])])
  })

  it('daily partitioned PostgreSQL target: the partition is created, a rerun truncates only it', async () => {
    const writer = { connection: pgUrl, loadMode: 'append', partition: { unit: 'day' } }
    await load(writer, 'items', '20261204', 'items_part')
    await load(writer, 'items', '20261205', 'items_part')
    const parts = async () => (await pgc.query(`SELECT c.relname AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'items_part'::regclass ORDER BY 1`)).rows.map((r) => r.p)
    expect(await parts()).toEqual(['items_part_P_20261204', 'items_part_P_20261205'])
    await pgc.query(`INSERT INTO items_part (id, name, price, etl_timestamp) VALUES (1000, 'marker', 1, '2026-12-05 00:00:00')`)
    await my.query('DELETE FROM items WHERE id > 45')
    await load(writer, 'items', '20261204', 'items_part')
    const n = async (t: string) => Number((await pgc.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n)
    expect(await n('items_part_P_20261204')).toBe(45)
    expect(await n('items_part_P_20261205')).toBe(51)
    expect(await n('items_part')).toBe(96)
  })

  it('partition on an existing unpartitioned table is a clear problem', async () => {
    const h = startRun({ store, spec: { version: 1, reader: { connection: srcUrl }, writer: { connection: tgtUrl, loadMode: 'append', partition: { unit: 'day' } }, tables: [{ source: 'items', target: 'items_append' }] }, bizdate: '20261204' })
    const s = await h.done
    expect(s.state).toBe('failed')
    expect(s.error).toMatch(/\$\.writer\.partition: target table 'items_append' exists and is not partitioned/)
  })
})
