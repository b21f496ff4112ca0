// A non-UTC process zone proves that no value passes through the process's time zone.
process.env.TZ = 'Asia/Kolkata'
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Column, LogicalType, Row, TableSchema, Value } from '../../main/core/types.js'
import { createSqliteConnector } from '../../main/connectors/sqlite/index.js'
import { NotFoundError, type Connector, type ReadSpec } from '../../main/connectors/types.js'
import { CHINOOK_SQLITE, CHINOOK_COUNTS } from '../helpers/servers.js'
import { sameValue, show } from '../helpers/compare.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'sl_sqlite_'))
const chinookFile = path.join(dir, 'chinook.sqlite')
const originalHash = createHash('sha256').update(readFileSync(CHINOOK_SQLITE)).digest('hex')
copyFileSync(CHINOOK_SQLITE, chinookFile)

function open(file: string, options?: Record<string, unknown>): Connector {
  return createSqliteConnector({ kind: 'sqlite', path: file, ...(options ? { options } : {}) })
}

async function readAll(conn: Connector, read: ReadSpec, batchBytes?: number): Promise<Row[]> {
  const out: Row[] = []
  for (const split of await conn.splits(read, 1)) for await (const b of conn.read(split, { batchBytes })) out.push(...b.rows)
  return out
}

function col(name: string, type: LogicalType, extra: Partial<Column> = {}): Column {
  return { name, ordinal: 0, type, nativeType: '', nullable: true, ...extra }
}

function raw(file: string): Database.Database {
  return new Database(file)
}

