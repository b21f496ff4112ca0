/**
 * The `sluice` command line: the same engine as the desktop app, without a display.
 * Each area registers its own subcommands (see `register*Command` functions); this file wires
 * them into one commander program. Exit codes: 0 success, 1 the work failed (run failed,
 * data differs), 2 bad usage or a bad job, 3 a run succeeded with warnings (a schema object left out).
 */
import { Command, CommanderError } from 'commander'
import { ignoreBrokenPipe } from './cli/pipe.js'

/** What bin/sluice.mjs tells the program about itself (for `sluice --version`). */
export interface ProgramInfo {
  /** package.json's version. */
  version: string
  /** `bundle` when running out/cli (scripts/build-cli.mjs), `sources` when through tsx. */
  entry: 'bundle' | 'sources'
}

/**
 * Build the program. Subcommands live next to the code they drive; given `argv`, only the area
 * of the command it names is loaded (every area for `--help` or an unknown command).
 */
export async function buildProgram(info?: ProgramInfo, argv?: string[]): Promise<Command> {
  const program = new Command('sluice')
    .description('Sluice: offline data migration between MySQL/MariaDB, PostgreSQL and SQLite')
    .option('--data-dir <dir>', 'state folder (default: $SLUICE_DATA_DIR or the app\'s user-data folder)')
    .showHelpAfterError()
    .exitOverride()
  if (info) program.version(`sluice ${info.version} (${info.entry})`, '-V, --version', 'print the version and whether the bundle or the sources run')
  const wanted = argv ? COMMAND_AREA[commandOf(argv) ?? ''] : undefined
  const areas = wanted ? ([] as Area[]).concat(wanted) : (Object.keys(AREAS) as Area[])
  const mods = await Promise.all(areas.map((a) => AREAS[a]()))
  for (const m of mods) m.register(program)
  return program
}

/** The modules that register subcommands, loaded on demand (a `run` needs neither the HTTP server nor the verifier). */
const AREAS = {
  core: () => import('./cli/core.js'),
  verify: () => import('./verify/cli.js'),
  interop: () => import('./job/interop/cli.js'),
  api: () => import('./api/cli.js'),
  scheduler: () => import('./scheduler/cli.js'),
  cleanup: () => import('./cleanup/cli.js'),
  files: () => import('./cli/files.js'),
}
type Area = keyof typeof AREAS

/** Which area registers each top-level command (a command missing here loads every area). */
const COMMAND_AREA: Record<string, Area | Area[]> = {
  migrate: 'core',
  run: 'core',
  validate: 'core',
  connections: 'core',
  runs: 'core',
  demo: 'core',
  schema: 'core',
  diff: 'verify',
  export: 'interop',
  import: 'interop',
  serve: 'api',
  cleanup: 'cleanup',
  // Both areas add `jobs` subcommands (list/show/save, from-mapping): the scheduler's first.
  jobs: ['scheduler', 'cleanup'],
  schedule: 'scheduler',
  backfill: 'scheduler',
  instances: 'scheduler',
  workflow: 'scheduler',
  scheduler: 'scheduler',
  files: 'files',
}

/** The first command word of `argv` (process.argv form), skipping the global options. */
function commandOf(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--data-dir') i++
    else if (!a.startsWith('-')) return a
  }
  return undefined
}

/** Run the CLI with `argv` (process.argv form). Resolves to the exit code. */
export async function main(argv: string[], info?: ProgramInfo): Promise<number> {
  ignoreBrokenPipe() // `sluice runs list | head` ends quietly
  const program = await buildProgram(info, argv)
  try {
    await program.parseAsync(argv)
    // Actions report their outcome through process.exitCode; hand it back and leave it clean.
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0
    process.exitCode = undefined
    return code
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    process.stderr.write(`sluice: ${(e as Error).message}\n`)
    return (e as { exitCode?: number }).exitCode ?? 2
  }
}
