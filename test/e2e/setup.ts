/**
 * E2E support: build the renderer once when `out/renderer/index.html` is older than its sources,
 * start `sluice serve` in-process (`startServer` over a store in a temp data dir), and launch
 * Debian's Chromium through playwright-core.
 *
 * Build command: `npm run build:renderer` when package.json defines it (the desktop build's
 * script), else `vite build -c renderer/vite.config.ts` (same root, alias and output). Builds are
 * serialized across parallel test files with a lock directory.
 *
 * Without /usr/bin/chromium the suite is skipped, unless CI=true where it fails.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startServer, type RunningServer } from '../../main/api/http.js'
import { openStore, type Store } from '../../main/store/index.js'
import { REPO_ROOT } from '../helpers/servers.js'

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium'
export const ARTIFACTS = path.join(REPO_ROOT, 'test/e2e/artifacts')
const OUT_INDEX = path.join(REPO_ROOT, 'out/renderer/index.html')

/** Whether the e2e suite can run here; throws under CI=true when Chromium is missing. */
export function browserReady(): boolean {
  if (existsSync(CHROMIUM)) return true
  if (process.env.CI === 'true') throw new Error(`CI=true but Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`)
  return false
}

function newestMtime(p: string): number {
  const s = statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  let m = s.mtimeMs
  for (const e of readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, e)))
  return m
}

/** Build the renderer unless out/renderer is newer than every source it is built from. */
export function ensureRendererBuilt(): void {
  const sources = ['renderer', 'main/api/contract.ts', 'main/api/wire.ts', 'main/job/spec.ts', 'main/core/types.ts', 'package.json'].map((p) => path.join(REPO_ROOT, p))
  const lockDir = path.join(os.tmpdir(), 'sluice-renderer-build.lock')
  const fresh = () => existsSync(OUT_INDEX) && statSync(OUT_INDEX).mtimeMs >= Math.max(...sources.filter(existsSync).map(newestMtime))
  if (fresh()) return
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lockDir)
      break
    } catch {
      if (i > 600) throw new Error(`renderer build lock ${lockDir} held for 5 minutes`)
      execFileSync('sleep', ['0.5'])
    }
  }
  try {
    if (fresh()) return
    const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {}
    if (scripts['build:renderer']) execFileSync('npm', ['run', '--silent', 'build:renderer'], { cwd: REPO_ROOT, stdio: 'inherit' })
    else execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' })
    if (!existsSync(OUT_INDEX)) throw new Error('the renderer build did not write out/renderer/index.html')
  } finally {
    rmSync(lockDir, { recursive: true, force: true })
  }
}

/** A running workbench: server over a temp store, a browser page opened on it. */
export interface Workbench {
  server: RunningServer
  store: Store
  dataDir: string
  browser: Browser
  page: Page
  /** Console errors and page errors seen so far (asserted empty at the end of a suite). */
  pageErrors: string[]
  close(): Promise<void>
}

/**
 * Start `sluice serve` in-process and open Chromium on its URL. `scheduler: true` also runs the
 * scheduler loop in the server's process, as `sluice serve` does by default.
 */
export async function openWorkbench(opts: { scheduler?: boolean; allowDirs?: string[] } = {}): Promise<Workbench> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-'))
  const store = openStore({ dataDir })
  // `allowDirs`: folders (besides the data dir and the cwd) the test's SQLite files live in (serve --allow-dir).
  const allow = opts.allowDirs ? { allowDirs: [dataDir, process.cwd(), ...opts.allowDirs] } : {}
  const server = await startServer({ store, dataDir, ...allow, ...(opts.scheduler ? { scheduler: true } : {}) })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', colorScheme: 'light' })
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`))
  page.on('response', (r) => {
    if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.url().replace(/token=[^&]+/, 'token=…')}`)
  })
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`)
  })
  mkdirSync(ARTIFACTS, { recursive: true })
  return {
    server,
    store,
    dataDir,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close().catch(() => undefined)
      await server.close()
      store.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Fill an NInput / NInputNumber / textarea by the data-testid on it or its wrapper. */
export async function fill(page: Page, testid: string, value: string): Promise<void> {
  const el = page.locator(`input[data-testid="${testid}"], textarea[data-testid="${testid}"], [data-testid="${testid}"] input, [data-testid="${testid}"] textarea`).first()
  await el.fill(value)
}

/** Open an NSelect by data-testid and pick the option whose label contains `label`. */
export async function pick(page: Page, testid: string, label: string, opts: { multiple?: boolean } = {}): Promise<void> {
  await page.getByTestId(testid).click()
  // A filterable select has a text input: type to filter (its option list is virtual).
  const input = page.locator(`[data-testid="${testid}"] input`)
  if ((await input.count()) > 0) await page.keyboard.type(label)
  const opt = page.locator('.n-base-select-menu .n-base-select-option', { hasText: label }).first()
  await opt.waitFor({ state: 'visible' })
  await opt.click()
  if (opts.multiple) await page.keyboard.press('Escape')
}

/** Save a full-page screenshot under test/e2e/artifacts/. */
export async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  return file
}
