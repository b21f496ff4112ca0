/**
 * Verification across MySQL, PostgreSQL and SQLite: the same tables with the same data (plain SQL)
 * verify consistent for every pairing and algorithm; planted differences (deleted, inserted and
 * changed rows — a decimal's last digit, a datetime's microsecond, a trailing space, a float in
 * its 15th digit, a boolean, one byte of a blob, a timestamp's microsecond) are found exactly by
 * hashdiff with a small bisection threshold, md5diff says inconsistent, countdiff counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openConnector } from '../../main/connectors/index.js'
import type { ConnectionConfig, Connector } from '../../main/connectors/types.js'
import { diffTables, verifyTask, type DiffOptions } from '../../main/verify/index.js'
import { main } from '../../main/cli.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'
import { runSql, wideDdl, wideInserts, wideRows, type Kind, type WideRow } from '../helpers/verify-fixtures.js'

const ready = await serversReady('mysql', 'postgres')
const KINDS: Kind[] = ['mysql', 'postgres', 'sqlite']

const N = 3000
const ROWS = wideRows(N)

/** The planted target: 3 deleted, 2 inserted, 7 changed rows. */
const DELETED = [5, 1501, 2999]
const INSERTED = [500, 3005]
const CHANGED = [10, 20, 30, 40, 50, 60, 70]

function plantedRows(): WideRow[] {
  const byId = new Map(ROWS.map((r) => [r.id, { ...r }]))
  for (const id of DELETED) byId.delete(id)
  for (const id of INSERTED) byId.set(id, { id, amount: '1.0000', name: `new ${id}`, note: null, happened: '2022-02-02 02:02:02.000002', stamp: null, ratio: 1.5, flag: 1, data: Buffer.from('ff', 'hex') })
  const ch = (id: number, f: (r: WideRow) => void) => f(byId.get(id)!)
  ch(10, (r) => (r.amount = r.amount!.replace(/\d$/, (d) => String((Number(d) + 1) % 10)))) // last decimal digit
  ch(20, (r) => (r.happened = r.happened!.replace(/\d$/, (d) => String((Number(d) + 1) % 10)))) // one microsecond
  ch(30, (r) => (r.name = r.name! + ' ')) // a trailing space
  ch(40, (r) => (r.ratio = r.ratio! * (1 + 1e-13))) // the 15th significant digit
  ch(50, (r) => (r.flag = r.flag === 1 ? 0 : 1))
  ch(60, (r) => (r.data = Buffer.from(r.data!.map((b, i) => (i === 0 ? b ^ 1 : b)))))
  ch(70, (r) => (r.stamp = r.stamp!.replace(/\d$/, (d) => String((Number(d) + 1) % 10))))
  return [...byId.values()].sort((a, b) => a.id - b.id)
}

/** String-key and composite-key tables. */
const S_ROWS = Array.from({ length: 1500 }, (_, i) => ({ k: `${['a', 'B', 'ç', 'Zeta', '漢'][i % 5]}-${String(i).padStart(5, '0')}${i % 9 === 0 ? 'x' : ''}`, v: i % 4 ? `value ${i}` : null }))
const C_ROWS = Array.from({ length: 1800 }, (_, i) => ({ region: ['eu', 'us', 'apac', 'Über'][i % 4]!, code: `c${(i * 7) % 1800}`, qty: i, price: `${i}.${String(i % 100).padStart(2, '0')}` }))

