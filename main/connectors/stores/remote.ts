/**
 * Helpers shared by the remote stores (FTP, SFTP, S3): store paths under a POSIX root, temporary
 * names for atomic uploads, a byte-counting upload stream, and the test result of a listing.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import type { TestResult } from '../types.js'
import type { StoreEntry, StoreUpload } from './types.js'

/**
 * A store-relative path cleaned to `a/b/c` (no leading or trailing slash, no `.` or empty segments).
 * @throws Error naming the path when a segment is `..` (paths never climb above the root).
 */
export function cleanRel(rel: string): string {
  const parts = rel.replace(/\\/g, '/').split('/')
  if (parts.includes('..')) throw new Error(`path '${rel}': '..' is not allowed (paths stay under the connection's folder)`)
  return parts.filter((p) => p !== '' && p !== '.').join('/')
}

/** `root` joined with a store-relative path (POSIX). An empty `rel` is the root itself. */
export function underRoot(root: string, rel: string): string {
  const r = cleanRel(rel)
  if (!r) return root || '.'
  return root ? path.posix.join(root, r) : r
}

/** The temporary sibling an upload writes before it is published: `dir/.name.sluice-<hex>.tmp`. */
export function tmpSibling(abs: string): string {
  return path.posix.join(path.posix.dirname(abs), `.${path.posix.basename(abs)}.sluice-${randomBytes(4).toString('hex')}.tmp`)
}

/** A PassThrough counting the bytes written through it (`bytes`). */
export class CountingStream extends PassThrough {
  bytes = 0
  constructor() {
    super({ highWaterMark: 1 << 20 })
  }
  override _transform(chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length
    cb(null, chunk)
  }
}

/** Entries sorted by name, as {@link FileStore.list} returns them. */
export function byName(entries: StoreEntry[]): StoreEntry[] {
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** A test result for a listing that worked. */
export function listedOk(t0: number, entries: StoreEntry[], extra: Partial<TestResult> = {}): TestResult {
  return { ok: true, latencyMs: Math.round((performance.now() - t0) * 10) / 10, entries: entries.slice(0, 50).map((e) => ({ name: e.name, type: e.type, size: e.size })), ...extra }
}

/** A test result for an error (its exact message and code). */
export function testFailed(t0: number, e: unknown, extra: Partial<TestResult> = {}): TestResult {
  const err = e as { message?: string; code?: unknown; name?: string; Code?: string }
  const code = typeof err?.code === 'string' || typeof err?.code === 'number' ? String(err.code) : err?.Code ?? (err?.name && err.name !== 'Error' ? err.name : undefined)
  return { ok: false, latencyMs: Math.round((performance.now() - t0) * 10) / 10, error: err?.message ?? String(e), ...(code ? { code } : {}), ...extra }
}

/** An Error named `AbortError` for an aborted transfer (or the signal's own reason when it is an Error). */
export function transferAborted(what: string, signal?: AbortSignal): Error {
  if (signal?.reason instanceof Error) return signal.reason
  return Object.assign(new Error(`${what} aborted`), { name: 'AbortError' })
}

/** What one remote store does at each step of an atomic upload (see {@link atomicUpload}). */
export interface UploadSteps {
  /** `ftp://host/root`-like prefix of messages. */
  where: string
  /** The store path, for messages. */
  rel: string
  /** The stream the caller writes; its end ends the transfer. */
  counter: CountingStream
  /** Settles when the bytes are stored under the temporary name (or the multipart upload ended). */
  transfer: Promise<unknown>
  signal?: AbortSignal
  /** Stop the transfer and drop what it wrote (temporary file, multipart parts). Never throws. */
  discard(): Promise<void>
  /** Before the body is ended (S3 completes the object when it ends: its nonConflict check goes here). */
  beforeEnd?(): Promise<void>
  /** Make the whole file visible under its name, after the transfer ended (rename, nonConflict). */
  publish?(): Promise<void>
  /** After the upload succeeded (FTP gives its transfer connection back). */
  release?(): void
  /** The store's error with `where`, `write` and `rel` in its message. */
  wrap(e: unknown): Error
}

/**
 * The lifecycle every remote store's {@link FileStore.write} shares: `done()` ends the body, waits
 * for the transfer and publishes; an error, an aborted signal or `abort()` discards what was
 * written, once. Nothing is visible under the final name before `publish` (or, on S3, before the
 * multipart upload completes).
 */
export function atomicUpload(s: UploadSteps): StoreUpload {
  let settled = false
  s.transfer.catch(() => undefined)
  const abort = async (): Promise<void> => {
    s.signal?.removeEventListener('abort', onAbort)
    if (settled) return
    settled = true
    await s.discard()
  }
  const onAbort = (): void => void abort()
  s.signal?.addEventListener('abort', onAbort, { once: true })
  return {
    stream: s.counter,
    abort,
    done: async () => {
      if (settled) throw new Error(`${s.where}: write '${s.rel}': the upload was aborted`)
      try {
        await s.beforeEnd?.()
        s.counter.end()
        await s.transfer
        if (s.signal?.aborted) throw transferAborted('write', s.signal)
        await s.publish?.()
        settled = true
        s.signal?.removeEventListener('abort', onAbort)
        s.release?.()
        return { bytes: s.counter.bytes }
      } catch (e) {
        await abort()
        if (s.signal?.aborted) throw transferAborted('write', s.signal)
        throw e instanceof Error && e.message.startsWith(s.where) ? e : s.wrap(e)
      }
    },
  }
}
