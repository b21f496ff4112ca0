/**
 * Graph helpers of the workflow canvas: the cycle an edge would close, and the automatic layout
 * (dagre, left to right). Pure functions over node ids and `[from, to]` edges (the workflow JSON's
 * `edges` shape), so the canvas and its checks share one model.
 */
import dagre from '@dagrejs/dagre'

/** An edge of a workflow: `from` must succeed before `to` starts. */
export type DagEdge = readonly [from: string, to: string]

/**
 * The cycle that adding `from -> to` would close, as the node path `[to, ..., from, to]`, or
 * undefined when the edge keeps the graph acyclic. A self-loop (`from === to`) is the cycle
 * `[from, from]`. Breadth-first from `to` over the existing edges, so the path is a shortest one.
 */
export function cycleThrough(edges: readonly DagEdge[], from: string, to: string): string[] | undefined {
  if (from === to) return [from, from]
  const next = new Map<string, string[]>()
  for (const [a, b] of edges) {
    const l = next.get(a)
    if (l) l.push(b)
    else next.set(a, [b])
  }
  const prev = new Map<string, string>()
  const queue = [to]
  const seen = new Set([to])
  while (queue.length) {
    const n = queue.shift()!
    if (n === from) {
      const path = [from]
      let c = from
      while (c !== to) {
        c = prev.get(c)!
        path.unshift(c)
      }
      return [...path, to]
    }
    for (const m of next.get(n) ?? []) {
      if (seen.has(m)) continue
      seen.add(m)
      prev.set(m, n)
      queue.push(m)
    }
  }
  return undefined
}

/** The first cycle of a whole graph (for a workflow loaded from JSON), as a closed node path. */
export function findCycle(edges: readonly DagEdge[]): string[] | undefined {
  const kept: DagEdge[] = []
  for (const e of edges) {
    const c = cycleThrough(kept, e[0], e[1])
    if (c) return c
    kept.push(e)
  }
  return undefined
}

/** Size of a node box in canvas pixels (measured by the canvas when known). */
export interface NodeBox {
  id: string
  width: number
  height: number
}

/**
 * Top-left positions of every node, laid out by dagre left to right (`rankdir: LR`) with the
 * given spacing; edges between unknown nodes are ignored.
 */
export function layoutDag(nodes: readonly NodeBox[], edges: readonly DagEdge[], opts: { nodesep?: number; ranksep?: number } = {}): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: opts.nodesep ?? 40, ranksep: opts.ranksep ?? 80, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  const ids = new Set(nodes.map((n) => n.id))
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height })
  for (const [a, b] of edges) if (ids.has(a) && ids.has(b)) g.setEdge(a, b)
  dagre.layout(g)
  const out = new Map<string, { x: number; y: number }>()
  for (const n of nodes) {
    const p = g.node(n.id) as { x: number; y: number }
    // dagre gives centres; the canvas positions by the top-left corner.
    out.set(n.id, { x: Math.round(p.x - n.width / 2), y: Math.round(p.y - n.height / 2) })
  }
  return out
}
