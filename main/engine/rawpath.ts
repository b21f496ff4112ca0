/**
 * When a unit may take the raw path (main/connectors/raw.ts): rows moved as the source's wire
 * text, never as JS values. The rule is that the raw path writes exactly what the canonical path
 * would: for every column pair, the source's wire text must be what the canonical value becomes
 * in the target's encoder, or the target must read both spellings as the same value; where the
 * canonical path would refuse a value that the target would accept as text (a MySQL zero date
 * into a PostgreSQL text column, a DATETIME fraction a MySQL column would round) the pair is not
 * raw. Values the target refuses (zero dates into PostgreSQL date/timestamp, NaN into MySQL
 * DOUBLE, text with NUL) make the batch fall back to the canonical path, which reports them as
 * dirty rows as usual.
 *
 * Pairs: MySQL -> PostgreSQL (the MySQL reader's COPY text) and PostgreSQL -> MySQL (PostgreSQL's
 * own COPY text into LOAD DATA); MySQL / PostgreSQL -> delimited text files (the file writer turns
 * COPY text into its CSV dialect, main/connectors/file/rawtext.ts) and delimited text files ->
 * PostgreSQL or MySQL (the file reader's scanner, main/connectors/file/rawread.ts, which checks
 * every field against its column's canonical grammar and refuses batches it cannot prove equal;
 * MySQL gets the scanner's COPY text through LOAD DATA). The mapping must be plain column copies
 * in source order (no constants, nullDefault or timeFormat); the zero-date policy is honoured by
 * the fallback.
 */
import type { Column, LogicalType } from '../core/types.js'
import type { ConnectionKind } from '../connectors/types.js'
import { isFileStoreKind } from '../connectors/types.js'
import { isBinaryColumn, isBitColumn } from '../connectors/mysql/types.js'
import type { MapOp } from './mapping.js'

/** The unit fields the decision needs. */
export interface RawCandidate {
  ops: MapOp[]
  sourceWidth: number
  /** Target columns in write order. */
  targets: Column[]
  /**
   * Source column names in read order. A file reader's hidden columns (`@file`, `@line`,
   * `@error`) may follow the mapped ones: its raw batches carry only the mapped columns.
   */
  sourceNames?: readonly string[]
}

/**
 * Whether a unit from a `from` reader to a `to` writer may take the raw path (the pairs of the file
 * comment; never SQLite, never file -> file); a string says why not (for logs and tests).
 */
export function rawEligible(from: ConnectionKind | 'file', to: ConnectionKind | 'file', u: RawCandidate): true | string {
  const f = isFileStoreKind(from) ? 'file' : from
  const t = isFileStoreKind(to) ? 'file' : to
  const pair =
    f === 'mysql' && t === 'postgres' ? mysqlToPg : f === 'postgres' && t === 'mysql' ? pgToMysql : f === 'mysql' && t === 'file' ? mysqlToFile : f === 'postgres' && t === 'file' ? pgToFile : f === 'file' && t === 'postgres' ? fileToPg : f === 'file' && t === 'mysql' ? fileToMysql : undefined
  if (!pair) return `no raw path from ${from} to ${to}`
  // A file reader's hidden columns after the mapped ones are not part of the raw rows.
  const width = f === 'file' && u.sourceNames ? u.sourceNames.slice(u.ops.length).every((n) => n.startsWith('@')) ? u.ops.length : u.sourceWidth : u.sourceWidth
  if (u.ops.length !== width || u.targets.length !== u.ops.length) return 'the mapping is not one target column per source column'
  for (let i = 0; i < u.ops.length; i++) {
    const op = u.ops[i]!
    if (op.kind !== 'column' || op.index !== i) return `target column ${i + 1} is not source column ${i + 1}`
    if (op.nullDefault !== undefined || op.timeFormat) return `column ${op.sourceName} has a transform`
    if (!pair(op.sourceType, u.targets[i]!)) return `column ${op.sourceName} (${op.sourceType.kind} -> ${u.targets[i]!.type.kind}) has no raw spelling`
  }
  return true
}

const TEXTUAL = new Set<LogicalType['kind']>(['decimal', 'string', 'text', 'enum', 'set', 'json', 'uuid', 'other'])
/** Kinds whose canonical value is a string written as it is. */
const STRINGY = new Set<LogicalType['kind']>(['string', 'text', 'enum', 'set', 'json', 'uuid'])

/**
 * MySQL wire text -> PostgreSQL COPY (the PostgreSQL encoder writes canonical strings as they are,
 * numbers as `String(n)`, which for MySQL integers is their wire text).
 */
