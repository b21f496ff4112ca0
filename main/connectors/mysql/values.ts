/**
 * Value conversion between mysql2's wire values and the engine's canonical values (see the table
 * in main/core/types.ts), and the time-zone arithmetic the writer needs. Pure functions.
 *
 * Time zones: a session zone is either a fixed offset (`+05:30`, `-08:00`, `+00:00`) or an IANA
 * name (`Europe/Paris`). Offsets are exact. For IANA names the instant -> wall-clock direction is
 * exact (Intl); the wall-clock -> offset direction (rendering a TIMESTAMP read back) is ambiguous
 * for the repeated hour at a DST fall-back, where the earlier offset is chosen — use an offset
 * zone (the default, `+00:00`) when that matters.
 */
import type { Value } from '../../core/types.js'

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** Inverse of {@link daysFromCivil}: `[year, month, day]`. */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d]
}

const p2 = (n: number) => (n < 10 ? `0${n}` : String(n))
const p4 = (n: number) => String(n).padStart(4, '0')

/** Parse `±HH:MM[:SS]`, `±HHMM`, `±HH` or `Z` to seconds east of UTC; undefined when not an offset. */
export function parseOffset(s: string): number | undefined {
  if (s === 'Z' || s === 'z') return 0
  const m = /^([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?$/.exec(s)
  if (!m) return undefined
  const sec = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
  return m[1] === '-' ? -sec : sec
}

/** Render seconds east of UTC as `+HH:MM` (`+HH:MM:SS` when the offset has seconds). */
export function formatOffset(sec: number): string {
  const sign = sec < 0 ? '-' : '+'
  const a = Math.abs(sec)
  const s = a % 60
  return `${sign}${p2(Math.floor(a / 3600))}:${p2(Math.floor((a % 3600) / 60))}${s ? `:${p2(s)}` : ''}`
}

const TSTZ = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$/

/** True when `s` looks like a timestamptz canonical value (ends with an offset or `Z`). */
export function hasOffset(s: string): boolean {
  const c = s.charCodeAt(s.length - 1)
  if (c === 90 || c === 122) return TSTZ.test(s)
  return s.length > 19 && /[+-]\d{2}(:?\d{2})?(:?\d{2})?$/.test(s.slice(19)) && TSTZ.test(s)
}

/** A session time zone: a fixed offset, or an IANA name resolved with Intl. */
export class SessionZone {
  readonly fixed?: number
  private fmt?: Intl.DateTimeFormat
  constructor(readonly name: string) {
    const off = parseOffset(name)
    if (off !== undefined) {
      this.fixed = off
    } else {
      try {
        this.fmt = new Intl.DateTimeFormat('en-US', {
          timeZone: name,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
          era: 'short',
        })
      } catch {
        throw new Error(`connection.timezone: '${name}' is neither an offset (+HH:MM) nor an IANA time zone name`)
      }
    }
  }

  /** The zone's offset (seconds east of UTC) at the instant `utcSec` (seconds since the epoch). */
  offsetAt(utcSec: number): number {
    if (this.fixed !== undefined) return this.fixed
    const parts = this.fmt!.formatToParts(new Date(utcSec * 1000))
    const get = (t: string) => Number(parts.find((p) => p.type === t)!.value)
    let y = get('year')
    if (parts.find((p) => p.type === 'era')?.value === 'BC') y = 1 - y
    const local = daysFromCivil(y, get('month'), get('day')) * 86400 + get('hour') * 3600 + get('minute') * 60 + get('second')
    return local - Math.floor(utcSec)
  }

  /** Offset for a wall-clock time in this zone (seconds since the epoch as if it were UTC). */
  offsetForWall(wallSec: number): number {
    if (this.fixed !== undefined) return this.fixed
    const o1 = this.offsetAt(wallSec)
    const o2 = this.offsetAt(wallSec - o1)
    return o1 === o2 ? o1 : Math.max(o1, o2)
  }
}

/**
 * Convert a timestamptz canonical value (`2024-01-01 12:00:00.123456+05:30`) into the wall clock
 * of `zone` (`2024-01-01 06:30:00.123456` for `+00:00`). The fraction is carried as digits, never
 * through a float. Returns undefined when `s` is not a timestamptz.
 */
export function toZoneWallClock(s: string, zone: SessionZone): string | undefined {
  const m = TSTZ.exec(s)
  if (!m) return undefined
  const off = parseOffset(m[8]!)!
  const wall = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6])
  const utc = wall - off
  const local = utc + zone.offsetAt(utc)
  const days = Math.floor(local / 86400)
  const sod = local - days * 86400
  const [y, mo, d] = civilFromDays(days)
  return `${p4(y)}-${p2(mo)}-${p2(d)} ${p2(Math.floor(sod / 3600))}:${p2(Math.floor((sod % 3600) / 60))}:${p2(sod % 60)}${m[7] ?? ''}`
}

