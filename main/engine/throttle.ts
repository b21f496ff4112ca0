/**
 * Job-wide speed limits (`setting.speed.record` rows/s and `setting.speed.byte` bytes/s, DataX's
 * `speed.record` / `speed.byte`), shared fairly by every channel of a run, in this thread or in
 * worker threads.
 *
 * Algorithm: GCRA ("virtual scheduling", ITU-T I.371): one shared timeline, the theoretical
 * arrival time `tat` in microseconds since the Unix epoch, lives in a SharedArrayBuffer and is
 * advanced with `Atomics.compareExchange`. A request for `rows` rows and `bytes` bytes costs
 * `max(rows / record, bytes / byte)` seconds; it reserves the interval `[max(tat, now), +cost)`
 * and waits until the end of it before passing ("pay first"). Requests are served in the order
 * they reserve (fair across channels); idle time is credited up to {@link BURST_S}, so the rows
 * passed in any window of `W` seconds never exceed `limit × (W + BURST_S)` plus one request.
 * Channels cut their batches into chunks of at most a tenth of a second's allowance
 * ({@link Throttle.chunkRows}), so over a 5 s window the rate stays within 4 % of the limit.
 */

/**
 * Credit for idle time, in seconds of allowance: over any window of W seconds at most
 * `(W + BURST_S) × limit` plus one chunk passes, i.e. within 4 % over 5 s with 0.1 s chunks.
 */
export const BURST_S = 0.1

/** Microseconds since the Unix epoch with sub-millisecond resolution, comparable across threads. */
function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000))
}

export class Throttle {
  /** The shared timeline (one BigInt64 slot). Hand it to worker threads with the limits. */
  readonly buffer: SharedArrayBuffer
  private readonly tat: BigInt64Array

  /**
   * @param records rows per second for the whole job, 0 = unlimited
   * @param bytes bytes per second (approximate value bytes, see `approxValueBytes`), 0 = unlimited
   * @param buffer the shared timeline created by the run's first Throttle; omitted: a new one
   */
  constructor(
    readonly records: number,
    readonly bytes: number,
    buffer?: SharedArrayBuffer,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(8)
    this.tat = new BigInt64Array(this.buffer)
  }

  private get burstUs(): bigint {
    return BigInt(Math.round(BURST_S * 1e6))
  }

  /** True when a limit is set. */
  get limited(): boolean {
    return this.records > 0 || this.bytes > 0
  }

  /**
   * Most rows a channel should pass in one `take`, given the batch's average row size: a tenth
   * of a second's allowance (at least one row). Infinity when unlimited.
   */
  chunkRows(avgRowBytes: number): number {
    let n = Infinity
    if (this.records > 0) n = Math.min(n, this.records / 10)
    if (this.bytes > 0) n = Math.min(n, this.bytes / 10 / Math.max(1, avgRowBytes))
    return n === Infinity ? n : Math.max(1, Math.floor(n))
  }

  /** Wait until `rows` rows and `bytes` bytes may pass. Rejects with the signal's reason on abort. */
  take(rows: number, bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.limited) return Promise.resolve()
    const cost = Math.max(this.records > 0 ? rows / this.records : 0, this.bytes > 0 ? bytes / this.bytes : 0)
    const costUs = BigInt(Math.round(cost * 1e6))
    let now: bigint
    let end: bigint
    for (;;) {
      const old = Atomics.load(this.tat, 0)
      now = nowUs()
      // Idle time is credited up to BURST_S: channels pause between chunks (writing), and a
      // strictly empty bucket would lose those gaps.
      const floor = now - this.burstUs
      const start = old > floor ? old : floor
      end = start + costUs
      if (Atomics.compareExchange(this.tat, 0, old, end) === old) break
    }
    const waitMs = Number(end - now) / 1000
    return waitMs > 0 ? sleep(waitMs, signal) : Promise.resolve()
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
