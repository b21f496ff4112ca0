/**
 * Type compatibility between a source column and a target column: which pairs can lose data
 * (narrowing) and must be reported by validation before any row moves.
 *
 * Rules (each names what could be lost):
 * - integers into smaller or signed/unsigned-mismatched integers: values out of range;
 * - decimals into integers or into a decimal with fewer integer or fraction digits: digits;
 * - floats into integers/decimals: fractions and exponents; float64 into float32: precision;
 * - text/string into a shorter string: characters; bytes into shorter bytes: bytes;
 * - datetime/time precision into a lower precision: fractional seconds;
 * - timestamptz into datetime: the offset (values are normalized to the target session zone);
 * - anything into bool, enum or set: values outside the target's domain.
 * Database servers reject most such values at write time (strict mode, PostgreSQL always), so the
 * rows become dirty records rather than bent values; validation tells the user before the run.
 */
import type { Column, LogicalType } from '../core/types.js'
import { describeType } from '../core/types.js'

export interface Narrowing {
  severity: 'error' | 'warning'
  message: string
}

const INT_RANGE: Record<number, [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  24: [-8388608n, 8388607n],
  32: [-2147483648n, 2147483647n],
  64: [-9223372036854775808n, 9223372036854775807n],
}

function intRange(t: { bits: number; unsigned?: boolean }): [bigint, bigint] {
  const [lo, hi] = INT_RANGE[t.bits]!
  return t.unsigned ? [0n, hi * 2n + 1n] : [lo, hi]
}

/** Digits before the point a type can hold (undefined = unbounded). */
function integerDigits(t: LogicalType): number | undefined {
  if (t.kind === 'int') {
    const [lo, hi] = intRange(t)
    return Math.max(lo.toString().replace('-', '').length, hi.toString().length)
  }
  if (t.kind === 'decimal' && t.precision !== undefined) return t.precision - (t.scale ?? 0)
  if (t.kind === 'bool') return 1
  return undefined
}

function charLength(t: LogicalType): number | undefined {
  switch (t.kind) {
    case 'string':
      return t.length
    case 'text':
      return t.maxBytes !== undefined ? Math.floor(t.maxBytes / 4) : undefined
    case 'uuid':
      return 36
    case 'enum':
      return Math.max(0, ...t.values.map((v) => [...v].length))
    case 'date':
      return 10
    case 'datetime':
      return 19 + (t.precision ? t.precision + 1 : 0)
    case 'int':
      return integerDigits(t)! + 1
    default:
      return undefined
  }
}

/**
 * Compare a source column's type with a target column's type.
 * @returns undefined when every source value fits, else what can be lost and how serious it is.
 */
export function checkNarrowing(source: Column, target: Column): Narrowing | undefined {
  const s = source.type
  const t = target.type
  const what = `${describeType(s)} -> ${describeType(t)}`
  const warn = (m: string): Narrowing => ({ severity: 'warning', message: `${what}: ${m}` })
  if (!target.nullable && source.nullable) {
    // Reported separately (nullability), not as narrowing.
  }
  switch (t.kind) {
    case 'int': {
      if (s.kind === 'int') {
        const [slo, shi] = intRange(s)
        const [tlo, thi] = intRange(t)
        if (slo < tlo || shi > thi) return warn(`values outside ${tlo}..${thi} will be rejected`)
        return undefined
      }
      if (s.kind === 'bool' || s.kind === 'year') return undefined
      if (s.kind === 'decimal') {
        if ((s.scale ?? 1) > 0) return warn('fraction digits would be lost; rows with a fraction are rejected or rounded by the target')
        const d = integerDigits(s)
        if (d === undefined || d >= integerDigits(t)!) return warn('values may exceed the integer range')
        return undefined
      }
      if (s.kind === 'float') return warn('fractions and large values cannot be represented')
      if (s.kind === 'string' || s.kind === 'text' || s.kind === 'other') return warn('text values must parse as integers')
      return undefined
    }
    case 'decimal': {
      if (s.kind === 'decimal') {
        const sd = integerDigits(s)
        const td = integerDigits(t)
        if (td !== undefined && (sd === undefined || sd > td)) return warn(`integer digits may exceed ${td}`)
        if (t.scale !== undefined && (s.scale === undefined || s.scale > t.scale)) return warn(`fraction digits beyond ${t.scale} would be rounded`)
        return undefined
      }
      if (s.kind === 'int') {
        const td = integerDigits(t)
        if (td !== undefined && integerDigits(s)! > td) return warn(`values may exceed ${td} integer digits`)
        return undefined
      }
      if (s.kind === 'float') return warn('binary floating-point values may need more digits than the target scale')
      return undefined
    }
    case 'float': {
      if (s.kind === 'float' && s.bits === 64 && t.bits === 32) return warn('float64 -> float32 loses precision')
      if (s.kind === 'decimal' || (s.kind === 'int' && s.bits === 64)) return warn('exact values beyond 15-17 significant digits cannot be represented')
      return undefined
    }
    case 'string':
    case 'uuid': {
      const tl = charLength(t)
      if (tl === undefined) return undefined
      if (s.kind === 'bytes') return warn('binary data into a character column must be valid text')
      const sl = charLength(s)
      if (sl === undefined || sl > tl) return { severity: 'warning', message: `${what}: values longer than ${tl} characters will be rejected as dirty records` }
      return undefined
    }
    case 'text': {
      if (t.maxBytes !== undefined) {
        const sl = charLength(s)
        const tb = t.maxBytes
        if (sl === undefined ? s.kind === 'text' && (s.maxBytes === undefined || s.maxBytes > tb) : sl * 4 > tb)
          return warn(`values over ${tb} bytes will be rejected as dirty records`)
      }
      return undefined
    }
    case 'bytes': {
      if (t.length !== undefined && s.kind === 'bytes' && (s.length === undefined || s.length > t.length)) return warn(`values longer than ${t.length} bytes will be rejected`)
      return undefined
    }
    case 'datetime':
    case 'time': {
      if (s.kind === 'timestamptz' && t.kind === 'datetime') return warn('the offset is dropped: values are written as wall-clock time in the target session zone (UTC by default)')
      if ((s.kind === 'datetime' || s.kind === 'timestamptz' || s.kind === 'time') && (s.precision ?? 0) > (t.precision ?? 0))
        return warn(`fractional seconds beyond ${t.precision ?? 0} digits would be lost`)
      return undefined
    }
    case 'timestamptz': {
      if ((s.kind === 'datetime' || s.kind === 'timestamptz') && (s.precision ?? 0) > (t.precision ?? 6)) return warn(`fractional seconds beyond ${t.precision} digits would be lost`)
      if (s.kind === 'datetime') return { severity: 'warning', message: `${what}: wall-clock values are read as times in the target session zone (UTC by default)` }
      return undefined
    }
    case 'date': {
      if (s.kind === 'datetime' || s.kind === 'timestamptz') return warn('the time of day would be lost')
      return undefined
    }
    case 'bool': {
      if (s.kind !== 'bool') return warn('only 0/1 (true/false) values fit')
      return undefined
    }
    case 'enum':
    case 'set': {
      if ((s.kind === 'enum' || s.kind === 'set') && s.values.every((v) => (t as { values: string[] }).values.includes(v))) return undefined
      return warn(`only the values ${t.values.map((v) => `'${v}'`).join(', ')} fit`)
    }
    case 'year': {
      if (s.kind !== 'year') return warn('only years 1901..2155 fit')
      return undefined
    }
    default:
      return undefined
  }
}
