import { describe, expect, it } from 'vitest'
import type { Row } from '../../main/core/types.js'
import {
  CopyFormatError,
  CopyTextDecoder,
  COPY_CHUNK_BYTES,
  EncodedRows,
  encodeCopyField,
  encodeCopyRow,
  escapeCopyText,
  normalizeTimestamptz,
  numberText,
  quoteIdent,
  quoteLiteral,
  sqlLiteral,
  ValueEncodeError,
  type FieldKind,
} from '../../main/connectors/postgres/copy-text.js'
import { pgTimeZone } from '../../main/connectors/postgres/session.js'
import { copyErrorPosition, isRowError } from '../../main/connectors/postgres/write.js'
import { logicalFromNative, nativeTypeFor } from '../../main/connectors/postgres/types.js'
import { fitIdentifier, indexName, translateDefault } from '../../main/connectors/postgres/ddl.js'

function decodeAll(chunks: Buffer[], kinds: FieldKind[]): Row[] {
  const d = new CopyTextDecoder(kinds)
  const out: Row[] = []
  for (const c of chunks) d.push(c, out)
  d.end()
  return out
}

/** Every way of cutting `buf` into two pieces, plus one-byte pieces. */
function* cuts(buf: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= buf.length; i++) yield [buf.subarray(0, i), buf.subarray(i)]
  yield Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1))
}

describe('COPY text decoder', () => {
  const kinds: FieldKind[] = ['int', 'text', 'bytea', 'bool', 'float', 'timestamptz', 'text']
  // what PostgreSQL sends for these values
  const wire = Buffer.from(
    [
      '-2147483648\t😀 中文 ü\t\\\\x00ff5c0a\tt\tNaN\t2024-01-01 10:00:00.123456+00\t\\N',
      '42\ttab\\there\\nnl\\rcr\\\\bs\t\\\\x\tf\t-Infinity\t2024-01-01 10:00:00+05:30\t',
      '0\t\\b\\f\\v\\101\\7\\x41\\x4\\q\t\\N\t\\N\t1.5e-300\t\\N\tx',
    ].join('\n') + '\n',
    'utf8',
  )
  const expected: Row[] = [
    [-2147483648, '😀 中文 ü', Buffer.from([0x00, 0xff, 0x5c, 0x0a]), true, NaN, '2024-01-01 10:00:00.123456+00:00', null],
    [42, 'tab\there\nnl\rcr\\bs', Buffer.alloc(0), false, -Infinity, '2024-01-01 10:00:00+05:30', ''],
    [0, '\b\f\vA\x07A\x04q', null, null, 1.5e-300, null, 'x'],
  ]

  it('decodes every field kind, escapes and NULL vs empty string', () => {
    expect(decodeAll([wire], kinds)).toEqual(expected)
  })

  it('gives the same rows whatever the chunk boundaries (inside escapes, UTF-8 sequences, rows)', () => {
    let n = 0
    for (const chunks of cuts(wire)) {
      expect(decodeAll(chunks, kinds)).toEqual(expected)
      n++
    }
    expect(n).toBe(wire.length + 2)
  })

  it('splits a 4-byte UTF-8 character and a \\NNN escape across three chunks', () => {
    const buf = Buffer.from('a😀b\\101\n', 'utf8') // 😀 is F0 9F 98 80
    const rows = decodeAll([buf.subarray(0, 3), buf.subarray(3, 8), buf.subarray(8)], ['text'])
    expect(rows).toEqual([['a😀bA']])
  })

  it('reports approximate bytes and counts rows', () => {
    const d = new CopyTextDecoder(['int', 'text'])
    const out: Row[] = []
    expect(d.push(Buffer.from('1\tabc\n2\t\\N\n3\tü'), out)).toBe(8 + 3 + 8 + 1)
    expect(out).toEqual([[1, 'abc'], [2, null]])
    expect(d.push(Buffer.from('\n'), out)).toBe(8 + 2)
    expect(out[2]).toEqual([3, 'ü'])
    expect(d.rowsDecoded).toBe(3)
  })

  it('rejects a wrong field count and a truncated stream', () => {
    expect(() => decodeAll([Buffer.from('1\t2\t3\n')], ['int', 'int'])).toThrow(/more than 2 fields/)
    expect(() => decodeAll([Buffer.from('1\n')], ['int', 'int'])).toThrow(/1 fields, expected 2/)
    expect(() => decodeAll([Buffer.from('1\t2\n3\t')], ['int', 'int'])).toThrow(CopyFormatError)
    expect(() => decodeAll([Buffer.from('1x\n')], ['int'])).toThrow(/not an integer/)
  })

  it('normalizes timestamptz offsets to ±HH:MM and leaves the rest alone', () => {
    expect(normalizeTimestamptz('2024-01-01 10:00:00+00')).toBe('2024-01-01 10:00:00+00:00')
    expect(normalizeTimestamptz('2024-01-01 10:00:00-08')).toBe('2024-01-01 10:00:00-08:00')
    expect(normalizeTimestamptz('2024-01-01 10:00:00+05:30')).toBe('2024-01-01 10:00:00+05:30')
    expect(normalizeTimestamptz('1900-01-01 00:00:00+00:19:32')).toBe('1900-01-01 00:00:00+00:19:32')
    expect(normalizeTimestamptz('infinity')).toBe('infinity')
  })
})

