/**
 * File jobs on a local folder, end to end through the engine: a date-named source directory read
 * through `${YYYYMMDD}`; a bad line that becomes a dirty record naming its file and line; a
 * resumed export that does not duplicate a part; files -> files re-compression and format change
 * (gzip CSV -> zstd JSON Lines, GBK with `\001` delimiters); a whole database as one folder per
 * table; export files tracked per run and cleaned up (exists -> deleted / absent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import iconv from 'iconv-lite'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ConnectionConfig, Split } from '../../main/connectors/types.js'
import { decompressor } from '../../main/connectors/file/compress.js'
import { runJob, type Checkpoints, type PreparedTask } from '../../main/engine/run.js'
import type { Counters, DirtyRecord } from '../../main/engine/events.js'
import { startRun } from '../../main/engine/service.js'
import { cleanExportFiles } from '../../main/engine/export-files.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { openStore, type Store } from '../../main/store/index.js'
import { CHINOOK_SQLITE, dropPgDb, freshPgDb, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('postgres')

/** In-memory checkpoints (what the state DB keeps), so a test can kill and resume a run. */
function memoryCheckpoints(): Checkpoints & { doneSplits: Map<string, Map<number, { rows: number; bytes: number }>> } {
  const prepared = new Map<string, PreparedTask>()
  const planned = new Map<string, Array<{ index: number; range?: Split['range'] }>>()
  const doneSplits = new Map<string, Map<number, { rows: number; bytes: number }>>()
  return {
    doneSplits,
    prepared: (t) => prepared.get(t),
    plannedSplits: (t) => planned.get(t) ?? [],
    savePrepared: (t, info, splits) => {
      if (splits) planned.set(t, splits.map((s) => ({ index: s.index, ...(s.range ? { range: s.range } : {}) })))
      prepared.set(t, info)
    },
    done: (t) => new Map(doneSplits.get(t) ?? []),
    markDone: (t, split, c: Counters) => {
      const m = doneSplits.get(t) ?? new Map()
      m.set(split.index, { rows: c.rowsWritten, bytes: c.bytes })
      doneSplits.set(t, m)
    },
  }
}

async function gunzipText(file: string, kind: 'gzip' | 'zstd'): Promise<string> {
  const d = await decompressor(kind)
  const chunks: Buffer[] = []
  d.on('data', (c: Buffer) => chunks.push(c))
  const done = new Promise((r) => d.on('end', r))
  d.end(readFileSync(file))
  await done
  return Buffer.concat(chunks).toString('utf8')
}

