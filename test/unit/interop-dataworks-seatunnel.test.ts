import { describe, expect, it } from 'vitest'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { detectFormat, exportJob, importDataWorks, resolveWithoutStore, toHocon } from '../../main/job/interop/index.js'
import { Substitution } from '../../main/job/interop/seatunnel.js'
import { parseJob, type ConnectionRef, type JobSpec, type JobSpecInput } from '../../main/job/spec.js'
import { validateSeaTunnelJson } from '../helpers/interop-fixtures.js'

const SECRETS = ['hunter2', 'pg-pass']
const saved: Record<string, ConnectionConfig> = {
  src_mysql: { kind: 'mysql', host: 'db1.example', port: 3306, user: 'etl', password: 'hunter2', database: 'shop' },
  dst_pg: { kind: 'postgres', host: 'pg.example', port: 5433, user: 'loader', password: 'pg-pass', database: 'dw' },
  lite: { kind: 'sqlite', path: '/data/app.db' },
}
const resolve = (ref: ConnectionRef): ConnectionConfig => (typeof ref === 'string' && saved[ref] ? saved[ref] : resolveWithoutStore(ref))

function job(input: JobSpecInput): JobSpec {
  const r = parseJob(input)
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r.job
}

describe('DataWorks', () => {
  const dw: JobSpecInput = {
    version: 1,
    name: 'orders',
    reader: { connection: 'src_mysql' },
    writer: { connection: 'dst_pg', schema: 'stage', writeMode: 'insert', truncate: true, createTable: false, preSql: ["DELETE FROM log WHERE d = '${bizdate}'"], postSql: [] },
    tables: [{ source: 'orders', mapping: [{ source: 'id', target: 'order_id' }, { target: 'bizdate', constant: '${bizdate}' }], where: "gmt_create >= '$[yyyy-mm-dd-1]'", splitPk: 'id' }],
    setting: { speed: { channel: 2, byte: 2 * 1048576 }, errorLimit: { record: 10 }, zeroDate: 'null' },
  }

  it('exports script mode with data source names and no password field', () => {
    const { files, warnings } = exportJob(job(dw), 'dataworks', resolve)
    expect(files.map((f) => f.name)).toEqual(['orders.dataworks.json'])
    const doc = JSON.parse(files[0]!.content)
    expect(doc).toEqual({
      type: 'job',
      version: '2.0',
      steps: [
        { stepType: 'mysql', parameter: { datasource: 'src_mysql', table: ['orders'], column: ['id', "'${bizdate}'"], splitPk: 'id', where: "gmt_create >= '$[yyyy-mm-dd-1]'" }, name: 'Reader', category: 'reader' },
        { stepType: 'postgresql', parameter: { datasource: 'dst_pg', table: 'stage.orders', column: ['order_id', 'bizdate'], preSql: ["DELETE FROM log WHERE d = '${bizdate}'", 'TRUNCATE TABLE stage.orders'] }, name: 'Writer', category: 'writer' },
      ],
      setting: { errorLimit: { record: '10' }, speed: { throttle: true, concurrent: 2, mbps: '2' } },
      order: { hops: [{ from: 'Reader', to: 'Writer' }] },
    })
    expect(files[0]!.content).not.toMatch(/password/i)
    for (const s of SECRETS) expect(files[0]!.content + warnings.join('\n')).not.toContain(s)
    expect(warnings).toContain('credentials: DataWorks data sources "src_mysql" and "dst_pg" hold them; the files have no password field')
    expect(warnings.some((w) => w.includes('DataWorks resolves scheduling parameters') && w.includes('${bizdate}') && w.includes('$[yyyy-mm-dd-1]'))).toBe(true)
  })

  it('Sluice -> DataWorks -> Sluice gives the same job', () => {
    const { files } = exportJob(job(dw), 'dataworks', resolve)
    const doc = JSON.parse(files[0]!.content)
    expect(detectFormat(doc)).toBe('dataworks')
    const back = importDataWorks(doc, { name: 'orders' })
    expect(job(back.job)).toEqual(job(dw))
    expect(back.connections).toEqual([{ name: 'src_mysql', kind: 'mysql' }, { name: 'dst_pg', kind: 'postgres' }])
  })

  it('imports a hand-written script-mode job', () => {
    const doc = {
      type: 'job',
      version: '2.0',
      steps: [
        { stepType: 'mysql', parameter: { datasource: 'my_rds', column: ['id', 'name', "'x'"], connection: [{ datasource: 'my_rds', table: ['user_[0-9]'] }], where: '', splitPk: '', encoding: 'UTF-8' }, name: 'Reader', category: 'reader' },
        { stepType: 'mysql', parameter: { datasource: 'my_dw', table: 'users', column: ['id', 'name', 'src'], writeMode: 'replace', batchSize: 1024, preSql: ['delete from @table'] }, name: 'Writer', category: 'writer' },
      ],
      setting: { errorLimit: { record: '0' }, speed: { throttle: false, concurrent: 1, dmu: 1 } },
      order: { hops: [{ from: 'Reader', to: 'Writer' }] },
    }
    const r = importDataWorks(doc)
    expect(parseJob(r.job).ok).toBe(true)
    expect(r.job).toEqual({
      version: 1,
      reader: { connection: 'my_rds' },
      writer: { connection: 'my_dw', writeMode: 'replace', truncate: false, createTable: false, preSql: ['delete from users'], postSql: [] },
      tables: [{ source: 'user_[0-9]', target: 'users', mapping: [{ source: 'id', target: 'id' }, { source: 'name', target: 'name' }, { target: 'src', constant: 'x' }] }],
      setting: { speed: { channel: 1 }, errorLimit: { record: 0 }, zeroDate: 'null' },
    })
    expect(r.report).toContain('$.steps[0].parameter.encoding: ignored (Sluice reads the database\'s own encoding)')
    expect(r.report).toContain('$.setting.speed.dmu: DataWorks resource units ignored')
  })
})

