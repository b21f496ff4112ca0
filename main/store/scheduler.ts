/**
 * The scheduler's state: publications, schedules, instances (and workflow node instances), their
 * logs and change feed, alerts sent, backfills and the scheduler lease. One repository; the
 * decisions live in main/scheduler/core.ts.
 *
 * Times: instants are ISO-8601 UTC strings (`fire_at`, `*_at`); `cyctime` is the wall clock in the
 * instance's `timezone` (`YYYY-MM-DD HH:mm:ss`); `data_time` is `YYYY-MM-DD`. The lease's
 * `expires_at` is epoch milliseconds of the scheduler's clock.
 */
import type Database from 'better-sqlite3'
import type { AlertRecord, InstanceLogLine, InstanceOrigin, InstanceState, NodeInstanceView, ScheduleSpec } from '../scheduler/types.js'
import { newId, nowIso } from './util.js'

/** DDL of migration `2026-12-05-100-scheduler`. */
export const SCHEDULER_DDL = `
CREATE TABLE workflows (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL COLLATE NOCASE UNIQUE,
  latest_version INTEGER NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE TABLE workflow_versions (
  workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  spec        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (workflow_id, version)
) WITHOUT ROWID;
CREATE TABLE publications (
  target_kind  TEXT NOT NULL CHECK (target_kind IN ('job','workflow')),
  target_id    TEXT NOT NULL,
  version      INTEGER NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (target_kind, target_id)
) WITHOUT ROWID;
CREATE TABLE schedules (
  id          TEXT PRIMARY KEY,
  target_kind TEXT NOT NULL CHECK (target_kind IN ('job','workflow')),
  target_id   TEXT NOT NULL,
  spec        TEXT NOT NULL,               -- ScheduleSpec JSON
  timezone    TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('active','paused')),
  fired_until TEXT NOT NULL,               -- fire times up to this instant are handled
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (target_kind, target_id)
);
CREATE TABLE backfills (
  id          TEXT PRIMARY KEY,
  target_kind TEXT NOT NULL,
  target_id   TEXT NOT NULL,
  request     TEXT NOT NULL,
  parallel    INTEGER NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE TABLE instances (
  id             TEXT PRIMARY KEY,
  schedule_id    TEXT,                     -- no FK: removing a schedule keeps its instances
  target_kind    TEXT NOT NULL CHECK (target_kind IN ('job','workflow')),
  target_id      TEXT NOT NULL,
  target_name    TEXT NOT NULL,
  version        INTEGER NOT NULL,
  data_time      TEXT NOT NULL,
  cyctime        TEXT NOT NULL,
  timezone       TEXT NOT NULL,
  fire_at        TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('waiting','running','succeeded','failed','terminated','skipped','paused')),
  waiting_for    TEXT,
  run_id         TEXT,
  run_ids        TEXT NOT NULL DEFAULT '[]',
  attempt        INTEGER NOT NULL DEFAULT 0,
  retries_left   INTEGER NOT NULL DEFAULT 0,
  retry_at       TEXT,
  error          TEXT,
  origin         TEXT NOT NULL CHECK (origin IN ('schedule','backfill','manual')),
  backfill_id    TEXT,
  config         TEXT NOT NULL,            -- InstanceConfig JSON, fixed at creation
  vars           TEXT,
  runner         TEXT,                     -- lease holder that started it
  kill_requested INTEGER NOT NULL DEFAULT 0,
  rerun_all      INTEGER NOT NULL DEFAULT 0,
  timeout_alerted INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  started_at     TEXT,
  ended_at       TEXT
);
CREATE UNIQUE INDEX instances_fire ON instances (schedule_id, fire_at) WHERE origin = 'schedule';
CREATE INDEX instances_target ON instances (target_kind, target_id, data_time);
CREATE INDEX instances_state ON instances (state, data_time);
CREATE TABLE node_instances (
  instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  node_id       TEXT NOT NULL,
  type          TEXT NOT NULL,
  state         TEXT NOT NULL,
  run_id        TEXT,
  error         TEXT,
  rows_affected INTEGER,
  attempt       INTEGER NOT NULL DEFAULT 0,
  started_at    TEXT,
  ended_at      TEXT,
  ord           INTEGER NOT NULL,
  PRIMARY KEY (instance_id, node_id)
) WITHOUT ROWID;
CREATE TABLE instance_logs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  node_id     TEXT,
  ts          TEXT NOT NULL,
  level       TEXT NOT NULL,
  message     TEXT NOT NULL
);
CREATE INDEX instance_logs_instance ON instance_logs (instance_id, id);
CREATE TABLE instance_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT, -- change feed tailed by every API host
  instance_id TEXT NOT NULL,
  node_id     TEXT,
  ts          TEXT NOT NULL
);
CREATE TABLE alerts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  kind        TEXT NOT NULL,
  channel     TEXT NOT NULL,
  target      TEXT NOT NULL,
  ok          INTEGER NOT NULL,
  status      INTEGER,
  error       TEXT,
  payload     TEXT NOT NULL,
  ts          TEXT NOT NULL
);
CREATE INDEX alerts_instance ON alerts (instance_id, id);
CREATE TABLE scheduler_lease (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  pid        INTEGER NOT NULL,
  host       TEXT NOT NULL,
  since      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`

