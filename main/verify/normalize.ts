/**
 * Canonical row text for verification: every compared column becomes ONE text per logical type,
 * produced inside each database (MySQL/MariaDB, PostgreSQL) by SQL, and for SQLite by a JS
 * function registered on a private better-sqlite3 handle. Equal data gives equal text on every
 * side; the row text is then hashed with MD5 and a 60-bit slice of the digest is summed per key
 * range (data-diff's `md5_as_int`: the last 15 hex digits of `md5(row)`).
 *
 * Canonical texts (by the normalization kind chosen for a column pair, see {@link planColumn}):
 *
 * | kind     | text                                                                                       |
 * | -------- | ------------------------------------------------------------------------------------------ |
 * | int      | plain digits with `-` (booleans are `0`/`1`, so MySQL TINYINT(1) = PostgreSQL boolean)     |
 * | decimal  | exact digits with `scale` fraction digits (the larger of the two sides' scales, zero-padded); when either side has no declared scale, trailing fraction zeros and the dot are trimmed instead |
 * | float    | `[-]<m>e<e>`: `m` the value rounded half-up to `digits` significant digits (15 for float64, 9 when either side is float32, PostgreSQL's own `DBL_DIG`/`FLT_DIG` for float -> numeric), `e` the exponent of its first digit; `0` for ±0, `NaN`, `Infinity`, `-Infinity` |
 * | date     | `YYYY-MM-DD`                                                                               |
 * | datetime | `YYYY-MM-DD HH:MM:SS.ffffff` (always 6 fraction digits); timestamptz converted to UTC first; a DATE side gets ` 00:00:00.000000` |
 * | time     | `[-]HH:MM:SS.ffffff`                                                                       |
 * | bytes    | lower-case hex                                                                             |
 * | uuid     | lower-case text                                                                            |
 * | text     | the text as stored (trailing spaces matter), json as its text                              |
 *
 * Row text: for each column in order, `~` for SQL NULL, else `<byte length>:<text>`, joined by `|`;
 * a value whose normalization failed in SQL (e.g. `CONVERT_TZ` without time zone tables) becomes
 * `!`, which equals nothing a healthy side produces. The length prefix keeps column boundaries
 * unambiguous, so ('ab','c') and ('a','bc') differ.
 *
 * Floats: the rounding is done with IEEE double operations that give the same bits in every
 * engine: `e0 = floor(log10(|x|))`, `m(e) = floor(|x| * 10^(digits-1-e) + 0.5)` where the power
 * of ten is applied as a multiplication (or division) by exactly representable 10^k (k <= 22,
 * larger exponents in two steps); the canonical exponent is the smallest of e0-1, e0, e0+1 whose
 * `m` has at most `digits` digits, so a `log10` that is one ulp off near a power of ten cannot
 * change the text. Identical doubles therefore always give identical texts on every side, and a
 * double that went through a 15-digit text form (MariaDB prints DOUBLE with 15 digits) compares
 * equal to its original. The rounding is half-up on the IEEE product, not on the exact decimal
 * value, so two *different* doubles a few ulps apart that straddle a rounding boundary (a few
 * percent of such pairs) still compare different: that errs on the side of reporting a change.
 * Magnitudes below 1e-280 are first multiplied by 1e300 (the exponent corrected back), so
 * subnormals down to 5e-324 never overflow the power of ten.
 */
import { createHash } from 'node:crypto'
import type { Column, LogicalType, Value } from '../core/types.js'

/** How a compared column pair is rendered on both sides. */
export type NormKind = 'int' | 'decimal' | 'float' | 'date' | 'datetime' | 'time' | 'bytes' | 'uuid' | 'text'

/** The normalization chosen for one column pair (same for both sides). */
export interface ColumnNorm {
  kind: NormKind
  /** decimal: fraction digits to render; undefined = trim trailing fraction zeros. */
  scale?: number
  /** float: significant digits (15 or 6). */
  digits?: number
}

