/**
 * Connection URLs as the CLI takes them:
 * - `mysql://user:pass@host:port/db` (also `mariadb://`), default port 3306;
 * - `postgres://user:pass@host:port/db[?schema=s]` (also `postgresql://`), default port 5432;
 * - `sqlite:<path>` or `sqlite://<absolute path>`.
 * Query parameters `timezone` and `ssl=true` are accepted by the network kinds.
 */
import type { ConnectionConfig } from './types.js'

/** True when `s` looks like a connection URL rather than a saved connection's name. */
export function isConnectionUrl(s: string): boolean {
  return /^(mysql|mariadb|postgres|postgresql|sqlite):/i.test(s)
}

/**
 * Parse a connection URL.
 * @throws Error naming the URL (with its password masked) and the part that is wrong.
 */
export function parseConnectionUrl(url: string): ConnectionConfig {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase()
  if (scheme === 'sqlite') {
    let p = url.slice('sqlite:'.length)
    if (p.startsWith('//')) p = p.slice(2)
    if (!p) throw new Error(`connection URL '${url}': missing the SQLite file path (sqlite:/path/to/file.db)`)
    return { kind: 'sqlite', path: decodeURIComponent(p) }
  }
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error(`connection URL '${maskUrl(url)}' is not a valid URL`)
  }
  const kind = scheme === 'mysql' || scheme === 'mariadb' ? 'mysql' : scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : undefined
  if (!kind) throw new Error(`connection URL '${maskUrl(url)}': unknown scheme '${scheme}' (mysql, postgres, sqlite)`)
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined
  const cfg: ConnectionConfig = {
    kind,
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : kind === 'mysql' ? 3306 : 5432,
    user: u.username ? decodeURIComponent(u.username) : kind === 'mysql' ? 'root' : 'postgres',
    database,
  }
  if (u.password) cfg.password = decodeURIComponent(u.password)
  const schema = u.searchParams.get('schema')
  if (schema) cfg.schema = schema
  const tz = u.searchParams.get('timezone')
  if (tz) cfg.timezone = tz
  if (u.searchParams.get('ssl') === 'true') cfg.ssl = true
  return cfg
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

/** A display form of a config, never with the password: `mysql://root@127.0.0.1:3306/Chinook`. */
export function describeConnection(c: ConnectionConfig): string {
  if (c.kind === 'sqlite') return `sqlite:${c.path ?? ''}`
  const q = c.schema ? `?schema=${encodeURIComponent(c.schema)}` : ''
  return `${c.kind}://${c.user ? encodeURIComponent(c.user) + '@' : ''}${c.host ?? '127.0.0.1'}:${c.port ?? ''}/${c.database ?? ''}${q}`
}
