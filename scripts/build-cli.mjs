#!/usr/bin/env node
/**
 * `npm run build:cli` (also run by `npm install` through `prepare`, and by `npm run bench`):
 * bundles the headless CLI and the channel worker with esbuild into `out/cli/`:
 *   - `sluice.js`  — main/cli.ts and everything it imports, npm packages included (one parse
 *     instead of ~400 module loads through tsx: `sluice --help` 0.58 s -> 0.15 s here);
 *   - `worker.js`  — main/engine/worker.ts (main/engine/pool.ts loads `./worker.js` beside the
 *     bundle when it is not running from TypeScript sources), so a channel worker starts without
 *     tsx too;
 *   - `inputs.json` — the project files the bundle was made from, with the build's start time:
 *     bin/sluice.mjs runs the bundle only while none of them (nor package-lock.json) is newer,
 *     and otherwise runs the sources through tsx, so an edit is never hidden by a stale bundle.
 * better-sqlite3 (native), ssh2 (its optional native crypto; loaded only for SFTP and SSH tunnels) and electron stay external. Offline: esbuild ships its binary in
 * node_modules. `--out <dir>` builds elsewhere (tests). Exit code 1 on a build error.
 */
import { build } from 'esbuild'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outArg = process.argv.indexOf('--out')
const outDir = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'out/cli')
const tmpDir = `${outDir}.tmp-${process.pid}`

const startedAt = Date.now()
try {
  rmSync(tmpDir, { recursive: true, force: true })
  mkdirSync(tmpDir, { recursive: true })
  const result = await build({
    absWorkingDir: root,
    entryPoints: { sluice: 'main/cli.ts', worker: 'main/engine/worker.ts' },
    outdir: tmpDir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'electron', 'ssh2', 'cpu-features', 'snappy'],
    // CommonJS packages bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    // Smaller text to parse at every start (~20 ms); names kept for errors and stack traces.
    minify: process.env.SLUICE_BUILD_MINIFY !== '0',
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
  })
  const inputs = Object.keys(result.metafile.inputs)
    .filter((f) => !f.includes('node_modules/') && !f.startsWith('<'))
    .sort()
  writeFileSync(path.join(tmpDir, 'inputs.json'), JSON.stringify({ builtAt: startedAt, inputs: [...inputs, 'package-lock.json', 'package.json'] }, null, 1) + '\n')
  // Swap in the new build (a concurrent sluice keeps the files it already loaded).
  rmSync(outDir, { recursive: true, force: true })
  renameSync(tmpDir, outDir)
  process.stderr.write(`build-cli: ${path.relative(root, outDir) || outDir} (${inputs.length} project files) in ${Date.now() - startedAt} ms\n`)
} catch (e) {
  rmSync(tmpDir, { recursive: true, force: true })
  process.stderr.write(`build-cli: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
}