function mysqlToPg(src: LogicalType, tgt: Column): boolean {
  const t = tgt.type.kind
  // Binary data travels as bytea hex, which only a bytea column reads as the same bytes.
  if (src.kind === 'bytes') return t === 'bytes'
  if (t === 'bytes' || t === 'geometry') return false
  switch (src.kind) {
    case 'timestamptz':
      // TIMESTAMP: the session text plus the session offset, as canonically (the reader refuses
      // sessions in an IANA zone).
      return t === 'timestamptz' || t === 'datetime'
    case 'int':
    case 'year':
      // Integer targets read ZEROFILL padding as the same number; text targets would not.
      return t === 'int' || t === 'decimal' || t === 'float' || t === 'bool'
    case 'float':
      // Both paths parse the same decimal text to the nearest double; a float4 target from a
      // DOUBLE would round the text and the shortest double text differently.
      return t === 'float' && (tgt.type.kind === 'float' && (tgt.type.bits === 64 || src.bits === 32))
    case 'date':
    case 'datetime':
      // PostgreSQL refuses zero dates, so the fallback applies the zero-date policy.
      return t === 'date' || t === 'datetime' || t === 'timestamptz'
    case 'time':
      // A MySQL TIME into interval (what Sluice creates for it): PostgreSQL reads the TIME's text.
      return t === 'time' || (tgt.type.kind === 'other' && /^interval(\(\d\))?$/.test(tgt.type.native))
    default:
      return TEXTUAL.has(src.kind)
  }
}

/** Fractional digits a MySQL target column keeps. */
const fracOf = (t: LogicalType) => (t.kind === 'datetime' || t.kind === 'timestamptz' || t.kind === 'time' ? t.precision ?? 0 : undefined)

/**
 * PostgreSQL COPY text -> LOAD DATA (the MySQL writer sends canonical strings as they are and
 * numbers as `String(n)`; PostgreSQL prints floats shortest-exact with the session's
 * `extra_float_digits=1`, integers and numerics as their digits, timestamps without trailing
 * fraction zeros).
 */
function pgToMysql(src: LogicalType, tgt: Column): boolean {
  if (isBinaryColumn(tgt) || isBitColumn(tgt)) return false
  const t = tgt.type.kind
  const frac = fracOf(tgt.type)
  switch (src.kind) {
    case 'int':
    case 'date':
      return true
    case 'bool':
      // `t` / `f` become `1` / `0` in the writer (RawBatch.boolColumns), as canonically.
      return frac === undefined
    case 'float':
      // A real is read as float8 text (postgres/read.ts splitSelect): the float32's exact value.
      return t === 'float'
    case 'datetime':
    case 'time':
      // MySQL rounds extra fraction digits silently; the canonical path refuses them.
      return frac === undefined ? TEXTUAL.has(t) : (src.precision ?? 6) <= frac
    default:
      // Text into DATETIME/TIMESTAMP/TIME goes through offset conversion and fraction checks.
      return TEXTUAL.has(src.kind) && frac === undefined
  }
}

/**
 * MySQL wire text -> a text file: the file writer re-spells each kind as valueToText would spell
 * the canonical value (main/connectors/file/rawtext.ts RawFieldOp: integers and doubles through
 * Number, fraction zeros dropped, zero dates refused to the canonical path, bytes as hex/base64).
 * TIMESTAMP goes raw as the reader's text plus the session's fixed offset (the reader refuses
 * sessions in an IANA zone, whose offset varies), its fraction zeros dropped before the offset
 * (RawFieldOp.TIMESTAMPTZ), which is the canonical value `trimFraction(text) + offset`
 * (mysql/values.ts makeTypeCast). BIT(1) booleans (canonical `true`/`false` vs wire `1`/`0`) and
 * geometry stay canonical, as do ZEROFILL columns. The file target's column (type, native type) is
 * the source's (plan.ts).
 */
function mysqlToFile(src: LogicalType, tgt: Column): boolean {
  if (src.kind !== tgt.type.kind) return false
  // ZEROFILL: a BIGINT beyond 2^53 is canonically the server's padded text, which the binary
  // protocol does not give.
  if (/zerofill/i.test(tgt.nativeType)) return false
  switch (src.kind) {
    case 'int':
    case 'year':
    case 'float':
    case 'date':
    case 'datetime':
    case 'time':
    case 'bytes':
    case 'timestamptz':
      return true
    default:
      return TEXTUAL.has(src.kind) && src.kind !== 'uuid' && src.kind !== 'other'
  }
}

