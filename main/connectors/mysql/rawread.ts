/**
 * The raw read path (see main/connectors/raw.ts): a split streamed from the MySQL text protocol
 * straight into COPY text lines, one pass over the row packets' bytes, no JS value per field.
 *
 * mysql2 parses each row packet into JS values through a generated parser plus the canonical
 * typeCast; this path replaces only the row step of mysql2's Query command (`query.row`, the
 * state the command enters after the column definitions) with {@link RawRowEncoder}, so the
 * connection, authentication, error packets, flow control (`pause`/`resume`) and the end of the
 * result stay mysql2's. A text-protocol row is a sequence of length-encoded strings, NULL being
 * the single byte 0xFB (MySQL "Text Resultset Row"); each value is the server's own text, in the
 * connection character set (utf8mb4) for character columns.
 *
 * Columns whose canonical value is that text (integers, DECIMAL, FLOAT/DOUBLE, DATE, DATETIME,
 * TIME, YEAR, character strings, ENUM/SET, JSON) are copied (character data with COPY escaping);
 * TIMESTAMP gets the session offset appended (fixed-offset sessions only), binary strings and
 * BLOBs are written as bytea hex. A column without such a spelling (BIT, GEOMETRY, TIMESTAMP in
 * an IANA-zone session) makes the read throw {@link RawUnsupported} before the first batch.
 * `decode()` of a batch yields exactly the canonical values makeTypeCast would (BIGINT
 * number-or-string, DATETIME/TIME/TIMESTAMP fraction zeros trimmed, binary data as Buffers).
 *
 * Binary protocol (when the writer takes PostgreSQL's binary COPY, `opts.target`, and every
 * column allows it): the split runs as a prepared
 * statement (COM_STMT_EXECUTE, MySQL "Binary Protocol Resultset Row"), which costs the server
 * about half the CPU of the text protocol (it formats no numbers or dates: 0.67 s instead of
 * 1.2 s of mariadbd CPU for the 1M-row bench table), and {@link RawRowEncoder.binaryRow} writes
 * the same COPY text lines the text protocol would give: integers and DOUBLE in their decimal
 * spelling (a DOUBLE as JS's shortest round-trip text: MariaDB's DOUBLE text is round-trip exact,
 * so `Number()` of either spelling is the same double, which is the canonical value), DATE /
 * DATETIME / TIMESTAMP / TIME digits with the column's own number of fraction digits (zero dates
 * spelled as the server spells them), DECIMAL and character data as the server's text. FLOAT
 * stays on the text protocol: the server's FLOAT text has 6 significant digits, which is the
 * canonical value, while the binary value has all of the float's bits. The SQL is the text
 * protocol's with the parameters inlined by mysql2's `format` (same literals, same comparisons);
 * the statement is closed after the read. `SLUICE_MYSQL_BINARY=0` turns it off (`=1` takes it for
 * every writer). For a writer of
 * text (COPY text, a CSV or Parquet file) the text protocol is used: there the binary values would
 * only be formatted back into text in Node, and measured on the bench table's CSV export (1M rows,
 * 3 alternating rounds) the text protocol took 2.38-2.45 s against 2.55-2.69 s.
 */
import type { Row } from '../../core/types.js'
import { CopyTextDecoder, type FieldKind } from '../postgres/copy-text.js'
import { PG_BINARY_TYPES, PG_EPOCH_DAYS, numericText, putMicros, putNumericAscii, signedTimeText, timestampText, timeText, dateText, type PgBinaryType } from '../pg-binary.js'
import { RawUnsupported, type RawBatch, type RawReadOptions, type RawTarget } from '../raw.js'
import { giveBuffer, takeBuffer } from '../bufpool.js'
import { DelimitedSpeller, spellerOf } from '../delimited.js'
import type { FieldPacketLike } from './read.js'
import type { Session } from './session.js'
import { canonicalBigint, civilFromDays, daysFromCivil, formatOffset, trimFraction } from './values.js'

const BINARY_CHARSET = 63
/** ASCII codes of the lower-case hex digits. */
const HEX = Uint8Array.from(Buffer.from('0123456789abcdef', 'latin1'))

/**
 * How a column is copied: 0 as is (ASCII text that never needs escaping), 1 with COPY escaping,
 * 2 as a bytea hex field (`\\x` + hex digits, what the PostgreSQL encoder writes for a Buffer),
 * 3 as is followed by the session offset (TIMESTAMP).
 */
type CopyClass = 0 | 1 | 2 | 3
/** Post-decode fix of a fallback value: 0 none, 1 BIGINT, 2 DATETIME/TIME fraction, 3 TIMESTAMP fraction before the offset. */
type Fix = 0 | 1 | 2 | 3

interface ColumnPlan {
  copy: CopyClass
  kind: FieldKind
  fix: Fix
}

/** What the column plans depend on besides the field packet. */
export interface RawContext {
  /** The session zone's offset when it is fixed (`+00:00` by default); TIMESTAMP needs one. */
  fixedOffset?: string
}

/**
 * The raw plan of one result column from its definition packet (protocol type codes, MySQL
 * "Column Definition"), or a reason why it has none.
 */
export function rawColumnPlan(f: FieldPacketLike, ctx: RawContext = {}): ColumnPlan | string {
  const t = (f.columnType ?? f.type ?? 254) & 0xff
  switch (t) {
    case 7: // TIMESTAMP: canonical is the session's text plus the session offset
      if (ctx.fixedOffset === undefined) return `column ${f.name} is a TIMESTAMP and the session time zone is not a fixed offset`
      return { copy: 3, kind: 'text', fix: 3 }
    case 245: // JSON (MySQL 8 reports it with the binary charset; its value is text)
      return { copy: 1, kind: 'text', fix: 0 }
    case 1: // TINY
    case 2: // SHORT
    case 3: // LONG
    case 9: // INT24
    case 13: // YEAR
      return { copy: 0, kind: 'int', fix: 0 }
    case 8: // LONGLONG
      return { copy: 0, kind: 'text', fix: 1 }
    case 0: // DECIMAL
    case 246: // NEWDECIMAL
    case 10: // DATE
    case 14: // NEWDATE
      return { copy: 0, kind: 'text', fix: 0 }
    case 4: // FLOAT
    case 5: // DOUBLE
      return { copy: 0, kind: 'float', fix: 0 }
    case 11: // TIME
    case 12: // DATETIME
      return { copy: 0, kind: 'text', fix: 2 }
    case 15: // VARCHAR
    case 253: // VAR_STRING
    case 254: // STRING (CHAR, ENUM, SET)
    case 249: // TINY_BLOB
    case 250: // MEDIUM_BLOB
    case 251: // LONG_BLOB
    case 252: // BLOB
      // Binary strings are Buffers canonically: they travel as bytea hex (the engine takes the raw
      // path for them only into bytea columns, see main/engine/rawpath.ts).
      if (f.characterSet === BINARY_CHARSET) return { copy: 2, kind: 'bytea', fix: 0 }
      return { copy: 1, kind: 'text', fix: 0 }
    default:
      return `column ${f.name} has protocol type ${t}`
  }
}

