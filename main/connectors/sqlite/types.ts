/**
 * SQLite declared types <-> logical types (pure functions, no I/O).
 *
 * SQLite has no column types, only a declared type name from which a column gets an *affinity*
 * (SQLite docs, "Datatypes In SQLite", §3.1 Determination Of Column Affinity), tested in order:
 *   1. the name contains `INT`                 -> INTEGER affinity
 *   2. it contains `CHAR`, `CLOB` or `TEXT`    -> TEXT
 *   3. it contains `BLOB`, or is empty         -> BLOB (no conversion)
 *   4. it contains `REAL`, `FLOA` or `DOUB`    -> REAL
 *   5. otherwise                               -> NUMERIC
 * A TEXT value written into an INTEGER/REAL/NUMERIC column that looks like a number is converted:
 * `'0.10'` becomes REAL 0.1, `'20240101'` in a `DATE` column becomes INTEGER 20240101, and a
 * numeric text with more than 15 significant digits goes through a double (verified on 3.53:
 * `'12345678901234567.00'` is stored as 12345678901234568). So this connector's own declarations
 * ({@link nativeTypeFor}) give every kind whose canonical value is text a TEXT-affinity name
 * (`DECIMAL_TEXT(p,s)`, `DATE_TEXT`, `DATETIME_TEXT(p)`, `JSON_TEXT`...: they contain `TEXT` and
 * no `INT`), and {@link parseDeclaredType} reads them back to the same logical type.
 */
import type { LogicalType } from '../../core/types.js'
import type { NativeTypeChoice } from '../types.js'

/** SQLite column affinity. `BLOB` is also the affinity of an empty declared type ("none"). */
export type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC'

