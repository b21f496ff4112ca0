/**
 * Data safety on real servers (issue 16, issue 14 items 13-14): a redo removes only the task's
 * own rows (jobs A and B with different wheres into one target, A terminated, B run, A resumed:
 * every row of B kept); one writer per target and per job (a second run is refused, a resume of a
 * running run too); a run killed (SIGKILL) while PostgreSQL builds an index is marked failed and
 * resumes; dirty records exact after a resume; killed MySQL source connections are retried.
 *
 * Like faults.test.ts, runs are held at known points by the servers (a locked table, a split
 * checkpoint) and waits follow the state DB and pg_stat_activity, never the clock alone.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createHandlers } from '../../main/api/handlers.js'
import { openConnector } from '../../main/connectors/index.js'
import { diffTables } from '../../main/verify/index.js'
import { startRun, type RunHandle } from '../../main/engine/service.js'
import { openStore, type Store } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, mysqlUrl as myUrl, PG, pgUrl, REPO_ROOT, serversReady, sleep, uniq, until } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const ROWS = 60_000
const WIDE = 20_000
const STATUSES = ['new', 'paid', 'shipped', 'returned', 'cancelled']
/** Rows of `orders` with status new or paid (job A's where); the rest are job B's. */
const A_WHERE = "status IN ('new', 'paid')"
const B_WHERE = "status NOT IN ('new', 'paid')"
const aRows = Array.from({ length: ROWS }, (_, i) => i + 1).filter((s) => s % 5 < 2).length



async function pgQuery<T = Record<string, unknown>>(db: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ ...PG, database: db })
  await c.connect()
  try {
    return (await c.query(sql, params)).rows as T[]
  } finally {
    await c.end()
  }
}

