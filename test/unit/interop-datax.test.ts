import { describe, expect, it } from 'vitest'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { RunSummary } from '../../main/engine/events.js'
import { detectFormat, exportJob, formatDataXSummary, importDataX, InteropError, resolveWithoutStore } from '../../main/job/interop/index.js'
import { parseJob, type ConnectionRef, type JobSpec, type JobSpecInput } from '../../main/job/spec.js'
import { loadFixture, validateDataXJob, validateParams } from '../helpers/interop-fixtures.js'

const SECRETS = ['s3cret!', 'pg-pass', 'hunter2']

function job(input: JobSpecInput): JobSpec {
  const r = parseJob(input)
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r.job
}

const saved: Record<string, ConnectionConfig> = {
  'shop-mysql': { kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', password: 'hunter2', database: 'shop' },
  'dw-pg': { kind: 'postgres', host: 'pg.example', port: 5433, user: 'loader', password: 'pg-pass', database: 'dw' },
}
const resolve = (ref: ConnectionRef): ConnectionConfig => {
  if (typeof ref === 'string' && saved[ref]) return saved[ref]
  return resolveWithoutStore(ref)
}

/** A job DataX can express exactly, written in the canonical form an import produces. */
const onePair: JobSpecInput = {
  version: 1,
  name: 'orders',
  reader: { connection: { kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', password: 's3cret!', database: 'shop' } },
  writer: {
    connection: { kind: 'postgres', host: 'pg.example', port: 5433, user: 'loader', password: 'pg-pass', database: 'dw' },
    schema: 'stage',
    writeMode: 'insert',
    truncate: true,
    createTable: false,
    preSql: ["DELETE FROM audit WHERE day = '${bizdate}'"],
    postSql: ['ANALYZE orders_copy'],
  },
  tables: [{ source: 'orders', target: 'orders_copy', columns: ['id', 'amount', 'created_at'], where: "created_at < '${bizdate}'", splitPk: 'id' }],
  setting: { speed: { channel: 3, record: 1000, byte: 1048576 }, errorLimit: { record: 5, percentage: 0.02 }, zeroDate: 'null' },
}

describe('DataX export', () => {
  it('writes DataX job JSON as the plugin docs describe it, with no password in clear', () => {
    const { files, warnings } = exportJob(job(onePair), 'datax', resolve)
    expect(files.map((f) => f.name)).toEqual(['orders.datax.json'])
    const doc = JSON.parse(files[0]!.content)
    expect(validateDataXJob(doc)).toEqual([])
    expect(doc).toEqual({
      job: {
        setting: { speed: { channel: 3, record: 1000, byte: 1048576 }, errorLimit: { record: 5, percentage: 0.02 } },
        content: [
          {
            reader: {
              name: 'mysqlreader',
              parameter: {
                username: 'etl',
                password: '${PASSWORD_READER}',
                column: ['id', 'amount', 'created_at'],
                splitPk: 'id',
                where: "created_at < '${bizdate}'",
                connection: [{ table: ['orders'], jdbcUrl: ['jdbc:mysql://db1.example:3306/shop'] }],
              },
            },
            writer: {
              name: 'postgresqlwriter',
              parameter: {
                username: 'loader',
                password: '${PASSWORD_WRITER}',
                column: ['id', 'amount', 'created_at'],
                preSql: ["DELETE FROM audit WHERE day = '${bizdate}'", 'TRUNCATE TABLE @table'],
                postSql: ['ANALYZE orders_copy'],
                connection: [{ table: ['orders_copy'], jdbcUrl: 'jdbc:postgresql://pg.example:5433/dw?currentSchema=stage' }],
              },
            },
          },
        ],
      },
    })
    for (const s of SECRETS) {
      expect(files[0]!.content).not.toContain(s)
      expect(warnings.join('\n')).not.toContain(s)
    }
    expect(warnings).toContain('passwords are placeholders ${PASSWORD_READER}, ${PASSWORD_WRITER}: run python datax.py -p"-DPASSWORD_READER=... -DPASSWORD_WRITER=..." job.json')
    expect(warnings.some((w) => w.startsWith('variables kept verbatim: ${bizdate}'))).toBe(true)
  })

  it('Sluice -> DataX -> Sluice gives the same job', () => {
    const { files } = exportJob(job(onePair), 'datax', resolve)
    const back = importDataX(JSON.parse(files[0]!.content), { name: 'orders', env: { PASSWORD_READER: 's3cret!', PASSWORD_WRITER: 'pg-pass' } })
    expect(job(back.job)).toEqual(job(onePair))
    expect(back.connections).toEqual([
      { name: 'reader', kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', password: 's3cret!', database: 'shop' },
      { name: 'writer', kind: 'postgres', host: 'pg.example', port: 5433, user: 'loader', password: 'pg-pass', database: 'dw' },
    ])
  })

  it('round-trips several pairs (one file each) with renames, constants, "*" and querySql', () => {
    const multi: JobSpecInput = {
      version: 1,
      name: 'multi',
      reader: { connection: 'shop-mysql' },
      writer: { connection: 'shop-mysql', writeMode: 'update', truncate: false, createTable: false, preSql: [], postSql: [] },
      tables: [
        { source: 'customers', mapping: [{ source: 'id', target: 'customer_id' }, { target: 'origin', constant: "it's ${bizdate}" }, { target: 'score', constant: 2.5 }, { target: 'flag', constant: null }] },
        { source: { schema: 'crm', table: 'Order Lines' }, target: 'order_lines', mappingMode: 'position', preSql: ['DELETE FROM order_lines WHERE 1=1'] },
        { source: 'events', columns: ['id', 'kind'], mappingMode: 'position', truncate: true },
        { source: { querySql: 'SELECT a, b FROM t1 JOIN t2 USING (id)' }, target: 'joined', mapping: [{ target: 'x', position: 0 }, { target: 'y', position: 1 }] },
      ],
      setting: { speed: { channel: 2 }, errorLimit: { record: 0 }, zeroDate: 'null' },
    }
    const { files, warnings } = exportJob(job(multi), 'datax', resolve)
    expect(files.map((f) => f.name)).toEqual(['multi-01-customers.datax.json', 'multi-02-order-lines.datax.json', 'multi-03-events.datax.json', 'multi-04-joined.datax.json'])
    for (const f of files) expect(validateDataXJob(JSON.parse(f.content))).toEqual([])
    const c0 = JSON.parse(files[0]!.content).job.content[0]
    expect(c0.reader.parameter.column).toEqual(['id', "'it''s ${bizdate}'", '2.5', 'null'])
    expect(c0.writer.parameter.column).toEqual(['customer_id', 'origin', 'score', 'flag'])
    expect(c0.writer.parameter.writeMode).toBe('update')
    expect(c0.reader.parameter.password).toBe('${PASSWORD_SHOP_MYSQL}')
    const c1 = JSON.parse(files[1]!.content).job.content[0]
    expect(c1.reader.parameter.connection[0].table).toEqual(['crm.`Order Lines`'])
    expect(c1.reader.parameter.column).toEqual(['*'])
    expect(c1.writer.parameter.column).toEqual(['*'])
    const c3 = JSON.parse(files[3]!.content).job.content[0]
    expect(c3.reader.parameter).toEqual({ username: 'etl', password: '${PASSWORD_SHOP_MYSQL}', connection: [{ querySql: ['SELECT a, b FROM t1 JOIN t2 USING (id)'], jdbcUrl: ['jdbc:mysql://db1.example:3306/shop'] }] })
    expect(c3.writer.parameter.column).toEqual(['x', 'y'])
    for (const f of files) for (const s of SECRETS) expect(f.content).not.toContain(s)
    expect(warnings.some((w) => w.startsWith('$.tables[0].mapping[1].constant: exported as the SQL literal'))).toBe(true)

    const back = importDataX(files.map((f) => JSON.parse(f.content)), { name: 'multi', env: {} })
    const expected = job({
      ...multi,
      reader: { connection: { kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', database: 'shop' } },
      writer: { ...(multi.writer as object), connection: { kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', database: 'shop' } } as JobSpecInput['writer'],
    })
    expect(job(back.job)).toEqual(expected)
    expect(back.report).toContain('$[0].job.content[0].reader.parameter.password: placeholder ${PASSWORD_SHOP_MYSQL} is not set in the environment; the connection has no password (set PASSWORD_SHOP_MYSQL=... before running)')
    expect(back.connections.map((c) => c.name)).toEqual(['shop_mysql', 'shop_mysql_writer'])
  })

  it('lists what DataX cannot express', () => {
    const j = job({
      reader: { connection: 'mysql://etl:s3cret!@db1.example/shop' },
      writer: { connection: 'postgres://loader:pg-pass@pg.example/dw', writeMode: 'replace', identifierCase: 'lower' },
      tables: [{ source: 'Orders', mapping: [{ source: 'Id', target: 'id', nullDefault: 0 }, { source: 'Day', target: 'day', timeFormat: { from: 'yyyyMMdd' } }], typeOverrides: { id: 'bigint' } }],
      setting: { batchBytes: 1 << 20 },
    })
    const { files, warnings } = exportJob(j, 'datax', resolve)
    expect(files).toHaveLength(1)
    expect(validateDataXJob(JSON.parse(files[0]!.content))).toEqual([])
    const text = warnings.join('\n')
    for (const s of [
      '$.writer.createTable: DataX does not create target tables',
      '$.writer.identifierCase: "lower"',
      '$.setting.batchBytes:',
      '$.setting.zeroDate:',
      '$.tables[0].typeOverrides:',
      '$.tables[0]: writeMode "replace" on PostgreSQL',
      '$.tables[0].mapping[0].nullDefault:',
      '$.tables[0].mapping[1].timeFormat:',
      '$.setting.speed.channel: unset',
    ])
      expect(text).toContain(s)
    for (const s of SECRETS) expect(files[0]!.content + text).not.toContain(s)
    const w = JSON.parse(files[0]!.content).job.content[0].writer.parameter
    expect(w.writeMode).toBeUndefined()
    expect(w.connection[0].table).toEqual(['orders'])
  })

  it('exports nothing for SQLite (no DataX plugin) and needs the table list for a whole-database selection', () => {
    const sq = exportJob(job({ reader: { connection: 'sqlite:/tmp/a.db' }, writer: { connection: 'dw-pg' }, tables: [{ source: 't' }] }), 'datax', resolve)
    expect(sq.files).toEqual([])
    expect(sq.warnings[0]).toContain('DataX has no reader plugin for sqlite')
    const all = job({ reader: { connection: 'shop-mysql' }, writer: { connection: 'dw-pg' }, tables: { include: '*', exclude: ['tmp'] } })
    const none = exportJob(all, 'datax', resolve)
    expect(none.files).toEqual([])
    expect(none.warnings[0]).toContain('needs the table list')
    const some = exportJob(all, 'datax', resolve, { tables: ['a', 'tmp', 'b'] })
    expect(some.files.map((f) => JSON.parse(f.content).job.content[0].reader.parameter.connection[0].table[0])).toEqual(['a', 'b'])
  })

  it('names the side whose saved connection cannot be resolved, never with a URL password', () => {
    const failing = () => {
      throw new Error('cannot reach mysql://etl:s3cret!@db1.example/shop')
    }
    expect(() => exportJob(job({ reader: { connection: 'mysql://etl:s3cret!@db1.example/shop' }, writer: { connection: 'dw-pg' }, tables: [{ source: 't' }] }), 'datax', failing)).toThrow(
      '$.reader.connection: cannot reach mysql://etl:***@db1.example/shop',
    )
    expect(() => exportJob(job({ reader: { connection: 'nope' }, writer: { connection: 'dw-pg' }, tables: [{ source: 't' }] }), 'datax')).toThrow(/\$\.reader\.connection: 'nope' is a saved connection name/)
  })
})

describe('DataX import', () => {
  /** In the style of DataX's own docs (mysqlreader.md / postgresqlwriter.md samples). */
  const handWritten = {
    job: {
      setting: { speed: { channel: 3 }, errorLimit: { record: 0, percentage: 0.02 } },
      content: [
        {
          reader: {
            name: 'mysqlreader',
            parameter: {
              username: 'root',
              password: 'root',
              column: ['*'],
              splitPk: 'db_id',
              where: "gmt_create > '${bizdate}'",
              connection: [{ table: ['db_info'], jdbcUrl: ['jdbc:mysql://127.0.0.1:3306/database?useUnicode=true&characterEncoding=utf8'] }],
            },
          },
          writer: {
            name: 'postgresqlwriter',
            parameter: {
              username: 'xx',
              password: 'xx',
              column: ['*'],
              preSql: ['delete from @table'],
              connection: [{ jdbcUrl: 'jdbc:postgresql://127.0.0.1:3002/datax', table: ['test'] }],
            },
          },
        },
      ],
    },
  }

  it('imports mysqlreader -> postgresqlwriter with column ["*"], splitPk and where into a valid job with inline connections', () => {
    expect(detectFormat(handWritten)).toBe('datax')
    const r = importDataX(handWritten, { env: {} })
    const parsed = parseJob(r.job)
    expect(parsed.ok).toBe(true)
    expect(r.job).toEqual({
      version: 1,
      reader: { connection: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: 'root', database: 'database' } },
      writer: { connection: { kind: 'postgres', host: '127.0.0.1', port: 3002, user: 'xx', password: 'xx', database: 'datax' }, writeMode: 'insert', truncate: false, createTable: false, preSql: ['delete from test'], postSql: [] },
      tables: [{ source: 'db_info', target: 'test', where: "gmt_create > '${bizdate}'", splitPk: 'db_id', mappingMode: 'position' }],
      setting: { speed: { channel: 3 }, errorLimit: { record: 0, percentage: 0.02 }, zeroDate: 'null' },
    })
    expect(r.connections).toEqual([
      { name: 'reader', kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: 'root', database: 'database' },
      { name: 'writer', kind: 'postgres', host: '127.0.0.1', port: 3002, user: 'xx', password: 'xx', database: 'datax' },
    ])
    expect(r.report).toContain('$.job.content[0].reader.parameter: jdbcUrl parameter useUnicode=true ignored')
    expect(r.report.some((l) => l.includes('clear-text password'))).toBe(true)
  })

  it('maps constants, reports functions and reads them through a query', () => {
    const doc = structuredClone(handWritten)
    doc.job.content[0]!.reader.parameter.column = ['id', '`table`', "'bazhen.csy'", '1', '2.3', 'true', 'null', '12345678901234567890']
    ;(doc.job.content[0]!.writer.parameter as Record<string, unknown>).column = ['id', 'tbl', 'who', 'one', 'x', 'flag', 'nothing', 'big']
    const r = importDataX(doc, { env: {} })
    expect((r.job.tables as unknown[])[0]).toEqual({
      source: 'db_info',
      target: 'test',
      where: "gmt_create > '${bizdate}'",
      splitPk: 'db_id',
      mapping: [
        { source: 'id', target: 'id' },
        { source: 'table', target: 'tbl' },
        { target: 'who', constant: 'bazhen.csy' },
        { target: 'one', constant: 1 },
        { target: 'x', constant: 2.3 },
        { target: 'flag', constant: true },
        { target: 'nothing', constant: null },
        { target: 'big', constant: '12345678901234567890' },
      ],
    })
    expect(r.report.some((l) => l.includes('numeric constant 12345678901234567890 kept as the text'))).toBe(true)
    expect(parseJob(r.job).ok).toBe(true)

    doc.job.content[0]!.reader.parameter.column = ['id', 'now()']
    ;(doc.job.content[0]!.writer.parameter as Record<string, unknown>).column = ['id', 'loaded_at']
    const f = importDataX(doc, { env: {} })
    expect((f.job.tables as unknown[])[0]).toEqual({
      source: { querySql: "SELECT id, now() FROM `db_info` WHERE gmt_create > '${bizdate}'" },
      target: 'test',
      mapping: [{ target: 'id', position: 0 }, { target: 'loaded_at', position: 1 }],
    })
    expect(f.report.some((l) => l.includes('expression(s) now() are evaluated by the source database'))).toBe(true)
  })

  it('turns several reader tables into several pairs and reads password placeholders from the environment', () => {
    const doc = structuredClone(handWritten)
    doc.job.content[0]!.reader.parameter.connection[0]!.table = ['t_0', 't_1']
    doc.job.content[0]!.reader.parameter.password = '${PASSWORD_SRC}'
    ;(doc.job.content[0]!.writer.parameter as Record<string, unknown>).connection = [{ jdbcUrl: 'jdbc:postgresql://127.0.0.1:3002/datax', table: ['u_0', 'u_1'] }]
    const r = importDataX(doc, { env: { PASSWORD_SRC: 'from-env' } })
    expect((r.job.tables as Array<{ source: unknown; target: unknown }>).map((t) => [t.source, t.target])).toEqual([['t_0', 'u_0'], ['t_1', 'u_1']])
    expect((r.job.reader.connection as { password?: string }).password).toBe('from-env')
    expect(r.connections[0]!.name).toBe('src')
  })

  it('reports unknown plugins and parameters, and fails when nothing runnable remains', () => {
    const doc = structuredClone(handWritten) as unknown as { job: { content: Array<{ reader: { name: string; parameter: Record<string, unknown> } }> } }
    doc.job.content[0]!.reader.parameter.mystery = 1
    const r = importDataX(doc, { env: {} })
    expect(r.report).toContain('$.job.content[0].reader.parameter.mystery: unknown parameter ignored')
    doc.job.content[0]!.reader.name = 'hdfsreader'
    try {
      importDataX(doc, { env: {} })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(InteropError)
      expect((e as InteropError).report).toContain("$.job.content[0].reader.name: plugin 'hdfsreader' is not supported (mysqlreader, postgresqlreader); content skipped")
    }
    expect(detectFormat({ foo: 1 })).toBe('unknown')
    expect(detectFormat({ reader: {}, writer: {}, tables: [] })).toBe('sluice')
    expect(detectFormat({ type: 'job', version: '2.0', steps: [] })).toBe('dataworks')
  })
})

describe('fixtures', () => {
  it('accept the documented samples and reject unknown keys, wrong types and missing required parameters', () => {
    const reader = loadFixture('datax-mysqlreader.json')
    expect(reader.source).toContain('mysqlreader/doc/mysqlreader.md')
    const sample = { username: 'root', password: 'root', jdbcConfig: { XXX: 'XXX' }, column: ['id', 'name'], splitPk: 'db_id', connection: [{ table: ['table'], jdbcUrl: ['jdbc:mysql://127.0.0.1:3306/database'] }] }
    expect(validateParams(sample, reader.parameters)).toEqual([])
    const query = { username: 'root', password: 'root', connection: [{ querySql: ['select 1'], jdbcUrl: ['jdbc:mysql://h/db'] }] }
    expect(validateParams(query, reader.parameters)).toEqual([])
    expect(validateParams({ ...sample, bogus: 1 }, reader.parameters)).toEqual(['$.bogus: unknown parameter'])
    expect(validateParams({ ...sample, splitPk: 3 }, reader.parameters)).toEqual(['$.splitPk: expected string, got 3'])
    const { password: _p, ...noPassword } = sample
    expect(validateParams(noPassword, reader.parameters)).toEqual(['$.password: required parameter missing'])
    const writer = loadFixture('datax-postgresqlwriter.json')
    expect(validateParams({ username: 'a', password: 'b', column: ['*'], writeMode: 'update', connection: [{ jdbcUrl: 'jdbc:postgresql://h/d', table: ['t'] }] }, writer.parameters)).toEqual(['$.writeMode: unknown parameter'])
    const mw = loadFixture('datax-mysqlwriter.json')
    expect(validateParams({ username: 'a', password: 'b', column: ['*'], writeMode: 'upsert', connection: [{ jdbcUrl: 'jdbc:mysql://h/d', table: ['t'] }] }, mw.parameters)).toEqual(['$.writeMode: "upsert" not in ["insert","replace","update"]'])
    const txt = loadFixture('datax-txtfilereader.json')
    expect(validateParams({ path: ['/data'], encoding: 'UTF-8', column: [{ index: 0, type: 'long' }, { index: 4, type: 'date', format: 'yyyy.MM.dd' }], fieldDelimiter: ',' }, txt.parameters)).toEqual([])
    const ftpw = loadFixture('datax-ftpwriter.json')
    expect(validateParams({ protocol: 'sftp', host: 'h', port: 22, username: 'u', password: 'p', path: '/tmp', fileName: 'f', writeMode: 'truncate', fileFormat: 'csv', suffix: '.csv', header: [] }, ftpw.parameters)).toEqual([])
    for (const f of ['datax-txtfilewriter.json', 'datax-ftpreader.json', 'datax-postgresqlreader.json']) expect(loadFixture(f).parameters.length).toBeGreaterThan(5)
  })
})

describe('DataX run summary', () => {
  it('prints DataX closing figures in its layout', () => {
    const start = new Date(2024, 4, 1, 10, 0, 0)
    const end = new Date(2024, 4, 1, 10, 0, 12, 400)
    const s: RunSummary = {
      runId: 'r1', state: 'succeeded', startedAt: start.toISOString(), endedAt: end.toISOString(), elapsedMs: 12_400,
      rowsRead: 120_000, rowsWritten: 119_998, bytes: 18_874_368, dirty: 2, tasks: [], notMigrated: [], warnings: [],
    }
    expect(formatDataXSummary(s)).toBe(
      '\n' +
        '任务启动时刻' + ' '.repeat(20) + ': 2024-05-01 10:00:00    Start time\n' +
        '任务结束时刻' + ' '.repeat(20) + ': 2024-05-01 10:00:12    End time\n' +
        '任务总计耗时' + ' '.repeat(20) + ':                 12s    Total elapsed\n' +
        '任务平均流量' + ' '.repeat(20) + ':            1.50MB/s    Average throughput\n' +
        '记录写入速度' + ' '.repeat(20) + ':          10000rec/s    Record write speed\n' +
        '读出记录总数' + ' '.repeat(20) + ':              120000    Records read\n' +
        '读写失败总数' + ' '.repeat(20) + ':                   2    Read/write failures\n',
    )
  })
})
