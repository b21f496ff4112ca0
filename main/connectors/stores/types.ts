/**
 * File stores: where files live (a local folder, FTP/FTPS, SFTP, S3). A store moves bytes only;
 * formats (csv, jsonl, parquet: bytes <-> row batches) sit on top of it (main/connectors/file/).
 *
 * Paths are store-relative POSIX paths (`in/20261204/a.csv.gz`), resolved under the connection's
 * root folder or bucket prefix; a path may never climb above that root (`..` is refused).
 */
import type { Readable, Writable } from 'node:stream'
import type { TestResult } from '../types.js'

/** The store kinds a file connection can be. */
export type StoreKind = 'file' | 'ftp' | 'sftp' | 's3'

/** One entry of a listing. `size` in bytes; `mtime` when the store reports one. */
export interface StoreEntry {
  /** Store-relative path of the entry. */
  path: string
  /** Last path segment. */
  name: string
  type: 'file' | 'dir'
  size: number
  mtime?: Date
}

/**
 * An upload in progress. Bytes written to `stream` are not visible under the final name until
 * `done()` resolves (a temporary name renamed at the end, or a multipart upload completed), so a
 * reader never sees half a file. `abort()` removes whatever was written; safe after `done()` fails.
 */
export interface StoreUpload {
  readonly stream: Writable
  /** End the stream, publish under the final name; resolves to the bytes stored. */
  done(): Promise<{ bytes: number }>
  abort(): Promise<void>
}

/** Options of {@link FileStore.read}. */
export interface StoreReadOptions {
  /** Abort the transfer (the stream then errors with an AbortError). */
  signal?: AbortSignal
}

/** Options of {@link FileStore.write}. */
export interface StoreWriteOptions {
  signal?: AbortSignal
  /** Refuse when the final path exists (DataX writeMode `nonConflict`). */
  noOverwrite?: boolean
}

/** One connection's file store. Every method throws an Error naming the path on failure. */
export interface FileStore {
  readonly kind: StoreKind
  /** Lists the root (or bucket prefix); reports latency and the exact error like database tests. */
  test(): Promise<TestResult>
  /** Entries directly under `dir` ('' = the root), sorted by name. Missing dir -> []. */
  list(dir: string): Promise<StoreEntry[]>
  /** The entry at `path`, or null when nothing is there. */
  stat(path: string): Promise<StoreEntry | null>
  /** Stream the file's bytes. */
  read(path: string, opts?: StoreReadOptions): Promise<Readable>
  /** Start an atomic upload to `path` (parent folders are created). */
  write(path: string, opts?: StoreWriteOptions): Promise<StoreUpload>
  rename(from: string, to: string): Promise<void>
  /** Delete a file; a missing file is not an error (resolves false). */
  delete(path: string): Promise<boolean>
  /** Create `dir` and its parents. */
  mkdirp(dir: string): Promise<void>
  /** Close connections; safe to call twice. */
  close(): Promise<void>
}
