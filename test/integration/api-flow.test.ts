/**
 * A whole flow over HTTP + WebSocket, as the browser renderer does it: SQLite connections, a
 * saved job, validate/preview, runs/start with live events, run detail, SQL editor with exact
 * bytes/bigint across the wire, failed-only rerun.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ApiEvent, RunDetail } from '../../main/api/contract.js'
import { createHandlers } from '../../main/api/handlers.js'
import { startServer, type RunningServer } from '../../main/api/http.js'
import { openStore, type Store } from '../../main/store/index.js'
import { apiClient, openEvents, waitFor } from '../helpers/api-client.js'
import pg from 'pg'
import { CHINOOK_SQLITE, PG, dropPgDb, freshPgDb, serversReady, uniq } from '../helpers/servers.js'

const CHINOOK_TABLES = ['Album', 'Artist', 'Customer', 'Employee', 'Genre', 'Invoice', 'InvoiceLine', 'MediaType', 'Playlist', 'PlaylistTrack', 'Track']
const FINAL = new Set(['succeeded', 'failed', 'terminated', 'inconsistent'])
const pgReady = await serversReady('postgres')

let dir: string
let store: Store
let server: RunningServer
const TOKEN = 'flow-token-' + 'y'.repeat(32)

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-flow-'))
  store = openStore({ dataDir: dir })
  server = await startServer({ store, dataDir: dir, token: TOKEN, staticDir: path.join(dir, 'no-renderer') })
})

afterAll(async () => {
  await server?.close()
  store?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Wait until the run is recorded as ended (the store writes the summary after the last event). */
async function ended(c: ReturnType<typeof apiClient>, runId: string): Promise<RunDetail> {
  let run: RunDetail | undefined
  await waitFor(async () => FINAL.has((run = await c.call('runs/get', { runId })).state) && run.endedAt !== undefined, 60_000, `run ${runId} to end`)
  return run!
}