/** What an instance keeps from its schedule (or backfill) at creation. */
export interface InstanceConfig {
  selfDependency?: boolean
  /** Resolved targets (ids) this instance's data time depends on. */
  dependsOn?: Array<{ kind: 'job' | 'workflow'; id: string }>
  executionType?: 'parallel' | 'serial-wait' | 'serial-discard'
  timeout?: { minutes: number; action: 'fail' | 'alert' }
  retries?: { count: number; intervalSeconds: number }
  alerts?: ScheduleSpec['alerts']
  /** Backfill concurrency cap. */
  parallel?: number
}

/** One schedule row. */
export interface ScheduleRow {
  id: string
  targetKind: 'job' | 'workflow'
  targetId: string
  spec: ScheduleSpec
  timezone: string
  state: 'active' | 'paused'
  firedUntil: string
  createdAt: string
  updatedAt: string
}

/** One instance row. */
export interface InstanceRow {
  id: string
  scheduleId?: string
  targetKind: 'job' | 'workflow'
  targetId: string
  targetName: string
  version: number
  dataTime: string
  cyctime: string
  timezone: string
  fireAt: string
  state: InstanceState
  waitingFor?: string
  runId?: string
  runIds: string[]
  attempt: number
  retriesLeft: number
  retryAt?: string
  error?: string
  origin: InstanceOrigin
  backfillId?: string
  config: InstanceConfig
  vars?: Record<string, string>
  runner?: string
  killRequested: boolean
  rerunAll: boolean
  timeoutAlerted: boolean
  createdAt: string
  updatedAt: string
  startedAt?: string
  endedAt?: string
}

/** A new instance: the fields a caller chooses (the rest start from their defaults). */
export type InstanceInput = Pick<
  InstanceRow,
  'scheduleId' | 'targetKind' | 'targetId' | 'targetName' | 'version' | 'dataTime' | 'cyctime' | 'timezone' | 'fireAt' | 'origin' | 'backfillId' | 'config' | 'vars'
> & { state?: InstanceState }

/** The lease row. */
export interface LeaseRow {
  holder: string
  pid: number
  host: string
  since: string
  expiresAt: number
}

const ENDED: ReadonlySet<InstanceState> = new Set(['succeeded', 'failed', 'terminated', 'skipped'])
/** States after which an instance does nothing more until an action. */
export const ENDED_INSTANCE_STATES = ENDED

type Row = Record<string, unknown>
const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T))

