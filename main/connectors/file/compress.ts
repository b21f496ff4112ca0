/**
 * Whole-file compression of text files: gzip (node:zlib) and zstd (@bokuweb/zstd-wasm, a
 * WebAssembly build shipped inside the package: nothing is downloaded at install, and Node 20's
 * zlib has no zstd).
 *
 * zstd-wasm only has one-shot calls, so:
 * - writing emits one zstd frame per ~4 MiB of input (a file of concatenated frames is a valid
 *   zstd file; `zstd -d` and every library read it);
 * - reading walks the frame format (RFC 8878 §3.1: frame header, then 3-byte block headers) to
 *   cut the input into whole frames and decompresses each one with an exact upper bound of its
 *   size (128 KiB per block). A file written by another tool as one big frame is decompressed in
 *   one piece, so it is held in memory whole.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { createGunzip, createGzip, constants as zc } from 'node:zlib'

/** Compression of a text file. */
export type Compression = 'none' | 'gzip' | 'zstd'

let zstdReady: Promise<typeof import('@bokuweb/zstd-wasm')> | undefined
/** Load and initialise the zstd WebAssembly module once. */
export function loadZstd(): Promise<typeof import('@bokuweb/zstd-wasm')> {
  zstdReady ??= import('@bokuweb/zstd-wasm').then(async (m) => {
    const mod = ((m as unknown as { default?: typeof m }).default ?? m) as typeof m
    await mod.init()
    return mod
  })
  return zstdReady
}

/** Raw (block format) Snappy, as Parquet pages use it: `compress(bytes)`, `uncompress(bytes)`. */
export interface SnappyCodec {
  compress(input: Uint8Array): Uint8Array
  uncompress(input: Uint8Array): Uint8Array
}

let snappyReady: Promise<SnappyCodec | undefined> | undefined
/**
 * The native Snappy of the `snappy` package (napi-rs bindings of the Rust `snap` crate; N-API,
 * so one binary serves Node and Electron), or undefined where its platform binary is missing:
 * then hyparquet's own JavaScript Snappy is used. Both write and read the block format of the
 * Snappy spec (format_description.txt), so the files are the same to every reader; the native
 * one measured about 20x faster on Parquet pages. `SLUICE_NATIVE_SNAPPY=0` turns it off.
 */
export function loadSnappy(): Promise<SnappyCodec | undefined> {
  snappyReady ??= (async () => {
    if (process.env.SLUICE_NATIVE_SNAPPY === '0') return undefined
    try {
      const m = (await import('snappy')) as Partial<typeof import('snappy')> & { default?: typeof import('snappy') }
      const s = (typeof m.compressSync === 'function' ? m : m.default!) as typeof import('snappy')
      const codec: SnappyCodec = {
        // copyOutputData: the result is memory V8 owns. Electron's V8 memory cage forbids the
        // external buffers the package makes otherwise (its EncOptions / DecOptions docs), and
        // V8 then counts the pages in its heap, so they are collected as promptly as any Buffer.
        compress: (b) => s.compressSync(b, { copyOutputData: true }),
        uncompress: (b) => s.uncompressSync(b, { asBuffer: true, copyOutputData: true }) as Buffer,
      }
      // A binary that loads but misbehaves is not used.
      const probe = Buffer.from('sluice snappy probe sluice snappy probe')
      if (!Buffer.from(codec.uncompress(codec.compress(probe))).equals(probe)) return undefined
      return codec
    } catch {
      return undefined
    }
  })()
  return snappyReady
}

/** The compression named by a file name's extension (`.gz`, `.zst`), else none. */
export function compressionOfName(name: string): Compression {
  if (/\.gz$/i.test(name) || /\.gzip$/i.test(name)) return 'gzip'
  if (/\.zst$/i.test(name) || /\.zstd$/i.test(name)) return 'zstd'
  return 'none'
}

/** The compression the first bytes of a file show (gzip 1f 8b, zstd 28 b5 2f fd), else none. */
export function compressionOfBytes(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  return 'none'
}

/** File name extension for a compression (`.gz`, `.zst`, ''). */
export function compressionExt(c: Compression): string {
  return c === 'gzip' ? '.gz' : c === 'zstd' ? '.zst' : ''
}

/** A compressing transform (gzip level 1 by default: export speed first, like `gzip -1`). */
export async function compressor(c: Exclude<Compression, 'none'>, level?: number): Promise<Transform> {
  if (c === 'gzip') return createGzip({ level: level ?? 1, chunkSize: 1 << 16 })
  const z = await loadZstd()
  return new ZstdCompress(z, level ?? 3)
}

