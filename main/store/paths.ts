/**
 * Where Sluice keeps its state: the data dir, holding `sluice.db` (the state DB) and, for the Node
 * secret box, `master.key`.
 */
import { chmodSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The application name Electron derives `userData` from (package.json `productName`). */
export const APP_NAME = 'Sluice'

/** File name of the state DB inside the data dir. */
export const STATE_DB_FILE = 'sluice.db'

/** Inputs of {@link resolveDataDir}; all optional, defaults read the running machine. */
export interface DataDirOptions {
  /** The `--data-dir` option, when given. Relative paths resolve against the process cwd. */
  dataDir?: string
  /** Environment to read `SLUICE_DATA_DIR`, `XDG_CONFIG_HOME`, `APPDATA` from (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** Platform whose convention to follow (default `process.platform`). */
  platform?: NodeJS.Platform
  /** Home directory (default `os.homedir()`). */
  home?: string
  /** Create the directory (mode 0700) when missing; default true. */
  create?: boolean
}

/**
 * The per-user application data folder, exactly where Electron's `app.getPath('userData')` puts it
 * for an app named {@link APP_NAME} (Electron docs, `app.getPath`: `userData` is `appData` + the
 * app name; `appData` is):
 * - Linux and other Unixes: `$XDG_CONFIG_HOME` when set and non-empty, else `~/.config`
 *   (Chromium `base::nix::GetXDGDirectory`);
 * - macOS: `~/Library/Application Support`;
 * - Windows: `%APPDATA%`, else `<home>\AppData\Roaming` (the RoamingAppData known folder).
 *
 * Pure: reads only its arguments. Paths are joined with the target platform's separator.
 */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') {
    const appData = env.APPDATA ? env.APPDATA : path.win32.join(home, 'AppData', 'Roaming')
    return path.win32.join(appData, APP_NAME)
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', APP_NAME)
  const config = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : path.posix.join(home, '.config')
  return path.posix.join(config, APP_NAME)
}

/**
 * Resolve the data dir. Precedence: `opts.dataDir` (`--data-dir`), then the `SLUICE_DATA_DIR`
 * environment variable (ignored when empty), then {@link defaultDataDir}. `~` is not expanded (the
 * shell does that). Unless `create: false`, creates the directory and its missing parents; a
 * directory created here gets mode 0700 (owner only), an existing one keeps its mode.
 *
 * @returns the absolute path of the data dir (for the explicit/env cases, resolved against cwd).
 */
export function resolveDataDir(opts: DataDirOptions = {}): string {
  const env = opts.env ?? process.env
  const platform = opts.platform ?? process.platform
  let dir: string
  if (opts.dataDir) dir = path.resolve(opts.dataDir)
  else if (env.SLUICE_DATA_DIR) dir = path.resolve(env.SLUICE_DATA_DIR)
  else dir = defaultDataDir(platform, env, opts.home ?? os.homedir())
  if (opts.create !== false) {
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 })
    // mkdir's mode is filtered by the umask; set the leaf exactly when we made it.
    if (created !== undefined && process.platform !== 'win32') chmodSync(dir, 0o700)
  }
  return dir
}

/** Path of the state DB in a data dir: `<dataDir>/sluice.db`. */
export function stateDbPath(dataDir: string): string {
  return path.join(dataDir, STATE_DB_FILE)
}
