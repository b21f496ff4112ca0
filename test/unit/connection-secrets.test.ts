/**
 * Connection kinds without servers: URLs of the file kinds and SSH tunnels, every secret of a
 * connection (passwords, private keys, passphrases, also the tunnel's and its jump host's)
 * encrypted at rest and kept / replaced / cleared by `update`, host keys pinned on the saved
 * connection, PKCS#8 keys converted for ssh2, and connections saved before file stores still read.
 */
import Database from 'better-sqlite3'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { inspect } from 'node:util'
import ssh2 from 'ssh2'
import { afterAll, describe, expect, it } from 'vitest'
import { readPrivateKey, fingerprint } from '../../main/connectors/ssh.js'
import { pinHostKey, PIN_HOST_KEY, type ConnectionConfig } from '../../main/connectors/types.js'
import { describeConnection, isConnectionUrl, maskUrl, parseConnectionUrl } from '../../main/connectors/url.js'
import { openStore } from '../../main/store/index.js'
import { tempDir } from './store-fixtures.js'

const root = tempDir('conn-secrets')
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('connection URLs of the file kinds and SSH tunnels', () => {
  it('parses file, ftp, ftps, sftp and s3 URLs', () => {
    for (const u of ['file:///x', 'ftp://h', 'ftps://h', 'sftp://u@h', 's3://b']) expect(isConnectionUrl(u)).toBe(true)
    expect(parseConnectionUrl('ftp://bob:s%20cret@10.0.0.5/in/${YYYYMMDD}?passive=false')).toEqual({
      kind: 'ftp',
      host: '10.0.0.5',
      port: 21,
      user: 'bob',
      password: 's cret',
      path: '/in/${YYYYMMDD}',
      passive: false,
    })
    expect(parseConnectionUrl('sftp://deploy@files.example.com:2222/srv/out?hostKey=SHA256:abc')).toEqual({
      kind: 'sftp',
      host: 'files.example.com',
      port: 2222,
      user: 'deploy',
      path: '/srv/out',
      hostKey: 'SHA256:abc',
    })
    expect(parseConnectionUrl('s3://AKIA1:se%2Fcret@my-bucket/exports/daily')).toEqual({ kind: 's3', bucket: 'my-bucket', user: 'AKIA1', password: 'se/cret', path: 'exports/daily' })
    expect(maskUrl('s3://AKIA1:secret@my-bucket/x')).toBe('s3://AKIA1:***@my-bucket/x')
    expect(() => parseConnectionUrl('file://server/share')).toThrow(/local folder/)
    expect(() => parseConnectionUrl('s3:///prefix')).toThrow(/missing the bucket/)
  })

  it('parses an SSH tunnel on a database URL, reading the key file', () => {
    const key = path.join(root, 'id_test')
    writeFileSync(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n')
    const c = parseConnectionUrl(`mysql://root@10.1.2.3:3306/db?ssh=ops@bastion:2200&sshKeyFile=${encodeURIComponent(key)}&sshHostKey=SHA256:zz&sshJump=j:pw@jump.example`)
    expect(c.ssh).toEqual({
      host: 'bastion',
      port: 2200,
      user: 'ops',
      privateKey: readFileSync(key, 'utf8'),
      hostKey: 'SHA256:zz',
      jump: { host: 'jump.example', port: 22, user: 'j', password: 'pw', privateKey: readFileSync(key, 'utf8') },
    })
    expect(describeConnection(c)).toBe('mysql://root@10.1.2.3:3306/db?ssh=ops@bastion:2200')
    expect(() => parseConnectionUrl('postgres://h/db?ssh=bastion')).toThrow(/ssh: expected user\[:password\]@host\[:port\]/)
    expect(() => parseConnectionUrl(`postgres://h/db?ssh=a@b&sshKeyFile=${encodeURIComponent(path.join(root, 'missing'))}`)).toThrow(/sshKeyFile: cannot read the private key file/)
  })
})

describe('secrets of saved connections', () => {
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END OPENSSH PRIVATE KEY-----\n'
  const base: ConnectionConfig = {
    kind: 'postgres',
    host: 'db.internal',
    port: 5432,
    user: 'app',
    password: 'db-Pw-1',
    ssh: { host: 'bastion', user: 'ops', privateKey: KEY, passphrase: 'ssh-Pass-2', jump: { host: 'jump', user: 'j', password: 'jump-Pw-3' } },
  }

  it('encrypts every secret, returns none, restores all for connecting, keeps/replaces/clears them on update', () => {
    const dataDir = tempDir('conn-secrets-db')
    const store = openStore({ dataDir })
    try {
      const c = store.connections.create({ name: 'pg via ssh', config: base })
      expect(c.secrets.sort()).toEqual(['password', 'ssh.jump.password', 'ssh.passphrase', 'ssh.privateKey'])
      expect(c.hasPassword).toBe(true)
      expect(c.config).toEqual({ kind: 'postgres', host: 'db.internal', port: 5432, user: 'app', ssh: { host: 'bastion', user: 'ops', jump: { host: 'jump', user: 'j' } } })
      const full = store.connections.resolveConfig(c.id)
      expect(full.password).toBe('db-Pw-1')
      expect(full.ssh).toEqual(base.ssh)
      const shown = JSON.stringify(full) + inspect(full)
      for (const s of ['db-Pw-1', 'ssh-Pass-2', 'jump-Pw-3', 'QUJDREVG']) expect(shown).not.toContain(s)
      // structuredClone (postMessage to a worker) keeps the secrets, drops the pin hook.
      const clone = structuredClone(full)
      expect(clone.ssh?.passphrase).toBe('ssh-Pass-2')
      expect((clone as { [PIN_HOST_KEY]?: unknown })[PIN_HOST_KEY]).toBeUndefined()

      // Update without secrets keeps them; '' clears one; a value replaces one.
      const pub = store.connections.get(c.id)!.config as ConnectionConfig
      store.connections.update(c.id, { config: { ...pub, port: 6432 } })
      expect(store.connections.resolveConfig(c.id).ssh?.privateKey).toBe(KEY)
      store.connections.update(c.id, { config: { ...pub, ssh: { ...pub.ssh!, passphrase: '', password: 'new-ssh-Pw' } } })
      const after = store.connections.resolveConfig(c.id)
      expect(after.ssh?.passphrase).toBeUndefined()
      expect(after.ssh?.password).toBe('new-ssh-Pw')
      expect(after.ssh?.privateKey).toBe(KEY)
      expect(after.password).toBe('db-Pw-1')
      // Removing the tunnel drops its secrets.
      const { ssh: _ssh, ...noSsh } = pub
      const plain = store.connections.update(c.id, { config: noSsh as ConnectionConfig })
      expect(plain.secrets).toEqual(['password'])
      expect(store.connections.resolveConfig(c.id).ssh).toBeUndefined()
    } finally {
      store.close()
    }
    const raw = Buffer.concat(readdirSync(dataDir).filter((f) => f.startsWith('sluice.db')).map((f) => readFileSync(path.join(dataDir, f))))
    for (const s of ['db-Pw-1', 'ssh-Pass-2', 'jump-Pw-3', 'new-ssh-Pw', 'QUJDREVG']) expect(raw.includes(Buffer.from(s))).toBe(false)
  })

  it('pins a host key seen at first use on the saved connection, never over an existing pin', () => {
    const store = openStore({ dataDir: tempDir('conn-pin') })
    try {
      const c = store.connections.create({ name: 'sftp', config: { kind: 'sftp', host: 'h', user: 'u', password: 'pw' } })
      const cfg = store.connections.resolveConfig(c.id)
      pinHostKey(cfg, 'hostKey', 'SHA256:first')
      expect(cfg.hostKey).toBe('SHA256:first')
      expect(store.connections.get(c.id)!.config.hostKey).toBe('SHA256:first')
      store.connections.pinHostKey(c.id, 'hostKey', 'SHA256:other')
      expect(store.connections.get(c.id)!.config.hostKey).toBe('SHA256:first')
      expect(store.connections.resolveConfig(c.id).password).toBe('pw')
      expect(() => store.connections.pinHostKey(c.id, 'ssh.hostKey', 'SHA256:x')).toThrow(/no such host key setting/)
    } finally {
      store.close()
    }
  })

  it('reads a connection saved before file stores (a bare encrypted password)', () => {
    const dataDir = tempDir('conn-legacy')
    let store = openStore({ dataDir })
    const c = store.connections.create({ name: 'maria', config: { kind: 'mysql', host: 'h', user: 'root', password: 'only-Pw' } })
    store.close()
    // The row layout of that time: config without `_secrets`, the password itself encrypted.
    const db = new Database(path.join(dataDir, 'sluice.db'))
    expect(JSON.parse((db.prepare('SELECT config FROM connections WHERE id = ?').get(c.id) as { config: string }).config)._secrets).toEqual(['password'])
    db.prepare('UPDATE connections SET config = ? WHERE id = ?').run(JSON.stringify({ kind: 'mysql', host: 'h', user: 'root' }), c.id)
    db.close()
    store = openStore({ dataDir })
    try {
      expect(store.connections.get(c.id)!.secrets).toEqual(['password'])
      expect(store.connections.get(c.id)!.config).toEqual({ kind: 'mysql', host: 'h', user: 'root' })
      expect(store.connections.resolveConfig(c.id).password).toBe('only-Pw')
    } finally {
      store.close()
    }
  })
})

describe('SSH private keys', () => {
  it('converts PKCS#8 RSA, ECDSA and Ed25519 keys into keys ssh2 reads, and names the field on errors', () => {
    for (const type of ['rsa', 'ec', 'ed25519'] as const) {
      const { privateKey, publicKey } =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : type === 'ec'
            ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
            : generateKeyPairSync('ed25519')
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
      const out = readPrivateKey(pem, undefined, 'ssh.privateKey')
      const parsed = ssh2.utils.parseKey(out.privateKey)
      expect(parsed instanceof Error ? parsed.message : 'ok').toBe('ok')
      // Same key: the public half ssh2 derives equals the SSH blob of Node's public key.
      expect(fingerprint((parsed as { getPublicSSH(): Buffer }).getPublicSSH())).toBe(fingerprint(sshPublicBlob(publicKey)))
      // Encrypted PKCS#8: needs the passphrase.
      const enc = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p4ss' }) as string
      expect(() => readPrivateKey(enc, undefined, 'ssh.privateKey')).toThrow(/ssh\.privateKey: cannot read the PKCS#8 private key: it is encrypted and no passphrase was given/)
      expect(ssh2.utils.parseKey(readPrivateKey(enc, 'p4ss', 'ssh.privateKey').privateKey) instanceof Error).toBe(false)
    }
    expect(() => readPrivateKey('not a key', undefined, 'privateKey')).toThrow(/^privateKey: cannot read the private key/)
  })
})

/** The SSH wire form of a public key (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4), from Node's JWK. */
function sshPublicBlob(k: KeyObject): Buffer {
  const str = (b: Buffer | string): Buffer => {
    const v = typeof b === 'string' ? Buffer.from(b) : b
    const n = Buffer.alloc(4)
    n.writeUInt32BE(v.length)
    return Buffer.concat([n, v])
  }
  const mpint = (b: Buffer): Buffer => str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
  const j = k.export({ format: 'jwk' }) as { kty: string; n?: string; e?: string; x?: string; y?: string; crv?: string }
  const b64 = (s: string) => Buffer.from(s, 'base64url')
  if (j.kty === 'RSA') return Buffer.concat([str('ssh-rsa'), mpint(b64(j.e!)), mpint(b64(j.n!))])
  if (j.kty === 'EC') return Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(Buffer.concat([Buffer.from([4]), b64(j.x!), b64(j.y!)]))])
  return Buffer.concat([str('ssh-ed25519'), str(b64(j.x!))])
}
