/**
 * Inline passwords in job documents (a connection URL `mysql://u:pw@h/db`, an inline connection's
 * `password` field, the URLs `sluice migrate` builds): taken out before a spec is stored, masked
 * in what the API returns, and put back only in memory for a run.
 *
 * - {@link sealSpec} walks any JSON document: every string that is a URL with a password in its
 *   userinfo, and every non-empty string property named `password`, is replaced by {@link MASK}
 *   and returned in `secrets`, keyed by its JSON path (`$.reader.connection`). The store keeps
 *   `secrets` encrypted by its SecretBox (main/store/secrets.ts) beside the masked spec text.
 * - {@link unsealSpec} puts them back (for a resume, a rerun, a saved job's run).
 * - {@link maskSpec}: the same walk, secrets dropped (API results, logs).
 *
 * A password that equals {@link MASK} in a document being saved means "unchanged": the store
 * takes the secret at the same path from the version before (jobs.ts).
 */

/** What a masked password reads as. */
export const MASK = '********'

const URL_PW = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^@/?#]*)(@)/i

/** A document with its passwords masked, and the passwords by JSON path. */
export interface SealedSpec {
  masked: unknown
  secrets: Record<string, string>
}

function walk(v: unknown, path: string, key: string | undefined, out: Record<string, string> | undefined): unknown {
  if (typeof v === 'string') {
    if (key === 'password' && v !== '' && v !== MASK) {
      if (out) out[path] = v
      return MASK
    }
    const m = URL_PW.exec(v)
    if (m && m[2] !== '' && m[2] !== MASK) {
      if (out) out[path] = m[2]!
      return m[1]! + MASK + m[3]! + v.slice(m[0].length)
    }
    return v
  }
  if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, undefined, out))
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) o[k] = walk(x, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, k, out)
    return o
  }
  return v
}

/** Take the passwords out of `doc` (a JSON value, or JSON text). */
export function sealSpec(doc: unknown): SealedSpec {
  const v = typeof doc === 'string' ? (JSON.parse(doc) as unknown) : doc
  const secrets: Record<string, string> = {}
  const masked = walk(v, '$', undefined, secrets)
  return { masked, secrets }
}

/** `doc` with every password masked (nothing kept). */
export function maskSpec<T>(doc: T): T {
  return walk(doc, '$', undefined, undefined) as T
}

/** True when `doc` holds a password in clear (see {@link sealSpec}). */
export function hasSecrets(doc: unknown): boolean {
  return Object.keys(sealSpec(doc).secrets).length > 0
}

/** Put `secrets` back into a masked document (paths that no longer hold the mask are left alone). */
export function unsealSpec(masked: unknown, secrets: Record<string, string>): unknown {
  const put = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const s = secrets[path]
      if (s === undefined) return v
      if (v === MASK) return s
      const m = URL_PW.exec(v)
      if (m && m[2] === MASK) return m[1]! + s + m[3]! + v.slice(m[0].length)
      return v
    }
    if (Array.isArray(v)) return v.map((x, i) => put(x, `${path}[${i}]`))
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) o[k] = put(x, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`)
      return o
    }
    return v
  }
  return put(masked, '$')
}

/** Paths of `masked` that hold the mask (passwords a saved version should take from the one before). */
export function maskedPaths(masked: unknown): string[] {
  const out: string[] = []
  const look = (v: unknown, path: string, key?: string) => {
    if (typeof v === 'string') {
      if ((key === 'password' && v === MASK) || URL_PW.exec(v)?.[2] === MASK) out.push(path)
    } else if (Array.isArray(v)) v.forEach((x, i) => look(x, `${path}[${i}]`))
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) look(x, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, k)
  }
  look(masked, '$')
  return out
}
