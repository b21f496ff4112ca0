/**
 * The desktop shell, kept thin: one window, the application menu, native notifications, the
 * OS-keychain secret box, and the API bound to IPC. Everything else lives in main/.
 *
 * IPC protocol (see main/api/README.md):
 * - ONE channel `sluice:call` (ipcMain.handle), args `(method, args)`. `method` must be one of
 *   `API_METHODS` and the sender frame must be our renderer (dev server origin, or the built
 *   `out/renderer/` files); otherwise the call is refused. The answer is the envelope
 *   `{ ok: true, result } | { ok: false, error: ApiErrorData }` (Electron only carries an error's
 *   message through `invoke`, so errors cross as data). Values cross by structured clone.
 * - Events: `webContents.send('sluice:event', ApiEvent)` to every window.
 *
 * Data dir: `--data-dir <dir>` / `--data-dir=<dir>`, else `$SLUICE_DATA_DIR`, else
 * `app.getPath('userData')` (which main/store/paths.ts mirrors for the CLI).
 */
import { app, BrowserWindow, ipcMain, Menu, Notification, safeStorage, screen, shell, type MenuItemConstructorOptions } from 'electron'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ApiEvent } from '../main/api/contract.js'
import { seedDemoWorkspace } from '../main/api/demo.js'
import { createHandlers, type Handlers } from '../main/api/handlers.js'
import { bindIpc, EVENT_CHANNEL } from '../main/api/ipc.js'
import { NodeSecretBox, openStore, type SecretBox, type Store } from '../main/store/index.js'
import { startSchedulerWorker, type SchedulerHost } from '../main/scheduler/host.js'

const here = path.dirname(fileURLToPath(import.meta.url)) // out/main after the build
/** The built renderer (electron-vite writes out/main, out/preload, out/renderer side by side). */
const RENDERER_DIR = path.join(here, '../renderer')
/** electron-vite sets this in `electron-vite dev` to the renderer dev server. */
const DEV_URL = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined
/** Settings key of the remembered window bounds. */
const WINDOW_KEY = 'window'

interface WindowState {
  x?: number
  y?: number
  width: number
  height: number
  maximized?: boolean
}

let store: Store | undefined
let api: Handlers | undefined
let mainWindow: BrowserWindow | undefined
/** The scheduler loop, in a worker thread while the app is open (main/scheduler/host.ts). */
let scheduler: SchedulerHost | undefined

/** `--data-dir <dir>` or `--data-dir=<dir>` from the command line, else `SLUICE_DATA_DIR`, else userData. */
function dataDirFromArgs(): string {
  const argv = process.argv
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--data-dir' && argv[i + 1]) return path.resolve(argv[i + 1]!)
    if (a.startsWith('--data-dir=')) return path.resolve(a.slice('--data-dir='.length))
  }
  if (process.env.SLUICE_DATA_DIR) return path.resolve(process.env.SLUICE_DATA_DIR)
  return app.getPath('userData')
}

/** The folder holding `demo/` (the repo's `resources/`, or the packaged app's extraResources). */
function resourcesDir(): string {
  return app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.resolve(here, '../../resources')
}

/**
 * Passwords are encrypted with the OS keychain through `safeStorage` (Keychain, DPAPI,
 * libsecret/kwallet). Without it (e.g. Linux with no keyring daemon), falls back to the Node box
 * (key file in the data dir, see main/store/secrets.ts) and says so. Electron 45 marks the
 * synchronous calls deprecated in favour of async ones; the store's SecretBox is synchronous.
 */
function secretBox(dataDir: string): SecretBox {
  if (safeStorage.isEncryptionAvailable()) {
    if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') {
      console.warn('sluice: no OS keyring found (safeStorage backend basic_text): passwords are encrypted with a fixed key; install a keyring (gnome-keyring, kwallet) for real protection')
    }
    return { encrypt: (s) => safeStorage.encryptString(s), decrypt: (b) => safeStorage.decryptString(b), scheme: 'electron-safeStorage' }
  }
  console.warn(`sluice: OS encryption (safeStorage) is not available; passwords are encrypted with the key file in ${dataDir} instead`)
  return new NodeSecretBox({ dataDir })
}

/** Is `url` our renderer (and not some page the window was navigated to)? */
function isTrustedUrl(url: string | undefined): boolean {
  if (!url) return false
  if (DEV_URL) return url.startsWith(new URL(DEV_URL).origin + '/')
  return url.startsWith(pathToFileURL(RENDERER_DIR).href + '/')
}

