/**
 * The engine's type model and canonical values.
 *
 * Every connector translates its native column types into a {@link LogicalType} and its native
 * values into a {@link Value} of the canonical form listed below, and back. The engine and the
 * verifier never look at native types or driver-specific values.
 *
 * Canonical value forms (by logical kind):
 *
 * | kind         | canonical JS value                                                          |
 * | ------------ | --------------------------------------------------------------------------- |
 * | bool         | `boolean`                                                                   |
 * | int          | `number` when it is a safe integer, else a decimal `string` (`"-9223372036854775808"`) or `bigint` |
 * | decimal      | exact decimal `string` (`"-123.4500"`), never a JS number                    |
 * | float        | `number` (double); `NaN`/`Infinity` are allowed where the target has them. A float32 (FLOAT, real) is its exact single-precision value as a double (`Math.fround`), never the 6-digit text MySQL prints; text spells it with {@link float32Text} |
 * | string, text | `string` (UTF-8 in transit; `''` is distinct from `null`)                   |
 * | bytes        | `Buffer`                                                                    |
 * | date         | `'YYYY-MM-DD'` (years 0001–9999; MySQL zero dates follow the job's zeroDate policy) |
 * | time         | `'[-]HH:MM:SS[.ffffff]'` (MySQL TIME may exceed 24 h or be negative)         |
 * | datetime     | `'YYYY-MM-DD HH:MM:SS[.ffffff]'`: wall clock, no zone, never shifted          |
 * | timestamptz  | `'YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM'`: an instant with its offset           |
 *
 * Times are spelled with trailing zeros of the fraction dropped (`10:00:00.5`, not
 * `10:00:00.500000`; no point when the fraction is zero), as PostgreSQL prints them, so equal
 * times are equal text whatever the column's declared precision.
 * | year         | `number`                                                                    |
 * | json         | `string` (the JSON text as stored)                                          |
 * | uuid         | `string` (lower-case canonical 8-4-4-4-12)                                  |
 * | enum, set    | `string` (a SET is its comma-joined members)                                |
 * | geometry     | `Buffer` (MySQL internal form: 4-byte SRID + WKB)                           |
 * | other        | `string` (the value's text form in its source database)                     |
 *
 * `null` is SQL NULL for every kind.
 */

/** One value crossing the engine. See the table above for which form each logical kind uses. */
export type Value = null | boolean | number | bigint | string | Buffer

/** One row: values in the order of the read's column list. */
export type Row = Value[]

/**
 * A batch of rows moving through a channel. Batches are bounded by bytes (see `approxBytes`), not
 * by a fixed row count, so wide rows and narrow rows cost the same memory per batch.
 */
export interface RowBatch {
  rows: Row[]
  /** Approximate in-memory size of the rows' values in bytes (UTF-8 length of text, Buffer length, 8 per number). */
  approxBytes: number
}

/** Logical (database-independent) column types. Lengths are in characters, precisions in digits. */
export type LogicalType =
  | { kind: 'bool' }
  | { kind: 'int'; bits: 8 | 16 | 24 | 32 | 64; unsigned?: boolean }
  | { kind: 'decimal'; precision?: number; scale?: number; unsigned?: boolean }
  | { kind: 'float'; bits: 32 | 64; unsigned?: boolean }
  /** Character data with a declared maximum length (VARCHAR(n), CHAR(n) when `fixed`). */
  | { kind: 'string'; length?: number; fixed?: boolean }
  /** Unbounded (or large-bounded) text: TEXT, MEDIUMTEXT, LONGTEXT, CLOB. `maxBytes` when the database caps it. */
  | { kind: 'text'; maxBytes?: number }
  /** Binary data: BINARY(n)/VARBINARY(n) with `length`, BLOB/BYTEA without. */
  | { kind: 'bytes'; length?: number; fixed?: boolean; maxBytes?: number }
  | { kind: 'date' }
  /**
   * Fractional-second digits 0–6. `wide`: values may be negative or past 24 h (MySQL TIME spans
   * ±838:59:59), so a target needs more than a time of day (PostgreSQL: interval).
   */
  | { kind: 'time'; precision?: number; wide?: boolean }
  | { kind: 'datetime'; precision?: number }
  | { kind: 'timestamptz'; precision?: number }
  | { kind: 'year' }
  | { kind: 'json'; binary?: boolean }
  | { kind: 'uuid' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'set'; values: string[] }
  | { kind: 'geometry'; subtype?: string }
  /** A type the engine does not model (interval, inet, money, arrays...): carried as text. */
  | { kind: 'other'; native: string }

export type TypeKind = LogicalType['kind']