/** The affinity SQLite gives a declared type name (rules quoted in the module comment). */
export function affinityOf(declared: string | null | undefined): Affinity {
  const u = (declared ?? '').toUpperCase()
  if (u.includes('INT')) return 'INTEGER'
  if (u.includes('CHAR') || u.includes('CLOB') || u.includes('TEXT')) return 'TEXT'
  if (u.includes('BLOB') || u.trim() === '') return 'BLOB'
  if (u.includes('REAL') || u.includes('FLOA') || u.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

const GEOMETRY = /^(GEOMETRY|POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION)\b/

/**
 * Logical type of a declared SQLite type. Recognized spellings (case-insensitive):
 * - our own lossless names: `DECIMAL_TEXT(p,s)` -> decimal(p,s); `UNSIGNED_BIG_TEXT` and
 *   `BIGINT_TEXT [UNSIGNED]` -> int64 (unsigned); `DATE_TEXT`, `TIME_TEXT(p)`, `DATETIME_TEXT(p)`,
 *   `TIMESTAMP_TEXT(p)`, `TIMESTAMPTZ_TEXT(p)`, `JSON_TEXT`, `UUID_TEXT`;
 * - integers: TINYINT -> int8, SMALLINT/INT2 -> int16, MEDIUMINT -> int24, INT4 -> int32,
 *   INTEGER/INT/BIGINT/INT8/`UNSIGNED BIG INT` -> int64 (a SQLite INTEGER is 64-bit whatever its
 *   name, so a loose `INT` is read as int64, never narrower); `UNSIGNED` sets `unsigned`;
 * - NUMERIC(p,s)/DECIMAL(p,s)/NUMBER -> decimal; REAL/DOUBLE [PRECISION]/FLOAT/FLOAT8 -> float64,
 *   FLOAT4 -> float32; BOOLEAN/BOOL -> bool;
 * - VARCHAR(n)/NVARCHAR(n)/CHARACTER VARYING(n)/VARYING CHARACTER(n) -> string(n);
 *   CHAR(n)/NCHAR(n)/CHARACTER(n)/NATIVE CHARACTER(n) -> fixed string(n); TEXT/CLOB/xxxTEXT -> text;
 * - BLOB/BYTEA -> bytes, BINARY(n)/VARBINARY(n) -> bytes(n);
 * - DATE -> date; DATETIME(p)/TIMESTAMP(p) -> datetime; TIMESTAMPTZ / TIMESTAMP WITH TIME ZONE ->
 *   timestamptz; TIME(p) -> time; JSON/JSONB -> json; UUID -> uuid; YEAR -> year;
 *   GEOMETRY/POINT/... -> geometry; INTERVAL -> other;
 * - an empty declared type -> `other('')` (values carried as stored);
 * - anything else by affinity: INTEGER -> int64, TEXT -> text, BLOB -> bytes, REAL -> float64,
 *   NUMERIC -> decimal (no precision).
 * Enum CHECK constraints are not parsed: an enum column created by {@link nativeTypeFor} reads
 * back as text (its CHECK constraint stays in the table).
 */
export function parseDeclaredType(declared: string | null | undefined): LogicalType {
  const raw = (declared ?? '').trim()
  if (!raw) return { kind: 'other', native: '' }
  const u = raw.toUpperCase().replace(/\s+/g, ' ')
  const m = /\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)/.exec(u)
  const a1 = m ? Number(m[1]) : undefined
  const a2 = m?.[2] !== undefined ? Number(m[2]) : undefined
  const unsigned = /\bUNSIGNED\b/.test(u)
  const base = u.replace(/\(.*?\)/g, '').replace(/\bUNSIGNED\b|\bZEROFILL\b/g, '').replace(/\s+/g, ' ').trim()
  const prec = (p: number | undefined) => (p !== undefined && p >= 0 && p <= 6 ? { precision: p } : {})
  const u2 = unsigned ? { unsigned: true } : {}

  // Our own lossless conventions.
  if (base === 'DECIMAL_TEXT') return { kind: 'decimal', ...(a1 !== undefined ? { precision: a1, scale: a2 ?? 0 } : {}), ...u2 }
  if (base === 'UNSIGNED_BIG_TEXT') return { kind: 'int', bits: 64, unsigned: true }
  if (base === 'BIGINT_TEXT') return { kind: 'int', bits: 64, ...u2 }
  if (base === 'DATE_TEXT') return { kind: 'date' }
  if (base === 'TIME_TEXT') return { kind: 'time', ...prec(a1) }
  if (base === 'DATETIME_TEXT' || base === 'TIMESTAMP_TEXT') return { kind: 'datetime', ...prec(a1) }
  if (base === 'TIMESTAMPTZ_TEXT') return { kind: 'timestamptz', ...prec(a1) }
  if (base === 'JSON_TEXT') return { kind: 'json' }
  if (base === 'UUID_TEXT') return { kind: 'uuid' }

  switch (base) {
    case 'TINYINT':
      return { kind: 'int', bits: 8, ...u2 }
    case 'SMALLINT':
    case 'INT2':
      return { kind: 'int', bits: 16, ...u2 }
    case 'MEDIUMINT':
      return { kind: 'int', bits: 24, ...u2 }
    case 'INT4':
      return { kind: 'int', bits: 32, ...u2 }
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
    case 'INT8':
      return { kind: 'int', bits: 64, ...u2 }
    case 'BIG INT':
      return { kind: 'int', bits: 64, ...u2 }
    case 'BOOLEAN':
    case 'BOOL':
      return { kind: 'bool' }
    case 'NUMERIC':
    case 'DECIMAL':
    case 'NUMBER':
    case 'DEC':
      return { kind: 'decimal', ...(a1 !== undefined ? { precision: a1, scale: a2 ?? 0 } : {}), ...u2 }
    case 'REAL':
    case 'DOUBLE':
    case 'DOUBLE PRECISION':
    case 'FLOAT':
    case 'FLOAT8':
      return { kind: 'float', bits: 64 }
    case 'FLOAT4':
      return { kind: 'float', bits: 32 }
    case 'VARCHAR':
    case 'NVARCHAR':
    case 'VARCHAR2':
    case 'NVARCHAR2':
    case 'CHARACTER VARYING':
    case 'VARYING CHARACTER':
    case 'NATIVE CHARACTER':
      return { kind: 'string', ...(a1 !== undefined ? { length: a1 } : {}) }
    case 'CHAR':
    case 'NCHAR':
    case 'CHARACTER':
      return { kind: 'string', ...(a1 !== undefined ? { length: a1 } : {}), fixed: true }
    case 'TEXT':
    case 'CLOB':
    case 'NTEXT':
    case 'TINYTEXT':
    case 'MEDIUMTEXT':
    case 'LONGTEXT':
      return { kind: 'text' }
    case 'BLOB':
    case 'BYTEA':
    case 'TINYBLOB':
    case 'MEDIUMBLOB':
    case 'LONGBLOB':
      return { kind: 'bytes' }
    case 'BINARY':
      return { kind: 'bytes', ...(a1 !== undefined ? { length: a1 } : {}), fixed: true }
    case 'VARBINARY':
      return { kind: 'bytes', ...(a1 !== undefined ? { length: a1 } : {}) }
    case 'DATE':
      return { kind: 'date' }
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIMESTAMP WITHOUT TIME ZONE':
      return { kind: 'datetime', ...prec(a1) }
    case 'TIMESTAMPTZ':
    case 'TIMESTAMP WITH TIME ZONE':
      return { kind: 'timestamptz', ...prec(a1) }
    case 'TIME':
    case 'TIME WITHOUT TIME ZONE':
      return { kind: 'time', ...prec(a1) }
    case 'JSON':
    case 'JSONB':
      return { kind: 'json' }
    case 'UUID':
      return { kind: 'uuid' }
    case 'YEAR':
      return { kind: 'year' }
    case 'INTERVAL':
      return { kind: 'other', native: raw }
  }
  if (GEOMETRY.test(base)) return { kind: 'geometry', subtype: base.split(' ')[0]!.toLowerCase() }
  switch (affinityOf(u)) {
    case 'INTEGER':
      return { kind: 'int', bits: 64, ...u2 }
    case 'TEXT':
      return { kind: 'text' }
    case 'BLOB':
      return { kind: 'bytes' }
    case 'REAL':
      return { kind: 'float', bits: 64 }
    default:
      return { kind: 'decimal', ...u2 }
  }
}

/**
 * Declared type this connector creates for a logical type. Every choice keeps the canonical
 * value byte-exact under SQLite's affinity rules (see the module comment), and reads back through
 * {@link parseDeclaredType} as the same logical type, except where noted:
 *
 * | logical            | declared                    | affinity | note |
 * | ------------------ | --------------------------- | -------- | ---- |
 * | bool               | BOOLEAN                     | NUMERIC  | stored as INTEGER 1/0 |
 * | int8/16/24         | TINYINT/SMALLINT/MEDIUMINT [UNSIGNED] | INTEGER | |
 * | int32, int64       | INTEGER, BIGINT [UNSIGNED]  | INTEGER  | int32 reads back as int64 (SQLite's INTEGER is 64-bit) |
 * | int64 unsigned     | UNSIGNED_BIG_TEXT           | TEXT     | 2^63..2^64-1 do not fit SQLite's INTEGER; stored as digits |
 * | decimal(p,s)       | DECIMAL_TEXT(p,s)           | TEXT     | NUMERIC would keep only 15 significant digits and drop '0.10''s zero |
 * | float64 / float32  | REAL / FLOAT4               | REAL     | |
 * | string(n)          | VARCHAR(n) / CHAR(n)        | TEXT     | SQLite does not enforce the length |
 * | text               | TEXT                        | TEXT     | |
 * | bytes              | BLOB, VARBINARY(n)/BINARY(n)| BLOB/NUMERIC | BLOB values are never converted |
 * | date               | DATE_TEXT                   | TEXT     | `DATE` (NUMERIC) would turn '20240101' into an integer |
 * | time(p)            | TIME_TEXT(p)                | TEXT     | |
 * | datetime(p)        | DATETIME_TEXT(p)            | TEXT     | |
 * | timestamptz(p)     | TIMESTAMPTZ_TEXT(p)         | TEXT     | the offset is kept in the text |
 * | json               | JSON_TEXT                   | TEXT     | `JSON` (NUMERIC) would turn the document '1.50' into 1.5 |
 * | uuid               | UUID_TEXT                   | TEXT     | |
 * | year               | YEAR                        | NUMERIC  | stored as INTEGER |
 * | enum               | TEXT (+ CHECK in ddl)       | TEXT     | reads back as text |
 * | set                | TEXT                        | TEXT     | warning: membership not checked |
 * | geometry           | BLOB                        | BLOB     | warning: MySQL internal bytes, no spatial type |
 * | other              | TEXT                        | TEXT     | warning: carried as its text form |
 */
export function nativeTypeFor(t: LogicalType): NativeTypeChoice {
  const p = (n: number | undefined) => (n !== undefined ? `(${n})` : '')
  switch (t.kind) {
    case 'bool':
      return { sql: 'BOOLEAN' }
    case 'int': {
      if (t.bits === 64 && t.unsigned) return { sql: 'UNSIGNED_BIG_TEXT' }
      const name = t.bits === 8 ? 'TINYINT' : t.bits === 16 ? 'SMALLINT' : t.bits === 24 ? 'MEDIUMINT' : t.bits === 32 ? 'INTEGER' : 'BIGINT'
      return { sql: t.unsigned ? `${name} UNSIGNED` : name }
    }
    case 'decimal':
      return { sql: `DECIMAL_TEXT${t.precision !== undefined ? `(${t.precision},${t.scale ?? 0})` : ''}${t.unsigned ? ' UNSIGNED' : ''}` }
    case 'float':
      return { sql: t.bits === 32 ? 'FLOAT4' : 'REAL' }
    case 'string':
      return { sql: `${t.fixed ? 'CHAR' : 'VARCHAR'}${p(t.length)}` }
    case 'text':
      return { sql: 'TEXT' }
    case 'bytes':
      return { sql: t.length !== undefined ? `${t.fixed ? 'BINARY' : 'VARBINARY'}(${t.length})` : 'BLOB' }
    case 'date':
      return { sql: 'DATE_TEXT' }
    case 'time':
      return { sql: `TIME_TEXT${t.precision ? p(t.precision) : ''}` }
    case 'datetime':
      return { sql: `DATETIME_TEXT${t.precision ? p(t.precision) : ''}` }
    case 'timestamptz':
      return { sql: `TIMESTAMPTZ_TEXT${t.precision ? p(t.precision) : ''}` }
    case 'year':
      return { sql: 'YEAR' }
    case 'json':
      return { sql: 'JSON_TEXT' }
    case 'uuid':
      return { sql: 'UUID_TEXT' }
    case 'enum':
      return { sql: 'TEXT' }
    case 'set':
      return { sql: 'TEXT', warning: `SET(${t.values.join(',')}) stored as TEXT (comma-joined members); SQLite does not check membership` }
    case 'geometry':
      return { sql: 'BLOB', warning: `geometry${t.subtype ? ` (${t.subtype})` : ''} stored as BLOB (MySQL internal form: SRID + WKB); SQLite has no spatial type` }
    case 'other':
      return { sql: 'TEXT', warning: `type ${t.native || '(none)'} has no SQLite counterpart, carried as TEXT${/^interval/i.test(t.native) ? ' (a PostgreSQL interval in ISO 8601 duration form, P1Y2M3DT4H5M6S)' : ''}` }
  }
}
