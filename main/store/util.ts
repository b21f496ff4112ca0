/**
 * Small helpers shared by the repositories: ids, timestamps, JSON text.
 */
import { randomBytes } from 'node:crypto'
import { StoreError } from './errors.js'

let lastMs = 0
let seq = 0

/**
 * A new id: a UUID version 7 (RFC 9562 §5.7), e.g. `0193a4c2-7f1e-7a3b-9c4d-5e6f7a8b9c0d`.
 *
 * The first 48 bits are the Unix time in milliseconds, so ids sort by creation time as text
 * (lists order by id). Within one millisecond a 12-bit counter in `rand_a` keeps ids created by
 * this process strictly increasing (RFC 9562 §6.2 method 1); the remaining 62 bits are random, so
 * ids created by different processes do not collide.
 */
export function newId(): string {
  let ms = Date.now()
  if (ms <= lastMs) {
    ms = lastMs
    seq++
    if (seq > 0xfff) {
      ms = ++lastMs
      seq = 0
    }
  } else {
    seq = randomBytes(2).readUInt16BE(0) & 0x7ff // leave headroom for the counter
  }
  lastMs = ms
  const b = randomBytes(16)
  b.writeUIntBE(ms, 0, 6)
  b[6] = 0x70 | (seq >> 8)
  b[7] = seq & 0xff
  b[8] = 0x80 | (b[8] & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** The current time as ISO-8601 UTC with milliseconds: `2026-11-23T08:15:02.123Z`. */
export function nowIso(): string {
  return new Date().toISOString()
}

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * Normalise a timestamp input to ISO-8601 UTC with milliseconds. Accepts a `Date`, epoch
 * milliseconds, or an ISO-8601 string with a zone (`Z` or `±HH:MM`; converted to the same instant
 * in UTC). Throws `INVALID` naming `field` otherwise; a string without a zone is refused rather
 * than read in the process's time zone.
 */
export function toIso(v: string | number | Date, field: string): string {
  if (typeof v === 'string') {
    if (ISO_MS_UTC.test(v)) return v
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
      throw new StoreError('INVALID', `${field}: expected an ISO-8601 timestamp with a zone (e.g. 2026-11-23T08:15:02.123Z), got ${JSON.stringify(v)}`, field)
    }
  }
  const d = v instanceof Date ? v : new Date(v)
  if (Number.isNaN(d.getTime())) {
    throw new StoreError('INVALID', `${field}: not a valid timestamp: ${JSON.stringify(String(v))}`, field)
  }
  return d.toISOString()
}

/**
 * JSON text for a document stored as-is (job specs, run snapshots, settings). A string is taken as
 * the JSON text itself and stored byte for byte after checking it parses; anything else is
 * serialised with `JSON.stringify`. Throws `INVALID` naming `field` for text that does not parse
 * or values JSON cannot hold (BigInt, cycles).
 */
export function jsonText(v: unknown, field: string): string {
  if (typeof v === 'string') {
    try {
      JSON.parse(v)
    } catch (e) {
      throw new StoreError('INVALID', `${field}: not valid JSON text: ${(e as Error).message}`, field)
    }
    return v
  }
  return jsonStringify(v, field)
}

/**
 * `JSON.stringify(v)`, refusing (`INVALID` naming `field`) what JSON cannot hold: BigInt, cycles,
 * and top-level `undefined` / functions / symbols.
 */
export function jsonStringify(v: unknown, field: string): string {
  let s: string | undefined
  try {
    s = JSON.stringify(v)
  } catch (e) {
    throw new StoreError('INVALID', `${field}: cannot be stored as JSON: ${(e as Error).message}`, field)
  }
  if (s === undefined) throw new StoreError('INVALID', `${field}: cannot be stored as JSON (${typeof v})`, field)
  return s
}

/** Parse JSON text read back from the store (`null` column -> `undefined`). */
export function parseJson<T = unknown>(s: string | null | undefined): T | undefined {
  return s === null || s === undefined ? undefined : (JSON.parse(s) as T)
}

/** Check `limit`/`offset` paging arguments (non-negative integers); returns them with defaults. */
export function paging(p: { limit?: number; offset?: number }, defaultLimit: number): { limit: number; offset: number } {
  const limit = p.limit ?? defaultLimit
  const offset = p.offset ?? 0
  if (!Number.isSafeInteger(limit) || limit < 0) throw new StoreError('INVALID', `limit: expected a non-negative integer, got ${limit}`, 'limit')
  if (!Number.isSafeInteger(offset) || offset < 0) throw new StoreError('INVALID', `offset: expected a non-negative integer, got ${offset}`, 'offset')
  return { limit, offset }
}