describe('full flow over HTTP (SQLite Chinook)', () => {
  const c = () => apiClient(server.port, TOKEN)
  let srcFile: string
  let dstFile: string
  let srcId: string
  let dstId: string
  let jobId: string
  let runId: string
  const events: ApiEvent[] = []

  it('creates connections and a job, validates and previews it', async () => {
    srcFile = path.join(dir, 'chinook.sqlite')
    dstFile = path.join(dir, 'target.sqlite')
    copyFileSync(CHINOOK_SQLITE, srcFile)
    srcId = (await c().call('connections/create', { draft: { name: 'Chinook src', config: { kind: 'sqlite', path: srcFile } } })).id
    dstId = (await c().call('connections/create', { draft: { name: 'Chinook dst', config: { kind: 'sqlite', path: dstFile } } })).id
    const t = await c().call('connections/test', { id: srcId })
    expect(t.ok).toBe(true)
    expect(t.serverVersion).toMatch(/^SQLite 3\.\d+\.\d+$/)
    const spec = { version: 1, name: 'api flow', reader: { connection: 'Chinook src' }, writer: { connection: dstId }, tables: { include: '*' } }
    const saved = await c().call('jobs/save', { name: 'api flow', spec })
    expect(saved).toMatchObject({ version: 1, created: true })
    jobId = saved.id
    expect(await c().call('jobs/validate', { spec })).toEqual([])
    expect(await c().call('jobs/validate', { spec: { ...spec, tables: { include: ['Nope'] } }, offline: true })).toEqual([])
    const bad = await c().call('jobs/validate', { spec: { ...spec, tables: { include: ['Nope'] } } })
    expect(bad.map((p) => [p.path, p.severity])).toContainEqual(['$.tables.include[0]', 'error'])
    const preview = await c().call('jobs/preview', { spec })
    expect(preview.problems.filter((p) => p.severity === 'error')).toEqual([])
    expect(preview.tasks.map((t) => t.taskId).sort()).toEqual(CHINOOK_TABLES)
    const album = preview.tasks.find((t) => t.taskId === 'Album')!
    expect(album.targetExists).toBe(false)
    expect(album.sourceColumns.map((col) => col.name)).toEqual(['AlbumId', 'Title', 'ArtistId'])
    expect(album.mapping).toEqual([
      { target: 'AlbumId', source: 'AlbumId' },
      { target: 'Title', source: 'Title' },
      { target: 'ArtistId', source: 'ArtistId' },
    ])
    expect(album.ddl?.create.join('\n')).toMatch(/CREATE TABLE/i)
    // preview has no side effects
    expect(existsSync(dstFile) ? new Database(dstFile).prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() : { n: 0 }).toEqual({ n: 0 })
  })

  it('runs/start: live run/progress and run/state events on the WebSocket; the run succeeds with 11 tasks', async () => {
    const sock = await openEvents(server.port, TOKEN)
    try {
      runId = (await c().call('runs/start', { jobId })).runId
      await waitFor(() => sock.events.some((e) => e.type === 'run/state' && e.runId === runId && FINAL.has(e.state)), 60_000, 'final run/state event')
      // the final event is sent once the run is recorded: no polling needed
      const run = await c().call('runs/get', { runId })
      expect(typeof run.endedAt).toBe('string')
      events.push(...sock.events.filter((e) => e.runId === runId))
      expect(run.state).toBe('succeeded')
      expect(run.jobId).toBe(jobId)
      expect(run.jobVersion).toBe(1)
      expect(run.tasks).toHaveLength(11)
      const src = new Database(srcFile, { readonly: true })
      for (const t of run.tasks) {
        const n = (src.prepare(`SELECT count(*) AS n FROM "${t.taskId}"`).get() as { n: number }).n
        expect([t.taskId, t.state, t.rowsRead, t.rowsWritten, t.dirty]).toEqual([t.taskId, 'succeeded', n, n, 0])
      }
      src.close()
      expect(run.rowsWritten).toBe(15607)
      expect(run.summary?.state).toBe('succeeded')
    } finally {
      sock.close()
    }
    const states = events.filter((e) => e.type === 'run/state').map((e) => (e as { state: string }).state)
    expect(states[0]).toBe('running')
    expect(states.at(-1)).toBe('succeeded')
    const progress = events.filter((e): e is Extract<ApiEvent, { type: 'run/progress' }> => e.type === 'run/progress')
    expect(progress.length).toBeGreaterThan(0)
    const lastTrack = progress.filter((p) => p.taskId === 'Track').at(-1)
    expect(lastTrack?.rowsWritten).toBe(3503)
    expect(new Set(events.filter((e) => e.type === 'task/state').map((e) => (e as { taskId: string }).taskId))).toEqual(new Set(CHINOOK_TABLES))
  })

  it('run lists, logs, job list with the last run; cancel of an ended run is a no-op; nothing to rerun', async () => {
    const list = await c().call('runs/list', {})
    expect(list.total).toBe(1)
    expect(list.runs[0]).toMatchObject({ id: runId, state: 'succeeded', jobId, rowsWritten: 15607 })
    const logs = await c().call('runs/logs', { runId })
    expect(logs.length).toBeGreaterThan(0)
    expect(logs.every((l, i) => i === 0 || l.id > logs[i - 1]!.id)).toBe(true)
    const jobs = await c().call('jobs/list', {})
    expect(jobs).toEqual([expect.objectContaining({ id: jobId, name: 'api flow', latestVersion: 1, lastRun: expect.objectContaining({ id: runId, state: 'succeeded' }) })])
    await c().call('runs/cancel', { runId })
    expect(await c().fail('runs/rerun', { runId, failedOnly: true })).toMatchObject({ code: 'NOTHING_TO_RERUN', path: 'runId' })
    expect(await c().call('runs/dirty', { runId })).toEqual({ records: [], total: 0 })
  })

  it('catalog over HTTP on the target', async () => {
    const tables = await c().call('catalog/tables', { connectionId: dstId })
    expect(tables.filter((t) => t.kind === 'table').map((t) => t.name).sort()).toEqual(CHINOOK_TABLES)
    const cols = await c().call('catalog/columns', { connectionId: dstId, table: { name: 'Album' } })
    expect(cols.map((col) => col.name)).toEqual(['AlbumId', 'Title', 'ArtistId'])
    const native = await c().call('catalog/nativeTypes', { connectionId: dstId, columns: cols })
    expect(native).toHaveLength(3)
    for (const n of native) expect(typeof n.sql).toBe('string')
  })

  it('sql/query: bytes and big integers cross the wire exactly; maxRows default 1000; history', async () => {
    const sql = "SELECT TrackId, Name, UnitPrice, X'00FF7F80' AS b, 9223372036854775807 AS big, -9007199254740993 AS big2 FROM Track ORDER BY TrackId LIMIT 3"
    const r = await c().raw('sql/query', { connectionId: dstId, sql })
    expect(r.text).toContain('{"$bytes":"AP9/gA=="}')
    const viaHttp = await c().call('sql/query', { connectionId: dstId, sql })
    const local = createHandlers({ store, dataDir: dir, version: '0', transport: 'ipc', emit: () => {} })
    try {
      const direct = await local.handlers['sql/query']({ connectionId: dstId, sql })
      // identical values and types, bit for bit (elapsed time aside)
      expect({ ...viaHttp, elapsedMs: 0 }).toStrictEqual({ ...direct, elapsedMs: 0 })
      const row = viaHttp.rows[0]!
      expect(row[0]).toBe(1)
      expect(row[1]).toBe('For Those About To Rock (We Salute You)')
      expect(Buffer.isBuffer(row[3])).toBe(true)
      expect([...(row[3] as Buffer)]).toEqual([0x00, 0xff, 0x7f, 0x80])
      expect(String(row[4])).toBe('9223372036854775807')
      expect(String(row[5])).toBe('-9007199254740993')
      if (typeof direct.rows[0]![4] === 'bigint') expect(r.text).toContain('{"$bigint":"9223372036854775807"}')
      // a bigint parameter crosses as {"$bigint"} and is bound exactly
      const p = await c().call('sql/query', { connectionId: dstId, sql: 'SELECT ? AS v, ? AS w', params: [9223372036854775807n, Buffer.from([1, 2, 3])] })
      expect(String(p.rows[0]![0])).toBe('9223372036854775807')
      expect([...(p.rows[0]![1] as Buffer)]).toEqual([1, 2, 3])
    } finally {
      await local.dispose()
    }
    const all = await c().call('sql/query', { connectionId: dstId, sql: 'SELECT TrackId FROM Track ORDER BY TrackId' })
    expect([all.rows.length, all.truncated, all.rows[999]![0]]).toEqual([1000, true, 1000])
    const five = await c().call('sql/query', { connectionId: dstId, sql: 'SELECT TrackId FROM Track ORDER BY TrackId', maxRows: 5 })
    expect([five.rows.length, five.truncated]).toEqual([5, true])
    const err = await c().fail('sql/query', { connectionId: dstId, sql: 'SELECT nope FROM Track' })
    expect(err.message).toBe('no such column: nope')
    const history = await c().call('sql/history', { connectionId: dstId })
    expect(history[0]).toMatchObject({ connectionId: dstId, sql: 'SELECT nope FROM Track', error: 'no such column: nope' })
    expect(history[1]).toMatchObject({ sql: 'SELECT TrackId FROM Track ORDER BY TrackId', rows: 5 })
    for (const h of history) expect(h.elapsedMs).toBeGreaterThanOrEqual(0)
  })

  it('runs/rerun with failedOnly narrows tables to the failed pairs', async () => {
    const bad = path.join(dir, 'bad-target.sqlite')
    const db = new Database(bad)
    // every Album row breaks the CHECK: the Album task fails (errorLimit 0), Artist succeeds
    db.exec('CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL, ArtistId INTEGER NOT NULL CHECK (ArtistId < 0))')
    db.close()
    const spec = { version: 1, name: 'partial', reader: { connection: srcId }, writer: { connection: `sqlite:${bad}` }, tables: [{ source: 'Artist' }, { source: 'Album', where: 'AlbumId <= 5' }] }
    const first = (await c().call('runs/start', { spec, name: 'partial' })).runId
    const run1 = await ended(c(), first)
    expect(run1.state).toBe('failed')
    expect(Object.fromEntries(run1.tasks.map((t) => [t.taskId, t.state]))).toMatchObject({ Artist: 'succeeded', Album: 'failed' })
    const again = (await c().call('runs/rerun', { runId: first, failedOnly: true })).runId
    const run2 = await ended(c(), again)
    expect((run2.spec as { tables: unknown }).tables).toEqual([{ source: 'Album', where: 'AlbumId <= 5' }])
    expect(run2.tasks.map((t) => t.taskId)).toEqual(['Album'])
    expect(run2.name).toBe('partial')
    const dirty = await c().call('runs/dirty', { runId: again })
    expect(dirty.total).toBeGreaterThan(0)
    expect(dirty.records[0]!.columns).toEqual(['AlbumId', 'Title', 'ArtistId'])
    // a full rerun keeps the whole spec
    const full = (await c().call('runs/rerun', { runId: first })).runId
    const run3 = await ended(c(), full)
    expect(run3.tasks.map((t) => t.taskId).sort()).toEqual(['Album', 'Artist'])
  })
})

