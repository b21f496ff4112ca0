/**
 * Scheduler CLI: `jobs`, `schedule`, `backfill`, `instances`, `workflow`, `scheduler`.
 *
 * Exit codes: 0 success; 1 the work failed (`--wait` and an instance did not succeed); 2 bad
 * usage or input. Targets are job or workflow names (or ids); a name that is both is taken as
 * the job unless `--workflow` is given.
 */
import { Command, Option } from 'commander'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir, platform as osPlatform } from 'node:os'
import path from 'node:path'
import { CliError, storeFor } from '../cli/core.js'
import { parseJob } from '../job/spec.js'
import { resolveDataDir, type Store } from '../store/index.js'
import { ENDED_INSTANCE_STATES } from '../store/scheduler.js'
import { exportDolphinScheduler } from '../workflow/dolphinscheduler.js'
import { parseWorkflow, workflowJsonSchema } from '../workflow/spec.js'
import type { WorkflowSpec } from '../workflow/types.js'
import { AlertSender } from './alerts.js'
import { Scheduler } from './core.js'
import { createExecutor } from './execute.js'
import { SchedulerService } from './service.js'
import type { CycleSpec, InstanceView, ScheduleSpec, TargetRef } from './types.js'

const out = (s: string): void => void process.stdout.write(s.endsWith("\n") ? s : s + "\n")
const json = (v: unknown) => out(JSON.stringify(v, null, 2))