describe('SQLite connector', () => {
  let chinook: Connector
  let conn: Connector
  const targetFile = path.join(dir, 'target.sqlite')

  beforeAll(() => {
    chinook = open(chinookFile)
    conn = open(targetFile)
  })

  afterAll(async () => {
    await chinook?.close()
    await conn?.close()
    rmSync(dir, { recursive: true, force: true })
    // the bundled file was only copied, never opened
    expect(createHash('sha256').update(readFileSync(CHINOOK_SQLITE)).digest('hex')).toBe(originalHash)
  })

  it('test() reports version and latency, refuses to create a missing file, and gives exact errors', async () => {
    const ok = await chinook.test()
    expect(ok.ok).toBe(true)
    expect(ok.serverVersion).toMatch(/^SQLite 3\.\d+\.\d+$/)
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0)
    expect(chinook.defaultSchema).toBe('main')

    const missing = path.join(dir, 'missing.sqlite')
    const r = await open(missing).test()
    expect(r).toMatchObject({ ok: false, code: 'SQLITE_CANTOPEN', error: 'unable to open database file' })
    expect(existsSync(missing)).toBe(false)

    const noDir = await open(path.join(dir, 'no', 'such', 'dir.sqlite'), { mustExist: false }).test()
    expect(noDir).toMatchObject({ ok: false, code: 'SQLITE_CANTOPEN' })
    expect(noDir.error).toMatch(/directory does not exist/)

    const created = path.join(dir, 'created.sqlite')
    const c = open(created, { mustExist: false })
    expect(await c.test()).toMatchObject({ ok: true })
    expect(existsSync(created)).toBe(true)
    await c.close()

    const notDb = path.join(dir, 'not-a-db.sqlite')
    writeFileSync(notDb, 'hello, this is not a database file at all, just text that is long enough'.repeat(20))
    expect(await open(notDb).test()).toMatchObject({ ok: false, code: 'SQLITE_NOTADB', error: 'file is not a database' })
  })

  it('reads the Chinook catalog with exact types, keys, indexes and foreign keys', async () => {
    expect(await chinook.catalog.schemas()).toEqual(['main'])
    const tables = await chinook.catalog.tables()
    expect(Object.fromEntries(tables.map((t) => [t.name, t.estimatedRows]))).toEqual(CHINOOK_COUNTS)
    expect(tables.every((t) => t.kind === 'table' && t.schema === 'main')).toBe(true)

    const invoice = await chinook.catalog.table({ name: 'Invoice' })
    expect(invoice).toMatchObject({ schema: 'main', name: 'Invoice', primaryKey: ['InvoiceId'], estimatedRows: 412 })
    const c = Object.fromEntries(invoice.columns.map((x) => [x.name, x]))
    expect(c.Total).toEqual({ name: 'Total', ordinal: 9, type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'NUMERIC(10,2)', nullable: false })
    expect(c.InvoiceDate).toEqual({ name: 'InvoiceDate', ordinal: 3, type: { kind: 'datetime' }, nativeType: 'DATETIME', nullable: false })
    expect(c.InvoiceId).toEqual({ name: 'InvoiceId', ordinal: 1, type: { kind: 'int', bits: 64 }, nativeType: 'INTEGER', nullable: false, autoIncrement: true })
    expect(c.BillingCity).toEqual({ name: 'BillingCity', ordinal: 5, type: { kind: 'string', length: 40 }, nativeType: 'NVARCHAR(40)', nullable: true })
    expect(invoice.indexes).toEqual([{ name: 'IFK_InvoiceCustomerId', columns: ['CustomerId'], unique: false, primary: false }])
    expect(invoice.foreignKeys).toEqual([
      { name: 'fk_Invoice_0', columns: ['CustomerId'], refSchema: 'main', refTable: 'Customer', refColumns: ['CustomerId'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION' },
    ])
    expect(invoice.autoIncrementNext).toBeUndefined()

    const pt = await chinook.catalog.table({ name: 'PlaylistTrack' })
    expect(pt.primaryKey).toEqual(['PlaylistId', 'TrackId'])
    expect(pt.columns.map((x) => x.autoIncrement)).toEqual([undefined, undefined]) // composite PK: no rowid alias
    expect(pt.indexes.map((i) => i.name)).toEqual(['IFK_PlaylistTrackPlaylistId', 'IFK_PlaylistTrackTrackId']) // the PK autoindex is skipped
    expect(pt.foreignKeys.map((f) => `${f.columns}->${f.refTable}.${f.refColumns}`).sort()).toEqual(['PlaylistId->Playlist.PlaylistId', 'TrackId->Track.TrackId'])
    const track = await chinook.catalog.table({ name: 'Track' })
    expect(track.foreignKeys.map((f) => f.refTable).sort()).toEqual(['Album', 'Genre', 'MediaType'])
    expect(track.columns.find((x) => x.name === 'UnitPrice')!.type).toEqual({ kind: 'decimal', precision: 10, scale: 2 })
    const emp = await chinook.catalog.table({ name: 'Employee' })
    expect(emp.foreignKeys).toEqual([{ name: 'fk_Employee_0', columns: ['ReportsTo'], refSchema: 'main', refTable: 'Employee', refColumns: ['EmployeeId'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION' }])

    await expect(chinook.catalog.table({ name: 'Nope' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(chinook.catalog.table({ name: 'Nope' })).rejects.toThrow('table "main"."Nope" does not exist')
    await expect(chinook.count({ name: 'Nope' })).rejects.toBeInstanceOf(NotFoundError)
    expect(await chinook.count({ name: 'Invoice' })).toBe(412)
    expect(await chinook.count({ name: 'Invoice' }, `BillingCountry = 'USA'`)).toBe(91)
    expect(await chinook.catalog.others()).toEqual([])
    // opening an existing file never changes its journal mode
    const h = raw(chinookFile)
    expect(h.pragma('journal_mode', { simple: true })).toBe('delete')
    h.close()
  })

  it('reports unique-constraint indexes, AUTOINCREMENT, sqlite_stat1 estimates, views and triggers', async () => {
    const f = path.join(dir, 'cat.sqlite')
    const c = open(f)
    await c.execute([
      `CREATE TABLE "Cat" (id INTEGER PRIMARY KEY AUTOINCREMENT, "Name" TEXT NOT NULL DEFAULT 'x', code VARCHAR(5) UNIQUE, n INT, e, CONSTRAINT u2 UNIQUE (n, e))`,
      `CREATE INDEX cat_expr ON "Cat" (lower("Name"))`,
      `CREATE INDEX cat_partial ON "Cat" (n) WHERE n > 10`,
      `CREATE INDEX cat_name ON "Cat" ("Name" DESC)`,
      `CREATE TABLE kids (k TEXT PRIMARY KEY, cat INTEGER REFERENCES "Cat") WITHOUT ROWID`,
      `INSERT INTO "Cat" ("Name", code) VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')`,
      `CREATE VIEW cat_v AS SELECT id FROM "Cat"`,
      `CREATE TRIGGER cat_t AFTER INSERT ON "Cat" BEGIN SELECT 1; END`,
    ])
    const t = await c.catalog.table({ name: 'cat' })
    expect(t.name).toBe('Cat')
    expect(t.columns.map((x) => [x.name, x.type, x.default, x.autoIncrement ?? false])).toEqual([
      ['id', { kind: 'int', bits: 64 }, undefined, true],
      ['Name', { kind: 'text' }, "'x'", false],
      ['code', { kind: 'string', length: 5 }, undefined, false],
      ['n', { kind: 'int', bits: 64 }, undefined, false],
      ['e', { kind: 'other', native: '' }, undefined, false],
    ])
    expect(t.autoIncrementNext).toBe('4')
    expect(t.indexes).toEqual([
      { name: 'cat_name', columns: ['Name'], unique: false, primary: false },
      { name: 'sqlite_autoindex_Cat_1', columns: ['code'], unique: true, primary: false },
      { name: 'sqlite_autoindex_Cat_2', columns: ['n', 'e'], unique: true, primary: false },
    ])
    const kids = await c.catalog.table({ name: 'kids' })
    expect(kids.primaryKey).toEqual(['k'])
    expect(kids.indexes).toEqual([])
    expect(kids.foreignKeys).toEqual([{ name: 'fk_kids_0', columns: ['cat'], refSchema: 'main', refTable: 'Cat', refColumns: ['id'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION' }])
    expect((await c.catalog.tables()).map((x) => [x.name, x.kind, x.estimatedRows])).toEqual([
      ['Cat', 'table', 3],
      ['cat_v', 'view', undefined],
      ['kids', 'table', 0],
    ])
    await c.execute(['ANALYZE', `INSERT INTO "Cat" ("Name") VALUES ('d')`])
    expect((await c.catalog.tables()).find((x) => x.name === 'Cat')!.estimatedRows).toBe(3) // from sqlite_stat1, not counted
    expect(await c.catalog.others()).toEqual([
      { kind: 'trigger', schema: 'main', name: 'cat_t' },
      { kind: 'view', schema: 'main', name: 'cat_v' },
    ])
    // a file the connector creates is in WAL mode
    expect((await c.query('PRAGMA journal_mode')).rows).toEqual([['wal']])
    await c.close()
  })

  it('attaches databases as schemas', async () => {
    const c = open(path.join(dir, 'att.sqlite'), { attach: { chin: chinookFile } })
    expect(await c.catalog.schemas()).toEqual(['main', 'chin'])
    expect((await c.catalog.tables('chin')).length).toBe(11)
    expect(await c.count({ schema: 'chin', name: 'Genre' })).toBe(25)
    const rows = await readAll(c, { table: { schema: 'chin', name: 'Genre' }, columns: ['GenreId', 'Name'], where: 'GenreId <= 2' })
    expect(rows).toEqual([
      [1, 'Rock'],
      [2, 'Jazz'],
    ])
    await c.close()
  })

  it('reads Chinook with canonical values: NUMERIC(10,2) REALs as exact decimal strings, datetimes as stored', async () => {
    const rows = await readAll(chinook, { table: { name: 'Track' }, columns: ['TrackId', 'UnitPrice', 'Bytes'] })
    expect(rows.length).toBe(3503)
    expect(rows[0]).toEqual([1, '0.99', 11170334])
    const prices = new Map<Value, number>()
    for (const r of rows) prices.set(r[1]!, (prices.get(r[1]!) ?? 0) + 1)
    expect([...prices.entries()].sort()).toEqual([
      ['0.99', 3290],
      ['1.99', 213],
    ])
    const inv = await readAll(chinook, { table: { name: 'Invoice' }, columns: ['InvoiceId', 'InvoiceDate', 'Total'], where: 'InvoiceId IN (1, 5, 404)' })
    expect(inv).toEqual([
      [1, '2021-01-01 00:00:00', '1.98'],
      [5, '2021-01-11 00:00:00', '13.86'],
      [404, '2025-11-13 00:00:00', '25.86'],
    ])
    const total = (await chinook.query('SELECT sum(Total) FROM Invoice')).rows[0]![0]
    expect(total).toBe(2328.6) // an expression: carried as is (other), a number
    const cols = await chinook.describeRead({ table: { name: 'Invoice' }, columns: ['Total', 'InvoiceDate'] })
    expect(cols).toEqual([
      { name: 'Total', type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'NUMERIC(10,2)' },
      { name: 'InvoiceDate', type: { kind: 'datetime' }, nativeType: 'DATETIME' },
    ])
    expect(await chinook.describeRead({ querySql: 'SELECT Total, count(*) AS n FROM Invoice GROUP BY 1' })).toEqual([
      { name: 'Total', type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'NUMERIC(10,2)' },
      { name: 'n', type: { kind: 'other', native: '' }, nativeType: '' },
    ])
    await expect(readAll(chinook, { table: { name: 'Invoice' }, columns: ['Nope'] })).rejects.toThrow('column "Nope" does not exist in table "main"."Invoice"')
  })

  it('streams in bounded batches, yields to the event loop between them, and honours the abort signal', async () => {
    // a setImmediate chain only advances when the reader gives the event loop a turn
    let turns = 0
    let reading = true
    const spin = () => {
      turns++
      if (reading) setImmediate(spin)
    }
    setImmediate(spin)
    await new Promise((r) => setImmediate(r))
    const start = turns
    const sizes: number[] = []
    let rows = 0
    for await (const b of chinook.read({ index: 0, read: { table: { name: 'PlaylistTrack' } } }, { batchBytes: 16 * 1024 })) {
      sizes.push(b.approxBytes)
      rows += b.rows.length
    }
    reading = false
    expect(rows).toBe(8715)
    expect(sizes.length).toBeGreaterThan(5)
    expect(Math.max(...sizes.slice(0, -1))).toBeLessThan(16 * 1024 + 64)
    expect(Math.max(...sizes.slice(0, -1))).toBeGreaterThanOrEqual(16 * 1024)
    expect(turns - start).toBeGreaterThanOrEqual(sizes.length - 1)

    const ac = new AbortController()
    let seen = 0
    const run = async () => {
      for await (const b of chinook.read({ index: 0, read: { table: { name: 'PlaylistTrack' } } }, { batchBytes: 4096, signal: ac.signal })) {
        seen += b.rows.length
        if (seen > 500) ac.abort()
      }
    }
    await expect(run()).rejects.toThrow(/aborted/)
    expect(seen).toBeLessThan(8715)

    // breaking early releases the read handle: the file can be written right after
    for await (const _ of chinook.read({ index: 0, read: { table: { name: 'Genre' } } }, { batchBytes: 10 })) break
    await chinook.execute([`UPDATE Genre SET Name = Name WHERE GenreId = 1`])
  })

  it('splits cover every row exactly once (integer key, text key with NULLs and duplicates, mixed storage classes)', async () => {
    const check = async (c: Connector, read: ReadSpec, n: number, expected: number) => {
      const splits = await c.splits(read, n)
      const seen = new Map<string, number>()
      for (const s of splits) {
        for await (const b of c.read(s, { batchBytes: 8192 })) for (const r of b.rows) seen.set(show(r[0]!), (seen.get(show(r[0]!)) ?? 0) + 1)
      }
      expect(seen.size).toBe(expected)
      expect([...seen.values()].every((x) => x === 1)).toBe(true)
      return splits
    }
    const byPk = await check(chinook, { table: { name: 'Track' }, columns: ['TrackId'] }, 4, 3503)
    expect(byPk.map((s) => [s.range!.lower, s.range!.upper])).toEqual([
      [undefined, 876],
      [876, 1752],
      [1752, 2628],
      [2628, undefined],
    ])
    expect(byPk[3]!.range!.includeNull).toBe(true)
    const withWhere = await check(chinook, { table: { name: 'Track' }, columns: ['TrackId'], where: 'GenreId = 1' }, 3, 1297)
    expect(withWhere.length).toBe(3)
    // Composer: text with NULLs and many duplicates; TrackId read to identify rows
    const byText = await check(chinook, { table: { name: 'Track' }, columns: ['TrackId', 'Composer'], splitPk: 'Composer' }, 6, 3503)
    expect(byText.length).toBeGreaterThan(3)
    expect(typeof byText[1]!.range!.lower).toBe('string')
    expect(await chinook.splits({ table: { name: 'PlaylistTrack' } }, 4)).toHaveLength(1) // composite PK: one split

    const f = path.join(dir, 'mixed.sqlite')
    const c = open(f)
    await c.execute([
      `CREATE TABLE m (id INTEGER, k INTEGER)`,
      `INSERT INTO m VALUES (1, 1), (2, 2.5), (3, 'abc'), (4, x'00'), (5, NULL), (6, 9223372036854775807), (7, -9223372036854775808), (8, 100), (9, NULL), (10, 'zz')`,
    ])
    const mixed = await check(c, { table: { name: 'm' }, columns: ['id', 'k'], splitPk: 'k' }, 5, 10)
    expect(mixed.map((s) => [s.range!.lower ?? null, s.range!.upper ?? null])).toEqual([
      [null, '-5534023222112865485'],
      ['-5534023222112865485', '-1844674407370955162'],
      ['-1844674407370955162', '1844674407370955161'],
      ['1844674407370955161', '5534023222112865484'],
      ['5534023222112865484', null],
    ])
    await c.close()
  })

  // Every logical type with edge values through ddl() -> writer -> read.
  const typeColumns: Column[] = [
    col('id', { kind: 'int', bits: 32 }, { nullable: false }),
    col('b', { kind: 'bool' }),
    col('i8', { kind: 'int', bits: 8 }),
    col('i64', { kind: 'int', bits: 64 }),
    col('u64', { kind: 'int', bits: 64, unsigned: true }),
    col('d38', { kind: 'decimal', precision: 38, scale: 10 }),
    col('d2', { kind: 'decimal', precision: 12, scale: 2 }),
    col('f64', { kind: 'float', bits: 64 }),
    col('f32', { kind: 'float', bits: 32 }),
    col('s', { kind: 'string', length: 20 }),
    col('ch', { kind: 'string', length: 3, fixed: true }),
    col('t', { kind: 'text' }),
    col('by', { kind: 'bytes' }),
    col('dt', { kind: 'date' }),
    col('tm', { kind: 'time', precision: 6 }),
    col('ts', { kind: 'datetime', precision: 6 }),
    col('tz', { kind: 'timestamptz', precision: 6 }),
    col('y', { kind: 'year' }),
    col('j', { kind: 'json' }),
    col('u', { kind: 'uuid' }),
    col('en', { kind: 'enum', values: ['a', "it's"] }),
    col('st', { kind: 'set', values: ['x', 'y'] }),
    col('g', { kind: 'geometry' }),
    col('o', { kind: 'other', native: 'interval' }),
  ]
  const typeRows: Row[] = [
    [1, true, -128, '-9223372036854775808', '18446744073709551615', '-1234567890123456789012345678.0123456789', '0.10', 0.1, 0.5, '😀 ok', 'abc', 'tab\there\nnew\\line', Buffer.from([0, 1, 0, 255]), '0001-01-01', '-838:59:59', '2024-02-29 23:59:59.999999', '2024-01-01 10:00:00+05:30', 2024, '{"a": [1, 2.50]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "it's", 'x,y', Buffer.from('000000000101000000000000000000f03f000000000000f03f', 'hex'), 'P1D'],
    [2, false, 127, '9223372036854775807', '0', '0.0000000001', '-99999999.99', -1.7976931348623157e308, -3.4028234663852886e38, '', ' ', '', Buffer.alloc(0), '9999-12-31', '10:00:00.5', '0001-01-01 00:00:00', '2024-06-30 23:59:59.5-08:00', 1901, '1.50', '00000000-0000-0000-0000-000000000000', 'a', '', Buffer.from([0]), ''],
    [3, null, null, null, null, null, null, null, null, null, null, null, null, '20240101', null, null, null, null, '"x"', null, null, null, null, '42'],
    [4, true, 0, 9007199254740993n, '9223372036854775808', '0', '5.00', -Infinity, 0, 'x'.repeat(20), 'a', 'NULL', Buffer.from('null'), '2024-02-29', '23:59:59.999999', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00:00', 2155, 'null', 'ffffffff-ffff-ffff-ffff-ffffffffffff', "it's", 'y', null, '1e5'],
  ]

  it('round-trips every logical type through ddl()-created tables, byte-exact', async () => {
    const schema: TableSchema = { name: 'types', columns: typeColumns.map((c, i) => ({ ...c, ordinal: i + 1 })), primaryKey: ['id'], indexes: [], foreignKeys: [] }
    const plan = conn.ddl(schema, { name: 'types' })
    expect(plan.create[0]).toContain('"u64" UNSIGNED_BIG_TEXT')
    expect(plan.create[0]).toContain('"d38" DECIMAL_TEXT(38,10)')
    expect(plan.create[0]).toContain('"dt" DATE_TEXT')
    expect(plan.create[0]).toContain(`"en" TEXT CHECK ("en" IN ('a', 'it''s', ''))`)
    expect(plan.warnings).toEqual([
      'column "st": SET(x,y) stored as TEXT (comma-joined members); SQLite does not check membership',
      'column "g": geometry stored as BLOB (MySQL internal form: SRID + WKB); SQLite has no spatial type',
      'column "o": type interval has no SQLite counterpart, carried as TEXT (a PostgreSQL interval in ISO 8601 duration form, P1Y2M3DT4H5M6S)',
    ])
    await conn.execute(plan.create)
    const target = await conn.catalog.table({ name: 'types' })
    const w = await conn.writer({ table: { name: 'types' }, columns: target.columns, writeMode: 'insert' })
    const out = await w.write(typeRows)
    await w.close()
    expect(out).toEqual({ written: 4, dirty: [] })
    const back = await readAll(conn, { table: { name: 'types' } })
    expect(back.length).toBe(4)
    for (let r = 0; r < typeRows.length; r++) {
      for (let c = 0; c < typeColumns.length; c++) {
        const want = typeRows[r]![c]!
        const got = back[r]![c]!
        expect(sameValue(got, want), `row ${r} ${typeColumns[c]!.name}: ${show(got)} != ${show(want)}`).toBe(true)
      }
    }
    // canonical forms exactly (not just "same value")
    expect(back[0]!.slice(0, 7)).toEqual([1, true, -128, '-9223372036854775808', '18446744073709551615', '-1234567890123456789012345678.0123456789', '0.10'])
    expect(back[3]![3]).toBe('9007199254740993')
    expect(back[3]![6]).toBe('5.00')
    // storage classes: text stays text whatever it looks like
    const h = raw(targetFile)
    const classes = h.prepare(`SELECT typeof(u64), typeof(d2), typeof(dt), typeof(j), typeof(o), typeof(b), typeof(i64) FROM types WHERE id = 3 OR id = 2 ORDER BY id`).raw(true).all()
    h.close()
    expect(classes).toEqual([
      ['text', 'text', 'text', 'text', 'text', 'integer', 'integer'],
      ['null', 'null', 'text', 'text', 'text', 'null', 'null'],
    ])
    // the table's catalog reads the same logical types back (int32 widens to int64, enum reads as text)
    expect(target.columns.map((c) => c.type)).toEqual(
      typeColumns.map((c) => (c.name === 'id' ? { kind: 'int', bits: 64 } : c.type.kind === 'enum' || c.type.kind === 'set' || c.type.kind === 'other' ? { kind: 'text' } : c.type.kind === 'geometry' ? { kind: 'bytes' } : c.type)),
    )
  })

  it('reports dirty rows with reasons and commits the good ones (single-row and multi-row statements)', async () => {
    await conn.execute([`CREATE TABLE dirt (id INTEGER PRIMARY KEY, name TEXT NOT NULL, code VARCHAR(10) UNIQUE, n INTEGER, at DATE, price NUMERIC(10,2), f REAL, CHECK (n >= 0))`])
    const cols = (await conn.catalog.table({ name: 'dirt' })).columns
    const w = await conn.writer({ table: { name: 'dirt' }, columns: cols, writeMode: 'insert' })
    const rows: Row[] = [
      [1, 'ok', 'A', 1, '2024-01-01', '0.99', 1.5],
      [2, null, 'B', 1, null, null, null], // NOT NULL
      [3, 'dup', 'A', 1, null, null, null], // UNIQUE
      [4, 'neg', 'D', -1, null, null, null], // CHECK
      [5, 'abc', 'E', 'abc', null, null, null], // not an integer
      [6, 'date', 'F', 1, '20240101', null, null], // DATE has NUMERIC affinity: would become an integer
      [7, 'digits', 'G', 1, null, '1234567890123456.78', null], // more than 15 significant digits for NUMERIC
      [8, 'nan', 'H', 1, null, null, NaN],
      [1, 'pk', 'I', 1, null, null, null], // PRIMARY KEY
      [10, 'ok2', 'J', 2, '2024-12-31', '1234567890123.45', -0.5],
    ]
    const out = await w.write(rows)
    expect(out.written).toBe(2)
    expect(out.dirty).toEqual([
      { index: 1, reason: 'NOT NULL constraint failed: dirt.name', code: 'SQLITE_CONSTRAINT_NOTNULL', column: 'name' },
      { index: 2, reason: 'UNIQUE constraint failed: dirt.code', code: 'SQLITE_CONSTRAINT_UNIQUE', column: 'code' },
      { index: 3, reason: 'CHECK constraint failed: n >= 0', code: 'SQLITE_CONSTRAINT_CHECK' },
      { index: 4, reason: `column "n": 'abc' is not an integer`, code: 'SQLITE_MISMATCH', column: 'n' },
      { index: 5, reason: expect.stringMatching(/^column "at": '20240101' would be stored as a number by SQLite's NUMERIC affinity/), code: 'SQLITE_MISMATCH', column: 'at' },
      { index: 6, reason: expect.stringMatching(/^column "price": 1234567890123456.78 has 18 significant digits/), code: 'SQLITE_MISMATCH', column: 'price' },
      { index: 7, reason: 'column "f": NaN cannot be stored: SQLite stores a NaN as NULL', code: 'SQLITE_MISMATCH', column: 'f' },
      { index: 8, reason: 'UNIQUE constraint failed: dirt.id', code: 'SQLITE_CONSTRAINT_PRIMARYKEY', column: 'id' },
    ])
    expect((await conn.query('SELECT id, name, at, price, f FROM dirt ORDER BY id')).rows).toEqual([
      [1, 'ok', '2024-01-01', '0.99', 1.5],
      [10, 'ok2', '2024-12-31', '1234567890123.45', -0.5],
    ])

    // 10,010 rows of 7 columns: two 4,680-row statements (32,766 variables), ten 64-row ones and
    // ten single rows, with a bad row in each tier
    await conn.execute(['DELETE FROM dirt'])
    const many: Row[] = Array.from({ length: 10_010 }, (_, i) => [i + 1, `n${i}`, `c${i}`, i, null, null, null])
    many[7]![1] = null
    many[5000]![2] = 'c3'
    many[9500]![3] = -5
    many[10_005]![1] = null
    const out2 = await w.write(many)
    expect(out2.written).toBe(10_006)
    expect(out2.dirty.map((d) => [d.index, d.code, d.column])).toEqual([
      [7, 'SQLITE_CONSTRAINT_NOTNULL', 'name'],
      [5000, 'SQLITE_CONSTRAINT_UNIQUE', 'code'],
      [9500, 'SQLITE_CONSTRAINT_CHECK', undefined],
      [10_005, 'SQLITE_CONSTRAINT_NOTNULL', 'name'],
    ])
    expect(await conn.count({ name: 'dirt' })).toBe(10_006)
    expect((await conn.query('SELECT min(id), max(id), sum(n) FROM dirt')).rows).toEqual([[1, 10_010, (10_009 * 10_010) / 2 - 7 - 5000 - 9500 - 10_005]])
    await w.close()
    await w.close()
  })

  it('replace deletes and re-inserts (unwritten columns reset to defaults); update upserts and keeps them', async () => {
    await conn.execute([
      `CREATE TABLE up (id INTEGER PRIMARY KEY, a TEXT, extra TEXT DEFAULT 'dflt', code TEXT UNIQUE)`,
      `INSERT INTO up VALUES (1, 'one', 'kept', 'c1'), (2, 'two', 'kept', 'c2'), (3, 'three', 'kept', 'c3')`,
    ])
    const all = (await conn.catalog.table({ name: 'up' })).columns
    const pick = (...names: string[]) => names.map((n) => all.find((c) => c.name === n)!)
    const rep = await conn.writer({ table: { name: 'up' }, columns: pick('id', 'a', 'code'), writeMode: 'replace' })
    // id 1 conflicts on the PK; id 9 conflicts with row 2 on the UNIQUE code: REPLACE deletes row 2
    expect(await rep.write([[1, 'ONE', 'c1'], [9, 'nine', 'c2'], [4, 'four', 'c4']])).toEqual({ written: 3, dirty: [] })
    await rep.close()
    expect((await conn.query('SELECT id, a, extra, code FROM up ORDER BY id')).rows).toEqual([
      [1, 'ONE', 'dflt', 'c1'],
      [3, 'three', 'kept', 'c3'],
      [4, 'four', 'dflt', 'c4'],
      [9, 'nine', 'dflt', 'c2'],
    ])
    await conn.execute([`UPDATE up SET extra = 'kept'`])
    const upd = await conn.writer({ table: { name: 'up' }, columns: pick('id', 'a'), writeMode: 'update' })
    const o = await upd.write([[3, 'THREE'], [5, 'five'], [3, 'three again']])
    await upd.close()
    expect(o).toEqual({ written: 3, dirty: [] })
    expect((await conn.query('SELECT id, a, extra FROM up ORDER BY id')).rows).toEqual([
      [1, 'ONE', 'kept'],
      [3, 'three again', 'kept'],
      [4, 'four', 'kept'],
      [5, 'five', 'dflt'],
      [9, 'nine', 'kept'],
    ])
    // update on a unique key other than the PK
    const byCode = await conn.writer({ table: { name: 'up' }, columns: pick('code', 'a'), writeMode: 'update', keyColumns: ['code'] })
    expect(await byCode.write([['c4', 'FOUR']])).toEqual({ written: 1, dirty: [] })
    await byCode.close()
    expect((await conn.query('SELECT a FROM up WHERE id = 4')).rows).toEqual([['FOUR']])
    await expect(conn.writer({ table: { name: 'up' }, columns: pick('a'), writeMode: 'update', keyColumns: ['a'] })).rejects.toThrow(/key column|ON CONFLICT clause does not match/)
    await expect(conn.writer({ table: { name: 'up' }, columns: pick('a', 'extra'), writeMode: 'update', keyColumns: ['a'] })).rejects.toThrow(/ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint/)
    await conn.execute([`CREATE TABLE nokey (a TEXT)`])
    await expect(conn.writer({ table: { name: 'nokey' }, columns: [col('a', { kind: 'text' })], writeMode: 'update' })).rejects.toThrow('writeMode update needs key columns')
  })

  it('throws for errors that are not about a row: missing table, busy database, read-only handle', async () => {
    await expect(conn.writer({ table: { name: 'missing' }, columns: [col('a', { kind: 'text' })], writeMode: 'insert' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(conn.writer({ table: { name: 'nokey' }, columns: [col('zz', { kind: 'text' })], writeMode: 'insert' })).rejects.toThrow('column "zz" does not exist')

    const f = path.join(dir, 'busy.sqlite')
    const c = open(f, { busyTimeoutMs: 50 })
    await c.execute([`CREATE TABLE b (a INTEGER)`])
    const w = await c.writer({ table: { name: 'b' }, columns: [col('a', { kind: 'int', bits: 64 })], writeMode: 'insert' })
    const locker = raw(f)
    locker.exec('BEGIN IMMEDIATE')
    const err = await w.write([[1], [2]]).catch((e: unknown) => e as Error & { code?: string })
    expect(err).toBeInstanceOf(Error)
    expect((err as { code?: string }).code).toBe('SQLITE_BUSY')
    expect((err as Error).message).toBe('write "main"."b": database is locked')
    locker.exec('ROLLBACK')
    locker.close()
    expect(await w.write([[3]])).toEqual({ written: 1, dirty: [] })
    expect((await c.query('SELECT a FROM b')).rows).toEqual([[3]])
    await w.close()
    await c.close()

    // a file opened with a read-only handle: the write fails as a whole
    const ro = new Database(f, { readonly: true })
    expect(() => ro.exec('INSERT INTO b VALUES (1)')).toThrow('attempt to write a readonly database')
    ro.close()
  })

  it('migrates all of Chinook through ddl() + writer into a new file, value for value', async () => {
    const f = path.join(dir, 'copy.sqlite')
    const dst = open(f)
    for (const t of await chinook.catalog.tables()) {
      const schema = await chinook.catalog.table(t)
      const plan = dst.ddl(schema, { name: t.name })
      expect(plan.foreignKeys).toEqual([])
      expect(plan.warnings).toEqual([])
      await dst.execute(plan.create)
      const target = await dst.catalog.table({ name: t.name })
      const w = await dst.writer({ table: { name: t.name }, columns: target.columns, writeMode: 'insert' })
      for (const s of await chinook.splits({ table: t }, 3)) for await (const b of chinook.read(s, { batchBytes: 64 * 1024 })) expect((await w.write(b.rows)).dirty).toEqual([])
      await w.close()
      await dst.execute(plan.indexes)
      await dst.execute(plan.sequences)
      const a = await readAll(chinook, { table: t })
      const b = await readAll(dst, { table: t })
      expect(b.length).toBe(t.estimatedRows)
      expect(b).toEqual(a)
    }
    const track = await dst.catalog.table({ name: 'Track' })
    expect(track.columns.find((c) => c.name === 'TrackId')).toMatchObject({ nativeType: 'INTEGER', autoIncrement: true })
    expect(track.columns.find((c) => c.name === 'UnitPrice')).toMatchObject({ nativeType: 'DECIMAL_TEXT(10,2)', type: { kind: 'decimal', precision: 10, scale: 2 } })
    expect(track.foreignKeys.map((x) => x.refTable).sort()).toEqual(['Album', 'Genre', 'MediaType'])
    expect(track.indexes.map((x) => x.name).sort()).toEqual(['Track_IFK_TrackAlbumId', 'Track_IFK_TrackGenreId', 'Track_IFK_TrackMediaTypeId'])
    expect((await dst.query(`SELECT typeof(UnitPrice), UnitPrice FROM Track WHERE TrackId = 1`)).rows).toEqual([['text', '0.99']])
    expect((await dst.query('PRAGMA foreign_key_check')).rows).toEqual([])
    await dst.close()
  })

  it('carries AUTOINCREMENT and the next value from the source', async () => {
    const schema: TableSchema = {
      name: 'seq',
      columns: [col('id', { kind: 'int', bits: 32 }, { nullable: false, autoIncrement: true, ordinal: 1 }), col('v', { kind: 'string', length: 10 }, { default: "'z'", ordinal: 2 })],
      primaryKey: ['id'],
      indexes: [],
      foreignKeys: [],
      autoIncrementNext: '1000',
    }
    const plan = conn.ddl(schema, { name: 'seq' })
    expect(plan.create).toEqual([`CREATE TABLE "main"."seq" (\n  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n  "v" VARCHAR(10) DEFAULT 'z'\n)`])
    await conn.execute(plan.create)
    const w = await conn.writer({ table: { name: 'seq' }, columns: [schema.columns[0]!, schema.columns[1]!], writeMode: 'insert' })
    await w.write([[5, 'a']])
    await w.close()
    await conn.execute(plan.sequences)
    await conn.execute([`INSERT INTO seq (v) VALUES ('next')`])
    expect((await conn.query('SELECT id, v FROM seq ORDER BY id')).rows).toEqual([
      [5, 'a'],
      [1000, 'next'],
    ])
    expect((await conn.catalog.table({ name: 'seq' })).autoIncrementNext).toBe('1001')
  })

  it('translates defaults and foreign keys, warns about what it cannot', () => {
    const schema: TableSchema = {
      schema: 'shop',
      name: 'orders',
      columns: [
        col('id', { kind: 'int', bits: 64 }, { nullable: false, ordinal: 1 }),
        col('total', { kind: 'decimal', precision: 10, scale: 2 }, { default: '0.00', ordinal: 2 }),
        col('at', { kind: 'datetime' }, { default: 'CURRENT_TIMESTAMP', ordinal: 3 }),
        col('paid', { kind: 'bool' }, { default: 'false', ordinal: 4 }),
        col('note', { kind: 'text' }, { default: `'it''s'::text`, ordinal: 5 }),
        col('n', { kind: 'int', bits: 32 }, { default: 'nextval(\'s\'::regclass)', ordinal: 6, autoIncrement: true }),
        col('parent', { kind: 'int', bits: 64 }, { ordinal: 7 }),
      ],
      primaryKey: ['id'],
      indexes: [
        { name: 'PRIMARY', columns: ['id'], unique: true, primary: true },
        { name: 'orders_at', columns: ['at'], unique: false, primary: false },
        { name: 'u_note', columns: ['note', 'n'], unique: true, primary: false },
      ],
      foreignKeys: [
        { name: 'fk_parent', columns: ['parent'], refSchema: 'shop', refTable: 'orders', refColumns: ['id'], onDelete: 'CASCADE', onUpdate: 'NO ACTION' },
        { name: 'fk_other', columns: ['n'], refSchema: 'other', refTable: 'x', refColumns: ['y'], onDelete: 'SET NULL' },
      ],
    }
    const plan = conn.ddl(schema, { name: 'orders2' })
    expect(plan.create).toEqual([
      `CREATE TABLE "main"."orders2" (
  "id" BIGINT NOT NULL,
  "total" DECIMAL_TEXT(10,2) DEFAULT '0.00',
  "at" DATETIME_TEXT DEFAULT CURRENT_TIMESTAMP,
  "paid" BOOLEAN DEFAULT 0,
  "note" TEXT DEFAULT 'it''s',
  "n" INTEGER,
  "parent" BIGINT,
  PRIMARY KEY ("id"),
  FOREIGN KEY ("parent") REFERENCES "orders2" ("id") ON DELETE CASCADE,
  FOREIGN KEY ("n") REFERENCES "x" ("y") ON DELETE SET NULL
)`,
    ])
    expect(plan.indexes).toEqual([`CREATE INDEX "main"."orders2_orders_at" ON "orders2" ("at")`, `CREATE UNIQUE INDEX "main"."orders2_u_note" ON "orders2" ("note", "n")`])
    expect(plan.foreignKeys).toEqual([])
    expect(plan.sequences).toEqual([])
    expect(plan.warnings).toEqual([
      'column "n": auto-increment is only possible on a single INTEGER PRIMARY KEY in SQLite, dropped',
      'foreign key "fk_other": references another schema "other"; SQLite resolves it in "main"',
    ])
    expect(plan.omitted).toEqual(['column "n": default nextval(\'s\'::regclass) not translated (no SQLite equivalent), left out'])
    const o = conn.ddl(schema, { name: 'o3' }, { total: 'NUMERIC(10,2)' })
    expect(o.create[0]).toContain('"total" NUMERIC(10,2) DEFAULT 0.00,')
  })

  it('query(), execute() and count() on the main handle', async () => {
    await conn.execute([`CREATE TABLE q (id INTEGER PRIMARY KEY, v TEXT, big INTEGER); INSERT INTO q VALUES (1, 'a', 9223372036854775807), (2, 'b', 1), (3, 'c', NULL)`])
    const r = await conn.query('SELECT id, v, big FROM q WHERE id >= ? ORDER BY id', [1], { maxRows: 2 })
    expect(r).toEqual({
      columns: [
        { name: 'id', type: { kind: 'int', bits: 64 }, nativeType: 'INTEGER' },
        { name: 'v', type: { kind: 'text' }, nativeType: 'TEXT' },
        { name: 'big', type: { kind: 'int', bits: 64 }, nativeType: 'INTEGER' },
      ],
      rows: [
        [1, 'a', '9223372036854775807'],
        [2, 'b', 1],
      ],
      truncated: true,
    })
    expect(await conn.query('UPDATE q SET v = ? WHERE id > ?', ['z', 1])).toEqual({ columns: [], rows: [], affectedRows: 2 })
    expect(await conn.query('SELECT v FROM q WHERE id = ?', [true])).toMatchObject({ rows: [['a']] })
    expect(await conn.count({ name: 'q' }, `v = 'z'`)).toBe(2)
    await expect(conn.execute(['SELECT 1', 'SELEKT 2'])).rejects.toThrow('statement 2 of 2: near "SELEKT": syntax error')
  })

  it('works on :memory: with one shared handle', async () => {
    const m = createSqliteConnector({ kind: 'sqlite', path: ':memory:' })
    expect(await m.test()).toMatchObject({ ok: true })
    await m.execute([`CREATE TABLE t (id INTEGER PRIMARY KEY, v DECIMAL_TEXT(5,2))`])
    const w = await m.writer({ table: { name: 't' }, columns: (await m.catalog.table({ name: 't' })).columns, writeMode: 'insert' })
    expect(await w.write([[1, '1.50'], [2, '2']])).toEqual({ written: 2, dirty: [] })
    await w.close()
    expect(await readAll(m, { table: { name: 't' } })).toEqual([
      [1, '1.50'],
      [2, '2'],
    ])
    await m.close()
    await m.close()
  })
})
