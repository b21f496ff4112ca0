/**
 * SSH tunnels for MySQL and PostgreSQL connections (config `ssh`).
 *
 * A tunnel is a TCP listener on 127.0.0.1 with a port the OS picks; each connection accepted there
 * is forwarded through the SSH session (`direct-tcpip`, ssh2 `forwardOut`) to the database's
 * `host:port` as the SSH host resolves them. The connector is opened on a copy of the config whose
 * host and port are the listener's, so drivers, pools and raw protocol paths need no change.
 *
 * - One SSH session per tunnel, opened by {@link SshTunnel.open} (so a wrong key or host fails
 *   at once with the SSH error) and re-opened on the next connection after it dropped (an idle
 *   drop, keepalive timeout, a killed sshd): connections that were running through the lost
 *   session fail with a connection error, which the engine retries (main/engine/faults.ts).
 * - Keepalive every `keepaliveMs` (default 15 s); 3 unanswered ones end the session.
 * - Host keys pinned: a hop without `hostKey` pins the first key seen (on the config in memory and,
 *   for a saved connection, in the state DB, see {@link pinHostKey}); a pinned hop refuses another key.
 * - Optionally one jump host: SSH to `jump`, forward a channel to the tunnel host's port 22, SSH
 *   over that channel (`ssh -J`).
 * - Each worker thread opens its own connector from plain config, and so its own tunnel.
 */
import net from 'node:net'
import { connectSsh, type SshSession } from './ssh.js'
import { pinHostKey, type ConnectionConfig, type Connector, type TestResult } from './types.js'

/** A live tunnel; {@link SshTunnel.port} is the local port to connect to. */
export class SshTunnel {
  #server: net.Server | undefined
  #session: Promise<SshSession & { jump?: SshSession }> | undefined
  #live: (SshSession & { jump?: SshSession }) | undefined
  #closed = false
  readonly #sockets = new Set<net.Socket>()
  /** The host keys seen, keyed by config path (`ssh.hostKey`, `ssh.jump.hostKey`). */
  readonly hostKeys: Record<string, string> = {}
  /** How many SSH sessions were opened (1 + reconnects). */
  sessions = 0
  /** The last error forwarding a connection (the SSH host could not reach the database, the session could not be re-opened). */
  lastError: Error | undefined
  port = 0

  /** @param config a MySQL or PostgreSQL config with `ssh` set; pins are written into it. */
  constructor(readonly config: ConnectionConfig) {
    if (!config.ssh) throw new Error('ssh: the connection has no SSH tunnel settings')
  }

  /**
   * Open the SSH session and start the local listener.
   * @returns the local port.
   * @throws Error naming the hop (see connectSsh) when the SSH session cannot be opened.
   */
  async open(): Promise<number> {
    await this.#connect()
    const server = net.createServer((sock) => this.#forward(sock))
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as net.AddressInfo).port
    return this.port
  }

