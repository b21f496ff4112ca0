/**
 * Values <-> text for text files (CSV / TSV / JSON Lines), by logical type.
 *
 * Writing spells every canonical value (main/core/types.ts) as text that reads back to the same
 * canonical value: integers and decimals as their exact digits, doubles by JS's shortest
 * round-trip spelling, bytes in hex or base64 (`bytesFormat`), times as their canonical text
 * (timestamptz with its offset), booleans `true` / `false`. Reading turns a field back into the
 * canonical value of the column's declared (or target's) type; a field that is not a value of
 * that type gives a {@link DecodeError} (the row becomes a dirty record naming file and line).
 */
import type { LogicalType, Value } from '../../core/types.js'
import { formatWallClock, parseWallClock } from '../../engine/timeformat.js'

/** A field that cannot be read as its column's type. */
export class DecodeError extends Error {
  override name = 'DecodeError'
}

/**
 * Parse a declared file column type: DataX names (`long`, `double`, `string`, `date`, `boolean`,
 * `bytes`) and SQL-like names (`int`, `bigint`, `decimal(38,10)`, `varchar(20)`, `text`,
 * `datetime`, `timestamp`, `timestamptz`, `time`, `json`, `uuid`, `float`).
 * @throws Error naming the type when it is unknown.
 */
export function parseFileType(spec: string | undefined): LogicalType {
  if (!spec) return { kind: 'text' }
  const s = spec.trim().toLowerCase()
  const m = /^([a-z_ ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(\s+unsigned)?$/.exec(s)
  if (!m) throw new Error(`unknown column type '${spec}'`)
  const [, name, a, b, uns] = m
  const unsigned = !!uns
  switch (name) {
    case 'long':
    case 'bigint':
    case 'int64':
      return { kind: 'int', bits: 64, ...(unsigned ? { unsigned } : {}) }
    case 'int':
    case 'integer':
    case 'int32':
      return { kind: 'int', bits: 32, ...(unsigned ? { unsigned } : {}) }
    case 'smallint':
      return { kind: 'int', bits: 16 }
    case 'tinyint':
      return { kind: 'int', bits: 8 }
    case 'double':
    case 'float8':
    case 'real':
      return { kind: 'float', bits: 64 }
    case 'float':
    case 'float4':
      return { kind: 'float', bits: 32 }
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', ...(a ? { precision: Number(a), scale: Number(b ?? 0) } : {}) }
    case 'string':
    case 'text':
      return { kind: 'text' }
    case 'varchar':
    case 'char':
      return { kind: 'string', ...(a ? { length: Number(a) } : {}), ...(name === 'char' ? { fixed: true } : {}) }
    case 'boolean':
    case 'bool':
      return { kind: 'bool' }
    case 'date':
      return { kind: 'date' }
    case 'datetime':
    case 'timestamp':
      return { kind: 'datetime', precision: a ? Number(a) : 6 }
    case 'timestamptz':
      return { kind: 'timestamptz', precision: a ? Number(a) : 6 }
    case 'time':
      return { kind: 'time', precision: a ? Number(a) : 6 }
    case 'bytes':
    case 'binary':
    case 'blob':
    case 'bytea':
      return { kind: 'bytes' }
    case 'json':
      return { kind: 'json' }
    case 'uuid':
      return { kind: 'uuid' }
    default:
      throw new Error(`unknown column type '${spec}' (long, double, decimal(p,s), string, boolean, date, datetime, timestamptz, time, bytes, json)`)
  }
}

/** Options of text encoding and decoding. */
export interface TextCodecOptions {
  nullFormat: string
  bytesFormat: 'hex' | 'base64'
}

/** Spell a canonical value as text (`null` stays null: the caller writes `nullFormat`). */
export function valueToText(v: Value, opts: TextCodecOptions): string | null {
  if (v === null) return null
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v)
    case 'bigint':
      return v.toString()
    case 'boolean':
      return v ? 'true' : 'false'
    default:
      return opts.bytesFormat === 'base64' ? (v as Buffer).toString('base64') : (v as Buffer).toString('hex')
  }
}

const INT = /^[+-]?\d+$/
const DEC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const HEX = /^(?:[0-9a-fA-F]{2})*$/
const B64 = /^[A-Za-z0-9+/]*={0,2}$/
const DATE = /^\d{4}-\d{2}-\d{2}$/
const DATETIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,9})?$/