/** Render a TIMESTAMP the server sent in the session zone as a canonical timestamptz. */
export function timestampWithOffset(s: string, zone: SessionZone): string {
  if (zone.fixed !== undefined) return s + formatOffset(zone.fixed)
  if (s.startsWith('0000-00-00')) return `${s}+00:00`
  const wall = daysFromCivil(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))) * 86400 + Number(s.slice(11, 13)) * 3600 + Number(s.slice(14, 16)) * 60 + Number(s.slice(17, 19))
  return s + formatOffset(zone.offsetForWall(wall))
}

/**
 * Drop trailing zeros of a time's fractional seconds, and the point when nothing is left:
 * `2024-01-01 10:00:00.120000` -> `2024-01-01 10:00:00.12`. The canonical spelling of times.
 */
export function trimFraction(s: string): string {
  const i = s.indexOf('.')
  if (i < 0) return s
  let j = s.length
  while (j > i + 1 && s.charCodeAt(j - 1) === 48) j--
  return j === i + 1 ? s.slice(0, i) : s.slice(0, j)
}

/** A BIGINT text as a canonical int: a number when it is a safe integer, else the exact string. */
export function canonicalBigint(s: string): number | string {
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : s
}

/** Minimal shape of mysql2's typeCast field (text protocol). */
export interface TypeCastField {
  type: string
  length: number
  string(encoding?: string): string | null
  buffer(): Buffer | null
}

/**
 * The mysql2 `typeCast` giving canonical values (the pool sets `supportBigNumbers`,
 * `bigNumberStrings`, `dateStrings`, `jsonStrings`, so `next()` already yields strings for
 * BIGINT, DECIMAL, DATE, DATETIME, TIME and JSON, and Buffers for binary-charset columns):
 * - LONGLONG: number when safe, else the exact decimal string;
 * - TIMESTAMP: the session-rendered text plus the session offset (`+00:00` by default);
 * - DOUBLE/FLOAT: `Number(text)`, correctly rounded (mysql2's parser can be one ulp off);
 * - BIT(1): boolean; BIT(n>1): Buffer; GEOMETRY: Buffer (SRID + WKB), not mysql2's parsed object;
 * - DATE/DATETIME/TIME: the server's text, zero dates included, with trailing zeros of the
 *   fraction dropped (`12:00:00.500000` -> `12:00:00.5`, `.000000` -> none): the canonical spelling
 *   every connector uses, so equal times are equal text whatever the column's precision.
 */
export function makeTypeCast(zone: SessionZone) {
  return (field: TypeCastField, next: () => unknown): unknown => {
    switch (field.type) {
      case 'LONGLONG': {
        const v = next() as string | number | null
        return typeof v === 'string' ? canonicalBigint(v) : v
      }
      case 'TIMESTAMP': {
        const s = field.string('ascii')
        return s === null ? null : timestampWithOffset(trimFraction(s), zone)
      }
      case 'DOUBLE':
      case 'FLOAT': {
        // mysql2's own text-to-float parser can be one ulp off (91.57142857142857 -> ...856);
        // Number() is correctly rounded (ECMAScript StringToNumber), so parse the server's text here.
        const s = field.string('ascii')
        return s === null ? null : Number(s)
      }
      case 'DATETIME':
      case 'TIME': {
        const s = field.string('ascii')
        return s === null ? null : trimFraction(s)
      }
      case 'BIT': {
        const b = field.buffer()
        if (b === null) return null
        return field.length === 1 ? b[0] === 1 : b
      }
      case 'GEOMETRY':
        return field.buffer()
      default:
        return next()
    }
  }
}

/** Bytes of a BIT(n) column for a canonical value (boolean, integer number/bigint/string, Buffer). */
export function bitBytes(v: Value, bits: number): Buffer {
  if (Buffer.isBuffer(v)) return v
  let n: bigint
  if (typeof v === 'boolean') n = v ? 1n : 0n
  else if (typeof v === 'bigint' && v >= 0n) n = v
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) n = BigInt(v)
  else if (typeof v === 'string' && /^\d+$/.test(v)) n = BigInt(v)
  else throw new TypeError(`not a BIT value: ${String(v)}`)
  const len = Math.max(1, Math.ceil(bits / 8))
  const out = Buffer.alloc(len)
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  if (n !== 0n) throw new RangeError(`value ${String(v)} does not fit BIT(${bits})`)
  return out
}
