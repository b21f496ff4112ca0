/**
 * Saved connections. The secrets are split out of the {@link ConnectionConfig} and stored
 * encrypted by the store's {@link SecretBox}; everything else is stored as JSON.
 *
 * Secrets are the config paths in {@link SECRET_PATHS}: `password` (database, FTP, SFTP password;
 * S3 secret access key), `privateKey` and `passphrase` (SFTP), and the same three of the SSH tunnel
 * (`ssh.*`) and of its jump host (`ssh.jump.*`). A connection whose only secret is `password` stores
 * the password itself as the encrypted text (the original layout); one with more stores
 * {@link SECRETS_MARKER} followed by a JSON object of path -> value, encrypted as one blob.
 */
import type Database from 'better-sqlite3'
import { inspect } from 'node:util'
import { PIN_HOST_KEY, type ConnectionConfig, type ConnectionKind, type HostKeyPinner } from '../connectors/types.js'
import { StoreError } from './errors.js'
import type { SecretBox } from './secrets.js'
import { newId, nowIso } from './util.js'

/** A connection's settings without its secrets (password, private keys, passphrases, also under `ssh`). */
export type PublicConnectionConfig = Omit<ConnectionConfig, 'password' | 'privateKey' | 'passphrase'>

/** Config paths holding secrets, encrypted at rest and never returned by lists or `get`. */
export const SECRET_PATHS = [
  'password',
  'privateKey',
  'passphrase',
  'ssh.password',
  'ssh.privateKey',
  'ssh.passphrase',
  'ssh.jump.password',
  'ssh.jump.privateKey',
  'ssh.jump.passphrase',
] as const

/** One of {@link SECRET_PATHS}. */
export type SecretPath = (typeof SECRET_PATHS)[number]

/** Prefix of an encrypted text holding several secrets as JSON (a NUL cannot start a typed password). */
export const SECRETS_MARKER = '\u0000sluice-secrets-v1\u0000'

/** What lists and `get` return: never a secret, only whether one is saved. */
export interface ConnectionSummary {
  id: string
  name: string
  config: PublicConnectionConfig
  /** True when a password is saved (it may still be unreadable under another SecretBox scheme). */
  hasPassword: boolean
  /** The secret paths saved for this connection (`password`, `privateKey`, `ssh.passphrase`, ...). */
  secrets: SecretPath[]
  /** ISO-8601 UTC with milliseconds. */
  createdAt: string
  updatedAt: string
}

/** Input of `create`: `config.password` (optional) is encrypted; `''` or absent saves none. */
export interface ConnectionInput {
  name: string
  config: ConnectionConfig
}

/**
 * Input of `update`. `name` absent keeps the name. `config` absent keeps the settings; present, it
 * replaces all settings, and each secret path (`password`, `privateKey`, `ssh.password`, ...)
 * decides its secret: `undefined` keeps the saved one (while its object, e.g. `ssh`, is still
 * there), `''` clears it, any other string replaces it.
 */
export interface ConnectionPatch {
  name?: string
  config?: ConnectionConfig
}

const KINDS: readonly ConnectionKind[] = ['mysql', 'postgres', 'sqlite', 'file', 'ftp', 'sftp', 's3']

interface Row {
  id: string
  name: string
  kind: string
  config: string
  secret: Buffer | null
  secret_scheme: string | null
  created_at: string
  updated_at: string
}

/** The connections repository (`store.connections`). All methods are synchronous. */
export class ConnectionsRepo {
  readonly #box: SecretBox
  readonly #byId: Database.Statement<[string], Row>
  readonly #byName: Database.Statement<[string], Row>
  readonly #all: Database.Statement<[], Row>
  readonly #insert: Database.Statement<[Row]>
  readonly #update: Database.Statement<[Row]>
  readonly #delete: Database.Statement<[string]>

