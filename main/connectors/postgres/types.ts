/**
 * PostgreSQL native types <-> logical types, and the per-connection text parsers that turn
 * driver values into canonical values (main/core/types.ts).
 */
import type { LogicalType } from '../../core/types.js'
import type { NativeTypeChoice } from '../types.js'
import { normalizeTimestamptz, type EncodeKind, type FieldKind } from './copy-text.js'

/** Built-in type OIDs (pg_type.oid, stable across PostgreSQL versions). */
export const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  float4: 700,
  float8: 701,
  timestamptz: 1184,
} as const

function parseBytea(s: string): Buffer {
  if (s.startsWith('\\x')) return Buffer.from(s.slice(2), 'hex')
  throw new Error(`bytea value is not in hex format (bytea_output must be 'hex'): ${s.slice(0, 20)}`)
}

const identity = (s: string): string => s

/**
 * A `types` object for a pg client/pool config (never the global `pg.types`): int2/int4 as numbers,
 * float4/float8 as numbers (`NaN`, `Infinity`, `-Infinity` included), bool as boolean, bytea as
 * Buffer, timestamptz with a `±HH:MM` offset, and every other type (int8, numeric, date, time,
 * timestamp, interval, json, jsonb, uuid, arrays...) as its raw text, which is its canonical form.
 * Binary-format results are never requested; they would be returned as raw Buffers.
 */
export const pgTypes = {
  getTypeParser(oid: number, format?: string): (s: string) => unknown {
    if (format === 'binary') return identity as never
    switch (oid) {
      case OID.int2:
      case OID.int4:
      case OID.float8:
        return Number
      case OID.float4:
        // A real is its exact float32 value (PostgreSQL prints the shortest spelling: '3.4028235e+38'
        // for the largest, which as a double is above every float32 and would not fit MySQL FLOAT).
        return (s: string) => Math.fround(Number(s))
      case OID.bool:
        return (s: string) => s === 't'
      case OID.bytea:
        return parseBytea
      case OID.timestamptz:
        return normalizeTimestamptz
      default:
        return identity
    }
  },
}

/** One type description row (from pg_attribute or a RowDescription) used to derive a logical type. */
export interface NativeTypeInfo {
  /** `format_type(type, typmod)` of the column's own type (a domain keeps its name). */
  native: string
  /** `format_type` of the base type (the domain's base type, else the type itself). */
  baseNative: string
  /** pg_type.typtype of the base type: `b` base, `e` enum, `c` composite, `r` range, `m` multirange, `p` pseudo. */
  baseTyptype: string
  /** Enum labels in sort order when the base type is an enum. */
  labels?: string[] | null
}

const TIME_RE = /^(time|timestamp)(?:\((\d+)\))? (with|without) time zone$/

/**
 * Logical type for a PostgreSQL type (catalog columns and query result columns).
 *
 * smallint/integer/bigint -> int 16/32/64; numeric(p,s) -> decimal(p,s) (unconstrained numeric ->
 * decimal without precision; PostgreSQL 15's negative scale numeric(p,-s) -> decimal(p+s,0), a scale
 * above the precision -> decimal(s,s)); real/double precision -> float 32/64; boolean -> bool;
 * varchar(n) -> string(n); char(n) -> string(n, fixed); text and unbounded varchar -> text;
 * bytea -> bytes; date; time(p) -> time(p); timestamp(p) -> datetime(p); timestamptz(p) ->
 * timestamptz(p); json -> json, jsonb -> json binary; uuid; enums -> enum with labels. Time types
 * without an explicit precision get precision 6, PostgreSQL's default (microseconds), so a target
 * whose default is 0 digits (MySQL DATETIME) does not round them. Everything else (interval, inet,
 * money, arrays, timetz, bit, xml, ranges, composites...) -> other, carried as text.
 * Domains map by their base type.
 */
