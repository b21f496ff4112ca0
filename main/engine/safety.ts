/**
 * Resumable DDL after the data: secondary indexes and foreign keys are created one statement at
 * a time, each skipped when the target already has an object of that name (a run killed while
 * PostgreSQL built an index keeps the index; the resume must not fail on "relation already
 * exists"). Existence is read from the target's catalog (`catalog.table(target)`), before the
 * statement and again after a failure (so a failure is only reported when the object is truly
 * missing: the foreign key warning says "not created" only then).
 */
import type { Connector, TableRef } from '../connectors/types.js'

/** Locks a run holds on its targets (run.ts `RunContext.lockTargets`). */
export interface TargetLocks {
  /** Give the locks back. Never rejects. */
  release(): Promise<void>
  /** Other runs that wrote `target` since this run first held it (main/store/locks.ts `writersSince`). */
  intruders(target: TableRef): string[]
}

const NAME = String.raw`("(?:[^"]|"")*"|\`(?:[^\`]|\`\`)*\`|[A-Za-z_][A-Za-z0-9_$]*)`
const INDEX_RE = new RegExp(String.raw`INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\s*\.\s*)?${NAME}\s+ON\b`, 'i')
const FK_RE = new RegExp(String.raw`ADD\s+CONSTRAINT\s+${NAME}\s+FOREIGN\s+KEY`, 'i')

/** The unquoted name of the index / constraint a generated DDL statement creates, if it names one. */
export function ddlObjectName(sql: string, kind: 'index' | 'foreignKey'): string | undefined {
  const m = (kind === 'index' ? INDEX_RE : FK_RE).exec(sql)
  const q = kind === 'index' ? m?.[2] : m?.[1]
  if (!q) return undefined
  if (q.startsWith('"')) return q.slice(1, -1).replace(/""/g, '"')
  if (q.startsWith('`')) return q.slice(1, -1).replace(/``/g, '`')
  return q
}

/**
 * Run `statements` (indexes or foreign keys of `target`) one by one, skipping those whose object
 * exists already. Never throws for a statement: returns the ones that failed with their error
 * (the object still missing afterwards).
 */
export async function createAfterData(writer: Connector, target: TableRef, statements: string[], kind: 'index' | 'foreignKey'): Promise<Array<{ sql: string; error: string }>> {
  const existing = async (): Promise<Set<string>> => {
    try {
      const t = await writer.catalog.table(target)
      const names = kind === 'index' ? t.indexes.map((i) => i.name) : t.foreignKeys.map((f) => f.name)
      return new Set(names.map((n) => n.toLowerCase()))
    } catch {
      return new Set()
    }
  }
  let have = await existing()
  const failed: Array<{ sql: string; error: string }> = []
  for (const sql of statements) {
    const name = ddlObjectName(sql, kind)?.toLowerCase()
    if (name && have.has(name)) continue
    try {
      await writer.execute([sql])
    } catch (e) {
      have = await existing()
      if (name && have.has(name)) continue
      failed.push({ sql, error: (e as Error).message })
    }
  }
  return failed
}