function readJsonFile(file: string): { doc: unknown; text: string } {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`)
  const text = readFileSync(file, 'utf8')
  try {
    return { doc: JSON.parse(text), text }
  } catch (e) {
    throw new CliError(`${file}: not JSON (${(e as Error).message})`)
  }
}

/** A job or workflow by name/id. */
function targetOf(store: Store, name: string, forceWorkflow = false): TargetRef {
  if (!forceWorkflow && store.jobs.get(name)) return { kind: 'job', id: store.jobs.get(name)!.id }
  const w = store.workflows.get(name)
  if (w) return { kind: 'workflow', id: w.id }
  throw new CliError(`no ${forceWorkflow ? 'workflow' : 'job or workflow'} named '${name}' (save it first: sluice jobs save / sluice workflow save)`)
}

/** `30m`, `2h`, `90s`, `45` (minutes) -> minutes. */
function minutesOf(v: string, opt: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(v.trim())
  if (!m) throw new CliError(`${opt}: '${v}' is not a duration (e.g. 90s, 30m, 2h)`)
  const n = Number(m[1])
  return m[2] === 's' ? n / 60 : m[2] === 'h' ? n * 60 : n
}
const secondsOf = (v: string, opt: string) => Math.round(minutesOf(v.match(/[smh]$/) ? v : v + 's', opt) * 60)

const intOpt = (name: string, min = 0) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new CliError(`${name}: '${v}' is not an integer >= ${min}`)
  return n
}
const collect = (v: string, acc: string[]) => [...acc, v]

function cycleFromOptions(o: Record<string, string | undefined>): CycleSpec {
  if (o.cron) return { type: 'cron', expr: o.cron }
  const at = o.at
  switch (o.cycle) {
    case 'once':
      if (!at) throw new CliError('--cycle once needs --at "YYYY-MM-DDTHH:mm"')
      return { type: 'once', at }
    case 'minutes':
      return { type: 'minutes', every: intOpt('--every', 1)(o.every ?? '') }
    case 'hourly':
      return { type: 'hourly', minute: intOpt('--minute')(o.minute ?? (at ? at.split(':').pop()! : '0')), ...(o.every ? { everyHours: intOpt('--every', 1)(o.every) } : {}) }
    case 'daily':
      return { type: 'daily', at: at ?? '00:00' }
    case 'weekly':
      if (!o.days) throw new CliError('--cycle weekly needs --days (0 = Sunday .. 6, comma-separated)')
      return { type: 'weekly', days: o.days.split(',').map((d) => intOpt('--days')(d.trim())), at: at ?? '00:00' }
    case 'monthly':
      if (!o.days) throw new CliError("--cycle monthly needs --days (1..31 or 'last', comma-separated)")
      return { type: 'monthly', days: o.days.split(',').map((d) => (d.trim() === 'last' ? 'last' : intOpt('--days', 1)(d.trim()))), at: at ?? '00:00' }
    default:
      throw new CliError('give --cron "<expr>" or --cycle once|minutes|hourly|daily|weekly|monthly')
  }
}

function printInstances(list: InstanceView[], asJson: boolean): void {
  if (asJson) {
    json(
      list.map((i) => ({
        id: i.id,
        job: i.target.name,
        kind: i.target.kind,
        dataTime: i.dataTime,
        cyctime: i.cyctime,
        state: i.state,
        runId: i.runId ?? null,
        attempt: i.attempt,
        origin: i.origin,
        ...(i.error ? { error: i.error } : {}),
        ...(i.waitingFor ? { waitingFor: i.waitingFor } : {}),
      })),
    )
    return
  }
  if (!list.length) return out('no instances')
  for (const i of list) out(`${i.id}  ${i.target.kind === 'workflow' ? 'wf ' : ''}${i.target.name}  ${i.dataTime}  ${i.cyctime}  ${i.state}${i.waitingFor ? ` (waiting for ${i.waitingFor})` : ''}${i.error ? `  ${i.error}` : ''}${i.runId ? `  run ${i.runId}` : ''}`)
}

/** A scheduler over the real executor, logging to stdout (or stderr when `quiet`). */
function makeScheduler(store: Store, quiet = false): Scheduler {
  return new Scheduler({
    store,
    executor: createExecutor(store),
    alerter: new AlertSender(store),
    log: (line) => (quiet ? process.stderr : process.stdout).write(`${new Date().toISOString()} ${line}\n`),
  })
}

/** Run the scheduler here until every instance in `ids` has ended; exit code 0 when all succeeded. */
async function waitFor(store: Store, ids: string[], quiet = false): Promise<number> {
  const sched = makeScheduler(store, quiet)
  const onSig = () => void sched.stop({ terminate: true }).then(() => process.exit(130))
  process.once('SIGINT', onSig)
  try {
    for (;;) {
      await sched.tick()
      const rows = ids.map((id) => store.scheduler.instance(id)!)
      if (rows.every((r) => ENDED_INSTANCE_STATES.has(r.state))) break
      // Nothing can make progress: every instance still waiting is blocked and nothing runs.
      if (sched.leader && sched.running.size === 0 && sched.idle() && rows.every((r) => r.state !== 'running')) {
        const blocked = rows.filter((r) => !ENDED_INSTANCE_STATES.has(r.state))
        for (const b of blocked) process.stderr.write(`instance ${b.id} (${b.targetName} ${b.dataTime}) is ${b.state}${b.waitingFor ? `, waiting for ${b.waitingFor}` : ''}\n`)
        break
      }
      await sched.settle(500)
    }
  } finally {
    process.off('SIGINT', onSig)
    await sched.stop()
  }
  const svc = new SchedulerService(store)
  const rows = ids.map((id) => svc.instanceView(store.scheduler.instance(id)!))
  printInstances(rows, false)
  return rows.every((r) => r.state === 'succeeded') ? 0 : 1
}

/** Files that keep `sluice scheduler` running while the app is closed. */
export function serviceFiles(opts: { platform: NodeJS.Platform; node: string; script: string; dataDir: string; home: string }): { path: string; content: string; next: string[] } {
  const args = [opts.script, '--data-dir', opts.dataDir, 'scheduler']
  if (opts.platform === 'darwin') {
    const p = path.join(opts.home, 'Library/LaunchAgents/dev.sluice.scheduler.plist')
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    const content = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>dev.sluice.scheduler</string>
  <key>ProgramArguments</key>
  <array>
${[opts.node, ...args].map((a) => `    <string>${esc(a)}</string>`).join('\n')}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
  <key>StandardOutPath</key><string>${esc(path.join(opts.dataDir, 'scheduler.log'))}</string>
  <key>StandardErrorPath</key><string>${esc(path.join(opts.dataDir, 'scheduler.log'))}</string>
</dict>
</plist>
`
    return { path: p, content, next: [`launchctl unload ${p} 2>/dev/null; launchctl load -w ${p}`, 'launchctl list | grep dev.sluice.scheduler'] }
  }
  if (opts.platform === 'win32') {
    const p = path.join(opts.dataDir, 'sluice-scheduler.cmd')
    const q = (s: string) => `"${s}"`
    const content = `@echo off\r\n${[opts.node, ...args].map(q).join(' ')} >> ${q(path.join(opts.dataDir, 'scheduler.log'))} 2>&1\r\n`
    return { path: p, content, next: [`schtasks /Create /TN "Sluice scheduler" /SC ONLOGON /RL LIMITED /F /TR "\\"${p}\\""`, 'schtasks /Run /TN "Sluice scheduler"'] }
  }
  const p = path.join(opts.home, '.config/systemd/user/sluice-scheduler.service')
  const qs = (s: string) => (/[\s"\\]/.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : s)
  const content = `[Unit]
Description=Sluice scheduler (schedules, backfills and workflows of ${opts.dataDir})
After=network-online.target

[Service]
Type=simple
ExecStart=${[opts.node, ...args].map(qs).join(' ')}
Restart=always
RestartSec=10
# Passwords: the key file in the data dir, or set SLUICE_MASTER_KEY here.

[Install]
WantedBy=default.target
`
  return { path: p, content, next: ['systemctl --user daemon-reload', 'systemctl --user enable --now sluice-scheduler', 'loginctl enable-linger "$USER"   # keep it running after you log out', 'journalctl --user -u sluice-scheduler -f   # its log'] }
}

/** Register the commands. */
export function register(program: Command): void {
  // ---- jobs ----
  const jobs = program.commands.find((c) => c.name() === 'jobs') ?? program.command('jobs').description('saved jobs (what schedules run)')
  jobs
    .command('list')
    .option('--json')
    .action((o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        const list = store.jobs.list().map((j) => {
          const s = store.scheduler.scheduleFor('job', j.id)
          const v = s ? svc.scheduleView(s) : undefined
          return { id: j.id, name: j.name, latestVersion: j.latestVersion, publishedVersion: store.scheduler.published('job', j.id) ?? null, schedule: v ? { id: v.id, state: v.state, nextRunAt: v.nextFireAt ?? null } : null, lastRun: j.lastRun ?? null }
        })
        if (o.json) return json(list)
        if (!list.length) return out('no saved jobs (sluice jobs save <job.json>)')
        for (const j of list) out(`${j.name}  v${j.latestVersion}${j.publishedVersion ? ` (published v${j.publishedVersion})` : ''}${j.schedule ? `  ${j.schedule.state}${j.schedule.nextRunAt ? `, next ${j.schedule.nextRunAt}` : ''}` : ''}${j.lastRun ? `  last run ${j.lastRun.state}` : ''}`)
      } finally {
        store.close()
      }
    })
  jobs
    .command('show')
    .argument('<job>', 'job name or id')
    .option('--version <n>', 'a version (default: the latest)', intOpt('--version', 1))
    .action((name: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const j = store.jobs.get(name, o.version)
        if (!j) throw new CliError(`no job '${name}'${o.version ? ` version ${o.version}` : ''}`)
        out(j.specText)
      } finally {
        store.close()
      }
    })
  jobs
    .command('save')
    .argument('<job.json>')
    .option('--name <name>', 'the job name (default: the document\'s "name", else the file name)')
    .action((file: string, o, cmd: Command) => {
      const { doc, text } = readJsonFile(file)
      const parsed = parseJob(doc)
      if (!parsed.ok) throw new CliError(`${file}: not a valid job:\n${parsed.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`)
      const name = (o.name as string | undefined) ?? parsed.job.name ?? path.basename(file).replace(/\.json$/i, '')
      const store = storeFor(cmd)
      try {
        const existing = store.jobs.get(name)
        const r = store.jobs.save(text, { name, ...(existing ? { id: existing.id } : {}) })
        out(`${r.created ? 'saved' : 'unchanged'}: job '${name}' version ${r.version} (${r.id})`)
      } finally {
        store.close()
      }
    })

  // ---- schedule ----
  const schedule = program.command('schedule').description('schedules of saved jobs and workflows')
  schedule
    .command('set')
    .argument('<target>', 'job or workflow name')
    .option('--workflow', 'the target is a workflow')
    .option('--cron <expr>', 'cron expression, 5 fields or 6 (seconds first)')
    .addOption(new Option('--cycle <type>').choices(['once', 'minutes', 'hourly', 'daily', 'weekly', 'monthly']))
    .option('--at <time>', 'HH:mm (daily/weekly/monthly), YYYY-MM-DDTHH:mm (once)')
    .option('--every <n>', 'minutes: every N minutes; hourly: every N hours')
    .option('--minute <m>', 'hourly: at minute m')
    .option('--days <list>', "weekly: 0..6 (0 = Sunday); monthly: 1..31 or 'last'")
    .option('--tz <zone>', 'IANA time zone (default: this machine\'s)')
    .option('--start <date>', 'first data time (yyyy-mm-dd)')
    .option('--end <date>', 'last data time (yyyy-mm-dd)')
    .option('--self-dependency', 'wait for the previous cycle\'s instance to succeed')
    .option('--depends-on <target>', 'upstream job (or wf:<workflow>) for the same data time; repeatable', collect, [])
    .addOption(new Option('--execution <type>', 'when instances overlap').choices(['parallel', 'serial-wait', 'serial-discard']))
    .option('--timeout <duration>', 'e.g. 30m, 2h')
    .addOption(new Option('--timeout-action <action>').choices(['fail', 'alert']).default('fail'))
    .option('--retries <n>', 'automatic retries of a failed instance', intOpt('--retries'))
    .option('--retry-interval <duration>', 'e.g. 60s, 5m (default 60s)')
    .addOption(new Option('--catch-up <mode>', 'missed fire times when the scheduler was not running').choices(['none', 'latest', 'all']))
    .option('--owner <name>')
    .option('--description <text>')
    .option('--webhook <url>', 'POST a JSON alert to this URL')
    .option('--alert-command <cmd>', 'run this command on an alert')
    .option('--alert-on <list>', 'failure,timeout,success (default failure,timeout)')
    .option('--publish', 'publish the latest version (the schedule runs the published version)')
    .option('--json')
    .action((name: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        const target = targetOf(store, name, o.workflow)
        const spec: ScheduleSpec = {
          cycle: cycleFromOptions(o),
          ...(o.tz ? { timezone: o.tz } : {}),
          ...(o.start ? { startDataTime: o.start } : {}),
          ...(o.end ? { endDataTime: o.end } : {}),
          ...(o.selfDependency ? { selfDependency: true } : {}),
          ...(o.dependsOn.length ? { dependsOn: (o.dependsOn as string[]).map((d) => (d.startsWith('wf:') ? targetOf(store, d.slice(3), true) : targetOf(store, d))) } : {}),
          ...(o.execution ? { executionType: o.execution } : {}),
          ...(o.timeout ? { timeout: { minutes: minutesOf(o.timeout, '--timeout'), action: o.timeoutAction } } : {}),
          ...(o.retries !== undefined ? { retries: { count: o.retries, intervalSeconds: o.retryInterval ? secondsOf(o.retryInterval, '--retry-interval') : 60 } } : {}),
          ...(o.catchUp ? { catchUp: o.catchUp } : {}),
          ...(o.owner ? { owner: o.owner } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.webhook || o.alertCommand
            ? { alerts: { ...(o.webhook ? { webhook: { url: o.webhook } } : {}), ...(o.alertCommand ? { command: o.alertCommand } : {}), ...(o.alertOn ? { on: o.alertOn.split(',').map((x: string) => x.trim()) } : {}) } }
            : {}),
        }
        let v
        try {
          v = svc.setSchedule(target, spec, { ...(o.publish ? { publish: true } : {}) })
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        if (o.json) return json(v)
        out(`schedule ${v.id}: ${v.target.kind} ${v.target.name}, ${v.state}, runs version ${v.publishedVersion ?? '-'} (latest ${v.latestVersion}), time zone ${v.timezone}`)
        out('next fire times:')
        for (const f of svc.preview(v.spec, 5)) out(`  ${f.cyctime}  data time ${f.dataTime}`)
      } finally {
        store.close()
      }
    })
  schedule
    .command('list')
    .option('--json')
    .action((o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const list = new SchedulerService(store).listSchedules()
        if (o.json) return json(list)
        if (!list.length) return out('no schedules')
        for (const s of list) out(`${s.id}  ${s.target.kind} ${s.target.name}  ${s.state}  ${JSON.stringify(s.spec.cycle)} ${s.timezone}  v${s.publishedVersion ?? '-'}${s.nextCyctime ? `  next ${s.nextCyctime}` : ''}`)
      } finally {
        store.close()
      }
    })
  for (const verb of ['pause', 'resume', 'remove', 'publish'] as const) {
    const c = schedule
      .command(verb)
      .argument('<target>', 'job or workflow name (or the schedule id)')
      .option('--workflow', 'the target is a workflow')
    if (verb === 'publish') c.option('--version <n>', 'version to publish (default latest)', intOpt('--version', 1)).option('--terminate-running', 'terminate running instances of older versions')
    c.action((name: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        if (verb === 'publish') {
          const r = svc.publish(targetOf(store, name, o.workflow), o.version, !!o.terminateRunning)
          return out(`published version ${r.version}${r.terminated.length ? `; terminating ${r.terminated.length} running instance(s)` : ''}`)
        }
        const s = store.scheduler.schedule(name) ?? (() => {
          const t = targetOf(store, name, o.workflow)
          return store.scheduler.scheduleFor(t.kind, t.id)
        })()
        if (!s) throw new CliError(`'${name}' has no schedule`)
        if (verb === 'pause') svc.pause(s.id)
        else if (verb === 'resume') svc.resume(s.id)
        else svc.remove(s.id)
        out(`schedule ${s.id} ${verb === 'remove' ? 'removed (running instances go on)' : verb === 'pause' ? 'paused' : 'resumed'}`)
      } finally {
        store.close()
      }
    })
  }

  // ---- backfill ----
  program
    .command('backfill')
    .description('make instances for past data times (补数据), oldest first')
    .argument('<target>', 'job or workflow name')
    .option('--workflow', 'the target is a workflow')
    .option('--from <date>', 'first data time yyyy-mm-dd')
    .option('--to <date>', 'last data time yyyy-mm-dd')
    .option('--dates <list>', 'comma-separated data times instead of a range')
    .option('--parallel <n>', 'at most N at once (default 1: serial)', intOpt('--parallel', 1))
    .option('--with-downstream', 'also the jobs/workflows whose schedules depend on it')
    .option('--dry-run', 'list the instances it would create')
    .option('--wait', 'run them now in this process; exit 0 only if all succeed')
    .option('--json')
    .action(async (name: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        const req = {
          target: targetOf(store, name, o.workflow),
          ...(o.from ? { from: o.from } : {}),
          ...(o.to ? { to: o.to } : {}),
          ...(o.dates ? { dates: (o.dates as string).split(',').map((d) => d.trim()) } : {}),
          ...(o.parallel ? { parallel: o.parallel } : {}),
          ...(o.withDownstream ? { withDownstream: true } : {}),
        }
        let plan
        try {
          plan = svc.backfillPlan(req)
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`)
        if (o.dryRun) {
          if (o.json) return json(plan)
          for (const it of plan.items) out(`${it.target.name}  data time ${it.dataTime}  cyctime ${it.cyctime}${it.after.length ? `  after ${it.after.join(', ')}` : ''}`)
          return out(`${plan.items.length} instance(s) would be created (dry run)`)
        }
        const r = svc.backfillStart(req)
        if (o.json && !o.wait) return json(r)
        out(`backfill ${r.backfillId}: ${r.instances.length} instance(s)`)
        if (!o.wait) {
          out('the scheduler runs them (sluice scheduler, or the app); follow with: sluice instances list')
          return
        }
        process.exitCode = await waitFor(store, r.instances.map((i) => i.id))
      } finally {
        store.close()
      }
    })

  // ---- instances ----
  const inst = program.command('instances').description('instances: one scheduled execution for one data time')
  inst
    .command('list')
    .option('--job <name>', 'a job')
    .option('--workflow <name>', 'a workflow')
    .addOption(new Option('--state <state>').choices(['waiting', 'running', 'succeeded', 'failed', 'terminated', 'skipped', 'paused']))
    .option('--from <date>', 'data time from')
    .option('--to <date>', 'data time to')
    .option('--limit <n>', 'at most n (default 200)', intOpt('--limit', 1))
    .option('--json', 'JSON array: id, job, dataTime (YYYY-MM-DD), cyctime, state, runId, ...')
    .action((o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        const target = o.job ? targetOf(store, o.job) : o.workflow ? targetOf(store, o.workflow, true) : undefined
        const r = svc.list({ ...(target ? { target } : {}), ...(o.state ? { state: o.state } : {}), ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), limit: o.limit ?? 200 })
        printInstances(r.instances, !!o.json)
      } finally {
        store.close()
      }
    })
  inst
    .command('show')
    .argument('<id>')
    .option('--json')
    .action((id: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        let d
        try {
          d = svc.detail(id)
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        if (o.json) return json({ ...d, job: d.target.name, logs: store.scheduler.logs(id) })
        out(`instance ${d.id}: ${d.target.kind} ${d.target.name} v${d.version}`)
        out(`  data time ${d.dataTime} (bizdate ${d.bizdate}), cyctime ${d.cyctime} ${d.timezone}, ${d.origin}`)
        out(`  state ${d.state}${d.waitingFor ? `, waiting for ${d.waitingFor}` : ''}${d.error ? `: ${d.error}` : ''}; attempt ${d.attempt}`)
        if (d.runIds.length) out(`  runs ${d.runIds.join(', ')}`)
        for (const n of d.nodes) out(`  node ${n.nodeId} (${n.type}) ${n.state}${n.runId ? ` run ${n.runId}` : ''}${n.rowsAffected !== undefined ? ` rows ${n.rowsAffected}` : ''}${n.error ? `: ${n.error}` : ''}`)
        for (const a of d.alerts) out(`  alert ${a.kind} via ${a.channel} ${a.ok ? 'sent' : 'FAILED'}${a.status !== undefined ? ` (${a.status})` : ''}${a.error ? `: ${a.error}` : ''}`)
        for (const l of store.scheduler.logs(id)) out(`  ${l.ts} ${l.level}${l.nodeId ? ` [${l.nodeId}]` : ''} ${l.message}`)
      } finally {
        store.close()
      }
    })
  inst
    .command('rerun')
    .argument('<id>')
    .option('--all', 'workflow: re-run every node (default: only what did not succeed)')
    .option('--downstream', 'also rerun the instances depending on it')
    .option('--wait', 'run it now in this process; exit 0 only if it succeeds')
    .action(async (id: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        let ids: string[]
        try {
          ids = o.downstream ? svc.rerunDownstream(id).map((i) => i.id) : [svc.rerun(id, !o.all).id]
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        out(`rerun requested: ${ids.join(', ')}`)
        if (o.wait) process.exitCode = await waitFor(store, ids)
      } finally {
        store.close()
      }
    })
  for (const [verb, fn] of [
    ['kill', 'kill'],
    ['set-success', 'setSuccess'],
  ] as const) {
    inst
      .command(verb)
      .argument('<id>')
      .action((id: string, _o, cmd: Command) => {
        const store = storeFor(cmd)
        try {
          let v
          try {
            v = new SchedulerService(store)[fn](id)
          } catch (e) {
            throw new CliError((e as Error).message)
          }
          out(`instance ${v.id}: ${v.state}${v.state === 'running' ? ' (termination requested)' : ''}`)
        } finally {
          store.close()
        }
      })
  }

  // ---- workflow ----
  const wf = program.command('workflow').description('workflows: DAGs of sync, SQL and shell nodes')
  wf.command('save')
    .argument('<wf.json>')
    .action((file: string, _o, cmd: Command) => {
      const { text } = readJsonFile(file)
      const store = storeFor(cmd)
      try {
        let r
        try {
          r = new SchedulerService(store).saveWorkflow(text)
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        const w = store.workflows.get(r.id)!
        out(`${r.created ? 'saved' : 'unchanged'}: workflow '${w.name}' version ${r.version} (${r.id})`)
      } finally {
        store.close()
      }
    })
  wf.command('validate')
    .argument('<wf.json>')
    .action((file: string) => {
      const { doc } = readJsonFile(file)
      const p = parseWorkflow(doc)
      if (!p.ok) throw new CliError(`${file}:\n${p.problems.map((x) => `  ${x.path}: ${x.message}`).join('\n')}`)
      out(`${file}: valid (${p.workflow.nodes.length} nodes, ${p.workflow.edges.length} edges)`)
    })
  wf.command('run')
    .argument('<workflow>', 'a wf.json file (saved first) or a saved workflow name')
    .option('--bizdate <date>', 'data time yyyymmdd (default: yesterday)')
    .option('--wait', 'run it now in this process; exit 0 only if every node succeeds')
    .action(async (ref: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const svc = new SchedulerService(store)
        let id: string
        try {
          id = existsSync(ref) && !store.workflows.get(ref) ? svc.saveWorkflow(readJsonFile(ref).text).id : targetOf(store, ref, true).id
        } catch (e) {
          throw e instanceof CliError ? e : new CliError((e as Error).message)
        }
        let v
        try {
          v = svc.runNow({ kind: 'workflow', id }, { ...(o.bizdate ? { bizdate: o.bizdate } : {}) })
        } catch (e) {
          throw new CliError((e as Error).message)
        }
        out(`instance ${v.id}: workflow ${v.target.name}, data time ${v.dataTime}`)
        if (o.wait) process.exitCode = await waitFor(store, [v.id])
      } finally {
        store.close()
      }
    })
  wf.command('list')
    .option('--json')
    .action((o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const list = store.workflows.list().map((w) => ({ id: w.id, name: w.name, latestVersion: w.latestVersion, nodes: (JSON.parse(w.specText) as WorkflowSpec).nodes.length, schedule: store.scheduler.scheduleFor('workflow', w.id)?.state ?? null }))
        if (o.json) return json(list)
        if (!list.length) return out('no workflows (sluice workflow save <wf.json>)')
        for (const w of list) out(`${w.name}  v${w.latestVersion}  ${w.nodes} nodes${w.schedule ? `  schedule ${w.schedule}` : ''}`)
      } finally {
        store.close()
      }
    })
  wf.command('export')
    .argument('<workflow>', 'a saved workflow name or a wf.json file')
    .addOption(new Option('--format <format>').choices(['dolphinscheduler']).default('dolphinscheduler'))
    .option('--out <dir>', 'write the file(s) here (default: print to stdout)')
    .action((ref: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const saved = store.workflows.get(ref)
        const spec = saved ? (JSON.parse(saved.specText) as WorkflowSpec) : (() => {
          const p = parseWorkflow(readJsonFile(ref).doc)
          if (!p.ok) throw new CliError(`${ref}: ${p.problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`)
          return p.workflow
        })()
        const s = saved ? store.scheduler.scheduleFor('workflow', saved.id) : undefined
        const r = exportDolphinScheduler(spec, { store, ...(s ? { schedule: { ...s.spec, timezone: s.timezone } } : {}) })
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`)
        for (const f of r.files) {
          if (o.out) {
            mkdirSync(o.out, { recursive: true })
            writeFileSync(path.join(o.out, f.name), f.content)
            process.stderr.write(`wrote ${path.join(o.out, f.name)}\n`)
          } else out(f.content)
        }
      } finally {
        store.close()
      }
    })
  wf.command('schema')
    .description('print the workflow JSON Schema')
    .action(() => json(workflowJsonSchema()))

  // ---- scheduler ----
  const sch = program
    .command('scheduler')
    .description('run the scheduler in the foreground (logs to stdout); one per data dir at a time (a lease in the state DB)')
    .option('--until-idle', 'run everything due or ready, then exit when nothing can run')
    .action(async (o, cmd: Command) => {
      const store = storeFor(cmd)
      const sched = makeScheduler(store)
      out(`${new Date().toISOString()} sluice scheduler ${sched.holder} on ${store.file}`)
      try {
        if (o.untilIdle) {
          await sched.runUntilIdle()
          await sched.stop()
          return
        }
        sched.start(1000)
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            out(`${new Date().toISOString()} ${sig}: stopping (running instances are terminated; rerun them to resume)`)
            void sched.stop({ terminate: true }).then(resolve)
          }
          process.once('SIGINT', () => stop('SIGINT'))
          process.once('SIGTERM', () => stop('SIGTERM'))
        })
      } finally {
        store.close()
      }
    })
  sch
    .command('install-service')
    .description('keep the scheduler running with the app closed: a systemd --user unit, a launchd agent, or a Windows Task Scheduler task')
    .addOption(new Option('--platform <p>', 'generate for another platform').choices(['linux', 'darwin', 'win32']))
    .option('--print', 'print the file and the commands instead of writing it')
    .action((o, cmd: Command) => {
      const dataDir = resolveDataDir({ dataDir: cmd.optsWithGlobals().dataDir as string | undefined })
      const files = serviceFiles({ platform: (o.platform ?? osPlatform()) as NodeJS.Platform, node: process.execPath, script: path.resolve(process.argv[1] ?? 'sluice'), dataDir, home: homedir() })
      if (o.print) {
        out(`# ${files.path}\n${files.content}`)
      } else {
        mkdirSync(path.dirname(files.path), { recursive: true })
        writeFileSync(files.path, files.content)
        out(`wrote ${files.path}`)
      }
      out('then run:')
      for (const n of files.next) out(`  ${n}`)
    })
}
