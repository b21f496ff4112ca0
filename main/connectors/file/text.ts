/**
 * Text formats: CSV / TSV / any delimited text (csv-parse, csv-stringify) and JSON Lines.
 *
 * Reading yields records as fields of text (`null` for NULL) with the line each record ends on;
 * the file connector turns fields into typed values (codec.ts). NULL in delimited text is an
 * unquoted field equal to `nullFormat` (default `\N`); a quoted field is never NULL, so a value
 * spelled like `nullFormat` is written quoted and reads back as text. In JSON Lines NULL is JSON
 * `null`.
 *
 * Writing takes canonical rows and returns text chunks; the caller encodes (iconv-lite for
 * non-UTF-8 encodings), compresses and uploads them.
 */
import type { Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { parse } from 'csv-parse'
import { stringify } from 'csv-stringify/sync'
import type { Value } from '../../core/types.js'
import { valueToText, type TextCodecOptions } from './codec.js'

/** Resolved options of a delimited text file. */
export interface DelimitedOptions extends TextCodecOptions {
  delimiter: string
  /** '' = no quoting. */
  quote: string
  escape: string
  /** Writer line delimiter; reader: undefined = detect. */
  lineDelimiter?: string
  header: boolean
  skipRows: number
}

/** A batch of records read from a text file: fields (null = NULL) and the line each record ends on (1-based). */
export interface RecordBatch {
  records: Array<Array<string | null>>
  lines: number[]
  /** Text bytes consumed so far (approximate, for progress). */
  bytes: number
}

const RECORDS_PER_BATCH = 2048

/** Read delimited text records (after `skipRows` lines). The header row, when there is one, is the first record. */
export async function* readDelimited(input: Readable, o: DelimitedOptions, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  const nullFormat = o.nullFormat
  const base = {
    delimiter: o.delimiter,
    quote: o.quote === '' ? false : o.quote,
    escape: o.escape === '' ? null : o.escape,
    ...(o.lineDelimiter ? { record_delimiter: o.lineDelimiter } : {}),
    relax_column_count: true,
    skip_empty_lines: true,
  }
  // No per-field cast function: csv-parse builds a context object per field for it (16x slower,
  // measured). A field equal to nullFormat is NULL unless quoted; only a record whose raw text
  // holds the quoted spelling is parsed again, with the cast, to tell which field was quoted.
  const parser = parse({ ...base, from_line: o.skipRows + 1, bom: true, info: true, raw: true })
  const quotedNull = o.quote ? o.quote + nullFormat + o.quote : undefined
  let slow: ((raw: string) => Array<string | null>) | undefined
  const reparse = async (raw: string): Promise<Array<string | null>> => {
    if (!slow) {
      const { parse: parseSync } = await import('csv-parse/sync')
      slow = (text) => (parseSync(text, { ...base, cast: (v: string, c: { quoting: boolean }) => (!c.quoting && v === nullFormat ? null : v) }) as Array<Array<string | null>>)[0] ?? []
    }
    return slow(raw)
  }
  input.on('error', (e) => parser.destroy(e))
  input.pipe(parser)
  const onAbort = () => parser.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'))
  signal?.addEventListener('abort', onAbort, { once: true })
  let records: Array<Array<string | null>> = []
  let lines: number[] = []
  try {
    for await (const r of parser as AsyncIterable<{ record: Array<string | null>; raw: string; info: { lines: number; bytes: number } }>) {
      let rec = r.record
      for (let i = 0; i < rec.length; i++) {
        if (rec[i] !== nullFormat) continue
        if (quotedNull && r.raw.includes(quotedNull)) rec = await reparse(r.raw)
        else for (let k = i; k < rec.length; k++) if (rec[k] === nullFormat) rec[k] = null
        break
      }
      records.push(rec)
      lines.push(r.info.lines)
      if (records.length >= RECORDS_PER_BATCH) {
        yield { records, lines, bytes: r.info.bytes }
        records = []
        lines = []
      }
    }
    if (records.length) yield { records, lines, bytes: parser.info.bytes }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    input.unpipe(parser)
    input.destroy()
  }
}

/** Read JSON Lines: each non-empty line one JSON object; fields by `names` (missing keys are NULL). */
export async function* readJsonLines(input: Readable, names: () => string[] | undefined, onFirst: (keys: string[]) => void, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  const rl = createInterface({ input, crlfDelay: Infinity })
  const onAbort = () => input.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'))
  signal?.addEventListener('abort', onAbort, { once: true })
  let records: Array<Array<string | null>> = []
  let lines: number[] = []
  let line = 0
  let bytes = 0
  let cols: string[] | undefined
  try {
    for await (const text of rl) {
      line++
      bytes += text.length + 1
      if (!text.trim()) continue
      let obj: unknown
      let bad: string | undefined
      try {
        obj = JSON.parse(text)
        if (!obj || typeof obj !== 'object' || Array.isArray(obj)) bad = 'the line is not a JSON object'
      } catch (e) {
        bad = `not JSON: ${(e as Error).message}`
      }
      if (!cols) {
        if (!bad) onFirst(Object.keys(obj as object))
        cols = names() ?? []
      }
      if (bad) {
        records.push(Object.assign(new Array(cols.length).fill(null), { error: bad }) as Array<string | null>)
      } else {
        const o = obj as Record<string, unknown>
        const rec = new Array<string | null>(cols.length)
        let err: string | undefined
        for (let i = 0; i < cols.length; i++) {
          const v = o[cols[i]!]
          if (v === null || v === undefined) rec[i] = null
          else if (typeof v === 'string') rec[i] = v
          else if (typeof v === 'number') {
            if (Number.isInteger(v) && !Number.isSafeInteger(v) && Math.abs(v) < 1e21) err ??= `field ${cols[i]}: the integer ${v} is beyond 2^53 and lost its digits in a JSON number (write it as a string)`
            rec[i] = String(v)
          } else if (typeof v === 'boolean') rec[i] = v ? 'true' : 'false'
          else rec[i] = JSON.stringify(v)
        }
        if (err) (rec as unknown as { error: string }).error = err
        records.push(rec)
      }
      lines.push(line)
      if (records.length >= RECORDS_PER_BATCH) {
        yield { records, lines, bytes }
        records = []
        lines = []
      }
    }
    if (!cols) onFirst([])
    if (records.length) yield { records, lines, bytes }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    rl.close()
    input.destroy()
  }
}

/** The error a reader attached to a record it could not parse (JSON Lines), if any. */
export function recordError(rec: Array<string | null>): string | undefined {
  return (rec as unknown as { error?: string }).error
}

/**
 * Stand-ins for NULL while csv-stringify formats a batch (replaced by the unquoted nullFormat
 * after): the first one sharing no character with the delimiter, quote, escape or record
 * delimiter, so csv-stringify never quotes it (a `\u0001` delimiter quoted the old `\u0000\u0001`
 * stand-in, and NULL came out as `""`, the empty string).
 */
const NULL_SENTINELS = ['\u0000\u0001NULL\u0001\u0000', '\uE000\uE001NULL\uE001\uE000', '\u0000\u0002NULL\u0002\u0000']

function nullSentinel(o: DelimitedOptions): string {
  const used = o.delimiter + o.quote + o.escape + (o.lineDelimiter ?? '\n')
  return NULL_SENTINELS.find((s) => ![...s].some((c) => used.includes(c))) ?? NULL_SENTINELS[0]!
}

/** Formats rows as delimited text with csv-stringify. */
export class DelimitedFormatter {
  private readonly opts: Parameters<typeof stringify>[1]
  private readonly nullMatch: RegExp
  private readonly sentinel: string

  constructor(private readonly o: DelimitedOptions) {
    this.sentinel = nullSentinel(o)
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    this.nullMatch = new RegExp(`^${esc(o.nullFormat)}$`)
    this.opts = {
      delimiter: o.delimiter,
      quote: o.quote === '' ? false : o.quote,
      escape: o.escape || o.quote || '"',
      record_delimiter: o.lineDelimiter ?? '\n',
      quoted_match: o.nullFormat === '' ? [/[\r\n]/] : [/[\r\n]/, this.nullMatch],
      quoted_empty: o.nullFormat === '',
      cast: { boolean: (b: boolean) => (b ? 'true' : 'false') },
    }
  }

  /** The header line. */
  header(names: string[]): string {
    return stringify([names], this.opts)
  }

  /** Rows as text; NULL as the unquoted nullFormat. */
  rows(rows: Value[][]): string {
    let nulls = false
    const recs = new Array<Array<string>>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      const out = new Array<string>(r.length)
      for (let j = 0; j < r.length; j++) {
        const t = valueToText(r[j]!, this.o)
        if (t === null) {
          nulls = true
          out[j] = this.sentinel
        } else out[j] = t
      }
      recs[i] = out
    }
    const text = stringify(recs, this.opts)
    return nulls ? text.replaceAll(this.sentinel, this.o.nullFormat) : text
  }
}

