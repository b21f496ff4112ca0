// A non-UTC process zone proves that no value passes through the process's time zone.
process.env.TZ = 'Asia/Kolkata'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Column, Row, Value } from '../../main/core/types.js'
import { createPostgresConnector } from '../../main/connectors/postgres/index.js'
import { quoteLiteral } from '../../main/connectors/postgres/copy-text.js'
import { NotFoundError, type Connector, type ReadSpec } from '../../main/connectors/types.js'
import { dropPgDb, freshPgDb, loadChinookPg, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('postgres')

async function readAll(conn: Connector, read: ReadSpec, batchBytes?: number): Promise<Row[]> {
  const out: Row[] = []
  for (const split of await conn.splits(read, 1)) for await (const b of conn.read(split, { batchBytes })) out.push(...b.rows)
  return out
}

function col(name: string, type: Column['type']): Column {
  return { name, ordinal: 0, type, nativeType: '', nullable: true }
}

describe.skipIf(!ready)('PostgreSQL connector (real server)', () => {
  const db = `sl_pg_${uniq()}`
  const chinookDb = `sl_pgchinook_${uniq()}`
  let conn: Connector
  let chinook: Connector
  let admin: pg.Client

  beforeAll(async () => {
    await freshPgDb(db)
    loadChinookPg(chinookDb)
    conn = createPostgresConnector({ kind: 'postgres', ...PG, database: db })
    chinook = createPostgresConnector({ kind: 'postgres', ...PG, database: chinookDb })
    admin = new pg.Client({ ...PG, database: db })
    await admin.connect()
    await chinook.execute(['ANALYZE'])
  })

  afterAll(async () => {
    await conn?.close()
    await chinook?.close()
    await admin?.end()
    await dropPgDb(db)
    await dropPgDb(chinookDb)
  })

  it('test() reports version and latency, or the exact error with its SQLSTATE', async () => {
    const ok = await conn.test()
    expect(ok.ok).toBe(true)
    expect(ok.serverVersion).toMatch(/^PostgreSQL \d+\.\d+$/)
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0)
    const bad = createPostgresConnector({ kind: 'postgres', ...PG, database: `sl_pg_missing_${uniq()}` })
    const r = await bad.test()
    expect(r.ok).toBe(false)
    expect(r.code).toBe('3D000')
    expect(r.error).toMatch(/database "sl_pg_missing_.*" does not exist/)
    await bad.close()
    const refused = await createPostgresConnector({ kind: 'postgres', host: '127.0.0.1', port: 1, user: 'postgres' }).test()
    expect(refused).toMatchObject({ ok: false, code: 'ECONNREFUSED' })
  })

  it('reads the Chinook catalog with exact types, keys and foreign keys', async () => {
    expect(await chinook.catalog.schemas()).toEqual(['public'])
    const tables = await chinook.catalog.tables()
    expect(tables.map((t) => t.name)).toEqual(['album', 'artist', 'customer', 'employee', 'genre', 'invoice', 'invoice_line', 'media_type', 'playlist', 'playlist_track', 'track'])
    expect(tables.every((t) => t.kind === 'table')).toBe(true)
    expect(tables.find((t) => t.name === 'invoice')!.estimatedRows).toBe(412)

    const invoice = await chinook.catalog.table({ name: 'invoice' })
    expect(invoice.schema).toBe('public')
    expect(invoice.primaryKey).toEqual(['invoice_id'])
    const c = Object.fromEntries(invoice.columns.map((x) => [x.name, x]))
    expect(c.total).toMatchObject({ type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'numeric(10,2)', nullable: false, ordinal: 9 })
    expect(c.invoice_date).toMatchObject({ type: { kind: 'datetime', precision: 6 }, nativeType: 'timestamp without time zone', nullable: false })
    expect(c.invoice_id).toMatchObject({ type: { kind: 'int', bits: 32 }, nativeType: 'integer', ordinal: 1 })
    expect(c.billing_city).toMatchObject({ type: { kind: 'string', length: 40 }, nativeType: 'character varying(40)', nullable: true })
    expect(c.invoice_id.autoIncrement).toBeUndefined()
    expect(invoice.indexes).toEqual([
      { name: 'invoice_pkey', columns: ['invoice_id'], unique: true, primary: true },
      { name: 'invoice_customer_id_idx', columns: ['customer_id'], unique: false, primary: false },
    ])
    expect(invoice.foreignKeys).toEqual([
      { name: 'invoice_customer_id_fkey', columns: ['customer_id'], refSchema: 'public', refTable: 'customer', refColumns: ['customer_id'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION' },
    ])
    const pt = await chinook.catalog.table({ name: 'playlist_track' })
    expect(pt.primaryKey).toEqual(['playlist_id', 'track_id'])
    expect(pt.foreignKeys.map((f) => f.refTable).sort()).toEqual(['playlist', 'track'])
    await expect(chinook.catalog.table({ name: 'Invoice' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(chinook.catalog.table({ name: 'nope' })).rejects.toThrow(/table "public"."nope" does not exist/)
    expect(await chinook.count({ name: 'invoice' })).toBe(412)
    expect(await chinook.count({ name: 'invoice' }, `billing_country = 'USA'`)).toBe(91)
  })

  it('reports serial/identity, enums, domains, collation, comments, skipped indexes, sequences and other objects', async () => {
    await conn.execute([
      `CREATE TYPE "Mood" AS ENUM ('sad', 'ok', 'happy')`,
      `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`,
      `CREATE TABLE "Cat" (
         id serial PRIMARY KEY,
         "Name" text COLLATE "C" NOT NULL DEFAULT 'x',
         mood "Mood",
         n posint,
         gen bigint GENERATED ALWAYS AS IDENTITY,
         amount numeric,
         body jsonb,
         tz timetz,
         price money,
         tags text[])`,
      `COMMENT ON TABLE "Cat" IS 'cats'`,
      `COMMENT ON COLUMN "Cat"."Name" IS 'the name'`,
      `CREATE UNIQUE INDEX cat_name_mood ON "Cat" ("Name", mood)`,
      `CREATE INDEX cat_lower ON "Cat" (lower("Name"))`,
      `CREATE INDEX cat_partial ON "Cat" (n) WHERE n > 10`,
      `CREATE INDEX cat_gin ON "Cat" USING gin (body)`,
      `INSERT INTO "Cat" ("Name") VALUES ('a'), ('b'), ('c')`,
      `CREATE VIEW cat_v AS SELECT id FROM "Cat"`,
      `CREATE MATERIALIZED VIEW cat_m AS SELECT id FROM "Cat"`,
      `CREATE SEQUENCE free_seq`,
      `CREATE FUNCTION f_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
      `CREATE TRIGGER t_noop BEFORE INSERT ON "Cat" FOR EACH ROW EXECUTE FUNCTION f_noop()`,
    ])
    const t = await conn.catalog.table({ name: 'Cat' })
    const c = Object.fromEntries(t.columns.map((x) => [x.name, x]))
    expect(c.id).toMatchObject({ autoIncrement: true, default: `nextval('"Cat_id_seq"'::regclass)`, type: { kind: 'int', bits: 32 } })
    expect(c.Name).toMatchObject({ collation: 'C', comment: 'the name', default: `'x'::text`, nullable: false, type: { kind: 'text' } })
    expect(c.mood).toMatchObject({ type: { kind: 'enum', values: ['sad', 'ok', 'happy'] }, nativeType: '"Mood"' })
    expect(c.n).toMatchObject({ type: { kind: 'int', bits: 32 }, nativeType: 'posint' })
    expect(c.gen).toMatchObject({ autoIncrement: true, type: { kind: 'int', bits: 64 } })
    expect(c.gen.default).toBeUndefined()
    expect(c.amount.type).toEqual({ kind: 'decimal' })
    expect(c.body.type).toEqual({ kind: 'json', binary: true })
    expect(c.tz.type).toEqual({ kind: 'other', native: 'time with time zone' })
    expect(c.price.type).toEqual({ kind: 'other', native: 'money' })
    expect(c.tags.type).toEqual({ kind: 'other', native: 'text[]' })
    expect(t.comment).toBe('cats')
    expect(t.autoIncrementNext).toBe('4')
    expect(t.indexes).toEqual([
      { name: 'Cat_pkey', columns: ['id'], unique: true, primary: true },
      { name: 'cat_name_mood', columns: ['Name', 'mood'], unique: true, primary: false },
    ])
    expect(await conn.catalog.others()).toEqual([
      { kind: 'routine', schema: 'public', name: 'f_noop()' },
      { kind: 'sequence', schema: 'public', name: 'free_seq' },
      { kind: 'trigger', schema: 'public', name: 't_noop ON Cat' },
      { kind: 'view', schema: 'public', name: 'cat_m' },
      { kind: 'view', schema: 'public', name: 'cat_v' },
    ])
    const tables = await conn.catalog.tables()
    expect(tables.filter((x) => x.name.startsWith('cat_')).map((x) => [x.name, x.kind])).toEqual([['cat_m', 'view'], ['cat_v', 'view']])
  })

  const ROUND_TRIP_DDL = `CREATE TABLE rt (
    id int PRIMARY KEY, i2 smallint, i8 bigint, n38 numeric(38,10), n numeric, r real, d double precision, b boolean,
    vc varchar(20), ch char(3), t text, by bytea, dt date, tm time(6), ts timestamp(6), tstz timestamptz(6),
    j json, jb jsonb, u uuid, e "Mood", iv interval, arr int[])`

  // [written row, expected read-back row]
  const cases: Array<[Row, Row]> = [
    [
      [1, -32768, '-9223372036854775808', '-1234567890123456789012345678.0123456789', '0.10', 3.5, NaN, true, '😀 中文 ü', 'ab', 'tab\there\nnl\\bs\rcr', Buffer.from([0x00, 0xff, 0x5c, 0x0a, 0x09]), '0001-01-01', '23:59:59.999999', '2024-02-29 23:59:59.999999', '2024-01-01 10:00:00.123456+05:30', '{"a": [1, 2.50, "x"]}', '{"b": 1, "a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 'P1DT2H', '{1,2,NULL}'],
      [1, -32768, '-9223372036854775808', '-1234567890123456789012345678.0123456789', '0.10', 3.5, NaN, true, '😀 中文 ü', 'ab ', 'tab\there\nnl\\bs\rcr', Buffer.from([0x00, 0xff, 0x5c, 0x0a, 0x09]), '0001-01-01', '23:59:59.999999', '2024-02-29 23:59:59.999999', '2024-01-01 04:30:00.123456+00:00', '{"a": [1, 2.50, "x"]}', '{"a": [1, 2], "b": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 'P1DT2H', '{1,2,NULL}'],
    ],
    [
      [2, 32767, 9223372036854775807n, '99999999999999999999999999.9999999999', 'NaN', -Infinity, Infinity, false, '', '', '', Buffer.alloc(0), '9999-12-31', '00:00:00', '0001-01-01 00:00:00', '2024-06-30 23:59:59+00:00', '[]', '{}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'sad', 'PT0S', '{}'],
      [2, 32767, '9223372036854775807', '99999999999999999999999999.9999999999', 'NaN', -Infinity, Infinity, false, '', '   ', '', Buffer.alloc(0), '9999-12-31', '00:00:00', '0001-01-01 00:00:00', '2024-06-30 23:59:59+00:00', '[]', '{}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'sad', 'PT0S', '{}'],
    ],
    [
      [3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      [3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
    ],
    [
      // -0 keeps its sign; extreme doubles; numbers/booleans into numeric/int columns; a datetime
      // without zone into timestamptz is read in the session zone (UTC), not the process zone.
      [4, true, 1234567890123, 12.5, 7, 1.5, -0, 1, 'a\\N', null, '\\N', Buffer.from('\\x41'), null, null, null, '2024-01-01 10:00:00', 'null', '"s"', null, null, null, null],
      [4, 1, '1234567890123', '12.5000000000', '7', 1.5, -0, true, 'a\\N', null, '\\N', Buffer.from('\\x41'), null, null, null, '2024-01-01 10:00:00+00:00', 'null', '"s"', null, null, null, null],
    ],
    [
      // real reads back as its exact float32 (PostgreSQL prints 3.4028235e+38, which as a double is
      // above every float32 and would not fit MySQL FLOAT)
      [5, 0, '0', '0.0000000001', '-0.000001', 3.4028234663852886e38, 5e-324, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      [5, 0, '0', '0.0000000001', '-0.000001', 3.4028234663852886e38, 5e-324, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
    ],
    [
      [6, null, null, null, null, null, 1.7976931348623157e308, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      [6, null, null, null, null, null, 1.7976931348623157e308, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
    ],
  ]

  it('round-trips edge values of every type through the COPY writer and the COPY reader', async () => {
    await conn.execute([ROUND_TRIP_DDL])
    const schema = await conn.catalog.table({ name: 'rt' })
    const w = await conn.writer({ table: { name: 'rt' }, columns: schema.columns, writeMode: 'insert' })
    const out = await w.write(cases.map((c) => c[0]))
    await w.close()
    await w.close()
    expect(out).toEqual({ written: cases.length, dirty: [] })
    const rows = (await readAll(conn, { table: { name: 'rt' } })).sort((a, b) => (a[0] as number) - (b[0] as number))
    expect(rows).toEqual(cases.map((c) => c[1]))
    expect(Object.is(rows[3][6], -0)).toBe(true)
    expect(Math.fround(rows[4][5] as number)).toBe(3.4028234663852886e38)
    // query() uses the same canonical forms (per-connection type parsers)
    const q = await conn.query('SELECT * FROM rt ORDER BY id')
    expect(q.rows).toEqual(rows)
    expect(q.columns.map((c) => c.type.kind)).toEqual(['int', 'int', 'int', 'decimal', 'decimal', 'float', 'float', 'bool', 'string', 'string', 'text', 'bytes', 'date', 'time', 'datetime', 'timestamptz', 'json', 'json', 'uuid', 'enum', 'other', 'other'])
    // the reader honours a column list and a where
    expect(await readAll(conn, { table: { name: 'rt' }, columns: ['t', 'id'], where: 'id IN (2, 4)' })).toEqual([['', 2], ['\\N', 4]])
  })

  it('reads a querySql and describes it from its field OIDs', async () => {
    const read: ReadSpec = { querySql: `SELECT id, n38, tstz AS "When", by FROM rt WHERE id <= 2 ORDER BY id;` }
    const cols = await conn.describeRead(read)
    expect(cols).toEqual([
      { name: 'id', type: { kind: 'int', bits: 32 }, nativeType: 'integer' },
      { name: 'n38', type: { kind: 'decimal', precision: 38, scale: 10 }, nativeType: 'numeric(38,10)' },
      { name: 'When', type: { kind: 'timestamptz', precision: 6 }, nativeType: 'timestamp(6) with time zone' },
      { name: 'by', type: { kind: 'bytes' }, nativeType: 'bytea' },
    ])
    expect(await conn.splits(read, 8)).toHaveLength(1)
    expect(await readAll(conn, read)).toEqual([
      [1, '-1234567890123456789012345678.0123456789', '2024-01-01 04:30:00.123456+00:00', Buffer.from([0x00, 0xff, 0x5c, 0x0a, 0x09])],
      [2, '99999999999999999999999999.9999999999', '2024-06-30 23:59:59+00:00', Buffer.alloc(0)],
    ])
  })

  it('narrows a batch to its bad rows: 1 of 100 too long for varchar(5), NUL, duplicate key', async () => {
    await conn.execute([`CREATE TABLE d1 (id int PRIMARY KEY, name varchar(5))`])
    const columns = (await conn.catalog.table({ name: 'd1' })).columns
    const w = await conn.writer({ table: { name: 'd1' }, columns, writeMode: 'insert' })
    const rows: Row[] = Array.from({ length: 100 }, (_, i) => [i, i === 37 ? 'toolong' : `n${i}`])
    const out = await w.write(rows)
    expect(out.written).toBe(99)
    expect(out.dirty).toHaveLength(1)
    expect(out.dirty[0]).toMatchObject({ index: 37, code: '22001', column: 'name' })
    expect(out.dirty[0].reason).toMatch(/value too long for type character varying\(5\)/)
    expect(await conn.count({ name: 'd1' })).toBe(99)

    const out2 = await w.write([[100, 'ok'], [101, 'a\u0000b'], [5, 'dup'], [102, 'ok2'], [102, 'dup2']])
    expect(out2.written).toBe(2)
    expect(out2.dirty).toEqual([
      { index: 1, code: '22021', column: 'name', reason: expect.stringMatching(/column "name": text contains a NUL character \(U\+0000\) at offset 1/) },
      { index: 2, code: '23505', column: 'id', reason: expect.stringMatching(/duplicate key value violates unique constraint "d1_pkey" \(Key \(id\)=\(5\) already exists\.\)/) },
      { index: 4, code: '23505', column: 'id', reason: expect.stringMatching(/Key \(id\)=\(102\) already exists/) },
    ])
    const { rows: back } = await conn.query('SELECT id, name FROM d1 WHERE id >= 100 OR id = 5 ORDER BY id')
    expect(back).toEqual([[5, 'n5'], [100, 'ok'], [102, 'ok2']])
    await w.close()
  })

  it('narrows errors without a line number (foreign keys) by bisection, keeping the good rows', async () => {
    await conn.execute([`CREATE TABLE parent (id int PRIMARY KEY)`, `INSERT INTO parent SELECT generate_series(1, 10)`, `CREATE TABLE child (id int PRIMARY KEY, pid int REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED, v text NOT NULL CHECK (v <> 'bad'))`])
    const columns = (await conn.catalog.table({ name: 'child' })).columns
    const w = await conn.writer({ table: { name: 'child' }, columns, writeMode: 'insert' })
    const rows: Row[] = Array.from({ length: 64 }, (_, i) => [i, (i % 10) + 1, 'ok'])
    rows[5][1] = 99
    rows[40][1] = 77
    rows[41][2] = 'bad'
    rows[63][2] = null
    const out = await w.write(rows)
    expect(out.written).toBe(60)
    expect(out.dirty.map((d) => [d.index, d.code])).toEqual([[5, '23503'], [40, '23503'], [41, '23514'], [63, '23502']])
    expect(out.dirty[3].column).toBe('v')
    expect(await conn.count({ name: 'child' })).toBe(60)
    await w.close()
  })

  it('throws (nothing committed) for non-row errors: missing table, dropped table', async () => {
    await expect(conn.writer({ table: { name: 'no_such' }, columns: [col('id', { kind: 'int', bits: 32 })], writeMode: 'insert' })).rejects.toBeInstanceOf(NotFoundError)
    await conn.execute([`CREATE TABLE gone (id int)`])
    const w = await conn.writer({ table: { name: 'gone' }, columns: [col('id', { kind: 'int', bits: 32 })], writeMode: 'insert' })
    await conn.execute([`DROP TABLE gone`])
    await expect(w.write([[1]])).rejects.toMatchObject({ code: '42P01', message: expect.stringMatching(/write "public"."gone": relation "public.gone" does not exist/) })
    await w.close()
  })

  it('upserts in update and replace modes (last duplicate in a batch wins)', async () => {
    await conn.execute([`CREATE TABLE up (k text, k2 int, v numeric(6,2), note text DEFAULT 'keep', PRIMARY KEY (k, k2))`, `INSERT INTO up VALUES ('a', 1, 1.00, 'n1'), ('b', 1, 2.00, 'n2')`])
    const all = (await conn.catalog.table({ name: 'up' })).columns
    const columns = all.filter((c) => c.name !== 'note')
    for (const writeMode of ['update', 'replace'] as const) {
      const w = await conn.writer({ table: { name: 'up' }, columns, writeMode })
      const out = await w.write([
        ['a', 1, writeMode === 'update' ? 10 : '11.5'],
        ['c', 1, 3],
        ['b', 1, 'x'],
        ['c', 1, 4],
        ['d', 1, 12345.678],
      ])
      expect(out.written).toBe(3)
      expect(out.dirty.map((d) => [d.index, d.code, d.column])).toEqual([[2, '22P02', 'v'], [4, '22003', 'v']])
      await w.close()
      const { rows } = await conn.query('SELECT k, k2, v, note FROM up ORDER BY k')
      expect(rows).toEqual([['a', 1, writeMode === 'update' ? '10.00' : '11.50', 'n1'], ['b', 1, '2.00', 'n2'], ['c', 1, '4.00', 'keep']])
    }
    await expect(conn.writer({ table: { name: 'd1' }, columns: [col('name', { kind: 'string', length: 5 })], writeMode: 'update' })).rejects.toThrow(/key column "id" is not among the written columns/)
  })

  it('splits cover every row exactly once for int, bigint and text keys', async () => {
    await conn.execute([
      `CREATE TABLE s_int (id int PRIMARY KEY, v text)`,
      `INSERT INTO s_int SELECT g * 7 - 3000, 'v' || g FROM generate_series(1, 1000) g`,
      `CREATE TABLE s_big (id bigint PRIMARY KEY)`,
      `INSERT INTO s_big VALUES (-9223372036854775808), (9223372036854775807), (0), (-1), (1), (4611686018427387904), (-4611686018427387904)`,
      `INSERT INTO s_big SELECT g * 1000000000000 FROM generate_series(2, 500) g`,
      `CREATE TABLE s_txt (id int PRIMARY KEY, k text)`,
      `INSERT INTO s_txt SELECT g, CASE WHEN g % 50 = 0 THEN NULL WHEN g % 3 = 0 THEN 'Ü' || md5(g::text) WHEN g % 3 = 1 THEN upper(md5(g::text)) ELSE E'it''s\\\\' || g END FROM generate_series(1, 2000) g`,
    ])
    const check = async (read: ReadSpec, n: number, keyIndex: number, expected: number) => {
      const splits = await conn.splits(read, n)
      expect(splits.length).toBeGreaterThan(1)
      expect(splits.map((s) => s.index)).toEqual(splits.map((_, i) => i))
      expect(splits.filter((s) => s.range?.includeNull)).toHaveLength(1)
      const seen: Value[] = []
      const perSplit: number[] = []
      for (const s of splits) {
        let k = 0
        for await (const b of conn.read(s)) for (const r of b.rows) seen.push(r[keyIndex]), k++
        perSplit.push(k)
      }
      expect(seen).toHaveLength(expected)
      return { seen, splits, perSplit }
    }
    const a = await check({ table: { name: 's_int' } }, 8, 0, 1000)
    expect(new Set(a.seen).size).toBe(1000)
    expect(a.splits).toHaveLength(8)
    expect(Math.max(...a.perSplit) - Math.min(...a.perSplit)).toBeLessThanOrEqual(1)
    const w = await check({ table: { name: 's_int' }, where: 'id % 2 = 0' }, 4, 0, 500)
    expect(new Set(w.seen).size).toBe(500)
    const b = await check({ table: { name: 's_big' } }, 5, 0, 506)
    expect(new Set(b.seen).size).toBe(506)
    expect(b.seen).toContain('-9223372036854775808')
    expect(b.seen).toContain('9223372036854775807')
    const t = await check({ table: { name: 's_txt' }, columns: ['id', 'k'], splitPk: 'k' }, 6, 0, 2000)
    expect(new Set(t.seen).size).toBe(2000)
    expect(t.splits).toHaveLength(6)
    expect(t.perSplit.every((n) => n > 200)).toBe(true)
    expect(await conn.splits({ table: { name: 's_txt' } }, 1)).toEqual([{ index: 0, read: { table: { name: 's_txt' } } }])
    expect(await conn.splits({ table: { name: 'up' } }, 4)).toHaveLength(1) // two-column key
  })

  it('literals used in COPY bounds read back exactly from the server', async () => {
    const nasty = ["it's", 'a\\b', "\\'", "''", 'E\'x\'', '😀\n\t', '$$', '\\x41']
    for (const off of ['on', 'off']) {
      await admin.query(`SET standard_conforming_strings = ${off}`)
      for (const s of nasty) expect((await admin.query(`SELECT ${quoteLiteral(s)} AS v`)).rows[0].v).toBe(s)
    }
    await admin.query(`SET standard_conforming_strings = on`)
  })

  it('streams a 200k-row read in bounded batches while the COPY is still running, and cancels on break/abort', async () => {
    await conn.execute([`CREATE TABLE big (id int PRIMARY KEY, s text)`, `INSERT INTO big SELECT g, repeat('x', 20) || g FROM generate_series(1, 200000) g`])
    const [split] = await conn.splits({ table: { name: 'big' } }, 1)
    let batches = 0
    let rows = 0
    let activeCopyAtFirstBatch = -1
    let sum = 0
    for await (const b of conn.read(split, { batchBytes: 64 * 1024 })) {
      if (batches === 0) {
        const { rows: act } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY (SELECT%big%'`, [db])
        activeCopyAtFirstBatch = act[0].n
      }
      expect(b.approxBytes).toBeLessThan(64 * 1024 + 70 * 1024)
      batches++
      rows += b.rows.length
      for (const r of b.rows) sum += r[0] as number
    }
    expect(activeCopyAtFirstBatch).toBe(1)
    expect(rows).toBe(200000)
    expect(sum).toBe((200000 * 200001) / 2)
    expect(batches).toBeGreaterThan(50)

    // consumer stops early: the COPY is cancelled and the pool stays usable
    for await (const b of conn.read(split, { batchBytes: 64 * 1024 })) {
      expect(b.rows.length).toBeGreaterThan(0)
      break
    }
    const ac = new AbortController()
    const it = conn.read(split, { batchBytes: 64 * 1024, signal: ac.signal })[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    ac.abort()
    await expect(it.next()).rejects.toThrow(/abort/i)
    await new Promise((r) => setTimeout(r, 200))
    const { rows: left } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'COPY (SELECT%big%' AND state = 'active'`, [db])
    expect(left[0].n).toBe(0)
    expect(await conn.count({ name: 'big' })).toBe(200000)
  })

  it('query(): params, maxRows through a cursor, affected rows, canonical timestamptz; execute() names the failing statement', async () => {
    const r = await conn.query('SELECT id, s FROM big WHERE id > $1 ORDER BY id', [10], { maxRows: 3 })
    expect(r.rows).toEqual([[11, 'xxxxxxxxxxxxxxxxxxxx11'], [12, 'xxxxxxxxxxxxxxxxxxxx12'], [13, 'xxxxxxxxxxxxxxxxxxxx13']])
    expect(r.truncated).toBe(true)
    expect(r.columns.map((c) => c.name)).toEqual(['id', 's'])
    const u = await conn.query('UPDATE d1 SET name = $1 WHERE id < 3', ['z'])
    expect(u.affectedRows).toBe(3)
    const tz = await conn.query(`SELECT '2024-01-01 12:00:00+02'::timestamptz AS t, 9007199254740993::int8 AS b, 1.10::numeric AS n, '1 day'::interval AS i`)
    expect(tz.rows).toEqual([['2024-01-01 10:00:00+00:00', '9007199254740993', '1.10', 'P1D']])
    const wm = await conn.query(`WITH x AS (UPDATE d1 SET name = 'w' WHERE id = 1 RETURNING id) SELECT id FROM x`, [], { maxRows: 10 })
    expect(wm.rows).toEqual([[1]])
    await expect(conn.execute(['SELECT 1', 'SELECT * FROM nope'])).rejects.toThrow(/statement 2 of 2: relation "nope" does not exist/)
  })

  it('aborts a running query and a running write (nothing committed)', async () => {
    const ac = new AbortController()
    const t0 = Date.now()
    setTimeout(() => ac.abort(), 150)
    await expect(conn.query('SELECT pg_sleep(20)', [], { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect((await conn.query('SELECT 1')).rows).toEqual([[1]])

    await conn.execute([`CREATE TABLE ab (id int PRIMARY KEY, s text)`])
    const columns = (await conn.catalog.table({ name: 'ab' })).columns
    const w = await conn.writer({ table: { name: 'ab' }, columns, writeMode: 'insert' })
    const rows: Row[] = Array.from({ length: 1_000_000 }, (_, i) => [i, 'some text to make the COPY take a while ' + i])
    const ac2 = new AbortController()
    const writing = w.write(rows, ac2.signal)
    writing.catch(() => {})
    // abort once the COPY is running on the server
    let seen = false
    for (let i = 0; i < 200 && !seen; i++) {
      const { rows: act } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY "public"."ab"%'`, [db])
      seen = act[0].n === 1
      if (!seen) await new Promise((r) => setTimeout(r, 10))
    }
    expect(seen).toBe(true)
    ac2.abort()
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' })
    expect(await conn.count({ name: 'ab' })).toBe(0)
    // the writer's connection is still usable after the abort
    expect(await w.write([[1, 'x']])).toEqual({ written: 1, dirty: [] })
    await w.close()
    expect(await conn.count({ name: 'ab' })).toBe(1)
  })

  it('honours a non-UTC session time zone given as an ISO offset', async () => {
    const c2 = createPostgresConnector({ kind: 'postgres', ...PG, database: db, timezone: '+05:30' })
    const r = await c2.query(`SELECT '2024-01-01 00:00:00+00'::timestamptz AS t, current_setting('TimeZone') AS z`)
    expect(r.rows).toEqual([['2024-01-01 05:30:00+05:30', '<+0530>-05:30']])
    await c2.close()
    await c2.close()
  })

  it('ddl() re-creates Chinook invoice and a MySQL-shaped table that loads and enforces its enum', async () => {
    const invoice = await chinook.catalog.table({ name: 'invoice' })
    const plan = conn.ddl(invoice, { name: 'invoice_copy' })
    expect(plan.create[0]).toContain('"total" numeric(10,2) NOT NULL')
    expect(plan.create[0]).toContain('"invoice_date" timestamp(6) NOT NULL')
    expect(plan.foreignKeys[0]).toBe('ALTER TABLE "public"."invoice_copy" ADD CONSTRAINT "invoice_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "public"."customer" ("customer_id")')
    await conn.execute([...plan.create, ...plan.indexes])
    const copy = await conn.catalog.table({ name: 'invoice_copy' })
    expect(copy.columns.map((c) => [c.name, c.nativeType, c.nullable])).toEqual(invoice.columns.map((c) => [c.name, c.nativeType === 'timestamp without time zone' ? 'timestamp(6) without time zone' : c.nativeType, c.nullable]))
    expect(copy.primaryKey).toEqual(['invoice_id'])

    const mysqlLike = {
      schema: 'shop',
      name: 'Orders',
      columns: [
        { name: 'id', ordinal: 1, type: { kind: 'int', bits: 64, unsigned: true }, nativeType: 'bigint(20) unsigned', nullable: false, autoIncrement: true },
        { name: 'status', ordinal: 2, type: { kind: 'enum', values: ['new', "it's"] }, nativeType: "enum('new','it''s')", nullable: false, default: "'new'" },
        { name: 'code', ordinal: 3, type: { kind: 'string', length: 4, fixed: true }, nativeType: 'char(4)', nullable: true },
        { name: 'at', ordinal: 4, type: { kind: 'datetime', precision: 3 }, nativeType: 'datetime(3)', nullable: true, default: 'current_timestamp(3)' },
        { name: 'n', ordinal: 5, type: { kind: 'int', bits: 32 }, nativeType: 'int(11)', nullable: true, default: 'uuid()' },
        { name: 'geo', ordinal: 6, type: { kind: 'geometry' }, nativeType: 'geometry', nullable: true, comment: 'where' },
      ],
      primaryKey: ['id'],
      indexes: [
        { name: 'PRIMARY', columns: ['id'], unique: true, primary: true },
        { name: 'idx_code', columns: ['code'], unique: true, primary: false },
      ],
      foreignKeys: [],
      autoIncrementNext: '1000',
    } as const
    const p2 = conn.ddl(structuredClone(mysqlLike) as never, { name: 'orders' })
    expect(p2.create[0]).toContain('"id" numeric(20,0)')
    expect(p2.indexes).toEqual(['CREATE UNIQUE INDEX "orders_idx_code" ON "public"."orders" ("code")'])
    expect(p2.warnings.join('\n')).toMatch(/auto-increment on numeric\(20,0\)/)
    expect(p2.omitted!.join('\n')).toMatch(/default uuid\(\) not translated/)
    expect(p2.warnings.join('\n')).toMatch(/geometry/)
    const p3 = conn.ddl(structuredClone(mysqlLike) as never, { name: 'orders' }, { id: 'bigint' })
    expect(p3.create[0]).toContain('"id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL')
    expect(p3.create[0]).toContain(`"status" text DEFAULT 'new' NOT NULL CHECK ("status" IN ('new', 'it''s', ''))`)
    expect(p3.create[0]).toContain('"at" timestamp(3) DEFAULT LOCALTIMESTAMP')
    await conn.execute([...p3.create, ...p3.indexes])
    const cols = (await conn.catalog.table({ name: 'orders' })).columns
    const w = await conn.writer({ table: { name: 'orders' }, columns: cols.filter((c) => ['id', 'status', 'code'].includes(c.name)), writeMode: 'insert' })
    const out = await w.write([[5, 'new', 'ab'], [6, 'bogus', 'cd'], [7, "it's", 'ab']])
    await w.close()
    expect(out.written).toBe(1)
    expect(out.dirty.map((d) => [d.index, d.code])).toEqual([[1, '23514'], [2, '23505']])
    await conn.execute(p3.sequences)
    const { rows } = await conn.query(`INSERT INTO orders (status) VALUES ('new') RETURNING id, code`)
    expect(rows).toEqual([['1000', null]])
    expect((await conn.catalog.table({ name: 'orders' })).columns.find((c) => c.name === 'geo')?.comment).toBe('where')
  })
})
