/**
 * `sluice files list|clean|check <run-id>`: the files a run exported (parts and manifests) and
 * their clean-up (states exists / deleted / absent, see main/store/export-files.ts).
 */
import type { Command } from 'commander'
import { cleanExportFiles } from '../engine/export-files.js'
import type { ExportFile } from '../store/index.js'
import { storeFor } from './core.js'

function print(files: ExportFile[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(files, null, 2) + '\n')
    return
  }
  if (!files.length) {
    process.stdout.write('no export files recorded for this run\n')
    return
  }
  for (const f of files) process.stdout.write(`${f.state.padEnd(8)} ${String(f.rows).padStart(10)} rows ${String(f.bytes).padStart(12)} B  ${f.sha256.slice(0, 12)}  ${f.connection} ${f.path}\n`)
}

/** Register `sluice files`. */
export function register(program: Command): void {
  const files = program.command('files').description("a run's export files: list them, check they exist, clean them up")
  files
    .command('list <run-id>')
    .description('the files the run exported, with rows, bytes, SHA-256 and state')
    .option('--json', 'print JSON')
    .action((runId: string, o: { json?: boolean }, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        print(store.exportFiles.list(runId), !!o.json)
      } finally {
        store.close()
      }
    })
  files
    .command('check <run-id>')
    .description('look for each file in its store: exists or absent')
    .option('--json', 'print JSON')
    .action(async (runId: string, o: { json?: boolean }, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        print(await cleanExportFiles(store, runId, { checkOnly: true, ids: store.exportFiles.list(runId).filter((f) => f.state !== 'deleted').map((f) => f.id) }), !!o.json)
      } finally {
        store.close()
      }
    })
  files
    .command('clean <run-id>')
    .description('delete the files the run exported (state deleted, or absent when already gone)')
    .option('--json', 'print JSON')
    .action(async (runId: string, o: { json?: boolean }, cmd: Command) => {
      const store = storeFor(cmd)
      try {
        print(await cleanExportFiles(store, runId), !!o.json)
      } finally {
        store.close()
      }
    })
}
