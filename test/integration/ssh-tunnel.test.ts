/**
 * SSH tunnels for MySQL and PostgreSQL connections through a real OpenSSH sshd on loopback
 * (test/helpers/file-servers.ts): connectors through a tunnel, host key pinning and mismatch, a jump
 * host, reconnect after the SSH session was killed while idle, and a MySQL -> PostgreSQL job whose
 * reader goes through tunnels in worker-thread channels, with every sshd session process killed
 * mid-run: the channels' connection errors are retried through re-opened tunnels and the target
 * ends equal to the source.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import type { SshTunnel } from '../../main/connectors/tunnel.js'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import { parseConnectionUrl } from '../../main/connectors/url.js'
import { startRun, type RunHandle } from '../../main/engine/service.js'
import { openStore } from '../../main/store/index.js'
import { firstDifference, readAll } from '../helpers/compare.js'
import { fileServersReady, startSshd, type SshServer } from '../helpers/file-servers.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const ready = fileServersReady('sshd') && (await serversReady('mysql', 'postgres'))
const ROWS = 200_000
let sshd: SshServer
const myDb = `tun_${uniq()}`
const pgDb = `tun_${uniq()}`

const tunnel = (extra: Partial<ConnectionConfig['ssh']> = {}): NonNullable<ConnectionConfig['ssh']> => ({ host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.keys.ed25519, ...extra })
const myCfg = (ssh?: ConnectionConfig['ssh']): ConnectionConfig => ({ kind: 'mysql', ...MYSQL, database: myDb, ...(ssh ? { ssh } : {}) })
const pgCfg = (ssh?: ConnectionConfig['ssh']): ConnectionConfig => ({ kind: 'postgres', ...PG, database: pgDb, ...(ssh ? { ssh } : {}) })

beforeAll(async () => {
  if (!ready) return
  sshd = await startSshd()
  await freshMysqlDb(myDb)
  await freshPgDb(pgDb)
  const c = await mysql.createConnection({ ...MYSQL, database: myDb })
  await c.query(`CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL, at DATETIME(6) NOT NULL, note TEXT NULL)`)
  await c.query(`INSERT INTO t SELECT seq, CONCAT(ELT(1 + seq % 3, 'Widget ', '小工具 ', 'Gizmo 🚀 '), seq), ROUND((seq % 100000) / 7, 2),
    TIMESTAMP('2020-01-01 00:00:00') + INTERVAL (seq * 37) SECOND + INTERVAL (seq % 1000000) MICROSECOND, IF(seq % 3 = 0, NULL, REPEAT('n', 200 + seq % 300)) FROM seq_1_to_${ROWS}`)
  await c.end()
}, 120_000)

afterAll(async () => {
  if (!ready) return
  await sshd?.stop()
  await dropMysqlDb(myDb)
  await dropPgDb(pgDb)
})

describe.skipIf(!ready)('SSH tunnels', () => {
  it('MySQL and PostgreSQL connect through a tunnel (key auth), pinning the host key at first use', async () => {
    for (const cfg of [myCfg(tunnel()), pgCfg(tunnel({ privateKey: sshd.keys.rsaPem, passphrase: sshd.keys.passphrase }))]) {
      const c = await openConnector(cfg)
      try {
        const t = await c.test()
        expect(t.error).toBeUndefined()
        expect(t.ok).toBe(true)
        expect(t.hostKeys).toEqual({ 'ssh.hostKey': sshd.hostKey })
        expect(cfg.ssh!.hostKey).toBe(sshd.hostKey)
        // The driver talks to the tunnel's local listener, not to the database port.
        const tun = (c as unknown as { tunnel: SshTunnel }).tunnel
        expect(c.config.host).toBe('127.0.0.1')
        expect(c.config.port).toBe(tun.port)
        expect(c.config.port).not.toBe(cfg.port)
        const r = await c.query(cfg.kind === 'mysql' ? 'SELECT COUNT(*) AS n FROM t' : 'SELECT 41 + 1 AS n')
        expect(String(r.rows[0]![0])).toBe(cfg.kind === 'mysql' ? String(ROWS) : '42')
      } finally {
        await c.close()
      }
    }
    // A PKCS#8 key is converted.
    const c = await openConnector(myCfg(tunnel({ privateKey: sshd.keys.rsaPkcs8 })))
    expect((await c.test()).ok).toBe(true)
    await c.close()
  })

  it('refuses a server whose host key differs from the pinned one, naming both', async () => {
    const wrong = 'SHA256:' + Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')
    const err = await openConnector(myCfg(tunnel({ hostKey: wrong }))).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    )
    expect(err?.message).toMatch(/^ssh: ssh .*host key mismatch/)
    expect(err?.message).toContain(wrong)
    expect(err?.message).toContain(sshd.hostKey)
    expect(err?.code).toBe('HOST_KEY_MISMATCH')
    const auth = await openConnector(myCfg(tunnel({ privateKey: sshd.keys.stranger }))).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    )
    expect(auth?.code).toBe('AUTH_FAILED')
  })

  it('says when the SSH host cannot reach the database behind it', async () => {
    const c = await openConnector({ ...myCfg(tunnel()), port: 1 })
    try {
      const t = await c.test()
      expect(t.ok).toBe(false)
      expect(t.error).toMatch(/^ssh: the tunnel host cannot reach 127\.0\.0\.1:1: .*open failure/i)
    } finally {
      await c.close()
    }
  })

  it('goes through a jump host (ssh -J), pinning both host keys', async () => {
    const cfg = myCfg(tunnel({ jump: { host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.keys.ed25519 } }))
    const c = await openConnector(cfg)
    try {
      const t = await c.test()
      expect(t.ok).toBe(true)
      expect(t.hostKeys).toEqual({ 'ssh.hostKey': sshd.hostKey, 'ssh.jump.hostKey': sshd.hostKey })
      expect(cfg.ssh!.jump!.hostKey).toBe(sshd.hostKey)
      expect(String((await c.query('SELECT 1 AS one')).rows[0]![0])).toBe('1')
    } finally {
      await c.close()
    }
  })

  it('re-opens the SSH session after it was dropped while idle', { timeout: 30_000 }, async () => {
    for (const cfg of [myCfg(tunnel()), pgCfg(tunnel())]) {
      const c = await openConnector(cfg)
      try {
        expect(String((await c.query('SELECT 1 AS one')).rows[0]![0])).toBe('1')
        const tun = (c as unknown as { tunnel: SshTunnel }).tunnel
        expect(tun.sessions).toBe(1)
        expect(sshd.killSessions()).toBeGreaterThan(0)
        await new Promise((r) => setTimeout(r, 500))
        // The pooled connection died with the session; a query that fails on it is a connection
        // error (retried by the engine); the next one goes through a re-opened session.
        let ok = false
        for (let i = 0; i < 3 && !ok; i++) ok = await c.query('SELECT 2 AS two').then((r) => String(r.rows[0]![0]) === '2', () => false)
        expect(ok).toBe(true)
        expect(tun.sessions).toBe(2)
      } finally {
        await c.close()
      }
    }
  })

  it('a PostgreSQL -> MySQL job with both sides through SSH tunnels (saved connections, key + passphrase) moves every row', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-tunnel-pg-'))
    const store = openStore({ dataDir })
    const pg0 = await openConnector(pgCfg())
    try {
      await pg0.execute([
        'DROP TABLE IF EXISTS src',
        'CREATE TABLE src (id bigint PRIMARY KEY, label text NOT NULL, amount numeric(38,10), at timestamptz)',
        `INSERT INTO src SELECT g, 'row ' || g || ' 数据', g * 1.0000000001, timestamptz '2026-01-01 00:00:00+08' + g * interval '1 second' FROM generate_series(1, 5000) g`,
      ])
      const key = { privateKey: sshd.keys.rsaPem, passphrase: sshd.keys.passphrase }
      store.connections.create({ name: 'pg-ssh', config: pgCfg(tunnel(key)) })
      store.connections.create({ name: 'my-ssh', config: myCfg(tunnel(key)) })
      const h = startRun({
        store,
        spec: { version: 1, reader: { connection: 'pg-ssh' }, writer: { connection: 'my-ssh', createTable: true, truncate: true }, tables: [{ source: 'src', target: 'from_pg' }], setting: { speed: { channel: 2 } } },
      })
      const s = await h.done
      expect(s.error).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(5000)
      // Both saved connections got their tunnel host key pinned at first use.
      expect(store.connections.getByName('pg-ssh')!.config.ssh?.hostKey).toBe(sshd.hostKey)
      expect(store.connections.getByName('my-ssh')!.config.ssh?.hostKey).toBe(sshd.hostKey)
      const my = await openConnector(myCfg())
      try {
        const x = await readAll(pg0, 'src')
        const y = await readAll(my, 'from_pg')
        expect(y.rows.length).toBe(5000)
        // (MySQL's TIMESTAMP in a UTC session: the instant as UTC wall-clock time.)
        expect(y.rows[0]).toEqual([1, 'row 1 数据', '1.0000000001', '2025-12-31 16:00:01'])
        expect(x.rows.length).toBe(5000)
      } finally {
        await my.close()
      }
    } finally {
      await pg0.close()
      store.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('a MySQL -> PostgreSQL job reading through tunnels in worker channels survives every sshd session being killed mid-run', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-tunnel-'))
    const store = openStore({ dataDir })
    const prevMode = process.env.SLUICE_CHANNEL_MODE
    process.env.SLUICE_CHANNEL_MODE = 'worker'
    let h: RunHandle | undefined
    try {
      // The reader as a URL, the way `sluice run` takes it: ?ssh=user@host:port&sshKeyFile=...
      const url = `mysql://${MYSQL.user}${MYSQL.password ? ':' + MYSQL.password : ''}@${MYSQL.host}:${MYSQL.port}/${myDb}?ssh=${sshd.user}@${sshd.host}:${sshd.port}&sshKeyFile=${encodeURIComponent(sshd.keyFiles.ed25519)}`
      expect(parseConnectionUrl(url).ssh).toMatchObject({ host: sshd.host, port: sshd.port, user: sshd.user })
      let written = 0
      const logs: string[] = []
      h = startRun({
        store,
        onEvent: (e) => {
          if (e.type === 'run/progress') written = e.rowsWritten
          if (e.type === 'run/log') logs.push(e.message)
        },
        spec: {
          version: 1,
          reader: { connection: url },
          writer: { connection: `postgres://${PG.user}${PG.password ? ':' + PG.password : ''}@${PG.host}:${PG.port}/${pgDb}`, createTable: true, truncate: true },
          tables: [{ source: 't', target: 't' }],
          // Throttled so the run lasts a few seconds, in small batches: the kill lands mid-split.
          setting: { speed: { channel: 2, record: 40_000 }, batchBytes: 65_536 },
        },
      })
      const t0 = Date.now()
      while (written < 30_000 && Date.now() - t0 < 60_000 && store.runs.get(h.runId)!.state === 'running') await new Promise((r) => setTimeout(r, 20))
      expect(store.runs.get(h.runId)!.state).toBe('running')
      expect(written).toBeLessThan(ROWS)
      const killed = sshd.killSessions()
      expect(killed).toBeGreaterThan(0)
      const s = await h.done
      expect(s.error, logs.join('\n')).toBeUndefined()
      expect(s.state).toBe('succeeded')
      expect(s.rowsWritten).toBe(ROWS)
      expect(logs.some((m) => /worker threads/.test(m)), logs.join('\n')).toBe(true)
      expect(logs.some((m) => /transient; retry/.test(m)), logs.join('\n')).toBe(true)
    } finally {
      if (prevMode === undefined) delete process.env.SLUICE_CHANNEL_MODE
      else process.env.SLUICE_CHANNEL_MODE = prevMode
      h?.cancel()
      await h?.done.catch(() => undefined)
      store.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
    const a = await openConnector(myCfg())
    const b = await openConnector(pgCfg())
    try {
      const x = await readAll(a, 't')
      const y = await readAll(b, 't')
      expect(y.rows.length).toBe(ROWS)
      expect(firstDifference(x.columns, x.rows, y.rows)).toBeUndefined()
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
