/**
 * Connection settings for the PostgreSQL connector: one lazily opened pg.Pool per connector,
 * dedicated clients for writers, and the session settings every connection starts with.
 *
 * Session settings are sent as startup options (`-c name=value` in the startup packet), so every
 * pooled or dedicated connection has them before its first query and they take precedence over
 * ALTER ROLE / ALTER DATABASE settings (PostgreSQL applies client options last):
 * - `TimeZone` = `config.timezone` ?? UTC. An ISO offset (`+05:30`) is translated to the POSIX
 *   form `<+0530>-05:30`: PostgreSQL reads a bare `+05:30` as POSIX, i.e. 5:30 *west* of UTC.
 * - `DateStyle=ISO,MDY`: dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff][+HH]`.
 * - `IntervalStyle=iso_8601`: intervals read as `P1Y2M3DT4H5M6S` (ISO 8601 durations): unambiguous,
 *   readable by other systems, and accepted as input by PostgreSQL under any IntervalStyle, so an
 *   interval carried as `other` text loads back unchanged. (The default `postgres` style,
 *   `1 year 2 mons 3 days 04:05:06`, is PostgreSQL-specific.)
 * - `extra_float_digits=1` (shortest exact float text), `bytea_output=hex`,
 *   `standard_conforming_strings=on`; the pool sets `client_encoding=UTF8`.
 */
import pg from 'pg'
import type { ConnectionConfig, ResultColumn } from '../types.js'
import { pgTypes } from './types.js'

/**
 * Translate `config.timezone` into a PostgreSQL TimeZone setting.
 * `undefined`, `''`, `Z`, `+00:00`, `-00:00` -> `UTC`; `±HH:MM` -> POSIX `<±HHMM>∓HH:MM`; names
 * (`Asia/Shanghai`, `UTC`) pass through.
 * @throws Error naming `connection.timezone` when the value has characters no zone name uses.
 */
export function pgTimeZone(tz: string | undefined): string {
  if (tz === undefined || tz === '' || tz === 'Z') return 'UTC'
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz)
  if (m) {
    if (m[2] === '00' && m[3] === '00') return 'UTC'
    const posixSign = m[1] === '+' ? '-' : '+'
    return `<${m[1]}${m[2]}${m[3]}>${posixSign}${m[2]}:${m[3]}`
  }
  if (!/^[A-Za-z0-9_+\-/:.]+$/.test(tz)) throw new Error(`connection.timezone: '${tz}' is not a time zone name or ±HH:MM offset`)
  return tz
}

/** The startup `options` string carrying the session settings documented above. */
export function sessionOptions(config: ConnectionConfig): string {
  const extra = typeof config.options?.options === 'string' ? ` ${config.options.options}` : ''
  // The connection's schema first on the search path, so unqualified names (SQL editor, preSql)
  // resolve there. Quoted as an identifier; spaces and backslashes escaped for the options parser.
  const searchPath = config.schema ? ` -c search_path=${`"${config.schema.replace(/"/g, '""')}",public`.replace(/([\\ ])/g, '\\$1')}` : ''
  return (
    `-c TimeZone=${pgTimeZone(config.timezone)} -c DateStyle=ISO,MDY -c IntervalStyle=iso_8601` +
    ` -c extra_float_digits=1 -c bytea_output=hex -c standard_conforming_strings=on${searchPath}${extra}`
  )
}

/**
 * pg client settings for `config`. `config.options` entries are passed through to pg (e.g.
 * `max` pool size, default 8; `idleTimeoutMillis`, default 10,000; `statement_timeout`;
 * an `ssl` object); `options.options` is appended to the startup options; `types` cannot be
 * overridden (canonical values depend on it).
 */
export function clientConfig(config: ConnectionConfig): pg.PoolConfig {
  const { options: _startup, types: _types, ...rest } = (config.options ?? {}) as Record<string, unknown>
  return {
    host: config.host ?? '127.0.0.1',
    port: config.port ?? 5432,
    user: config.user,
    password: config.password,
    database: config.database,
    ssl: config.ssl ? { rejectUnauthorized: false } : undefined,
    connectionTimeoutMillis: config.connectTimeoutMs ?? 10_000,
    application_name: 'sluice',
    max: 8,
    idleTimeoutMillis: 10_000,
    ...rest,
    client_encoding: 'UTF8',
    options: sessionOptions(config),
    types: pgTypes,
  } as pg.PoolConfig
}

