/**
 * Core CLI commands: migrate, run, validate, connections, runs, demo, schema.
 */
import { Command, Option } from 'commander'
import { mkdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openConnector } from '../connectors/index.js'
import { describeConnection, isConnectionUrl, maskUrl, parseConnectionUrl } from '../connectors/url.js'
import type { RunSummary } from '../engine/events.js'
import { probeReads } from '../engine/probe.js'
import { planJob } from '../engine/plan.js'
import { InvalidJobError, resolveConnectionRef, startRun } from '../engine/service.js'
import { jobJsonSchema, parseJob, type JobSpecInput, type Problem } from '../job/spec.js'
import { timeContext } from '../job/variables.js'
import { openStore, resolveDataDir, type Store } from '../store/index.js'
import { formatCount, formatDuration, formatSummary, ProgressPrinter } from './progress.js'

/** An error whose exit code the CLI uses. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
  }
}

/** Open the state store in the data dir chosen by `--data-dir` / `SLUICE_DATA_DIR` / the default. */
export function storeFor(cmd: Command): Store {
  const dataDir = resolveDataDir({ dataDir: cmd.optsWithGlobals().dataDir as string | undefined })
  mkdirSync(dataDir, { recursive: true })
  return openStore({ dataDir })
}

const collectVar = (v: string, acc: Record<string, string>) => {
  const i = v.indexOf('=')
  if (i <= 0) throw new CliError(`--var '${v}': expected name=value`)
  acc[v.slice(0, i)] = v.slice(i + 1)
  return acc
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name}: '${v}' is not a positive integer`)
  return n
}

const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v)
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new CliError(`${name}: '${v}' is not a non-negative integer`)
  return n
}

/**
 * Exit code of a finished run: 0 succeeded; 3 succeeded with warnings (every row moved, but a
 * schema object was not created or was left out: see the summary's warnings); 1 otherwise.
 */
export function exitCodeOf(state: RunSummary['state']): number {
  return state === 'succeeded' ? 0 : state === 'succeeded_with_warnings' ? EXIT_WITH_WARNINGS : 1
}

/** The exit code of a run that succeeded with warnings. */
export const EXIT_WITH_WARNINGS = 3

/** Run a job with live progress and the summary; returns the exit code ({@link exitCodeOf}). */
export async function runWithProgress(
  store: Store,
  spec: unknown,
  opts: { vars?: Record<string, string>; bizdate?: string; channels?: number; jobId?: string; jobVersion?: number; name?: string; quiet?: boolean; json?: boolean; summary?: (s: RunSummary) => string; resumeRunId?: string },
): Promise<{ code: number; summary: RunSummary }> {
  const tty = Boolean(process.stderr.isTTY) && !opts.json
  const printer = new ProgressPrinter(process.stderr, { tty, quiet: opts.quiet || opts.json })
  const handle = startRun({
    store,
    spec,
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.bizdate ? { bizdate: opts.bizdate } : {}),
    ...(opts.channels ? { channels: opts.channels } : {}),
    ...(opts.jobId ? { jobId: opts.jobId } : {}),
    ...(opts.jobVersion ? { jobVersion: opts.jobVersion } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.resumeRunId ? { resumeRunId: opts.resumeRunId } : {}),
    onEvent: printer.onEvent,
  })
  if (!opts.quiet && !opts.json) process.stderr.write(`run ${handle.runId}${opts.resumeRunId ? ' (resumed)' : ''}\n`)
  const onSig = () => {
    process.stderr.write('\nterminating (Ctrl+C again to force)...\n')
    handle.cancel()
    process.once('SIGINT', () => process.exit(130))
  }
  process.once('SIGINT', onSig)
  const summary = await handle.done
  process.off('SIGINT', onSig)
  printer.end()
  if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
  else process.stdout.write((opts.summary ?? formatSummary)(summary))
  return { code: exitCodeOf(summary.state), summary }
}

function readJobFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new CliError(`${file}: not valid JSON: ${(e as Error).message}`)
  }
}

function printProblems(problems: Problem[]): void {
  for (const p of problems) process.stderr.write(`${p.severity === 'error' ? 'error  ' : 'warning'} ${p.path}: ${p.message}\n`)
}

/** Build the ad hoc job `sluice migrate` runs. */
export function migrateJob(source: string, target: string, o: { tables?: string; exclude?: string; writeMode?: 'insert' | 'replace' | 'update'; truncate?: boolean; identifierCase?: 'keep' | 'lower'; errorLimit?: number; tableErrorLimit?: number; zeroDate?: 'error' | 'null'; channels?: number; batchBytes?: number; verify?: 'countdiff' | 'md5diff' | 'hashdiff' }): JobSpecInput {
  const src = parseConnectionUrl(source)
  return {
    version: 1,
    name: `migrate ${describeConnection(src)} -> ${describeConnection(parseConnectionUrl(target))}`,
    reader: { connection: source },
    writer: { connection: target, writeMode: o.writeMode ?? 'insert', truncate: Boolean(o.truncate), createTable: true, identifierCase: o.identifierCase ?? 'keep' },
    tables: { include: o.tables ? o.tables.split(',').map((s) => s.trim()).filter(Boolean) : '*', exclude: o.exclude ? o.exclude.split(',').map((s) => s.trim()) : [] },
    ...(o.verify ? { verify: { algorithm: o.verify } } : {}),
    setting: {
      speed: { ...(o.channels ? { channel: o.channels } : {}) },
      // --error-limit (whole job, default 0) and --table-error-limit (each table); given only the
      // latter, the job as a whole has no limit: a table over its own limit fails alone.
      errorLimit: {
        ...(o.errorLimit !== undefined ? { record: o.errorLimit } : o.tableErrorLimit === undefined ? { record: 0 } : {}),
        ...(o.tableErrorLimit !== undefined ? { tableRecord: o.tableErrorLimit } : {}),
      },
      zeroDate: o.zeroDate ?? 'error',
      ...(o.batchBytes ? { batchBytes: o.batchBytes } : {}),
    },
  }
}

/** Register the core commands on `program`. */
export function register(program: Command): void {
  program
    .command('migrate')
    .description('move tables (default: every table) from a source database to a target, creating missing tables, then indexes, foreign keys and sequences')
    .argument('<source-url>', 'mysql://user:pass@host:3306/db | postgres://user:pass@host:5432/db[?schema=s] | sqlite:path')
    .argument('<target-url>', 'same forms as the source')
    .option('--tables <list>', 'comma-separated source tables (default: all)')
    .option('--exclude <list>', 'comma-separated source tables to leave out')
    .option('--channels <n>', 'parallel channels (speed.channel)', positiveInt('--channels'))
    .addOption(new Option('--write-mode <mode>', 'writeMode').choices(['insert', 'replace', 'update']).default('insert'))
    .option('--truncate', 'empty existing target tables before loading')
    .addOption(new Option('--identifier-case <case>', 'spelling of created table/column names').choices(['keep', 'lower']).default('keep'))
    .option('--error-limit <n>', 'dirty records the whole job tolerates before the run fails (errorLimit.record; default 0, or none when only --table-error-limit is given)', nonNegativeInt('--error-limit'))
    .option('--table-error-limit <n>', 'dirty records each table tolerates: a table past it fails on its own while the others go on (errorLimit.tableRecord)', nonNegativeInt('--table-error-limit'))
    .addOption(new Option('--zero-date <policy>', "MySQL zero dates: 'error' (dirty record) or 'null'").choices(['error', 'null']).default('error'))
    .addOption(new Option('--verify <algorithm>', 'verify each table after its load (TableDataDiff stage); a difference exits 1').choices(['countdiff', 'md5diff', 'hashdiff']))
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress output')
    .action(async (source: string, target: string, o, cmd: Command) => {
      for (const u of [source, target]) if (!isConnectionUrl(u)) throw new CliError(`'${maskUrl(u)}' is not a connection URL (mysql://, postgres://, sqlite:)`)
      const store = storeFor(cmd)
      try {
        const { code } = await runWithProgress(store, migrateJob(source, target, o), { quiet: o.quiet, json: o.json })
        process.exitCode = code
      } finally {
        store.close()
      }
    })

  program
    .command('run')
    .description('run a job file (Sluice job JSON, or a DataX / DataWorks job as it is) or a saved job by name or id')
    .argument('[job]', 'job.json path, or a saved job name/id (not with --resume)')
    .option('--var <name=value>', 'user variable (repeatable)', collectVar, {})
    .option('--bizdate <yyyymmdd>', 'data time (default: the day before today)')
    .option('--channels <n>', 'override speed.channel', positiveInt('--channels'))
    .option('--resume <run-id>', 'resume a run that failed, was terminated or killed: finished splits are skipped, the rest re-done without duplicates')
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress output')
    .action(async (jobArg: string | undefined, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        if (o.resume) {
          if (jobArg) throw new CliError('--resume takes the run id only (the run keeps its own job)')
          const { code } = await runWithProgress(store, undefined, { resumeRunId: o.resume, ...(o.channels ? { channels: o.channels } : {}), quiet: o.quiet, json: o.json })
          process.exitCode = code
          return
        }
        if (!jobArg) throw new CliError('run: a job file or saved job name is required (or --resume <run-id>)')
        let doc: unknown
        let jobId: string | undefined
        let jobVersion: number | undefined
        let summaryFormat: ((s: RunSummary) => string) | undefined
        if (existsSync(jobArg)) {
          doc = readJobFile(jobArg)
          const interop = await loadInterop()
          const fmt = interop?.detectFormat(doc)
          if (fmt === 'datax' || fmt === 'dataworks') {
            const imported = fmt === 'datax' ? interop!.importDataX(doc) : interop!.importDataWorks(doc)
            for (const line of imported.report) process.stderr.write(`import: ${line}\n`)
            doc = imported.job
            if (fmt === 'datax') summaryFormat = (s) => formatSummary(s) + interop!.formatDataXSummary(s)
          }
        } else {
          const saved = store.jobs.get(jobArg)
          if (!saved) throw new CliError(`'${jobArg}' is neither a file nor a saved job`)
          doc = saved.spec
          jobId = saved.id
          jobVersion = saved.version
        }
        const { code } = await runWithProgress(store, doc, {
          vars: o.var,
          ...(o.bizdate ? { bizdate: o.bizdate } : {}),
          ...(o.channels ? { channels: o.channels } : {}),
          ...(jobId ? { jobId } : {}),
          ...(jobVersion ? { jobVersion } : {}),
          quiet: o.quiet,
          json: o.json,
          ...(summaryFormat ? { summary: summaryFormat } : {}),
        })
        process.exitCode = code
      } catch (e) {
        if (e instanceof InvalidJobError) {
          printProblems(e.problems)
          throw new CliError(`${jobArg}: the job is not valid (${e.problems.length} problem${e.problems.length > 1 ? 's' : ''})`)
        }
        throw e
      } finally {
        store.close()
      }
    })

  program
    .command('validate')
    .description('check a job file: structure (JSON Schema), variables, and, when the databases are reachable, tables, columns, mapping and narrowing')
    .argument('<job.json>')
    .option('--var <name=value>', 'user variable (repeatable)', collectVar, {})
    .option('--bizdate <yyyymmdd>', 'data time')
    .option('--offline', 'structure only: do not connect to the databases')
    .action(async (file: string, o, cmd: Command) => {
      const doc = readJobFile(file)
      const parsed = parseJob(doc)
      if (!parsed.ok) {
        printProblems(parsed.problems)
        process.exitCode = 2
        return
      }
      if (o.offline) {
        process.stdout.write('valid (structure only)\n')
        return
      }
      const store = storeFor(cmd)
      try {
        const job = parsed.job
        const time = timeContext(o.bizdate ? { bizdate: o.bizdate } : {})
        const { fileSideConfig } = await import('../engine/files.js')
        const reader = await openConnector(fileSideConfig(resolveConnectionRef(store, job.reader.connection, '$.reader.connection'), 'reader', job, o.var, time))
        const writer = await openConnector(fileSideConfig(resolveConnectionRef(store, job.writer.connection, '$.writer.connection'), 'writer', job, o.var, time))
        try {
          const plan = await planJob(job, { reader, writer, vars: o.var, time })
          plan.problems.push(...(await probeReads(job, plan.tasks, reader)))
          printProblems(plan.problems)
          const errors = plan.problems.filter((p) => p.severity === 'error').length
          process.stdout.write(`${plan.tasks.length} task(s): ${plan.tasks.map((t) => `${t.taskId} -> ${t.target.name}${t.targetExists ? '' : ' (create)'}`).join(', ')}\n`)
          process.stdout.write(errors ? `invalid: ${errors} error(s)\n` : 'valid\n')
          process.exitCode = errors ? 2 : 0
        } finally {
          await Promise.allSettled([reader.close(), writer.close()])
        }
      } finally {
        store.close()
      }
    })

  const conns = program.command('connections').description('saved connections (passwords encrypted at rest)')
  conns
    .command('add')
    .argument('<name>')
    .argument('<url>', 'mysql://user:pass@host:port/db | postgres://... | sqlite:path')
    .option('--password-stdin', 'read the password from standard input instead of the URL')
    .option('--timezone <tz>', "session time zone (default '+00:00')")
    .action(async (name: string, url: string, o, cmd: Command) => {
      const config = parseConnectionUrl(url)
      if (o.passwordStdin) config.password = readFileSync(0, 'utf8').replace(/\r?\n$/, '')
      if (o.timezone) config.timezone = o.timezone
      const store = storeFor(cmd)
      try {
        const c = store.connections.create({ name, config })
        process.stdout.write(`saved connection ${c.name} (${c.id}): ${describeConnection(c.config as never)}\n`)
      } finally {
        store.close()
      }
    })
  conns.command('list').option('--json').action((o, cmd: Command) => {
    const store = storeFor(cmd)
    try {
      const list = store.connections.list()
      if (o.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      else for (const c of list) process.stdout.write(`${c.name.padEnd(24)} ${c.config.kind.padEnd(9)} ${describeConnection(c.config as never)}${c.hasPassword ? '  (password saved)' : ''}\n`)
    } finally {
      store.close()
    }
  })
  conns
    .command('test')
    .argument('<name-or-url>')
    .action(async (ref: string, _o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const conn = await openConnector(resolveConnectionRef(store, ref, 'connection'))
        try {
          const r = await conn.test()
          if (r.ok) process.stdout.write(`ok  ${r.serverVersion ?? ''}  ${r.latencyMs.toFixed(1)} ms\n`)
          else {
            process.stdout.write(`failed  ${r.code ? `[${r.code}] ` : ''}${r.error}\n`)
            process.exitCode = 1
          }
        } finally {
          await conn.close()
        }
      } finally {
        store.close()
      }
    })
  conns
    .command('remove')
    .argument('<name-or-id>')
    .action((ref: string, _o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const c = store.connections.get(ref) ?? store.connections.getByName(ref)
        if (!c) throw new CliError(`no saved connection '${ref}'`)
        store.connections.delete(c.id)
        process.stdout.write(`removed ${c.name}\n`)
      } finally {
        store.close()
      }
    })

  const runs = program.command('runs').description('recorded runs')
  runs
    .command('list')
    .option('--limit <n>', 'how many', (v) => Number(v), 20)
    .option('--json')
    .action((o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        store.locks.reapDead() // runs left 'running' by a dead process show as failed (resumable)
        const list = store.runs.list({ limit: o.limit })
        if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n')
        for (const r of list) {
          const ms = r.startedAt && r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : NaN
          process.stdout.write(`${r.id}  ${r.state.padEnd(11)} ${r.createdAt}  ${formatDuration(ms).padStart(8)}  ${formatCount(r.rowsWritten).padStart(12)} rows  ${String(r.dirty).padStart(5)} dirty  ${r.name}\n`)
        }
      } finally {
        store.close()
      }
    })
  runs
    .command('show')
    .argument('<run-id>')
    .option('--json')
    .option('--logs <n>', 'log lines to show', (v) => Number(v), 20)
    .option('--dirty <n>', 'dirty records to show', (v) => Number(v), 10)
    .option('--all', 'every warning, dirty record and log line (no limits)')
    .action((id: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const run = store.runs.get(id)
        if (!run) throw new CliError(`no run '${id}'`)
        const tasks = store.runTasks.list(id)
        const all = Boolean(o.all)
        const dirty = store.dirty.list(id, { limit: all ? Number.MAX_SAFE_INTEGER : o.dirty })
        const logs = store.logs.tail(id, { limit: all ? Number.MAX_SAFE_INTEGER : o.logs })
        if (o.json) return void process.stdout.write(JSON.stringify({ run: { ...run, spec: undefined, specText: undefined }, tasks, dirty, logs }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n')
        const summary = run.summary as unknown as RunSummary | undefined
        if (summary?.tasks) process.stdout.write(formatSummary(summary, { all, shown: true }))
        else process.stdout.write(`Run ${run.id}: ${run.state}${run.error ? ` (${run.error})` : ''}\n`)
        if (!summary?.tasks) for (const t of tasks) process.stdout.write(`  ${t.taskId}: ${t.state} ${t.rowsWritten} rows, ${t.dirty} dirty${t.error ? ` ${t.error}` : ''}\n`)
        if (dirty.length) {
          process.stdout.write(`\ndirty records (${store.dirty.count(id)}):\n`)
          for (const d of dirty) process.stdout.write(`  [${d.taskId}] ${d.reason}\n    ${d.columns.map((c, i) => `${c}=${JSON.stringify(d.values[i], (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`).join(', ')}\n`)
        }
        if (logs.length) {
          process.stdout.write('\nlog:\n')
          for (const l of logs) process.stdout.write(`  ${l.ts} ${l.level.padEnd(5)} ${l.taskId ? `[${l.taskId}] ` : ''}${l.message}\n`)
        }
      } finally {
        store.close()
      }
    })

  program
    .command('demo')
    .description('migrate the bundled Chinook SQLite database into a new SQLite file in the data dir and print the summary')
    .action(async (_o, cmd: Command) => {
      const dataDir = resolveDataDir({ dataDir: cmd.optsWithGlobals().dataDir as string | undefined })
      const source = demoDatabasePath()
      const targetDir = path.join(dataDir, 'demo')
      mkdirSync(targetDir, { recursive: true })
      const target = path.join(targetDir, `chinook-copy-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`)
      process.stderr.write(`demo: ${source}\n   -> ${target}\n`)
      const store = storeFor(cmd)
      try {
        const { code } = await runWithProgress(store, migrateJob(`sqlite:${source}`, `sqlite:${target}`, {}), {})
        process.exitCode = code
      } finally {
        store.close()
      }
    })

  program
    .command('schema')
    .description('print the JSON Schema of the job format (generated from the schema the code validates with)')
    .action(() => {
      process.stdout.write(JSON.stringify(jobJsonSchema(), null, 2) + '\n')
    })
}

/** The bundled Chinook SQLite file (resources/demo). */
export function demoDatabasePath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return path.resolve(here, '../../resources/demo/Chinook_Sqlite.sqlite')
}

interface InteropModule {
  detectFormat(doc: unknown): string
  importDataX(doc: unknown): { job: unknown; report: string[] }
  importDataWorks(doc: unknown): { job: unknown; report: string[] }
  formatDataXSummary(s: RunSummary): string
}

async function loadInterop(): Promise<InteropModule | undefined> {
  try {
    return (await import('../job/interop/index.js')) as unknown as InteropModule
  } catch {
    return undefined
  }
}
