/**
 * The raw path (main/connectors/raw.ts, main/engine/rawpath.ts) must write exactly what the
 * canonical path writes: the same target rows, the same dirty records. Each case runs the same
 * job twice, raw (default) and canonical (`SLUICE_RAW=0`), and compares; the connectors' raw
 * batches must decode to exactly the rows `read()` gives.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { openConnector } from '../../main/connectors/index.js'
import { rawReadable, type RawTarget } from '../../main/connectors/raw.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { Row } from '../../main/core/types.js'
import type { DirtyRecord, EngineEvent } from '../../main/engine/events.js'
import { runJob } from '../../main/engine/run.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { readAll } from '../helpers/compare.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

const N = 3000

describe.skipIf(!ready)('raw path = canonical path', () => {
  const id = uniq()
  const myDb = `sl_raw_${id}`
  const pgDb = `sl_raw_${id}`
  const my: ConnectionConfig = { kind: 'mysql', ...MYSQL, database: myDb }
  const pgc: ConnectionConfig = { kind: 'postgres', ...PG, database: pgDb }

  beforeAll(async () => {
    await freshMysqlDb(myDb)
    await freshPgDb(pgDb)
    const c = await mysql.createConnection({ ...MYSQL, database: myDb, charset: 'utf8mb4' })
    await c.query(`CREATE TABLE rawt (id INT PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, dec38 DECIMAL(38,10) NULL, txt VARCHAR(100) NULL,
      body TEXT NULL, dt DATETIME(6) NULL, d DATE NULL, f DOUBLE NULL, fl FLOAT NULL, j JSON NULL, e ENUM('a','b c') NULL, tm TIME(3) NULL,
      y YEAR NULL, ti TINYINT(1) NULL, zf INT(6) UNSIGNED ZEROFILL NULL, mi MEDIUMINT NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, bin VARBINARY(20) NULL, blb BLOB NULL) DEFAULT CHARSET=utf8mb4`)
    const rows: unknown[][] = [
      [1, '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', 'tab\there\nnew\\line\rcr \\N', '😀 中文 ü', '2024-02-29 23:59:59.999999', '0001-01-01', 0.1, 1.5, '{"a": [1, 2], "b": "ü\\t"}', 'b c', '-838:59:59.000', 2155, 1, 42, -8388608, '2038-01-19 03:14:07.499999', Buffer.from([0, 0xff, 0x5c, 0x0a, 0x09]), Buffer.alloc(0)],
      [2, '0', '9223372036854775807', '0.0000000001', '', '', '1000-01-01 00:00:00.100000', '9999-12-31', -1.7976931348623157e308, -0, '[]', 'a', '00:00:00.5', 1901, 0, 0, 8388607, '1970-01-01 00:00:01', Buffer.alloc(0), Buffer.from('\\x41', 'latin1')],
      [3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      [4, '9007199254740993', '-9007199254740993', '1.5', '\\', '\t', '2024-01-01 10:00:00', '2024-01-01', 5e-324, 3.4028234663852886e38, 'null', 'a', '12:00:00', 2024, 1, 7, 0, '2024-01-01 10:00:00.500000', Buffer.from('\t\n\r\\', 'latin1'), Buffer.from([1, 2, 3])],
    ]
    for (let i = 5; i <= N; i++) {
      rows.push([i, String(BigInt(i) * 6148914691236517n), String(-i * 7919), `${i}.${String(i % 97).padStart(2, '0')}`, `t${i}\t${'x'.repeat(i % 40)}`, `body ${i} ${'ü'.repeat(i % 120)}`, `2024-03-${String((i % 28) + 1).padStart(2, '0')} 0${i % 10}:00:0${i % 10}.${String(i % 1000).padStart(3, '0')}`, i % 5 ? `20${String(i % 100).padStart(2, '0')}-0${(i % 9) + 1}-1${i % 10}` : null, i / 7, i / 3, `{"i": ${i}}`, i % 2 ? 'a' : 'b c', `${String(i % 24).padStart(2, '0')}:30:00.${i % 10}`, 1901 + (i % 250), i % 2, i, -i, `2001-02-03 04:05:${String(i % 60).padStart(2, '0')}.${i % 7}`, Buffer.from(String(i)), i % 3 ? Buffer.alloc(i % 200, i % 256) : null])
    }
    for (let k = 0; k < rows.length; k += 500) await c.query('INSERT INTO rawt VALUES ?', [rows.slice(k, k + 500)])
    // Rows the target refuses: a zero date and a NUL character (PostgreSQL), kept apart.
    await c.query("SET SESSION sql_mode = ''")
    await c.query('CREATE TABLE dirt (id INT PRIMARY KEY, d DATE NULL, txt VARCHAR(20) NULL)')
    const dr: unknown[][] = []
    for (let i = 1; i <= 400; i++) dr.push([i, i === 150 ? '0000-00-00' : i === 151 ? '2020-00-15' : '2020-01-02', i === 300 ? 'a\u0000b' : `ok ${i}`])
    await c.query('INSERT INTO dirt VALUES ?', [dr])
    // Edges of the binary protocol's encodings (rawread.ts binaryRow): every integer width at its
    // limits, DOUBLE extremes, DATETIME/TIME values the server sends short (midnight, no fraction,
    // zero), fraction digits 0 and 3, negative and 3-digit-hour TIMEs, YEAR 0, zero dates.
    await c.query(`CREATE TABLE binx (id INT PRIMARY KEY, t8 TINYINT NULL, u8 TINYINT UNSIGNED NULL, t16 SMALLINT NULL, u16 SMALLINT UNSIGNED NULL,
      t24 MEDIUMINT NULL, u24 MEDIUMINT UNSIGNED NULL, t32 INT NULL, u32 INT UNSIGNED NULL, t64 BIGINT NULL, u64 BIGINT UNSIGNED NULL, dbl DOUBLE NULL,
      dec0 DECIMAL(20,0) NULL, dec4 DECIMAL(12,4) NULL, d DATE NULL, dt0 DATETIME NULL, dt3 DATETIME(3) NULL, dt6 DATETIME(6) NULL, tm0 TIME NULL, tm6 TIME(6) NULL,
      y YEAR NULL, ch CHAR(5) NULL, st SET('x','y') NULL) DEFAULT CHARSET=utf8mb4`)
    const bx: unknown[][] = [
      [1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, '-9223372036854775808', '18446744073709551615', -0, '-99999999999999999999', '-0.0001', '1000-01-01', '1000-01-01 00:00:00', '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000001', '00:00:00', '-00:00:00.000001', 0, '', 'x,y'],
      [2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, '9223372036854775807', '9007199254740993', 1e300, '0', '12345678.9', '9999-12-31', '9999-12-31 23:59:59', '2024-02-29 12:34:56.789', '1970-01-01 00:00:00.5', '838:59:59', '100:00:00.25', 2155, 'abc  ', ''],
      [3, 0, 1, -1, 1, -1, 1, -1, 1, '-9007199254740993', '0', 5e-324, '1', '0.0000', '2000-02-29', '2000-02-29 01:02:03', '2000-02-29 01:02:03.100', '2000-02-29 01:02:03.000100', '-838:59:59', '23:59:59.999999', 1901, 'ü', 'y'],
      [4, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      [5, 1, 2, 3, 4, 5, 6, 7, 8, '9', '10', -1.7976931348623157e308, '123', '-1.5', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2020-00-15 00:00:00', '12:00:00', '00:00:00.000000', '0000', 'z', 'x'],
    ]
    await c.query('INSERT INTO binx VALUES ?', [bx])
    // rawt without FLOAT and TIMESTAMP: every column has a binary COPY pair.
    await c.query('CREATE TABLE rawb (PRIMARY KEY (id)) AS SELECT id, u64, i64, dec38, txt, body, dt, d, f, j, e, tm, y, ti, zf, mi, bin, blb FROM rawt')
    await c.end()

    const p = new pg.Client({ ...PG, database: pgDb })
    await p.connect()
    await p.query(`CREATE TABLE rawp (id int PRIMARY KEY, i8 bigint, n numeric(30,6), t text, v varchar(50), ts timestamp(3), d date, f8 double precision, f4 real, j jsonb, u uuid, i2 smallint, b boolean)`)
    await p.query(`INSERT INTO rawp SELECT g, g::bigint * 3074457345618258, g * 1.000001, 't' || g || E'\\t\\\\' || repeat('é', g % 50) || CASE WHEN g % 500 = 0 THEN chr(12) || chr(11) ELSE '' END,
      'v' || g, timestamp '2024-01-01' + g * interval '1.001 second', CASE WHEN g % 7 = 0 THEN NULL ELSE date '2000-01-01' + g END, g / 7.0::float8, g / 3.0::float4,
      ('{"g": ' || g || '}')::jsonb, md5(g::text)::uuid, (g % 30000)::smallint, CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END FROM generate_series(1, ${N}) g`)
    await p.query(`INSERT INTO rawp VALUES (0, -9223372036854775808, -999999999999999999999999.999999, E'\\r\\n\\\\N', '', '0001-01-01 00:00:00', '0001-01-01', -0, 'NaN', '{}', '00000000-0000-0000-0000-000000000000', -32768, true)`)
    await p.query(`CREATE TABLE bigrows (id int PRIMARY KEY, t text)`)
    await p.query(`INSERT INTO bigrows SELECT g, CASE WHEN g % 5 = 0 THEN repeat(E'ab\\tc', 60000 + g) ELSE 'small ' || g END FROM generate_series(1, 60) g`)
    await p.query(`CREATE TABLE dirtp (id int PRIMARY KEY, n numeric, f8 double precision)`)
    await p.query(`INSERT INTO dirtp SELECT g, CASE WHEN g = 77 THEN 'NaN'::numeric ELSE g END, CASE WHEN g = 200 THEN 'Infinity'::float8 ELSE g / 4.0 END FROM generate_series(1, 300) g`)
    await p.end()
  })

  afterAll(async () => {
    delete process.env.SLUICE_RAW
    await dropMysqlDb(myDb)
    await dropPgDb(pgDb)
  })

  /** Run one table from `from` to `to` as `target`; collects dirty records and debug logs. */
  async function run(from: ConnectionConfig, to: ConnectionConfig, source: string, target: string, raw: boolean, setting: Record<string, unknown> = {}) {
    if (raw) delete process.env.SLUICE_RAW
    else process.env.SLUICE_RAW = '0'
    const parsed = parseJob({ reader: { connection: from }, writer: { connection: to, createTable: true }, tables: [{ source, target }], setting: { batchBytes: 65_536, speed: { channel: 2 }, ...setting } })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const dirty: DirtyRecord[] = []
    const logs: string[] = []
    try {
      const summary = await runJob({ runId: `raw-${target}`, job: parsed.job, reader: from, writer: to, vars: {}, time: timeContext(), onDirty: (d) => dirty.push(...d), onEvent: (e: EngineEvent) => void (e.type === 'run/log' && logs.push(e.message)) })
      dirty.sort((a, b) => Number(a.values[0]) - Number(b.values[0]))
      // Reasons name the target table: compare them without it.
      return { summary, dirty: dirty.map((d) => ({ ...d, taskId: '', reason: d.reason.replaceAll(target, '<target>') })), logs }
    } finally {
      delete process.env.SLUICE_RAW
    }
  }

  async function table(c: ConnectionConfig, name: string): Promise<Row[]> {
    const conn = await openConnector(c)
    try {
      return (await readAll(conn, name)).rows
    } finally {
      await conn.close()
    }
  }

  async function rawVsRead(c: ConnectionConfig, name: string, columns?: readonly string[], target?: RawTarget): Promise<{ raw: Row[]; read: Row[]; batches: number; via: string[]; refused: number }> {
    const conn = await openConnector(c)
    try {
      const split = { index: 0, read: { table: { name }, ...(columns ? { columns: [...columns] } : {}) } }
      const raw: Row[] = []
      const via = new Set<string>()
      let batches = 0
      let refused = 0
      for await (const b of rawReadable(conn)!.readRaw(split, { batchBytes: 65_536, ...(target ? { target } : {}) })) {
        batches++
        if (b.via) via.add(b.via)
        if (b.refused) refused++
        if (b.format !== 'pgbinary') expect(b.data[b.data.length - 1]).toBe(10)
        const rows = b.decode()
        expect(rows.length).toBe(b.rows)
        raw.push(...rows)
      }
      const read: Row[] = []
      for await (const b of conn.read(split, { batchBytes: 65_536 })) read.push(...b.rows)
      return { raw, read, batches, via: [...via], refused }
    } finally {
      await conn.close()
    }
  }

  it('MySQL raw batches decode to exactly the rows read() gives', async () => {
    const { raw, read, batches } = await rawVsRead(my, 'rawt')
    expect(batches).toBeGreaterThan(3)
    expect(read.length).toBe(N)
    expect(raw).toEqual(read)
    expect(read[0]).toEqual([1, '18446744073709551615', '-9223372036854775808', '-1234567890123456789012345678.0123456789', 'tab\there\nnew\\line\rcr \\N', '😀 中文 ü', '2024-02-29 23:59:59.999999', '0001-01-01', 0.1, 1.5, '{"a": [1, 2], "b": "ü\\t"}', 'b c', '-838:59:59', 2155, 1, 42, -8388608, '2038-01-19 03:14:07.499999+00:00', Buffer.from([0, 0xff, 0x5c, 0x0a, 0x09]), Buffer.alloc(0)])
    expect(read[3]!.slice(-3)).toEqual(['2024-01-01 10:00:00.5+00:00', Buffer.from('\t\n\r\\', 'latin1'), Buffer.from([1, 2, 3])])
    expect(read[3]!.slice(1, 3)).toEqual(['9007199254740993', '-9007199254740993'])
  })

  it('MySQL binary protocol: raw batches decode to exactly the rows read() and the text protocol give', async () => {
    // rawt without its FLOAT column (FLOAT stays on the text protocol, see rawread.ts), and binx.
    const cols = ['id', 'u64', 'i64', 'dec38', 'txt', 'body', 'dt', 'd', 'f', 'j', 'e', 'tm', 'y', 'ti', 'zf', 'mi', 'ts', 'bin', 'blb']
    // Without a binary writer the binary protocol is taken only when forced (SLUICE_MYSQL_BINARY=1).
    onTestFinished(() => {
      delete process.env.SLUICE_MYSQL_BINARY
    })
    for (const [name, columns] of [['rawt', cols], ['binx', undefined]] as const) {
      process.env.SLUICE_MYSQL_BINARY = '1'
      const bin = await rawVsRead(my, name, columns)
      expect(bin.via).toEqual(['MySQL binary protocol'])
      expect(bin.raw).toEqual(bin.read)
      process.env.SLUICE_MYSQL_BINARY = '0'
      try {
        const text = await rawVsRead(my, name, columns)
        expect(text.via).toEqual(['MySQL text protocol'])
        expect(bin.raw).toEqual(text.raw)
      } finally {
        delete process.env.SLUICE_MYSQL_BINARY
      }
      if (name === 'binx') {
        expect(bin.read.length).toBe(5)
        expect(bin.read[0]).toEqual([1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, '-9223372036854775808', '18446744073709551615', 0, '-99999999999999999999', '-0.0001', '1000-01-01', '1000-01-01 00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00.000001', '00:00:00', '-00:00:00.000001', 0, '', 'x,y'])
        expect(bin.read[1]!.slice(15, 21)).toEqual(['9999-12-31 23:59:59', '2024-02-29 12:34:56.789', '1970-01-01 00:00:00.5', '838:59:59', '100:00:00.25', 2155])
      }
    }
    // The table with FLOAT reads on the binary protocol too: FLOAT is widened to DOUBLE in the
    // SELECT (exact), so it has a binary form (mysql/read.ts buildReadSql).
    process.env.SLUICE_MYSQL_BINARY = '1'
    const whole = await rawVsRead(my, 'rawt')
    expect(whole.via).toEqual(['MySQL binary protocol'])
    // By default a text writer reads the text protocol.
    delete process.env.SLUICE_MYSQL_BINARY
    expect((await rawVsRead(my, 'rawt')).via).toEqual(['MySQL text protocol'])
    expect(whole.raw).toEqual(whole.read)
  })

  it('MySQL binary protocol into PostgreSQL binary COPY: batches decode to exactly the rows read() gives', async () => {
    // rawt without FLOAT (text protocol) and TIMESTAMP (no binary pair): every pair of pgOp.
    const cols = ['id', 'u64', 'i64', 'dec38', 'txt', 'body', 'dt', 'd', 'f', 'j', 'e', 'tm', 'y', 'ti', 'zf', 'mi', 'bin', 'blb']
    const types = ['int4', 'numeric', 'int8', 'numeric', 'text', 'text', 'timestamp', 'date', 'float8', 'jsonb', 'text', 'time', 'int2', 'bool', 'int8', 'int4', 'bytea', 'bytea'] as const
    const r = await rawVsRead(my, 'rawt', cols, { format: 'pgbinary', types })
    expect(r.via).toEqual(['MySQL binary protocol, PostgreSQL binary COPY'])
    expect(r.raw).toEqual(r.read)
    // Row 1's TIME -838:59:59 has no PostgreSQL time: its batch is refused (written canonically).
    expect(r.refused).toBe(1)
    // Into interval (what Sluice creates for a MySQL TIME) every TIME has a binary form.
    const iv = await rawVsRead(my, 'rawt', cols, { format: 'pgbinary', types: types.map((t, i) => (cols[i] === 'tm' ? 'interval' : t)) })
    expect(iv.via).toEqual(['MySQL binary protocol, PostgreSQL binary COPY'])
    expect(iv.raw).toEqual(iv.read)
    expect(iv.refused).toBe(0)
    const x = await rawVsRead(my, 'binx', undefined, { format: 'pgbinary', types: ['int4', 'int2', 'int2', 'int2', 'int4', 'int4', 'int4', 'int4', 'int8', 'int8', 'numeric', 'float8', 'numeric', 'numeric', 'date', 'timestamp', 'timestamp', 'timestamp', 'time', 'time', 'int2', 'text', 'text'] })
    expect(x.via).toEqual(['MySQL binary protocol, PostgreSQL binary COPY'])
    expect(x.raw).toEqual(x.read)
    // Integers out of a narrower target's range are refused, not wrapped: u32 4294967295 into int4.
    const y = await rawVsRead(my, 'binx', ['id', 'u32'], { format: 'pgbinary', types: ['int4', 'int4'] })
    expect(y.raw).toEqual(y.read)
    expect(y.refused).toBe(1)
  })

  it('MySQL -> PostgreSQL through binary COPY: same target rows and dirty records as the canonical path', async () => {
    const a = await run(my, pgc, 'rawb', 'rawb_raw', true, { errorLimit: { record: 5 } })
    const b = await run(my, pgc, 'rawb', 'rawb_canon', false, { errorLimit: { record: 5 } })
    expect(a.logs.filter((l) => /: raw path/.test(l))).toEqual(expect.arrayContaining([expect.stringContaining('(MySQL binary protocol, PostgreSQL binary COPY)')]))
    expect(a.summary.state).toBe('succeeded')
    // '-838:59:59' lands: a MySQL TIME becomes interval (binary COPY on the raw path).
    expect(a.dirty).toEqual([])
    expect(b.dirty).toEqual([])
    expect(a.summary.rowsWritten).toBe(N)
    const ra = await table(pgc, 'rawb_raw')
    expect(ra.length).toBe(N)
    expect(ra).toEqual(await table(pgc, 'rawb_canon'))
    expect(ra[3]!.slice(0, 9)).toEqual([4, '9007199254740993', '-9007199254740993', '1.5000000000', '\\', '\t', '2024-01-01 10:00:00', '2024-01-01', 5e-324])
  })

  it('MySQL -> PostgreSQL over the binary protocol: same target rows and dirty records as the canonical path', async () => {
    const a = await run(my, pgc, 'binx', 'binx_raw', true, { errorLimit: { record: 5 } })
    const b = await run(my, pgc, 'binx', 'binx_canon', false, { errorLimit: { record: 5 } })
    expect(a.logs.filter((l) => /: raw path/.test(l))).toEqual(expect.arrayContaining([expect.stringContaining('(MySQL binary protocol, PostgreSQL binary COPY)')]))
    expect(b.logs.some((l) => /: raw path/.test(l))).toBe(false)
    // TIMEs (negative, past 24 h) land in interval; row 5 has zero dates.
    expect(a.dirty.map((d) => d.values[0])).toEqual([5])
    expect(a.dirty).toEqual(b.dirty)
    expect(a.summary.rowsWritten).toBe(4)
    const ra = await table(pgc, 'binx_raw')
    expect(ra).toEqual(await table(pgc, 'binx_canon'))
    expect(ra.map((r) => r[0])).toEqual([1, 2, 3, 4])
  })

  it('PostgreSQL raw batches decode to exactly the rows read() gives', async () => {
    const { raw, read, batches } = await rawVsRead(pgc, 'rawp')
    expect(batches).toBeGreaterThan(3)
    expect(read.length).toBe(N + 1)
    expect(raw).toEqual(read)
  })

  it('PostgreSQL raw read: rows larger than a batch and than a socket chunk; an early break cancels and frees the connection', async () => {
    const { raw, read } = await rawVsRead(pgc, 'bigrows')
    expect(read.length).toBe(60)
    expect(raw).toEqual(read)
    expect(read[4]![1]).toBe('ab\tc'.repeat(60005))
    const conn = await openConnector(pgc)
    try {
      let n = 0
      for await (const b of rawReadable(conn)!.readRaw({ index: 0, read: { table: { name: 'rawp' } } }, { batchBytes: 65_536 })) {
        n += b.rows
        break
      }
      expect(n).toBeGreaterThan(0)
      expect(await conn.count({ name: 'rawp' })).toBe(N + 1)
      const ac = new AbortController()
      let got = 0
      await expect(
        (async () => {
          for await (const b of rawReadable(conn)!.readRaw({ index: 0, read: { table: { name: 'rawp' } } }, { batchBytes: 65_536, signal: ac.signal })) {
            got += b.rows
            ac.abort(new Error('stop here'))
          }
        })(),
      ).rejects.toThrow('stop here')
      expect(got).toBeGreaterThan(0)
      expect(await conn.count({ name: 'bigrows' })).toBe(60)
    } finally {
      await conn.close()
    }
  })

  it('MySQL -> PostgreSQL: same target rows on both paths (TIME column into interval)', async () => {
    const a = await run(my, pgc, 'rawt', 'rawt_raw', true, { errorLimit: { record: 5 } })
    const b = await run(my, pgc, 'rawt', 'rawt_canon', false, { errorLimit: { record: 5 } })
    expect(a.logs.some((l) => /: raw path/.test(l))).toBe(true)
    expect(b.logs.some((l) => /: raw path/.test(l))).toBe(false)
    expect(a.summary.state).toBe('succeeded')
    expect(b.summary.state).toBe('succeeded')
    // '-838:59:59' is a valid MySQL TIME and lands in interval on both paths.
    expect(a.dirty).toEqual([])
    expect(b.dirty).toEqual([])
    expect(a.summary.rowsWritten).toBe(N)
    expect(b.summary.rowsWritten).toBe(N)
    const ra = await table(pgc, 'rawt_raw')
    const rb = await table(pgc, 'rawt_canon')
    expect(ra.length).toBe(N)
    expect(ra).toEqual(rb)
    expect(ra[1]!.slice(0, 4)).toEqual([2, '0', '9223372036854775807', '0.0000000001'])
  })

  for (const zeroDate of ['error', 'null'] as const) {
    it(`MySQL -> PostgreSQL: refused rows (zero dates with zeroDate=${zeroDate}, NUL) give the same dirty records and rows`, async () => {
      const a = await run(my, pgc, 'dirt', `dirt_raw_${zeroDate}`, true, { zeroDate, errorLimit: { record: 10 } })
      const b = await run(my, pgc, 'dirt', `dirt_canon_${zeroDate}`, false, { zeroDate, errorLimit: { record: 10 } })
      expect(a.logs.some((l) => /: raw path/.test(l))).toBe(true)
      expect(a.dirty.map((d) => d.values[0])).toEqual(zeroDate === 'error' ? [150, 151, 300] : [300])
      expect(a.dirty).toEqual(b.dirty)
      expect(a.dirty.at(-1)!.code).toBe('22021')
      expect(a.summary.rowsWritten).toBe(b.summary.rowsWritten)
      const ra = await table(pgc, `dirt_raw_${zeroDate}`)
      expect(ra).toEqual(await table(pgc, `dirt_canon_${zeroDate}`))
      expect(ra.length).toBe(zeroDate === 'error' ? 397 : 399)
      if (zeroDate === 'null') expect(ra.find((r) => r[0] === 150)).toEqual([150, null, 'ok 150'])
    })
  }

  it('PostgreSQL -> MySQL: same target rows on both paths (\\f and \\v escapes go the canonical way)', async () => {
    const a = await run(pgc, my, 'rawp', 'rawp_raw', true, { errorLimit: { record: 5 } })
    const b = await run(pgc, my, 'rawp', 'rawp_canon', false, { errorLimit: { record: 5 } })
    expect(a.logs.some((l) => /: raw path/.test(l))).toBe(true)
    // real 'NaN' has no MySQL spelling: row 0 is dirty on both paths.
    expect(a.dirty.map((d) => d.values[0])).toEqual([0])
    expect(a.dirty).toEqual(b.dirty)
    const ra = await table(my, 'rawp_raw')
    expect(ra.length).toBe(N)
    expect(ra).toEqual(await table(my, 'rawp_canon'))
    expect(ra.find((r) => r[0] === 2)!.at(-1)).toBe(1)
    expect(ra.find((r) => r[0] === 1)!.at(-1)).toBe(0)
    expect(ra.find((r) => r[0] === 3)!.at(-1)).toBe(null)
    expect(ra.find((r) => r[0] === 500)![3]).toBe(`t500\t\\${'é'.repeat(0)}\f\v`)
  })

  it('PostgreSQL -> MySQL: NaN and Infinity are dirty on both paths', async () => {
    const a = await run(pgc, my, 'dirtp', 'dirtp_raw', true, { errorLimit: { record: 5 } })
    const b = await run(pgc, my, 'dirtp', 'dirtp_canon', false, { errorLimit: { record: 5 } })
    expect(a.dirty.map((d) => d.values[0])).toEqual([77, 200])
    expect(a.dirty).toEqual(b.dirty)
    const ra = await table(my, 'dirtp_raw')
    expect(ra.length).toBe(298)
    expect(ra).toEqual(await table(my, 'dirtp_canon'))
  })
})
