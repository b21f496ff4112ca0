/**
 * The file connector: a file store (local folder, FTP/FTPS, SFTP, S3) paired with a format (CSV /
 * delimited text, JSON Lines, Parquet), behind the same {@link Connector} interface as the
 * databases, so files take the one engine path: same batches, dirty records, checkpoints.
 *
 * Reader: a "table" is a path pattern (`in/${YYYYMMDD}/*.csv.gz`, variables substituted by the
 * planner); every matching file is one split (its path is the split's range, so a resumed run
 * re-reads exactly the files it planned). Rows carry three hidden columns the planner never maps:
 * `@file`, `@line` (so a dirty record names the file and line) and `@error` (a field that is not
 * a value of its column's type, or a line that cannot be parsed: the channel turns the row into a
 * dirty record with that reason).
 *
 * Writer: a "table" is a base file name under `writer.file.path`. Each split writes numbered part
 * files of `exportBatchRows` rows (`<base>-<split>-<part>.<ext>`), each published atomically;
 * `commit()` records the split's parts (rows, bytes, SHA-256) in a fragment file, and the task's
 * end ({@link FileConnector.finishTarget}) writes the manifest from the fragments. A retried or
 * resumed split first deletes its own earlier parts, so a part is never duplicated.
 *
 * Raw path (main/connectors/raw.ts, main/engine/rawpath.ts): delimited text files in UTF-8 also
 * read as raw batches ({@link FileConnector.raw}, ./rawread.ts) and written from them
 * (RawFilePartsWriter, ./rawtext.ts), with the same files, lines, parts and manifest as the
 * canonical path; `SLUICE_RAW=0` turns it off.
 */
import { createHash } from 'node:crypto'
import { Writable, type Readable, type Transform } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { Column, LogicalType, Row, RowBatch, TableRef, TableSchema, TableSummary, Value } from '../../core/types.js'
import { approxValueBytes, describeType } from '../../core/types.js'
import type { FileReaderOptions, FileWriterOptions, FileFormat } from '../../job/file-spec.js'
import type { FileStore, StoreUpload } from '../stores/types.js'
import {
  NotFoundError,
  type CatalogReader,
  type ConnectionConfig,
  type Connector,
  type DdlPlan,
  type NativeTypeChoice,
  type QueryResult,
  type ReadOptions,
  type ReadSpec,
  type ResultColumn,
  type Split,
  type TestResult,
  type WriteOutcome,
  type Writer,
  type WriteSpec,
} from '../types.js'
import { RawUnsupported, type RawBatch, type RawReadable, type RawReadOptions, type RawTarget, type RawWriter } from '../raw.js'
import { FieldCheck, readDelimitedRaw } from './rawread.js'
import { DecodeError, parseFileType, textToValue, unescapeDelimiter, type TextCodecOptions } from './codec.js'
import { compressionExt, compressionOfBytes, compressionOfName, compressor, decompressor, type Compression } from './compress.js'
import { matchFiles, storePath } from './glob.js'
import { openParquet, ParquetPartWriter, parquetTakesCopyText, scanCopyText } from './parquet.js'
import { encodeParquetTuples, pqPlan, type PqPlan } from './pqbinary.js'
import { copyToDelimited, rawDialect, RawFieldOp, type RawDialect } from './rawtext.js'
import { DelimitedFormatter, JsonLinesFormatter, readDelimited, readJsonLines, recordError, type DelimitedOptions, type RecordBatch } from './text.js'

/** Hidden source columns of file reads (never mapped by default). */
export const FILE_COL = '@file'
export const LINE_COL = '@line'
export const ERROR_COL = '@error'
/** The split range column of a file split: `range.lower` is the file's store path. */
export const FILE_SPLIT = '@file'

/** `nativeType` of a column whose type the file does not declare (text; a target may give it one). */
export const UNTYPED = 'untyped text'

/**
 * What a run hands a file connection besides the store settings, in `config.options.file`
 * (plain data: it crosses to worker threads). Variables are already substituted.
 */
export interface FileSideOptions {
  role: 'reader' | 'writer'
  reader?: FileReaderOptions
  writer?: FileWriterOptions
  /** The run's id: names the fragments of a run, and part files in writeMode append. */
  runId?: string
  /** The job reads a whole database (`tables.include`): one folder per table by default. */
  wholeDatabase?: boolean
}

/** One file the writer published. */
export interface ExportedFile {
  /** Store path. */
  path: string
  rows: number
  bytes: number
  sha256: string
}

/** True when `c` is a file connector. */
export function isFileConnector(c: Connector | undefined): c is FileConnector {
  return !!c && (c as { kind: string }).kind === 'file'
}

/** Open the store of a file connection (stores/index.ts `storeFor`: local folder, FTP/FTPS, SFTP, S3). */
export async function openStore(config: ConnectionConfig): Promise<FileStore> {
  return (await import('../stores/index.js')).storeFor(config)
}

interface ColSpec {
  name: string
  type: LogicalType
  untyped: boolean
  format?: string
  /** By field index. */
  index?: number
  /** By header name / JSON key / Parquet column. */
  key?: string
  constant?: Value
  hidden?: 'file' | 'line' | 'error'
}

/** The format of a file: declared, else by extension (`.parquet`, `.jsonl`/`.ndjson`, `.tsv`), else csv. */
export function formatOf(name: string, declared?: FileFormat): FileFormat {
  if (declared) return declared
  const n = name.replace(/\.(gz|gzip|zst|zstd)$/i, '').toLowerCase()
  if (n.endsWith('.parquet') || n.endsWith('.pq')) return 'parquet'
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson') || n.endsWith('.json')) return 'jsonl'
  if (n.endsWith('.tsv')) return 'tsv'
  return 'csv'
}

function delimitedOptions(o: FileReaderOptions | FileWriterOptions, format: FileFormat, reader: boolean): DelimitedOptions {
  const quote = o.quote ?? '"'
  const ro = o as FileReaderOptions
  return {
    delimiter: unescapeDelimiter(o.fieldDelimiter ?? (format === 'tsv' ? '\\t' : ',')),
    quote,
    escape: o.escape ?? quote,
    ...(o.lineDelimiter ? { lineDelimiter: unescapeDelimiter(o.lineDelimiter) } : {}),
    header: reader && ro.skipHeader !== undefined ? ro.skipHeader : o.header ?? true,
    skipRows: reader ? ro.skipRows ?? 0 : 0,
    nullFormat: o.nullFormat ?? '\\N',
    bytesFormat: o.bytesFormat ?? 'hex',
  }
}

function isUtf8(enc: string | undefined): boolean {
  return !enc || /^utf-?8$/i.test(enc)
}

/** A file store + format as a {@link Connector}. */
export class FileConnector implements Connector {
  readonly kind = 'file' as const
  readonly defaultSchema = ''
  readonly catalog: CatalogReader
  private storeP?: Promise<FileStore>
  private readonly side: FileSideOptions
  /** Target tables "created" by ddl() during planning (a file target always starts absent). */
  private readonly planned = new Map<string, TableSchema>()
  /** Reader column lists by pattern, from the first file (plan time). */
  private readonly described = new Map<string, { cols: ColSpec[]; files: string[]; rows?: number }>()

