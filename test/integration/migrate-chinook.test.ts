/**
 * Whole-database migration of Chinook in all six directions among MySQL, PostgreSQL and SQLite,
 * through the `sluice migrate` command: every table, counts equal and every value equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { main } from '../../main/cli.js'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { firstDifference, readAll } from '../helpers/compare.js'
import { CHINOOK_SQLITE, dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, loadChinookMysql, loadChinookPg, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const CHINOOK_TABLES = 11
const CHINOOK_ROWS = 15607

type Kind = 'mysql' | 'postgres' | 'sqlite'

describe.skipIf(!ready)('migrate Chinook in six directions', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-mig-'))
  const dataDir = path.join(dir, 'data')
  const mysqlSrc = `sl_mig_${id}_src`
  const pgSrc = `sl_mig_${id}_src`
  const sqliteSrc = path.join(dir, 'chinook.sqlite')
  const dbs: Array<['mysql' | 'postgres', string]> = []

  const url = (kind: Kind, db: string) =>
    kind === 'mysql' ? `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${db}` : kind === 'postgres' ? `postgres://${PG.user}@${PG.host}:${PG.port}/${db}` : `sqlite:${db}`
  const config = (kind: Kind, db: string): ConnectionConfig =>
    kind === 'mysql' ? { kind, ...MYSQL, database: db } : kind === 'postgres' ? { kind, ...PG, database: db } : { kind, path: db }
  const source = (kind: Kind) => (kind === 'mysql' ? mysqlSrc : kind === 'postgres' ? pgSrc : sqliteSrc)

  beforeAll(async () => {
    loadChinookMysql(mysqlSrc)
    loadChinookPg(pgSrc)
    copyFileSync(CHINOOK_SQLITE, sqliteSrc)
    dbs.push(['mysql', mysqlSrc], ['postgres', pgSrc])
  })

  afterAll(async () => {
    for (const [k, db] of dbs) await (k === 'mysql' ? dropMysqlDb(db) : dropPgDb(db))
    rmSync(dir, { recursive: true, force: true })
  })

  const directions: Array<[Kind, Kind]> = [
    ['mysql', 'postgres'],
    ['postgres', 'mysql'],
    ['mysql', 'sqlite'],
    ['sqlite', 'mysql'],
    ['postgres', 'sqlite'],
    ['sqlite', 'postgres'],
  ]

  for (const [from, to] of directions) {
    it(`${from} -> ${to}: every table, every value`, async () => {
      const target = to === 'sqlite' ? path.join(dir, `target-${from}.sqlite`) : `sl_mig_${id}_${from.slice(0, 2)}`
      if (to === 'mysql') dbs.push(['mysql', await freshMysqlDb(target)])
      if (to === 'postgres') dbs.push(['postgres', await freshPgDb(target)])
      const code = await main(['node', 'sluice', '--data-dir', dataDir, 'migrate', url(from, source(from)), url(to, target), '--quiet', '--channels', '2'])
      expect(code).toBe(0)

      const src = await openConnector(config(from, source(from)))
      const dst = await openConnector(config(to, target))
      try {
        const tables = (await src.catalog.tables()).filter((t) => t.kind === 'table')
        expect(tables).toHaveLength(CHINOOK_TABLES)
        let total = 0
        for (const t of tables) {
          const meta = await src.catalog.table({ name: t.name })
          const keys = meta.primaryKey.map((k) => meta.columns.findIndex((c) => c.name === k))
          const a = await readAll(src, t.name, undefined, keys)
          const b = await readAll(dst, t.name, undefined, keys)
          expect(b.columns).toEqual(a.columns)
          expect(firstDifference(a.columns, a.rows, b.rows), `${from} -> ${to} table ${t.name}`).toBeUndefined()
          total += a.rows.length
          // The primary key came along.
          expect((await dst.catalog.table({ name: t.name })).primaryKey).toEqual(meta.primaryKey)
        }
        expect(total).toBe(CHINOOK_ROWS)
        // Secondary indexes and foreign keys follow the data.
        const track = await dst.catalog.table({ name: from === 'postgres' ? 'track' : 'Track' })
        expect(track.foreignKeys.length).toBe(3)
      } finally {
        await Promise.allSettled([src.close(), dst.close()])
      }
    })
  }
})
