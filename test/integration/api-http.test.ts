/**
 * The HTTP + WebSocket transport: auth, Host/Origin checks, binding, limits, static files,
 * security headers, the handler loop, connections over HTTP (never a password), connection tests
 * against the real MariaDB and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { API_METHODS, type ConnectionSummary } from '../../main/api/contract.js'
import { createHandlers } from '../../main/api/handlers.js'
import { MAX_BODY_BYTES, startServer, type RunningServer } from '../../main/api/http.js'
import { openStore, type Store } from '../../main/store/index.js'
import { apiClient, rawRequest, upgradeStatus } from '../helpers/api-client.js'
import { MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'

const mysqlReady = await serversReady('mysql')
const pgReady = await serversReady('postgres')

let dir: string
let store: Store
let server: RunningServer
let staticDir: string
const TOKEN = 'test-token-' + 'x'.repeat(32)

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-http-'))
  store = openStore({ dataDir: dir })
  staticDir = path.join(dir, 'renderer')
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true })
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Sluice test page</title>')
  writeFileSync(path.join(staticDir, 'assets', 'index-AbCd1234.js'), 'console.log("app")')
  writeFileSync(path.join(staticDir, 'assets', 'style-Zz998877.css'), 'body{}')
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the static dir')
  server = await startServer({ store, dataDir: dir, token: TOKEN, staticDir })
})

afterAll(async () => {
  await server?.close()
  store?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('auth, binding, Host and Origin', () => {
  it('listens on 127.0.0.1 only and prints the token URL', () => {
    expect(server.host).toBe('127.0.0.1')
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`)
    // /proc/net/tcp lists the listening socket with its local address (hex, little-endian on x86)
    if (existsSync('/proc/net/tcp')) {
      const portHex = server.port.toString(16).toUpperCase().padStart(4, '0')
      const listening = readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[1]?.endsWith(':' + portHex) && f[3] === '0A')
      expect(listening.map((f) => f[1])).toEqual([`0100007F:${portHex}`])
    }
  })

  it('401 without a token, with a wrong one, or another scheme; 200 with it', async () => {
    const c = apiClient(server.port, TOKEN)
    const body = '{}'
    const noAuth = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { 'Content-Type': 'application/json' }, body })
    expect(noAuth.status).toBe(401)
    expect(JSON.parse(noAuth.text)).toEqual({ ok: false, error: { name: 'HttpError', code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } })
    for (const auth of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${TOKEN}`, TOKEN, `bearer  ${TOKEN}`]) {
      const r = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { Authorization: auth }, body })
      expect(r.status, auth).toBe(401)
    }
    // unknown methods are not revealed without the token
    expect((await rawRequest(server.port, { method: 'POST', path: '/api/nope/nope', body })).status).toBe(401)
    const ok = await c.raw('app/info', {})
    expect(ok.status).toBe(200)
    const info = await c.call('app/info', {})
    expect(info).toEqual({ version: JSON.parse(readFileSync('package.json', 'utf8')).version, dataDir: dir, transport: 'http', secretScheme: 'node-aes-256-gcm', platform: process.platform })
  })

  it('WebSocket: 401 without or with a wrong token, opens with it', async () => {
    expect(await upgradeStatus(server.port, '/api/events')).toBe(401)
    expect(await upgradeStatus(server.port, '/api/events?token=wrong')).toBe(401)
    expect(await upgradeStatus(server.port, `/api/events?token=${TOKEN}x`)).toBe(401)
    expect(await upgradeStatus(server.port, `/api/events?token=${encodeURIComponent(TOKEN)}`)).toBe(101)
    expect(await upgradeStatus(server.port, `/api/other?token=${TOKEN}`)).toBe(404)
  })

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const c = apiClient(server.port, TOKEN)
    for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`, `127.0.0.1.nip.io:${server.port}`]) {
      const r = await c.raw('app/info', {}, { Host: host })
      expect(r.status, host).toBe(403)
      expect(JSON.parse(r.text).error.code).toBe('BAD_HOST')
      expect((await rawRequest(server.port, { path: '/', headers: { Host: host } })).status).toBe(403)
      expect(await upgradeStatus(server.port, `/api/events?token=${TOKEN}`, { Host: host })).toBe(403)
    }
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      expect((await c.raw('app/info', {}, { Host: host })).status, host).toBe(200)
    }
  })

  it('refuses cross-origin requests, accepts same-origin ones', async () => {
    const c = apiClient(server.port, TOKEN)
    const evil = await c.raw('app/info', {}, { Origin: 'http://evil.example' })
    expect(evil.status).toBe(403)
    expect(JSON.parse(evil.text).error.code).toBe('BAD_ORIGIN')
    expect((await c.raw('app/info', {}, { Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403)
    expect(await upgradeStatus(server.port, `/api/events?token=${TOKEN}`, { Origin: 'http://evil.example' })).toBe(403)
    expect((await c.raw('app/info', {}, { Origin: `http://127.0.0.1:${server.port}` })).status).toBe(200)
  })
})

describe('protocol', () => {
  it('404 unknown method, 405 not POST, 400 bad JSON', async () => {
    const c = apiClient(server.port, TOKEN)
    const unknown = await c.raw('connections/explode', {})
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.text).error).toEqual({ name: 'HttpError', code: 'UNKNOWN_METHOD', message: "no API method 'connections/explode'" })
    expect((await rawRequest(server.port, { path: '/api/app/info', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(405)
    const bad = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"a":' })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text).error.code).toBe('BAD_JSON')
  })

  it('413 for a body over the limit, 16 MiB (declared length and chunked)', async () => {
    expect(MAX_BODY_BYTES).toBe(16 * 1024 * 1024)
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)
    const declared = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': String(big.length) }, body: big })
    expect(declared.status).toBe(413)
    const chunked = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { Authorization: `Bearer ${TOKEN}`, 'Transfer-Encoding': 'chunked' }, body: big })
    expect(chunked.status).toBe(413)
    // exactly the limit is accepted (whitespace around {} is valid JSON)
    const edge = Buffer.alloc(MAX_BODY_BYTES, 0x20)
    edge.write('{}', 0)
    const atLimit = await rawRequest(server.port, { method: 'POST', path: '/api/app/info', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': String(edge.length) }, body: edge })
    expect(atLimit.status).toBe(200)
  })

  it('handler errors are 200 with error data', async () => {
    const c = apiClient(server.port, TOKEN)
    expect(await c.fail('connections/get', { id: 'nope' })).toEqual({ name: 'ApiError', code: 'NOT_FOUND', message: 'no connection with id "nope"', path: 'id' })
    expect(await c.fail('jobs/get', { id: '' })).toEqual({ name: 'ApiError', code: 'BAD_REQUEST', message: 'id: expected a non-empty string', path: 'id' })
    const invalid = await c.fail('runs/start', { spec: { version: 1, reader: {} } })
    expect(invalid.code).toBe('INVALID_JOB')
    expect(invalid.problems?.map((p) => p.path)).toEqual(expect.arrayContaining(['$.reader.connection', '$.writer', '$.tables']))
  })

  it('security headers on pages and API answers; no unsafe-eval', async () => {
    for (const r of [await rawRequest(server.port, { path: '/' }), await apiClient(server.port, TOKEN).raw('app/info', {})]) {
      const csp = String(r.headers['content-security-policy'])
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("worker-src 'self' blob:")
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`)
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-eval')
      expect(r.headers['x-content-type-options']).toBe('nosniff')
      expect(r.headers['referrer-policy']).toBe('no-referrer')
    }
  })
})

describe('static files', () => {
  it('serves the page without a token, assets with their types, index.html for client routes', async () => {
    const page = await rawRequest(server.port, { path: '/' })
    expect([page.status, page.headers['content-type'], page.text]).toEqual([200, 'text/html; charset=utf-8', '<!doctype html><title>Sluice test page</title>'])
    const withToken = await rawRequest(server.port, { path: `/?token=${TOKEN}` })
    expect(withToken.text).toBe(page.text)
    const js = await rawRequest(server.port, { path: '/assets/index-AbCd1234.js' })
    expect([js.status, js.headers['content-type'], js.text]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("app")'])
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    const css = await rawRequest(server.port, { path: '/assets/style-Zz998877.css' })
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    const route = await rawRequest(server.port, { path: '/runs/0190abcd/tasks' })
    expect([route.status, route.text]).toEqual([200, page.text])
    expect((await rawRequest(server.port, { path: '/assets/missing.js' })).status).toBe(404)
  })

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const r = await rawRequest(server.port, { path: p })
      expect(r.text, p).not.toContain('outside the static dir')
    }
  })
})

describe('handlers', () => {
  it('one map covers every API_METHODS entry, and every one answers over HTTP', async () => {
    const { handlers, dispose } = createHandlers({ store, dataDir: dir, version: '0', transport: 'ipc', emit: () => {} })
    expect(Object.keys(handlers).sort()).toEqual([...API_METHODS].sort())
    for (const m of API_METHODS) expect(typeof handlers[m], m).toBe('function')
    await dispose()
    const c = apiClient(server.port, TOKEN)
    for (const m of API_METHODS) {
      const r = await c.raw(m, {})
      expect(r.status, m).toBe(200)
      expect(typeof JSON.parse(r.text).ok, m).toBe('boolean')
    }
  })
})

describe('connections over HTTP', () => {
  const SECRET = 'S3cret-pw-\u00fc-' + uniq()

  it('CRUD never returns a password', async () => {
    const c = apiClient(server.port, TOKEN)
    const bodies: string[] = []
    const call = async (m: Parameters<typeof c.raw>[0], a: unknown) => {
      const r = await c.raw(m, a)
      bodies.push(r.text)
      expect(r.status).toBe(200)
      const body = JSON.parse(r.text)
      expect(body.ok, r.text).toBe(true)
      return body.result
    }
    const created: ConnectionSummary = await call('connections/create', { draft: { name: 'api mysql', config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: SECRET, database: 'x' } } })
    expect(created).toMatchObject({ name: 'api mysql', hasPassword: true, config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: 'x' } })
    expect('password' in created.config).toBe(false)
    expect(store.connections.resolveConfig(created.id).password).toBe(SECRET)
    await call('connections/list', {})
    await call('connections/get', { id: created.id })
    // update without a password keeps the saved one
    const renamed = await call('connections/update', { id: created.id, draft: { name: 'api mysql 2', config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: 'y' } } })
    expect(renamed).toMatchObject({ name: 'api mysql 2', hasPassword: true, config: { database: 'y' } })
    expect(store.connections.resolveConfig(created.id).password).toBe(SECRET)
    const dup: ConnectionSummary = await call('connections/duplicate', { id: created.id })
    expect(dup).toMatchObject({ name: 'api mysql 2 (copy)', hasPassword: true })
    await call('connections/list', {})
    // '' clears the password
    const cleared = await call('connections/update', { id: dup.id, draft: { name: dup.name, config: { kind: 'mysql', host: '127.0.0.1', password: '' } } })
    expect(cleared.hasPassword).toBe(false)
    await call('connections/delete', { id: dup.id })
    await call('connections/delete', { id: created.id })
    expect(await c.call('connections/list', {})).toEqual([])
    for (const b of bodies) {
      expect(b).not.toContain(SECRET)
      expect(b).not.toContain('S3cret')
      expect(b).not.toMatch(/"(password|privateKey|passphrase)":/) // no secret field (summaries list secret names in `secrets`)
    }
  })

  it('duplicate names answer DUPLICATE with the field', async () => {
    const c = apiClient(server.port, TOKEN)
    const a = await c.call('connections/create', { draft: { name: 'dup', config: { kind: 'sqlite', path: ':memory:' } } })
    expect(await c.fail('connections/create', { draft: { name: 'DUP', config: { kind: 'sqlite', path: ':memory:' } } })).toEqual({ name: 'StoreError', code: 'DUPLICATE', message: 'name: a connection named "DUP" already exists', path: 'name' })
    await c.call('connections/delete', { id: a.id })
  })
})

describe.skipIf(!mysqlReady)('connections/test against MariaDB', () => {
  const user = `sl_api_${uniq()}`
  const password = 'Right-' + uniq()
  let admin: mysql.Connection
  beforeAll(async () => {
    admin = await mysql.createConnection(MYSQL)
    await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password])
    await admin.query(`CREATE USER ?@'localhost' IDENTIFIED BY ?`, [user, password])
  })
  afterAll(async () => {
    await admin.query(`DROP USER IF EXISTS ?@'%'`, [user])
    await admin.query(`DROP USER IF EXISTS ?@'localhost'`, [user])
    await admin.end()
  })

  it('a saved connection: ok with the server version', async () => {
    const c = apiClient(server.port, TOKEN)
    const [[row]] = (await admin.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]]
    const saved = await c.call('connections/create', { draft: { name: 'maria ' + user, config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user, password } } })
    const r = await c.call('connections/test', { id: saved.id })
    expect(r.ok).toBe(true)
    expect(r.serverVersion).toBe(row.v)
    expect(r.serverVersion).toMatch(/MariaDB/)
    expect(r.latencyMs).toBeGreaterThan(0)
    // a draft without a password uses the saved one of `id`
    const draft = await c.call('connections/test', { id: saved.id, draft: { name: 'x', config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user } } })
    expect([draft.ok, draft.serverVersion]).toEqual([true, row.v])
    // ... and without `id` there is no password to use
    const noPw = await c.call('connections/test', { draft: { name: 'x', config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user } } })
    expect(noPw.ok).toBe(false)
    await c.call('connections/delete', { id: saved.id })
  })

  it('a wrong password: the exact driver error', async () => {
    const c = apiClient(server.port, TOKEN)
    let expected: { message: string; code: string } | undefined
    try {
      await (await mysql.createConnection({ host: MYSQL.host, port: MYSQL.port, user, password: 'wrong' })).end()
    } catch (e) {
      expected = { message: (e as Error).message, code: (e as { code: string }).code }
    }
    expect(expected?.code).toBe('ER_ACCESS_DENIED_ERROR')
    const r = await c.call('connections/test', { draft: { name: 'x', config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user, password: 'wrong' } } })
    expect(r).toMatchObject({ ok: false, code: 'ER_ACCESS_DENIED_ERROR', error: expected!.message })
    expect(r.error).toMatch(new RegExp(`^Access denied for user '${user}'@'[^']+' \\(using password: YES\\)$`))
  })
})

describe.skipIf(!pgReady)('connections/test against PostgreSQL', () => {
  it('ok with the server version; an unknown role: the exact driver error', async () => {
    const c = apiClient(server.port, TOKEN)
    const admin = new pg.Client({ ...PG, database: 'postgres' })
    await admin.connect()
    const { rows } = await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    await admin.end()
    const saved = await c.call('connections/create', { draft: { name: 'pg', config: { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, database: 'postgres' } } })
    const r = await c.call('connections/test', { id: saved.id })
    expect(r.ok).toBe(true)
    expect(r.serverVersion).toContain(`PostgreSQL ${rows[0]!.v.split(' ')[0]}`)
    // The loopback server trusts every password, so a wrong password cannot fail here; an unknown role does.
    const role = `sl_api_nobody_${uniq()}`
    let expected: { message: string; code: string } | undefined
    const direct = new pg.Client({ host: PG.host, port: PG.port, user: role, password: 'wrong', database: 'postgres' })
    try {
      await direct.connect()
    } catch (e) {
      expected = { message: (e as Error).message, code: (e as { code: string }).code }
    }
    await direct.end().catch(() => {})
    expect(expected).toEqual({ message: `role "${role}" does not exist`, code: '28000' })
    const bad = await c.call('connections/test', { draft: { name: 'x', config: { kind: 'postgres', host: PG.host, port: PG.port, user: role, password: 'wrong', database: 'postgres' } } })
    expect(bad).toMatchObject({ ok: false, code: '28000', error: expected!.message })
    await c.call('connections/delete', { id: saved.id })
  })
})
