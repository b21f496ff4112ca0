/**
 * The SFTP store (`sftp://user@host:22/folder`, ssh2). One SSH session and SFTP channel per store,
 * opened on first use and re-opened after it dropped; SFTP runs requests concurrently on it.
 *
 * - Authentication by `password` or `privateKey` (+ `passphrase`): OpenSSH, PEM and PKCS#8 keys
 *   (main/connectors/ssh.ts).
 * - Host key pinned: `config.hostKey` absent, the first key seen is pinned (on the config and, for a
 *   saved connection, in the state DB); present, another key is refused with both fingerprints.
 * - The root is `config.path` (absolute, or relative to the login folder; default the login folder).
 * - Atomic upload: bytes go to `.<name>.sluice-<hex>.tmp` beside the target, published by
 *   `posix-rename@openssh.com` (atomic replace) when the server has it, else by a plain SFTP
 *   rename after removing the old file. `noOverwrite` publishes with a plain SFTP rename, which
 *   fails when the name exists (SFTP v3 never replaces on rename), so no existing file is clobbered.
 */
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { SFTPWrapper, Stats } from 'ssh2'
import { connectSsh, type SshSession } from '../ssh.js'
import { pinHostKey, type ConnectionConfig, type TestResult } from '../types.js'
import { atomicUpload, byName, cleanRel, CountingStream, listedOk, testFailed, tmpSibling, transferAborted, underRoot } from './remote.js'
import type { FileStore, StoreEntry, StoreReadOptions, StoreUpload, StoreWriteOptions } from './types.js'

const NO_SUCH_FILE = 2

interface Live {
  session: SshSession
  sftp: SFTPWrapper
}

/** An SFTP server folder as a {@link FileStore}. */
export class SftpStore implements FileStore {
  readonly kind = 'sftp' as const
  readonly root: string
  #live: Promise<Live> | undefined
  #closed = false

  /** @throws Error naming the field when host or user is missing. */
  constructor(readonly config: ConnectionConfig) {
    if (!config.host) throw new Error('connection.host: an SFTP connection needs the server host')
    if (!config.user) throw new Error('connection.user: an SFTP connection needs the user')
    this.root = (config.path ?? '').replace(/\/+$/, '') || (config.path?.startsWith('/') ? '/' : '')
  }

