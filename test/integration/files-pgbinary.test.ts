/**
 * Delimited files -> PostgreSQL as binary COPY tuples (main/connectors/file/pgbinary.ts):
 * - PostgreSQL itself is the oracle of the encoding: a table of every encodable type with edge
 *   values is copied out as CSV and as binary COPY; the file reader's tuples for that CSV are
 *   PostgreSQL's own binary tuples, byte for byte;
 * - values with no exact binary encoding (NaN, Infinity, exponents in a numeric, 24:00:00, an
 *   impossible date, an out-of-range integer, a varchar too long...) send their batch as CSV
 *   records or the canonical path: the table and the dirty records (file, line) are the same with
 *   the binary path, without it (SLUICE_FILE_PGBINARY=0) and on the canonical path (SLUICE_RAW=0).
 * Runs under a non-UTC process time zone: nothing may shift.
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { FieldCheck, readDelimitedRaw } from '../../main/connectors/file/rawread.js'
import type { PgBinaryType } from '../../main/connectors/pg-binary.js'
import { dbConfig } from '../helpers/edge-fixture.js'
import { runFileJob } from '../helpers/file-jobs.js'
import { dropPgDb, freshPgDb, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('postgres')

/** Columns: name, PostgreSQL type, the binary type the writer offers, the file column's check. */
const COLS: Array<[string, string, PgBinaryType, number]> = [
  ['id', 'int PRIMARY KEY', 'int4', FieldCheck.INT],
  ['s', 'smallint', 'int2', FieldCheck.INT],
  ['b', 'bigint', 'int8', FieldCheck.INT],
  ['n', 'numeric(38,10)', 'numeric', FieldCheck.DEC],
  ['nu', 'numeric', 'numeric', FieldCheck.DEC],
  ['f', 'double precision', 'float8', FieldCheck.DEC],
  ['t', 'text', 'text', FieldCheck.ANY],
  ['v', 'varchar(20)', 'text', FieldCheck.ANY],
  ['c', 'char(5)', 'text', FieldCheck.ANY],
  ['j', 'jsonb', 'jsonb', FieldCheck.ANY],
  ['js', 'json', 'text', FieldCheck.ANY],
  ['d', 'date', 'date', FieldCheck.DATE],
  ['ts', 'timestamp(6)', 'timestamp', FieldCheck.DATETIME],
  ['ts3', 'timestamp(3)', 'timestamp', FieldCheck.DATETIME],
  ['g', 'double precision', 'float8', FieldCheck.DEC],
]
const DDL = (t: string) => `CREATE TABLE ${t} (${COLS.map(([n, ty]) => `${n} ${ty}`).join(', ')})`

const TEXTS = ['😀 中文 ü', 'a,b"c', '', '\\N', 'NULL', 'multi\nline\r\nx', "it's", ' lead ', 'tab\there', 'x'.repeat(300)]
const FLOATS = ['0.1', '-0', '1e-300', '5e-324', '1.7976931348623157e308', '123456789012345680000', '0.30000000000000004', '2.5e-8', '100', '-1.5', '0.333333333', '9007199254740993', '1e21']
const DATES = ['0001-01-01', '9999-12-31', '2000-02-29', '1999-12-31', '2024-01-02', '1969-12-31']
const STAMPS = ['0001-01-01 00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001', '1969-12-31 23:59:59.5', '2000-01-01 00:00:00', '2024-02-29 12:34:56.789']

function valuesOf(i: number): unknown[] {
  const pick = <T>(xs: T[], k = i) => xs[k % xs.length]!
  return [
    i + 1,
    pick([0, -32768, 32767, -1, 7]),
    pick(['-9223372036854775808', '9223372036854775807', '0', '-4294967296', '4294967295', '9007199254740993', '-1']),
    pick(['0.0000000001', '-1234567890123456789012345678.0123456789', '0', '12.5', '-0.5']),
    pick(['1.50', '-123456789012345678901234567890.123456789', '0.000', '7', '1e-5'.replace('1e-5', '0.00001')]),
    pick(FLOATS),
    pick(TEXTS),
    pick(['short', '', 'ü'.repeat(20)]),
    pick(['ab', '', 'abcde']),
    pick(['{"a": [1, 2.50, null], "b": "ü"}', '[]', '"s"', '{"z": 1, "a": {"k": true}}']),
    pick(['{"a":1,  "a": 2}', '[ 1 ]', 'null']),
    pick(DATES),
    pick(STAMPS),
    pick(STAMPS.map((s) => s.replace(/\.(\d{3})\d*$/, '.$1'))),
    // Decimals of up to 15 digits (the exact fast path: an integer divided by a power of ten).
    `${(i * 7919 * 104729) % 1e12}`.replace(/^(\d{1,12})$/, (d) => `${d.slice(0, d.length - (i % 12))}.${d.slice(d.length - (i % 12))}`.replace(/^\./, '0.')),
  ].map((v, k) => (k > 0 && i % 13 === k ? null : v))
}

