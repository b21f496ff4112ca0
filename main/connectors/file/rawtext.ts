/**
 * Byte loops of the file connector's raw path (main/connectors/raw.ts): PostgreSQL COPY text
 * lines <-> delimited text (CSV / TSV / any one-byte delimiter), without a JS value per field.
 *
 * COPY text (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format"): one row per line
 * ended by LF, fields separated by TAB, NULL spelled `\N`; inside a field a backslash introduces
 * `\b \f \n \r \t \v \\`, `\NNN` (octal) or `\xHH` (hex), and before any other character stands
 * for that character.
 *
 * Delimited text is what the canonical path writes and reads (main/connectors/file/text.ts):
 * csv-stringify with `quoted_match` [CR/LF, the nullFormat] and csv-parse, i.e. RFC 4180
 * (https://www.rfc-editor.org/rfc/rfc4180) quoting with the quote doubled inside a quoted field,
 * NULL as the unquoted nullFormat. Both functions here produce exactly the bytes / values that
 * path would, for the column kinds they are given (see {@link RawFieldOp}); what they cannot
 * prove equal they refuse (a reason string), and the caller takes the canonical path.
 */
import { DelimitedSpeller, spellerOf, type RawDialect } from '../delimited.js'

export { RawFieldOp, type RawDialect } from '../delimited.js'

const BS = 92
const TAB = 9
const LF = 10
const CR = 13

/** COPY text escapes: the byte `\x` stands for, for the letters PostgreSQL uses. */
const UNESCAPE = new Int16Array(256).fill(-1)
for (const [c, v] of [
  ['b', 8],
  ['f', 12],
  ['n', 10],
  ['r', 13],
  ['t', 9],
  ['v', 11],
] as const)
  UNESCAPE[c.charCodeAt(0)] = v

function hexVal(b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  if (b >= 97 && b <= 102) return b - 87
  if (b >= 65 && b <= 70) return b - 55
  return -1
}

/** Output of {@link copyToDelimited}: the text and where each row ends in it. */
export interface DelimitedChunk {
  data: Buffer
  /** `ends[i]` = byte offset just past row i's record delimiter. */
  ends: Int32Array
}

/**
 * Turn `rows` COPY text lines into delimited text records, one per line, byte for byte what the
 * canonical writer (DelimitedFormatter + valueToText) writes for the canonical values the lines
 * stand for: fields unescaped; quoted (the quote doubled inside) when they hold the delimiter, the
 * quote, CR or LF, or equal the nullFormat, or are empty while the nullFormat is empty; NULL as the
 * unquoted nullFormat; per-column kinds per {@link RawFieldOp}.
 * @param ops one {@link RawFieldOp} per column, in line order.
 * @returns the chunk, or a string saying why the batch must take the canonical path (a zero date,
 *   a value of an unexpected spelling).
 * @throws Error when `data` is not `rows` lines of `ops.length` fields (a bug, never data).
 */
