/**
 * End-to-end, files: in Chromium against `sluice serve` (in-process), a Chinook table (SQLite demo)
 * is exported in the wizard to gzip CSV on an SFTP server (OpenSSH sshd on loopback; the
 * connection is created in the connection form), the
 * run page lists the part files and the manifest with rows, bytes and SHA-256, and "Clean up
 * files" deletes them from the server (state deleted). "Export for server": DataX has no SQLite
 * reader (the modal says so); SeaTunnel gets a Jdbc source and an SftpFile sink.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storeFor } from '../../main/connectors/stores/index.js'
import { fileServersReady, startSshd, type SshServer } from '../helpers/file-servers.js'
import { CHINOOK_SQLITE, uniq } from '../helpers/servers.js'
import { createSftpConnectionInUi } from './connection-ui.js'
import { browserReady, ensureRendererBuilt, fill, openWorkbench, pick, shot, type Workbench } from './setup.js'

const ready = browserReady() && fileServersReady('sshd')

describe.skipIf(!ready)('files e2e (Chromium, SFTP)', () => {
  const id = uniq()
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-e2e-files-'))
  const src = path.join(dir, 'chinook.sqlite')
  let sshd: SshServer
  let wb: Workbench

  beforeAll(async () => {
    ensureRendererBuilt()
    copyFileSync(CHINOOK_SQLITE, src)
    sshd = await startSshd()
    wb = await openWorkbench({ allowDirs: [dir] })
    wb.store.connections.create({ name: `chinook-${id}`, config: { kind: 'sqlite', path: src } })
  }, 240_000)

  afterAll(async () => {
    await wb?.close()
    await sshd?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('exports Genre to gzip CSV on SFTP in the wizard, lists the files on the run page and cleans them up', async () => {
    const { page, server } = wb
    await page.goto(server.url)
    // The SFTP connection is created in the connection form (key file picked, listing and host key
    // shown, the host key pinned when saved: test/e2e/connection-ui.ts).
    await createSftpConnectionInUi(page, `sftp-${id}`, sshd)
    expect(wb.store.connections.getByName(`sftp-${id}`)!.config.hostKey).toBe(sshd.hostKey)
    await page.getByTestId('nav-jobs').click()
    await page.getByTestId('job-new').click()
    await fill(page, 'job-name', `genre-to-sftp-${id}`)
    await pick(page, 'wiz-src-conn', `chinook-${id}`)
    await pick(page, 'wiz-src-tables', 'Genre', { multiple: true })
    await page.getByTestId('wiz-next').click()
    await pick(page, 'wiz-dst-conn', `sftp-${id}`)
    await page.getByTestId('file-options').waitFor()
    await page.getByTestId('file-compression-gzip').click()
    await fill(page, 'file-path', 'exports/${bizdate}')
    await fill(page, 'wiz-dst-file-0', 'genre')
    await fill(page, 'file-batch-rows', '10')
    await shot(page, 'files-01-wizard-target')
    await page.getByTestId('wiz-next').click()
    await page.getByTestId('mapping-grid').waitFor()
    await page.getByTestId('map-count').filter({ hasText: /^2 mapped/ }).waitFor({ timeout: 15_000 })
    await page.getByTestId('wiz-next').click()
    await fill(page, 'wiz-channel', '1')
    await page.getByTestId('wiz-next').click()
    await page.getByTestId('wiz-save').click()
    await page.getByTestId('job-version').filter({ hasText: 'v1' }).waitFor()
    const saved = wb.store.jobs.get(wb.store.jobs.list({})[0]!.id)!.spec as { writer: { file: Record<string, unknown> }; tables: Array<{ target: string }> }
    expect(saved.writer.file).toEqual({ compression: 'gzip', path: 'exports/${bizdate}', exportBatchRows: 10 })
    expect(saved.tables[0]!.target).toBe('genre')

    // Export for server: DataX has no SQLite reader (said so); SeaTunnel gets a Jdbc source and an SftpFile sink.
    await page.getByTestId('job-export').click()
    await page.getByTestId('export-warnings').filter({ hasText: 'DataX has no plugin for sqlite' }).waitFor()
    await pick(page, 'export-format', 'SeaTunnel (JSON)')
    const file = page.getByTestId('export-file').first()
    await file.waitFor()
    const doc = JSON.parse((await file.textContent()) ?? '') as { source: Array<Record<string, unknown>>; sink: Array<Record<string, unknown>> }
    expect(doc.source[0]).toMatchObject({ plugin_name: 'Jdbc', driver: 'org.sqlite.JDBC' })
    expect(doc.sink[0]).toMatchObject({ plugin_name: 'SftpFile', host: sshd.host, port: sshd.port, path: `${sshd.home}/exports/\${bizdate}`, file_format_type: 'csv' })
    await shot(page, 'files-01b-export')
    await page.keyboard.press('Escape')
    await page.getByTestId('export-modal').waitFor({ state: 'detached' })

    await page.getByTestId('job-run').click()
    // The Run dialog (data time, variables) comes first.
    await page.getByTestId('run-dialog').waitFor()
    await page.getByTestId('run-start').click()
    await page.waitForURL(/#\/runs\//)
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 90_000 })
    const card = page.getByTestId('run-files')
    await card.waitFor()
    await expect.poll(async () => (await card.textContent()) ?? '').toMatch(/Export files \(4\)/)
    const text = (await card.textContent()) ?? ''
    expect(text).toMatch(/genre-000-00001\.csv\.gz/)
    expect(text).toMatch(/genre-000-00003\.csv\.gz/)
    expect(text).toMatch(/genre\.manifest\.json/)
    await shot(page, 'files-02-run-files')
    const runId = wb.store.runs.list({})[0]!.id
    const tracked = wb.store.exportFiles.list(runId)
    expect(tracked.filter((f) => f.path.endsWith('.csv.gz')).map((f) => f.rows)).toEqual([10, 10, 5])
    const sftp = await storeFor(wb.store.connections.resolveConfig(`sftp-${id}`))
    try {
      expect(await sftp.stat(tracked[0]!.path)).not.toBeNull()
      await page.getByTestId('run-files-clean').click()
      await expect.poll(() => wb.store.exportFiles.list(runId).map((f) => f.state)).toEqual(['deleted', 'deleted', 'deleted', 'deleted'])
      await page.getByTestId(`file-state-${tracked[0]!.id}`).filter({ hasText: 'deleted' }).waitFor()
      await shot(page, 'files-03-cleaned')
      for (const f of tracked) expect(await sftp.stat(f.path)).toBeNull()
    } finally {
      await sftp.close()
    }
    expect(wb.pageErrors).toEqual([])
  })
})
