/**
 * The scheduler on the real servers, through the `sluice` CLI (separate processes, one state DB):
 * - a daily job whose `where` uses ${bizdate}, backfilled over 7 data times, loads exactly those days;
 * - self-dependency with day 3 failing: days 4+ wait, then run by themselves once day 3 is fixed and rerun;
 * - two `sluice scheduler` processes on one state DB fire each instance once;
 * - `kill -9` of the scheduler mid-instance: on restart the instance is failed, and its rerun
 *   resumes the same run from its checkpoints with no duplicate;
 * - a workflow sync (MariaDB -> PostgreSQL) -> SQL (PostgreSQL) -> sync (PostgreSQL -> MariaDB) -> shell
 *   gives the expected table, and the shell node sees the variables;
 * - a webhook alert reaches a loopback HTTP server with the instance's id, state and error.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, REPO_ROOT, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')
const PER_DAY = 500
const DAYS = 12 // 2026-03-01 .. 2026-03-12
/** Rows of the table the kill -9 test copies: enough for 2 splits per channel (engine SPLIT_ROWS). */
const BIG = 60_000

const id = uniq()
const SRC = `sched_src_${id}`
const DST = `sched_dst_${id}`
const root = mkdtempSync(path.join(tmpdir(), 'sluice-sched-it-'))
let my: mysql.Connection
let pgc: pg.Client

const myUrl = (db: string) => `mysql://${MYSQL.user}${MYSQL.password ? ':' + MYSQL.password : ''}@${MYSQL.host}:${MYSQL.port}/${db}`
const pgUrl = (db: string) => `postgres://${PG.user}${PG.password ? ':' + PG.password : ''}@${PG.host}:${PG.port}/${db}`

interface Cli {
  code: number
  out: string
  err: string
}
/** Run `sluice` with a data dir; resolves when it exits. */
function sluice(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<Cli> & { child: ChildProcess } {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_CHANNEL_MODE: 'inprocess', ...env },
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  const p = new Promise<Cli>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, err }))) as Promise<Cli> & { child: ChildProcess }
  p.child = child
  return p
}
async function ok(p: Promise<Cli>): Promise<Cli> {
  const r = await p
  if (r.code !== 0) throw new Error(`sluice exited ${r.code}\n${r.out}\n${r.err}`)
  return r
}
interface Inst {
  id: string
  job: string
  dataTime: string
  cyctime: string
  state: string
  runId: string | null
  attempt: number
  waitingFor?: string
  error?: string
}
async function instances(dataDir: string, job: string): Promise<Inst[]> {
  const r = await ok(sluice(dataDir, ['instances', 'list', '--job', job, '--json']))
  return (JSON.parse(r.out) as Inst[]).sort((a, b) => (a.dataTime < b.dataTime ? -1 : a.dataTime > b.dataTime ? 1 : 0))
}