  constructor(readonly config: ConnectionConfig) {
    this.side = ((config.options as { file?: FileSideOptions } | undefined)?.file ?? { role: 'reader' }) as FileSideOptions
    const self = this
    this.catalog = {
      async schemas() {
        return ['']
      },
      async tables(): Promise<TableSummary[]> {
        const st = await self.store()
        return (await st.list('')).filter((e) => e.type === 'file').map((e) => ({ name: e.path, kind: 'table' as const }))
      },
      async table(ref: TableRef): Promise<TableSchema> {
        if (self.side.role === 'writer') {
          const t = self.planned.get(ref.name)
          if (!t) throw new NotFoundError(`file target '${ref.name}' is written by this job`)
          return t
        }
        const d = await self.describe(ref.name)
        return {
          name: ref.name,
          columns: d.cols.map((c, i): Column => ({ name: c.name, ordinal: i + 1, type: c.type, nativeType: c.untyped ? UNTYPED : describeType(c.type), nullable: true })),
          primaryKey: [],
          indexes: [],
          foreignKeys: [],
          ...(d.rows !== undefined ? { estimatedRows: d.rows } : {}),
        }
      },
      async others() {
        return []
      },
    }
  }

  /** The store (opened once). */
  store(): Promise<FileStore> {
    this.storeP ??= openStore(this.config)
    return this.storeP
  }

  private get ro(): FileReaderOptions {
    return this.side.reader ?? {}
  }
  private get wo(): FileWriterOptions {
    return this.side.writer ?? {}
  }

  async test(): Promise<TestResult> {
    try {
      return await (await this.store()).test()
    } catch (e) {
      return { ok: false, latencyMs: 0, error: (e as Error).message }
    }
  }

  quoteIdent(name: string): string {
    return name
  }
  quoteTable(ref: TableRef): string {
    return ref.name
  }

  // ---------------------------------------------------------------- reading

  /** Files matching a reader pattern, and the column list (declared, else from the first file). */
  private async describe(pattern: string): Promise<{ cols: ColSpec[]; files: string[]; rows?: number }> {
    const hit = this.described.get(pattern)
    if (hit) return hit
    const st = await this.store()
    const files = (await matchFiles(st, pattern)).map((e) => e.path)
    if (!files.length) throw new NotFoundError(`no file matches '${pattern}'`)
    const cols = await this.columnsOf(files[0]!, undefined)
    const rows = await this.manifestRows(files)
    const d = { cols, files, ...(rows !== undefined ? { rows } : {}) }
    this.described.set(pattern, d)
    return d
  }