  constructor(db: Database.Database, box: SecretBox) {
    this.#box = box
    this.#byId = db.prepare('SELECT * FROM connections WHERE id = ?')
    this.#byName = db.prepare('SELECT * FROM connections WHERE name = ?') // NOCASE column collation
    this.#all = db.prepare('SELECT * FROM connections ORDER BY name, id')
    this.#insert = db.prepare(
      `INSERT INTO connections (id, name, kind, config, secret, secret_scheme, created_at, updated_at)
       VALUES (@id, @name, @kind, @config, @secret, @secret_scheme, @created_at, @updated_at)`,
    )
    this.#update = db.prepare(
      `UPDATE connections SET name = @name, kind = @kind, config = @config, secret = @secret,
       secret_scheme = @secret_scheme, updated_at = @updated_at WHERE id = @id`,
    )
    this.#delete = db.prepare('DELETE FROM connections WHERE id = ?')
  }

  /**
   * Save a new connection.
   * @throws StoreError `DUPLICATE` (path `name`) when the name is taken (names compare ASCII
   *   case-insensitively); `INVALID` naming the field for a bad name or config.
   */
  create(input: ConnectionInput): ConnectionSummary {
    const name = checkName(input?.name)
    const { pub, secrets } = splitConfig(input?.config)
    const now = nowIso()
    const row: Row = { id: newId(), name, kind: pub.kind, config: JSON.stringify(pub), secret: null, secret_scheme: null, created_at: now, updated_at: now }
    for (const k of Object.keys(secrets) as SecretPath[]) if (!secrets[k]) delete secrets[k]
    this.#seal(row, secrets)
    this.#write(this.#insert, row)
    return toSummary(row)
  }

  /**
   * Change a connection (see {@link ConnectionPatch} for the password rules).
   * @throws StoreError `NOT_FOUND` (path `id`), `DUPLICATE` (path `name`), `INVALID`.
   */
  update(id: string, patch: ConnectionPatch): ConnectionSummary {
    const row = this.#require(id)
    const next: Row = { ...row, updated_at: nowIso() }
    if (patch.name !== undefined) next.name = checkName(patch.name)
    if (patch.config !== undefined) {
      const { pub, secrets } = splitConfig(patch.config)
      next.kind = pub.kind
      next.config = JSON.stringify(pub)
      const given = Object.keys(secrets).length > 0
      const dropped = row.secret ? SECRET_PATHS.filter((k) => k.includes('.') && !parentExists(pub, k) && savedPaths(row).includes(k)) : []
      if (given || dropped.length) {
        const kept = savedPaths(row).filter((k) => !(k in secrets) && !dropped.includes(k))
        // Decrypt only when a saved secret is kept (a replaced one may be under another scheme).
        const merged: Partial<Record<SecretPath, string>> = kept.length ? this.#open(row) : {}
        for (const k of dropped) delete merged[k]
        for (const [k, v] of Object.entries(secrets) as [SecretPath, string][]) {
          if (v === '') delete merged[k]
          else merged[k] = v
        }
        this.#seal(next, merged)
      } else if (row.secret) {
        next.config = JSON.stringify({ ...pub, _secrets: savedPaths(row) })
      }
    }
    this.#write(this.#update, next)
    return toSummary(next)
  }

  /** One connection by id, without its password; `undefined` when there is none. */
  get(id: string): ConnectionSummary | undefined {
    const row = this.#byId.get(id)
    return row ? toSummary(row) : undefined
  }

  /** One connection by name (ASCII case-insensitive), without its password. */
  getByName(name: string): ConnectionSummary | undefined {
    const row = this.#byName.get(name)
    return row ? toSummary(row) : undefined
  }

  /** All connections, by name. */
  list(): ConnectionSummary[] {
    return this.#all.all().map(toSummary)
  }

  /** Delete a connection (and its query history). @returns false when there was none. */
  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0
  }

  /**
   * Copy a connection, password included, under `name` (default: `<name> (copy)`, then
   * `<name> (copy 2)`, ... the first free one).
   * @throws StoreError `NOT_FOUND`, `DUPLICATE` when an explicit `name` is taken.
   */
  duplicate(id: string, name?: string): ConnectionSummary {
    const row = this.#require(id)
    let newName = name !== undefined ? checkName(name) : `${row.name} (copy)`
    for (let n = 2; name === undefined && this.#byName.get(newName); n++) newName = `${row.name} (copy ${n})`
    const now = nowIso()
    const copy: Row = { ...row, id: newId(), name: newName, created_at: now, updated_at: now }
    this.#write(this.#insert, copy)
    return toSummary(copy)
  }

  /**
   * The full config with the decrypted password, for connecting only. `idOrName` is tried as an id
   * first, then as a name. The returned object keeps `password` as a normal property (so it survives
   * `postMessage` to a worker) but redacts it in `JSON.stringify` and `util.inspect` / `console.log`.
   *
   * @throws StoreError `NOT_FOUND` (path `id`); `SECRET_SCHEME_MISMATCH` (path `password`) when the
   *   password was saved under another SecretBox scheme (e.g. by the desktop app's OS keychain and
   *   read by the CLI); `SECRET_UNREADABLE` / `MASTER_KEY` when it cannot be decrypted.
   */
  resolveConfig(idOrName: string): ConnectionConfig {
    const row = this.#byId.get(idOrName) ?? this.#byName.get(idOrName)
    if (!row) throw new StoreError('NOT_FOUND', `no connection with id or name ${JSON.stringify(idOrName)}`, 'id')
    const config = withoutMeta(row.config)
    if (row.secret) {
      for (const [k, v] of Object.entries(this.#open(row)) as [SecretPath, string][]) setPath(config, k, v)
    }
    const id = row.id
    const pin: HostKeyPinner = (where, fingerprint) => {
      try {
        this.pinHostKey(id, where, fingerprint)
      } catch {
        // the connection was deleted meanwhile: nothing to pin to
      }
    }
    Object.defineProperty(config, PIN_HOST_KEY, { value: pin, enumerable: false })
    return redacted(config)
  }

  /**
   * Save a host key fingerprint seen at first use on the connection (`where`: `hostKey`,
   * `ssh.hostKey` or `ssh.jump.hostKey`). A key already pinned is left as it is: changing a pin is
   * the user's decision (edit the connection and clear it).
   * @throws StoreError `NOT_FOUND`; `INVALID` for another path or a config without that object.
   */
  pinHostKey(id: string, where: string, fingerprint: string): void {
    const row = this.#require(id)
    const config = JSON.parse(row.config) as ConnectionConfig
    const target = where === 'hostKey' ? config : where === 'ssh.hostKey' ? config.ssh : where === 'ssh.jump.hostKey' ? config.ssh?.jump : undefined
    if (!target) throw new StoreError('INVALID', `${where}: the connection has no such host key setting`, where)
    if (target.hostKey) return
    target.hostKey = fingerprint
    this.#write(this.#update, { ...row, config: JSON.stringify(config), updated_at: nowIso() })
  }

  /** Encrypt `secrets` into the row (none: no secret). */
  #seal(row: Row, secrets: Partial<Record<SecretPath, string>>): void {
    const keys = Object.keys(secrets) as SecretPath[]
    if (keys.length === 0) {
      row.config = JSON.stringify(withoutMeta(row.config))
      row.secret = null
      row.secret_scheme = null
      return
    }
    const plain = keys.length === 1 && keys[0] === 'password' ? secrets.password! : SECRETS_MARKER + JSON.stringify(secrets)
    row.config = JSON.stringify({ ...withoutMeta(row.config), _secrets: keys })
    row.secret = this.#box.encrypt(plain)
    row.secret_scheme = this.#box.scheme
  }

  /** Decrypt the row's secrets. @throws StoreError `SECRET_SCHEME_MISMATCH`, `SECRET_UNREADABLE`, `MASTER_KEY`. */
  #open(row: Row): Partial<Record<SecretPath, string>> {
    const label = `connection ${JSON.stringify(row.name)}`
    if (row.secret_scheme !== this.#box.scheme) {
      throw new StoreError(
        'SECRET_SCHEME_MISMATCH',
        `${label}: its password was saved with ${row.secret_scheme ?? '(unknown scheme)'} and this process uses ${this.#box.scheme}; ` +
          `open it where it was saved, or enter the password again`,
        'password',
      )
    }
    let plain: string
    try {
      plain = this.#box.decrypt(row.secret!)
    } catch (e) {
      const code = e instanceof StoreError ? e.code : 'SECRET_UNREADABLE'
      throw new StoreError(code, `${label}: cannot decrypt the saved password: ${(e as Error).message}`, 'password')
    }
    if (!plain.startsWith(SECRETS_MARKER)) return { password: plain }
    return JSON.parse(plain.slice(SECRETS_MARKER.length)) as Partial<Record<SecretPath, string>>
  }

  #require(id: string): Row {
    const row = this.#byId.get(id)
    if (!row) throw new StoreError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, 'id')
    return row
  }

  #write(stmt: Database.Statement<[Row]>, row: Row): void {
    try {
      stmt.run(row)
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /connections\.name/.test((e as Error).message)) {
        throw new StoreError('DUPLICATE', `name: a connection named ${JSON.stringify(row.name)} already exists`, 'name')
      }
      throw e
    }
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new StoreError('INVALID', 'name: a connection needs a non-empty name', 'name')
  return name
}

