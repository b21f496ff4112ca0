/**
 * Pure pieces of issue 13 ("Fidelity II"): float32 spelling, the verifier's float text for
 * subnormals, the CHECK/generated-expression translator, defaults a target cannot hold, the
 * naming of schema objects in warnings, target filters for verification, and the summary's
 * warning list pointing at `runs show --all` instead of at itself.
 */
import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { float32Text } from '../../main/core/types.js'
import { defaultUnfit, translateChecks } from '../../main/connectors/ddl-common.js'
import { sqliteCreateChecks, sqliteGeneratedExpressions, translateExpression } from '../../main/connectors/sql-expr.js'
import { describeStatement } from '../../main/engine/schema-objects.js'
import { outcomeState } from '../../main/engine/run.js'
import { floatText, FLOAT32_DIGITS } from '../../main/verify/normalize.js'
import { filterFitsTarget } from '../../main/verify/index.js'
import { formatSummary } from '../../main/cli/progress.js'
import { exitCodeOf } from '../../main/cli/core.js'
import { binaryCollation } from '../../main/connectors/mysql/ddl.js'
import { toWire, wireColumns, ValueError } from '../../main/connectors/mysql/wire.js'
import type { RunSummary } from '../../main/engine/events.js'

describe('float32', () => {
  it('spells the shortest digits that read back as the same float32', () => {
    expect(float32Text(Math.fround(16777217))).toBe('16777216')
    expect(float32Text(Math.fround(3.14159274))).toBe('3.1415927')
    expect(float32Text(Math.fround(3.4028234663852886e38))).toBe('3.4028235e+38')
    expect(float32Text(Math.fround(0.1))).toBe('0.1')
    expect(float32Text(Math.fround(1.401298464324817e-45))).toBe('1e-45')
    expect(float32Text(-0)).toBe('-0')
    // Not a float32: spelled as the double it is, never rounded.
    expect(float32Text(0.1 + 0.2)).toBe(String(0.1 + 0.2))
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 70 - 35))
      expect(Math.fround(Number(float32Text(x)))).toBe(x)
    }
  })

  it('the verifier tells float32 neighbours apart and never overflows on subnormals', () => {
    expect(floatText(16777216, FLOAT32_DIGITS)).not.toBe(floatText(16777200, FLOAT32_DIGITS))
    expect(floatText(5e-324)).toBe('494065645841247e-324')
    expect(floatText(-5e-324)).toBe('-494065645841247e-324')
    expect(floatText(2.2250738585072014e-308)).toBe('222507385850720e-308')
    expect(floatText(1.7976931348623157e308)).toBe('179769313486232e308')
    // Either side of the scaling threshold (1e-280) the text is the same kind.
    expect(floatText(1.5e-280)).toBe('150000000000000e-280')
    expect(floatText(9.99e-281)).toBe('999000000000000e-281')
  })
})

