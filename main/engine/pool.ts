/**
 * Channel hosts: where a channel runs. The runner (run.ts) keeps N hosts and hands each one unit
 * at a time; a host reports the unit's messages through `onMessage` and resolves `run` once the
 * unit's last message (`splitDone` or `error`) has been delivered.
 *
 * - {@link WorkerHost}: a `node:worker_threads` Worker with its own connections (the default for
 *   big tables: parsing and encoding of each channel get their own thread and heap);
 * - {@link InProcessHost}: an async loop on the main thread sharing the run's connectors (small
 *   jobs and tests: no thread start-up cost).
 *
 * Worker entry: from TypeScript sources (this file loaded as `.ts`, CLI through tsx, vitest) the
 * entry is `worker-boot.mjs`, which registers tsx's loader in the thread then imports
 * `worker.ts`; from a build it is `worker.js` beside the bundle. An app whose bundler puts the
 * worker elsewhere (electron-vite: `import workerPath from '../main/engine/worker.ts?modulePath'`)
 * calls {@link setWorkerEntry} with that path at start-up.
 */
import { Worker } from 'node:worker_threads'
import type { Connector } from '../connectors/types.js'
import { executeUnit, reviveBuffers, WriterCache, type ChannelMessage, type Unit } from './channel.js'
import type { Throttle } from './throttle.js'
import type { ToWorker, WorkerInit } from './worker.js'

let entryOverride: string | URL | undefined

/** Use `entry` (a file path or URL of the built worker) for channel workers. */
export function setWorkerEntry(entry: string | URL): void {
  entryOverride = entry
}

/** The file a channel worker starts from (see the file comment). */
export function workerEntry(): string | URL {
  if (entryOverride) return entryOverride
  return import.meta.url.endsWith('.ts') ? new URL('./worker-boot.mjs', import.meta.url) : new URL('./worker.js', import.meta.url)
}

/** A place where a channel runs units. */
export interface ChannelHost {
  /** Resolves when the channel can take units; rejects when it could not start (e.g. cannot connect). */
  readonly ready: Promise<void>
  /** Execute one unit; resolves after its terminal message was delivered (never rejects for a unit failure). */
  run(unit: Unit): Promise<void>
  /** Stop: abort the unit in flight and release connections; force after `graceMs`. */
  stop(graceMs: number): Promise<void>
  /** The channel has no more units: release what it keeps between units (its open writer). */
  finish(): Promise<void>
}

/** A channel as an async loop on this thread, using the run's own connectors. */
export class InProcessHost implements ChannelHost {
  readonly ready = Promise.resolve()
  private readonly ac = new AbortController()
  private current: Promise<void> = Promise.resolve()

  constructor(
    private readonly reader: Connector,
    private readonly writer: Connector,
    private readonly throttle: Throttle,
    signal: AbortSignal,
    private readonly onMessage: (m: ChannelMessage) => void,
  ) {
    if (signal.aborted) this.ac.abort(signal.reason)
    else signal.addEventListener('abort', () => this.ac.abort(signal.reason), { once: true })
  }

  private readonly writers = new WriterCache()

  run(unit: Unit): Promise<void> {
    this.current = executeUnit(unit, { reader: this.reader, writer: this.writer, throttle: this.throttle, signal: this.ac.signal, post: this.onMessage, writers: this.writers })
    return this.current
  }

  finish(): Promise<void> {
    return this.writers.close()
  }

  async stop(graceMs: number): Promise<void> {
    this.ac.abort(new Error('terminated'))
    await Promise.race([this.current, new Promise((r) => setTimeout(r, graceMs).unref?.())])
    await this.writers.close()
  }
}

/**
 * Per-worker V8 heap limits for a batch size: a bounded old generation makes each channel collect
 * before its heap grows (peak RSS stays flat whatever the table size), sized 32× the batch (a
 * batch of rows as JS values weighs several times its approximate bytes, and a channel holds the
 * batch being written, the one read ahead and the encoded copy), at least 128 MB.
 */
export function workerResourceLimits(batchBytes: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: Math.max(128, Math.ceil(batchBytes / 2 ** 20) * 32), maxYoungGenerationSizeMb: 32 }
}

/** A channel in its own worker thread with its own connections. */
export class WorkerHost implements ChannelHost {
  readonly ready: Promise<void>
  private readonly worker: Worker
  private pending?: { unitId: number; resolve: () => void }
  private exited = false
  private readonly exitP: Promise<void>

  /** @param batchBytes `setting.batchBytes`, to size the worker's heap ({@link workerResourceLimits}). */
  constructor(
    init: WorkerInit,
    private readonly onMessage: (m: ChannelMessage) => void,
    batchBytes = 4 << 20,
  ) {
    this.worker = new Worker(workerEntry(), { workerData: init, resourceLimits: workerResourceLimits(batchBytes), stdout: false, stderr: false })
    let readyRes!: () => void
    let readyRej!: (e: Error) => void
    this.ready = new Promise<void>((res, rej) => {
      readyRes = res
      readyRej = rej
    })
    this.ready.catch(() => undefined)
    this.worker.on('message', (m: ChannelMessage) => {
      if (m.type === 'ready') return readyRes()
      if (m.type === 'error' && m.unitId === undefined) {
        readyRej(new Error(m.message))
        return this.failPending(m.message)
      }
      if (m.type === 'dirty') reviveBuffers(m.records)
      this.onMessage(m)
      if ((m.type === 'splitDone' || m.type === 'error') && this.pending && m.unitId === this.pending.unitId) {
        const p = this.pending
        this.pending = undefined
        p.resolve()
      }
    })
    this.worker.on('error', (e) => {
      readyRej(e)
      this.failPending(`channel worker crashed: ${e.message}`)
    })
    this.exitP = new Promise<void>((res) =>
      this.worker.once('exit', (code) => {
        this.exited = true
        readyRej(new Error(`channel worker exited with code ${code} before it was ready`))
        this.failPending(`channel worker exited (code ${code})`)
        res()
      }),
    )
  }

  private failPending(message: string): void {
    const p = this.pending
    if (!p) return
    this.pending = undefined
    const u = this.unit
    this.onMessage({ type: 'error', unitId: p.unitId, ...(u ? { taskId: u.taskId } : {}), message })
    p.resolve()
  }

  private unit?: Unit

  run(unit: Unit): Promise<void> {
    if (this.exited) {
      this.onMessage({ type: 'error', unitId: unit.unitId, taskId: unit.taskId, message: 'channel worker is not running' })
      return Promise.resolve()
    }
    this.unit = unit
    return new Promise<void>((resolve) => {
      this.pending = { unitId: unit.unitId, resolve }
      this.worker.postMessage({ type: 'unit', unit } satisfies ToWorker)
    })
  }

  /** The worker closes its kept writer when it stops. */
  async finish(): Promise<void> {}

  async stop(graceMs: number): Promise<void> {
    if (this.exited) return
    try {
      this.worker.postMessage({ type: 'stop' } satisfies ToWorker)
    } catch {
      /* already gone */
    }
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref?.())
    if ((await Promise.race([this.exitP.then(() => 'exit' as const), timer])) === 'timeout') await this.worker.terminate()
    await this.exitP
  }
}