describe.skipIf(!pgReady)('run flow over HTTP (PostgreSQL schema to schema)', () => {
  const c = () => apiClient(server.port, TOKEN)
  const db = `sl_api_${uniq()}`
  let admin: pg.Client
  let srcId: string
  let dstId: string

  beforeAll(async () => {
    await freshPgDb(db)
    admin = new pg.Client({ ...PG, database: db })
    await admin.connect()
    await admin.query(`CREATE SCHEMA src; CREATE SCHEMA dst;
      CREATE TABLE src.t (id bigint PRIMARY KEY, b bytea, n numeric(30,10));
      INSERT INTO src.t SELECT g, decode(lpad(to_hex(g), 8, '0'), 'hex'), g * 1.0000000001 FROM generate_series(1, 2000) g;
      INSERT INTO src.t VALUES (9223372036854775807, '\\x00ff', 12345678901234567890.0123456789);
      CREATE TABLE src.u (id int PRIMARY KEY, v int NOT NULL);
      INSERT INTO src.u SELECT g, g FROM generate_series(1, 10) g;
      CREATE TABLE dst.u (id int PRIMARY KEY, v int NOT NULL CHECK (v < 0));`)
    srcId = (await c().call('connections/create', { draft: { name: `${db} src`, config: { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, database: db, schema: 'src' } } })).id
    dstId = (await c().call('connections/create', { draft: { name: `${db} dst`, config: { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, database: db, schema: 'dst' } } })).id
  })
  afterAll(async () => {
    await admin?.end()
    // connections hold pooled sessions to the database: delete them (closing the cached connectors) first
    for (const id of [srcId, dstId]) if (id) await c().call('connections/delete', { id }).catch(() => {})
    await dropPgDb(db)
  })

  it('events on the WebSocket, task states in runs/get, failed-only rerun, exact values in sql/query', async () => {
    const sock = await openEvents(server.port, TOKEN)
    const spec = { version: 1, name: 'pg flow', reader: { connection: srcId }, writer: { connection: dstId }, tables: [{ source: 't' }, { source: 'u' }] }
    let runId: string
    try {
      runId = (await c().call('runs/start', { spec })).runId
      await waitFor(() => sock.events.some((e) => e.type === 'run/state' && e.runId === runId && FINAL.has(e.state)), 60_000, 'final run/state')
    } finally {
      sock.close()
    }
    // the final event is sent once the run is recorded: no polling needed
    const run = await c().call('runs/get', { runId })
    expect([run.state, typeof run.endedAt, run.summary?.state]).toEqual(['failed', 'string', 'failed'])
    expect(run.name).toBe('pg flow')
    const byTask = Object.fromEntries(run.tasks.map((t) => [t.taskId, t]))
    expect([byTask.t!.state, byTask.t!.rowsWritten]).toEqual(['succeeded', 2001])
    expect(byTask.u!.state).toBe('failed')
    const mine = sock.events.filter((e) => e.runId === runId)
    expect(mine.some((e) => e.type === 'run/progress' && e.taskId === 't' && e.rowsWritten === 2001)).toBe(true)
    expect(mine.filter((e) => e.type === 'run/state').map((e) => (e as { state: string }).state)).toEqual(['running', 'failed'])
    const dirty = await c().call('runs/dirty', { runId })
    expect(dirty.total).toBeGreaterThan(0)
    expect(dirty.records[0]).toMatchObject({ taskId: 'u', columns: ['id', 'v'], code: '23514' })

    const again = (await c().call('runs/rerun', { runId, failedOnly: true })).runId
    const run2 = await ended(c(), again)
    expect((run2.spec as { tables: unknown }).tables).toEqual([{ source: 'u' }])
    expect(run2.tasks.map((t) => t.taskId)).toEqual(['u'])

    const sql = 'SELECT id, b, n FROM dst.t WHERE id IN (1, 9223372036854775807) ORDER BY id'
    const raw = await c().raw('sql/query', { connectionId: dstId, sql })
    expect(raw.text).toContain('{"$bytes":"AP8="}')
    const q = await c().call('sql/query', { connectionId: dstId, sql })
    const local = createHandlers({ store, dataDir: dir, version: '0', transport: 'ipc', emit: () => {} })
    try {
      const direct = await local.handlers['sql/query']({ connectionId: dstId, sql })
      expect({ ...q, elapsedMs: 0 }).toStrictEqual({ ...direct, elapsedMs: 0 })
    } finally {
      await local.dispose()
    }
    expect(q.rows.map((r) => [String(r[0]), [...(r[1] as Buffer)], r[2]])).toEqual([
      ['1', [0, 0, 0, 1], '1.0000000001'],
      ['9223372036854775807', [0, 255], '12345678901234567890.0123456789'],
    ])
    // bigint parameter bound exactly
    const p = await c().call('sql/query', { connectionId: dstId, sql: 'SELECT id FROM dst.t WHERE id = $1', params: [9223372036854775807n] })
    expect(p.rows.map((r) => String(r[0]))).toEqual(['9223372036854775807'])
  })

  it('catalog/nativeTypes: the target\'s types for source columns', async () => {
    const cols = await c().call('catalog/columns', { connectionId: srcId, table: { name: 't' } })
    expect(cols.map((col) => col.name)).toEqual(['id', 'b', 'n'])
    const native = await c().call('catalog/nativeTypes', { connectionId: dstId, columns: cols })
    expect(native.map((n) => n.sql)).toEqual(['bigint', 'bytea', 'numeric(30,10)'])
  })

  it('runs/cancel terminates an active run; closing the server terminates the rest', async () => {
    // 200 records/s over 2001 rows: ~10 s unless cancelled
    const spec = { version: 1, reader: { connection: srcId }, writer: { connection: dstId, schema: 'dst' }, tables: [{ source: 't', target: 't_slow' }], setting: { speed: { channel: 1, record: 200 } } }
    const { runId } = await c().call('runs/start', { spec, name: 'slow' })
    await waitFor(async () => (await c().call('runs/get', { runId })).state === 'running', 20_000, 'running')
    const t0 = Date.now()
    await c().call('runs/cancel', { runId })
    const run = await ended(c(), runId)
    expect(Date.now() - t0).toBeLessThan(8000)
    expect(run.state).toBe('terminated')
    expect(run.rowsWritten).toBeLessThan(2001)
    // a second server over the same store: close() ends its active run as terminated, recorded
    const other = await startServer({ store, dataDir: dir, token: TOKEN, staticDir: dir })
    const oc = apiClient(other.port, TOKEN)
    const second = (await oc.call('runs/start', { spec: { ...spec, tables: [{ source: 't', target: 't_slow2' }] } })).runId
    await waitFor(async () => (await oc.call('runs/get', { runId: second })).state === 'running', 20_000, 'running')
    await other.close()
    const closed = await c().call('runs/get', { runId: second })
    expect([closed.state, closed.endedAt !== undefined]).toEqual(['terminated', true])
    // this server did not start it and it has ended: cancel is a no-op
    await c().call('runs/cancel', { runId: second })
  })

  it('sql/cancel aborts a running query', async () => {
    const queryId = 'q-' + uniq()
    const running = c().fail('sql/query', { connectionId: srcId, sql: 'SELECT pg_sleep(30)', queryId })
    await new Promise((r) => setTimeout(r, 300))
    const t0 = Date.now()
    await c().call('sql/cancel', { queryId })
    const err = await running
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(err.code).toBe('ABORTED')
    const h = await c().call('sql/history', { connectionId: srcId, limit: 1 })
    expect(h[0]).toMatchObject({ sql: 'SELECT pg_sleep(30)' })
    // the history keeps the driver's own words
    expect(err.message).toBe(`query cancelled (${h[0]!.error})`)
  })
})
