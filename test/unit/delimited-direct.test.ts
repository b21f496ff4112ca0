/**
 * The MySQL raw reader's direct delimited output (mysql/rawread.ts RawRowEncoder with a
 * `delimited` target) against the two-step path it replaces (COPY text lines, then the file
 * writer's copyToDelimited): the same bytes for the same row packets, in several dialects, with
 * values chosen to hit every branch: bytes that force quoting at every offset of a word (the SWAR
 * scan), fields of 0-300 bytes (the word copy, the long copy, 3-byte length prefixes), packets at
 * the very end of their buffer, NULLs, the nullFormat's look-alikes, binary strings, TIMESTAMP
 * with the session offset, ZEROFILL integers, DOUBLE texts that need re-spelling; and a zero date
 * in the middle of a batch, which sends that batch's rest as COPY text (the canonical path).
 */
import { describe, expect, it } from 'vitest'
import { RawRowEncoder, rawColumnPlan } from '../../main/connectors/mysql/rawread.js'
import { spellerOf, type RawDialect } from '../../main/connectors/delimited.js'
import { copyToDelimited, rawDialect, RawFieldOp } from '../../main/connectors/file/rawtext.js'
import type { RawBatch } from '../../main/connectors/raw.js'

/** Result columns: protocol type, charset (63 = binary), the file's op. */
const COLS: Array<[type: number, charset: number, op: number]> = [
  [8, 45, RawFieldOp.INT], // BIGINT
  [3, 45, RawFieldOp.INT], // INT (ZEROFILL spellings too)
  [253, 45, RawFieldOp.TEXT], // VARCHAR
  [252, 45, RawFieldOp.TEXT], // TEXT (long values)
  [246, 45, RawFieldOp.TEXT], // DECIMAL
  [12, 45, RawFieldOp.DATETIME], // DATETIME(6)
  [10, 45, RawFieldOp.DATE], // DATE
  [5, 45, RawFieldOp.FLOAT], // DOUBLE
  [252, 63, RawFieldOp.BYTES], // BLOB
  [7, 45, RawFieldOp.TIMESTAMPTZ], // TIMESTAMP
  [11, 45, RawFieldOp.TIME], // TIME
]
const OFFSET = '+05:30'

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PIECES = ['a', 'b', ',', '"', "'", '|', '\t', '\r', '\n', '\\', '\u0001', ' ', 'N', '\\N', 'ü', '中', '😀', 'NULL', '0', ':', '-']

function textValue(r: () => number, max: number): string {
  const n = Math.floor(r() * r() * max)
  let s = ''
  // Mostly plain letters, so that a special byte lands at every offset of a word.
  while (s.length < n) s += r() < 0.9 ? String.fromCharCode(97 + Math.floor(r() * 26)) : PIECES[Math.floor(r() * PIECES.length)]!
  return s
}

/** One row's server texts (undefined = NULL), as the text protocol sends them. */
function rowValues(r: () => number, i: number): Array<Buffer | undefined> {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  const v: Array<string | Buffer | undefined> = [
    pick([String(i), '-9223372036854775808', '18446744073709551615', '0', '-1', '123456789012345', '1234567890123456']),
    pick(['7', '0000000042', '-12', '0', '2147483647']),
    r() < 0.05 ? undefined : pick([textValue(r, 40), '', '\\N', 'NULL', 'a,b', '"q"']),
    r() < 0.05 ? undefined : textValue(r, 320),
    pick(['0.00', '-1234567890123456789012345678.0123456789', '12.50']),
    r() < 0.1 ? undefined : pick(['2024-02-29 23:59:59.999999', '1000-01-01 00:00:00.000000', '2000-01-01 00:00:00.500000', '2024-01-02 03:04:05']),
    r() < 0.1 ? undefined : pick(['0001-01-01', '9999-12-31', '2000-01-01']),
    r() < 0.1 ? undefined : pick(['0.1', '-1.7976931348623157e308', '1e-300', '1e21', '5e-7', '0.000001', '123456789012345680000', '0.30000000000000004', '-0', '1.5', '100', '2.5e-8', '0.333333333']),
    r() < 0.2 ? undefined : Buffer.from(Array.from({ length: Math.floor(r() * 90) }, () => Math.floor(r() * 256))),
    r() < 0.1 ? undefined : pick([`2024-01-02 03:04:05.120000${OFFSET}`, `2038-01-19 03:14:07${OFFSET}`, `1970-01-01 00:00:01.000000${OFFSET}`].map((s) => s.slice(0, -OFFSET.length))),
    r() < 0.1 ? undefined : pick(['838:59:59.000', '-01:02:03.500', '00:00:00.100', '12:00:00']),
  ]
  return v.map((x) => (x === undefined ? undefined : Buffer.isBuffer(x) ? x : Buffer.from(x, 'utf8')))
}