  /**
   * The exact row count of `files` when manifests next to them (written by Sluice) list every one
   * of them; undefined otherwise (never a guess). Used for progress, ETA and the channel mode.
   */
  private async manifestRows(files: string[]): Promise<number | undefined> {
    const st = await this.store()
    const listed = new Map<string, number>()
    for (const d of new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '')))) {
      for (const e of await st.list(d)) {
        if (e.type !== 'file' || !e.name.endsWith('.manifest.json') || e.size > 16 << 20) continue
        try {
          const chunks: Buffer[] = []
          for await (const c of await st.read(e.path)) chunks.push(Buffer.from(c as Buffer))
          const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { files?: Array<{ path: string; rows: number }> }
          const prefix = e.path.slice(0, e.path.length - e.name.length)
          // A manifest lists the files of its own folder (paths relative to the writer's root).
          for (const f of m.files ?? []) if (typeof f.rows === 'number') listed.set(prefix + f.path.split('/').pop(), f.rows)
        } catch {
          /* not a Sluice manifest */
        }
      }
    }
    let n = 0
    for (const f of files) {
      const r = listed.get(f)
      if (r === undefined) return undefined
      n += r
    }
    return n
  }

  /**
   * The column list for a file: the declared `column` list (by index, by header name, constants),
   * else every header column (csv), every key of the first object (jsonl) or every Parquet column;
   * then `fileNameColumn` and the hidden columns.
   */
  private async columnsOf(file: string, header: string[] | undefined): Promise<ColSpec[]> {
    const o = this.ro
    const format = formatOf(file, o.format)
    let natural: Array<{ name: string; type?: LogicalType }> = []
    if (format === 'parquet') {
      const pq = await openParquet(await this.store(), file)
      natural = pq.columns.map((c) => ({ name: c.name, type: c.type }))
      await pq.close()
    } else if (!o.column?.length || o.column.some((c) => c.index === undefined && c.value === undefined)) {
      natural = (header ?? (await this.peekHeader(file, format))).map((name) => ({ name }))
    }
    const cols: ColSpec[] = []
    if (o.column?.length) {
      o.column.forEach((c, i) => {
        let type: LogicalType
        try {
          type = parseFileType(c.type)
        } catch (e) {
          throw new Error(`reader.file.column[${i}].type: ${(e as Error).message}`)
        }
        const untyped = !c.type
        if (c.value !== undefined) cols.push({ name: c.name ?? `c${i}`, type, untyped, constant: c.value, ...(c.format ? { format: c.format } : {}) })
        else if (c.index !== undefined) {
          const nat = natural[c.index]
          cols.push({ name: c.name ?? (format === 'csv' || format === 'tsv' ? (this.hasHeader(format) ? nat?.name : undefined) : nat?.name) ?? `c${c.index}`, type: format === 'parquet' && untyped && nat?.type ? nat.type : type, untyped: untyped && format !== 'parquet', index: c.index, ...(c.format ? { format: c.format } : {}) })
        } else if (c.name) {
          const nat = natural.find((n) => n.name === c.name)
          if (!nat) throw new Error(`reader.file.column[${i}]: '${c.name}' is not a column of ${file}`)
          cols.push({ name: c.name, type: format === 'parquet' && untyped && nat.type ? nat.type : type, untyped: untyped && format !== 'parquet', key: c.name, ...(c.format ? { format: c.format } : {}) })
        } else throw new Error(`reader.file.column[${i}]: needs an index, a name or a value`)
      })
    } else {
      const named = format === 'parquet' || format === 'jsonl' || this.hasHeader(format)
      natural.forEach((n, i) => cols.push({ name: named ? n.name : `c${i}`, type: n.type ?? { kind: 'text' }, untyped: !n.type, ...(named ? { key: n.name } : { index: i }) }))
    }
    if (o.fileNameColumn) cols.push({ name: o.fileNameColumn, type: { kind: 'text' }, untyped: false, hidden: 'file' })
    cols.push({ name: FILE_COL, type: { kind: 'text' }, untyped: false, hidden: 'file' })
    cols.push({ name: LINE_COL, type: { kind: 'int', bits: 64 }, untyped: false, hidden: 'line' })
    cols.push({ name: ERROR_COL, type: { kind: 'text' }, untyped: false, hidden: 'error' })
    const seen = new Set<string>()
    for (const c of cols) {
      if (seen.has(c.name)) throw new Error(`${file}: column '${c.name}' appears twice (name the columns in reader.file.column)`)
      seen.add(c.name)
    }
    return cols
  }

  private hasHeader(format: FileFormat): boolean {
    return delimitedOptions(this.ro, format, true).header
  }

  /** The first record of a text file (header names, or field count for a headerless file as c0..cN). */
  private async peekHeader(file: string, format: FileFormat): Promise<string[]> {
    const ac = new AbortController()
    try {
      if (format === 'jsonl') {
        let keys: string[] = []
        for await (const _ of readJsonLines(await this.openText(file, ac.signal), () => keys, (k) => (keys = k), ac.signal)) break
        return keys
      }
      const o = delimitedOptions(this.ro, format, true)
      for await (const b of readDelimited(await this.openText(file, ac.signal), o, ac.signal)) {
        const first = b.records[0] ?? []
        return o.header ? first.map((h, i) => h ?? `c${i}`) : first.map((_, i) => `c${i}`)
      }
      return []
    } finally {
      ac.abort()
    }
  }

  /** A text file's bytes: decompressed (declared, else by name, else by magic bytes) and decoded to UTF-8. */
  private async openText(file: string, signal?: AbortSignal, chunkSize?: number): Promise<Readable> {
    const st = await this.store()
    let input = await st.read(file, signal ? { signal } : {})
    let c: Compression | 'auto' = this.ro.compression ?? 'auto'
    if (c === 'auto') {
      c = compressionOfName(file)
      if (c === 'none') {
        const head = await peek(input)
        input = head.stream
        c = compressionOfBytes(head.bytes)
      }
    }
    if (c !== 'none') {
      const d = await decompressor(c, chunkSize)
      input.on('error', (e) => d.destroy(e))
      input = input.pipe(d)
    }
    if (!isUtf8(this.ro.encoding)) {
      const iconv = (await import('iconv-lite')).default
      if (!iconv.encodingExists(this.ro.encoding!)) throw new Error(`reader.file.encoding: unknown encoding '${this.ro.encoding}'`)
      const dec = iconv.decodeStream(this.ro.encoding!) as unknown as Transform
      input.on('error', (e) => dec.destroy(e))
      input = input.pipe(dec) as unknown as Readable
    }
    return input
  }

  async splits(read: ReadSpec): Promise<Split[]> {
    const pattern = read.table?.name
    if (!pattern) throw new Error('file reader: querySql is not supported (name files by a path pattern)')
    const { files } = await this.describe(pattern)
    return files.map((f, index) => ({ index, read, range: { column: FILE_SPLIT, lower: f, upper: f, lowerInclusive: true, upperInclusive: true } }))
  }

  async describeRead(read: ReadSpec): Promise<ResultColumn[]> {
    if (!read.table) throw new Error('file reader: querySql is not supported (name files by a path pattern)')
    const d = await this.describe(read.table.name)
    const cols = read.columns?.length ? read.columns.map((n) => d.cols.find((c) => c.name === n)!).filter(Boolean) : d.cols
    return cols.map((c) => ({ name: c.name, type: c.type, nativeType: c.untyped ? UNTYPED : describeType(c.type) }))
  }

  /** Stream one file (one split) as batches of canonical rows in `split.read.columns` order. */
  async *read(split: Split, opts: ReadOptions = {}): AsyncIterable<RowBatch> {
    const file = split.range?.column === FILE_SPLIT ? String(split.range.lower) : undefined
    if (!file) throw new Error('file reader: a split without a file')
    const format = formatOf(file, this.ro.format)
    const batchBytes = opts.batchBytes ?? 4 << 20
    const signal = opts.signal
    const wanted = split.read.columns
    const types = (split.read as ReadSpec & { types?: Record<string, LogicalType> }).types ?? {}
    const codec: TextCodecOptions = { nullFormat: this.ro.nullFormat ?? '\\N', bytesFormat: this.ro.bytesFormat ?? 'hex' }

    if (format === 'parquet') {
      const pq = await openParquet(await this.store(), file, signal)
      try {
        const all = await this.columnsOf(file, undefined)
        const cols = pick(all, wanted)
        const idx = cols.map((c) => (c.hidden || c.constant !== undefined ? -1 : c.index ?? pq.columns.findIndex((p) => p.name === (c.key ?? c.name))))
        cols.forEach((c, j) => {
          if (idx[j]! < 0 && !c.hidden && c.constant === undefined) throw new Error(`${file}: no column '${c.key ?? c.name}'`)
        })
        // The Parquet columns read (once each), and where each output column takes its value.
        const need = [...new Set(idx.filter((i) => i >= 0))]
        const at = idx.map((i) => need.indexOf(i))
        let rowNo = 0
        // Rows per batch: about batchBytes of values (see parquetBatches; a batch is decoded
        // straight from the column pages).
        const size = { perRow: 0 }
        for (const [s, e] of parquetBatches(pq.rowGroups, batchBytes, 65_536, size)) {
          if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
          const data = await pq.readColumns(s, e, need)
          const rows = new Array<Row>(e - s)
          let approx = 0
          for (let i = 0; i < rows.length; i++) {
            rowNo++
            const out = new Array<Value>(cols.length)
            for (let j = 0; j < cols.length; j++) {
              const c = cols[j]!
              let v: Value
              if (c.hidden === 'file') v = file
              else if (c.hidden === 'line') v = rowNo
              else if (c.hidden === 'error') v = null
              else if (c.constant !== undefined) v = c.constant
              else v = data[at[j]!]![i] ?? null
              out[j] = v
              approx += approxValueBytes(v)
            }
            rows[i] = out
          }
          size.perRow = Math.max(1, approx / rows.length)
          yield { rows, approxBytes: approx }
        }
      } finally {
        await pq.close()
      }
      return
    }

    const ac = new AbortController()
    const onAbort = () => ac.abort(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const input = await this.openText(file, ac.signal)
      let cols: ColSpec[] | undefined
      let idx: number[] = []
      let header: string[] | undefined
      const o = delimitedOptions(this.ro, format, true)
      const setup = async (hdr: string[] | undefined, width?: number) => {
        header = hdr
        const all = await this.columnsOf(file, hdr ?? Array.from({ length: width ?? 0 }, (_, i) => `c${i}`))
        cols = pick(all, wanted)
        for (const c of cols) if (c.untyped && types[c.name]) c.type = types[c.name]!
        idx = cols.map((c) => (c.hidden || c.constant !== undefined ? -1 : c.index !== undefined ? c.index : (hdr ?? []).indexOf(c.key ?? c.name)))
      }
      let source: AsyncIterable<RecordBatch>
      let jsonKeys: string[] | undefined
      if (format === 'jsonl') {
        source = readJsonLines(
          input,
          () => jsonKeys,
          (keys) => {
            // Fields come by the names the job reads: the declared keys, else the first object's.
            const named = this.ro.column?.length ? this.ro.column.filter((c) => c.value === undefined).map((c) => c.name ?? '') : keys
            jsonKeys = named
          },
          ac.signal,
        )
      } else source = readDelimited(input, o, ac.signal)

      let rows: Row[] = []
      let approx = 0
      let lastBytes = 0
      let first = true
      for await (const b of source) {
        let start = 0
        if (first) {
          first = false
          if (format === 'jsonl') await setup(jsonKeys ?? [])
          else if (o.header) {
            await setup((b.records[0] ?? []).map((h, i) => h ?? `c${i}`))
            start = 1
          } else await setup(undefined, b.records[0]?.length ?? 0)
        }
        const build = this.rowBuilder(file, format, o, cols!, idx, header?.length, codec)
        for (let i = start; i < b.records.length; i++) rows.push(build(b.records[i]!, b.lines[i]!))
        approx += b.bytes - lastBytes
        lastBytes = b.bytes
        if (approx >= batchBytes) {
          yield { rows, approxBytes: approx }
          rows = []
          approx = 0
        }
      }
      // An empty file has no rows (and no header to check).
      if (rows.length) yield { rows, approxBytes: Math.max(approx, 1) }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      ac.abort()
    }
  }

  /**
   * The canonical row of a text record (fields as read, `null` = NULL) ending on `line`: the
   * columns' values by {@link textToValue}, the hidden columns, and `@error` when the record is
   * not one row of the columns (parse error, field count, a field not of its column's type).
   */
  private rowBuilder(file: string, format: FileFormat, o: DelimitedOptions, cs: ColSpec[], idx: number[], width: number | undefined, codec: TextCodecOptions): (rec: Array<string | null>, line: number) => Row {
    const ei = cs.findIndex((c) => c.hidden === 'error')
    return (rec, line) => {
      const out = new Array<Value>(cs.length)
      let err = recordError(rec)
      if (!err && format !== 'jsonl' && width !== undefined && o.header && rec.length !== width) err = `${rec.length} fields where the header has ${width}`
      for (let j = 0; j < cs.length; j++) {
        const c = cs[j]!
        if (c.hidden === 'file') out[j] = file
        else if (c.hidden === 'line') out[j] = line
        else if (c.hidden === 'error') out[j] = null
        else if (c.constant !== undefined) out[j] = c.constant
        else {
          const k = idx[j]!
          if (k < 0 || k >= rec.length) {
            if (format !== 'jsonl' && !err) err = k < 0 ? `no field '${c.key ?? c.name}' in the header` : `no field ${k} (the line has ${rec.length})`
            out[j] = null
            continue
          }
          const s = rec[k]!
          if (s === null) out[j] = null
          else if (c.untyped && c.type.kind === 'text') out[j] = s
          else {
            try {
              out[j] = textToValue(s, c.type, codec, c.format)
            } catch (e) {
              if (!(e instanceof DecodeError)) throw e
              err ??= `column ${c.name}: ${e.message}`
              out[j] = s
            }
          }
        }
      }
      if (err && ei >= 0) out[ei] = `${file} line ${line}: ${err}`
      return out
    }
  }

  /**
   * The raw reader (main/connectors/raw.ts) of delimited text files in UTF-8 with a one-byte ASCII
   * delimiter and quote (the escape being the quote), no skipRows and the record delimiter
   * detected (LF or CRLF): see ./rawread.ts. Undefined for other files (read canonically).
   */
  get raw(): RawReadable | undefined {
    const o = this.ro
    if (this.side.role !== 'reader') return undefined
    if (o.format === 'parquet') return { readRaw: (split, opts) => this.readRaw(split, opts) }
    if (!isUtf8(o.encoding) || (o.skipRows ?? 0) > 0 || o.lineDelimiter !== undefined) return undefined
    if (o.format && o.format !== 'csv' && o.format !== 'tsv') return undefined
    return { readRaw: (split, opts) => this.readRaw(split, opts) }
  }

  /**
   * Whether files matching `pattern` are read raw (see {@link raw}): delimited text by format or
   * name, and Parquet into a writer of `writerKind` postgres (binary COPY tuples, readParquetRaw).
   */
  rawReadableFiles(pattern: string, writerKind?: string): boolean {
    const f = formatOf(pattern, this.ro.format)
    if (f === 'parquet') return writerKind === 'postgres' && !!this.raw && process.env.SLUICE_PARQUET_PGBINARY !== '0'
    return !!this.raw && (f === 'csv' || f === 'tsv')
  }

  private async *readRaw(split: Split, opts: RawReadOptions = {}): AsyncGenerator<RawBatch> {
    const file = split.range?.column === FILE_SPLIT ? String(split.range.lower) : undefined
    if (!file) throw new Error('file reader: a split without a file')
    const format = formatOf(file, this.ro.format)
    if (format === 'parquet') {
      yield* this.readParquetRaw(file, split, opts)
      return
    }
    if (format !== 'csv' && format !== 'tsv') throw new RawUnsupported(`${file} is ${format}`)
    const o = delimitedOptions(this.ro, format, true)
    const dialect = rawDialect(o, false)
    if (typeof dialect === 'string') throw new RawUnsupported(dialect)
    const wanted = split.read.columns
    const types = (split.read as ReadSpec & { types?: Record<string, LogicalType> }).types ?? {}
    const codec: TextCodecOptions = { nullFormat: o.nullFormat, bytesFormat: o.bytesFormat }
    const ac = new AbortController()
    const signal = opts.signal
    const onAbort = () => ac.abort(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      // Big decompressed chunks: fewer stream turns and buffers per batch.
      const input = await this.openText(file, ac.signal, 1 << 20)
      yield* readDelimitedRaw(input, {
        delimiter: dialect.delimiter,
        quote: dialect.quote,
        nullFormat: dialect.nullFormat,
        header: o.header,
        csv: opts.csv === true,
        ...(opts.target?.format === 'pgbinary' ? { pg: opts.target.types } : {}),
        batchBytes: opts.batchBytes ?? 4 << 20,
        signal: ac.signal,
        setup: async (hdr, width) => {
          const all = await this.columnsOf(file, hdr ?? Array.from({ length: width }, (_, i) => `c${i}`))
          const cols = pick(all, wanted)
          for (const c of cols) if (c.untyped && types[c.name]) c.type = types[c.name]!
          const idx = cols.map((c) => (c.hidden || c.constant !== undefined ? -1 : c.index !== undefined ? c.index : (hdr ?? []).indexOf(c.key ?? c.name)))
          const fields: number[] = []
          const checks: FieldCheck[] = []
          const fracs: number[] = []
          let tail = false
          cols.forEach((c, j) => {
            if (c.hidden && c.name.startsWith('@')) {
              tail = true
              return
            }
            if (tail || c.hidden || c.constant !== undefined || c.format) throw new RawUnsupported(`column ${c.name} is not a plain field`)
            if (idx[j]! < 0) throw new RawUnsupported(`no field for column ${c.name}`)
            const check = rawCheckOf(c.type)
            if (check === undefined) throw new RawUnsupported(`column ${c.name} is ${c.type.kind}`)
            fields.push(idx[j]!)
            checks.push(check)
            fracs.push(c.type.kind === 'datetime' ? c.type.precision ?? 6 : 9)
          })
          return { fields, checks, fracs, build: this.rowBuilder(file, format, o, cols, idx, hdr ? width : undefined, codec) }
        },
      })
    } finally {
      signal?.removeEventListener('abort', onAbort)
      ac.abort()
    }
  }

  /**
   * Rows per raw Parquet batch at most: a batch keeps its decoded column values (for decode())
   * beside its tuples, one JS value per field, so it stays smaller than a canonical batch.
   * Measured on the 1M-row bench table (two channels in one heap): 8,192 rows peaked at
   * 248-257 MB, 16,384 at 289-291 MB (and 1-5 % faster), 4,096 at 234 MB but 60 % slower
   * (more page decoding per row).
   */
  private static readonly PQ_RAW_ROWS = 8192

  /**
   * The raw path of a Parquet file into PostgreSQL (file/pqbinary.ts): its column values go
   * straight into binary COPY tuples of the writer's types (`opts.target`), in batches of about
   * `batchBytes` as in {@link read}. A batch holding a value without an exact binary form is
   * marked refused, and its `decode()` gives the canonical rows (with `@file` / `@line`).
   * @throws RawUnsupported before the first batch: no `pgbinary` target, a column that is not a
   *   plain field, or a column pair without a binary op.
   */
  private async *readParquetRaw(file: string, split: Split, opts: RawReadOptions): AsyncGenerator<RawBatch> {
    const target = opts.target
    if (target?.format !== 'pgbinary' || process.env.SLUICE_PARQUET_PGBINARY === '0') throw new RawUnsupported('Parquet goes raw only into PostgreSQL binary COPY')
    const signal = opts.signal
    const batchBytes = opts.batchBytes ?? 4 << 20
    const pq = await openParquet(await this.store(), file, signal)
    try {
      const cols = pick(await this.columnsOf(file, undefined), split.read.columns)
      // Written columns first (plain fields), then hidden `@` columns only (as the delimited raw path).
      const idx: number[] = []
      let tail = false
      for (const c of cols) {
        if (c.hidden && c.name.startsWith('@')) {
          tail = true
          continue
        }
        if (tail || c.hidden || c.constant !== undefined || c.format) throw new RawUnsupported(`column ${c.name} is not a plain field`)
        const i = c.index ?? pq.columns.findIndex((p) => p.name === (c.key ?? c.name))
        if (i < 0) throw new Error(`${file}: no column '${c.key ?? c.name}'`)
        idx.push(i)
      }
      if (idx.length !== target.types.length) throw new RawUnsupported(`${idx.length} columns for ${target.types.length} target columns`)
      const plans = idx.map((i, k) => pqPlan(pq.columns[i]!, pq.elements[i]!, target.types[k]!))
      const miss = plans.findIndex((p) => !p)
      if (miss >= 0) throw new RawUnsupported(`column ${pq.columns[idx[miss]!]!.name} (${pq.columns[idx[miss]!]!.nativeType}) has no binary op into ${target.types[miss]}`)
      const size = { perRow: 0 }
      for (const [s, e] of parquetBatches(pq.rowGroups, batchBytes, FileConnector.PQ_RAW_ROWS, size)) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
        const values = await pq.readRawColumns(s, e, idx)
        const rows = e - s
        const data = encodeParquetTuples(values, rows, plans as PqPlan[])
        // The canonical rows of the batch (the refusal's, or the writer's narrowing to dirty rows).
        const decode = (): Row[] => {
          const out: Row[] = []
          for (let r = 0; r < rows; r++) {
            const row: Value[] = []
            // Written columns come first, in `idx` / `values` order; then the hidden ones.
            let k = 0
            for (const c of cols) {
              if (c.hidden === 'file') row.push(file)
              else if (c.hidden === 'line') row.push(s + r + 1) // the file's row number, 1-based
              else if (c.hidden) row.push(null)
              else {
                row.push(pq.canonical(idx[k]!, values[k]![r]))
                k++
              }
            }
            out.push(row)
          }
          return out
        }
        const approxBytes = data ? data.length : rows * size.perRow
        if (data) size.perRow = Math.max(1, data.length / rows)
        yield data ? { format: 'pgbinary', data, rows, approxBytes, via: 'Parquet as PostgreSQL binary COPY', decode } : { format: 'pgbinary', refused: true, data: Buffer.alloc(0), rows, approxBytes, via: 'Parquet as PostgreSQL binary COPY', decode }
      }
    } finally {
      await pq.close()
    }
  }

  // ---------------------------------------------------------------- writing

  /** Folder, base name and extension of a target's files. */
  targetLayout(target: TableRef): { dir: string; base: string; ext: string; format: FileFormat; compression: Compression; tag: string } {
    const o = this.wo
    const folderPerTable = o.folderPerTable ?? !!this.side.wholeDatabase
    const dir = storePath([o.path ?? '', folderPerTable ? target.name : ''].filter(Boolean).join('/'))
    const base = o.fileName ?? target.name
    const format: FileFormat = o.format ?? (base.match(/\.(parquet|jsonl|tsv|csv)$/i)?.[1]?.toLowerCase() as FileFormat | undefined) ?? 'csv'
    const compression: Compression = format === 'parquet' ? 'none' : o.compression === 'auto' || !o.compression ? 'none' : o.compression
    const ext = `.${format}${compressionExt(compression)}`
    const tag = (o.writeMode ?? 'truncate') === 'append' ? `-${(this.side.runId ?? 'run').replace(/-/g, '').slice(-8)}` : ''
    return { dir, base: base.replace(/\.(parquet|jsonl|tsv|csv)$/i, ''), ext, format, compression, tag }
  }

  private fragmentDir(target: TableRef): string {
    const l = this.targetLayout(target)
    return join(l.dir, `.sluice-${l.base}-${(this.side.runId ?? 'run').replace(/[^\w-]/g, '')}`)
  }

  /** Regex of the part files of a target (`split`: of one split only). */
  private partRegex(target: TableRef, split?: number): RegExp {
    const l = this.targetLayout(target)
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const tag = l.tag ? esc(l.tag) : '(?:-[0-9a-f]{8})?'
    return new RegExp(`^${esc(l.base)}${tag}-${split === undefined ? '\\d{3,}' : String(split).padStart(3, '0')}-\\d{5,}${esc(l.ext)}$`)
  }

  /**
   * Prepare a target before its first split (not on resume): writeMode truncate deletes earlier
   * part files and the manifest of the same base name; nonConflict fails when any exists.
   * @throws Error naming the file found, for nonConflict.
   */
  async prepareTarget(target: TableRef): Promise<void> {
    const st = await this.store()
    const l = this.targetLayout(target)
    const mode = this.wo.writeMode ?? 'truncate'
    const re = this.partRegex(target)
    const esc = l.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const manifest = new RegExp(`^${esc}(?:-[0-9a-f]{8})?\\.manifest\\.json$`)
    const existing = (await st.list(l.dir)).filter((e) => e.type === 'file' && (re.test(e.name) || manifest.test(e.name)))
    if (mode === 'nonConflict' && existing.length) throw new Error(`writer.file.writeMode is nonConflict and ${join(l.dir, existing[0]!.name)} exists`)
    if (mode === 'truncate') for (const e of existing) await st.delete(e.path)
    await st.mkdirp(l.dir)
  }

  /**
   * End a target after all its splits: collect the parts every split recorded (this attempt's
   * and an earlier one's, on resume), write the manifest (unless `manifest: false`), remove the
   * fragments. Returns the files, sorted by path.
   */
  async finishTarget(target: TableRef): Promise<ExportedFile[]> {
    const st = await this.store()
    const l = this.targetLayout(target)
    const fdir = this.fragmentDir(target)
    const files: ExportedFile[] = []
    const frags = (await st.list(fdir)).filter((e) => e.type === 'file' && e.name.endsWith('.json'))
    for (const f of frags) files.push(...(JSON.parse((await readAll(await st.read(f.path))).toString('utf8')) as { files: ExportedFile[] }).files)
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    if (this.wo.manifest ?? true) {
      const manifest = {
        version: 1,
        table: target.name,
        format: l.format,
        compression: l.compression,
        ...(this.side.runId ? { runId: this.side.runId } : {}),
        rows: files.reduce((n, f) => n + f.rows, 0),
        bytes: files.reduce((n, f) => n + f.bytes, 0),
        files,
      }
      const name = join(l.dir, `${l.base}${l.tag}.manifest.json`)
      const up = await st.write(name)
      up.stream.end(Buffer.from(JSON.stringify(manifest, null, 2) + '\n'))
      const { bytes } = await up.done()
      files.push({ path: name, rows: 0, bytes, sha256: createHash('sha256').update(JSON.stringify(manifest, null, 2) + '\n').digest('hex') })
    }
    for (const f of frags) await st.delete(f.path)
    await st.delete(fdir).catch(() => false)
    return files
  }

  async writer(spec: WriteSpec): Promise<Writer> {
    const split = (spec as WriteSpec & { splitIndex?: number }).splitIndex ?? 0
    const st = await this.store()
    const l = this.targetLayout(spec.table)
    // A retried or resumed split starts over: its earlier parts (and fragment) go first.
    const re = this.partRegex(spec.table, split)
    for (const e of await st.list(l.dir)) if (e.type === 'file' && re.test(e.name)) await st.delete(e.path)
    await st.delete(join(this.fragmentDir(spec.table), `split-${split}.json`))
    if (l.format === 'parquet') {
      // Raw batches (COPY text) go straight into the packed columns when every column takes them.
      return this.takesRaw(spec.columns.map((c) => c.type)) ? new RawParquetPartsWriter(this, st, spec, split, l, this.wo) : new FilePartsWriter(this, st, spec, split, l, this.wo)
    }
    const raw = this.rawWritable(spec.columns.map((c) => c.type))
    return typeof raw === 'string' ? new FilePartsWriter(this, st, spec, split, l, this.wo) : new RawFilePartsWriter(this, st, spec, split, l, this.wo, raw)
  }

  /**
   * Whether this writer takes raw batches (main/connectors/raw.ts) for columns of `types`:
   * delimited text files per {@link rawWritable}, Parquet files when every column takes COPY text
   * ({@link parquetTakesCopyText}, RawParquetPartsWriter). main/engine/run.ts runs such units
   * in-process (for Parquet too: one heap instead of one per channel, 1M bench rows peaked at
   * ~250-280 MB in-process against ~310-320 MB in two worker threads, with less CPU).
   */
  takesRaw(types: readonly LogicalType[]): boolean {
    if (this.targetLayout({ name: 'x' } as TableRef).format === 'parquet') return types.every(parquetTakesCopyText)
    return typeof this.rawWritable(types) !== 'string'
  }

  /**
   * Whether this writer's delimited text files can take raw batches (main/connectors/raw.ts) for columns of
   * `types` (Parquet: see {@link takesRaw}): delimited text (csv / tsv) in UTF-8 with a one-byte ASCII delimiter and quote (the
   * escape being the quote), and a {@link RawFieldOp} for every column. Returns the dialect and
   * ops, or why not.
   */
  rawWritable(types: readonly LogicalType[]): { dialect: RawDialect; ops: Uint8Array } | string {
    const o = this.wo
    const l = this.targetLayout({ name: 'x' } as TableRef)
    if (l.format !== 'csv' && l.format !== 'tsv') return `the files are ${l.format}`
    if (!isUtf8(o.encoding)) return `the encoding is ${o.encoding}`
    const dialect = rawDialect(delimitedOptions(o, l.format, false), true)
    if (typeof dialect === 'string') return dialect
    const ops = new Uint8Array(types.length)
    for (let i = 0; i < types.length; i++) {
      const op = rawFieldOp(types[i]!)
      if (op === undefined) return `a column is ${types[i]!.kind}`
      ops[i] = op
    }
    return { dialect, ops }
  }

  /** Record a split's published parts (called by its writer's commit). */
  async saveFragment(target: TableRef, split: number, files: ExportedFile[]): Promise<void> {
    const st = await this.store()
    const up = await st.write(join(this.fragmentDir(target), `split-${split}.json`))
    up.stream.end(Buffer.from(JSON.stringify({ split, files })))
    await up.done()
  }

  // ---------------------------------------------------------------- DDL and SQL (none)

  nativeType(t: LogicalType): NativeTypeChoice {
    return { sql: describeType(t) }
  }

  /** A file target is "created" by writing it: the plan's table is remembered for the run. */
  ddl(table: TableSchema, target: TableRef): DdlPlan {
    this.planned.set(target.name, { ...table, name: target.name })
    return { create: [], indexes: [], foreignKeys: [], sequences: [], warnings: [] }
  }

  async query(): Promise<QueryResult> {
    throw new Error('a file connection runs no SQL')
  }

  async execute(statements: string[]): Promise<void> {
    if (statements.filter((s) => s.trim()).length) throw new Error('a file connection runs no SQL (preSql / postSql / truncate belong to database sides; use writer.file.writeMode)')
  }

  async count(ref: TableRef): Promise<number> {
    throw new Error(`count of '${ref.name}': files are not counted (verification needs two databases)`)
  }

  async close(): Promise<void> {
    const p = this.storeP
    this.storeP = undefined
    if (p) await (await p.catch(() => undefined))?.close()
  }
}

