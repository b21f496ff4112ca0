/**
 * Wire encoding of API values for the HTTP + WebSocket transport (JSON cannot carry them).
 *
 * ISOMORPHIC: imported by the renderer's browser client too. No Node imports; `Buffer` is used
 * only when the global exists.
 *
 * | value                        | on the wire                          | decoded as                                 |
 * | ---------------------------- | ------------------------------------ | ------------------------------------------ |
 * | `bigint`                     | `{"$bigint":"-9223372036854775808"}` | `bigint`                                   |
 * | `Buffer` / `Uint8Array`      | `{"$bytes":"<base64, RFC 4648 §4>"}` | `Buffer` under Node, `Uint8Array` elsewhere |
 * | `Date`                       | `{"$date":"2024-01-02T03:04:05.678Z"}` | `Date`                                  |
 * | an object whose only key is `$bigint`, `$bytes`, `$date` or `$obj` | `{"$obj":{...}}` (its members encoded) | the same plain object |
 *
 * Everything else passes as JSON does (`undefined` members are dropped, `undefined` in an array
 * becomes `null`). Numbers stay numbers: a canonical DECIMAL is already a string (see
 * main/core/types.ts), so nothing is rounded here. A `Date` that is invalid cannot be written as
 * ISO-8601 and throws, naming where it was.
 */

/** Keys that mark an encoded value. A user object with exactly one of these keys is escaped. */
const TAGS = new Set(['$bigint', '$bytes', '$date', '$obj'])

interface NodeBufferLike {
  from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string }
  isBuffer(v: unknown): boolean
}
const NodeBuffer: NodeBufferLike | undefined = (globalThis as { Buffer?: NodeBufferLike }).Buffer

/**
 * Encode a value for JSON: returns a JSON-safe structure (call `JSON.stringify` on it).
 * @throws Error naming the path (`$.rows[3][1]`) of an invalid Date or of a cycle.
 */
export function encode(value: unknown): unknown {
  return enc(value, '$', new Set())
}

function enc(v: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof v) {
    case 'bigint':
      return { $bigint: v.toString() }
    case 'object':
      break
    case 'function':
    case 'symbol':
      return undefined
    default:
      return v
  }
  if (v === null) return null
  if (v instanceof Uint8Array) return { $bytes: bytesToBase64(v) }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new Error(`${path}: cannot encode an invalid Date`)
    return { $date: v.toISOString() }
  }
  if (seen.has(v)) throw new Error(`${path}: cannot encode a cyclic structure`)
  seen.add(v)
  try {
    if (Array.isArray(v)) return v.map((x, i) => enc(x, `${path}[${i}]`, seen) ?? null)
    // An object with toJSON (other than Date, handled above) is encoded through it, as JSON would.
    const src = typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v
    if (src !== v) return enc(src, path, seen)
    const out: Record<string, unknown> = {}
    let count = 0
    let onlyKey = ''
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const e = enc(x, `${path}.${k}`, seen)
      if (e === undefined) continue
      out[k] = e
      count++
      onlyKey = k
    }
    return count === 1 && TAGS.has(onlyKey) ? { $obj: out } : out
  } finally {
    seen.delete(v)
  }
}

/**
 * Decode a parsed JSON structure produced by {@link encode}.
 * @throws Error naming the path of a malformed tagged value (`{"$bigint":"1.5"}`, bad base64...).
 */
export function decode(value: unknown): unknown {
  return dec(value, '$')
}

function dec(v: unknown, path: string): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) return v.map((x, i) => dec(x, `${path}[${i}]`))
  const keys = Object.keys(v)
  if (keys.length === 1 && TAGS.has(keys[0]!)) {
    const k = keys[0]!
    const x = (v as Record<string, unknown>)[k]
    switch (k) {
      case '$bigint':
        if (typeof x !== 'string' || !/^-?\d+$/.test(x)) throw new Error(`${path}.$bigint: expected a decimal integer string`)
        return BigInt(x)
      case '$bytes':
        if (typeof x !== 'string') throw new Error(`${path}.$bytes: expected a base64 string`)
        return base64ToBytes(x, `${path}.$bytes`)
      case '$date': {
        const d = typeof x === 'string' ? new Date(x) : new Date(NaN)
        if (Number.isNaN(d.getTime())) throw new Error(`${path}.$date: expected an ISO-8601 date string`)
        return d
      }
      case '$obj':
        if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`${path}.$obj: expected an object`)
        return decodeMembers(x as Record<string, unknown>, path)
    }
  }
  return decodeMembers(v as Record<string, unknown>, path)
}

function decodeMembers(v: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    // defineProperty: a member named __proto__ stays a plain member (no prototype change).
    Object.defineProperty(out, k, { value: dec(x, `${path}.${k}`), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** `JSON.stringify(encode(value))`. */
export function stringify(value: unknown): string {
  return JSON.stringify(encode(value))
}

/** `decode(JSON.parse(text))`. @throws SyntaxError for bad JSON, Error for a bad tagged value. */
export function parse(text: string): unknown {
  return decode(JSON.parse(text))
}

// ---------------------------------------------------------------------------------------------
// base64 (RFC 4648 §4, with padding), with Buffer under Node and btoa/atob in browsers.

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Base64 of bytes (standard alphabet, padded). */
export function bytesToBase64(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b).toString('base64')
  let s = ''
  const CHUNK = 0x8000
  for (let i = 0; i < b.length; i += CHUNK) s += String.fromCharCode(...b.subarray(i, i + CHUNK))
  return btoa(s)
}

/**
 * Bytes of a base64 string: a `Buffer` when the global exists (Node), else a `Uint8Array`.
 * Strict: rejects characters outside the alphabet and wrong padding (Buffer alone would skip them).
 */
export function base64ToBytes(s: string, path = '$'): Uint8Array {
  if (!B64.test(s)) throw new Error(`${path}: not valid base64`)
  if (NodeBuffer) return NodeBuffer.from(s, 'base64')
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