/** A text-protocol row packet's payload: length-encoded strings, NULL as 0xfb. */
function packet(values: Array<Buffer | undefined>): Buffer {
  const parts: Buffer[] = []
  for (const v of values) {
    if (!v) parts.push(Buffer.of(0xfb))
    else if (v.length < 251) parts.push(Buffer.of(v.length), v)
    else parts.push(Buffer.of(0xfc, v.length & 0xff, v.length >> 8), v)
  }
  return Buffer.concat(parts)
}

type Pkt = { buffer: Buffer; offset: number; end: number; isEOF(): boolean }

/** Packets of `rows`: every third in a buffer of its own (it ends at its last byte), the rest in one shared buffer. */
function packets(rows: Array<Array<Buffer | undefined>>): Pkt[] {
  const bodies = rows.map(packet)
  const shared = Buffer.concat(bodies.map((b) => Buffer.concat([Buffer.of(1, 2, 3, 4), b])))
  const out: Pkt[] = []
  let at = 0
  bodies.forEach((b, i) => {
    at += 4
    out.push(i % 3 === 0 ? { buffer: Buffer.from(b), offset: 0, end: b.length, isEOF: () => false } : { buffer: shared, offset: at, end: at + b.length, isEOF: () => false })
    at += b.length
  })
  return out
}

const plans = COLS.map(([type, cs], i) => {
  const p = rawColumnPlan({ name: `c${i}`, columnType: type, characterSet: cs, decimals: 0 } as never, { fixedOffset: OFFSET })
  if (typeof p === 'string') throw new Error(p)
  return p
})
const ops = Uint8Array.from(COLS.map((c) => c[2]))

/** Encode `pk` with the encoder in one mode; the batches it handed over. */
function encode(pk: Pkt[], delimited: RawDialect | undefined, batchBytes = 65_536): RawBatch[] {
  const out: RawBatch[] = []
  const enc = new RawRowEncoder(plans, batchBytes, (b) => out.push({ ...b, data: Buffer.from(b.data) }), { fixedOffset: OFFSET }, undefined, delimited ? { speller: spellerOf(delimited), ops } : undefined)
  for (const p of pk) enc.row(p as never)
  enc.flush()
  return out
}

/** The two-step reference: COPY text batches, each through copyToDelimited. */
function reference(pk: Pkt[], d: RawDialect): Buffer {
  const parts: Buffer[] = []
  for (const b of encode(pk, undefined)) {
    const c = copyToDelimited(b.data, b.rows, ops, d)
    if (typeof c === 'string') throw new Error(c)
    parts.push(c.data)
  }
  return Buffer.concat(parts)
}