function pick(all: ColSpec[], wanted: string[] | undefined): ColSpec[] {
  if (!wanted?.length) return all.map((c) => ({ ...c }))
  return wanted.map((n) => {
    const c = all.find((x) => x.name === n)
    if (!c) throw new Error(`no column '${n}' in the file`)
    return { ...c }
  })
}

function join(...parts: string[]): string {
  return parts.filter(Boolean).join('/').replace(/\/{2,}/g, '/')
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c))
  return Buffer.concat(chunks)
}

/** Read the first bytes of a stream without losing them. */
async function peek(s: Readable): Promise<{ bytes: Buffer; stream: Readable }> {
  const { PassThrough } = await import('node:stream')
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = s.read() as Buffer | null
      cleanup()
      const out = new PassThrough({ highWaterMark: 1 << 20 })
      s.on('error', (e) => out.destroy(e))
      if (chunk) out.write(chunk)
      s.pipe(out)
      resolve({ bytes: chunk ?? Buffer.alloc(0), stream: out })
    }
    const onEnd = () => {
      cleanup()
      const out = new PassThrough()
      out.end()
      resolve({ bytes: Buffer.alloc(0), stream: out })
    }
    const onError = (e: Error) => {
      cleanup()
      reject(e)
    }
    const cleanup = () => {
      s.off('readable', onReadable)
      s.off('end', onEnd)
      s.off('error', onError)
    }
    s.once('readable', onReadable)
    s.once('end', onEnd)
    s.once('error', onError)
  })
}

