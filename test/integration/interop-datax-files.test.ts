/**
 * DataX jobs with file plugins, written as DataX's plugin docs show them, run by `sluice run` as
 * they are: mysqlreader -> txtfilewriter (a local folder), ftpreader (a real FTP server on
 * loopback, ftp-srv) -> postgresqlwriter, and txtfilereader -> mysqlwriter. Then the export of a
 * file job to DataX and SeaTunnel (LocalFile / FtpFile / SftpFile / S3File) with its warnings.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { main } from '../../main/cli.js'
import { exportJob, importDataX } from '../../main/job/interop/index.js'
import { parseJob } from '../../main/job/spec.js'
import { fileServersReady, startFtp, type FtpServer } from '../helpers/file-servers.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = (await serversReady('mysql', 'postgres')) && fileServersReady('openssl')

async function sluice(dir: string, file: string): Promise<{ code: number; out: string }> {
  const out: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true))
  try {
    const code = await main(['node', 'sluice', '--data-dir', path.join(dir, 'data'), 'run', file, '--quiet'])
    return { code, out: out.join('') }
  } finally {
    spy.mockRestore()
  }
}

describe.skipIf(!ready)('DataX jobs with txtfile / ftp plugins run as they are', () => {
  const u = uniq()
  const myDb = `sl_dxf_${u}`
  const pgDb = `sl_dxf_${u}`
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-dxf-'))
  let ftp: FtpServer

  beforeAll(async () => {
    ftp = await startFtp()
    await freshMysqlDb(myDb)
    await freshPgDb(pgDb)
    const my = await mysql.createConnection({ ...MYSQL, database: myDb })
    await my.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, price DECIMAL(12,2) NULL, day DATE NULL)')
    await my.query("INSERT INTO items VALUES (1, 'a,b', 1.50, '2026-12-04'), (2, '中文', NULL, NULL), (3, 'quote\"d', 1234567890.12, '2000-02-29')")
    await my.query('CREATE TABLE stat (day DATE, host VARCHAR(20), hits BIGINT)')
    await my.end()
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    await c.query('CREATE TABLE stat (day date, host varchar(20), hits bigint, src text)')
    await c.end()
  }, 60_000)

  afterAll(async () => {
    await ftp?.stop()
    await dropMysqlDb(myDb)
    await dropPgDb(pgDb)
    rmSync(dir, { recursive: true, force: true })
  })

  it('mysqlreader -> txtfilewriter (gzip, \\t, a header)', async () => {
    const out = path.join(dir, 'out')
    const file = path.join(dir, 'txtfilewriter.json')
    writeFileSync(
      file,
      JSON.stringify({
        job: {
          setting: { speed: { channel: 1 } },
          content: [
            {
              reader: { name: 'mysqlreader', parameter: { username: MYSQL.user, password: MYSQL.password, column: ['id', 'name', 'price', 'day'], connection: [{ table: ['items'], jdbcUrl: [`jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}`] }] } },
              writer: { name: 'txtfilewriter', parameter: { path: out, fileName: 'items', writeMode: 'truncate', fieldDelimiter: '\t', compress: 'gzip', encoding: 'UTF-8', nullFormat: '\\N', header: ['id', 'name', 'price', 'day'], dateFormat: 'yyyy-MM-dd' } },
            },
          ],
        },
      }),
    )
    const r = await sluice(dir, file)
    expect(r.code, r.out).toBe(0)
    expect(r.out).toMatch(/读出记录总数\s+:\s+3\s+Records read/)
    const parts = readdirSync(out).filter((f) => f.endsWith('.csv.gz'))
    expect(parts).toEqual(['items-000-00001.csv.gz'])
    const text = gunzipSync(readFileSync(path.join(out, parts[0]!))).toString('utf8')
    expect(text).toBe('id\tname\tprice\tday\n1\ta,b\t1.50\t2026-12-04\n2\t中文\t\\N\t\\N\n3\t"quote""d"\t1234567890.12\t2000-02-29\n')
  })

  it('ftpreader (a date folder, skipHeader false, columns by index) -> postgresqlwriter', async () => {
    mkdirSync(path.join(ftp.root, 'origin_stat', 'in', '20261204'), { recursive: true })
    writeFileSync(path.join(ftp.root, 'origin_stat/in/20261204/a.txt'), '2026-12-04|web1|10\n2026-12-04|web2|\\N\n')
    writeFileSync(path.join(ftp.root, 'origin_stat/in/20261204/b.txt'), '2026-12-04|web3|30\n')
    const file = path.join(dir, 'ftpreader.json')
    writeFileSync(
      file,
      JSON.stringify({
        job: {
          setting: { speed: { channel: 2 }, errorLimit: { record: 0 } },
          content: [
            {
              reader: {
                name: 'ftpreader',
                parameter: {
                  protocol: 'ftp',
                  host: ftp.host,
                  port: ftp.port,
                  username: ftp.user,
                  password: ftp.password,
                  path: ['/origin_stat/in/${bizdate}/*.txt'],
                  column: [{ index: 0, type: 'date', format: 'yyyy-MM-dd' }, { index: 1, type: 'string' }, { index: 2, type: 'long' }, { type: 'string', value: 'ftp' }],
                  fieldDelimiter: '|',
                  encoding: 'UTF-8',
                  skipHeader: false,
                  nullFormat: '\\N',
                },
              },
              writer: { name: 'postgresqlwriter', parameter: { username: PG.user, password: PG.password, column: ['day', 'host', 'hits', 'src'], preSql: ['delete from @table'], connection: [{ jdbcUrl: `jdbc:postgresql://${PG.host}:${PG.port}/${pgDb}`, table: ['stat'] }] } },
            },
          ],
        },
      }),
    )
    const out: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true))
    let code: number
    try {
      code = await main(['node', 'sluice', '--data-dir', path.join(dir, 'data'), 'run', file, '--quiet', '--bizdate', '20261204'])
    } finally {
      spy.mockRestore()
    }
    expect(code, out.join('')).toBe(0)
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    const r = await c.query("SELECT to_char(day, 'YYYY-MM-DD') AS day, host, hits::text, src FROM stat ORDER BY host")
    await c.end()
    expect(r.rows).toEqual([
      { day: '2026-12-04', host: 'web1', hits: '10', src: 'ftp' },
      { day: '2026-12-04', host: 'web2', hits: null, src: 'ftp' },
      { day: '2026-12-04', host: 'web3', hits: '30', src: 'ftp' },
    ])
  })

  it('txtfilereader (several paths, skipHeader) -> mysqlwriter', async () => {
    const inDir = path.join(dir, 'in')
    mkdirSync(path.join(inDir, 'x'), { recursive: true })
    mkdirSync(path.join(inDir, 'y'), { recursive: true })
    writeFileSync(path.join(inDir, 'x/s.csv'), 'day,host,hits\n2026-12-01,h1,1\n')
    writeFileSync(path.join(inDir, 'y/s.csv'), 'day,host,hits\n2026-12-02,h2,9007199254740993\n')
    const file = path.join(dir, 'txtfilereader.json')
    writeFileSync(
      file,
      JSON.stringify({
        job: {
          setting: { speed: { channel: 1 } },
          content: [
            {
              reader: { name: 'txtfilereader', parameter: { path: [path.join(inDir, 'x/*.csv'), path.join(inDir, 'y/*.csv')], column: [{ index: 0, type: 'date' }, { index: 1, type: 'string' }, { index: 2, type: 'long' }], fieldDelimiter: ',', skipHeader: true, encoding: 'UTF-8' } },
              writer: { name: 'mysqlwriter', parameter: { username: MYSQL.user, password: MYSQL.password, writeMode: 'insert', column: ['day', 'host', 'hits'], connection: [{ table: ['stat'], jdbcUrl: `jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}` }] } },
            },
          ],
        },
      }),
    )
    const r = await sluice(dir, file)
    expect(r.code, r.out).toBe(0)
    const my = await mysql.createConnection({ ...MYSQL, database: myDb, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true })
    const [rows] = await my.query('SELECT day, host, hits FROM stat ORDER BY host')
    await my.end()
    expect(rows).toEqual([
      { day: '2026-12-01', host: 'h1', hits: '1' },
      { day: '2026-12-02', host: 'h2', hits: '9007199254740993' },
    ])
  })

  it('imports report what does not map, and file jobs export to DataX and SeaTunnel with warnings', () => {
    const imported = importDataX({
      job: {
        content: [
          {
            reader: { name: 'ftpreader', parameter: { protocol: 'sftp', host: 'h', port: 22, username: 'u', password: '${PASSWORD_FTPSRC}', path: '/data/in/*.gz', column: ['*'], compress: 'gzip', timeout: 60000 } },
            writer: { name: 'txtfilewriter', parameter: { path: '/data/out', fileName: 'x', writeMode: 'nonConflict', dateFormat: 'yyyyMMdd' } },
          },
        ],
      },
    }, { env: { PASSWORD_FTPSRC: 'p@ss' } })
    expect(imported.job.reader.connection).toBe('sftp://u:p%40ss@h:22/data/in')
    expect(imported.job.tables).toEqual([{ source: '*.gz', target: 'x' }])
    expect(imported.report.some((l) => l.includes('dateFormat'))).toBe(true)
    expect(imported.report.some((l) => l.includes('timeout'))).toBe(true)

    const parsed = parseJob({
      name: 'orders out',
      reader: { connection: 'mysql://root@127.0.0.1:3306/shop' },
      writer: { connection: 'sftp://etl@files.example:22/exports', file: { format: 'csv', compression: 'gzip', exportBatchRows: 100000, path: '${bizdate}' } },
      tables: [{ source: 'orders', mapping: [{ source: 'id', target: 'id' }, { source: 'total', target: 'total' }] }],
    })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    const dx = exportJob(parsed.job, 'datax')
    const doc = JSON.parse(dx.files[0]!.content)
    expect(doc.job.content[0].reader.name).toBe('mysqlreader')
    expect(doc.job.content[0].writer.name).toBe('ftpwriter')
    expect(doc.job.content[0].writer.parameter).toMatchObject({ protocol: 'sftp', host: 'files.example', path: '/exports/${bizdate}', fileName: 'orders', compress: 'gzip', header: ['id', 'total'], password: '${PASSWORD_WRITER}' })
    expect(dx.warnings.some((w) => w.includes('exportBatchRows'))).toBe(true)
    const st = exportJob(parsed.job, 'seatunnel-hocon')
    expect(st.files[0]!.content).toContain('SftpFile {')
    expect(st.files[0]!.content).toContain('path = "/exports/${bizdate}"')
    expect(st.warnings.some((w) => w.includes('compression'))).toBe(true)
    const s3b = parseJob({ reader: { connection: 's3://bucket/pre?endpoint=http://127.0.0.1:9000', file: { format: 'parquet' } }, writer: { connection: 'postgres://postgres@127.0.0.1:5432/db' }, tables: [{ source: 'in/*.parquet', target: 't', mapping: [{ source: 'a', target: 'a' }] }] })
    if (!s3b.ok) throw new Error(JSON.stringify(s3b.problems))
    expect(() => exportJob(s3b.job, 'datax')).toThrow(/S3/)
    const st3 = exportJob(s3b.job, 'seatunnel-json')
    const cfg = JSON.parse(st3.files[0]!.content)
    expect(cfg.source[0]).toMatchObject({ plugin_name: 'S3File', bucket: 's3a://bucket', path: '/pre/in/*.parquet', file_format_type: 'parquet' })
    expect(cfg.sink[0]).toMatchObject({ plugin_name: 'Jdbc', table: 't' })
  })
})
