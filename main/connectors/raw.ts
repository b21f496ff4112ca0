/**
 * The raw (wire-text) path of a channel: an optional capability of a reader connector and a writer
 * that moves a big table's rows between MySQL and PostgreSQL as text lines, without making a JS
 * value per field. It exists for speed only; what lands in the target is exactly what the
 * canonical path ({@link Connector.read} -> mapping -> {@link Writer.write}) would write, because
 * the engine only takes it for column pairs where the canonical value's text is the wire text
 * (see main/engine/rawpath.ts), and any batch the target refuses goes through the canonical path.
 *
 * Format of {@link RawBatch.data}: PostgreSQL COPY text (https://www.postgresql.org/docs/15/sql-copy.html,
 * "Text Format"): one row per line ended by LF, fields separated by TAB, NULL spelled `\N`,
 * backslash, TAB, LF and CR inside a field escaped as `\\` `\t` `\n` `\r`. PostgreSQL reads it
 * with `COPY FROM STDIN`; MySQL's `LOAD DATA ... FIELDS TERMINATED BY '\t' ESCAPED BY '\\'`
 * reads the same escapes (MySQL manual, "LOAD DATA", FIELDS ESCAPED BY), except PostgreSQL's
 * `\f` / `\v`, which the MySQL writer detects and leaves to the canonical path.
 */
import type { Row } from '../core/types.js'
import type { RawDialect, RawFieldOp } from './delimited.js'
import type { PgBinaryType } from './pg-binary.js'
import type { Connector, ReadOptions, Split, WriteOutcome, Writer } from './types.js'

/**
 * A target format a writer can take besides COPY text:
 * - `pgbinary`: PostgreSQL's binary COPY (main/connectors/pg-binary.ts) with one
 *   {@link PgBinaryType} per written column, in write order;
 * - `delimited`: the records of a delimited text file (main/connectors/delimited.ts), in the
 *   `dialect`, each column spelled per its {@link RawFieldOp} in `ops` (write order): exactly
 *   the bytes the file writer's own COPY text loop (file/rawtext.ts copyToDelimited) would make of
 *   the same rows. A reader that can spell every column so yields `format: 'delimited'` batches.
 */
export type RawTarget = { format: 'pgbinary'; types: readonly PgBinaryType[] } | { format: 'delimited'; dialect: RawDialect; ops: Uint8Array }

/** {@link ReadOptions} of a raw read. */
export interface RawReadOptions extends ReadOptions {
  /**
   * The writer's binary format, when it has one: a reader that can encode every column for it
   * yields batches in that format (`RawBatch.format`), otherwise COPY text.
   */
  target?: RawTarget
  /**
   * The writer takes `format: 'csv'` batches ({@link RawWriter.takesCsv}): a file reader may pass
   * records as they are. Without it the reader yields COPY text (or `pgbinary` for a `target`).
   */
  csv?: boolean
}

