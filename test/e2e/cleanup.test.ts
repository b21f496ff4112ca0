/**
 * End-to-end: the "Data clean-up" view in Chromium against `sluice serve` (in-process), MariaDB
 * (source) and PostgreSQL (target). Two saved jobs: one whose run was verified consistent, one
 * whose run was inconsistent and whose clean-up was refused. The view shows their states; a dry
 * run shows the rows and the SQL; a clean-up of the verified run deletes the day's source rows in
 * batches (history in the drawer); the inconsistent one is forced with a reason.
 */
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCleanup } from '../../main/cleanup/index.js'
import { startRun } from '../../main/engine/service.js'
import { dropMysqlDb, dropPgDb, freshMysqlDb, freshPgDb, MYSQL, PG, serversReady, uniq } from '../helpers/servers.js'
import { browserReady, ensureRendererBuilt, fill, openWorkbench, shot, type Workbench } from './setup.js'

const ready = browserReady() && (await serversReady('mysql', 'postgres'))

describe.skipIf(!ready)('Data clean-up view (Chromium, MariaDB, PostgreSQL)', () => {
  const id = uniq()
  const my = `sl_e2ec_${id}`
  const pgDb = `sl_e2ec_${id}`
  let wb: Workbench
  let conn: mysql.Connection
  const count = async (sql: string) => Number(((await conn.query(sql)) as [Array<{ n: number }>, unknown])[0][0]!.n)
  const myUrl = `mysql://${MYSQL.user}${MYSQL.password ? `:${MYSQL.password}` : ''}@${MYSQL.host}:${MYSQL.port}/${my}`
  const pgUrl = `postgres://${PG.user}${PG.password ? `:${PG.password}` : ''}@${PG.host}:${PG.port}/${pgDb}`
  const job = (table: string, postSql: string[] = []) => ({
    version: 1,
    reader: { connection: myUrl, where: "dt = '${yyyy-mm-dd}'" },
    writer: { connection: pgUrl, truncate: true },
    tables: [{ source: table, postSql }],
    verify: { algorithm: 'hashdiff' },
  })

  beforeAll(async () => {
    ensureRendererBuilt()
    await freshMysqlDb(my)
    await freshPgDb(pgDb)
    conn = await mysql.createConnection({ ...MYSQL, database: my })
    for (const t of ['good', 'bad']) {
      await conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, dt DATE NOT NULL, v VARCHAR(20))`)
      const rows = Array.from({ length: 600 }, (_, i) => [i + 1, i % 2 ? '2026-12-04' : '2026-12-03', `v${i}`])
      await conn.query(`INSERT INTO ${t} VALUES ?`, [rows])
    }
    wb = await openWorkbench()
    const store = wb.store
    for (const [name, doc] of [['good job', job('good')], ['bad job', job('bad', ['DELETE FROM "bad" WHERE "id" = 2'])]] as const) {
      const saved = store.jobs.save(doc, { name })
      const s = await startRun({ store, spec: doc, jobId: saved.id, bizdate: '20261204' }).done
      expect(s.state).toBe(name === 'good job' ? 'succeeded' : 'inconsistent')
    }
    // The bad job's clean-up was refused once (not verified, no force).
    await expect(runCleanup(store, { target: 'bad job' })).rejects.toThrow(/not verified consistent/)
  }, 240_000)

  afterAll(async () => {
    await wb?.close()
    await conn?.end()
    await dropMysqlDb(my).catch(() => undefined)
    await dropPgDb(pgDb).catch(() => undefined)
  })

  it('lists the jobs with their source data state', async () => {
    const { page, server } = wb
    await page.goto(server.url)
    await page.getByTestId('nav-cleanup').click()
    await page.getByTestId('cleanup-job-good job').waitFor()
    expect(await page.getByTestId('cleanup-state-good job').textContent()).toBe('not cleaned')
    expect(await page.getByTestId('cleanup-state-bad job').textContent()).toBe('refused')
    const rows = page.locator('[data-testid="cleanup-list"] tbody tr')
    expect(await rows.filter({ hasText: 'good job' }).textContent()).toMatch(/20261204.*consistent/)
    expect(await rows.filter({ hasText: 'bad job' }).textContent()).toMatch(/not verified/)
    await shot(page, 'cleanup-01-overview')
  })

  it('runs a dry run: rows and the exact SQL, nothing deleted', async () => {
    const { page } = wb
    await fill(page, 'cleanup-batch', '120')
    await page.getByTestId('cleanup-dry-good job').click()
    const result = page.getByTestId('cleanup-dry-result')
    await result.waitFor()
    expect(await page.getByTestId('cleanup-dry-rows-good').textContent()).toBe('300 rows to delete')
    const text = (await result.textContent()) ?? ''
    expect(text).toContain("SELECT `id` FROM `" + my + "`.`good` WHERE (dt = '2026-12-04') ORDER BY `id` LIMIT 120")
    expect(text).toContain("DELETE FROM `" + my + "`.`good` WHERE (dt = '2026-12-04') AND `id` IN (? × 120 keys)")
    await shot(page, 'cleanup-02-dry-run')
    await page.keyboard.press('Escape')
    await result.waitFor({ state: 'detached' })
    expect(await count('SELECT count(*) AS n FROM good')).toBe(600)
  })

  it('cleans up the verified run in batches and shows its history', async () => {
    const { page } = wb
    await page.getByTestId('cleanup-run-good job').click()
    await page.getByTestId('cleanup-state-good job').filter({ hasText: /^cleaned$/ }).waitFor({ timeout: 30_000 })
    expect(await count("SELECT count(*) AS n FROM good WHERE dt = '2026-12-04'")).toBe(0)
    expect(await count('SELECT count(*) AS n FROM good')).toBe(300)
    expect(await page.getByTestId('cleanup-rows-good job').textContent()).toBe('300')
    await page.getByTestId('cleanup-rows-good job').click()
    const batches = page.locator('[data-testid="cleanup-batches"] tbody tr')
    await batches.first().waitFor()
    expect(await batches.count()).toBe(3)
    await shot(page, 'cleanup-03-history')
    await page.keyboard.press('Escape')
  })

  it('forces the clean-up of the inconsistent run with a recorded reason', async () => {
    const { page } = wb
    await page.getByTestId('cleanup-run-bad job').click()
    await fill(page, 'cleanup-reason', 'target row 2 removed on purpose')
    await page.getByRole('button', { name: 'Force' }).click()
    await page.getByTestId('cleanup-state-bad job').filter({ hasText: /^cleaned$/ }).waitFor({ timeout: 30_000 })
    expect(await count('SELECT count(*) AS n FROM bad')).toBe(300)
    const latest = wb.store.cleanups.list({ limit: 1 })[0]!
    expect(latest).toMatchObject({ state: 'succeeded', forced: true, reason: 'target row 2 removed on purpose', rowsDeleted: 300 })
  })

  it('imports a table-mapping file in the Jobs view: bad lines with their numbers, then one job with a task per line', async () => {
    const { page, store } = wb
    store.connections.create({ name: `src-${id}`, config: { kind: 'mysql', host: MYSQL.host, port: MYSQL.port, user: MYSQL.user, password: MYSQL.password, database: my } })
    store.connections.create({ name: `dst-${id}`, config: { kind: 'postgres', host: PG.host, port: PG.port, user: PG.user, password: PG.password, database: pgDb } })
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId('job-import-mapping').click()
    await fill(page, 'mapping-name', 'from mapping')
    // Filterable selects: type the name, Enter takes the one option left (an earlier select's
    // closed menu stays in the DOM, so the options are not clicked by text).
    for (const [testid, name] of [['mapping-reader', `src-${id}`], ['mapping-writer', `dst-${id}`]] as const) {
      await page.getByTestId(testid).click()
      await page.keyboard.type(name)
      await page.locator('.n-base-select-option:visible', { hasText: name }).waitFor()
      await page.keyboard.press('Enter')
      await page.getByTestId(testid).filter({ hasText: name }).waitFor()
    }
    await fill(page, 'mapping-text', `${my}.good:dt='20261203',public.good_copy\n${my}.bad\n`)
    await page.getByTestId('mapping-import').click()
    await page.getByTestId('mapping-problems').filter({ hasText: 'line 2: expected 2 fields' }).waitFor()
    await fill(page, 'mapping-text', `${my}.good:dt='20261203',public.good_copy\n${my}.bad,public.bad_copy\n`)
    await page.getByTestId('mapping-import').click()
    await page.getByTestId('job-row-from mapping').waitFor()
    const saved = store.jobs.get('from mapping')!
    expect((saved.spec as { tables: unknown[] }).tables).toEqual([
      { source: { schema: my, table: 'good' }, target: 'good_copy', where: "dt = '20261203'" },
      { source: { schema: my, table: 'bad' }, target: 'bad_copy' },
    ])
    await shot(page, 'cleanup-04-mapping-imported')
    expect(wb.pageErrors).toEqual([])
  })
})
