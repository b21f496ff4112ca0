/**
 * Export a workflow (with its schedule) as an Apache DolphinScheduler workflow definition: the
 * JSON its "Import workflow" accepts (3.x: an array of `DagDataSchedule` objects —
 * `processDefinition`, `processTaskRelationList`, `taskDefinitionList`, `schedule`), so a team
 * that outgrows one machine takes the same workflow to a cluster.
 *
 * Mapping:
 * - sync node -> DATAX task with a custom config (`customConfig: 1`, `json` = the DataX job file
 *   Sluice exports for the job; passwords stay `${PASSWORD_<CONN>}` placeholders);
 * - sql node -> SQL task (`sqlType` "1", non-query; `segmentSeparator` ";"); its datasource id
 *   must be chosen after import (DolphinScheduler data sources are its own objects);
 * - shell node -> SHELL task; the `SLUICE_*` variables are exported at the top of the script;
 * - edges -> task relations (roots get `preTaskCode` 0); node retries/timeouts -> the task's
 *   `failRetryTimes`/`failRetryInterval` (minutes)/`timeout`;
 * - `${bizdate}` / `${cyctime}` -> global parameters `$[yyyyMMdd-1]` / `$[yyyyMMddHHmmss]`
 *   (DolphinScheduler time expressions of the schedule time);
 * - schedule -> a Quartz cron (`sec min hour dom mon dow`, `?` for the unused day field, weekdays
 *   1 = Sunday), its time zone, start data time (+1 day) and end; execution type -> the
 *   definition's `executionType`; timeout -> the definition's `timeout`.
 * Everything else (self-dependency, upstream dependencies, catch-up, alerts, cleanup nodes,
 * other date patterns, cycles that need several cron patterns) is listed in `warnings`.
 */
import { createHash } from 'node:crypto'
import { exportJob } from '../job/interop/index.js'
import { parseJob, type ConnectionRef } from '../job/spec.js'
import { variablesIn } from '../job/interop/common.js'
import { resolveConnectionRef } from '../engine/service.js'
import type { Store } from '../store/index.js'
import { compileCycle, machineTimeZone, addDaysToDate } from '../scheduler/cycle.js'
import type { ScheduleSpec } from '../scheduler/types.js'
import type { WorkflowSpec } from './types.js'
import { topoOrder } from './spec.js'

/** A stable positive 53-bit code (DolphinScheduler codes are 64-bit longs) from a string. */
function code(s: string): number {
  const h = createHash('sha256').update(s).digest()
  return Number(h.readBigUInt64BE(0) & ((1n << 52n) - 1n)) + 1
}

const DS_DB_TYPE: Record<string, string> = { mysql: 'MYSQL', postgres: 'POSTGRESQL', sqlite: 'SQLITE' }

/** A 5- or 6-field cron (croner) -> Quartz. @returns undefined when it cannot be expressed. */
export function toQuartz(pattern: string): string | undefined {
  const f = pattern.trim().split(/\s+/)
  const [sec, min, hour, dom, mon, dow] = f.length === 6 ? f : ['0', ...f]
  if (!min || !hour || !dom || !mon || !dow) return undefined
  const qDow =
    dow === '*'
      ? '?'
      : dow.replace(/\d+/g, (d) => String((Number(d) % 7) + 1)) // 0/7 = Sunday -> 1
  const qDom = dow === '*' ? dom : dom === '*' ? '?' : undefined
  if (qDom === undefined) return undefined // both day fields set: cron ORs them, Quartz cannot
  return `${sec} ${min} ${hour} ${qDom} ${mon} ${qDow} *`
}

/**
 * Build the DolphinScheduler import file.
 * @param opts.store resolves saved jobs and connections; `schedule` overrides the document's.
 */