function sideSql(k: Kind, planted: boolean): string[] {
  const q = (n: string) => (k === 'mysql' ? `\`${n}\`` : `"${n}"`)
  const s = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`)
  let sRows = S_ROWS
  let cRows = C_ROWS
  if (planted) {
    sRows = S_ROWS.filter((_, i) => i !== 7 && i !== 1001).map((r, i) => (i === 300 ? { ...r, v: 'changed' } : r))
    sRows = [...sRows, { k: 'B-00007y', v: 'inserted' }]
    cRows = C_ROWS.filter((r) => !(r.region === 'us' && r.code === 'c7')).map((r) => (r.region === 'apac' && r.code === 'c14' ? { ...r, price: `${r.price.slice(0, -1)}9` } : r))
    cRows = [...cRows, { region: 'eu', code: 'zz', qty: 1, price: '0.01' }]
  }
  const out = [
    `CREATE TABLE ${q('s')} (k VARCHAR(40) NOT NULL PRIMARY KEY, v TEXT NULL)`,
    `CREATE TABLE ${q('c')} (region VARCHAR(10) NOT NULL, code VARCHAR(20) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, PRIMARY KEY (region, code))`,
  ]
  for (let i = 0; i < sRows.length; i += 300) out.push(`INSERT INTO ${q('s')} (k, v) VALUES ${sRows.slice(i, i + 300).map((r) => `(${s(r.k)}, ${s(r.v)})`).join(', ')}`)
  for (let i = 0; i < cRows.length; i += 300)
    out.push(`INSERT INTO ${q('c')} (region, code, qty, price) VALUES ${cRows.slice(i, i + 300).map((r) => `(${s(r.region)}, ${s(r.code)}, ${r.qty}, ${r.price})`).join(', ')}`)
  return out
}

describe.skipIf(!ready)('verify across MySQL, PostgreSQL and SQLite', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-verify-'))
  const dbName: Record<Kind, { orig: string; planted: string }> = {
    mysql: { orig: `sl_ver_${id}_a`, planted: `sl_ver_${id}_b` },
    postgres: { orig: `sl_ver_${id}_a`, planted: `sl_ver_${id}_b` },
    sqlite: { orig: path.join(dir, 'a.sqlite'), planted: path.join(dir, 'b.sqlite') },
  }
  const conns: Connector[] = []
  const cfg = (k: Kind, planted = false): ConnectionConfig => {
    const db = planted ? dbName[k].planted : dbName[k].orig
    return k === 'mysql' ? { kind: k, ...MYSQL, database: db } : k === 'postgres' ? { kind: k, ...PG, database: db } : { kind: k, path: db }
  }
  const open = async (k: Kind, planted = false) => {
    const c = await openConnector(cfg(k, planted))
    conns.push(c)
    return c
  }

  beforeAll(async () => {
    for (const k of KINDS) {
      for (const planted of [false, true]) {
        const db = planted ? dbName[k].planted : dbName[k].orig
        if (k === 'mysql') await freshMysqlDb(db)
        if (k === 'postgres') await freshPgDb(db)
        await runSql(k, db, [wideDdl(k, 't'), ...wideInserts(k, 't', planted ? plantedRows() : ROWS), ...sideSql(k, planted)])
      }
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(conns.map((c) => c.close()))
    for (const d of Object.values(dbName.mysql)) await dropMysqlDb(d)
    for (const d of Object.values(dbName.postgres)) await dropPgDb(d)
    rmSync(dir, { recursive: true, force: true })
  })

  const pairs: Array<[Kind, Kind]> = KINDS.flatMap((a) => KINDS.filter((b) => b !== a).map((b): [Kind, Kind] => [a, b]))

  for (const [a, b] of pairs) {
    it(`${a} -> ${b}: identical tables verify consistent with every algorithm`, async () => {
      const source = await open(a)
      const target = await open(b)
      for (const table of ['t', 's', 'c']) {
        const rows = table === 't' ? ROWS.length : table === 's' ? S_ROWS.length : C_ROWS.length
        for (const algorithm of ['countdiff', 'md5diff', 'hashdiff'] as const) {
          const r = await diffTables({ source, target, sourceTable: { name: table }, targetTable: { name: table }, algorithm, bisectionThreshold: 64, bisectionFactor: 8 })
          expect({ table, algorithm, consistent: r.consistent, sourceRows: r.sourceRows, targetRows: r.targetRows, onlyInSource: r.onlyInSource, onlyInTarget: r.onlyInTarget, changed: r.changed }).toEqual({
            table,
            algorithm,
            consistent: true,
            sourceRows: rows,
            targetRows: rows,
            onlyInSource: [],
            onlyInTarget: [],
            changed: [],
          })
        }
      }
    })

    it(`${a} -> ${b}: hashdiff finds exactly the planted differences`, async () => {
      const source = await open(a)
      const target = await open(b, true)
      const base: Omit<DiffOptions, 'algorithm'> = { source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, bisectionThreshold: 64, bisectionFactor: 4, threads: 2 }
      const r = await diffTables({ ...base, algorithm: 'hashdiff' })
      expect(r.consistent).toBe(false)
      expect(r.onlyInSource).toEqual(DELETED.map((k) => [k]))
      expect(r.onlyInTarget).toEqual(INSERTED.map((k) => [k]))
      expect(r.changed).toEqual(CHANGED.map((k) => [k]))
      expect(r.sourceRows).toBe(ROWS.length)
      expect(r.targetRows).toBe(ROWS.length - 1)
      expect(r.stats.maxLevel).toBeGreaterThanOrEqual(3)
      expect(r.stats.rowsDownloaded).toBeLessThan(ROWS.length)
      expect(r.stats.truncated).toBe(false)

      const md5 = await diffTables({ ...base, algorithm: 'md5diff' })
      expect([md5.consistent, md5.sourceRows, md5.targetRows]).toEqual([false, ROWS.length, ROWS.length - 1])

      const where = 'id < 2000'
      const inWhere = ROWS.filter((r) => r.id < 2000).length
      const cnt = await diffTables({ ...base, algorithm: 'countdiff', where })
      expect([cnt.consistent, cnt.sourceRows, cnt.targetRows]).toEqual([false, inWhere, inWhere - 2 + 1])
      const filtered = await diffTables({ ...base, algorithm: 'hashdiff', where })
      expect([filtered.onlyInSource, filtered.onlyInTarget, filtered.changed]).toEqual([[[5], [1501]], [[500]], CHANGED.map((k) => [k])])

      // Columns left out of the comparison hide their differences; limit truncates.
      const narrow = await diffTables({ ...base, algorithm: 'hashdiff', columns: ['note'] })
      expect([narrow.onlyInSource.length, narrow.onlyInTarget.length, narrow.changed]).toEqual([3, 2, []])
      const limited = await diffTables({ ...base, algorithm: 'hashdiff', limit: 4 })
      expect(limited.onlyInSource.length + limited.onlyInTarget.length + limited.changed.length).toBe(4)
      expect(limited.stats.truncated).toBe(true)
    })

    it(`${a} -> ${b}: string and composite keys`, async () => {
      const source = await open(a)
      const target = await open(b, true)
      const s = await diffTables({ source, target, sourceTable: { name: 's' }, targetTable: { name: 's' }, algorithm: 'hashdiff', bisectionThreshold: 40, bisectionFactor: 6 })
      expect([s.onlyInSource, s.onlyInTarget, s.changed]).toEqual([[[S_ROWS[1001]!.k], [S_ROWS[7]!.k]], [['B-00007y']], [[S_ROWS[301]!.k]]])
      expect(s.stats.maxLevel).toBeGreaterThanOrEqual(2)
      const c = await diffTables({ source, target, sourceTable: { name: 'c' }, targetTable: { name: 'c' }, algorithm: 'hashdiff', bisectionThreshold: 40, bisectionFactor: 6 })
      expect([c.onlyInSource, c.onlyInTarget, c.changed]).toEqual([[['us', 'c7']], [['eu', 'zz']], [['apac', 'c14']]])
      expect(c.stats.maxLevel).toBeGreaterThanOrEqual(2)
    })
  }

  it('verifyTask compares mapped columns with the job settings', async () => {
    const source = await open('mysql')
    const target = await open('postgres', true)
    const columns = ['id', 'amount', 'name', 'note', 'happened', 'stamp', 'ratio', 'flag', 'data'].map((n) => ({ source: n, target: n }))
    const r = await verifyTask({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, keyColumns: ['id'], columns, config: { algorithm: 'hashdiff', bisection_threshold: 100, threads: 2 } })
    expect([r.onlyInSource.length, r.onlyInTarget.length, r.changed.length]).toEqual([3, 2, 7])
    const onlyNote = await verifyTask({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, keyColumns: ['id'], columns: { id: 'id', note: 'note' }, config: { algorithm: 'hashdiff' } })
    expect(onlyNote.changed).toEqual([])
    await expect(verifyTask({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, keyColumns: ['id'], columns, config: { bisection_factor: 64, bisection_threshold: 32 } })).rejects.toThrow(
      'verify.bisection_factor: bisection_factor must be lower than bisection_threshold',
    )
  })

  it('an aborted signal stops a diff; a missing column is named', async () => {
    const source = await open('postgres')
    const target = await open('sqlite', true)
    const ac = new AbortController()
    ac.abort(new Error('stop now'))
    await expect(diffTables({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, algorithm: 'hashdiff', signal: ac.signal })).rejects.toThrow('stop now')
    await expect(diffTables({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, columns: ['nope'] })).rejects.toThrow("verify: compared column 'nope' not found in table")
    const seen: number[] = []
    await diffTables({ source, target, sourceTable: { name: 't' }, targetTable: { name: 't' }, algorithm: 'hashdiff', bisectionThreshold: 64, bisectionFactor: 8, onProgress: (p) => seen.push(p.differences) })
    expect(seen.length).toBeGreaterThan(10)
    expect(seen.at(-1)).toBe(12)
  })

  it('sluice diff prints data-diff style lines, JSON, and exit codes', async () => {
    const url = (planted: boolean) => `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${planted ? dbName.mysql.planted : dbName.mysql.orig}`
    const pgUrl = `postgres://${PG.user}@${PG.host}:${PG.port}/${dbName.postgres.planted}`
    const out: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    const errs: string[] = []
    const ewrite = process.stderr.write.bind(process.stderr)
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write
    let codes: number[]
    try {
      codes = [
        await main(['node', 'sluice', 'diff', url(false), pgUrl, '--table', 'c', '--algorithm', 'hashdiff', '--bisection-threshold', '40', '--bisection-factor', '6']),
        await main(['node', 'sluice', 'diff', url(false), pgUrl, '--table', 't', '--algorithm', 'hashdiff', '--json', '--where', 'id < 100']),
        await main(['node', 'sluice', 'diff', url(false), url(false), '--table', 't', '--target-table', 't']),
        await main(['node', 'sluice', 'diff', url(false), pgUrl, '--table', 'nope']),
      ]
    } finally {
      process.stdout.write = write
      process.stderr.write = ewrite
    }
    expect(codes).toEqual([1, 1, 0, 2])
    const text = out[0]!.split('\n')
    expect(text.slice(0, 4)).toEqual(['- ("apac", "c14")', '+ ("apac", "c14")', '+ ("eu", "zz")', '- ("us", "c7")'])
    expect(text[4]).toMatch(/^hashdiff: NOT consistent; 1800 source rows, 1800 target rows; 1 only in source, 1 only in target, 1 changed; \d+ segments checked/)
    const json = JSON.parse(out[1]!)
    expect(Object.keys(json)).toEqual(['algorithm', 'consistent', 'sourceRows', 'targetRows', 'onlyInSource', 'onlyInTarget', 'changed', 'elapsedMs', 'filters'])
    expect(json).toMatchObject({ algorithm: 'hashdiff', consistent: false, onlyInSource: [[5]], onlyInTarget: [], changed: [[10], [20], [30], [40], [50], [60], [70]], filters: { source: 'id < 100', target: 'id < 100' } })
    expect(out[2]).toMatch(/^md5diff: consistent; 2988 source rows, 2988 target rows; 9 columns checksummed/)
    expect(errs.join('')).toMatch(/sluice diff: .*nope/)
  })
})
