/**
 * MySQL/MariaDB native types <-> logical types (pure functions, no I/O).
 *
 * Native -> logical follows the MySQL 8.0 / MariaDB 10.11 reference manuals' data type chapters:
 * integer widths (TINYINT..BIGINT, 8..64 bits), DECIMAL(M,D) with M <= 65 and D <= 30, the TEXT
 * and BLOB families' byte caps (255, 65,535, 16,777,215, 4,294,967,295), VARCHAR's 65,535-byte
 * row limit (16,383 utf8mb4 characters), TIME's ±838:59:59 range and TIMESTAMP's 1970–2038 range.
 */
import type { Column, LogicalType } from '../../core/types.js'
import type { NativeTypeChoice } from '../types.js'

/** Byte caps of the TEXT and BLOB families (MySQL manual, "String Type Storage Requirements"). */
export const TEXT_CAPS: Array<[string, number]> = [
  ['tiny', 255],
  ['', 65_535],
  ['medium', 16_777_215],
  ['long', 4_294_967_295],
]

/** Largest VARCHAR length in utf8mb4 characters that fits the 65,535-byte row limit. */
export const MAX_VARCHAR_CHARS = 16_383

/** Parsed COLUMN_TYPE: `bigint(20) unsigned zerofill` -> base `bigint`, args `['20']`, unsigned. */
export interface ParsedNativeType {
  base: string
  args: string[]
  unsigned: boolean
}

/**
 * Split a quoted list as MySQL prints ENUM/SET members (`'a','it''s','b,c'`). Quotes inside a
 * member are doubled; MySQL also escapes a backslash as `\\` in COLUMN_TYPE.
 */
export function parseQuotedList(s: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < s.length) {
    while (i < s.length && (s[i] === ',' || s[i] === ' ')) i++
    if (i >= s.length) break
    if (s[i] !== "'") throw new Error(`cannot parse ENUM/SET member list at offset ${i}: ${s}`)
    i++
    let v = ''
    for (;;) {
      if (i >= s.length) throw new Error(`unterminated ENUM/SET member in: ${s}`)
      const c = s[i]!
      if (c === "'") {
        if (s[i + 1] === "'") {
          v += "'"
          i += 2
          continue
        }
        i++
        break
      }
      if (c === '\\' && i + 1 < s.length) {
        v += s[i + 1]
        i += 2
        continue
      }
      v += c
      i++
    }
    out.push(v)
  }
  return out
}

/** Parse an information_schema COLUMN_TYPE (case-insensitive). */
export function parseNativeType(columnType: string): ParsedNativeType {
  const t = columnType.trim()
  const open = t.indexOf('(')
  if (open < 0) {
    const words = t.toLowerCase().split(/\s+/)
    return { base: words[0]!, args: [], unsigned: words.includes('unsigned') }
  }
  const close = t.lastIndexOf(')')
  const base = t.slice(0, open).trim().toLowerCase()
  const inner = t.slice(open + 1, close)
  const rest = t.slice(close + 1).toLowerCase()
  const args = base === 'enum' || base === 'set' ? parseQuotedList(inner) : inner.split(',').map((a) => a.trim())
  return { base, args, unsigned: /\bunsigned\b/.test(rest) }
}

const INT_BITS: Record<string, 8 | 16 | 24 | 32 | 64> = {
  tinyint: 8,
  smallint: 16,
  mediumint: 24,
  int: 32,
  integer: 32,
  bigint: 64,
}

const GEOMETRY_TYPES = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
])

/**
 * Logical type of a MySQL/MariaDB column from its COLUMN_TYPE.
 * `jsonCheck` marks MariaDB's JSON alias (LONGTEXT with a `json_valid()` CHECK).
 * TINYINT(1) stays int8 (lossless; the `(1)` stays visible in nativeType); BIT(1) is bool.
 */
