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
import type { Connector, TableRef } from '../connectors/types.js'

const NAME = String.raw`("(?:[^"]|"")*"|\`(?:[^\`]|\`\`)*\`|[A-Za-z_][A-Za-z0-9_$]*)`
const INDEX_RE = new RegExp(String.raw`INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\s*\.\s*)?${NAME}\s+ON\b`, 'i')
const ADD_PRIMARY_RE = /^\s*ALTER\s+TABLE\s+[\s\S]*?\sADD\s+PRIMARY\s+KEY\s*\(/i

/** Whether `sql` adds a primary key after the data (DdlPlan.primaryKeyAfterData's `add`). */
export function addsPrimaryKey(sql: string): boolean {
  return ADD_PRIMARY_RE.test(sql)
}
/** The name {@link createSchemaObjects} gives a table's primary key, whatever the database named it. */
const PRIMARY = '\u0000primary key'
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
  if (addsPrimaryKey(sql)) return 'primary key'
  m = /^\s*COMMENT\s+ON\s+(\w+)\s+(.+?)\s+IS\s/is.exec(sql)
  if (m) return `comment on ${m[1]!.toLowerCase()} ${m[2]!}`
  return sql.trim().split(/\s+/).slice(0, 4).join(' ')
}

/**
 * Run each statement (one schema object each; an entry may hold several `;`-separated statements
 * that make one object, e.g. a trigger function and its trigger) on its own. On PostgreSQL they
 * are first tried all at once in one round trip and one transaction, on MySQL a table's indexes as
 * one ALTER TABLE ({@link mergeMysqlIndexes}); only when that fails, one by one.
 *
 * With `existing` (a resumed task: an earlier attempt may have been killed after creating some),
 * indexes and foreign keys the target's catalog already has under the statement's name are skipped,
 * and a refused statement whose object exists afterwards is not a warning (main/engine/safety.ts).
 * @returns one warning per statement the target refused: `<table>: <object> not created: <reason>`.
 *   Never throws for a refused statement; rethrows only when `signal` is aborted.
 */
export async function createSchemaObjects(writer: Connector, statements: readonly string[], table: string, signal?: AbortSignal, existing?: { target: TableRef }): Promise<string[]> {
  const warnings: string[] = []
  const present = async (): Promise<Set<string>> => {
    if (!existing) return new Set()
    try {
      const t = await writer.catalog.table(existing.target)
      return new Set([...t.indexes.map((i) => i.name), ...t.foreignKeys.map((f) => f.name), ...(t.primaryKey.length ? [PRIMARY] : [])].map((n) => n.toLowerCase()))
    } catch {
      return new Set()
    }
  }
  // A primary key built after the data (ALTER TABLE ... ADD PRIMARY KEY, unnamed) is present when the table has one.
  const nameOf = (sql: string) => (addsPrimaryKey(sql) ? PRIMARY : (ddlObjectName(sql, 'index') ?? ddlObjectName(sql, 'foreignKey'))?.toLowerCase())
  // PostgreSQL: first all of them in one round trip, which is one implicit transaction (all or
  // none: a table's indexes are usually fine); if the target refuses any, none was created and
  // they go one by one below, so each refusal is its own warning as before.
  const todo = statements.filter(Boolean)
  if (!existing && writer.kind === 'postgres' && todo.length > 1) {
    signal?.throwIfAborted()
    try {
      await writer.execute([todo.map((x) => x.replace(/;\s*$/, '')).join(';\n')])
      return warnings
    } catch {
      /* one by one */
    }
  }
  // MySQL: a table's plain CREATE INDEX statements as one ALTER TABLE (one round trip and one
  // pass over the table instead of one per index; atomic, so a refusal leaves none of them and
  // they go one by one below). The rest (CHECKs, triggers) one by one.
  if (!existing && writer.kind === 'mysql') {
    const merged = mergeMysqlIndexes(todo)
    if (merged) {
      signal?.throwIfAborted()
      try {
        await writer.execute([merged.alter])
        statements = merged.rest
      } catch {
        /* one by one */
      }
    }
  }
  let have = await present()
  for (const sql of statements) {
    if (!sql) continue
    signal?.throwIfAborted()
    const name = existing ? nameOf(sql) : undefined
    if (name && have.has(name)) continue
    try {
      await writer.execute([sql])
    } catch (e) {
      if (name) {
        have = await present()
        if (have.has(name)) continue
      }
      warnings.push(`${table}: ${describeStatement(sql)} not created: ${((e as Error).message ?? String(e)).replace(/^statement 1 of 1: /, '')}`)
    }
  }
  return warnings
}

const MYSQL_INDEX_RE = /^\s*CREATE\s+(UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+(`(?:[^`]|``)+`)\s+ON\s+((?:`(?:[^`]|``)+`\.)?`(?:[^`]|``)+`)\s*(\([\s\S]*\))\s*;?\s*$/i

/**
 * Two or more generated MySQL `CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX n ON t (cols)` statements of
 * one table as one `ALTER TABLE t ADD ... INDEX n (cols), ...` (MySQL manual, "ALTER TABLE":
 * several ADD INDEX clauses build in one operation), with the statements left over; undefined when
 * fewer than two merge.
 */
export function mergeMysqlIndexes(statements: readonly string[]): { alter: string; rest: string[] } | undefined {
  let table: string | undefined
  const adds: string[] = []
  const rest: string[] = []
  for (const sql of statements) {
    const m = MYSQL_INDEX_RE.exec(sql)
    if (m && (table === undefined || table === m[3])) {
      table = m[3]
      adds.push(`ADD ${(m[1] ?? '').trim().toUpperCase()}${m[1] ? ' ' : ''}INDEX ${m[2]} ${m[4]}`)
    } else rest.push(sql)
  }
  if (adds.length < 2) return undefined
  return { alter: `ALTER TABLE ${table} ${adds.join(', ')}`, rest }
}