/** The part of a catalog column a renderer needs. */
export type SideColumn = Pick<Column, 'name' | 'type' | 'nativeType'>

/** Marker text for SQL NULL (no `<len>:` prefix, so no value can equal it). */
export const NULL_MARK = '~'
/** Marker for a value whose normalization failed (NULL out of a non-NULL input). */
export const ERROR_MARK = '!'
/** Column separator in the row text. */
export const SEP = '|'

/** Significant digits kept for floats (PostgreSQL's DBL_DIG / FLT_DIG). */
export const FLOAT64_DIGITS = 15
/**
 * Significant digits compared when either side is float32: 9 (FLT_DECIMAL_DIG), which tells any
 * two float32 values apart. Sluice carries a float32 exactly (main/core/types.ts), so a FLOAT that
 * lost digits (16777216 landing as 16777200) is reported, where 6 digits (FLT_DIG) would hide it.
 */
export const FLOAT32_DIGITS = 9

/**
 * Magnitudes below this are scaled up by {@link TINY_SCALE} (10^300) before the power-of-ten
 * rounding, and the exponent corrected by -300: 10^(digits-1-e) for a subnormal (5e-324 needs
 * 10^338) overflows a double, which MySQL reports as an error and PostgreSQL as "value out of
 * range: overflow". The scaling is one IEEE multiplication, the same bits on every side.
 */
export const TINY_FLOAT = 1e-280
export const TINY_SCALE_EXP = 300

type Group = 'exact' | 'float' | 'temporal' | 'time' | 'bytes' | 'uuid' | 'text'

function groupOf(t: LogicalType): Group {
  switch (t.kind) {
    case 'bool':
    case 'int':
    case 'year':
    case 'decimal':
      return 'exact'
    case 'float':
      return 'float'
    case 'date':
    case 'datetime':
    case 'timestamptz':
      return 'temporal'
    case 'time':
      return 'time'
    case 'bytes':
    case 'geometry':
      return 'bytes'
    case 'other':
      // A PostgreSQL interval holds a MySQL TIME (±838:59:59) when Sluice creates the column.
      return /^interval\b/i.test(t.native) ? 'time' : 'text'
    case 'uuid':
      return 'uuid'
    default:
      return 'text'
  }
}

/** Scale of an exact numeric type: 0 for integers and booleans, undefined for an unbounded decimal. */
function scaleOf(t: LogicalType): number | undefined {
  if (t.kind === 'decimal') return t.precision === undefined && t.scale === undefined ? undefined : (t.scale ?? 0)
  return 0
}

/**
 * Choose the normalization for a source/target column pair, from their logical types:
 * exact numbers with a decimal -> decimal at the larger scale (trimmed when a side has none),
 * integers/booleans/years -> int; a float on either side of a numeric pair -> float with 15
 * digits (6 when either side is float32); two dates -> date, other date/datetime/timestamptz
 * pairs -> datetime; time -> time; bytes/geometry on both sides -> bytes (a text side is
 * hex-encoded as UTF-8); uuid -> uuid; everything else (strings, text, enum, set, json, other,
 * and mismatched groups) -> text, each side giving its own type's canonical text.
 */
export function planColumn(src: LogicalType, dst: LogicalType): ColumnNorm {
  const a = groupOf(src)
  const b = groupOf(dst)
  const numeric = (g: Group) => g === 'exact' || g === 'float'
  if (numeric(a) && numeric(b)) {
    if (a === 'float' || b === 'float') {
      const f32 = (t: LogicalType) => t.kind === 'float' && t.bits === 32
      return { kind: 'float', digits: f32(src) || f32(dst) ? FLOAT32_DIGITS : FLOAT64_DIGITS }
    }
    if (src.kind === 'decimal' || dst.kind === 'decimal') {
      const s1 = scaleOf(src)
      const s2 = scaleOf(dst)
      return s1 === undefined || s2 === undefined ? { kind: 'decimal' } : { kind: 'decimal', scale: Math.max(s1, s2) }
    }
    return { kind: 'int' }
  }
  if (a === 'temporal' && b === 'temporal') return src.kind === 'date' && dst.kind === 'date' ? { kind: 'date' } : { kind: 'datetime' }
  if (a === 'time' && b === 'time') return { kind: 'time' }
  if (a === 'bytes' && b === 'bytes') return { kind: 'bytes' }
  if ((a === 'uuid' || b === 'uuid') && (a === 'uuid' || a === 'text') && (b === 'uuid' || b === 'text')) return { kind: 'uuid' }
  return { kind: 'text' }
}

