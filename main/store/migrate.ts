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
import { SCHEDULER_DDL } from './scheduler.js'
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

const CLEANUPS = `
CREATE TABLE cleanups (
  id           TEXT PRIMARY KEY,           -- UUIDv7
  job_id       TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  data_time    TEXT NOT NULL,              -- yyyymmdd of the run
  state        TEXT NOT NULL,              -- running | succeeded | failed | terminated | refused
  forced       INTEGER NOT NULL DEFAULT 0,
  reason       TEXT,
  host         TEXT NOT NULL,
  user         TEXT NOT NULL,
  pid          INTEGER,
  batch_size   INTEGER NOT NULL,
  rows_deleted INTEGER NOT NULL DEFAULT 0,
  error        TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  ended_at     TEXT
);
CREATE INDEX cleanups_run ON cleanups (run_id, id);
CREATE INDEX cleanups_job ON cleanups (job_id, id);

CREATE TABLE cleanup_tasks (
  cleanup_id   TEXT NOT NULL REFERENCES cleanups(id) ON DELETE CASCADE,
  task_id      TEXT NOT NULL,
  source_table TEXT NOT NULL,
  condition    TEXT,
  key_columns  TEXT NOT NULL,              -- JSON array
  select_sql   TEXT NOT NULL,
  delete_sql   TEXT NOT NULL,
  state        TEXT NOT NULL,              -- pending | running | done
  last_key     TEXT,                       -- JSON array of encoded values (codec.ts)
  rows_deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (cleanup_id, task_id)
);

CREATE TABLE cleanup_batches (
  id          INTEGER PRIMARY KEY,
  cleanup_id  TEXT NOT NULL REFERENCES cleanups(id) ON DELETE CASCADE,
  task_id     TEXT NOT NULL,
  batch_no    INTEGER NOT NULL,
  sql         TEXT NOT NULL,
  rows        INTEGER NOT NULL,
  first_key   TEXT,
  last_key    TEXT,
  host        TEXT NOT NULL,
  user        TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  ended_at    TEXT NOT NULL,
  elapsed_ms  INTEGER NOT NULL
);
CREATE INDEX cleanup_batches_cleanup ON cleanup_batches (cleanup_id, id);
`

/** Every migration this code knows, oldest first. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: '2026-11-23-001-init',
    up: (db) => db.exec(INIT),
  },
  {
    id: '2026-12-05-100-scheduler',
    up: (db) => db.exec(SCHEDULER_DDL),
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
  {
    // issue 13: a run whose data moved but a schema object was left out ends `succeeded_with_warnings`.
    id: '2026-12-05-130-run-state-with-warnings',
    disableForeignKeys: true,
    up: (db) => widenRunStateCheck(db),
  },
  {
    // The keys a run's TableDataDiff stage (hashdiff) found different, per task (main/store/diffs.ts).
    id: '2026-12-05-140-run-diff-keys',
    up: (db) =>
      db.exec(`CREATE TABLE run_diff_keys (
  run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id  TEXT NOT NULL,
  seq      INTEGER NOT NULL,               -- order found
  side     TEXT NOT NULL,                  -- '-' only in source, '+' only in target, '~' changed
  key      TEXT NOT NULL,                  -- JSON array of the key values, as display text
  PRIMARY KEY (run_id, task_id, seq)
) WITHOUT ROWID;
CREATE TABLE run_diff_tasks (
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id     TEXT NOT NULL,
  key_columns TEXT NOT NULL,               -- JSON array of column names
  truncated   INTEGER NOT NULL,            -- 1 when the search stopped at verify.limit
  PRIMARY KEY (run_id, task_id)
) WITHOUT ROWID;`),
  },
  {
    // Source clean-up history (main/cleanup): one row per clean-up, per table, per batch.
    id: '2026-12-05-150-cleanups',
    up: (db) => db.exec(CLEANUPS),
  },
  {
    // Write leases (one writer per job / target table / run, main/store/locks.ts) and the history
    // of which runs wrote which target (a resumed run's ownership of its target ends when another
    // run wrote it since).
    id: '2026-12-05-160-write-leases',
    up: (db) =>
      db.exec(`
CREATE TABLE write_leases (
  resource     TEXT PRIMARY KEY,           -- 'run:<id>', 'job:<id>', 'target:<kind>:<where>/<schema>.<table>'
  label        TEXT NOT NULL,              -- what a refusal names (job name, target table)
  run_id       TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  acquired_at  TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX write_leases_run ON write_leases (run_id);
CREATE TABLE target_writers (
  resource TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  first_at TEXT NOT NULL,
  last_at  TEXT NOT NULL,
  PRIMARY KEY (resource, run_id)
) WITHOUT ROWID;
`),
  },
  {
    // The split a dirty record was found in: a redone split's records are replaced, not duplicated.
    id: '2026-12-05-161-dirty-split',
    up: (db) => db.exec(`ALTER TABLE dirty_records ADD COLUMN split_index INTEGER`),
  },
  {
    // Inline passwords of run and job specs, encrypted (main/job/secrets.ts); the spec text keeps a mask.
    id: '2026-12-05-162-spec-secrets',
    up: (db) =>
      db.exec(`
ALTER TABLE runs ADD COLUMN secrets BLOB;
ALTER TABLE runs ADD COLUMN secrets_scheme TEXT;
ALTER TABLE job_versions ADD COLUMN secrets BLOB;
ALTER TABLE job_versions ADD COLUMN secrets_scheme TEXT;
CREATE TABLE store_passes (
  name    TEXT PRIMARY KEY,                -- a one-time data pass run at open (main/store/sealspecs.ts)
  done_at TEXT NOT NULL
) WITHOUT ROWID;
`),
  },
  {
    // What a run prepared per task (created / truncated the target, DDL left for after the data),
    // one row per task: a resume reads it; before, the whole record was one settings value
    // rewritten at every task (quadratic in the number of tables).
    id: '2026-12-05-170-run-task-prep',
    up: (db) =>
      db.exec(`CREATE TABLE run_task_prep (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id    TEXT NOT NULL,
  info       TEXT NOT NULL,                -- PreparedTask JSON (main/engine/run.ts)
  updated_at TEXT NOT NULL,
  PRIMARY KEY (run_id, task_id)
) WITHOUT ROWID;`),
  },
]

/**
 * Rebuild `runs` so its state CHECK admits `succeeded_with_warnings` (SQLite cannot alter a CHECK:
 * "ALTER TABLE" §7, create-copy-drop-rename). The new table is made from the current `CREATE TABLE`
 * text with only the CHECK list changed, so columns other migrations added are kept; its indexes
 * are re-created from their own stored SQL.
 */
export function widenRunStateCheck(db: Database.Database): void {
  const row = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() as { sql: string } | undefined
  if (!row) throw new Error('table runs not found')
  if (row.sql.includes("'succeeded_with_warnings'")) return
  const check = /CHECK \(state IN \(([^)]*)\)\)/
  if (!check.test(row.sql)) throw new Error('runs.state CHECK not found')
  const sql = row.sql.replace(check, (_m, list: string) => `CHECK (state IN (${list},'succeeded_with_warnings'))`).replace(/^CREATE TABLE\s+("?)runs\1/, 'CREATE TABLE runs_new')
  const indexes = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL`).all() as { sql: string }[]).map((r) => r.sql)
  db.exec(sql)
  db.exec('INSERT INTO runs_new SELECT * FROM runs')
  db.exec('DROP TABLE runs')
  db.exec('ALTER TABLE runs_new RENAME TO runs')
  for (const ix of indexes) db.exec(ix)
}

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