/** A batch of rows as COPY text lines (see the file comment), or as binary COPY tuples. */
export interface RawBatch {
  /**
   * `text` (default): whole lines only, `rows` lines each ended by LF. `csv`: see {@link csv}. `pgbinary`: `rows` tuples
   * of PostgreSQL's binary COPY format without its header and trailer (the writer adds them),
   * in the {@link RawTarget} the reader was given. `delimited`: `rows` records of the
   * `delimited` {@link RawTarget} the reader was given, record i ending at `ends[i]`.
   */
  format?: 'text' | 'pgbinary' | 'csv' | 'delimited'
  /**
   * `csv`: `rows` records of delimited text as PostgreSQL's `COPY ... (FORMAT csv)` reads them
   * with these options (ESCAPE = QUOTE, no header), each record exactly one row: what the file
   * reader yields when a file's fields are the written columns in order (file/rawread.ts).
   */
  csv?: { delimiter: string; quote: string; null: string }
  /**
   * The reader met a value the binary format cannot carry as the text path would (a zero or
   * invalid date, an integer out of the target's range...): the batch must not be written raw;
   * `decode()` gives its rows for the canonical path, which decides as usual (dirty records).
   */
  refused?: boolean
  /** `delimited`: the byte offset just past each record's delimiter in `data` (`rows` entries). */
  ends?: Int32Array
  /** The rows (see {@link format}). */
  data: Buffer
  /** Number of lines in `data`. */
  rows: number
  /** Bytes reported to progress and the throttle (`data.length`). */
  approxBytes: number
  /** How the reader produced it, for logs (e.g. `MySQL binary protocol`). */
  via?: string
  /**
   * 0-based columns whose text is PostgreSQL's boolean output (`t` / `f`), which a writer whose
   * canonical spelling of a boolean differs (MySQL: `1` / `0`) must translate.
   */
  boolColumns?: readonly number[]
  /**
   * The same rows as canonical values of the source columns (what {@link Connector.read} would
   * have yielded), for the canonical fallback: dirty-row narrowing and dirty records.
   * A `delimited` batch has no decoding (its writer takes every such batch whole, see
   * {@link RawWriter.rawTarget}) and throws.
   * @throws Error when the text is not valid COPY text (a bug, never data).
   */
  decode(): Row[]
  /**
   * Optional: the consumer is done with `data` (written, or decoded); the reader may reuse its
   * memory for a later batch, which spares allocating and page-faulting fresh megabytes per
   * batch. Never touch `data` after calling it. Safe to call twice. The channel calls it once
   * {@link RawWriter.writeRaw} resolves; a writer that still holds `data` then (the file writer,
   * whose compressor takes it asynchronously) replaces `release` with a no-op and calls the
   * original itself once done.
   */
  release?(): void
}

/** A reader connector that can stream a split as {@link RawBatch}es. */
export interface RawReadable {
  /**
   * Stream one split (column order = `split.read.columns`, as {@link Connector.read}) as raw
   * batches of about `opts.batchBytes` bytes. Throws {@link RawUnsupported} before the first
   * batch when a column's wire form has no raw spelling (binary, BIT, geometry, TIMESTAMP...):
   * the caller then reads the split with {@link Connector.read}.
   */
  readRaw(split: Split, opts?: RawReadOptions): AsyncIterable<RawBatch>
}

/** A writer that can take {@link RawBatch}es. */
export interface RawWriter extends Writer {
  /**
   * Write a raw batch in one transaction. Resolves with the outcome when every row landed and was
   * committed, or `null` when the target refused some row (nothing of the batch is committed;
   * the caller writes `batch.decode()` with {@link Writer.write}, which narrows to dirty rows).
   * @throws for errors that are not about a row (connection lost, table missing, abort).
   */
  writeRaw(batch: RawBatch, signal?: AbortSignal): Promise<WriteOutcome | null>
  /**
   * The format this writer takes for its columns besides COPY text, when it has one for all of
   * them. A writer offering `delimited` writes every `delimited` batch whole (never `null`): such
   * a batch cannot be decoded.
   */
  rawTarget?(): RawTarget | undefined
  /**
   * True when {@link writeRaw} takes `format: 'csv'` batches (PostgreSQL's `COPY ... (FORMAT
   * csv)`). A writer without it only ever gets COPY text (or its {@link rawTarget} format).
   */
  readonly takesCsv?: boolean
}

/** Thrown by {@link RawReadable.readRaw} when a split cannot be read raw (see there). */
export class RawUnsupported extends Error {
  override name = 'RawUnsupported'
}

/** The connector's raw reader, when it has one. */
export function rawReadable(c: Connector): RawReadable | undefined {
  const r = (c as Connector & { raw?: RawReadable }).raw
  return r && typeof r.readRaw === 'function' ? r : undefined
}

/** The writer's raw entry point, when it has one. */
export function rawWriter(w: Writer): RawWriter | undefined {
  return typeof (w as Partial<RawWriter>).writeRaw === 'function' ? (w as RawWriter) : undefined
}

/** Count LF bytes in `b` from `start` to `end` (the rows of a raw batch). */
export function countLines(b: Buffer, start = 0, end = b.length): number {
  let n = 0
  for (let i = b.indexOf(10, start); i >= 0 && i < end; i = b.indexOf(10, i + 1)) n++
  return n
}