/** Bytes a part may queue ahead of its compression and upload before a write waits. */
const PART_BUFFER = 16 << 20

/** One part file being written: encoding, compression, SHA-256 and byte count on the way to the store. */
class Part {
  readonly hash = createHash('sha256')
  bytes = 0
  rows = 0
  readonly sink: Writable
  private head: Writable
  private comp?: Transform
  private constructor(
    readonly path: string,
    readonly upload: StoreUpload,
    comp: Transform | undefined,
  ) {
    const up = upload.stream
    this.sink = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _e, cb) => {
        this.hash.update(chunk)
        this.bytes += chunk.length
        if (up.write(chunk)) cb()
        else up.once('drain', () => cb())
      },
    })
    up.on('error', (e) => this.sink.destroy(e))
    if (comp) {
      this.comp = comp
      comp.on('error', (e) => this.sink.destroy(e))
      comp.pipe(this.sink)
      this.head = comp
    } else this.head = this.sink
  }

  static async open(store: FileStore, path: string, compression: Compression, noOverwrite: boolean, signal?: AbortSignal): Promise<Part> {
    const upload = await store.write(path, { noOverwrite, ...(signal ? { signal } : {}) })
    return new Part(path, upload, compression === 'none' ? undefined : await compressor(compression))
  }

  /** The writable the format writes to (before compression). */
  get input(): Writable {
    return this.head
  }

  /**
   * Write formatted bytes. Back-pressure only past {@link PART_BUFFER} bytes queued: compression
   * (zlib's thread pool) then works on one batch while the next one is formatted.
   */
  async write(chunk: Buffer): Promise<void> {
    if (!this.head.write(chunk) && this.head.writableLength > PART_BUFFER) await this.drained()
  }

  /**
   * Write bytes the caller wants back: `release` is called once the compressor has consumed them
   * (its write callback: zlib copies its input), so their memory can be reused; never when the
   * part is not compressed (a store's stream may hold the chunk until its own write ends, so it is
   * left to the garbage collector), nor after an error.
   */
  async writeLent(chunk: Buffer, release: (() => void) | undefined): Promise<void> {
    const ok = this.comp && release ? this.head.write(chunk, (err) => (err ? undefined : release())) : this.head.write(chunk)
    if (!ok && this.head.writableLength > PART_BUFFER) await this.drained()
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e)
      this.head.once('drain', () => {
        this.head.off('error', onErr)
        resolve()
      })
      this.head.once('error', onErr)
    })
  }

  /** Publish: end compression, wait for the last byte, complete the upload. */
  async finish(): Promise<ExportedFile> {
    this.head.end()
    await finished(this.sink)
    await this.upload.done()
    return { path: this.path, rows: this.rows, bytes: this.bytes, sha256: this.hash.digest('hex') }
  }

  async abort(): Promise<void> {
    this.comp?.destroy()
    this.sink.destroy()
    await this.upload.abort().catch(() => undefined)
  }
}