// ---------------------------------------------------------------------------------------------
// SQL renderers (MySQL/MariaDB and PostgreSQL)
// ---------------------------------------------------------------------------------------------

/** Dialects whose normalization runs as SQL. SQLite uses {@link normalizeValue} in JS instead. */
export type SqlDialect = 'mysql' | 'postgres'

const isMysqlBit = (c: SideColumn) => /^bit\b/i.test(c.nativeType ?? '')

/** Float canonical text as SQL, for a double expression `x` (repeated; keep it a column reference). */
function floatSql(d: SqlDialect, x: string, digits: number): string {
  const my = d === 'mysql'
  const lit = (v: string) => (my ? v : `${v}::float8`)
  const hi = lit(`1e${digits}`)
  const abs = `ABS(${x})`
  const tiny = `${abs} < ${lit(String(TINY_FLOAT))}`
  const a = `(CASE WHEN ${tiny} THEN ${abs} * ${lit(`1e${TINY_SCALE_EXP}`)} ELSE ${abs} END)`
  const shift = (e: string) => `(${e} - CASE WHEN ${tiny} THEN ${TINY_SCALE_EXP} ELSE 0 END)`
  const pow = (k: string) => (my ? `POW(10, ${k})` : `power(10::float8, (${k})::float8)`)
  const e0 = my ? `FLOOR(LOG10(${a}))` : `floor(log(${a}))`
  const scaled = (e: string) => {
    const k = `(${digits - 1} - (${e}))`
    const p22 = lit('1e22')
    return `(CASE WHEN ${k} > 22 THEN ${a} * ${p22} * ${pow(`${k} - 22`)} WHEN ${k} >= 0 THEN ${a} * ${pow(k)} WHEN ${k} >= -22 THEN ${a} / ${pow(`-${k}`)} ELSE ${a} / ${p22} / ${pow(`-${k} - 22`)} END)`
  }
  const m = (e: string) => `FLOOR(${scaled(e)} + ${lit('0.5')})`
  const int = (v: string) => (my ? `CAST(${v} AS SIGNED)` : `(${v})::bigint::text`)
  const cat = (...p: string[]) => (my ? `CONCAT(${p.join(', ')})` : p.join(' || '))
  const sign = `CASE WHEN ${x} < 0 THEN '-' ELSE '' END`
  const fmt = (e: string) => cat(sign, int(m(e)), `'e'`, int(shift(e)))
  const lo = `${e0} - 1`
  const hi1 = `${e0} + 1`
  const body = `CASE WHEN ${m(lo)} < ${hi} THEN ${fmt(lo)} WHEN ${m(e0)} < ${hi} THEN ${fmt(e0)} ELSE ${fmt(hi1)} END`
  if (my) return `CASE WHEN ${x} = 0 THEN '0' ELSE ${body} END`
  return `CASE WHEN ${x} = 'NaN'::float8 THEN 'NaN' WHEN ${x} = 'Infinity'::float8 THEN 'Infinity' WHEN ${x} = '-Infinity'::float8 THEN '-Infinity' WHEN ${x} = 0 THEN '0' ELSE ${body} END`
}

/**
 * SQL text expression giving the canonical text of column `q` (already quoted) of type `col`
 * under `norm`. NULL in, NULL out; the caller adds the NULL marker.
 */
