/**
 * Time conversion for field mapping (`mapping[].timeFormat`): re-spell a time written as text in
 * one pattern into another, purely on its fields. No Date object and no time zone is involved,
 * so a wall-clock time that does not exist in the process's zone (a DST gap) is still carried
 * exactly. This is why we do not use a general date library here.
 *
 * Pattern letters follow Java's DateTimeFormatter / SimpleDateFormat, as DataX documents its
 * `dateFormat` parameter: `yyyy` year, `yy` two-digit year (2000–2099), `MM` month, `dd` day,
 * `HH` hour 0–23, `mm` minute, `ss` second, `S…` fraction digits (1–9), text in single quotes
 * is literal, any other character is literal.
 */

interface Field {
  kind: 'y4' | 'y2' | 'M' | 'd' | 'H' | 'm' | 's' | 'S' | 'lit'
  width: number
  text?: string
}

function compile(pattern: string): Field[] {
  const out: Field[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1)
      const lit = end < 0 ? pattern.slice(i + 1) : pattern.slice(i + 1, end)
      out.push({ kind: 'lit', width: lit.length, text: lit === '' ? "'" : lit })
      i = end < 0 ? pattern.length : end + 1
      continue
    }
    let j = i
    while (j < pattern.length && pattern[j] === c) j++
    const n = j - i
    const kind: Field['kind'] | undefined =
      c === 'y' ? (n === 2 ? 'y2' : 'y4') : c === 'M' ? 'M' : c === 'd' ? 'd' : c === 'H' ? 'H' : c === 'm' ? 'm' : c === 's' ? 's' : c === 'S' ? 'S' : undefined
    if (kind) out.push({ kind, width: kind === 'y4' ? 4 : kind === 'S' ? n : 2 })
    else out.push({ kind: 'lit', width: n, text: pattern.slice(i, j) })
    i = j
  }
  return out
}

/** Parsed wall-clock fields. `fraction` holds the fraction digits as written (no rounding). */
export interface WallClock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  fraction: string
  hasTime: boolean
}

const cache = new Map<string, { fields: Field[]; re: RegExp }>()

function compiled(pattern: string) {
  let c = cache.get(pattern)
  if (!c) {
    const fields = compile(pattern)
    const src = fields
      .map((f) => (f.kind === 'lit' ? f.text!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : f.kind === 'S' ? `(\\d{1,${Math.max(f.width, 9)}})` : `(\\d{${f.width}})`))
      .join('')
    c = { fields, re: new RegExp(`^${src}$`) }
    cache.set(pattern, c)
  }
  return c
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * Parse `text` with `pattern`.
 * @returns the fields, or an error message naming the pattern (the caller names the column/row).
 */
export function parseWallClock(text: string, pattern: string): WallClock | string {
  const { fields, re } = compiled(pattern)
  const m = re.exec(text)
  if (!m) return `'${text}' does not match the time format '${pattern}'`
  const w: WallClock = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: '', hasTime: false }
  let g = 1
  for (const f of fields) {
    if (f.kind === 'lit') continue
    const v = m[g++]!
    switch (f.kind) {
      case 'y4': w.year = Number(v); break
      case 'y2': w.year = 2000 + Number(v); break
      case 'M': w.month = Number(v); break
      case 'd': w.day = Number(v); break
      case 'H': w.hour = Number(v); w.hasTime = true; break
      case 'm': w.minute = Number(v); w.hasTime = true; break
      case 's': w.second = Number(v); w.hasTime = true; break
      case 'S': w.fraction = v; w.hasTime = true; break
    }
  }
  const leap = (w.year % 4 === 0 && w.year % 100 !== 0) || w.year % 400 === 0
  if (w.month < 1 || w.month > 12) return `'${text}': month ${w.month} is out of range`
  const maxDay = w.month === 2 && !leap ? 28 : DAYS[w.month - 1]!
  if (w.day < 1 || w.day > maxDay) return `'${text}': day ${w.day} is out of range for ${w.year}-${String(w.month).padStart(2, '0')}`
  if (w.hour > 23 || w.minute > 59 || w.second > 59) return `'${text}': time of day is out of range`
  return w
}

const p2 = (n: number) => String(n).padStart(2, '0')

/**
 * Format fields with `pattern`, or canonically (`yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss[.fraction]`)
 * when no pattern is given.
 * @returns the text, or an error message when a fraction would be cut.
 */
export function formatWallClock(w: WallClock, pattern?: string): string {
  if (!pattern) {
    const date = `${String(w.year).padStart(4, '0')}-${p2(w.month)}-${p2(w.day)}`
    if (!w.hasTime) return date
    return `${date} ${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}${w.fraction ? '.' + w.fraction : ''}`
  }
  let s = ''
  for (const f of compiled(pattern).fields) {
    switch (f.kind) {
      case 'lit': s += f.text; break
      case 'y4': s += String(w.year).padStart(4, '0'); break
      case 'y2': s += p2(w.year % 100); break
      case 'M': s += p2(w.month); break
      case 'd': s += p2(w.day); break
      case 'H': s += p2(w.hour); break
      case 'm': s += p2(w.minute); break
      case 's': s += p2(w.second); break
      case 'S': {
        const frac = w.fraction.replace(/0+$/, '')
        if (frac.length > f.width) throw new Error(`fraction '${w.fraction}' has more digits than the output pattern '${pattern}' keeps`)
        s += w.fraction.padEnd(f.width, '0').slice(0, f.width)
        break
      }
    }
  }
  return s
}
