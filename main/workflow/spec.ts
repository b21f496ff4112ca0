/**
 * The workflow document (version 1): zod schema (single source of truth; the published JSON
 * Schema `resources/workflow.schema.json` is generated from it), parsing with JSON paths, and DAG
 * checks (unknown nodes in edges, duplicate ids, cycles reported with the path that closes them).
 *
 * Imported by the renderer too (types, schema, cycle check while connecting): no Node APIs.
 */
import { z } from 'zod'
import { jsonPath, type Problem } from '../job/spec.js'
import type { ScheduleSpec } from '../scheduler/types.js'
import type { WorkflowSpec } from './types.js'

const NodeId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a node id is 1..64 letters, digits, _ or -')
const Vars = z.record(z.string(), z.string())
const base = {
  id: NodeId,
  name: z.string().optional(),
  description: z.string().optional(),
  position: z.strictObject({ x: z.number(), y: z.number() }).optional(),
  retries: z.strictObject({ count: z.number().int().min(0).max(10), intervalSeconds: z.number().int().min(0).max(86_400) }).optional(),
  timeoutMinutes: z.number().positive().optional(),
}

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:mm')
const Target = z.strictObject({ kind: z.enum(['job', 'workflow']), id: z.string().min(1) })
/** zod schema of a {@link ScheduleSpec} (cron and time zone are checked further by main/scheduler/cycle.ts). */
export const ScheduleSpecSchema = z.strictObject({
  cycle: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('once'), at: z.string().describe('local date-time YYYY-MM-DDTHH:mm') }),
    z.strictObject({ type: z.literal('minutes'), every: z.number().int().min(1).max(1440) }),
    z.strictObject({ type: z.literal('hourly'), minute: z.number().int().min(0).max(59), everyHours: z.number().int().min(1).max(23).optional() }),
    z.strictObject({ type: z.literal('daily'), at: HHMM }),
    z.strictObject({ type: z.literal('weekly'), days: z.array(z.number().int().min(0).max(6)).min(1), at: HHMM }),
    z.strictObject({ type: z.literal('monthly'), days: z.array(z.union([z.number().int().min(1).max(31), z.literal('last')])).min(1), at: HHMM }),
    z.strictObject({ type: z.literal('cron'), expr: z.string().min(1).describe('5 fields, or 6 with seconds first') }),
  ]),
  timezone: z.string().optional(),
  startDataTime: z.string().optional(),
  endDataTime: z.string().optional(),
  selfDependency: z.boolean().optional(),
  dependsOn: z.array(Target).optional(),
  executionType: z.enum(['parallel', 'serial-wait', 'serial-discard']).optional(),
  timeout: z.strictObject({ minutes: z.number().positive(), action: z.enum(['fail', 'alert']) }).optional(),
  retries: z.strictObject({ count: z.number().int().min(0).max(10), intervalSeconds: z.number().int().min(0).max(86_400) }).optional(),
  catchUp: z.enum(['none', 'latest', 'all']).optional(),
  owner: z.string().optional(),
  description: z.string().optional(),
  alerts: z
    .strictObject({
      on: z.array(z.enum(['failure', 'timeout', 'success'])).optional(),
      webhook: z.strictObject({ url: z.string().url(), headers: z.record(z.string(), z.string()).optional() }).optional(),
      command: z.string().min(1).optional(),
      desktop: z.boolean().optional(),
    })
    .optional(),
}) satisfies z.ZodType<ScheduleSpec>

/** zod schema of a workflow document. */
export const WorkflowSpecSchema = z.strictObject({
  version: z.literal(1),
  kind: z.literal('workflow'),
  name: z.string().min(1),
  description: z.string().optional(),
  nodes: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ ...base, type: z.literal('sync'), job: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).describe('saved job name or id, or an inline job document'), vars: Vars.optional() }),
        z.strictObject({ ...base, type: z.literal('sql'), connection: z.string().min(1).describe('saved connection name or id, or a URL'), sql: z.string().min(1) }),
        z.strictObject({ ...base, type: z.literal('shell'), command: z.string().min(1), cwd: z.string().optional(), vars: Vars.optional() }),
        z.strictObject({ ...base, type: z.literal('cleanup'), job: z.string().min(1), force: z.boolean().optional(), reason: z.string().optional() }),
      ]),
    )
    .min(1),
  edges: z.array(z.tuple([NodeId, NodeId])).default([]),
  vars: Vars.optional(),
  schedule: ScheduleSpecSchema.optional(),
})

