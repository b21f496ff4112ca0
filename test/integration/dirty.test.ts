/**
 * Dirty records end to end: an over-long value lands in dirty records with its reason and source
 * values while the other rows load; errorLimit 0 stops the run with a clear message; nothing is
 * truncated in the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startRun } from '../../main/engine/service.js'
import { openStore, type Store } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

describe.skipIf(!ready)('dirty records and errorLimit', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-dirty-'))
  const src = path.join(dir, 'src.sqlite')
  const myDb = `sl_dirty_${id}`
  const pgDb = `sl_dirty_${id}`
  let store: Store

  beforeAll(async () => {
    const s = new Database(src)
    s.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50), born DATE)')
    const ins = s.prepare('INSERT INTO people VALUES (?, ?, ?)')
    for (let i = 1; i <= 100; i++) ins.run(i, i === 50 ? 'much too long' : `p${i}`, i === 70 ? '0000-00-00' : '2000-01-01')
    s.close()
    await freshMysqlDb(myDb)
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, born DATE NULL)')
    await my.end()
    await freshPgDb(pgDb)
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query('CREATE TABLE people (id int PRIMARY KEY, name varchar(5) NOT NULL, born date)')
    await c.end()
    store = openStore({ dataDir: dir })
  })

  afterAll(async () => {
    store?.close()
    await dropMysqlDb(myDb)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  const targets = {
    mysql: { kind: 'mysql' as const, ...MYSQL, database: myDb },
    postgres: { kind: 'postgres' as const, ...PG, database: pgDb },
  }

  for (const kind of ['mysql', 'postgres'] as const) {
    it(`${kind}: the bad row is kept with its reason, the others load`, async () => {
      const job = {
        reader: { connection: { kind: 'sqlite', path: src } },
        writer: { connection: targets[kind], truncate: true },
        tables: [{ source: 'people' }],
        setting: { errorLimit: { record: 5 }, speed: { channel: 2 } },
      }
      const h = startRun({ store, spec: job })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsRead).toBe(100)
      expect(s.rowsWritten).toBe(98)
      expect(s.dirty).toBe(2)
      const dirty = store.dirty.list(h.runId)
      expect(dirty).toHaveLength(2)
      const long = dirty.find((d) => d.values[0] === 50)!
      expect(long.columns).toEqual(['id', 'name', 'born'])
      expect(long.values).toEqual([50, 'much too long', '2000-01-01'])
      expect(long.reason).toMatch(/name/)
      const zero = dirty.find((d) => d.values[0] === 70)!
      expect(zero.reason).toMatch(/zero date/)
      expect(zero.code).toBe('ZERO_DATE')
      // Nothing was truncated into the target.
      const names = kind === 'mysql'
        ? ((await (await mysql.createConnection({ ...MYSQL, database: myDb })).query('SELECT name FROM people WHERE id = 50'))[0] as unknown[])
        : (await (async () => { const c = new pg.Client({ ...PG, database: pgDb }); await c.connect(); const r = await c.query('SELECT name FROM people WHERE id = 50'); await c.end(); return r.rows })())
      expect(names).toHaveLength(0)
      expect(store.runs.get(h.runId)!.state).toBe('succeeded')
    })

    it(`${kind}: errorLimit 0 stops the run with a clear message`, async () => {
      const job = {
        reader: { connection: { kind: 'sqlite', path: src } },
        writer: { connection: targets[kind], truncate: true },
        tables: [{ source: 'people' }],
        setting: { errorLimit: { record: 0 } },
      }
      const h = startRun({ store, spec: job })
      const s = await h.done
      expect(s.state).toBe('failed')
      // The 100-row table is one split: its one batch is narrowed to both bad rows (50 and 70) at once.
      expect(s.error).toMatch(/errorLimit exceeded: [12] dirty records?, setting\.errorLimit\.record allows 0/)
      expect(store.runs.get(h.runId)!.state).toBe('failed')
      expect(store.dirty.count(h.runId)).toBeGreaterThanOrEqual(1)
    })
  }
})
