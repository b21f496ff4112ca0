/**
 * The differing keys a run's TableDataDiff stage found (hashdiff), per task: tables
 * `run_diff_keys` / `run_diff_tasks` (migration 2026-12-05-140). Key values are kept as display
 * text (exact: BIGINT/DECIMAL strings as they are, bytes as 0x hex), at most `verify.limit` per task.
 */
import type Database from 'better-sqlite3'
import type { Value } from '../core/types.js'

/** One differing row: `-` only in the source, `+` only in the target, `~` in both but changed. */
export interface DiffKey {
  side: '-' | '+' | '~'
  key: string[]
}

/** A task's differing keys. */
export interface TaskDiffKeys {
  taskId: string
  keyColumns: string[]
  /** The search stopped at `verify.limit`: more rows may differ. */
  truncated: boolean
  keys: DiffKey[]
}

/** A key value as display text (never through a JS number for exact strings). */
export function keyText(v: Value): string {
  if (v === null || v === undefined) return 'NULL'
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
  return String(v)
}

/** Repository of differing keys (one per store). */
export class DiffKeysRepo {
  constructor(private readonly db: Database.Database) {}

  /** Replace the keys recorded for (run, task). */
  save(runId: string, taskId: string, d: { keyColumns: string[]; truncated: boolean; onlyInSource: Value[][]; onlyInTarget: Value[][]; changed: Value[][] }): void {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM run_diff_keys WHERE run_id = ? AND task_id = ?').run(runId, taskId)
      this.db.prepare('INSERT INTO run_diff_tasks (run_id, task_id, key_columns, truncated) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, task_id) DO UPDATE SET key_columns = excluded.key_columns, truncated = excluded.truncated').run(runId, taskId, JSON.stringify(d.keyColumns), d.truncated ? 1 : 0)
      const ins = this.db.prepare('INSERT INTO run_diff_keys (run_id, task_id, seq, side, key) VALUES (?, ?, ?, ?, ?)')
      let seq = 0
      for (const [side, list] of [['-', d.onlyInSource], ['+', d.onlyInTarget], ['~', d.changed]] as const) for (const k of list) ins.run(runId, taskId, seq++, side, JSON.stringify(k.map(keyText)))
    })
    tx()
  }

  /** The differing keys of a run, per task (tasks without differences are absent). */
  list(runId: string): TaskDiffKeys[] {
    const tasks = this.db.prepare('SELECT task_id, key_columns, truncated FROM run_diff_tasks WHERE run_id = ? ORDER BY task_id').all(runId) as Array<{ task_id: string; key_columns: string; truncated: number }>
    const keys = this.db.prepare('SELECT side, key FROM run_diff_keys WHERE run_id = ? AND task_id = ? ORDER BY seq')
    return tasks.map((t) => ({
      taskId: t.task_id,
      keyColumns: JSON.parse(t.key_columns) as string[],
      truncated: t.truncated === 1,
      keys: (keys.all(runId, t.task_id) as Array<{ side: DiffKey['side']; key: string }>).map((k) => ({ side: k.side, key: JSON.parse(k.key) as string[] })),
    }))
  }
}
