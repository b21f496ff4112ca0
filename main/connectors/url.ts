/**
 * Connection URLs as the CLI takes them:
 * - `mysql://user:pass@host:port/db` (also `mariadb://`), default port 3306;
 * - `postgres://user:pass@host:port/db[?schema=s]` (also `postgresql://`), default port 5432;
 * - `sqlite:<path>` or `sqlite://<absolute path>`;
 * - `file:///abs/folder` (a local folder);
 * - `ftp://user:pass@host:21/folder[?passive=false]`, `ftps://...` (explicit FTPS, AUTH TLS);
 * - `sftp://user[:pass]@host:22/folder[?privateKeyFile=/path&hostKey=SHA256:...]`;
 * - `s3://[accessKey:secret@]bucket/prefix?endpoint=http://host:port&region=r&forcePathStyle=true`.
 * Query parameters `timezone` and `ssl=true` are accepted by the database kinds, and an SSH tunnel
 * by `ssh=user[:pass]@host[:port]` with `sshKeyFile=/path`, `sshHostKey=SHA256:...` and
 * `sshJump=user[:pass]@host[:port]` (the jump host uses the same key file).
 * Key files are read when the URL is parsed.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionConfig, SshHop } from './types.js'

/** True when `s` looks like a connection URL rather than a saved connection's name. */
export function isConnectionUrl(s: string): boolean {
  return /^(mysql|mariadb|postgres|postgresql|sqlite|file|ftp|ftps|sftp|s3):/i.test(s)
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
  const store = parseStoreUrl(scheme, u, url)
  if (store) return store
  const kind = scheme === 'mysql' || scheme === 'mariadb' ? 'mysql' : scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : undefined
  if (!kind) throw new Error(`connection URL '${maskUrl(url)}': unknown scheme '${scheme}' (mysql, postgres, sqlite, file, ftp, ftps, sftp, s3)`)
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
  const ssh = u.searchParams.get('ssh')
  if (ssh) {
    const keyFile = u.searchParams.get('sshKeyFile') ?? undefined
    cfg.ssh = { ...parseHop(ssh, 'ssh', url, keyFile) }
    const hostKey = u.searchParams.get('sshHostKey')
    if (hostKey) cfg.ssh.hostKey = hostKey
    const jump = u.searchParams.get('sshJump')
    if (jump) cfg.ssh.jump = parseHop(jump, 'sshJump', url, keyFile)
  }
  return cfg
}

/** `user[:pass]@host[:port]` of an SSH hop (URL parameter `name`), with an optional key file. */
function parseHop(s: string, name: string, url: string, keyFile: string | undefined): SshHop {
  const m = /^([^:@]+)(?::([^@]*))?@(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s)
  if (!m) throw new Error(`connection URL '${maskUrl(url)}': ${name}: expected user[:password]@host[:port], got '${s.replace(/:[^@]*@/, ':***@')}'`)
  const hop: SshHop = { user: decodeURIComponent(m[1]!), host: m[3]!.replace(/^\[|\]$/g, ''), port: m[4] ? Number(m[4]) : 22 }
  if (m[2] !== undefined) hop.password = decodeURIComponent(m[2])
  if (keyFile) hop.privateKey = readKeyFile(keyFile, name === 'ssh' ? 'sshKeyFile' : 'sshKeyFile (jump)')
  return hop
}

function readKeyFile(file: string, name: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`connection URL: ${name}: cannot read the private key file ${file}: ${(e as Error).message}`)
  }
}

