/**
 * Truncate before load, for the whole job at once.
 *
 * A job with `truncate` on empties every existing target table of its tasks in one step, before
 * any task loads a row, so a run never leaves some tables truncated and reloaded and others
 * failed (issue 14, item 2: a whole-database job into PostgreSQL failed on 8 of 11 Chinook tables
 * with "cannot truncate a table referenced in a foreign key constraint" after three had been
 * truncated one by one).
 *
 * - PostgreSQL: one `TRUNCATE TABLE a, b, c` statement. PostgreSQL accepts a table referenced by a
 *   foreign key when every referencing table is in the same command (manual, TRUNCATE), and the
 *   statement is transactional: it applies to all the tables or to none. A table referenced from
 *   outside the job still fails the whole statement (nothing truncated; the run fails before
 *   loading).
 * - MySQL / MariaDB: `TRUNCATE TABLE` refuses any table referenced by a foreign key (InnoDB) even
 *   when the referencing table is empty, and it is DDL (implicit commit). All the tables are
 *   truncated on one session with `FOREIGN_KEY_CHECKS = 0`, which is restored on that session
 *   afterwards. A failure part-way (privileges, a lock wait timeout) fails the run before any row is
 *   loaded.
 * - SQLite: `DELETE FROM` every table in one transaction with `PRAGMA defer_foreign_keys = ON`, so
 *   foreign keys are checked at COMMIT, when every listed table is empty; all or nothing.
 */
import type { TableRef } from '../core/types.js'
import type { Connector } from '../connectors/types.js'

/** A task's target as far as truncation is concerned (a subset of PlannedTask). */
export interface TruncateTarget {
  taskId: string
  target: TableRef
  truncate: boolean
  targetExists: boolean
}

/**
 * The statements that truncate `tables` on `writer`'s kind, all-or-nothing where the database can
 * do it (see the module comment). Tables listed twice are truncated once.
 */
export function truncateStatements(writer: Pick<Connector, 'kind' | 'quoteTable'>, tables: TableRef[]): string[] {
  const seen = new Set<string>()
  const names: string[] = []
  for (const t of tables) {
    const q = writer.quoteTable(t)
    if (!seen.has(q)) {
      seen.add(q)
      names.push(q)
    }
  }
  if (!names.length) return []
  switch (writer.kind) {
    case 'postgres':
      return [`TRUNCATE TABLE ${names.join(', ')}`]
    case 'mysql':
      return ['SET FOREIGN_KEY_CHECKS = 0', ...names.map((n) => `TRUNCATE TABLE ${n}`), 'SET FOREIGN_KEY_CHECKS = 1']
    case 'sqlite':
      return [`BEGIN; PRAGMA defer_foreign_keys = ON; ${names.map((n) => `DELETE FROM ${n};`).join(' ')} COMMIT;`]
    default:
      throw new Error(`truncate: unsupported writer kind ${String(writer.kind)}`)
  }
}

/**
 * Truncate, in one step, the existing targets of the tasks that ask for it (`truncate` on and the
 * table already there) and that `skip` does not exclude (tasks an earlier attempt of a resumed run
 * prepared already). Returns the task ids whose target was truncated.
 *
 * @throws Error naming every table of the step and the database's message (PostgreSQL's detail and
 * hint included) when the database refuses; nothing is loaded after that.
 */
export async function truncateTargets(writer: Connector, tasks: TruncateTarget[], skip: (taskId: string) => boolean = () => false): Promise<Set<string>> {
  const picked = tasks.filter((t) => t.truncate && t.targetExists && !skip(t.taskId))
  const done = new Set<string>()
  if (!picked.length) return done
  const statements = truncateStatements(writer, picked.map((t) => t.target))
  try {
    await writer.execute(statements)
  } catch (e) {
    const err = e as Error & { detail?: string; hint?: string }
    if (writer.kind === 'sqlite') await writer.execute(['ROLLBACK']).catch(() => undefined)
    if (writer.kind === 'mysql') await writer.execute(['SET FOREIGN_KEY_CHECKS = 1']).catch(() => undefined)
    const extra = [err.detail ? `detail: ${err.detail}` : '', err.hint ? `hint: ${err.hint}` : ''].filter(Boolean).join('; ')
    const wrapped = new Error(`truncate before load failed (${picked.map((t) => t.target.name).join(', ')}); no table was loaded: ${err.message}${extra && !err.message.includes(extra) ? ` (${extra})` : ''}`)
    ;(wrapped as Error & { code?: unknown }).code = (err as { code?: unknown }).code
    throw wrapped
  }
  for (const t of picked) done.add(t.taskId)
  return done
}