/**
 * Row ranges [start, end) of a Parquet file's batches, within its row groups: about `batchBytes`
 * of values at `size.perRow` bytes a row (first from the row group's uncompressed size, then as
 * the caller measures its batches and updates it), at least 1 and at most `maxRows` rows.
 */
function* parquetBatches(groups: ReadonlyArray<{ start: number; end: number; bytes: number }>, batchBytes: number, maxRows: number, size: { perRow: number }): Generator<[number, number]> {
  for (const g of groups) {
    if (!size.perRow) size.perRow = Math.max(1, g.bytes / Math.max(1, g.end - g.start))
    for (let s = g.start; s < g.end; ) {
      const e = Math.min(g.end, s + Math.max(1, Math.min(maxRows, Math.floor(batchBytes / size.perRow))))
      yield [s, e]
      s = e
    }
  }
}

/** Kinds whose canonical value is its text as it is (both raw directions pass them unchanged). */
const TEXT_KINDS = new Set<LogicalType['kind']>(['string', 'text', 'enum', 'set', 'json', 'uuid', 'other'])

/**
 * How the raw path spells a column of this logical type in a text file (see {@link RawFieldOp});
 * undefined for kinds it leaves to the canonical path (geometry). timestamptz is spelled as the
 * MySQL raw reader gives it (main/engine/rawpath.ts takes the raw path for it from MySQL only).
 */
