/**
 * Load order between a job's existing target tables joined by foreign keys.
 *
 * Tables the run creates get their foreign keys after all the data (run.ts), but existing targets
 * keep theirs: loading `Album` while `Artist` is still empty (a rerun after truncate, issue 14
 * item 2) makes every row a dirty record. A task whose existing target references another task's
 * target therefore starts loading only after that task has ended; independent tasks still run side
 * by side. Cycles (A -> B -> A) cannot be ordered: the runner then starts the first waiting task
 * anyway when nothing else can move (see {@link readyTask}).
 */
import type { Connector } from '../connectors/types.js'
import type { PlannedTask } from './plan.js'

/**
 * For each task, the ids of the tasks whose target its existing target references by a foreign
 * key (self references left out). Tasks whose target is created by the run have none. Catalog
 * errors leave a task without dependencies (the load then reports what the database refuses).
 */
export async function loadDependencies(writer: Connector, tasks: PlannedTask[]): Promise<Map<string, string[]>> {
  const key = (schema: string | undefined, name: string) => `${schema ?? writer.defaultSchema ?? ''}\u0000${name}`
  const byTarget = new Map<string, string>()
  for (const t of tasks) byTarget.set(key(t.target.schema, t.target.name), t.taskId)
  const deps = new Map<string, string[]>()
  if (tasks.length < 2) return deps
  // Existing targets of the writer's default schema in one catalog snapshot (catalog once).
  const existing = tasks.filter((t) => t.targetExists)
  const local = existing.filter((t) => (t.target.schema ?? writer.defaultSchema) === writer.defaultSchema).map((t) => t.target.name)
  const snap = local.length > 1 ? await writer.catalog.tablesDetailed?.(writer.defaultSchema, local).catch(() => undefined) : undefined
  for (const t of existing) {
    let fks
    try {
      fks = (snap?.get(t.target.name) ?? (await writer.catalog.table(t.target))).foreignKeys
    } catch {
      continue
    }
    const mine = new Set<string>()
    for (const fk of fks) {
      const dep = byTarget.get(key(fk.refSchema ?? t.target.schema, fk.refTable))
      if (dep && dep !== t.taskId) mine.add(dep)
    }
    if (mine.size) deps.set(t.taskId, [...mine])
  }
  return deps
}

/**
 * Which waiting task to prepare next: the first whose dependencies have all ended; when none is
 * ready and `othersActive` is false (nothing running could end a dependency: a cycle), the first
 * waiting task; otherwise undefined (wait).
 */
export function readyTask<T extends { plan: { taskId: string } }>(waiting: T[], deps: Map<string, string[]>, ended: (taskId: string) => boolean, othersActive: boolean): T | undefined {
  const ready = waiting.find((t) => (deps.get(t.plan.taskId) ?? []).every(ended))
  if (ready) return ready
  return othersActive ? undefined : waiting[0]
}