export function logicalFromNative(info: NativeTypeInfo): LogicalType {
  const b = info.baseNative
  if (info.baseTyptype === 'e') return { kind: 'enum', values: info.labels ?? [] }
  switch (b) {
    case 'smallint':
      return { kind: 'int', bits: 16 }
    case 'integer':
      return { kind: 'int', bits: 32 }
    case 'bigint':
      return { kind: 'int', bits: 64 }
    case 'real':
      return { kind: 'float', bits: 32 }
    case 'double precision':
      return { kind: 'float', bits: 64 }
    case 'boolean':
      return { kind: 'bool' }
    case 'text':
    case 'character varying':
    case 'bpchar':
      return { kind: 'text' }
    case 'bytea':
      return { kind: 'bytes' }
    case 'date':
      return { kind: 'date' }
    case 'json':
      return { kind: 'json' }
    case 'jsonb':
      return { kind: 'json', binary: true }
    case 'uuid':
      return { kind: 'uuid' }
    case 'numeric':
      return { kind: 'decimal' }
  }
  let m = /^numeric\((\d+),(-?\d+)\)$/.exec(b)
  if (m) {
    const p = Number(m[1])
    const s = Number(m[2])
    if (s < 0) return { kind: 'decimal', precision: p - s, scale: 0 }
    if (s > p) return { kind: 'decimal', precision: s, scale: s }
    return { kind: 'decimal', precision: p, scale: s }
  }
  m = /^character varying\((\d+)\)$/.exec(b)
  if (m) return { kind: 'string', length: Number(m[1]) }
  m = /^character\((\d+)\)$/.exec(b)
  if (m) return { kind: 'string', length: Number(m[1]), fixed: true }
  m = TIME_RE.exec(b)
  if (m) {
    const precision = m[2] !== undefined ? Number(m[2]) : 6
    if (m[1] === 'timestamp') return m[3] === 'with' ? { kind: 'timestamptz', precision } : { kind: 'datetime', precision }
    if (m[3] === 'without') return { kind: 'time', precision }
  }
  return { kind: 'other', native: info.native }
}

/** How the COPY decoder turns a column of this logical type into canonical values. */
export function fieldKindOf(t: LogicalType): FieldKind {
  switch (t.kind) {
    case 'bool':
      return 'bool'
    case 'int':
      return t.bits <= 32 && !(t.bits === 32 && t.unsigned) ? 'int' : 'text'
    case 'float':
      return t.bits === 32 ? 'float4' : 'float'
    case 'bytes':
      return 'bytea'
    case 'timestamptz':
      return 'timestamptz'
    default:
      return 'text'
  }
}

/** How the COPY encoder spells values for a target column of this logical type. */
export function encodeKindOf(t: LogicalType): EncodeKind {
  switch (t.kind) {
    case 'bool':
      return 'bool'
    case 'float':
      return t.bits === 32 ? 'float4' : 'num'
    case 'int':
    case 'decimal':
    case 'year':
      return 'num'
    case 'bytes':
    case 'geometry':
      return 'bytea'
    default:
      return 'text'
  }
}

/** PostgreSQL's limit on varchar(n) / char(n) (10,485,760 characters). */
export const PG_MAX_VARCHAR = 10_485_760
/** PostgreSQL's limit on numeric precision in a type modifier. */
export const PG_MAX_NUMERIC_PRECISION = 1000

function withPrecision(base: string, p: number | undefined, suffix = ''): string {
  return p === undefined ? base + suffix : `${base}(${Math.min(Math.max(p, 0), 6)})${suffix}`
}

/**
 * Native PostgreSQL type for a logical type, with a warning when the mapping is not exact.
 *
 * int8/int16 -> smallint (unsigned 16 -> integer), int24/int32 -> integer, int32 unsigned -> bigint,
 * int64 -> bigint, int64 unsigned -> numeric(20,0); decimal(p,s) -> numeric(p,s) (p > 1000 or no
 * precision -> numeric); float32 -> real, float64 -> double precision (unsigned is dropped with a
 * warning); string(n) -> varchar(n); char(n) -> varchar(n) with a warning (PostgreSQL char(n) pads
 * with spaces on output while MySQL CHAR strips them on read: varchar keeps the exact value read);
 * n > 10,485,760 or no length -> text; text -> text; bytes -> bytea; date; time(p); datetime(p) ->
 * timestamp(p); timestamptz(p) -> timestamptz(p); bool -> boolean; json -> jsonb when binary else
 * json; uuid; enum -> text (ddl() adds a CHECK (col IN (...)) constraint); set -> text (warning);
 * year -> smallint; geometry -> bytea (warning: MySQL internal SRID+WKB bytes); other -> text (warning).
 */