export function rawFieldOp(t: LogicalType): RawFieldOp | undefined {
  switch (t.kind) {
    case 'int':
    case 'year':
      return RawFieldOp.INT
    case 'float':
      return RawFieldOp.FLOAT
    case 'date':
      return RawFieldOp.DATE
    case 'datetime':
      return RawFieldOp.DATETIME
    case 'time':
      return RawFieldOp.TIME
    case 'bool':
      return RawFieldOp.BOOL
    case 'bytes':
      return RawFieldOp.BYTES
    case 'timestamptz':
      return RawFieldOp.TIMESTAMPTZ
    case 'decimal':
      return RawFieldOp.TEXT
    default:
      return TEXT_KINDS.has(t.kind) ? RawFieldOp.TEXT : undefined
  }
}

/**
 * The check a field of a column of this (effective) type passes to be read raw (see
 * {@link FieldCheck}); undefined for types left to the canonical reader (booleans, bytes,
 * float4, which it re-spells).
 */
export function rawCheckOf(t: LogicalType): FieldCheck | undefined {
  switch (t.kind) {
    case 'int':
      return FieldCheck.INT
    case 'decimal':
      return FieldCheck.DEC
    case 'float':
      return t.bits === 32 ? undefined : FieldCheck.DEC
    case 'date':
      return FieldCheck.DATE
    case 'datetime':
      return FieldCheck.DATETIME
    case 'time':
    case 'timestamptz':
      return FieldCheck.ANY
    default:
      return TEXT_KINDS.has(t.kind) ? FieldCheck.ANY : undefined
  }
}

/** The writer of one split of a file target: rows -> numbered part files. */
class FilePartsWriter implements Writer {
  protected part?: Part
  private partNo = 0
  private text?: DelimitedFormatter | JsonLinesFormatter
  protected pq?: ParquetPartWriter
  private readonly published: ExportedFile[] = []
  private readonly names: string[]
  /** Columns written. */
  protected get width(): number {
    return this.names.length
  }
  private readonly types: LogicalType[]
  protected readonly perPart: number
  private committed = false

  constructor(
    private readonly conn: FileConnector,
    private readonly store: FileStore,
    private readonly spec: WriteSpec,
    private readonly split: number,
    private readonly l: ReturnType<FileConnector['targetLayout']>,
    private readonly o: FileWriterOptions,
  ) {
    this.names = spec.columns.map((c) => c.name)
    this.types = spec.columns.map((c) => c.type)
    this.perPart = o.exportBatchRows ?? 100_000
  }

  private encoder?: (s: string) => Buffer

