import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore, StoreError, type SecretBox } from '../../main/store/index.js'
import { NodeSecretBox } from '../../main/store/secrets.js'
import { tempDir } from './store-fixtures.js'

const root = tempDir('secrets')
afterAll(() => rmSync(root, { recursive: true, force: true }))

const PASSWORD = 'Zq8-unique-p@ssw0rd-7c1e'

function caught(fn: () => unknown): StoreError {
  try {
    fn()
  } catch (e) {
    return e as StoreError
  }
  throw new Error('expected an error')
}

/** A box with another scheme (stands in for Electron safeStorage). */
const otherBox: SecretBox = {
  scheme: 'electron-safeStorage',
  encrypt: (s) => Buffer.from(s, 'utf8').reverse(),
  decrypt: (b) => Buffer.from(b).reverse().toString('utf8'),
}

describe('NodeSecretBox', () => {
  it('round-trips with a random IV per secret and a versioned header', () => {
    const box = new NodeSecretBox({ key: randomBytes(32) })
    const a = box.encrypt('s3cret ✓')
    const b = box.encrypt('s3cret ✓')
    expect(a.equals(b)).toBe(false)
    expect(a.subarray(0, 5).toString('latin1')).toBe('SLSB\u0001')
    expect(a.length).toBe(4 + 1 + 8 + 12 + Buffer.byteLength('s3cret ✓') + 16)
    expect(box.decrypt(a)).toBe('s3cret ✓')
    expect(box.decrypt(box.encrypt(''))).toBe('')
  })

  it('detects tampering and a different key with clear errors', () => {
    const box = new NodeSecretBox({ key: randomBytes(32) })
    const blob = box.encrypt('x')
    blob[blob.length - 20] ^= 1
    const e1 = caught(() => box.decrypt(blob))
    expect(e1.code).toBe('SECRET_UNREADABLE')
    expect(e1.message).toBe('the secret failed its integrity check (corrupted or tampered with)')
    const e2 = caught(() => new NodeSecretBox({ key: randomBytes(32) }).decrypt(box.encrypt('x')))
    expect(e2.code).toBe('SECRET_UNREADABLE')
    expect(e2.message).toBe('the secret was encrypted with a different master key than the one in use (the given key)')
    expect(caught(() => box.decrypt(Buffer.from('not ours at all, really not'))).code).toBe('SECRET_SCHEME_MISMATCH')
  })

  it('reads SLUICE_MASTER_KEY and refuses a malformed one without echoing it', () => {
    const key = randomBytes(32)
    const env = { SLUICE_MASTER_KEY: key.toString('base64') }
    const blob = new NodeSecretBox({ env }).encrypt('pw')
    expect(new NodeSecretBox({ key }).decrypt(blob)).toBe('pw')
    const bad = caught(() => new NodeSecretBox({ env: { SLUICE_MASTER_KEY: 'c2hvcnQ=' } }).encrypt('pw'))
    expect(bad.code).toBe('MASTER_KEY')
    expect(bad.message).toBe('SLUICE_MASTER_KEY: the master key decodes to 5 bytes, AES-256 needs 32')
    expect(bad.message).not.toContain('c2hvcnQ=')
  })

  it('creates master.key (0600) on first encrypt only, and never leaks the key', () => {
    const dataDir = tempDir('keyfile')
    const box = new NodeSecretBox({ dataDir, env: {} })
    const file = path.join(dataDir, 'master.key')
    expect(caught(() => box.decrypt(new NodeSecretBox({ key: randomBytes(32) }).encrypt('x'))).code).toBe('MASTER_KEY')
    expect(existsSync(file)).toBe(false)
    const blob = box.encrypt('pw')
    expect(existsSync(file)).toBe(true)
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600)
    const keyText = readFileSync(file, 'utf8').trim()
    expect(Buffer.from(keyText, 'base64').length).toBe(32)
    // A second box on the same dir reads the same key.
    expect(new NodeSecretBox({ dataDir, env: {} }).decrypt(blob)).toBe('pw')
    expect(JSON.stringify(box)).toBe(JSON.stringify({ scheme: 'node-aes-256-gcm', keySource: file }))
    expect(inspect(box, { showHidden: true, depth: 5 })).not.toContain(keyText)
    rmSync(dataDir, { recursive: true, force: true })
  })
})

