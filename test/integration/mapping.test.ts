/**
 * Table-mapping files (issue 15, Alibaba MMA's format): `sluice jobs from-mapping` turns a file of
 * 20 lines into one job of 20 tasks (partition specs carried as each task's where) that all run
 * (MariaDB -> PostgreSQL); bad lines are reported with their line numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { jobFromMapping, partitionWhere } from '../../main/job/mapping.js'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, REPO_ROOT, serversReady, uniq } from '../helpers/servers.js'

describe('mapping file parsing', () => {
  it('builds one task per line, partition specs as where, bad lines with their numbers', () => {
    const text = [
      '# source,target',
      'sales.orders,dw.orders',
      '',
      "sales.events:dt='20261204'/region=eu,dw.events_eu",
      'just-one-field',
      'a.b.c,dw.x',
      'sales.z,other.z',
      'sales.orders,dw.orders',
      "sales.m:dt>=20261101/dt<'20261201',dw.m",
      'sales.bad:dt~1,dw.bad',
    ].join('\n')
    const r = jobFromMapping(text, { reader: 'src', writer: 'dst', name: 'batch' })
    expect(r.tasks).toBe(3)
    expect(r.job.writer).toMatchObject({ connection: 'dst', schema: 'dw' })
    expect(r.job.tables).toEqual([
      { source: { schema: 'sales', table: 'orders' }, target: 'orders' },
      { source: { schema: 'sales', table: 'events' }, target: 'events_eu', where: "dt = '20261204' AND region = 'eu'" },
      { source: { schema: 'sales', table: 'm' }, target: 'm', where: "dt >= '20261101' AND dt < '20261201'" },
    ])
    expect(r.problems).toEqual([
      { line: 5, message: 'expected 2 fields (source[:partition],target), got 1' },
      { line: 6, message: "source 'a.b.c' is not [db.]table" },
      { line: 7, message: "target database 'other' differs from 'dw' (line 2): one job writes into one schema" },
      { line: 8, message: "target table 'orders' is already the target of line 2" },
      { line: 10, message: "partition term 'dt~1' is not column<op>value (op: = != <> >= <= > <)" },
    ])
  })

  it('partition values are literals, never SQL', () => {
    expect(partitionWhere("name='O''Brien'")).toBe("name = 'O''Brien'")
    expect(partitionWhere("x=1; DROP TABLE t")).toBe("x = '1; DROP TABLE t'")
    expect(() => partitionWhere('x=a\\b')).toThrow(/backslash/)
    expect(() => partitionWhere("x) OR (1=1")).toThrow(/not column<op>value/)
  })
})

const ready = await serversReady('mysql', 'postgres')

describe.skipIf(!ready)('sluice jobs from-mapping', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-mapping-'))
  const id = uniq()
  const src = `sl_map_${id}`
  const pgDb = `sl_map_${id}`
  const myUrl = `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${src}`
  const pgUrl = `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${pgDb}`

  beforeAll(async () => {
    await freshMysqlDb(src)
    await freshPgDb(pgDb)
    const c = await mysql.createConnection({ ...MYSQL, database: src })
    for (let i = 1; i <= 20; i++) {
      const t = `t${String(i).padStart(2, '0')}`
      await c.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, dt VARCHAR(8) NOT NULL, v VARCHAR(20))`)
      await c.query(`INSERT INTO ${t} VALUES ?`, [Array.from({ length: 10 + i }, (_, k) => [k + 1, k % 2 ? '20261204' : '20261203', `${t}-${k}`])])
    }
    await c.end()
  })
  afterAll(async () => {
    await dropMysqlDb(src)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  it('a mapping file of 20 lines gives 20 tasks that all run', async () => {
    const lines = ['# 20 tables; even ones carry a partition filter']
    for (let i = 1; i <= 20; i++) {
      const t = `t${String(i).padStart(2, '0')}`
      lines.push(`${src}.${t}${i % 2 === 0 ? ":dt='20261204'" : ''},public.m_${t}`)
    }
    const file = path.join(dir, 'mapping.csv')
    const out = path.join(dir, 'job.json')
    writeFileSync(file, lines.join('\n') + '\n')
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dir, 'jobs', 'from-mapping', file, '--reader', myUrl, '--writer', pgUrl, '-o', out, '--name', 'mma batch'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const job = JSON.parse(readFileSync(out, 'utf8')) as { tables: Array<{ where?: string }> }
    expect(job.tables).toHaveLength(20)
    expect(job.tables.filter((t) => t.where === "dt = '20261204'")).toHaveLength(10)

    const store = openStore({ dataDir: dir })
    try {
      const s = await startRun({ store, spec: job }).done
      expect(s.state, s.error).toBe('succeeded')
      expect(s.tasks).toHaveLength(20)
      expect(s.tasks.every((t) => t.state === 'succeeded')).toBe(true)
      const pgc = new pg.Client({ ...PG, database: pgDb })
      await pgc.connect()
      try {
        for (let i = 1; i <= 20; i++) {
          const n = Number((await pgc.query(`SELECT count(*) AS n FROM "m_t${String(i).padStart(2, '0')}"`)).rows[0].n)
          const all = 10 + i
          expect(n, `t${i}`).toBe(i % 2 === 0 ? Math.floor(all / 2) : all)
        }
      } finally {
        await pgc.end()
      }
    } finally {
      store.close()
    }
  }, 120_000)

  it('reports bad lines with their numbers and writes nothing', () => {
    const file = path.join(dir, 'bad.csv')
    writeFileSync(file, `${src}.t01,public.a\n${src}.t02\n${src}.t03:dt,public.c\n`)
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dir, 'jobs', 'from-mapping', file, '--reader', myUrl, '--writer', pgUrl], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`${file}:2: expected 2 fields`)
    expect(r.stderr).toContain(`${file}:3: partition term 'dt' is not column<op>value`)
  })
})