/**
 * Find a cycle in a directed graph. @returns the closing path (`[a, b, c, a]`) or undefined.
 * Deterministic: nodes are visited in the given order.
 */
export function findCycle(nodes: string[], edges: Array<[string, string]>): string[] | undefined {
  const out = new Map<string, string[]>(nodes.map((n) => [n, []]))
  for (const [a, b] of edges) out.get(a)?.push(b)
  const color = new Map<string, 0 | 1 | 2>()
  const stack: string[] = []
  const visit = (n: string): string[] | undefined => {
    color.set(n, 1)
    stack.push(n)
    for (const m of out.get(n) ?? []) {
      const c = color.get(m) ?? 0
      if (c === 1) return [...stack.slice(stack.indexOf(m)), m]
      if (c === 0) {
        const r = visit(m)
        if (r) return r
      }
    }
    stack.pop()
    color.set(n, 2)
    return undefined
  }
  for (const n of nodes) if (!color.get(n)) {
    const r = visit(n)
    if (r) return r
  }
  return undefined
}

/** Would adding edge `from -> to` close a cycle? @returns the closing path or undefined (the canvas checks this as you connect). */
export function cycleIfAdded(nodes: string[], edges: Array<[string, string]>, from: string, to: string): string[] | undefined {
  return findCycle(nodes, [...edges, [from, to]])
}

/** Node ids in a topological order (stable: ties keep document order). Assumes no cycle. */
export function topoOrder(spec: Pick<WorkflowSpec, 'nodes' | 'edges'>): string[] {
  const indeg = new Map(spec.nodes.map((n) => [n.id, 0]))
  for (const [, b] of spec.edges) indeg.set(b, (indeg.get(b) ?? 0) + 1)
  const order: string[] = []
  const ready = spec.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id)
  while (ready.length) {
    const n = ready.shift()!
    order.push(n)
    for (const [a, b] of spec.edges)
      if (a === n) {
        indeg.set(b, indeg.get(b)! - 1)
        if (indeg.get(b) === 0) ready.push(b)
      }
  }
  return order
}


/**
 * Parse and check a workflow document.
 * @returns the workflow with defaults, or problems with JSON paths (a cycle names its closing path).
 */
export function parseWorkflow(doc: unknown): { ok: true; workflow: WorkflowSpec } | { ok: false; problems: Problem[] } {
  const r = WorkflowSpecSchema.safeParse(doc)
  if (!r.success) {
    return {
      ok: false,
      problems: r.error.issues.map((i) => ({
        path: jsonPath(i.path),
        message: i.message + (i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : ''),
        severity: 'error' as const,
        code: 'schema',
      })),
    }
  }
  const wf = r.data as WorkflowSpec
  const problems: Problem[] = []
  const seen = new Map<string, number>()
  wf.nodes.forEach((n, i) => {
    if (seen.has(n.id)) problems.push({ path: `$.nodes[${i}].id`, message: `duplicate node id '${n.id}' (also $.nodes[${seen.get(n.id)}])`, severity: 'error', code: 'duplicate' })
    else seen.set(n.id, i)
  })
  wf.edges.forEach(([a, b], i) => {
    if (!seen.has(a)) problems.push({ path: `$.edges[${i}][0]`, message: `no node '${a}'`, severity: 'error', code: 'unknown-node' })
    if (!seen.has(b)) problems.push({ path: `$.edges[${i}][1]`, message: `no node '${b}'`, severity: 'error', code: 'unknown-node' })
    if (a === b) problems.push({ path: `$.edges[${i}]`, message: `node '${a}' cannot depend on itself`, severity: 'error', code: 'cycle' })
  })
  if (!problems.length) {
    const cyc = findCycle(wf.nodes.map((n) => n.id), wf.edges)
    if (cyc) problems.push({ path: '$.edges', message: `the edges form a cycle: ${cyc.join(' -> ')}`, severity: 'error', code: 'cycle' })
  }
  return problems.length ? { ok: false, problems } : { ok: true, workflow: wf }
}

/** The JSON Schema of the workflow document (draft 2020-12), generated from {@link WorkflowSpecSchema}. */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WorkflowSpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { ...schema, $id: 'https://sluice.dev/schema/workflow-v1.json', title: 'Sluice workflow (version 1)' }
}