describe('SeaTunnel', () => {
  const st: JobSpecInput = {
    version: 1,
    name: 'to pg',
    reader: { connection: 'src_mysql' },
    writer: { connection: 'dst_pg', writeMode: 'insert', truncate: false, createTable: true },
    tables: [
      { source: 'orders', splitPk: 'id' },
      { source: 'Customers', target: 'customers', mapping: [{ source: 'Id', target: 'id' }, { source: 'Note', target: 'note', nullDefault: '' }, { target: 'tag', constant: "o'k" }], where: "Created >= '${bizdate}'" },
    ],
    setting: { speed: { channel: 2, byte: 1000000 }, zeroDate: 'null' },
  }

  it('writes HOCON with substitutions for passwords, quoted strings and one source/sink per table', () => {
    const { files, warnings } = exportJob(job(st), 'seatunnel-hocon', resolve)
    expect(files.map((f) => f.name)).toEqual(['to-pg.seatunnel.conf'])
    expect(files[0]!.content).toBe(`env {
  job.mode = "BATCH"
  parallelism = 2
  read_limit.bytes_per_second = 1000000
}

source {
  Jdbc {
    url = "jdbc:mysql://db1.example:3306/shop"
    driver = "com.mysql.cj.jdbc.Driver"
    user = "etl"
    password = \${PASSWORD_SRC_MYSQL}
    table_path = "shop.orders"
    partition_column = "id"
    properties = {
      zeroDateTimeBehavior = "CONVERT_TO_NULL"
    }
    plugin_output = "src_1_orders"
  }
  Jdbc {
    url = "jdbc:mysql://db1.example:3306/shop"
    driver = "com.mysql.cj.jdbc.Driver"
    user = "etl"
    password = \${PASSWORD_SRC_MYSQL}
    query = "SELECT \`Id\` AS \`id\`, COALESCE(\`Note\`, '') AS \`note\`, 'o''k' AS \`tag\` FROM \`Customers\` WHERE Created >= '\${bizdate}'"
    properties = {
      zeroDateTimeBehavior = "CONVERT_TO_NULL"
    }
    plugin_output = "src_2_customers"
  }
}

sink {
  Jdbc {
    url = "jdbc:postgresql://pg.example:5433/dw"
    driver = "org.postgresql.Driver"
    user = "loader"
    password = \${PASSWORD_DST_PG}
    database = "dw"
    table = "public.orders"
    generate_sink_sql = true
    schema_save_mode = "CREATE_SCHEMA_WHEN_NOT_EXIST"
    data_save_mode = "APPEND_DATA"
    plugin_input = "src_1_orders"
  }
  Jdbc {
    url = "jdbc:postgresql://pg.example:5433/dw"
    driver = "org.postgresql.Driver"
    user = "loader"
    password = \${PASSWORD_DST_PG}
    database = "dw"
    table = "public.customers"
    generate_sink_sql = true
    schema_save_mode = "CREATE_SCHEMA_WHEN_NOT_EXIST"
    data_save_mode = "APPEND_DATA"
    plugin_input = "src_2_customers"
  }
}
`)
    for (const s of SECRETS) expect(files[0]!.content + warnings.join('\n')).not.toContain(s)
    expect(warnings).toContain('passwords are ${PASSWORD_SRC_MYSQL}, ${PASSWORD_DST_PG}: pass them with -i PASSWORD_SRC_MYSQL=... -i PASSWORD_DST_PG=... (or as environment variables, which HOCON substitution falls back to)')
  })

  it('writes JSON whose Jdbc blocks validate against the documented options', () => {
    for (const input of [
      st,
      { ...st, writer: { connection: 'lite', writeMode: 'update' as const, truncate: true }, tables: [{ source: { querySql: 'SELECT 1 AS a' }, target: 'one' }] },
      { ...st, reader: { connection: 'lite' }, writer: { connection: 'src_mysql', createTable: false, identifierCase: 'lower' as const }, tables: [{ source: 'T', columns: ['A', 'B'], preSql: ['DELETE FROM t'] }] },
    ]) {
      const { files, warnings } = exportJob(job(input as JobSpecInput), 'seatunnel-json', resolve)
      const doc = JSON.parse(files[0]!.content)
      expect(validateSeaTunnelJson(doc)).toEqual([])
      for (const s of SECRETS) expect(files[0]!.content + warnings.join('\n')).not.toContain(s)
    }
    const lower = exportJob(job({ ...st, reader: { connection: 'lite' }, writer: { connection: 'src_mysql', createTable: false, identifierCase: 'lower' }, tables: [{ source: 'T', columns: ['A', 'B'], preSql: ['DELETE FROM t'] }] }), 'seatunnel-json', resolve)
    const d = JSON.parse(lower.files[0]!.content)
    expect(d.source[0]).toEqual({ plugin_name: 'Jdbc', url: 'jdbc:sqlite:/data/app.db', driver: 'org.sqlite.JDBC', query: 'SELECT "A" AS "a", "B" AS "b" FROM "T"', plugin_output: 'src_1_t' })
    expect(d.sink[0]).toMatchObject({ password: '${PASSWORD_SRC_MYSQL}', database: 'shop', table: 't', schema_save_mode: 'ERROR_WHEN_SCHEMA_NOT_EXIST', data_save_mode: 'CUSTOM_PROCESSING', custom_sql: 'DELETE FROM t', field_ide: 'LOWERCASE' })
    const up = exportJob(job({ ...st, writer: { connection: 'lite', writeMode: 'update', truncate: true }, tables: [{ source: 'x' }] }), 'seatunnel-json', resolve)
    expect(up.warnings.some((w) => w.includes('writeMode "update": SeaTunnel upserts on primary_keys'))).toBe(true)
    expect(JSON.parse(up.files[0]!.content).sink[0].data_save_mode).toBe('DROP_DATA')
  })

  it('quotes HOCON keys and strings that need it', () => {
    const text = toHocon({ env: { 'job.mode': 'BATCH' }, source: [{ plugin: 'Jdbc', options: { 'a b': 'x"y\\z\n', list: ['p', 1, true], pw: new Substitution('PASSWORD_X') } }], sink: [] })
    expect(text).toContain('"a b" = "x\\"y\\\\z\\n"')
    expect(text).toContain('list = ["p", 1, true]')
    expect(text).toContain('pw = ${PASSWORD_X}')
  })
})
