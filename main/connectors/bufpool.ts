/**
 * Batch buffers given back by the raw readers' consumers (`RawBatch.release`, main/connectors/raw.ts), shared by
 * every raw reader of this thread (MySQL's wire encoder, PostgreSQL's COPY TO reader). A
 * whole-database run reads hundreds of splits; a fresh `batchBytes` buffer per split (and one more
 * after its last batch) cost seconds of page faults and garbage collection on 300 tables (external
 * memory drives V8's full collections). At most {@link POOL_MAX} are kept, so idle memory stays
 * bounded (6 x ~4 MiB with the default batch size).
 */
const POOL: Buffer[] = []
/** Buffers kept at most. */
export const POOL_MAX = 6

/**
 * A buffer of at least `size` bytes: a pooled one of exactly that size when there is one, else a
 * pooled one up to twice that size, else a new one (uninitialised: the caller writes before it reads).
 */
export function takeBuffer(size: number): Buffer {
  for (let i = POOL.length - 1; i >= 0; i--) if (POOL[i]!.length === size) return POOL.splice(i, 1)[0]!
  for (let i = POOL.length - 1; i >= 0; i--) if (POOL[i]!.length >= size && POOL[i]!.length <= 2 * size) return POOL.splice(i, 1)[0]!
  return Buffer.allocUnsafeSlow(size)
}

/** Give a buffer nobody uses any more back to the pool (dropped when the pool is full). */
export function giveBuffer(b: Buffer): void {
  if (b.length && POOL.length < POOL_MAX && !POOL.includes(b)) POOL.push(b)
}
