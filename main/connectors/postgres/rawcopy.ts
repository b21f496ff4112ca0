/**
 * `COPY ... TO STDOUT` for the raw read path (main/connectors/raw.ts): the CopyData payloads
 * copied straight from the socket chunks into large batch Buffers, one copy, no object per row.
 *
 * Like pg-copy-streams' `to`, this is a pg Submittable that takes the connection's socket `data`
 * listener over while the COPY runs and hands it back at CopyDone (or at an ErrorResponse), so
 * pg parses CommandComplete, ReadyForQuery and errors itself. Protocol
 * (https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-COPY): every message is a type
 * byte and a 4-byte length; in COPY OUT text format each CopyData (`d`) carries exactly one row
 * ending with a newline, so the rows of a batch are its CopyData messages. CopyOutResponse (`H`),
 * NoticeResponse (`N`), ParameterStatus (`S`) and NotificationResponse (`A`) may be interspersed
 * and are skipped, as pg-copy-streams does.
 */
import type { Socket } from 'node:net'

/** One finished batch: `buf[0, end)` holds `rows` whole lines. */
export interface CopyChunk {
  buf: Buffer
  end: number
  rows: number
}

/** Where the payload goes and what happens at the end. */
export interface CopyOutSink {
  /** A Buffer of at least `min` bytes to fill (a reused one, or a fresh one). */
  alloc(min: number): Buffer
  /** A batch is full (about `batchBytes`), or the COPY ended with rows left. */
  batch(c: CopyChunk): void
  /** The COPY finished (after the last `batch`): `rowCount` as the server reported it. */
  end(rowCount: number): void
  error(e: Error): void
}

interface PgConnectionLike {
  stream: Socket
  query(text: string): void
}

const D = 0x64 // CopyData
const C_DONE = 0x63 // CopyDone
const E = 0x45 // ErrorResponse

/** A pg Submittable running one `COPY (...) TO STDOUT` into a {@link CopyOutSink}. */
export class RawCopyOut {
  private connection?: PgConnectionLike
  private pgHandler?: (b: Buffer) => void
  private readonly onData = (chunk: Buffer) => this.parse(chunk)
  private carry?: Buffer
  /** Bytes of the current CopyData payload still to come in later chunks. */
  private remaining = 0
  private buf: Buffer
  private pos = 0
  private rows = 0
  private rowCount = 0
  private detached = false
  private failed = false
  /**
   * Bytes that end the current batch: 64 KiB for the first and doubling up to batchBytes, so the
   * writer starts on a split's first rows at once (as the MySQL raw reader's batches).
   */
  private limit: number

  constructor(
    readonly text: string,
    private readonly batchBytes: number,
    private readonly sink: CopyOutSink,
  ) {
    this.buf = sink.alloc(batchBytes + (256 << 10))
    this.limit = Math.min(batchBytes, 64 << 10)
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: PgConnectionLike): void {
    this.connection = connection
    const s = connection.stream
    const listeners = s.listeners('data') as Array<(b: Buffer) => void>
    if (listeners.length !== 1) throw new Error(`postgres raw COPY: expected one socket data listener, found ${listeners.length}`)
    this.pgHandler = listeners[0]
    s.removeListener('data', this.pgHandler!)
    s.on('data', this.onData)
    connection.query(this.text)
  }

  /** Stop reading from the server until {@link resume} (TCP back-pressure). */
  pause(): void {
    if (!this.detached) this.connection?.stream.pause()
  }

  resume(): void {
    this.connection?.stream.resume()
  }

  private parse(chunk: Buffer): void {
    if (this.carry) {
      chunk = Buffer.concat([this.carry, chunk])
      this.carry = undefined
    }
    const n = chunk.length
    let i = 0
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i)
        this.put(chunk, i, i + take)
        i += take
        this.remaining -= take
        if (this.remaining === 0) this.rowDone()
        continue
      }
      if (n - i < 5) {
        this.carry = Buffer.from(chunk.subarray(i))
        return
      }
      const code = chunk[i]!
      const len = chunk.readUInt32BE(i + 1) - 4
      if (code === D) {
        i += 5
        if (n - i >= len) {
          this.put(chunk, i, i + len)
          i += len
          this.rowDone()
        } else {
          this.put(chunk, i, n)
          this.remaining = len - (n - i)
          i = n
        }
        continue
      }
      if (code === E) {
        // pg parses the error and calls handleError.
        this.detach(chunk.subarray(i))
        return
      }
      if (n - i < 5 + len) {
        this.carry = Buffer.from(chunk.subarray(i))
        return
      }
      i += 5 + len
      if (code === C_DONE) {
        this.flush()
        this.detach(chunk.subarray(i))
        return
      }
      // H, N, S, A: skipped.
    }
  }

  private put(src: Buffer, start: number, end: number): void {
    const len = end - start
    if (this.pos + len > this.buf.length) this.grow(len)
    if (len < 64) {
      const out = this.buf
      let o = this.pos
      for (let k = start; k < end; k++) out[o++] = src[k]!
      this.pos = o
    } else this.pos += src.copy(this.buf, this.pos, start, end)
  }

  private rowDone(): void {
    this.rows++
    if (this.pos >= this.limit) this.flush()
  }

  /** Make room for `len` more bytes of the current row: a row never spans two batches. */
  private grow(len: number): void {
    const rowStart = this.rowStart()
    const partial = this.pos - rowStart
    const next = this.sink.alloc(Math.max(this.batchBytes + (256 << 10), partial + len + (256 << 10)))
    this.buf.copy(next, 0, rowStart, this.pos)
    if (this.rows) this.sink.batch({ buf: this.buf, end: rowStart, rows: this.rows })
    this.buf = next
    this.pos = partial
    this.rows = 0
  }

  /** Offset where the row being received starts (the end of the last whole row). */
  private rowStart(): number {
    if (this.remaining === 0) return this.pos
    // Inside a row: its start is after the last newline (rows end with LF, fields hold none raw).
    const nl = this.buf.subarray(0, this.pos).lastIndexOf(10)
    return nl + 1
  }

  private flush(): void {
    if (!this.rows) return
    this.limit = Math.min(this.batchBytes, this.limit * 2)
    this.sink.batch({ buf: this.buf, end: this.pos, rows: this.rows })
    this.buf = this.sink.alloc(this.batchBytes + (256 << 10))
    this.pos = 0
    this.rows = 0
  }

  /**
   * After the COPY ended: the buffer it would have filled next (empty, never handed to the sink),
   * for the caller to reuse; undefined when it holds rows or was taken already.
   */
  takeUnused(): Buffer | undefined {
    if (this.pos !== 0 || this.rows !== 0 || !this.buf.length) return undefined
    const b = this.buf
    this.buf = Buffer.alloc(0)
    return b
  }

  private detach(rest: Buffer): void {
    if (this.detached) return
    this.detached = true
    const s = this.connection!.stream
    s.removeListener('data', this.onData)
    s.on('data', this.pgHandler!)
    if (rest.length) this.pgHandler!(rest)
    s.resume()
  }

  // pg Submittable callbacks.

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg?.text ?? '')
    if (m) this.rowCount = Number(m[1])
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.sink.end(this.rowCount)
  }

  handleError(e: Error): void {
    if (this.failed) return
    this.failed = true
    if (!this.detached && this.connection) {
      // The connection failed mid-COPY: give the socket back to pg as it is.
      this.detached = true
      const s = this.connection.stream
      s.removeListener('data', this.onData)
      s.on('data', this.pgHandler!)
    }
    this.sink.error(e)
  }

  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}
