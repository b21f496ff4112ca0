/**
 * Fidelity through files: the fidelity suite's edge values go database -> file -> database through
 * CSV (gzip, into an existing table whose types the untyped CSV columns adopt) and through Parquet
 * (into a table created from the Parquet file's schema), from each of MySQL, PostgreSQL and SQLite
 * into the next, and every target value is checked against the expected canonical value. The
 * Parquet files are also read by an independent reader (DuckDB), not only by Sluice's own.
 * Runs under a non-UTC process time zone: nothing may shift.
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { runJob } from '../../main/engine/run.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { checkEdge, createEdge, dbConfig, EDGE_COLS, EDGE_ROWS, type DbKind } from '../helpers/edge-fixture.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

type Kind = DbKind
const COLS = EDGE_COLS
const ROWS = EDGE_ROWS

const NEXT: Record<Kind, Kind> = { mysql: 'postgres', postgres: 'sqlite', sqlite: 'mysql' }

describe.skipIf(!ready)('fidelity through files (CSV and Parquet)', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-ffid-'))
  const made: Array<[Kind, string]> = []
  const cfg = dbConfig
  const srcDb: Record<Kind, string> = { mysql: `sl_ffid_${id}_src`, postgres: `sl_ffid_${id}_src`, sqlite: path.join(dir, 'src.sqlite') }

  beforeAll(async () => {
    made.push(['mysql', await freshMysqlDb(srcDb.mysql)])
    await createEdge('mysql', srcDb.mysql, true)
    made.push(['postgres', await freshPgDb(srcDb.postgres)])
    await createEdge('postgres', srcDb.postgres, true)
    await createEdge('sqlite', srcDb.sqlite, true)
  })

  afterAll(async () => {
    for (const [k, db] of made) if (k === 'mysql') await dropMysqlDb(db)
    for (const [k, db] of made) if (k === 'postgres') await dropPgDb(db)
    rmSync(dir, { recursive: true, force: true })
  })

  async function run(reader: ConnectionConfig, writer: ConnectionConfig, spec: Record<string, unknown>, runId: string) {
    const ref = (c: ConnectionConfig) => (c.kind === 'file' ? `file://${c.path}` : c)
    const sp = spec as { reader?: Record<string, unknown>; writer?: Record<string, unknown> }
    const parsed = parseJob({ ...spec, reader: { ...sp.reader, connection: ref(reader) }, writer: { ...sp.writer, connection: ref(writer) } })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const dirty: string[] = []
    const summary = await runJob({ runId, job: parsed.job, reader, writer, vars: {}, time: timeContext(), channelMode: 'inprocess', onDirty: (rs) => dirty.push(...rs.map((r) => r.reason)) })
    expect(dirty).toEqual([])
    expect(summary.error).toBeUndefined()
    expect(summary.state).toBe('succeeded')
    expect(summary.dirty).toBe(0)
    expect(summary.rowsWritten).toBe(ROWS.length)
  }

  const check = checkEdge

  async function target(to: Kind, name: string, create: boolean): Promise<string> {
    const db = to === 'sqlite' ? path.join(dir, `${name}.sqlite`) : `sl_ffid_${id}_${name}`
    if (to === 'mysql') made.push(['mysql', await freshMysqlDb(db)])
    if (to === 'postgres') made.push(['postgres', await freshPgDb(db)])
    if (create) await createEdge(to, db, false)
    return db
  }

  for (const from of ['mysql', 'postgres', 'sqlite'] as const) {
    const to = NEXT[from]
    it(`${from} -> CSV (gzip) -> ${to}`, async () => {
      const folder = path.join(dir, `csv-${from}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      await run(cfg(from, srcDb[from]), files, { tables: [{ source: 'edge' }], writer: { connection: files, file: { format: 'csv', compression: 'gzip', exportBatchRows: 3 } }, setting: { speed: { channel: 1 } } }, `ffid-csv-w-${from}`)
      const parts = readdirSync(folder).filter((f) => f.endsWith('.csv.gz')).sort()
      expect(parts).toEqual(['edge-000-00001.csv.gz', 'edge-000-00002.csv.gz'])
      const manifest = JSON.parse(readFileSync(path.join(folder, 'edge.manifest.json'), 'utf8'))
      expect(manifest.rows).toBe(ROWS.length)
      expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([3, 1])
      // NULL is the unquoted \N; the text '\N' is quoted.
      const text = gunzipSync(readFileSync(path.join(folder, parts[1]!))).toString('utf8')
      expect(text.split('\n')[0]).toBe(COLS.join(','))
      expect(text).toContain(',"\\N",')
      const first = gunzipSync(readFileSync(path.join(folder, parts[0]!))).toString('utf8')
      expect(first.split('\n').some((l) => l.startsWith('3,\\N,\\N,'))).toBe(true)
      const t = await target(to, `csv_${from}`, true)
      await run(files, cfg(to, t), { tables: [{ source: 'edge-*.csv.gz', target: 'edge' }], reader: { connection: files, file: { format: 'csv' } } }, `ffid-csv-r-${from}`)
      await check(from, to, t, 'CSV', false)
    })

    it(`${from} -> Parquet -> ${to} (table created from the Parquet schema)`, async () => {
      const folder = path.join(dir, `pq-${from}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      await run(cfg(from, srcDb[from]), files, { tables: [{ source: 'edge' }], writer: { connection: files, file: { format: 'parquet' } } }, `ffid-pq-w-${from}`)
      expect(existsSync(path.join(folder, 'edge-000-00001.parquet'))).toBe(true)
      const file = path.join(folder, 'edge-*.parquet')
      // An independent reader: DuckDB sees the logical types and exact values.
      const { DuckDBInstance } = await import('@duckdb/node-api')
      const inst = await DuckDBInstance.create(':memory:')
      const con = await inst.connect()
      const types = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowsJson().map((r) => [r[0], r[1]])
      const t = Object.fromEntries(types as Array<[string, string]>)
      expect(t.dec38).toBe('DECIMAL(38,10)')
      expect(t.i64).toBe('BIGINT')
      expect(t.dt).toBe('TIMESTAMP')
      expect(t.ts).toBe('TIMESTAMP WITH TIME ZONE')
      expect(t.d).toBe('DATE')
      expect(t.bin).toBe('BLOB')
      await con.run(`SET TimeZone='UTC'`)
      const rows = (await con.runAndReadAll(`SELECT id, u64::VARCHAR, i64::VARCHAR, dec38::VARCHAR, dt::VARCHAR, d::VARCHAR, ts::VARCHAR, hex(bin), txt FROM read_parquet('${file}') ORDER BY id`)).getRowsJson()
      expect(rows.length, JSON.stringify(rows)).toBe(ROWS.length)
      expect([String(rows[0]![0]), ...rows[0]!.slice(1)]).toEqual(['1', '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', '2024-02-29 23:59:59.999999', '0001-01-01', '2038-01-19 03:14:07.499999+00', '00FF005C0A', '😀 中文 ü'])
      expect(rows[1]!.slice(1, 7)).toEqual(['0', '9223372036854775807', '0.0000000001', '1000-01-01 00:00:00', '9999-12-31', '1970-01-01 00:00:01+00'])
      expect(rows[2]!.slice(1)).toEqual([null, null, null, null, null, null, null, null])
      con.closeSync()
      const tgt = await target(to, `pq_${from}`, false)
      await run(files, cfg(to, tgt), { tables: [{ source: 'edge-*.parquet', target: 'edge' }], reader: { connection: files } }, `ffid-pq-r-${from}`)
      await check(from, to, tgt, 'Parquet', true)
    })
  }
})
