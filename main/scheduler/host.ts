/**
 * Runs the scheduler in a worker thread of the calling process (the Electron main process while
 * the app is open) and stops it on quit. Keep the app side thin: `startSchedulerWorker({ dataDir,
 * secretBox })`, then `await host.stop()` before closing the store.
 */
import { Worker } from 'node:worker_threads'
import type { EngineEvent } from '../engine/events.js'
import type { Store } from '../store/index.js'
import type { SecretBox } from '../store/secrets.js'
import type { Scheduler } from './core.js'
import { serveSecretBox } from './secret-bridge.js'
import type { FromSchedulerWorker, SchedulerWorkerData } from './worker.js'

/** The file the scheduler worker starts from: the TypeScript boot file from sources, else the bundle's `scheduler-worker.js`. */
export function schedulerWorkerEntry(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./worker-boot.mjs', import.meta.url) : new URL('./scheduler-worker.js', import.meta.url)
}

/** A running scheduler worker. */
export interface SchedulerHost {
  /** The lease holder id of its loop (once ready). */
  holder(): string | undefined
  /** Stop the loop (running instances are terminated, resumable by a rerun) and end the thread. */
  stop(): Promise<void>
}

/**
 * Start the scheduler worker.
 * @param opts.secretBox the app's secret box, served to the worker (Electron safeStorage);
 * @param opts.entry override of the worker file (a bundler's `?modulePath` import);
 * @param opts.log receives its log lines; `onEvent` the engine events of the runs it starts.
 */
export function startSchedulerWorker(opts: { dataDir: string; secretBox?: SecretBox; entry?: string | URL; log?: (line: string) => void; onEvent?: (e: EngineEvent) => void }): SchedulerHost {
  const bridge = opts.secretBox ? serveSecretBox(opts.secretBox) : undefined
  const data: SchedulerWorkerData = { dataDir: opts.dataDir, ...(bridge ? { secrets: bridge.end } : {}) }
  const worker = new Worker(opts.entry ?? schedulerWorkerEntry(), { workerData: data, transferList: bridge ? [bridge.end.port] : [] })
  let holder: string | undefined
  let exited = false
  const stopped = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), bridge?.close(), resolve())))
  worker.on('message', (m: FromSchedulerWorker) => {
    if (m.type === 'ready') holder = m.holder
    else if (m.type === 'log') opts.log?.(m.line)
    else if (m.type === 'engine') opts.onEvent?.(m.event)
    else if (m.type === 'error') opts.log?.(`scheduler worker failed: ${m.message}`)
    else if (m.type === 'stopped') void worker.terminate()
  })
  worker.on('error', (e) => opts.log?.(`scheduler worker crashed: ${e.message}`))
  return {
    holder: () => holder,
    async stop() {
      if (exited) return
      worker.postMessage({ type: 'stop', terminate: true })
      const timer = setTimeout(() => void worker.terminate(), 20_000)
      await stopped
      clearTimeout(timer)
    },
  }
}

/**
 * The scheduler loop in this thread (`sluice serve`): job runs it starts report their engine
 * events to `onEvent` (the screens' live progress). Stop it with `stop({ terminate: true })`.
 */
export async function startInProcessScheduler(store: Store, opts: { onEvent?: (e: EngineEvent) => void; log?: (line: string) => void; intervalMs?: number } = {}): Promise<Scheduler> {
  const [{ Scheduler }, { createExecutor }, { AlertSender }] = await Promise.all([import('./core.js'), import('./execute.js'), import('./alerts.js')])
  const sched = new Scheduler({
    store,
    executor: createExecutor(store, opts.onEvent ? { onEvent: opts.onEvent } : {}),
    alerter: new AlertSender(store),
    ...(opts.log ? { log: opts.log } : {}),
  })
  sched.start(opts.intervalMs ?? 1000)
  return sched
}