  /** Stop listening, end the forwarded connections and the SSH session. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true
    for (const s of this.#sockets) s.destroy()
    const server = this.#server
    this.#server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    const live = await this.#session?.catch(() => undefined)
    live?.client.end()
    live?.jump?.client.end()
  }

  /** The session, opened or re-opened when there is none. */
  #connect(): Promise<SshSession & { jump?: SshSession }> {
    if (this.#closed) return Promise.reject(new Error('ssh tunnel is closed'))
    if (this.#session) return this.#session
    const ssh = this.config.ssh!
    const keepaliveMs = ssh.keepaliveMs ?? 15_000
    const timeout = this.config.connectTimeoutMs ?? 20_000
    const p = (async () => {
      let jump: SshSession | undefined
      let sock
      if (ssh.jump) {
        jump = await connectSsh(ssh.jump, {
          field: 'ssh.jump',
          keepaliveMs,
          readyTimeoutMs: timeout,
          onFirstHostKey: (fp) => pinHostKey(this.config, 'ssh.jump.hostKey', fp),
        })
        this.hostKeys['ssh.jump.hostKey'] = jump.hostKey
        sock = await forwardOut(jump, ssh.host, ssh.port ?? 22, `ssh.jump: cannot reach the tunnel host ${ssh.host}:${ssh.port ?? 22}`)
      }
      try {
        const s = await connectSsh(ssh, {
          field: 'ssh',
          keepaliveMs,
          readyTimeoutMs: timeout,
          ...(sock ? { sock } : {}),
          onFirstHostKey: (fp) => pinHostKey(this.config, 'ssh.hostKey', fp),
        })
        this.hostKeys['ssh.hostKey'] = s.hostKey
        return { ...s, ...(jump ? { jump } : {}) }
      } catch (e) {
        jump?.client.end()
        throw e
      }
    })()
    this.#session = p
    p.then(
      (live) => {
        this.sessions++
        this.#live = live
        const dropped = (): void => {
          if (this.#session === p) this.#session = undefined
          if (this.#live === live) this.#live = undefined
          live.jump?.client.end()
        }
        live.client.once('close', dropped)
        live.jump?.client.once('close', () => live.client.end())
        if (this.#closed) live.client.end()
      },
      () => {
        if (this.#session === p) this.#session = undefined
      },
    )
    return p
  }

  /** Forward one accepted local connection; on a session that turns out dead, reconnect once. */
  async #forward(sock: net.Socket): Promise<void> {
    this.#sockets.add(sock)
    sock.once('close', () => this.#sockets.delete(sock))
    sock.on('error', () => sock.destroy())
    const host = this.config.host ?? '127.0.0.1'
    const port = this.config.port ?? (this.config.kind === 'postgres' ? 5432 : 3306)
    for (let attempt = 0; attempt < 2 && !sock.destroyed; attempt++) {
      let live
      try {
        live = await this.#connect()
      } catch (e) {
        this.lastError = e as Error
        sock.destroy()
        return
      }
      try {
        const ch = await forwardOut(live, host, port, `ssh: the tunnel host cannot reach ${host}:${port}`)
        if (sock.destroyed) {
          ch.destroy()
          return
        }
        sock.pipe(ch).pipe(sock)
        ch.on('error', () => sock.destroy())
        ch.once('close', () => sock.destroy())
        sock.once('close', () => ch.destroy())
        return
      } catch (e) {
        this.lastError = e as Error
        // The SSH host refused to open the channel (the database is down or unreachable from
        // there): the session is fine, the connection is not possible.
        if (/open failure/i.test((e as Error).message)) break
        // Otherwise the session died under us: drop it and try once more on a new one.
        if (this.#live === live) {
          this.#session = undefined
          this.#live = undefined
          live.client.end()
        }
      }
    }
    sock.destroy()
  }
}

function forwardOut(s: SshSession, host: string, port: number, what: string): Promise<import('node:stream').Duplex> {
  return new Promise((resolve, reject) => {
    try {
      s.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(new Error(`${what}: ${err.message}`)) : resolve(ch)))
    } catch (e) {
      reject(e as Error)
    }
  })
}

/**
 * Open a connector through an SSH tunnel: the tunnel first, then `open` on a copy of `config`
 * pointing at the tunnel's local port. The returned connector closes the tunnel with itself, and its
 * `test()` reports the host keys seen.
 * @throws Error from the SSH session (see connectSsh), prefixed by nothing else so the user sees it.
 */
export async function openTunneled(config: ConnectionConfig, open: (c: ConnectionConfig) => Promise<Connector>): Promise<Connector> {
  const tunnel = new SshTunnel(config)
  await tunnel.open()
  let inner: Connector
  try {
    const { ssh: _ssh, ...rest } = config
    inner = await open({ ...rest, host: '127.0.0.1', port: tunnel.port })
  } catch (e) {
    await tunnel.close()
    throw e
  }
  const close = inner.close.bind(inner)
  const test = inner.test.bind(inner)
  Object.assign(inner, {
    async close() {
      try {
        await close()
      } finally {
        await tunnel.close()
      }
    },
    async test(): Promise<TestResult> {
      tunnel.lastError = undefined
      const r = await test()
      // The driver only saw its connection close: say why, from the tunnel's side.
      const last = tunnel.lastError as Error | undefined // set by #forward while test() ran
      const why = !r.ok && last ? { error: `${last.message} (the driver said: ${r.error ?? 'connection closed'})` } : {}
      return { ...r, ...why, hostKeys: { ...tunnel.hostKeys } }
    },
    tunnel,
  })
  return inner
}
