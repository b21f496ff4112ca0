/**
 * A resumed run's totals: a table finished by the first attempt is counted in the run's rows read
 * and written as well as in its task (it once was counted in the task only). SQLite files only:
 * the first attempt fails on a CHECK the second table's target has, the resume runs without it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { startRun } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'

const dir = mkdtempSync(path.join(tmpdir(), 'sluice-resume-totals-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('resumed run totals', () => {
  it('count the tables an earlier attempt finished', async () => {
    const src = path.join(dir, 'src.db')
    const dst = path.join(dir, 'dst.db')
    const s = new Database(src)
    s.exec(`CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)`)
    const insA = s.prepare('INSERT INTO a VALUES (?, ?)')
    const insB = s.prepare('INSERT INTO b VALUES (?, ?)')
    for (let i = 1; i <= 300; i++) insA.run(i, `a${i}`)
    for (let i = 1; i <= 200; i++) insB.run(i, i === 150 ? 'bad' : `b${i}`)
    s.close()
    const d = new Database(dst)
    d.exec(`CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT CHECK (v <> 'bad'))`)
    d.close()

    mkdirSync(path.join(dir, 'state'))
    const store = openStore({ dataDir: path.join(dir, 'state') })
    const spec = {
      version: 1 as const,
      reader: { connection: `sqlite:${src}` },
      writer: { connection: `sqlite:${dst}`, createTable: true, truncate: true },
      tables: [{ source: 'a' }, { source: 'b' }],
      // One table at a time: b's dirty record stops the run (errorLimit 0), and with tables in
      // parallel it would stop a mid-way too (resumable, but this test counts a finished table).
      setting: { speed: { channel: 1, tables: 1 } },
    }
    const first = await startRun({ store, spec }).done
    expect(first.state).toBe('failed')
    expect(first.tasks.map((t) => t.state)).toEqual(['succeeded', 'failed'])

    // The target loses its CHECK; the resume re-does table b only.
    const d2 = new Database(dst)
    d2.exec(`DROP TABLE b; CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)`)
    d2.close()
    const second = await startRun({ store, resumeRunId: first.runId }).done
    expect(second.state).toBe('succeeded')
    expect(second.tasks.map((t) => [t.state, t.rowsWritten])).toEqual([
      ['succeeded', 300],
      ['succeeded', 200],
    ])
    expect(second.rowsWritten).toBe(500)
    expect(second.rowsRead).toBe(500)
    const d3 = new Database(dst, { readonly: true })
    expect((d3.prepare('SELECT COUNT(*) AS n FROM a').get() as { n: number }).n).toBe(300)
    expect((d3.prepare('SELECT COUNT(*) AS n FROM b').get() as { n: number }).n).toBe(200)
    d3.close()
    store.close()
  })
})
