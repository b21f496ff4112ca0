/**
 * The file connector's raw path (main/connectors/file/rawtext.ts, rawread.ts) against the
 * canonical path (env SLUICE_RAW=0), which is the reference:
 * - export MySQL / PostgreSQL -> delimited text in several dialects: every part file byte for byte
 *   the same, manifests the same rows, and the raw path was taken;
 * - import delimited text -> PostgreSQL (records sent as is, and converted to COPY text when the
 *   file's fields are not the columns in order): the same rows, and the same dirty records with
 *   file and line for bad values, in a CRLF file with a BOM, empty lines, quoted line breaks.
 * Runs under a non-UTC process time zone: nothing may shift.
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { dbConfig } from '../helpers/edge-fixture.js'
import { runFileJob } from '../helpers/file-jobs.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

const MY_DDL = `CREATE TABLE r (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(100) NULL, body TEXT NULL,
  bin BLOB NULL, dt DATETIME(6) NULL, d DATE NULL, f DOUBLE NULL, fl FLOAT NULL, j JSON NULL, b BOOLEAN NULL, t TIME(3) NULL, y YEAR NULL, e ENUM('a','b,c') NULL) DEFAULT CHARSET=utf8mb4`
const PG_DDL = `CREATE TABLE r (id int PRIMARY KEY, u64 numeric(20,0), i64 bigint, dec38 numeric(38,10), txt varchar(100), body text, bin bytea, dt timestamp(6), d date,
  f double precision, j jsonb, b boolean, t time(3), iv interval, u uuid, n numeric, sm smallint)`

/** Text that needs quoting in some dialect, NULL look-alikes, escapes of COPY text. */
const TEXTS: Array<string | null> = ['😀 中文 ü', 'tab\there\nnew\\line\rcr', '', '\\N', 'NULL', 'a,b"c', "it's", 'x\r\ny', '""', 'pipe|semi;', '\u0001ctl\u0001', ' lead and trail ', null]
const DOUBLES: Array<number | null> = [0.1, -1.7976931348623157e308, 1e-300, 1e21, 5e-7, 0.000001, 123456789012345680000, 0.30000000000000004, -0, 1.5, 100, null, 2.5e-8]

