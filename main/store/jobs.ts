/**
 * Saved jobs and their versions. A job is a name plus a list of immutable spec versions
 * (1, 2, 3, ...); runs point at the version they executed.
 */
import type Database from 'better-sqlite3'
import { maskedPaths, sealSpec, unsealSpec } from '../job/secrets.js'
import { StoreError } from './errors.js'
import type { RunState } from './runs.js'
import type { SecretBox } from './secrets.js'
import { jsonText, newId, nowIso } from './util.js'

/** A job with one of its versions. */
export interface Job {
  id: string
  name: string
  /** The version returned in `spec`/`specText`. */
  version: number
  latestVersion: number
  /** The spec parsed from `specText`, its inline passwords put back (in memory: mask before showing it). */
  spec: unknown
  /** The spec JSON text exactly as saved, except inline passwords, masked (main/job/secrets.ts). */
  specText: string
  createdAt: string
  updatedAt: string
  /** When this version was saved. */
  versionCreatedAt: string
}

/** One line of `jobs.list`, with the job's most recent run. */
export interface JobListItem {
  id: string
  name: string
  latestVersion: number
  createdAt: string
  updatedAt: string
  /** The most recently created run of the job, if any. */
  lastRun?: { id: string; state: RunState; createdAt: string; startedAt?: string; endedAt?: string }
}

/** One entry of `jobs.versions`. */
export interface JobVersion {
  version: number
  createdAt: string
  specText: string
}

/** What `save` did. `created` is false when the spec equals the latest version's text (no new version). */
export interface SaveResult {
  id: string
  version: number
  created: boolean
}

interface JobRow {
  id: string
  name: string
  latest_version: number
  created_at: string
  updated_at: string
}

/** The jobs repository (`store.jobs`). */
export class JobsRepo {
  readonly #db: Database.Database
  readonly #byId: Database.Statement<[string], JobRow>
  readonly #byName: Database.Statement<[string], JobRow>
  readonly #version: Database.Statement<[string, number], { spec: string; created_at: string; secrets: Buffer | null; secrets_scheme: string | null }>
  readonly #insertJob: Database.Statement<[JobRow]>
  readonly #updateJob: Database.Statement<[{ id: string; name: string; latest_version: number; updated_at: string }]>
  readonly #insertVersion: Database.Statement<[string, number, string, string, Buffer | null, string | null]>
  readonly #list: Database.Statement<[{ search: string | null }], Record<string, unknown>>
  readonly #versions: Database.Statement<[string], { version: number; created_at: string; spec: string }>
  readonly #delete: Database.Statement<[string]>
  readonly #box: SecretBox | undefined

