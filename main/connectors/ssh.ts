/**
 * SSH sessions shared by the SFTP store (stores/sftp.ts) and SSH tunnels (tunnel.ts): private key
 * reading (OpenSSH, PEM PKCS#1/SEC1, and PKCS#8 converted), host key pinning, and errors that say
 * which host and what went wrong.
 *
 * Host keys are identified by their SHA-256 fingerprint in OpenSSH's notation, `SHA256:` followed by
 * the unpadded base64 of SHA-256 over the key blob (what `ssh-keygen -lf key.pub` prints), so a user
 * can compare it with the server's `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { ConnectConfig } from 'ssh2'
import type { SshHop } from './types.js'

const { Client, utils } = ssh2

/** The OpenSSH SHA-256 fingerprint of a host key blob: `SHA256:<unpadded base64>`. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

/** Thrown when a server presents a host key other than the pinned one. `code` = `HOST_KEY_MISMATCH`. */
export class HostKeyMismatchError extends Error {
  override name = 'HostKeyMismatchError'
  readonly code = 'HOST_KEY_MISMATCH'
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${where}: host key mismatch: the connection pins ${expected} but the server presented ${actual}. ` +
        `This is either a man-in-the-middle or a re-installed server; if the server's key changed on purpose, ` +
        `clear the pinned host key of the connection and connect again to pin the new one`,
    )
  }
}

/**
 * Make a private key readable by ssh2. OpenSSH (`BEGIN OPENSSH PRIVATE KEY`) and PEM
 * (`BEGIN RSA/EC/DSA PRIVATE KEY`, optionally encrypted) keys pass as they are; PKCS#8 keys
 * (`BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`), which ssh2 cannot read, are decrypted with
 * `passphrase` and converted: RSA to PKCS#1 PEM, ECDSA to SEC1 PEM, Ed25519 to the OpenSSH format.
 *
 * @param field the config path named in errors (`privateKey`, `ssh.privateKey`).
 * @throws Error naming `field` for an unreadable key, a missing or wrong passphrase, or an
 *   unsupported key type.
 */
export function readPrivateKey(text: string, passphrase: string | undefined, field: string): { privateKey: Buffer; passphrase?: string } {
  const pem = text.trim() + '\n'
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    let key
    try {
      key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) })
    } catch (e) {
      const encrypted = pem.includes('ENCRYPTED')
      throw new Error(
        `${field}: cannot read the PKCS#8 private key: ${encrypted && !passphrase ? 'it is encrypted and no passphrase was given' : (e as Error).message}`,
      )
    }
    switch (key.asymmetricKeyType) {
      case 'rsa':
        return { privateKey: Buffer.from(key.export({ type: 'pkcs1', format: 'pem' }) as string) }
      case 'ec':
        return { privateKey: Buffer.from(key.export({ type: 'sec1', format: 'pem' }) as string) }
      case 'ed25519': {
        const jwk = key.export({ format: 'jwk' }) as { d: string; x: string }
        return { privateKey: openSshEd25519(Buffer.from(jwk.d, 'base64url'), Buffer.from(jwk.x, 'base64url')) }
      }
      default:
        throw new Error(`${field}: a PKCS#8 ${key.asymmetricKeyType} key cannot be used for SSH (RSA, ECDSA and Ed25519 can)`)
    }
  }
  const parsed = utils.parseKey(Buffer.from(pem), passphrase)
  if (parsed instanceof Error) {
    const msg = /no passphrase/i.test(parsed.message)
      ? 'the key is encrypted and no passphrase was given'
      : /bad passphrase|integrity check|decrypt/i.test(parsed.message)
        ? 'wrong passphrase'
        : parsed.message
    throw new Error(`${field}: cannot read the private key: ${msg} (OpenSSH, PEM and PKCS#8 keys are read)`)
  }
  return { privateKey: Buffer.from(pem), ...(passphrase ? { passphrase } : {}) }
}

