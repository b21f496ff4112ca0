/**
 * A new PostgreSQL table that several channels load at once gets its primary key after the data
 * (main/engine/run.ts deferKey, DdlPlan.primaryKeyAfterData): the key is there at the end, under the
 * name PostgreSQL gives an inline one, before the foreign keys that reference it; a resumed task
 * whose key was already built does not warn; and the rule keeps the key inline wherever its
 * values are not known to be distinct (one split, SQLite, a querySql read, a mapped or formatted
 * key, an existing target, upserts, duplicate detection).
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import { buildDdl } from '../../main/connectors/postgres/ddl.js'
import { createSchemaObjects } from '../../main/engine/schema-objects.js'
import { deferKey, redoPlan } from '../../main/engine/run.js'
import type { PlannedTask } from '../../main/engine/plan.js'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, mysqlUrl, PG, pgUrl, serversReady, uniq, until } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const ROWS = 60_000

describe('primary key after the data: the rule', () => {
  const table = {
    name: 'big',
    columns: [
      { name: 'id', ordinal: 1, type: { kind: 'int', bits: 64 }, nativeType: 'bigint', nullable: false },
      { name: 'v', ordinal: 2, type: { kind: 'text' }, nativeType: 'text', nullable: true },
    ],
    primaryKey: ['id'],
    indexes: [],
    foreignKeys: [],
  } as never
  const ddl = buildDdl(table, { name: 'big' }, 'public')
  const task = (over: Partial<PlannedTask> = {}): PlannedTask =>
    ({
      taskId: 'big',
      read: { table: { name: 'big' } },
      sourceSchema: table,
      targetSchema: table,
      target: { name: 'big' },
      targetExists: false,
      ddl,
      ops: [
        { kind: 'column', index: 0, sourceName: 'id', targetName: 'id' },
        { kind: 'column', index: 1, sourceName: 'v', targetName: 'v' },
      ],
      writeMode: 'insert',
      ...over,
    }) as PlannedTask

  it('offers the table without its inline key and the ALTER that adds it', () => {
    expect(ddl.create[0]).toContain('PRIMARY KEY ("id")')
    expect(ddl.primaryKeyAfterData!.create[0]).not.toContain('PRIMARY KEY')
    expect(ddl.primaryKeyAfterData!.add).toBe('ALTER TABLE "public"."big" ADD PRIMARY KEY ("id")')
    // A key column with a type override may map two source keys to one value: no variant.
    expect(buildDdl(table, { name: 'big' }, 'public', { id: 'integer' }).primaryKeyAfterData).toBeUndefined()
  })

  it('defers only for several splits of a server table carried as is into a new table', () => {
    expect(deferKey(task(), 4, 'mysql', false)).toBe(true)
    expect(deferKey(task(), 4, 'postgres', false)).toBe(true)
    expect(deferKey(task(), 1, 'mysql', false)).toBe(false)
    expect(deferKey(task(), 4, 'sqlite', false)).toBe(false)
    expect(deferKey(task(), 4, 'mysql', true)).toBe(false)
    expect(deferKey(task({ writeMode: 'update' }), 4, 'mysql', false)).toBe(false)
    expect(deferKey(task({ targetExists: true }), 4, 'mysql', false)).toBe(false)
    expect(deferKey(task({ read: { table: { name: 'big' }, querySql: 'SELECT 1' } } as never), 4, 'mysql', false)).toBe(false)
    expect(deferKey(task({ read: { table: { name: 'big' }, where: 'id > 5' } } as never), 4, 'mysql', false)).toBe(false)
    const renamedKey = task({ ops: [{ kind: 'column', index: 1, sourceName: 'v', targetName: 'id' }, { kind: 'column', index: 0, sourceName: 'id', targetName: 'v' }] as never })
    expect(deferKey(renamedKey, 4, 'mysql', false)).toBe(false)
    const formatted = task({ ops: [{ kind: 'column', index: 0, sourceName: 'id', targetName: 'id', timeFormat: { from: 'yyyy' } }, { kind: 'column', index: 1, sourceName: 'v', targetName: 'v' }] as never })
    expect(deferKey(formatted, 4, 'mysql', false)).toBe(false)
  })
})

describe('primary key after the data: redo plans', () => {
  it('refuses a redo that would upsert by a key not built yet (another run wrote the table)', () => {
    const writer = { kind: 'postgres', quoteTable: () => '"public"."big"', quoteIdent: (x: string) => `"${x}"` } as never
    const plan = { taskId: 'big', read: { table: { name: 'big' } }, target: { name: 'big' }, writeMode: 'insert', keyColumns: ['id'], ops: [] } as never
    const split = { index: 1, read: { table: { name: 'big' } }, range: { column: 'id', lower: 10, upper: 20, lowerInclusive: true, upperInclusive: false } } as never
    const add = 'ALTER TABLE "public"."big" ADD PRIMARY KEY ("id")'
    const r = redoPlan({ plan, owned: true, intruders: ['other-run'], afterDdl: { indexes: [add], foreignKeys: [], sequences: [] } }, split, writer, 4)
    expect(r.kind).toBe('impossible')
    expect((r as { reason: string }).reason).toMatch(/has no key yet \(it is built after the data\)/)
    // With the key inline, the same redo upserts by it.
    expect(redoPlan({ plan, owned: true, intruders: ['other-run'], afterDdl: { indexes: [], foreignKeys: [], sequences: [] } }, split, writer, 4).kind).toBe('upsert')
  })
})

describe.skipIf(!ready)('primary key after the data: MySQL -> PostgreSQL', () => {
  const id = uniq()
  const src = `sl_kad_${id}`
  const dst = `sl_kad_${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-kad-'))

  beforeAll(async () => {
    await Promise.all([freshMysqlDb(src), freshPgDb(dst)])
    const c = await mysql.createConnection({ ...MYSQL, database: src, multipleStatements: true })
    await c.query(
      `CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, code VARCHAR(20) NOT NULL, KEY ix_code (code)) ENGINE=InnoDB;
       INSERT INTO big SELECT seq, CONCAT('c', seq % 1000) FROM seq_1_to_${ROWS};
       CREATE TABLE child (id INT NOT NULL PRIMARY KEY, big_id BIGINT NOT NULL, CONSTRAINT fk_child_big FOREIGN KEY (big_id) REFERENCES big(id)) ENGINE=InnoDB;
       INSERT INTO child SELECT seq, seq * 7 FROM seq_1_to_100;
       ANALYZE TABLE big, child;`,
    )
    await c.end()
  }, 60_000)

  afterAll(async () => {
    await Promise.all([dropMysqlDb(src), dropPgDb(dst)])
    rmSync(dir, { recursive: true, force: true })
  })

  it('builds the key after the data, before the foreign key that needs it, with the inline name', async () => {
    const store = openStore({ dataDir: dir })
    try {
      const h = startRun({
        store,
        spec: { version: 1, reader: { connection: mysqlUrl(src) }, writer: { connection: pgUrl(dst), createTable: true }, tables: { include: '*' }, setting: { speed: { channel: 2 } } },
      })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(ROWS + 100)
      const logs = store.logs.tail(h.runId, { limit: 1000 }).map((l) => l.message)
      expect(logs.some((m) => /big: primary key built after the data/.test(m))).toBe(true)
      expect(logs.some((m) => /child: primary key built after the data/.test(m))).toBe(false)
    } finally {
      store.close()
    }
    const p = new pg.Client({ ...PG, database: dst })
    await p.connect()
    try {
      const keys = await p.query(`SELECT conrelid::regclass::text AS t, conname, contype FROM pg_constraint WHERE contype IN ('p', 'f') AND connamespace = 'public'::regnamespace ORDER BY 1, 2`)
      expect(keys.rows).toEqual([
        { t: 'big', conname: 'big_pkey', contype: 'p' },
        { t: 'child', conname: 'child_pkey', contype: 'p' },
        { t: 'child', conname: 'fk_child_big', contype: 'f' },
      ])
      const n = await p.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM big`)
      expect(n.rows[0]).toEqual({ n: ROWS, d: ROWS })
      const ix = await p.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'big'`)
      expect(ix.rows[0].n).toBe(2)

      // A resumed task runs its after-data statements against what the target already has: the
      // key built before the kill is recognised, not reported as refused.
      const w = await openConnector({ kind: 'postgres', ...PG, database: dst })
      try {
        const warnings = await createSchemaObjects(w, ['ALTER TABLE "public"."big" ADD PRIMARY KEY ("id")'], 'big', undefined, { target: { name: 'big' } })
        expect(warnings).toEqual([])
        // Without the resume context, the same statement is refused and says so.
        const fresh = await createSchemaObjects(w, ['ALTER TABLE "public"."big" ADD PRIMARY KEY ("id")'], 'big')
        expect(fresh).toHaveLength(1)
        expect(fresh[0]).toMatch(/^big: primary key not created: .*multiple primary keys/)
      } finally {
        await w.close()
      }
    } finally {
      await p.end()
    }
  }, 120_000)

  it('a run terminated mid-load resumes to every row once, and the key is built at the end', async () => {
    const store = openStore({ dataDir: dir })
    try {
      // Throttled (about 3 s for the table) so the terminate lands mid-load.
      const spec = { version: 1, reader: { connection: mysqlUrl(src) }, writer: { connection: pgUrl(dst), createTable: true }, tables: [{ source: 'big', target: 'big_resumed' }], setting: { speed: { channel: 2, record: 20_000 } } }
      const h = startRun({ store, spec })
      await until(() => store.splits.doneSplits(h.runId, 'big').length >= 1, 'a split done')
      h.cancel()
      const s1 = await h.done
      expect(s1.state).toBe('terminated')
      const p1 = await pgRows(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'big_resumed'::regclass AND contype = 'p'`)
      expect(p1[0]!.n).toBe(0) // no key yet: it comes after the data
      const s2 = await startRun({ store, resumeRunId: h.runId }).done
      expect(s2.error).toBeUndefined()
      expect(s2.state).toBe('succeeded')
    } finally {
      store.close()
    }
    expect(await pgRows(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM big_resumed`)).toEqual([{ n: ROWS, d: ROWS }])
    expect(await pgRows(`SELECT conname FROM pg_constraint WHERE conrelid = 'big_resumed'::regclass AND contype = 'p'`)).toEqual([{ conname: 'big_resumed_pkey' }])
  }, 120_000)

  async function pgRows(sql: string): Promise<Array<Record<string, unknown>>> {
    const p = new pg.Client({ ...PG, database: dst })
    await p.connect()
    try {
      return (await p.query(sql)).rows
    } finally {
      await p.end()
    }
  }
})
