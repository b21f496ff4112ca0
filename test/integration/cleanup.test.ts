/**
 * Source clean-up after a verified run (issue 15): MySQL source, PostgreSQL target. A verified
 * run's rows are deleted from the source in primary-key batches with their history; a clean-up
 * killed mid-way (SIGKILL of `sluice cleanup`) is taken up from its last key and deletes exactly
 * the rows left; an inconsistent run is refused, and forced with a reason that is recorded; a
 * table without a primary key is refused; a dry run counts and shows the SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import Database from 'better-sqlite3'
import { CleanupRefused, cleanupOverview, runCleanup } from '../../main/cleanup/index.js'
import { startRun } from '../../main/engine/service.js'
import { openStore, type Store } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, REPO_ROOT, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!ready)('source clean-up', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-cleanup-'))
  const id = uniq()
  const my = `sl_cln_${id}`
  const pgDb = `sl_cln_${id}`
  let store: Store
  let conn: mysql.Connection
  const myUrl = () => `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${my}`
  const pgUrl = () => `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${pgDb}`
  const count = async (sql: string) => Number(((await conn.query(sql)) as [Array<{ n: number }>, unknown])[0][0]!.n)

  /** `n` rows: even ids on 2026-12-04 (the data time), odd ids on 2026-12-03. */
  const makeTable = async (name: string, n: number, composite = false) => {
    await conn.query(
      composite
        ? `CREATE TABLE \`${name}\` (a INT NOT NULL, b VARCHAR(10) NOT NULL, dt DATE NOT NULL, amount DECIMAL(10,2), PRIMARY KEY (a, b))`
        : `CREATE TABLE \`${name}\` (id BIGINT NOT NULL PRIMARY KEY, dt DATE NOT NULL, amount DECIMAL(10,2))`,
    )
    const rows: unknown[][] = []
    for (let i = 1; i <= n; i++) {
      const dt = i % 2 === 0 ? '2026-12-04' : '2026-12-03'
      rows.push(composite ? [Math.ceil(i / 3), `k${i % 3}`, dt, `${i}.25`] : [i, dt, `${i}.25`])
    }
    await conn.query(`INSERT INTO \`${name}\` VALUES ?`, [rows])
  }

  const spec = (tables: unknown[], extra: Record<string, unknown> = {}) => ({
    version: 1,
    reader: { connection: myUrl(), where: "dt = '${yyyy-mm-dd}'" },
    writer: { connection: pgUrl(), truncate: true },
    tables,
    verify: { algorithm: 'hashdiff' },
    ...extra,
  })

  const run = async (doc: unknown, jobId?: string) => {
    const h = startRun({ store, spec: doc, bizdate: '20261204', ...(jobId ? { jobId } : {}) })
    const s = await h.done
    return { runId: h.runId, summary: s }
  }

  beforeAll(async () => {
    await freshMysqlDb(my)
    await freshPgDb(pgDb)
    conn = await mysql.createConnection({ ...MYSQL, database: my })
    store = openStore({ dataDir: dir })
  })
  afterAll(async () => {
    store?.close()
    await conn?.end()
    await dropMysqlDb(my)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  it('cleans up a verified run in batches, with the history of each batch; dry run first', async () => {
    await makeTable('orders', 1000)
    const doc = spec([{ source: 'orders' }], { name: 'orders daily' })
    const saved = store.jobs.save(doc, { name: 'orders daily' })
    const { runId, summary } = await run(doc, saved.id)
    expect(summary.state, summary.error).toBe('succeeded')
    expect(cleanupOverview(store).find((o) => o.jobId === saved.id)).toMatchObject({ runId, verified: true, sourceState: 'not_cleaned', dataTime: '20261204' })

    const dry = await runCleanup(store, { target: 'orders daily', dryRun: true, batch: 120 })
    expect(dry.gate.consistent).toBe(true)
    expect(dry.tasks).toHaveLength(1)
    expect(dry.tasks[0]).toMatchObject({ taskId: 'orders', rows: 500, condition: "dt = '2026-12-04'", keyColumns: ['id'] })
    expect(dry.tasks[0]!.selectSql).toContain("SELECT `id` FROM `" + my + "`.`orders` WHERE (dt = '2026-12-04') ORDER BY `id` LIMIT 120")
    expect(dry.tasks[0]!.selectSql).toContain('AND ((`id` > ?)) ORDER BY `id` LIMIT 120')
    expect(dry.tasks[0]!.deleteSql).toMatch(/^DELETE FROM `[^`]+`\.`orders` WHERE \(dt = '2026-12-04'\) AND `id` IN \(\? × 120 keys\)$/)
    expect(await count('SELECT count(*) AS n FROM orders')).toBe(1000) // a dry run deletes nothing
    expect(store.cleanups.list({ runId })).toHaveLength(0)

    const batches: number[] = []
    const r = await runCleanup(store, { target: 'orders daily', batch: 120, onBatch: (b) => batches.push(b.rows) })
    expect(r.cleanup.state).toBe('succeeded')
    expect(r.cleanup.rowsDeleted).toBe(500)
    expect(batches).toEqual([120, 120, 120, 120, 20])
    expect(await count("SELECT count(*) AS n FROM orders WHERE dt = '2026-12-04'")).toBe(0)
    expect(await count("SELECT count(*) AS n FROM orders WHERE dt = '2026-12-03'")).toBe(500) // other days untouched
    const hist = store.cleanups.batches(r.cleanup.id)
    expect(hist).toHaveLength(5)
    expect(hist.map((b) => b.lastKey)).toEqual([[240], [480], [720], [960], [1000]])
    expect(hist[0]).toMatchObject({ taskId: 'orders', batchNo: 1, rows: 120, firstKey: [2] })
    expect(hist[0]!.host).toBeTruthy()
    expect(hist[0]!.user).toBeTruthy()
    expect(hist[0]!.sql).toMatch(/^DELETE FROM .*`id` IN \(\? × 120 keys\)$/)
    expect(r.cleanup).toMatchObject({ runId, dataTime: '20261204', forced: false, batchSize: 120 })
    expect(store.cleanups.tasks(r.cleanup.id)[0]).toMatchObject({ state: 'done', rowsDeleted: 500, lastKey: [1000] })
    expect(cleanupOverview(store).find((o) => o.jobId === saved.id)?.sourceState).toBe('cleaned')
  })

  it('composite primary keys: chunks walk (a, b) in order', async () => {
    await makeTable('pairs', 300, true)
    const { runId, summary } = await run(spec([{ source: 'pairs' }]))
    expect(summary.state, summary.error).toBe('succeeded')
    const r = await runCleanup(store, { target: runId, batch: 40 })
    expect(r.cleanup.rowsDeleted).toBe(150)
    expect(store.cleanups.batches(r.cleanup.id).map((b) => b.rows)).toEqual([40, 40, 40, 30])
    expect(await count("SELECT count(*) AS n FROM pairs WHERE dt = '2026-12-04'")).toBe(0)
    expect(await count('SELECT count(*) AS n FROM pairs')).toBe(150)
  })

  it('a clean-up killed mid-way resumes from its last key and deletes exactly the rows left', async () => {
    await makeTable('events', 2000)
    const { runId, summary } = await run(spec([{ source: 'events' }]))
    expect(summary.state, summary.error).toBe('succeeded')
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dir, 'cleanup', runId, '--batch', '50', '--pause-ms', '400'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<unknown>((r) => child.once('exit', r))
    let cleanupId: string | undefined
    for (let i = 0; i < 600 && child.exitCode === null; i++) {
      await sleep(50)
      cleanupId ??= /^cleanup (\S+)/m.exec(err)?.[1]
      if (cleanupId && store.cleanups.batches(cleanupId).length >= 3) break
    }
    expect(cleanupId, err).toBeDefined()
    child.kill('SIGKILL')
    await exited
    const killed = store.cleanups.get(cleanupId!)!
    expect(killed.state).toBe('running') // the process died without ending it
    const recorded = killed.rowsDeleted
    expect(recorded).toBeGreaterThanOrEqual(150)
    const left = await count("SELECT count(*) AS n FROM events WHERE dt = '2026-12-04'")
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(1000)

    const r = await runCleanup(store, { target: runId, batch: 50 })
    expect(r.resumed).toBe(true)
    expect(r.cleanup.id).toBe(cleanupId)
    expect(r.cleanup.state).toBe('succeeded')
    const resumedRows = store.cleanups.batches(cleanupId!).slice(-Math.ceil(left / 50)).reduce((n, b) => n + b.rows, 0)
    expect(r.cleanup.rowsDeleted - recorded).toBe(left) // exactly the rows left
    expect(resumedRows).toBe(left)
    expect(await count("SELECT count(*) AS n FROM events WHERE dt = '2026-12-04'")).toBe(0)
    expect(await count('SELECT count(*) AS n FROM events')).toBe(1000)
    // The resumed batches start after the recorded last key: no batch repeats a key range.
    const hist = store.cleanups.batches(cleanupId!)
    for (let i = 1; i < hist.length; i++) expect(Number(hist[i]!.firstKey![0])).toBeGreaterThan(Number(hist[i - 1]!.lastKey![0]))
  }, 120_000)

  it('refuses an inconsistent run; forced, it runs and records the reason', async () => {
    await makeTable('bad', 200)
    const { runId, summary } = await run(spec([{ source: 'bad', postSql: [`DELETE FROM "bad" WHERE "id" = 4`] }]))
    expect(summary.state).toBe('inconsistent')
    const refused = await runCleanup(store, { target: runId }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(CleanupRefused)
    expect((refused as Error).message).toMatch(/not verified consistent: bad: TableDataDiff found the target inconsistent/)
    expect(await count('SELECT count(*) AS n FROM bad')).toBe(200)
    const rec = store.cleanups.list({ runId })
    expect(rec).toHaveLength(1)
    expect(rec[0]).toMatchObject({ state: 'refused', rowsDeleted: 0 })

    await expect(runCleanup(store, { target: runId, force: true })).rejects.toThrow(/--force needs a --reason/)
    const r = await runCleanup(store, { target: runId, force: true, reason: 'row 4 deleted in the target on purpose (ticket 42)' })
    expect(r.cleanup).toMatchObject({ state: 'succeeded', forced: true, reason: 'row 4 deleted in the target on purpose (ticket 42)', rowsDeleted: 100 })
    expect(store.cleanups.get(r.cleanup.id)).toMatchObject({ forced: true, reason: 'row 4 deleted in the target on purpose (ticket 42)' })
    expect(await count('SELECT count(*) AS n FROM bad')).toBe(100)
  })

  it('PostgreSQL and SQLite sources, composite keys: the same batches ($n placeholders, row-value IN (VALUES ...))', async () => {
    const pgc = new pg.Client({ ...PG, database: pgDb })
    await pgc.connect()
    const lite = path.join(dir, 'src.sqlite')
    const sq = new Database(lite)
    try {
      await pgc.query('CREATE TABLE pg_src (a int NOT NULL, b text NOT NULL, dt date NOT NULL, PRIMARY KEY (a, b))')
      await pgc.query(`INSERT INTO pg_src SELECT (i + 2) / 3, 'k' || (i % 3), CASE WHEN i % 2 = 0 THEN DATE '2026-12-04' ELSE DATE '2026-12-03' END FROM generate_series(1, 300) i`)
      sq.exec('CREATE TABLE lite_src (a INTEGER NOT NULL, b TEXT NOT NULL, dt TEXT NOT NULL, PRIMARY KEY (a, b))')
      const ins = sq.prepare('INSERT INTO lite_src VALUES (?, ?, ?)')
      for (let i = 1; i <= 300; i++) ins.run(Math.ceil(i / 3), `k${i % 3}`, i % 2 === 0 ? '2026-12-04' : '2026-12-03')
      for (const [reader, table, target] of [[pgUrl(), 'pg_src', 'pg_copy'], [`sqlite:${lite}`, 'lite_src', 'lite_copy']] as const) {
        const doc = { version: 1, reader: { connection: reader, where: "dt = '${yyyy-mm-dd}'" }, writer: { connection: myUrl(), truncate: true }, tables: [{ source: table, target }], verify: { algorithm: 'hashdiff' } }
        const { runId, summary } = await run(doc)
        expect(summary.state, summary.error).toBe('succeeded')
        const r = await runCleanup(store, { target: runId, batch: 40 })
        expect(r.cleanup.rowsDeleted, table).toBe(150)
        expect(store.cleanups.batches(r.cleanup.id).map((b) => b.rows), table).toEqual([40, 40, 40, 30])
      }
      expect(Number((await pgc.query(`SELECT count(*) AS n FROM pg_src WHERE dt = '2026-12-04'`)).rows[0].n)).toBe(0)
      expect(Number((await pgc.query('SELECT count(*) AS n FROM pg_src')).rows[0].n)).toBe(150)
      expect(sq.prepare(`SELECT count(*) AS n FROM lite_src WHERE dt = '2026-12-04'`).get()).toEqual({ n: 0 })
      expect(sq.prepare('SELECT count(*) AS n FROM lite_src').get()).toEqual({ n: 150 })
    } finally {
      await pgc.end()
      sq.close()
    }
  })

  it('refuses a table without a primary key, naming it', async () => {
    await conn.query('CREATE TABLE nokey (id INT, dt DATE)')
    await conn.query("INSERT INTO nokey VALUES (1, '2026-12-04'), (2, '2026-12-03')")
    const { runId, summary } = await run(spec([{ source: 'nokey' }], { verify: { algorithm: 'countdiff' } }))
    expect(summary.state, summary.error).toBe('succeeded')
    await expect(runCleanup(store, { target: runId, force: true, reason: 'test' })).rejects.toThrow(/table .*nokey has no primary key: a clean-up deletes by primary-key chunks/)
    expect(await count('SELECT count(*) AS n FROM nokey')).toBe(2)
    const dry = await runCleanup(store, { target: runId, dryRun: true })
    expect(dry.tasks[0]!.refused).toMatch(/no primary key/)
  })
})