/** An unencrypted `openssh-key-v1` file for an Ed25519 key (PROTOCOL.key in OpenSSH's sources). */
function openSshEd25519(seed: Buffer, pub: Buffer): Buffer {
  const str = (b: Buffer | string): Buffer => {
    const v = typeof b === 'string' ? Buffer.from(b) : b
    const len = Buffer.alloc(4)
    len.writeUInt32BE(v.length)
    return Buffer.concat([len, v])
  }
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)])
  const check = randomBytes(4).readUInt32BE()
  let priv = Buffer.concat([u32(check), u32(check), str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str('')])
  const pad: number[] = []
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i)
  priv = Buffer.concat([priv, Buffer.from(pad)])
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(priv)])
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n')
  return Buffer.from(`-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`)
}

/** Options of {@link connectSsh}. */
export interface SshConnectOptions {
  /** Config path of the hop for messages and pins (`` for an SFTP connection, `ssh`, `ssh.jump`). */
  field: string
  /** Called with the fingerprint when the hop had none pinned (trust on first use). */
  onFirstHostKey?: (fingerprint: string) => void
  /** An established stream to run SSH over (a jump host's forwarded channel) instead of TCP. */
  sock?: Duplex
  /** Connect (TCP + handshake + auth) timeout in ms (default 20,000). */
  readyTimeoutMs?: number
  /** Keepalive interval in ms (0 = none); 3 missed keepalives end the session. */
  keepaliveMs?: number
}

/** An authenticated SSH session and the fingerprint of the host key it accepted. */
export interface SshSession {
  client: InstanceType<typeof Client>
  hostKey: string
}

/**
 * Open an authenticated SSH session to `hop`. The host key is checked against `hop.hostKey` when
 * set (a mismatch rejects with {@link HostKeyMismatchError}), otherwise accepted and reported to
 * `onFirstHostKey`.
 * @throws Error naming the hop (`ssh root@10.0.0.5:22`) with ssh2's message: refused, timeout,
 *   authentication failed (with the methods tried), unreadable key.
 */
export function connectSsh(hop: SshHop, opts: SshConnectOptions): Promise<SshSession> {
  const where = `${opts.field ? opts.field + ': ' : ''}ssh ${hop.user}@${hop.host}:${hop.port ?? 22}`
  const pre = opts.field ? opts.field + '.' : ''
  const cfg: ConnectConfig = {
    host: hop.host,
    port: hop.port ?? 22,
    username: hop.user,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    keepaliveInterval: opts.keepaliveMs ?? 0,
    keepaliveCountMax: 3,
  }
  if (opts.sock) cfg.sock = opts.sock
  if (hop.privateKey) Object.assign(cfg, readPrivateKey(hop.privateKey, hop.passphrase, `${pre}privateKey`))
  if (hop.password) cfg.password = hop.password
  if (!hop.privateKey && hop.password === undefined) throw new Error(`${where}: give a password or a private key`)
  return new Promise((resolve, reject) => {
    const client = new Client()
    let seen = ''
    let mismatch: HostKeyMismatchError | undefined
    cfg.hostVerifier = (key: Buffer): boolean => {
      seen = fingerprint(key)
      if (hop.hostKey && hop.hostKey !== seen) {
        mismatch = new HostKeyMismatchError(where, hop.hostKey, seen)
        return false
      }
      return true
    }
    const fail = (e: Error & { level?: string; code?: string }): void => {
      client.removeAllListeners('ready')
      client.end()
      if (mismatch) return reject(mismatch)
      const hint = e.level === 'client-authentication' ? ` (authentication failed${hop.privateKey ? ' with the private key' : ''}${hop.password ? ' with the password' : ''})` : ''
      const err = new Error(`${where}: ${e.message}${hint}`) as Error & { code?: string }
      err.code = e.code ?? (e.level === 'client-authentication' ? 'AUTH_FAILED' : e.level === 'client-timeout' ? 'ETIMEDOUT' : undefined)
      reject(err)
    }
    client.once('error', fail)
    client.once('ready', () => {
      client.removeListener('error', fail)
      // Errors after the handshake (a dropped session) surface as 'close'; owners listen to that.
      client.on('error', () => {})
      if (!hop.hostKey) opts.onFirstHostKey?.(seen)
      resolve({ client, hostKey: seen })
    })
    try {
      client.connect(cfg)
    } catch (e) {
      fail(e as Error)
    }
  })
}