describe.skipIf(!ready)('data safety: own rows only, one writer per target, resumable DDL, exact dirty records, killed source connections', () => {
  const id = uniq()
  const my = `sl_safe_my_${id}`
  const out = `sl_safe_pg_${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-safety-'))
  const dataDir = (name: string) => {
    const d = path.join(dir, name)
    mkdirSync(d, { recursive: true })
    return d
  }

  beforeAll(async () => {
    await Promise.all([freshMysqlDb(my), freshPgDb(out)])
    const c = await mysql.createConnection({ ...MYSQL, database: my })
    await c.query(`CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(64) NOT NULL, KEY orders_status (status))`)
    await c.query(
      `INSERT INTO orders SELECT seq, ELT(1 + seq % 5, ${STATUSES.map((s) => `'${s}'`).join(', ')}), ROUND(seq / 7, 2),
         IF(seq % 997 = 0, REPEAT('x', 40), CONCAT('note ', seq)) FROM seq_1_to_${ROWS}`,
    )
    await c.query('ANALYZE TABLE orders')
    // Wide rows (3 KB): a throttled split's read is still streaming (paused by back-pressure) when killed.
    await c.query(`CREATE TABLE wide (id INT NOT NULL PRIMARY KEY, pad VARCHAR(4000) NOT NULL)`)
    await c.query(`INSERT INTO wide SELECT seq, CONCAT(seq, ':', REPEAT(MD5(seq), 94)) FROM seq_1_to_${WIDE}`)
    await c.query('ANALYZE TABLE wide')
    await c.end()
  }, 60_000)

  afterAll(async () => {
    await Promise.all([dropMysqlDb(my), dropPgDb(out)])
    rmSync(dir, { recursive: true, force: true })
  })

  /** A job from MySQL `orders` into PostgreSQL `target`, throttled so it can be held mid-way. */
  function job(target: string, where: string, writer: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return {
      version: 1 as const,
      reader: { connection: myUrl(my), ...(where ? { where } : {}) },
      writer: { connection: pgUrl(out), ...writer },
      tables: [{ source: 'orders', target }],
      setting: { speed: { channel: 2, record: 20_000 }, batchBytes: 64 * 1024, errorLimit: { record: 1_000_000 } },
      ...extra,
    }
  }

  /** Terminate run `h` once one split is checkpointed done and rows of another one are written. */
  async function terminateMidway(store: Store, h: RunHandle): Promise<void> {
    await until(() => store.splits.doneSplits(h.runId, 'orders').length >= 1 || store.runs.get(h.runId)!.state !== 'running', 'a split done')
    expect(store.runs.get(h.runId)!.state).toBe('running')
    h.cancel()
    expect((await h.done).state).toBe('terminated')
  }

  for (const variant of ['key-less target (redo DELETE carries the where)', 'keyed target (redo upserts)'] as const) {
    it(`jobs A and B with different wheres into one target, A terminated, B run (refused while A runs), A resumed: 0 rows of B lost, 0 duplicated — ${variant}`, async () => {
      const keyless = variant.startsWith('key-less')
      const target = keyless ? 'shared_nokey' : 'shared_key'
      await pgQuery(out, `DROP TABLE IF EXISTS ${target}`)
      await pgQuery(out, `CREATE TABLE ${target} (id bigint ${keyless ? '' : 'PRIMARY KEY'}, status varchar(16) NOT NULL, amount numeric(12,2) NOT NULL, note varchar(64) NOT NULL)`)
      await pgQuery(out, `INSERT INTO ${target} VALUES (-1, 'stale', 0, 'left by an older load')`)
      const store = openStore({ dataDir: dataDir(`ab-${keyless ? 'nokey' : 'key'}`) })
      try {
        // A truncates the target (so it owns it) and is held mid-way.
        const a = startRun({ store, spec: job(target, A_WHERE, { truncate: true }) })
        await until(() => store.runTasks.get(a.runId, 'orders')?.rowsWritten! > 0 || store.runs.get(a.runId)!.state !== 'running', 'A writing')
        // B while A runs: refused, naming A.
        const early = startRun({ store, spec: job(target, B_WHERE, {}) })
        const sEarly = await early.done
        expect(sEarly.state).toBe('failed')
        expect(sEarly.error).toMatch(new RegExp(`public\\.${target} is already being written by run ${a.runId}`))
        await terminateMidway(store, a)
        const doneA = store.splits.doneSplits(a.runId, 'orders').length
        expect(doneA).toBeLessThan(store.splits.list(a.runId, 'orders').length)

        // B loads the other statuses completely.
        const b = startRun({ store, spec: job(target, B_WHERE, {}) })
        const sB = await b.done
        expect(sB.error).toBeUndefined()
        expect(sB.rowsWritten).toBe(ROWS - aRows)

        // A resumed: its redo removes only A's rows (or overwrites them by key).
        const r = startRun({ store, resumeRunId: a.runId })
        const sA = await r.done
        const logs = store.logs.tail(a.runId, { limit: 500 }).map((l) => l.message)
        expect(sA.error, logs.join('\n')).toBeUndefined()
        expect(sA.state).toBe('succeeded')
        expect(sA.rowsWritten).toBe(aRows)

        const [counts] = await pgQuery<{ n: number; d: number; b: number; a: number }>(
          out,
          `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, count(*) FILTER (WHERE ${B_WHERE})::int AS b, count(*) FILTER (WHERE ${A_WHERE})::int AS a FROM ${target}`,
        )
        expect(counts).toEqual({ n: ROWS, d: ROWS, b: ROWS - aRows, a: aRows })
      } finally {
        store.close()
      }
    }, 120_000)
  }

  it('two runs of one saved job: the second is refused ("job X is already running as run R"), and so is a resume of the running run', async () => {
    const store = openStore({ dataDir: dataDir('twice') })
    try {
      await pgQuery(out, 'DROP TABLE IF EXISTS twice')
      const saved = store.jobs.save(job('twice', '1 = 1', { createTable: true, truncate: true }), { name: 'orders twice' })
      const h = startRun({ store, spec: store.jobs.get(saved.id)!.spec, jobId: saved.id })
      expect(() => startRun({ store, spec: store.jobs.get(saved.id)!.spec, jobId: saved.id })).toThrow(`job orders twice is already running as run ${h.runId}`)
      expect(() => startRun({ store, resumeRunId: h.runId })).toThrow(new RegExp(`run ${h.runId} is still running`))
      expect(store.runs.count()).toBe(1) // the refused start left no run behind
      h.cancel()
      await h.done
      // Once it ended, the job runs again.
      const again = startRun({ store, spec: store.jobs.get(saved.id)!.spec, jobId: saved.id, channels: 2 })
      again.cancel()
      await again.done
    } finally {
      store.close()
    }
  }, 60_000)

  it('a run killed (SIGKILL) while PostgreSQL builds an index is marked failed and resumes (the index left behind is kept, not re-created)', async () => {
    const dd = dataDir('kill-index')
    const target = 'indexed'
    await pgQuery(out, `DROP TABLE IF EXISTS ${target}`)
    const jobFile = path.join(dir, 'kill-index.json')
    writeFileSync(jobFile, JSON.stringify({ ...job(target, '', { createTable: true }), setting: { speed: { channel: 2 } }, reader: { connection: myUrl(my) } }))
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dd, 'run', jobFile], { stdio: 'ignore' })
    const exited = new Promise<void>((r) => child.on('exit', () => r()))
    // Hold the index build: ROW EXCLUSIVE lets the load in, and keeps CREATE INDEX (SHARE) waiting.
    const lock = new pg.Client({ ...PG, database: out })
    await lock.connect()
    try {
      await until(async () => (await pgQuery(out, `SELECT 1 FROM pg_class WHERE relname = $1`, [target])).length > 0, 'the target table', 60_000)
      await lock.query('BEGIN')
      await lock.query(`LOCK TABLE ${target} IN ROW EXCLUSIVE MODE`)
      await until(async () => (await pgQuery(out, `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND (query LIKE 'CREATE INDEX%' OR query LIKE 'ALTER TABLE%ADD PRIMARY KEY%') AND wait_event_type = 'Lock'`, [out])).length > 0, 'CREATE INDEX (or ADD PRIMARY KEY) waiting', 60_000)
      child.kill('SIGKILL')
      await exited
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined)
      await lock.end()
    }
    // The orphaned backend finishes the index once the lock is gone.
    await until(async () => (await pgQuery(out, `SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname <> $2`, [target, `${target}_pkey`])).length > 0, 'the index to exist')
    const store = openStore({ dataDir: dd })
    try {
      const [run] = store.runs.list()
      expect(run!.state).toBe('running')
      expect(store.locks.reapDead()).toEqual([run!.id])
      expect(store.runs.get(run!.id)!.state).toBe('failed')
      expect(store.runs.get(run!.id)!.error).toMatch(/is gone; resume it with: sluice run --resume/)
      const h = startRun({ store, resumeRunId: run!.id })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.warnings.filter((w) => /not created/.test(w))).toEqual([])
    } finally {
      store.close()
    }
    const [c] = await pgQuery<{ n: number; d: number }>(out, `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${target}`)
    expect(c).toEqual({ n: ROWS, d: ROWS })
  }, 120_000)

  it('dirty records: exactly one per bad row after a terminated run is resumed', async () => {
    const target = 'narrow_note'
    await pgQuery(out, `DROP TABLE IF EXISTS ${target}`)
    // note is varchar(64) at the source; 40-char notes do not fit varchar(20): every 997th row is dirty.
    await pgQuery(out, `CREATE TABLE ${target} (id bigint PRIMARY KEY, status varchar(16) NOT NULL, amount numeric(12,2) NOT NULL, note varchar(20) NOT NULL)`)
    const bad = Math.floor(ROWS / 997)
    const store = openStore({ dataDir: dataDir('dirty') })
    try {
      const h = startRun({ store, spec: job(target, '', { truncate: true }) })
      await terminateMidway(store, h)
      expect(store.dirty.count(h.runId)).toBeGreaterThan(0)
      const r = startRun({ store, resumeRunId: h.runId })
      const s = await r.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(store.dirty.count(h.runId)).toBe(bad)
      expect(s.dirty).toBe(bad)
      expect(s.rowsWritten).toBe(ROWS - bad)
    } finally {
      store.close()
    }
  }, 120_000)

  it('batches dense with bad rows (8,000 of 20,000 refused by a CHECK) are narrowed: every bad row is one dirty record, every good row lands', async () => {
    const target = 'dense_bad'
    await pgQuery(out, `DROP TABLE IF EXISTS ${target}`)
    await pgQuery(out, `CREATE TABLE ${target} (id bigint PRIMARY KEY CHECK (id % 5 >= 2), status varchar(16) NOT NULL, amount numeric(12,2) NOT NULL, note varchar(64) NOT NULL)`)
    const store = openStore({ dataDir: dataDir('dense') })
    const n = 20_000
    const bad = (n / 5) * 2
    try {
      const s = await startRun({ store, spec: { ...job(target, `id <= ${n}`, {}), setting: { speed: { channel: 2 }, errorLimit: { record: 1_000_000 } } } }).done
      expect(s.error).toBeUndefined()
      expect(s.dirty).toBe(bad)
      expect(s.rowsWritten).toBe(n - bad)
      expect(store.dirty.count(s.runId)).toBe(bad)
    } finally {
      store.close()
    }
    const [c] = await pgQuery<{ n: number; bad: number }>(out, `SELECT count(*)::int AS n, count(*) FILTER (WHERE id % 5 < 2)::int AS bad FROM ${target}`)
    expect(c).toEqual({ n: n - bad, bad: 0 })
  }, 180_000)

  it('blob rows are bounded by bytes: 10 MB rows come one per batch, and a reader whose consumer stops holds a few rows, not the table', async () => {
    const c = await mysql.createConnection({ ...MYSQL, database: my })
    await c.query('DROP TABLE IF EXISTS blobs')
    await c.query('CREATE TABLE blobs (id INT NOT NULL PRIMARY KEY, b LONGBLOB NOT NULL)')
    await c.query(`INSERT INTO blobs SELECT seq, REPEAT(CHAR(65 + seq % 26), 10 * 1024 * 1024) FROM seq_1_to_12`)
    await c.end()
    const conn = await openConnector({ kind: 'mysql', ...MYSQL, database: my })
    try {
      const [split] = await conn.splits({ table: { name: 'blobs' } }, 1)
      const it = conn.read(split!, { batchBytes: 4 * 1024 * 1024 })[Symbol.asyncIterator]()
      const first = await it.next()
      expect(first.value!.rows.length).toBe(1)
      // The consumer stops here: what the reader holds must stay a few rows (the old 256-row
      // high-water mark took all 120 MB in). Wait until the process' buffers stop growing.
      const mem = () => process.memoryUsage().arrayBuffers
      const base = mem() - first.value!.approxBytes
      let prev = -1
      for (let i = 0; i < 100 && Math.abs(mem() - prev) > 1 << 20; i++) {
        prev = mem()
        await sleep(200)
      }
      const held = mem() - base
      expect(held, `${(held / 2 ** 20).toFixed(0)} MiB held`).toBeLessThan(60 * 2 ** 20)
      let n = 1
      for (let r = await it.next(); !r.done; r = await it.next()) {
        expect(r.value.rows.length).toBe(1)
        n++
      }
      expect(n).toBe(12)
    } finally {
      await conn.close()
    }
    // And through a run (oversized batches are not read ahead): every byte lands.
    await pgQuery(out, 'DROP TABLE IF EXISTS blobs')
    const store = openStore({ dataDir: dataDir('blobs') })
    try {
      const s = await startRun({
        store,
        spec: { version: 1, reader: { connection: myUrl(my) }, writer: { connection: pgUrl(out), createTable: true }, tables: [{ source: 'blobs' }], setting: { speed: { channel: 2 }, batchBytes: 4 * 1024 * 1024 } },
      }).done
      expect(s.error).toBeUndefined()
      expect(s.rowsWritten).toBe(12)
    } finally {
      store.close()
    }
    const rows = await pgQuery<{ id: number; n: number; ok: boolean }>(out, `SELECT id, length(b)::int AS n, b = convert_to(repeat(chr(65 + id % 26), 10 * 1024 * 1024), 'UTF8') AS ok FROM blobs ORDER BY id`)
    expect(rows.length).toBe(12)
    expect(rows.every((r) => r.n === 10 * 1024 * 1024 && r.ok)).toBe(true)
  }, 120_000)

  it('killed MySQL source connections mid-run (streaming and idle ones) are retried (reopened, the split re-read) and the run succeeds', async () => {
    const target = 'killed_src'
    await pgQuery(out, `DROP TABLE IF EXISTS ${target}`)
    const store = openStore({ dataDir: dataDir('kill-src') })
    const admin = await mysql.createConnection(MYSQL)
    const retries: string[] = []
    let written = 0
    try {
      const h = startRun({
        store,
        onEvent: (e) => {
          if (e.type === 'run/progress') written = e.rowsWritten
          if (e.type === 'run/log' && /transient; retry/.test(e.message)) retries.push(e.message)
        },
        // 2,500 rows/s of 3 KB: the load takes 8 s; reads stay mid-stream, held by back-pressure.
        spec: {
          version: 1,
          reader: { connection: myUrl(my) },
          writer: { connection: pgUrl(out), createTable: true },
          tables: [{ source: 'wide', target }],
          setting: { speed: { channel: 2, record: 2_500 }, batchBytes: 64 * 1024 },
        },
      })
      const running = () => store.runs.get(h.runId)!.state === 'running'
      for (let round = 0; round < 2; round++) {
        const base = written
        await until(() => written > base + 2_000 || !running(), 'rows moving')
        expect(running(), store.logs.tail(h.runId, { limit: 500 }).map((l) => l.message).join('\n')).toBe(true)
        const before = retries.length
        const [procs] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, command FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()`, [my])
        expect(procs.some((p) => p.command !== 'Sleep'), JSON.stringify(procs)).toBe(true)
        for (const p of procs) await admin.query(`KILL ${Number(p.id)}`).catch(() => undefined)
        await until(() => retries.length > before || !running(), 'the kill to be retried')
      }
      const s = await h.done
      const logs = store.logs.tail(h.runId, { limit: 500 }).map((l) => l.message)
      expect(s.error, logs.join('\n')).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(WIDE)
      expect(retries.length).toBeGreaterThanOrEqual(2)
    } finally {
      await admin.end()
      store.close()
    }
    const [c] = await pgQuery<{ n: number; d: number }>(out, `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${target}`)
    expect(c).toEqual({ n: WIDE, d: WIDE })
  }, 120_000)

  it('inline passwords (URL, password field) are not in the state DB file nor in runs/get or jobs/get; a resume and a saved masked job still have them', async () => {
    const dd = dataDir('secrets')
    const store = openStore({ dataDir: dd })
    const api = createHandlers({ store, dataDir: dd, version: 'test', transport: 'http', emit: () => undefined })
    const handlers = api.handlers
    const URL_PW = 'Url-SECRET-4711'
    const FIELD_PW = 'Field-SECRET-0815'
    // PostgreSQL trusts loopback: any password logs in, so a run carrying one still works.
    const writerUrl = `postgres://${PG.user}:${URL_PW}@${PG.host}:${PG.port}/${out}`
    try {
      await pgQuery(out, 'DROP TABLE IF EXISTS secret_run')
      const h = startRun({ store, spec: { ...job('secret_run', '', { createTable: true }), writer: { connection: writerUrl, createTable: true } } })
      await terminateMidway(store, h)
      expect(JSON.stringify((store.runs.get(h.runId)!.spec as { writer: unknown }).writer)).toContain(URL_PW) // in memory, for the resume
      const r = await startRun({ store, resumeRunId: h.runId }).done
      expect(r.error).toBeUndefined()
      expect(r.state).toBe('succeeded')
      const detail = await handlers['runs/get']({ runId: h.runId })
      expect(JSON.stringify(detail)).not.toContain(URL_PW)
      expect(JSON.stringify(detail.spec)).toContain('********')

      const inline = { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, password: FIELD_PW, database: out }
      const saved = store.jobs.save({ ...job('secret_job', '', { createTable: true }), writer: { connection: inline, createTable: true } }, { name: 'secret job' })
      const got = await handlers['jobs/get']({ id: saved.id })
      expect(JSON.stringify(got)).not.toContain(FIELD_PW)
      // The masked spec saved back (the UI's round trip, one field changed) keeps the password.
      const edited = { ...(got.spec as Record<string, unknown>), name: 'renamed' }
      const v2 = store.jobs.save(edited, { name: 'secret job', id: saved.id })
      expect(v2.version).toBe(2)
      expect(JSON.stringify(store.jobs.get(saved.id)!.spec)).toContain(FIELD_PW)
      expect(JSON.stringify(store.jobs.versions(saved.id))).not.toContain(FIELD_PW)
    } finally {
      await api.dispose()
      store.close()
    }
    for (const f of ['sluice.db', 'sluice.db-wal']) {
      const file = path.join(dd, f)
      if (!existsSync(file)) continue
      const bytes = readFileSync(file)
      expect(bytes.includes(URL_PW), f).toBe(false)
      expect(bytes.includes(FIELD_PW), f).toBe(false)
    }
  }, 120_000)

  it('sql/query on a sqlite: connection refuses the state DB and ATTACH / VACUUM INTO / load_extension', async () => {
    const dd = dataDir('sqlguard')
    const store = openStore({ dataDir: dd })
    const api = createHandlers({ store, dataDir: dd, version: 'test', transport: 'http', emit: () => undefined })
    const handlers = api.handlers
    try {
      const state = store.connections.create({ name: 'state', config: { kind: 'sqlite', path: store.file } })
      await expect(handlers['sql/query']({ connectionId: state.id, sql: 'SELECT count(*) FROM connections' })).rejects.toThrow(/state DB/)
      const other = path.join(dd, 'other.sqlite')
      const conn = store.connections.create({ name: 'other', config: { kind: 'sqlite', path: other } })
      const q = (sql: string) => handlers['sql/query']({ connectionId: conn.id, sql })
      await expect(q(`ATTACH DATABASE '${path.join(dd, 'evil.db')}' AS evil`)).rejects.toThrow(/ATTACH is refused/)
      await expect(q(`VACUUM INTO '${path.join(dd, 'copy.db')}'`)).rejects.toThrow(/VACUUM INTO is refused/)
      await expect(q(`SELECT load_extension('/tmp/x.so')`)).rejects.toThrow(/load_extension\(\) is refused/)
      expect(existsSync(path.join(dd, 'evil.db'))).toBe(false)
      expect(existsSync(path.join(dd, 'copy.db'))).toBe(false)
      // Ordinary statements, and the words inside literals, still run.
      const r = await q(`SELECT 'attach' AS word`)
      expect(r.rows).toEqual([['attach']])
    } finally {
      await api.dispose()
      store.close()
    }
  })

  it('verification sessions on PostgreSQL run with jit = off (hashdiff and countdiff see only rows where current_setting(jit) is off)', async () => {
    await pgQuery(out, 'DROP TABLE IF EXISTS jit_a; DROP TABLE IF EXISTS jit_b')
    await pgQuery(out, 'CREATE TABLE jit_a AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g; ALTER TABLE jit_a ADD PRIMARY KEY (id)')
    await pgQuery(out, 'CREATE TABLE jit_b AS SELECT * FROM jit_a; ALTER TABLE jit_b ADD PRIMARY KEY (id)')
    const c = await openConnector({ kind: 'postgres', ...PG, database: out })
    try {
      // The server's default is jit = on; the filter holds only in a session that turned it off.
      expect((await c.query(`SELECT current_setting('jit') AS j`)).rows[0]![0]).toBe('on')
      for (const algorithm of ['countdiff', 'hashdiff'] as const) {
        const r = await diffTables({ source: c, target: c, sourceTable: { name: 'jit_a' }, targetTable: { name: 'jit_b' }, keyColumns: ['id'], algorithm, where: `current_setting('jit') = 'off'` })
        expect(r.consistent, algorithm).toBe(true)
        expect(r.sourceRows, algorithm).toBe(500)
        expect(r.targetRows, algorithm).toBe(500)
      }
    } finally {
      await c.close()
    }
  })

  it('`sluice runs list | head -1` and `runs show | head -1` end quietly (no EPIPE crash)', () => {
    const dd = dataDir('epipe')
    const store = openStore({ dataDir: dd })
    const name = 'a run with a name long enough that 3,000 of them overflow the pipe buffer'
    let last = ''
    store.runs.transaction(() => {
      for (let i = 0; i < 3000; i++) last = store.runs.create({ name, spec: { version: 1 } }).id
    })
    for (let i = 0; i < 3000; i++) store.logs.append(last, [{ level: 'info', message: `log line ${i} `.padEnd(120, '.'), ts: new Date().toISOString() }])
    store.close()
    const bin = path.join(REPO_ROOT, 'bin/sluice.mjs')
    for (const args of [`runs list --limit 3000`, `runs show ${last} --logs 3000`]) {
      const outp = execFileSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" --data-dir "${dd}" ${args} | head -1`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      expect(outp.split('\n').filter(Boolean).length, args).toBe(1)
    }
  }, 60_000)
})
