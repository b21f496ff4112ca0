/**
 * Staying power on real servers: a run killed with SIGKILL and resumed, connections killed under
 * a running job (MySQL `KILL` of the writer, PostgreSQL `pg_terminate_backend` of the reader), and
 * a throttled run. Each ends with the target equal to the source, row for row.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { firstDifference, readAll } from '../helpers/compare.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, REPO_ROOT, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const ROWS = 100_000

const MYSQL_TABLE = `CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, name VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL,
  at DATETIME(3) NOT NULL, note TEXT NULL, ratio DOUBLE NULL) DEFAULT CHARSET=utf8mb4`
const MYSQL_FILL = `INSERT INTO t SELECT seq, seq % 977, CONCAT(ELT(1 + seq % 3, 'Widget ', '小工具 ', 'Gizmo 🚀 '), seq), ROUND((seq % 100000) / 7, 2),
  TIMESTAMP('2020-01-01 00:00:00') + INTERVAL (seq * 37) SECOND + INTERVAL ((seq % 1000) * 1000) MICROSECOND,
  IF(seq % 3 = 0, NULL, REPEAT('n', seq % 50)), IF(seq % 11 = 0, NULL, seq / 4.0) FROM seq_1_to_${ROWS}`
const PG_TABLE = `CREATE TABLE t (id bigint PRIMARY KEY, k int NOT NULL, name varchar(64) NOT NULL, amount numeric(12,2) NOT NULL,
  at timestamp(3) NOT NULL, note text, ratio double precision)`
const PG_FILL = `INSERT INTO t SELECT s, s % 977, (ARRAY['Widget ', '小工具 ', 'Gizmo 🚀 '])[1 + s % 3] || s, round((s % 100000) / 7.0, 2),
  timestamp '2020-01-01' + s * interval '37 seconds' + (s % 1000) * interval '1 millisecond',
  CASE WHEN s % 3 = 0 THEN NULL ELSE repeat('n', s % 50) END, CASE WHEN s % 11 = 0 THEN NULL ELSE s / 4.0 END
  FROM generate_series(1, ${ROWS}) s`

const myCfg = (database: string): ConnectionConfig => ({ kind: 'mysql', ...MYSQL, database })
const pgCfg = (database: string): ConnectionConfig => ({ kind: 'postgres', ...PG, database })
const myUrl = (db: string) => `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${db}`
const pgUrl = (db: string) => `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${db}`

/** Assert the target table equals the source table, every row and every value. */
async function expectSame(src: ConnectionConfig, dst: ConnectionConfig, target: string): Promise<void> {
  const a = await openConnector(src)
  const b = await openConnector(dst)
  try {
    const x = await readAll(a, 't')
    const y = await readAll(b, target)
    expect(y.rows.length).toBe(ROWS)
    expect(firstDifference(x.columns, x.rows, y.rows)).toBeUndefined()
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!ready)('faults: kill -9 and resume, killed connections, throttling', () => {
  const id = uniq()
  const my = `sl_fault_my_${id}`
  const myOut = `sl_fault_myout_${id}`
  const pgSrc = `sl_fault_pg_${id}`
  const pgOut = `sl_fault_pgout_${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-faults-'))

  beforeAll(async () => {
    await Promise.all([freshMysqlDb(my), freshMysqlDb(myOut), freshPgDb(pgSrc), freshPgDb(pgOut)])
    const c = await mysql.createConnection({ ...MYSQL, database: my })
    await c.query(MYSQL_TABLE)
    await c.query(MYSQL_FILL)
    await c.query('ANALYZE TABLE t')
    await c.end()
    const p = new pg.Client({ ...PG, database: pgSrc })
    await p.connect()
    await p.query(PG_TABLE)
    await p.query(PG_FILL)
    await p.query('ANALYZE t')
    await p.end()
  }, 60_000)

  afterAll(async () => {
    await Promise.all([dropMysqlDb(my), dropMysqlDb(myOut), dropPgDb(pgSrc), dropPgDb(pgOut)])
    rmSync(dir, { recursive: true, force: true })
  })

  it('a run killed with SIGKILL mid-way resumes with no duplicate and no missing row (MySQL -> PostgreSQL, worker channels)', async () => {
    const dataDir = path.join(dir, 'kill9')
    const jobFile = path.join(dir, 'kill9.json')
    writeFileSync(
      jobFile,
      JSON.stringify({
        version: 1,
        reader: { connection: myUrl(my) },
        writer: { connection: pgUrl(pgOut), createTable: true },
        tables: [{ source: 't', target: 'killed' }],
        // Throttled so the kill lands mid-run: 100k rows at 40k rows/s take 2.5 s.
        setting: { speed: { channel: 2, record: 40_000 } },
      }),
    )
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dataDir, 'run', jobFile], {
      env: { ...process.env, SLUICE_CHANNEL_MODE: 'worker' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    let runId: string | undefined
    let doneBefore = 0
    for (let i = 0; i < 300 && child.exitCode === null; i++) {
      await sleep(50)
      runId ??= /^run (\S+)/m.exec(err)?.[1]
      if (!runId) continue
      const store = openStore({ dataDir })
      try {
        doneBefore = store.splits.doneSplits(runId, 't').length
      } finally {
        store.close()
      }
      if (doneBefore >= 2) break
    }
    expect(runId, err).toBeDefined()
    expect(doneBefore, err).toBeGreaterThanOrEqual(2)
    child.kill('SIGKILL')
    expect(await exited).toBeNull()

    const store = openStore({ dataDir })
    try {
      const planned = store.splits.list(runId!, 't')
      expect(planned.length).toBe(8) // 2 channels x 4 for a table of 100k rows
      const done = store.splits.doneSplits(runId!, 't').length
      expect(done).toBeLessThan(planned.length) // killed mid-way
      const h = startRun({ store, resumeRunId: runId! })
      expect(h.runId).toBe(runId)
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(ROWS)
      expect(store.splits.doneSplits(runId!, 't').length).toBe(8)
      expect(store.runs.get(runId!)!.state).toBe('succeeded')
    } finally {
      store.close()
    }
    await expectSame(myCfg(my), pgCfg(pgOut), 'killed')
    // The primary key was created before the data and still holds: no duplicate can hide.
    const p = new pg.Client({ ...PG, database: pgOut })
    await p.connect()
    const { rows } = await p.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM killed')
    await p.end()
    expect(rows[0]).toEqual({ n: ROWS, d: ROWS })
  }, 90_000)

  // Retried under load only: the kills race the run (it can finish before a COPY is seen), and
  // each attempt truncates its target, so a retry proves the same thing from scratch.
  it('killed connections (MySQL KILL of the writer, pg_terminate_backend of the reader) are retried and the load completes exactly (PostgreSQL -> MySQL)', { timeout: 90_000, retry: 2 }, async () => {
    const store = openStore({ dataDir: mkdirSync(path.join(dir, 'killconn'), { recursive: true }) ?? path.join(dir, 'killconn') })
    try {
      const h = startRun({
        store,
        spec: {
          version: 1,
          reader: { connection: pgUrl(pgSrc) },
          writer: { connection: myUrl(myOut), createTable: true, truncate: true },
          tables: [{ source: 't', target: 'conn' }],
          setting: { speed: { channel: 2, record: 40_000 } },
        },
      })
      const logs: string[] = []
      // Writer: a MySQL connection of the target database loading data. Reader: a COPY backend.
      const admin = await mysql.createConnection(MYSQL)
      const pgAdmin = new pg.Client({ ...PG, database: 'postgres' })
      await pgAdmin.connect()
      let killedWriter = 0
      let killedReader = 0
      try {
        for (let i = 0; i < 100 && killedWriter === 0; i++) {
          await sleep(50)
          const [procs] = await admin.query<mysql.RowDataPacket[]>(`SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID() AND info LIKE 'LOAD DATA%'`, [myOut])
          for (const p of procs) {
            await admin.query(`KILL ${Number(p.id)}`).catch(() => undefined)
            killedWriter++
          }
        }
        for (let i = 0; i < 100 && killedReader === 0; i++) {
          await sleep(50)
          const r = await pgAdmin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE 'COPY%'`, [pgSrc])
          killedReader += r.rows.filter((x: { ok: boolean }) => x.ok).length
        }
      } finally {
        await admin.end()
        await pgAdmin.end()
      }
      expect(killedWriter).toBeGreaterThan(0)
      expect(killedReader).toBeGreaterThan(0)
      const s = await h.done
      for (const l of store.logs.tail(h.runId, { limit: 500 })) logs.push(l.message)
      expect(s.error, logs.join('\n')).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(ROWS)
      expect(logs.some((m) => /transient; retry 1/.test(m))).toBe(true)
    } finally {
      store.close()
    }
    await expectSame(pgCfg(pgSrc), myCfg(myOut), 'conn')
  })

  // Retried under load only (a starved 2-core machine can run below the limit); each attempt truncates its target.
  it('a throttled run (speed.record) keeps within 10 % of the limit and loads every row', { timeout: 60_000, retry: 2 }, async () => {
    const store = openStore({ dataDir: mkdirSync(path.join(dir, 'throttle'), { recursive: true }) ?? path.join(dir, 'throttle') })
    const limit = 20_000
    const seen: Array<{ t: number; rows: number }> = []
    try {
      const h = startRun({
        store,
        onEvent: (e) => {
          if (e.type === 'run/progress') seen.push({ t: performance.now(), rows: e.rowsWritten })
        },
        spec: {
          version: 1,
          reader: { connection: myUrl(my) },
          writer: { connection: pgUrl(pgOut), createTable: true, truncate: true },
          tables: [{ source: 't', target: 'throttled' }],
          setting: { speed: { channel: 2, record: limit } },
        },
      })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(ROWS)
      // Whole task (includes creating the table and its indexes): never above the limit.
      const task = s.tasks[0]!
      expect(ROWS / (task.elapsedMs / 1000)).toBeLessThanOrEqual(limit * 1.1)
      // While rows move (progress events, every 250 ms): within 10 % of the limit.
      const first = seen.find((x) => x.rows > 0)!
      const last = seen[seen.length - 1]!
      expect(last.rows).toBe(ROWS)
      const rate = (last.rows - first.rows) / ((last.t - first.t) / 1000)
      expect(rate).toBeLessThanOrEqual(limit * 1.1)
      expect(rate).toBeGreaterThanOrEqual(limit * 0.9)
      // And over every 2 s window of the run, never more than 10 % above it.
      for (const a of seen) {
        const b = seen.find((x) => x.t - a.t >= 2000)
        if (b && b !== a) expect((b.rows - a.rows) / ((b.t - a.t) / 1000)).toBeLessThanOrEqual(limit * 1.1)
      }
    } finally {
      store.close()
    }
    await expectSame(myCfg(my), pgCfg(pgOut), 'throttled')
  })

  it('terminate stops every channel within 2 s and records what was written so far', async () => {
    const store = openStore({ dataDir: mkdirSync(path.join(dir, 'cancel'), { recursive: true }) ?? path.join(dir, 'cancel') })
    try {
      for (const mode of ['worker', 'inprocess'] as const) {
        process.env.SLUICE_CHANNEL_MODE = mode
        const h = startRun({
          store,
          spec: {
            version: 1,
            reader: { connection: myUrl(my) },
            writer: { connection: pgUrl(pgOut), createTable: true, truncate: true },
            tables: [{ source: 't', target: `cancelled_${mode}` }],
            // Throttled so the run is surely still moving rows when it is terminated.
            setting: { speed: { channel: 2, record: 10_000 } },
          },
        })
        // Wait until rows are moving (worker threads take a moment to boot).
        for (let i = 0; i < 100 && !(store.runTasks.list(h.runId)[0]?.rowsWritten ?? 0); i++) await sleep(100)
        await sleep(300)
        const t0 = performance.now()
        h.cancel()
        const s = await h.done
        const took = performance.now() - t0
        expect(took, mode).toBeLessThan(2000)
        expect(s.state, mode).toBe('terminated')
        expect(s.rowsWritten, mode).toBeGreaterThan(0)
        expect(s.rowsWritten, mode).toBeLessThan(ROWS)
        const run = store.runs.get(h.runId)!
        expect(run.state).toBe('terminated')
        expect(run.rowsWritten).toBe(s.rowsWritten)
        // What the summary says was written is what the target holds (each batch commits atomically).
        const c = new pg.Client({ ...PG, database: pgOut })
        await c.connect()
        const n = Number((await c.query(`SELECT count(*) AS n FROM "cancelled_${mode}"`)).rows[0].n)
        await c.end()
        expect(n, mode).toBe(s.rowsWritten)
      }
    } finally {
      delete process.env.SLUICE_CHANNEL_MODE
      store.close()
    }
  }, 60_000)
})
