/**
 * End-to-end (issue 14, "the workbench a migration engineer trusts"), in Chromium against the
 * real `sluice serve` (in-process), MariaDB and PostgreSQL:
 * - the served URL without its token explains itself (item 7);
 * - the whole-database path: tables picked in the wizard (pattern, checkbox, target names, exists /
 *   will be created), verification set in channel control, a Run dialog with bizdate and a user
 *   variable showing the resolved where, the run, a rerun with truncate into PostgreSQL, hashdiff
 *   finding a change planted in the target, its differing keys listed and downloaded as CSV
 *   (items 2, 5, 8, 9, 10);
 * - unsaved edits ask before leaving (1); connections by id, rename, "used by N jobs", cascade (3);
 *   the mapping grid's native types and timeFormat (6); DataX import from a file (11); translated
 *   labels with the raw key, zh-CN dates, Terminate asks (12).
 * Screenshots: test/e2e/artifacts/trust-*.png (git-ignored).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHINOOK_COUNTS, dropMysqlDb, dropPgDb, freshPgDb, loadChinookMysql, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'
import { browserReady, ensureRendererBuilt, fill, openWorkbench, pick, shot, type Workbench } from './setup.js'

const ready = browserReady() && (await serversReady('mysql', 'postgres'))

/** Same rules as renderer/src/lib/format.ts `duration`. */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor((s % 3600) / 60)
  return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`
}

describe.skipIf(!ready)('workbench trust e2e (Chromium, MariaDB, PostgreSQL)', () => {
  const id = uniq()
  const myDb = `sl_tr_${id}`
  const pgDb = `sl_tr_${id}`
  const myName = `src-my-${id}`
  const pgName = `dst-pg-${id}`
  const jobName = `whole-${id}`
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sl-trust-'))
  let wb: Workbench
  let myId = ''
  let pgId = ''
  let jobId = ''
  let firstRunId = ''
  const dialogButton = (name: string) => wb.page.locator('.n-dialog').getByRole('button', { name })
  const pgQuery = async (sql: string) => {
    const c = new pg.Client({ ...PG, database: pgDb })
    await c.connect()
    try {
      return (await c.query(sql)).rows
    } finally {
      await c.end()
    }
  }

  beforeAll(async () => {
    ensureRendererBuilt()
    loadChinookMysql(myDb)
    await freshPgDb(pgDb)
    wb = await openWorkbench()
    myId = wb.store.connections.create({ name: myName, config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user: MYSQL.user, database: myDb } }).id
    pgId = wb.store.connections.create({ name: pgName, config: { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, database: pgDb } }).id
  }, 240_000)

  afterAll(async () => {
    await wb?.close()
    await dropMysqlDb(myDb).catch(() => undefined)
    await dropPgDb(pgDb).catch(() => undefined)
    rmSync(tmp, { recursive: true, force: true })
  })

  it('item 7: the served URL without its token says the token is missing and how to get it', async () => {
    const ctx = await wb.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
    const p = await ctx.newPage()
    await p.goto(`${wb.server.origin}/`)
    const gate = p.getByTestId('token-missing')
    await gate.waitFor()
    expect(await gate.textContent()).toMatch(/The access token is missing/)
    expect(await gate.textContent()).toMatch(/\?token=/)
    expect(await p.getByTestId('conn-new').count()).toBe(0)
    await p.screenshot({ path: path.join(tmp, 'x.png') })
    await ctx.close()
  })

  it('items 8, 12: picks tables of a whole-database job in the wizard, target names by rule, exists / will be created', async () => {
    const { page, server } = wb
    await page.goto(server.url)
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId('job-new').click()
    await fill(page, 'job-name', jobName)
    await pick(page, 'wiz-src-conn', myName)
    await page.getByTestId('wiz-src-mode-all').click()
    // A where with the data time and a user variable, valid on every table.
    await fill(page, 'wiz-where', "'${bizdate}' <> '${region}'")
    await page.getByTestId('wiz-next').click()
    await pick(page, 'wiz-dst-conn', pgName)
    const list = page.getByTestId('wholedb-tables')
    await list.waitFor()
    await page.getByTestId('wholedb-row-Track').waitFor({ timeout: 15_000 })
    expect(await page.locator('[data-testid^="wholedb-row-"]').count()).toBe(11)
    await page.getByTestId('wholedb-count').filter({ hasText: '11 of 11' }).waitFor()
    // Exclude by pattern, then put one back by its checkbox and take another out.
    await fill(page, 'wholedb-exclude', 'Playlist*, Employee')
    await page.getByTestId('wholedb-exclude-apply').click()
    await page.getByTestId('wholedb-count').filter({ hasText: '8 of 11' }).waitFor()
    await page.getByTestId('wholedb-check-Employee').click()
    await page.getByTestId('wholedb-count').filter({ hasText: '9 of 11' }).waitFor()
    // Target names follow the rule; none exists yet.
    expect(await page.getByTestId('wholedb-target-InvoiceLine').textContent()).toBe('InvoiceLine')
    await page.getByTestId('wiz-case-lower').click()
    await page.getByTestId('wholedb-target-InvoiceLine').filter({ hasText: /^invoiceline$/ }).waitFor()
    expect(await page.getByTestId('wholedb-status-Album').textContent()).toMatch(/will be created/)
    // Translated labels keep the raw key in a tooltip.
    expect(await page.getByTestId('label-writeMode').textContent()).toBe('Write mode')
    await page.getByTestId('label-writeMode').hover()
    await page.locator('.n-tooltip').filter({ hasText: /^writeMode$/ }).waitFor()
    await page.getByTestId('wiz-truncate').click()
    await shot(page, 'trust-01-wholedb-tables')
    // Channel control: verification.
    await page.getByTestId('wiz-next').click()
    await page.getByTestId('wiz-next').click()
    await pick(page, 'wiz-verify-algorithm', 'hashdiff')
    await fill(page, 'wiz-verify-limit', '100')
    await page.getByTestId('wiz-verify-threshold').waitFor()
    await shot(page, 'trust-02-verify')
    await page.getByTestId('wiz-next').click()
    await page.getByTestId('wiz-save').click()
    await page.getByTestId('job-version').filter({ hasText: 'v1' }).waitFor()
    const saved = wb.store.jobs.list({}).find((j) => j.name === jobName)!
    jobId = saved.id
    const spec = wb.store.jobs.get(jobId)!.spec as { reader: { connection: string; where: string }; writer: { connection: string; truncate: boolean; identifierCase: string }; tables: { include: unknown; exclude: string[] }; verify: { algorithm: string; limit: number } }
    // Item 3: the job refers to the connections by id.
    expect([spec.reader.connection, spec.writer.connection]).toEqual([myId, pgId])
    expect(spec.tables).toEqual({ include: '*', exclude: ['Playlist', 'PlaylistTrack'] })
    expect(spec.writer.truncate).toBe(true)
    expect(spec.writer.identifierCase).toBe('lower')
    expect(spec.verify).toMatchObject({ algorithm: 'hashdiff', limit: 100 })
  })

  it('items 10, 5: the Run dialog resolves the where; the run page is live and exact', async () => {
    const { page } = wb
    await page.getByTestId('job-run').click()
    await page.getByTestId('run-dialog').waitFor()
    await page.getByTestId('run-var-region').waitFor()
    await fill(page, 'run-bizdate', '20260301')
    await fill(page, 'run-var-region', 'EU')
    await page.getByTestId('run-where-Album').filter({ hasText: "'20260301' <> 'EU'" }).waitFor({ timeout: 15_000 })
    await shot(page, 'trust-03-run-dialog')
    await page.getByTestId('run-start').click()
    await page.waitForURL(/#\/runs\//)
    firstRunId = decodeURIComponent(page.url().split('#/runs/')[1]!)
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 120_000 })
    const run = wb.store.runs.get(firstRunId)!
    expect(run.vars).toEqual({ region: 'EU' })
    const expected = Object.entries(CHINOOK_COUNTS).filter(([t]) => t !== 'Playlist' && t !== 'PlaylistTrack').reduce((n, [, c]) => n + c, 0)
    await expect.poll(() => page.getByTestId('run-rows').textContent()).toBe(expected.toLocaleString('en-US'))
    // Durations are the engine's own, not the store's timestamps.
    const summary = run.summary as unknown as { elapsedMs: number }
    await expect.poll(() => page.getByTestId('run-duration').textContent()).toBe(duration(summary.elapsedMs))
    // A short run still draws its chart: a line of at least two points (a flat line, when the rate
    // did not change, has no height, which Playwright calls hidden: check the points instead).
    const line = page.locator('[data-testid="throughput-chart"] polyline').first()
    await line.waitFor({ state: 'attached' })
    expect(((await line.getAttribute('points')) ?? '').trim().split(/\s+/).length).toBeGreaterThanOrEqual(2)
    // A where filters every table: no estimated total is shown as if it were the filtered count.
    expect(await page.getByTestId('task-progress-Album').textContent()).not.toMatch(/\/ ~/)
    // Log lines arrived live, none twice.
    const logText = (await page.getByTestId('run-logs').textContent()) ?? ''
    expect(logText).toMatch(/channel/)
    expect(logText).toMatch(/TableDataDiff \(hashdiff\): consistent/)
    const lines = logText.split('\n').filter(Boolean)
    expect(new Set(lines).size).toBe(lines.length)
    await shot(page, 'trust-04-run-succeeded')
  })

  it('items 2, 9: a rerun with truncate reloads PostgreSQL; hashdiff lists the keys of a planted change, downloadable as CSV', async () => {
    const { page } = wb
    // Plant a change the load cannot see: a trigger on the target rewrites one row as it lands.
    await pgQuery(`CREATE FUNCTION plant() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.albumid = 5 THEN NEW.title := 'planted'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER plant BEFORE INSERT ON public.album FOR EACH ROW EXECUTE FUNCTION plant();`)
    await page.getByTestId('run-rerun').click()
    await page.waitForURL((u) => !u.hash.endsWith(encodeURIComponent(firstRunId)) && /#\/runs\//.test(u.hash))
    await page.locator('[data-testid="run-state"][data-state="inconsistent"]').waitFor({ timeout: 120_000 })
    // Every table was truncated and reloaded (no duplicate, no FK refusal).
    const counts = await pgQuery('SELECT (SELECT count(*) FROM album)::int AS album, (SELECT count(*) FROM track)::int AS track, (SELECT count(*) FROM invoiceline)::int AS invoiceline')
    expect(counts[0]).toEqual({ album: CHINOOK_COUNTS.Album, track: CHINOOK_COUNTS.Track, invoiceline: CHINOOK_COUNTS.InvoiceLine })
    await page.getByTestId('diff-row-Album').first().waitFor({ timeout: 15_000 })
    expect(await page.getByTestId('diff-row-Album').count()).toBe(1)
    expect(await page.getByTestId('diff-row-Album').textContent()).toMatch(/~ changed\s*5/)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('diff-csv-Album').click()])
    const file = path.join(tmp, 'diff.csv')
    await download.saveAs(file)
    expect(readFileSync(file, 'utf8')).toBe('side,AlbumId\nchanged,5\n')
    // The failed-or-not stage colouring: TableDataDiff is where Album stopped.
    expect(await page.getByTestId('stage-Album-ImportTable').getAttribute('data-stage-state')).toBe('done')
    await shot(page, 'trust-05-diff-keys')
    await pgQuery('DROP TRIGGER plant ON public.album; DROP FUNCTION plant();')
  })

  it('item 5: a failed truncate is shown on ImportTable, with PostgreSQL detail and hint in the message', async () => {
    const { page } = wb
    const before = page.url()
    await pgQuery('CREATE TABLE outside_ref (a integer REFERENCES public.album (albumid))')
    await page.getByTestId('run-rerun').click()
    await page.waitForURL((u) => u.href !== before && /#\/runs\//.test(u.hash))
    await page.locator('[data-testid="run-state"][data-state="failed"]').waitFor({ timeout: 60_000 })
    await page.locator('[data-testid="stage-Album-ImportTable"][data-stage-state="failed"]').waitFor()
    expect(await page.getByTestId('stage-Album-ExportTable').getAttribute('data-stage-state')).toBe('done')
    expect(await page.getByTestId('run-error').textContent()).toMatch(/truncate before load failed.*outside_ref.*hint: Truncate table "outside_ref" at the same time/s)
    await shot(page, 'trust-05b-truncate-failed')
    // Nothing was truncated.
    expect((await pgQuery('SELECT count(*)::int AS n FROM track'))[0]).toEqual({ n: CHINOOK_COUNTS.Track })
    await pgQuery('DROP TABLE outside_ref')
  })

  it('item 1: leaving an edited job asks first; Stay keeps the edit', async () => {
    const { page } = wb
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId(`job-row-${jobName}`).click()
    await page.getByTestId('wiz-where').waitFor()
    await fill(page, 'wiz-where', "'${bizdate}' <> 'edited'")
    await page.getByTestId('job-unsaved').waitFor()
    await page.getByTestId('nav-runs').click()
    await page.locator('.n-dialog').filter({ hasText: 'Unsaved changes' }).waitFor()
    await shot(page, 'trust-06-unsaved')
    await dialogButton('Stay').click()
    await page.locator('.n-dialog').waitFor({ state: 'detached' })
    expect(await page.locator('[data-testid="wiz-where"] textarea').inputValue()).toBe("'${bizdate}' <> 'edited'")
    expect(page.url()).toMatch(/#\/jobs\//)
    // Script mode too: an edit there asks the same.
    await page.getByTestId('mode-script').click()
    await page.getByTestId('job-script').locator('.view-lines').waitFor()
    await page.getByTestId('nav-connections').click()
    await dialogButton('Leave without saving').click()
    await page.getByTestId('conn-new').waitFor()
    // Nothing was saved.
    expect((wb.store.jobs.get(jobId)!.spec as { reader: { where: string } }).reader.where).toBe("'${bizdate}' <> '${region}'")
  })

  it('item 3: renaming a connection keeps its jobs; delete says who uses it and cascades only when asked', async () => {
    const { page } = wb
    // Rename the target connection in the UI.
    await page.getByTestId(`conn-edit-${pgName}`).click()
    await fill(page, 'conn-name', `${pgName}-renamed`)
    await page.getByTestId('conn-save').click()
    await page.getByTestId(`conn-row-${pgName}-renamed`).waitFor()
    const problems = await wb.store.jobs.get(jobId)!.spec
    expect((problems as { writer: { connection: string } }).writer.connection).toBe(pgId)
    // An older job naming a connection by its name, on a throwaway connection.
    const sq = wb.store.connections.create({ name: `scratch-${id}`, config: { kind: 'sqlite', path: path.join(wb.dataDir, 'scratch.sqlite') } })
    wb.store.jobs.save({ version: 1, reader: { connection: myName }, writer: { connection: `scratch-${id}` }, tables: [{ source: 'Genre' }] }, { name: `old-style-${id}` })
    await page.reload()
    // Deleting the MariaDB connection: used by 2 jobs; cancel keeps everything.
    await page.getByTestId(`conn-delete-${myName}`).click()
    const usage = page.getByTestId('conn-usage')
    await usage.waitFor()
    expect(await usage.textContent()).toMatch(new RegExp(`Used by 2 job\\(s\\): .*${jobName}`))
    await shot(page, 'trust-07-conn-usage')
    await dialogButton('Cancel').click()
    expect(wb.store.connections.get(myId)).toBeDefined()
    // The scratch connection: cascade deletes it and the one job using it by name.
    await page.getByTestId(`conn-delete-scratch-${id}`).click()
    await page.getByTestId('conn-usage').filter({ hasText: `Used by 1 job(s): old-style-${id}` }).waitFor()
    await dialogButton('Delete it and these jobs').click()
    await page.getByTestId(`conn-row-scratch-${id}`).waitFor({ state: 'detached' })
    expect(wb.store.connections.get(sq.id)).toBeUndefined()
    expect(wb.store.jobs.list({}).map((j) => j.name)).not.toContain(`old-style-${id}`)
  })

  it('item 6: the mapping grid shows native types for a new table and timeFormat only where it applies', async () => {
    const { page } = wb
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId('job-new').click()
    await pick(page, 'wiz-src-conn', myName)
    await pick(page, 'wiz-src-tables', 'Invoice', { multiple: true })
    await page.getByTestId('wiz-next').click()
    await pick(page, 'wiz-dst-conn', `${pgName}-renamed`)
    await fill(page, 'wiz-dst-table-0', 'invoice_new')
    await page.getByTestId('wiz-step-3').click()
    await page.getByTestId('map-target-InvoiceId').waitFor({ timeout: 30_000 })
    // Native PostgreSQL types, as in the DDL preview.
    expect(await page.getByTestId('map-tgt-type-InvoiceId').textContent()).toMatch(/^integer/)
    expect(await page.getByTestId('map-tgt-type-BillingCountry').textContent()).toMatch(/^varchar\(40\)|^character varying\(40\)/)
    // timeFormat: on the datetime column, not on integers or decimals.
    await page.getByTestId('map-time-InvoiceDate').waitFor()
    expect(await page.getByTestId('map-time-InvoiceId').count()).toBe(0)
    expect(await page.getByTestId('map-time-Total').count()).toBe(0)
    // The grid fits a 1440 px window.
    const box = await page.getByTestId('mapping-grid').boundingBox()
    expect(box!.x + box!.width).toBeLessThanOrEqual(1440)
    const overflow = await page.evaluate(() => {
      const el = (globalThis as unknown as { document: { querySelector(s: string): { scrollWidth: number; clientWidth: number } | null } }).document.querySelector('[data-testid="mapping-grid"] .n-data-table-base-table-body')
      return el ? el.scrollWidth - el.clientWidth : -1
    })
    expect(overflow).toBeLessThanOrEqual(0)
    await shot(page, 'trust-08-mapping-native')
    // An existing table (datetime -> timestamp): a timeFormat there does nothing, and says so.
    await page.getByTestId('mode-script').click()
    await page.getByTestId('job-script').locator('.view-lines').waitFor()
    await page.evaluate((pgName) => {
      const g = globalThis as unknown as { __sluice: { editors: Record<string, { getModel(): { getValue(): string; getFullModelRange(): unknown }; executeEdits(s: string, e: unknown[]): void }> } }
      const ed = g.__sluice.editors['job-script']!
      const doc = JSON.parse(ed.getModel().getValue()) as { tables: Array<Record<string, unknown>> }
      doc.tables = [{ source: 'Invoice', target: 'invoice', mapping: [{ source: 'InvoiceId', target: 'invoiceid' }, { source: 'InvoiceDate', target: 'invoicedate', timeFormat: { from: 'yyyy-MM-dd HH:mm:ss' } }] }]
      void pgName
      ed.executeEdits('e2e', [{ range: ed.getModel().getFullModelRange(), text: JSON.stringify(doc, null, 2) }])
    }, pgName)
    await page.getByTestId('mode-wizard').click()
    await page.getByTestId('wiz-step-3').click()
    await page.getByTestId('map-time-noop-invoicedate').waitFor({ timeout: 30_000 })
    // Validation says so too, on the row.
    await page.locator('[data-testid="map-warning"]', { hasText: 'time_format' }).waitFor({ timeout: 15_000 })
    expect(await page.getByTestId('map-time-invoicedate').count()).toBe(0)
    await page.getByTestId('nav-jobs').click()
    await dialogButton('Leave without saving').click()
  })

  it('item 11: imports a DataX job from a file in the Jobs list', async () => {
    const { page } = wb
    const file = path.join(tmp, 'genre.datax.json')
    writeFileSync(
      file,
      JSON.stringify({
        job: {
          setting: { speed: { channel: 1 } },
          content: [
            {
              reader: { name: 'mysqlreader', parameter: { username: MYSQL.user, password: '', column: ['*'], connection: [{ table: ['Genre'], jdbcUrl: [`jdbc:mysql://${MYSQL.host}:${MYSQL.port}/${myDb}`] }] } },
              writer: { name: 'postgresqlwriter', parameter: { username: PG.user, password: '', column: ['*'], connection: [{ table: ['genre'], jdbcUrl: `jdbc:postgresql://${PG.host}:${PG.port}/${pgDb}` }] } },
            },
          ],
        },
      }),
    )
    await page.getByTestId('job-import').click()
    await page.getByTestId('import-modal').waitFor()
    // Dropping a file that is no DataX / DataWorks job says so.
    const dt = await page.evaluateHandle(() => {
      const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: string[], name: string) => unknown }
      const d = new g.DataTransfer()
      d.items.add(new g.File(['{"hello": 1}'], 'not-a-job.json'))
      return d
    })
    await page.dispatchEvent('[data-testid="import-drop"]', 'drop', { dataTransfer: dt })
    await page.getByTestId('import-error').filter({ hasText: 'not a DataX or DataWorks job' }).waitFor()
    // Picking the DataX file imports it.
    await page.setInputFiles('[data-testid="import-file"]', file)
    await page.getByTestId('import-name').waitFor()
    expect(await page.locator('[data-testid="import-name"] input').inputValue()).toBe('genre')
    await shot(page, 'trust-09-import')
    await page.getByTestId('import-save').click()
    await page.getByTestId('job-version').filter({ hasText: 'v1' }).waitFor()
    const job = wb.store.jobs.list({}).find((j) => j.name === 'genre')!
    const spec = wb.store.jobs.get(job.id)!.spec as { tables: Array<{ source: string; target: string }> }
    expect(spec.tables[0]).toMatchObject({ source: 'Genre', target: 'genre' })
  })

  it('item 12: Chinese labels and dates; Terminate asks before stopping a run', async () => {
    const { page } = wb
    // A slow run (50 rows/s over Track) to terminate.
    const slow = wb.store.jobs.save({ version: 1, reader: { connection: myId }, writer: { connection: pgId, createTable: true }, tables: [{ source: 'Track', target: 'track_slow' }], setting: { speed: { channel: 1, record: 50 } } }, { name: `slow-${id}` })
    await pick(page, 'lang-switch', '中文')
    await page.getByTestId('nav-jobs').filter({ hasText: '同步任务' }).click()
    await page.getByTestId(`job-row-slow-${id}`).click()
    await page.getByTestId('wiz-step-2').click()
    await page.getByTestId('label-writeMode').filter({ hasText: '写入模式' }).waitFor()
    await page.getByTestId('label-preSql').filter({ hasText: '导入前执行的 SQL' }).waitFor()
    await page.getByTestId('job-run').click()
    await page.getByTestId('run-start').click()
    await page.waitForURL(/#\/runs\//)
    await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 60_000 })
    // Dates in the Chinese format (yyyy/m/d).
    expect(await page.getByTestId('run-started').textContent()).toMatch(/^\d{4}\/\d{1,2}\/\d{1,2}/)
    await page.getByTestId('run-cancel').click()
    await page.locator('.n-dialog').filter({ hasText: '终止此次运行' }).waitFor()
    await shot(page, 'trust-10-terminate-zh')
    await dialogButton('取消').click()
    await page.waitForTimeout(500)
    expect(await page.locator('[data-testid="run-state"]').getAttribute('data-state')).toBe('running')
    await page.getByTestId('run-cancel').click()
    await dialogButton('终止').click()
    await page.locator('[data-testid="run-state"][data-state="terminated"]').waitFor({ timeout: 30_000 })
    void slow
    await pick(page, 'lang-switch', 'English')
    expect(wb.pageErrors.filter((e) => !/HTTP 4\d\d/.test(e))).toEqual([])
  })
})
