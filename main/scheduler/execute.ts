/**
 * The real {@link Executor}: a job instance is a run of the job version it was created with
 * (`${bizdate}` = its data time, `${cyctime}` = its scheduled time); a workflow instance runs its
 * nodes (main/workflow/run.ts). A resumed job instance whose last run did not succeed takes that
 * run up again from its split checkpoints (no duplicates, no gaps).
 */
import type { EngineEvent } from '../engine/events.js'
import { startRun } from '../engine/service.js'
import type { Store } from '../store/index.js'
import type { InstanceRow } from '../store/scheduler.js'
import { localDate, runWorkflowInstance } from '../workflow/run.js'
import type { Execution, ExecutionContext, Executor } from './core.js'

/** Build the executor. `onEvent` receives the engine events of the runs it starts. */
export function createExecutor(store: Store, opts: { onEvent?: (e: EngineEvent) => void } = {}): Executor {
  return {
    start(i: InstanceRow, ctx: ExecutionContext): Execution {
      if (i.targetKind === 'workflow') return runWorkflowInstance(store, i, ctx)
      const prev = ctx.resume && i.runId ? store.runs.get(i.runId) : undefined
      let handle
      if (prev && prev.state !== 'succeeded') {
        ctx.log('info', `resuming run ${prev.id} from its checkpoints`)
        handle = startRun({ store, resumeRunId: prev.id, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) })
      } else {
        const job = store.jobs.get(i.targetId, i.version)
        if (!job) throw new Error(`job ${i.targetName} version ${i.version} no longer exists`)
        handle = startRun({
          store,
          spec: job.spec,
          jobId: job.id,
          jobVersion: job.version,
          name: `${job.name} ${i.dataTime.replaceAll('-', '')}`,
          bizdate: i.dataTime.replaceAll('-', ''),
          now: localDate(i.cyctime),
          ...(i.vars ? { vars: i.vars } : {}),
          ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
        })
      }
      ctx.setRunId(handle.runId)
      ctx.log('info', `run ${handle.runId}`)
      return {
        done: handle.done.then((s) => ({ state: s.state === 'succeeded' || s.state === 'succeeded_with_warnings' ? 'succeeded' : s.state === 'terminated' ? 'terminated' : 'failed', ...(s.error ? { error: s.error } : {}) })),
        cancel: () => handle.cancel(),
      }
    },
  }
}
