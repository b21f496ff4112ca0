/**
 * The local folder store (`file:///path`): store paths resolve under the connection's root folder
 * (`config.path`). Writes go to a temporary sibling (`.<name>.sluice-<random>.tmp`) and are renamed
 * onto the final name only when the bytes are all on disk (fsync'd), so a reader never sees half a
 * file; `noOverwrite` publishes with a hard link, which fails when the name exists.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { fsync, open as fsOpen, close as fsClose } from 'node:fs'
import { link, mkdir, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { ConnectionConfig, TestResult } from '../types.js'
import type { FileStore, StoreEntry, StoreReadOptions, StoreUpload, StoreWriteOptions } from './types.js'

/**
 * Resolve a store-relative path under `root`.
 * @throws Error naming the path when it climbs above the root (`..`).
 */
export function resolveUnder(root: string, rel: string): string {
  const clean = path.posix.normalize('/' + rel.replace(/\\/g, '/')).replace(/^\/+/, '')
  if (rel.split(/[\\/]/).includes('..')) throw new Error(`path '${rel}': '..' is not allowed (paths stay under the connection's folder)`)
  return path.join(root, clean)
}

/** A local folder as a {@link FileStore}. */
export class LocalStore implements FileStore {
  readonly kind = 'file' as const
  readonly root: string

  /** @throws Error when `config.path` (the root folder) is missing. */
  constructor(config: Pick<ConnectionConfig, 'path'>) {
    if (!config.path) throw new Error('connection.path: a local folder connection needs the folder (file:///path/to/folder)')
    this.root = path.resolve(config.path)
  }

  /** The absolute local path of a store path (readers that need random access use it directly). */
  localPath(rel: string): string {
    return resolveUnder(this.root, rel)
  }

  async test(): Promise<TestResult> {
    const t0 = performance.now()
    try {
      const st = await stat(this.root)
      if (!st.isDirectory()) return { ok: false, latencyMs: performance.now() - t0, error: `${this.root} is not a folder`, code: 'ENOTDIR' }
      const entries = await this.list('')
      return { ok: true, latencyMs: performance.now() - t0, serverVersion: `local folder ${this.root}`, entries: entries.slice(0, 50).map((e) => ({ name: e.name, type: e.type, size: e.size })) }
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      return { ok: false, latencyMs: performance.now() - t0, error: err.message, ...(err.code ? { code: err.code } : {}) }
    }
  }

  async list(dir: string): Promise<StoreEntry[]> {
    const abs = resolveUnder(this.root, dir)
    let names: string[]
    try {
      names = await readdir(abs)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return []
      throw new Error(`list '${dir}': ${(e as Error).message}`)
    }
    const out: StoreEntry[] = []
    for (const name of names.sort()) {
      const rel = dir ? path.posix.join(dir.replace(/\/+$/, ''), name) : name
      try {
        const st = await stat(path.join(abs, name))
        out.push({ path: rel, name, type: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size, mtime: st.mtime })
      } catch {
        /* vanished between readdir and stat */
      }
    }
    return out
  }

  async stat(rel: string): Promise<StoreEntry | null> {
    try {
      const st = await stat(resolveUnder(this.root, rel))
      return { path: rel, name: path.posix.basename(rel), type: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size, mtime: st.mtime }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new Error(`stat '${rel}': ${(e as Error).message}`)
    }
  }

  async read(rel: string, opts: StoreReadOptions = {}): Promise<Readable> {
    const abs = resolveUnder(this.root, rel)
    const st = await stat(abs).catch((e: Error) => {
      throw new Error(`read '${rel}': ${e.message}`)
    })
    if (st.isDirectory()) throw new Error(`read '${rel}': is a folder`)
    return createReadStream(abs, { highWaterMark: 1 << 20, ...(opts.signal ? { signal: opts.signal } : {}) })
  }

  async write(rel: string, opts: StoreWriteOptions = {}): Promise<StoreUpload> {
    const abs = resolveUnder(this.root, rel)
    await mkdir(path.dirname(abs), { recursive: true })
    if (opts.noOverwrite && (await this.stat(rel))) throw Object.assign(new Error(`write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
    const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.sluice-${randomBytes(4).toString('hex')}.tmp`)
    const stream = createWriteStream(tmp, { highWaterMark: 1 << 20 })
    stream.on('error', () => undefined) // surfaced by done()
    const onAbort = () => stream.destroy(opts.signal!.reason ?? new Error('aborted'))
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    let finished = false
    const abort = async () => {
      opts.signal?.removeEventListener('abort', onAbort)
      if (!stream.destroyed) stream.destroy()
      await unlink(tmp).catch(() => undefined)
    }
    return {
      stream,
      abort,
      done: async () => {
        if (finished) throw new Error(`write '${rel}': done() called twice`)
        finished = true
        try {
          await new Promise<void>((resolve, reject) => {
            if (stream.errored) return reject(stream.errored)
            stream.once('error', reject)
            stream.end(() => resolve())
          })
          await fsyncPath(tmp)
          const bytes = (await stat(tmp)).size
          if (opts.noOverwrite) {
            await link(tmp, abs).catch((e: NodeJS.ErrnoException) => {
              throw Object.assign(new Error(`write '${rel}': ${e.code === 'EEXIST' ? 'the file exists (writeMode nonConflict)' : e.message}`), { code: e.code })
            })
            await unlink(tmp)
          } else await rename(tmp, abs)
          opts.signal?.removeEventListener('abort', onAbort)
          return { bytes }
        } catch (e) {
          await abort()
          if (e instanceof Error && !e.message.startsWith(`write '${rel}'`)) e.message = `write '${rel}': ${e.message}`
          throw e
        }
      },
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const dst = resolveUnder(this.root, to)
    await mkdir(path.dirname(dst), { recursive: true })
    await rename(resolveUnder(this.root, from), dst).catch((e: Error) => {
      throw new Error(`rename '${from}' -> '${to}': ${e.message}`)
    })
  }

  async delete(rel: string): Promise<boolean> {
    try {
      await unlink(resolveUnder(this.root, rel))
      return true
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return false
      if (code === 'EISDIR' || code === 'EPERM') {
        // An empty folder (the clean-up of a writer's fragment folder); a folder with files stays.
        return rmdir(resolveUnder(this.root, rel)).then(
          () => true,
          () => false,
        )
      }
      throw new Error(`delete '${rel}': ${(e as Error).message}`)
    }
  }

  async mkdirp(dir: string): Promise<void> {
    await mkdir(resolveUnder(this.root, dir), { recursive: true })
  }

  async close(): Promise<void> {
    /* nothing held open */
  }
}

function fsyncPath(p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fsOpen(p, 'r', (err, fd) => {
      if (err) return reject(err)
      fsync(fd, (e) => fsClose(fd, () => (e ? reject(e) : resolve())))
    })
  })
}
