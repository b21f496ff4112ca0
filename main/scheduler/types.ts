/**
 * Types of the local scheduler as the API carries them (schedules, instances, backfill, alerts).
 * Imported by the renderer: types only, no Node APIs.
 *
 * Vocabulary (see ../../README.md "Scheduling"):
 * - a **schedule** belongs to one job or workflow and says when it fires (its cycle);
 * - each fire time makes one **instance** with its scheduled time (`cyctime`, wall clock in the
 *   schedule's time zone) and its **data time** (by default the day before `cyctime`, exactly as
 *   `main/job/variables.ts` defines `${bizdate}`), both fixed when the instance is created;
 * - an instance of a job is executed as a **run** (`runId`); an instance of a workflow holds one
 *   **node instance** per node.
 */

/** What a schedule, an instance or a dependency points at: a saved job or workflow (id or name). */
export interface TargetRef {
  kind: 'job' | 'workflow'
  /** Id, or name (resolved to the id when saved). */
  id: string
}

/** A resolved target as the API returns it. */
export interface TargetView {
  kind: 'job' | 'workflow'
  id: string
  name: string
}

/**
 * The cycle of a schedule. Every time of day (`at`) is `HH:mm` wall clock in the schedule's time
 * zone. Fire times are computed with croner (never a hand-parsed cron). A wall-clock time that
 * does not exist on a spring-forward day fires at the first valid instant after the gap; one that
 * occurs twice on a fall-back day fires once (the first).
 */
export type CycleSpec =
  /** Once, at a local date-time `YYYY-MM-DDTHH:mm`. */
  | { type: 'once'; at: string }
  /** Every N minutes (1..1440), counted from local midnight of the start data time's next day. */
  | { type: 'minutes'; every: number }
  /** Every hour at minute `minute` (0..59); `everyHours` (1..23, default 1) skips hours, counted from midnight. */
  | { type: 'hourly'; minute: number; everyHours?: number }
  /** Every day at `at`. */
  | { type: 'daily'; at: string }
  /** On the given weekdays (0 = Sunday .. 6 = Saturday) at `at`. */
  | { type: 'weekly'; days: number[]; at: string }
  /** On the given days of month (1..31; a month without that day is skipped) and/or `'last'` (its last day), at `at`. */
  | { type: 'monthly'; days: Array<number | 'last'>; at: string }
  /** A cron expression of 5 fields (minute first) or 6 fields (second first), croner syntax (`L`, `W`, `#` supported). */
  | { type: 'cron'; expr: string }

/** Execution type when instances of one schedule overlap (DolphinScheduler's names). */
export type ExecutionType = 'parallel' | 'serial-wait' | 'serial-discard'

/** What happens to fire times missed while no scheduler was running (Airflow's catchup). */
export type CatchUp = 'none' | 'latest' | 'all'

/** Alerts of a schedule (and of the instances it makes). */
export interface AlertSpec {
  /** Events that alert; default `['failure', 'timeout']`. */
  on?: Array<'failure' | 'timeout' | 'success'>
  /** HTTP POST of a JSON body ({@link AlertPayload}) to this URL (http or https). */
  webhook?: { url: string; headers?: Record<string, string> }
  /**
   * A command run through the shell with the payload in its environment (`SLUICE_ALERT_JSON`,
   * `SLUICE_INSTANCE_ID`, `SLUICE_STATE`, `SLUICE_ERROR`, `SLUICE_BIZDATE`) and on stdin.
   */
  command?: string
  /** Desktop notification (Electron only: sent as the `alert` event). Default true; an instance without alert settings still gets it on failure and timeout. */
  desktop?: boolean
}

/** The JSON body of a webhook alert, and the `alert` event's payload. */
export interface AlertPayload {
  /** Instance id. */
  id: string
  kind: 'failure' | 'timeout' | 'success'
  state: InstanceState
  target: TargetView
  /** Data time `YYYY-MM-DD`. */
  dataTime: string
  bizdate: string
  cyctime: string
  runId?: string
  error?: string
  attempt: number
  /** ISO-8601 instant the alert was sent. */
  ts: string
}

/** The schedule of one job or workflow, as saved. */
export interface ScheduleSpec {
  cycle: CycleSpec
  /** IANA time zone of the cycle; default: the machine's time zone when the schedule is saved. */
  timezone?: string
  /** First data time to produce (`YYYY-MM-DD`); default: the day before the schedule is saved. */
  startDataTime?: string
  /** Last data time to produce (`YYYY-MM-DD`, inclusive); no end by default. */
  endDataTime?: string
  /** An instance waits until the previous cycle's instance of this schedule succeeded. Default false. */
  selfDependency?: boolean
  /** Other jobs/workflows whose instance for the same data time must have succeeded first. */
  dependsOn?: TargetRef[]
  /** Default `parallel`. */
  executionType?: ExecutionType
  /** `minutes` > 0; `action` fail terminates the instance, alert sends a timeout alert and lets it go on. */
  timeout?: { minutes: number; action: 'fail' | 'alert' }
  /** Automatic retries of a failed instance: `count` (0..10) after `intervalSeconds` each. */
  retries?: { count: number; intervalSeconds: number }
  /** Default `none`. */
  catchUp?: CatchUp
  owner?: string
  description?: string
  alerts?: AlertSpec
}

