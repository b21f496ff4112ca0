/**
 * Handlers the workbench screens use besides the core map (issue 14): which jobs use a connection
 * (shown before a delete), a run's differing keys (TableDataDiff, hashdiff), and DataX / DataWorks
 * job import from a dropped file. Merged into the handler map by handlers.ts.
 */
import type { Store } from '../store/index.js'
import type { Api } from './contract.js'
import { apiError } from './errors.js'

/** The jobs whose latest version refers to the saved connection `id` (by its id, or by its name as older jobs do). */
export function jobsUsingConnection(store: Store, id: string): Array<{ id: string; name: string }> {
  const c = store.connections.get(id)
  if (!c) return []
  const refs = new Set([c.id, c.name.toLowerCase()])
  const uses = (ref: unknown) => typeof ref === 'string' && (refs.has(ref) || refs.has(ref.toLowerCase()))
  const out: Array<{ id: string; name: string }> = []
  for (const j of store.jobs.list({})) {
    const spec = store.jobs.get(j.id)?.spec as { reader?: { connection?: unknown }; writer?: { connection?: unknown } } | undefined
    if (spec && (uses(spec.reader?.connection) || uses(spec.writer?.connection))) out.push({ id: j.id, name: j.name })
  }
  return out
}

/**
 * After a rename: jobs that named the connection by its old name (older jobs, hand-written specs)
 * get a new version referring to it by id, so the rename does not break them. Returns their ids.
 */
export function relinkJobs(store: Store, id: string, oldName: string): string[] {
  const old = oldName.toLowerCase()
  const out: string[] = []
  for (const j of store.jobs.list({})) {
    const cur = store.jobs.get(j.id)
    const spec = cur?.spec as { reader?: { connection?: unknown }; writer?: { connection?: unknown } } | undefined
    if (!spec) continue
    let changed = false
    for (const side of [spec.reader, spec.writer]) {
      if (side && typeof side.connection === 'string' && side.connection.toLowerCase() === old) {
        side.connection = id
        changed = true
      }
    }
    if (changed) {
      store.jobs.save(spec, { id: j.id, name: j.name })
      out.push(j.id)
    }
  }
  return out
}

/** The handlers of this module. */
export function workbenchHandlers(store: Store): Pick<Api, 'connections/usage' | 'runs/diffs' | 'jobs/import'> {
  return {
    async 'connections/usage'(a) {
      const id = typeof a?.id === 'string' ? a.id : ''
      if (!store.connections.get(id)) throw apiError('NOT_FOUND', `no connection with id ${JSON.stringify(id)}`, 'id')
      return jobsUsingConnection(store, id)
    },
    async 'runs/diffs'(a) {
      const runId = typeof a?.runId === 'string' ? a.runId : ''
      if (!store.runs.get(runId)) throw apiError('NOT_FOUND', `no run with id ${JSON.stringify(runId)}`, 'runId')
      return store.diffs.list(runId)
    },
    async 'jobs/import'(a) {
      if (typeof a?.text !== 'string') throw apiError('BAD_REQUEST', 'text: expected the file content', 'text')
      let doc: unknown
      try {
        doc = JSON.parse(a.text)
      } catch (e) {
        throw apiError('BAD_REQUEST', `text: not JSON: ${(e as Error).message}`, 'text')
      }
      const { detectFormat, importDataX, importDataWorks } = await import('../job/interop/index.js')
      const format = detectFormat(doc)
      if (format !== 'datax' && format !== 'dataworks') throw apiError('BAD_REQUEST', `not a DataX or DataWorks job (detected: ${format})`, 'text')
      const name = (a.fileName ?? 'imported').replace(/^.*[\\/]/, '').replace(/(\.(datax|dataworks))?\.json$/i, '')
      try {
        // Passwords stay placeholders: the server's environment is not the user's.
        const r = format === 'datax' ? importDataX(doc, { name, env: {} }) : importDataWorks(doc, { name, env: {} })
        return { format, spec: r.job, report: r.report }
      } catch (e) {
        const report = (e as { report?: string[] }).report
        throw apiError('BAD_REQUEST', `${(e as Error).message}${report?.length ? `: ${report.join('; ')}` : ''}`, 'text')
      }
    },
  }
}
