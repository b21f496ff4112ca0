/**
 * The S3 and S3-compatible store (`s3://bucket/prefix?endpoint=...&region=...&forcePathStyle=true`;
 * @aws-sdk/client-s3, uploads by @aws-sdk/lib-storage).
 *
 * - Credentials: `user` = access key id, `password` = secret access key; without them the SDK's
 *   default chain (environment, shared config, instance role) is used.
 * - Checksums `WHEN_REQUIRED` for requests and responses: S3-compatible servers (MinIO versions,
 *   s3rver, Ceph) do not all implement the CRC32 trailers the SDK sends by default since 2025.
 * - Store paths are keys under `config.path` (the prefix); "folders" are the `/`-delimited common
 *   prefixes of a listing, and `mkdirp` creates nothing (S3 has no folders).
 * - Atomic upload: an object appears only when its upload completes. lib-storage sends a single
 *   PUT for small bodies and a multipart upload (5 MiB parts, up to 4 in flight) for larger ones;
 *   the multipart upload is completed only after the last part, and an abort (or a failure)
 *   aborts the multipart upload, so nothing is left under the name or as stray parts.
 * - `rename` is a server-side copy then delete (S3 has no rename; CopyObject takes objects up to
 *   5 GiB); a reader may see both names for a moment, never half an object.
 * - `noOverwrite` checks the key right before the upload completes (HEAD); S3 has no atomic
 *   create-if-absent on every compatible server.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { ConnectionConfig, TestResult } from '../types.js'
import { atomicUpload, byName, cleanRel, CountingStream, listedOk, testFailed, transferAborted } from './remote.js'
import type { FileStore, StoreEntry, StoreReadOptions, StoreUpload, StoreWriteOptions } from './types.js'

/** Part size of multipart uploads (the S3 minimum, 5 MiB). */
export const S3_PART_BYTES = 5 * 1024 * 1024

/** An S3 bucket prefix as a {@link FileStore}. */
export class S3Store implements FileStore {
  readonly kind = 's3' as const
  readonly client: S3Client
  readonly bucket: string
  readonly prefix: string

  /** @throws Error naming `connection.bucket` when it is missing. */
  constructor(readonly config: ConnectionConfig) {
    if (!config.bucket) throw new Error('connection.bucket: an S3 connection needs the bucket')
    this.bucket = config.bucket
    this.prefix = cleanRel(config.path ?? '')
    this.client = new S3Client({
      region: config.region || 'us-east-1',
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: !!config.forcePathStyle,
      ...(config.user ? { credentials: { accessKeyId: config.user, secretAccessKey: config.password ?? '' } } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    })
  }

  get #where(): string {
    return `s3://${this.bucket}${this.prefix ? '/' + this.prefix : ''}`
  }