  get #where(): string {
    return `sftp ${this.config.user}@${this.config.host}:${this.config.port ?? 22}`
  }

  #open(): Promise<Live> {
    if (this.#closed) return Promise.reject(new Error(`${this.#where}: the store is closed`))
    if (this.#live) return this.#live
    const c = this.config
    const p = (async (): Promise<Live> => {
      const session = await connectSsh(
        { host: c.host!, port: c.port ?? 22, user: c.user!, password: c.password, privateKey: c.privateKey, passphrase: c.passphrase, hostKey: c.hostKey },
        { field: '', keepaliveMs: 15_000, readyTimeoutMs: c.connectTimeoutMs ?? 20_000, onFirstHostKey: (fp) => pinHostKey(c, 'hostKey', fp) },
      )
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        session.client.sftp((err, s) => (err ? reject(new Error(`${this.#where}: cannot start the SFTP subsystem: ${err.message}`)) : resolve(s))),
      ).catch((e: Error) => {
        session.client.end()
        throw e
      })
      session.client.once('close', () => {
        if (this.#live === p) this.#live = undefined
      })
      return { session, sftp }
    })()
    this.#live = p
    p.catch(() => {
      if (this.#live === p) this.#live = undefined
    })
    return p
  }

  #abs(rel: string): string {
    return underRoot(this.root, rel)
  }

  async test(): Promise<TestResult> {
    const t0 = performance.now()
    let hostKey: string | undefined
    try {
      const live = await this.#open()
      hostKey = live.session.hostKey
      const entries = await this.list('')
      const ident = (live.session.client as unknown as { _remoteVer?: string })._remoteVer
      return listedOk(t0, entries, { hostKeys: { hostKey }, ...(ident ? { serverVersion: ident } : {}) })
    } catch (e) {
      return testFailed(t0, e, hostKey ? { hostKeys: { hostKey } } : {})
    }
  }

  async list(dir: string): Promise<StoreEntry[]> {
    const { sftp } = await this.#open()
    const abs = this.#abs(dir)
    const base = cleanRel(dir)
    let items: { filename: string; attrs: Stats }[]
    try {
      items = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(abs, cb))
    } catch (e) {
      if ((e as { code?: number }).code === NO_SUCH_FILE) return []
      throw new Error(`${this.#where}: list '${dir}': ${(e as Error).message}`)
    }
    return byName(
      items
        .filter((i) => i.filename !== '.' && i.filename !== '..')
        .map((i) => entry(base ? `${base}/${i.filename}` : i.filename, i.attrs)),
    )
  }

  async stat(rel: string): Promise<StoreEntry | null> {
    const { sftp } = await this.#open()
    try {
      return entry(cleanRel(rel), await call<Stats>((cb) => sftp.stat(this.#abs(rel), cb)))
    } catch (e) {
      if ((e as { code?: number }).code === NO_SUCH_FILE) return null
      throw new Error(`${this.#where}: stat '${rel}': ${(e as Error).message}`)
    }
  }

  async read(rel: string, opts: StoreReadOptions = {}): Promise<Readable> {
    const st = await this.stat(rel)
    if (!st) throw Object.assign(new Error(`${this.#where}: read '${rel}': no such file`), { code: 'ENOENT' })
    if (st.type === 'dir') throw new Error(`${this.#where}: read '${rel}': is a folder`)
    const { sftp } = await this.#open()
    const stream = sftp.createReadStream(this.#abs(rel), { highWaterMark: 256 * 1024 } as never) as unknown as Readable
    // Once every byte was delivered, a failure to close the remote handle (the session ended
    // first) concerns no one: keep it from becoming an uncaught 'error'.
    stream.once('end', () => stream.on('error', () => undefined))
    if (opts.signal) {
      const onAbort = (): void => void stream.destroy(transferAborted('read', opts.signal))
      if (opts.signal.aborted) onAbort()
      else opts.signal.addEventListener('abort', onAbort, { once: true })
      stream.once('close', () => opts.signal!.removeEventListener('abort', onAbort))
    }
    return stream
  }

  async write(rel: string, opts: StoreWriteOptions = {}): Promise<StoreUpload> {
    const clean = cleanRel(rel)
    if (!clean) throw new Error(`${this.#where}: write: an empty path`)
    await this.mkdirp(path.posix.dirname(clean) === '.' ? '' : path.posix.dirname(clean))
    if (opts.noOverwrite && (await this.stat(clean))) throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
    const { sftp } = await this.#open()
    const abs = this.#abs(clean)
    const tmp = tmpSibling(abs)
    const counter = new CountingStream()
    const remote = sftp.createWriteStream(tmp)
    const written = new Promise<void>((resolve, reject) => {
      remote.once('close', resolve)
      remote.on('error', reject)
      counter.on('error', reject)
    })
    counter.pipe(remote)
    return atomicUpload({
      where: this.#where,
      rel,
      counter,
      transfer: written,
      ...(opts.signal ? { signal: opts.signal } : {}),
      discard: async () => {
        counter.unpipe(remote)
        if (!counter.destroyed) counter.destroy()
        if (!remote.destroyed) remote.destroy()
        await written.catch(() => undefined)
        await call<void>((cb) => sftp.unlink(tmp, cb)).catch(() => undefined)
      },
      publish: () => this.#publish(sftp, tmp, abs, !!opts.noOverwrite, rel),
      wrap: (e) => new Error(`${this.#where}: write '${rel}': ${(e as Error)?.message ?? String(e)}`),
    })
  }

  async #publish(sftp: SFTPWrapper, from: string, to: string, noOverwrite: boolean, rel: string): Promise<void> {
    if (noOverwrite) {
      try {
        await call<void>((cb) => sftp.rename(from, to, cb))
      } catch (e) {
        throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict) or cannot be created: ${(e as Error).message}`), { code: 'EEXIST' })
      }
      return
    }
    await this.#replace(sftp, from, to)
  }

  /** Rename replacing the target: posix-rename@openssh.com when offered, else unlink + rename. */
  async #replace(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
    try {
      await call<void>((cb) => sftp.ext_openssh_rename(from, to, cb))
      return
    } catch (e) {
      if (!/not supported/i.test((e as Error).message)) throw e
    }
    await call<void>((cb) => sftp.unlink(to, cb)).catch(() => undefined)
    await call<void>((cb) => sftp.rename(from, to, cb))
  }

  async rename(from: string, to: string): Promise<void> {
    const { sftp } = await this.#open()
    const dst = cleanRel(to)
    await this.mkdirp(path.posix.dirname(dst) === '.' ? '' : path.posix.dirname(dst))
    try {
      await this.#replace(sftp, this.#abs(from), this.#abs(dst))
    } catch (e) {
      throw new Error(`${this.#where}: rename '${from}' -> '${to}': ${(e as Error).message}`)
    }
  }

  async delete(rel: string): Promise<boolean> {
    const { sftp } = await this.#open()
    try {
      await call<void>((cb) => sftp.unlink(this.#abs(rel), cb))
      return true
    } catch (e) {
      if ((e as { code?: number }).code === NO_SUCH_FILE) return false
      throw new Error(`${this.#where}: delete '${rel}': ${(e as Error).message}`)
    }
  }

  /** Create `dir` and its parents ('' creates the root folder itself when missing). */
  async mkdirp(dir: string): Promise<void> {
    const clean = cleanRel(dir)
    const { sftp } = await this.#open()
    // The root's own missing ancestors first (absolute roots only), then the folders under it.
    const rootParts = this.root.split('/').filter(Boolean)
    const chain: string[] = []
    for (let i = 1; i <= rootParts.length; i++) chain.push((this.root.startsWith('/') ? '/' : '') + rootParts.slice(0, i).join('/'))
    const parts = clean ? clean.split('/') : []
    for (let i = 1; i <= parts.length; i++) chain.push(this.#abs(parts.slice(0, i).join('/')))
    const target = chain[chain.length - 1]
    if (!target) return
    const there = await call<Stats>((cb) => sftp.stat(target, cb)).catch(() => undefined)
    if (there?.isDirectory()) return
    for (const abs of chain) {
      try {
        const st = await call<Stats>((cb) => sftp.stat(abs, cb))
        if (!st.isDirectory()) throw new Error(`${this.#where}: mkdir '${dir}': '${abs}' is a file`)
        continue
      } catch (e) {
        if ((e as { code?: number }).code !== NO_SUCH_FILE) throw e
      }
      try {
        await call<void>((cb) => sftp.mkdir(abs, cb))
      } catch (e) {
        // Created meanwhile by a concurrent writer: fine when it is a folder now.
        const st = await call<Stats>((cb) => sftp.stat(abs, cb)).catch(() => undefined)
        if (!st?.isDirectory()) throw new Error(`${this.#where}: mkdir '${abs}': ${(e as Error).message}`)
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    const live = await this.#live?.catch(() => undefined)
    this.#live = undefined
    live?.session.client.end()
  }
}

function entry(rel: string, st: Stats): StoreEntry {
  const dir = st.isDirectory()
  return { path: rel, name: path.posix.basename(rel), type: dir ? 'dir' : 'file', size: dir ? 0 : Number(st.size), ...(st.mtime ? { mtime: new Date(st.mtime * 1000) } : {}) }
}

/** Promisify one ssh2 SFTP call. */
function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))
}
