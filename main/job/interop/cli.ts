/**
 * `sluice export` and `sluice import`: job files to and from DataX, DataWorks and SeaTunnel.
 *
 * - `sluice export --format datax|dataworks|seatunnel|seatunnel-json <job.json> [-o path] [--tables a,b]`
 *   writes the files (one: to `-o` or stdout; several: into the folder `-o`, required), and the
 *   warnings to stderr.
 * - `sluice import <datax-or-dataworks.json> [-o sluice-job.json]` writes the Sluice job (stdout
 *   without `-o`) and the report to stderr.
 * Exit codes: 0 done, 2 bad usage, a job that does not validate, or nothing to convert.
 */
import { Command, Option } from 'commander'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { ConnectionConfig } from '../../connectors/types.js'
import { parseJob, type ConnectionRef } from '../spec.js'
import { InteropError, type ExportFormat } from './common.js'
import { detectFormat, exportJob, importDataWorks, importDataX, resolveWithoutStore } from './index.js'

class UsageError extends Error {
  readonly exitCode = 2
}

function readJson(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON: ${(e as Error).message}`)
  }
}

const FORMATS: Record<string, ExportFormat> = { datax: 'datax', dataworks: 'dataworks', seatunnel: 'seatunnel-hocon', 'seatunnel-json': 'seatunnel-json' }

/**
 * Register `export` and `import` on the program.
 * @param opts.resolve resolves saved connection names (the app passes one backed by the state
 *   store); without it URLs and inline connections work and a saved name is a clear error.
 */
export function register(program: Command, opts: { resolve?: (ref: ConnectionRef) => ConnectionConfig } = {}): void {
  program
    .command('export')
    .description('write a Sluice job as DataX job JSON, DataWorks script-mode JSON, or a SeaTunnel config (HOCON or JSON); passwords become ${PASSWORD_<NAME>} placeholders')
    .addOption(new Option('--format <format>', 'target format').choices(Object.keys(FORMATS)).makeOptionMandatory())
    .argument('<job.json>', 'a Sluice job file')
    .option('-o, --output <path>', 'output file (one file) or folder (several files); default: stdout')
    .option('--tables <list>', 'comma-separated table names for a whole-database selection (tables: { include: "*" })')
    .action((file: string, o: { format: string; output?: string; tables?: string }) => {
      const parsed = parseJob(readJson(file))
      if (!parsed.ok) {
        for (const p of parsed.problems) process.stderr.write(`error   ${p.path}: ${p.message}\n`)
        throw new UsageError(`${file}: the job is not valid`)
      }
      let result
      try {
        result = exportJob(parsed.job, FORMATS[o.format]!, opts.resolve ?? resolveWithoutStore, o.tables ? { tables: o.tables.split(',').map((s) => s.trim()).filter(Boolean) } : {})
      } catch (e) {
        if (e instanceof InteropError) throw new UsageError(`${file}: ${e.message}`)
        throw e
      }
      for (const w of result.warnings) process.stderr.write(`warning ${w}\n`)
      if (!result.files.length) throw new UsageError(`${file}: nothing exported`)
      if (result.files.length === 1) {
        const f = result.files[0]!
        if (o.output) {
          writeFileSync(o.output, f.content)
          process.stderr.write(`wrote ${o.output}\n`)
        } else process.stdout.write(f.content)
        return
      }
      if (!o.output) throw new UsageError(`${result.files.length} files (one per table pair): give a folder with -o`)
      mkdirSync(o.output, { recursive: true })
      for (const f of result.files) {
        const p = path.join(o.output, f.name)
        writeFileSync(p, f.content)
        process.stderr.write(`wrote ${p}\n`)
      }
    })

  program
    .command('import')
    .description('convert a DataX or DataWorks job JSON into a Sluice job (connections inline) and print what was converted with caveats')
    .argument('<file>', 'a DataX job JSON or a DataWorks script-mode JSON')
    .option('-o, --output <file>', 'write the Sluice job here (default: stdout)')
    .action((file: string, o: { output?: string }) => {
      const doc = readJson(file)
      const fmt = detectFormat(doc)
      if (fmt !== 'datax' && fmt !== 'dataworks') throw new UsageError(`${file}: not a DataX or DataWorks job (detected: ${fmt})`)
      const name = path.basename(file).replace(/(\.(datax|dataworks))?\.json$/i, '')
      let result
      try {
        result = fmt === 'datax' ? importDataX(doc, { name }) : importDataWorks(doc, { name })
      } catch (e) {
        if (e instanceof InteropError) {
          for (const line of e.report) process.stderr.write(`import: ${line}\n`)
          throw new UsageError(`${file}: ${e.message}`)
        }
        throw e
      }
      for (const line of result.report) process.stderr.write(`import: ${line}\n`)
      const parsed = parseJob(result.job)
      if (!parsed.ok) for (const p of parsed.problems) process.stderr.write(`error   ${p.path}: ${p.message}\n`)
      const text = JSON.stringify(result.job, null, 2) + '\n'
      if (o.output) {
        writeFileSync(o.output, text)
        process.stderr.write(`wrote ${o.output} (${fmt})\n`)
      } else process.stdout.write(text)
      if (!parsed.ok) process.exitCode = 2
    })
}