describe('COPY text encoder', () => {
  it('escapes backslash, tab, newline, CR and writes NULL as \\N', () => {
    expect(escapeCopyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re')
    expect(escapeCopyText('plain 😀')).toBe('plain 😀')
    expect(encodeCopyField(null, 'text')).toBe('\\N')
    expect(encodeCopyField('', 'text')).toBe('')
    expect(encodeCopyField('\\N', 'text')).toBe('\\\\N')
  })

  it('refuses NUL in text with SQLSTATE 22021 instead of stripping it', () => {
    expect(() => escapeCopyText('a\0b')).toThrow(ValueEncodeError)
    try {
      encodeCopyRow([1, 'x\0y'], ['num', 'text'])
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ValueEncodeError)
      expect((e as ValueEncodeError).code).toBe('22021')
      expect((e as ValueEncodeError & { columnIndex: number }).columnIndex).toBe(1)
      expect((e as Error).message).toMatch(/NUL character \(U\+0000\) at offset 1/)
    }
  })

  it('spells numbers, booleans, bigints and bytes per target kind', () => {
    expect(numberText(-0)).toBe('-0')
    expect(numberText(NaN)).toBe('NaN')
    expect(numberText(Infinity)).toBe('Infinity')
    expect(numberText(-Infinity)).toBe('-Infinity')
    expect(numberText(0.1)).toBe('0.1')
    expect(encodeCopyField(-9223372036854775808n, 'num')).toBe('-9223372036854775808')
    expect(encodeCopyField(true, 'bool')).toBe('t')
    expect(encodeCopyField(false, 'num')).toBe('0')
    expect(encodeCopyField(true, 'text')).toBe('true')
    expect(encodeCopyField(Buffer.from([0, 0xff, 0x5c]), 'bytea')).toBe('\\\\x00ff5c')
    expect(encodeCopyField('A\\', 'bytea')).toBe('\\\\x415c')
    expect(encodeCopyField(Buffer.from('ü\t', 'utf8'), 'text')).toBe('ü\\t')
    expect(() => encodeCopyField(Buffer.from([0xff]), 'text')).toThrow(/not valid UTF-8/)
    expect(encodeCopyRow([1, null, 'a\tb'], ['num', 'text', 'text'])).toBe('1\t\\N\ta\\tb\n')
  })

  it('round-trips through the decoder', () => {
    const rows: Row[] = [[-5, 'a\\b\tc\n\r😀', Buffer.from([0, 1, 0x5c, 0xff]), true, NaN]]
    const line = Buffer.from(encodeCopyRow(rows[0], ['num', 'text', 'bytea', 'bool', 'num']))
    for (const chunks of cuts(line)) expect(decodeAll(chunks, ['int', 'text', 'bytea', 'bool', 'float'])).toEqual(rows)
  })
})

