/**
 * CLI of issue 15 ("After the copy"):
 * - `sluice cleanup <job|run> [--dry-run] [--batch N] [--pause-ms N] [--max-rows-per-second N]
 *   [--force --reason "..."] [--json]`: the source clean-up (main/cleanup); exit 0 done, 1 refused
 *   or failed, 2 bad usage.
 * - `sluice cleanup history <job|run>`: clean-ups with their batches.
 * - `sluice jobs from-mapping <mapping.csv> --reader <conn> --writer <conn> [-o job.json]
 *   [--name N] [--save] [--skip-bad-lines]`: one job from an MMA table-mapping file
 *   (main/job/mapping.ts); bad lines are printed with their line numbers (exit 2 unless skipped).
 */
import { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { CliError, storeFor } from '../cli/core.js'
import { jobFromMapping } from '../job/mapping.js'
import { parseJob } from '../job/spec.js'
import { CleanupRefused, runCleanup, type CleanupDryRun } from './index.js'

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name}: '${v}' is not a non-negative integer`)
  return n
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n'

function printDryRun(d: CleanupDryRun): void {
  const out = process.stdout
  out.write(`dry run: run ${d.runId}, data time ${d.dataTime}, batches of ${d.batchSize} rows\n`)
  out.write(d.gate.consistent ? 'verification: consistent (TableDataDiff passed for every table)\n' : `verification: NOT consistent — a clean-up needs --force --reason:\n${d.gate.problems.map((p) => `  ${p}\n`).join('')}`)
  for (const t of d.tasks) {
    out.write(`\n${t.taskId} (${t.table}): ${t.refused ? `refused: ${t.refused}` : `${t.rows} rows to delete`}\n`)
    if (t.refused) continue
    out.write(`  condition: ${t.condition ?? '(none: the whole table)'}\n  key: ${t.keyColumns.join(', ')}\n  ${t.selectSql.replace(/\n/g, '\n  ')}\n  ${t.deleteSql};\n`)
  }
}

/** Register `cleanup` and `jobs from-mapping`. */
export function register(program: Command): void {
  const cleanup = program
    .command('cleanup')
    .description('delete the migrated rows from the source once the run was verified consistent, in primary-key batches')
    .argument('<job-or-run>', 'a run id, or a saved job (its latest finished run)')
    .option('--dry-run', 'show the rows each table would lose and the exact SQL; delete nothing')
    .option('--batch <n>', 'rows per batch (default 10000 or job.cleanup.batch)', positiveInt('--batch'))
    .option('--pause-ms <n>', 'pause between batches in ms', positiveInt('--pause-ms'))
    .option('--max-rows-per-second <n>', 'rows deleted per second at most', positiveInt('--max-rows-per-second'))
    .option('--force', 'run although the run is not verified consistent (needs --reason)')
    .option('--reason <text>', 'why the clean-up is forced (recorded)')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, o, cmd: Command) => {
      if (o.force && !o.reason?.trim()) throw new CliError('--force needs --reason "..." (it is recorded with the clean-up)')
      if (o.batch === 0) throw new CliError('--batch: must be at least 1')
      const store = storeFor(cmd)
      const ac = new AbortController()
      const onSig = () => {
        process.stderr.write('\nstopping after this batch (Ctrl+C again to force)...\n')
        ac.abort()
        process.once('SIGINT', () => process.exit(130))
      }
      process.once('SIGINT', onSig)
      try {
        if (o.dryRun) {
          const d = await runCleanup(store, { target, dryRun: true, ...(o.batch ? { batch: o.batch } : {}) })
          if (o.json) process.stdout.write(json(d))
          else printDryRun(d)
          return
        }
        const r = await runCleanup(store, {
          target,
          ...(o.batch ? { batch: o.batch } : {}),
          ...(o.pauseMs !== undefined ? { pauseMs: o.pauseMs } : {}),
          ...(o.maxRowsPerSecond !== undefined ? { maxRowsPerSecond: o.maxRowsPerSecond } : {}),
          ...(o.force ? { force: true, reason: o.reason } : {}),
          signal: ac.signal,
          onStart: (id) => void (o.json || process.stderr.write(`cleanup ${id}\n`)),
          onBatch: (b) => void (o.json || process.stderr.write(`  ${b.taskId} batch ${b.batchNo}: ${b.rows} rows deleted (${b.totalRows} in all)\n`)),
        })
        const c = r.cleanup
        if (o.json) process.stdout.write(json({ ...c, resumed: r.resumed, tasks: store.cleanups.tasks(c.id) }))
        else process.stdout.write(`cleanup ${c.id}${r.resumed ? ' (resumed)' : ''}: ${c.state}, ${c.rowsDeleted} rows deleted${c.forced ? `, forced: ${c.reason}` : ''}${c.error ? ` (${c.error})` : ''}\n`)
        if (c.state !== 'succeeded') process.exitCode = 1
      } catch (e) {
        if (e instanceof CleanupRefused) {
          process.stderr.write(`sluice: ${e.message}\n`)
          process.exitCode = 1
          return
        }
        throw e
      } finally {
        process.off('SIGINT', onSig)
        store.close()
      }
    })
  cleanup
    .command('history')
    .argument('<job-or-run>')
    .option('--json')
    .action((target: string, o, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        const job = store.runs.get(target) ? undefined : store.jobs.get(target)
        const list = job ? store.cleanups.list({ jobId: job.id }) : store.cleanups.list({ runId: target })
        const full = list.map((c) => ({ ...c, tasks: store.cleanups.tasks(c.id), batches: store.cleanups.batches(c.id) }))
        if (o.json) return void process.stdout.write(json(full))
        for (const c of full) {
          process.stdout.write(`${c.id}  ${c.state.padEnd(10)} run ${c.runId} data time ${c.dataTime}  ${c.rowsDeleted} rows  ${c.user}@${c.host}  ${c.createdAt}${c.forced ? `  forced: ${c.reason}` : ''}${c.error ? `  ${c.error}` : ''}\n`)
          for (const b of c.batches) process.stdout.write(`    ${b.taskId} #${b.batchNo} ${b.rows} rows  last key ${JSON.stringify(b.lastKey)}  ${b.startedAt} ${b.elapsedMs} ms\n`)
        }
      } finally {
        store.close()
      }
    })

  const jobs = program.commands.find((c) => c.name() === 'jobs') ?? program.command('jobs').description('saved jobs')
  jobs
    .command('from-mapping')
    .description('one job from a table-mapping file (MMA: source_db.table[:partition spec],target_db.table per line)')
    .argument('<mapping.csv>')
    .requiredOption('--reader <conn>', 'source connection (saved name or URL)')
    .requiredOption('--writer <conn>', 'target connection (saved name or URL)')
    .option('-o, --out <file>', 'write the job here (default: stdout)')
    .option('--name <name>', 'job name')
    .option('--save', 'also save the job in the state DB')
    .option('--skip-bad-lines', 'build the job from the good lines when some are bad')
    .action((file: string, o, cmd: Command) => {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (e) {
        throw new CliError(`${file}: ${(e as Error).message}`)
      }
      const r = jobFromMapping(text, { reader: o.reader, writer: o.writer, ...(o.name ? { name: o.name } : {}) })
      for (const p of r.problems) process.stderr.write(`${file}:${p.line}: ${p.message}\n`)
      if (r.problems.length && (!o.skipBadLines || r.tasks === 0)) throw new CliError(`${file}: ${r.problems.length} bad line(s); nothing written${r.tasks ? ' (--skip-bad-lines keeps the good ones)' : ''}`)
      const parsed = parseJob(r.job)
      if (!parsed.ok) throw new CliError(`the job is not valid:\n${parsed.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`)
      const text2 = JSON.stringify(r.job, null, 2) + '\n'
      if (o.out) writeFileSync(o.out, text2)
      else process.stdout.write(text2)
      process.stderr.write(`${r.tasks} tasks${r.problems.length ? `, ${r.problems.length} bad line(s) skipped` : ''}\n`)
      if (o.save) {
        const store = storeFor(cmd)
        try {
          const saved = store.jobs.save(r.job, { name: r.job.name ?? 'table mapping' })
          process.stderr.write(`saved as job ${saved.id} version ${saved.version}\n`)
        } finally {
          store.close()
        }
      }
    })
}