/**
 * How {@link RawRowEncoder.binaryRow} reads and spells one column of a binary-protocol row:
 * 1 TINY, 2 TINY UNSIGNED, 3 SHORT, 4 SHORT UNSIGNED / YEAR, 5 LONG / INT24, 6 LONG UNSIGNED,
 * 7 LONGLONG, 8 LONGLONG UNSIGNED, 9 DOUBLE, 10 length-encoded ASCII copied as is (DECIMAL),
 * 11 DATE, 12 DATETIME, 13 TIMESTAMP (DATETIME + session offset), 14 TIME, 15 length-encoded
 * character data with COPY escaping, 16 length-encoded binary data as bytea hex.
 */
type BinCode = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 | 16

const UNSIGNED_FLAG = 32

/**
 * The binary-protocol reading of one result column, or why it has none (the split then uses the
 * text protocol). Follows {@link rawColumnPlan}'s classes; see the file comment for FLOAT.
 */
export function binaryColumnCode(f: FieldPacketLike): BinCode | string {
  const t = (f.columnType ?? f.type ?? 254) & 0xff
  const unsigned = (f.flags & UNSIGNED_FLAG) !== 0
  const frac = f.decimals
  switch (t) {
    case 1:
      return unsigned ? 2 : 1
    case 2:
      return unsigned ? 4 : 3
    case 13:
      return 4
    case 3:
    case 9:
      return unsigned ? 6 : 5
    case 8:
      return unsigned ? 8 : 7
    case 5:
      return 9
    case 0:
    case 246:
      return 10
    case 10:
    case 14:
      return 11
    case 12:
    case 7:
    case 11:
      // The text protocol prints exactly `decimals` fraction digits (0..6).
      if (!(frac >= 0 && frac <= 6)) return `column ${f.name} has ${frac} fraction digits`
      return t === 12 ? 12 : t === 7 ? 13 : 14
    case 245:
      return 15
    case 15:
    case 253:
    case 254:
    case 249:
    case 250:
    case 251:
    case 252:
      return f.characterSet === BINARY_CHARSET ? 16 : 15
    default:
      return `column ${f.name} (protocol type ${t}) is read with the text protocol`
  }
}

/** ASCII digits 00..99, two bytes per number, for date and time fields. */
const TWO = Uint8Array.from(Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1'))
/** Scratch for integer digits, written backwards. */
const DIGITS = new Uint8Array(24)

/** Write the decimal digits of a safe integer `n` at `o`; returns the new offset. */
function putInt(out: Buffer, o: number, n: number): number {
  if (n < 0) {
    out[o++] = 45
    n = -n
  }
  if (n < 10) {
    out[o++] = 48 + n
    return o
  }
  let k = 0
  while (n > 0) {
    const q = Math.floor(n / 10)
    DIGITS[k++] = 48 + (n - q * 10)
    n = q
  }
  while (k > 0) out[o++] = DIGITS[--k]!
  return o
}

/** Write `n` (0..9999) as four digits. */
function put4(out: Buffer, o: number, n: number): number {
  const h = Math.floor(n / 100)
  out[o] = TWO[2 * h]!
  out[o + 1] = TWO[2 * h + 1]!
  const l = n - h * 100
  out[o + 2] = TWO[2 * l]!
  out[o + 3] = TWO[2 * l + 1]!
  return o + 4
}

/** Write `n` (0..99) as two digits. */
function put2(out: Buffer, o: number, n: number): number {
  out[o] = TWO[2 * n]!
  out[o + 1] = TWO[2 * n + 1]!
  return o + 2
}

/** Write `.` and the first `frac` digits of `us` (0..999999) when `frac` > 0. */
function putFrac(out: Buffer, o: number, us: number, frac: number): number {
  if (frac === 0) return o
  out[o++] = 46
  let d = 100000
  for (let i = 0; i < frac; i++) {
    const q = Math.floor(us / d)
    out[o++] = 48 + q
    us -= q * d
    d /= 10
  }
  return o
}

/** Where the value after the last {@link lenenc} starts. */
let afterLen = 0

/**
 * The length-encoded integer at `src[p]` (MySQL "Length-Encoded Integer": one byte below 0xfb,
 * else 0xfc + 2 bytes, 0xfd + 3 bytes, 0xfe + 8 bytes); the next position goes to {@link afterLen}.
 * The text protocol's NULL (0xfb) is checked by the caller first.
 */
function lenenc(src: Buffer, p: number): number {
  let len = src[p++]!
  if (len >= 0xfb) {
    if (len === 0xfc) {
      len = src[p]! | (src[p + 1]! << 8)
      p += 2
    } else if (len === 0xfd) {
      len = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16)
      p += 3
    } else {
      len = src.readUInt32LE(p) + src.readUInt32LE(p + 4) * 0x100000000
      p += 8
    }
  }
  afterLen = p
  return len
}

/**
 * Write the bytes `src[p, e)` as one COPY text field at `o` (see main/connectors/raw.ts): `how` 2
 * as a bytea hex field (`\\x` + hex digits), 1 as character data with COPY escaping (backslash,
 * TAB, LF, CR), 0 as they are. Returns the new offset.
 */
function putCopyText(src: Buffer, p: number, e: number, out: Buffer, o: number, how: number): number {
  if (how === 2) {
    out[o++] = 92
    out[o++] = 92
    out[o++] = 120
    return putHex(src, p, e, out, o)
  }
  if (how === 1) {
    // Find the first byte that needs an escape; most values have none and are copied whole.
    let q = p
    while (q < e) {
      const x = src[q]!
      if (x === 92 || (x < 14 && (x === 9 || x === 10 || x === 13))) break
      q++
    }
    if (q < e) {
      while (p < e) {
        const x = src[p++]!
        if (x === 92) (out[o++] = 92), (out[o++] = 92)
        else if (x === 9) (out[o++] = 92), (out[o++] = 116)
        else if (x === 10) (out[o++] = 92), (out[o++] = 110)
        else if (x === 13) (out[o++] = 92), (out[o++] = 114)
        else out[o++] = x
      }
      return o
    }
  }
  const len = e - p
  if (len < 32) while (p < e) out[o++] = src[p++]!
  else {
    src.copy(out, o, p, e)
    o += len
  }
  return o
}

/** The bytes `src[p, e)` as lower-case hex digits at `o`; returns the new offset. */
function putHex(src: Buffer, p: number, e: number, out: Buffer, o: number): number {
  while (p < e) {
    const x = src[p++]!
    out[o++] = HEX[x >> 4]!
    out[o++] = HEX[x & 15]!
  }
  return o
}

