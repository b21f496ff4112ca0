/**
 * The workflow canvas's graph helpers (renderer/src/lib/dag.ts): the cycle an edge would close
 * (refused as you connect, with its path), the first cycle of a loaded graph, and the dagre layout
 * (left to right: every edge points rightwards; nodes of one rank do not overlap).
 */
import { describe, expect, it } from 'vitest'
import { cycleThrough, findCycle, layoutDag, type DagEdge } from '../../renderer/src/lib/dag.js'

describe('cycleThrough', () => {
  const chain: DagEdge[] = [
    ['import', 'compute'],
    ['compute', 'export'],
    ['export', 'notify'],
  ]
  it('finds the path an edge back to an ancestor would close', () => {
    expect(cycleThrough(chain, 'notify', 'import')).toEqual(['import', 'compute', 'export', 'notify', 'import'])
    expect(cycleThrough(chain, 'export', 'compute')).toEqual(['compute', 'export', 'compute'])
  })
  it('refuses a self-loop', () => {
    expect(cycleThrough(chain, 'compute', 'compute')).toEqual(['compute', 'compute'])
  })
  it('accepts edges that keep the graph acyclic (forward, parallel, to a new node)', () => {
    expect(cycleThrough(chain, 'import', 'notify')).toBeUndefined()
    expect(cycleThrough(chain, 'import', 'export')).toBeUndefined()
    expect(cycleThrough(chain, 'notify', 'cleanup')).toBeUndefined()
    expect(cycleThrough([], 'a', 'b')).toBeUndefined()
  })
  it('gives a shortest closing path when there are several', () => {
    const g: DagEdge[] = [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['a', 'd'],
    ]
    expect(cycleThrough(g, 'd', 'a')).toEqual(['a', 'd', 'a'])
  })
})

describe('findCycle', () => {
  it('is undefined for a DAG and names the cycle of a cyclic graph', () => {
    expect(findCycle([['a', 'b'], ['b', 'c'], ['a', 'c']])).toBeUndefined()
    expect(findCycle([['a', 'b'], ['b', 'c'], ['c', 'a']])).toEqual(['a', 'b', 'c', 'a'])
  })
})

describe('layoutDag', () => {
  it('lays edges out left to right without overlapping nodes of one rank', () => {
    const nodes = ['import', 'a', 'b', 'join'].map((id) => ({ id, width: 200, height: 60 }))
    const edges: DagEdge[] = [
      ['import', 'a'],
      ['import', 'b'],
      ['a', 'join'],
      ['b', 'join'],
    ]
    const pos = layoutDag(nodes, edges)
    expect([...pos.keys()].sort()).toEqual(['a', 'b', 'import', 'join'])
    for (const [from, to] of edges) expect(pos.get(to)!.x).toBeGreaterThanOrEqual(pos.get(from)!.x + 200)
    const [a, b] = [pos.get('a')!, pos.get('b')!]
    expect(a.x).toBe(b.x)
    expect(Math.abs(a.y - b.y)).toBeGreaterThanOrEqual(60)
  })
  it('ignores edges to unknown nodes', () => {
    const pos = layoutDag([{ id: 'x', width: 100, height: 40 }], [['x', 'gone']])
    expect(pos.size).toBe(1)
  })
})