  #key(rel: string): string {
    const r = cleanRel(rel)
    return this.prefix ? (r ? `${this.prefix}/${r}` : this.prefix) : r
  }

  async test(): Promise<TestResult> {
    const t0 = performance.now()
    try {
      const entries = await this.list('', 50)
      return listedOk(t0, entries, { serverVersion: this.config.endpoint ? `S3-compatible at ${this.config.endpoint}` : `Amazon S3 (${this.config.region || 'us-east-1'})` })
    } catch (e) {
      return testFailed(t0, e)
    }
  }

  async list(dir: string, max = Infinity): Promise<StoreEntry[]> {
    const base = cleanRel(dir)
    const k = this.#key(base)
    const prefix = k ? `${k}/` : ''
    const out: StoreEntry[] = []
    let token: string | undefined
    do {
      let res: ListObjectsV2CommandOutput
      try {
        res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: Number.isFinite(max) ? Math.min(1000, max) : 1000 }))
      } catch (e) {
        throw wrap(this.#where, 'list', dir, e)
      }
      for (const p of res.CommonPrefixes ?? []) {
        const name = p.Prefix!.slice(prefix.length).replace(/\/$/, '')
        if (name) out.push({ path: base ? `${base}/${name}` : name, name, type: 'dir', size: 0 })
      }
      for (const o of res.Contents ?? []) {
        const name = o.Key!.slice(prefix.length)
        if (!name) continue // a "folder" marker object
        out.push({ path: base ? `${base}/${name}` : name, name, type: 'file', size: Number(o.Size ?? 0), ...(o.LastModified ? { mtime: o.LastModified } : {}) })
      }
      token = res.IsTruncated && out.length < max ? res.NextContinuationToken : undefined
    } while (token)
    return byName(out)
  }

  async stat(rel: string): Promise<StoreEntry | null> {
    const clean = cleanRel(rel)
    if (!clean) return { path: '', name: '', type: 'dir', size: 0 }
    let headError: unknown
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(clean) }))
      return { path: clean, name: path.posix.basename(clean), type: 'file', size: Number(h.ContentLength ?? 0), ...(h.LastModified ? { mtime: h.LastModified } : {}) }
    } catch (e) {
      // Not found: maybe a "folder". Some S3-compatible servers that keep objects as files
      // (s3rver) answer HEAD of a folder with a 500; the listing below decides then.
      if (!isNotFound(e)) headError = e
    }
    try {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.#key(clean)}/`, Delimiter: '/', MaxKeys: 1 }))
      if (res.KeyCount || res.Contents?.length || res.CommonPrefixes?.length) return { path: clean, name: path.posix.basename(clean), type: 'dir', size: 0 }
    } catch (e) {
      throw wrap(this.#where, 'stat', rel, headError ?? e)
    }
    if (headError) throw wrap(this.#where, 'stat', rel, headError)
    return null
  }

  async read(rel: string, opts: StoreReadOptions = {}): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(rel) }), opts.signal ? { abortSignal: opts.signal } : {})
      return res.Body as Readable
    } catch (e) {
      if (opts.signal?.aborted) throw transferAborted('read', opts.signal)
      const err = wrap(this.#where, 'read', rel, e)
      if (isNotFound(e)) (err as { code?: string }).code = 'ENOENT'
      throw err
    }
  }

  async write(rel: string, opts: StoreWriteOptions = {}): Promise<StoreUpload> {
    const clean = cleanRel(rel)
    if (!clean) throw new Error(`${this.#where}: write: an empty path`)
    if (opts.noOverwrite && (await this.stat(clean))) throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
    const counter = new CountingStream()
    const key = this.#key(clean)
    const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: counter }, partSize: S3_PART_BYTES, queueSize: 4, leavePartsOnError: false })
    // lib-storage completes the multipart upload as soon as the body ends; for noOverwrite the
    // check runs before the body is ended (below), the closest S3 offers without conditional writes.
    const uploaded = upload.done()
    return atomicUpload({
      where: this.#where,
      rel,
      counter,
      transfer: uploaded,
      ...(opts.signal ? { signal: opts.signal } : {}),
      discard: async () => {
        await upload.abort().catch(() => undefined)
        if (!counter.destroyed) counter.destroy()
        await uploaded.catch(() => undefined)
      },
      beforeEnd: async () => {
        if (opts.noOverwrite && (await this.stat(clean))) throw Object.assign(new Error(`${this.#where}: write '${rel}': the file exists (writeMode nonConflict)`), { code: 'EEXIST' })
      },
      wrap: (e) => wrap(this.#where, 'write', rel, e),
    })
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.#key(from)
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.#key(to), CopySource: `${this.bucket}/${src.split('/').map(encodeURIComponent).join('/')}` }))
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: src }))
    } catch (e) {
      throw wrap(this.#where, 'rename', `${from}' -> '${to}`, e)
    }
  }

  async delete(rel: string): Promise<boolean> {
    const st = await this.stat(rel)
    if (!st || st.type === 'dir') return false
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(rel) }))
      return true
    } catch (e) {
      throw wrap(this.#where, 'delete', rel, e)
    }
  }

  /** S3 has no folders: nothing to create. */
  async mkdirp(_dir: string): Promise<void> {
    cleanRel(_dir)
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } }
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404
}

/** An Error naming the bucket, the operation and the path, with the S3 error name as `code`. */
function wrap(where: string, op: string, rel: string, e: unknown): Error {
  const err = e as Error & { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } }
  const status = err?.$metadata?.httpStatusCode
  const msg = err?.message && err.message !== 'UnknownError' ? err.message : `${err?.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}`
  const out = new Error(`${where}: ${op}${rel ? ` '${rel}'` : ''}: ${msg}`) as Error & { code?: string }
  const code = err?.Code ?? (err?.name && err.name !== 'Error' ? err.name : undefined)
  if (code) out.code = code
  return out
}
