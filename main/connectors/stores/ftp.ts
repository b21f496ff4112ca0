/**
 * The FTP / explicit FTPS store (`ftp://user:pass@host:21/folder`, `ftps://...`; basic-ftp).
 *
 * - FTPS is explicit (AUTH TLS on the control port, then PROT P data connections), set by `ssl`
 *   or the `ftps://` scheme. The server certificate is verified against the system CAs, or
 *   `options.ca` (PEM text); `options.rejectUnauthorized: false` accepts any certificate
 *   (self-signed test servers; never on the internet).
 * - Transfers are passive (EPSV, then PASV) by default. `passive: false` uses active mode: the
 *   store listens on the control connection's local address and sends PORT (EPRT over IPv6); the
 *   server connects back. basic-ftp has passive mode only, so active mode is a transfer strategy of
 *   ours ({@link enterActiveMode}); it needs the server to be able to reach this machine.
 * - An FTP control connection runs one command at a time: listings, renames and deletes share one
 *   connection (queued), and every read or write opens its own connection for the transfer, so a
 *   reader streaming a file never blocks a listing.
 * - The root is `config.path` (absolute, or relative to the login folder).
 * - Atomic upload: bytes go to `.<name>.sluice-<hex>.tmp`, renamed onto the name once the server
 *   confirmed the whole transfer (226). FTP's rename (RNFR/RNTO) replaces on most servers; where it
 *   refuses an existing target, the target is removed and the rename retried. `noOverwrite` checks
 *   the name right before publishing (FTP has no atomic no-clobber rename).
 */
import { Client, FTPError, type FileInfo, type FTPContext, type FTPResponse } from 'basic-ftp'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import { PassThrough, type Readable } from 'node:stream'
import type { ConnectionConfig, TestResult } from '../types.js'
import { atomicUpload, byName, cleanRel, CountingStream, listedOk, testFailed, tmpSibling, transferAborted } from './remote.js'
import type { FileStore, StoreEntry, StoreReadOptions, StoreUpload, StoreWriteOptions } from './types.js'

/** An FTP server folder as a {@link FileStore}. */
export class FtpStore implements FileStore {
  readonly kind = 'ftp' as const
  #control: Promise<Client> | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #root: string | undefined
  #welcome = ''
  #closed = false
  readonly #transfers = new Set<Client>()

  /** @throws Error naming the field when the host is missing. */
  constructor(readonly config: ConnectionConfig) {
    if (!config.host) throw new Error('connection.host: an FTP connection needs the server host')
  }

