/**
 * The TableDataDiff stage inside runs: a job with `verify` checks each table after its load; a
 * difference (planted here by the job's own postSql) marks the task and the run "inconsistent"
 * and the summary says how many rows differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startRun } from '../../main/engine/service.js'
import { openStore, type Store } from '../../main/store/index.js'
import { CHINOOK_SQLITE, dropPgDb, freshPgDb, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('postgres')

describe.skipIf(!ready)('TableDataDiff stage in runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-vstage-'))
  const src = path.join(dir, 'chinook.sqlite')
  const db = `sl_vstage_${uniq()}`
  let store: Store

  beforeAll(async () => {
    copyFileSync(CHINOOK_SQLITE, src)
    await freshPgDb(db)
    store = openStore({ dataDir: dir })
  })
  afterAll(async () => {
    store?.close()
    await dropPgDb(db)
    rmSync(dir, { recursive: true, force: true })
  })

  const job = (tables: unknown, verify: unknown, postSql: string[] = []) => ({
    reader: { connection: { kind: 'sqlite', path: src } },
    writer: { connection: { kind: 'postgres', ...PG, database: db }, truncate: true, postSql },
    tables,
    verify,
  })

  it('verifies every table of a whole-database migration', async () => {
    const h = startRun({ store, spec: job({ include: '*' }, { algorithm: 'hashdiff', bisection_threshold: 256 }) })
    const s = await h.done
    expect(s.error).toBeUndefined()
    expect(s.state).toBe('succeeded')
    expect(s.tasks).toHaveLength(11)
    expect(s.tasks.every((t) => t.state === 'succeeded')).toBe(true)
    const logs = store.logs.tail(h.runId, { limit: 500 }).map((l) => l.message)
    expect(logs.filter((m) => /TableDataDiff \(hashdiff\): consistent/.test(m))).toHaveLength(11)
    expect(store.runTasks.list(h.runId).every((t) => t.stage === 'TableDataDiff')).toBe(true)
  })

  it('a planted difference makes the task and the run inconsistent, with the rows counted', async () => {
    // Targets of their own: the first test's tables are referenced by foreign keys (no TRUNCATE).
    const planted = [`UPDATE "track_v" SET "UnitPrice" = 1.00 WHERE "TrackId" = 7`, `DELETE FROM "track_v" WHERE "TrackId" = 9`]
    const h = startRun({ store, spec: job([{ source: 'Track', target: 'track_v', postSql: planted }, { source: 'Genre', target: 'genre_v' }], { algorithm: 'hashdiff', bisection_threshold: 64, bisection_factor: 4 }) })
    const s = await h.done
    expect(s.state).toBe('inconsistent')
    const track = s.tasks.find((t) => t.taskId === 'Track')!
    expect(track.state).toBe('inconsistent')
    expect(track.diffRows).toBe(2)
    expect(track.error).toMatch(/2 rows differ: 1 only in source, 0 only in target, 1 changed/)
    expect(s.tasks.find((t) => t.taskId === 'Genre')!.state).toBe('succeeded')
    expect(s.error).toMatch(/data inconsistent in 1 of 2 tables: Track \(2 rows differ\)/)
    expect(store.runs.get(h.runId)!.state).toBe('inconsistent')
    expect(store.runTasks.get(h.runId, 'Track')!.state).toBe('inconsistent')
  })

  it('countdiff counts the difference; md5diff says the checksums differ without inventing a count', async () => {
    for (const algorithm of ['countdiff', 'md5diff'] as const) {
      const h = startRun({ store, spec: job([{ source: 'Genre', target: `genre_${algorithm}`, postSql: [`DELETE FROM "genre_${algorithm}" WHERE "GenreId" IN (3, 4)`] }], { algorithm }) })
      const s = await h.done
      expect(s.state, algorithm).toBe('inconsistent')
      expect(s.tasks[0]!.diffRows, algorithm).toBe(algorithm === 'countdiff' ? 2 : undefined)
      expect(s.error, algorithm).toMatch(algorithm === 'countdiff' ? /\(2 rows differ\)/ : /\(checksums differ\)/)
    }
  })

  it('says when hashdiff stopped at verify.limit: the count is a lower bound', async () => {
    const h = startRun({ store, spec: job([{ source: 'Track', target: 'track_lim', postSql: [`UPDATE "track_lim" SET "Name" = "Name" || '!' WHERE "TrackId" <= 30`] }], { algorithm: 'hashdiff', limit: 5, bisection_threshold: 64 }) })
    const s = await h.done
    expect(s.state).toBe('inconsistent')
    expect(s.tasks[0]!.error).toMatch(/at least \d+ rows differ.*search stopped at verify\.limit = 5/)
  })

  it('a reader where is applied to an existing, larger target too (columns match), and the result names both filters', async () => {
    const all = startRun({ store, spec: { ...job([{ source: 'Genre', target: 'genre_w' }], undefined), writer: { connection: { kind: 'postgres', ...PG, database: db } } } })
    expect((await all.done).state).toBe('succeeded')
    const spec = {
      ...job([{ source: 'Genre', target: 'genre_w', where: '"GenreId" <= 10' }], { algorithm: 'hashdiff' }),
      writer: { connection: { kind: 'postgres', ...PG, database: db }, writeMode: 'update' },
    }
    const h = startRun({ store, spec })
    const s = await h.done
    expect(s.error).toBeUndefined()
    expect(s.state).toBe('succeeded')
    const logs = store.logs.tail(h.runId, { limit: 200 }).map((l) => l.message)
    expect(logs.find((m) => /TableDataDiff/.test(m))).toMatch(/consistent, 10 rows; filters: source WHERE "GenreId" <= 10, target WHERE "GenreId" <= 10/)
    // An explicit verify.target_where wins; here it widens the target, so its extra rows show.
    const h2 = startRun({ store, spec: { ...spec, verify: { algorithm: 'hashdiff', target_where: '"GenreId" <= 12' } } })
    const s2 = await h2.done
    expect(s2.state).toBe('inconsistent')
    expect(s2.tasks[0]!.error).toMatch(/2 rows differ: 0 only in source, 2 only in target.*filters: source WHERE "GenreId" <= 10, target WHERE "GenreId" <= 12/)
  })
})