/** Split a config into its public part (a deep copy without secrets) and its secrets by path. */
function splitConfig(config: unknown): { pub: PublicConnectionConfig; secrets: Partial<Record<SecretPath, string>> } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new StoreError('INVALID', 'config: expected an object', 'config')
  }
  const pub = JSON.parse(JSON.stringify(config)) as ConnectionConfig
  if (!KINDS.includes(pub.kind)) {
    throw new StoreError('INVALID', `config.kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(pub.kind)}`, 'config.kind')
  }
  const secrets: Partial<Record<SecretPath, string>> = {}
  for (const k of SECRET_PATHS) {
    const v = getPath(config, k)
    if (v === undefined) continue
    if (typeof v !== 'string') throw new StoreError('INVALID', `config.${k}: expected a string`, `config.${k}`)
    secrets[k] = v
    deletePath(pub, k)
  }
  return { pub, secrets }
}

function getPath(o: unknown, p: string): unknown {
  let cur = o as Record<string, unknown> | undefined
  for (const part of p.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = cur[part] as Record<string, unknown> | undefined
  }
  return cur
}

function setPath(o: object, p: string, v: string): void {
  const parts = p.split('.')
  let cur = o as Record<string, unknown>
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== 'object' || cur[part] === null) return // the object was removed: drop its secret
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts[parts.length - 1]!] = v
}

