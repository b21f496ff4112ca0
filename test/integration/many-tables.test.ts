/**
 * A whole database of many tables, moved several tables at once (setting.speed.tables), killed
 * with SIGKILL mid-way and resumed: every table arrives once, none missing, none doubled, keyless
 * tables included; indexes and foreign keys are there after the resume.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, REPO_ROOT, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const TABLES = 24
/** Rows of table i: 200 to 2,400, so the whole run takes a few seconds when throttled. */
const rowsOf = (i: number) => 200 + (i % 6) * 440
const name = (i: number) => `m${String(i).padStart(2, '0')}`
/** Tables 5 and 11 have no primary key: a resume can only redo them by owning the whole table. */
const keyless = (i: number) => i === 5 || i === 11

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!ready)('many tables at once: kill -9 mid-run and resume', () => {
  const id = uniq()
  const src = `sl_many_${id}`
  const dst = `sl_many_${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-many-'))

  beforeAll(async () => {
    await Promise.all([freshMysqlDb(src), freshPgDb(dst)])
    const c = await mysql.createConnection({ ...MYSQL, database: src, multipleStatements: true })
    for (let i = 0; i < TABLES; i++) {
      const t = name(i)
      const fk = i > 0 && !keyless(i) && !keyless(i - 1) ? `, parent_id INT NULL, KEY ix_${t}_p (parent_id), CONSTRAINT fk_${t} FOREIGN KEY (parent_id) REFERENCES ${name(i - 1)}(id)` : ', parent_id INT NULL'
      await c.query(
        `CREATE TABLE ${t} (id INT NOT NULL${keyless(i) ? '' : ' PRIMARY KEY'}, code VARCHAR(20) NOT NULL, amount DECIMAL(12,2), at DATETIME(3), KEY ix_${t}_code (code)${fk}) ENGINE=InnoDB;
         INSERT INTO ${t} (id, code, amount, at, parent_id) SELECT seq, CONCAT('c', seq), seq / 100, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, IF(seq % 3 = 0, NULL, 1 + seq % ${rowsOf(Math.max(0, i - 1))}) FROM seq_1_to_${rowsOf(i)};`,
      )
    }
    await c.query('ANALYZE TABLE ' + Array.from({ length: TABLES }, (_, i) => name(i)).join(', '))
    await c.end()
  }, 120_000)

  afterAll(async () => {
    await Promise.all([dropMysqlDb(src), dropPgDb(dst)])
    rmSync(dir, { recursive: true, force: true })
  })

  it('kills a run moving 4 tables at once and resumes it: each table once, keyless ones too, with its indexes and foreign keys', async () => {
    const dataDir = path.join(dir, 'state')
    const jobFile = path.join(dir, 'job.json')
    const total = Array.from({ length: TABLES }, (_, i) => rowsOf(i)).reduce((a, b) => a + b, 0)
    writeFileSync(
      jobFile,
      JSON.stringify({
        version: 1,
        reader: { connection: `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${src}` },
        writer: { connection: `postgres://${PG.user}@${PG.host}:${PG.port}/${dst}`, createTable: true },
        tables: { include: '*' },
        // Throttled so the kill lands mid-run: ~31k rows at 8k rows/s take about 4 s.
        setting: { speed: { channel: 2, tables: 4, record: 8_000 } },
      }),
    )
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dataDir, 'run', jobFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    let runId: string | undefined
    let finished = 0
    for (let i = 0; i < 600 && child.exitCode === null; i++) {
      await sleep(50)
      runId ??= /^run (\S+)/m.exec(err)?.[1]
      if (!runId) continue
      const store = openStore({ dataDir })
      try {
        finished = store.runTasks.list(runId).filter((t) => t.state === 'succeeded').length
      } finally {
        store.close()
      }
      if (finished >= 4) break
    }
    expect(runId, err).toBeDefined()
    expect(finished, err).toBeGreaterThanOrEqual(4)
    child.kill('SIGKILL')
    expect(await exited).toBeNull()

    const store = openStore({ dataDir })
    try {
      const before = store.runTasks.list(runId!)
      expect(before.filter((t) => t.state === 'succeeded').length, 'killed mid-way').toBeLessThan(TABLES)
      const h = startRun({ store, resumeRunId: runId! })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.tasks.length).toBe(TABLES)
      expect(s.tasks.every((t) => t.state === 'succeeded')).toBe(true)
      expect(s.rowsWritten).toBe(total)
    } finally {
      store.close()
    }

    const p = new pg.Client({ ...PG, database: dst })
    await p.connect()
    try {
      for (let i = 0; i < TABLES; i++) {
        const { rows } = await p.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, coalesce(sum(amount), 0)::text AS s FROM ${name(i)}`)
        const n = rowsOf(i)
        expect(rows[0], name(i)).toEqual({ n, d: n, s: ((n * (n + 1)) / 2 / 100).toFixed(2) })
      }
      const idx = await p.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE '%code%'`)
      expect(idx.rows[0].n).toBe(TABLES)
      const fks = await p.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'`)
      const want = Array.from({ length: TABLES }, (_, i) => i > 0 && !keyless(i) && !keyless(i - 1)).filter(Boolean).length
      expect(fks.rows[0].n).toBe(want)
    } finally {
      await p.end()
    }
  }, 180_000)
})
