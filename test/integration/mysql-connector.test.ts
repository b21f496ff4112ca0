// A non-UTC process zone proves no value passes through the process's time zone.
process.env.TZ = 'Asia/Kolkata'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mysql from 'mysql2/promise'
import { createMysqlConnector } from '../../main/connectors/mysql/index.js'
import type { MysqlWriter } from '../../main/connectors/mysql/write.js'
import { NotFoundError, type Connector } from '../../main/connectors/types.js'
import type { Row, Value } from '../../main/core/types.js'
import { dropMysqlDb, freshMysqlDb, loadChinookMysql, MYSQL, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql')

const CHINOOK = `sl_my_chinook_${uniq()}`
const DB = `sl_my_${uniq()}`

let fast: Connector
let strict: Connector
let admin: mysql.Connection

async function readAll(c: Connector, table: string, columns?: string[]): Promise<Row[]> {
  const out: Row[] = []
  for await (const b of c.read({ index: 0, read: { table: { name: table }, columns } })) out.push(...b.rows)
  return out
}

describe.skipIf(!ready)('mysql connector (MariaDB)', () => {
  beforeAll(async () => {
    loadChinookMysql(CHINOOK)
    await freshMysqlDb(DB)
    admin = await mysql.createConnection({ ...MYSQL, database: DB })
    fast = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: DB })
    strict = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: DB, options: { loadData: false } })
  })
  afterAll(async () => {
    await fast?.close()
    await strict?.close()
    await fast?.close() // safe twice
    await admin?.end()
    await dropMysqlDb(CHINOOK)
    await dropMysqlDb(DB)
  })

  describe('session and test()', () => {
    it('reports version and latency', async () => {
      const r = await fast.test()
      expect(r.ok).toBe(true)
      expect(r.serverVersion).toMatch(/MariaDB|^\d+\.\d+/)
      expect(r.latencyMs).toBeGreaterThanOrEqual(0)
    })
    it('warm() opens read connections ahead, never waiting for more than the pool holds', async () => {
      const small = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: DB, options: { connectionLimit: 2 } })
      try {
        // Asking for 4 with a pool of 2 takes 1 and returns (waiting for a 3rd would never end).
        await Promise.race([small.warm!(4), new Promise((_, rej) => setTimeout(() => rej(new Error('warm() waited for more connections than the pool holds')), 5000))])
        const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()`, [DB])
        expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(1)
        expect((await small.query('SELECT 1 AS one')).rows).toEqual([[1]])
      } finally {
        await small.close()
      }
    })

    it('reports the driver error and code', async () => {
      const bad = createMysqlConnector({ kind: 'mysql', host: '127.0.0.1', port: 1, user: 'root', connectTimeoutMs: 2000 })
      const r = await bad.test()
      await bad.close()
      expect(r.ok).toBe(false)
      expect(r.code).toBe('ECONNREFUSED')
      expect(r.error).toContain('ECONNREFUSED')
      const denied = createMysqlConnector({ kind: 'mysql', ...MYSQL, user: 'sluice_nobody_' + uniq(), password: 'definitely-wrong' })
      const d = await denied.test()
      await denied.close()
      expect(d.ok).toBe(false)
      // MariaDB answers an unknown user with a randomly chosen auth plugin (anti-enumeration), so
      // the code is ER_ACCESS_DENIED_ERROR or ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
      expect(d.code).toMatch(/^ER_ACCESS_DENIED_(NO_PASSWORD_)?ERROR$/)
      expect(d.error).toContain("Access denied for user 'sluice_nobody_")
    })
    it('sets time_zone, keeps strict mode', async () => {
      const r = await fast.query('SELECT @@session.time_zone, @@session.sql_mode, @@character_set_client')
      expect(r.rows[0]![0]).toBe('+00:00')
      expect(String(r.rows[0]![1])).toContain('STRICT_TRANS_TABLES')
      expect(r.rows[0]![2]).toBe('utf8mb4')
    })
  })

  describe('catalog (Chinook)', () => {
    let c: Connector
    beforeAll(() => {
      c = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: CHINOOK })
    })
    afterAll(() => c.close())

    it('lists schemas without system databases', async () => {
      const s = await c.catalog.schemas()
      expect(s).toContain(CHINOOK)
      expect(s).not.toContain('mysql')
      expect(s).not.toContain('information_schema')
      expect(s).not.toContain('performance_schema')
    })
    it('lists the 11 tables with estimated rows', async () => {
      const t = await c.catalog.tables()
      expect(t.map((x) => x.name)).toEqual(['Album', 'Artist', 'Customer', 'Employee', 'Genre', 'Invoice', 'InvoiceLine', 'MediaType', 'Playlist', 'PlaylistTrack', 'Track'])
      expect(t.every((x) => x.kind === 'table' && x.schema === CHINOOK && typeof x.estimatedRows === 'number')).toBe(true)
    })
    it('describes Invoice exactly', async () => {
      const t = await c.catalog.table({ name: 'Invoice' })
      const byName = Object.fromEntries(t.columns.map((x) => [x.name, x]))
      expect(byName.Total!.type).toEqual({ kind: 'decimal', precision: 10, scale: 2 })
      expect(byName.Total!.nativeType).toBe('decimal(10,2)')
      expect(byName.Total!.nullable).toBe(false)
      expect(byName.InvoiceDate!.type).toEqual({ kind: 'datetime', precision: 0 })
      expect(byName.InvoiceDate!.nativeType).toBe('datetime')
      expect(byName.InvoiceId!.type).toEqual({ kind: 'int', bits: 32 })
      expect(byName.BillingAddress!.type).toEqual({ kind: 'string', length: 70 })
      expect(byName.BillingAddress!.nullable).toBe(true)
      expect(byName.BillingAddress!.default).toBeUndefined()
      expect(byName.BillingAddress!.charset).toMatch(/^utf8/)
      expect(t.columns.map((x) => x.ordinal)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(t.primaryKey).toEqual(['InvoiceId'])
      expect(t.indexes).toEqual([
        { name: 'PRIMARY', columns: ['InvoiceId'], unique: true, primary: true },
        { name: 'IFK_InvoiceCustomerId', columns: ['CustomerId'], unique: false, primary: false },
      ])
      expect(t.foreignKeys).toEqual([
        { name: 'FK_InvoiceCustomerId', columns: ['CustomerId'], refSchema: CHINOOK, refTable: 'Customer', refColumns: ['CustomerId'], onUpdate: 'NO ACTION', onDelete: 'NO ACTION' },
      ])
    })
    it('describes PlaylistTrack (composite PK) and Track (3 FKs)', async () => {
      const pt = await c.catalog.table({ name: 'PlaylistTrack' })
      expect(pt.primaryKey).toEqual(['PlaylistId', 'TrackId'])
      const tr = await c.catalog.table({ schema: CHINOOK, name: 'Track' })
      expect(tr.foreignKeys.map((f) => [f.name, f.columns, f.refTable])).toEqual([
        ['FK_TrackAlbumId', ['AlbumId'], 'Album'],
        ['FK_TrackGenreId', ['GenreId'], 'Genre'],
        ['FK_TrackMediaTypeId', ['MediaTypeId'], 'MediaType'],
      ])
      expect(tr.indexes.map((i) => i.name)).toEqual(['PRIMARY', 'IFK_TrackAlbumId', 'IFK_TrackGenreId', 'IFK_TrackMediaTypeId'])
      expect(tr.columns.find((x) => x.name === 'UnitPrice')!.nativeType).toBe('decimal(10,2)')
    })
    it('throws NotFoundError for a missing table', async () => {
      await expect(c.catalog.table({ name: 'Nope' })).rejects.toBeInstanceOf(NotFoundError)
      await expect(c.catalog.table({ name: 'Nope' })).rejects.toThrow(/Nope/)
    })
    it('counts', async () => {
      expect(await c.count({ name: 'Invoice' })).toBe(412)
      expect(await c.count({ name: 'Invoice' }, 'Total > 10')).toBe(64)
    })
  })

  describe('catalog details', () => {
    beforeAll(async () => {
      await admin.query(`CREATE TABLE cat1 (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        flag TINYINT(1) NOT NULL DEFAULT 1,
        name VARCHAR(20) NULL DEFAULT 'it''s' COMMENT 'the name',
        doc JSON,
        made DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_name (name)
      ) AUTO_INCREMENT = 500`)
      await admin.query('CREATE VIEW v1 AS SELECT id FROM cat1')
      await admin.query('CREATE TRIGGER trg1 BEFORE INSERT ON cat1 FOR EACH ROW SET NEW.flag = NEW.flag')
      await admin.query('CREATE PROCEDURE proc1() SELECT 1')
      await admin.query('CREATE EVENT ev1 ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1')
    })
    it('reads defaults, auto-increment, comments and the JSON alias', async () => {
      const t = await fast.catalog.table({ name: 'cat1' })
      const [id, flag, name, doc, made] = t.columns
      expect(id).toMatchObject({ autoIncrement: true, type: { kind: 'int', bits: 64, unsigned: true }, nativeType: 'bigint(20) unsigned' })
      expect(flag).toMatchObject({ default: '1', type: { kind: 'int', bits: 8 }, nativeType: 'tinyint(1)' })
      expect(name).toMatchObject({ default: "'it''s'", comment: 'the name', collation: 'utf8mb4_bin', charset: 'utf8mb4' })
      expect(doc!.type).toEqual({ kind: 'json' })
      expect(doc!.default).toBeUndefined()
      expect(made!.default).toBe('current_timestamp(3)')
      expect(t.autoIncrementNext).toBe('500')
      expect(t.indexes.find((i) => i.name === 'uq_name')).toEqual({ name: 'uq_name', columns: ['name'], unique: true, primary: false })
      const tables = await fast.catalog.tables()
      expect(tables.find((x) => x.name === 'v1')).toEqual({ schema: DB, name: 'v1', kind: 'view' })
    })
    it('lists views, triggers, routines, events', async () => {
      const o = await fast.catalog.others()
      expect(o).toEqual(
        expect.arrayContaining([
          { kind: 'view', schema: DB, name: 'v1' },
          { kind: 'trigger', schema: DB, name: 'trg1' },
          { kind: 'routine', schema: DB, name: 'proc1' },
          { kind: 'event', schema: DB, name: 'ev1' },
        ]),
      )
    })
  })

  describe('round trip of every type', () => {
    const DDL = (name: string) => `CREATE TABLE ${name} (
      id INT PRIMARY KEY,
      ti TINYINT, tb TINYINT(1), si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT, bu BIGINT UNSIGNED,
      b1 BIT(1), b9 BIT(9),
      d DECIMAL(38,10), f FLOAT, dbl DOUBLE,
      c CHAR(3), vc VARCHAR(40), tt TINYTEXT, tx TEXT, lt LONGTEXT,
      bn BINARY(4), vb VARBINARY(16), bl BLOB,
      dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, dtz DATETIME(6),
      yr YEAR, js JSON, en ENUM('a','b','c d'), st SET('x','y','z'), g GEOMETRY
    )`
    const point = Buffer.from('00000000' + '0101000000' + '000000000000f03f' + '0000000000000040', 'hex')
    // [written, expected read-back] per column, in DDL order.
    const cols: Array<[string, Value, Value]>[] = [
      [
        ['id', 1, 1],
        ['ti', -128, -128],
        ['tb', 5, 5],
        ['si', 32767, 32767],
        ['mi', 16777215, 16777215],
        ['i', -2147483648, -2147483648],
        ['bi', '-9223372036854775808', '-9223372036854775808'],
        ['bu', '18446744073709551615', '18446744073709551615'],
        ['b1', true, true],
        ['b9', Buffer.from([1, 0xff]), Buffer.from([1, 0xff])],
        ['d', '-1234567890123456789012345678.0123456789', '-1234567890123456789012345678.0123456789'],
        ['f', 1.5, 1.5],
        ['dbl', 0.1, 0.1],
        ['c', 'ü', 'ü'],
        ['vc', '😀 中文 ü', '😀 中文 ü'],
        ['tt', '', ''],
        ['tx', 'tab\there\nnew\rline\\back\\\\slash\0nul \\N', 'tab\there\nnew\rline\\back\\\\slash\0nul \\N'],
        ['lt', 'x'.repeat(70_000), 'x'.repeat(70_000)],
        ['bn', Buffer.from([0, 1, 0, 0]), Buffer.from([0, 1, 0, 0])],
        ['vb', Buffer.from([0, 0, 9, 10, 13, 92, 0, 255]), Buffer.from([0, 0, 9, 10, 13, 92, 0, 255])],
        ['bl', Buffer.from([0, 0, 0]), Buffer.from([0, 0, 0])],
        ['dt', '0001-01-01', '0001-01-01'],
        ['tm', '-838:59:59.000000', '-838:59:59'],
        ['dtm', '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.999999'],
        ['ts', '2024-06-30 23:59:59.999999-07:00', '2024-07-01 06:59:59.999999+00:00'],
        ['dtz', '2024-01-01 00:00:00.000001+05:30', '2023-12-31 18:30:00.000001'],
        ['yr', 2155, 2155],
        ['js', '{"a": [1, 2.50], "s": "😀\\t"}', '{"a": [1, 2.50], "s": "😀\\t"}'],
        ['en', 'c d', 'c d'],
        ['st', 'x,z', 'x,z'],
        ['g', point, point],
      ],
      [
        ['id', 2, 2],
        ['ti', 127, 127],
        ['tb', 0, 0],
        ['si', -32768, -32768],
        ['mi', 0, 0],
        ['i', 2147483647, 2147483647],
        ['bi', 9223372036854775807n, '9223372036854775807'],
        ['bu', 9007199254740991, 9007199254740991],
        ['b1', false, false],
        ['b9', null, null],
        ['d', '0.0000000001', '0.0000000001'],
        ['f', -0.25, -0.25],
        ['dbl', -1.7976931348623157e308, -1.7976931348623157e308],
        ['c', '', ''],
        ['vc', '', ''],
        ['tt', null, null],
        ['tx', '\\', '\\'],
        ['lt', '', ''],
        ['bn', null, null],
        ['vb', Buffer.alloc(0), Buffer.alloc(0)],
        ['bl', null, null],
        ['dt', '9999-12-31', '9999-12-31'],
        ['tm', '838:59:59.999999', '838:59:59.999999'],
        ['dtm', '0000-00-00 00:00:00', '0000-00-00 00:00:00'],
        ['ts', '2038-01-19 03:14:07.999999+00:00', '2038-01-19 03:14:07.999999+00:00'],
        ['dtz', '9999-12-31 23:59:59.999999Z', '9999-12-31 23:59:59.999999'],
        ['yr', 1901, 1901],
        ['js', '[]', '[]'],
        ['en', null, null],
        ['st', '', ''],
        ['g', null, null],
      ],
      [
        ['id', 3, 3],
        ...(['ti', 'tb', 'si', 'mi', 'i', 'bi', 'bu', 'b1', 'b9', 'd', 'f', 'dbl', 'c', 'vc', 'tt', 'tx', 'lt', 'bn', 'vb', 'bl', 'dt', 'tm', 'dtm', 'ts', 'dtz', 'yr', 'js', 'en', 'st', 'g'].map(
          (n) => [n, null, null] as [string, Value, Value],
        )),
      ],
    ]

    for (const [label, which] of [
      ['LOAD DATA path', () => fast],
      ['strict INSERT path', () => strict],
    ] as const) {
      it(`writes and reads back canonical values (${label})`, async () => {
        const c = which()
        const name = label.startsWith('LOAD') ? 'rt_fast' : 'rt_strict'
        await c.execute([DDL(name)])
        const table = await c.catalog.table({ name })
        expect(table.columns.map((x) => x.name)).toEqual(cols[0]!.map(([n]) => n))
        const w = (await c.writer({ table: { name }, columns: table.columns, writeMode: 'insert' })) as MysqlWriter
        const out = await w.write(cols.map((r) => r.map(([, v]) => v)))
        expect(out).toEqual({ written: 3, dirty: [] })
        expect(w.stats).toEqual(label.startsWith('LOAD') ? { fastBatches: 1, strictBatches: 0, loadDataDisabled: false } : { fastBatches: 0, strictBatches: 1, loadDataDisabled: true })
        await w.close()
        await w.close()
        const rows = (await readAll(c, name)).sort((a, b) => Number(a[0]) - Number(b[0]))
        expect(rows).toEqual(cols.map((r) => r.map(([, , e]) => e)))
        // The server stored the instants as expected, independent of our rendering.
        const [[utc]] = (await admin.query(`SELECT CAST(CONVERT_TZ(ts, @@session.time_zone, '+00:00') AS CHAR) FROM ${name} WHERE id = 1`)) as unknown as [[Record<string, string>]]
        expect(Object.values(utc!)[0]).toBe('2024-07-01 06:59:59.999999')
      })
    }

    it('renders TIMESTAMP in a non-UTC session zone with that offset', async () => {
      const c = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: DB, timezone: '+05:30' })
      try {
        const r = await c.query('SELECT ts, dtm FROM rt_fast WHERE id = 1')
        expect(r.rows).toEqual([['2024-07-01 12:29:59.999999+05:30', '2024-02-29 23:59:59.999999']])
        expect(r.columns.map((x) => x.type.kind)).toEqual(['timestamptz', 'datetime'])
        // Writing an offset value through a +05:30 session lands on the same instant.
        const t = await c.catalog.table({ name: 'rt_fast' })
        const w = await c.writer({ table: { name: 'rt_fast' }, columns: t.columns.filter((x) => ['id', 'ts', 'dtz'].includes(x.name)), writeMode: 'insert' })
        expect(await w.write([[10, '2024-06-30 23:59:59.999999-07:00', '2024-01-01 00:00:00+00:00']])).toEqual({ written: 1, dirty: [] })
        await w.close()
        const back = await fast.query('SELECT ts, dtz FROM rt_fast WHERE id = 10')
        expect(back.rows).toEqual([['2024-07-01 06:59:59.999999+00:00', '2024-01-01 05:30:00']])
      } finally {
        await c.close()
      }
    })

    it('describes query results', async () => {
      const cols = await fast.describeRead({ querySql: 'SELECT id, d, ts, vb, js, b1 FROM rt_fast;' })
      expect(cols.map((x) => [x.name, x.type])).toEqual([
        ['id', { kind: 'int', bits: 32 }],
        ['d', { kind: 'decimal', precision: 38, scale: 10 }],
        ['ts', { kind: 'timestamptz', precision: 6 }],
        ['vb', { kind: 'bytes', length: 16 }],
        ['js', { kind: 'text', maxBytes: 4294967295 }],
        ['b1', { kind: 'bool' }],
      ])
      const t = await fast.describeRead({ table: { name: 'rt_fast' }, columns: ['bu', 'id'] })
      expect(t.map((x) => [x.name, x.nativeType])).toEqual([
        ['bu', 'bigint(20) unsigned'],
        ['id', 'int(11)'],
      ])
    })
  })

  describe('dirty rows and write modes', () => {
    const mk = async (c: Connector, name: string) => {
      await c.execute([`DROP TABLE IF EXISTS ${name}`, `CREATE TABLE ${name} (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, qty INT NULL)`])
      return (await c.catalog.table({ name })).columns
    }
    for (const [label, which] of [
      ['fast', () => fast],
      ['strict', () => strict],
    ] as const) {
      it(`1 over-long value in 100 rows -> 99 written, 1 dirty, nothing truncated (${label})`, async () => {
        const c = which()
        const name = `dirty_${label}`
        const columns = await mk(c, name)
        const rows: Row[] = Array.from({ length: 100 }, (_, i) => [i + 1, `n${i + 1}`, i])
        rows[37]![1] = 'much too long for ten'
        const w = (await c.writer({ table: { name }, columns, writeMode: 'insert' })) as MysqlWriter
        const out = await w.write(rows)
        expect(out.written).toBe(99)
        expect(out.dirty).toEqual([{ index: 37, reason: "Data too long for column 'name' at row 1", code: 'ER_DATA_TOO_LONG', column: 'name' }])
        expect(w.stats.strictBatches).toBe(1)
        await w.close()
        expect(await c.count({ name })).toBe(99)
        expect(await c.count({ name }, 'id = 38')).toBe(0)
        const r = await c.query(`SELECT MAX(CHAR_LENGTH(name)), SUM(id) FROM ${name}`)
        expect(r.rows).toEqual([[4, '5012']])
      })

      it(`duplicate key in insert mode is dirty; replace and update modes (${label})`, async () => {
        const c = which()
        const name = `modes_${label}`
        const columns = await mk(c, name)
        const ins = await c.writer({ table: { name }, columns, writeMode: 'insert' })
        expect(await ins.write([[1, 'a', 10], [2, 'b', 20]])).toEqual({ written: 2, dirty: [] })
        const dup = await ins.write([[3, 'c', 30], [1, 'again', 0], [4, 'd', 40]])
        expect(dup.written).toBe(2)
        expect(dup.dirty).toEqual([{ index: 1, reason: "Duplicate entry '1' for key 'PRIMARY'", code: 'ER_DUP_ENTRY' }])
        // A value a column cannot take: a dirty row naming the column.
        const badInt = await ins.write([[5, 'e', 'abc' as Value]])
        expect(badInt.written).toBe(0)
        expect(badInt.dirty[0]).toMatchObject({ index: 0, column: 'qty' })
        await ins.close()

        const rep = (await c.writer({ table: { name }, columns, writeMode: 'replace' })) as MysqlWriter
        expect(await rep.write([[1, 'A', null], [9, 'nine', 9]])).toEqual({ written: 2, dirty: [] })
        expect(rep.stats.fastBatches).toBe(label === 'fast' ? 1 : 0)
        await rep.close()

        const upd = (await c.writer({ table: { name }, columns: columns.filter((x) => x.name !== 'qty'), writeMode: 'update' })) as MysqlWriter
        expect(await upd.write([[2, 'B'], [10, 'ten']])).toEqual({ written: 2, dirty: [] })
        expect(upd.stats.fastBatches).toBe(label === 'fast' ? 1 : 0)
        // A bad row in update mode goes through the strict path and is dirty alone.
        const u2 = await upd.write([[3, 'C'], [4, 'far too long name']])
        expect(u2).toEqual({ written: 1, dirty: [{ index: 1, reason: "Data too long for column 'name' at row 1", code: 'ER_DATA_TOO_LONG', column: 'name' }] })
        await upd.close()

        const all = await c.query(`SELECT id, name, qty FROM ${name} ORDER BY id`)
        expect(all.rows).toEqual([
          [1, 'A', null],
          [2, 'B', 20],
          [3, 'C', 30],
          [4, 'd', 40],
          [9, 'nine', 9],
          [10, 'ten', null],
        ])
      })
    }

    it('falls back to the strict path when LOAD DATA LOCAL is refused', async () => {
      // Without the client's LOCAL_FILES capability the server refuses LOAD DATA LOCAL.
      const c = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: DB, options: { flags: ['-LOCAL_FILES'] } })
      try {
        const columns = await mk(c, 'refused')
        const w = (await c.writer({ table: { name: 'refused' }, columns, writeMode: 'insert' })) as MysqlWriter
        expect(await w.write([[1, 'a', 1], [2, 'b', null]])).toEqual({ written: 2, dirty: [] })
        expect(await w.write([[3, 'c', 3]])).toEqual({ written: 1, dirty: [] })
        expect(w.stats).toEqual({ fastBatches: 0, strictBatches: 2, loadDataDisabled: true })
        await w.close()
        expect(await c.count({ name: 'refused' })).toBe(3)
      } finally {
        await c.close()
      }
    })

    it('throws (not dirty) when the table is missing', async () => {
      const columns = await mk(fast, 'gone')
      const w = await fast.writer({ table: { name: 'gone' }, columns, writeMode: 'insert' })
      await fast.execute(['DROP TABLE gone'])
      await expect(w.write([[1, 'x', 1]])).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' })
      await w.close()
    })
  })

  describe('splits', () => {
    beforeAll(async () => {
      await admin.query('CREATE TABLE sp_int (id INT PRIMARY KEY, grp INT NULL)')
      await admin.query('INSERT INTO sp_int SELECT seq * 3, IF(seq % 7 = 0, NULL, seq % 50) FROM seq_1_to_1000')
      await admin.query('CREATE TABLE sp_big (id BIGINT UNSIGNED PRIMARY KEY)')
      await admin.query('INSERT INTO sp_big VALUES (0), (1), (9007199254740993), (9223372036854775808), (18446744073709551614), (18446744073709551615)')
      await admin.query('INSERT INTO sp_big SELECT seq * 1000003 FROM seq_1_to_500')
      await admin.query('CREATE TABLE sp_str (k VARCHAR(20) PRIMARY KEY)')
      await admin.query("INSERT INTO sp_str SELECT CONCAT(CHAR(65 + seq % 26), '-', seq) FROM seq_1_to_777")
      await admin.query("INSERT INTO sp_str VALUES (''), ('😀'), ('zzz')")
    })

    const collect = async (c: Connector, table: string, col: string, n: number, extra: { splitPk?: string; where?: string } = {}) => {
      const splits = await c.splits({ table: { name: table }, columns: [col], ...extra }, n)
      const seen: Value[] = []
      for (const s of splits) for await (const b of c.read(s, { batchBytes: 256 })) for (const r of b.rows) seen.push(r[0]!)
      return { splits, seen }
    }

    it('int PK: every row in exactly one split', async () => {
      const { splits, seen } = await collect(fast, 'sp_int', 'id', 4)
      expect(splits).toHaveLength(4)
      expect(splits.map((s) => s.index)).toEqual([0, 1, 2, 3])
      expect(splits[3]!.range!.includeNull).toBe(true)
      expect(seen).toHaveLength(1000)
      expect(new Set(seen).size).toBe(1000)
    })
    it('nullable splitPk with where: NULLs read once, by the last split', async () => {
      const { splits, seen } = await collect(fast, 'sp_int', 'grp', 5, { splitPk: 'grp', where: 'id > 30' })
      expect(splits).toHaveLength(5)
      const expected = await fast.count({ name: 'sp_int' }, 'id > 30')
      expect(seen).toHaveLength(expected)
      expect(seen.filter((v) => v === null)).toHaveLength(141)
    })
    it('bigint unsigned PK up to 2^64-1', async () => {
      const { splits, seen } = await collect(fast, 'sp_big', 'id', 7)
      expect(splits).toHaveLength(7)
      expect(seen).toHaveLength(506)
      expect(new Set(seen.map(String)).size).toBe(506)
      expect(seen).toContain('18446744073709551615')
      expect(seen).toContain('9007199254740993')
      expect(seen).toContain(0)
    })
    it('varchar PK by sampled boundaries', async () => {
      const { splits, seen } = await collect(fast, 'sp_str', 'k', 6)
      expect(splits).toHaveLength(6)
      expect(seen).toHaveLength(780)
      expect(new Set(seen).size).toBe(780)
    })
    it('one split for querySql, n <= 1, or no single-column key', async () => {
      expect(await fast.splits({ querySql: 'SELECT 1' }, 8)).toEqual([{ index: 0, read: { querySql: 'SELECT 1' } }])
      expect(await fast.splits({ table: { name: 'sp_int' } }, 1)).toHaveLength(1)
    })
  })

  describe('streaming', () => {
    beforeAll(async () => {
      await admin.query('CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(100) NOT NULL)')
      await admin.query("INSERT INTO big SELECT seq, REPEAT('p', 80) FROM seq_1_to_200000")
    })

    it('batches are bounded and arrive while the query is still running', async () => {
      const batchBytes = 64 * 1024
      let batches = 0
      let rows = 0
      let maxBatch = 0
      let runningAtFirst = -1
      let last = 0
      for await (const b of fast.read({ index: 0, read: { table: { name: 'big' } } }, { batchBytes })) {
        if (batches === 0) {
          // Consumer is slow on the first batch: the server must be held back, not buffered by us.
          await new Promise((r) => setTimeout(r, 300))
          const [pl] = (await admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT * FROM `sl_my_%`.`big`%'")) as unknown as [[{ n: number }]]
          runningAtFirst = Number(pl[0].n)
        }
        batches++
        rows += b.rows.length
        maxBatch = Math.max(maxBatch, b.approxBytes)
        expect(b.rows[0]![0]).toBe(last + 1)
        last = b.rows[b.rows.length - 1]![0] as number
      }
      expect(rows).toBe(200_000)
      expect(runningAtFirst).toBe(1)
      expect(batches).toBeGreaterThan(200)
      expect(maxBatch).toBeLessThan(batchBytes + 1024)
    })

    it('abort stops the query and releases the connection', async () => {
      const ac = new AbortController()
      let got = 0
      await expect(
        (async () => {
          for await (const b of fast.read({ index: 0, read: { table: { name: 'big' } } }, { batchBytes: 16 * 1024, signal: ac.signal })) {
            got += b.rows.length
            if (got > 1000) ac.abort()
          }
        })(),
      ).rejects.toThrow()
      expect(got).toBeLessThan(200_000)
      await new Promise((r) => setTimeout(r, 200))
      const [pl] = (await admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT * FROM `sl_my_%`.`big`%'")) as unknown as [[{ n: number }]]
      expect(Number(pl[0].n)).toBe(0)
      expect(await fast.count({ name: 'big' })).toBe(200_000)
    })

    it('query() honours maxRows', async () => {
      const r = await fast.query('SELECT id FROM big ORDER BY id', [], { maxRows: 5 })
      expect(r.rows).toEqual([[1], [2], [3], [4], [5]])
      expect(r.truncated).toBe(true)
      const dml = await fast.query('UPDATE big SET pad = ? WHERE id <= ?', ['q', 3])
      expect(dml.affectedRows).toBe(3)
    })
  })

  describe('ddl', () => {
    it('re-creates Chinook Track with indexes and the auto-increment position', async () => {
      const src = createMysqlConnector({ kind: 'mysql', ...MYSQL, database: CHINOOK })
      try {
        const track = await src.catalog.table({ name: 'Track' })
        track.columns[0]!.autoIncrement = true
        track.autoIncrementNext = '5000'
        const plan = fast.ddl(track, { name: 'Track2' })
        await fast.execute([...plan.create, ...plan.indexes])
        const t2 = await fast.catalog.table({ name: 'Track2' })
        expect(t2.columns.map((c) => [c.name, c.nativeType, c.nullable])).toEqual(track.columns.map((c) => [c.name, c.nativeType.replace('int(11)', 'int(11)'), c.nullable]))
        expect(t2.indexes.map((i) => i.name)).toEqual(track.indexes.map((i) => i.name))
        await fast.execute(plan.sequences)
        expect((await fast.catalog.table({ name: 'Track2' })).autoIncrementNext).toBe('5000')
        expect(plan.warnings).toEqual([])
      } finally {
        await src.close()
      }
    })
  })
})
