/**
 * JSON text <-> JSON paths, for putting markers on a job script: a strict JSON parser (RFC 8259)
 * that reports the offset of a syntax error, and records where each value lives, keyed by the
 * JSON path the validator uses (`$.tables[0].mapping[2].target`, see `jsonPath` in main/job/spec.ts).
 */

/** A syntax error at a character offset of the text. */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message)
    this.name = 'JsonSyntaxError'
  }
}

/** Where a value sits in the text: [start, end) character offsets. */
export interface Span {
  start: number
  end: number
}

const IDENT = /^[A-Za-z_$][\w$]*$/
const key = (base: string, k: string) => (IDENT.test(k) ? `${base}.${k}` : `${base}[${JSON.stringify(k)}]`)

/**
 * Parse `text`; returns the value and the span of every value by JSON path (a member's span
 * covers its key too, so a marker on a missing-key problem lands on the object).
 * @throws JsonSyntaxError with the offset of the first error.
 */
export function parseWithSpans(text: string): { value: unknown; spans: Map<string, Span> } {
  const spans = new Map<string, Span>()
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const fail = (what: string): never => {
    throw new JsonSyntaxError(i >= text.length ? `unexpected end of text, expected ${what}` : `unexpected ${JSON.stringify(text[i])}, expected ${what}`, i)
  }
  const str = (): string => {
    if (text[i] !== '"') fail('a string')
    const start = i++
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++
      else if (text.charCodeAt(i) < 0x20) fail('a closing quote')
      i++
    }
    if (i >= text.length) fail('a closing quote')
    i++
    try {
      return JSON.parse(text.slice(start, i)) as string
    } catch {
      throw new JsonSyntaxError('invalid escape in string', start)
    }
  }
  const val = (path: string): unknown => {
    ws()
    const start = i
    let v: unknown
    const c = text[i]
    if (c === '{') {
      i++
      const o: Record<string, unknown> = {}
      ws()
      if (text[i] === '}') i++
      else
        for (;;) {
          ws()
          const ks = i
          const k = str()
          ws()
          if (text[i] !== ':') fail("':'")
          i++
          const p = key(path, k)
          Object.defineProperty(o, k, { value: val(p), enumerable: true, writable: true, configurable: true })
          const s = spans.get(p)
          if (s) spans.set(p + '#member', { start: ks, end: s.end })
          ws()
          if (text[i] === ',') {
            i++
            continue
          }
          if (text[i] === '}') {
            i++
            break
          }
          fail("',' or '}'")
        }
      v = o
    } else if (c === '[') {
      i++
      const a: unknown[] = []
      ws()
      if (text[i] === ']') i++
      else
        for (;;) {
          a.push(val(`${path}[${a.length}]`))
          ws()
          if (text[i] === ',') {
            i++
            continue
          }
          if (text[i] === ']') {
            i++
            break
          }
          fail("',' or ']'")
        }
      v = a
    } else if (c === '"') v = str()
    else {
      const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400))
      if (!m) fail('a value')
      i += m![0].length
      v = JSON.parse(m![0])
    }
    spans.set(path, { start, end: i })
    return v
  }
  const value = val('$')
  ws()
  if (i < text.length) fail('the end of the text')
  return { value, spans }
}

/** The span of `path`, or of its nearest ancestor that exists in the text. */
export function spanOf(spans: Map<string, Span>, path: string): Span | undefined {
  let p = path
  for (;;) {
    const s = spans.get(p + '#member') ?? spans.get(p)
    if (s) return s
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))
    if (cut <= 0) return spans.get('$')
    p = p.slice(0, cut)
  }
}