/** Formats rows as JSON Lines: one object per row, keys = column names. */
export class JsonLinesFormatter {
  private readonly keys: string[]
  constructor(
    names: string[],
    private readonly o: TextCodecOptions & { lineDelimiter?: string },
    private readonly exact: boolean[],
  ) {
    this.keys = names.map((n) => JSON.stringify(n) + ':')
  }

  /**
   * Rows as JSON Lines. Integers beyond 2^53 and decimals are JSON strings (a JSON number would
   * lose their digits in most readers); bytes per `bytesFormat`; NaN / Infinity as strings.
   */
  rows(rows: Value[][]): string {
    const nl = this.o.lineDelimiter ?? '\n'
    let s = ''
    for (const r of rows) {
      let line = '{'
      for (let j = 0; j < r.length; j++) {
        const v = r[j]!
        let t: string
        if (v === null) t = 'null'
        else if (typeof v === 'number') t = Number.isFinite(v) ? (this.exact[j] ? JSON.stringify(String(v)) : String(v)) : JSON.stringify(String(v))
        else if (typeof v === 'boolean') t = v ? 'true' : 'false'
        else if (typeof v === 'bigint') t = JSON.stringify(v.toString())
        else if (typeof v === 'string') t = JSON.stringify(v)
        else t = JSON.stringify(valueToText(v, this.o))
        line += (j ? ',' : '') + this.keys[j] + t
      }
      s += line + '}' + nl
    }
    return s
  }
}