/** SWAR masks keeping the high bit of the first n bytes of a little-endian word (n = 1..3). */
const TAIL_MASK = Int32Array.from([0, 0x80, 0x8080, 0x808080])

/**
 * 1 when a byte of `v[p, e)` is one of the four bytes repeated in `k1`..`k4`, else 0; reads whole
 * words, so `e + 3` must be within the view. SWAR: a word has a byte equal to b iff
 * haszero(word ^ b * 0x01010101), haszero(x) = (x - 0x01010101) & ~x & 0x80808080 (Bit
 * Twiddling Hacks, "Determine if a word has a byte equal to n"). Borrows only run towards the
 * later (more significant, little-endian) bytes, so masking off the bytes past `e` keeps the
 * answer exact.
 */
function swarHas(v: DataView, p: number, e: number, k1: number, k2: number, k3: number, k4: number): number {
  for (let x = p; x < e; x += 4) {
    const w = v.getInt32(x, true)
    const a = w ^ k1
    const b = w ^ k2
    const c = w ^ k3
    const d = w ^ k4
    let h = (((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b) | ((c - 0x01010101) & ~c) | ((d - 0x01010101) & ~d)) & 0x80808080
    if (e - x < 4) h &= TAIL_MASK[e - x]!
    if (h !== 0) return 1
  }
  return 0
}

/** Where the value after the last {@link putFixedAsText} ends. */
let afterValue = 0
/** Scratch for an integer's digits (a numeric field is encoded from them). */
const SCRATCH = Buffer.alloc(32)

const EMPTY = Buffer.alloc(0)

/**
 * The integer of binary code 1-8 at `src[p]` (little-endian, signed or not by code), or NaN for a
 * LONGLONG beyond ±2^53, which a double cannot hold exactly.
 */
function readBinaryInt(src: Buffer, p: number, code: number): number {
  switch (code) {
    case 1:
      return (src[p]! << 24) >> 24
    case 2:
      return src[p]!
    case 3:
      return ((src[p]! | (src[p + 1]! << 8)) << 16) >> 16
    case 4:
      return src[p]! | (src[p + 1]! << 8)
    case 5:
      return src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)
    case 6:
      return (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0
  }
  const lo = (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0
  const hiU = (src[p + 4]! | (src[p + 5]! << 8) | (src[p + 6]! << 16) | (src[p + 7]! << 24)) >>> 0
  const hi = code === 7 ? hiU | 0 : hiU
  return hi >= -0x200000 && hi < 0x200000 ? hi * 0x100000000 + lo : NaN
}

/**
 * Write the fixed-size binary value of `code` (integers 1-8, DOUBLE 9, DATE/DATETIME/TIMESTAMP
 * 11-13, TIME 14) at `src[p]` as the text protocol spells it, at `out[o]`: integers and DOUBLE in
 * decimal (a DOUBLE as JS's shortest round-trip text), dates and times with `frac` fraction digits,
 * zero dates as the server spells them, TIMESTAMP followed by `suffix` (the session offset).
 * Returns the new offset; the value's end goes to {@link afterValue}.
 */
function putFixedAsText(src: Buffer, p: number, code: BinCode, frac: number, suffix: Buffer, out: Buffer, o: number): number {
  if (code <= 8) {
    const size = code <= 2 ? 1 : code <= 4 ? 2 : code <= 6 ? 4 : 8
    const v = readBinaryInt(src, p, code)
    if (v === v) o = putInt(out, o, v)
    else o += out.write((code === 7 ? src.readBigInt64LE(p) : src.readBigUInt64LE(p)).toString(), o, 'latin1')
    afterValue = p + size
    return o
  }
  if (code === 9) {
    afterValue = p + 8
    return o + out.write(String(src.readDoubleLE(p)), o, 'latin1')
  }
  const len = src[p++]!
  afterValue = p + len
  if (code === 14) {
    if (len && src[p]) out[o++] = 45
    const hours = len ? src.readUInt32LE(p + 1) * 24 + src[p + 5]! : 0
    o = hours < 100 ? put2(out, o, hours) : putInt(out, o, hours)
    out[o++] = 58
    o = put2(out, o, len ? src[p + 6]! : 0)
    out[o++] = 58
    o = put2(out, o, len ? src[p + 7]! : 0)
    return putFrac(out, o, len >= 12 ? src.readUInt32LE(p + 8) : 0, frac)
  }
  o = put4(out, o, len ? src[p]! | (src[p + 1]! << 8) : 0)
  out[o++] = 45
  o = put2(out, o, len ? src[p + 2]! : 0)
  out[o++] = 45
  o = put2(out, o, len ? src[p + 3]! : 0)
  if (code === 11) return o
  out[o++] = 32
  o = put2(out, o, len >= 7 ? src[p + 4]! : 0)
  out[o++] = 58
  o = put2(out, o, len >= 7 ? src[p + 5]! : 0)
  out[o++] = 58
  o = put2(out, o, len >= 7 ? src[p + 6]! : 0)
  o = putFrac(out, o, len >= 11 ? src.readUInt32LE(p + 7) : 0, frac)
  return code === 13 ? o + suffix.copy(out, o) : o
}

/** mysql2's Packet, as far as the row step reads it. */
interface PacketLike {
  buffer: Buffer
  offset: number
  end: number
  isEOF(): boolean
}

/**
 * Turns text-protocol row packets into COPY text lines in large Buffers, cutting a batch when it
 * reaches `batchBytes`.
 */
export class RawRowEncoder {
  private buf: Buffer
  private pos = 0
  /**
   * Where the batch being filled is cut: the first batch of a read is small (64 KiB) so the writer
   * starts at once instead of waiting for a whole batch, and each next one doubles up to
   * `batchBytes`, so the read and the write overlap from the first milliseconds of a split.
   */
  private limit: number
  private rows = 0
  private readonly copy: Uint8Array

  private readonly suffix: Buffer
  /** Binary protocol: per column {@link BinCode} and fraction digits. */
  private readonly bin?: Uint8Array
  private readonly frac?: Uint8Array
  /** PostgreSQL binary COPY output: per column {@link PgOp}. */
  private readonly pg?: Uint8Array
  /** Whether rows go through {@link pgRow} (binary COPY) rather than COPY text. */
  get pgOutput(): boolean {
    return this.pg !== undefined
  }
  /** The batch being filled holds a value the binary format refused (RawBatch.refused). */
  private refused = false
  /** Delimited output ({@link delimitedRow}): the dialect's speller and each column's field op. */
  private readonly dl?: { sp: DelimitedSpeller; ops: Uint8Array; scan: Uint8Array; hexRoom: number; k1: number; k2: number; k3: number; k4: number }
  /** Record ends of the delimited batch being filled. */
  private ends = new Int32Array(0)
  /** DataViews of the output buffer and of the last packet's buffer (word copies). */
  private outBuf?: Buffer
  private outView?: DataView
  private srcBuf?: Buffer
  private srcView?: DataView
  /**
   * The batch being filled is COPY text although the output is delimited: a value had no
   * delimited spelling (a zero date...), so this batch goes to the writer as COPY text, whose
   * own loop refuses it too and takes the canonical path for it. Reset at each batch.
   */
  private textBatch = false

  /**
   * @param plans the text protocol's plans (they also drive `decode()` of a batch)
   * @param binary for binary-protocol rows ({@link binaryRow}): each column's code and its
   *   field's `decimals`; with `pg`, rows are written by {@link pgRow} as binary COPY tuples
   * @param delimited for text-protocol rows written as delimited text records ({@link delimitedRow}):
   *   the `delimited` RawTarget's speller and one field op per column
   */
  constructor(
    private readonly plans: ColumnPlan[],
    private readonly batchBytes: number,
    private readonly onBatch: (b: RawBatch) => void,
    private readonly ctx: RawContext = {},
    binary?: { codes: BinCode[]; decimals: number[]; pg?: PgOp[] },
    delimited?: { speller: DelimitedSpeller; ops: Uint8Array },
  ) {
    this.copy = Uint8Array.from(plans.map((p) => p.copy))
    this.limit = Math.min(batchBytes, 64 << 10)
    this.suffix = Buffer.from(ctx.fixedOffset ?? '', 'latin1')
    // Taken from the thread's pool at the first row (grow): a split of 50 rows never holds 4 MiB.
    this.buf = EMPTY
    if (binary) {
      this.bin = Uint8Array.from(binary.codes)
      this.frac = Uint8Array.from(binary.decimals)
      if (binary.pg) this.pg = Uint8Array.from(binary.pg)
    } else if (delimited) {
      const sp = delimited.speller
      // Which fields are scanned for bytes that force quoting: all but the ASCII number and date
      // texts (copy class 0), which hold none unless the delimiter or quote is such a character.
      const scan = Uint8Array.from(plans.map((p) => (p.copy === 0 && !sp.fixedMayNeedQuote ? 0 : 1)))
      // Binary columns are written as `\x` + hex (twice the bytes), which quoting may double again.
      const hexRoom = plans.some((p) => p.copy === 2) ? 2 : 0
      // The four bytes that force quoting, each repeated in a 32-bit word (SWAR scan).
      const rep = (b: number) => (b * 0x01010101) | 0
      this.dl = { sp, ops: delimited.ops, scan, hexRoom, k1: rep(sp.delimiter), k2: rep(sp.dialect.quote), k3: rep(13), k4: rep(10) }
    }
  }

  /**
   * Encode one binary-protocol row packet as a PostgreSQL binary COPY tuple (main/connectors/
   * pg-binary.ts) in the target types the reader was given ({@link pgOp}). A value the target
   * type cannot hold the way its text spelling would land (see {@link PgOp}) is written as a
   * refusal marker (int32 -2, int32 length, the text-protocol spelling) and the batch is marked
   * refused, so it is never sent and its rows take the canonical path.
   */
  pgRow(packet: PacketLike): void {
    const src = packet.buffer
    const end = packet.end
    const codes = this.bin!
    const ops = this.pg!
    const fracs = this.frac!
    const n = codes.length
    const nullAt = packet.offset + 1
    let p = nullAt + ((n + 9) >> 3)
    const need = 2 + 2 * (end - p) + 72 * n
    if (this.pos + need > this.buf.length) this.grow(need)
    const out = this.buf
    let o = this.pos
    out[o++] = n >> 8
    out[o++] = n & 255
    for (let c = 0; c < n; c++) {
      const bit = c + 2
      if (src[nullAt + (bit >> 3)]! & (1 << (bit & 7))) {
        out[o++] = 255
        out[o++] = 255
        out[o++] = 255
        out[o++] = 255
        continue
      }
      const code = codes[c]!
      const op = ops[c]!
      // Integers (codes 1-8) by value.
      if (code <= 8) {
        const size = code <= 2 ? 1 : code <= 4 ? 2 : code <= 6 ? 4 : 8
        if (size === 8 && op === PG_INT8 && (code === 7 || src[p + 7]! < 128)) {
          // Same two's complement bytes, reversed.
          o = putSwapped8(out, o, src, p)
          p += 8
          continue
        }
        const v = readBinaryInt(src, p, code)
        if (op === PG_INT4 && v >= -2147483648 && v <= 2147483647) {
          out[o] = 0
          out[o + 1] = 0
          out[o + 2] = 0
          out[o + 3] = 4
          out[o + 4] = (v >>> 24) & 255
          out[o + 5] = (v >>> 16) & 255
          out[o + 6] = (v >>> 8) & 255
          out[o + 7] = v & 255
          o += 8
        } else if (op === PG_INT2 && v >= -32768 && v <= 32767) {
          out[o] = 0
          out[o + 1] = 0
          out[o + 2] = 0
          out[o + 3] = 2
          out[o + 4] = (v >>> 8) & 255
          out[o + 5] = v & 255
          o += 6
        } else if (op === PG_INT8 && v === v) {
          out[o] = 0
          out[o + 1] = 0
          out[o + 2] = 0
          out[o + 3] = 8
          const hi = Math.floor(v / 0x100000000)
          putI32(out, o + 4, hi)
          putI32(out, o + 8, v - hi * 0x100000000)
          o += 12
        } else if (op === PG_BOOL && (v === 0 || v === 1)) {
          out[o] = 0
          out[o + 1] = 0
          out[o + 2] = 0
          out[o + 3] = 1
          out[o + 4] = v
          o += 5
        } else if (op === PG_NUMERIC) {
          // The integer's digits (as the text protocol spells them) in the scratch, then numeric.
          const k = putFixedAsText(src, p, code as BinCode, 0, this.suffix, SCRATCH, 0)
          o = putNumericAscii(SCRATCH, 0, k, out, o)
        } else o = this.refuse(out, o, src, p, code as BinCode, fracs[c]!)
        p += size
        continue
      }
      switch (code) {
        case 9: // DOUBLE -> float8: the same IEEE bits, big-endian
          o = putSwapped8(out, o, src, p)
          p += 8
          continue
        case 11:
        case 12: {
          const len = src[p]!
          const y = len ? src[p + 1]! | (src[p + 2]! << 8) : 0
          const m = len ? src[p + 3]! : 0
          const d = len ? src[p + 4]! : 0
          const h = len >= 7 ? src[p + 5]! : 0
          const mi = len >= 7 ? src[p + 6]! : 0
          const se = len >= 7 ? src[p + 7]! : 0
          const us = len >= 11 ? src.readUInt32LE(p + 8) : 0
          // PostgreSQL has no year 0, zero months or days; MySQL can hold them (and invalid days
          // with ALLOW_INVALID_DATES): the text path would be refused for them, so is this.
          if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) || h > 23 || mi > 59 || se > 59 || us > 999999) {
            o = this.refuse(out, o, src, p, code as BinCode, fracs[c]!)
          } else {
            const days = daysFromCivil(y, m, d) - PG_EPOCH_DAYS
            out[o] = 0
            out[o + 1] = 0
            out[o + 2] = 0
            if (code === 11) {
              out[o + 3] = 4
              putI32(out, o + 4, days)
              o += 8
            } else {
              out[o + 3] = 8
              putMicros(out, o + 4, days * 86400 + h * 3600 + mi * 60 + se, us)
              o += 12
            }
          }
          p += 1 + len
          continue
        }
        case 14: {
          const len = src[p]!
          const neg = len ? src[p + 1]! : 0
          const hours = len ? src.readUInt32LE(p + 2) * 24 + src[p + 6]! : 0
          const mi = len ? src[p + 7]! : 0
          const se = len ? src[p + 8]! : 0
          const us = len >= 12 ? src.readUInt32LE(p + 9) : 0
          if (op === PG_INTERVAL) {
            // interval: int64 microseconds (signed, hours past 24 kept), int32 days 0, int32 months 0,
            // as PostgreSQL reads the TIME's text '-838:59:59'.
            out[o] = 0
            out[o + 1] = 0
            out[o + 2] = 0
            out[o + 3] = 16
            const micros = BigInt(hours * 3600 + mi * 60 + se) * 1_000_000n + BigInt(us)
            out.writeBigInt64BE(neg ? -micros : micros, o + 4)
            out.writeInt32BE(0, o + 12)
            out.writeInt32BE(0, o + 16)
            o += 20
          }
          // PostgreSQL's time runs 00:00:00 .. 24:00:00; a negative or longer TIME is refused.
          else if ((neg && (hours || mi || se || us)) || hours > 24 || (hours === 24 && (mi || se || us))) o = this.refuse(out, o, src, p, code as BinCode, fracs[c]!)
          else {
            out[o] = 0
            out[o + 1] = 0
            out[o + 2] = 0
            out[o + 3] = 8
            putMicros(out, o + 4, hours * 3600 + mi * 60 + se, us)
            o += 12
          }
          p += 1 + len
          continue
        }
      }
      // Length-encoded values: DECIMAL (10), character data (15), binary data (16).
      const len = lenenc(src, p)
      p = afterLen
      const e = p + len
      if (e > end) throw new Error(`mysql raw read: row packet ends inside column ${c + 1}`)
      if (code === 10) {
        const no = putNumericAscii(src, p, e, out, o)
        if (no < 0) throw new Error(`mysql raw read: column ${c + 1}: DECIMAL text ${JSON.stringify(src.toString('latin1', p, e))} is not a number`)
        o = no
        p = e
        continue
      }
      const jsonb = op === PG_JSONB
      putI32(out, o, jsonb ? len + 1 : len)
      o += 4
      if (jsonb) out[o++] = 1
      if (len < 32) while (p < e) out[o++] = src[p++]!
      else {
        src.copy(out, o, p, e)
        o += len
        p = e
      }
    }
    if (p > end) throw new Error('mysql raw read: binary row packet shorter than its columns')
    this.pos = o
    this.rows++
    if (o >= this.limit) this.flush()
  }

  /**
   * Write a refusal marker for the fixed-size value at `src[p]` (see {@link pgRow}): int32 -2, the
   * length, then the text-protocol spelling. Returns the new offset.
   */
  private refuse(out: Buffer, o: number, src: Buffer, p: number, code: BinCode, frac: number): number {
    this.refused = true
    const k = putFixedAsText(src, p, code, frac, this.suffix, out, o + 8)
    putI32(out, o, -2)
    putI32(out, o + 4, k - o - 8)
    return k
  }

  /**
   * Encode one binary-protocol row packet (MySQL "Binary Protocol Resultset Row": a 0x00 header,
   * a NULL bitmap with a 2-bit offset, then the non-NULL values) as the COPY text line
   * {@link row} would write for the same row in the text protocol.
   * @throws Error when the packet is shorter than its columns say (a protocol bug, never data).
   */
  binaryRow(packet: PacketLike): void {
    const src = packet.buffer
    const end = packet.end
    const codes = this.bin!
    const fracs = this.frac!
    const n = codes.length
    const nullAt = packet.offset + 1
    let p = nullAt + ((n + 9) >> 3)
    // Worst case per column: 20 digits of an integer, 26 of a TIME, 2x the bytes escaped or hex.
    const need = 2 * (end - p) + (40 + this.suffix.length) * n + 1
    if (this.pos + need > this.buf.length) this.grow(need)
    const out = this.buf
    let o = this.pos
    for (let c = 0; c < n; c++) {
      if (c > 0) out[o++] = 9
      const bit = c + 2
      if (src[nullAt + (bit >> 3)]! & (1 << (bit & 7))) {
        out[o++] = 92
        out[o++] = 78
        continue
      }
      const code = codes[c]!
      if (code !== 10 && code < 15) {
        o = putFixedAsText(src, p, code as BinCode, fracs[c]!, this.suffix, out, o)
        p = afterValue
        continue
      }
      // Length-encoded values (10, 15, 16).
      const len = lenenc(src, p)
      p = afterLen
      const e = p + len
      if (e > end) throw new Error(`mysql raw read: row packet ends inside column ${c + 1}`)
      o = putCopyText(src, p, e, out, o, code === 16 ? 2 : code === 15 ? 1 : 0)
      p = e
    }
    if (p > end) throw new Error('mysql raw read: binary row packet shorter than its columns')
    out[o++] = 10
    this.pos = o
    this.rows++
    if (o >= this.limit) this.flush()
  }

  /**
   * Encode one text-protocol row packet as a delimited text record (see {@link RawTarget}
   * `delimited`): each field's text as the COPY text line of {@link row} would hold it unescaped
   * (binary strings as `\x` + hex, TIMESTAMP with the session offset), then finished by the
   * speller as the file writer's copyToDelimited finishes that unescaped field, so the bytes are
   * the same. A value without a delimited spelling (DelimitedSpeller.end refuses it) ends the
   * batch before its row, and the rest of that batch is COPY text (see {@link textBatch}).
   */
  private delimitedRow(packet: PacketLike): void {
    const src = packet.buffer
    let p = packet.offset
    const end = packet.end
    const n = this.copy.length
    const { sp, ops, scan, hexRoom, k1, k2, k3, k4 } = this.dl!
    const special = sp.special
    const delim = sp.delimiter
    const nl = sp.recordDelimiter
    // Room: every field twice its text (four times for hex), plus the speller's room and an offset.
    const need = (2 + 2 * hexRoom) * (end - p) + n * (sp.nullFormat.length + DelimitedSpeller.FIELD_ROOM + this.suffix.length) + nl.length + 1
    if (this.pos + need > this.buf.length) this.grow(need)
    if (this.rows >= this.ends.length) {
      const e = new Int32Array(Math.max(1024, this.ends.length * 2))
      e.set(this.ends)
      this.ends = e
    }
    const out = this.buf
    if (this.outBuf !== out) {
      this.outBuf = out
      this.outView = new DataView(out.buffer, out.byteOffset, out.byteLength)
    }
    const ov = this.outView!
    if (this.srcBuf !== src) {
      this.srcBuf = src
      this.srcView = new DataView(src.buffer, src.byteOffset, src.byteLength)
    }
    const sv = this.srcView!
    const srcEnd = src.length
    const copy = this.copy
    const start = this.pos
    let o = start
    for (let c = 0; c < n; c++) {
      if (c > 0) out[o++] = delim
      let len = src[p]!
      if (len < 0xfb) p++
      else if (len === 0xfb) {
        p++
        o = sp.putNull(out, o)
        continue
      } else {
        len = lenenc(src, p)
        p = afterLen
      }
      const e = p + len
      if (e > end) throw new Error(`mysql raw read: row packet ends inside column ${c + 1}`)
      const fs = o
      const k = copy[c]!
      let sc = 0
      if (k === 2) {
        out[o++] = 92
        out[o++] = 120
        o = putHex(src, p, e, out, o)
        p = e
        for (let x = fs; x < o; x++) sc |= special[out[x]!]!
      } else if (len < 64 && e + 3 <= srcEnd) {
        // Whole 4-byte words (DataView, a few times faster than a byte loop); the up to 3 bytes
        // past the field land in room the next field overwrites.
        if (scan[c]) sc = swarHas(sv, p, e, k1, k2, k3, k4)
        for (let w = o; p < e; p += 4, w += 4) ov.setUint32(w, sv.getUint32(p, true), true)
        o += len
        p = e
      } else if (len < 64) {
        while (p < e) {
          const x = src[p++]!
          sc |= special[x]!
          out[o++] = x
        }
      } else {
        src.copy(out, o, p, e)
        if (scan[c]) {
          if (e + 3 <= srcEnd) sc = swarHas(sv, p, e, k1, k2, k3, k4)
          else for (let x = p; x < e; x++) sc |= special[src[x]!]!
        }
        o += len
        p = e
      }
      if (k === 3) {
        o += this.suffix.copy(out, o)
        if (scan[c]) for (let x = o - this.suffix.length; x < o; x++) sc |= special[out[x]!]!
      }
      const op = ops[c]!
      const r = sp.end(out, fs, o, op, sc !== 0)
      if (typeof r === 'string') {
        // No delimited spelling: the rows so far go out, this one starts a COPY text batch.
        this.pos = start
        if (this.rows) this.flush()
        this.textBatch = true
        this.row(packet)
        return
      }
      o = r
    }
    for (let k = 0; k < nl.length; k++) out[o++] = nl[k]!
    this.ends[this.rows++] = o
    this.pos = o
    if (o >= this.limit) this.flush()
  }

  /** Encode one row packet (not the end-of-result packet). */
  row(packet: PacketLike): void {
    if (this.dl && !this.textBatch) return this.delimitedRow(packet)
    const src = packet.buffer
    let p = packet.offset
    const end = packet.end
    const n = this.copy.length
    // Worst case: every byte as hex or escaped, plus per column `\\x`, `\N` or an offset and a
    // separator, and the newline.
    const need = 2 * (end - p) + (4 + this.suffix.length) * n + 1
    if (this.pos + need > this.buf.length) this.grow(need)
    const out = this.buf
    let o = this.pos
    for (let c = 0; c < n; c++) {
      if (c > 0) out[o++] = 9
      if (src[p] === 0xfb) {
        p++
        out[o++] = 92
        out[o++] = 78
        continue
      }
      const len = lenenc(src, p)
      p = afterLen
      const e = p + len
      if (e > end) throw new Error(`mysql raw read: row packet ends inside column ${c + 1}`)
      const k = this.copy[c]!
      // TIMESTAMP (3): the text as is, then the session offset.
      o = putCopyText(src, p, e, out, o, k === 3 ? 0 : k)
      if (k === 3) o += this.suffix.copy(out, o)
      p = e
    }
    out[o++] = 10
    this.pos = o
    this.rows++
    if (o >= this.limit) this.flush()
  }

  /** Hand over the rows encoded so far as a batch (nothing when there are none). */
  flush(): void {
    if (!this.rows) return
    const whole = this.buf
    const data = whole.subarray(0, this.pos)
    const rows = this.rows
    const plans = this.plans
    let released = false
    const release = () => {
      if (released) return
      released = true
      giveBuffer(whole)
    }
    const pg = this.pg
    if (pg) {
      const codes = this.bin!
      const refused = this.refused
      this.refused = false
      this.onBatch({ format: 'pgbinary', ...(refused ? { refused } : {}), data, rows, approxBytes: data.length, via: 'MySQL binary protocol, PostgreSQL binary COPY', decode: () => decodePgBinary(data, rows, plans, codes, pg), release })
    } else if (this.dl && !this.textBatch) {
      const ends = this.ends.subarray(0, rows)
      this.ends = new Int32Array(this.ends.length)
      const decode = (): never => {
        throw new Error('mysql raw read: a delimited batch has no decoding (its writer takes it whole)')
      }
      this.onBatch({ format: 'delimited', data, rows, ends, approxBytes: data.length, via: 'MySQL text protocol, delimited text', decode, release })
    } else this.onBatch({ data, rows, approxBytes: data.length, via: this.bin ? 'MySQL binary protocol' : 'MySQL text protocol', decode: () => decodeRaw(data, plans, this.ctx), release })
    this.textBatch = false
    this.buf = EMPTY
    this.pos = 0
    this.rows = 0
    this.limit = Math.min(this.batchBytes, this.limit * 2)
  }

  private grow(need: number): void {
    // With rows, the buffer goes out with them; without, it is ours and too small for this row.
    if (this.rows) this.flush()
    else giveBuffer(this.buf)
    this.buf = takeBuffer(Math.max(this.batchBytes, need) + (64 << 10))
    this.pos = 0
  }
}