  /** `box` encrypts the inline passwords of job specs (main/job/secrets.ts); without it such a spec is refused. */
  constructor(db: Database.Database, box?: SecretBox) {
    this.#db = db
    this.#box = box
    this.#byId = db.prepare('SELECT * FROM jobs WHERE id = ?')
    this.#byName = db.prepare('SELECT * FROM jobs WHERE name = ?')
    this.#version = db.prepare('SELECT spec, created_at, secrets, secrets_scheme FROM job_versions WHERE job_id = ? AND version = ?')
    this.#insertJob = db.prepare(
      'INSERT INTO jobs (id, name, latest_version, created_at, updated_at) VALUES (@id, @name, @latest_version, @created_at, @updated_at)',
    )
    this.#updateJob = db.prepare('UPDATE jobs SET name = @name, latest_version = @latest_version, updated_at = @updated_at WHERE id = @id')
    this.#insertVersion = db.prepare('INSERT INTO job_versions (job_id, version, spec, created_at, secrets, secrets_scheme) VALUES (?, ?, ?, ?, ?, ?)')
    this.#list = db.prepare(
      `SELECT j.id, j.name, j.latest_version, j.created_at, j.updated_at,
              r.id AS run_id, r.state AS run_state, r.created_at AS run_created_at, r.started_at AS run_started_at, r.ended_at AS run_ended_at
         FROM jobs j
         LEFT JOIN runs r ON r.id = (SELECT id FROM runs WHERE job_id = j.id ORDER BY id DESC LIMIT 1)
        WHERE @search IS NULL OR j.name LIKE '%' || @search || '%' ESCAPE '\\'
        ORDER BY j.name, j.id`,
    )
    this.#versions = db.prepare('SELECT version, created_at, spec FROM job_versions WHERE job_id = ? ORDER BY version')
    this.#delete = db.prepare('DELETE FROM jobs WHERE id = ?')
  }

  /**
   * Save a spec. Without `id`, creates a job named `name` at version 1. With `id`, appends version
   * latest+1 (and renames the job when `name` differs), unless the spec text equals the latest
   * version's, in which case no version is added (`created: false`).
   *
   * `spec` is any JSON value; a string is taken as the JSON text itself and stored exactly (key
   * order, spacing, number spelling preserved) after checking it parses.
   *
   * @throws StoreError `DUPLICATE` (path `name`; job names are unique, ASCII case-insensitive),
   *   `NOT_FOUND` (path `id`), `INVALID` (path `spec` or `name`).
   */
  save(spec: unknown, opts: { name: string; id?: string }): SaveResult {
    let text = jsonText(spec, 'spec')
    // Inline passwords: masked in the text, encrypted beside it; a masked one means "unchanged".
    const sealed = sealSpec(text)
    const unchanged = maskedPaths(sealed.masked)
    if (Object.keys(sealed.secrets).length || unchanged.length) text = JSON.stringify(sealed.masked)
    const secretsFor = (latest: { secrets: Buffer | null; secrets_scheme: string | null } | undefined): Record<string, string> => {
      const all = { ...sealed.secrets }
      if (unchanged.length && latest?.secrets && this.#box && latest.secrets_scheme === this.#box.scheme) {
        const before = JSON.parse(this.#box.decrypt(latest.secrets)) as Record<string, string>
        for (const p of unchanged) if (before[p] !== undefined && all[p] === undefined) all[p] = before[p]
      }
      return all
    }
    const encrypt = (all: Record<string, string>): [Buffer | null, string | null] => {
      if (!Object.keys(all).length) return [null, null]
      if (!this.#box) throw new StoreError('INVALID', 'spec: holds an inline password and the store has no secret box to encrypt it', 'spec')
      return [this.#box.encrypt(JSON.stringify(all)), this.#box.scheme]
    }
    const name = opts?.name
    if (typeof name !== 'string' || name.trim() === '') throw new StoreError('INVALID', 'name: a job needs a non-empty name', 'name')
    return this.#db
      .transaction((): SaveResult => {
        const now = nowIso()
        try {
          if (opts.id === undefined) {
            const id = newId()
            this.#insertJob.run({ id, name, latest_version: 1, created_at: now, updated_at: now })
            this.#insertVersion.run(id, 1, text, now, ...encrypt(secretsFor(undefined)))
            return { id, version: 1, created: true }
          }
          const job = this.#byId.get(opts.id)
          if (!job) throw new StoreError('NOT_FOUND', `no job with id ${JSON.stringify(opts.id)}`, 'id')
          const latest = this.#version.get(job.id, job.latest_version)
          const all = secretsFor(latest)
          const same = latest?.spec === text && JSON.stringify(all) === JSON.stringify(latest && latest.secrets && this.#box && latest.secrets_scheme === this.#box.scheme ? JSON.parse(this.#box.decrypt(latest.secrets)) : {})
          if (same) {
            if (job.name !== name) this.#updateJob.run({ id: job.id, name, latest_version: job.latest_version, updated_at: now })
            return { id: job.id, version: job.latest_version, created: false }
          }
          const version = job.latest_version + 1
          this.#insertVersion.run(job.id, version, text, now, ...encrypt(all))
          this.#updateJob.run({ id: job.id, name, latest_version: version, updated_at: now })
          return { id: job.id, version, created: true }
        } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /jobs\.name/.test((e as Error).message)) {
            throw new StoreError('DUPLICATE', `name: a job named ${JSON.stringify(name)} already exists`, 'name')
          }
          throw e
        }
      })
      .immediate()
  }

  /**
   * A job at `version` (default: its latest). `idOrName` is tried as an id, then as a name.
   * @returns undefined when the job or that version does not exist.
   */
  get(idOrName: string, version?: number): Job | undefined {
    const job = this.#byId.get(idOrName) ?? this.#byName.get(idOrName)
    if (!job) return undefined
    const v = version ?? job.latest_version
    const row = this.#version.get(job.id, v)
    if (!row) return undefined
    return {
      id: job.id,
      name: job.name,
      version: v,
      latestVersion: job.latest_version,
      spec: this.#unseal(row),
      specText: row.spec,
      createdAt: job.created_at,
      updatedAt: job.updated_at,
      versionCreatedAt: row.created_at,
    }
  }

  /** The version's spec with its inline passwords back (in memory only; mask it before showing it). */
  #unseal(row: { spec: string; secrets: Buffer | null; secrets_scheme: string | null }): unknown {
    const spec = JSON.parse(row.spec) as unknown
    if (!row.secrets || !this.#box || row.secrets_scheme !== this.#box.scheme) return spec
    try {
      return unsealSpec(spec, JSON.parse(this.#box.decrypt(row.secrets)) as Record<string, string>)
    } catch {
      return spec
    }
  }

  /** All jobs by name, with their most recent run. `search` matches a substring of the name (ASCII case-insensitive). */
  list(opts: { search?: string } = {}): JobListItem[] {
    const search = opts.search ? opts.search.replace(/[\\%_]/g, (c) => '\\' + c) : null
    return this.#list.all({ search }).map((r) => {
      const item: JobListItem = {
        id: r.id as string,
        name: r.name as string,
        latestVersion: r.latest_version as number,
        createdAt: r.created_at as string,
        updatedAt: r.updated_at as string,
      }
      if (r.run_id) {
        item.lastRun = { id: r.run_id as string, state: r.run_state as RunState, createdAt: r.run_created_at as string }
        if (r.run_started_at) item.lastRun.startedAt = r.run_started_at as string
        if (r.run_ended_at) item.lastRun.endedAt = r.run_ended_at as string
      }
      return item
    })
  }

  /** Every version of a job, oldest first (empty when the job does not exist). */
  versions(id: string): JobVersion[] {
    return this.#versions.all(id).map((r) => ({ version: r.version, createdAt: r.created_at, specText: r.spec }))
  }

  /**
   * Delete a job and its versions. Its runs stay (they keep their spec snapshot and name) with
   * `jobId` cleared. @returns false when there was no such job.
   */
  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0
  }
}
