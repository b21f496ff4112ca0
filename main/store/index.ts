/**
 * The state store: everything a user makes (connections, jobs and their versions, runs, run
 * tasks, split checkpoints, run logs, dirty records, SQL query history, settings) in one SQLite
 * database, `<dataDir>/sluice.db`.
 *
 * - better-sqlite3, synchronous. WAL journal (readers never block the writer, so the CLI and the
 *   desktop app may share a data dir), `foreign_keys=ON`, `busy_timeout=5000` ms, and
 *   `synchronous=FULL`: a committed checkpoint survives power loss (SQLite "WAL" docs: NORMAL may
 *   lose the last transactions), which resume relies on. Write calls are batched by the callers
 *   (a run's progress, logs and finished splits every 200 ms); a batch with no checkpoint in it
 *   commits without the fsync (`transaction(fn, { durable: false })`), which on this kind of disk
 *   stalled the thread about 15 ms per commit.
 * - One repository per aggregate; SQL lives in the repositories, prepared once per store.
 * - Ids are UUIDv7 (time-ordered, see `newId`); integer ids for log lines, dirty records and
 *   history entries. Timestamps are ISO-8601 UTC strings with milliseconds.
 * - Schema changes are dated migrations (migrate.ts), applied on open.
 * - Passwords are encrypted by a {@link SecretBox}; see secrets.ts for what that does and does not
 *   protect against.
 */
import { openDatabase } from '../core/sqlite.js'
import { chmodSync, existsSync } from 'node:fs'
import { ConnectionsRepo } from './connections.js'
import { CleanupsRepo } from './cleanups.js'
import { JobsRepo } from './jobs.js'
import { migrate, MIGRATIONS, type Migration } from './migrate.js'
import { DiffKeysRepo } from './diffs.js'
import { stateDbPath } from './paths.js'
import { DirtyRepo, LogsRepo, QueryHistoryRepo, SettingsRepo } from './records.js'
import { LocksRepo } from './locks.js'
import { sealStoredSpecs } from './sealspecs.js'
import { ExportFilesRepo } from './export-files.js'
import { RunsRepo, RunTasksRepo, SplitsRepo } from './runs.js'
import { NodeSecretBox, type SecretBox } from './secrets.js'
import { SchedulerRepo, WorkflowsRepo } from './scheduler.js'

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** The data dir (see `resolveDataDir`); must exist. Holds the DB and, for the default secret box, `master.key`. */
  dataDir: string
  /** Encrypts passwords. Default: a {@link NodeSecretBox} over `SLUICE_MASTER_KEY` / `<dataDir>/master.key`. */
  secretBox?: SecretBox
  /** The DB file; default `<dataDir>/sluice.db`. `:memory:` works (no WAL) for tests. */
  file?: string
  /** Migrations to apply (tests only); default {@link MIGRATIONS}. */
  migrations?: readonly Migration[]
}

/** An open state store. Not safe to share across worker threads: each thread opens its own. */
export interface Store {
  readonly connections: ConnectionsRepo
  readonly jobs: JobsRepo
  readonly runs: RunsRepo
  readonly runTasks: RunTasksRepo
  readonly splits: SplitsRepo
  readonly logs: LogsRepo
  readonly dirty: DirtyRepo
  readonly queryHistory: QueryHistoryRepo
  readonly settings: SettingsRepo
  /** Write leases: one writer per run, job and target table (locks.ts). */
  readonly locks: LocksRepo
  /** Differing keys found by runs' TableDataDiff stage (diffs.ts). */
  readonly diffs: DiffKeysRepo
  /** Source clean-up history (main/cleanup). */
  readonly cleanups: CleanupsRepo
  /** Schedules, instances, alerts, the scheduler lease (scheduler.ts). */
  readonly scheduler: SchedulerRepo
  /** Saved workflows and their versions (scheduler.ts). */
  readonly workflows: WorkflowsRepo
  /** Files runs exported (file writers), with their clean-up state. */
  readonly exportFiles: ExportFilesRepo
  /** The DB file path. */
  readonly file: string
  /** The secret scheme in use (`SecretBox.scheme`). */
  readonly secretScheme: string
  /** Migration ids applied by this open (empty when the DB was current). */
  readonly appliedMigrations: readonly string[]
  /**
   * Run `fn` in one write transaction (`BEGIN IMMEDIATE`; nested calls become savepoints), so that
   * many repository writes cost one commit. Rolls back and rethrows when `fn` throws.
   *
   * `durable: false` commits without the fsync (`synchronous=NORMAL` for this commit: in WAL mode
   * such a commit may be lost on power loss, never corrupts the DB, SQLite "WAL" docs), for writes
   * nothing relies on (live progress, log lines): the next durable commit syncs the WAL up to
   * itself, so it makes them durable too. Not for a nested call.
   */
  transaction<T>(fn: () => T, opts?: { durable?: boolean }): T
  /** Close the DB (checkpoints the WAL). Safe to call twice. */
  close(): void
}

