/**
 * The one interface every database connector implements. The engine, the verifier, the SQL editor
 * and the CLI only talk to databases through it.
 *
 * Rules every connector keeps:
 * - values cross in the canonical forms documented in `main/core/types.ts`; a DECIMAL never
 *   passes through a JS number, a DATETIME never passes through the process's timezone;
 * - identifiers are always quoted with {@link Connector.quoteIdent}, values always bound;
 * - reads stream: memory is bounded by `batchBytes`, never by table size;
 * - writers narrow a failing batch to its bad rows and report them as dirty rows; they throw only
 *   for errors that are not about a row (connection lost, table missing, permission denied).
 */
import type {
  Column,
  LogicalType,
  OtherObject,
  Row,
  RowBatch,
  TableRef,
  TableSchema,
  TableSummary,
  Value,
} from '../core/types.js'

export type ConnectorKind = 'mysql' | 'postgres' | 'sqlite'

/** File store kinds (main/connectors/stores/): a local folder, FTP/FTPS, SFTP, S3 or S3-compatible. */
export type FileStoreKind = 'file' | 'ftp' | 'sftp' | 's3'

/** Every kind a saved connection can be: a database or a file store. */
export type ConnectionKind = ConnectorKind | FileStoreKind

/** The file store kinds, for narrowing a {@link ConnectionKind}. */
export const FILE_STORE_KINDS: readonly FileStoreKind[] = ['file', 'ftp', 'sftp', 's3']

/** True when `kind` is a file store kind (file, ftp, sftp, s3) rather than a database. */
export function isFileStoreKind(kind: string | undefined): kind is FileStoreKind {
  return (FILE_STORE_KINDS as readonly string[]).includes(kind ?? '')
}

/**
 * One SSH hop (the tunnel host or its jump host). Authenticates with `password` or `privateKey`
 * (OpenSSH or PEM text; `passphrase` when the key is encrypted). `hostKey` is the pinned host key
 * fingerprint (`SHA256:<base64>`, as `ssh-keygen -lf` prints it): absent, the first connection pins
 * it; present, a server presenting another key is refused.
 */
export interface SshHop {
  host: string
  /** Default 22. */
  port?: number
  user: string
  password?: string
  privateKey?: string
  passphrase?: string
  hostKey?: string
}

/**
 * An SSH tunnel in front of a MySQL or PostgreSQL connection (main/connectors/tunnel.ts). The
 * connector connects to a local listener on 127.0.0.1 and every connection is forwarded by the SSH
 * host to `host:port` of the connection (as the SSH host resolves it). Optionally through one
 * `jump` host (like `ssh -J`).
 */
export interface SshTunnelConfig extends SshHop {
  /** Keepalive interval in milliseconds (default 15,000); 3 unanswered keepalives drop the session. */
  keepaliveMs?: number
  jump?: SshHop
}

/**
 * Plain, serializable connection settings (what a worker thread receives). `password` is clear
 * text here: it is only ever in memory; the state DB stores it encrypted (see main/store/secrets.ts).
 */