/** Send an event to every window; a run's end also raises a native notification. */
function emit(e: ApiEvent): void {
  for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e)
  if (e.type === 'run/state' && ['succeeded', 'failed', 'terminated', 'inconsistent'].includes(e.state) && Notification.isSupported()) {
    const name = store?.runs.get(e.runId)?.name ?? e.runId
    new Notification({ title: `Run ${e.state}: ${name}`, body: e.error ?? (e.state === 'succeeded' ? 'All tables were moved.' : 'Open the run to see what happened.') }).show()
  }
  if (e.type === 'alert' && Notification.isSupported()) new Notification({ title: e.title, body: e.body }).show()
}

function restoreBounds(): WindowState {
  const saved = store?.settings.get<WindowState>(WINDOW_KEY)
  const fallback: WindowState = { width: 1280, height: 820 }
  if (!saved || typeof saved.width !== 'number' || typeof saved.height !== 'number') return fallback
  // Only restore a position that is still on a connected display.
  if (saved.x !== undefined && saved.y !== undefined) {
    const visible = screen.getAllDisplays().some(({ workArea: a }) => saved.x! < a.x + a.width && saved.x! + saved.width > a.x && saved.y! < a.y + a.height && saved.y! + saved.height > a.y)
    if (!visible) return { width: saved.width, height: saved.height, ...(saved.maximized ? { maximized: true } : {}) }
  }
  return saved
}

function createWindow(): BrowserWindow {
  const bounds = restoreBounds()
  const win = new BrowserWindow({
    ...(bounds.x !== undefined && bounds.y !== undefined ? { x: bounds.x, y: bounds.y } : {}),
    width: bounds.width,
    height: bounds.height,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Sluice',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  })
  if (bounds.maximized) win.maximize()
  win.once('ready-to-show', () => win.show())
  win.on('close', () => {
    const b = win.getNormalBounds()
    try {
      store?.settings.set(WINDOW_KEY, { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() } satisfies WindowState)
    } catch (e) {
      console.warn(`sluice: could not remember the window bounds: ${(e as Error).message}`)
    }
  })
  // No new windows, no navigation away from the app; http(s) links open in the browser.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (e, url) => {
    if (!isTrustedUrl(url)) e.preventDefault()
  })
  if (DEV_URL) void win.loadURL(DEV_URL)
  else void win.loadFile(path.join(RENDERER_DIR, 'index.html'))
  return win
}

function buildMenu(): void {
  const isMac = process.platform === 'darwin'
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Open Data Folder', click: () => store && void shell.openPath(path.dirname(store.file)) },
        { label: 'Sluice on the Web', click: () => void shell.openExternal('https://sluice.dev') },
      ],
    },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

async function start(): Promise<void> {
  const dataDir = dataDirFromArgs()
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const box = secretBox(dataDir)
  store = openStore({ dataDir, secretBox: box })
  try {
    seedDemoWorkspace(store, dataDir, resourcesDir())
  } catch (e) {
    console.warn(`sluice: could not seed the demo workspace: ${(e as Error).message}`)
  }
  scheduler = startSchedulerWorker({ dataDir, secretBox: box, onEvent: emit, log: (line) => console.log(`sluice scheduler: ${line}`) })
  api = createHandlers({ store, dataDir, version: app.getVersion(), transport: 'ipc', emit, schedulerHolder: () => scheduler?.holder() })
  bindIpc(ipcMain, api.handlers, isTrustedUrl)
  buildMenu()
  mainWindow = createWindow()
}

if (!app.requestSingleInstanceLock()) {
  // Another Sluice owns this profile; it gets focused by its 'second-instance' handler.
  app.quit()
} else {
  app.on('second-instance', () => {
    if (!mainWindow || mainWindow.isDestroyed()) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })
  app.whenReady().then(start, (e: unknown) => {
    console.error('sluice: failed to start', e)
    app.exit(1)
  })
  app.on('activate', () => {
    if (store && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  // Terminate active runs (recorded as terminated) and close the store before leaving.
  let quitting = false
  app.on('before-quit', (e) => {
    if (quitting || !api) return
    e.preventDefault()
    quitting = true
    void Promise.resolve(scheduler?.stop())
      .then(() => api!.dispose())
      .catch((err: unknown) => console.error('sluice: shutdown', err))
      .finally(() => {
        store?.close()
        app.quit()
      })
  })
}
