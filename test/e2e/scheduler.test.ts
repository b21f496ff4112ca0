/**
 * End-to-end: the scheduler screens in Chromium against the real `sluice serve` (in-process, with
 * its scheduler loop, as `sluice serve` runs by default), on SQLite connections (the bundled
 * Chinook database as the source, an empty file as the target):
 * - a daily schedule at 02:15 Asia/Shanghai is set in the job editor's Schedule panel (its next 5
 *   fire times are shown before saving) and published; the Jobs list then shows the next run;
 * - scheduling is paused and resumed from the Operations view (the Jobs list shows it paused);
 * - a backfill (补数据) of 3 data times is dry-run (3 instances listed, oldest first) and started
 *   from the Operations view; the 3 instances are watched there until all succeed, and they ran
 *   one after the other, oldest data time first (list, Gantt chart, state DB), each run with its
 *   own bizdate; one is rerun from its actions menu and succeeds again (attempt 2); its page links
 *   to its latest run;
 * - a 3-node workflow (sync -> sql -> shell) is built on the canvas (dragged from the palette,
 *   connected, a cycle refused with its path), saved and run; on the instance's canvas every node
 *   turns green, the SQL node wrote its row for the data time and the shell node's log is one
 *   click away.
 * Screenshots: test/e2e/artifacts/sched-*.png (git-ignored).
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemoWorkspace, DEMO_SOURCE_NAME, DEMO_TARGET_NAME } from '../../main/api/demo.js'
import { REPO_ROOT, uniq } from '../helpers/servers.js'
import { browserReady, ensureRendererBuilt, fill, openWorkbench, pick, shot, type Workbench } from './setup.js'

/** Browser globals used inside page.evaluate callbacks (this file is type-checked without the DOM lib). */
interface BrowserGlobals {
  __sluice?: { editors: Record<string, { setValue(v: string): void }> }
}

const ready = browserReady()

