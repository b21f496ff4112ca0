/**
 * The workflow `cleanup` node (issue 15 with issue 10): sync -> cleanup for one data time deletes
 * from the source exactly the rows that data time's verified run copied; a data time with no run
 * fails the node with its reason and deletes nothing. SQLite on both sides: no server needed.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/servers.js'

function sluice(dataDir: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dataDir, ...args], { timeout: 120_000 }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) })
    })
  })
}

describe('workflow cleanup node', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-wf-cleanup-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('sync -> cleanup deletes from the source the rows of its data time once verified; no run for a data time fails the node', async () => {
    const src = path.join(dir, 'src.db')
    const dst = path.join(dir, 'dst.db')
    const s = new Database(src)
    s.exec('CREATE TABLE ev (id INTEGER PRIMARY KEY, day TEXT NOT NULL, v TEXT)')
    const ins = s.prepare('INSERT INTO ev VALUES (?, ?, ?)')
    for (let i = 1; i <= 300; i++) ins.run(i, `2026030${1 + (i % 3)}`, `v${i}`)
    s.close()
    const dataDir = path.join(dir, 'state')
    const job = path.join(dir, 'job.json')
    writeFileSync(
      job,
      JSON.stringify({
        version: 1,
        name: 'ev daily',
        reader: { connection: `sqlite:${src}`, where: "day = '${bizdate}'" },
        writer: { connection: `sqlite:${dst}`, createTable: true, writeMode: 'replace' },
        tables: [{ source: 'ev' }],
        verify: { algorithm: 'hashdiff' },
      }),
    )
    expect((await sluice(dataDir, ['jobs', 'save', job])).code).toBe(0)
    const wf = path.join(dir, 'wf.json')
    writeFileSync(
      wf,
      JSON.stringify({
        version: 1,
        kind: 'workflow',
        name: 'load then clean',
        nodes: [
          { id: 'load', type: 'sync', job: 'ev daily' },
          { id: 'clean', type: 'cleanup', job: 'ev daily' },
        ],
        edges: [['load', 'clean']],
      }),
    )
    expect((await sluice(dataDir, ['workflow', 'save', wf])).code).toBe(0)
    const r = await sluice(dataDir, ['workflow', 'run', 'load then clean', '--bizdate', '20260302', '--wait'])
    expect(r.code, r.out + r.err).toBe(0)
    const db = new Database(src, { readonly: true })
    const left = db.prepare('SELECT day, count(*) AS n FROM ev GROUP BY day ORDER BY day').all()
    db.close()
    // The 100 rows of 20260302 were copied, verified and deleted from the source; the others stay.
    expect(left).toEqual([
      { day: '20260301', n: 100 },
      { day: '20260303', n: 100 },
    ])
    const t = new Database(dst, { readonly: true })
    expect((t.prepare('SELECT count(*) AS n FROM ev').get() as { n: number }).n).toBe(100)
    t.close()

    // A clean-up alone for a data time no run loaded: refused, nothing deleted.
    const wf2 = path.join(dir, 'wf2.json')
    writeFileSync(wf2, JSON.stringify({ version: 1, kind: 'workflow', name: 'clean only', nodes: [{ id: 'clean', type: 'cleanup', job: 'ev daily' }], edges: [] }))
    expect((await sluice(dataDir, ['workflow', 'save', wf2])).code).toBe(0)
    const r2 = await sluice(dataDir, ['workflow', 'run', 'clean only', '--bizdate', '20260303', '--wait'])
    expect(r2.code).not.toBe(0)
    expect(r2.out + r2.err, r2.out + r2.err).toMatch(/no finished run for data time 2026-03-03/)
    const db2 = new Database(src, { readonly: true })
    expect((db2.prepare('SELECT count(*) AS n FROM ev').get() as { n: number }).n).toBe(200)
    db2.close()
  }, 180_000)
})
