/**
 * SQLite handles for one connector: a lazily opened main handle (catalog, query, execute, count,
 * splits) plus short-lived handles for reads and writers on the same file.
 *
 * better-sqlite3 is synchronous, and a handle with an open iterator cannot run another statement,
 * so every `read()` and every writer opens its own handle on the file (SQLite's file locking
 * coordinates them; WAL lets readers and one writer work at once). For `:memory:` there is only
 * one database, so everything shares the main handle: one read or one writer at a time.
 *
 * Settings applied to every handle:
 * - `PRAGMA foreign_keys = OFF` (SQLite's documented default; better-sqlite3 builds with
 *   SQLITE_DEFAULT_FOREIGN_KEYS=1): loads and `DELETE FROM` truncation never trip over or cascade
 *   through foreign keys. `options.foreignKeys: true` turns them on for the main handle only.
 * - busy timeout `options.busyTimeoutMs` (default 5,000 ms; better-sqlite3's `timeout`): how long a
 *   statement waits for another connection's lock before failing with SQLITE_BUSY. It blocks the
 *   thread while it waits (the driver is synchronous).
 * - `options.attach: { name: path }`: `ATTACH DATABASE path AS name` on every handle, so attached
 *   databases are schemas for the catalog and reads alike.
 * A file the connector creates (missing or empty when opened read-write) is switched to
 * `journal_mode = WAL`; an existing file's journal mode is never changed (opening the bundled demo
 * file never writes to it).
 *
 * Connection options (`config.options`): `mustExist` (boolean: never create the file; default
 * false, and true for `test()` unless set to false), `busyTimeoutMs`, `attach`, `foreignKeys`.
 */
import type Database from 'better-sqlite3'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { openDatabase } from '../../core/sqlite.js'
import type { ConnectionConfig } from '../types.js'

/** The `config.options` this connector understands. */
export interface SqliteOptions {
  mustExist?: boolean
  busyTimeoutMs?: number
  attach?: Record<string, string>
  foreignKeys?: boolean
}

/** Quote an identifier with double quotes, doubling embedded ones (SQLite "Keywords" page). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** The driver's error code, with better-sqlite3's "directory does not exist" TypeError mapped to SQLITE_CANTOPEN. */
export function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; message?: unknown }
  if (typeof err?.code === 'string') return err.code
  if (typeof err?.message === 'string' && /directory does not exist/.test(err.message)) return 'SQLITE_CANTOPEN'
  return undefined
}

export class SqliteSession {
  /** Absolute file path, or `:memory:`. */
  readonly file: string
  readonly options: SqliteOptions
  private mainDb: Database.Database | undefined
  private readonly extra = new Set<Database.Database>()

  constructor(readonly config: ConnectionConfig) {
    const p = config.path
    if (!p) throw new Error('connection.path: the SQLite file path is missing')
    this.file = p === ':memory:' ? p : path.resolve(p)
    this.options = (config.options ?? {}) as SqliteOptions
  }

  get memory(): boolean {
    return this.file === ':memory:'
  }

  /**
   * Open a new handle on the file. `readonly` handles never create the file; read-write ones do
   * unless `mustExist`. Errors are better-sqlite3's (`SQLITE_CANTOPEN`, `SQLITE_NOTADB`...).
   */
  openHandle(opts: { readonly?: boolean; mustExist?: boolean } = {}): Database.Database {
    const readonly = !!opts.readonly && !this.memory
    const creating = !this.memory && !readonly && !(existsSync(this.file) && statSync(this.file).size > 0)
    const db = openDatabase(this.file, {
      readonly,
      fileMustExist: readonly || !!opts.mustExist,
      timeout: this.options.busyTimeoutMs ?? 5000,
    })
    try {
      if (creating) db.pragma('journal_mode = WAL')
      db.pragma('foreign_keys = OFF')
      for (const [name, file] of Object.entries(this.options.attach ?? {})) db.prepare(`ATTACH DATABASE ? AS ${quoteIdent(name)}`).run(file)
    } catch (e) {
      db.close()
      throw e
    }
    return db
  }

  /** The main handle, opened (read-write, created unless `options.mustExist`) on first use. */
  main(): Database.Database {
    if (!this.mainDb) {
      const db = this.openHandle({ mustExist: !!this.options.mustExist })
      if (this.options.foreignKeys) db.pragma('foreign_keys = ON')
      this.mainDb = db
    }
    return this.mainDb
  }

  /**
   * A handle for one read or writer: a new handle on files (read-only for reads), the main handle
   * for `:memory:`. Call `release()` when done.
   */
  borrow(mode: 'read' | 'write'): { db: Database.Database; release: () => void } {
    if (this.memory) return { db: this.main(), release: () => {} }
    const db = this.openHandle(mode === 'read' ? { readonly: true } : { mustExist: !!this.options.mustExist })
    this.extra.add(db)
    return {
      db,
      release: () => {
        if (this.extra.delete(db) && db.open) db.close()
      },
    }
  }

  /** Close the main handle and any handle still borrowed. Safe to call twice. */
  close(): void {
    for (const db of this.extra) if (db.open) db.close()
    this.extra.clear()
    if (this.mainDb?.open) this.mainDb.close()
    this.mainDb = undefined
  }
}
