/**
 * File formats without a server: exact decimal, date and timestamp conversions of the Parquet
 * layer, the text codec, delimiter escapes, declared types, zstd frames (ours, and the zstd
 * command's when installed), and a Parquet round trip of values a JS number cannot hold.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { parseFileType, textToValue, unescapeDelimiter, valueToText } from '../../main/connectors/file/codec.js'
import { compressor, decompressor, loadSnappy, zstdFrameExtent } from '../../main/connectors/file/compress.js'
import { expandBraces } from '../../main/connectors/file/glob.js'
import { dateFromDays, daysFromDate, decimalText, microsFromText, openParquet, ParquetPartWriter, ROW_GROUP_BYTES, scanCopyText, textFromMicros, textFromMicrosBig, unscaled } from '../../main/connectors/file/parquet.js'
import { LocalStore } from '../../main/connectors/stores/local.js'
import type { LogicalType, Value } from '../../main/core/types.js'

const dir = mkdtempSync(path.join(tmpdir(), 'sluice-formats-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function through(t: import('node:stream').Transform, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = []
  t.on('data', (c: Buffer) => out.push(c))
  const done = new Promise<void>((resolve, reject) => {
    t.on('end', resolve)
    t.on('error', reject)
  })
  for (let off = 0; off < input.length; off += 1 << 20) t.write(input.subarray(off, off + (1 << 20)))
  t.end()
  await done
  return Buffer.concat(out)
}

describe('exact conversions', () => {
  it('decimals never pass through a JS number', () => {
    expect(unscaled('-1234567890123456789012345678.0123456789', 10)).toBe(-12345678901234567890123456780123456789n)
    expect(decimalText(-12345678901234567890123456780123456789n, 10)).toBe('-1234567890123456789012345678.0123456789')
    expect(unscaled('0.0000000001', 10)).toBe(1n)
    expect(decimalText(1n, 10)).toBe('0.0000000001')
    expect(unscaled('12.5', 2)).toBe(1250n)
    expect(unscaled('1.5e3', 0)).toBe(1500n)
    expect(unscaled('18446744073709551615', 0)).toBe(18446744073709551615n)
    expect(() => unscaled('0.123', 2)).toThrow(/more than 2 fraction digits/)
    expect(() => unscaled('abc', 2)).toThrow(/not a decimal/)
  })
  it('dates and timestamps over the whole range, without the process time zone', () => {
    expect(daysFromDate('1970-01-01')).toBe(0)
    expect(dateFromDays(daysFromDate('0001-01-01'))).toBe('0001-01-01')
    expect(dateFromDays(daysFromDate('9999-12-31'))).toBe('9999-12-31')
    expect(dateFromDays(daysFromDate('2024-02-29'))).toBe('2024-02-29')
    expect(textFromMicros(microsFromText('2024-02-29 23:59:59.999999'), false)).toBe('2024-02-29 23:59:59.999999')
    expect(textFromMicros(microsFromText('1000-01-01 00:00:00'), false)).toBe('1000-01-01 00:00:00')
    expect(textFromMicros(microsFromText('1969-12-31 23:59:59.5'), false)).toBe('1969-12-31 23:59:59.5')
    expect(textFromMicros(microsFromText('2026-12-05 08:00:00+05:30'), true)).toBe('2026-12-05 02:30:00+00:00')
    expect(textFromMicros(1_000_000_001n, true, 9)).toBe('1970-01-01 00:00:01.000000001+00:00')
  })
})

describe('text codec', () => {
  const o = { nullFormat: '\\N', bytesFormat: 'hex' as const }
  it('spells values as text and reads them back by type', () => {
    expect(valueToText(Buffer.from([0, 255]), o)).toBe('00ff')
    expect(valueToText(Buffer.from([0, 255]), { ...o, bytesFormat: 'base64' })).toBe('AP8=')
    expect(valueToText(-0, o)).toBe('-0')
    expect(valueToText(null, o)).toBeNull()
    expect(textToValue('9007199254740993', { kind: 'int', bits: 64 }, o)).toBe('9007199254740993')
    expect(textToValue('42', { kind: 'int', bits: 32 }, o)).toBe(42)
    expect(textToValue('true', { kind: 'int', bits: 8 }, o)).toBe(1)
    expect(textToValue('+1.50', { kind: 'decimal', precision: 5, scale: 2 }, o)).toBe('1.50')
    expect(textToValue('\\x00ff', { kind: 'bytes' }, o)).toEqual(Buffer.from([0, 255]))
    expect(textToValue('AP8=', { kind: 'bytes' }, { ...o, bytesFormat: 'base64' })).toEqual(Buffer.from([0, 255]))
    expect(textToValue('2026-12-05T01:02:03.500000', { kind: 'datetime' }, o)).toBe('2026-12-05 01:02:03.5')
    expect(textToValue('05/12/2026 01:02:03', { kind: 'datetime' }, o, 'dd/MM/yyyy HH:mm:ss')).toBe('2026-12-05 01:02:03')
    expect(textToValue('20261205', { kind: 'date' }, o, 'yyyyMMdd')).toBe('2026-12-05')
    expect(Number.isNaN(textToValue('NaN', { kind: 'float', bits: 64 }, o))).toBe(true)
    expect(() => textToValue('12x', { kind: 'int', bits: 32 }, o)).toThrow(/not an integer/)
    expect(() => textToValue('zz', { kind: 'bytes' }, o)).toThrow(/not hex/)
    expect(() => textToValue('2026-13', { kind: 'date' }, o)).toThrow(/not a date/)
  })
  it('refuses a double a double cannot hold instead of reading it as Infinity or 0; keeps subnormals and signed zero', () => {
    const o = { nullFormat: '\\N', bytesFormat: 'hex' as const }
    const f = (s: string) => textToValue(s, { kind: 'float', bits: 64 }, o)
    expect(() => f('1e400')).toThrow(/out of range/)
    expect(() => f('-1.8e308')).toThrow(/out of range/)
    expect(() => f('4.9e-325')).toThrow(/too small/)
    expect(f('5e-324')).toBe(5e-324)
    expect(f('0e-400')).toBe(0)
    expect(Object.is(f('-0.0'), -0)).toBe(true)
    expect(f('Infinity')).toBe(Infinity)
  })

  it('understands delimiter escapes, declared types and brace alternatives', () => {
    expect(unescapeDelimiter('\\001')).toBe('\u0001')
    expect(unescapeDelimiter('\\u0001')).toBe('\u0001')
    expect(unescapeDelimiter('\\t')).toBe('\t')
    expect(unescapeDelimiter('|')).toBe('|')
    expect(parseFileType('long')).toEqual({ kind: 'int', bits: 64 })
    expect(parseFileType('decimal(38,10)')).toEqual({ kind: 'decimal', precision: 38, scale: 10 })
    expect(parseFileType('bigint unsigned')).toEqual({ kind: 'int', bits: 64, unsigned: true })
    expect(parseFileType(undefined)).toEqual({ kind: 'text' })
    expect(() => parseFileType('blorb')).toThrow(/unknown column type 'blorb'/)
    expect(expandBraces('in/{a,b}/x-{1,2}.csv')).toEqual(['in/a/x-1.csv', 'in/a/x-2.csv', 'in/b/x-1.csv', 'in/b/x-2.csv'])
  })
})

describe('compression', () => {
  const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 40)}\n`).join(''))
  it('zstd: several frames written, every frame read back', async () => {
    const z = await through(await compressor('zstd'), big)
    let frames = 0
    for (let off = 0; off < z.length; frames++) off = zstdFrameExtent(z, off)!.end
    expect(frames).toBeGreaterThan(1)
    expect((await through(await decompressor('zstd'), z)).equals(big)).toBe(true)
  })
  it('native Snappy (Parquet pages): its blocks are the ones the JavaScript codecs read and write', async () => {
    const sn = await loadSnappy()
    // The platform binary is an optional dependency; where it is absent, the JS codec is used.
    if (!sn) return expect(process.env.CI).not.toBe('true')
    const { snappyUncompress } = await import('hyparquet')
    const { snappyCompress } = (await import('hyparquet-writer/src/snappy.js' as string)) as { snappyCompress: (b: Uint8Array) => Uint8Array }
    for (const input of [big.subarray(0, 1 << 20), Buffer.alloc(0), Buffer.from([0]), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 0xff))]) {
      const native = sn.compress(input)
      const back = new Uint8Array(input.length)
      snappyUncompress(native, back)
      expect(Buffer.from(back).equals(input)).toBe(true)
      expect(Buffer.from(sn.uncompress(snappyCompress(input))).equals(input)).toBe(true)
    }
    expect(() => sn.uncompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]))).toThrow()
  })
  it('gzip round trip', async () => {
    expect((await through(await decompressor('gzip'), await through(await compressor('gzip'), big))).equals(big)).toBe(true)
  })
  it.skipIf(spawnSync('bash', ['-c', 'command -v zstd']).status !== 0)('zstd: reads what the zstd command wrote (from a pipe: no content size)', async () => {
    const f = path.join(dir, 'cli.zst')
    writeFileSync(f, execFileSync('zstd', ['-q', '-c', '-'], { input: big }))
    expect((await through(await decompressor('zstd'), readFileSync(f))).equals(big)).toBe(true)
  })
})

describe('Parquet', () => {
  it('writes and reads back DECIMAL(38,10), INT64 and UINT64 extremes, timestamps, dates and bytes exactly', async () => {
    const names = ['d', 'i', 'u', 'ts', 'tz', 'day', 'b', 'j', 't']
    const types: LogicalType[] = [
      { kind: 'decimal', precision: 38, scale: 10 },
      { kind: 'int', bits: 64 },
      { kind: 'int', bits: 64, unsigned: true },
      { kind: 'datetime', precision: 6 },
      { kind: 'timestamptz', precision: 6 },
      { kind: 'date' },
      { kind: 'bytes' },
      { kind: 'json' },
      { kind: 'time', precision: 6 },
    ]
    const rows = [
      ['99999999999999999999999999.9999999999', '-9223372036854775808', '18446744073709551615', '0001-01-01 00:00:00', '2038-01-19 03:14:07.499999+00:00', '9999-12-31', Buffer.from([0, 1, 255]), '{"a": 1.0}', '838:59:59'],
      ['-0.0000000001', '9223372036854775807', '0', '2024-02-29 23:59:59.999999', '1970-01-01 00:00:00+00:00', '1970-01-01', Buffer.alloc(0), '[]', '-01:00:00.5'],
      [null, null, null, null, null, null, null, null, null],
    ]
    const file = path.join(dir, 't.parquet')
    const out = createWriteStream(file)
    const w = new ParquetPartWriter(names, types, out, { codec: 'zstd', rowGroupRows: 2 })
    expect(await w.add([['1.23456789012', 0, 0, '2020-01-01 00:00:00', '2020-01-01 00:00:00+00:00', '2020-01-01', null, null, null]])).toEqual([{ index: 0, column: 'd', reason: "column d: '1.23456789012' has more than 10 fraction digits (it would be rounded)" }])
    expect(await w.add(rows)).toEqual([])
    await w.finish()
    out.end()
    await new Promise<void>((r) => out.on('finish', () => r()))
    const pq = await openParquet(new LocalStore({ path: dir }), 't.parquet')
    expect(pq.rowGroups.map((g) => [g.start, g.end])).toEqual([[0, 2], [2, 3]])
    expect(pq.columns.map((c) => c.type)).toEqual(types)
    const back = await pq.read(0, 3)
    await pq.close()
    expect(back[0]).toEqual(['99999999999999999999999999.9999999999', '-9223372036854775808', '18446744073709551615', '0001-01-01 00:00:00', '2038-01-19 03:14:07.499999+00:00', '9999-12-31', Buffer.from([0, 1, 255]), '{"a": 1.0}', '838:59:59'])
    expect(back[1]).toEqual(['-0.0000000001', '9223372036854775807', 0, '2024-02-29 23:59:59.999999', '1970-01-01 00:00:00+00:00', '1970-01-01', Buffer.alloc(0), '[]', '-01:00:00.5'])
    expect(back[2]).toEqual([null, null, null, null, null, null, null, null, null])
  })

  it('stores DECIMAL as INT32 up to 9 digits, INT64 up to 18, else fixed bytes; Sluice and DuckDB read every edge back exactly', async () => {
    const precisions: Array<[number, number]> = [[1, 0], [9, 2], [10, 0], [18, 4], [19, 0], [38, 38]]
    const names = precisions.map(([p, s]) => `d${p}_${s}`)
    const types: LogicalType[] = precisions.map(([precision, scale]) => ({ kind: 'decimal', precision, scale }))
    const edge = (p: number, s: number, sign: string) => {
      const digits = '9'.repeat(p)
      return sign + (s ? `${digits.slice(0, p - s) || '0'}.${digits.slice(p - s)}` : digits)
    }
    const rows: Value[][] = [
      precisions.map(([p, s]) => edge(p, s, '')),
      precisions.map(([p, s]) => edge(p, s, '-')),
      precisions.map(([, s]) => (s ? `0.${'0'.repeat(s - 1)}1` : '1')),
      precisions.map(() => '0'),
      precisions.map(() => null),
    ]
    const file = path.join(dir, 'dec.parquet')
    const out = createWriteStream(file)
    const w = new ParquetPartWriter(names, types, out, { codec: 'snappy', rowGroupRows: 100 })
    expect(await w.add(rows)).toEqual([])
    await w.finish()
    out.end()
    await new Promise<void>((r) => out.on('finish', () => r()))
    const { parquetMetadata } = await import('hyparquet')
    const bytes = readFileSync(file)
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
    expect(meta.schema.slice(1).map((e) => e.type)).toEqual(['INT32', 'INT32', 'INT64', 'INT64', 'FIXED_LEN_BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'])
    expect(meta.row_groups[0]!.columns.every((c) => c.meta_data?.codec === 'SNAPPY')).toBe(true)
    // Decimals are spelled with all `scale` digits (as the databases spell them): '0' at scale 2 is '0.00'.
    const exact = (v: unknown, s: number) => (v === null ? null : decimalText(unscaled(String(v), s), s))
    const spelled = rows.map((r) => r.map((v, k) => exact(v, precisions[k]![1])))
    expect(spelled[0]![1]).toBe('9999999.99')
    const pq = await openParquet(new LocalStore({ path: dir }), 'dec.parquet')
    expect(pq.columns.map((c) => c.type)).toEqual(types)
    const back = await pq.read(0, rows.length)
    await pq.close()
    expect(back).toEqual(spelled)
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const con = await (await DuckDBInstance.create(':memory:')).connect()
    const duck = (await con.runAndReadAll(`SELECT ${names.map((n) => `${n}::VARCHAR`).join(', ')} FROM read_parquet('${file}')`)).getRowsJson()
    con.closeSync()
    expect(duck.map((r) => r.map((v, k) => exact(v, precisions[k]![1])))).toEqual(spelled)
  })

  it('writes row groups as they fill (rows or bytes), and reads any row range back exactly, column by column', async () => {
    const names = ['id', 'amount', 'at', 'day', 'title', 'ratio', 'small']
    const types: LogicalType[] = [{ kind: 'int', bits: 64 }, { kind: 'decimal', precision: 12, scale: 2 }, { kind: 'datetime', precision: 3 }, { kind: 'date' }, { kind: 'text' }, { kind: 'float', bits: 64 }, { kind: 'int', bits: 8 }]
    const n = 6000
    const rows: Value[][] = []
    for (let i = 0; i < n; i++) {
      const title = `小工具 ${i} 😀 `.repeat(80 + (i % 13)) // ~1.5-2 KB: the byte bound ends groups
      rows.push([String(BigInt(i) * 1_000_000_007n), `${i % 2 ? '-' : ''}${i}.${String(i % 100).padStart(2, '0')}`, `2024-01-02 03:04:05.${String(i % 1000).padStart(3, '0')}`, i % 5 ? '2024-02-29' : null, i % 7 ? title : null, i / 7, (i % 256) - 128])
    }
    const file = path.join(dir, 'groups.parquet')
    const out = createWriteStream(file)
    const w = new ParquetPartWriter(names, types, out, { codec: 'snappy', rowGroupRows: 2500 })
    // Batches of odd sizes, and one bad row (int8 out of range) among them.
    expect(await w.add([[1, '1', '2024-01-01 00:00:00', null, null, null, 300]])).toEqual([{ index: 0, column: 'small', reason: 'column small: 300 is not an integer in [-128, 127]' }])
    for (let i = 0; i < n; i += 777) expect(await w.add(rows.slice(i, i + 777))).toEqual([])
    await w.finish()
    out.end()
    await new Promise<void>((r) => out.on('finish', () => r()))
    const pq = await openParquet(new LocalStore({ path: dir }), 'groups.parquet')
    try {
      // Groups end at 2,500 rows or at ROW_GROUP_BYTES of values, whichever comes first.
      expect(pq.rowGroups.length, JSON.stringify(pq.rowGroups)).toBeGreaterThan(Math.ceil(n / 2500))
      expect(pq.rowGroups.at(-1)!.end).toBe(n)
      expect(pq.rowGroups.every((g) => g.end - g.start <= 2500)).toBe(true)
      expect(ROW_GROUP_BYTES).toBeLessThan(n * 500)
      const canon = (r: Value[]) => [r[0] === '0' ? 0 : Number(r[0]) <= Number.MAX_SAFE_INTEGER ? Number(r[0]) : r[0], r[1]!.toString().replace(/^(-?)0*(\d)/, '$1$2'), (r[2] as string).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''), r[3], r[4], r[5], r[6]]
      expect(await pq.read(0, n)).toEqual(rows.map(canon))
      // A range across row groups, some columns, one twice.
      const g = pq.rowGroups[1]!
      const cols = await pq.readColumns(g.start - 100, g.end + 100, [4, 0, 4])
      expect(cols[0]).toEqual(rows.slice(g.start - 100, g.end + 100).map((r) => r[4]))
      expect(cols[2]).toEqual(cols[0])
      expect(cols[1]).toEqual(rows.slice(g.start - 100, g.end + 100).map((r) => canon(r)[0]))
    } finally {
      await pq.close()
    }
  })

  it('scans COPY text fields: NULL, escapes, field counts', () => {
    const data = Buffer.from('1\ta\\tb\t\\N\n2\t\\\\N\t\n')
    const f = scanCopyText(data, 2, 3)
    if (typeof f === 'string') throw new Error(f)
    const field = (r: number, c: number) => (f.bounds[2 * (r * 3 + c)]! < 0 ? null : data.subarray(f.bounds[2 * (r * 3 + c)]!, f.bounds[2 * (r * 3 + c) + 1]!).toString())
    expect([field(0, 0), field(0, 1), field(0, 2), field(1, 0), field(1, 1), field(1, 2)]).toEqual(['1', 'a\\tb', null, '2', '\\\\N', ''])
    expect([...f.escaped]).toEqual([0, 1, 0, 0, 1, 0])
    expect(scanCopyText(Buffer.from('1\t2\n'), 1, 3)).toMatch(/fewer/)
    expect(scanCopyText(Buffer.from('1\t2\t3\t4\n'), 1, 3)).toMatch(/more/)
    expect(scanCopyText(Buffer.from('1\t\\101\t3\n'), 1, 3)).toMatch(/escape/)
  })

  it('converts COPY text fields without allocating as the canonical conversions do (dates, datetimes, decimals, integers)', () => {
    const names = ['dt', 'd', 'dec', 'i64', 'i16', 'u64']
    const types: LogicalType[] = [{ kind: 'datetime', precision: 6 }, { kind: 'date' }, { kind: 'decimal', precision: 12, scale: 2 }, { kind: 'int', bits: 64 }, { kind: 'int', bits: 16 }, { kind: 'int', bits: 64, unsigned: true }]
    const w = new ParquetPartWriter(names, types, new PassThrough(), { codec: 'none', rowGroupRows: 10 })
    const lines: string[][] = []
    const dts = ['1000-01-01 00:00:00', '1684-12-31 23:59:59.999999', '1685-01-01 00:00:00.1', '1970-01-01 00:00:00', '1969-12-31 23:59:59.5', '2000-02-29 12:34:56.000100', '2254-12-31 23:59:59.99999', '2255-06-01 00:00:00.123', '9999-12-31 23:59:59.999999', '2024-01-02T03:04:05']
    const ds = ['0001-01-01', '1582-10-10', '1900-02-28', '1969-12-31', '2000-02-29', '2100-03-01', '9999-12-31', '1970-01-01', '2024-02-29', '1600-02-29']
    const decs = ['0', '-0.50', '.5', '5.', '9999999999.99', '-9999999999.99', '123.4', '1e2', '+7.25', '0.01']
    const i64s = ['0', '-1', '999999999999999', '-999999999999999', '1000000000000000', '9223372036854775807', '-9223372036854775808', '42', '+5', '007']
    const i16s = ['0', '-32768', '32767', '1', '-1', '100', '200', '300', '-300', '12']
    const u64s = ['0', '18446744073709551615', '999999999999999', '1', '2', '3', '4', '5', '6', '-0']
    for (let i = 0; i < 10; i++) lines.push([dts[i]!, ds[i]!, decs[i]!, i64s[i]!, i16s[i]!, u64s[i]!])
    const data = Buffer.from(lines.map((l) => l.join('\t') + '\n').join(''))
    const f = scanCopyText(data, lines.length, names.length)
    if (typeof f === 'string') throw new Error(f)
    const got = w.convertCopyText(data, lines.length, f)
    if (typeof got === 'string') throw new Error(got)
    const val = (j: number, r: number) => (got[j]!.other?.[r] !== undefined ? got[j]!.other![r] : got[j]!.nums[r])
    for (let r = 0; r < lines.length; r++) {
      expect(BigInt(val(0, r) as number | bigint), lines[r]![0]).toBe(microsFromText(lines[r]![0]!))
      expect(val(1, r), lines[r]![1]).toBe(daysFromDate(lines[r]![1]!))
      expect(BigInt(val(2, r) as number | bigint), lines[r]![2]).toBe(unscaled(lines[r]![2]!, 2))
      expect(BigInt(val(3, r) as number | bigint), lines[r]![3]).toBe(BigInt(lines[r]![3]!))
      expect(val(4, r), lines[r]![4]).toBe(Number(lines[r]![4]))
      expect(BigInt(val(5, r) as number | bigint), lines[r]![5]).toBe(BigInt(lines[r]![5]!))
    }
    // What the canonical path refuses or decides on is refused: out of range, zero dates.
    for (const [j, bad] of [[4, '32768'], [5, '-1'], [1, '2024-02-30'], [0, '0000-00-00 00:00:00'], [2, '12345678901.00'], [2, '1.005']] as const) {
      const l = [...lines[0]!]
      l[j] = bad
      const d = Buffer.from(l.join('\t') + '\n')
      const ff = scanCopyText(d, 1, names.length)
      if (typeof ff === 'string') throw new Error(ff)
      expect(typeof w.convertCopyText(d, 1, ff), bad).toBe('string')
    }
  })

  it('spells timestamps and decimals in Number arithmetic exactly as in BigInt arithmetic (safe integers)', () => {
    // The BigInt reference: what textFromMicros uses beyond 2^53.
    const ref = textFromMicrosBig
    const max = BigInt(Number.MAX_SAFE_INTEGER)
    const samples: bigint[] = [0n, 1n, -1n, 999_999n, -999_999n, 1_000_000n, -1_000_000n, 86_399_999_999n, -86_400_000_000n, max, -max, max - 1n, -max + 1n]
    let x = 123456789n
    for (let i = 0; i < 20_000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n)
      samples.push((x % (2n * max + 1n)) - max)
      samples.push(((x >> 11n) % 10_000_000_000_000n) * (i % 2 ? 1n : -1n))
    }
    for (const us of samples) {
      expect(textFromMicros(us, false), String(us)).toBe(ref(us, false))
      expect(textFromMicros(us, true, 9), String(us)).toBe(ref(us, true, 9))
    }
    for (const [v, scale] of [[0, 2], [-5, 2], [123456, 0], [-123456789012345, 10], [Number.MAX_SAFE_INTEGER, 3], [7, 5]] as const) expect(decimalText(v, scale)).toBe(decimalText(BigInt(v), scale))
  })
})
