/**
 * Lossless JSON encoding of canonical engine values ({@link Value}, `main/core/types.ts`).
 *
 * JSON has no BigInt, no bytes, no NaN/Infinity and no negative zero, so those are written as
 * one-key tagged objects. Every other value is its plain JSON self:
 *
 * | Value                        | encoded                          |
 * | ---------------------------- | -------------------------------- |
 * | `null`, boolean, string      | itself (`''` stays `''`, distinct from `null`) |
 * | finite number other than -0  | itself                           |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$num": "NaN" \| "Infinity" \| "-Infinity" \| "-0"}` |
 * | bigint                       | `{"$big": "-123456789012345678901234567890"}` (decimal text) |
 * | Buffer (any Uint8Array)      | `{"$b64": "AAEC/w=="}` (standard base64, padded) |
 *
 * A Value is never a plain object, so a tag cannot be confused with data. Strings pass through
 * `JSON.stringify`, which escapes lone surrogates (`"\ud800"`), so even ill-formed UTF-16 round
 * trips exactly. Used by the store (dirty records, split bounds) and the HTTP transport.
 */
import type { Value } from '../core/types.js'
import { StoreError } from './errors.js'

/** The JSON form of one {@link Value}. */
export type EncodedValue =
  | null
  | boolean
  | number
  | string
  | { $num: 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { $big: string }
  | { $b64: string }

/**
 * Encode one value. Throws `INVALID` naming `path` for anything that is not a {@link Value}
 * (`undefined`, a Date, a plain object...): nothing is silently turned into `null`.
 */
export function encodeValue(v: Value, path = 'value'): EncodedValue {
  if (v === null) return null
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v
    case 'number':
      if (Number.isNaN(v)) return { $num: 'NaN' }
      if (v === Infinity) return { $num: 'Infinity' }
      if (v === -Infinity) return { $num: '-Infinity' }
      if (Object.is(v, -0)) return { $num: '-0' }
      return v
    case 'bigint':
      return { $big: v.toString() }
    case 'object':
      if (v instanceof Uint8Array) return { $b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }
  }
  const what = v === undefined ? 'undefined' : typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v
  throw new StoreError('INVALID', `${path}: not a canonical value (${what})`, path)
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const BIG = /^-?(0|[1-9]\d*)$/

/** Decode one value written by {@link encodeValue}. Throws `INVALID` naming `path` for anything else. */
export function decodeValue(e: EncodedValue, path = 'value'): Value {
  if (e === null || typeof e === 'boolean' || typeof e === 'string' || typeof e === 'number') return e
  if (typeof e === 'object' && !Array.isArray(e)) {
    const keys = Object.keys(e)
    if (keys.length === 1) {
      const o = e as Record<string, unknown>
      if (typeof o.$b64 === 'string' && B64.test(o.$b64)) return Buffer.from(o.$b64, 'base64')
      if (typeof o.$big === 'string' && BIG.test(o.$big)) return BigInt(o.$big)
      switch (o.$num) {
        case 'NaN':
          return NaN
        case 'Infinity':
          return Infinity
        case '-Infinity':
          return -Infinity
        case '-0':
          return -0
      }
    }
  }
  throw new StoreError('INVALID', `${path}: not an encoded value: ${JSON.stringify(e)?.slice(0, 80)}`, path)
}

/** Encode a row (or any list) of values. Errors name the index: `values[3]`. */
export function encodeValues(values: readonly Value[], path = 'values'): EncodedValue[] {
  if (!Array.isArray(values)) throw new StoreError('INVALID', `${path}: expected an array of values`, path)
  return values.map((v, i) => encodeValue(v, `${path}[${i}]`))
}

/** Decode a list written by {@link encodeValues}. Errors name the index: `values[3]`. */
export function decodeValues(encoded: readonly EncodedValue[], path = 'values'): Value[] {
  if (!Array.isArray(encoded)) throw new StoreError('INVALID', `${path}: expected an array of encoded values`, path)
  return encoded.map((e, i) => decodeValue(e, `${path}[${i}]`))
}
