/**
 * Export files: every file a run's file writer published (parts and manifests), with its rows,
 * bytes and SHA-256, and its state as the seeds' clean-up knows it:
 * - `exists`: published and, as far as Sluice knows, still there;
 * - `deleted`: removed by a clean-up (`sluice files clean`, the API, the Data clean-up view);
 * - `absent`: gone when a clean-up (or a check) looked for it (someone else removed it).
 */
import type Database from 'better-sqlite3'
import { nowIso } from './util.js'

/** State of an export file. */
export type ExportFileState = 'exists' | 'deleted' | 'absent'
/** Every {@link ExportFileState}. */
export const EXPORT_FILE_STATES: readonly ExportFileState[] = ['exists', 'deleted', 'absent']

/** One file a run exported. */
export interface ExportFile {
  id: number
  runId: string
  taskId: string
  /** Display form of the writer connection (URL without secrets, or the saved connection's name). */
  connection: string
  /** Store path under the connection's root. */
  path: string
  rows: number
  bytes: number
  sha256: string
  state: ExportFileState
  createdAt: string
  /** When the state was last set by a clean-up or check. */
  checkedAt?: string
}

interface Row {
  id: number
  run_id: string
  task_id: string
  connection: string
  path: string
  rows: number
  bytes: number
  sha256: string
  state: ExportFileState
  created_at: string
  checked_at: string | null
}

const toFile = (r: Row): ExportFile => ({
  id: r.id,
  runId: r.run_id,
  taskId: r.task_id,
  connection: r.connection,
  path: r.path,
  rows: r.rows,
  bytes: r.bytes,
  sha256: r.sha256,
  state: r.state,
  createdAt: r.created_at,
  ...(r.checked_at ? { checkedAt: r.checked_at } : {}),
})

/** Export files of runs. */
export class ExportFilesRepo {
  private readonly upsert: Database.Statement
  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO export_files (run_id, task_id, connection, path, rows, bytes, sha256, state, created_at)
       VALUES (@run_id, @task_id, @connection, @path, @rows, @bytes, @sha256, 'exists', @created_at)
       ON CONFLICT (run_id, path) DO UPDATE SET task_id = excluded.task_id, rows = excluded.rows, bytes = excluded.bytes,
         sha256 = excluded.sha256, state = 'exists', created_at = excluded.created_at, checked_at = NULL`,
    )
  }

  /** Record files a task published (a file published again, e.g. by a resumed run, is updated). */
  add(runId: string, taskId: string, connection: string, files: ReadonlyArray<{ path: string; rows: number; bytes: number; sha256: string }>): void {
    const now = nowIso()
    this.db.transaction(() => {
      for (const f of files) this.upsert.run({ run_id: runId, task_id: taskId, connection, path: f.path, rows: f.rows, bytes: f.bytes, sha256: f.sha256, created_at: now })
    })()
  }

  /** Files of one run, by path. */
  list(runId: string): ExportFile[] {
    return (this.db.prepare('SELECT * FROM export_files WHERE run_id = ? ORDER BY path').all(runId) as Row[]).map(toFile)
  }

  /** Files of every run (newest first), optionally in one state: what a clean-up view lists. */
  listAll(opts: { state?: ExportFileState; limit?: number; offset?: number } = {}): { files: ExportFile[]; total: number } {
    const where = opts.state ? 'WHERE state = @state' : ''
    const p = { state: opts.state ?? null, limit: Math.min(Math.max(opts.limit ?? 100, 1), 1000), offset: Math.max(opts.offset ?? 0, 0) }
    const files = (this.db.prepare(`SELECT * FROM export_files ${where} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`).all(p) as Row[]).map(toFile)
    const total = (this.db.prepare(`SELECT count(*) AS n FROM export_files ${where}`).get(p) as { n: number }).n
    return { files, total }
  }

  /** Set a file's state (clean-up, check). */
  setState(id: number, state: ExportFileState): void {
    this.db.prepare('UPDATE export_files SET state = ?, checked_at = ? WHERE id = ?').run(state, nowIso(), id)
  }
}
