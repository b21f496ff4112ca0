/**
 * The scheduler in a worker thread (the desktop app): opens its own store on the data dir, with
 * the app's secret box through the bridge (./secret-bridge.ts), and runs the loop until told to
 * stop. It reports its log lines, its lease holder id and the engine events of the runs it
 * starts (live progress); instances and alerts reach the screens through the state DB's change
 * feed (./api.ts), like those of a headless `sluice scheduler`.
 *
 * Messages in: `{ type: 'stop', terminate?: boolean }`. Out: `{ type: 'ready', holder }`,
 * `{ type: 'log', line }`, `{ type: 'engine', event }`, `{ type: 'stopped' }`, `{ type: 'error', message }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { EngineEvent } from '../engine/events.js'
import { openStore } from '../store/index.js'
import { AlertSender } from './alerts.js'
import { Scheduler } from './core.js'
import { createExecutor } from './execute.js'
import { bridgedSecretBox, type SecretBridgeEnd } from './secret-bridge.js'

/** What the host passes as `workerData`. */
export interface SchedulerWorkerData {
  dataDir: string
  /** The app's secret box, served by the main thread; without it the Node box (key file) is used. */
  secrets?: SecretBridgeEnd
  intervalMs?: number
}

export type FromSchedulerWorker =
  | { type: 'ready'; holder: string }
  | { type: 'log'; line: string }
  | { type: 'stopped' }
  | { type: 'error'; message: string }
  /** An engine event of a run it started (progress, task state, ...), for the screens. */
  | { type: 'engine'; event: EngineEvent }

const port = parentPort
if (port) {
  const data = workerData as SchedulerWorkerData
  try {
    const store = openStore({ dataDir: data.dataDir, ...(data.secrets ? { secretBox: bridgedSecretBox(data.secrets) } : {}) })
    const sched = new Scheduler({
      store,
      executor: createExecutor(store, { onEvent: (event) => port.postMessage({ type: 'engine', event } satisfies FromSchedulerWorker) }),
      alerter: new AlertSender(store),
      log: (line) => port.postMessage({ type: 'log', line } satisfies FromSchedulerWorker),
    })
    sched.start(data.intervalMs ?? 1000)
    port.postMessage({ type: 'ready', holder: sched.holder } satisfies FromSchedulerWorker)
    port.on('message', (m: { type: 'stop'; terminate?: boolean }) => {
      if (m?.type !== 'stop') return
      void sched
        .stop({ terminate: m.terminate ?? true })
        .catch(() => {})
        .finally(() => {
          store.close()
          port.postMessage({ type: 'stopped' } satisfies FromSchedulerWorker)
          port.close()
        })
    })
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies FromSchedulerWorker)
  }
}
