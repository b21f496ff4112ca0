/**
 * Encryption of secrets (connection passwords) at rest in the state DB.
 *
 * The store calls a {@link SecretBox}; it never sees key material. Two implementations exist:
 *
 * - On the desktop, the Electron shell passes one backed by `safeStorage`, which encrypts with a
 *   key kept by the OS (macOS Keychain, Windows DPAPI, libsecret/kwallet on Linux):
 *   `{ encrypt: (s) => safeStorage.encryptString(s), decrypt: (b) => safeStorage.decryptString(b), scheme: 'electron-safeStorage' }`.
 *   (On Linux without a keyring Electron falls back to a fixed key, `safeStorage.getSelectedStorageBackend() === 'basic_text'`;
 *   the shell should warn about that.)
 * - Everywhere else (CLI, `sluice serve`, tests) {@link NodeSecretBox}: AES-256-GCM with a key from
 *   `SLUICE_MASTER_KEY` or `<dataDir>/master.key`.
 *
 * Honest limits of {@link NodeSecretBox} with a key file: it protects passwords against someone who
 * gets the DB file alone (a copied `sluice.db`, a backup, a bug report). It does NOT protect against
 * anyone who can read the whole data dir, since `master.key` sits beside the DB: they can decrypt
 * everything. Keeping the key in `SLUICE_MASTER_KEY` (from a secret manager) instead moves the key
 * out of the data dir. The OS keychain (desktop) is the stronger option.
 *
 * The store records `scheme` with every secret, so a DB written by one scheme and opened with
 * another fails with a clear `SECRET_SCHEME_MISMATCH` instead of garbage. Plain text never appears in
 * errors, logs or serialised objects: no method here includes it in a message, and the key lives
 * in a private field (invisible to `JSON.stringify` and `util.inspect`).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'
import { StoreError } from './errors.js'

/**
 * Encrypts and decrypts short secrets. Synchronous (the store is synchronous).
 *
 * - `encrypt(plain)` returns an opaque blob; encrypting the same text twice should give different blobs.
 * - `decrypt(blob)` returns the text, or throws when the blob is not its own or was tampered with.
 *   It must not put the plain text or key material in the error.
 * - `scheme` names the implementation and key family (`node-aes-256-gcm`, `electron-safeStorage`);
 *   blobs are only ever handed back to a box with the same scheme.
 */
export interface SecretBox {
  encrypt(plain: string): Buffer
  decrypt(blob: Buffer): string
  readonly scheme: string
}

/** Environment variable holding the Node master key: 32 bytes, base64. */
export const MASTER_KEY_ENV = 'SLUICE_MASTER_KEY'
/** File name of the Node master key inside the data dir (base64 text, mode 0600). */
export const MASTER_KEY_FILE = 'master.key'

/** Blob layout v1: magic "SLSB" | version 0x01 | key id (8) | IV (12) | ciphertext | GCM tag (16). */
const MAGIC = Buffer.from('SLSB', 'latin1')
const VERSION = 1
const KEY_ID_LEN = 8
const IV_LEN = 12 // NIST SP 800-38D §8.2: 96-bit random IVs
const TAG_LEN = 16
const HEADER_LEN = MAGIC.length + 1 + KEY_ID_LEN

/** Where a {@link NodeSecretBox} finds its key (first found: `key`, `SLUICE_MASTER_KEY` in `env`, `<dataDir>/master.key`). */
export interface NodeSecretBoxOptions {
  /** Data dir holding (or to hold) `master.key`; needed unless `key` or `SLUICE_MASTER_KEY` is given. */
  dataDir?: string
  /** Environment to read `SLUICE_MASTER_KEY` from (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** The 32-byte key itself (tests, embedding). Takes precedence over the environment and the file. */
  key?: Buffer
}

/**
 * AES-256-GCM secret box (node:crypto). Each secret gets a fresh random 12-byte IV; the blob header
 * (magic, version, key id) is authenticated as additional data. The key id (first 8 bytes of
 * HMAC-SHA256(key, "sluice master key id v1")) identifies the key without revealing it, so a blob
 * written under another key gives "different master key", not a generic failure.
 *
 * Key source, first found: `opts.key`, `SLUICE_MASTER_KEY` (base64 of exactly 32 bytes),
 * `<dataDir>/master.key`. The key file is created (random key, mode 0600, written atomically: a
 * temp file hard-linked into place, so concurrent processes agree on one key) on the first
 * `encrypt` that needs it; `decrypt` never creates it.
 */
export class NodeSecretBox implements SecretBox {
  readonly scheme = 'node-aes-256-gcm'
  readonly #opts: NodeSecretBoxOptions
  #key: Buffer | undefined
  #keyId: Buffer | undefined
  #source = ''

  constructor(opts: NodeSecretBoxOptions = {}) {
    this.#opts = { dataDir: opts.dataDir, env: opts.env, key: opts.key }
  }

