/**
 * Schema migrations of the state DB.
 *
 * Migrations are an ordered array of `{ id, up(db) }` with dated ids (`YYYY-MM-DD-NNN-slug`), so
 * ids sort in the order they were written. Each one runs in its own `BEGIN IMMEDIATE` transaction
 * together with its row in `schema_migrations (id, applied_at)`: it is applied entirely or not at
 * all, and two processes opening the same DB at once cannot both apply it. Applied migrations are
 * never edited; a change is a new migration appended to {@link MIGRATIONS}.
 *
 * A DB holding an applied id that this code does not know was written by a newer Sluice (or a
 * branch); it is refused with `SCHEMA_TOO_NEW` naming the id(s) before anything is applied.
 */
import type Database from 'better-sqlite3'
import { StoreError } from './errors.js'
import { nowIso } from './util.js'

/** One schema change. */
export interface Migration {
  /** `YYYY-MM-DD-NNN-slug`; strictly increasing along {@link MIGRATIONS}. */
  id: string
  /** Apply the change. Runs inside a transaction; throw to roll it back. */
  up(db: Database.Database): void
  /**
   * Run with `PRAGMA foreign_keys=OFF` (needed to rebuild a table, SQLite "ALTER TABLE" §7 —
   * the pragma is a no-op inside a transaction). `PRAGMA foreign_key_check` must come back empty
   * before the transaction commits.
   */
  disableForeignKeys?: boolean
}

const INIT = `
CREATE TABLE connections (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
  kind          TEXT NOT NULL,
  config        TEXT NOT NULL,             -- ConnectionConfig JSON without the password
  secret        BLOB,                      -- encrypted password (SecretBox blob), NULL = none
  secret_scheme TEXT,                      -- SecretBox.scheme that wrote secret
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE jobs (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL COLLATE NOCASE UNIQUE,
  latest_version INTEGER NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE job_versions (
  job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  spec       TEXT NOT NULL,                -- the job spec JSON text, exactly as saved
  created_at TEXT NOT NULL,
  PRIMARY KEY (job_id, version)
) WITHOUT ROWID;

CREATE TABLE runs (
  id           TEXT PRIMARY KEY,           -- UUIDv7: sorts by creation time
  job_id       TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  job_version  INTEGER,
  name         TEXT NOT NULL,
  vars         TEXT NOT NULL,              -- JSON object of variable values
  spec         TEXT NOT NULL,              -- JSON snapshot of the spec the run executes
  state        TEXT NOT NULL CHECK (state IN ('created','running','succeeded','failed','terminated','inconsistent')),
  error        TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  started_at   TEXT,
  ended_at     TEXT,
  rows_read    INTEGER NOT NULL DEFAULT 0,
  rows_written INTEGER NOT NULL DEFAULT 0,
  bytes        INTEGER NOT NULL DEFAULT 0,
  dirty        INTEGER NOT NULL DEFAULT 0,
  summary      TEXT                        -- JSON of the finish() summary
);
CREATE INDEX runs_job ON runs (job_id, id);
CREATE INDEX runs_state ON runs (state, id);

CREATE TABLE run_tasks (
  run_id         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id        TEXT NOT NULL,
  source         TEXT NOT NULL,
  target         TEXT NOT NULL,
  state          TEXT NOT NULL,            -- TaskState, checked in runs.ts (no CHECK: the set may grow)
  stage          TEXT NOT NULL CHECK (stage IN ('ExportTable','ImportTable','TableDataDiff')),
  rows_read      INTEGER NOT NULL DEFAULT 0,
  rows_written   INTEGER NOT NULL DEFAULT 0,
  bytes          INTEGER NOT NULL DEFAULT 0,
  dirty          INTEGER NOT NULL DEFAULT 0,
  estimated_rows INTEGER,
  error          TEXT,
  started_at     TEXT,
  ended_at       TEXT,
  ord            INTEGER NOT NULL,         -- insertion order within the run
  PRIMARY KEY (run_id, task_id)
) WITHOUT ROWID;

CREATE TABLE splits (
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id     TEXT NOT NULL,
  split_index INTEGER NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending','done')),
  rows        INTEGER NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  range       TEXT,                        -- Split.range JSON, bounds encoded by codec.ts
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, task_id, split_index)
) WITHOUT ROWID;

CREATE TABLE run_logs (
  id      INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids never reused, safe as a tail cursor
  run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts      TEXT NOT NULL,
  level   TEXT NOT NULL CHECK (level IN ('debug','info','warn','error')),
  task_id TEXT,
  message TEXT NOT NULL
);
CREATE INDEX run_logs_run ON run_logs (run_id, id);

CREATE TABLE dirty_records (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id     TEXT NOT NULL,
  reason      TEXT NOT NULL,
  code        TEXT,
  column_name TEXT,
  columns     TEXT NOT NULL,               -- JSON array of column names
  vals        TEXT NOT NULL,               -- JSON array of encoded values (codec.ts)
  created_at  TEXT NOT NULL
);
CREATE INDEX dirty_records_run ON dirty_records (run_id, task_id, id);

CREATE TABLE query_history (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  sql           TEXT NOT NULL,
  elapsed_ms    REAL,
  rows          INTEGER,
  error         TEXT,
  ts            TEXT NOT NULL
);
CREATE INDEX query_history_conn ON query_history (connection_id, id);

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,                -- JSON
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
`

