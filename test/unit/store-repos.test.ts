import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Value } from '../../main/core/types.js'
import { NodeSecretBox, openStore, StoreError, type Store } from '../../main/store/index.js'
import { newId } from '../../main/store/util.js'
import { ALL_VALUES, expectSameValues, tempDir } from './store-fixtures.js'

const dataDir = tempDir('repos')
let s: Store
beforeAll(() => {
  s = openStore({ dataDir, secretBox: new NodeSecretBox({ key: randomBytes(32) }) })
})
afterAll(() => {
  s.close()
  s.close() // safe twice
  rmSync(dataDir, { recursive: true, force: true })
})

function caught(fn: () => unknown): StoreError {
  try {
    fn()
  } catch (e) {
    if (e instanceof StoreError) return e
    throw e
  }
  throw new Error('expected a StoreError')
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('ids', () => {
  it('are UUIDv7, unique and strictly increasing in creation order', () => {
    const ids = Array.from({ length: 20000 }, () => newId())
    for (const id of ids.slice(0, 50)) expect(id).toMatch(UUID7)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    const ms = parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16)
    expect(Math.abs(ms - Date.now())).toBeLessThan(5000)
  })
})

describe('connections', () => {
  it('create / get / list / update / duplicate / delete', () => {
    const a = s.connections.create({ name: 'Chinook', config: { kind: 'sqlite', path: '/tmp/chinook.db' } })
    expect(a.id).toMatch(UUID7)
    expect(a.createdAt).toMatch(ISO_MS)
    expect(a.hasPassword).toBe(false)
    const b = s.connections.create({ name: 'maria', config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: 'pw1', options: { x: 1 } } })
    expect(s.connections.get(b.id)).toEqual({ id: b.id, name: 'maria', config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', options: { x: 1 } }, hasPassword: true, secrets: ['password'], createdAt: b.createdAt, updatedAt: b.updatedAt })
    expect(s.connections.list().map((c) => c.name)).toEqual(['Chinook', 'maria'])

    // password undefined keeps it, '' clears it, a string replaces it
    s.connections.update(b.id, { config: { kind: 'mysql', host: 'db2', user: 'root' } })
    expect(s.connections.resolveConfig(b.id)).toEqual({ kind: 'mysql', host: 'db2', user: 'root', password: 'pw1' })
    s.connections.update(b.id, { name: 'maria2', config: { kind: 'mysql', host: 'db2', user: 'root', password: 'pw2' } })
    expect(s.connections.resolveConfig('maria2').password).toBe('pw2')
    const cleared = s.connections.update(b.id, { config: { kind: 'mysql', host: 'db2', user: 'root', password: '' } })
    expect(cleared.hasPassword).toBe(false)
    expect(s.connections.resolveConfig(b.id)).toEqual({ kind: 'mysql', host: 'db2', user: 'root' })
    s.connections.update(b.id, { config: { kind: 'mysql', host: 'db2', user: 'root', password: 'pw3' } })
    s.connections.update(b.id, { name: 'maria3' }) // name only: keeps settings and password
    expect(s.connections.resolveConfig('maria3').password).toBe('pw3')

    const d1 = s.connections.duplicate(b.id)
    const d2 = s.connections.duplicate(b.id)
    expect([d1.name, d2.name]).toEqual(['maria3 (copy)', 'maria3 (copy 2)'])
    expect(s.connections.resolveConfig(d2.id)).toEqual({ kind: 'mysql', host: 'db2', user: 'root', password: 'pw3' })

    expect(s.connections.delete(d1.id)).toBe(true)
    expect(s.connections.delete(d1.id)).toBe(false)
    expect(s.connections.get(d1.id)).toBeUndefined()
  })

  it('refuses a duplicate name with an error naming the field', () => {
    s.connections.create({ name: 'uniq-pg', config: { kind: 'postgres' } })
    const e = caught(() => s.connections.create({ name: 'UNIQ-pg', config: { kind: 'postgres' } }))
    expect([e.code, e.path, e.message]).toEqual(['DUPLICATE', 'name', 'name: a connection named "UNIQ-pg" already exists'])
    const other = s.connections.create({ name: 'other', config: { kind: 'postgres' } })
    expect(caught(() => s.connections.update(other.id, { name: 'uniq-pg' })).path).toBe('name')
    expect(caught(() => s.connections.duplicate(other.id, 'uniq-pg')).code).toBe('DUPLICATE')
    expect(caught(() => s.connections.create({ name: ' ', config: { kind: 'postgres' } })).path).toBe('name')
    expect(caught(() => s.connections.create({ name: 'k', config: { kind: 'oracle' as never } })).path).toBe('config.kind')
    expect(caught(() => s.connections.update('nope', { name: 'z' })).code).toBe('NOT_FOUND')
    expect(caught(() => s.connections.resolveConfig('nope')).message).toBe('no connection with id or name "nope"')
  })
})

describe('jobs', () => {
  it('versions increment, specs are kept exactly, unchanged saves add nothing', () => {
    const text1 = '{ "reader": {"table": "Album"},  "n": 12345678901234567890 }'
    const r1 = s.jobs.save(text1, { name: 'album-copy' })
    expect(r1).toEqual({ id: r1.id, version: 1, created: true })
    const r2 = s.jobs.save({ reader: { table: 'Album' }, speed: { channel: 2 } }, { name: 'album-copy', id: r1.id })
    expect(r2).toEqual({ id: r1.id, version: 2, created: true })
    const r3 = s.jobs.save({ reader: { table: 'Album' }, speed: { channel: 2 } }, { name: 'album copy', id: r1.id })
    expect(r3).toEqual({ id: r1.id, version: 2, created: false })
    const r4 = s.jobs.save({ v: 3 }, { name: 'album copy', id: r1.id })
    expect(r4.version).toBe(3)

    expect(s.jobs.get(r1.id, 1)!.specText).toBe(text1)
    const latest = s.jobs.get('album copy')!
    expect([latest.name, latest.version, latest.latestVersion, latest.spec]).toEqual(['album copy', 3, 3, { v: 3 }])
    expect(s.jobs.get(r1.id, 9)).toBeUndefined()
    expect(s.jobs.versions(r1.id).map((v) => [v.version, v.specText])).toEqual([
      [1, text1],
      [2, '{"reader":{"table":"Album"},"speed":{"channel":2}}'],
      [3, '{"v":3}'],
    ])
    expect(caught(() => s.jobs.save('{bad', { name: 'x' })).path).toBe('spec')
    expect(caught(() => s.jobs.save({}, { name: 'ALBUM COPY' })).path).toBe('name')
    expect(caught(() => s.jobs.save({}, { name: 'x', id: 'missing' })).code).toBe('NOT_FOUND')
  })

  it('lists with search and the last run', () => {
    const a = s.jobs.save({}, { name: 'track_100%' })
    s.jobs.save({}, { name: 'track_other' })
    expect(s.jobs.list({ search: '100%' }).map((j) => j.name)).toEqual(['track_100%'])
    expect(s.jobs.list({ search: 'TRACK' }).map((j) => j.name)).toEqual(['track_100%', 'track_other'])
    expect(s.jobs.list({ search: 'track_1' })[0].lastRun).toBeUndefined()
    s.runs.create({ jobId: a.id, name: 'track_100%', spec: {} })
    const r2 = s.runs.create({ jobId: a.id, name: 'track_100%', spec: {} })
    s.runs.setState(r2.id, 'running')
    const item = s.jobs.list({ search: '100%' })[0]
    expect(item.lastRun).toEqual({ id: r2.id, state: 'running', createdAt: r2.createdAt, startedAt: item.lastRun!.startedAt })
    expect(item.lastRun!.startedAt).toMatch(ISO_MS)
    // deleting the job keeps its runs
    expect(s.jobs.delete(a.id)).toBe(true)
    expect(s.jobs.get(a.id)).toBeUndefined()
    const kept = s.runs.get(r2.id)!
    expect(kept.jobId).toBeUndefined()
    expect(kept.name).toBe('track_100%')
  })
})

describe('runs, tasks, splits, logs, dirty', () => {
  it('run life cycle and summary', () => {
    const job = s.jobs.save({ a: 1 }, { name: 'life' })
    s.jobs.save({ a: 2 }, { name: 'life', id: job.id })
    const run = s.runs.create({ jobId: job.id, name: 'life', vars: { bizdate: '20261122' }, spec: { a: 2, resolved: true } })
    expect(run).toMatchObject({ jobId: job.id, jobVersion: 2, name: 'life', vars: { bizdate: '20261122' }, state: 'created', rowsRead: 0, spec: { a: 2, resolved: true } })
    expect(run.startedAt).toBeUndefined()
    s.runs.setState(run.id, 'running')
    const started = s.runs.get(run.id)!.startedAt!
    expect(started).toMatch(ISO_MS)
    s.runs.setState(run.id, 'failed', 'Album: table missing')
    let got = s.runs.get(run.id)!
    expect([got.state, got.error, got.startedAt]).toEqual(['failed', 'Album: table missing', started])
    expect(got.endedAt).toMatch(ISO_MS)
    // resume
    s.runs.setState(run.id, 'running')
    got = s.runs.get(run.id)!
    expect([got.state, got.error, got.endedAt, got.startedAt]).toEqual(['running', undefined, undefined, started])
    s.runs.finish(run.id, { startedAt: '2026-11-23T10:00:00+08:00', endedAt: '2026-11-23T02:00:05.5Z', rowsRead: 10, rowsWritten: 9, bytes: 1024, dirty: 1, tables: ['Album'] })
    s.runs.setState(run.id, 'succeeded')
    got = s.runs.get(run.id)!
    expect(got).toMatchObject({ state: 'succeeded', startedAt: '2026-11-23T02:00:00.000Z', endedAt: '2026-11-23T02:00:05.500Z', rowsRead: 10, rowsWritten: 9, bytes: 1024, dirty: 1 })
    expect(got.summary).toEqual({ startedAt: '2026-11-23T02:00:00.000Z', endedAt: '2026-11-23T02:00:05.500Z', rowsRead: 10, rowsWritten: 9, bytes: 1024, dirty: 1, tables: ['Album'] })
    expect(caught(() => s.runs.finish(run.id, { rowsRead: 1.5, rowsWritten: 0, bytes: 0, dirty: 0 })).path).toBe('summary.rowsRead')
    expect(caught(() => s.runs.finish(run.id, { startedAt: '2026-11-23 10:00:00', rowsRead: 1, rowsWritten: 0, bytes: 0, dirty: 0 })).path).toBe('summary.startedAt')
    expect(caught(() => s.runs.setState(run.id, 'done' as never)).path).toBe('state')
    expect(caught(() => s.runs.setState('nope', 'running')).code).toBe('NOT_FOUND')
    expect(caught(() => s.runs.create({ jobId: 'nope', name: 'x', spec: {} })).path).toBe('jobId')
    expect(caught(() => s.runs.create({ jobId: job.id, jobVersion: 7, name: 'x', spec: {} })).path).toBe('jobVersion')
  })

  it('lists runs newest first with filters and paging', () => {
    const job = s.jobs.save({}, { name: 'paging' })
    const ids = Array.from({ length: 5 }, (_, i) => s.runs.create({ jobId: job.id, name: `p${i}`, spec: {} }).id)
    s.runs.setState(ids[1], 'failed', 'x')
    s.runs.setState(ids[3], 'failed', 'y')
    expect(s.runs.list({ jobId: job.id, limit: 10 }).map((r) => r.name)).toEqual(['p4', 'p3', 'p2', 'p1', 'p0'])
    expect(s.runs.list({ jobId: job.id, limit: 2, offset: 1 }).map((r) => r.name)).toEqual(['p3', 'p2'])
    expect(s.runs.list({ jobId: job.id, state: 'failed' }).map((r) => [r.name, r.error])).toEqual([['p3', 'y'], ['p1', 'x']])
    expect(s.runs.count({ jobId: job.id, state: 'failed' })).toBe(2)
    expect('spec' in s.runs.list({ jobId: job.id, limit: 1 })[0]).toBe(false)
    expect(caught(() => s.runs.list({ limit: -1 })).path).toBe('limit')
  })

  it('tasks: upsert, cheap counter updates, order', () => {
    const run = s.runs.create({ name: 'tasks', spec: {} })
    s.runTasks.upsert({ runId: run.id, taskId: 'Album', source: 'main.Album', target: 'sl.Album', estimatedRows: 347 })
    s.runTasks.upsert({ runId: run.id, taskId: 'Artist', source: 'main.Artist', target: 'sl.Artist' })
    s.runTasks.update(run.id, 'Album', { state: 'running', stage: 'ImportTable', startedAt: new Date(Date.UTC(2026, 10, 23, 1, 2, 3, 4)) })
    s.runTasks.updateMany(run.id, [
      { taskId: 'Album', rowsRead: 300, rowsWritten: 290, bytes: 12000, dirty: 2 },
      { taskId: 'Artist', rowsRead: 5 },
    ])
    s.runTasks.update(run.id, 'Album', { error: 'oops' })
    s.runTasks.update(run.id, 'Album', { error: null, estimatedRows: null })
    expect(s.runTasks.list(run.id)).toEqual([
      { runId: run.id, taskId: 'Album', source: 'main.Album', target: 'sl.Album', state: 'running', stage: 'ImportTable', rowsRead: 300, rowsWritten: 290, bytes: 12000, dirty: 2, startedAt: '2026-11-23T01:02:03.004Z' },
      { runId: run.id, taskId: 'Artist', source: 'main.Artist', target: 'sl.Artist', state: 'pending', stage: 'ExportTable', rowsRead: 5, rowsWritten: 0, bytes: 0, dirty: 0 },
    ])
    // re-upsert replaces fields but keeps the order
    s.runTasks.upsert({ runId: run.id, taskId: 'Album', source: 'main.Album', target: 'sl.Album', state: 'succeeded', rowsWritten: 345 })
    expect(s.runTasks.list(run.id).map((t) => [t.taskId, t.state, t.rowsWritten, t.rowsRead])).toEqual([['Album', 'succeeded', 345, 0], ['Artist', 'pending', 0, 5]])
    expect(caught(() => s.runTasks.update(run.id, 'Nope', { rowsRead: 1 })).path).toBe('taskId')
    expect(caught(() => s.runTasks.update(run.id, 'Album', { rowsRead: -1 })).path).toBe('rowsRead')
    expect(caught(() => s.runTasks.update(run.id, 'Album', { stage: 'Load' as never })).path).toBe('stage')
    expect(caught(() => s.runTasks.upsert({ runId: 'nope', taskId: 'A', source: 'a', target: 'b' })).path).toBe('runId')
    // a failing patch in updateMany rolls back the whole tick
    expect(caught(() => s.runTasks.updateMany(run.id, [{ taskId: 'Artist', rowsRead: 99 }, { taskId: 'Nope', rowsRead: 1 }])).code).toBe('NOT_FOUND')
    expect(s.runTasks.get(run.id, 'Artist')!.rowsRead).toBe(5)
  })

  it('splits: plan, markDone (with task counters), resume keeps done, bounds round-trip exactly', () => {
    const run = s.runs.create({ name: 'splits', spec: {} })
    s.runTasks.upsert({ runId: run.id, taskId: 'T', source: 's', target: 't' })
    const big = 2n ** 64n + 5n
    s.splits.plan(run.id, 'T', [
      { splitIndex: 0, range: { column: 'id', upper: big, upperInclusive: false, includeNull: true } },
      { splitIndex: 1, range: { column: 'id', lower: big, lowerInclusive: true, upper: Buffer.from([0, 1, 0]) } },
      { splitIndex: 2 },
    ])
    s.splits.markDone(run.id, 'T', 1, { rows: 100, bytes: 4096 }, { rowsWritten: 100, bytes: 4096 })
    // planning again (resume) leaves the done split alone
    s.splits.plan(run.id, 'T', [{ splitIndex: 0 }, { splitIndex: 1 }, { splitIndex: 2 }])
    const done = s.splits.doneSplits(run.id, 'T')
    expect(done.map((d) => [d.splitIndex, d.state, d.rows, d.bytes])).toEqual([[1, 'done', 100, 4096]])
    expect(done[0].range!.lower).toBe(big)
    expect((done[0].range!.upper as Buffer).equals(Buffer.from([0, 1, 0]))).toBe(true)
    expect(done[0].range).toEqual({ column: 'id', lower: big, lowerInclusive: true, upper: Buffer.from([0, 1, 0]) })
    const all = s.splits.list(run.id, 'T')
    expect(all.map((x) => x.state)).toEqual(['pending', 'done', 'pending'])
    expect(all[0].range).toEqual({ column: 'id', upper: big, upperInclusive: false, includeNull: true })
    expect(all[2].range).toBeUndefined()
    expect(s.runTasks.get(run.id, 'T')!.rowsWritten).toBe(100)
    // a bad task patch rolls the checkpoint back too
    expect(caught(() => s.splits.markDone(run.id, 'T', 2, { rows: 1, bytes: 1 }, { rowsRead: -3 })).path).toBe('rowsRead')
    expect(s.splits.doneSplits(run.id, 'T').length).toBe(1)
    expect(s.splits.clear(run.id, 'T')).toBe(3)
  })

  it('logs: batched append and tail with a cursor', () => {
    const run = s.runs.create({ name: 'logs', spec: {} })
    const lines = Array.from({ length: 250 }, (_, i) => ({ level: (i % 50 === 0 ? 'warn' : 'info') as 'warn' | 'info', message: `line ${i} ✓`, taskId: i % 2 ? 'A' : undefined }))
    const last = s.logs.append(run.id, lines)
    expect(s.logs.append(run.id, [])).toBe(0)
    const tail = s.logs.tail(run.id, { limit: 3 })
    expect(tail.map((l) => l.message)).toEqual(['line 247 ✓', 'line 248 ✓', 'line 249 ✓'])
    expect(tail[2].id).toBe(last)
    expect(tail[0].ts).toMatch(ISO_MS)
    expect(tail[1]).toEqual({ id: last - 1, runId: run.id, ts: tail[1].ts, level: 'info', message: 'line 248 ✓' })
    expect(tail[0].taskId).toBe('A')
    expect(tail[2].taskId).toBe('A')
    expect('taskId' in tail[1]).toBe(false)
    const head = s.logs.tail(run.id, { afterId: 0, limit: 2 })
    expect(head.map((l) => [l.message, l.level])).toEqual([['line 0 ✓', 'warn'], ['line 1 ✓', 'info']])
    expect(s.logs.tail(run.id, { afterId: last })).toEqual([])
    const id = s.logs.append(run.id, { level: 'error', message: 'x', ts: '2026-11-23T08:00:00+08:00' })
    expect(s.logs.tail(run.id, { afterId: last })).toEqual([{ id, runId: run.id, ts: '2026-11-23T00:00:00.000Z', level: 'error', message: 'x' }])
    expect(caught(() => s.logs.append(run.id, [{ level: 'info', message: 'ok' }, { level: 'trace' as never, message: 'x' }])).path).toBe('entries[1].level')
    expect(caught(() => s.logs.append('nope', { level: 'info', message: 'x' })).path).toBe('runId')
  })

  it('dirty records keep every Value kind exactly', () => {
    const run = s.runs.create({ name: 'dirty', spec: {} })
    const columns = ALL_VALUES.map((_, i) => `c${i}`)
    expect(s.dirty.add(run.id, 'Album', [
      { reason: "Data too long for column 'c15'", code: 'ER_DATA_TOO_LONG', column: 'c15', values: ALL_VALUES, columns },
      { reason: 'null', values: [null, ''], columns: ['a', 'b'] },
    ])).toBe(2)
    s.dirty.add(run.id, 'Artist', [{ reason: 'dup', values: [2n ** 80n], columns: ['id'] }])
    const list = s.dirty.list(run.id, { taskId: 'Album' })
    expect(list.length).toBe(2)
    expectSameValues(ALL_VALUES, list[0].values)
    expect(list[0]).toMatchObject({ runId: run.id, taskId: 'Album', reason: "Data too long for column 'c15'", code: 'ER_DATA_TOO_LONG', column: 'c15', columns })
    expectSameValues([null, ''], list[1].values)
    expect(list[1].code).toBeUndefined()
    expect(s.dirty.count(run.id)).toBe(3)
    expect(s.dirty.count(run.id, 'Artist')).toBe(1)
    expect(s.dirty.list(run.id, { limit: 1, offset: 2 })[0].values).toEqual([2n ** 80n])
    const bad = caught(() => s.dirty.add(run.id, 'A', [{ reason: 'r', values: [1, new Date() as unknown as Value], columns: ['a', 'b'] }]))
    expect([bad.path, bad.message]).toEqual(['records[0].values[1]', 'records[0].values[1]: not a canonical value (Date)'])
    expect(caught(() => s.dirty.add(run.id, 'A', [{ reason: 'r', values: [1], columns: [] }])).path).toBe('records[0].columns')
    expect(s.dirty.count(run.id)).toBe(3)
    // deleting the run takes its records along
    expect(s.runs.delete(run.id)).toBe(true)
    expect(s.dirty.count(run.id)).toBe(0)
  })
})

describe('transactions without the fsync (durable: false)', () => {
  it('commit what they wrote, roll back on a throw, and nest in a durable one', () => {
    s.transaction(() => s.settings.set('nd.a', 1), { durable: false })
    expect(s.settings.get('nd.a')).toBe(1)
    // Another connection sees the commit (it is in the WAL, only not fsynced).
    const other = openStore({ dataDir, secretBox: new NodeSecretBox({ key: randomBytes(32) }) })
    try {
      expect(other.settings.get('nd.a')).toBe(1)
    } finally {
      other.close()
    }
    expect(() =>
      s.transaction(() => {
        s.settings.set('nd.b', 2)
        throw new Error('boom')
      }, { durable: false }),
    ).toThrow('boom')
    expect(s.settings.get('nd.b')).toBeUndefined()
    s.transaction(() => {
      s.transaction(() => s.settings.set('nd.c', 3), { durable: false })
      s.settings.set('nd.d', 4)
    })
    expect([s.settings.get('nd.c'), s.settings.get('nd.d')]).toEqual([3, 4])
    for (const k of ['nd.a', 'nd.c', 'nd.d']) s.settings.delete(k)
  })
})

describe('query history and settings', () => {
  it('query history per connection, newest first, deleted with the connection', () => {
    const c = s.connections.create({ name: 'hist', config: { kind: 'sqlite', path: ':memory:' } })
    s.queryHistory.add({ connectionId: c.id, sql: 'SELECT 1', elapsedMs: 1.25, rows: 1 })
    s.queryHistory.add({ connectionId: c.id, sql: 'SELECT * FROM nope', elapsedMs: 0.5, error: 'no such table: nope', ts: 0 })
    const h = s.queryHistory.list(c.id)
    expect(h.map((e) => [e.sql, e.rows, e.error, e.elapsedMs])).toEqual([
      ['SELECT * FROM nope', undefined, 'no such table: nope', 0.5],
      ['SELECT 1', 1, undefined, 1.25],
    ])
    expect(h[0].ts).toBe('1970-01-01T00:00:00.000Z')
    expect(s.queryHistory.list(c.id, { search: 'nope' }).length).toBe(1)
    expect(caught(() => s.queryHistory.add({ connectionId: 'nope', sql: 'x' })).path).toBe('connectionId')
    s.connections.delete(c.id)
    expect(s.queryHistory.list(c.id)).toEqual([])
  })

  it('settings store JSON values', () => {
    expect(s.settings.get('theme')).toBeUndefined()
    s.settings.set('theme', 'dark')
    s.settings.set('window', { x: 10, y: 20, width: 1280, height: 800, maximized: false })
    s.settings.set('theme', 'light')
    expect(s.settings.get('theme')).toBe('light')
    expect(s.settings.all()).toEqual({ theme: 'light', window: { x: 10, y: 20, width: 1280, height: 800, maximized: false } })
    expect(s.settings.delete('theme')).toBe(true)
    expect(caught(() => s.settings.set('big', 1n)).path).toBe('value')
  })
})
