/**
 * Connections and session settings shared by every part of the MySQL connector.
 *
 * Every connection (pooled or dedicated) gets: charset utf8mb4; `supportBigNumbers` +
 * `bigNumberStrings` (BIGINT as exact strings), `dateStrings` (DATE/DATETIME/TIMESTAMP text as
 * the server sends it), `jsonStrings` (JSON as its text, never parsed), DECIMAL as strings (the
 * mysql2 default without `decimalNumbers`), the canonical {@link makeTypeCast}; and on first use
 * `SET time_zone = <config.timezone ?? '+00:00'>` plus a `sql_mode` that keeps the server's own
 * modes and adds STRICT_TRANS_TABLES only when neither strict mode is on (the writer relies on
 * strict mode so bad values are errors, never truncations).
 *
 * `config.options` is passed through to mysql2 (e.g. `{ connectionLimit: 8 }`, `ssl` objects).
 */
import mysql from 'mysql2'
import type { Connection as CbConnection, Pool as CbPool, PoolConnection as CbPoolConnection, ConnectionOptions, PoolOptions, QueryOptions } from 'mysql2'
import type { ConnectionConfig } from '../types.js'
import { makeTypeCast, SessionZone } from './values.js'

/** The statement run once per connection after connecting. */
export const SESSION_SQL =
  "SET time_zone = ?, sql_mode = IF(FIND_IN_SET('STRICT_TRANS_TABLES', @@sql_mode) OR FIND_IN_SET('STRICT_ALL_TABLES', @@sql_mode), @@sql_mode, CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_TRANS_TABLES'))"

/** How often (ms) a stalled MySQL read asks whether its connection still lives (see `Session.watchRead`). */
export const STALL_PROBE_MS = 2000

/** Idle dedicated connections a session keeps for reuse (see Session.giveBack). */
export const IDLE_DEDICATED = 8

/** mysql2 options for `config` (shared by the pool and dedicated writer connections). */
export function driverOptions(config: ConnectionConfig, zone: SessionZone): ConnectionOptions {
  const { connectionLimit: _limit, loadData: _loadData, ...extra } = (config.options ?? {}) as Record<string, unknown>
  return {
    host: config.host ?? '127.0.0.1',
    port: config.port ?? 3306,
    user: config.user ?? 'root',
    password: config.password ?? '',
    database: config.database || undefined,
    charset: 'utf8mb4',
    connectTimeout: config.connectTimeoutMs ?? 10_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    typeCast: makeTypeCast(zone) as ConnectionOptions['typeCast'],
    ...(config.ssl ? { ssl: {} } : {}),
    ...(extra as ConnectionOptions),
  }
}

/** Promise wrapper over a callback-API query, for use on raw (callback) connections. */
export function cbQuery<T = unknown>(conn: CbConnection | CbPoolConnection, sql: string | QueryOptions, params?: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.query(sql as QueryOptions, params ?? [], (err: unknown, res: unknown) => (err ? reject(err) : resolve(res as T)))
  })
}

/** The lazily opened pool plus per-connection session setup. */
export class Session {
  readonly zone: SessionZone
  readonly tzName: string
  private pool?: CbPool
  private readonly ready = new WeakSet<object>()
  private closed = false
  private flavor?: { version: string; mariadb: boolean }

  /** The pool's connection limit: `options.connectionLimit`, 4 by default. */
  readonly poolSize: number

  constructor(readonly config: ConnectionConfig) {
    this.tzName = config.timezone ?? '+00:00'
    this.zone = new SessionZone(this.tzName)
    this.poolSize = Number((config.options as { connectionLimit?: number } | undefined)?.connectionLimit ?? 4)
  }

  private getPool(): CbPool {
    if (this.closed) throw new Error('mysql connector is closed')
    this.pool ??= mysql.createPool({
      ...(driverOptions(this.config, this.zone) as PoolOptions),
      connectionLimit: this.poolSize,
      maxIdle: 2,
      idleTimeout: 60_000,
    })
    return this.pool
  }

  /** Take a pooled connection with the session set up. Release it with `conn.release()`. */
  async acquire(): Promise<CbPoolConnection> {
    const pool = this.getPool()
    const conn = await new Promise<CbPoolConnection>((resolve, reject) => pool.getConnection((err, c) => (err ? reject(err) : resolve(c))))
    if (!this.ready.has(conn)) {
      try {
        await cbQuery(conn, SESSION_SQL, [this.tzName])
      } catch (e) {
        conn.destroy()
        throw e
      }
      this.ready.add(conn)
    }
    return conn
  }

