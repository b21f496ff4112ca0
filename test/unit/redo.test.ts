/**
 * The redo rule (main/engine/redo.ts): which rows a retried or resumed split may remove.
 */
import { describe, expect, it } from 'vitest'
import type { Connector } from '../../main/connectors/types.js'
import type { PlannedTask } from '../../main/engine/plan.js'
import { rewriteWhere, safeRedoPlan, type TargetFilter } from '../../main/engine/redo.js'
import { ddlObjectName } from '../../main/engine/schema-objects.js'
import { maskSpec, sealSpec, unsealSpec } from '../../main/job/secrets.js'
import { sqliteRefusal } from '../../main/api/sqlguard.js'

const pgWriter = {
  kind: 'postgres',
  quoteIdent: (s: string) => `"${s.replace(/"/g, '""')}"`,
  quoteTable: (t: { name: string }) => `"public"."${t.name}"`,
} as unknown as Connector

function task(opts: { where?: string; key?: boolean; nullDefaultOn?: string; writeMode?: 'insert' | 'update' } = {}): PlannedTask {
  const col = (name: string, target = name, kind: 'int' | 'string' = 'string') => ({
    kind: 'column' as const,
    index: 0,
    sourceName: name,
    targetName: target,
    sourceType: kind === 'int' ? ({ kind: 'int', bits: 64 } as const) : ({ kind: 'string' } as never),
    ...(opts.nullDefaultOn === name ? { nullDefault: 'x' } : {}),
  })
  return {
    index: 0,
    taskId: 'orders',
    path: '$.tables[0]',
    read: { table: { name: 'orders' }, ...(opts.where ? { where: opts.where } : {}) },
    sourceColumns: [{ name: 'id' }, { name: 'Status' }, { name: 'note' }, { name: 'secret' }] as never,
    target: { name: 'orders' },
    targetExists: true,
    targetColumns: [],
    ops: [col('id', 'id', 'int'), col('Status', 'state'), col('note')],
    writeMode: opts.writeMode ?? 'insert',
    ...(opts.key ? { keyColumns: ['id'] } : {}),
    truncate: true,
    preSql: [],
    postSql: [],
  }
}

const split = { index: 1, read: { table: { name: 'orders' } }, range: { column: 'id', lower: 100, upper: 200 } }

describe('rewriteWhere: a source where on the target', () => {
  const rw = (where: string, reader: 'mysql' | 'postgres' = 'mysql', t = task()) => rewriteWhere(where, t, reader, pgWriter.quoteIdent, 'postgres')
  it('renames columns to their quoted target names, leaves literals, keywords and functions', () => {
    expect(rw("status IN ('new', 'status') AND lower(note) LIKE 'a%'")).toEqual({ kind: 'sql', sql: `"state" IN ('new', 'status') AND lower("note") LIKE 'a%'` })
    expect(rw('`Status` = "paid"')).toEqual({ kind: 'sql', sql: `"state" = 'paid'` }) // MySQL: "..." is a string
    expect(rw('"Status" = \'paid\'', 'postgres')).toEqual({ kind: 'sql', sql: `"state" = 'paid'` })
  })
  it('refuses what it cannot trust on the target', () => {
    const why = (f: TargetFilter) => (f.kind === 'opaque' ? f.reason : f.kind)
    expect(why(rw('o.status = 1'))).toMatch(/qualified/)
    expect(why(rw('secret = 1'))).toMatch(/not copied/)
    expect(why(rw('note = 1', 'mysql', task({ nullDefaultOn: 'note' })))).toMatch(/changed on its way/)
    expect(why(rw("note = 'a\\'b'"))).toMatch(/backslash/)
    expect(why(rw("note = 'open"))).toMatch(/unterminated/)
  })
})

describe('safeRedoPlan: a redo removes only the task own rows', () => {
  const sql: TargetFilter = { kind: 'sql', sql: `"state" = 'new'` }
  it('update / replace need nothing', () => {
    expect(safeRedoPlan({ plan: task({ writeMode: 'update' }), owned: true }, split, pgWriter, 4)).toEqual({ kind: 'none' })
  })
  it('a filtered task into a keyed target upserts, never deletes', () => {
    expect(safeRedoPlan({ plan: task({ where: "status = 'new'", key: true }), owned: true, filter: sql }, split, pgWriter, 4)).toEqual({ kind: 'upsert' })
  })
  it('a filtered task into a key-less owned target deletes its range AND its where', () => {
    expect(safeRedoPlan({ plan: task({ where: "status = 'new'" }), owned: true, filter: sql }, split, pgWriter, 4)).toEqual({
      kind: 'delete',
      sql: `DELETE FROM "public"."orders" WHERE ("id" >= $1 AND "id" < $2) AND ("state" = 'new')`,
      params: ['100', '200'],
    })
  })
  it('an opaque where without a key is refused with the reason', () => {
    const p = safeRedoPlan({ plan: task({ where: 'f(x)' }), owned: true, filter: { kind: 'opaque', reason: 'the where cannot be evaluated on the target (boom)' } }, split, pgWriter, 4)
    expect(p.kind).toBe('impossible')
    expect((p as { reason: string }).reason).toMatch(/cannot be evaluated on the target \(boom\), and orders has no key: a redo could remove rows other jobs wrote/)
  })
  it('a whole-table task deletes its range only while no other run wrote the target', () => {
    expect(safeRedoPlan({ plan: task(), owned: true }, split, pgWriter, 4).kind).toBe('delete')
    expect(safeRedoPlan({ plan: task({ key: true }), owned: true, intruders: ['r2'] }, split, pgWriter, 4)).toEqual({ kind: 'upsert' })
    const p = safeRedoPlan({ plan: task(), owned: true, intruders: ['r2'] }, split, pgWriter, 4)
    expect(p.kind).toBe('impossible')
    expect((p as { reason: string }).reason).toMatch(/written by run r2 since this run started/)
  })
})