export function nativeTypeFor(t: LogicalType): NativeTypeChoice {
  switch (t.kind) {
    case 'bool':
      return { sql: 'boolean' }
    case 'int':
      if (t.unsigned) {
        if (t.bits <= 8) return { sql: 'smallint' }
        if (t.bits <= 24) return { sql: 'integer' }
        if (t.bits === 32) return { sql: 'bigint' }
        return { sql: 'numeric(20,0)' }
      }
      if (t.bits <= 16) return { sql: 'smallint' }
      if (t.bits <= 32) return { sql: 'integer' }
      return { sql: 'bigint' }
    case 'decimal': {
      const w = t.unsigned ? 'unsigned is not enforced (PostgreSQL numeric has no unsigned variant)' : undefined
      if (t.precision === undefined) return { sql: 'numeric', warning: w }
      if (t.precision > PG_MAX_NUMERIC_PRECISION || t.precision < 1)
        return { sql: 'numeric', warning: `precision ${t.precision} is outside numeric's 1..1000, unconstrained numeric used` }
      return { sql: `numeric(${t.precision},${t.scale ?? 0})`, warning: w }
    }
    case 'float': {
      const w = t.unsigned ? 'unsigned is not enforced (PostgreSQL floats have no unsigned variant)' : undefined
      return { sql: t.bits === 32 ? 'real' : 'double precision', warning: w }
    }
    case 'string':
      if (t.length === undefined) return { sql: 'text' }
      if (t.length > PG_MAX_VARCHAR) return { sql: 'text', warning: `length ${t.length} exceeds varchar's 10485760, text used` }
      if (t.fixed)
        return {
          sql: `varchar(${t.length})`,
          warning: `char(${t.length}) -> varchar(${t.length}): PostgreSQL char pads with spaces, varchar keeps values exactly as read`,
        }
      return { sql: `varchar(${t.length})` }
    case 'text':
      return { sql: 'text' }
    case 'bytes':
      return { sql: 'bytea' }
    case 'date':
      return { sql: 'date' }
    case 'time':
      // MySQL TIME spans ±838:59:59; PostgreSQL time holds 00:00..24:00: interval holds them all.
      if (t.wide) return { sql: withPrecision('interval', t.precision), warning: 'MySQL TIME (up to ±838:59:59) stored as interval: time holds only 00:00:00..24:00:00' }
      return { sql: withPrecision('time', t.precision) }
    case 'datetime':
      return { sql: withPrecision('timestamp', t.precision) }
    case 'timestamptz':
      return { sql: withPrecision('timestamptz', t.precision) }
    case 'year':
      return { sql: 'smallint' }
    case 'json':
      return { sql: t.binary ? 'jsonb' : 'json' }
    case 'uuid':
      return { sql: 'uuid' }
    case 'enum':
      return { sql: 'text' }
    case 'set':
      return { sql: 'text', warning: `set(${t.values.join(',')}) stored as text (comma-joined members), membership not enforced` }
    case 'geometry':
      return { sql: 'bytea', warning: `geometry${t.subtype ? ` (${t.subtype})` : ''} stored as bytea (4-byte SRID + WKB), not PostGIS` }
    case 'other':
      return { sql: 'text', warning: `type ${t.native} has no mapping, stored as text${/^interval/i.test(t.native) ? ' (a PostgreSQL interval in ISO 8601 duration form, P1Y2M3DT4H5M6S)' : ''}` }
  }
}
