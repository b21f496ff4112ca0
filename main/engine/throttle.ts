/**
 * Job-wide speed limits (`setting.speed.record` rows/s and `setting.speed.byte` bytes/s), shared
 * by all channels of a run. A token bucket per limit with a burst of one second's allowance:
 * channels ask before each batch and wait until the bucket has refilled enough, so no 5-second
 * window runs over the limit by more than one batch.
 */
export class Throttle {
  private rowTokens: number
  private byteTokens: number
  private last = performance.now()
  private queue: Promise<void> = Promise.resolve()

  /** @param records rows per second, 0 = unlimited; @param bytes bytes per second, 0 = unlimited. */
  constructor(
    private readonly records: number,
    private readonly bytes: number,
  ) {
    this.rowTokens = records
    this.byteTokens = bytes
  }

  get limited(): boolean {
    return this.records > 0 || this.bytes > 0
  }

  /** Wait until `rows` rows and `bytes` bytes may pass. Callers are served in order (fair). */
  take(rows: number, bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.limited) return Promise.resolve()
    const next = this.queue.then(() => this.wait(rows, bytes, signal))
    this.queue = next.catch(() => undefined)
    return next
  }

  private refill(): void {
    const now = performance.now()
    const dt = (now - this.last) / 1000
    this.last = now
    if (this.records) this.rowTokens = Math.min(this.records, this.rowTokens + dt * this.records)
    if (this.bytes) this.byteTokens = Math.min(this.bytes, this.byteTokens + dt * this.bytes)
  }

  private async wait(rows: number, bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill()
    // A batch larger than one second's allowance drives the bucket negative: the debt is paid by waiting.
    if (this.records) this.rowTokens -= rows
    if (this.bytes) this.byteTokens -= bytes
    const waitS = Math.max(this.records ? -this.rowTokens / this.records : 0, this.bytes ? -this.byteTokens / this.bytes : 0)
    if (waitS > 0) await sleep(waitS * 1000, signal)
  }
}

/** Sleep `ms`, rejecting early with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
