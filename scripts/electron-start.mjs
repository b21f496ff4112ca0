#!/usr/bin/env node
// `npm start`: build the desktop app and launch it under Electron, without touching the Node
// build of better-sqlite3 that `npm test` and the CLI use.
//
// 0. The Electron binary (downloaded by the electron package; fails clearly when offline).
// 1. better-sqlite3 is a native addon built for Node's ABI. Electron has its own ABI, so a copy
//    of the package is built against Electron's headers into
//    .electron-native/<electron version>-<platform>-<arch>/better-sqlite3 (once per version; delete
//    the folder to force a rebuild). Needs a C++ toolchain and Electron's headers
//    (downloaded by node-gyp from https://electronjs.org/headers on first build).
// 2. `electron-vite build` writes out/main, out/preload, out/renderer.
// 3. `electron .` with SLUICE_SQLITE_BINDING=<that .node>, which main/core/sqlite.ts passes to
//    better-sqlite3 as `nativeBinding`.
//
// Arguments after `--` go to the app, e.g. `npm start -- --data-dir /tmp/sluice-dev`.
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(path.join(root, 'package.json'))

function fail(message) {
  process.stderr.write(`\nnpm start: ${message}\n`)
  process.exit(1)
}

// Electron's packages (electron, @electron/get, @electron/rebuild) declare Node >= 22.12: on Node 20
// `npm install` warns EBADENGINE for them (README, Quick start). The CLI, `sluice serve` and the
// tests run on Node 20.19+; the desktop app is supported on Node 22.12+.
function nodeNote() {
  const [maj, min] = process.versions.node.split('.').map(Number)
  return maj < 22 || (maj === 22 && min < 12) ? `\n  (Node ${process.versions.node}: the desktop app needs Node 22.12+, as the EBADENGINE warnings of npm install say; the CLI and \`npm run serve\` work on Node 20.19+.)` : ''
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts })
  if (r.error) return { ok: false, why: r.error.message }
  return { ok: r.status === 0, why: `exit code ${r.status}` }
}

// --- which Electron ------------------------------------------------------------------------
let electronVersion
try {
  electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version
} catch {
  fail('the electron package is not installed; run `npm install` first.')
}
const arch = process.env.npm_config_arch || process.arch

// --- the Electron binary ---------------------------------------------------------------------
// The electron package's main export is the binary's path; requiring it downloads the binary
// (node_modules/electron/install.js) when it is missing, and throws when that fails.
let electronBinary
try {
  electronBinary = require('electron')
} catch (e) {
  fail(
    `the Electron ${electronVersion} binary is missing and could not be fetched:\n  ${String(e?.message ?? e).split('\n')[0]}\n` +
      '  It is downloaded from GitHub releases. With network access run\n' +
      '    node node_modules/electron/install.js\n' +
      '  or point ELECTRON_MIRROR at a mirror, or ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron.\n' +
      '  Without Electron, the same screens run in a browser: build them once with\n' +
      '    npm run build:renderer\n' +
      '  then start the server (it prints the URL with its token) with\n' +
      '    npm run serve' +
      nodeNote(),
  )
}
if (typeof electronBinary !== 'string' || !existsSync(electronBinary)) fail(`the Electron binary is not at ${electronBinary}; run \`node node_modules/electron/install.js\`.`)

// --- better-sqlite3 for Electron's ABI -------------------------------------------------------
const srcPkg = path.dirname(require.resolve('better-sqlite3/package.json'))
const nativeDir = path.join(root, '.electron-native', `${electronVersion}-${process.platform}-${arch}`, 'better-sqlite3')
const binding = path.join(nativeDir, 'build', 'Release', 'better_sqlite3.node')
if (existsSync(binding)) {
  console.log(`better-sqlite3 for Electron ${electronVersion}: cached (${path.relative(root, binding)})`)
} else {
  console.log(`better-sqlite3 for Electron ${electronVersion} (${arch}): building into ${path.relative(root, nativeDir)} ...`)
  rmSync(nativeDir, { recursive: true, force: true })
  mkdirSync(path.dirname(nativeDir), { recursive: true })
  // The package without its Node build output.
  cpSync(srcPkg, nativeDir, { recursive: true, filter: (f) => !f.startsWith(path.join(srcPkg, 'build') + path.sep) && f !== path.join(srcPkg, 'build') })
  let nodeGyp
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js')
  } catch {
    fail('node-gyp is not installed (it ships with npm; `npm install -D node-gyp` if your npm lacks it).')
  }
  const built = run(process.execPath, [nodeGyp, 'rebuild', '--release', `--target=${electronVersion}`, `--arch=${arch}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'], { cwd: nativeDir })
  if (!built.ok || !existsSync(binding)) {
    rmSync(nativeDir, { recursive: true, force: true })
    fail(
      `could not build better-sqlite3 for Electron ${electronVersion} (${built.why}).\n` +
        '  It needs a C++ toolchain (python3, make, g++ / Xcode / Visual Studio Build Tools) and Electron\'s\n' +
        '  headers from https://electronjs.org/headers (network access on the first build).',
    )
  }
}

// --- build and launch --------------------------------------------------------------------------
const viteBin = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js')
const build = run(process.execPath, [existsSync(viteBin) ? viteBin : require.resolve('electron-vite/bin/electron-vite.js'), 'build'])
if (!build.ok) fail(`electron-vite build failed (${build.why}).`)

const dash = process.argv.indexOf('--')
const appArgs = dash >= 0 ? process.argv.slice(dash + 1) : process.argv.slice(2)
const child = spawn(electronBinary, ['.', ...appArgs], { cwd: root, stdio: 'inherit', env: { ...process.env, SLUICE_SQLITE_BINDING: binding } })
child.on('error', (e) => fail(`could not start Electron: ${e.message}`))
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
