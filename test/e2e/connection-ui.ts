/**
 * E2E steps for file connections through the connection form (shared by the e2e suites): create an
 * SFTP connection the way a user does (kind SFTP, host, port, user, the private key read from a
 * file, the remote folder), test it (the root listing and the server's host key are shown) and
 * save it (the host key seen is pinned on the saved connection).
 */
import type { Page } from 'playwright-core'
import type { SshServer } from '../helpers/file-servers.js'
import { fill } from './setup.js'

/**
 * Create and save an SFTP connection named `name` for `sshd` in the connection form, starting
 * from any page of the workbench. Resolves once the connection's row is listed.
 * @returns the host key fingerprint the form showed after the test.
 */
export async function createSftpConnectionInUi(page: Page, name: string, sshd: SshServer, folder = sshd.home): Promise<string> {
  await page.getByTestId('nav-connections').click()
  await page.getByTestId('conn-new').click()
  await fill(page, 'conn-name', name)
  await page.getByTestId('conn-kind-sftp').click()
  await fill(page, 'conn-host', sshd.host)
  await fill(page, 'conn-port', String(sshd.port))
  await fill(page, 'conn-user', sshd.user)
  // The key file chosen in the file picker (read in the browser, sent only to the API).
  await page.getByTestId('conn-private-key-file').setInputFiles(sshd.keyFiles.ed25519)
  await page.locator('textarea[data-testid="conn-private-key"], [data-testid="conn-private-key"] textarea').first().waitFor()
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document
    const el = doc.querySelector('textarea[data-testid="conn-private-key"]') ?? doc.querySelector('[data-testid="conn-private-key"] textarea')
    return !!el && el.value.includes('PRIVATE KEY')
  })
  await fill(page, 'conn-path', folder)
  await page.getByTestId('conn-test').click()
  const result = page.getByTestId('conn-test-result')
  await result.filter({ hasText: 'OK in' }).waitFor({ timeout: 30_000 })
  // Trust on first use: the key the server presented is shown, and pinned when saved.
  await page.getByTestId('conn-host-key').filter({ hasText: sshd.hostKey }).waitFor()
  await page.getByTestId('conn-save').click()
  await page.getByTestId(`conn-row-${name}`).waitFor()
  return sshd.hostKey
}
