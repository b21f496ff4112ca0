/**
 * API handlers of issue 15 ("After the copy"), merged into the handler map by
 * main/api/handlers.ts: the source clean-up (`cleanup/*`) and the table-mapping import
 * (`jobs/fromMapping`). Clean-ups started here run in the background; `cleanup/overview` and
 * `cleanup/get` show their progress (the state DB records every batch).
 */
import { ApiError, type Api } from '../api/contract.js'
import { jobFromMapping } from '../job/mapping.js'
import type { Store } from '../store/index.js'
import { CleanupRefused, cleanupOverview, dryRunCleanup, runCleanup } from './index.js'

type CleanupMethods = Pick<Api, 'cleanup/overview' | 'cleanup/dryRun' | 'cleanup/start' | 'cleanup/cancel' | 'cleanup/history' | 'cleanup/get' | 'jobs/fromMapping'>

/** The handlers, and `dispose` to stop running clean-ups (each ends `terminated`, resumable). */
export function cleanupHandlers(store: Store): { handlers: CleanupMethods; dispose(): Promise<void> } {
  const active = new Map<string, { abort: AbortController; done: Promise<unknown> }>()
  const apiError = (code: string, message: string, path?: string) => new ApiError({ name: 'ApiError', code, message, ...(path ? { path } : {}) })
  const str = (v: unknown, path: string): string => {
    if (typeof v !== 'string' || v === '') throw apiError('BAD_REQUEST', `${path}: expected a non-empty string`, path)
    return v
  }
  const refused = (e: unknown): never => {
    if (e instanceof CleanupRefused) throw apiError('CLEANUP_REFUSED', e.message, 'target')
    throw e
  }
  const handlers: CleanupMethods = {
    async 'cleanup/overview'() {
      return cleanupOverview(store)
    },
    async 'cleanup/dryRun'(a) {
      return dryRunCleanup(store, { target: str(a?.target, 'target'), ...(a.batch ? { batch: a.batch } : {}) })
    },
    async 'cleanup/start'(a) {
      const target = str(a?.target, 'target')
      if (a.force && !a.reason?.trim()) throw apiError('BAD_REQUEST', 'reason: a forced clean-up needs a reason (it is recorded)', 'reason')
      const abort = new AbortController()
      let resolveId!: (id: string) => void
      const started = new Promise<string>((r) => (resolveId = r))
      const done = runCleanup(store, {
        target,
        ...(a.batch ? { batch: a.batch } : {}),
        ...(a.force ? { force: true, reason: a.reason! } : {}),
        signal: abort.signal,
        onStart: (id) => {
          active.set(id, { abort, done })
          resolveId(id)
        },
      })
      done
        .finally(() => {
          for (const [id, v] of active) if (v.abort === abort) active.delete(id)
        })
        .catch(() => undefined)
      // Refusals and errors before the first batch reach the caller; later ones are recorded.
      const id = await Promise.race([started, done.then((r) => r.cleanup.id, refused)])
      return { cleanupId: id }
    },
    async 'cleanup/cancel'(a) {
      active.get(str(a?.cleanupId, 'cleanupId'))?.abort.abort()
    },
    async 'cleanup/history'(a) {
      return store.cleanups.list({ ...(a?.jobId ? { jobId: a.jobId } : {}), ...(a?.runId ? { runId: a.runId } : {}), ...(a?.limit ? { limit: a.limit } : {}) })
    },
    async 'cleanup/get'(a) {
      const id = str(a?.cleanupId, 'cleanupId')
      const c = store.cleanups.get(id)
      if (!c) throw apiError('NOT_FOUND', `cleanupId: no clean-up ${JSON.stringify(id)}`, 'cleanupId')
      return { ...c, tasks: store.cleanups.tasks(id), batches: store.cleanups.batches(id) }
    },
    async 'jobs/fromMapping'(a) {
      const r = jobFromMapping(typeof a?.text === 'string' ? a.text : '', { reader: str(a?.reader, 'reader'), writer: str(a?.writer, 'writer'), ...(a.name ? { name: a.name } : {}) })
      return { spec: r.job, problems: r.problems, tasks: r.tasks }
    },
  }
  return {
    handlers,
    async dispose() {
      for (const v of active.values()) v.abort.abort()
      await Promise.allSettled([...active.values()].map((v) => v.done))
    },
  }
}
