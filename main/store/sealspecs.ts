/**
 * One pass over a state DB written before spec secrets existed (migration
 * 2026-12-05-162-spec-secrets): inline passwords left in clear in `runs.spec` and
 * `job_versions.spec` are masked there and encrypted beside them (main/job/secrets.ts). Runs once
 * per DB (recorded in `store_passes` as {@link SEALED_KEY}); only rows whose text may hold a password are parsed.
 */
import type Database from 'better-sqlite3'
import { sealSpec } from '../job/secrets.js'
import type { SecretBox } from './secrets.js'
import { nowIso } from './util.js'

/** The `store_passes` name recording that the pass ran. */
export const SEALED_KEY = 'seal-spec-secrets'

/** Seal the clear passwords of older run and job specs (see the file comment). @returns rows changed. */
export function sealStoredSpecs(db: Database.Database, box: SecretBox): number {
  if (db.prepare('SELECT 1 FROM store_passes WHERE name = ?').get(SEALED_KEY)) return 0
  let changed = 0
  const maybe = `secrets IS NULL AND (spec LIKE '%"password"%' OR spec LIKE '%://%:%@%')`
  db.transaction(() => {
    const seal = (spec: string): [string, Buffer, string] | undefined => {
      try {
        const sealed = sealSpec(spec)
        if (!Object.keys(sealed.secrets).length) return undefined
        return [JSON.stringify(sealed.masked), box.encrypt(JSON.stringify(sealed.secrets)), box.scheme]
      } catch {
        return undefined
      }
    }
    const putRun = db.prepare('UPDATE runs SET spec = ?, secrets = ?, secrets_scheme = ? WHERE id = ?')
    for (const r of db.prepare(`SELECT id, spec FROM runs WHERE ${maybe}`).all() as { id: string; spec: string }[]) {
      const s = seal(r.spec)
      if (s) changed += putRun.run(...s, r.id).changes
    }
    const putJob = db.prepare('UPDATE job_versions SET spec = ?, secrets = ?, secrets_scheme = ? WHERE job_id = ? AND version = ?')
    for (const r of db.prepare(`SELECT job_id, version, spec FROM job_versions WHERE ${maybe}`).all() as { job_id: string; version: number; spec: string }[]) {
      const s = seal(r.spec)
      if (s) changed += putJob.run(...s, r.job_id, r.version).changes
    }
    db.prepare('INSERT INTO store_passes (name, done_at) VALUES (?, ?)').run(SEALED_KEY, nowIso())
  }).immediate()
  return changed
}