/**
 * Open (creating if needed) the state DB and apply pending migrations. A new DB file gets mode
 * 0600 (SQLite gives its -wal and -shm files the same mode).
 *
 * @throws StoreError `SCHEMA_TOO_NEW` (the DB was written by a newer Sluice), `MIGRATION_FAILED`;
 *   better-sqlite3's `SqliteError` when the file cannot be opened (e.g. `SQLITE_CANTOPEN`).
 */
export function openStore(opts: StoreOptions): Store {
  const file = opts.file ?? stateDbPath(opts.dataDir)
  const isNew = file !== ':memory:' && !existsSync(file)
  const db = openDatabase(file, { timeout: 5000 })
  let closed = false
  try {
    if (isNew && process.platform !== 'win32') chmodSync(file, 0o600)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    const applied = migrate(db, opts.migrations ?? MIGRATIONS)
    const box = opts.secretBox ?? new NodeSecretBox({ dataDir: opts.dataDir })
    // Specs stored before their passwords were sealed get sealed once.
    sealStoredSpecs(db, box)
    const runTasks = new RunTasksRepo(db)
    const store: Store = {
      connections: new ConnectionsRepo(db, box),
      jobs: new JobsRepo(db, box),
      runs: new RunsRepo(db, box),
      runTasks,
      splits: new SplitsRepo(db, runTasks),
      logs: new LogsRepo(db),
      dirty: new DirtyRepo(db),
      queryHistory: new QueryHistoryRepo(db),
      settings: new SettingsRepo(db),
      locks: new LocksRepo(db),
      diffs: new DiffKeysRepo(db),
      cleanups: new CleanupsRepo(db),
      scheduler: new SchedulerRepo(db),
      workflows: new WorkflowsRepo(db),
      exportFiles: new ExportFilesRepo(db),
      file,
      secretScheme: box.scheme,
      appliedMigrations: applied,
      transaction: <T>(fn: () => T, opts?: { durable?: boolean }): T => {
        if (opts?.durable !== false || db.inTransaction) return db.transaction(fn).immediate()
        db.pragma('synchronous = NORMAL')
        try {
          return db.transaction(fn).immediate()
        } finally {
          db.pragma('synchronous = FULL')
        }
      },
      close() {
        if (closed) return
        closed = true
        db.close()
      },
    }
    return store
  } catch (e) {
    db.close()
    throw e
  }
}

export { StoreError, type StoreErrorCode } from './errors.js'
export { NodeSecretBox, MASTER_KEY_ENV, MASTER_KEY_FILE, type SecretBox, type NodeSecretBoxOptions } from './secrets.js'
export { resolveDataDir, defaultDataDir, stateDbPath, APP_NAME, STATE_DB_FILE, type DataDirOptions } from './paths.js'
export { LeaseHeld, describeHeld, type Lease, type LeaseResource, type LocksRepo } from './locks.js'
export { SchedulerRepo, WorkflowsRepo, type InstanceRow, type ScheduleRow, type InstanceConfig } from './scheduler.js'
export { migrate, MIGRATIONS, appliedMigrations, type Migration } from './migrate.js'
export { encodeValue, decodeValue, encodeValues, decodeValues, type EncodedValue } from './codec.js'
export type { ConnectionSummary, ConnectionInput, ConnectionPatch, PublicConnectionConfig, ConnectionsRepo } from './connections.js'
export type { CleanupsRepo, CleanupInput } from './cleanups.js'
export type { Job, JobListItem, JobVersion, SaveResult, JobsRepo } from './jobs.js'
export { EXPORT_FILE_STATES, type ExportFile, type ExportFileState, type ExportFilesRepo } from './export-files.js'
export {
  RUN_STATES,
  TASK_STATES,
  TASK_STAGES,
  type Run,
  type RunListItem,
  type RunInput,
  type RunState,
  type RunSummary,
  type RunTask,
  type RunTaskInput,
  type RunTaskPatch,
  type TaskState,
  type TaskStage,
  type SplitCheckpoint,
  type SplitRange,
  type RunsRepo,
  type RunTasksRepo,
  type SplitsRepo,
} from './runs.js'
export {
  LOG_LEVELS,
  type LogLevel,
  type LogInput,
  type LogEntry,
  type DirtyInput,
  type DirtyRecord,
  type QueryHistoryInput,
  type QueryHistoryEntry,
  type DirtyRepo,
  type LogsRepo,
  type QueryHistoryRepo,
  type SettingsRepo,
} from './records.js'
