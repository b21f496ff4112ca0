/**
 * A DataX job JSON, written as DataX's docs show it, imported and run by Sluice's engine
 * against the real servers: MySQL (mysqlreader) -> PostgreSQL (postgresqlwriter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { runJob } from '../../main/engine/run.js'
import { formatDataXSummary, importDataX } from '../../main/job/interop/index.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { vi } from 'vitest'
import { main } from '../../main/cli.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = await serversReady('mysql', 'postgres')

const ROWS = 25
function sourceRow(i: number): [number, string, string, string, string | null] {
  return [i, i % 3 === 0 ? `名前-${i} ✓` : `item ${i}`, `${i * 1000}.${String(i).padStart(2, '0')}`, `2024-02-${String((i % 28) + 1).padStart(2, '0')} 12:34:56.${String(i).padStart(6, '0')}`, i % 4 === 0 ? null : `note ${i}`]
}

describe.skipIf(!ready)('DataX job JSON imported and run (MySQL -> PostgreSQL)', () => {
  const u = uniq()
  const myDb = `sl_interop_${u}`
  const pgDb = `sl_interop_${u}`

  beforeAll(async () => {
    await freshMysqlDb(myDb)
    await freshPgDb(pgDb)
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, price DECIMAL(12,2) NOT NULL, created DATETIME(6) NOT NULL, note TEXT NULL)')
    const rows = Array.from({ length: ROWS }, (_, k) => sourceRow(k + 1))
    await my.query('INSERT INTO items (id, name, price, created, note) VALUES ?', [rows])
    await my.end()
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query('CREATE TABLE items_copy (id int PRIMARY KEY, name varchar(50) NOT NULL, price numeric(12,2) NOT NULL, created timestamp(6) NOT NULL, note text)')
    await c.query('CREATE TABLE items_all (id int PRIMARY KEY, name varchar(50) NOT NULL, price numeric(12,2) NOT NULL, created timestamp(6) NOT NULL, note text)')
    await c.end()
  })

  afterAll(async () => {
    await dropMysqlDb(myDb)
    await dropPgDb(pgDb)
  })

  async function pgRows(table: string): Promise<unknown[][]> {
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    // Text forms: no driver-side Date/number conversion in the comparison.
    const r = await c.query({ text: `SELECT id, name, price::text, to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), note FROM ${table} ORDER BY id`, rowMode: 'array' })
    await c.end()
    return r.rows
  }

  async function importAndRun(doc: unknown, env: Record<string, string>) {
    const imported = importDataX(doc, { env, name: 'datax-import' })
    const parsed = parseJob(imported.job)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const job = parsed.job
    const summary = await runJob({
      runId: `interop-${u}`,
      job,
      reader: { ...(job.reader.connection as object) } as ConnectionConfig,
      writer: { ...(job.writer.connection as object) } as ConnectionConfig,
      vars: { bizdate: '20240301' },
      time: timeContext({ bizdate: '20240301' }),
    })
    return { imported, summary }
  }

  it('explicit columns, splitPk, where with ${bizdate}, preSql with @table: every selected row arrives exactly', async () => {
    const doc = {
      job: {
        setting: { speed: { channel: 2 }, errorLimit: { record: 0, percentage: 0.02 } },
        content: [
          {
            reader: {
              name: 'mysqlreader',
              parameter: {
                username: MYSQL.user,
                password: '${PASSWORD_SRC}',
                column: ['id', 'name', 'price', 'created', 'note'],
                splitPk: 'id',
                where: "created < '${bizdate}' AND id <= 20",
                connection: [{ table: ['items'], jdbcUrl: [`jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}`] }],
              },
            },
            writer: {
              name: 'postgresqlwriter',
              parameter: {
                username: PG.user,
                password: '${PASSWORD_DST}',
                column: ['id', 'name', 'price', 'created', 'note'],
                preSql: ['delete from @table'],
                connection: [{ jdbcUrl: `jdbc:postgresql://${PG.host}:${PG.port}/${pgDb}`, table: ['items_copy'] }],
              },
            },
          },
        ],
      },
    }
    const { imported, summary } = await importAndRun(doc, { PASSWORD_SRC: MYSQL.password, PASSWORD_DST: PG.password })
    expect(imported.job.writer.preSql).toEqual(['delete from items_copy'])
    expect(summary.error).toBeUndefined()
    expect(summary.state).toBe('succeeded')
    // created < '2024-03-01' holds for every row; id <= 20 selects 20 of 25.
    expect(summary.rowsRead).toBe(20)
    expect(summary.rowsWritten).toBe(20)
    expect(summary.dirty).toBe(0)
    const expected = Array.from({ length: 20 }, (_, k) => {
      const [id, name, price, created, note] = sourceRow(k + 1)
      return [id, name, price, created, note]
    })
    expect(await pgRows('items_copy')).toEqual(expected)
    const text = formatDataXSummary(summary)
    expect(text).toContain(`\n读出记录总数${' '.repeat(20)}:${' '.repeat(18)}20    Records read\n`)
    expect(text).toContain(`\n读写失败总数${' '.repeat(20)}:${' '.repeat(19)}0    Read/write failures\n`)
  })

  it('column ["*"] -> ["*"] (same-row) copies the whole table', async () => {
    const doc = {
      job: {
        setting: { speed: { channel: 1 } },
        content: [
          {
            reader: { name: 'mysqlreader', parameter: { username: MYSQL.user, password: MYSQL.password, column: ['*'], connection: [{ table: ['items'], jdbcUrl: [`jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}`] }] } },
            writer: { name: 'postgresqlwriter', parameter: { username: PG.user, password: PG.password, column: ['*'], connection: [{ jdbcUrl: `jdbc:postgresql://${PG.host}:${PG.port}/${pgDb}`, table: ['items_all'] }] } },
          },
        ],
      },
    }
    const { summary } = await importAndRun(doc, {})
    expect(summary.error).toBeUndefined()
    expect(summary.state).toBe('succeeded')
    expect(summary.rowsWritten).toBe(ROWS)
    expect(await pgRows('items_all')).toEqual(Array.from({ length: ROWS }, (_, k) => sourceRow(k + 1)))
  })

  it('`sluice run datax-job.json` runs the DataX file as it is and ends with DataX\'s summary figures', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-datax-cli-'))
    const file = path.join(dir, 'mysql2pg.json')
    writeFileSync(
      file,
      JSON.stringify({
        job: {
          setting: { speed: { channel: 2, record: 100000 }, errorLimit: { record: 0 } },
          content: [
            {
              reader: { name: 'mysqlreader', parameter: { username: MYSQL.user, password: MYSQL.password, column: ['id', 'name', 'price', 'created', 'note'], splitPk: 'id', where: 'id > 5', connection: [{ table: ['items'], jdbcUrl: [`jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}`] }] } },
              writer: { name: 'postgresqlwriter', parameter: { username: PG.user, password: PG.password, column: ['id', 'name', 'price', 'created', 'note'], preSql: ['delete from @table'], connection: [{ jdbcUrl: `jdbc:postgresql://${PG.host}:${PG.port}/${pgDb}`, table: ['items_copy'] }] } },
            },
          ],
        },
      }),
    )
    const out: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true))
    let code: number
    try {
      code = await main(['node', 'sluice', '--data-dir', path.join(dir, 'data'), 'run', file, '--quiet'])
    } finally {
      spy.mockRestore()
      rmSync(dir, { recursive: true, force: true })
    }
    expect(code).toBe(0)
    expect(await pgRows('items_copy')).toEqual(Array.from({ length: ROWS - 5 }, (_, k) => sourceRow(k + 6)))
    const text = out.join('')
    expect(text).toContain('任务启动时刻')
    expect(text).toMatch(/读出记录总数\s+:\s+20\s+Records read/)
    expect(text).toMatch(/读写失败总数\s+:\s+0\s+Read\/write failures/)
  })
})