function toInstance(r: Row): InstanceRow {
  return {
    id: r.id as string,
    ...(r.schedule_id ? { scheduleId: r.schedule_id as string } : {}),
    targetKind: r.target_kind as 'job' | 'workflow',
    targetId: r.target_id as string,
    targetName: r.target_name as string,
    version: r.version as number,
    dataTime: r.data_time as string,
    cyctime: r.cyctime as string,
    timezone: r.timezone as string,
    fireAt: r.fire_at as string,
    state: r.state as InstanceState,
    ...(r.waiting_for ? { waitingFor: r.waiting_for as string } : {}),
    ...(r.run_id ? { runId: r.run_id as string } : {}),
    runIds: JSON.parse(r.run_ids as string) as string[],
    attempt: r.attempt as number,
    retriesLeft: r.retries_left as number,
    ...(r.retry_at ? { retryAt: r.retry_at as string } : {}),
    ...(r.error ? { error: r.error as string } : {}),
    origin: r.origin as InstanceOrigin,
    ...(r.backfill_id ? { backfillId: r.backfill_id as string } : {}),
    config: JSON.parse(r.config as string) as InstanceConfig,
    ...(r.vars ? { vars: JSON.parse(r.vars as string) as Record<string, string> } : {}),
    ...(r.runner ? { runner: r.runner as string } : {}),
    killRequested: r.kill_requested === 1,
    rerunAll: r.rerun_all === 1,
    timeoutAlerted: r.timeout_alerted === 1,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    ...(r.started_at ? { startedAt: r.started_at as string } : {}),
    ...(r.ended_at ? { endedAt: r.ended_at as string } : {}),
  }
}

function toSchedule(r: Row): ScheduleRow {
  return {
    id: r.id as string,
    targetKind: r.target_kind as 'job' | 'workflow',
    targetId: r.target_id as string,
    spec: JSON.parse(r.spec as string) as ScheduleSpec,
    timezone: r.timezone as string,
    state: r.state as 'active' | 'paused',
    firedUntil: r.fired_until as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  }
}

/** Columns of `instances` a patch may set. */
export interface InstancePatch {
  state?: InstanceState
  waitingFor?: string | null
  runId?: string | null
  runIds?: string[]
  attempt?: number
  retriesLeft?: number
  retryAt?: string | null
  error?: string | null
  runner?: string | null
  killRequested?: boolean
  rerunAll?: boolean
  timeoutAlerted?: boolean
  startedAt?: string | null
  endedAt?: string | null
}

const PATCH_COLS: Record<keyof InstancePatch, string> = {
  state: 'state',
  waitingFor: 'waiting_for',
  runId: 'run_id',
  runIds: 'run_ids',
  attempt: 'attempt',
  retriesLeft: 'retries_left',
  retryAt: 'retry_at',
  error: 'error',
  runner: 'runner',
  killRequested: 'kill_requested',
  rerunAll: 'rerun_all',
  timeoutAlerted: 'timeout_alerted',
  startedAt: 'started_at',
  endedAt: 'ended_at',
}

/** The scheduler repository (`store.scheduler`). All methods are synchronous. */
export class SchedulerRepo {
  readonly #db: Database.Database
  readonly #stmts = new Map<string, Database.Statement>()

  constructor(db: Database.Database) {
    this.#db = db
  }