describe('expression translation', () => {
  const cols = new Map([['price', 'price'], ['Qty', 'qty'], ['status', 'status']])
  it('carries what all three dialects read the same, re-quoted and renamed', () => {
    expect(translateExpression('`price` >= 0 and char_length(`status`) < 10', 'mysql', 'postgres', cols)).toMatchObject({ ok: true, sql: '"price" >= 0 AND char_length("status") < 10' })
    expect(translateExpression("((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))", 'postgres', 'mysql', cols)).toMatchObject({ ok: true, sql: "((`status`) IN ('a', 'b'))" })
    expect(translateExpression('"Qty" > 0', 'sqlite', 'mysql', cols)).toMatchObject({ ok: true, sql: '`qty` > 0', columns: ['qty'] })
    expect(translateExpression('VALUE > 0', 'postgres', 'sqlite', cols, 'qty')).toMatchObject({ ok: true, sql: '"qty" > 0' })
    expect(translateExpression("status <> 'it''s'", 'postgres', 'mysql', cols)).toMatchObject({ ok: true, sql: "`status` <> 'it''s'" })
    expect(translateExpression('status = TRUE', 'postgres', 'sqlite', cols)).toMatchObject({ ok: true, sql: '"status" = 1' })
  })
  it('refuses what it cannot prove the same, with the reason', () => {
    expect(translateExpression("name ~ '^a'", 'postgres', 'mysql', cols)).toEqual({ ok: false, reason: "unsupported character '~'" })
    expect(translateExpression('f(price) > 0', 'postgres', 'mysql', cols)).toEqual({ ok: false, reason: 'function f()' })
    expect(translateExpression("a || 'x' = 'y'", 'postgres', 'mysql', new Map([['a', 'a']]))).toMatchObject({ ok: false })
    expect(translateExpression('price::money > 0', 'postgres', 'mysql', cols)).toEqual({ ok: false, reason: 'cast to money' })
    expect(translateExpression("price REGEXP 'x'", 'mysql', 'postgres', cols)).toMatchObject({ ok: false, reason: 'word REGEXP (not a column of the table)' })
  })
  it('finds CHECK constraints and generated expressions in a SQLite CREATE TABLE', () => {
    const sql = `CREATE TABLE t (id INTEGER PRIMARY KEY, p REAL CHECK (p > 0), n TEXT DEFAULT 'CHECK (x)', v VARCHAR(10) GENERATED ALWAYS AS (upper(n)) VIRTUAL, w INT AS (id*2) STORED, CONSTRAINT "ck n" CHECK (length(n) < 'a,)b'))`
    expect(sqliteCreateChecks(sql, 't')).toEqual([
      { name: 't_check1', expression: 'p > 0' },
      { name: 'ck n', expression: "length(n) < 'a,)b'" },
    ])
    expect([...sqliteGeneratedExpressions(sql)]).toEqual([['v', 'upper(n)'], ['w', 'id*2']])
  })
  it('keeps a CHECK on an exact-text column out of SQLite (text comparison would differ)', () => {
    const table = { name: 't', columns: [{ name: 'price', ordinal: 1, type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'decimal(10,2)', nullable: true }], primaryKey: [], indexes: [], foreignKeys: [], checks: [{ name: 'ck', expression: '`price` < 100', dialect: 'mysql' }] } as const
    const r = translateChecks(structuredClone(table) as never, 'sqlite')
    expect(r.checks).toEqual([])
    expect(r.omitted[0]).toMatch(/SQLite stores column price as exact text/)
    expect(translateChecks(structuredClone(table) as never, 'postgres').checks).toEqual([{ name: 'ck', sql: '"price" < 100' }])
  })
})

describe('defaults and schema objects', () => {
  it('finds defaults a target cannot hold', () => {
    expect(defaultUnfit("'0000-00-00'", { kind: 'date' })).toMatch(/zero date/)
    expect(defaultUnfit("'2024-00-10 00:00:00'", { kind: 'datetime' })).toMatch(/zero date/)
    expect(defaultUnfit('0', { kind: 'datetime' })).toMatch(/a number is not a datetime value/)
    expect(defaultUnfit("'2024-01-31'", { kind: 'date' })).toBeUndefined()
    expect(defaultUnfit("'10:00:00'", { kind: 'time' })).toBeUndefined()
    expect(defaultUnfit('0', { kind: 'year' })).toBeUndefined()
    expect(defaultUnfit("'x'", { kind: 'text' })).toBeUndefined()
  })
  it('names the object a DDL statement creates', () => {
    expect(describeStatement('CREATE UNIQUE INDEX "t_ix" ON "public"."t" ("a")')).toBe('index "t_ix"')
    expect(describeStatement('ALTER TABLE `t` ADD CONSTRAINT `fk_a` FOREIGN KEY (`a`) REFERENCES `p` (`id`)')).toBe('foreign key "fk_a"')
    expect(describeStatement('ALTER TABLE "t" ADD CONSTRAINT "ck" CHECK (a > 0)')).toBe('check "ck"')
    expect(describeStatement('CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ $$;\nCREATE TRIGGER "on_upd" BEFORE UPDATE ON t')).toBe('trigger "on_upd"')
  })
  it('a run is succeeded_with_warnings when a task left something out or objects are listed only', () => {
    expect(outcomeState([{ state: 'succeeded' }], [])).toBe('succeeded')
    expect(outcomeState([{ state: 'succeeded' }, { state: 'succeeded_with_warnings' }], [])).toBe('succeeded_with_warnings')
    expect(outcomeState([{ state: 'succeeded' }], ['view v'])).toBe('succeeded_with_warnings')
    expect([exitCodeOf('succeeded'), exitCodeOf('succeeded_with_warnings'), exitCodeOf('failed'), exitCodeOf('inconsistent')]).toEqual([0, 3, 1, 1])
  })
  it('chooses a NO PAD binary collation where the server has one', () => {
    expect(binaryCollation({ version: '10.11.19-MariaDB-0+deb12u1', mariadb: true })).toBe('utf8mb4_nopad_bin')
    expect(binaryCollation({ version: '8.0.36', mariadb: false })).toBe('utf8mb4_0900_bin')
    expect(binaryCollation({ version: '5.7.44', mariadb: false })).toBe('utf8mb4_bin')
    expect(binaryCollation(undefined)).toBe('utf8mb4_bin')
  })
})

