/**
 * One writer per target table: the run's target leases in the state DB (main/store/locks.ts) plus,
 * where the target database has one, a database advisory lock held for the whole run on a
 * dedicated session, so that runs from another data dir (or another machine) are kept out too:
 *
 * - PostgreSQL: `pg_try_advisory_lock(1936482661, k)` (session level) in the target database, `k`
 *   the first 4 bytes of SHA-1 of `schema.table` as a signed int4 (PostgreSQL manual, "Advisory
 *   Locks"). The session's `application_name` is `sluice run <runId>`, so a refusal can name the
 *   run holding it (from `pg_locks` + `pg_stat_activity`).
 * - MySQL / MariaDB: `GET_LOCK('sluice:<sha1 of db.table, 40 hex>', 0)` (server wide, 47 chars:
 *   names are limited to 64).
 * - SQLite: none (a file has no sessions to hold one); the state DB lease is the lock.
 *
 * A lock session that is killed loses its lock silently; the state DB lease still holds.
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import type mysql from 'mysql2'
import type pg from 'pg'
import type { ConnectionConfig, TableRef } from '../connectors/types.js'
import type { LeaseResource } from '../store/locks.js'

// The drivers load when a lock is taken on their kind of target, not with the engine: a run that
// writes files never loads mysql2 or pg for them (see main/connectors/index.ts).

/** The lock class of Sluice's PostgreSQL advisory locks (`'slui'` as an int4). */
export const PG_LOCK_CLASS = 1936482661

/** The state DB resource of a target table: `target:<kind>:<server>/<database>/<schema>.<table>`. */
export function targetResource(cfg: ConnectionConfig, schema: string, table: TableRef): LeaseResource {
  const s = table.schema ?? schema
  let where: string
  let name = `${s}.${table.name}`
  if (cfg.kind === 'sqlite') where = path.resolve(cfg.path ?? '')
  else where = `${(cfg.host ?? '127.0.0.1').toLowerCase()}:${cfg.port ?? (cfg.kind === 'mysql' ? 3306 : 5432)}/${cfg.database ?? ''}`
  // MySQL table names compare case-insensitively on the platforms that matter (lower_case_table_names).
  if (cfg.kind === 'mysql') name = name.toLowerCase()
  return { resource: `target:${cfg.kind}:${where}/${name}`, label: `${s}.${table.name}` }
}

/** The advisory lock name / key of a target (see the file comment). */
export function advisoryKey(cfg: ConnectionConfig, schema: string, table: TableRef): { mysql: string; pg: number } {
  const s = table.schema ?? schema
  const text = cfg.kind === 'mysql' ? `${cfg.database ?? ''}.${s}.${table.name}`.toLowerCase() : `${s}.${table.name}`
  const h = createHash('sha1').update(text).digest()
  return { mysql: `sluice:${h.toString('hex')}`, pg: h.readInt32BE(0) }
}

/** Advisory locks held on one dedicated session of the target; `release` ends the session. */
export interface AdvisoryLocks {
  release(): Promise<void>
}

/**
 * Take the advisory lock of every table on one new session of the target.
 * @throws Error "<schema.table> is already being written by run R" (PostgreSQL names the run from
 *   its session's application_name) when another session holds one; every lock taken is released.
 */
export async function takeAdvisoryLocks(cfg: ConnectionConfig, schema: string, tables: TableRef[], runId: string): Promise<AdvisoryLocks> {
  if (cfg.kind === 'postgres') {
    const pg = (await import('pg')).default
    const { clientConfig } = await import('../connectors/postgres/session.js')
    const c = new pg.Client({ ...clientConfig(cfg), application_name: `sluice run ${runId}` } as pg.ClientConfig)
    c.on('error', () => undefined) // a killed lock session must not crash the run
    await c.connect()
    try {
      // All of them in one round trip (a whole database is hundreds of tables), in table order.
      const keys = tables.map((t) => advisoryKey(cfg, schema, t).pg)
      const got = (await c.query('SELECT pg_try_advisory_lock($1, k) AS ok FROM unnest($2::int4[]) WITH ORDINALITY AS u(k, i) ORDER BY i', [PG_LOCK_CLASS, keys])).rows as Array<{ ok: boolean }>
      for (let i = 0; i < tables.length; i++) {
        const t = tables[i]!
        const k = keys[i]!
        if (!got[i]?.ok) {
          const who = await c.query(
            `SELECT a.application_name AS app, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'advisory' AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2 AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            [PG_LOCK_CLASS, k],
          )
          const app = String(who.rows[0]?.app ?? '')
          const run = /^sluice run (.+)$/.exec(app)?.[1]
          throw Object.assign(new Error(`${t.schema ?? schema}.${t.name} is already being written by ${run ? `run ${run}` : `another session (PostgreSQL pid ${who.rows[0]?.pid ?? '?'})`} (PostgreSQL advisory lock)`), { code: 'LOCKED' })
        }
      }
    } catch (e) {
      await c.end().catch(() => undefined)
      throw e
    }
    return { release: () => c.end().catch(() => undefined) }
  }
  if (cfg.kind === 'mysql') {
    const mysql = (await import('mysql2')).default
    const { driverOptions } = await import('../connectors/mysql/session.js')
    const { SessionZone } = await import('../connectors/mysql/values.js')
    const conn = mysql.createConnection(driverOptions(cfg, new SessionZone(cfg.timezone ?? '+00:00')))
    conn.on('error', () => undefined)
    const q = (sql: string, params: unknown[]) => new Promise<mysql.RowDataPacket[]>((res, rej) => conn.query(sql, params, (e, r) => (e ? rej(e) : res(r as mysql.RowDataPacket[]))))
    const end = () => new Promise<void>((res) => conn.end(() => res()))
    try {
      // Up to 100 locks per statement (MySQL 5.7+ and MariaDB 10.0.2+ hold several per session).
      for (let from = 0; from < tables.length; from += 100) {
        const part = tables.slice(from, from + 100)
        const names = part.map((t) => advisoryKey(cfg, schema, t).mysql)
        const r = (await q(`SELECT ${names.map((_, i) => `GET_LOCK(?, 0) AS l${i}`).join(', ')}`, names))[0]!
        for (let i = 0; i < part.length; i++) {
          if (Number(r[`l${i}`]) === 1) continue
          const t = part[i]!
          const holder = (await q('SELECT IS_USED_LOCK(?) AS holder', [names[i]]))[0]?.holder
          throw Object.assign(new Error(`${t.schema ?? schema}.${t.name} is already being written by another session (MySQL lock '${names[i]}' held by connection ${String(holder)})`), { code: 'LOCKED' })
        }
      }
    } catch (e) {
      await end()
      throw e
    }
    return { release: end }
  }
  return { release: async () => undefined }
}
