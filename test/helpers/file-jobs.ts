/**
 * Run a Sluice job between connections in-process, as the file path tests do: the job's reader and
 * writer connections given as configs (a file folder as a `file://` URL), `env` set for the run
 * only (SLUICE_RAW, SLUICE_FILE_PGBINARY...). Fails the test when the run ends in error.
 */
import { expect } from 'vitest'
import type { ConnectionConfig } from '../../main/connectors/types.js'
import type { DirtyRecord } from '../../main/engine/events.js'
import { runJob } from '../../main/engine/run.js'
import { parseJob } from '../../main/job/spec.js'
import { timeContext } from '../../main/job/variables.js'
import { uniq } from './servers.js'

/** The run's log lines, its dirty records and the rows it wrote. */
export interface FileJobResult {
  logs: string[]
  dirty: DirtyRecord[]
  written: number
}

export async function runFileJob(reader: ConnectionConfig, writer: ConnectionConfig, spec: Record<string, unknown>, env: Record<string, string> = {}): Promise<FileJobResult> {
  const ref = (c: ConnectionConfig) => (c.kind === 'file' ? `file://${c.path}` : c)
  const sp = spec as { reader?: Record<string, unknown>; writer?: Record<string, unknown> }
  const parsed = parseJob({ ...spec, reader: { ...sp.reader, connection: ref(reader) }, writer: { ...sp.writer, connection: ref(writer) } })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
  const logs: string[] = []
  const dirty: DirtyRecord[] = []
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    const summary = await runJob({
      runId: `fjob-${uniq()}`,
      job: parsed.job,
      reader,
      writer,
      vars: {},
      time: timeContext(),
      channelMode: 'inprocess',
      onEvent: (e) => {
        if (e.type === 'run/log') logs.push(e.message)
      },
      onDirty: (rs) => dirty.push(...rs),
    })
    expect(summary.error).toBeUndefined()
    return { logs, dirty, written: summary.rowsWritten }
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
