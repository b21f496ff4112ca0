import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../main/store/index.js'
import { appliedMigrations, checkMigrations, migrate, MIGRATIONS, type Migration } from '../../main/store/migrate.js'
import { StoreError } from '../../main/store/errors.js'
import { tempDir } from './store-fixtures.js'

const dir = tempDir('migrate')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('migrations', () => {
  it('apply once and are idempotent on reopen', () => {
    const d = path.join(dir, 'a')
    const file = path.join(dir, 'a.db')
    let s = openStore({ dataDir: d, file })
    expect(s.appliedMigrations).toEqual(MIGRATIONS.map((m) => m.id))
    s.settings.set('theme', 'dark')
    s.close()
    s = openStore({ dataDir: d, file })
    expect(s.appliedMigrations).toEqual([])
    expect(s.settings.get('theme')).toBe('dark')
    s.close()
    const db = new Database(file)
    expect(appliedMigrations(db)).toEqual(MIGRATIONS.map((m) => m.id))
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('applies only the new ones, in order, and records them', () => {
    const db = new Database(':memory:')
    const order: string[] = []
    const m = (id: string): Migration => ({ id, up: (d) => (order.push(id), d.exec(`CREATE TABLE "${id}" (x)`)) })
    expect(migrate(db, [m('2026-01-01-001-a')])).toEqual(['2026-01-01-001-a'])
    expect(migrate(db, [m('2026-01-01-001-a'), m('2026-01-02-001-b'), m('2026-01-02-002-c')])).toEqual(['2026-01-02-001-b', '2026-01-02-002-c'])
    expect(order).toEqual(['2026-01-01-001-a', '2026-01-02-001-b', '2026-01-02-002-c'])
    expect(appliedMigrations(db)).toEqual(['2026-01-01-001-a', '2026-01-02-001-b', '2026-01-02-002-c'])
    db.close()
  })

  it('rolls back a failing migration entirely and names it', () => {
    const db = new Database(':memory:')
    const bad: Migration = {
      id: '2026-01-03-001-bad',
      up: (d) => {
        d.exec('CREATE TABLE half (x)')
        throw new Error('boom')
      },
    }
    const err = (() => {
      try {
        migrate(db, [bad])
      } catch (e) {
        return e as StoreError
      }
    })()
    expect(err).toBeInstanceOf(StoreError)
    expect(err!.code).toBe('MIGRATION_FAILED')
    expect(err!.message).toBe('migration 2026-01-03-001-bad failed and was rolled back: boom')
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'`).get()).toEqual({ n: 0 })
    expect(appliedMigrations(db)).toEqual([])
    db.close()
  })

  it('refuses a DB with a migration newer than the code, naming the id', () => {
    const d = path.join(dir, 'b')
    const file = path.join(dir, 'b.db')
    openStore({ dataDir: d, file }).close()
    const db = new Database(file)
    db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run('2099-01-01-001-future', '2099-01-01T00:00:00.000Z')
    db.close()
    let err: StoreError | undefined
    try {
      openStore({ dataDir: d, file })
    } catch (e) {
      err = e as StoreError
    }
    expect(err).toBeInstanceOf(StoreError)
    expect(err!.code).toBe('SCHEMA_TOO_NEW')
    expect(err!.message).toBe(
      'the state DB was written by a newer version of Sluice: it has migration 2099-01-01-001-future which this version does not know ' +
        `(its latest is ${MIGRATIONS.at(-1)!.id}). Upgrade Sluice, or use another --data-dir.`,
    )
    // Nothing was changed.
    const db2 = new Database(file)
    expect(appliedMigrations(db2)).toEqual([...MIGRATIONS.map((m) => m.id), '2099-01-01-001-future'])
    db2.close()
  })

  it('checks the list is well-formed and ordered', () => {
    expect(() => checkMigrations(MIGRATIONS)).not.toThrow()
    const up = (): void => {}
    expect(() => checkMigrations([{ id: '2026-01-02-001-b', up }, { id: '2026-01-01-001-a', up }])).toThrow('migration 2026-01-01-001-a is not after 2026-01-02-001-b')
    expect(() => checkMigrations([{ id: 'init', up }])).toThrow('migration id "init" is not YYYY-MM-DD-NNN-slug')
  })

  it('runs a disableForeignKeys migration with foreign keys off and restores them', () => {
    const db = new Database(':memory:')
    db.pragma('foreign_keys = ON')
    let seen: unknown
    migrate(db, [{ id: '2026-01-01-001-rebuild', disableForeignKeys: true, up: (d) => (seen = d.pragma('foreign_keys', { simple: true })) }])
    expect(seen).toBe(0)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    db.close()
  })
})