export function renderSql(d: SqlDialect, col: SideColumn, norm: ColumnNorm, q: string): string {
  const t = col.type
  const my = d === 'mysql'
  const asText = my ? `CAST(${q} AS CHAR)` : `(${q})::text`
  const intText = () => {
    if (t.kind === 'bool') return my ? (isMysqlBit(col) ? `CAST(${q} + 0 AS CHAR)` : `CAST(${q} AS CHAR)`) : `CASE WHEN ${q} THEN '1' ELSE '0' END`
    // MySQL YEAR prints as 4 digits ('0000' for the year 0); as a number it is 0 like everywhere else.
    if (t.kind === 'year' && my) return `CAST(${q} + 0 AS CHAR)`
    return asText
  }
  // MySQL BIT(n): HEX() of a BIT value is the hex of its number (0x01 -> '1'): pad to its bytes.
  const hexSql = () => {
    if (my && isMysqlBit(col)) {
      const width = 2 * Math.max(1, Math.ceil(Number(/\((\d+)\)/.exec(col.nativeType ?? '')?.[1] ?? 1) / 8))
      return `LPAD(LOWER(HEX(${q})), ${width}, '0')`
    }
    return my ? `LOWER(HEX(${q}))` : `encode(${q}, 'hex')`
  }
  switch (norm.kind) {
    case 'int':
      return intText()
    case 'decimal': {
      const own = t.kind === 'decimal' ? scaleOf(t) : 0
      if (norm.scale === undefined) {
        if (t.kind !== 'decimal') return intText()
        if (my) return `CASE WHEN LOCATE('.', ${asText}) > 0 THEN TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${asText})) ELSE ${asText} END`
        return `trim_scale(${q})::text`
      }
      const s = norm.scale
      const base = t.kind === 'decimal' ? asText : intText()
      if (own === s) return base
      if (own === undefined) return my ? `CAST(CAST(${q} AS DECIMAL(65, ${s})) AS CHAR)` : `round((${q})::numeric, ${s})::text`
      if (!my) return `round((${t.kind === 'bool' ? `(${q})::int` : q})::numeric, ${s})::text`
      return own === 0 ? `CONCAT(${base}, '.', REPEAT('0', ${s}))` : `CONCAT(${base}, REPEAT('0', ${s - own}))`
    }
    case 'float': {
      const x = my ? (t.kind === 'float' ? q : `CAST(${q} AS DOUBLE)`) : `(${t.kind === 'bool' ? `(${q})::int` : q})::float8`
      return floatSql(d, x, norm.digits ?? FLOAT64_DIGITS)
    }
    case 'date':
      return my ? `DATE_FORMAT(${q}, '%Y-%m-%d')` : `to_char(${q}, 'YYYY-MM-DD')`
    case 'datetime':
      if (t.kind === 'date') return my ? `DATE_FORMAT(${q}, '%Y-%m-%d 00:00:00.000000')` : `(to_char(${q}, 'YYYY-MM-DD') || ' 00:00:00.000000')`
      if (t.kind === 'timestamptz')
        return my ? `DATE_FORMAT(CONVERT_TZ(${q}, @@session.time_zone, '+00:00'), '%Y-%m-%d %H:%i:%s.%f')` : `to_char(${q} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`
      return my ? `DATE_FORMAT(${q}, '%Y-%m-%d %H:%i:%s.%f')` : `to_char(${q}, 'YYYY-MM-DD HH24:MI:SS.US')`
    case 'time':
      if (!my && t.kind === 'other') {
        // interval: [-]HH:MM:SS.ffffff from its exact epoch (numeric), hours past 24 kept (lpad
        // would cut 838 to 83).
        const e = `abs(extract(epoch from ${q}))`
        return `(CASE WHEN extract(epoch from ${q}) < 0 THEN '-' ELSE '' END || (CASE WHEN ${e} < 36000 THEN '0' ELSE '' END) || floor(${e} / 3600)::bigint::text || ':' || lpad(floor(mod(${e}, 3600) / 60)::int::text, 2, '0') || ':' || to_char(mod(${e}, 60), 'FM00.000000'))`
      }
      return my ? `TIME_FORMAT(${q}, '%H:%i:%s.%f')` : `to_char(${q}, 'HH24:MI:SS.US')`
    case 'bytes':
      if (groupOf(t) !== 'bytes') return my ? `LOWER(HEX(CONVERT(${q} USING utf8mb4)))` : `encode(convert_to((${q})::text, 'UTF8'), 'hex')`
      return hexSql()
    case 'uuid':
      return my ? `LOWER(${asText})` : `lower(${asText})`
    case 'text':
      if (groupOf(t) === 'bytes') return hexSql()
      if (t.kind === 'bool') return intText()
      if (t.kind === 'timestamptz') return renderSql(d, col, { kind: 'datetime' }, q)
      if (t.kind === 'datetime' || t.kind === 'date' || t.kind === 'time' || t.kind === 'float') {
        return renderSql(d, col, t.kind === 'float' ? { kind: 'float', digits: t.bits === 32 ? FLOAT32_DIGITS : FLOAT64_DIGITS } : { kind: t.kind }, q)
      }
      return my ? (t.kind === 'string' || t.kind === 'text' || t.kind === 'json' ? q : asText) : asText
  }
}