  #st(sql: string): Database.Statement {
    let s = this.#stmts.get(sql)
    if (!s) {
      s = this.#db.prepare(sql)
      this.#stmts.set(sql, s)
    }
    return s
  }

  /** Run `fn` in one IMMEDIATE transaction (write lock taken at once). */
  tx<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate()
  }

  // ---- publications ----
  /** The published version of a target, if any. */
  published(kind: 'job' | 'workflow', id: string): number | undefined {
    const r = this.#st('SELECT version FROM publications WHERE target_kind = ? AND target_id = ?').get(kind, id) as { version: number } | undefined
    return r?.version
  }
  publish(kind: 'job' | 'workflow', id: string, version: number): void {
    this.#st('INSERT INTO publications (target_kind, target_id, version, published_at) VALUES (?, ?, ?, ?) ON CONFLICT (target_kind, target_id) DO UPDATE SET version = excluded.version, published_at = excluded.published_at').run(kind, id, version, nowIso())
  }
  unpublish(kind: 'job' | 'workflow', id: string): void {
    this.#st('DELETE FROM publications WHERE target_kind = ? AND target_id = ?').run(kind, id)
  }

  // ---- schedules ----
  scheduleFor(kind: 'job' | 'workflow', targetId: string): ScheduleRow | undefined {
    const r = this.#st('SELECT * FROM schedules WHERE target_kind = ? AND target_id = ?').get(kind, targetId) as Row | undefined
    return r ? toSchedule(r) : undefined
  }
  schedule(id: string): ScheduleRow | undefined {
    const r = this.#st('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined
    return r ? toSchedule(r) : undefined
  }
  schedules(filter: { state?: 'active' | 'paused'; kind?: 'job' | 'workflow' } = {}): ScheduleRow[] {
    return (
      this.#st('SELECT * FROM schedules WHERE (@state IS NULL OR state = @state) AND (@kind IS NULL OR target_kind = @kind) ORDER BY created_at, id').all({
        state: filter.state ?? null,
        kind: filter.kind ?? null,
      }) as Row[]
    ).map(toSchedule)
  }
  /** Create or replace the schedule of a target (keeps id, state; `firedUntil` only on create). */
  upsertSchedule(kind: 'job' | 'workflow', targetId: string, spec: ScheduleSpec, timezone: string, firedUntil: string): ScheduleRow {
    const now = nowIso()
    const existing = this.scheduleFor(kind, targetId)
    if (existing) {
      this.#st('UPDATE schedules SET spec = ?, timezone = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(spec), timezone, now, existing.id)
    } else {
      this.#st('INSERT INTO schedules (id, target_kind, target_id, spec, timezone, state, fired_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        newId(), kind, targetId, JSON.stringify(spec), timezone, 'active', firedUntil, now, now,
      )
    }
    return this.scheduleFor(kind, targetId)!
  }
  setScheduleState(id: string, state: 'active' | 'paused'): void {
    this.#st('UPDATE schedules SET state = ?, updated_at = ? WHERE id = ?').run(state, nowIso(), id)
  }
  setFiredUntil(id: string, firedUntil: string): void {
    this.#st('UPDATE schedules SET fired_until = ? WHERE id = ?').run(firedUntil, id)
  }
  deleteSchedule(id: string): boolean {
    return this.#st('DELETE FROM schedules WHERE id = ?').run(id).changes > 0
  }

  // ---- instances ----
  /** Insert an instance (state default `waiting`). @returns undefined when a schedule's fire time already has one. */
  insertInstance(i: InstanceInput): InstanceRow | undefined {
    const id = newId()
    const now = nowIso()
    const r = this.#st(
      `INSERT INTO instances (id, schedule_id, target_kind, target_id, target_name, version, data_time, cyctime, timezone, fire_at, state, origin, backfill_id, config, vars, retries_left, created_at, updated_at)
       VALUES (@id, @schedule_id, @target_kind, @target_id, @target_name, @version, @data_time, @cyctime, @timezone, @fire_at, @state, @origin, @backfill_id, @config, @vars, @retries_left, @now, @now)
       ON CONFLICT DO NOTHING`,
    ).run({
      id,
      schedule_id: i.scheduleId ?? null,
      target_kind: i.targetKind,
      target_id: i.targetId,
      target_name: i.targetName,
      version: i.version,
      data_time: i.dataTime,
      cyctime: i.cyctime,
      timezone: i.timezone,
      fire_at: i.fireAt,
      state: i.state ?? 'waiting',
      origin: i.origin,
      backfill_id: i.backfillId ?? null,
      config: JSON.stringify(i.config),
      vars: i.vars ? JSON.stringify(i.vars) : null,
      retries_left: i.config.retries?.count ?? 0,
      now,
    })
    if (r.changes === 0) return undefined
    this.event(id)
    return this.instance(id)
  }
  instance(id: string): InstanceRow | undefined {
    const r = this.#st('SELECT * FROM instances WHERE id = ?').get(id) as Row | undefined
    return r ? toInstance(r) : undefined
  }
  /** Instances in a state, oldest data time first (then fire time, then creation). */
  instancesInState(states: InstanceState[]): InstanceRow[] {
    const q = `SELECT * FROM instances WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY data_time, fire_at, id`
    return (this.#st(q).all(...states) as Row[]).map(toInstance)
  }
  /** The most recently created instance of a target for a data time. */
  latestFor(kind: 'job' | 'workflow', targetId: string, dataTime: string): InstanceRow | undefined {
    const r = this.#st('SELECT * FROM instances WHERE target_kind = ? AND target_id = ? AND data_time = ? ORDER BY id DESC LIMIT 1').get(kind, targetId, dataTime) as Row | undefined
    return r ? toInstance(r) : undefined
  }
  /** The previous cycle's instance: the latest created one with the greatest data time before `dataTime`. */
  previousOf(kind: 'job' | 'workflow', targetId: string, dataTime: string): InstanceRow | undefined {
    const r = this.#st('SELECT * FROM instances WHERE target_kind = ? AND target_id = ? AND data_time < ? ORDER BY data_time DESC, id DESC LIMIT 1').get(kind, targetId, dataTime) as Row | undefined
    return r ? toInstance(r) : undefined
  }
  countRunning(kind: 'job' | 'workflow', targetId: string): number {
    return (this.#st("SELECT count(*) AS n FROM instances WHERE target_kind = ? AND target_id = ? AND state = 'running'").get(kind, targetId) as { n: number }).n
  }
  countRunningInBackfill(backfillId: string): number {
    return (this.#st("SELECT count(*) AS n FROM instances WHERE backfill_id = ? AND state = 'running'").get(backfillId) as { n: number }).n
  }
  listInstances(f: { targetKind?: string; targetId?: string; scheduleId?: string; backfillId?: string; state?: string; from?: string; to?: string; limit?: number; offset?: number }): { rows: InstanceRow[]; total: number } {
    const where = `WHERE (@tk IS NULL OR target_kind = @tk) AND (@tid IS NULL OR target_id = @tid) AND (@sid IS NULL OR schedule_id = @sid)
      AND (@bid IS NULL OR backfill_id = @bid) AND (@state IS NULL OR state = @state) AND (@from IS NULL OR data_time >= @from) AND (@to IS NULL OR data_time <= @to)`
    const p = { tk: f.targetKind ?? null, tid: f.targetId ?? null, sid: f.scheduleId ?? null, bid: f.backfillId ?? null, state: f.state ?? null, from: f.from ?? null, to: f.to ?? null }
    const total = (this.#st(`SELECT count(*) AS n FROM instances ${where}`).get(p) as { n: number }).n
    const rows = (this.#st(`SELECT * FROM instances ${where} ORDER BY data_time DESC, id DESC LIMIT @limit OFFSET @offset`).all({ ...p, limit: f.limit ?? 200, offset: f.offset ?? 0 }) as Row[]).map(toInstance)
    return { rows, total }
  }
  /** Patch an instance (and append to the change feed). `onlyIf` guards a state transition. @returns false when the guard failed. */
  updateInstance(id: string, patch: InstancePatch, onlyIf?: InstanceState[]): boolean {
    const sets: string[] = ['updated_at = @updated_at']
    const params: Record<string, unknown> = { id, updated_at: nowIso() }
    for (const [k, col] of Object.entries(PATCH_COLS) as Array<[keyof InstancePatch, string]>) {
      if (!(k in patch)) continue
      let v: unknown = patch[k]
      if (typeof v === 'boolean') v = v ? 1 : 0
      else if (Array.isArray(v)) v = JSON.stringify(v)
      sets.push(`${col} = @${col}`)
      params[col] = v ?? null
    }
    let sql = `UPDATE instances SET ${sets.join(', ')} WHERE id = @id`
    if (onlyIf) sql += ` AND state IN (${onlyIf.map((s) => `'${s}'`).join(',')})`
    const changed = this.#st(sql).run(params).changes > 0
    if (changed && ('state' in patch || 'waitingFor' in patch || 'runId' in patch)) this.event(id)
    return changed
  }
  deleteWaitingOf(kind: 'job' | 'workflow', targetId: string): void {
    this.#st("UPDATE instances SET state = 'terminated', error = 'its job/workflow was deleted', updated_at = ? WHERE target_kind = ? AND target_id = ? AND state IN ('waiting','paused')").run(nowIso(), kind, targetId)
  }

  // ---- node instances ----
  nodes(instanceId: string): NodeInstanceView[] {
    return (this.#st('SELECT * FROM node_instances WHERE instance_id = ? ORDER BY ord').all(instanceId) as Row[]).map((r) => ({
      nodeId: r.node_id as string,
      type: r.type as NodeInstanceView['type'],
      state: r.state as InstanceState,
      attempt: r.attempt as number,
      ...(opt<string>(r.run_id) ? { runId: r.run_id as string } : {}),
      ...(opt<string>(r.error) ? { error: r.error as string } : {}),
      ...(opt<string>(r.started_at) ? { startedAt: r.started_at as string } : {}),
      ...(opt<string>(r.ended_at) ? { endedAt: r.ended_at as string } : {}),
      ...(opt<number>(r.rows_affected) !== undefined ? { rowsAffected: r.rows_affected as number } : {}),
    }))
  }
  ensureNodes(instanceId: string, nodes: Array<{ nodeId: string; type: string }>): void {
    const ins = this.#st("INSERT INTO node_instances (instance_id, node_id, type, state, ord) VALUES (?, ?, ?, 'waiting', ?) ON CONFLICT DO NOTHING")
    nodes.forEach((n, i) => ins.run(instanceId, n.nodeId, n.type, i))
  }
  updateNode(instanceId: string, nodeId: string, p: { state?: InstanceState; runId?: string | null; error?: string | null; rowsAffected?: number | null; attempt?: number; startedAt?: string | null; endedAt?: string | null }): void {
    const map: Record<string, string> = { state: 'state', runId: 'run_id', error: 'error', rowsAffected: 'rows_affected', attempt: 'attempt', startedAt: 'started_at', endedAt: 'ended_at' }
    const sets: string[] = []
    const params: Record<string, unknown> = { iid: instanceId, nid: nodeId }
    for (const [k, col] of Object.entries(map)) {
      if (!(k in p)) continue
      sets.push(`${col} = @${col}`)
      params[col] = (p as Record<string, unknown>)[k] ?? null
    }
    if (!sets.length) return
    this.#st(`UPDATE node_instances SET ${sets.join(', ')} WHERE instance_id = @iid AND node_id = @nid`).run(params)
    if ('state' in p) this.event(instanceId, nodeId)
  }

  // ---- logs, change feed, alerts ----
  log(instanceId: string, level: InstanceLogLine['level'], message: string, nodeId?: string): void {
    this.#st('INSERT INTO instance_logs (instance_id, node_id, ts, level, message) VALUES (?, ?, ?, ?, ?)').run(instanceId, nodeId ?? null, nowIso(), level, message)
  }
  logs(instanceId: string, f: { nodeId?: string; afterId?: number; limit?: number } = {}): InstanceLogLine[] {
    return (
      this.#st('SELECT * FROM instance_logs WHERE instance_id = @iid AND id > @after AND (@nid IS NULL OR node_id = @nid) ORDER BY id LIMIT @limit').all({
        iid: instanceId,
        after: f.afterId ?? 0,
        nid: f.nodeId ?? null,
        limit: f.limit ?? 1000,
      }) as Row[]
    ).map((r) => ({ id: r.id as number, ts: r.ts as string, level: r.level as InstanceLogLine['level'], message: r.message as string, ...(r.node_id ? { nodeId: r.node_id as string } : {}) }))
  }
  /** Append to the change feed (every API host tails it to push `instance/state` events). */
  event(instanceId: string, nodeId?: string): void {
    this.#st('INSERT INTO instance_events (instance_id, node_id, ts) VALUES (?, ?, ?)').run(instanceId, nodeId ?? null, nowIso())
  }
  /** Change-feed entries after `afterId`. */
  eventsAfter(afterId: number, limit = 500): Array<{ id: number; instanceId: string; nodeId?: string }> {
    return (this.#st('SELECT id, instance_id, node_id FROM instance_events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as Row[]).map((r) => ({
      id: r.id as number,
      instanceId: r.instance_id as string,
      ...(r.node_id ? { nodeId: r.node_id as string } : {}),
    }))
  }
  lastEventId(): number {
    return ((this.#st('SELECT max(id) AS m FROM instance_events').get() as { m: number | null }).m ?? 0)
  }
  recordAlert(a: Omit<AlertRecord, 'id' | 'ts'> & { payload: unknown }): number {
    return Number(
      this.#st('INSERT INTO alerts (instance_id, kind, channel, target, ok, status, error, payload, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        a.instanceId, a.kind, a.channel, a.target, a.ok ? 1 : 0, a.status ?? null, a.error ?? null, JSON.stringify(a.payload), nowIso(),
      ).lastInsertRowid,
    )
  }
  alerts(f: { instanceId?: string; afterId?: number; limit?: number; channel?: string } = {}): Array<AlertRecord & { payload: unknown }> {
    return (
      this.#st('SELECT * FROM alerts WHERE (@iid IS NULL OR instance_id = @iid) AND id > @after AND (@ch IS NULL OR channel = @ch) ORDER BY id DESC LIMIT @limit').all({
        iid: f.instanceId ?? null,
        after: f.afterId ?? 0,
        ch: f.channel ?? null,
        limit: f.limit ?? 100,
      }) as Row[]
    ).map((r) => ({
      id: r.id as number,
      instanceId: r.instance_id as string,
      kind: r.kind as AlertRecord['kind'],
      channel: r.channel as AlertRecord['channel'],
      target: r.target as string,
      ok: r.ok === 1,
      ...(r.status !== null ? { status: r.status as number } : {}),
      ...(r.error ? { error: r.error as string } : {}),
      ts: r.ts as string,
      payload: JSON.parse(r.payload as string),
    }))
  }

  // ---- backfills ----
  insertBackfill(b: { targetKind: string; targetId: string; request: unknown; parallel: number }): string {
    const id = newId()
    this.#st('INSERT INTO backfills (id, target_kind, target_id, request, parallel, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, b.targetKind, b.targetId, JSON.stringify(b.request), b.parallel, nowIso())
    return id
  }

  // ---- lease ----
  lease(): LeaseRow | undefined {
    const r = this.#st("SELECT * FROM scheduler_lease WHERE name = 'main'").get() as Row | undefined
    return r ? { holder: r.holder as string, pid: r.pid as number, host: r.host as string, since: r.since as string, expiresAt: r.expires_at as number } : undefined
  }
  /**
   * Take or renew the lease for `holder` until `now + ttlMs` when it is free, expired or already
   * ours (one IMMEDIATE transaction, so two processes cannot both win).
   * @returns `acquired` (newly taken), `renewed`, or `held` (someone else holds it).
   */
  acquireLease(holder: string, pid: number, host: string, now: number, ttlMs: number): 'acquired' | 'renewed' | 'held' {
    return this.tx(() => {
      const cur = this.lease()
      if (cur && cur.holder !== holder && cur.expiresAt > now) return 'held'
      if (cur && cur.holder === holder) {
        this.#st("UPDATE scheduler_lease SET expires_at = ? WHERE name = 'main'").run(now + ttlMs)
        return 'renewed'
      }
      this.#st("INSERT INTO scheduler_lease (name, holder, pid, host, since, expires_at) VALUES ('main', ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host, since = excluded.since, expires_at = excluded.expires_at").run(
        holder, pid, host, new Date(now).toISOString(), now + ttlMs,
      )
      return 'acquired'
    })
  }
  /** True when `holder` holds an unexpired lease at `now` (checked inside state transitions). */
  holdsLease(holder: string, now: number): boolean {
    const cur = this.lease()
    return !!cur && cur.holder === holder && cur.expiresAt > now
  }
  releaseLease(holder: string): void {
    this.#st("DELETE FROM scheduler_lease WHERE name = 'main' AND holder = ?").run(holder)
  }
}

