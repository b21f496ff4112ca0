/**
 * Field mapping on the hot path: turn a source row (read order) into a target row (write order).
 *
 * A mapping is compiled once per task into a flat list of operations; rows then go through a
 * loop without allocation beyond the output array. When every target column is a plain copy in
 * source order the source row itself is passed on.
 */
import type { LogicalType, Row, Value } from '../core/types.js'
import { formatWallClock, parseWallClock } from './timeformat.js'

/** One target column's source. */
export type MapOp =
  | {
      kind: 'column'
      /** Index in the source row. */
      index: number
      sourceName: string
      targetName: string
      sourceType: LogicalType
      nullDefault?: Value
      timeFormat?: { from: string; to?: string }
    }
  | { kind: 'constant'; value: Value; targetName: string }

/** A row refused by the mapping stage (zero date, bad time text), with the column it concerns. */
export interface MappingError {
  reason: string
  column: string
  code: string
}

/** What to do with MySQL zero dates (`0000-00-00`, `2020-00-15`): DataX-style policy, see `setting.zeroDate`. */
export type ZeroDatePolicy = 'error' | 'null'

const ZERO_DATE = /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/

/** True for MySQL zero / partial-zero date or datetime text. */
export function isZeroDate(v: string): boolean {
  return ZERO_DATE.test(v)
}

/** Kinds whose MySQL values can be zero dates. */
function isDateKind(k: LogicalType['kind']): boolean {
  return k === 'date' || k === 'datetime' || k === 'timestamptz'
}

export interface RowMapper {
  /** True when rows pass through unchanged (no per-row work at all). */
  identity: boolean
  /**
   * Map one row. Returns the target row, or a MappingError for a row that must become a dirty
   * record (the caller keeps the source row).
   */
  map(row: Row): Row | MappingError
}

/**
 * Compile a mapping.
 * @param sourceWidth number of values in each source row.
 */
export function compileMapping(ops: MapOp[], sourceWidth: number, zeroDate: ZeroDatePolicy): RowMapper {
  // MySQL TIMESTAMP (timestamptz) has a zero value too (`0000-00-00 00:00:00`, read with the
  // session offset appended): it follows the same policy as DATE and DATETIME.
  const dateChecked = (op: MapOp) => op.kind === 'column' && isDateKind(op.sourceType.kind)
  const plain = ops.every((op) => op.kind === 'column' && op.nullDefault === undefined && !op.timeFormat)
  const needsZero = ops.some(dateChecked)
  const inOrder = plain && ops.length === sourceWidth && ops.every((op, i) => op.kind === 'column' && op.index === i)

  if (inOrder && !needsZero) return { identity: true, map: (row) => row }

  const n = ops.length
  const kinds = new Uint8Array(n) // 0 copy, 1 copy + checks, 2 constant
  const idx = new Int32Array(n)
  for (let j = 0; j < n; j++) {
    const op = ops[j]!
    if (op.kind === 'constant') kinds[j] = 2
    else {
      idx[j] = op.index
      kinds[j] = op.nullDefault !== undefined || op.timeFormat || dateChecked(op) ? 1 : 0
    }
  }

  const slow = (op: Extract<MapOp, { kind: 'column' }>, v: Value): Value | MappingError => {
    if (v === null) return op.nullDefault !== undefined ? op.nullDefault : null
    if (typeof v === 'string' && isDateKind(op.sourceType.kind) && isZeroDate(v)) {
      if (zeroDate === 'null') return null
      return { column: op.sourceName, code: 'ZERO_DATE', reason: `column ${op.sourceName}: zero date '${v}' (setting.zeroDate is 'error'; set it to 'null' to write NULL)` }
    }
    if (op.timeFormat) {
      const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined
      if (text === undefined) return { column: op.sourceName, code: 'TIME_FORMAT', reason: `column ${op.sourceName}: timeFormat needs a text or number value` }
      const w = parseWallClock(text, op.timeFormat.from)
      if (typeof w === 'string') return { column: op.sourceName, code: 'TIME_FORMAT', reason: `column ${op.sourceName}: ${w}` }
      try {
        return formatWallClock(w, op.timeFormat.to)
      } catch (e) {
        return { column: op.sourceName, code: 'TIME_FORMAT', reason: `column ${op.sourceName}: ${(e as Error).message}` }
      }
    }
    return v
  }

  return {
    identity: false,
    map(row: Row): Row | MappingError {
      const out = new Array<Value>(n)
      for (let j = 0; j < n; j++) {
        const k = kinds[j]!
        if (k === 0) out[j] = row[idx[j]!] as Value
        else if (k === 2) out[j] = (ops[j] as { value: Value }).value
        else {
          const r = slow(ops[j] as Extract<MapOp, { kind: 'column' }>, row[idx[j]!] as Value)
          if (r !== null && typeof r === 'object' && !Buffer.isBuffer(r)) return r as MappingError
          out[j] = r as Value
        }
      }
      return out
    },
  }
}

/** True when `r` is a MappingError rather than a row. */
export function isMappingError(r: Row | MappingError): r is MappingError {
  return !Array.isArray(r)
}
