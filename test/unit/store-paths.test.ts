import { mkdtempSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultDataDir, resolveDataDir, stateDbPath } from '../../main/store/paths.js'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sl-store-paths-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('data dir resolution', () => {
  it('follows Electron userData on Linux: XDG_CONFIG_HOME, else ~/.config', () => {
    expect(resolveDataDir({ platform: 'linux', env: {}, home: '/home/ann', create: false })).toBe('/home/ann/.config/Sluice')
    expect(resolveDataDir({ platform: 'linux', env: { XDG_CONFIG_HOME: '/xdg/cfg' }, home: '/home/ann', create: false })).toBe('/xdg/cfg/Sluice')
    expect(resolveDataDir({ platform: 'linux', env: { XDG_CONFIG_HOME: '' }, home: '/home/ann', create: false })).toBe('/home/ann/.config/Sluice')
    expect(defaultDataDir('freebsd', {}, '/usr/home/bo')).toBe('/usr/home/bo/.config/Sluice')
  })

  it('follows Electron userData on macOS (XDG ignored)', () => {
    expect(resolveDataDir({ platform: 'darwin', env: { XDG_CONFIG_HOME: '/x' }, home: '/Users/ann', create: false })).toBe('/Users/ann/Library/Application Support/Sluice')
  })

  it('follows Electron userData on Windows: %APPDATA%, else <home>\\AppData\\Roaming', () => {
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\Ann\\AppData\\Roaming' }, 'C:\\Users\\Ann')).toBe('C:\\Users\\Ann\\AppData\\Roaming\\Sluice')
    expect(defaultDataDir('win32', {}, 'C:\\Users\\Ann')).toBe('C:\\Users\\Ann\\AppData\\Roaming\\Sluice')
  })

  it('prefers --data-dir, then SLUICE_DATA_DIR, on every platform', () => {
    const env = { SLUICE_DATA_DIR: '/env/dir', XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\AppData' }
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(resolveDataDir({ dataDir: '/opt/explicit', platform, env, home: '/h', create: false })).toBe(path.resolve('/opt/explicit'))
      expect(resolveDataDir({ platform, env, home: '/h', create: false })).toBe(path.resolve('/env/dir'))
      expect(resolveDataDir({ platform, env: { ...env, SLUICE_DATA_DIR: '' }, home: '/h', create: false })).toBe(defaultDataDir(platform, env, '/h'))
    }
    expect(resolveDataDir({ dataDir: 'rel/dir', env: {}, create: false })).toBe(path.join(process.cwd(), 'rel/dir'))
  })

  it('creates the directory with mode 0700 and names the DB file', () => {
    const dir = resolveDataDir({ platform: 'linux', env: { XDG_CONFIG_HOME: path.join(tmp, 'cfg') }, home: tmp })
    expect(dir).toBe(path.join(tmp, 'cfg', 'Sluice'))
    const st = statSync(dir)
    expect(st.isDirectory()).toBe(true)
    if (process.platform !== 'win32') expect(st.mode & 0o777).toBe(0o700)
    expect(stateDbPath(dir)).toBe(path.join(tmp, 'cfg', 'Sluice', 'sluice.db'))
    // Idempotent on an existing dir.
    expect(resolveDataDir({ dataDir: dir })).toBe(dir)
  })
})