describe.skipIf(!ready)('files -> PostgreSQL as binary COPY tuples', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-fpgb-'))
  const db = `sl_fpgb_${id}`
  let c: pg.Client

  beforeAll(async () => {
    await freshPgDb(db)
    c = new pg.Client({ ...PG, database: db })
    await c.connect()
    await c.query(DDL('oracle'))
    for (let i = 0; i < 400; i++) {
      const v = valuesOf(i)
      await c.query(`INSERT INTO oracle VALUES (${v.map((_, k) => `$${k + 1}`).join(',')})`, v)
    }
  })

  afterAll(async () => {
    await c?.end()
    await dropPgDb(db)
    rmSync(dir, { recursive: true, force: true })
  })

  async function copyOut(sql: string): Promise<Buffer> {
    const parts: Buffer[] = []
    const s = c.query(copyTo(sql))
    for await (const chunk of s) parts.push(chunk as Buffer)
    return Buffer.concat(parts)
  }

  it("the file reader's tuples for PostgreSQL's own CSV are PostgreSQL's own binary tuples, byte for byte", async () => {
    const csv = await copyOut(`COPY (SELECT * FROM oracle ORDER BY id) TO STDOUT (FORMAT csv, NULL '\\N')`)
    const bin = await copyOut(`COPY (SELECT * FROM oracle ORDER BY id) TO STDOUT (FORMAT binary)`)
    const want = bin.subarray(19, bin.length - 2)
    const got: Buffer[] = []
    let rows = 0
    // Small chunks and batches: records cut across chunks, many batches.
    const chunks: Buffer[] = []
    for (let i = 0; i < csv.length; i += 7919) chunks.push(csv.subarray(i, i + 7919))
    for await (const b of readDelimitedRaw(Readable.from(chunks), {
      delimiter: 44,
      quote: 34,
      nullFormat: Buffer.from('\\N'),
      header: false,
      csv: true,
      pg: COLS.map((x) => x[2]),
      batchBytes: 65_536,
      setup: async () => ({ fields: COLS.map((_, k) => k), checks: COLS.map((x) => x[3]) as never, build: () => [] }),
    })) {
      expect(b.format, b.via).toBe('pgbinary')
      got.push(Buffer.from(b.data))
      rows += b.rows
      b.release?.()
    }
    expect(rows).toBe(400)
    expect(got.length).toBeGreaterThan(1)
    const all = Buffer.concat(got)
    if (!all.equals(want)) {
      // Name the first differing byte and its neighbourhood.
      let at = 0
      while (at < all.length && all[at] === want[at]) at++
      expect(all.subarray(Math.max(0, at - 24), at + 24).toString('hex')).toBe(want.subarray(Math.max(0, at - 24), at + 24).toString('hex'))
    }
    expect(all.equals(want)).toBe(true)
  })

  const run = runFileJob

  it('Parquet -> PostgreSQL as binary COPY: the same rows as the canonical path and as the source, a NaN among them', async () => {
    await c.query(`CREATE TABLE pqsrc AS SELECT * FROM oracle`)
    await c.query(`ALTER TABLE pqsrc ADD PRIMARY KEY (id)`)
    // A batch of its own (a later row group) holding a NaN: no exact binary form here.
    await c.query(`INSERT INTO pqsrc (id, f, t) SELECT 1000 + g, CASE WHEN g = 7 THEN 'NaN'::float8 ELSE g / 3.0 END, 'n' || g FROM generate_series(1, 50) g`)
    const folder = path.join(dir, 'pq')
    const files: ConnectionConfig = { kind: 'file', path: folder }
    await run(dbConfig('postgres', db), files, { tables: [{ source: 'pqsrc' }], writer: { connection: files, file: { format: 'parquet', rowGroupRows: 400 } }, setting: { speed: { channel: 1 } } }, {})
    const got: Record<string, string> = {}
    for (const [name, env] of [
      ['binary', {}],
      ['canonical', { SLUICE_PARQUET_PGBINARY: '0' }],
    ] as const) {
      const t = `pq_${name}`
      await c.query(`CREATE TABLE ${t} (LIKE pqsrc INCLUDING ALL)`)
      const r = await run(files, dbConfig('postgres', db), { tables: [{ source: 'pqsrc-*.parquet', target: t }], reader: { connection: files }, setting: { batchBytes: 65_536, speed: { channel: 1 } } }, env)
      expect(r.dirty).toEqual([])
      const via = r.logs.filter((l) => /raw path|canonical path/.test(l)).join('\n')
      if (name === 'binary') expect(via, via).toContain('raw path (Parquet as PostgreSQL binary COPY)')
      else expect(via).not.toContain('raw path')
      got[name] = JSON.stringify((await c.query(`SELECT * FROM ${t} ORDER BY id`)).rows)
    }
    expect(got.binary).toBe(got.canonical)
    const src = JSON.stringify((await c.query(`SELECT * FROM pqsrc ORDER BY id`)).rows)
    expect(got.binary).toBe(src)
  })

  it('values without an exact binary encoding: the same rows and dirty records as the CSV records and the canonical path', async () => {
    const HEADER = COLS.map((x) => x[0]).join(',')
    const good = (i: number) => `${i},1,2,3.5,4.25,0.5,t ${i},v,c,{},[],2024-01-02,2024-01-02 03:04:05.5,2024-01-02 03:04:05.123,0.${i}`
    // Each odd line alone in a run of good ones: it must send its batch another way.
    const odd = [
      (i: number) => good(i).replace(',3.5,', ',NaN,'), // numeric NaN: CSV records
      (i: number) => good(i).replace(',0.5,', ',Infinity,'), // float: refused by the check (canonical)
      (i: number) => good(i).replace(',3.5,', ',1e3,'), // numeric exponent: CSV records
      (i: number) => good(i).replace(',0.5,', ',1e400,'), // out of range: dirty (the reader and PostgreSQL refuse it)
      (i: number) => good(i).replace(',0.5,', ',4.9e-325,'), // underflow to 0: dirty (the reader and PostgreSQL refuse it)
      (i: number) => good(i).replace(',2024-01-02,', ',2023-02-30,'), // no such date: dirty
      (i: number) => good(i).replace('2024-01-02 03:04:05.5,', '2024-01-02 24:00:00,'), // PostgreSQL takes it as the next day
      (i: number) => good(i).replace('2024-01-02 03:04:05.5,', '2024-01-02 03:04:05.1234567,'), // 7 fraction digits
      (i: number) => good(i).replace(`${i},1,`, `${i},99999,`), // int2 out of range: dirty
      (i: number) => good(i).replace(',v,', ',this is much too long for twenty,'), // varchar(20): dirty
      (i: number) => good(i).replace(',2,', ',+0000000000000000000002,'), // leading zeros: binary
      (i: number) => good(i).replace(',{},', ',"{""a"": 1, ""a"": 2}",'), // jsonb keeps the last key
      (i: number) => good(i).replace(',{},', ',{bad,'), // jsonb refuses: dirty
      (i: number) => good(i).replace(',1,2,', ', 1,2,'), // a blank: the check refuses (canonical)
    ]
    // One file of good lines first (its batches, whose way the log names, go as binary tuples),
    // then one file per odd line among good ones: each its own batch, sent its own way.
    const folder = path.join(dir, 'odd')
    mkdirSync(folder, { recursive: true })
    let n = 1
    const file = (name: string, lines: string[]) => writeFileSync(path.join(folder, name), [HEADER, ...lines].join('\n') + '\n')
    file('in-00.csv', Array.from({ length: 2000 }, () => good(n++)))
    odd.forEach((f, k) => {
      const lines = Array.from({ length: 40 }, () => good(n++))
      lines.splice(20, 0, f(n++))
      file(`in-${String(k + 1).padStart(2, '0')}.csv`, lines)
    })
    const files: ConnectionConfig = { kind: 'file', path: folder }
    const got: Record<string, { rows: string; dirty: Array<[string, string]> }> = {}
    for (const [name, env] of [
      ['binary', {}],
      ['csv', { SLUICE_FILE_PGBINARY: '0' }],
      ['canonical', { SLUICE_RAW: '0' }],
    ] as const) {
      const t = `odd_${name}`
      await c.query(DDL(t))
      const r = await run(files, dbConfig('postgres', db), { tables: [{ source: 'in-*.csv', target: t }], reader: { connection: files, file: { format: 'csv' } }, setting: { batchBytes: 65_536, errorLimit: { record: 100 } } }, env)
      if (name === 'binary') expect(r.logs.some((l) => l.includes('raw path (delimited text as PostgreSQL binary COPY)')), r.logs.join('\n')).toBe(true)
      if (name === 'csv') expect(r.logs.some((l) => l.includes('raw path (delimited text as is)')), r.logs.join('\n')).toBe(true)
      const rows = await c.query(`SELECT * FROM ${t} ORDER BY id`)
      got[name] = { rows: JSON.stringify(rows.rows), dirty: r.dirty.map((d) => [d.reason, JSON.stringify(d.values)] as [string, string]).sort() }
    }
    expect(got.binary!.rows).toBe(got.canonical!.rows)
    expect(got.csv!.rows).toBe(got.canonical!.rows)
    expect(got.binary!.dirty).toEqual(got.canonical!.dirty)
    expect(got.csv!.dirty).toEqual(got.canonical!.dirty)
    // NaN in a numeric, a double out of range or too small (the reader refuses them), 2023-02-30,
    // 99999 in a smallint, a varchar too long, bad JSON (PostgreSQL refuses them): dirty on every
    // path, with their file and line.
    for (const f of ['in-01.csv', 'in-04.csv', 'in-05.csv', 'in-06.csv', 'in-09.csv', 'in-10.csv', 'in-13.csv']) expect(got.binary!.dirty.some(([, values]) => values.includes(`"${f}",22`)), `${f}: ${JSON.stringify(got.binary!.dirty)}`).toBe(true)
    expect(got.binary!.dirty).toHaveLength(7)
    expect(JSON.parse(got.binary!.rows).length).toBeGreaterThan(2500)
  })
})
