/**
 * The scheduler through the API over HTTP + WebSocket, with the loop running inside the server
 * (`sluice serve`): schedules (set, preview, publish, pause/resume, errors with paths), backfill
 * (plan, start) watched through `instance/state` events, instances (get, logs, kill,
 * set success, rerun with downstream), workflows (validate, save, run, export), `jobs/list`
 * showing the next run. SQLite files only: no database server needed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent } from '../../main/api/contract.js'
import { startServer, type RunningServer } from '../../main/api/http.js'
import { openStore, type Store } from '../../main/store/index.js'
import { apiClient, openEvents, waitFor } from '../helpers/api-client.js'

let dir: string
let store: Store
let server: RunningServer
const TOKEN = 'sched-token-' + 'y'.repeat(32)
let api: ReturnType<typeof apiClient>
let src: string
let dst: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-sched-'))
  store = openStore({ dataDir: dir })
  src = path.join(dir, 'src.db')
  dst = path.join(dir, 'dst.db')
  const db = new Database(src)
  db.exec('CREATE TABLE ev (id INTEGER PRIMARY KEY, d TEXT NOT NULL, v TEXT NOT NULL)')
  const ins = db.prepare('INSERT INTO ev VALUES (?, ?, ?)')
  for (let day = 1; day <= 9; day++) for (let k = 0; k < 10; k++) ins.run(day * 1000 + k, `2026030${day}`, `v${k}`)
  db.close()
  server = await startServer({ store, dataDir: dir, token: TOKEN, scheduler: true })
  api = apiClient(server.port, TOKEN)
})
afterAll(async () => {
  await server?.close()
  store?.close()
  rmSync(dir, { recursive: true, force: true })
})

const job = (target: string) => ({ version: 1, reader: { connection: `sqlite:${src}` }, writer: { connection: `sqlite:${dst}`, writeMode: 'replace' }, tables: [{ source: 'ev', target, where: "d = '${bizdate}'" }] })

describe('scheduler API', () => {
  it('schedules: preview, set, errors with paths, pause/resume, next run on jobs/list', async () => {
    const { id } = await api.call('jobs/save', { name: 'api ev', spec: job('ev_a') })
    const preview = await api.call('schedules/preview', { spec: { cycle: { type: 'daily', at: '00:30' }, timezone: 'UTC' }, after: '2026-03-01T00:00:00Z' })
    expect(preview.map((f) => f.cyctime)).toEqual(['2026-03-01 00:30:00', '2026-03-02 00:30:00', '2026-03-03 00:30:00', '2026-03-04 00:30:00', '2026-03-05 00:30:00'])
    expect(preview[0]!.dataTime).toBe('2026-02-28')
    const err = await api.fail('schedules/set', { target: { kind: 'job', id }, spec: { cycle: { type: 'cron', expr: '0 0 * *' } } })
    expect(err).toMatchObject({ code: 'BAD_REQUEST', path: 'cycle.expr' })
    const s = await api.call('schedules/set', { target: { kind: 'job', id: 'api ev' }, spec: { cycle: { type: 'daily', at: '00:30' }, timezone: 'UTC', selfDependency: true } })
    expect(s).toMatchObject({ state: 'active', publishedVersion: 1, latestVersion: 1, target: { name: 'api ev' } })
    expect(s.nextFireAt).toBeTruthy()
    const listed = (await api.call('jobs/list', {})).find((j) => j.id === id)!
    expect(listed.nextRunAt).toBe(s.nextFireAt)
    expect(listed.schedule).toMatchObject({ state: 'active', publishedVersion: 1 })
    expect((await api.call('schedules/pause', { id: s.id })).state).toBe('paused')
    expect((await api.call('jobs/list', {})).find((j) => j.id === id)!.schedule!.state).toBe('paused')
    expect((await api.call('schedules/resume', { id: s.id })).state).toBe('active')
    // A new version runs only once published.
    await api.call('jobs/save', { id, name: 'api ev', spec: { ...job('ev_a'), setting: { speed: { channel: 1 } } } })
    expect((await api.call('schedules/get', { target: { kind: 'job', id } }))!.publishedVersion).toBe(1)
    const pub = await api.call('schedules/publish', { target: { kind: 'job', id } })
    expect(pub.version).toBe(2)
    expect((await api.call('scheduler/status', {})) ).toMatchObject({ running: true, here: true })
  })

  it('backfill: plan, start, instances succeed in data-time order (instance/state events)', async () => {
    const ev = await openEvents(server.port, TOKEN)
    try {
      const plan = await api.call('backfill/plan', { target: { kind: 'job', id: 'api ev' }, from: '2026-03-02', to: '2026-03-04' })
      expect(plan.items.map((i) => `${i.dataTime}<${i.after.join(',')}`)).toEqual(['2026-03-02<', '2026-03-03<api ev@2026-03-02', '2026-03-04<api ev@2026-03-03'])
      const started = await api.call('backfill/start', { target: { kind: 'job', id: 'api ev' }, from: '2026-03-02', to: '2026-03-04' })
      expect(started.instances).toHaveLength(3)
      const ids = started.instances.map((i) => i.id)
      await waitFor(async () => (await api.call('instances/list', { backfillId: started.backfillId })).instances.every((i) => i.state === 'succeeded'), 60_000, 'the backfill')
      const done = (e: ApiEvent) => e.type === 'instance/state' && e.state === 'succeeded' && ids.includes(e.instanceId)
      await waitFor(() => ev.events.filter(done).length === 3, 10_000, 'succeeded events')
      const order = ev.events.filter(done).map((e) => (e as { dataTime: string }).dataTime)
      expect(order).toEqual(['2026-03-02', '2026-03-03', '2026-03-04'])
      expect(ev.events.some((e) => e.type === 'run/progress')).toBe(true)
      const detail = await api.call('instances/get', { id: ids[0]! })
      expect(detail).toMatchObject({ version: 2, bizdate: '20260302', cyctime: '2026-03-03 00:30:00', origin: 'backfill', attempt: 1 })
      expect(detail.runIds).toEqual([detail.runId])
      const run = await api.call('runs/get', { runId: detail.runId! })
      expect(run.rowsWritten).toBe(10)
      expect((await api.call('instances/logs', { id: ids[0]! })).map((l) => l.message).join('\n')).toMatch(/succeeded/)
      const d = new Database(dst, { readonly: true })
      expect(d.prepare('SELECT d, count(*) AS n FROM ev_a GROUP BY d ORDER BY d').all()).toEqual(['20260302', '20260303', '20260304'].map((x) => ({ d: x, n: 10 })))
      d.close()
    } finally {
      ev.close()
    }
  }, 90_000)

  it('instances: kill a waiting one, set success, rerun with downstream', async () => {
    const { id: down } = await api.call('jobs/save', { name: 'api down', spec: job('ev_b') })
    await api.call('schedules/set', { target: { kind: 'job', id: down }, spec: { cycle: { type: 'daily', at: '01:00' }, timezone: 'UTC', dependsOn: [{ kind: 'job', id: 'api ev' }] } })
    // A downstream instance for a data time whose upstream has no instance waits; kill it.
    const bf = await api.call('backfill/start', { target: { kind: 'job', id: down }, dates: ['2026-03-07'] })
    await waitFor(async () => !!(await api.call('instances/get', { id: bf.instances[0]!.id })).waitingFor?.includes('upstream'), 20_000, 'waiting for upstream')
    expect((await api.call('instances/kill', { id: bf.instances[0]!.id })).state).toBe('terminated')
    // set success of an upstream instance lets a downstream one run.
    const up = await api.call('backfill/start', { target: { kind: 'job', id: 'api ev' }, dates: ['2026-03-08'] })
    await waitFor(async () => (await api.call('instances/get', { id: up.instances[0]!.id })).state === 'succeeded', 30_000, 'upstream')
    const r = await api.call('instances/rerunDownstream', { id: up.instances[0]!.id })
    expect(r.instances.map((i) => i.target.name)).toEqual(['api ev', 'api down'])
    await waitFor(async () => (await Promise.all(r.instances.map((i) => api.call('instances/get', { id: i.id })))).every((i) => i.state === 'succeeded'), 60_000, 'rerun with downstream').catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await Promise.all(r.instances.map((i) => api.call('instances/get', { id: i.id }))))}`)
    })
    const again = await api.call('instances/get', { id: up.instances[0]!.id })
    expect(again.attempt).toBe(2)
    expect(again.runIds).toHaveLength(2)
    expect((await api.call('instances/setSuccess', { id: bf.instances[0]!.id })).state).toBe('succeeded')
  }, 120_000)

  it('workflows: validate (cycle path), save, run, node states, export', async () => {
    const bad = await api.call('workflows/validate', { spec: { version: 1, kind: 'workflow', name: 'x', nodes: [{ id: 'a', type: 'shell', command: 'true' }, { id: 'b', type: 'shell', command: 'true' }], edges: [['a', 'b'], ['b', 'a']] } })
    expect(bad).toEqual([{ path: '$.edges', message: 'the edges form a cycle: a -> b -> a', severity: 'error', code: 'cycle' }])
    const spec = {
      version: 1,
      kind: 'workflow',
      name: 'api wf',
      nodes: [
        { id: 'load', type: 'sync', job: 'api ev' },
        { id: 'count', type: 'sql', connection: `sqlite:${dst}`, sql: "DELETE FROM ev_a WHERE d = '${bizdate}' AND id % 2 = 1; SELECT count(*) FROM ev_a" },
        { id: 'echo', type: 'shell', command: 'echo "bizdate=$SLUICE_BIZDATE"' },
      ],
      edges: [['load', 'count'], ['load', 'echo']],
    }
    const saved = await api.call('workflows/save', { spec })
    expect(saved).toMatchObject({ version: 1, created: true })
    const { instanceId } = await api.call('workflows/run', { id: 'api wf', bizdate: '20260309' })
    await waitFor(async () => ['succeeded', 'failed'].includes((await api.call('instances/get', { id: instanceId })).state), 60_000, 'the workflow')
    const inst = await api.call('instances/get', { id: instanceId })
    expect(inst.state).toBe('succeeded')
    expect(inst.nodes.map((n) => `${n.nodeId}:${n.state}`)).toEqual(['load:succeeded', 'count:succeeded', 'echo:succeeded'])
    expect(inst.nodes.find((n) => n.nodeId === 'count')!.rowsAffected).toBe(5)
    const logs = await api.call('instances/logs', { id: instanceId, nodeId: 'echo' })
    expect(logs.map((l) => l.message)).toContain('bizdate=20260309')
    const list = await api.call('workflows/list', {})
    expect(list.find((w) => w.name === 'api wf')).toMatchObject({ nodeCount: 3, lastInstance: { id: instanceId, state: 'succeeded', dataTime: '2026-03-09' } })
    const exp = await api.call('workflows/export', { id: 'api wf', format: 'dolphinscheduler' })
    // DataX has no SQLite plugin: the sync node becomes a SHELL task running `sluice run`.
    expect(JSON.parse(exp.files[0]!.content)[0].taskDefinitionList.map((t: { taskType: string }) => t.taskType)).toEqual(['SHELL', 'SQL', 'SHELL'])
    expect(exp.warnings.join('\n')).toMatch(/DataX cannot express this job/)
    expect(exp.warnings.join('\n')).toMatch(/no SQLite data source/)
    expect((await api.call('workflows/schema', {})).title).toBe('Sluice workflow (version 1)')
  }, 90_000)
})
