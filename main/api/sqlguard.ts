/**
 * What the SQL editor (`sql/query`) refuses on a `sqlite:` connection, before the statement runs:
 *
 * - the state DB itself (and its `-wal` / `-shm` files): its connections, jobs, runs and secrets
 *   are changed through the API only;
 * - statements that reach other files or code: `ATTACH` (opens or creates any file), `VACUUM INTO`
 *   (writes a copy anywhere) and `load_extension(...)` (loads a shared library).
 *
 * Words inside string literals, quoted names and comments do not count (`SELECT 'attach'` runs).
 */
import { realpathSync } from 'node:fs'
import path from 'node:path'
import type { ConnectionConfig } from '../connectors/types.js'

/** Why `sql` may not run on `cfg` (undefined: it may). `stateDb` is the state DB file. */
export function sqliteRefusal(cfg: ConnectionConfig, sql: string, stateDb: string): string | undefined {
  if (cfg.kind !== 'sqlite') return undefined
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return path.resolve(p)
    }
  }
  const file = cfg.path ?? ''
  if (file && file !== ':memory:' && stateDb !== ':memory:') {
    const f = real(file.replace(/^file:/, '').replace(/\?.*$/, ''))
    const s = real(stateDb)
    if (f === s || f === `${s}-wal` || f === `${s}-shm` || f === `${s}-journal`) return `this connection is Sluice's state DB (${stateDb}); it is not queried through the SQL editor`
  }
  const bare = stripLiterals(sql)
  if (/\bATTACH\b/i.test(bare)) return 'ATTACH is refused in the SQL editor (it opens or creates files outside the connection)'
  if (/\bVACUUM\b[\s\S]*\bINTO\b/i.test(bare)) return 'VACUUM INTO is refused in the SQL editor (it writes a copy of the database to another file)'
  if (/\bload_extension\s*\(/i.test(bare)) return 'load_extension() is refused in the SQL editor'
  return undefined
}

/** `sql` with string literals, quoted names and comments blanked out. */
function stripLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
}
