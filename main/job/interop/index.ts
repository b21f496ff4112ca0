/**
 * Job interop: Sluice jobs <-> DataX job JSON, DataWorks script mode, SeaTunnel configs.
 *
 * - {@link exportJob}: a Sluice job as files of another tool, with every thing that tool cannot
 *   express listed in `warnings` (never dropped silently). Passwords never appear in clear:
 *   they become `${PASSWORD_<CONNECTION_NAME>}` placeholders (DataWorks: no password at all).
 * - {@link importDataX} / {@link importDataWorks}: another tool's job as a Sluice job plus a report.
 * - {@link detectFormat}: which of these a JSON document is.
 * - {@link formatDataXSummary}: DataX's closing run figures, for `sluice run datax-job.json`.
 */
import type { ConnectionConfig } from '../../connectors/types.js'
import { isConnectionUrl, parseConnectionUrl } from '../../connectors/url.js'
import type { ConnectionRef, JobSpec } from '../spec.js'
import { InteropError, isObject, type ExportFormat, type ExportOptions, type ExportResult } from './common.js'
import { exportDataWorks } from './dataworks.js'
import { exportDataX } from './datax.js'
import { exportSeaTunnel } from './seatunnel.js'
import { exportFileJob, hasFileSide } from './files.js'

export { importDataX, formatDataXSummary, exportDataX, type ImportResult, type ImportOptions } from './datax.js'
export { importDataWorks, exportDataWorks } from './dataworks.js'
export { exportSeaTunnel, buildSeaTunnelConfig, toHocon, toSeaTunnelJson } from './seatunnel.js'
export { InteropError, passwordVar, type ExportFormat, type ExportOptions, type ExportResult, type ExportedFile, type NamedConnection } from './common.js'

/**
 * The default resolver: URLs and inline connection objects resolve by themselves; a saved
 * connection's name cannot be resolved without the state store.
 * @throws InteropError naming the connection.
 */
export function resolveWithoutStore(ref: ConnectionRef): ConnectionConfig {
  if (typeof ref !== 'string') return { ...ref } as ConnectionConfig
  if (isConnectionUrl(ref)) return parseConnectionUrl(ref)
  throw new InteropError(`'${ref}' is a saved connection name; it cannot be resolved here (use a URL or an inline connection, or export from the app, which knows saved connections)`)
}

/**
 * Export a validated job to `format`.
 * @param resolve turns the job's connection references into settings (only kind, host, port,
 *   database, schema, user and path are used; passwords never leave this function).
 * @throws InteropError when a connection cannot be resolved.
 */
export function exportJob(job: JobSpec, format: ExportFormat, resolve: (ref: ConnectionRef) => ConnectionConfig = resolveWithoutStore, opts: ExportOptions = {}): ExportResult {
  // A file side (local folder, FTP, SFTP, S3): DataX's text / FTP plugins, SeaTunnel's *File connectors.
  if (hasFileSide(job, resolve)) return exportFileJob(job, format, resolve, opts)
  switch (format) {
    case 'datax':
      return exportDataX(job, resolve, opts)
    case 'dataworks':
      return exportDataWorks(job, resolve, opts)
    case 'seatunnel-hocon':
      return exportSeaTunnel(job, resolve, 'hocon', opts)
    case 'seatunnel-json':
      return exportSeaTunnel(job, resolve, 'json', opts)
    default:
      throw new InteropError(`unknown export format '${String(format)}' (datax, dataworks, seatunnel-hocon, seatunnel-json)`)
  }
}

/**
 * Which kind of job document `doc` is: a Sluice job (`reader`, `writer`, `tables`), a DataX job
 * (`job.content[]`, or an array of them), a DataWorks script-mode job (`type: "job"`, `steps[]`), or unknown.
 */
export function detectFormat(doc: unknown): 'sluice' | 'datax' | 'dataworks' | 'unknown' {
  if (Array.isArray(doc)) return doc.length > 0 && doc.every((d) => detectFormat(d) === 'datax') ? 'datax' : 'unknown'
  if (!isObject(doc)) return 'unknown'
  if (isObject(doc.job) && Array.isArray(doc.job.content)) return 'datax'
  if (Array.isArray(doc.steps) && (doc.type === 'job' || doc.version !== undefined)) return 'dataworks'
  if (isObject(doc.reader) && isObject(doc.writer) && doc.tables !== undefined) return 'sluice'
  return 'unknown'
}