/** Idle dedicated clients a session keeps for reuse (see PgSession.giveBack). */
export const IDLE_DEDICATED = 8

/** Owns the connector's pool (opened on first use) and opens dedicated clients. */
export class PgSession {
  private pool: pg.Pool | undefined
  private closed = false
  readonly cfg: pg.PoolConfig

  constructor(readonly config: ConnectionConfig) {
    this.cfg = clientConfig(config)
  }

  /** The shared pool, created on first call. @throws Error after `close()`. */
  getPool(): pg.Pool {
    if (this.closed) throw new Error('PostgreSQL connector is closed')
    if (!this.pool) {
      this.pool = new pg.Pool(this.cfg)
      // An idle client losing its connection must not crash the process; the next checkout reconnects.
      this.pool.on('error', () => {})
    }
    return this.pool
  }

  /**
   * Columns of tables by `schema\0name`, from the last whole-schema catalog snapshot
   * (CatalogReader.tablesDetailed, see index.ts): what a split's read describes without asking
   * the catalog again. Entries older than SNAPSHOT_TTL_MS (connectors/types.ts) are not used (a connector of the
   * workbench lives long; a table may change under it).
   */
  readonly readColumns = new Map<string, { columns: ResultColumn[]; at: number }>()

  /** Dedicated clients given back by closed writers, idle and clean (see {@link giveBack}). */
  private idle: pg.Client[] = []

  /**
   * A client outside the pool (writers), connected: one a closed writer gave back when there is
   * one, else a new one. A whole-database run opens a writer per table and channel; forking a
   * backend for each cost 5-10 ms a table. Caller ends it or gives it back with {@link giveBack}.
   */
  async dedicatedClient(): Promise<pg.Client> {
    if (this.closed) throw new Error('PostgreSQL connector is closed')
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      const st = c as unknown as { _ending?: boolean; _queryable?: boolean }
      if (!st._ending && st._queryable !== false && c.getTransactionStatus() === 'I') return c
      void c.end().catch(() => {})
    }
    const c = new pg.Client(this.cfg)
    c.on('error', () => {})
    await c.connect()
    return c
  }

  /**
   * Ask the server to cancel whatever backend `pid` is running (`pg_cancel_backend`), over a
   * short-lived connection. Best effort: failures are ignored (the caller destroys the client too).
   */
  async cancelBackend(pid: number | undefined): Promise<void> {
    if (!pid) return
    let c: pg.Client | undefined
    try {
      c = new pg.Client({ ...this.cfg, connectionTimeoutMillis: 5000 })
      c.on('error', () => {})
      await c.connect()
      await c.query('SELECT pg_cancel_backend($1)', [pid])
    } catch {
      /* best effort */
    } finally {
      await c?.end().catch(() => {})
    }
  }

  /**
   * Keep a dedicated client for the next {@link dedicatedClient}: only a client outside any
   * transaction (ReadyForQuery status `I`) whose user left no session state behind (no temp
   * tables, no SET); at most {@link IDLE_DEDICATED} are kept, others are ended.
   */
  giveBack(c: pg.Client): Promise<void> {
    const st = c as unknown as { _ending?: boolean; _queryable?: boolean }
    if (!this.closed && !st._ending && st._queryable !== false && c.getTransactionStatus() === 'I' && this.idle.length < IDLE_DEDICATED) {
      this.idle.push(c)
      return Promise.resolve()
    }
    return c.end().catch(() => {})
  }

  /** End the pool and idle dedicated clients. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true
    const p = this.pool
    this.pool = undefined
    const idle = this.idle
    this.idle = []
    await Promise.all([p?.end(), ...idle.map((c) => c.end().catch(() => {}))])
  }
}

/** The backend process id of a client (pg keeps it from BackendKeyData). */
export function backendPid(client: pg.ClientBase): number | undefined {
  return (client as unknown as { processID?: number }).processID ?? undefined
}

/** A PostgreSQL error's SQLSTATE / Node error code, when it has one. */
export function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : undefined
}
