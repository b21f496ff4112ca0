/**
 * Where `sluice serve` lets a caller open SQLite files (issue 14, item 15).
 *
 * Over HTTP anyone holding the token could otherwise create a SQLite connection to any path: an
 * existing system file, a new file anywhere, or the state DB itself (connections, encrypted
 * secrets, run history). In serve mode every SQLite path a request names (a connection being
 * created, updated or tested, a saved one being opened, a job's URL or inline connection) must lie
 * inside one of the folders allowed at start (`--allow-dir`, default the data dir and the current
 * directory), and never be the state DB or its `-wal` / `-shm` / `-journal` files. Paths are
 * compared after resolving symbolic links (of the nearest existing ancestor for a file still to
 * be created), so a link inside an allowed folder cannot point out of it.
 */
import { existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import type { ConnectionConfig } from '../connectors/types.js'

/** The folders SQLite files may be in, and the state DB that is always refused. */
export interface PathPolicy {
  /** Allowed folders (absolute or relative to the cwd). */
  allowDirs: string[]
  /** The state DB file (`Store.file`). */
  stateDb: string
}

/** Thrown when a path is outside the allowed folders or is the state DB; `code` PATH_NOT_ALLOWED, `path` the field. */
export class PathNotAllowed extends Error {
  override name = 'PathNotAllowed'
  readonly code = 'PATH_NOT_ALLOWED'
  constructor(message: string, readonly path: string) {
    super(message)
  }
}

/** The real path of `p`: symbolic links of its nearest existing ancestor resolved, the rest appended. */
export function realPath(p: string): string {
  let head = path.resolve(p)
  const tail: string[] = []
  while (!existsSync(head)) {
    const up = path.dirname(head)
    if (up === head) break
    tail.unshift(path.basename(head))
    head = up
  }
  let real = head
  try {
    real = realpathSync.native(head)
  } catch {
    /* unreadable: compare as written */
  }
  return path.join(real, ...tail)
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/**
 * Check a connection's SQLite path against the policy (other kinds, and `:memory:`, pass).
 * @throws PathNotAllowed naming `field` (e.g. `draft.config.path`, `$.writer.connection`).
 */
export function checkConnectionPath(policy: PathPolicy | undefined, config: Pick<ConnectionConfig, 'kind' | 'path'>, field: string): void {
  if (!policy || config.kind !== 'sqlite') return
  const p = config.path ?? ''
  if (p === ':memory:') return
  if (!p.trim()) throw new PathNotAllowed(`${field}: a SQLite connection needs a file path`, field)
  const file = realPath(p)
  const state = realPath(policy.stateDb)
  if ([state, `${state}-wal`, `${state}-shm`, `${state}-journal`].includes(file))
    throw new PathNotAllowed(`${field}: ${p} is Sluice's own state database; it cannot be opened as a connection`, field)
  const dirs = policy.allowDirs.map(realPath)
  if (!dirs.some((d) => inside(d, file)))
    throw new PathNotAllowed(`${field}: ${p} is outside the folders this server may open SQLite files in (${dirs.join(', ')}); start \`sluice serve\` with --allow-dir <folder> to allow another one`, field)
}