export function logicalFromNative(columnType: string, jsonCheck = false): LogicalType {
  const p = parseNativeType(columnType)
  const n = (i: number) => (p.args[i] !== undefined && p.args[i] !== '' ? Number(p.args[i]) : undefined)
  const bits = INT_BITS[p.base]
  if (bits) return p.unsigned ? { kind: 'int', bits, unsigned: true } : { kind: 'int', bits }
  switch (p.base) {
    case 'bool':
    case 'boolean':
      return { kind: 'int', bits: 8 }
    case 'bit': {
      const w = n(0) ?? 1
      return w === 1 ? { kind: 'bool' } : { kind: 'bytes', length: Math.ceil(w / 8), fixed: true }
    }
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed': {
      const t: LogicalType = { kind: 'decimal', precision: n(0) ?? 10, scale: n(1) ?? 0 }
      if (p.unsigned) t.unsigned = true
      return t
    }
    case 'float':
      return p.unsigned ? { kind: 'float', bits: 32, unsigned: true } : { kind: 'float', bits: 32 }
    case 'double':
    case 'real':
    case 'double precision':
      return p.unsigned ? { kind: 'float', bits: 64, unsigned: true } : { kind: 'float', bits: 64 }
    case 'char':
      return { kind: 'string', length: n(0) ?? 1, fixed: true }
    case 'varchar':
      return { kind: 'string', length: n(0) }
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext': {
      if (jsonCheck && p.base === 'longtext') return { kind: 'json' }
      const cap = TEXT_CAPS.find(([pre]) => `${pre}text` === p.base)![1]
      return { kind: 'text', maxBytes: cap }
    }
    case 'binary':
      return { kind: 'bytes', length: n(0) ?? 1, fixed: true }
    case 'varbinary':
      return { kind: 'bytes', length: n(0) }
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob': {
      const cap = TEXT_CAPS.find(([pre]) => `${pre}blob` === p.base)![1]
      return { kind: 'bytes', maxBytes: cap }
    }
    case 'date':
      return { kind: 'date' }
    case 'time':
      // ±838:59:59: more than a time of day (a PostgreSQL target uses interval).
      return { kind: 'time', precision: n(0) ?? 0, wide: true }
    case 'datetime':
      return { kind: 'datetime', precision: n(0) ?? 0 }
    case 'timestamp':
      return { kind: 'timestamptz', precision: n(0) ?? 0 }
    case 'year':
      return { kind: 'year' }
    case 'json':
      return { kind: 'json' }
    case 'uuid':
      return { kind: 'uuid' }
    case 'enum':
      return { kind: 'enum', values: p.args }
    case 'set':
      return { kind: 'set', values: p.args }
    default:
      if (GEOMETRY_TYPES.has(p.base)) return p.base === 'geometry' ? { kind: 'geometry' } : { kind: 'geometry', subtype: p.base }
      return { kind: 'other', native: columnType }
  }
}

/** Quote a string as a MySQL string literal (doubling quotes, escaping backslashes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

function textFamily(bytes: number, family: 'TEXT' | 'BLOB'): string {
  if (bytes <= 255) return `TINY${family}`
  if (bytes <= 65_535) return family
  if (bytes <= 16_777_215) return `MEDIUM${family}`
  return `LONG${family}`
}

/** Fractional-second digits for DDL: an unknown precision (SQLite, free queries) keeps microseconds. */
function fracPrecision(p: number | undefined): string {
  if (p === undefined) return '(6)'
  return p ? `(${Math.min(6, p)})` : ''
}

/**
 * Native MySQL type for a logical type. Lossless choices first; a `warning` says where the
 * mapping is not exact (TIMESTAMP-with-offset normalized to UTC in DATETIME, DECIMAL beyond
 * MySQL's 65/30 limits kept as text, unknown types as LONGTEXT).
 */