/** Saved workflows and their versions (`store.workflows`), like jobs: a name plus immutable versions. */
export class WorkflowsRepo {
  readonly #db: Database.Database
  constructor(db: Database.Database) {
    this.#db = db
  }
  /**
   * Save a workflow document (text stored exactly). New name: version 1; existing id or name:
   * latest+1 unless the text is unchanged.
   */
  save(specText: string, name: string, id?: string): { id: string; version: number; created: boolean } {
    return this.#db
      .transaction(() => {
        const now = nowIso()
        const cur = (id ? this.#db.prepare('SELECT * FROM workflows WHERE id = ?').get(id) : this.#db.prepare('SELECT * FROM workflows WHERE name = ?').get(name)) as Row | undefined
        if (!cur) {
          if (id) throw Object.assign(new Error(`no workflow with id ${JSON.stringify(id)}`), { code: 'NOT_FOUND', path: 'id' })
          const nid = newId()
          this.#db.prepare('INSERT INTO workflows (id, name, latest_version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)').run(nid, name, now, now)
          this.#db.prepare('INSERT INTO workflow_versions (workflow_id, version, spec, created_at) VALUES (?, 1, ?, ?)').run(nid, specText, now)
          return { id: nid, version: 1, created: true }
        }
        const wid = cur.id as string
        const latest = cur.latest_version as number
        const prev = this.#db.prepare('SELECT spec FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(wid, latest) as { spec: string } | undefined
        if (prev?.spec === specText) {
          if (cur.name !== name) this.#db.prepare('UPDATE workflows SET name = ?, updated_at = ? WHERE id = ?').run(name, now, wid)
          return { id: wid, version: latest, created: false }
        }
        this.#db.prepare('INSERT INTO workflow_versions (workflow_id, version, spec, created_at) VALUES (?, ?, ?, ?)').run(wid, latest + 1, specText, now)
        this.#db.prepare('UPDATE workflows SET name = ?, latest_version = ?, updated_at = ? WHERE id = ?').run(name, latest + 1, now, wid)
        return { id: wid, version: latest + 1, created: true }
      })
      .immediate()
  }
  /** A workflow by id or name at `version` (default latest). */
  get(idOrName: string, version?: number): { id: string; name: string; version: number; latestVersion: number; specText: string; updatedAt: string } | undefined {
    const w = (this.#db.prepare('SELECT * FROM workflows WHERE id = ?').get(idOrName) ?? this.#db.prepare('SELECT * FROM workflows WHERE name = ?').get(idOrName)) as Row | undefined
    if (!w) return undefined
    const v = version ?? (w.latest_version as number)
    const r = this.#db.prepare('SELECT spec FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(w.id, v) as { spec: string } | undefined
    if (!r) return undefined
    return { id: w.id as string, name: w.name as string, version: v, latestVersion: w.latest_version as number, specText: r.spec, updatedAt: w.updated_at as string }
  }
  list(search?: string): Array<{ id: string; name: string; latestVersion: number; updatedAt: string; specText: string }> {
    return (
      this.#db
        .prepare(
          `SELECT w.id, w.name, w.latest_version, w.updated_at, v.spec FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version
            WHERE @s IS NULL OR w.name LIKE '%' || @s || '%' ORDER BY w.name`,
        )
        .all({ s: search ?? null }) as Row[]
    ).map((r) => ({ id: r.id as string, name: r.name as string, latestVersion: r.latest_version as number, updatedAt: r.updated_at as string, specText: r.spec as string }))
  }
  delete(id: string): boolean {
    return this.#db.prepare('DELETE FROM workflows WHERE id = ?').run(id).changes > 0
  }
}
