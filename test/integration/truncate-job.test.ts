/**
 * Truncate before load for a whole-database job (issue 14, item 2): Chinook (SQLite source, with
 * its foreign keys) into PostgreSQL, MariaDB and SQLite, run twice with `writer.truncate` on. The
 * second run must truncate every target table at once (PostgreSQL refuses a referenced table
 * truncated alone; InnoDB refuses any referenced table) and load them all again. A table referenced
 * from outside the job makes the run fail before anything is truncated: never half-applied.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { CHINOOK_COUNTS, CHINOOK_SQLITE, dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

describe.skipIf(!ready)('truncate before load, whole database', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-trunc-'))
  const store = openStore({ dataDir: dir })
  const cleanup: Array<() => Promise<void>> = []

  afterAll(async () => {
    store.close()
    for (const c of cleanup) await c().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  const job = (writer: ConnectionConfig) => ({
    version: 1,
    reader: { connection: { kind: 'sqlite', path: CHINOOK_SQLITE } },
    writer: { connection: writer, truncate: true, createTable: true },
    tables: { include: '*' },
    setting: { speed: { channel: 2 } },
  })

  const run = async (writer: ConnectionConfig) => startRun({ store, spec: job(writer), channels: 2 }).done

  const counts = async (writer: ConnectionConfig): Promise<Record<string, number>> => {
    const c = await openConnector(writer)
    try {
      const out: Record<string, number> = {}
      for (const t of Object.keys(CHINOOK_COUNTS)) out[t] = await c.count({ name: t })
      return out
    } finally {
      await c.close()
    }
  }

  const targets: Array<[string, () => Promise<ConnectionConfig>]> = [
    ['postgres', async () => {
      const db = await freshPgDb(`sl_trunc_${id}`)
      cleanup.push(() => dropPgDb(db))
      return { kind: 'postgres', ...PG, database: db }
    }],
    ['mysql', async () => {
      const db = await freshMysqlDb(`sl_trunc_${id}`)
      cleanup.push(() => dropMysqlDb(db))
      return { kind: 'mysql', ...MYSQL, database: db }
    }],
    ['sqlite', async () => ({ kind: 'sqlite', path: path.join(dir, 'target.sqlite') })],
  ]

  for (const [kind, make] of targets) {
    it(`${kind}: a second run with truncate empties every table at once and reloads them`, async () => {
      const writer = await make()
      const first = await run(writer)
      expect(first.state, first.error).toBe('succeeded')
      // The first run created the tables with their foreign keys.
      const c = await openConnector(writer)
      const track = await c.catalog.table({ name: 'Track' })
      await c.close()
      expect(track.foreignKeys.length).toBe(3)
      const second = await run(writer)
      expect(second.state, second.error).toBe('succeeded')
      expect(second.tasks).toHaveLength(11)
      expect(await counts(writer)).toEqual(CHINOOK_COUNTS)
    }, 180_000)
  }

  it('postgres: a table referenced from outside the job fails the run before any table is truncated', async () => {
    const db = await freshPgDb(`sl_trunc_${id}_out`)
    cleanup.push(() => dropPgDb(db))
    const writer: ConnectionConfig = { kind: 'postgres', ...PG, database: db }
    expect((await run(writer)).state).toBe('succeeded')
    const c = new pg.Client({ ...PG, database: db })
    await c.connect()
    await c.query('CREATE TABLE outside_ref (genre integer REFERENCES "Genre" ("GenreId"))')
    await c.end()
    const second = await run(writer)
    expect(second.state).toBe('failed')
    // The database's message names the constraint and the hint is kept.
    expect(second.error).toMatch(/truncate before load failed/)
    expect(second.error).toMatch(/outside_ref/)
    expect(second.error).toMatch(/hint: Truncate table "outside_ref" at the same time/)
    // Nothing was truncated: every table still holds the first run's rows, and no row was loaded twice.
    expect(await counts(writer)).toEqual(CHINOOK_COUNTS)
  }, 180_000)
})