/** Every migration this code knows, oldest first. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: '2026-11-23-001-init',
    up: (db) => db.exec(INIT),
  },
  {
    // Export files of runs (main/store/export-files.ts).
    id: '2026-12-05-125-export-files',
    up: (db) =>
      db.exec(`
CREATE TABLE export_files (
  id          INTEGER PRIMARY KEY,
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id     TEXT NOT NULL,
  connection  TEXT NOT NULL,               -- display form, never a secret
  path        TEXT NOT NULL,               -- store path under the connection's root
  rows        INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  state       TEXT NOT NULL DEFAULT 'exists' CHECK (state IN ('exists', 'deleted', 'absent')),
  created_at  TEXT NOT NULL,
  checked_at  TEXT,
  UNIQUE (run_id, path)
);
CREATE INDEX export_files_by_state ON export_files (state, created_at);
`),
  },
]

const ID = /^\d{4}-\d{2}-\d{2}-\d{3}-[a-z0-9-]+$/

/** Check a migration list: well-formed ids in strictly increasing order. Throws on a coding mistake. */
export function checkMigrations(list: readonly Migration[]): void {
  for (let i = 0; i < list.length; i++) {
    if (!ID.test(list[i].id)) throw new Error(`migration id ${JSON.stringify(list[i].id)} is not YYYY-MM-DD-NNN-slug`)
    if (i > 0 && !(list[i - 1].id < list[i].id)) throw new Error(`migration ${list[i].id} is not after ${list[i - 1].id}`)
  }
}

/** Ids recorded in `schema_migrations`, oldest first (empty for a fresh DB). */
export function appliedMigrations(db: Database.Database): string[] {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get()
  if (!has) return []
  return (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[]).map((r) => r.id)
}

/**
 * Bring `db` up to date: apply, in order, each migration of `list` not yet recorded.
 *
 * @returns the ids applied now (empty when the DB was already current).
 * @throws StoreError `SCHEMA_TOO_NEW` when the DB records an id not in `list` (nothing is applied);
 *   `MIGRATION_FAILED` naming the id when a migration throws (that migration is rolled back, the
 *   ones before it stay applied).
 */
export function migrate(db: Database.Database, list: readonly Migration[] = MIGRATIONS): string[] {
  checkMigrations(list)
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
  const known = new Set(list.map((m) => m.id))
  const unknown = appliedMigrations(db).filter((id) => !known.has(id))
  if (unknown.length > 0) {
    const latest = list.length > 0 ? list[list.length - 1].id : '(none)'
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `the state DB was written by a newer version of Sluice: it has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ` +
        `which this version does not know (its latest is ${latest}). Upgrade Sluice, or use another --data-dir.`,
      'schema_migrations.id',
    )
  }
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?')
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)')
  const applied: string[] = []
  for (const m of list) {
    if (isApplied.get(m.id)) continue
    const fkWasOn = m.disableForeignKeys ? (db.pragma('foreign_keys', { simple: true }) as number) === 1 : false
    if (m.disableForeignKeys) db.pragma('foreign_keys = OFF')
    try {
      const tx = db.transaction(() => {
        if (isApplied.get(m.id)) return false // another process applied it while we waited for the lock
        m.up(db)
        if (m.disableForeignKeys) {
          const bad = db.pragma('foreign_key_check') as unknown[]
          if (bad.length > 0) throw new Error(`foreign_key_check found ${bad.length} violation(s): ${JSON.stringify(bad.slice(0, 3))}`)
        }
        record.run(m.id, nowIso())
        return true
      })
      if (tx.immediate()) applied.push(m.id)
    } catch (e) {
      if (e instanceof StoreError) throw e
      throw new StoreError('MIGRATION_FAILED', `migration ${m.id} failed and was rolled back: ${(e as Error).message}`, 'schema_migrations.id', { cause: e })
    } finally {
      if (fkWasOn) db.pragma('foreign_keys = ON')
    }
  }
  return applied
}
