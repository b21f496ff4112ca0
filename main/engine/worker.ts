/**
 * Worker-thread entry of a channel. It receives plain settings in `workerData`
 * ({@link WorkerInit}), opens its own source and target connectors, then executes the units the
 * main thread posts one at a time ({@link ToWorker}), reporting through {@link ChannelMessage}s.
 * `stop` aborts the unit in flight, closes the connections and ends with a `done` message.
 *
 * Loaded by pool.ts: from TypeScript sources through tsx (worker-boot.mjs), or as a built file.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openConnector } from '../connectors/index.js'
import type { ConnectionConfig, Connector } from '../connectors/types.js'
import { executeUnit, reviveBuffers, WriterCache, type ChannelMessage, type Unit } from './channel.js'
import { Throttle } from './throttle.js'

/** `workerData` of a channel worker. */
export interface WorkerInit {
  reader: ConnectionConfig
  writer: ConnectionConfig
  throttle: { records: number; bytes: number; buffer: SharedArrayBuffer }
}

/** Messages the main thread sends a channel worker. */
export type ToWorker = { type: 'unit'; unit: Unit } | { type: 'stop' }

async function main(): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('main/engine/worker.ts must run in a worker thread')
  const init = workerData as WorkerInit
  const post = (m: ChannelMessage) => port.postMessage(m)
  const stop = new AbortController()
  let reader: Connector | undefined
  let writer: Connector | undefined
  let closing: Promise<void> | undefined
  const writers = new WriterCache()
  const close = () =>
    (closing ??= (async () => {
      await writers.close()
      await Promise.allSettled([reader?.close(), writer?.close()])
      post({ type: 'done' })
      port.close()
    })())
  try {
    reader = await openConnector(init.reader)
    writer = await openConnector(init.writer)
  } catch (e) {
    post({ type: 'error', message: `channel worker: ${(e as Error).message}` })
    await close()
    return
  }
  const throttle = new Throttle(init.throttle.records, init.throttle.bytes, init.throttle.buffer)
  let busy: Promise<void> = Promise.resolve()
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      stop.abort(new Error('terminated'))
      void busy.then(close)
      return
    }
    if (m.type === 'unit') {
      const unit = reviveBuffers(m.unit)
      busy = busy.then(() => executeUnit(unit, { reader: reader!, writer: writer!, throttle, signal: stop.signal, post, writers }))
    }
  })
  post({ type: 'ready' })
}

void main()