  protected async open(): Promise<void> {
    this.partNo++
    const name = `${this.l.base}${this.l.tag}-${String(this.split).padStart(3, '0')}-${String(this.partNo).padStart(5, '0')}${this.l.ext}`
    const path = join(this.l.dir, name)
    this.part = await Part.open(this.store, path, this.l.compression, this.o.writeMode === 'nonConflict')
    if (!this.encoder) {
      if (isUtf8(this.o.encoding)) this.encoder = (s) => Buffer.from(s, 'utf8')
      else {
        const iconv = (await import('iconv-lite')).default
        if (!iconv.encodingExists(this.o.encoding!)) throw new Error(`writer.file.encoding: unknown encoding '${this.o.encoding}'`)
        const e = this.o.encoding!
        this.encoder = (s) => iconv.encode(s, e)
      }
    }
    if (this.l.format === 'parquet') {
      this.pq = new ParquetPartWriter(this.names, this.types, this.part.input, { codec: this.o.parquetCodec ?? 'snappy', rowGroupRows: this.o.rowGroupRows ?? 100_000 })
    } else if (this.l.format === 'jsonl') {
      this.text = new JsonLinesFormatter(this.names, { nullFormat: '', bytesFormat: this.o.bytesFormat ?? 'hex', ...(this.o.lineDelimiter ? { lineDelimiter: unescapeDelimiter(this.o.lineDelimiter) } : {}) }, this.types.map((t) => t.kind === 'decimal'))
    } else {
      const d = delimitedOptions(this.o, this.l.format, false)
      const f = new DelimitedFormatter(d)
      this.text = f
      if (d.header) await this.part.write(this.encoder(f.header(this.names)))
    }
  }

  protected async closePart(): Promise<void> {
    const p = this.part!
    if (this.pq) await this.pq.finish()
    this.published.push(await p.finish())
    this.part = undefined
    this.pq = undefined
    this.text = undefined
  }

  async write(rows: Row[]): Promise<WriteOutcome> {
    const dirty: WriteOutcome['dirty'] = []
    let written = 0
    let off = 0
    while (off < rows.length) {
      if (!this.part) await this.open()
      const p = this.part!
      const take = Math.min(rows.length - off, this.perPart - p.rows)
      const chunk = rows.slice(off, off + take)
      if (this.pq) {
        const bad = await this.pq.add(chunk)
        for (const b of bad) dirty.push({ index: off + b.index, reason: b.reason, column: b.column, code: 'FILE_VALUE' })
        p.rows += chunk.length - bad.length
        written += chunk.length - bad.length
      } else {
        await p.write(this.encoder!((this.text as DelimitedFormatter | JsonLinesFormatter).rows(chunk)))
        p.rows += chunk.length
        written += chunk.length
      }
      off += take
      if (p.rows >= this.perPart) await this.closePart()
    }
    return { written, dirty }
  }

  /** The split's rows are all written: publish the last part and record the split's files. */
  async finish(): Promise<void> {
    if (this.part) await this.closePart()
    else if (!this.published.length && this.split === 0) {
      // An empty table still gets one (empty) file, with its header or schema.
      await this.open()
      await this.closePart()
    }
    await this.conn.saveFragment(this.spec.table, this.split, this.published)
    this.committed = true
  }

  async close(): Promise<void> {
    if (this.part && !this.committed) {
      const p = this.part
      this.part = undefined
      await p.abort()
    }
  }
}

/**
 * A delimited-text file writer that also takes raw batches (main/connectors/raw.ts): COPY text
 * lines turned into the file's records by {@link copyToDelimited}, byte for byte what
 * {@link FilePartsWriter.write} writes for the same rows; parts, manifest and publishing as there.
 */
class RawFilePartsWriter extends FilePartsWriter implements RawWriter {
  constructor(
    conn: FileConnector,
    store: FileStore,
    spec: WriteSpec,
    split: number,
    l: ReturnType<FileConnector['targetLayout']>,
    o: FileWriterOptions,
    private readonly raw: { dialect: RawDialect; ops: Uint8Array },
  ) {
    super(conn, store, spec, split, l, o)
  }

  /**
   * The file's records themselves (main/connectors/raw.ts RawTarget `delimited`): a reader that
   * can spell them (the MySQL raw reader) skips the COPY text step and {@link copyToDelimited}.
   */
  rawTarget(): RawTarget {
    return { format: 'delimited', dialect: this.raw.dialect, ops: this.raw.ops }
  }

  /**
   * Write a raw batch: `delimited` records as they are, COPY text lines through
   * {@link copyToDelimited}. Resolves `null` (nothing written) when a COPY text value has no raw
   * spelling here (a zero date, see {@link RawFieldOp}): the caller writes `batch.decode()` with
   * {@link write}.
   */
  async writeRaw(batch: RawBatch, signal?: AbortSignal): Promise<WriteOutcome | null> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
    if (!batch.rows) return { written: 0, dirty: [] }
    let chunk: { data: Buffer; ends: Int32Array } | string
    if (batch.format === 'delimited') {
      if (!batch.ends || batch.ends.length < batch.rows) throw new Error('file writer: a delimited batch without its record ends')
      chunk = { data: batch.data, ends: batch.ends }
    } else if (batch.format && batch.format !== 'text') return null
    else chunk = copyToDelimited(batch.data, batch.rows, this.raw.ops, this.raw.dialect)
    if (typeof chunk === 'string') return null
    // A delimited batch's memory is the reader's: it goes back (release) only once consumed, not
    // when this returns (the channel's release is taken over).
    let lent: (() => void) | undefined
    if (batch.format === 'delimited') {
      const release = batch.release?.bind(batch)
      batch.release = () => undefined
      lent = release
    }
    let row = 0
    while (row < batch.rows) {
      if (!this.part) await this.open()
      const p = this.part!
      const take = Math.min(batch.rows - row, this.perPart - p.rows)
      const bytes = chunk.data.subarray(row ? chunk.ends[row - 1]! : 0, chunk.ends[row + take - 1]!)
      if (row + take < batch.rows || !lent) await p.write(bytes)
      else await p.writeLent(bytes, lent)
      p.rows += take
      row += take
      if (p.rows >= this.perPart) await this.closePart()
    }
    return { written: batch.rows, dirty: [] }
  }
}

/**
 * A Parquet file writer that also takes raw batches (main/connectors/raw.ts) when every column's
 * kind takes COPY text ({@link parquetTakesCopyText}; main/engine/rawpath.ts decides which source
 * columns qualify): the lines' fields go into the packed row group as {@link FilePartsWriter.write}
 * would put the same rows' values there, text fields as their bytes without a JS string. Parts,
 * manifest and publishing as there.
 */
class RawParquetPartsWriter extends FilePartsWriter implements RawWriter {
  /**
   * Write a raw batch: resolves `null` (nothing written) when a field has no exact raw reading
   * here (a value not of its column's type, a zero date, an unusual escape): the caller writes
   * `batch.decode()` with {@link write}, which makes the dirty records.
   */
  async writeRaw(batch: RawBatch, signal?: AbortSignal): Promise<WriteOutcome | null> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
    if (!batch.rows) return { written: 0, dirty: [] }
    if ((batch.format && batch.format !== 'text') || batch.boolColumns?.length) return null
    const f = scanCopyText(batch.data, batch.rows, this.width)
    if (typeof f === 'string') return null
    let values: ReturnType<ParquetPartWriter['convertCopyText']> | undefined
    let row = 0
    while (row < batch.rows) {
      if (!this.part) await this.open()
      // Every part has the same columns: the batch is converted (and checked) once, before any row is added.
      values ??= this.pq!.convertCopyText(batch.data, batch.rows, f)
      if (typeof values === 'string') return null
      const p = this.part!
      const take = Math.min(batch.rows - row, this.perPart - p.rows)
      await this.pq!.addCopyText(batch.data, f, values, row, row + take)
      p.rows += take
      row += take
      if (p.rows >= this.perPart) await this.closePart()
    }
    return { written: batch.rows, dirty: [] }
  }
}