describe('passwords in the store', () => {
  it('never reach the DB file or the WAL, and decrypt back', () => {
    const dataDir = tempDir('db')
    const s = openStore({ dataDir, secretBox: undefined })
    const c = s.connections.create({ name: 'prod', config: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: PASSWORD } })
    s.connections.update(c.id, { config: { kind: 'mysql', host: 'db.local', user: 'root', password: PASSWORD + '2' } })
    s.connections.duplicate(c.id)
    const wal = s.file + '-wal'
    expect(existsSync(wal)).toBe(true)
    for (const f of [s.file, wal]) {
      const bytes = readFileSync(f)
      expect(bytes.includes(Buffer.from('db.local'))).toBe(f === wal) // sanity: the WAL does hold the row
      expect(bytes.includes(Buffer.from('unique-p@ssw0rd'))).toBe(false)
      expect(bytes.includes(Buffer.from('unique-p@ssw0rd', 'utf16le'))).toBe(false)
      expect(bytes.includes(Buffer.from(PASSWORD).toString('base64').slice(0, 16))).toBe(false)
    }
    expect(s.connections.resolveConfig('prod').password).toBe(PASSWORD + '2')
    expect(s.connections.resolveConfig('prod (copy)').password).toBe(PASSWORD + '2')
    s.close()
    const bytes = readFileSync(s.file)
    expect(bytes.includes(Buffer.from('db.local'))).toBe(true) // checkpointed into the main file on close
    expect(bytes.includes(Buffer.from('unique-p@ssw0rd'))).toBe(false)
    if (process.platform !== 'win32') expect(statSync(s.file).mode & 0o777).toBe(0o600)
    const s2 = openStore({ dataDir })
    expect(s2.connections.resolveConfig(c.id).password).toBe(PASSWORD + '2')
    s2.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('gives a clear error with the wrong master key', () => {
    const dataDir = tempDir('wrongkey')
    const s = openStore({ dataDir, secretBox: new NodeSecretBox({ key: randomBytes(32) }) })
    s.connections.create({ name: 'pg', config: { kind: 'postgres', host: 'h', password: PASSWORD } })
    s.close()
    const s2 = openStore({ dataDir, secretBox: new NodeSecretBox({ key: randomBytes(32) }) })
    const e = caught(() => s2.connections.resolveConfig('pg'))
    expect(e).toBeInstanceOf(StoreError)
    expect(e.code).toBe('SECRET_UNREADABLE')
    expect(e.path).toBe('password')
    expect(e.message).toBe('connection "pg": cannot decrypt the saved password: the secret was encrypted with a different master key than the one in use (the given key)')
    // get() still works and reports a saved password.
    expect(s2.connections.getByName('pg')!.hasPassword).toBe(true)
    s2.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('gives a clear error when the secret was written by another scheme', () => {
    const dataDir = tempDir('scheme')
    const s = openStore({ dataDir, secretBox: otherBox })
    s.connections.create({ name: 'desk', config: { kind: 'postgres', password: PASSWORD } })
    expect(s.connections.resolveConfig('desk').password).toBe(PASSWORD)
    s.close()
    const s2 = openStore({ dataDir })
    const e = caught(() => s2.connections.resolveConfig('desk'))
    expect(e.code).toBe('SECRET_SCHEME_MISMATCH')
    expect(e.path).toBe('password')
    expect(e.message).toBe(
      'connection "desk": its password was saved with electron-safeStorage and this process uses node-aes-256-gcm; open it where it was saved, or enter the password again',
    )
    // Re-entering the password under the new scheme fixes it.
    s2.connections.update(s2.connections.getByName('desk')!.id, { config: { kind: 'postgres', password: 'new' } })
    expect(s2.connections.resolveConfig('desk').password).toBe('new')
    s2.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps the password out of summaries, JSON and inspect, but not out of structuredClone', () => {
    const dataDir = tempDir('redact')
    const s = openStore({ dataDir, secretBox: otherBox })
    const c = s.connections.create({ name: 'x', config: { kind: 'mysql', user: 'u', password: PASSWORD } })
    expect(JSON.stringify(c)).not.toContain(PASSWORD)
    expect(JSON.stringify(s.connections.list())).not.toContain(PASSWORD)
    expect(c).toEqual({ id: c.id, name: 'x', config: { kind: 'mysql', user: 'u' }, hasPassword: true, secrets: ['password'], createdAt: c.createdAt, updatedAt: c.updatedAt })
    const full = s.connections.resolveConfig(c.id)
    expect(JSON.stringify(full)).toBe('{"kind":"mysql","user":"u","password":"***"}')
    expect(inspect(full)).not.toContain(PASSWORD)
    expect(`${inspect({ nested: full })}`).not.toContain(PASSWORD)
    expect(structuredClone(full)).toEqual({ kind: 'mysql', user: 'u', password: PASSWORD })
    expect({ ...full }.password).toBe(PASSWORD)
    s.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
})
