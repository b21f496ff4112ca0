/**
 * Reader paths with wildcards: `in/20261204/*.csv.gz`, `logs/2026-12-0?/part-*.jsonl`,
 * `{a,b}/x.csv` (brace alternatives, how a DataX `path` list is carried), `in/**` + `/*.csv` (any
 * depth). Variables (`${YYYYMMDD}`) are substituted before a pattern gets here. Matching walks
 * the store from the longest literal prefix, listing only the folders a pattern can reach.
 */
import type { FileStore, StoreEntry } from '../stores/types.js'

/** Expand `{a,b}` alternatives (nested allowed) into plain patterns. */
export function expandBraces(p: string): string[] {
  const open = p.indexOf('{')
  if (open < 0) return [p]
  let depth = 0
  for (let i = open; i < p.length; i++) {
    if (p[i] === '{') depth++
    else if (p[i] === '}' && --depth === 0) {
      const body = p.slice(open + 1, i)
      const alts: string[] = []
      let d = 0
      let start = 0
      for (let j = 0; j < body.length; j++) {
        if (body[j] === '{') d++
        else if (body[j] === '}') d--
        else if (body[j] === ',' && d === 0) {
          alts.push(body.slice(start, j))
          start = j + 1
        }
      }
      alts.push(body.slice(start))
      const rest = p.slice(i + 1)
      return alts.flatMap((a) => expandBraces(p.slice(0, open) + a + rest))
    }
  }
  return [p]
}

/** True when a path segment has a wildcard. */
export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s)
}

function segmentRegex(seg: string): RegExp {
  let re = ''
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        re += `[${seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** Normalise a reader path to a store-relative one (leading `/` and `./` dropped). */
export function storePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/{2,}/g, '/')
}

/**
 * The files a pattern matches, sorted by path; a pattern without wildcards names one file (or,
 * when it names a folder, every file directly in it). Hidden temporary files of uploads in
 * progress (`.name.sluice-*.tmp`) are never matched.
 */
export async function matchFiles(store: FileStore, pattern: string): Promise<StoreEntry[]> {
  const out = new Map<string, StoreEntry>()
  for (const p of expandBraces(storePath(pattern))) {
    const segs = p.split('/').filter((s) => s !== '' && s !== '.')
    if (!segs.some(hasWildcard)) {
      const st = await store.stat(segs.join('/'))
      if (st?.type === 'file') out.set(st.path, st)
      else if (st?.type === 'dir') for (const e of await store.list(st.path)) if (e.type === 'file' && !isTemp(e.name)) out.set(e.path, e)
      continue
    }
    await walk(store, '', segs, out)
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function isTemp(name: string): boolean {
  return /^\..*\.sluice-[0-9a-f]+\.tmp$/.test(name) || name.endsWith('.manifest.json')
}

async function walk(store: FileStore, dir: string, segs: string[], out: Map<string, StoreEntry>): Promise<void> {
  if (!segs.length) return
  const [seg, ...rest] = segs as [string, ...string[]]
  if (!hasWildcard(seg)) {
    const next = dir ? `${dir}/${seg}` : seg
    if (!rest.length) {
      const st = await store.stat(next)
      if (st?.type === 'file') out.set(st.path, st)
      return
    }
    return walk(store, next, rest, out)
  }
  const entries = await store.list(dir)
  if (seg === '**') {
    // Zero or more folders.
    await walk(store, dir, rest, out)
    for (const e of entries) if (e.type === 'dir') await walk(store, e.path, segs, out)
    return
  }
  const re = segmentRegex(seg)
  for (const e of entries) {
    if (!re.test(e.name) || isTemp(e.name)) continue
    if (!rest.length) {
      if (e.type === 'file') out.set(e.path, e)
    } else if (e.type === 'dir') await walk(store, e.path, rest, out)
  }
}