  /** Run `fn` with a pooled connection, released afterwards (destroyed when `fn` marks it broken). */
  async with<T>(fn: (conn: CbPoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire()
    try {
      return await fn(conn)
    } finally {
      const broken = (conn as unknown as { _fatalError?: unknown; _closing?: boolean })._fatalError || (conn as unknown as { _closing?: boolean })._closing
      if (broken) conn.destroy()
      else conn.release()
    }
  }

  /** Dedicated connections given back by closed writers, idle and clean (see {@link giveBack}). */
  private idle: CbConnection[] = []

  /**
   * A dedicated (non-pooled) connection with the session set up; used by writers. One a closed
   * writer gave back when there is one (a whole-database run opens a writer per table: connecting
   * and setting up the session cost two round trips and a server thread each), else a new one.
   * The caller ends it or gives it back with {@link giveBack}.
   */
  async dedicated(): Promise<CbConnection> {
    if (this.closed) throw new Error('mysql connector is closed')
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      const st = c as unknown as { _fatalError?: unknown; _closing?: boolean; stream?: { destroyed?: boolean } }
      if (!st._fatalError && !st._closing && !st.stream?.destroyed) return c
      c.destroy()
    }
    const conn = mysql.createConnection({ ...driverOptions(this.config, this.zone), maxPreparedStatements: 64 })
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())))
    try {
      await cbQuery(conn, SESSION_SQL, [this.tzName])
    } catch (e) {
      conn.destroy()
      throw e
    }
    return conn
  }

  /** The flavor when {@link serverFlavor} has been called (every catalog.table() call does), else undefined. */
  get knownFlavor(): { version: string; mariadb: boolean } | undefined {
    return this.flavor
  }

  /** Server version and flavor, cached after the first call. */
  async serverFlavor(): Promise<{ version: string; mariadb: boolean }> {
    if (!this.flavor) {
      const rows = await this.with((c) => cbQuery<Array<{ v: string }>>(c, 'SELECT VERSION() AS v'))
      const version = String(rows[0]!.v)
      this.flavor = { version, mariadb: /mariadb/i.test(version) }
    }
    return this.flavor
  }

  /** Ask the server to stop the statement running on connection `threadId` (best effort). */
  async killQuery(threadId: number | null | undefined): Promise<void> {
    if (!threadId || this.closed) return
    try {
      await this.with((c) => cbQuery(c, `KILL QUERY ${Number(threadId)}`))
    } catch {
      /* the query may already be over */
    }
  }

  /**
   * Watch a streaming read on connection `threadId`: every {@link STALL_PROBE_MS}, when nothing
   * arrived for that long (`lastActivity()`, epoch ms), ask the server on another connection
   * whether the thread still exists. A thread that is gone or `Killed` (`KILL` of a connection
   * blocked writing to a paused client does not always close its socket: the client would wait
   * out the split timeout) ends the read at once with a transient `PROTOCOL_CONNECTION_LOST`
   * error (main/engine/faults.ts): the split is retried on a new connection. A probe that fails
   * (the pool's own connections killed too) decides nothing. Returns the stop function.
   */
  watchRead(threadId: number | null | undefined, lastActivity: () => number, onDead: (e: Error) => void): () => void {
    if (!threadId) return () => undefined
    let probing = false
    const timer = setInterval(() => {
      if (probing || this.closed || Date.now() - lastActivity() < STALL_PROBE_MS) return
      probing = true
      this.with((c) => cbQuery<Array<{ COMMAND: string }>>(c, 'SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]))
        .then((rows) => {
          if (!rows.length || rows[0]!.COMMAND === 'Killed') {
            clearInterval(timer)
            onDead(Object.assign(new Error(`Connection lost: the server killed the read connection (thread ${threadId})`), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))
          }
        })
        .catch(() => undefined)
        .finally(() => (probing = false))
    }, STALL_PROBE_MS)
    timer.unref?.()
    return () => clearInterval(timer)
  }

  /**
   * Take back a writer's dedicated connection for the next writer. Only for a connection that is
   * idle, outside any transaction, with the session variables as {@link dedicated} set them and no
   * temporary table (the writer knows); one more than IDLE_DEDICATED, or after close, is ended.
   */
  async giveBack(c: CbConnection): Promise<void> {
    if (this.closed || this.idle.length >= IDLE_DEDICATED) {
      await new Promise<void>((resolve) => c.end(() => resolve()))
      return
    }
    this.idle.push(c)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const c of this.idle.splice(0)) c.destroy()
    const pool = this.pool
    this.pool = undefined
    if (pool) await new Promise<void>((resolve) => pool.end(() => resolve()))
  }
}