describe('EncodedRows', () => {
  it('re-sends any subset of rows, across chunk boundaries, byte for byte', () => {
    const lines = Array.from({ length: 8000 }, (_, i) => `${i}\t${'ü'.repeat(i % 300)}😀\n`)
    const enc = new EncodedRows(lines.length)
    lines.forEach((l, i) => enc.add(i, l))
    const all = Array.from(lines.keys())
    const pieces = [...enc.pieces(all)]
    expect(pieces.length).toBeGreaterThan(2)
    expect(pieces.every((p) => p.length <= COPY_CHUNK_BYTES + 2000)).toBe(true)
    expect(Buffer.concat(pieces).toString('utf8')).toBe(lines.join(''))
    const subset = all.filter((i) => i % 7 !== 3 && i !== 4500)
    expect(Buffer.concat([...enc.pieces(subset)]).toString('utf8')).toBe(subset.map((i) => lines[i]).join(''))
    expect([...enc.pieces([])]).toEqual([])
    const part = new EncodedRows(3)
    part.add(0, 'a\n')
    part.add(2, 'c\n')
    expect(Buffer.concat([...part.pieces([0, 2])]).toString()).toBe('a\nc\n')
    expect(() => [...part.pieces([1])]).toThrow(/row 1 was not encoded/)
  })
})

describe('SQL quoting', () => {
  it('quotes literals like quote_literal and identifiers with doubled quotes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'")
    expect(quoteLiteral('a\\b')).toBe("E'a\\\\b'")
    expect(quoteLiteral("\\'")).toBe("E'\\\\'''")
    expect(() => quoteLiteral('\0')).toThrow(/NUL/)
    expect(quoteIdent('Mixed"Case')).toBe('"Mixed""Case"')
    expect(sqlLiteral(-5)).toBe('(-5)')
    expect(sqlLiteral(12n)).toBe('12')
    expect(sqlLiteral(NaN)).toBe("'NaN'::float8")
    expect(sqlLiteral(Buffer.from([1, 2]))).toBe("decode('0102', 'hex')")
    expect(sqlLiteral(true)).toBe('TRUE')
  })
})