/** A column as a catalog reports it. */
export interface Column {
  name: string
  /** 1-based position in the table. */
  ordinal: number
  type: LogicalType
  /** The database's own spelling of the type, e.g. `bigint(20) unsigned`, `numeric(12,2)`, `NVARCHAR(160)`. */
  nativeType: string
  nullable: boolean
  /** The default as the database's SQL text (`'abc'`, `0`, `CURRENT_TIMESTAMP`, `nextval('s'::regclass)`), or undefined. */
  default?: string
  autoIncrement?: boolean
  charset?: string
  collation?: string
  comment?: string
  /** A generated (computed) column: its expression in the source `dialect`, and whether it is stored. */
  generated?: { expression: string; stored: boolean; dialect: 'mysql' | 'postgres' | 'sqlite' }
  /** MySQL `ON UPDATE CURRENT_TIMESTAMP`: the column takes the current time when its row is updated. */
  onUpdateCurrentTimestamp?: boolean
}

export interface IndexInfo {
  name: string
  columns: string[]
  unique: boolean
  primary: boolean
  /** Index kind when not a plain (btree) index: `fulltext`, `spatial` (MySQL), `gin`, `gist`... */
  method?: string
}

/** A CHECK constraint as the source catalog reports it (a PostgreSQL domain's CHECK is reported on each column of that domain). */
export interface CheckConstraint {
  name: string
  /** The boolean expression in the source's dialect, without the `CHECK (...)` around it. */
  expression: string
  dialect: 'mysql' | 'postgres' | 'sqlite'
}

export interface ForeignKeyInfo {
  name: string
  columns: string[]
  refSchema?: string
  refTable: string
  refColumns: string[]
  onDelete?: string
  onUpdate?: string
}

/** A table reference. `schema` is the PostgreSQL schema or the MySQL database; SQLite ignores it (or names an attached db). */
export interface TableRef {
  schema?: string
  name: string
}

/** The full description of a table, enough to re-create it elsewhere. */
export interface TableSchema extends TableRef {
  columns: Column[]
  primaryKey: string[]
  indexes: IndexInfo[]
  foreignKeys: ForeignKeyInfo[]
  /** Estimated row count from the database's statistics (not exact; used for ETA and splitting). */
  estimatedRows?: number
  /** Next auto-increment value / sequence position, when the database reports one. */
  autoIncrementNext?: string
  comment?: string
  /** CHECK constraints (table and column level, and PostgreSQL domain checks). */
  checks?: CheckConstraint[]
  /** Source column name -> this table's column name, where a migration renamed columns the checks refer to. */
  renamed?: Record<string, string>
  /** PostgreSQL partitioned table: `RANGE (created_at)`, and its partitions' names. */
  partitioning?: { key: string; partitions: string[] }
  /**
   * Schema objects of the table the catalog saw but cannot describe for re-creation (an
   * expression or partial index, a GiST index on a type the target lacks...), each with what it
   * is; a migration lists them as not migrated.
   */
  omitted?: string[]
}

export interface TableSummary extends TableRef {
  kind: 'table' | 'view'
  estimatedRows?: number
}

/** Things a migration lists but does not move (views, triggers, routines). */
export interface OtherObject {
  kind: 'view' | 'trigger' | 'routine' | 'sequence' | 'event'
  schema?: string
  name: string
}

/**
 * The shortest decimal spelling that reads back as the same float32 (`Math.fround(Number(s)) ===
 * x`), as PostgreSQL prints `real` and as C's `%.9g` would after trimming: 16777216 -> `16777216`,
 * Math.fround(3.14159274) -> `3.1415927`, the largest float32 -> `3.4028235e+38`. A value that is
 * not exactly a float32 (a double with more bits) is spelled as a double (`String(x)`), never
 * rounded. NaN and ±Infinity as `String()` spells them.
 */
export function float32Text(x: number): string {
  if (!Number.isFinite(x) || Math.fround(x) !== x) return String(x)
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p)
    if (Math.fround(Number(s)) === x) return String(Number(s))
  }
  return String(x)
}

/** Approximate the memory held by one value, in bytes. Used to bound batches by size. */
export function approxValueBytes(v: Value): number {
  if (v === null) return 1
  switch (typeof v) {
    case 'string':
      return v.length * 2 > 64 ? Buffer.byteLength(v) : v.length * 2
    case 'number':
    case 'boolean':
      return 8
    case 'bigint':
      return 16
    default:
      return (v as Buffer).length
  }
}

/** Render a logical type for messages, e.g. `decimal(12,2)`, `string(20)`, `int64 unsigned`. */
export function describeType(t: LogicalType): string {
  switch (t.kind) {
    case 'int':
      return `int${t.bits}${t.unsigned ? ' unsigned' : ''}`
    case 'decimal':
      return t.precision !== undefined ? `decimal(${t.precision},${t.scale ?? 0})` : 'decimal'
    case 'float':
      return `float${t.bits}`
    case 'string':
      return `${t.fixed ? 'char' : 'string'}${t.length !== undefined ? `(${t.length})` : ''}`
    case 'bytes':
      return `bytes${t.length !== undefined ? `(${t.length})` : ''}`
    case 'time':
    case 'datetime':
    case 'timestamptz':
      return t.precision ? `${t.kind}(${t.precision})` : t.kind
    case 'enum':
    case 'set':
      return `${t.kind}(${t.values.map((v) => `'${v}'`).join(',')})`
    case 'other':
      return `other(${t.native})`
    default:
      return t.kind
  }
}