/**
 * How {@link RawRowEncoder.pgRow} writes a column into a PostgreSQL binary COPY field: the target
 * type's index in PG_BINARY_TYPES (int2 0, int4 1, int8 2, float8 3, numeric 4, bool 5, text 6,
 * jsonb 7, date 8, timestamp 9, time 10, bytea 11, interval 12). Pairs (MySQL binary code -> target):
 * integers -> int2/int4/int8/numeric/bool (a value out of the target's range, or a bool other
 * than 0/1, is refused: text input would refuse it too); DOUBLE -> float8; DECIMAL -> numeric;
 * DATE -> date and DATETIME -> timestamp (zero or invalid dates refused); TIME -> time (negative
 * or past 24:00:00 refused) or interval (the whole ±838:59:59); character data -> text/varchar/char/json/enum (text) or jsonb;
 * binary data -> bytea. Any other pair keeps the split on COPY text.
 */
type PgOp = number
const PG_INT2 = 0
const PG_INT4 = 1
const PG_INT8 = 2
const PG_NUMERIC = 4
const PG_BOOL = 5
const PG_JSONB = 7
const PG_INTERVAL = 12
const PG_OPS = Object.fromEntries(PG_BINARY_TYPES.map((t, i) => [t, i])) as Record<PgBinaryType, number>