export interface ConnectionConfig {
  kind: ConnectionKind
  host?: string
  port?: number
  /** Database user; FTP/SFTP login; S3 access key id. */
  user?: string
  /** Database / FTP / SFTP password; S3 secret access key. */
  password?: string
  /** MySQL database / PostgreSQL database. */
  database?: string
  /** PostgreSQL schema (default `public`). */
  schema?: string
  /**
   * SQLite file path (absolute, or relative to the process cwd); `:memory:` allowed in tests.
   * File stores: the root folder every store path is resolved under (local and remote absolute
   * paths; FTP may be relative to the login folder), or the key prefix inside the S3 bucket.
   */
  path?: string
  /** SFTP: private key text (OpenSSH or PEM); secret, stored encrypted. */
  privateKey?: string
  /** SFTP: passphrase of an encrypted `privateKey`; secret, stored encrypted. */
  passphrase?: string
  /**
   * SFTP: the pinned host key fingerprint `SHA256:<base64>`. Absent, the first connection pins it
   * (and a saved connection keeps it); present, any other key is refused with both fingerprints named.
   */
  hostKey?: string
  /** FTP: passive mode (default true); false uses active mode (PORT, the server connects back). */
  passive?: boolean
  /** S3: the bucket. */
  bucket?: string
  /** S3: the region (default `us-east-1`). */
  region?: string
  /** S3-compatible stores: the endpoint URL (`http://127.0.0.1:9000`); AWS when absent. */
  endpoint?: string
  /** S3: path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean
  /** MySQL / PostgreSQL: reach the database through an SSH tunnel. */
  ssh?: SshTunnelConfig
  /**
   * The session time zone the connector sets (`SET time_zone` / `SET TIME ZONE`), default `+00:00`
   * (UTC). It decides how the database renders TIMESTAMP (MySQL) and timestamptz (PostgreSQL) as
   * text; canonical timestamptz values always carry their offset, so nothing is shifted.
   */
  timezone?: string
  /** Connect timeout in milliseconds (default 10,000). */
  connectTimeoutMs?: number
  /** Database TLS; FTP: explicit FTPS (AUTH TLS), also set by the `ftps://` scheme. */
  ssl?: boolean
  /** Extra driver options, passed through as-is (documented per connector). */
  options?: Record<string, unknown>
}

/** A database connection's config (kind mysql, postgres or sqlite), as the database connectors take it. */
export type DatabaseConfig = ConnectionConfig & { kind: ConnectorKind }

/** Result of "Test connection". */
export interface TestResult {
  ok: boolean
  /** Round-trip time of the test query in milliseconds. */
  latencyMs: number
  /** e.g. `10.11.19-MariaDB`, `PostgreSQL 15.20`, `SQLite 3.53.2`. */
  serverVersion?: string
  /** The driver's exact error message when `ok` is false. */
  error?: string
  /** The driver's error code (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`, `28P01`, `SQLITE_CANTOPEN`). */
  code?: string
  /** File stores: the entries found at the root (or bucket prefix), at most 50, for the form to show. */
  entries?: { name: string; type: 'file' | 'dir'; size: number }[]
  /** SFTP and SSH tunnels: the host keys seen (`SHA256:<base64>`), keyed `hostKey`, `ssh.hostKey`, `ssh.jump.hostKey`. */
  hostKeys?: Record<string, string>
}

/** Column metadata of a query result (SQL editor, querySql readers). */
export interface ResultColumn {
  name: string
  type: LogicalType
  nativeType?: string
}

export interface QueryResult {
  columns: ResultColumn[]
  rows: Row[]
  /** Rows changed by a DML statement, when the database reports it. */
  affectedRows?: number
  /** True when `maxRows` cut the result. */
  truncated?: boolean
}

export interface QueryOptions {
  /** Stop after this many rows and set `truncated` (the SQL editor pages through large results). */
  maxRows?: number
  signal?: AbortSignal
}

/** What to read: a table (optionally filtered) or a free query. */
export interface ReadSpec {
  table?: TableRef
  /** A full SELECT; when set, `table`, `columns` and `where` are ignored and no splitting happens. */
  querySql?: string
  /** Column names to read, in order. Empty/undefined means all columns in table order. */
  columns?: string[]
  /** A SQL boolean expression (variables already substituted), ANDed to every split's range. */
  where?: string
  /** Column used to cut the table into key ranges; default: the single-column primary key. */
  splitPk?: string
  /**
   * ORDER BY of a table read (SQL text, like `where`; the `import_order_by` run setting). The
   * planner reads such a table as one split, so the order holds across the whole table.
   */
  orderBy?: string
  /**
   * File readers only: decode these columns as these types (set by the planner from the target
   * table for file columns that declare no type, so `'12.50'` reaches a DECIMAL column as a decimal
   * and hex text reaches a bytes column as bytes).
   */
  types?: Record<string, LogicalType>
}

