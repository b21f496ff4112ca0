/**
 * End-to-end, connections of the file kinds and SSH tunnels, in Chromium against `sluice serve`:
 * an SFTP connection created in the form (key file picked, the root listing and the host key shown,
 * the key pinned when saved), reopened (no secret shown, the saved key used), refused once its pinned
 * host key no longer matches; a MariaDB connection through an SSH tunnel created in the form. The
 * state DB never holds a key or passphrase in clear.
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openConnector } from '../../main/connectors/index.js'
import { fileServersReady, startSshd, type SshServer } from '../helpers/file-servers.js'
import { MYSQL, serversReady, uniq } from '../helpers/servers.js'
import { createSftpConnectionInUi } from './connection-ui.js'
import { browserReady, ensureRendererBuilt, fill, openWorkbench, shot, type Workbench } from './setup.js'

const ready = browserReady() && fileServersReady('sshd') && (await serversReady('mysql'))

describe.skipIf(!ready)('file connections and SSH tunnels e2e (Chromium)', () => {
  const id = uniq()
  let sshd: SshServer
  let wb: Workbench

  beforeAll(async () => {
    ensureRendererBuilt()
    sshd = await startSshd()
    wb = await openWorkbench()
  }, 240_000)

  afterAll(async () => {
    await wb?.close()
    await sshd?.stop()
  })

  it('creates an SFTP connection in the form, pins its host key, keeps the key secret and refuses a changed host key', { timeout: 120_000 }, async () => {
    const { page, server, store } = wb
    await page.goto(server.url)
    const name = `sftp-${id}`
    expect(await createSftpConnectionInUi(page, name, sshd)).toBe(sshd.hostKey)
    await page.locator('tr', { has: page.getByTestId(`conn-row-${name}`) }).filter({ hasText: `sftp://${sshd.user}@${sshd.host}:${sshd.port}${sshd.home}` }).waitFor()
    const saved = store.connections.getByName(name)!
    expect(saved.config).toMatchObject({ kind: 'sftp', host: sshd.host, port: sshd.port, user: sshd.user, path: sshd.home, hostKey: sshd.hostKey })
    expect(saved.secrets).toEqual(['privateKey'])
    expect(store.connections.resolveConfig(name).privateKey?.trim()).toBe(sshd.keys.ed25519.trim())

    // Reopened: the key is not shown, the saved one is used by the test.
    await page.getByTestId(`conn-edit-${name}`).click()
    const keyBox = page.locator('[data-testid="conn-private-key"] textarea, textarea[data-testid="conn-private-key"]').first()
    expect(await keyBox.inputValue()).toBe('')
    expect(await keyBox.getAttribute('placeholder')).toMatch(/saved/)
    await page.getByTestId('conn-host-key').filter({ hasText: sshd.hostKey }).waitFor()
    await page.getByTestId('conn-test').click()
    await page.getByTestId('conn-test-result').filter({ hasText: 'OK in' }).waitFor({ timeout: 30_000 })
    await shot(page, 'conn-01-sftp-edit')
    await page.getByTestId('conn-save').click()
    await page.getByTestId('conn-form').waitFor({ state: 'detached' })

    // A server presenting another key than the pinned one is refused, both fingerprints named.
    const wrong = 'SHA256:' + Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '')
    const cfg = store.connections.get(saved.id)!.config
    store.connections.update(saved.id, { config: { ...cfg, hostKey: wrong } as never })
    await page.reload()
    await page.getByTestId(`conn-edit-${name}`).click()
    await page.getByTestId('conn-test').click()
    const bad = page.getByTestId('conn-test-result').filter({ hasText: 'host key mismatch' })
    await bad.waitFor({ timeout: 30_000 })
    expect(await bad.textContent()).toContain(wrong)
    expect(await bad.textContent()).toContain(sshd.hostKey)
    expect(await bad.textContent()).toContain('HOST_KEY_MISMATCH')
    await shot(page, 'conn-02-sftp-mismatch')
    await page.keyboard.press('Escape')
    expect(wb.pageErrors).toEqual([])
  })

  it('creates a MariaDB connection through an SSH tunnel in the form', { timeout: 120_000 }, async () => {
    const { page, server, store } = wb
    await page.goto(server.url)
    const name = `maria-ssh-${id}`
    await page.getByTestId('nav-connections').click()
    await page.getByTestId('conn-new').click()
    await fill(page, 'conn-name', name)
    await page.getByTestId('conn-kind-mysql').click()
    await fill(page, 'conn-host', MYSQL.host)
    await fill(page, 'conn-port', String(MYSQL.port))
    await fill(page, 'conn-user', MYSQL.user)
    if (MYSQL.password) await fill(page, 'conn-password', MYSQL.password)
    await page.getByTestId('conn-ssh').click()
    await fill(page, 'conn-ssh-host', sshd.host)
    await fill(page, 'conn-ssh-port', String(sshd.port))
    await fill(page, 'conn-ssh-user', sshd.user)
    await page.getByTestId('conn-ssh-key-file').setInputFiles(sshd.keyFiles.rsaPem)
    await fill(page, 'conn-ssh-passphrase', sshd.keys.passphrase)
    await page.getByTestId('conn-test').click()
    await page.getByTestId('conn-test-result').filter({ hasText: 'OK in' }).waitFor({ timeout: 30_000 })
    await page.getByTestId('conn-ssh-host-key').filter({ hasText: sshd.hostKey }).waitFor()
    await shot(page, 'conn-03-mysql-ssh')
    await page.getByTestId('conn-save').click()
    await page.locator('tr', { has: page.getByTestId(`conn-row-${name}`) }).filter({ hasText: `via ssh ${sshd.user}@${sshd.host}` }).waitFor()
    const saved = store.connections.getByName(name)!
    expect(saved.config.ssh).toMatchObject({ host: sshd.host, port: sshd.port, user: sshd.user, hostKey: sshd.hostKey })
    expect(saved.secrets.sort()).toEqual(['ssh.passphrase', 'ssh.privateKey'])
    // The saved connection (secrets decrypted, host key pinned) connects through the tunnel.
    const c = await openConnector(store.connections.resolveConfig(name))
    try {
      expect(String((await c.query('SELECT 1 AS one')).rows[0]![0])).toBe('1')
    } finally {
      await c.close()
    }

    // No key, passphrase or key line in clear in the state DB (DB file and WAL).
    const files = readdirSync(wb.dataDir).filter((f) => f.startsWith('sluice.db'))
    const raw = Buffer.concat(files.map((f) => readFileSync(path.join(wb.dataDir, f))))
    for (const s of [sshd.keys.passphrase, ...[sshd.keys.rsaPem, sshd.keys.ed25519].map((k) => k.split('\n').filter((l) => l.length >= 60)[1]!), 'PRIVATE KEY']) {
      const at = raw.indexOf(Buffer.from(s))
      expect(at, `${s} in the state DB: ${raw.subarray(Math.max(0, at - 200), at + 100).toString('latin1')}`).toBe(-1)
    }
    expect(wb.pageErrors).toEqual([])
  })
})
