/**
 * File sides of a job: `reader.file` / `writer.file` (formats, compression, columns, part files).
 * The zod schemas here are merged into the job spec (spec.ts) and so into the published JSON
 * Schema. Field names follow DataX's txtfilereader / txtfilewriter where DataX has the concept
 * (`fieldDelimiter`, `encoding`, `nullFormat`, `skipHeader`, `column: [{index, type, format}]`,
 * `writeMode: truncate | append | nonConflict`, `fileName`), and the seeds' `export_batch_rows`
 * as `exportBatchRows`.
 *
 * Renderer-safe: no Node APIs.
 */
import { z } from 'zod'

/** Supported file formats. `csv` covers every delimited text (TSV, `\001`-separated, ...). */
export const FILE_FORMATS = ['csv', 'tsv', 'jsonl', 'parquet'] as const
export type FileFormat = (typeof FILE_FORMATS)[number]

/** One declared column of a file (DataX `column: [{index, type, format}]`, or by header name, or a constant). */
export const FileColumnSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('Column name: the header name to read it by, and the name it takes in the job (default: the header name, or c<index>)'),
    index: z.number().int().min(0).optional().describe('0-based field index (DataX column.index); without it the column is found by name in the header'),
    type: z.string().min(1).optional().describe('long, double, decimal(p,s), string, boolean, date, datetime, timestamp, timestamptz, time, bytes, json (DataX types accepted); default string'),
    format: z.string().optional().describe('Pattern of a date / datetime written as text, e.g. yyyyMMdd or dd/MM/yyyy HH:mm:ss (DataX column.format)'),
    value: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional().describe('A constant for every row (DataX column.value); variables allowed'),
  })
  .describe('One file column')

export type FileColumn = z.output<typeof FileColumnSchema>

const FormatFields = {
  format: z.enum(FILE_FORMATS).optional().describe('csv (any delimited text), tsv, jsonl (JSON Lines) or parquet; default from the file extension, else csv'),
  compression: z.enum(['none', 'gzip', 'zstd', 'auto']).optional().describe('Whole-file compression of csv / jsonl: gzip or zstd; auto (reader default) by extension and magic bytes; writer default none'),
  fieldDelimiter: z.string().min(1).optional().describe('Field delimiter; escapes \\t, \\001 and \\u0001 are understood (default , for csv, \\t for tsv)'),
  quote: z.string().max(1).optional().describe('Quote character (default "); empty: no quoting'),
  escape: z.string().max(1).optional().describe('Escape character inside quotes (default: the quote, doubled)'),
  lineDelimiter: z.string().min(1).optional().describe('Writer: line delimiter (default \\n); reader: detected (\\n, \\r\\n, \\r) unless given'),
  encoding: z.string().min(1).optional().describe('Text encoding (utf-8 default; gbk, gb18030, latin1 ... through iconv-lite)'),
  nullFormat: z.string().optional().describe('Text standing for NULL (default \\N); a quoted field is never NULL, so the text itself survives quoted'),
  bytesFormat: z.enum(['hex', 'base64']).optional().describe('How binary values are written as text (default hex)'),
  header: z.boolean().optional().describe('csv: the first (non-skipped) line is a header row (reader) / write a header row (writer); default true'),
}

/** `reader.file`: how the files of a file connection are read. */
export const FileReaderSchema = z
  .strictObject({
    ...FormatFields,
    skipRows: z.number().int().min(0).optional().describe('Lines skipped before the header (or before the data without a header)'),
    skipHeader: z.boolean().optional().describe('DataX spelling: the first line is a header and is skipped (columns then go by index)'),
    column: z.array(FileColumnSchema).optional().describe('Declared columns: by index or by header name, with a type and format, or constants; default every header column as text (Parquet: its schema)'),
    fileNameColumn: z.string().optional().describe('Add a column with the source file path under this name'),
  })
  .describe('File reader options (when the reader connection is a file store)')

export type FileReaderOptions = z.output<typeof FileReaderSchema>

/** `writer.file`: how a file connection is written. */
export const FileWriterSchema = z
  .strictObject({
    ...FormatFields,
    path: z.string().optional().describe('Folder under the connection root the files go to (variables allowed); default the root'),
    fileName: z.string().optional().describe('Base name of the files (variables allowed); default the target table name'),
    writeMode: z.enum(['truncate', 'append', 'nonConflict']).optional().describe('truncate: delete earlier files of the same base name first; append: add files next to them; nonConflict: fail when any exists (DataX); default truncate'),
    exportBatchRows: z.number().int().min(1).optional().describe('Rows per part file (the seeds\' export_batch_rows); default 100,000'),
    folderPerTable: z.boolean().optional().describe('One folder per table under path (default: true for a whole-database job, else false)'),
    manifest: z.boolean().optional().describe('Write <fileName>.manifest.json listing every file with rows, bytes and SHA-256 (default true)'),
    parquetCodec: z.enum(['snappy', 'gzip', 'zstd', 'none']).optional().describe('Parquet page compression (default snappy)'),
    rowGroupRows: z.number().int().min(1).optional().describe('Parquet rows per row group (default 100,000)'),
  })
  .describe('File writer options (when the writer connection is a file store)')

export type FileWriterOptions = z.output<typeof FileWriterSchema>