/**
 * One key range of a table, read by one channel. Bounds are canonical values of the splitPk
 * column. A split with no range reads the whole (filtered) table. `includeNull` marks the one
 * split that also reads rows whose splitPk is NULL.
 */
export interface Split {
  /** 0-based index, stable for a given plan (used for checkpoints). */
  index: number
  read: ReadSpec
  range?: {
    column: string
    lower?: Value
    /** Inclusive lower bound when true, exclusive when false. */
    lowerInclusive?: boolean
    upper?: Value
    upperInclusive?: boolean
    includeNull?: boolean
  }
}

export interface ReadOptions {
  signal?: AbortSignal
  /** Target size of one batch in bytes (approximate, see `approxValueBytes`); default 4 MiB. */
  batchBytes?: number
}

/** How a read is cut into splits (Connector.splits). */
export interface SplitOptions {
  /**
   * Tapered sizes instead of equal ones (main/connectors/splits.ts, splitWeights): for a table cut
   * into several splits per channel, so the channels, which take splits in order, run out of work
   * together instead of one channel finishing the last big split alone.
   */
  tapered?: boolean
}

/** DataX writeMode: insert, replace (delete-then-insert on key conflict), update (upsert on key). */
export type WriteMode = 'insert' | 'replace' | 'update'

export interface WriteSpec {
  table: TableRef
  /** Target columns in the order rows carry values. Types are the target's own (from its catalog). */
  columns: Column[]
  writeMode: WriteMode
  /** Key columns for replace/update; default: the table's primary key. */
  keyColumns?: string[]
  /**
   * A statement run inside the transaction of the writer's first write that commits, before its
   * rows (an APPEND rerun's delete of its data time's rows, main/engine/loadmode.ts). Run again in
   * each new transaction until one commits; never after. Placeholders as in `Connector.query`.
   */
  firstSql?: { sql: string; params: unknown[] }
  /** The split this writer writes (file writers name their part files by it; databases ignore it). */
  splitIndex?: number
  /**
   * The engine read `columns` from the target's catalog in this run, after creating the table
   * (main/engine/run.ts): a writer that would re-read the catalog for the columns' real types may
   * trust them instead (one round trip per catalog query spared per table). A table changed by
   * someone else since fails the write with the server's error, never writes wrong values (a
   * binary COPY of a changed type is refused by its length or format).
   */
  columnsFromCatalog?: boolean
}

/** A row the target refused, with the database's reason. `index` is its position in the batch. */
export interface DirtyRow {
  index: number
  reason: string
  /** The database's error code when it gave one (`ER_DATA_TOO_LONG`, `22001`, `SQLITE_CONSTRAINT`). */
  code?: string
  /** The target column the error names, when it names one. */
  column?: string
}

export interface WriteOutcome {
  /** Rows written (inserted, replaced or updated). */
  written: number
  dirty: DirtyRow[]
}

/**
 * A writer owns one target connection for its lifetime. Each `write` is atomic for the rows it
 * reports written: either they are all committed when it resolves, or it throws and none are.
 */
export interface Writer {
  write(rows: Row[], signal?: AbortSignal): Promise<WriteOutcome>
  /**
   * Optional: called once after the split's last batch, before the split is checkpointed. A
   * writer that buffers (file parts) publishes here; `close()` without `finish()` discards.
   */
  finish?(): Promise<void>
  /** Release the connection. Safe to call twice. */
  close(): Promise<void>
}

