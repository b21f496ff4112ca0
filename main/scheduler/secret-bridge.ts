/**
 * A synchronous {@link SecretBox} for a worker thread whose keys live in the main thread
 * (Electron's `safeStorage` exists only there). The worker posts a request on a MessagePort and
 * blocks on `Atomics.wait` until the main thread has answered on the port and notified; the
 * answer is then read with `receiveMessageOnPort`. Only the worker blocks; the main thread
 * answers from its event loop. Plaintexts cross only between the two threads of this process.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { SecretBox } from '../store/secrets.js'

type Request = { op: 'encrypt'; data: string } | { op: 'decrypt'; data: Uint8Array }
type Reply = { ok: true; value: string | Uint8Array } | { ok: false; error: string }

/** How long a worker waits for the main thread to answer. */
export const SECRET_BRIDGE_TIMEOUT_MS = 15_000

/** What the main thread hands to the worker (transfer `port`). */
export interface SecretBridgeEnd {
  port: MessagePort
  signal: SharedArrayBuffer
  scheme: string
}

/** Main thread: serve `box` to one worker. @returns the worker's end and a function closing it. */
export function serveSecretBox(box: SecretBox): { end: SecretBridgeEnd; close(): void } {
  const { port1, port2 } = new MessageChannel()
  const signal = new SharedArrayBuffer(4)
  const flag = new Int32Array(signal)
  port1.on('message', (req: Request) => {
    let reply: Reply
    try {
      reply = { ok: true, value: req.op === 'encrypt' ? new Uint8Array(box.encrypt(req.data)) : box.decrypt(Buffer.from(req.data)) }
    } catch (e) {
      reply = { ok: false, error: (e as Error).message }
    }
    port1.postMessage(reply)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
  })
  return { end: { port: port2, signal, scheme: box.scheme }, close: () => port1.close() }
}

/** Worker thread: a SecretBox that asks the main thread. @throws Error when it does not answer in time. */
export function bridgedSecretBox(end: SecretBridgeEnd): SecretBox {
  const flag = new Int32Array(end.signal)
  const call = (req: Request): string | Uint8Array => {
    Atomics.store(flag, 0, 0)
    end.port.postMessage(req)
    if (Atomics.wait(flag, 0, 0, SECRET_BRIDGE_TIMEOUT_MS) === 'timed-out') throw new Error('the app did not answer a secret request (secret bridge timed out)')
    const m = receiveMessageOnPort(end.port)
    if (!m) throw new Error('secret bridge: no answer')
    const reply = m.message as Reply
    if (!reply.ok) throw new Error(reply.error)
    return reply.value
  }
  return {
    scheme: end.scheme,
    encrypt: (plain) => Buffer.from(call({ op: 'encrypt', data: plain }) as Uint8Array),
    decrypt: (blob) => call({ op: 'decrypt', data: new Uint8Array(blob) }) as string,
  }
}
