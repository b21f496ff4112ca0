/**
 * File sides in a run: what the runner adds for a reader or writer that is a file connection
 * (main/connectors/file/). Kept here so run.ts only calls in at a few points.
 *
 * - {@link withFileSides}: the job's `reader.file` / `writer.file` options (variables
 *   substituted) travel inside the connection settings (`config.options.file`), so worker-thread
 *   channels, which open their own connectors from plain settings, read and write alike.
 */
import { isFileStoreKind, type ConnectionConfig } from '../connectors/types.js'
import type { FileSideOptions } from '../connectors/file/connector.js'
import type { JobSpec } from '../job/spec.js'
import { substitute, type TimeContext } from '../job/variables.js'

export { isFileConnector } from '../connectors/file/connector.js'

/**
 * The reader and writer settings with their file options, when a side is a file store.
 * @throws VariableError naming the JSON path of a bad variable in `writer.file.path` / `fileName`.
 */
export function withFileSides<T extends { reader: ConnectionConfig; writer: ConnectionConfig; job: JobSpec; runId: string; vars: Record<string, string>; time: TimeContext }>(ctx: T): T {
  const { job } = ctx
  const sub = (s: string | undefined, path: string) => (s === undefined ? undefined : substitute(s, ctx.vars, ctx.time, path))
  let reader = ctx.reader
  let writer = ctx.writer
  if (isFileStoreKind(reader.kind)) {
    const ro = job.reader.file ? { ...job.reader.file } : {}
    if (ro.column) ro.column = ro.column.map((c, i) => (typeof c.value === 'string' ? { ...c, value: sub(c.value, `$.reader.file.column[${i}].value`)! } : c))
    const file: FileSideOptions = { role: 'reader', reader: ro, runId: ctx.runId }
    reader = { ...reader, options: { ...reader.options, file } }
  }
  if (isFileStoreKind(writer.kind)) {
    const wo = job.writer.file ? { ...job.writer.file } : {}
    if (wo.path !== undefined) wo.path = sub(wo.path, '$.writer.file.path')!
    if (wo.fileName !== undefined) wo.fileName = sub(wo.fileName, '$.writer.file.fileName')!
    const file: FileSideOptions = { role: 'writer', writer: wo, runId: ctx.runId, wholeDatabase: !Array.isArray(job.tables) }
    writer = { ...writer, options: { ...writer.options, file } }
  }
  return reader === ctx.reader && writer === ctx.writer ? ctx : { ...ctx, reader, writer }
}

/**
 * One side's settings with its file options (as {@link withFileSides}), for planning outside a
 * run (validate, the wizard's preview): a database side is returned as it is.
 */
export function fileSideConfig(config: ConnectionConfig, side: 'reader' | 'writer', job: JobSpec, vars: Record<string, string>, time: TimeContext): ConnectionConfig {
  if (!isFileStoreKind(config.kind)) return config
  const other: ConnectionConfig = { kind: 'sqlite', path: ':memory:' }
  const r = withFileSides({ reader: side === 'reader' ? config : other, writer: side === 'writer' ? config : other, job, runId: 'plan', vars, time })
  return side === 'reader' ? r.reader : r.writer
}
