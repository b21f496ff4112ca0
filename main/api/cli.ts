/**
 * `sluice serve`: the API over HTTP + WebSocket and the built screens, for a browser on this
 * machine. See ./http.ts for the protocol and its protections.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { CliError, storeFor } from '../cli/core.js'
import { resolveDataDir } from '../store/index.js'
import { seedDemoWorkspace } from './demo.js'
import { DEFAULT_STATIC_DIR, isLoopbackHost, startServer } from './http.js'

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repo's `resources/` folder (holds demo/Chinook_Sqlite.sqlite). */
const RESOURCES_DIR = path.resolve(here, '../../resources')

/** Register `sluice serve` on the program. */
export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the API and the screens on http://127.0.0.1 (token required); runs until Ctrl+C')
    .option('--port <port>', 'TCP port (default: any free port)', (v) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port: '${v}' is not a port number`)
      return n
    })
    .option('--host <host>', 'interface to bind (default 127.0.0.1; anything else exposes the API to the network)')
    .option('--token <token>', 'bearer token (default: 32 random bytes, base64url); also $SLUICE_TOKEN')
    .option('--open', 'open the URL in the default browser')
    .option('--no-demo', 'do not seed the demo workspace on first start')
    .option('--allow-dir <dir>', 'a folder SQLite connection files may be in (repeatable; default: the data dir and the current directory)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-scheduler', 'do not run the scheduler loop in this process (schedules then run only under `sluice scheduler` or the app)')
    .action(async (o: { port?: number; host?: string; token?: string; open?: boolean; demo: boolean; allowDir?: string[]; scheduler: boolean }, cmd: Command) => {
      const dataDir = resolveDataDir({ dataDir: cmd.optsWithGlobals().dataDir as string | undefined })
      const host = o.host ?? '127.0.0.1'
      if (!isLoopbackHost(host)) {
        process.stderr.write(
          `warning: --host ${host} exposes the Sluice API (saved connections, SQL on your databases) beyond this machine;\n` +
            `         anyone who reaches it with the token has full access, and the traffic is not encrypted (plain HTTP).\n`,
        )
      }
      // Listen for the stop signals first: a signal during start-up still closes cleanly.
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'))
        process.once('SIGTERM', () => resolve('SIGTERM'))
      })
      const store = storeFor(cmd)
      let server: Awaited<ReturnType<typeof startServer>> | undefined
      try {
        if (o.demo) seedDemoWorkspace(store, dataDir, RESOURCES_DIR)
        const token = o.token ?? (process.env.SLUICE_TOKEN || undefined)
        // The bundled demo source (resources/demo) is read by the seeded demo job: always allowed.
        const allowDirs = [...(o.allowDir?.map((d) => path.resolve(d)) ?? [dataDir, process.cwd()]), path.join(RESOURCES_DIR, 'demo')]
        server = await startServer({ store, dataDir, host, allowDirs, scheduler: o.scheduler, ...(o.port !== undefined ? { port: o.port } : {}), ...(token ? { token } : {}) })
        if (!existsSync(path.join(DEFAULT_STATIC_DIR, 'index.html'))) {
          process.stderr.write(`note: the screens are not built (${path.relative(process.cwd(), DEFAULT_STATIC_DIR) || DEFAULT_STATIC_DIR}/index.html missing); run \`npm run build:renderer\`. The API is served anyway.\n`)
        }
        process.stdout.write(`Sluice is serving on ${server.url}\n`)
        process.stderr.write(`data dir: ${dataDir}\nSQLite files allowed in: ${allowDirs.join(', ')}\nPress Ctrl+C to stop.\n`)
        if (o.open) openBrowser(server.url)
        const signal = await stopped
        process.stderr.write(`\n${signal}: stopping (active runs are terminated and recorded)...\n`)
      } finally {
        await server?.close()
        store.close()
      }
    })
}

/** Open a URL with the platform's opener; a failure is only reported. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]]
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', (e) => process.stderr.write(`--open: could not start ${cmd}: ${e.message}; open the URL yourself\n`))
    child.unref()
  } catch (e) {
    process.stderr.write(`--open: ${(e as Error).message}; open the URL yourself\n`)
  }
}