/**
 * PostgreSQL COPY text -> a text file: as {@link mysqlToFile}; booleans `t`/`f` become
 * `true`/`false`; a real (float4) stays canonical (its canonical value is the float32's exact
 * double, whose digits PostgreSQL does not print), as does timestamptz (offset widened).
 */
function pgToFile(src: LogicalType, tgt: Column): boolean {
  if (src.kind !== tgt.type.kind) return false
  switch (src.kind) {
    case 'float':
      return src.bits !== 32
    case 'int':
    case 'date':
    case 'datetime':
    case 'time':
    case 'bool':
    case 'bytes':
      return true
    default:
      return TEXTUAL.has(src.kind)
  }
}

/**
 * A delimited text file -> PostgreSQL COPY text. A column without a declared type is read as its
 * target's type (plan.ts adoptTargetTypes), so `src` is the target's kind, and the file reader
 * checks each field against that kind's canonical grammar (rawread.ts FieldCheck) before passing
 * its text: integers, decimals, doubles, dates and datetimes; text-like kinds pass as they are,
 * as the canonical path writes the string itself. A declared text column passes its string into
 * any target but bytea (the canonical path writes a string's UTF-8 bytes there), any other
 * string-like column into a text column. Parquet files go into PostgreSQL as binary COPY tuples
 * (file/pqbinary.ts), whose ops are checked per column pair there.
 */
function fileToPg(src: LogicalType, tgt: Column): boolean {
  const t = tgt.type.kind
  if (t === 'bytes' || t === 'geometry') return false
  if (src.kind === 'text') return true
  // A declared string-like column (a Parquet ENUM or JSON, a declared enum) into a text column:
  // the canonical path writes the string itself.
  if (STRINGY.has(src.kind) && (t === 'string' || t === 'text' || t === 'enum')) return true
  if (src.kind !== t) return false
  switch (src.kind) {
    case 'float':
      return src.bits !== 32 && tgt.type.kind === 'float' && tgt.type.bits !== 32
    case 'int':
    case 'decimal':
    case 'date':
    case 'datetime':
    case 'time':
    case 'timestamptz':
      return true
    default:
      return TEXTUAL.has(src.kind)
  }
}

/**
 * A delimited text file -> MySQL, through the scanner's COPY text into `LOAD DATA ... FIELDS
 * TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\'` (MySQL manual, "LOAD DATA Statement",
 * https://dev.mysql.com/doc/refman/8.0/en/load-data.html: `\N` is NULL, `\\` `\t` `\n` `\r`
 * the escaped bytes, an empty field the empty string). The canonical path sends MySQL the
 * canonical value's text (mysql/wire.ts toWire), which for these pairs is the field's text up to
 * spellings MySQL reads as the same value (a `+` sign or leading zeros of an integer, a decimal's
 * `+`, a datetime's `T` or trailing fraction zeros), so both land the same value:
 * - integers, decimals, dates and doubles (DOUBLE without (M,D): MySQL and JS both parse decimal
 *   text to the nearest double) of their own kind, checked by the scanner (rawread.ts FieldCheck;
 *   zero dates go canonical for the zeroDate policy);
 * - datetimes into DATETIME(p) when the source's fraction digits (the scanner's limit, 6 for an
 *   undeclared precision) fit p: MySQL rounds longer fractions silently, the canonical writer
 *   refuses them;
 * - text-like kinds (and a declared text column into a text-like target) as they are.
 * Not raw: TIME and TIMESTAMP (the canonical writer checks fractions and converts offsets), YEAR,
 * booleans, FLOAT (float32), binary, BIT and geometry targets. Values MySQL refuses or warns
 * about (out of range, too long, a charset it cannot convert to) make the writer's LOAD DATA
 * unclean (warnings count), so the batch goes canonical.
 */
function fileToMysql(src: LogicalType, tgt: Column): boolean {
  if (isBinaryColumn(tgt) || isBitColumn(tgt)) return false
  const t = tgt.type.kind
  if (src.kind === 'text') return TEXTUAL.has(t)
  if (src.kind !== t) return false
  switch (src.kind) {
    case 'float':
      return src.bits !== 32 && tgt.type.kind === 'float' && tgt.type.bits !== 32 && !/\(/.test(tgt.nativeType)
    case 'int':
    case 'decimal':
    case 'date':
      return true
    case 'datetime':
      return (src.precision ?? 6) <= (fracOf(tgt.type) ?? 0)
    default:
      return TEXTUAL.has(src.kind)
  }
}