function deletePath(o: object, p: string): void {
  const parts = p.split('.')
  const parent = getPath(o, parts.slice(0, -1).join('.') || '') as Record<string, unknown> | undefined
  const holder = parts.length === 1 ? (o as Record<string, unknown>) : parent
  if (holder && typeof holder === 'object') delete holder[parts[parts.length - 1]!]
}

function parentExists(o: object, p: string): boolean {
  const parts = p.split('.')
  return typeof getPath(o, parts.slice(0, -1).join('.')) === 'object'
}

/**
 * The secret paths saved in a row, read without decrypting: the config JSON records them as
 * `_secrets` (names only); a row from before file stores has only `password`.
 */
function savedPaths(row: Row): SecretPath[] {
  return row.secret ? ((JSON.parse(row.config) as { _secrets?: SecretPath[] })._secrets ?? ['password']) : []
}

/** The config JSON of a row without the `_secrets` list. */
function withoutMeta(json: string): ConnectionConfig {
  const { _secrets: _s, ...config } = JSON.parse(json) as ConnectionConfig & { _secrets?: SecretPath[] }
  return config
}

function toSummary(row: Row): ConnectionSummary {
  const config = withoutMeta(row.config)
  return {
    id: row.id,
    name: row.name,
    config,
    hasPassword: row.secret !== null && savedPaths(row).includes('password'),
    secrets: savedPaths(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Add non-enumerable `toJSON` and `util.inspect` hooks that print every secret as `'***'`. */
function redacted(config: ConnectionConfig): ConnectionConfig {
  const safe = (): PublicConnectionConfig => {
    const copy = JSON.parse(JSON.stringify({ ...config })) as ConnectionConfig
    for (const k of SECRET_PATHS) if (getPath(copy, k) !== undefined) setPath(copy, k, '***')
    return copy
  }
  Object.defineProperty(config, 'toJSON', { value: safe, enumerable: false })
  Object.defineProperty(config, inspect.custom, { value: () => safe(), enumerable: false })
  return config
}