describe.skipIf(!ready)('file jobs on a local folder', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-files-'))
  const pgDb = `sl_files_${id}`
  const pgCfg: ConnectionConfig = { kind: 'postgres', ...PG, database: pgDb }
  let store: Store

  beforeAll(async () => {
    await freshPgDb(pgDb)
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query('CREATE TABLE stat (day date NOT NULL, host varchar(20) NOT NULL, hits bigint NOT NULL, ratio numeric(6,3), src text)')
    await c.query('CREATE TABLE people (id int PRIMARY KEY, name varchar(20), born date)')
    await c.end()
    store = openStore({ dataDir: dir })
  })

  afterAll(async () => {
    store?.close()
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  const run = async (spec: Record<string, unknown>, reader: ConnectionConfig, writer: ConnectionConfig, extra: Partial<Parameters<typeof runJob>[0]> = {}) => {
    const parsed = parseJob(spec)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const dirty: DirtyRecord[] = []
    const summary = await runJob({ runId: `files-${uniq()}`, job: parsed.job, reader, writer, vars: {}, time: timeContext({ bizdate: '20261204' }), channelMode: 'inprocess', onDirty: (r) => dirty.push(...r), ...extra })
    return { summary, dirty }
  }

  it('reads a date-named folder through ${YYYYMMDD}, many files per task, columns by index with a type and format', async () => {
    const root = path.join(dir, 'ftp-like')
    for (const day of ['20261203', '20261204']) mkdirSync(path.join(root, 'origin_stat', 'in', day), { recursive: true })
    // Hive-style \001 delimiter, no header, DataX column list by index with a date format.
    const line = (d: string, host: string, hits: string, ratio: string) => [d, host, hits, ratio].join('\u0001') + '\n'
    writeFileSync(path.join(root, 'origin_stat/in/20261204/a.log.gz'), gzipSync(line('04/12/2026', 'web1', '9007199254740993', '0.125') + line('04/12/2026', 'web2', '7', '\\N')))
    writeFileSync(path.join(root, 'origin_stat/in/20261204/b.log.gz'), gzipSync(line('04/12/2026', 'web3', '1', '1.5')))
    writeFileSync(path.join(root, 'origin_stat/in/20261203/old.log.gz'), gzipSync(line('03/12/2026', 'old', '1', '1')))
    const files = `file://${root}`
    const { summary, dirty } = await run(
      {
        reader: {
          connection: files,
          file: {
            fieldDelimiter: '\\001',
            header: false,
            column: [
              { index: 0, name: 'day', type: 'date', format: 'dd/MM/yyyy' },
              { index: 1, name: 'host' },
              { index: 2, name: 'hits', type: 'long' },
              { index: 3, name: 'ratio', type: 'decimal(6,3)' },
              { name: 'src', value: 'ftp ${bizdate}' },
            ],
          },
        },
        writer: { connection: pgCfg },
        tables: [{ source: '/origin_stat/in/${YYYYMMDD}/*.log.gz', target: 'stat' }],
      },
      { kind: 'file', path: root },
      pgCfg,
    )
    expect(dirty).toEqual([])
    expect(summary.error).toBeUndefined()
    expect(summary.rowsWritten).toBe(3)
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    const r = await c.query("SELECT to_char(day, 'YYYY-MM-DD') AS day, host, hits::text, ratio::text, src FROM stat ORDER BY host")
    await c.end()
    expect(r.rows).toEqual([
      { day: '2026-12-04', host: 'web1', hits: '9007199254740993', ratio: '0.125', src: 'ftp 20261204' },
      { day: '2026-12-04', host: 'web2', hits: '7', ratio: null, src: 'ftp 20261204' },
      { day: '2026-12-04', host: 'web3', hits: '1', ratio: '1.500', src: 'ftp 20261204' },
    ])
  })

  it('a bad line is a dirty record naming the file and the line; the other lines load', async () => {
    const root = path.join(dir, 'bad')
    mkdirSync(root, { recursive: true })
    writeFileSync(path.join(root, 'people.csv'), 'id,name,born\n1,ann,2000-01-01\n2,bob,not a date\n3,"multi\nline",2001-02-03\n4,dan\n5,eve,1999-12-31\n')
    const { summary, dirty } = await run(
      { reader: { connection: `file://${root}` }, writer: { connection: pgCfg }, tables: [{ source: 'people.csv', target: 'people' }], setting: { errorLimit: { record: 5 } } },
      { kind: 'file', path: root },
      pgCfg,
    )
    expect(summary.state).toBe('succeeded')
    expect(summary.rowsWritten).toBe(3)
    expect(dirty.map((d) => d.reason).sort()).toEqual(['people.csv line 3: column born: \'not a date\' is not a date (yyyy-MM-dd; set the column\'s format)', 'people.csv line 6: 2 fields where the header has 3'])
    const d0 = dirty.find((d) => d.reason.includes('line 3'))!
    expect(d0.columns).toEqual(['id', 'name', 'born', '@file', '@line', '@error'])
    expect(d0.values.slice(0, 5)).toEqual([2, 'bob', 'not a date', 'people.csv', 3])
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    const r = await c.query('SELECT id, name FROM people ORDER BY id')
    await c.end()
    expect(r.rows).toEqual([
      { id: 1, name: 'ann' },
      { id: 3, name: 'multi\nline' },
      { id: 5, name: 'eve' },
    ])
  })

  it('a value the target refuses is a dirty record with the file and line among its values', async () => {
    const root = path.join(dir, 'refused')
    mkdirSync(root, { recursive: true })
    writeFileSync(path.join(root, 'p.csv'), 'id,name\n10,short\n11,this name is far too long for twenty\n')
    const { summary, dirty } = await run(
      { reader: { connection: `file://${root}` }, writer: { connection: pgCfg }, tables: [{ source: 'p.csv', target: 'people' }], setting: { errorLimit: { record: 1 } } },
      { kind: 'file', path: root },
      pgCfg,
    )
    expect(summary.rowsWritten).toBe(1)
    expect(dirty).toHaveLength(1)
    expect(dirty[0]!.values.slice(2, 4)).toEqual(['p.csv', 3])
    expect(dirty[0]!.columns.slice(2, 4)).toEqual(['@file', '@line'])
  })

  it('files -> files: gzip CSV to zstd JSON Lines and GBK text with \\001; a killed export resumed without a duplicate part', async () => {
    const root = path.join(dir, 'f2f')
    mkdirSync(path.join(root, 'in'), { recursive: true })
    for (let f = 0; f < 3; f++) {
      let csv = 'id,name,amount\n'
      for (let i = 0; i < 25; i++) csv += `${f * 100 + i},名字${i},${i}.50\n`
      writeFileSync(path.join(root, 'in', `part${f}.csv.gz`), gzipSync(Buffer.from(csv)))
    }
    const cfg: ConnectionConfig = { kind: 'file', path: root }
    const spec = {
      reader: { connection: `file://${root}` },
      writer: { connection: `file://${root}`, file: { path: 'out', fileName: 'orders', format: 'jsonl', compression: 'zstd', exportBatchRows: 10 } },
      tables: [{ source: 'in/*.csv.gz', target: 'orders' }],
      setting: { speed: { channel: 1 } },
    }
    const cp = memoryCheckpoints()
    const ac = new AbortController()
    const runId = `f2f-${uniq()}`
    // First attempt: killed after the first file (split) is done.
    const first = await run(spec, cfg, cfg, { runId, checkpoints: cp, signal: ac.signal, onSplitDone: () => ac.abort(new Error('killed')) })
    expect(first.summary.state).toBe('terminated')
    // A stray half part of split 1 (as a crash mid-upload would leave under a final name).
    writeFileSync(path.join(root, 'out', 'orders-001-00001.jsonl.zst'), 'garbage')
    const second = await run(spec, cfg, cfg, { runId, checkpoints: cp })
    expect(second.summary.error).toBeUndefined()
    expect(second.summary.state).toBe('succeeded')
    const parts = readdirSync(path.join(root, 'out')).filter((f) => f.endsWith('.zst')).sort()
    // 3 files of 25 rows in parts of 10: 3 parts per split, each exactly once.
    expect(parts).toEqual(['000', '001', '002'].flatMap((s) => ['00001', '00002', '00003'].map((p) => `orders-${s}-${p}.jsonl.zst`)))
    const ids: number[] = []
    for (const p of parts) {
      const text = await gunzipText(path.join(root, 'out', p), 'zstd')
      for (const l of text.split('\n').filter(Boolean)) {
        const o = JSON.parse(l)
        ids.push(Number(o.id))
        expect(o.name).toMatch(/^名字\d+$/)
      }
    }
    expect(ids.sort((a, b) => a - b)).toEqual([0, 1, 2].flatMap((f) => Array.from({ length: 25 }, (_, i) => f * 100 + i)))
    const manifest = JSON.parse(readFileSync(path.join(root, 'out', 'orders.manifest.json'), 'utf8'))
    expect(manifest.rows).toBe(75)
    expect(manifest.files).toHaveLength(9)
    expect(readdirSync(path.join(root, 'out')).filter((f) => f.startsWith('.'))).toEqual([])

    // GBK text with \001, no header, then read back as UTF-8 by declaring the encoding.
    const gbk = await run(
      { ...spec, writer: { connection: `file://${root}`, file: { path: 'gbk', fileName: 'orders', format: 'csv', encoding: 'gbk', fieldDelimiter: '\\001', header: false } } },
      cfg,
      cfg,
    )
    expect(gbk.summary.error).toBeUndefined()
    const gfile = readdirSync(path.join(root, 'gbk')).find((f) => f.endsWith('.csv'))!
    const text = iconv.decode(readFileSync(path.join(root, 'gbk', gfile)), 'gbk')
    expect(text.split('\n')[0]).toBe('0\u0001名字0\u00010.50')
    expect(readFileSync(path.join(root, 'gbk', gfile)).includes(Buffer.from('名字', 'utf8'))).toBe(false)
  })

  it('a querySql to TSV, then into a table created from the declared column list', async () => {
    const src = path.join(dir, 'chinook-q.sqlite')
    copyFileSync(CHINOOK_SQLITE, src)
    const root = path.join(dir, 'q')
    const files: ConnectionConfig = { kind: 'file', path: root }
    const out = await run(
      { reader: { connection: `sqlite:${src}` }, writer: { connection: `file://${root}`, file: { format: 'tsv', fileName: 'big_invoices' } }, tables: [{ source: { querySql: 'SELECT InvoiceId, Total, InvoiceDate FROM Invoice WHERE Total > 20' } }] },
      { kind: 'sqlite', path: src },
      files,
    )
    expect(out.summary.error).toBeUndefined()
    const text = readFileSync(path.join(root, 'big_invoices-000-00001.tsv'), 'utf8')
    expect(text.split('\n')[0]).toBe('InvoiceId\tTotal\tInvoiceDate')
    const rows = out.summary.rowsWritten
    expect(rows).toBeGreaterThan(0)
    const { summary } = await run(
      {
        reader: { connection: `file://${root}`, file: { format: 'tsv', column: [{ name: 'InvoiceId', type: 'int' }, { name: 'Total', type: 'decimal(10,2)' }, { name: 'InvoiceDate', type: 'datetime' }] } },
        writer: { connection: pgCfg },
        tables: [{ source: 'big_invoices-*.tsv', target: 'big_invoices' }],
      },
      files,
      pgCfg,
    )
    expect(summary.error).toBeUndefined()
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    const types = await c.query("SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_name = 'big_invoices' ORDER BY ordinal_position")
    const n = await c.query('SELECT count(*)::int AS n, min("Total")::text AS t FROM big_invoices')
    await c.end()
    expect(types.rows.map((r) => `${r.column_name}:${r.data_type}${r.numeric_precision ? `(${r.numeric_precision},${r.numeric_scale})` : ''}`)).toEqual(['InvoiceId:integer(32,0)', 'Total:numeric(10,2)', 'InvoiceDate:timestamp without time zone'])
    expect(n.rows[0]).toEqual({ n: rows, t: '21.86' })
  })

  it('writeMode append keeps earlier parts, nonConflict refuses, truncate starts over; an empty file reads as no rows', async () => {
    const src = path.join(dir, 'chinook-w.sqlite')
    copyFileSync(CHINOOK_SQLITE, src)
    const root = path.join(dir, 'modes')
    const files: ConnectionConfig = { kind: 'file', path: root }
    const job = (writeMode: string) => ({ reader: { connection: `sqlite:${src}` }, writer: { connection: `file://${root}`, file: { writeMode } }, tables: [{ source: 'Genre' }], setting: { speed: { channel: 1 } } })
    const lite: ConnectionConfig = { kind: 'sqlite', path: src }
    expect((await run(job('append'), lite, files, { runId: 'run-aaaaaaaa-0000-0000-0000-000011111111' })).summary.error).toBeUndefined()
    expect((await run(job('append'), lite, files, { runId: 'run-aaaaaaaa-0000-0000-0000-000022222222' })).summary.error).toBeUndefined()
    // Parts and manifests of an append carry the run's tag (the last 8 hex digits of its id).
    expect(readdirSync(root).sort()).toEqual(['Genre-11111111-000-00001.csv', 'Genre-11111111.manifest.json', 'Genre-22222222-000-00001.csv', 'Genre-22222222.manifest.json'])
    const refused = await run(job('nonConflict'), lite, files)
    expect(refused.summary.state).toBe('failed')
    expect(refused.summary.error).toMatch(/writeMode is nonConflict and Genre-11111111-000-00001\.csv exists/)
    expect((await run(job('truncate'), lite, files)).summary.error).toBeUndefined()
    expect(readdirSync(root).sort()).toEqual(['Genre-000-00001.csv', 'Genre.manifest.json'])
    // Reading them back: the empty file among them gives no rows and no error.
    writeFileSync(path.join(root, 'Genre-999-00001.csv'), '')
    const back = await run({ reader: { connection: `file://${root}` }, writer: { connection: `file://${root}`, file: { path: 'copy', format: 'jsonl' } }, tables: [{ source: 'Genre-*.csv', target: 'g' }] }, files, files)
    expect(back.summary.error).toBeUndefined()
    expect(back.summary.rowsWritten).toBe(25)
  })

  it('a whole database as one folder per table; export files tracked per run and cleaned up (deleted / absent)', async () => {
    const src = path.join(dir, 'chinook.sqlite')
    copyFileSync(CHINOOK_SQLITE, src)
    const out = path.join(dir, 'whole')
    const handle = startRun({
      store,
      spec: { reader: { connection: `sqlite:${src}` }, writer: { connection: `file://${out}`, file: { format: 'csv', compression: 'gzip' } }, tables: { include: ['Artist', 'Genre', 'MediaType'] }, setting: { speed: { channel: 1 } } },
    })
    const summary = await handle.done
    expect(summary.error).toBeUndefined()
    expect(readdirSync(out).sort()).toEqual(['Artist', 'Genre', 'MediaType'])
    expect(readdirSync(path.join(out, 'Genre')).sort()).toEqual(['Genre-000-00001.csv.gz', 'Genre.manifest.json'])
    const tracked = store.exportFiles.list(handle.runId)
    expect(tracked.map((f) => f.path).sort()).toEqual(['Artist/Artist-000-00001.csv.gz', 'Artist/Artist.manifest.json', 'Genre/Genre-000-00001.csv.gz', 'Genre/Genre.manifest.json', 'MediaType/MediaType-000-00001.csv.gz', 'MediaType/MediaType.manifest.json'])
    const genre = tracked.find((f) => f.path === 'Genre/Genre-000-00001.csv.gz')!
    expect(genre.rows).toBe(25)
    expect(genre.state).toBe('exists')
    expect(genre.connection).toBe(`file://${out}`)
    const { createHash } = await import('node:crypto')
    expect(genre.sha256).toBe(createHash('sha256').update(readFileSync(path.join(out, genre.path))).digest('hex'))
    for (const f of tracked) {
      const bytes = readFileSync(path.join(out, f.path))
      expect(f.bytes, f.path).toBe(bytes.length)
      expect(f.sha256, f.path).toBe(createHash('sha256').update(bytes).digest('hex'))
    }
    // Someone removed one file already: it ends absent, the rest deleted.
    unlinkSync(path.join(out, 'Artist/Artist-000-00001.csv.gz'))
    const after = await cleanExportFiles(store, handle.runId)
    expect(after.find((f) => f.path === 'Artist/Artist-000-00001.csv.gz')!.state).toBe('absent')
    expect(after.filter((f) => f.state === 'deleted')).toHaveLength(5)
    expect(existsSync(path.join(out, 'Genre/Genre-000-00001.csv.gz'))).toBe(false)
    expect(store.exportFiles.listAll({ state: 'deleted' }).total).toBe(5)
  })
})