describe('ddlObjectName: the object a generated DDL statement creates', () => {
  it('reads index and foreign key names, quoted either way', () => {
    expect(ddlObjectName('CREATE UNIQUE INDEX "orders_status" ON "public"."orders" ("status")', 'index')).toBe('orders_status')
    expect(ddlObjectName('CREATE INDEX "main"."ix ""q""" ON "t" ("a")', 'index')).toBe('ix "q"')
    expect(ddlObjectName('CREATE INDEX `k_idx` ON `db`.`t` (`k`)', 'index')).toBe('k_idx')
    expect(ddlObjectName('ALTER TABLE "t" ADD CONSTRAINT "fk_a" FOREIGN KEY ("a") REFERENCES "public"."p" ("id")', 'foreignKey')).toBe('fk_a')
  })
})

describe('spec secrets', () => {
  it('masks URL and field passwords by path and puts them back', () => {
    const doc = { reader: { connection: 'mysql://u:p%40ss@h:3306/db' }, writer: { connection: { kind: 'postgres', user: 'u', password: 'pw' } } }
    const { masked, secrets } = sealSpec(doc)
    expect(masked).toEqual({ reader: { connection: 'mysql://u:********@h:3306/db' }, writer: { connection: { kind: 'postgres', user: 'u', password: '********' } } })
    expect(secrets).toEqual({ '$.reader.connection': 'p%40ss', '$.writer.connection.password': 'pw' })
    expect(unsealSpec(masked, secrets)).toEqual(doc)
    expect(maskSpec(doc)).toEqual(masked)
  })
})

describe('sqliteRefusal', () => {
  it('refuses ATTACH, VACUUM INTO, load_extension, not the words in literals', () => {
    const cfg = { kind: 'sqlite' as const, path: '/tmp/x.db' }
    expect(sqliteRefusal(cfg, "attach '/etc/passwd' as p", '/tmp/state.db')).toMatch(/ATTACH/)
    expect(sqliteRefusal(cfg, "VACUUM main INTO '/tmp/c.db'", '/tmp/state.db')).toMatch(/VACUUM INTO/)
    expect(sqliteRefusal(cfg, "select load_extension ('x')", '/tmp/state.db')).toMatch(/load_extension/)
    expect(sqliteRefusal(cfg, "select 'attach', \"vacuum into\" from t -- attach", '/tmp/state.db')).toBeUndefined()
    expect(sqliteRefusal({ kind: 'sqlite', path: '/tmp/state.db' }, 'select 1', '/tmp/state.db')).toMatch(/state DB/)
  })
})

describe('specs stored before sealing', () => {
  it('are sealed once when the store opens: no clear password left, the run still has it in memory', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const os = await import('node:os')
    const path = await import('node:path')
    const { openStore } = await import('../../main/store/index.js')
    const { SEALED_KEY } = await import('../../main/store/sealspecs.js')
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-seal-'))
    try {
      let store = openStore({ dataDir: dir })
      const run = store.runs.create({ name: 'old', spec: { version: 1 } })
      store.close()
      // As an older Sluice left it: the password in clear, no secrets column, the pass not run.
      const Database = (await import('better-sqlite3')).default
      const db = new Database(path.join(dir, 'sluice.db'))
      db.prepare('UPDATE runs SET spec = ? WHERE id = ?').run(JSON.stringify({ version: 1, writer: { connection: 'postgres://u:OldClear-99@h/db' } }), run.id)
      db.prepare('DELETE FROM store_passes WHERE name = ?').run(SEALED_KEY)
      db.close()
      store = openStore({ dataDir: dir })
      const r = store.runs.get(run.id)!
      expect(r.specText).not.toContain('OldClear-99')
      expect(JSON.stringify(r.spec)).toContain('OldClear-99')
      store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