export function exportDolphinScheduler(wf: WorkflowSpec, opts: { store: Store; schedule?: ScheduleSpec }): { files: Array<{ name: string; content: string }>; warnings: string[] } {
  const { store } = opts
  const warnings: string[] = []
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19)
  const wfCode = code(`wf:${wf.name}`)
  const codes = new Map(wf.nodes.map((n) => [n.id, code(`wf:${wf.name}:node:${n.id}`)]))
  const names = new Map(store.connections.list().map((c) => [c.id, c.name]))
  const byName = (ref: ConnectionRef): ConnectionRef => (typeof ref === 'string' && names.has(ref) ? names.get(ref)! : ref)
  const checkVars = (text: string, where: string) => {
    for (const v of variablesIn(text)) {
      if (v !== 'bizdate' && v !== 'cyctime' && !(wf.vars && v in wf.vars)) warnings.push(`${where}: \${${v}} has no DolphinScheduler equivalent here; define it as a parameter after import`)
    }
  }
  const tasks: Record<string, unknown>[] = []
  for (const n of wf.nodes) {
    const base = {
      code: codes.get(n.id)!,
      name: n.name ?? n.id,
      version: 1,
      description: n.description ?? '',
      projectCode: 0,
      userId: 0,
      taskParamList: [],
      taskParamMap: null,
      flag: 'YES',
      isCache: 'NO',
      taskPriority: 'MEDIUM',
      workerGroup: 'default',
      environmentCode: -1,
      failRetryTimes: n.retries?.count ?? 0,
      failRetryInterval: Math.max(1, Math.ceil((n.retries?.intervalSeconds ?? 60) / 60)),
      timeoutFlag: n.timeoutMinutes ? 'OPEN' : 'CLOSE',
      timeoutNotifyStrategy: n.timeoutMinutes ? 'FAILED' : null,
      timeout: n.timeoutMinutes ? Math.ceil(n.timeoutMinutes) : 0,
      delayTime: 0,
      resourceIds: null,
      taskGroupId: 0,
      taskGroupPriority: 0,
      cpuQuota: -1,
      memoryMax: -1,
      taskExecuteType: 'BATCH',
      createTime: now,
      updateTime: now,
    }
    if (n.type === 'sync') {
      let spec: unknown = n.job
      if (typeof n.job === 'string') {
        const j = store.jobs.get(n.job)
        if (!j) throw new Error(`nodes.${n.id}.job: no saved job '${n.job}'`)
        spec = store.jobs.get(j.id, store.scheduler.published('job', j.id) ?? j.latestVersion)!.spec
      }
      const parsed = parseJob(spec)
      if (!parsed.ok) throw new Error(`nodes.${n.id}.job: the job is not valid: ${parsed.problems[0]!.path}: ${parsed.problems[0]!.message}`)
      const job = parsed.job
      if (!Array.isArray(job.tables)) warnings.push(`node ${n.id}: a whole-schema job is exported without its table list; export the job from the app for one pair per table`)
      const named = { ...job, reader: { ...job.reader, connection: byName(job.reader.connection) }, writer: { ...job.writer, connection: byName(job.writer.connection) } }
      let r: { files: Array<{ name: string; content: string }>; warnings: string[] }
      try {
        r = exportJob(named, 'datax', (ref) => resolveConnectionRef(store, ref, `nodes.${n.id}.job`))
      } catch (e) {
        r = { files: [], warnings: [(e as Error).message] }
      }
      for (const w of r.warnings) warnings.push(`node ${n.id}: ${w}`)
      const file = r.files[0]
      if (!file) {
        // DataX cannot express it (e.g. SQLite): a SHELL task running the same job with Sluice.
        const ref = typeof n.job === 'string' ? n.job : `${n.id}.job.json`
        warnings.push(`node ${n.id}: DataX cannot express this job; exported as a SHELL task running \`sluice run\` (install Sluice on the workers${typeof n.job === 'string' ? '' : ` and ship ${ref}`})`)
        tasks.push({ ...base, taskType: 'SHELL', taskParams: { localParams: [], resourceList: [], rawScript: `sluice run --bizdate \${bizdate} ${JSON.stringify(ref)}` } })
        continue
      }
      if (r.files.length > 1) warnings.push(`node ${n.id}: the job has ${r.files.length} table pairs; DolphinScheduler's DataX task holds one DataX job, so only the first (${file.name}) is in the task — split the job or add DATAX tasks for ${r.files.slice(1).map((f) => f.name).join(', ')}`)
      checkVars(file.content, `node ${n.id}`)
      for (const p of new Set(file.content.match(/\$\{PASSWORD_[A-Z0-9_]+\}/g) ?? [])) warnings.push(`node ${n.id}: define ${p} as a parameter (passwords are never exported)`)
      tasks.push({ ...base, taskType: 'DATAX', taskParams: { localParams: [], resourceList: [], customConfig: 1, json: file.content, xms: 1, xmx: 1 } })
    } else if (n.type === 'sql') {
      let kind = 'MYSQL'
      try {
        kind = DS_DB_TYPE[resolveConnectionRef(store, n.connection, `nodes.${n.id}.connection`).kind] ?? 'MYSQL'
      } catch (e) {
        warnings.push(`node ${n.id}: ${(e as Error).message}`)
      }
      checkVars(n.sql, `node ${n.id}`)
      const connName = typeof byName(n.connection) === 'string' ? String(byName(n.connection)) : 'inline'
      warnings.push(`node ${n.id}: choose the DolphinScheduler data source for connection '${connName.replace(/\/\/[^@/]*@/, '//')}' (type ${kind}) after import`)
      if (kind === 'SQLITE') warnings.push(`node ${n.id}: DolphinScheduler has no SQLite data source`)
      tasks.push({ ...base, taskType: 'SQL', taskParams: { localParams: [], resourceList: [], type: kind, datasource: 0, sql: n.sql, sqlType: '1', preStatements: [], postStatements: [], segmentSeparator: ';', displayRows: 10 } })
    } else if (n.type === 'shell') {
      checkVars(n.command, `node ${n.id}`)
      const env = [
        'export SLUICE_BIZDATE=${bizdate}',
        'export SLUICE_CYCTIME=${cyctime}',
        `export SLUICE_WORKFLOW=${JSON.stringify(wf.name)}`,
        `export SLUICE_NODE=${JSON.stringify(n.id)}`,
        ...Object.keys(n.vars ?? {}).map((k) => `export ${k}=${JSON.stringify(n.vars![k])}`),
      ]
      if (n.cwd) env.push(`cd ${JSON.stringify(n.cwd)}`)
      tasks.push({ ...base, taskType: 'SHELL', taskParams: { localParams: [], resourceList: [], rawScript: [...env, n.command].join('\n') } })
    } else {
      warnings.push(`node ${n.id}: '${n.type}' nodes have no DolphinScheduler task; it is exported as a SHELL task that fails until replaced`)
      tasks.push({ ...base, taskType: 'SHELL', taskParams: { localParams: [], resourceList: [], rawScript: `echo "Sluice ${n.type} node '${n.id}' (job ${n.job}) must be replaced" >&2\nexit 1` } })
    }
  }
  const relations: Record<string, unknown>[] = []
  const rel = (pre: number, post: number) => ({
    name: '',
    processDefinitionVersion: 1,
    projectCode: 0,
    processDefinitionCode: wfCode,
    preTaskCode: pre,
    preTaskVersion: pre ? 1 : 0,
    postTaskCode: post,
    postTaskVersion: 1,
    conditionType: 'NONE',
    conditionParams: {},
    createTime: now,
    updateTime: now,
  })
  for (const n of wf.nodes) if (!wf.edges.some(([, b]) => b === n.id)) relations.push(rel(0, codes.get(n.id)!))
  for (const [a, b] of wf.edges) relations.push(rel(codes.get(a)!, codes.get(b)!))

  const globalParamList = [
    { prop: 'bizdate', direct: 'IN', type: 'VARCHAR', value: '$[yyyyMMdd-1]' },
    { prop: 'cyctime', direct: 'IN', type: 'VARCHAR', value: '$[yyyyMMddHHmmss]' },
    ...Object.entries(wf.vars ?? {}).map(([k, v]) => ({ prop: k, direct: 'IN', type: 'VARCHAR', value: v })),
  ]
  const order = topoOrder(wf)
  const locations = wf.nodes.map((n) => ({ taskCode: codes.get(n.id)!, x: n.position?.x ?? 80 + order.indexOf(n.id) * 240, y: n.position?.y ?? 120 }))
  const sched = opts.schedule ?? wf.schedule
  const definition: Record<string, unknown> = {
    code: wfCode,
    name: wf.name,
    version: 1,
    releaseState: 'OFFLINE',
    projectCode: 0,
    description: wf.description ?? '',
    globalParams: JSON.stringify(globalParamList),
    globalParamList,
    globalParamMap: Object.fromEntries(globalParamList.map((p) => [p.prop, p.value])),
    createTime: now,
    updateTime: now,
    flag: 'YES',
    userId: 0,
    locations: JSON.stringify(locations),
    timeout: sched?.timeout ? Math.ceil(sched.timeout.minutes) : 0,
    tenantId: -1,
    executionType: sched?.executionType === 'serial-wait' ? 'SERIAL_WAIT' : sched?.executionType === 'serial-discard' ? 'SERIAL_DISCARD' : 'PARALLEL',
  }
  let schedule: Record<string, unknown> | null = null
  if (sched) {
    const tz = sched.timezone ?? machineTimeZone()
    let crontab: string | undefined
    try {
      const patterns = compileCycle(sched.cycle, tz).patterns
      if (sched.cycle.type === 'once') warnings.push(`schedule: a 'once' cycle has no DolphinScheduler schedule; run the workflow by hand at ${sched.cycle.at}`)
      else if (patterns.length > 1) warnings.push(`schedule: the cycle needs ${patterns.length} cron patterns (${patterns.join(' | ')}); only the first is exported`)
      if (patterns[0]) crontab = toQuartz(patterns[0])
      if (patterns[0] && !crontab) warnings.push(`schedule: '${patterns[0]}' sets both day-of-month and weekday, which Quartz cannot express`)
    } catch (e) {
      warnings.push(`schedule: ${(e as Error).message}`)
    }
    if (crontab) {
      schedule = {
        processDefinitionCode: wfCode,
        startTime: `${sched.startDataTime ? addDaysToDate(sched.startDataTime.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'), 1) : now.slice(0, 10)} 00:00:00`,
        endTime: `${sched.endDataTime ? addDaysToDate(sched.endDataTime.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'), 1) : '2099-12-31'} 23:59:59`,
        timezoneId: tz,
        crontab,
        failureStrategy: 'END',
        warningType: sched.alerts ? 'FAILURE' : 'NONE',
        releaseState: 'OFFLINE',
        warningGroupId: 0,
        processInstancePriority: 'MEDIUM',
        workerGroup: 'default',
        environmentCode: -1,
        createTime: now,
        updateTime: now,
      }
    }
    if (sched.selfDependency) warnings.push('schedule: self-dependency has no direct equivalent; add a DEPENDENT task on this workflow\'s previous cycle (cycle "day", "last1Days")')
    if (sched.dependsOn?.length) warnings.push(`schedule: upstream dependencies (${sched.dependsOn.map((d) => d.id).join(', ')}) must become DEPENDENT tasks`)
    if (sched.catchUp && sched.catchUp !== 'none') warnings.push(`schedule: catch-up '${sched.catchUp}' does not map; use DolphinScheduler's complement data (backfill) for missed days`)
    if (sched.retries?.count) warnings.push('schedule: instance retries map to each task\'s failRetryTimes; set them per task after import')
    if (sched.timeout?.action === 'alert') warnings.push('schedule: a timeout that only alerts is exported as the definition timeout (DolphinScheduler fails or warns per task)')
    if (sched.alerts) warnings.push('schedule: alerts (webhook/command) must be set up as a DolphinScheduler alert group; warningType is FAILURE')
  }
  const dag = { processDefinition: definition, processTaskRelationList: relations, taskDefinitionList: tasks, schedule }
  const file = `${wf.name.replace(/[^A-Za-z0-9_-]+/g, '_')}.dolphinscheduler.json`
  return { files: [{ name: file, content: JSON.stringify([dag], null, 2) + '\n' }], warnings }
}