describe('session and type helpers', () => {
  it('translates ISO offsets to POSIX time zones (PostgreSQL reads +05:30 as west of UTC)', () => {
    expect(pgTimeZone(undefined)).toBe('UTC')
    expect(pgTimeZone('+00:00')).toBe('UTC')
    expect(pgTimeZone('+05:30')).toBe('<+0530>-05:30')
    expect(pgTimeZone('-03:00')).toBe('<-0300>+03:00')
    expect(pgTimeZone('Asia/Shanghai')).toBe('Asia/Shanghai')
    expect(() => pgTimeZone('UTC -c x=y')).toThrow(/connection.timezone/)
  })

  it('maps native types to logical types', () => {
    const m = (baseNative: string, baseTyptype = 'b') => logicalFromNative({ native: baseNative, baseNative, baseTyptype })
    expect(m('numeric(10,2)')).toEqual({ kind: 'decimal', precision: 10, scale: 2 })
    expect(m('numeric')).toEqual({ kind: 'decimal' })
    expect(m('numeric(5,-2)')).toEqual({ kind: 'decimal', precision: 7, scale: 0 })
    expect(m('timestamp without time zone')).toEqual({ kind: 'datetime', precision: 6 })
    expect(m('timestamp(3) with time zone')).toEqual({ kind: 'timestamptz', precision: 3 })
    expect(m('time(0) without time zone')).toEqual({ kind: 'time', precision: 0 })
    expect(m('time with time zone')).toEqual({ kind: 'other', native: 'time with time zone' })
    expect(m('character(3)')).toEqual({ kind: 'string', length: 3, fixed: true })
    expect(m('character varying')).toEqual({ kind: 'text' })
    expect(m('integer[]')).toEqual({ kind: 'other', native: 'integer[]' })
    expect(logicalFromNative({ native: 'mood', baseNative: 'mood', baseTyptype: 'e', labels: ['a', 'b'] })).toEqual({ kind: 'enum', values: ['a', 'b'] })
  })

  it('chooses native types', () => {
    expect(nativeTypeFor({ kind: 'int', bits: 64, unsigned: true }).sql).toBe('numeric(20,0)')
    expect(nativeTypeFor({ kind: 'int', bits: 32, unsigned: true }).sql).toBe('bigint')
    expect(nativeTypeFor({ kind: 'int', bits: 16, unsigned: true }).sql).toBe('integer')
    expect(nativeTypeFor({ kind: 'int', bits: 8 }).sql).toBe('smallint')
    expect(nativeTypeFor({ kind: 'int', bits: 24 }).sql).toBe('integer')
    expect(nativeTypeFor({ kind: 'decimal', precision: 1001, scale: 2 })).toMatchObject({ sql: 'numeric', warning: expect.any(String) })
    expect(nativeTypeFor({ kind: 'string', length: 4, fixed: true })).toMatchObject({ sql: 'varchar(4)', warning: expect.stringContaining('pads') })
    expect(nativeTypeFor({ kind: 'datetime', precision: 3 }).sql).toBe('timestamp(3)')
    expect(nativeTypeFor({ kind: 'json', binary: true }).sql).toBe('jsonb')
    expect(nativeTypeFor({ kind: 'set', values: ['a'] })).toMatchObject({ sql: 'text', warning: expect.any(String) })
    expect(nativeTypeFor({ kind: 'other', native: 'interval' })).toMatchObject({ sql: 'text', warning: expect.stringContaining('interval') })
  })

  it('names indexes uniquely per schema within 63 bytes', () => {
    expect(indexName('album', 'IFK_AlbumArtistId')).toBe('album_IFK_AlbumArtistId')
    expect(indexName('album', 'album_title_idx')).toBe('album_title_idx')
    const long = fitIdentifier('t'.repeat(40) + '_' + 'i'.repeat(40))
    expect(Buffer.byteLength(long)).toBe(63)
    expect(long).not.toBe(fitIdentifier('t'.repeat(40) + '_' + 'i'.repeat(39) + 'j'))
  })

  it('translates defaults', () => {
    const col = (kind: 'text' | 'bool' | 'datetime' | 'int') => ({ name: 'c', ordinal: 1, nativeType: '', nullable: true, type: kind === 'int' ? { kind, bits: 32 as const } : { kind } }) as never
    expect(translateDefault("'abc'::character varying", col('text'))).toBe("'abc'")
    expect(translateDefault("'it''s'", col('text'))).toBe("'it''s'")
    expect(translateDefault('(-1)', col('int'))).toBe('(-1)')
    expect(translateDefault("b'1'", col('bool'))).toBe('TRUE')
    expect(translateDefault('current_timestamp()', col('datetime'))).toBe('LOCALTIMESTAMP')
    expect(translateDefault("nextval('s'::regclass)", col('int'))).toBeUndefined()
  })

  it('classifies errors and parses COPY positions', () => {
    expect(isRowError({ code: '22001' })).toBe(true)
    expect(isRowError({ code: '23505' })).toBe(true)
    expect(isRowError({ code: '42P01' })).toBe(false)
    expect(isRowError({ code: 'ECONNRESET' })).toBe(false)
    expect(copyErrorPosition('COPY t, line 37, column name: "abcdefg"', ['id', 'name'])).toEqual({ line: 37, column: 'name' })
    expect(copyErrorPosition('COPY t, line 2', ['id'])).toEqual({ line: 2 })
    expect(copyErrorPosition('COPY t, line 3, column a:b: "x"', ['a', 'a:b'])).toEqual({ line: 3, column: 'a:b' })
  })
})