/** The file store schemes (file, ftp, ftps, sftp, s3); undefined for other schemes. */
function parseStoreUrl(scheme: string, u: URL, url: string): ConnectionConfig | undefined {
  const folder = decodeURIComponent(u.pathname)
  const user = u.username ? decodeURIComponent(u.username) : undefined
  const password = u.password ? decodeURIComponent(u.password) : undefined
  const q = u.searchParams
  switch (scheme) {
    case 'file': {
      if (u.hostname && u.hostname !== 'localhost') throw new Error(`connection URL '${url}': file URLs name a local folder (file:///abs/path), not host '${u.hostname}'`)
      if (!folder || folder === '/') throw new Error(`connection URL '${url}': missing the folder (file:///abs/path)`)
      return { kind: 'file', path: folder }
    }
    case 'ftp':
    case 'ftps': {
      const cfg: ConnectionConfig = { kind: 'ftp', host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 21, user: user ?? 'anonymous' }
      if (password !== undefined) cfg.password = password
      if (folder && folder !== '/') cfg.path = folder
      if (scheme === 'ftps' || q.get('ssl') === 'true') cfg.ssl = true
      if (q.get('passive') === 'false') cfg.passive = false
      return cfg
    }
    case 'sftp': {
      if (!user) throw new Error(`connection URL '${maskUrl(url)}': missing the user (sftp://user@host:22/folder)`)
      const cfg: ConnectionConfig = { kind: 'sftp', host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 22, user }
      if (password !== undefined) cfg.password = password
      if (folder && folder !== '/') cfg.path = folder
      const keyFile = q.get('privateKeyFile')
      if (keyFile) cfg.privateKey = readKeyFile(keyFile, 'privateKeyFile')
      const hostKey = q.get('hostKey')
      if (hostKey) cfg.hostKey = hostKey
      return cfg
    }
    case 's3': {
      const bucket = decodeURIComponent(u.hostname)
      if (!bucket) throw new Error(`connection URL '${maskUrl(url)}': missing the bucket (s3://bucket/prefix)`)
      const cfg: ConnectionConfig = { kind: 's3', bucket }
      if (user !== undefined) cfg.user = user
      if (password !== undefined) cfg.password = password
      const prefix = folder.replace(/^\/+/, '')
      if (prefix) cfg.path = prefix
      const endpoint = q.get('endpoint')
      if (endpoint) cfg.endpoint = endpoint
      const region = q.get('region')
      if (region) cfg.region = region
      if (q.get('forcePathStyle') === 'true') cfg.forcePathStyle = true
      return cfg
    }
    default:
      return undefined
  }
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z0-9]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

/** A display form of a config, never with the password: `mysql://root@127.0.0.1:3306/Chinook`. */
export function describeConnection(c: ConnectionConfig): string {
  if (c.kind === 'sqlite') return `sqlite:${c.path ?? ''}`
  if (c.kind === 'file') return `file://${c.path ?? ''}`
  if (c.kind === 's3') {
    const q = [c.endpoint ? `endpoint=${c.endpoint}` : '', c.region ? `region=${c.region}` : '', c.forcePathStyle ? 'forcePathStyle=true' : ''].filter(Boolean).join('&')
    return `s3://${c.bucket ?? ''}/${c.path ?? ''}${q ? '?' + q : ''}`
  }
  if (c.kind === 'ftp' || c.kind === 'sftp') {
    const scheme = c.kind === 'ftp' && c.ssl ? 'ftps' : c.kind
    return `${scheme}://${c.user ? encodeURIComponent(c.user) + '@' : ''}${c.host ?? '127.0.0.1'}:${c.port ?? ''}${c.path ? (c.path.startsWith('/') ? '' : '/') + c.path : ''}`
  }
  if (c.ssh) {
    const base = describeConnection({ ...c, ssh: undefined })
    return `${base}${base.includes('?') ? '&' : '?'}ssh=${encodeURIComponent(c.ssh.user)}@${c.ssh.host}:${c.ssh.port ?? 22}`
  }
  const q = c.schema ? `?schema=${encodeURIComponent(c.schema)}` : ''
  return `${c.kind}://${c.user ? encodeURIComponent(c.user) + '@' : ''}${c.host ?? '127.0.0.1'}:${c.port ?? ''}/${c.database ?? ''}${q}`
}