/**
 * Read a field as a canonical value of `type`. `format` is the column's date/time pattern.
 * @throws DecodeError naming what was expected.
 */
export function textToValue(s: string, type: LogicalType, opts: TextCodecOptions, format?: string): Value {
  switch (type.kind) {
    case 'int':
    case 'year': {
      const t = s.trim()
      if (!INT.test(t)) {
        // A boolean written as text into an integer column (MySQL's BOOLEAN is TINYINT(1)).
        if (type.kind === 'int' && (t === 'true' || t === 'false')) return t === 'true' ? 1 : 0
        throw new DecodeError(`'${clip(s)}' is not an integer`)
      }
      const n = Number(t)
      if (Number.isSafeInteger(n)) return n
      return BigInt(t).toString()
    }
    case 'decimal': {
      const t = s.trim()
      if (!DEC.test(t)) throw new DecodeError(`'${clip(s)}' is not a decimal number`)
      return t.startsWith('+') ? t.slice(1) : t
    }
    case 'float': {
      const t = s.trim()
      if (t === 'NaN' || t === 'Infinity' || t === '-Infinity' || t === 'inf' || t === '-inf') return t.startsWith('-') ? -Infinity : t === 'NaN' ? NaN : Infinity
      if (!DEC.test(t)) throw new DecodeError(`'${clip(s)}' is not a number`)
      // A number a double cannot hold is refused, not turned into Infinity or 0 (PostgreSQL's
      // float8in refuses both too; subnormal results are kept, as there).
      const v = Number(t)
      if (!Number.isFinite(v)) throw new DecodeError(`'${clip(s)}' is out of range for a double`)
      if (v === 0 && /[1-9]/.test(t.replace(/[eE].*$/, ''))) throw new DecodeError(`'${clip(s)}' is too small for a double (it would be 0)`)
      return v
    }
    case 'bool': {
      const t = s.trim().toLowerCase()
      if (t === 'true' || t === '1' || t === 't' || t === 'yes' || t === 'y') return true
      if (t === 'false' || t === '0' || t === 'f' || t === 'no' || t === 'n') return false
      throw new DecodeError(`'${clip(s)}' is not a boolean`)
    }
    case 'bytes':
    case 'geometry': {
      if (opts.bytesFormat === 'base64') {
        if (!B64.test(s)) throw new DecodeError(`'${clip(s)}' is not base64`)
        return Buffer.from(s, 'base64')
      }
      const t = s.startsWith('\\x') || s.startsWith('0x') ? s.slice(2) : s
      if (!HEX.test(t)) throw new DecodeError(`'${clip(s)}' is not hex`)
      return Buffer.from(t, 'hex')
    }
    case 'date': {
      if (format) return wall(s, format, 'date')
      if (!DATE.test(s)) throw new DecodeError(`'${clip(s)}' is not a date (yyyy-MM-dd; set the column's format)`)
      return s
    }
    case 'datetime': {
      if (format) return wall(s, format, 'datetime')
      const m = DATETIME.exec(s) ?? (DATE.test(s) ? ([s, s, '00:00:00', undefined] as unknown as RegExpExecArray) : null)
      if (!m) throw new DecodeError(`'${clip(s)}' is not a datetime (yyyy-MM-dd HH:mm:ss[.ffffff]; set the column's format)`)
      let frac = (m[3] ?? '').replace(/0+$/, '')
      if (frac === '.') frac = ''
      return `${m[1]} ${m[2]}${frac}`
    }
    default:
      return s
  }
}

function wall(s: string, format: string, kind: 'date' | 'datetime'): string {
  const w = parseWallClock(s, format)
  if (typeof w === 'string') throw new DecodeError(w)
  const text = formatWallClock(w)
  return kind === 'date' ? text.slice(0, 10) : text.length === 10 ? `${text} 00:00:00` : text
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/**
 * Unescape a delimiter as users write it in job files: `\t`, `\001` (octal, Hive's default),
 * `\u0001`, `\x01`; anything else is taken literally.
 */
export function unescapeDelimiter(d: string): string {
  return d.replace(/\\(t|n|r|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{3})/g, (_, e: string) => {
    if (e === 't') return '\t'
    if (e === 'n') return '\n'
    if (e === 'r') return '\r'
    if (e[0] === 'u' || e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16))
    return String.fromCharCode(parseInt(e, 8))
  })
}