/** Phases of DDL for a migrated table, in the order pgloader runs them. */
export interface DdlPlan {
  /** CREATE TABLE with columns, NOT NULL, defaults that translate, and the primary key. */
  create: string[]
  /** After the data: secondary indexes (and unique constraints). */
  indexes: string[]
  /** After all tables' data: foreign keys (SQLite puts them in `create`, since it cannot add them later). */
  foreignKeys: string[]
  /** After the data: auto-increment / sequence positions set past the loaded maximum. */
  sequences: string[]
  /** Columns whose type had no exact native counterpart, with what was chosen. */
  warnings: string[]
  /**
   * Schema objects of the source left out of the target, each with the reason (a CHECK whose
   * expression does not translate, a GIN index MySQL has no form for, a comment SQLite cannot
   * hold, a default the target type cannot take...). A created table with any of these ends its
   * task `succeeded_with_warnings`.
   */
  omitted?: string[]
  /**
   * Columns created as generated columns (their expression translated): the target computes
   * them, so a load never writes them (the plan leaves them out of the field mapping).
   */
  generated?: string[]
  /**
   * What to run instead of `create` when the target refuses it because of constraints put there
   * for speed (MySQL CHECKs, which a filled table takes only by a copy): `create` without them,
   * and the statements that add them after the data, each on its own (run with `indexes`).
   */
  createFallback?: { create: string[]; indexes: string[] }
  /**
   * PostgreSQL: `create` without the inline primary key, and the `ALTER TABLE ... ADD PRIMARY KEY`
   * that builds it after the data (one sorted build instead of a B-tree insert per row). The
   * engine takes it for a new table loaded by several channels at once, whose concurrent key
   * ranges would otherwise insert into the middle of the index (each split a half-full page, no
   * rightmost-leaf fast path): measured on the 1M-row bench table, the index cost PostgreSQL
   * 1.2-1.5 s of CPU during a 2-channel load against 0.4-0.8 s built afterwards (main/engine/run.ts
   * deferKey).
   */
  primaryKeyAfterData?: { create: string[]; add: string }
  /**
   * One entry per `foreignKeys` statement, when the target checks a new foreign key faster as a
   * query than by its own ALTER (MariaDB: see mysql/ddl.ts): `orphans` returns a child row whose
   * key has no parent (none: the constraint holds), `add` creates the constraint without the
   * server's own check. The engine runs `orphans`, then `add` only when it returned no row.
   */
  foreignKeyFast?: Array<{ orphans: string; add: string }>
}

/** A native type chosen for a logical type, with a warning when the mapping is not exact. */
export interface NativeTypeChoice {
  sql: string
  warning?: string
}

export interface CatalogReader {
  /** Schemas (PostgreSQL), databases (MySQL) or `main` (SQLite) the user can see, system ones excluded. */
  schemas(): Promise<string[]>
  /** Tables and views of a schema (default: the connection's own). */
  tables(schema?: string): Promise<TableSummary[]>
  /** Full description of one table; throws `NotFoundError` naming the table when it does not exist. */
  table(ref: TableRef): Promise<TableSchema>
  /**
   * Optional: full descriptions of several tables of one schema (every table when `names` is
   * undefined) in a fixed number of queries, for planning a whole database at once. Tables that
   * do not exist are absent from the map (no error).
   */
  tablesDetailed?(schema?: string, names?: readonly string[]): Promise<Map<string, TableSchema>>
  /** Views, triggers, routines... of a schema, so a migration can list what it did not move. */
  others(schema?: string): Promise<OtherObject[]>
}

export interface Connector {
  /** The database kind, or `file` for every file store (main/connectors/file/). */
  readonly kind: ConnectorKind | 'file'
  readonly config: ConnectionConfig
  /** The schema used when a TableRef has none (MySQL database, PostgreSQL schema, `main`). */
  readonly defaultSchema: string

  test(): Promise<TestResult>
  catalog: CatalogReader

  /** Quote an identifier for this dialect (backticks / double quotes), doubling embedded quotes. */
  quoteIdent(name: string): string
  /** Quote a table reference (`schema`.`name`). */
  quoteTable(ref: TableRef): string

