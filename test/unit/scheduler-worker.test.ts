/**
 * The scheduler in a worker thread (as the desktop app runs it): the secret bridge between the
 * threads, and the loop running an instance to its end, holding and then releasing the lease.
 * Also the `install-service` files and the workflow checks (cycle path, SQL splitting) and the
 * DolphinScheduler export shape.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { startSchedulerWorker } from '../../main/scheduler/host.js'
import { serveSecretBox } from '../../main/scheduler/secret-bridge.js'
import { SchedulerService } from '../../main/scheduler/service.js'
import { serviceFiles } from '../../main/scheduler/cli.js'
import { NodeSecretBox, openStore } from '../../main/store/index.js'
import { cycleIfAdded, parseWorkflow, workflowJsonSchema } from '../../main/workflow/spec.js'
import { splitSqlStatements } from '../../main/workflow/sql-split.js'
import { exportDolphinScheduler, toQuartz } from '../../main/workflow/dolphinscheduler.js'

const root = mkdtempSync(path.join(tmpdir(), 'sluice-schedw-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('scheduler worker thread', () => {
  it('the secret bridge answers a worker synchronously', async () => {
    const box = new NodeSecretBox({ dataDir: root })
    const { end, close } = serveSecretBox(box)
    const w = new Worker(new URL('./fixtures/secret-bridge-worker.mjs', import.meta.url), { workerData: { end, blob: new Uint8Array(box.encrypt('s3cret ✓')) }, transferList: [end.port] })
    const msg = await new Promise<{ plain: string; blob: Uint8Array; scheme: string; error: string }>((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
    })
    await w.terminate()
    close()
    expect(msg.plain).toBe('s3cret ✓')
    expect(box.decrypt(Buffer.from(msg.blob))).toBe('from the worker')
    expect(msg.scheme).toBe(box.scheme)
    expect(msg.error).not.toBe('')
  }, 60_000)

  it('runs instances and releases the lease when stopped', async () => {
    const dataDir = mkdtempSync(path.join(root, 'dd-'))
    const src = path.join(dataDir, 'src.db')
    const db = new Database(src)
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT); INSERT INTO t VALUES (1, '20260301'), (2, '20260302'), (3, '20260302')")
    db.close()
    const store = openStore({ dataDir })
    const logs: string[] = []
    const host = startSchedulerWorker({ dataDir, secretBox: new NodeSecretBox({ dataDir }), log: (l) => logs.push(l) })
    try {
      const job = store.jobs.save({ version: 1, name: 'w', reader: { connection: `sqlite:${src}` }, writer: { connection: `sqlite:${path.join(dataDir, 'dst.db')}` }, tables: [{ source: 't', target: 't', where: "d = '${bizdate}'" }] }, { name: 'w' })
      const svc = new SchedulerService(store)
      const inst = svc.runNow({ kind: 'job', id: job.id }, { bizdate: '2026-03-02' })
      let state = ''
      for (let k = 0; k < 300 && state !== 'succeeded' && state !== 'failed'; k++) {
        await new Promise((r) => setTimeout(r, 200))
        state = store.scheduler.instance(inst.id)!.state
      }
      expect(state).toBe('succeeded')
      expect(svc.status(host.holder())).toMatchObject({ running: true, here: true })
      const dst = new Database(path.join(dataDir, 'dst.db'))
      expect(dst.prepare('SELECT id FROM t ORDER BY id').all()).toEqual([{ id: 2 }, { id: 3 }])
      dst.close()
    } finally {
      await host.stop()
    }
    expect(store.scheduler.lease()).toBeUndefined()
    expect(logs.join('\n')).toMatch(/lease taken/)
    store.close()
  }, 120_000)
})

describe('install-service files', () => {
  const base = { node: '/usr/bin/node', script: '/opt/sluice/bin/sluice.mjs', dataDir: '/home/u/.config/Sluice', home: '/home/u' }
  it('systemd --user, launchd, Task Scheduler', () => {
    const l = serviceFiles({ ...base, platform: 'linux' })
    expect(l.path).toBe('/home/u/.config/systemd/user/sluice-scheduler.service')
    expect(l.content).toContain('ExecStart=/usr/bin/node /opt/sluice/bin/sluice.mjs --data-dir /home/u/.config/Sluice scheduler')
    expect(l.content).toContain('Restart=always')
    expect(l.next).toContain('systemctl --user enable --now sluice-scheduler')
    const m = serviceFiles({ ...base, platform: 'darwin', home: '/Users/u', dataDir: '/Users/u/Library/Application Support/Sluice' })
    expect(m.path).toBe('/Users/u/Library/LaunchAgents/dev.sluice.scheduler.plist')
    expect(m.content).toContain('<string>/Users/u/Library/Application Support/Sluice</string>')
    expect(m.content).toContain('<key>KeepAlive</key><true/>')
    const w = serviceFiles({ ...base, platform: 'win32', dataDir: 'C:\\Users\\u\\AppData\\Roaming\\Sluice', node: 'C:\\node\\node.exe', script: 'C:\\sluice\\bin\\sluice.mjs' })
    expect(w.content).toContain('"C:\\node\\node.exe" "C:\\sluice\\bin\\sluice.mjs" "--data-dir"')
    expect(w.next[0]).toMatch(/^schtasks \/Create \/TN "Sluice scheduler" \/SC ONLOGON/)
  })
})

describe('workflow documents', () => {
  const wf = (edges: Array<[string, string]>) => ({ version: 1, kind: 'workflow', name: 'w', nodes: ['a', 'b', 'c', 'd'].map((id) => ({ id, type: 'shell', command: 'true' })), edges })
  it('refuses cycles with the closing path, unknown nodes, duplicate ids', () => {
    const r = parseWorkflow(wf([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']]))
    expect(r.ok).toBe(false)
    expect(!r.ok && r.problems).toEqual([{ path: '$.edges', message: 'the edges form a cycle: a -> b -> c -> a', severity: 'error', code: 'cycle' }])
    expect(cycleIfAdded(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], 'c', 'a')).toEqual(['a', 'b', 'c', 'a'])
    expect(cycleIfAdded(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], 'a', 'c')).toBeUndefined()
    const bad = parseWorkflow({ ...wf([['a', 'x']]), nodes: [...wf([]).nodes, { id: 'a', type: 'shell', command: 'x' }] })
    expect(!bad.ok && bad.problems.map((p) => p.path)).toEqual(['$.nodes[4].id', '$.edges[0][1]'])
    // A clean-up node is a node like the others (main/workflow/cleanup-node.ts); its job is required.
    expect(parseWorkflow({ version: 1, kind: 'workflow', name: 'c', nodes: [{ id: 'c', type: 'cleanup', job: 'j' }], edges: [] }).ok).toBe(true)
    const noJob = parseWorkflow({ version: 1, kind: 'workflow', name: 'c', nodes: [{ id: 'c', type: 'cleanup' }], edges: [] })
    expect(!noJob.ok && noJob.problems[0]!.path).toMatch(/^\$\.nodes\[0\]/)
    const schema = workflowJsonSchema()
    expect(schema.$id).toBe('https://sluice.dev/schema/workflow-v1.json')
  })

  it('splits SQL statement by statement outside quotes, comments and dollar quotes', () => {
    expect(splitSqlStatements("insert into t values ('a;b'); -- c;\n update t set x = \"q;\" ;\n/* ; */ create function f() returns int as $$ select 1; $$ language sql;;  ")).toEqual([
      "insert into t values ('a;b')",
      '-- c;\n update t set x = "q;"',
      '/* ; */ create function f() returns int as $$ select 1; $$ language sql',
    ])
    expect(splitSqlStatements("select 'it''s;'; select `a;b` from x")).toEqual(["select 'it''s;'", 'select `a;b` from x'])
    expect(splitSqlStatements('-- only a comment\n')).toEqual([])
  })

  it('exports to DolphinScheduler with DATAX, SQL and SHELL tasks, relations, a Quartz schedule and warnings', () => {
    const dataDir = mkdtempSync(path.join(root, 'ds-'))
    const store = openStore({ dataDir })
    try {
      const doc = {
        version: 1 as const,
        kind: 'workflow' as const,
        name: 'daily',
        nodes: [
          { id: 'import', type: 'sync' as const, job: { version: 1, reader: { connection: 'mysql://root@127.0.0.1:3306/shop' }, writer: { connection: 'postgres://postgres@127.0.0.1:5432/dw' }, tables: [{ source: 'orders', target: 'orders', where: "d = '${bizdate}'" }] } },
          { id: 'compute', type: 'sql' as const, connection: 'postgres://postgres@127.0.0.1:5432/dw', sql: "insert into t select * from orders where d = '${bizdate}'" },
          { id: 'notify', type: 'shell' as const, command: 'echo $SLUICE_BIZDATE' },
        ],
        edges: [['import', 'compute'], ['compute', 'notify']] as Array<[string, string]>,
        schedule: { cycle: { type: 'weekly' as const, days: [1, 5], at: '00:30' }, timezone: 'Asia/Shanghai', selfDependency: true, startDataTime: '2026-01-01' },
      }
      const r = exportDolphinScheduler(doc, { store })
      const [dag] = JSON.parse(r.files[0]!.content)
      expect(dag.taskDefinitionList.map((t: { taskType: string }) => t.taskType)).toEqual(['DATAX', 'SQL', 'SHELL'])
      expect(JSON.parse(dag.taskDefinitionList[0].taskParams.json).job.content[0].reader.name).toBe('mysqlreader')
      expect(dag.taskDefinitionList[1].taskParams).toMatchObject({ type: 'POSTGRESQL', sqlType: '1' })
      const codes = dag.taskDefinitionList.map((t: { code: number }) => t.code)
      expect(dag.processTaskRelationList.map((x: { preTaskCode: number; postTaskCode: number }) => [x.preTaskCode, x.postTaskCode])).toEqual([[0, codes[0]], [codes[0], codes[1]], [codes[1], codes[2]]])
      expect(dag.schedule).toMatchObject({ crontab: '0 30 0 ? * 2,6 *', timezoneId: 'Asia/Shanghai', startTime: '2026-01-02 00:00:00' })
      expect(dag.processDefinition.globalParamMap).toMatchObject({ bizdate: '$[yyyyMMdd-1]' })
      expect(r.warnings.join('\n')).toMatch(/self-dependency/)
      expect(r.warnings.join('\n')).toMatch(/choose the DolphinScheduler data source/)
      expect(toQuartz('*/15 * * * *')).toBe('0 */15 * * * ? *')
      expect(toQuartz('0 1 L * *')).toBe('0 0 1 L * ? *')
      expect(toQuartz('0 1 1 * 1')).toBeUndefined()
    } finally {
      store.close()
    }
  })
})