/**
 * One column's segment of the row text in SQL: `~` for NULL, else `<bytes>:<text>` (`!` when
 * the normalization gave NULL for a non-NULL value). MySQL converts to utf8mb4 first so every
 * segment has one character set and collation (no "illegal mix of collations").
 */
export function segmentSql(d: SqlDialect, col: SideColumn & { nullable?: boolean }, norm: ColumnNorm, q: string): string {
  const v = renderSql(d, col, norm, q)
  // A NOT NULL column needs no NULL test (same text as with it: the test is never true).
  const wrap = (s: string) => (col.nullable === false ? s : `CASE WHEN ${q} IS NULL THEN '${NULL_MARK}' ELSE ${s} END`)
  if (d === 'mysql') {
    // Text columns carry their own character set and collation: convert them so every segment has
    // one (no "illegal mix of collations"); the other renderings are ASCII in the connection's utf8mb4.
    const u = norm.kind === 'text' ? `CONVERT(${v} USING utf8mb4)` : v
    return wrap(`COALESCE(CONCAT(LENGTH(${u}), ':', ${u}), '${ERROR_MARK}')`)
  }
  return wrap(`COALESCE(octet_length(${v})::text || ':' || ${v}, '${ERROR_MARK}')`)
}

/** The whole row text in SQL (segments joined by `|`). */
export function rowTextSql(d: SqlDialect, segments: string[]): string {
  if (d === 'mysql') return segments.length === 1 ? segments[0]! : `CONCAT_WS('${SEP}', ${segments.join(', ')})`
  return segments.map((s) => `(${s})`).join(` || '${SEP}' || `)
}

/** SQL for the row hash as 15 lower-case hex digits (the last 60 bits of the MD5 of the row text). */
export function rowHashHexSql(d: SqlDialect, rowText: string): string {
  return d === 'mysql' ? `SUBSTRING(MD5(${rowText}), 18)` : `substr(md5(${rowText}), 18)`
}

/** SQL for the row hash as an integer (0 .. 2^60-1), for summing. */
export function rowHashIntSql(d: SqlDialect, rowText: string): string {
  return d === 'mysql' ? `CAST(CONV(${rowHashHexSql(d, rowText)}, 16, 10) AS UNSIGNED)` : `('x' || ${rowHashHexSql(d, rowText)})::bit(60)::bigint`
}

// ---------------------------------------------------------------------------------------------
// JS normalization (SQLite sides, and the reference the SQL renderers are tested against)
// ---------------------------------------------------------------------------------------------

