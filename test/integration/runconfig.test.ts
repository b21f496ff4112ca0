/**
 * Run configuration aliases with the OpenPie names (issue 15), each on the real servers where it
 * changes a run: enable_pk_duplicate_detect (source key duplicates become dirty records before
 * the import), import_order_by (ORDER BY of the read), source_timezone (session time zone of both
 * sides), heartbeat_timeout (split timeout); batch_parallel_size and export_batch_rows are
 * accepted and normalized to the settings they alias.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import { startRun } from '../../main/engine/service.js'
import { normalizeRunConfig } from '../../main/job/runconfig.js'
import { parseJob } from '../../main/job/spec.js'
import { openStore, type Store } from '../../main/store/index.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const base = { version: 1, reader: { connection: 'sqlite::memory:' }, writer: { connection: 'sqlite::memory:' }, tables: [{ source: 't' }] }
const parse = (extra: Record<string, unknown>) => {
  const r = parseJob({ ...base, ...extra })
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r.job
}

describe('run configuration aliases: accepted and normalized', () => {
  it('batch_parallel_size is setting.speed.tables (which wins when both are given)', () => {
    expect(normalizeRunConfig(parse({ setting: { batch_parallel_size: 3 } })).tablesAtOnce).toBe(3)
    const both = parse({ setting: { batch_parallel_size: 3 } })
    ;(both.setting.speed as { tables?: number }).tables = 5
    expect(normalizeRunConfig(both).tablesAtOnce).toBe(5)
    expect(normalizeRunConfig(parse({})).tablesAtOnce).toBeUndefined()
  })
  it("export_batch_rows is the files writer's exportBatchRows (which wins when both are given)", () => {
    expect(normalizeRunConfig(parse({ setting: { export_batch_rows: 50_000 } })).exportBatchRows).toBe(50_000)
    const both = parse({ setting: { export_batch_rows: 50_000 } })
    ;(both.writer as { exportBatchRows?: number }).exportBatchRows = 10
    expect(normalizeRunConfig(both).exportBatchRows).toBe(10)
  })
  it('heartbeat_timeout (s) -> split timeout (ms); source_timezone; import_order_by; enable_pk_duplicate_detect in setting or verify', () => {
    expect(normalizeRunConfig(parse({ setting: { heartbeat_timeout: 1.5, source_timezone: '+08:00', import_order_by: ' id DESC ' } }))).toEqual({ pkDuplicateDetect: false, splitTimeoutMs: 1500, timezone: '+08:00', orderBy: 'id DESC' })
    expect(normalizeRunConfig(parse({ setting: { enable_pk_duplicate_detect: true } })).pkDuplicateDetect).toBe(true)
    expect(normalizeRunConfig(parse({ verify: { enable_pk_duplicate_detect: true } })).pkDuplicateDetect).toBe(true)
  })
  it('bad values are refused with their JSON path', () => {
    const r = parseJob({ ...base, setting: { batch_parallel_size: 0, heartbeat_timeout: -1 } })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.problems.map((p) => p.path).sort()).toEqual(['$.setting.batch_parallel_size', '$.setting.heartbeat_timeout'])
  })
})

const ready = await serversReady('mysql', 'postgres')

describe.skipIf(!ready)('run configuration aliases on the servers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-runconfig-'))
  const id = uniq()
  const src = `sl_rc_${id}`
  const tgt = `sl_rc_t_${id}`
  const pgDb = `sl_rc_${id}`
  let store: Store
  let my: mysql.Connection
  const url = (db: string) => `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${db}`
  const pgUrl = `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${pgDb}`
  const q = async (sql: string) => ((await my.query(sql)) as [Array<Record<string, unknown>>, unknown])[0]

  beforeAll(async () => {
    await freshMysqlDb(src)
    await freshMysqlDb(tgt)
    await freshPgDb(pgDb)
    my = await mysql.createConnection({ ...MYSQL, database: src, timezone: 'Z' })
    await my.query("SET time_zone = '+00:00'")
    await my.query('CREATE TABLE dups (id INT, v VARCHAR(10))')
    await my.query("INSERT INTO dups VALUES (1,'a'),(2,'b'),(3,'c'),(3,'c2'),(4,'d'),(5,'e'),(5,'e2'),(5,'e3')")
    await my.query('CREATE TABLE ordered (id INT PRIMARY KEY, v VARCHAR(10))')
    await my.query('INSERT INTO ordered VALUES ?', [Array.from({ length: 30 }, (_, i) => [i + 1, `v${i + 1}`])])
    await my.query('CREATE TABLE times (id INT PRIMARY KEY, ts TIMESTAMP NULL)')
    await my.query("INSERT INTO times VALUES (1, '2026-12-04 00:00:00'), (2, '2026-12-04 20:30:00')")
    store = openStore({ dataDir: dir })
  })
  afterAll(async () => {
    store?.close()
    await my?.end()
    await dropMysqlDb(src)
    await dropMysqlDb(tgt)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  it('enable_pk_duplicate_detect: every row of a duplicated source key is a dirty record before the import', async () => {
    const pgc = { connection: pgUrl }
    // verify.enable_pk_duplicate_detect, with the key from verify.key_columns; errorLimit 0: the run fails.
    const h1 = startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: pgc, tables: [{ source: 'dups', target: 'dups_a' }], verify: { algorithm: 'countdiff', key_columns: ['id'], enable_pk_duplicate_detect: true } } })
    const s1 = await h1.done
    expect(s1.state).toBe('failed')
    expect(s1.error).toMatch(/errorLimit exceeded: 5 dirty records/)
    const d1 = store.dirty.list(h1.runId, { limit: 100 })
    expect(d1.map((d) => [d.code, d.values[0], d.values[1]]).sort((x, y) => String(x[2]).localeCompare(String(y[2])))).toEqual([
      ['SOURCE_DUPLICATE_KEY', 3, 'c'],
      ['SOURCE_DUPLICATE_KEY', 3, 'c2'],
      ['SOURCE_DUPLICATE_KEY', 5, 'e'],
      ['SOURCE_DUPLICATE_KEY', 5, 'e2'],
      ['SOURCE_DUPLICATE_KEY', 5, 'e3'],
    ])
    expect(d1[0]!.reason).toMatch(/duplicate key in the source: \(id=3\)/)
    // setting.enable_pk_duplicate_detect with a tolerant errorLimit: reported, and the run goes on.
    const h2 = startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: pgc, tables: [{ source: 'dups', target: 'dups_b' }], verify: { algorithm: 'countdiff', key_columns: ['id'] }, setting: { enable_pk_duplicate_detect: true, errorLimit: { record: 10 } } } })
    const s2 = await h2.done
    expect(s2.state, s2.error).toBe('succeeded')
    expect(store.dirty.list(h2.runId, { limit: 100 }).filter((d) => d.code === 'SOURCE_DUPLICATE_KEY')).toHaveLength(5)
    // Without the alias: no check, no dirty record.
    const h3 = startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: pgc, tables: [{ source: 'dups', target: 'dups_c' }] } })
    expect((await h3.done).state).toBe('succeeded')
    expect(store.dirty.count(h3.runId)).toBe(0)
  })

  it('import_order_by: rows are read (and so written) in that order', async () => {
    await my.query(`CREATE TABLE \`${tgt}\`.ordered (seq INT AUTO_INCREMENT PRIMARY KEY, id INT, v VARCHAR(10))`)
    const s = await startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: { connection: url(tgt) }, tables: [{ source: 'ordered' }], setting: { import_order_by: 'id DESC', speed: { channel: 4 } } } }).done
    expect(s.state, s.error).toBe('succeeded')
    const rows = await q(`SELECT seq, id FROM \`${tgt}\`.ordered ORDER BY seq`)
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i))
  })

  it('source_timezone: both sessions use it (a TIMESTAMP read at +08:00, written as the same instant)', async () => {
    await my.query(`CREATE TABLE \`${tgt}\`.times (id INT PRIMARY KEY, ts TIMESTAMP NULL, ts_wall DATETIME NULL)`)
    const mapping = [{ source: 'id', target: 'id' }, { source: 'ts', target: 'ts' }, { source: 'ts', target: 'ts_wall' }]
    const s = await startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: { connection: url(tgt) }, tables: [{ source: 'times', mapping }], setting: { source_timezone: '+08:00' } } }).done
    expect(s.state, s.error).toBe('succeeded')
    const rows = await q(`SELECT id, CAST(ts AS CHAR) AS ts, CAST(ts_wall AS CHAR) AS wall FROM \`${tgt}\`.times ORDER BY id`)
    // Read back at +00:00: the instant is unchanged; the wall clock shows the +08:00 rendering.
    expect(rows).toEqual([
      { id: 1, ts: '2026-12-04 00:00:00', wall: '2026-12-04 08:00:00' },
      { id: 2, ts: '2026-12-04 20:30:00', wall: '2026-12-05 04:30:00' },
    ])
  })

  it('heartbeat_timeout: a split with no batch for that many seconds fails', async () => {
    const s = await startRun({ store, spec: { version: 1, reader: { connection: url(src) }, writer: { connection: pgUrl }, tables: [{ source: { querySql: 'SELECT id, SLEEP(4) AS s FROM ordered WHERE id <= 2' }, target: 'slow' }], setting: { heartbeat_timeout: 1 } } }).done
    expect(s.state).toBe('failed')
    expect(s.error).toMatch(/no batch moved for 1 s \(split timeout\)/)
  }, 60_000)
})
