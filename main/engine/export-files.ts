/**
 * Clean-up of the files runs exported (the seeds' "data clean-up"): delete a run's export files
 * from their store and record each one's state: `deleted` (removed now), `absent` (already gone),
 * `exists` (still there: a check without deleting). Used by `sluice files clean <run-id>`, the
 * API (`exportFiles/clean`, `exportFiles/check`) and the Data clean-up view.
 */
import { openStore } from '../connectors/file/connector.js'
import { isFileStoreKind } from '../connectors/types.js'
import { describeConnection, isConnectionUrl, maskUrl } from '../connectors/url.js'
import { parseJob, type ConnectionRef } from '../job/spec.js'
import type { ExportFile, Store } from '../store/index.js'
import { resolveConnectionRef } from './service.js'

/** The display form of a job's writer connection for the export-file records (never a secret). */
export function connectionLabel(ref: ConnectionRef): string {
  if (typeof ref !== 'string') return describeConnection(ref as never)
  return isConnectionUrl(ref) ? maskUrl(ref) : ref
}

/**
 * Delete (or, with `checkOnly`, look for) the export files of run `runId` that are in state
 * `exists` (or exactly the files `ids`), and record their new states.
 * @returns the run's export files after the clean-up.
 * @throws Error naming the run when it does not exist, or when its writer is not a file connection.
 */
export async function cleanExportFiles(store: Store, runId: string, opts: { ids?: number[]; checkOnly?: boolean } = {}): Promise<ExportFile[]> {
  const run = store.runs.get(runId)
  if (!run) throw new Error(`files clean: no run '${runId}'`)
  const files = store.exportFiles.list(runId).filter((f) => (opts.ids ? opts.ids.includes(f.id) : f.state === 'exists'))
  if (!files.length) return store.exportFiles.list(runId)
  const parsed = parseJob(run.spec)
  if (!parsed.ok) throw new Error(`files clean: run ${runId}: its job is no longer valid: ${parsed.problems[0]?.message}`)
  const config = resolveConnectionRef(store, parsed.job.writer.connection, '$.writer.connection')
  if (!isFileStoreKind(config.kind)) throw new Error(`files clean: run ${runId} wrote to ${config.kind}, not to files`)
  const fs = await openStore(config)
  try {
    for (const f of files) {
      if (opts.checkOnly) {
        store.exportFiles.setState(f.id, (await fs.stat(f.path)) ? 'exists' : 'absent')
        continue
      }
      const removed = await fs.delete(f.path)
      store.exportFiles.setState(f.id, removed ? 'deleted' : 'absent')
    }
  } finally {
    await fs.close()
  }
  return store.exportFiles.list(runId)
}
