/**
 * The write locks of a run started by service.ts: its `run:` and `job:` leases when it starts,
 * its `target:` leases and the targets' database advisory locks once the job is planned
 * (main/store/locks.ts, main/engine/locks.ts). Leases are refreshed every
 * {@link HEARTBEAT_MS} while the run lives and given back when it ends.
 */
import type { ConnectionConfig, Connector, TableRef } from '../connectors/types.js'
import type { Store } from '../store/index.js'
import { HEARTBEAT_MS, LeaseHeld, type LeaseResource } from '../store/locks.js'
import { takeAdvisoryLocks, targetResource } from './locks.js'
import type { PlannedTask } from './plan.js'

/** Locks a run holds on its targets (run.ts `RunContext.lockTargets`). */
export interface TargetLocks {
  /** Give the locks back. Never rejects. */
  release(): Promise<void>
  /** Other runs that wrote `target` since this run first held it (main/store/locks.ts `writersSince`). */
  intruders(target: TableRef): string[]
}

/**
 * Take `run:<runId>` and, for a saved job, `job:<jobId>`, and keep them beating.
 * @throws LeaseHeld ("job X is already running as run R", "run R is still running ...");
 *   a run record created for this start (`created`) is deleted first.
 */
export function takeRunLeases(store: Store, runId: string, jobId: string | undefined, created: boolean): { release(): void } {
  const resources: LeaseResource[] = [{ resource: `run:${runId}`, label: runId }]
  if (jobId) resources.push({ resource: `job:${jobId}`, label: store.jobs.get(jobId)?.name ?? jobId })
  try {
    store.locks.acquire(runId, resources)
  } catch (e) {
    if (created && e instanceof LeaseHeld) store.runs.delete(runId)
    throw e
  }
  const beat = setInterval(() => {
    try {
      store.locks.heartbeat(runId)
    } catch {
      /* a closed store: the run is ending */
    }
  }, HEARTBEAT_MS)
  beat.unref?.()
  let released = false
  return {
    release() {
      if (released) return
      released = true
      clearInterval(beat)
      try {
        store.locks.release(runId)
      } catch {
        /* a closed store */
      }
    },
  }
}

/** `RunContext.lockTargets` for a run of `store` writing through `writerCfg`. */
export function targetLocker(store: Store, runId: string, writerCfg: ConnectionConfig): (tasks: PlannedTask[], writer: Connector) => Promise<TargetLocks> {
  return async (tasks, writer) => {
    const schema = writer.defaultSchema
    const seen = new Map<string, { res: LeaseResource; table: PlannedTask['target'] }>()
    for (const t of tasks) {
      const res = targetResource(writerCfg, schema, t.target)
      if (!seen.has(res.resource)) seen.set(res.resource, { res, table: t.target })
    }
    const resources = [...seen.values()].map((x) => x.res)
    store.locks.acquire(runId, resources)
    let advisory
    try {
      advisory = await takeAdvisoryLocks(writerCfg, schema, [...seen.values()].map((x) => x.table), runId)
    } catch (e) {
      store.locks.release(runId, resources.map((r) => r.resource))
      throw e
    }
    return {
      async release() {
        await advisory.release()
        try {
          store.locks.release(runId, resources.map((r) => r.resource))
        } catch {
          /* a closed store */
        }
      },
      intruders: (target) => store.locks.writersSince(targetResource(writerCfg, schema, target).resource, runId),
    }
  }
}
