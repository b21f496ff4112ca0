/**
 * Schema objects created after a table's data (secondary indexes, CHECK constraints, triggers,
 * comments) and after all tables' data (foreign keys): each one on its own, so one that the target
 * refuses (an orphan row under a foreign key, a FULLTEXT expression the target cannot index) never
 * takes the others, the data or the sequence position with it. A refused object becomes a schema
 * warning naming the object and the database's reason; the task then ends
 * `succeeded_with_warnings` (main/engine/events.ts), never a plain `succeeded`.
 *
 * pgloader creates a table's indexes in parallel and its foreign keys in one pass, logging an error
 * for each failure but exiting 0: Sluice keeps the per-object independence and makes the outcome
 * visible in the run's state and exit code instead.
 */
import type { Connector } from '../connectors/types.js'

/**
 * Name the object a DDL statement creates, for messages: `index "ix_a"`, `foreign key "fk_b"`,
 * `check "ck_c"`, `trigger "t"`, `comment on "x"`; else the statement's first words.
 */
export function describeStatement(sql: string): string {
  const id = String.raw`("(?:[^"]|"")+"|\x60(?:[^\x60]|\x60\x60)+\x60|[\w$]+)`
  const unq = (s: string) => s.replace(/^["\x60]|["\x60]$/g, '')
  let m = new RegExp(String.raw`^\s*CREATE\s+(?:UNIQUE\s+)?(?:FULLTEXT\s+|SPATIAL\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?${id}`, 'i').exec(sql)
  if (m) return `index "${unq(m[1]!)}"`
  m = new RegExp(String.raw`ADD\s+CONSTRAINT\s+${id}\s+(FOREIGN\s+KEY|CHECK|UNIQUE)`, 'i').exec(sql)
  if (m) return `${/^FOREIGN/i.test(m[2]!) ? 'foreign key' : m[2]!.toLowerCase()} "${unq(m[1]!)}"`
  m = new RegExp(String.raw`CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?${id}`, 'i').exec(sql)
  if (m) return `trigger "${unq(m[1]!)}"`
  m = /^\s*COMMENT\s+ON\s+(\w+)\s+(.+?)\s+IS\s/is.exec(sql)
  if (m) return `comment on ${m[1]!.toLowerCase()} ${m[2]!}`
  return sql.trim().split(/\s+/).slice(0, 4).join(' ')
}

/**
 * Run each statement (one schema object each; an entry may hold several `;`-separated statements
 * that make one object, e.g. a trigger function and its trigger) on its own.
 * @returns one warning per statement the target refused: `<table>: <object> not created: <reason>`.
 *   Never throws for a refused statement; rethrows only when `signal` is aborted.
 */
export async function createSchemaObjects(writer: Connector, statements: readonly string[], table: string, signal?: AbortSignal): Promise<string[]> {
  const warnings: string[] = []
  for (const sql of statements) {
    if (!sql) continue
    signal?.throwIfAborted()
    try {
      await writer.execute([sql])
    } catch (e) {
      warnings.push(`${table}: ${describeStatement(sql)} not created: ${((e as Error).message ?? String(e)).replace(/^statement 1 of 1: /, '')}`)
    }
  }
  return warnings
}