const POW10: number[] = Array.from({ length: 309 }, (_, k) => Number(`1e${k}`))

function scaledJs(a: number, k: number): number {
  if (k > 22) return a * 1e22 * POW10[k - 22]!
  if (k >= 0) return a * POW10[k]!
  if (k >= -22) return a / POW10[-k]!
  return a / 1e22 / POW10[-k - 22]!
}

/**
 * The canonical float text (see the module doc): same IEEE operations as the SQL, so the same
 * text for the same double on every side.
 */
export function floatText(x: number, digits: number = FLOAT64_DIGITS): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (x === 0) return '0'
  const tiny = Math.abs(x) < TINY_FLOAT
  const a = tiny ? Math.abs(x) * POW10[TINY_SCALE_EXP]! : Math.abs(x)
  const hi = POW10[digits]!
  const e0 = Math.floor(Math.log10(a))
  const m = (e: number) => Math.floor(scaledJs(a, digits - 1 - e) + 0.5)
  let e = e0 + 1
  if (m(e0 - 1) < hi) e = e0 - 1
  else if (m(e0) < hi) e = e0
  return `${x < 0 ? '-' : ''}${m(e)}e${tiny ? e - TINY_SCALE_EXP : e}`
}

const DEC_RE = /^\s*([+-])?(\d*)(?:\.(\d*))?\s*$/

/** Canonical decimal text of a decimal string (exact): `scale` digits, or trimmed when undefined. */
export function decimalText(s: string, scale?: number): string {
  const m = DEC_RE.exec(s)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return s
  const int = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0'
  let frac = m[3] ?? ''
  if (scale === undefined) frac = frac.replace(/0+$/, '')
  else if (frac.length < scale) frac = frac.padEnd(scale, '0')
  else if (frac.length > scale) frac = frac.slice(0, scale) + frac.slice(scale).replace(/0+$/, '')
  const zero = /^0*$/.test(int) && /^0*$/.test(frac)
  return `${m[1] === '-' && !zero ? '-' : ''}${int}${frac ? '.' + frac : ''}`
}

