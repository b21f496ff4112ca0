/**
 * The demo workspace a first start shows (desktop app and `sluice serve` alike): the bundled
 * Chinook SQLite database as a source, an empty SQLite file in the data dir as a target, and a
 * saved job moving every table from one to the other.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Store } from '../store/index.js'

/** Name of the demo source connection. */
export const DEMO_SOURCE_NAME = 'Chinook (demo)'
/** Name of the demo target connection. */
export const DEMO_TARGET_NAME = 'Demo target'
/** Name of the demo job. */
export const DEMO_JOB_NAME = 'Chinook demo'
/** Settings key recording that the demo was seeded once (so deleting it is respected). */
export const DEMO_SEEDED_KEY = 'demo.seeded'

/** What {@link seedDemoWorkspace} did. */
export interface SeedResult {
  /** False when the workspace had been seeded before (nothing was touched). */
  seeded: boolean
  sourceId?: string
  targetId?: string
  jobId?: string
}

/**
 * Seed the demo workspace, once per data dir (idempotent).
 *
 * - Connection `Chinook (demo)`: `sqlite:<resourcesDir>/demo/Chinook_Sqlite.sqlite` (only read).
 * - Connection `Demo target`: `sqlite:<dataDir>/demo/chinook-target.sqlite` (created by the first run).
 * - Job `Chinook demo`: every table of the source into the target, creating tables, with
 *   `truncate: true` so running it again replaces the rows instead of failing on duplicate keys.
 *
 * The first call records `demo.seeded` in the settings; later calls return `{ seeded: false }`
 * without looking further, so a user who deleted the demo does not get it back. An existing
 * connection or job with a demo name is reused, never overwritten.
 *
 * @param resourcesDir the folder holding `demo/` (the repo's `resources/`, or the packaged app's
 *   `process.resourcesPath/resources`).
 */
export function seedDemoWorkspace(store: Store, dataDir: string, resourcesDir: string): SeedResult {
  if (store.settings.get(DEMO_SEEDED_KEY) !== undefined) return { seeded: false }
  const sourcePath = path.resolve(resourcesDir, 'demo', 'Chinook_Sqlite.sqlite')
  const targetDir = path.resolve(dataDir, 'demo')
  mkdirSync(targetDir, { recursive: true })
  const targetPath = path.join(targetDir, 'chinook-target.sqlite')

  const source = store.connections.getByName(DEMO_SOURCE_NAME) ?? store.connections.create({ name: DEMO_SOURCE_NAME, config: { kind: 'sqlite', path: sourcePath } })
  const target = store.connections.getByName(DEMO_TARGET_NAME) ?? store.connections.create({ name: DEMO_TARGET_NAME, config: { kind: 'sqlite', path: targetPath } })
  const existing = store.jobs.get(DEMO_JOB_NAME)
  const jobId =
    existing?.id ??
    store.jobs.save(
      {
        version: 1,
        name: DEMO_JOB_NAME,
        description: 'Every table of the bundled Chinook sample database into an empty SQLite file.',
        reader: { connection: DEMO_SOURCE_NAME },
        writer: { connection: DEMO_TARGET_NAME, createTable: true, truncate: true },
        tables: { include: '*' },
      },
      { name: DEMO_JOB_NAME },
    ).id
  store.settings.set(DEMO_SEEDED_KEY, new Date().toISOString())
  return { seeded: true, sourceId: source.id, targetId: target.id, jobId }
}