/** A data dir with a saved job `name` (daily at 00:30 UTC) copying `ev` rows of ${bizdate} into PostgreSQL `table`. */
async function setup(name: string, table: string, extra: { job?: Record<string, unknown>; schedule?: string[] } = {}): Promise<string> {
  const dataDir = mkdtempSync(path.join(root, `${name}-`))
  await pgc.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, d date NOT NULL, v text NOT NULL CHECK (v <> 'bad'))`)
  const job = {
    version: 1,
    name,
    reader: { connection: myUrl(SRC) },
    writer: { connection: pgUrl(DST), writeMode: 'insert' },
    tables: [{ source: 'ev', target: table, where: "DATE_FORMAT(d, '%Y%m%d') = '${bizdate}'" }],
    setting: { errorLimit: { record: 0 } },
    ...extra.job,
  }
  const file = path.join(dataDir, 'job.json')
  writeFileSync(file, JSON.stringify(job, null, 2))
  await ok(sluice(dataDir, ['jobs', 'save', file]))
  await ok(sluice(dataDir, ['schedule', 'set', name, '--cycle', 'daily', '--at', '00:30', '--tz', 'UTC', ...(extra.schedule ?? [])]))
  return dataDir
}
const days = async (table: string) => (await pgc.query(`SELECT to_char(d, 'YYYY-MM-DD') AS d, count(*)::int AS n FROM ${table} GROUP BY d ORDER BY d`)).rows as Array<{ d: string; n: number }>

beforeAll(async () => {
  if (!ready) return
  await freshMysqlDb(SRC)
  await freshPgDb(DST)
  my = await mysql.createConnection({ ...MYSQL, database: SRC })
  await my.query('CREATE TABLE ev (id BIGINT PRIMARY KEY, d DATE NOT NULL, v VARCHAR(32) NOT NULL, amount DECIMAL(10,2) NOT NULL, customer INT NOT NULL)')
  const rows: unknown[][] = []
  for (let day = 1; day <= DAYS; day++)
    for (let k = 0; k < PER_DAY; k++) rows.push([day * 100_000 + k, `2026-03-${String(day).padStart(2, '0')}`, `v${k}`, ((k * 37) % 1000) / 4, k % 5])
  for (let i = 0; i < rows.length; i += 2000) await my.query('INSERT INTO ev (id, d, v, amount, customer) VALUES ?', [rows.slice(i, i + 2000)])
  await my.query('CREATE TABLE big (id BIGINT PRIMARY KEY, d DATE NOT NULL, v VARCHAR(32) NOT NULL)')
  await my.query(`INSERT INTO big SELECT seq, DATE('2026-03-01') + INTERVAL (seq % 12) DAY, CONCAT('b', seq) FROM seq_1_to_${BIG}`)
  pgc = new pg.Client({ ...PG, database: DST })
  await pgc.connect()
}, 180_000)

afterAll(async () => {
  if (!ready) return
  await my?.end()
  await pgc?.end()
  await dropMysqlDb(SRC)
  await dropPgDb(DST)
  rmSync(root, { recursive: true, force: true })
})

describe.skipIf(!ready)('scheduler on real servers', () => {
  it('backfills 7 data times of a ${bizdate} job: exactly those 7 days are loaded', async () => {
    const dataDir = await setup('bf7', 'bf7')
    const dry = await ok(sluice(dataDir, ['backfill', 'bf7', '--from', '2026-03-03', '--to', '2026-03-09', '--dry-run']))
    expect(dry.out).toMatch(/7 instance\(s\) would be created/)
    expect(await days('bf7')).toEqual([])
    const r = await ok(sluice(dataDir, ['backfill', 'bf7', '--from', '2026-03-03', '--to', '2026-03-09', '--parallel', '3', '--wait']))
    expect(r.out).toMatch(/backfill .*: 7 instance/)
    expect(await days('bf7')).toEqual(['03', '04', '05', '06', '07', '08', '09'].map((d) => ({ d: `2026-03-${d}`, n: PER_DAY })))
    const list = await instances(dataDir, 'bf7')
    expect(list.map((i) => [i.dataTime, i.cyctime, i.state])).toEqual(['03', '04', '05', '06', '07', '08', '09'].map((d) => [`2026-03-${d}`, `2026-03-${String(Number(d) + 1).padStart(2, '0')} 00:30:00`, 'succeeded']))
    expect(list.every((i) => typeof i.runId === 'string')).toBe(true)
  }, 240_000)

  it('self-dependency: day 3 fails, days 4+ wait, then run by themselves after day 3 is fixed and rerun', async () => {
    const dataDir = await setup('selfdep', 'selfdep', { schedule: ['--self-dependency'] })
    await my.query("UPDATE ev SET v = 'bad' WHERE id = 300007")
    try {
      await ok(sluice(dataDir, ['backfill', 'selfdep', '--from', '2026-03-01', '--to', '2026-03-06']))
      await ok(sluice(dataDir, ['scheduler', '--until-idle']))
      let list = await instances(dataDir, 'selfdep')
      expect(list.map((i) => `${i.dataTime.slice(8)}:${i.state}`)).toEqual(['01:succeeded', '02:succeeded', '03:failed', '04:waiting', '05:waiting', '06:waiting'])
      expect(list[3]!.waitingFor).toMatch(/previous cycle \(2026-03-03, failed\)/)
      expect(list[2]!.error).toBeTruthy()
      expect((await days('selfdep')).map((x) => x.d)).not.toContain('2026-03-04')
      // Fix the row, rerun day 3; the rest follows by itself.
      await my.query("UPDATE ev SET v = 'fixed' WHERE id = 300007")
      await ok(sluice(dataDir, ['instances', 'rerun', list[2]!.id]))
      await ok(sluice(dataDir, ['scheduler', '--until-idle']))
      list = await instances(dataDir, 'selfdep')
      expect(list.map((i) => `${i.dataTime.slice(8)}:${i.state}`)).toEqual(['01:succeeded', '02:succeeded', '03:succeeded', '04:succeeded', '05:succeeded', '06:succeeded'])
      expect(list[2]!.attempt).toBe(2)
      expect(await days('selfdep')).toEqual(['01', '02', '03', '04', '05', '06'].map((d) => ({ d: `2026-03-${d}`, n: PER_DAY })))
      expect((await pgc.query("SELECT v FROM selfdep WHERE id = 300007")).rows).toEqual([{ v: 'fixed' }])
    } finally {
      await my.query("UPDATE ev SET v = 'v7' WHERE id = 300007")
    }
  }, 240_000)

  it('two `sluice scheduler` processes on one state DB fire each instance once', async () => {
    const dataDir = await setup('twoproc', 'twoproc')
    await ok(sluice(dataDir, ['backfill', 'twoproc', '--from', '2026-03-01', '--to', '2026-03-08', '--parallel', '2']))
    const [a, b] = await Promise.all([ok(sluice(dataDir, ['scheduler', '--until-idle'])), ok(sluice(dataDir, ['scheduler', '--until-idle']))])
    const started = (s: string) => (s.match(/ start /g) ?? []).length
    expect(started(a.out) + started(b.out)).toBe(8)
    const list = await instances(dataDir, 'twoproc')
    expect(list.map((i) => `${i.state}/${i.attempt}`)).toEqual(Array(8).fill('succeeded/1'))
    expect(await days('twoproc')).toHaveLength(8)
    expect((await pgc.query('SELECT count(*)::int AS n FROM twoproc')).rows[0].n).toBe(8 * PER_DAY)
    const store = openStore({ dataDir })
    try {
      expect(store.runs.list({ limit: 100 })).toHaveLength(8)
    } finally {
      store.close()
    }
  }, 240_000)

  it('kill -9 of the scheduler mid-instance: the instance is failed on restart and its rerun resumes from checkpoints, no duplicate', async () => {
    // A slow instance: 60,000 rows in 4 splits on 2 channels, throttled to ~12 s.
    const dataDir = await setup('crash', 'crash', {
      job: { tables: [{ source: 'big', target: 'crash', splitPk: 'id' }], setting: { speed: { channel: 2, record: 5000 }, errorLimit: { record: 0 } } },
    })
    await ok(sluice(dataDir, ['backfill', 'crash', '--dates', '2026-03-01']))
    const env = { SLUICE_SCHEDULER_LEASE_MS: '3000' }
    const first = sluice(dataDir, ['scheduler'], env)
    // Wait until some splits are checkpointed, then kill -9.
    const store = openStore({ dataDir })
    let runId: string | undefined
    try {
      for (let k = 0; k < 600; k++) {
        await new Promise((r) => setTimeout(r, 200))
        const i = store.scheduler.listInstances({ limit: 1 }).rows[0]
        runId = i?.runId
        if (runId && store.runTasks.list(runId).some((t) => store.splits.doneSplits(runId!, t.taskId).length >= 1)) break
      }
      expect(runId).toBeTruthy()
      first.child.kill('SIGKILL')
      await first
      const before = (await pgc.query('SELECT count(*)::int AS n FROM crash')).rows[0].n as number
      expect(before).toBeGreaterThan(0)
      expect(before).toBeLessThan(BIG)
      // Restart: it waits for the dead holder's lease to expire, then marks the instance failed.
      const restart = await ok(sluice(dataDir, ['scheduler', '--until-idle'], env))
      expect(restart.out).toMatch(/failed: the scheduler process that ran it stopped/)
      let [inst] = await instances(dataDir, 'crash')
      expect(inst!.state).toBe('failed')
      expect(store.runs.get(runId!)!.state).toBe('failed')
      // Rerun: the same run resumes from its checkpoints.
      const rr = await ok(sluice(dataDir, ['instances', 'rerun', inst!.id, '--wait'], { SLUICE_SCHEDULER_LEASE_MS: '3000' }))
      expect(rr.out).toMatch(/resuming/)
      ;[inst] = await instances(dataDir, 'crash')
      expect(inst!.state).toBe('succeeded')
      expect(inst!.runId).toBe(runId)
      expect(store.runs.get(runId!)!.state).toBe('succeeded')
      const after = await pgc.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS k FROM crash')
      expect(after.rows[0]).toEqual({ n: BIG, k: BIG })
      const logs = store.logs.tail(runId!, { limit: 10_000 }).map((l) => l.message).join('\n')
      expect(logs).toMatch(/resum/i)
    } finally {
      store.close()
      if (first.child.exitCode === null) first.child.kill('SIGKILL')
    }
  }, 300_000)

  it('workflow sync -> SQL -> sync -> shell across MariaDB and PostgreSQL gives the expected table', async () => {
    const dataDir = mkdtempSync(path.join(root, 'wf-'))
    await pgc.query('CREATE TABLE stage_ev (id bigint PRIMARY KEY, d date, v text, amount numeric(10,2), customer int)')
    await pgc.query('CREATE TABLE daily_totals (d date, customer int, total numeric(12,2), n int, PRIMARY KEY (d, customer))')
    await my.query('CREATE TABLE daily_totals (d DATE, customer INT, total DECIMAL(12,2), n INT, PRIMARY KEY (d, customer))')
    const envFile = path.join(dataDir, 'env.txt')
    const wf = {
      version: 1,
      kind: 'workflow',
      name: 'wf_daily',
      nodes: [
        { id: 'import', type: 'sync', job: { version: 1, reader: { connection: myUrl(SRC) }, writer: { connection: pgUrl(DST), truncate: true }, tables: [{ source: 'ev', target: 'stage_ev', where: "DATE_FORMAT(d, '%Y%m%d') = '${bizdate}'" }] } },
        {
          id: 'compute',
          type: 'sql',
          connection: pgUrl(DST),
          sql: "-- totals of the data time\nDELETE FROM daily_totals WHERE d = to_date('${bizdate}', 'YYYYMMDD');\nINSERT INTO daily_totals SELECT d, customer, sum(amount), count(*) FROM stage_ev WHERE d = to_date('${bizdate}', 'YYYYMMDD') GROUP BY d, customer;",
        },
        { id: 'export', type: 'sync', job: { version: 1, reader: { connection: pgUrl(DST) }, writer: { connection: myUrl(SRC), writeMode: 'replace' }, tables: [{ source: 'daily_totals', target: 'daily_totals', where: "d = to_date('${bizdate}', 'YYYYMMDD')" }] } },
        { id: 'notify', type: 'shell', command: `echo "$SLUICE_BIZDATE $SLUICE_WORKFLOW $SLUICE_NODE $region" > ${JSON.stringify(envFile)}`, vars: { region: 'eu' } },
      ],
      edges: [
        ['import', 'compute'],
        ['compute', 'export'],
        ['export', 'notify'],
      ],
    }
    const file = path.join(dataDir, 'wf.json')
    writeFileSync(file, JSON.stringify(wf, null, 2))
    const r = await ok(sluice(dataDir, ['workflow', 'run', file, '--bizdate', '20260305', '--wait']))
    expect(r.out).toMatch(/succeeded/)
    const [expected] = await my.query("SELECT DATE_FORMAT(d, '%Y-%m-%d') AS d, customer, CAST(SUM(amount) AS CHAR) AS total, COUNT(*) AS n FROM ev WHERE d = '2026-03-05' GROUP BY d, customer ORDER BY customer")
    const [got] = await my.query("SELECT DATE_FORMAT(d, '%Y-%m-%d') AS d, customer, CAST(total AS CHAR) AS total, n FROM daily_totals ORDER BY customer")
    expect(got).toEqual(expected)
    expect((got as unknown[]).length).toBe(5)
    expect(readFileSync(envFile, 'utf8').trim()).toBe('20260305 wf_daily notify eu')
    // The instance shows its nodes and the SQL statements with rows affected.
    const inst = JSON.parse((await ok(sluice(dataDir, ['instances', 'list', '--workflow', 'wf_daily', '--json']))).out)[0]
    const show = JSON.parse((await ok(sluice(dataDir, ['instances', 'show', inst.id, '--json']))).out)
    expect(show.nodes.map((n: { nodeId: string; state: string }) => `${n.nodeId}:${n.state}`)).toEqual(['import:succeeded', 'compute:succeeded', 'export:succeeded', 'notify:succeeded'])
    expect(show.nodes[1].rowsAffected).toBe(5)
    expect(show.logs.map((l: { message: string }) => l.message).join('\n')).toMatch(/statement 2: 5 row\(s\) affected/)
    // A failing node stops its downstream; rerun from the failed node runs only what did not succeed.
    await pgc.query('ALTER TABLE daily_totals RENAME TO daily_totals_x')
    const bad = await sluice(dataDir, ['workflow', 'run', 'wf_daily', '--bizdate', '20260306', '--wait'])
    expect(bad.code).toBe(1)
    const inst2 = JSON.parse((await ok(sluice(dataDir, ['instances', 'list', '--workflow', 'wf_daily', '--from', '2026-03-06', '--json']))).out)[0]
    let show2 = JSON.parse((await ok(sluice(dataDir, ['instances', 'show', inst2.id, '--json']))).out)
    expect(show2.nodes.map((n: { nodeId: string; state: string }) => `${n.nodeId}:${n.state}`)).toEqual(['import:succeeded', 'compute:failed', 'export:skipped', 'notify:skipped'])
    const importRun = show2.nodes[0].runId
    await pgc.query('ALTER TABLE daily_totals_x RENAME TO daily_totals')
    await ok(sluice(dataDir, ['instances', 'rerun', inst2.id, '--wait']))
    show2 = JSON.parse((await ok(sluice(dataDir, ['instances', 'show', inst2.id, '--json']))).out)
    expect(show2.state).toBe('succeeded')
    expect(show2.nodes[0].runId).toBe(importRun) // not re-run
    expect(show2.nodes[0].attempt).toBe(1)
    expect(show2.nodes[1].attempt).toBe(2)
    const [n6] = await my.query("SELECT COUNT(*) AS n FROM daily_totals WHERE d = '2026-03-06'")
    expect((n6 as Array<{ n: number }>)[0]!.n).toBe(5)
  }, 300_000)

  it('a webhook alert reaches a loopback HTTP server with the instance id, state and error', async () => {
    const received: Array<{ body: Record<string, unknown>; type?: string }> = []
    const server = createServer((req, res) => {
      let s = ''
      req.on('data', (b) => (s += b))
      req.on('end', () => {
        received.push({ body: JSON.parse(s), ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}) })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    try {
      const dataDir = await setup('alerting', 'alerting', { job: { tables: [{ source: 'no_such_table', target: 'alerting' }] }, schedule: ['--webhook', `http://127.0.0.1:${port}/hook`] })
      const r = await sluice(dataDir, ['backfill', 'alerting', '--dates', '2026-03-02', '--wait'])
      expect(r.code).toBe(1)
      const [inst] = await instances(dataDir, 'alerting')
      expect(inst!.state).toBe('failed')
      expect(received).toHaveLength(1)
      const b = received[0]!.body
      expect(received[0]!.type).toBe('application/json')
      expect(b.id).toBe(inst!.id)
      expect(b.state).toBe('failed')
      expect(b.kind).toBe('failure')
      expect(String(b.error)).toMatch(/no_such_table/)
      expect(b.dataTime).toBe('2026-03-02')
      const show = JSON.parse((await ok(sluice(dataDir, ['instances', 'show', inst!.id, '--json']))).out)
      expect(show.alerts.find((a: { channel: string }) => a.channel === 'webhook')).toMatchObject({ ok: true, status: 204, kind: 'failure' })
    } finally {
      server.close()
    }
  }, 240_000)
})