  /**
   * Cut a read into at most `count` splits by its splitPk (integer keys by value, string keys by
   * sampled quantiles), equal or tapered (main/connectors/splits.ts, SplitOptions).
   */
  splits(read: ReadSpec, count: number, opts?: SplitOptions): Promise<Split[]>

  /**
   * Optional: open up to `connections` pooled read connections ahead of time (best effort, never
   * throws), so channels that start together do not each wait for a handshake.
   */
  warm?(connections: number): Promise<void>
  /** Stream one split as batches of canonical rows (column order = `split.read.columns`). */
  read(split: Split, opts?: ReadOptions): AsyncIterable<RowBatch>
  /** Column metadata for a read (table columns, or the result columns of `querySql`). */
  describeRead(read: ReadSpec): Promise<ResultColumn[]>
  /** Open a writer with its own connection. */
  writer(spec: WriteSpec): Promise<Writer>

  /** Native type for a logical type, e.g. `{kind:'decimal',precision:12,scale:2}` -> `DECIMAL(12,2)`. */
  nativeType(t: LogicalType): NativeTypeChoice
  /**
   * DDL to re-create `table` (whose columns may come from another database) in this database,
   * under the name `target`. `overrides` maps column name -> native type SQL chosen by the user.
   */
  ddl(table: TableSchema, target: TableRef, overrides?: Record<string, string>): DdlPlan

  /** Run one statement with bound parameters (`?` for MySQL/SQLite, `$1` for PostgreSQL). */
  query(sql: string, params?: unknown[], opts?: QueryOptions): Promise<QueryResult>
  /** Run statements in order on one connection (preSql/postSql, DDL). */
  execute(statements: string[]): Promise<void>
  /** Exact row count of a table with an optional where (countdiff, ETA fallback). */
  count(table: TableRef, where?: string): Promise<number>

  /** Close all connections. Safe to call twice. */
  close(): Promise<void>
}

/** Thrown when a table, schema or connection target does not exist. */
export class NotFoundError extends Error {
  override name = 'NotFoundError'
  constructor(
    message: string,
    public readonly code = 'NOT_FOUND',
  ) {
    super(message)
  }
}

export type { Column, TableRef, TableSchema, Row, Value }

/**
 * A hook a saved connection's resolved config carries (non-enumerable, under this symbol, so it never
 * reaches JSON, `postMessage` or a spread copy): SFTP stores and SSH tunnels call it when they pin a
 * host key at first use, so the saved connection keeps the fingerprint. `where` is the config path
 * (`hostKey`, `ssh.hostKey`, `ssh.jump.hostKey`).
 */
export const PIN_HOST_KEY: unique symbol = Symbol.for('sluice.pinHostKey')

/** The function stored under {@link PIN_HOST_KEY}. */
export type HostKeyPinner = (where: string, fingerprint: string) => void

/**
 * Record a host key seen at first use: set it on the config in memory (so copies made later, e.g.
 * for worker threads, carry the pin) and hand it to the saved connection's pinner when there is one.
 */
export function pinHostKey(config: ConnectionConfig, where: 'hostKey' | 'ssh.hostKey' | 'ssh.jump.hostKey', fingerprint: string): void {
  if (where === 'hostKey') config.hostKey = fingerprint
  else if (where === 'ssh.hostKey' && config.ssh) config.ssh.hostKey = fingerprint
  else if (where === 'ssh.jump.hostKey' && config.ssh?.jump) config.ssh.jump.hostKey = fingerprint
  const pin = (config as { [PIN_HOST_KEY]?: HostKeyPinner })[PIN_HOST_KEY]
  if (typeof pin === 'function') pin(where, fingerprint)
}

/**
 * How long (ms) a whole-schema catalog snapshot ({@link CatalogReader.tablesDetailed}) may answer
 * for what a connector's reads need of a table (its columns), instead of the catalog: long enough
 * for a run's plan and its reads, short enough that a workbench connector, which lives long, sees
 * a table changed since.
 */
export const SNAPSHOT_TTL_MS = 60_000