/** The {@link PgOp} of a (MySQL binary code, target type) pair, or undefined. */
export function pgOp(code: BinCode, t: PgBinaryType): PgOp | undefined {
  if (code <= 8) return t === 'int2' || t === 'int4' || t === 'int8' || t === 'numeric' || t === 'bool' ? PG_OPS[t] : undefined
  switch (code) {
    case 9:
      return t === 'float8' ? PG_OPS[t] : undefined
    case 10:
      return t === 'numeric' ? PG_OPS[t] : undefined
    case 11:
      return t === 'date' ? PG_OPS[t] : undefined
    case 12:
      return t === 'timestamp' ? PG_OPS[t] : undefined
    case 14:
      return t === 'time' || t === 'interval' ? PG_OPS[t] : undefined
    case 15:
      return t === 'text' || t === 'jsonb' ? PG_OPS[t] : undefined
    case 16:
      return t === 'bytea' ? PG_OPS[t] : undefined
    default:
      return undefined
  }
}

/** Per-column ops for a target format, when every column has one (else COPY text). */
function pgOps(codes: BinCode[], target: RawTarget | undefined): PgOp[] | undefined {
  if (!target || target.format !== 'pgbinary' || target.types.length !== codes.length || process.env.SLUICE_PG_BINARY === '0') return undefined
  const ops: PgOp[] = []
  for (let i = 0; i < codes.length; i++) {
    const op = pgOp(codes[i]!, target.types[i]!)
    if (op === undefined) return undefined
    ops.push(op)
  }
  return ops
}

