/**
 * The workflow `cleanup` node (issue 15): after a sync node loaded a job for the instance's data
 * time, delete the rows that run copied from the job's source, in primary-key batches, once the
 * run's TableDataDiff passed (main/cleanup, `runCleanup`). `force` with a `reason` (recorded)
 * cleans an unverified run, as `sluice cleanup --force --reason` does.
 *
 * Which run: the job's latest finished run for the instance's data time (the run records the data
 * time it resolved its variables with, `summary.runTime.bizdate`). Without one the node fails
 * with a message saying to put it after the job's sync node: cleaning by another data time's run
 * would delete rows this data time never copied.
 */
import { runCleanup } from '../cleanup/index.js'
import type { Store } from '../store/index.js'
import type { NodeContext, NodeOutcome } from './run.js'
import type { CleanupNode } from './types.js'

/** Runs a `cleanup` node. @returns rowsAffected = rows deleted from the source. @throws Error naming the node when refused or when no run fits. */
export async function runCleanupNode(store: Store, n: CleanupNode, ctx: NodeContext): Promise<NodeOutcome> {
  const job = store.jobs.get(n.job)
  if (!job) throw new Error(`cleanup node '${n.id}': no saved job '${n.job}'`)
  const bizdate = ctx.instance.dataTime.replaceAll('-', '')
  const candidates = store.runs.list({ jobId: job.id, limit: 100 }).filter((r) => !['created', 'running'].includes(r.state))
  const run = candidates.find((r) => (store.runs.get(r.id)?.summary as { runTime?: { bizdate?: string } } | undefined)?.runTime?.bizdate === bizdate)
  if (!run) throw new Error(`cleanup node '${n.id}': job ${job.name} has no finished run for data time ${ctx.instance.dataTime} (put the clean-up after the job's sync node)`)
  ctx.log('info', `cleaning up the source of job ${job.name} after run ${run.id} (data time ${ctx.instance.dataTime})`)
  const r = await runCleanup(store, {
    target: run.id,
    ...(n.force ? { force: true, reason: n.reason ?? '' } : {}),
    signal: ctx.signal,
    onBatch: (b) => ctx.log('info', `${b.taskId}: batch ${b.batchNo}, ${b.rows} rows deleted (${b.totalRows} in all)`),
  })
  ctx.log('info', `clean-up ${r.cleanup.id}${r.resumed ? ' (resumed)' : ''}: ${r.cleanup.rowsDeleted} rows deleted, ${r.cleanup.state}`)
  if (r.cleanup.state !== 'succeeded') throw new Error(`cleanup node '${n.id}': clean-up ${r.cleanup.id} ended ${r.cleanup.state}${r.cleanup.error ? `: ${r.cleanup.error}` : ''}`)
  return { rowsAffected: r.cleanup.rowsDeleted }
}