export function mysqlNativeType(t: LogicalType): NativeTypeChoice {
  switch (t.kind) {
    case 'bool':
      return { sql: 'TINYINT(1)' }
    case 'int': {
      const base = { 8: 'TINYINT', 16: 'SMALLINT', 24: 'MEDIUMINT', 32: 'INT', 64: 'BIGINT' }[t.bits]
      return { sql: t.unsigned ? `${base} UNSIGNED` : base }
    }
    case 'decimal': {
      const u = t.unsigned ? ' UNSIGNED' : ''
      if (t.precision === undefined) {
        return {
          sql: `DECIMAL(65,30)${u}`,
          warning: 'unbounded decimal stored as DECIMAL(65,30): values with more than 35 integer or 30 fraction digits are rejected as dirty rows (never rounded)',
        }
      }
      const s = t.scale ?? 0
      if (t.precision > 65 || s > 30) {
        return { sql: 'LONGTEXT', warning: `decimal(${t.precision},${s}) exceeds MySQL DECIMAL limits (65 digits, scale 30): stored exactly as text in LONGTEXT` }
      }
      return { sql: `DECIMAL(${t.precision},${s})${u}` }
    }
    case 'float':
      return { sql: t.bits === 32 ? 'FLOAT' : 'DOUBLE' }
    case 'string': {
      if (t.length === undefined) return { sql: 'LONGTEXT', warning: 'string without a length stored as LONGTEXT' }
      if (t.fixed && t.length <= 255) return { sql: `CHAR(${t.length})` }
      if (t.length <= MAX_VARCHAR_CHARS) return { sql: `VARCHAR(${t.length})` }
      const sql = textFamily(t.length * 4, 'TEXT')
      return { sql, warning: `string(${t.length}) exceeds VARCHAR's ${MAX_VARCHAR_CHARS} utf8mb4 characters: stored as ${sql} (no length check)` }
    }
    case 'text':
      return { sql: t.maxBytes === undefined ? 'LONGTEXT' : textFamily(t.maxBytes, 'TEXT') }
    case 'bytes':
      if (t.length !== undefined && t.fixed && t.length <= 255) return { sql: `BINARY(${t.length})` }
      if (t.length !== undefined && t.length <= 65_532) return { sql: `VARBINARY(${t.length})` }
      if (t.length !== undefined) return { sql: textFamily(t.length, 'BLOB') }
      return { sql: t.maxBytes === undefined ? 'LONGBLOB' : textFamily(t.maxBytes, 'BLOB') }
    case 'date':
      return { sql: 'DATE' }
    case 'time':
      return { sql: `TIME${fracPrecision(t.precision)}` }
    case 'datetime':
      return { sql: `DATETIME${fracPrecision(t.precision)}` }
    case 'timestamptz':
      return {
        sql: `DATETIME${fracPrecision(t.precision)}`,
        warning: 'timestamptz stored as DATETIME: offset normalized to UTC (the session time zone); TIMESTAMP would only hold 1970–2038',
      }
    case 'year':
      return { sql: 'YEAR' }
    case 'json':
      return { sql: 'JSON' }
    case 'uuid':
      return { sql: 'CHAR(36)' }
    case 'enum':
      return { sql: `ENUM(${t.values.map(sqlString).join(',')})` }
    case 'set':
      return { sql: `SET(${t.values.map(sqlString).join(',')})` }
    case 'geometry':
      return { sql: (t.subtype ?? 'geometry').toUpperCase() }
    case 'other':
      return {
        sql: 'LONGTEXT',
        warning: /^interval/i.test(t.native)
          ? `type ${t.native} has no MySQL counterpart: stored as its text form in LONGTEXT (a PostgreSQL interval in ISO 8601 duration form, P1Y2M3DT4H5M6S)`
          : `type ${t.native} has no MySQL counterpart: stored as its text form in LONGTEXT`,
      }
  }
}

/**
 * Normalize information_schema.COLUMNS.COLUMN_DEFAULT to SQL text.
 * MariaDB (10.2.7+) already reports SQL text: literals quoted, `NULL` for "no default / NULL".
 * MySQL reports literals unquoted and marks expressions with EXTRA `DEFAULT_GENERATED`.
 * Returns undefined when the column has no default or defaults to NULL.
 */
export function normalizeDefault(raw: string | null, mariadb: boolean, dataType: string, extra: string): string | undefined {
  if (raw === null) return undefined
  if (mariadb) return raw === 'NULL' ? undefined : raw
  if (/DEFAULT_GENERATED/i.test(extra)) {
    return /^current_timestamp(\(\d*\))?$/i.test(raw) ? raw : `(${raw})`
  }
  const dt = dataType.toLowerCase()
  if (/int|decimal|numeric|float|double|real|year/.test(dt)) return raw
  if (dt === 'bit') return raw
  return sqlString(raw)
}

/** True for a column whose values travel as bytes (hex in LOAD DATA, Buffer params). */
export function isBinaryColumn(c: Pick<Column, 'type' | 'nativeType'>): boolean {
  const base = parseNativeType(c.nativeType || 'x').base
  if (base === 'bit' || /binary|blob/.test(base) || GEOMETRY_TYPES.has(base)) return true
  return c.type.kind === 'bytes' || c.type.kind === 'geometry'
}

/** True for a BIT(n) column (bool in the catalog when n = 1). */
export function isBitColumn(c: Pick<Column, 'type' | 'nativeType'>): boolean {
  return parseNativeType(c.nativeType || 'x').base === 'bit' || (!c.nativeType && c.type.kind === 'bool')
}