function rowsFor(kind: 'mysql' | 'postgres'): unknown[][] {
  const out: unknown[][] = []
  for (let i = 0; i < TEXTS.length; i++) {
    const n = i + 1
    const txt = TEXTS[i]!
    const body = TEXTS[(i + 3) % TEXTS.length]!
    const f = DOUBLES[i % DOUBLES.length]!
    const dt = [null, '2024-02-29 23:59:59.999999', '1000-01-01 00:00:00', '2000-01-01 00:00:00.5', '2024-01-02 03:04:05.120000'][i % 5]
    const d = [null, '0001-01-01', '9999-12-31', '2000-01-01'][i % 4]
    const bin = i % 3 === 0 ? null : Buffer.from([0, 0xff, i, 0x5c, 0x0a, 0x09])
    const common = [n, i % 2 ? '18446744073709551615' : String(i), i % 2 ? '-9223372036854775808' : String(-i), i % 3 ? '-1234567890123456789012345678.0123456789' : '0.0000000001', txt, body, bin, dt, d, f]
    if (kind === 'mysql') out.push([...common, i % 4 ? 3.14159 : null, i % 2 ? '{"a": [1, 2], "b": "ü"}' : null, i % 3 ? i % 2 : null, ['838:59:59.000', '-01:02:03.500', null, '00:00:00.100'][i % 4], i % 2 ? 2024 : null, i % 3 ? 'b,c' : 'a'])
    else out.push([...common, i % 2 ? '{"a": [1, 2], "b": "ü"}' : '[]', i % 3 ? i % 2 === 0 : null, ['23:59:59.999', '00:00:00', null, '12:00:00.5'][i % 4], i % 2 ? '1 day 02:03:04.5' : null, i % 2 ? 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' : null, i % 2 ? 'NaN' : '1.50', i % 2 ? -32768 : 7])
  }
  return out
}

describe.skipIf(!ready)('raw file path equals the canonical path', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-fraw-'))
  const myDb = `sl_fraw_${id}`
  const pgDb = `sl_fraw_${id}`

  beforeAll(async () => {
    await freshMysqlDb(myDb)
    const my = await mysql.createConnection({ ...MYSQL, database: myDb, charset: 'utf8mb4', timezone: '+00:00' })
    await my.query(MY_DDL)
    for (const r of rowsFor('mysql')) await my.query(`INSERT INTO r VALUES (${r.map(() => '?').join(',')})`, r)
    // Zero dates (the zeroDate policy decides on both paths), in a table of their own: the raw
    // writer sends a batch holding one to the canonical path whole.
    await my.query('CREATE TABLE zd (id INT PRIMARY KEY, d DATE NULL, dt DATETIME(3) NULL)')
    await my.query("SET SESSION sql_mode = ''")
    await my.query("INSERT INTO zd VALUES (1, '0000-00-00', '2020-00-15 00:00:00'), (2, '2024-01-00', '2024-01-02 03:04:05.100'), (3, '2024-01-02', NULL)")
    await my.end()
    await freshPgDb(pgDb)
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query(PG_DDL)
    for (const r of rowsFor('postgres')) await c.query(`INSERT INTO r VALUES (${r.map((_, i) => `$${i + 1}`).join(',')})`, r)
    await c.end()
  })

  afterAll(async () => {
    await dropMysqlDb(myDb)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  /** Run a job in-process, on the raw path or (raw false: SLUICE_RAW=0) the canonical one. */
  const run = (reader: ConnectionConfig, writer: ConnectionConfig, spec: Record<string, unknown>, raw: boolean) => runFileJob(reader, writer, spec, raw ? {} : { SLUICE_RAW: '0' })

  const text = (file: string) => (file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file))

  const dialects: Array<[string, Record<string, unknown>]> = [
    ['csv gzip', { format: 'csv', compression: 'gzip' }],
    ['\\001 delimiter, empty nullFormat', { format: 'csv', fieldDelimiter: '\\001', nullFormat: '' }],
    ['tsv, base64, CRLF', { format: 'tsv', bytesFormat: 'base64', lineDelimiter: '\\r\\n' }],
    ["'|' and quote ', nullFormat NULL", { format: 'csv', fieldDelimiter: '|', quote: "'", nullFormat: 'NULL' }],
  ]
  // 'mysql': the default, the text protocol spelled straight into the file's records (RawTarget
  // `delimited`); 'mysql via COPY text': the text protocol through COPY text and copyToDelimited
  // (SLUICE_DIRECT_DELIMITED=0); 'mysql binary protocol': forced (SLUICE_MYSQL_BINARY=1), through
  // COPY text. The text protocol gives ZEROFILL padding and the server's own spellings.
  for (const source of ['mysql', 'mysql via COPY text', 'mysql binary protocol', 'postgres'] as const) {
    const from = source === 'postgres' ? 'postgres' : 'mysql'
    for (const [name, file] of source === 'mysql via COPY text' ? dialects.slice(0, 1) : source === 'mysql binary protocol' ? dialects.slice(0, 2) : dialects) {
      it(`export ${source} -> ${name}: the raw files are the canonical files byte for byte`, async () => {
        if (source === 'mysql binary protocol') process.env.SLUICE_MYSQL_BINARY = '1'
        if (source === 'mysql via COPY text') process.env.SLUICE_DIRECT_DELIMITED = '0'
        onTestFinished(() => {
          delete process.env.SLUICE_MYSQL_BINARY
          delete process.env.SLUICE_DIRECT_DELIMITED
        })
        const out: Record<string, string> = {}
        for (const raw of [true, false]) {
          const folder = path.join(dir, `exp-${source.replace(/\W+/g, '_')}-${name.replace(/\W+/g, '_')}-${raw ? 'raw' : 'canon'}`)
          const files: ConnectionConfig = { kind: 'file', path: folder }
          const r = await run(dbConfig(from, from === 'mysql' ? myDb : pgDb), files, { tables: [{ source: 'r' }], writer: { connection: files, file: { ...file, exportBatchRows: 4 } }, setting: { speed: { channel: 1 }, zeroDate: 'null' } }, raw)
          expect(r.dirty).toEqual([])
          expect(r.written).toBe(TEXTS.length)
          if (raw) expect(r.logs.some((l) => /raw path/.test(l)), r.logs.join('\n')).toBe(true)
          else expect(r.logs.some((l) => /raw path/.test(l))).toBe(false)
          if (raw && from === 'mysql') expect(r.logs.some((l) => /raw path \(MySQL text protocol, delimited text\)/.test(l)), r.logs.join('\n')).toBe(source === 'mysql')
          out[raw ? 'raw' : 'canon'] = folder
        }
        const parts = readdirSync(out.canon!).filter((f) => /-\d{5}\./.test(f)).sort()
        expect(parts.length).toBeGreaterThan(2)
        expect(readdirSync(out.raw!).filter((f) => /-\d{5}\./.test(f)).sort()).toEqual(parts)
        for (const p of parts) expect(text(path.join(out.raw!, p)).equals(text(path.join(out.canon!, p))), `${p}:\n${text(path.join(out.raw!, p))}\n---\n${text(path.join(out.canon!, p))}`).toBe(true)
        const m = (f: string) => JSON.parse(readFileSync(path.join(f, 'r.manifest.json'), 'utf8')) as { rows: number; files: Array<{ path: string; rows: number; sha256: string }> }
        expect(m(out.raw!).files.map((f) => [path.basename(f.path), f.rows, f.sha256])).toEqual(m(out.canon!).files.map((f) => [path.basename(f.path), f.rows, f.sha256]))
      })
    }
  }

  it('export of MySQL zero dates equals the canonical path (zeroDate null)', async () => {
    const got: string[] = []
    for (const raw of [true, false]) {
      const folder = path.join(dir, `zd-${raw}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      const r = await run(dbConfig('mysql', myDb), files, { tables: [{ source: 'zd' }], writer: { connection: files, file: { format: 'csv' } }, setting: { zeroDate: 'null' } }, raw)
      expect(r.dirty).toEqual([])
      got.push(readFileSync(path.join(folder, 'zd-000-00001.csv'), 'utf8'))
    }
    expect(got[0]).toBe(got[1])
    expect(got[1]).toBe('id,d,dt\n1,\\N,\\N\n2,\\N,2024-01-02 03:04:05.1\n3,2024-01-02,\\N\n')
  })

  it('export of MySQL zero dates mid-stream: the direct delimited batches around them, parts cut mid-batch, equal the canonical files', async () => {
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE zdm (id INT PRIMARY KEY, d DATE NULL, s VARCHAR(40) NULL)')
    await my.query("SET SESSION sql_mode = ''")
    const vals = Array.from({ length: 6000 }, (_, i) => `(${i + 1}, '${i === 499 || i === 4499 ? '2024-00-15' : '2024-01-02'}', '${i % 7 ? 'plain text' : 'with, comma'} ${i}')`)
    await my.query(`INSERT INTO zdm VALUES ${vals.join(',')}`)
    await my.end()
    const got: Record<string, string> = {}
    for (const raw of [true, false]) {
      const folder = path.join(dir, `zdm-${raw}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      const r = await run(dbConfig('mysql', myDb), files, { tables: [{ source: 'zdm' }], writer: { connection: files, file: { format: 'csv', compression: 'gzip', exportBatchRows: 700 } }, setting: { zeroDate: 'null', batchBytes: 65_536, speed: { channel: 1 } } }, raw)
      expect(r.dirty).toEqual([])
      if (raw) expect(r.logs.some((l) => /delimited text/.test(l)), r.logs.join('\n')).toBe(true)
      got[String(raw)] = readdirSync(folder)
        .filter((f) => /-\d{5}\./.test(f))
        .sort()
        .map((f) => `${f}\n${text(path.join(folder, f))}`)
        .join('\n')
    }
    expect(got.true).toBe(got.false)
    expect(got.false).toContain('500,\\N,plain text 499')
    expect(got.false).toContain('4500,\\N,')
    expect(got.false).toContain('zdm-000-00009.csv.gz')
  })

  it('export of MySQL ZEROFILL integers equals the canonical path (a BIGINT beyond 2^53 keeps its padding)', async () => {
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE z (id INT PRIMARY KEY, zf INT(5) ZEROFILL, big BIGINT(22) UNSIGNED ZEROFILL, y YEAR)')
    await my.query('INSERT INTO z VALUES (1, 42, 9007199254740993, 2024), (2, 0, 5, 0), (3, NULL, NULL, NULL)')
    await my.end()
    const got: string[] = []
    for (const raw of [true, false]) {
      const folder = path.join(dir, `zf-${raw}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      await run(dbConfig('mysql', myDb), files, { tables: [{ source: 'z' }], writer: { connection: files, file: { format: 'csv' } } }, raw)
      got.push(readFileSync(path.join(folder, 'z-000-00001.csv'), 'utf8'))
    }
    expect(got[0]).toBe(got[1])
    expect(got[1]).toContain('0000009007199254740993')
  })

  it('export of MySQL TIMESTAMP columns: raw in a fixed-offset session, byte for byte the canonical files', async () => {
    const my = await mysql.createConnection({ ...MYSQL, database: myDb, timezone: '+00:00' })
    await my.query("SET SESSION time_zone = '+00:00', sql_mode = ''")
    await my.query('CREATE TABLE tsx (id INT PRIMARY KEY, t0 TIMESTAMP NULL DEFAULT NULL, t3 TIMESTAMP(3) NULL DEFAULT NULL, t6 TIMESTAMP(6) NULL DEFAULT NULL, dt DATETIME(6) NULL, s VARCHAR(20) NULL)')
    await my.query(`INSERT INTO tsx VALUES
      (1, '1970-01-01 00:00:01', '2038-01-19 03:14:07.499', '2038-01-19 03:14:07.499999', '2024-01-02 03:04:05.5', 'a'),
      (2, '2000-01-01 00:00:00', '2000-01-01 00:00:00.500', '2000-01-01 00:00:00.120000', NULL, 'b,"c"'),
      (3, NULL, NULL, NULL, NULL, NULL),
      (4, '2024-06-30 23:59:59', '2024-06-30 23:59:59.000', '2024-06-30 23:59:59.000001', '2024-01-02 03:04:05', '|x|'),
      (5, '2024-03-10 12:00:00', '2024-03-10 12:00:00.010', '2024-03-10 12:00:00.100000', NULL, '')`)
    // A zero TIMESTAMP (zeroDate null): the raw file writer sends its batch the canonical way.
    await my.query('CREATE TABLE tsx0 LIKE tsx')
    await my.query("INSERT INTO tsx0 VALUES (1, '0000-00-00 00:00:00', '2024-03-10 12:00:00.010', NULL, NULL, 'z'), (2, '2024-03-10 12:00:00', NULL, NULL, NULL, 'y')")
    await my.end()
    // Session zones: the default UTC and a fixed offset. (A session in an IANA zone, whose offset
    // varies, is refused by the MySQL raw reader, mysql/rawread.ts rawColumnPlan; the test server
    // may have no zone tables to try one.)
    const sessions: Array<[string, string | undefined, boolean]> = [['UTC', undefined, true], ['-03:30', '-03:30', true]]
    for (const [label, timezone, rawTaken] of sessions) {
      for (const [dname, file] of [dialects[0]!, dialects[3]!]) {
        // The binary protocol (forced) and the text protocol.
        for (const binary of ['1', '0']) {
          process.env.SLUICE_MYSQL_BINARY = binary
          onTestFinished(() => {
            delete process.env.SLUICE_MYSQL_BINARY
          })
          const texts: string[] = []
          for (const raw of [true, false]) {
            const folder = path.join(dir, `tsx-${label.replace(/\W+/g, '_')}-${dname.replace(/\W+/g, '_')}-${binary}-${raw}`)
            const files: ConnectionConfig = { kind: 'file', path: folder }
            const src = { ...dbConfig('mysql', myDb), ...(timezone ? { timezone } : {}) } as ConnectionConfig
            const r = await run(src, files, { tables: [{ source: 'tsx' }, { source: 'tsx0' }], writer: { connection: files, file: { ...file, exportBatchRows: 2 } }, setting: { speed: { channel: 1 }, zeroDate: 'null' } }, raw)
            expect(r.dirty).toEqual([])
            expect(r.logs.some((l) => /raw path/.test(l)), `${label} ${dname} binary=${binary} raw=${raw}:\n${r.logs.join('\n')}`).toBe(raw && rawTaken)
            const parts = readdirSync(folder).filter((f) => /-\d{5}\./.test(f)).sort()
            expect(parts.length).toBe(4)
            texts.push(parts.map((p) => `${p}\n${text(path.join(folder, p)).toString('utf8')}`).join('\n'))
          }
          expect(texts[0], `${label} ${dname} binary=${binary}`).toBe(texts[1])
          if (label === 'UTC' && dname === 'csv gzip') {
            expect(texts[1]).toContain('\n1,1970-01-01 00:00:01+00:00,2038-01-19 03:14:07.499+00:00,2038-01-19 03:14:07.499999+00:00,2024-01-02 03:04:05.5,a\n')
            expect(texts[1]).toContain('\n2,2000-01-01 00:00:00+00:00,2000-01-01 00:00:00.5+00:00,2000-01-01 00:00:00.12+00:00,\\N,"b,""c"""\n')
            expect(texts[1]).toContain('\n4,2024-06-30 23:59:59+00:00,2024-06-30 23:59:59+00:00,2024-06-30 23:59:59.000001+00:00,2024-01-02 03:04:05,|x|\n')
            expect(texts[1]).toContain('\n5,2024-03-10 12:00:00+00:00,2024-03-10 12:00:00.01+00:00,2024-03-10 12:00:00.1+00:00,\\N,\n')
            expect(texts[1]).toContain('\n1,\\N,2024-03-10 12:00:00.01+00:00,\\N,\\N,z\n')
          }
          if (label === '-03:30' && dname === 'csv gzip') expect(texts[1]).toContain('\n1,1969-12-31 20:30:01-03:30,2038-01-18 23:44:07.499-03:30,')
        }
      }
    }
  })

  it('export MySQL / PostgreSQL -> Parquet: the raw parts are the canonical parts byte for byte (several parts and row groups)', async () => {
    // The kinds the Parquet writer takes as COPY text (no bytes, booleans, time).
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE pr (PRIMARY KEY (id)) AS SELECT id, u64, i64, dec38, txt, body, dt, d, f, fl, j, y, e FROM r')
    await my.query('INSERT INTO pr SELECT id + 100, u64, i64, dec38, txt, body, dt, d, f, fl, j, y, e FROM pr')
    await my.end()
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query('CREATE TABLE pr AS SELECT id, u64, i64, dec38, txt, body, dt, d, f, j, u, n, sm FROM r; ALTER TABLE pr ADD PRIMARY KEY (id)')
    await c.query('INSERT INTO pr SELECT id + 100, u64, i64, dec38, txt, body, dt, d, f, j, u, n, sm FROM pr')
    await c.end()
    onTestFinished(() => {
      delete process.env.SLUICE_MYSQL_BINARY
    })
    for (const source of ['mysql', 'mysql text protocol', 'postgres'] as const) {
      const from = source === 'postgres' ? 'postgres' : 'mysql'
      process.env.SLUICE_MYSQL_BINARY = source === 'mysql text protocol' ? '0' : '1'
      const out: Record<string, string> = {}
      for (const raw of [true, false]) {
        const folder = path.join(dir, `pq-${source.replace(/\W+/g, '_')}-${raw ? 'raw' : 'canon'}`)
        const files: ConnectionConfig = { kind: 'file', path: folder }
        const r = await run(dbConfig(from, from === 'mysql' ? myDb : pgDb), files, { tables: [{ source: 'pr' }], writer: { connection: files, file: { format: 'parquet', exportBatchRows: 10, rowGroupRows: 4 } }, setting: { speed: { channel: 1 } } }, raw)
        expect(r.dirty).toEqual([])
        expect(r.written).toBe(2 * TEXTS.length)
        expect(r.logs.some((l) => /raw path/.test(l)), r.logs.join('\n')).toBe(raw)
        out[raw ? 'raw' : 'canon'] = folder
      }
      const parts = readdirSync(out.canon!).filter((f) => /-\d{5}\.parquet$/.test(f)).sort()
      expect(parts.length).toBe(3)
      expect(readdirSync(out.raw!).filter((f) => /-\d{5}\.parquet$/.test(f)).sort()).toEqual(parts)
      for (const p of parts) expect(readFileSync(path.join(out.raw!, p)).equals(readFileSync(path.join(out.canon!, p))), `${source} ${p}`).toBe(true)
    }
  })

  it('export of MySQL zero dates -> Parquet equals the canonical path (the raw writer hands the batch over)', async () => {
    const got: Buffer[] = []
    for (const raw of [true, false]) {
      const folder = path.join(dir, `zdpq-${raw}`)
      const files: ConnectionConfig = { kind: 'file', path: folder }
      const r = await run(dbConfig('mysql', myDb), files, { tables: [{ source: 'zd' }], writer: { connection: files, file: { format: 'parquet' } }, setting: { zeroDate: 'null' } }, raw)
      expect(r.dirty).toEqual([])
      got.push(readFileSync(path.join(folder, 'zd-000-00001.parquet')))
    }
    expect(got[0]!.equals(got[1]!)).toBe(true)
  })

  const IMPORT_DDL = (t: string) => `CREATE TABLE ${t} (id int PRIMARY KEY, i64 bigint, dec38 numeric(38,10), txt varchar(100), body text, dt timestamp(6), d date, f double precision, j jsonb, t time, tz timestamptz, iv interval)`
  const HEADER = 'id,i64,dec38,txt,body,dt,d,f,j,t,tz,iv'
  /** Lines of a CSV with values the raw scanner must read as csv-parse and codec.ts do, and bad ones. */
  const LINES = [
    `1,+5,1e3,"a,b""c","multi\r\nline",2024-01-02T03:04:05.120,2024-01-02,0.1,"{""a"":1}",10:00:00.5,2024-01-02 03:04:05+05:30,1 day`,
    ``,
    `2,\\N,\\N,"\\N",,2024-01-02,\\N,-0,[],\\N,\\N,\\N`,
    `3,abc,1,x,y,2024-01-02 03:04:05,2024-01-02,1,{},00:00:01,\\N,\\N`,
    `4, 7,1.50,x,"q""uote",2024-01-02 03:04:05.000000,2024-01-02,1e-300,{},00:00:01,\\N,\\N`,
    `5,9223372036854775807,-.5,"",\\N,2024-01-02 03:04:05.123456789,2024-02-30,1.7976931348623157e308,"{}",\\N,\\N,\\N`,
    `6,1,2,3`,
    `7,1,2,"tab\there",x,2024-01-02,2024-01-02,NaN,{},\\N,\\N,\\N`,
    `8,0x10,1_000,x,y,2024-01-02,2024-01-02,1,{},\\N,\\N,\\N`,
  ]

  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ['CRLF, BOM, records as is', '\ufeff' + [HEADER, ...LINES].join('\r\n') + '\r\n', {}, 'delimited text as is'],
    ['LF, no trailing newline', [HEADER, ...LINES.map((l) => l.replace(/\r\n/g, '\n'))].join('\n'), {}, 'delimited text as is'],
    ['fields reordered (COPY text)', [HEADER, ...LINES].join('\n') + '\n', { column: [{ index: 0, name: 'id' }, { index: 3, name: 'txt' }, { index: 1, name: 'i64' }, { index: 2, name: 'dec38' }, { index: 5, name: 'dt' }, { index: 7, name: 'f' }] }, 'delimited text scanner'],
  ]
  for (const [name, content, readerFile, via] of cases) {
    it(`import CSV -> PostgreSQL, ${name}: the same rows and dirty records (file, line) as the canonical path`, async () => {
      const folder = path.join(dir, `imp-${name.replace(/\W+/g, '_')}`)
      mkdirSync(folder, { recursive: true })
      writeFileSync(path.join(folder, 'in-1.csv'), content)
      // A bigger file of good lines (several batches), so records go raw in bulk too.
      const many = [HEADER]
      for (let i = 0; i < 3000; i++) many.push(`${1000 + i},${i},${i}.25,"t ${i}, ""q""",line ${i},2024-01-02 03:04:05.${String(i % 1000).padStart(3, '0')},2024-01-02,${i / 7},{},00:00:01,2024-01-02 03:04:05+00,${i} seconds`)
      writeFileSync(path.join(folder, 'in-2.csv'), many.join('\n') + '\n')
      // Only good lines, the tricky ones among them (quoted line breaks and quotes, empty lines, "\N").
      // Values PostgreSQL would take but the canonical reader refuses (dirty records), among good lines.
      writeFileSync(path.join(folder, 'in-4.csv'), [HEADER, `21,1,NaN,x,y,2024-01-02,2024-01-02,1,{},\\N,\\N,\\N`, `22,1,1,x,y,epoch,epoch,1,{},\\N,\\N,\\N`, `23, 1 ,1,x,y,2024-01-02 03:04:05,2024-01-02,1,{},\\N,\\N,\\N`, `24,1,1,x,y,2024-01-02,2024-01-02,1,{},\\N,\\N,\\N`].join('\n'))
      writeFileSync(path.join(folder, 'in-3.csv'), [HEADER, LINES[0]!.replace('1,', '11,'), '', '', LINES[2]!.replace('2,', '12,'), ''].join('\r\n'))
      const c = new pg.Client({ ...PG, database: pgDb })
      await c.connect()
      const got: Record<string, { rows: string; dirty: Array<[string, string]> }> = {}
      try {
        for (const raw of [true, false]) {
          const t = `imp_${raw ? 'raw' : 'canon'}_${name.replace(/\W+/g, '_')}`.toLowerCase()
          await c.query(IMPORT_DDL(t))
          const files: ConnectionConfig = { kind: 'file', path: folder }
          const r = await run(files, dbConfig('postgres', pgDb), { tables: [{ source: 'in-*.csv', target: t }], reader: { connection: files, file: { format: 'csv', ...readerFile } }, setting: { batchBytes: 65_536, errorLimit: { record: 100 } } }, raw)
          if (raw) expect(r.logs.some((l) => l.includes(`raw path (${via})`)), r.logs.join('\n')).toBe(true)
          const rows = await c.query(`SELECT * FROM ${t} ORDER BY id`)
          got[raw ? 'raw' : 'canon'] = {
            rows: JSON.stringify(rows.rows),
            dirty: r.dirty.map((d) => [d.reason, JSON.stringify(d.values)] as [string, string]).sort(),
          }
        }
      } finally {
        await c.end()
      }
      expect(got.raw!.rows).toBe(got.canon!.rows)
      expect(got.raw!.dirty).toEqual(got.canon!.dirty)
      // The bad values are dirty records naming their file and line.
      expect(got.raw!.dirty.some(([reason]) => /in-1\.csv line \d+: .*abc/.test(reason)), JSON.stringify(got.raw!.dirty)).toBe(true)
      expect(JSON.parse(got.raw!.rows).length).toBeGreaterThan(3000)
    })
  }
  const MY_IMPORT_DDL = (t: string) =>
    `CREATE TABLE ${t} (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(20) NULL, body TEXT NULL, dt DATETIME(6) NULL, d DATE NULL,
      f DOUBLE NULL, j JSON NULL, e ENUM('a','b,c') NULL, tb TINYINT(1) NULL) DEFAULT CHARSET=utf8mb4`
  const MY_HEADER = 'id,u64,i64,dec38,txt,body,dt,d,f,j,e,tb'
  /** `@N` stands for an unquoted NULL field in the case's nullFormat. */
  const MY_GOOD = [
    `1,18446744073709551615,-9223372036854775808,-1234567890123456789012345678.0123456789,😀 中文 ü,"tab\there\nnew\\line\rcr",2024-02-29 23:59:59.999999,0001-01-01,0.1,"{""a"": [1, 2], ""b"": ""ü""}","b,c",1`,
    `2,0,9223372036854775807,0.0000000001,"",x,1000-01-01 00:00:00,9999-12-31,-1.7976931348623157e308,[],a,0`,
    `3,@N,@N,@N,@N,@N,@N,@N,@N,@N,@N,@N`,
    `4,+00018446744073709551615,+007,+1.5,"\\N",NULL,2024-01-02T03:04:05.12,2024-01-02,-0,"{}",a,-1`,
    ``,
    `5,5,-0,1e3,"a,b""c",it's,2024-01-02,2000-01-01,1e-300,"""x""","b,c",127`,
    `6,6,6,.5,"\\\\N \\t",'\u0001ctl\u0000nul',2024-01-02 03:04:05.000001,2024-01-02,2.2250738585072014e-308,"[""\\\\""]",a,@N`,
    `7,7,7,5.,x,"quoted ""multi""\n\nline",2024-01-02,2024-01-02,0.1000000000000000055511151231257827021181583404541015625,{},a,1`,
    `8,8,8,-.0000000001,x,${'long body '.repeat(50)},2024-01-02 00:00:00.100000,2024-01-02,9007199254740993,{},a,1`,
    // The canonical reader takes `true` in an integer column as 1; the scanner leaves the batch to it.
    `9,9,9,9,x,y,2024-01-02,2024-01-02,1,{},a,true`,
  ]
  /** Lines each canonical path refuses (reader or MySQL), as dirty records with file and line. */
  const MY_BAD = [
    `20,abc,1,1,x,y,2024-01-02,2024-01-02,1,{},a,1`,
    `21,1,99999999999999999999,1,x,y,2024-01-02,2024-01-02,1,{},a,1`,
    `22,1,1,1.00000000001,x,y,2024-01-02,2024-01-02,1,{},a,1`,
    `23,1,1,1,x,y,2024-01-02 03:04:05.123456789,2024-01-02,1,{},a,1`,
    `24,1,1,1,x,y,2024-01-02,2024-02-30,1,{},a,1`,
    `25,1,1,1,x,y,0000-00-00 00:00:00,0000-00-00,1,{},a,1`,
    `26,1,1,1,x,y,2024-01-02,2024-01-02,NaN,{},a,1`,
    `27,1,1,1,x,y,2024-01-02,2024-01-02,1,{},zz,1`,
    `28,1,1,1,this text is longer than twenty,y,2024-01-02,2024-01-02,1,{},a,1`,
    `29,1,2,3`,
    `30,-1,1,1,x,y,2024-01-02,2024-01-02,1,{},a,1`,
    `31,1,1,1,x,y,2024-01-02,2024-01-02,1e400,{},a,1`,
    `32,1,1,1,x,y,2024-01-02,2024-01-02,1,{bad,a,1`,
    `34,1,1,1,x,y,2024-01-02,2024-01-02,1,{},a,1000`,
  ]
  const myCases: Array<[string, Record<string, unknown>, string, boolean, string]> = [
    ['CSV, LF, \\N nulls', { format: 'csv' }, '\\N', false, '\n'],
    ['CSV gzip, CRLF and BOM, empty nullFormat', { format: 'csv', nullFormat: '' }, '', true, '\r\n'],
  ]
  for (const [name, readerFile, nullText, gz, eol] of myCases) {
    it(`import ${name} -> MySQL: raw LOAD DATA gives the canonical rows and dirty records (file, line)`, async () => {
      const folder = path.join(dir, `myimp-${name.replace(/\W+/g, '_')}`)
      mkdirSync(folder, { recursive: true })
      const ext = gz ? '.csv.gz' : '.csv'
      const put = (f: string, lines: string[]) => {
        const body = Buffer.from((eol === '\r\n' ? '\ufeff' : '') + [MY_HEADER, ...lines].map((l) => l.replaceAll('@N', nullText)).join(eol) + eol)
        writeFileSync(path.join(folder, f + ext), gz ? gzipSync(body) : body)
      }
      put('in-1', [...MY_GOOD, ...MY_BAD])
      // The good lines the scanner proves equal: this file goes raw whole (LOAD DATA of its COPY text).
      put('in-0', MY_GOOD.filter((l) => l && !l.endsWith('true')).map((l) => `1${l}`))
      const many: string[] = []
      for (let i = 0; i < 3000; i++) many.push(`${1000 + i},${i * 7919},${-i},${i}.25,"t ${i}, ""q""",line\\${i},2024-01-02 03:04:05.${String(i % 1000).padStart(3, '0')},2024-01-02,${i / 7},{},a,${i % 2}`)
      put('in-2', many)
      // Invalid UTF-8: the canonical reader makes U+FFFD of it; the scanner refuses the batch.
      const bad = Buffer.concat([Buffer.from(`${MY_HEADER}\n40,1,1,1,x`), Buffer.from([0xff, 0xfe]), Buffer.from(`y,y,2024-01-02,2024-01-02,1,{},a,1\n`)])
      writeFileSync(path.join(folder, 'in-3' + ext), gz ? gzipSync(bad) : bad)
      const my = await mysql.createConnection({ ...MYSQL, database: myDb, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true })
      const got: Record<string, { rows: string; dirty: Array<[string, string]> }> = {}
      try {
        for (const raw of [true, false]) {
          const t = `myimp_${raw ? 'raw' : 'canon'}_${name.replace(/\W+/g, '_')}`.toLowerCase()
          await my.query(MY_IMPORT_DDL(t))
          const files: ConnectionConfig = { kind: 'file', path: folder }
          const r = await run(files, dbConfig('mysql', myDb), { tables: [{ source: `in-*${ext}`, target: t }], reader: { connection: files, file: readerFile }, setting: { batchBytes: 65_536, errorLimit: { record: 100 } } }, raw)
          if (raw) expect(r.logs.some((l) => l.includes('raw path (delimited text scanner)')), r.logs.join('\n')).toBe(true)
          else expect(r.logs.some((l) => /raw path/.test(l))).toBe(false)
          const [rows] = await my.query(`SELECT id, u64, i64, dec38, HEX(txt) AS txt, HEX(body) AS body, dt, d, f, CAST(f AS CHAR) AS fs, j, e, tb FROM ${t} ORDER BY id`)
          // (MySQL's messages name the table, which differs.)
          got[raw ? 'raw' : 'canon'] = { rows: JSON.stringify(rows), dirty: r.dirty.map((d) => [d.reason.replaceAll(t, 'T'), JSON.stringify(d.values)] as [string, string]).sort() }
        }
        const [[row1, row2, row3, row4]] = (await my.query(`SELECT u64, txt, body, dt, dec38, i64 FROM myimp_raw_${name.replace(/\W+/g, '_').toLowerCase()} WHERE id IN (1, 2, 3, 4) ORDER BY id`)) as unknown as [Array<Record<string, unknown>>]
        expect(row1).toEqual({ u64: '18446744073709551615', txt: '😀 中文 ü', body: 'tab\there\nnew\\line\rcr', dt: '2024-02-29 23:59:59.999999', dec38: '-1234567890123456789012345678.0123456789', i64: '-9223372036854775808' })
        expect([row2!.txt, row3!.txt, row3!.body, row4!.txt, row4!.body, row4!.i64, row4!.u64]).toEqual(['', null, null, '\\N', 'NULL', '7', '18446744073709551615'])
      } finally {
        await my.end()
      }
      expect(got.raw!.rows).toBe(got.canon!.rows)
      expect(got.raw!.dirty).toEqual(got.canon!.dirty)
      expect(JSON.parse(got.raw!.rows).length).toBe(3000 + 2 * MY_GOOD.filter(Boolean).length - 1 + 1)
      // Every bad line is a dirty record naming its file and line (the reader's in its reason,
      // the writer's in the record's @file / @line values).
      expect(got.raw!.dirty.length).toBe(MY_BAD.length)
      expect(got.raw!.dirty.every(([, v]) => new RegExp(`"in-1\\${ext.replace('.gz', '\\.gz')}",\\d+,`).test(v)), JSON.stringify(got.raw!.dirty)).toBe(true)
      expect(got.raw!.dirty.some(([reason]) => new RegExp(`in-1\\${ext.replace('.gz', '\\.gz')} line 16: .*abc`).test(reason)), JSON.stringify(got.raw!.dirty)).toBe(true)
      expect(got.raw!.dirty.some(([reason]) => /rounded|fractional/.test(reason)), JSON.stringify(got.raw!.dirty)).toBe(true)
    })
  }
})