/** A decompressing transform; gzip emits chunks of up to `chunkSize` bytes (default 64 KiB). */
export async function decompressor(c: Exclude<Compression, 'none'>, chunkSize = 1 << 16): Promise<Transform> {
  if (c === 'gzip') return createGunzip({ chunkSize, finishFlush: zc.Z_SYNC_FLUSH })
  const z = await loadZstd()
  return new ZstdDecompress(z)
}

const FRAME_INPUT = 4 << 20

class ZstdCompress extends Transform {
  private parts: Buffer[] = []
  private size = 0
  constructor(
    private readonly z: typeof import('@bokuweb/zstd-wasm'),
    private readonly level: number,
  ) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(chunk)
    this.size += chunk.length
    if (this.size >= FRAME_INPUT) this.frame()
    cb()
  }
  override _flush(cb: TransformCallback): void {
    if (this.size) this.frame()
    cb()
  }
  private frame(): void {
    const input = Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    this.push(Buffer.from(this.z.compress(input, this.level)))
  }
}

const ZSTD_MAGIC = 0xfd2fb528
const BLOCK_MAX = 128 * 1024

/**
 * Where the frame starting at `off` ends, and an upper bound of its decompressed size; undefined
 * when `buf` does not hold the whole frame yet.
 * @throws Error on bytes that are not a zstd frame.
 */
export function zstdFrameExtent(buf: Buffer, off: number): { end: number; bound: number; skippable: boolean } | undefined {
  if (buf.length - off < 8) return undefined
  const magic = buf.readUInt32LE(off)
  if ((magic & 0xfffffff0) === 0x184d2a50) {
    const size = buf.readUInt32LE(off + 4)
    const end = off + 8 + size
    return end <= buf.length ? { end, bound: 0, skippable: true } : undefined
  }
  if (magic !== ZSTD_MAGIC) throw new Error(`zstd: bad frame magic 0x${magic.toString(16)} at byte ${off}`)
  const fhd = buf[off + 4]!
  const fcsFlag = fhd >> 6
  const single = (fhd >> 5) & 1
  const checksum = (fhd >> 2) & 1
  const dictFlag = fhd & 3
  let p = off + 5
  if (!single) p += 1
  p += [0, 1, 2, 4][dictFlag]!
  const fcsSize = [single ? 1 : 0, 2, 4, 8][fcsFlag]!
  let contentSize: number | undefined
  if (p + fcsSize > buf.length) return undefined
  if (fcsSize === 1) contentSize = buf[p]!
  else if (fcsSize === 2) contentSize = buf.readUInt16LE(p) + 256
  else if (fcsSize === 4) contentSize = buf.readUInt32LE(p)
  else if (fcsSize === 8) contentSize = Number(buf.readBigUInt64LE(p))
  p += fcsSize
  let bound = 0
  for (;;) {
    if (p + 3 > buf.length) return undefined
    const h = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16)
    const last = h & 1
    const type = (h >> 1) & 3
    const size = h >>> 3
    p += 3
    if (type === 1) {
      p += 1
      bound += size
    } else {
      p += size
      bound += type === 0 ? size : BLOCK_MAX
    }
    if (p > buf.length) return undefined
    if (last) break
  }
  if (checksum) p += 4
  if (p > buf.length) return undefined
  return { end: p, bound: contentSize ?? bound, skippable: false }
}

class ZstdDecompress extends Transform {
  private buf: Buffer = Buffer.alloc(0)
  constructor(private readonly z: typeof import('@bokuweb/zstd-wasm')) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    try {
      this.drain()
      cb()
    } catch (e) {
      cb(e as Error)
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.drain()
      if (this.buf.length) return cb(new Error(`zstd: the file ends inside a frame (${this.buf.length} bytes left)`))
      cb()
    } catch (e) {
      cb(e as Error)
    }
  }
  private drain(): void {
    let off = 0
    for (;;) {
      const f = zstdFrameExtent(this.buf, off)
      if (!f) break
      if (!f.skippable) {
        const frame = this.buf.subarray(off, f.end)
        const out = this.z.decompress(frame, { defaultHeapSize: Math.max(f.bound, 1) })
        this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength))
      }
      off = f.end
    }
    if (off) this.buf = this.buf.subarray(off)
  }
}