  get #where(): string {
    return `${this.config.ssl ? 'ftps' : 'ftp'} ${this.config.user ?? 'anonymous'}@${this.config.host}:${this.config.port ?? 21}`
  }

  /** A new logged-in client; the root is resolved against the login folder on first login. */
  async #login(): Promise<Client> {
    if (this.#closed) throw new Error(`${this.#where}: the store is closed`)
    const c = this.config
    const client = new Client(c.connectTimeoutMs ?? 30_000)
    const opts = (c.options ?? {}) as { ca?: string; rejectUnauthorized?: boolean }
    try {
      const res = await client.access({
        host: c.host,
        port: c.port ?? 21,
        user: c.user ?? 'anonymous',
        password: c.password ?? (c.user && c.user !== 'anonymous' ? '' : 'anonymous@'),
        secure: c.ssl ? true : false,
        secureOptions: c.ssl ? { ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}), servername: c.host } : undefined,
      })
      this.#welcome ||= res.message.replace(/^\d{3}[ -]/, '').trim()
      if (c.passive === false) client.prepareTransfer = enterActiveMode
      if (this.#root === undefined) {
        const p = c.path ?? ''
        this.#root = p.startsWith('/') ? p.replace(/\/+$/, '') || '/' : path.posix.join(await client.pwd(), p).replace(/\/+$/, '') || '/'
      }
      return client
    } catch (e) {
      client.close()
      throw wrap(this.#where, 'login', '', e)
    }
  }

  /** Run `fn` on the shared control connection, one at a time; a dropped connection is re-opened once. */
  #withControl<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        this.#control ??= this.#login()
        const p = this.#control
        let client: Client
        try {
          client = await p
        } catch (e) {
          if (this.#control === p) this.#control = undefined
          throw e
        }
        if (client.closed) {
          if (this.#control === p) this.#control = undefined
          continue
        }
        try {
          return await fn(client)
        } catch (e) {
          if (client.closed && attempt === 0) {
            if (this.#control === p) this.#control = undefined
            continue
          }
          throw e
        }
      }
    }
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => undefined)
    return next
  }

  #abs(rel: string): string {
    const r = cleanRel(rel)
    return r ? path.posix.join(this.#root!, r) : this.#root!
  }

  async test(): Promise<TestResult> {
    const t0 = performance.now()
    try {
      const entries = await this.list('')
      return listedOk(t0, entries, this.#welcome ? { serverVersion: this.#welcome } : {})
    } catch (e) {
      return testFailed(t0, e)
    }
  }

  async list(dir: string): Promise<StoreEntry[]> {
    const base = cleanRel(dir)
    return this.#withControl(async (client) => {
      let items: FileInfo[]
      try {
        items = await client.list(this.#abs(base))
      } catch (e) {
        if (isMissing(e)) return []
        throw wrap(this.#where, 'list', dir, e)
      }
      return byName(items.filter((i) => i.name !== '.' && i.name !== '..').map((i) => entry(base ? `${base}/${i.name}` : i.name, i)))
    })
  }

  async stat(rel: string): Promise<StoreEntry | null> {
    const clean = cleanRel(rel)
    if (!clean) return { path: '', name: '', type: 'dir', size: 0 }
    const parent = path.posix.dirname(clean) === '.' ? '' : path.posix.dirname(clean)
    const name = path.posix.basename(clean)
    return (await this.list(parent)).find((e) => e.name === name) ?? null
  }

  async read(rel: string, opts: StoreReadOptions = {}): Promise<Readable> {
    const st = await this.stat(rel)
    if (!st) throw Object.assign(new Error(`${this.#where}: read '${rel}': no such file`), { code: 'ENOENT' })
    if (st.type === 'dir') throw new Error(`${this.#where}: read '${rel}': is a folder`)
    const client = await this.#login()
    this.#transfers.add(client)
    const out = new PassThrough({ highWaterMark: 1 << 20 })
    const finish = (): void => {
      this.#transfers.delete(client)
      client.close()
    }
    const onAbort = (): void => {
      out.destroy(transferAborted('read', opts.signal))
      finish()
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    client.downloadTo(out, this.#abs(rel)).then(
      () => {
        opts.signal?.removeEventListener('abort', onAbort)
        finish()
      },
      (e) => {
        opts.signal?.removeEventListener('abort', onAbort)
        if (!out.destroyed) out.destroy(wrap(this.#where, 'read', rel, e))
        finish()
      },
    )
    out.once('close', () => {
      if (!client.closed && !out.readableEnded) finish()
    })
    return out
  }

  async write(rel: string, opts: StoreWriteOptions = {}): Promise<StoreUpload> {
    const clean = cleanRel(rel)
    if (!clean) throw new Error(`${this.#where}: write: an empty path`)
    const parent = path.posix.dirname(clean) === '.' ? '' : path.posix.dirname(clean)
    await this.mkdirp(parent)
    if (opts.noOverwrite && (await this.stat(clean))) throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
    const client = await this.#login()
    this.#transfers.add(client)
    const abs = this.#abs(clean)
    const tmp = tmpSibling(abs)
    const counter = new CountingStream()
    const uploaded = client.uploadFrom(counter, tmp)
    const release = (): void => {
      this.#transfers.delete(client)
      client.close()
    }
    return atomicUpload({
      where: this.#where,
      rel,
      counter,
      transfer: uploaded,
      ...(opts.signal ? { signal: opts.signal } : {}),
      discard: async () => {
        if (!counter.destroyed) counter.destroy()
        release()
        await uploaded.catch(() => undefined)
        // Only when it is there: some servers answer DELE of a missing file badly.
        await this.#withControl(async (c) => {
          const names = await c.list(path.posix.dirname(tmp)).then((l) => l.map((i) => i.name), () => [] as string[])
          if (names.includes(path.posix.basename(tmp))) await c.remove(tmp)
        }).then(() => undefined, () => undefined)
      },
      publish: async () => {
        if (opts.noOverwrite && (await this.stat(clean))) throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
        await this.#replace(tmp, abs)
      },
      release,
      wrap: (e) => wrap(this.#where, 'write', rel, e),
    })
  }

  /** RNFR/RNTO, removing an existing target first when the server refuses to replace it. */
  #replace(from: string, to: string): Promise<void> {
    return this.#withControl(async (client) => {
      try {
        await client.rename(from, to)
      } catch (e) {
        if (!(e instanceof FTPError)) throw e
        await client.remove(to).catch(() => undefined)
        await client.rename(from, to)
      }
    })
  }

  async rename(from: string, to: string): Promise<void> {
    const dst = cleanRel(to)
    await this.mkdirp(path.posix.dirname(dst) === '.' ? '' : path.posix.dirname(dst))
    try {
      await this.#withControl(async () => undefined) // resolve the root first
      await this.#replace(this.#abs(from), this.#abs(dst))
    } catch (e) {
      throw wrap(this.#where, 'rename', `${from}' -> '${to}`, e)
    }
  }

  async delete(rel: string): Promise<boolean> {
    const clean = cleanRel(rel)
    return this.#withControl(async (client) => {
      // FTP answers 550 both for "no such file" and "permission denied": list the folder first.
      const abs = this.#abs(clean)
      const names = await client.list(path.posix.dirname(abs)).then((l) => l.filter((i) => !i.isDirectory).map((i) => i.name), () => [] as string[])
      if (!names.includes(path.posix.basename(abs))) return false
      try {
        await client.remove(abs)
        return true
      } catch (e) {
        throw wrap(this.#where, 'delete', rel, e)
      }
    })
  }

  /** Create `dir` and its parents ('' creates the root folder itself when missing). */
  async mkdirp(dir: string): Promise<void> {
    const clean = cleanRel(dir)
    await this.#withControl(async (client) => {
      if (!clean && this.#root === '/') return
      try {
        await client.ensureDir(this.#abs(clean)) // changes the working folder; every path used is absolute
      } catch (e) {
        throw wrap(this.#where, 'mkdir', dir, e)
      }
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const c of this.#transfers) c.close()
    this.#transfers.clear()
    const control = await this.#control?.catch(() => undefined)
    this.#control = undefined
    control?.close()
  }
}

/**
 * Active-mode transfer strategy for basic-ftp (RFC 959 PORT, RFC 2428 EPRT): listen on the control
 * connection's local address, announce it, and take the server's connection as the data socket
 * (TLS client side over FTPS, resuming the control connection's session, as in passive mode).
 * basic-ftp starts the transfer on the 125/150 reply and expects the data socket by then; the server
 * connects before that reply, but the two can reach us in either order, so the transfer command's
 * 125/150 is held back until the connection is there (or refused after the timeout).
 */
async function enterActiveMode(ftp: FTPContext): Promise<FTPResponse> {
  const local = ftp.socket.localAddress
  if (!local) throw new Error('active mode: the control connection has no local address')
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, local, () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  let timer: NodeJS.Timeout | undefined
  const arrived = new Promise<net.Socket | tls.TLSSocket>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`active mode: the server did not connect to ${local}:${port} within ${ftp.timeout} ms`)), ftp.timeout || 30_000)
    server.once('connection', (raw: net.Socket) => {
      clearTimeout(timer)
      server.close()
      if (ftp.socket instanceof tls.TLSSocket) {
        const store = ftp as unknown as { tlsSessionStore?: Buffer }
        const sock = tls.connect({ ...ftp.tlsOptions, socket: raw, session: store.tlsSessionStore ?? ftp.socket.getSession() })
        sock.on('session', (session: Buffer) => (store.tlsSessionStore = session))
        resolve(sock)
      } else resolve(raw)
    })
  })
  arrived.catch(() => server.close())
  let res: FTPResponse
  try {
    res = net.isIPv6(local)
      ? await ftp.request(`EPRT |2|${local}|${port}|`)
      : await ftp.request(`PORT ${local.replace(/^::ffff:/, '').split('.').join(',')},${port >> 8},${port & 255}`)
  } catch (e) {
    clearTimeout(timer)
    server.close()
    throw e
  }
  // Hold the transfer command's 125/150 until the data connection is there (see above). Until then
  // an unconnected placeholder stands in (basic-ftp checks for a data socket before a download).
  ftp.dataSocket = new net.Socket()
  let connected = false
  const handle = ftp.handle.bind(ftp)
  ftp.handle = (command, handler) => {
    ftp.handle = handle
    return handle(command, (r, task) => {
      if (!(r instanceof Error) && (r.code === 125 || r.code === 150) && !connected) {
        arrived.then(
          (sock) => {
            connected = true
            ftp.dataSocket = sock
            handler(r, task)
          },
          (e: Error) => handler(e, task),
        )
        return
      }
      if (r instanceof Error || r.code >= 400) {
        clearTimeout(timer)
        server.close()
      }
      handler(r, task)
    })
  }
  return res
}

/** A reply meaning "no such file or folder" (550; ftp-srv answers 451 with the errno text). */
function isMissing(e: unknown): boolean {
  return e instanceof FTPError && (e.code === 550 || /no such file|not found|ENOENT/i.test(e.message))
}

function entry(rel: string, i: FileInfo): StoreEntry {
  const dir = i.isDirectory
  return { path: rel, name: i.name, type: dir ? 'dir' : 'file', size: dir ? 0 : i.size, ...(i.modifiedAt ? { mtime: i.modifiedAt } : {}) }
}

/** An Error naming the server, the operation and the path, keeping the FTP reply code as `code`. */
function wrap(where: string, op: string, rel: string, e: unknown): Error {
  const err = e as Error & { code?: unknown }
  const out = new Error(`${where}: ${op}${rel ? ` '${rel}'` : ''}: ${err?.message ?? String(e)}`) as Error & { code?: string }
  if (err?.code !== undefined) out.code = String(err.code)
  return out
}