/** An 8-byte binary field (length 8, then `src[p, p + 8)` reversed: little- to big-endian) at `o`. */
function putSwapped8(out: Buffer, o: number, src: Buffer, p: number): number {
  out[o] = 0
  out[o + 1] = 0
  out[o + 2] = 0
  out[o + 3] = 8
  for (let k = 0; k < 8; k++) out[o + 4 + k] = src[p + 7 - k]!
  return o + 12
}

/** Big-endian int32 (signed or unsigned 32-bit value) at `o`. */
function putI32(out: Buffer, o: number, v: number): void {
  out[o] = (v >>> 24) & 255
  out[o + 1] = (v >>> 16) & 255
  out[o + 2] = (v >>> 8) & 255
  out[o + 3] = v & 255
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
/** Days in month `m` (1-12) of year `y` (proleptic Gregorian). */
function daysIn(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[m - 1]!
}

/**
 * Canonical rows of a binary COPY batch written by {@link RawRowEncoder.pgRow}: for every value,
 * what makeTypeCast gives for the source column (BIGINT number-or-string, DECIMAL its exact
 * text, dates and times as text with fraction zeros trimmed, character data as strings, binary
 * data as Buffers); refused values from their text spelling, as {@link decodeRaw} would.
 */
function decodePgBinary(data: Buffer, count: number, plans: ColumnPlan[], codes: Uint8Array, ops: Uint8Array): Row[] {
  const rows: Row[] = []
  let p = 0
  for (let r = 0; r < count; r++) {
    const n = data.readInt16BE(p)
    p += 2
    if (n !== codes.length) throw new Error(`binary COPY decode: tuple ${r + 1} has ${n} fields, expected ${codes.length}`)
    const row: Row = new Array(n)
    for (let c = 0; c < n; c++) {
      const len = data.readInt32BE(p)
      p += 4
      if (len === -1) {
        row[c] = null
        continue
      }
      const plan = plans[c]!
      if (len === -2) {
        const tl = data.readInt32BE(p)
        const text = data.toString('utf8', p + 4, p + 4 + tl)
        p += 4 + tl
        const v = plan.kind === 'int' || plan.kind === 'float' ? Number(text) : text
        row[c] = typeof v === 'string' ? fixValue(v, plan.fix) : v
        continue
      }
      const code = codes[c]!
      const op = ops[c]!
      let v: Row[number]
      if (code <= 8) {
        let s: string
        if (op === PG_INT2) s = String(data.readInt16BE(p))
        else if (op === PG_INT4) s = String(data.readInt32BE(p))
        else if (op === PG_INT8) s = data.readBigInt64BE(p).toString()
        else if (op === PG_BOOL) s = String(data[p])
        else s = numericText(data, p, len)
        v = code >= 7 ? canonicalBigint(s) : Number(s)
      } else if (code === 9) v = data.readDoubleBE(p)
      else if (code === 10) v = numericText(data, p, len)
      else if (code === 11) v = dateText(data.readInt32BE(p) + PG_EPOCH_DAYS, civilFromDays)
      else if (code === 12) v = timestampText(data.readBigInt64BE(p), civilFromDays)
      else if (code === 14) v = op === PG_INTERVAL ? signedTimeText(data.readBigInt64BE(p)) : timeText(Number(data.readBigInt64BE(p)))
      else if (code === 16) v = Buffer.from(data.subarray(p, p + len))
      else v = op === PG_JSONB ? data.toString('utf8', p + 1, p + len) : data.toString('utf8', p, p + len)
      p += len
      row[c] = v
    }
    rows.push(row)
  }
  return rows
}

/** The post-decode fix of a text value (see {@link Fix}). */
function fixValue(v: string, fix: Fix): Row[number] {
  return fix === 1 ? canonicalBigint(v) : fix === 2 ? trimFraction(v) : v
}

/** Canonical rows of a raw batch (the values mysql2 + makeTypeCast give for the same columns). */
function decodeRaw(data: Buffer, plans: ColumnPlan[], ctx: RawContext): Row[] {
  const suffix = ctx.fixedOffset ?? ''
  const rows: Row[] = []
  const dec = new CopyTextDecoder(plans.map((p) => p.kind))
  dec.push(data, rows)
  dec.end()
  for (let c = 0; c < plans.length; c++) {
    const fix = plans[c]!.fix
    if (fix === 0) continue
    for (const r of rows) {
      const v = r[c]
      if (typeof v !== 'string') continue
      r[c] = fix === 1 ? canonicalBigint(v) : fix === 2 ? trimFraction(v) : trimFraction(v.slice(0, v.length - suffix.length)) + suffix
    }
  }
  return rows
}

/**
 * Finished batches a raw read keeps ahead of its consumer before it pauses the server: two, so a
 * writer that stalls for a batch (a WAL flush, a relation extension) finds the next one ready
 * while the server keeps sending (measured on the bench table: 1 and 3 were no better).
 */
const READ_AHEAD = 2

/**
 * Stream `sql` as raw batches (see the file comment). Memory: the server is paused (`pause()`,
 * TCP back-pressure) while {@link READ_AHEAD} finished batches wait for the consumer, so at most
 * the batch being written, the one the channel read ahead, those waiting and one filling are held. Abort or an early end kills
 * the statement (`KILL QUERY`) and destroys the connection.
 * @throws RawUnsupported before the first batch when a column has no raw spelling.
 */
export async function* streamReadRaw(session: Session, sql: string, params: unknown[], opts: RawReadOptions = {}): AsyncGenerator<RawBatch> {
  const ctx: RawContext = session.zone.fixed !== undefined ? { fixedOffset: formatOffset(session.zone.fixed) } : {}
  const batchBytes = opts.batchBytes ?? 4 * 1024 * 1024
  const signal = opts.signal
  signal?.throwIfAborted()
  const conn = await session.acquire()
  const ready: RawBatch[] = []
  let failure: Error | undefined
  let ended = false
  let paused = false
  let done = false
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  let encoder: RawRowEncoder | undefined
  let last = Date.now()
  const onBatch = (b: RawBatch) => {
    last = Date.now()
    ready.push(b)
    if (!paused && ready.length >= READ_AHEAD) {
      paused = true
      conn.pause()
    }
    notify()
  }
  // Binary protocol when the prepared statement's columns all have a binary reading (see the
  // file comment); the SQL is the text protocol's with the parameters inlined.
  let binary = false
  let execSql = sql
  const binaryMode = process.env.SLUICE_MYSQL_BINARY
  if (binaryMode !== '0' && (opts.target?.format === 'pgbinary' || binaryMode === '1')) {
    try {
      execSql = conn.format(sql, params as never)
      const cols = await new Promise<FieldPacketLike[] | undefined>((res) =>
        conn.prepare(execSql, (err, stmt) => res(err ? undefined : ((stmt as unknown as { columns?: FieldPacketLike[] }).columns ?? undefined))),
      )
      binary = !!cols?.length && cols.every((c) => typeof binaryColumnCode(c) === 'number')
      if (cols && !binary) conn.unprepare(execSql)
    } catch {
      binary = false
    }
  }
  type Cmd = {
    row: (packet: PacketLike, connection: unknown) => unknown
    execute: (packet: PacketLike & { isError(): boolean }, connection: unknown) => boolean
    next?: unknown
    on(ev: string, fn: (...a: never[]) => void): void
  }
  const query = (binary ? conn.execute({ sql: execSql }) : conn.query({ sql, values: params })) as unknown as Cmd
  const protoRow = Object.getPrototypeOf(query).row as (packet: PacketLike, connection: unknown) => unknown
  query.on('fields', (fields: FieldPacketLike[]) => {
    const plans: ColumnPlan[] = []
    const codes: BinCode[] = []
    for (const f of fields) {
      const p = rawColumnPlan(f, ctx)
      const code = binary ? binaryColumnCode(f) : 1
      if (typeof p === 'string' || typeof code === 'string') {
        failure ??= new RawUnsupported(`mysql raw read: ${typeof p === 'string' ? p : code}`)
        notify()
        return
      }
      plans.push(p)
      codes.push(code)
    }
    const pg = binary ? pgOps(codes, opts.target) : undefined
    const t = opts.target
    const delimited = !binary && t?.format === 'delimited' && t.ops.length === plans.length && process.env.SLUICE_DIRECT_DELIMITED !== '0' ? { speller: spellerOf(t.dialect), ops: t.ops } : undefined
    encoder = new RawRowEncoder(plans, batchBytes, onBatch, ctx, binary ? { codes, decimals: fields.map((f) => f.decimals), ...(pg ? { pg } : {}) } : undefined, delimited)
  })
  if (binary) {
    // mysql2's Execute moves between states through prototype references, so its row step is
    // taken over at the command's packet entry instead: rows go to the encoder, everything else
    // (end of rows, errors) to mysql2.
    const exec = query.execute
    query.execute = function (this: Cmd, packet, connection) {
      if (this.next === protoRow && packet && !packet.isError() && !packet.isEOF()) {
        if (encoder && !failure) {
          try {
            if (encoder.pgOutput) encoder.pgRow(packet)
            else encoder.binaryRow(packet)
          } catch (e) {
            failure = e as Error
            notify()
          }
        }
        return false
      }
      return exec.call(this, packet, connection)
    }
  } else {
    query.row = function (this: Cmd, packet: PacketLike, connection: unknown) {
      if (packet.isEOF()) return protoRow.call(this, packet, connection)
      if (encoder && !failure) {
        try {
          encoder.row(packet)
        } catch (e) {
          failure = e as Error
          notify()
        }
      }
      return this.row
    }
  }
  query.on('error', (e: Error) => {
    failure ??= e
    notify()
  })
  query.on('end', () => {
    if (!failure) encoder?.flush()
    ended = true
    notify()
  })
  const onAbort = () => {
    failure = signal?.reason instanceof Error ? signal.reason : new Error('read aborted')
    notify()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  // A killed connection whose socket stays open would stall this read until the split timeout.
  const unwatch = session.watchRead(conn.threadId, () => last, (e) => {
    failure ??= e
    notify()
  })
  // A connection lost mid-read (server gone, SSH tunnel dropped) is reported by mysql2 on the
  // connection only, not on an event-style query: without this the read would wait forever.
  const onLost = (e?: Error): void => {
    failure ??= e ?? Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' })
    notify()
  }
  const onEnd = (): void => onLost()
  conn.on('error', onLost)
  conn.on('end', onEnd)
  try {
    for (;;) {
      if (failure) throw failure
      const b = ready.shift()
      if (b) {
        if (paused && ready.length < READ_AHEAD) {
          paused = false
          conn.resume()
        }
        yield b
        continue
      }
      if (ended) break
      await new Promise<void>((r) => (wake = r))
    }
    done = true
  } finally {
    unwatch()
    signal?.removeEventListener('abort', onAbort)
    conn.removeListener('error', onLost)
    conn.removeListener('end', onEnd)
    if (done) {
      if (binary) conn.unprepare(execSql)
      conn.release()
    }
    else {
      const threadId = conn.threadId
      conn.destroy()
      await session.killQuery(threadId)
    }
  }
}