export function copyToDelimited(data: Buffer, rows: number, ops: Uint8Array, d: RawDialect): DelimitedChunk | string {
  const ncols = ops.length
  const ends = new Int32Array(rows)
  const sp = spellerOf(d)
  const nl = d.recordDelimiter
  const delim = d.delimiter
  const cls = classes(d)
  let out: Buffer = Buffer.allocUnsafe(Math.max(1024, Math.ceil(data.length * 1.25) + rows * (nl.length + 4)))
  let o = 0
  let p = 0
  const len = data.length
  for (let r = 0; r < rows; r++) {
    const lineEnd = data.indexOf(LF, p)
    if (lineEnd < 0) throw new Error(`COPY text row ${r + 1}: the batch ends inside a row`)
    // Room for the row: every field twice its text plus the speller's room (DelimitedSpeller).
    const need = 2 * (lineEnd - p) + ncols * (d.nullFormat.length + DelimitedSpeller.FIELD_ROOM) + nl.length + 64
    if (o + need > out.length) out = grow(out, o, need)
    for (let c = 0; c < ncols; c++) {
      if (c) out[o++] = delim
      // NULL: exactly `\N`.
      if (data[p] === BS && data[p + 1] === 78) {
        const t = data[p + 2]
        if (t === TAB || t === LF) {
          o = sp.putNull(out, o)
          p += 3
          if ((t === LF) !== (c === ncols - 1)) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
          continue
        }
      }
      const fs = o
      let special = false
      let i = p
      let k = 0
      for (;;) {
        const b = data[i]!
        k = cls[b]!
        if (k === 0) {
          out[o++] = b
          i++
        } else if (k === 4) {
          special = true
          out[o++] = b
          i++
        } else if (k === 3) {
          // A COPY escape.
          const n = data[i + 1]!
          let u = UNESCAPE[n]!
          i += 2
          if (u < 0) {
            if (n >= 48 && n <= 55) {
              u = n - 48
              for (let q = 0; q < 2 && data[i]! >= 48 && data[i]! <= 55; q++) u = u * 8 + (data[i++]! - 48)
              u &= 0xff
            } else if (n === 120 && hexVal(data[i]!) >= 0) {
              u = hexVal(data[i++]!)
              if (hexVal(data[i]!) >= 0) u = u * 16 + hexVal(data[i++]!)
            } else u = n
          }
          if (sp.special[u]) special = true
          out[o++] = u
        } else break
      }
      p = i + 1
      if ((k === 2) !== (c === ncols - 1)) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
      const e = sp.end(out, fs, o, ops[c]!, special)
      if (typeof e === 'string') return e
      o = e
    }
    if (p !== lineEnd + 1) throw new Error(`COPY text row ${r + 1}: the line does not have ${ncols} fields`)
    for (let k = 0; k < nl.length; k++) out[o++] = nl[k]!
    ends[r] = o
  }
  if (p !== len) throw new Error(`COPY text: ${len - p} bytes after ${rows} rows`)
  return { data: out.subarray(0, o), ends }
}

const classCache = new WeakMap<RawDialect, Uint8Array>()

/** Byte classes of the writer loop: 0 copy, 1 TAB (field end), 2 LF (row end), 3 backslash, 4 needs quoting. */
function classes(d: RawDialect): Uint8Array {
  let c = classCache.get(d)
  if (!c) {
    c = new Uint8Array(256)
    c[d.delimiter] = 4
    c[d.quote] = 4
    c[CR] = 4
    c[TAB] = 1
    c[LF] = 2
    c[BS] = 3
    classCache.set(d, c)
  }
  return c
}

function grow(b: Buffer, used: number, need: number): Buffer {
  const n = Buffer.allocUnsafe(Math.max(b.length * 2, used + need + 1024))
  b.copy(n, 0, 0, used)
  return n
}

/**
 * The raw dialect of resolved delimited options (connector.ts delimitedOptions), or a string
 * saying why the raw loops cannot handle them: the delimiter and the quote must be one ASCII
 * character each, different, neither CR nor LF, the escape must be the quote; a writer's line
 * delimiter must be ASCII, a reader's must be left to detection (LF or CRLF, see rawread.ts).
 * @param writer true for the export side.
 */
export function rawDialect(o: { delimiter: string; quote: string; escape: string; lineDelimiter?: string; nullFormat: string; bytesFormat: 'hex' | 'base64' }, writer: boolean): RawDialect | string {
  const ascii = (s: string) => s.length === 1 && s.charCodeAt(0) < 0x80
  if (!ascii(o.delimiter)) return 'the field delimiter is not one ASCII character'
  if (!ascii(o.quote)) return 'the quote is not one ASCII character'
  if (o.escape !== o.quote) return 'the escape character is not the quote'
  const dl = o.delimiter.charCodeAt(0)
  const q = o.quote.charCodeAt(0)
  if (dl === q || dl === CR || dl === LF || q === CR || q === LF) return 'the delimiter or quote is CR, LF or each other'
  const nl = o.lineDelimiter ?? '\n'
  if (writer ? !/^[\x00-\x7f]+$/.test(nl) : nl !== '\n') return 'the line delimiter is not ASCII'
  return { delimiter: dl, quote: q, recordDelimiter: Buffer.from(nl, 'latin1'), nullFormat: Buffer.from(o.nullFormat, 'utf8'), base64: o.bytesFormat === 'base64' }
}