/** Exact decimal expansion of a double rendered at `scale` fraction digits (half-up on the binary value). */
function doubleDecimal(x: number, scale?: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity'
  if (scale !== undefined && Math.abs(x) < 1e21) return decimalText(x.toFixed(scale), scale)
  // Shortest round-trip digits, written without an exponent.
  const s = String(x)
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s)
  if (!m) return decimalText(s, scale)
  const digits = (m[2] ?? '') + (m[3] ?? '')
  const point = (m[2] ?? '').length + Number(m[4])
  const plain = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`
  return decimalText(`${m[1]}${plain}`, scale)
}

function intLike(v: Value | undefined): string | undefined {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (typeof v === 'number' && Number.isInteger(v)) return Math.abs(v) < 1e21 ? BigInt(v).toString() : doubleDecimal(v)
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return BigInt(v.trim()).toString()
  return undefined
}

const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

function frac6(f: string | undefined): string {
  const s = f ?? ''
  if (s.length <= 6) return s.padEnd(6, '0')
  return s.slice(0, 6) + s.slice(6).replace(/0+$/, '')
}

const p2 = (n: number) => String(n).padStart(2, '0')

/** Canonical datetime text of a date/datetime/timestamptz string; an offset is converted to UTC. */
export function datetimeText(s: string): string {
  const m = TS_RE.exec(s.trim())
  if (!m) return s
  const [, y, mo, d, hh = '0', mi = '00', ss = '00', f, tz] = m
  if (!tz || /^(Z|[+-]00(:?00)?)$/i.test(tz)) return `${y}-${mo}-${d} ${p2(Number(hh))}:${mi}:${ss}.${frac6(f)}`
  const sign = tz[0] === '-' ? -1 : 1
  const digits = tz.slice(1).replace(':', '')
  const offMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'))
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss)) - offMin * 60_000
  const u = new Date(ms)
  const yy = u.getUTCFullYear()
  const year = yy < 0 ? `-${String(-yy).padStart(4, '0')}` : String(yy).padStart(4, '0')
  return `${year}-${p2(u.getUTCMonth() + 1)}-${p2(u.getUTCDate())} ${p2(u.getUTCHours())}:${p2(u.getUTCMinutes())}:${p2(u.getUTCSeconds())}.${frac6(f)}`
}

/** Canonical time text `[-]HH:MM:SS.ffffff`. */
export function timeText(s: string): string {
  const m = /^\s*(-)?(\d+):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*$/.exec(s)
  if (!m) return s
  return `${m[1] ?? ''}${m[2]!.padStart(2, '0')}:${m[3]}:${m[4] ?? '00'}.${frac6(m[5])}`
}

function asString(v: Value): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v)
  return String(v)
}

/**
 * Canonical text of one value under `norm`, or null for SQL NULL. Accepts canonical values
 * (main/core/types.ts) and SQLite's storage classes as better-sqlite3 returns them with
 * `safeIntegers` (INTEGER as bigint, REAL as number, TEXT, BLOB as Buffer): a DECIMAL stored
 * as REAL (Chinook's `NUMERIC(10,2)` prices) renders at the column's scale, an integer stored
 * for a boolean renders as `0`/`1`, a datetime stored as text with an offset is converted to UTC.
 */
export function normalizeValue(norm: ColumnNorm, v: Value | undefined): string | null {
  if (v === null || v === undefined) return null
  switch (norm.kind) {
    case 'int':
      return intLike(v) ?? (typeof v === 'number' ? doubleDecimal(v) : Buffer.isBuffer(v) ? v.toString('hex') : decimalText(String(v)))
    case 'decimal': {
      if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? decimalText(BigInt(v).toString(), norm.scale) : doubleDecimal(v, norm.scale)
      const i = intLike(v)
      if (i !== undefined) return decimalText(i, norm.scale)
      return decimalText(asString(v), norm.scale)
    }
    case 'float': {
      const digits = norm.digits ?? FLOAT64_DIGITS
      if (typeof v === 'number') return floatText(v, digits)
      if (typeof v === 'bigint') return floatText(Number(v), digits)
      if (typeof v === 'boolean') return floatText(v ? 1 : 0, digits)
      const s = asString(v).trim()
      if (/^-?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? '-Infinity' : 'Infinity'
      if (/^nan$/i.test(s)) return 'NaN'
      const n = Number(s)
      return s !== '' && !Number.isNaN(n) ? floatText(n, digits) : s
    }
    case 'date': {
      const s = asString(v).trim()
      const m = /^(-?\d{4,}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0*)?)?)?$/.exec(s)
      return m ? m[1]! : s
    }
    case 'datetime':
      return datetimeText(asString(v))
    case 'time':
      return timeText(asString(v))
    case 'bytes':
      return Buffer.isBuffer(v) ? v.toString('hex') : Buffer.from(asString(v), 'utf8').toString('hex')
    case 'uuid':
      return Buffer.isBuffer(v) && v.length === 16 ? v.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-') : asString(v).toLowerCase()
    case 'text':
      if (typeof v === 'boolean') return v ? '1' : '0'
      if (typeof v === 'number' && !Number.isInteger(v)) return floatText(v, FLOAT64_DIGITS)
      return asString(v)
  }
}

/** One column's segment of the row text (JS side), matching {@link segmentSql}. */
export function segmentText(text: string | null): string {
  if (text === null) return NULL_MARK
  return `${Buffer.byteLength(text, 'utf8')}:${text}`
}

/** Row text from per-column canonical texts (JS side), matching {@link rowTextSql}. */
export function rowText(texts: Array<string | null>): string {
  return texts.map(segmentText).join(SEP)
}

/** The 15 hex digits (60 bits) the SQL sides compute for a row text. */
export function rowHashHex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex').slice(17)
}
