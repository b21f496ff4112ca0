/**
 * The bundled CLI (scripts/build-cli.mjs -> out/cli): it builds offline, runs a whole migration
 * with its channels in worker threads started from the bundled worker.js (no tsx anywhere), and
 * bin/sluice.mjs picks it while it is fresh. Built into its own folder under out/ (the bundle
 * resolves better-sqlite3 from the repo's node_modules, and finds resources/ two levels up), so a
 * concurrent test that runs bin/sluice.mjs never sees out/cli swapped under it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const work = mkdtempSync(path.join(tmpdir(), 'sluice-bundle-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('bundled CLI', () => {
  it('builds, and runs the demo with worker-thread channels from the bundle alone', () => {
    const out = path.join(root, `out/cli-test-${process.pid}`)
    try {
      buildAndRun(out)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 180_000)

  it.runIf(process.env.CI === 'true')('bin/sluice.mjs runs the bundle npm install made (CI)', () => {
    const v = spawnSync(process.execPath, [path.join(root, 'bin/sluice.mjs'), '--version'], { encoding: 'utf8' })
    expect(v.stdout.trim()).toMatch(/\(bundle\)$/)
  })

  it('bin/sluice.mjs runs the sources when asked to (or when the bundle is stale)', () => {
    const v = spawnSync(process.execPath, [path.join(root, 'bin/sluice.mjs'), '--version'], { encoding: 'utf8', env: { ...process.env, SLUICE_FROM_SOURCE: '1' } })
    expect(v.stdout.trim()).toMatch(/^sluice \d+\.\d+\.\d+ \(sources\)$/)
  })
})

/** Build the bundle into `out`, run the demo from it with worker channels, check the target. */
function buildAndRun(out: string): void {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs'), '--out', out], { stdio: 'pipe' })
  const manifest = JSON.parse(readFileSync(path.join(out, 'inputs.json'), 'utf8')) as { builtAt: number; inputs: string[] }
  expect(manifest.inputs).toContain('main/cli.ts')
  expect(manifest.inputs).toContain('main/engine/worker.ts')
  expect(manifest.inputs.some((f) => f.includes('node_modules'))).toBe(false)
  // The bundle must not reach for tsx (neither the main thread nor the workers).
  expect(readFileSync(path.join(out, 'worker.js'), 'utf8')).not.toMatch(/tsx\/esm/)
  const runner = path.join(work, 'run.mjs')
  writeFileSync(runner, `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'sluice.js')).href)})\nprocess.exitCode = await main(process.argv, { version: 'test', entry: 'bundle' })\n`)
  const dataDir = path.join(work, 'state')
  const r = spawnSync(process.execPath, [runner, '--data-dir', dataDir, 'demo'], { env: { ...process.env, SLUICE_CHANNEL_MODE: 'worker', NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 120_000 })
  expect(r.status, r.stderr + r.stdout).toBe(0)
  expect(r.stdout + r.stderr).toMatch(/worker threads/)
  expect(r.stdout).toMatch(/SUCCEEDED/)
  // The target really holds Chinook's rows.
  const target = (r.stdout + r.stderr).match(/-> (\S+\.sqlite)/)![1]!
  const db = new Database(target, { readonly: true })
  expect((db.prepare('SELECT COUNT(*) AS n FROM "Track"').get() as { n: number }).n).toBe(3503)
  db.close()
  const v = spawnSync(process.execPath, [runner, '-V'], { encoding: 'utf8' })
  expect(v.stdout.trim()).toBe('sluice test (bundle)')
}