/** A saved schedule. */
export interface ScheduleView {
  id: string
  target: TargetView
  spec: ScheduleSpec
  /** The time zone in effect (the spec's, or the one filled in at save). */
  timezone: string
  state: 'active' | 'paused'
  /**
   * The version the schedule runs (publish). A job/workflow must be published before its schedule
   * fires; saving new versions does not change what runs until the next publish.
   */
  publishedVersion?: number
  latestVersion: number
  /** Next fire time (ISO-8601 instant), when active and within the end data time. */
  nextFireAt?: string
  /** `cyctime` (`YYYY-MM-DD HH:mm:ss`, wall clock in `timezone`) of the next fire. */
  nextCyctime?: string
  /** Fire times handled up to (ISO instant): the loop's watermark. */
  firedUntil?: string
  createdAt: string
  updatedAt: string
}

/** One fire time of a preview. */
export interface FireTime {
  /** ISO-8601 instant (UTC). */
  fireAt: string
  /** Wall clock in the schedule's time zone, `YYYY-MM-DD HH:mm:ss`. */
  cyctime: string
  /** `YYYY-MM-DD`. */
  dataTime: string
}

export type InstanceState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'terminated' | 'skipped' | 'paused'

/** Where an instance came from. */
export type InstanceOrigin = 'schedule' | 'backfill' | 'manual'

/** One node of a workflow instance. */
export interface NodeInstanceView {
  nodeId: string
  type: 'sync' | 'sql' | 'shell' | 'cleanup'
  /** `waiting` until its upstream nodes succeed; `skipped` when an upstream failed. */
  state: InstanceState
  /** The run of a sync node. */
  runId?: string
  error?: string
  startedAt?: string
  endedAt?: string
  /** SQL node: total rows affected by its statements. */
  rowsAffected?: number
  attempt: number
}

/** One instance (list line). */
export interface InstanceView {
  id: string
  scheduleId?: string
  target: TargetView
  /** The job/workflow version this instance runs (fixed at creation). */
  version: number
  /** Data time `YYYY-MM-DD`. */
  dataTime: string
  /** `yyyymmdd` of the data time (what `${bizdate}` gives). */
  bizdate: string
  /** Scheduled time `YYYY-MM-DD HH:mm:ss`, wall clock in `timezone`. */
  cyctime: string
  timezone: string
  /** Instant it becomes due (ISO-8601). */
  fireAt: string
  state: InstanceState
  /** Why a `waiting` instance waits (its time, an upstream, its previous cycle, a slot), in words. */
  waitingFor?: string
  /** Current (latest) run of a job instance. */
  runId?: string
  /** 1 for the first execution; +1 on each retry or rerun. */
  attempt: number
  error?: string
  origin: InstanceOrigin
  backfillId?: string
  createdAt: string
  startedAt?: string
  endedAt?: string
}

/** One alert sent for an instance. */
export interface AlertRecord {
  id: number
  instanceId: string
  kind: 'failure' | 'timeout' | 'success'
  channel: 'webhook' | 'command' | 'desktop'
  /** URL or command (never a header value). */
  target: string
  ok: boolean
  /** HTTP status or exit code, when known. */
  status?: number
  error?: string
  ts: string
}

/** An instance with its nodes (workflow), its runs and its alerts. */
export interface InstanceDetail extends InstanceView {
  nodes: NodeInstanceView[]
  /** Every run this instance made (retries, reruns), oldest first. */
  runIds: string[]
  alerts: AlertRecord[]
}

/** An instance log line (scheduler decisions, SQL statements, shell output). Job runs keep their own logs (`runs/logs`). */
export interface InstanceLogLine {
  id: number
  ts: string
  level: 'debug' | 'info' | 'warn' | 'error'
  nodeId?: string
  message: string
}

/** What a backfill covers. Data times are `YYYY-MM-DD` (or `yyyymmdd`). */
export interface BackfillRequest {
  target: TargetRef
  /** An inclusive range ... */
  from?: string
  to?: string
  /** ... or a list of data times. */
  dates?: string[]
  /** Also make instances of jobs/workflows whose schedules depend on the target (transitively). */
  withDownstream?: boolean
  /** At most this many instances of the backfill run at once (1 = serial, the default). */
  parallel?: number
}

/** One instance a backfill would create (dry run) or created. */
export interface BackfillItem {
  target: TargetView
  dataTime: string
  cyctime: string
  /** Instances it waits for first (self-dependency, upstream), as `<target name>@<dataTime>`. */
  after: string[]
}

/** The scheduler process holding the lease. */
export interface SchedulerStatus {
  /** True when some process holds an unexpired lease. */
  running: boolean
  holder?: { id: string; pid: number; host: string; since: string; expiresAt: string }
  /** True when this process (the app) holds it. */
  here: boolean
}
