/**
 * Saved connections. The password is split out of the {@link ConnectionConfig} and stored
 * encrypted by the store's {@link SecretBox}; everything else is stored as JSON.
 */
import type Database from 'better-sqlite3'
import { inspect } from 'node:util'
import type { ConnectionConfig, ConnectorKind } from '../connectors/types.js'
import { StoreError } from './errors.js'
import type { SecretBox } from './secrets.js'
import { newId, nowIso } from './util.js'

/** A connection's settings without its password. */
export type PublicConnectionConfig = Omit<ConnectionConfig, 'password'>

/** What lists and `get` return: never the password, only whether one is saved. */
export interface ConnectionSummary {
  id: string
  name: string
  config: PublicConnectionConfig
  /** True when a password is saved (it may still be unreadable under another SecretBox scheme). */
  hasPassword: boolean
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
 * replaces all settings, and its `password` decides the secret: `undefined` keeps the saved
 * password, `''` clears it, any other string replaces it.
 */
export interface ConnectionPatch {
  name?: string
  config?: ConnectionConfig
}

const KINDS: readonly ConnectorKind[] = ['mysql', 'postgres', 'sqlite']

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
    const { pub, password } = splitConfig(input?.config)
    const now = nowIso()
    const row: Row = { id: newId(), name, kind: pub.kind, config: JSON.stringify(pub), secret: null, secret_scheme: null, created_at: now, updated_at: now }
    if (password) {
      row.secret = this.#box.encrypt(password)
      row.secret_scheme = this.#box.scheme
    }
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
      const { pub, password } = splitConfig(patch.config)
      next.kind = pub.kind
      next.config = JSON.stringify(pub)
      if (password === '') {
        next.secret = null
        next.secret_scheme = null
      } else if (password !== undefined) {
        next.secret = this.#box.encrypt(password)
        next.secret_scheme = this.#box.scheme
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
    const config = JSON.parse(row.config) as ConnectionConfig
    if (row.secret) {
      const label = `connection ${JSON.stringify(row.name)}`
      if (row.secret_scheme !== this.#box.scheme) {
        throw new StoreError(
          'SECRET_SCHEME_MISMATCH',
          `${label}: its password was saved with ${row.secret_scheme ?? '(unknown scheme)'} and this process uses ${this.#box.scheme}; ` +
            `open it where it was saved, or enter the password again`,
          'password',
        )
      }
      try {
        config.password = this.#box.decrypt(row.secret)
      } catch (e) {
        const code = e instanceof StoreError ? e.code : 'SECRET_UNREADABLE'
        throw new StoreError(code, `${label}: cannot decrypt the saved password: ${(e as Error).message}`, 'password')
      }
    }
    return redacted(config)
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

function splitConfig(config: unknown): { pub: PublicConnectionConfig; password: string | undefined } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new StoreError('INVALID', 'config: expected an object', 'config')
  }
  const { password, ...pub } = config as ConnectionConfig
  if (!KINDS.includes(pub.kind)) {
    throw new StoreError('INVALID', `config.kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(pub.kind)}`, 'config.kind')
  }
  if (password !== undefined && typeof password !== 'string') throw new StoreError('INVALID', 'config.password: expected a string', 'config.password')
  return { pub, password }
}

function toSummary(row: Row): ConnectionSummary {
  return {
    id: row.id,
    name: row.name,
    config: JSON.parse(row.config) as PublicConnectionConfig,
    hasPassword: row.secret !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Add non-enumerable `toJSON` and `util.inspect` hooks that print `password` as `'***'`. */
function redacted(config: ConnectionConfig): ConnectionConfig {
  const safe = (): PublicConnectionConfig & { password?: string } =>
    config.password === undefined ? { ...config } : { ...config, password: '***' }
  Object.defineProperty(config, 'toJSON', { value: safe, enumerable: false })
  Object.defineProperty(config, inspect.custom, { value: () => safe(), enumerable: false })
  return config
}
