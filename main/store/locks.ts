/**
 * Write leases: one writer per run, per saved job and per target table, recorded in the state DB.
 *
 * A lease row (`write_leases`) names the resource, the run holding it, the holder's pid and host
 * and a heartbeat. A lease is taken over when its holder is gone: on the same host when its pid
 * is no longer alive (or is this very process, which does not run it any more), on any host when
 * its heartbeat is older than the TTL (default {@link LEASE_TTL_MS}). Otherwise a second writer is
 * refused with {@link LeaseHeld}: "job X is already running as run R", "<target> is already being
 * written by run R", "run R is still running (pid P on H)".
 *
 * `target_writers` remembers which runs wrote which target and when (first and last lease): a
 * resumed run whose target was written by another run since its first attempt no longer owns the
 * rows of its key ranges (main/engine/redo.ts).
 *
 * Leases protect runs started from the same data dir (the CLI, `sluice serve`, the desktop app).
 * Runs from other data dirs or other tools are kept out by the database's advisory lock where the
 * target has one (main/engine/locks.ts).
 */
import type Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { nowIso } from './util.js'

/** A heartbeat older than this (ms) marks a lease stale on any host. Holders beat every {@link HEARTBEAT_MS}. */
export const LEASE_TTL_MS = 90_000
/** How often a running run refreshes its leases (ms). */
export const HEARTBEAT_MS = 10_000

/** What a lease protects: `run:<id>`, `job:<id>` or `target:...` with a display label. */
export interface LeaseResource {
  resource: string
  /** The job's name, the target table's display name. */
  label: string
}

/** A lease as stored. */
export interface Lease {
  resource: string
  label: string
  runId: string
  pid: number
  host: string
  acquiredAt: string
  heartbeatAt: string
}

/** Another live run holds a resource. `code` is `LOCKED`; the message names the resource and the run. */
export class LeaseHeld extends Error {
  override name = 'LeaseHeld'
  readonly code = 'LOCKED'
  constructor(public readonly lease: Lease) {
    super(describeHeld(lease))
  }
}

/** The refusal text for a held lease (see the file comment). */
export function describeHeld(l: Lease): string {
  if (l.resource.startsWith('job:')) return `job ${l.label} is already running as run ${l.runId}`
  if (l.resource.startsWith('run:')) return `run ${l.runId} is still running (pid ${l.pid} on ${l.host}); terminate it first`
  return `${l.label} is already being written by run ${l.runId}`
}

/** Runs whose leases this process holds: a lease with this pid but a run not in here is stale. */
const ACTIVE = new Set<string>()

/** True when process `pid` exists on this host (`kill(pid, 0)`: ESRCH = gone, EPERM = alive, not ours). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * When process `pid` started (epoch ms), from Linux's /proc (`stat` field 22, clock ticks since
 * boot, at the usual 100 Hz; `btime` of /proc/stat); undefined elsewhere or when unreadable.
 */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1])
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined
    return btime * 1000 + (ticks / 100) * 1000
  } catch {
    return undefined
  }
}

interface LeaseRow {
  resource: string
  label: string
  run_id: string
  pid: number
  host: string
  acquired_at: string
  heartbeat_at: string
}

const toLease = (r: LeaseRow): Lease => ({ resource: r.resource, label: r.label, runId: r.run_id, pid: r.pid, host: r.host, acquiredAt: r.acquired_at, heartbeatAt: r.heartbeat_at })

/** The write leases repository (`store.locks`). */
export class LocksRepo {
  readonly #db: Database.Database
  readonly #host = hostname()

  constructor(db: Database.Database) {
    this.#db = db
  }

  /** The lease on `resource`, if any (stale or not). */
  holder(resource: string): Lease | undefined {
    const r = this.#db.prepare('SELECT * FROM write_leases WHERE resource = ?').get(resource) as LeaseRow | undefined
    return r ? toLease(r) : undefined
  }

  /**
   * True when the lease's holder is gone: its pid is dead on this host (or is this process, which
   * no longer runs it), or its heartbeat is older than `ttlMs`.
   */
  isStale(l: Lease, ttlMs = LEASE_TTL_MS): boolean {
    if (l.host === this.#host) {
      if (l.pid === process.pid) return !ACTIVE.has(l.runId)
      if (!pidAlive(l.pid)) return true
      // Alive: the holder itself, or a later process that got its pid (after a reboot)? Where
      // /proc tells when it started, that decides (a suspended holder keeps its lease).
      const started = processStartMs(l.pid)
      if (started !== undefined) return started > Date.parse(l.acquiredAt) + 1000
    }
    return Date.now() - Date.parse(l.heartbeatAt) > ttlMs
  }