const DIALECTS: Array<[string, Parameters<typeof rawDialect>[0]]> = [
  ['csv', { delimiter: ',', quote: '"', escape: '"', nullFormat: '\\N', bytesFormat: 'hex' }],
  ['tsv, base64, CRLF', { delimiter: '\t', quote: '"', escape: '"', nullFormat: '\\N', bytesFormat: 'base64', lineDelimiter: '\r\n' }],
  ['\\001, empty nullFormat', { delimiter: '\u0001', quote: '"', escape: '"', nullFormat: '', bytesFormat: 'hex' }],
  ["'|' and quote ', nullFormat NULL", { delimiter: '|', quote: "'", escape: "'", nullFormat: 'NULL', bytesFormat: 'hex' }],
  // Re-spelled numbers and dates can hold these: every field is scanned.
  ["':' and quote '-', nullFormat 0", { delimiter: ':', quote: '-', escape: '-', nullFormat: '0', bytesFormat: 'hex' }],
]

describe('MySQL raw reader, direct delimited output', () => {
  const r = rng(20261206)
  const rows = Array.from({ length: 1500 }, (_, i) => rowValues(r, i + 1))
  const pk = packets(rows)

  for (const [name, o] of DIALECTS) {
    it(`${name}: the same bytes as COPY text + copyToDelimited, record ends included`, () => {
      const d = rawDialect(o, true)
      if (typeof d === 'string') throw new Error(d)
      const ref = reference(pk, d)
      const got = encode(pk, d)
      expect(got.every((b) => b.format === 'delimited')).toBe(true)
      expect(got.length).toBeGreaterThan(2)
      expect(got.reduce((n, b) => n + b.rows, 0)).toBe(rows.length)
      const all = Buffer.concat(got.map((b) => b.data))
      if (!all.equals(ref)) {
        // Name the first differing record.
        const refRecs = copyToDelimited(Buffer.concat(encode(pk, undefined).map((b) => b.data)), rows.length, ops, d)
        const ends = typeof refRecs === 'string' ? [] : [...refRecs.ends]
        const at = ends.findIndex((e) => !all.subarray(0, e).equals(ref.subarray(0, e)))
        expect(all.subarray(at ? ends[at - 1] : 0, ends[at]).toString('latin1')).toBe(ref.subarray(at ? ends[at - 1] : 0, ends[at]).toString('latin1'))
      }
      expect(all.equals(ref)).toBe(true)
      // Each batch's record ends cut it exactly at its records.
      for (const b of got) {
        expect(b.ends!.length).toBe(b.rows)
        expect(b.ends![b.rows - 1]).toBe(b.data.length)
        expect(() => b.decode()).toThrow(/no decoding/)
      }
    })
  }

  it('a zero date mid-batch: the rows before go out delimited, the rest of that batch as COPY text, the next batch delimited again', () => {
    const d = rawDialect(DIALECTS[0]![1], true) as RawDialect
    const zr = rows.slice(0, 400).map((v) => [...v])
    zr[150]![6] = Buffer.from('2024-00-15')
    const zp = packets(zr)
    const got = encode(zp, d)
    const kinds = got.map((b) => b.format ?? 'text')
    const textAt = kinds.indexOf('text')
    expect(textAt).toBeGreaterThan(0)
    expect(kinds.filter((k) => k === 'text')).toHaveLength(1)
    expect(kinds.slice(textAt + 1).every((k) => k === 'delimited')).toBe(true)
    const before = got.slice(0, textAt).reduce((n, b) => n + b.rows, 0)
    expect(before).toBe(150)
    // The COPY text batch starts at the zero date's row and is refused by the writer's loop too.
    const tb = got[textAt]!
    expect(tb.data.toString('utf8').split('\n')[0]).toContain('2024-00-15')
    expect(copyToDelimited(tb.data, tb.rows, ops, d)).toMatch(/zero date/)
    expect(tb.decode()).toHaveLength(tb.rows)
    // Every other row is spelled as the two-step path spells it.
    const ok = zp.filter((_, i) => i < 150 || i >= 150 + tb.rows)
    expect(Buffer.concat(got.filter((b) => b !== tb).map((b) => b.data)).equals(reference(ok, d))).toBe(true)
  })
})