describe('MySQL writer: integers and YEAR', () => {
  const [int, year] = wireColumns([
    { name: 'n', ordinal: 1, type: { kind: 'int', bits: 32 }, nativeType: 'int', nullable: true },
    { name: 'y', ordinal: 2, type: { kind: 'year' }, nativeType: 'year', nullable: true },
  ])
  const z = { offsetSec: 0 } as never
  it('refuses a fraction MySQL would round, keeps exact integers', () => {
    expect(() => toWire(12.3, int!, z)).toThrow(ValueError)
    expect(() => toWire('2.7', int!, z)).toThrow(/not an integer/)
    expect(toWire(12, int!, z)).toBe('12')
    expect(toWire('12.00', int!, z)).toBe('12')
    expect(toWire(7.0, int!, z)).toBe('7')
    expect(toWire(true, int!, z)).toBe('1')
  })
  it('writes the year 0 as 0000 (0 would be 2000)', () => {
    expect(toWire(0, year!, z)).toBe('0000')
    expect(toWire(1901, year!, z)).toBe('1901')
    expect(toWire('0', year!, z)).toBe('0000')
  })
})

describe('verification filters and the summary', () => {
  it('applies the source filter to the target only when the columns it names are loaded under the same names', () => {
    expect(filterFitsTarget('"GenreId" <= 10', { GenreId: 'GenreId', Name: 'Name' })).toBe(true)
    expect(filterFitsTarget("created >= DATE '2024-01-01' AND lower(name) LIKE 'a%'", { created: 'created', name: 'name' })).toBe(true)
    expect(filterFitsTarget('GenreId <= 10', { GenreId: 'genre_id' })).toBe(false)
    expect(filterFitsTarget('hidden = 1', { id: 'id' })).toBe(false)
  })
  it('points at runs show --all, never at itself', () => {
    const s: RunSummary = { runId: 'r1', state: 'succeeded_with_warnings', startedAt: 'a', endedAt: 'b', elapsedMs: 1, rowsRead: 0, rowsWritten: 0, bytes: 0, dirty: 0, tasks: [], notMigrated: [], warnings: Array.from({ length: 25 }, (_, i) => `w${i}`) }
    expect(formatSummary(s)).toContain('... 5 more (sluice runs show r1 --all)')
    expect(formatSummary(s, { shown: true })).toContain('... 5 more (add --all)')
    expect(formatSummary(s, { all: true, shown: true })).toContain('w24')
    expect(formatSummary(s, { all: true, shown: true })).not.toContain('more')
    expect(formatSummary({ ...s, notStarted: ['b', 'c'] })).toContain('not started (target not created): b, c')
  })
})

describe('the CLI into a closed pipe', () => {
  it('`sluice schema` into a pipe whose reader has gone: stops quietly with its own exit code, no EPIPE crash', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-epipe-'))
    try {
      const child = spawn(process.execPath, [path.resolve('bin/sluice.mjs'), '--data-dir', dir, 'schema'], { env: { ...process.env, SLUICE_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let err = ''
      child.stderr.on('data', (d: Buffer) => (err += d.toString()))
      // The reader is gone before the command writes a byte (like `| head` that already exited).
      child.stdout.destroy()
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
      expect(err).not.toMatch(/EPIPE|Unhandled/)
      expect(code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