  /**
   * Take every resource for `runId`, all or none, in one transaction. A resource held by the same
   * run in a live process (a resume of a running run) is refused like any other.
   * @throws LeaseHeld naming the first resource held by a live run.
   */
  acquire(runId: string, resources: readonly LeaseResource[], ttlMs = LEASE_TTL_MS): void {
    const now = nowIso()
    this.#db
      .transaction(() => {
        for (const r of resources) {
          const held = this.holder(r.resource)
          if (held && !this.isStale(held, ttlMs)) throw new LeaseHeld(held)
        }
        const put = this.#db.prepare(
          `INSERT INTO write_leases (resource, label, run_id, pid, host, acquired_at, heartbeat_at) VALUES (@resource, @label, @run_id, @pid, @host, @now, @now)
           ON CONFLICT (resource) DO UPDATE SET label = excluded.label, run_id = excluded.run_id, pid = excluded.pid, host = excluded.host, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
        )
        const wrote = this.#db.prepare(
          `INSERT INTO target_writers (resource, run_id, first_at, last_at) VALUES (?, ?, ?, ?) ON CONFLICT (resource, run_id) DO UPDATE SET last_at = excluded.last_at`,
        )
        for (const r of resources) {
          put.run({ resource: r.resource, label: r.label, run_id: runId, pid: process.pid, host: this.#host, now })
          if (r.resource.startsWith('target:')) wrote.run(r.resource, runId, now, now)
        }
      })
      .immediate()
    ACTIVE.add(runId)
  }

  /** Refresh the heartbeat of every lease of `runId` held by this process. */
  heartbeat(runId: string): void {
    this.#db.prepare('UPDATE write_leases SET heartbeat_at = ? WHERE run_id = ? AND pid = ? AND host = ?').run(nowIso(), runId, process.pid, this.#host)
  }

  /** Give back `runId`'s leases held by this process (all, or the named resources). */
  release(runId: string, resources?: readonly string[]): void {
    if (resources) {
      // One transaction: with synchronous=FULL each autocommit statement is its own fsync, which
      // for a whole database's 300 tables was most of a second at the end of a run.
      const del = this.#db.prepare('DELETE FROM write_leases WHERE resource = ? AND run_id = ? AND pid = ? AND host = ?')
      this.#db.transaction(() => {
        for (const r of resources) del.run(r, runId, process.pid, this.#host)
      }).immediate()
      return
    }
    this.#db.prepare('DELETE FROM write_leases WHERE run_id = ? AND pid = ? AND host = ?').run(runId, process.pid, this.#host)
    ACTIVE.delete(runId)
  }

  /**
   * Other runs that took a lease on `resource` after `runId` first did: they may have written
   * rows into key ranges `runId` claims. Empty when `runId` never held it.
   */
  writersSince(resource: string, runId: string): string[] {
    const mine = this.#db.prepare('SELECT first_at FROM target_writers WHERE resource = ? AND run_id = ?').get(resource, runId) as { first_at: string } | undefined
    if (!mine) return []
    return (this.#db.prepare('SELECT run_id FROM target_writers WHERE resource = ? AND run_id <> ? AND last_at >= ? ORDER BY last_at').all(resource, runId, mine.first_at) as { run_id: string }[]).map((r) => r.run_id)
  }

  /**
   * Runs left `running` by a process that is gone (their `run:` lease is stale) become `failed`
   * with a message saying how to resume them; their leases are dropped. Runs without a lease
   * (recorded before leases existed) are left as they are.
   * @returns the ids of the runs marked failed.
   */
  reapDead(ttlMs = LEASE_TTL_MS): string[] {
    const rows = this.#db.prepare(`SELECT l.* FROM runs r JOIN write_leases l ON l.resource = 'run:' || r.id WHERE r.state IN ('running', 'created')`).all() as LeaseRow[]
    const dead = rows.map(toLease).filter((l) => this.isStale(l, ttlMs))
    if (!dead.length) return []
    const now = nowIso()
    this.#db
      .transaction(() => {
        for (const l of dead) {
          const cur = this.holder(l.resource)
          if (!cur || cur.pid !== l.pid || cur.host !== l.host) continue
          this.#db
            .prepare(`UPDATE runs SET state = 'failed', error = ?, updated_at = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ? AND state IN ('running', 'created')`)
            .run(`the process running it (pid ${l.pid} on ${l.host}) is gone; resume it with: sluice run --resume ${l.runId}`, now, now, l.runId)
          this.#db.prepare(`UPDATE run_tasks SET state = 'failed', error = COALESCE(error, 'the run''s process is gone'), ended_at = COALESCE(ended_at, ?) WHERE run_id = ? AND state IN ('running', 'pending')`).run(now, l.runId)
          this.#db.prepare('DELETE FROM write_leases WHERE run_id = ? AND pid = ? AND host = ?').run(l.runId, l.pid, l.host)
        }
      })
      .immediate()
    return dead.map((l) => l.runId)
  }
}