  /** Where the key comes from, for messages: `SLUICE_MASTER_KEY`, the key file path, or `the given key`. */
  get keySource(): string {
    if (this.#opts.key) return 'the given key'
    if ((this.#opts.env ?? process.env)[MASTER_KEY_ENV]) return MASTER_KEY_ENV
    return this.#opts.dataDir ? path.join(this.#opts.dataDir, MASTER_KEY_FILE) : '(no key configured)'
  }

  encrypt(plain: string): Buffer {
    if (typeof plain !== 'string') throw new StoreError('INVALID', 'secret: expected a string', 'secret')
    const { key, keyId } = this.#load(true)
    const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), keyId])
    const iv = randomBytes(IV_LEN)
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN })
    c.setAAD(header)
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()])
    return Buffer.concat([header, iv, body, c.getAuthTag()])
  }

  decrypt(blob: Buffer): string {
    if (!Buffer.isBuffer(blob) || blob.length < HEADER_LEN + IV_LEN + TAG_LEN || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new StoreError('SECRET_SCHEME_MISMATCH', `the secret was not written by ${this.scheme}`)
    }
    if (blob[MAGIC.length] !== VERSION) {
      throw new StoreError('SECRET_UNREADABLE', `the secret uses ${this.scheme} blob version ${blob[MAGIC.length]}, this version of Sluice reads version ${VERSION}`)
    }
    const { key, keyId } = this.#load(false)
    const header = blob.subarray(0, HEADER_LEN)
    if (!header.subarray(MAGIC.length + 1).equals(keyId)) {
      throw new StoreError('SECRET_UNREADABLE', `the secret was encrypted with a different master key than the one in use (${this.#source})`)
    }
    const iv = blob.subarray(HEADER_LEN, HEADER_LEN + IV_LEN)
    const tag = blob.subarray(blob.length - TAG_LEN)
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN })
    d.setAAD(header)
    d.setAuthTag(tag)
    try {
      return Buffer.concat([d.update(blob.subarray(HEADER_LEN + IV_LEN, blob.length - TAG_LEN)), d.final()]).toString('utf8')
    } catch {
      throw new StoreError('SECRET_UNREADABLE', 'the secret failed its integrity check (corrupted or tampered with)')
    }
  }

  /** Keep key material out of `JSON.stringify`. */
  toJSON(): { scheme: string; keySource: string } {
    return { scheme: this.scheme, keySource: this.keySource }
  }

  #load(create: boolean): { key: Buffer; keyId: Buffer } {
    if (this.#key && this.#keyId) return { key: this.#key, keyId: this.#keyId }
    const env = this.#opts.env ?? process.env
    let key: Buffer
    if (this.#opts.key) {
      key = this.#opts.key
      this.#source = 'the given key'
      if (key.length !== 32) throw new StoreError('MASTER_KEY', `the given master key has ${key.length} bytes, AES-256 needs 32`)
    } else if (env[MASTER_KEY_ENV]) {
      this.#source = MASTER_KEY_ENV
      key = parseKey(env[MASTER_KEY_ENV]!, MASTER_KEY_ENV)
    } else if (this.#opts.dataDir) {
      const file = path.join(this.#opts.dataDir, MASTER_KEY_FILE)
      this.#source = file
      key = readOrCreateKeyFile(file, create)
    } else {
      throw new StoreError('MASTER_KEY', `no master key: set ${MASTER_KEY_ENV} (base64 of 32 random bytes) or give a data dir for ${MASTER_KEY_FILE}`, MASTER_KEY_ENV)
    }
    this.#key = Buffer.from(key)
    this.#keyId = createHmac('sha256', this.#key).update('sluice master key id v1').digest().subarray(0, KEY_ID_LEN)
    return { key: this.#key, keyId: this.#keyId }
  }
}

/** Decode a base64 master key, refusing anything but exactly 32 bytes. `where` names the source in errors (never the value). */
function parseKey(text: string, where: string): Buffer {
  const t = text.trim()
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) {
    throw new StoreError('MASTER_KEY', `${where}: the master key is not base64 text`, where)
  }
  const key = Buffer.from(t, 'base64')
  if (key.length !== 32) throw new StoreError('MASTER_KEY', `${where}: the master key decodes to ${key.length} bytes, AES-256 needs 32`, where)
  return key
}

function readOrCreateKeyFile(file: string, create: boolean): Buffer {
  try {
    return parseKey(readFileSync(file, 'utf8'), file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof StoreError) throw e
      throw new StoreError('MASTER_KEY', `cannot read the master key file ${file}: ${(e as Error).message}`, file)
    }
    if (!create) {
      throw new StoreError('MASTER_KEY', `the master key file ${file} does not exist, so saved secrets cannot be decrypted (was the data dir copied without it?)`, file)
    }
  }
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, randomBytes(32).toString('base64') + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, file) // atomic, fails with EEXIST if another process created the key first
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  } finally {
    unlinkSync(tmp)
  }
  return parseKey(readFileSync(file, 'utf8'), file)
}