/** `YYYY-MM-DD` of the local date `days` from today. */
function day(days: number): string {
  const d = new Date()
  d.setDate(d.getDate() + days)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

describe.skipIf(!ready)('scheduler e2e (Chromium, SQLite)', () => {
  const id = uniq()
  const jobName = `genres-${id}`
  const wfName = `chain-${id}`
  let wb: Workbench
  let targetPath = ''

  /** Rows of a query on the target SQLite file. */
  function targetRows(sql: string): unknown[] {
    const db = new Database(targetPath, { readonly: true })
    try {
      return db.prepare(sql).all()
    } finally {
      db.close()
    }
  }

  /** Call the API as the page does (bearer token). */
  async function call<T>(method: string, args: unknown): Promise<T> {
    const r = await fetch(`${wb.server.origin}/api/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${wb.server.token}` },
      body: JSON.stringify(args),
    })
    const body = (await r.json()) as { ok: boolean; result?: T; error?: { message: string } }
    if (!body.ok) throw new Error(`${method}: ${body.error?.message}`)
    return body.result as T
  }

  beforeAll(async () => {
    ensureRendererBuilt()
    wb = await openWorkbench({ scheduler: true })
    const seed = seedDemoWorkspace(wb.store, wb.dataDir, path.join(REPO_ROOT, 'resources'))
    expect(seed.seeded).toBe(true)
    targetPath = wb.store.connections.getByName(DEMO_TARGET_NAME)!.config.path as string
    // A small job: two Chinook tables into the target (replaced on each run).
    await call('jobs/save', {
      name: jobName,
      spec: {
        version: 1,
        name: jobName,
        reader: { connection: DEMO_SOURCE_NAME },
        // postSql records the run's data time on the target: what each instance processed, in order.
        writer: {
          connection: DEMO_TARGET_NAME,
          createTable: true,
          truncate: true,
          postSql: ['CREATE TABLE IF NOT EXISTS loads (bizdate TEXT NOT NULL)', "INSERT INTO loads (bizdate) VALUES ('${bizdate}')"],
        },
        tables: [{ source: 'Genre' }, { source: 'MediaType' }],
      },
    })
  }, 240_000)

  afterAll(async () => {
    await wb?.close()
  })

  it('sets a daily schedule in the job editor, sees its next fire times, and publishes it', async () => {
    const { page, server } = wb
    await page.goto(server.url)
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId(`job-row-${jobName}`).click()
    await page.getByTestId('job-version').filter({ hasText: 'v1' }).waitFor()
    await page.getByTestId('mode-schedule').click()
    await page.getByTestId('sched-none').waitFor()

    await page.getByTestId('sched-cycle-daily').click()
    const at = page.locator('[data-testid="sched-at"] input')
    await at.click()
    await at.fill('02:15')
    await at.press('Enter')
    await page.keyboard.press('Escape')
    await pick(page, 'sched-tz', 'Asia/Shanghai')
    await page.getByTestId('sched-self').click()

    // The next 5 fire times, from the API's preview, before anything is saved.
    const fires = page.getByTestId('sched-fire')
    await expect.poll(async () => (await page.getByTestId('sched-preview').textContent()) ?? '', { timeout: 15_000 }).toContain('Asia/Shanghai')
    await expect.poll(() => fires.count(), { timeout: 15_000 }).toBe(5)
    const cells = await page.locator('[data-testid="sched-fire"] td.mono:not([data-testid])').allTextContents()
    for (const c of cells) expect(c).toMatch(/^\d{4}-\d{2}-\d{2} 02:15:00$/)
    const dataTimes = await page.getByTestId('sched-fire-datatime').allTextContents()
    for (let i = 1; i < dataTimes.length; i++) expect(Date.parse(dataTimes[i]!) - Date.parse(dataTimes[i - 1]!)).toBe(86_400_000)
    await shot(page, 'sched-01-schedule-form')

    await page.getByTestId('sched-publish').click()
    await page.getByTestId('sched-state').filter({ hasText: 'active' }).waitFor({ timeout: 15_000 })
    await page.getByTestId('sched-published').filter({ hasText: 'Runs v1' }).waitFor()
    await shot(page, 'sched-02-published')

    const schedule = await call<{ spec: { cycle: unknown; selfDependency?: boolean }; timezone: string; publishedVersion?: number; state: string } | null>('schedules/get', { target: { kind: 'job', id: jobName } })
    expect(schedule).toMatchObject({ state: 'active', publishedVersion: 1, timezone: 'Asia/Shanghai', spec: { cycle: { type: 'daily', at: '02:15' }, selfDependency: true } })

    // The Jobs list shows the next run.
    await page.getByTestId('nav-jobs').click()
    const next = page.getByTestId(`job-next-${jobName}`)
    await next.waitFor()
    expect((await next.textContent())?.trim()).not.toBe('—')
  })

  it('backfills 3 data times from the Operations view and watches them succeed in order', async () => {
    const { page } = wb
    const dates = [day(-5), day(-4), day(-3)]
    await page.getByTestId('nav-ops').click()
    await page.getByTestId('ops-scheduler-status').filter({ hasText: 'Scheduler running (this app)' }).waitFor({ timeout: 15_000 })
    await page.getByTestId('ops-tab-schedules').click()
    // Pause and resume scheduling: the Jobs list shows the paused state meanwhile.
    await page.getByTestId(`ops-pause-${jobName}`).click()
    await page.locator(`[data-testid="ops-sched-state-${jobName}"][data-state="paused"]`).waitFor()
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId(`job-paused-${jobName}`).waitFor()
    await page.getByTestId('nav-ops').click()
    await page.getByTestId('ops-tab-schedules').click()
    await page.getByTestId(`ops-pause-${jobName}`).click()
    await page.locator(`[data-testid="ops-sched-state-${jobName}"][data-state="active"]`).waitFor()

    await page.getByTestId(`ops-backfill-${jobName}`).click()
    const dialog = page.getByTestId('backfill-dialog')
    await dialog.waitFor()
    await page.getByTestId('backfill-how-list').click()
    // Given newest first: the plan still runs them oldest first.
    await fill(page, 'backfill-list', [...dates].reverse().join('\n'))

    await page.getByTestId('backfill-dry-run').click()
    await page.getByTestId('backfill-plan').waitFor()
    await expect.poll(() => page.getByTestId('backfill-item-datatime').allTextContents(), { timeout: 15_000 }).toEqual(dates)
    await shot(page, 'sched-03-backfill-dry-run')
    // A dry run creates nothing.
    expect((await call<{ total: number }>('instances/list', { target: { kind: 'job', id: jobName } })).total).toBe(0)

    await page.getByTestId('backfill-start').click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByTestId('ops-filter-backfill').waitFor()
    const rows = page.getByTestId('ops-instance-row')
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3)

    // Watch the list (live through the event socket): note in which reading each data time shows succeeded.
    const succeededAt = new Map<string, number>()
    const deadline = Date.now() + 180_000
    for (let pass = 0; succeededAt.size < 3 && Date.now() < deadline; pass++) {
      // One reading of the whole list (newest data time first) counts as one instant.
      const seen = await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-datatime'), e.getAttribute('data-state')] as const))
      for (const [dt, state] of seen) {
        if (dt && state === 'succeeded' && !succeededAt.has(dt)) succeededAt.set(dt, pass)
        expect(state, `instance ${dt}`).not.toBe('failed')
      }
      await page.waitForTimeout(150)
    }
    expect([...succeededAt.keys()].sort()).toEqual(dates)
    // Seen succeeding oldest first (two may land in one poll of the list).
    for (let i = 1; i < dates.length; i++) expect(succeededAt.get(dates[i]!)!).toBeGreaterThanOrEqual(succeededAt.get(dates[i - 1]!)!)
    await shot(page, 'sched-04-backfill-succeeded')
    const states = await page.getByTestId('ops-instance-state').allTextContents()
    expect(states).toEqual(['succeeded', 'succeeded', 'succeeded'])

    // The Gantt chart of the list: one bar per instance in the order they started, oldest data time first.
    await page.getByTestId('ops-view-gantt').click()
    await expect.poll(() => page.locator('[data-testid="ops-gantt-row"] .mono').allTextContents()).toEqual(dates)
    expect(await page.locator('[data-testid="ops-gantt-row"][data-state="succeeded"]').count()).toBe(3)
    await shot(page, 'sched-04b-backfill-gantt')
    await page.getByTestId('ops-view-list').click()

    // In order: serial (parallel 1), oldest data time first, each run after the previous ended.
    const { instances } = await call<{ instances: Array<{ id: string; dataTime: string; startedAt: string; endedAt: string; runId: string; state: string }> }>('instances/list', { target: { kind: 'job', id: jobName } })
    const byDate = [...instances].sort((a, b) => a.dataTime.localeCompare(b.dataTime))
    expect(byDate.map((i) => i.dataTime)).toEqual(dates)
    for (let i = 1; i < byDate.length; i++) expect(Date.parse(byDate[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(byDate[i - 1]!.endedAt))
    for (const i of byDate) expect((await call<{ state: string }>('runs/get', { runId: i.runId })).state).toBe('succeeded')
    // Each run loaded its own data time (postSql with bizdate), oldest first.
    expect(targetRows('SELECT bizdate FROM loads ORDER BY rowid')).toEqual(dates.map((d) => ({ bizdate: d.replaceAll('-', '') })))

    // Rerun the oldest from its actions menu: the same instance runs again (attempt 2) and succeeds.
    const oldest = byDate[0]!
    await page.locator(`[data-testid="ops-instance-row"][data-datatime="${dates[0]}"] [data-testid="ops-instance-actions"]`).click()
    await page.getByTestId('ops-action-rerun').click()
    await expect
      .poll(async () => {
        const i = await call<{ attempt: number; state: string }>('instances/get', { id: oldest.id })
        return `${i.attempt}:${i.state}`
      }, { timeout: 120_000 })
      .toBe('2:succeeded')
    await page.locator(`[data-testid="ops-instance-row"][data-datatime="${dates[0]}"][data-state="succeeded"]`).waitFor({ timeout: 15_000 })

    // Instance detail: its run is a link to the run page.
    await rows.filter({ has: page.locator(`[data-testid="ops-instance-datatime"]:text-is("${dates[0]}")`) }).getByTestId('ops-instance-link').click()
    await page.getByTestId('instance-state').filter({ hasText: 'succeeded' }).waitFor()
    await page.getByTestId('instance-run-link').click()
    await page.waitForURL(/#\/runs\//)
    const rerunRun = (await call<{ runId: string }>('instances/get', { id: oldest.id })).runId
    expect(page.url()).toContain(encodeURIComponent(rerunRun))
  }, 300_000)

  it('builds a 3-node workflow on the canvas, runs it, and sees every node turn green', async () => {
    const { page } = wb
    await page.getByTestId('nav-workflows').click()
    await page.getByTestId('wf-new').click()
    await fill(page, 'wf-name', wfName)
    const pane = page.locator('.vue-flow__pane')
    await pane.waitFor()
    await page.getByTestId('wf-palette-sync').dragTo(pane, { targetPosition: { x: 80, y: 60 } })
    await page.getByTestId('wf-node-sync_1').waitFor()
    await page.getByTestId('wf-palette-sql').dragTo(pane, { targetPosition: { x: 80, y: 220 } })
    await page.getByTestId('wf-node-sql_1').waitFor()
    await page.getByTestId('wf-palette-shell').dragTo(pane, { targetPosition: { x: 80, y: 380 } })
    await page.getByTestId('wf-node-shell_1').waitFor()

    // Connect sync -> sql -> shell; shell -> sync would close a cycle and is refused with its path.
    await page.getByTestId('wf-out-sync_1').dragTo(page.getByTestId('wf-in-sql_1'))
    await page.getByTestId('wf-out-sql_1').dragTo(page.getByTestId('wf-in-shell_1'))
    await expect.poll(() => page.locator('.vue-flow__edge').count()).toBe(2)
    await page.getByTestId('wf-out-shell_1').dragTo(page.getByTestId('wf-in-sync_1'))
    await page.getByText('Refused: this edge would close a cycle sync_1 → sql_1 → shell_1 → sync_1').waitFor()
    expect(await page.locator('.vue-flow__edge').count()).toBe(2)
    await page.getByTestId('wf-layout').click()

    // Configure each node in the side panel.
    await page.getByTestId('wf-node-sync_1').click()
    await pick(page, 'wf-node-job', jobName)
    await page.getByTestId('wf-node-sql_1').click()
    await pick(page, 'wf-node-connection', DEMO_TARGET_NAME)
    await page.getByTestId('wf-node-sql').waitFor()
    const sql = "CREATE TABLE IF NOT EXISTS wf_marks (bizdate TEXT NOT NULL, genres INTEGER NOT NULL);\nINSERT INTO wf_marks (bizdate, genres) SELECT '${bizdate}', count(*) FROM Genre;"
    await page.evaluate((text) => (globalThis as unknown as BrowserGlobals).__sluice!.editors['wf-node-sql']!.setValue(text), sql)
    await page.getByTestId('wf-node-shell_1').click()
    await fill(page, 'wf-node-command', 'echo "shell node done for $SLUICE_BIZDATE"')
    await shot(page, 'sched-05-workflow-canvas')

    await page.getByTestId('wf-save').click()
    await page.getByTestId('wf-version').filter({ hasText: 'v1' }).waitFor({ timeout: 15_000 })
    const saved = await call<{ spec: { nodes: Array<{ id: string; type: string }>; edges: string[][] } }>('workflows/get', { id: wfName })
    expect(saved.spec.nodes.map((n) => `${n.id}:${n.type}`).sort()).toEqual(['shell_1:shell', 'sql_1:sql', 'sync_1:sync'])
    expect(saved.spec.edges).toEqual([
      ['sync_1', 'sql_1'],
      ['sql_1', 'shell_1'],
    ])

    await page.getByTestId('wf-run').click()
    await page.getByTestId('wf-run-confirm').click()
    await page.waitForURL(/#\/ops\//)
    for (const n of ['sync_1', 'sql_1', 'shell_1']) await page.locator(`[data-testid="wf-node-${n}"][data-state="succeeded"]`).waitFor({ timeout: 180_000 })
    await page.getByTestId('instance-state').filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 })
    // The instance's canvas shows the workflow's edges too.
    expect(await page.locator('[data-testid="wf-canvas"] .vue-flow__edge').count()).toBe(2)
    await shot(page, 'sched-06-workflow-instance')

    // The SQL node ran on the target for the instance's data time, after the sync node loaded it.
    const bizdate = day(-1).replaceAll('-', '')
    expect(targetRows('SELECT bizdate, genres FROM wf_marks')).toEqual([{ bizdate, genres: 25 }])
    expect(targetRows('SELECT bizdate FROM loads ORDER BY rowid DESC LIMIT 1')).toEqual([{ bizdate }])
    // The shell node's log, one click away.
    await page.getByTestId('wf-log-shell_1').click()
    await page.getByTestId('node-log').filter({ hasText: `shell node done for ${bizdate}` }).waitFor({ timeout: 15_000 })
    await shot(page, 'sched-07-node-log')
    expect(wb.pageErrors).toEqual([])
  }, 300_000)
})
