/**
 * Files on remote stores, end to end with saved connections and recorded runs, against real
 * loopback servers (OpenSSH sshd, ftp-srv, s3rver; test/helpers/file-servers.ts):
 * - MySQL -> gzip CSV on SFTP -> PostgreSQL (an existing table);
 * - PostgreSQL -> Parquet on S3 -> MySQL (a table created from the Parquet schema);
 * - SQLite -> JSON Lines on FTP -> PostgreSQL (an existing table);
 * each with every value of the fidelity suite equal, and the export files tracked and cleaned.
 */
process.env.TZ = 'America/Sao_Paulo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { storeFor } from '../../main/connectors/stores/index.js'
import { cleanExportFiles } from '../../main/engine/export-files.js'
import { startRun } from '../../main/engine/service.js'
import { openStore, type Store } from '../../main/store/index.js'
import { checkEdge, createEdge, dbConfig, EDGE_ROWS } from '../helpers/edge-fixture.js'
import { fileServersReady, startFtp, startS3, startSshd, type FtpServer, type S3Server, type SshServer } from '../helpers/file-servers.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = (await serversReady('mysql', 'postgres')) && fileServersReady('sshd', 'openssl')

describe.skipIf(!ready)('files on SFTP, S3 and FTP between databases', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-remote-'))
  const my = `sl_frem_${id}`
  const pgSrc = `sl_frem_${id}_src`
  const pgDst = `sl_frem_${id}_dst`
  const myDst = `sl_frem_${id}_dst`
  const lite = path.join(dir, 'src.sqlite')
  let sshd: SshServer
  let ftp: FtpServer
  let s3: S3Server
  let store: Store

  beforeAll(async () => {
    ;[sshd, ftp, s3] = await Promise.all([startSshd(), startFtp(), startS3()])
    await freshMysqlDb(my)
    await createEdge('mysql', my, true)
    await freshPgDb(pgSrc)
    await createEdge('postgres', pgSrc, true)
    await freshPgDb(pgDst)
    await freshMysqlDb(myDst)
    await createEdge('sqlite', lite, true)
    store = openStore({ dataDir: dir })
    const save = (name: string, config: ConnectionConfig) => store.connections.create({ name, config })
    save('my', dbConfig('mysql', my))
    save('pg-src', dbConfig('postgres', pgSrc))
    save('pg-dst', dbConfig('postgres', pgDst))
    save('my-dst', dbConfig('mysql', myDst))
    save('lite', dbConfig('sqlite', lite))
    save('sftp', { kind: 'sftp', host: sshd.host, port: sshd.port, user: sshd.user, path: sshd.home, privateKey: sshd.keys.ed25519 })
    save('s3', { kind: 's3', bucket: s3.bucket, path: 'exports', endpoint: s3.endpoint, forcePathStyle: true, user: s3.accessKeyId, password: s3.secretAccessKey })
    save('ftp', { kind: 'ftp', host: ftp.host, port: ftp.port, user: ftp.user, password: ftp.password, path: '/' })
  }, 120_000)

  afterAll(async () => {
    store?.close()
    await Promise.all([sshd?.stop(), ftp?.stop(), s3?.stop()])
    await dropMysqlDb(my)
    await dropMysqlDb(myDst)
    await dropPgDb(pgSrc)
    await dropPgDb(pgDst)
    rmSync(dir, { recursive: true, force: true })
  })

  async function run(spec: Record<string, unknown>) {
    const h = startRun({ store, spec })
    const summary = await h.done
    expect(summary.error, JSON.stringify(store.dirty.list(h.runId).map((d) => d.reason))).toBeUndefined()
    expect(summary.state).toBe('succeeded')
    expect(summary.dirty).toBe(0)
    expect(summary.rowsWritten).toBe(EDGE_ROWS.length)
    return h.runId
  }

  it('MySQL -> gzip CSV on SFTP -> PostgreSQL', async () => {
    const out = await run({ reader: { connection: 'my' }, writer: { connection: 'sftp', file: { path: 'exp/${bizdate}', format: 'csv', compression: 'gzip', exportBatchRows: 2 } }, tables: [{ source: 'edge' }], setting: { speed: { channel: 1 } } })
    const files = store.exportFiles.list(out)
    expect(files.filter((f) => f.path.endsWith('.csv.gz')).map((f) => f.rows)).toEqual([2, 2])
    await createEdge('postgres', pgDst, false)
    const imp = await run({ reader: { connection: 'sftp', file: { format: 'csv' } }, writer: { connection: 'pg-dst' }, tables: [{ source: 'exp/${bizdate}/edge-*.csv.gz', target: 'edge' }] })
    // The manifest next to the parts gives the exact row count (progress, ETA).
    expect(store.runTasks.list(imp)[0]!.estimatedRows).toBe(EDGE_ROWS.length)
    await checkEdge('mysql', 'postgres', pgDst, 'CSV on SFTP', false)
    const cleaned = await cleanExportFiles(store, out)
    expect(cleaned.map((f) => f.state)).toEqual(['deleted', 'deleted', 'deleted'])
    const sftp = await storeFor(store.connections.resolveConfig('sftp'))
    try {
      expect(await sftp.stat(files[0]!.path)).toBeNull()
    } finally {
      await sftp.close()
    }
  })

  it('PostgreSQL -> Parquet on S3 -> MySQL (table created from the Parquet schema)', async () => {
    const out = await run({ reader: { connection: 'pg-src' }, writer: { connection: 's3', file: { format: 'parquet', fileName: 'edge', path: 'pq' } }, tables: [{ source: 'edge' }] })
    expect(store.exportFiles.list(out).some((f) => f.path === 'pq/edge.manifest.json')).toBe(true)
    await run({ reader: { connection: 's3' }, writer: { connection: 'my-dst' }, tables: [{ source: 'pq/edge-*.parquet', target: 'edge' }] })
    await checkEdge('postgres', 'mysql', myDst, 'Parquet on S3', true)
  })

  it('SQLite -> JSON Lines on FTP -> PostgreSQL', async () => {
    await run({ reader: { connection: 'lite' }, writer: { connection: 'ftp', file: { format: 'jsonl', path: 'jl', fileName: 'edge2' } }, tables: [{ source: 'edge' }] })
    const cl = new pg.Client({ ...PG, database: pgDst })
    await cl.connect()
    await cl.query('DROP TABLE IF EXISTS edge')
    await cl.end()
    await createEdge('postgres', pgDst, false)
    await run({ reader: { connection: 'ftp' }, writer: { connection: 'pg-dst' }, tables: [{ source: 'jl/edge2-*.jsonl', target: 'edge' }] })
    await checkEdge('sqlite', 'postgres', pgDst, 'JSON Lines on FTP', false)
  })
})
