/**
 * Real file servers on loopback for the file store and SSH tunnel tests, started by the tests
 * themselves (never mocks):
 *
 * - SSH/SFTP: Debian's OpenSSH `sshd` run in the foreground (`-D -e`) on a free 127.0.0.1 port with
 *   its own generated host key and config: `UsePAM no`, `Subsystem sftp internal-sftp`, key
 *   authentication only, `AuthorizedKeysFile` pointing at a temporary file, `StrictModes no`
 *   (the temp dir is not the user's home). It logs in the user running the tests: as root,
 *   `PermitRootLogin prohibit-password` (keys only). Running as root, sshd needs its privilege
 *   separation directory /run/sshd (created when missing, as the Debian service does).
 * - FTP and explicit FTPS: `ftp-srv` in-process (AUTH TLS with a self-signed certificate made by
 *   `openssl`). Not vsftpd: on Debian vsftpd authenticates users only through PAM (local accounts
 *   checked against /etc/ftpusers, or pam_userdb virtual users), so a user/password login would need
 *   a system account and PAM configuration changed on the machine; anonymous-only would test no
 *   credentials.
 * - S3: `s3rver` in-process (the SDK with checksums `WHEN_REQUIRED`).
 *
 * Without `sshd` / `ssh-keygen` / `openssl` the suites needing them skip; under CI=true they fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** The sshd binary (Debian's openssh-server). */
export const SSHD = process.env.SLUICE_TEST_SSHD ?? '/usr/sbin/sshd'

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Whether a suite needing these tools can run: true to run, false to skip; under CI=true a missing
 * tool throws so CI goes red.
 */
export function fileServersReady(...needs: Array<'sshd' | 'openssl'>): boolean {
  const missing: string[] = []
  if (needs.includes('sshd') && (!existsSync(SSHD) || !have('ssh-keygen'))) missing.push('sshd (apt-get install openssh-server)')
  if (needs.includes('openssl') && !have('openssl')) missing.push('openssl')
  if (missing.length && process.env.CI === 'true') throw new Error(`CI=true but these are missing: ${missing.join(', ')}`)
  return missing.length === 0
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it right after). */
export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function waitPort(port: number, timeoutMs: number, proc?: ChildProcess, log?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    if (proc && proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${log?.() ?? ''}`)
    if (Date.now() > end) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms: ${log?.() ?? ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Client keys generated for the SSH tests, each authorized on the server. */
export interface SshKeys {
  /** Ed25519, OpenSSH format, no passphrase. */
  ed25519: string
  /** RSA in PEM (PKCS#1) encrypted with {@link SshKeys.passphrase}. */
  rsaPem: string
  passphrase: string
  /** RSA in PKCS#8 PEM (`BEGIN PRIVATE KEY`), not readable by ssh2 as it is. */
  rsaPkcs8: string
  /** A key NOT authorized on the server. */
  stranger: string
}

/** A running sshd. */
export interface SshServer {
  host: '127.0.0.1'
  port: number
  user: string
  keys: SshKeys
  /** Paths of the key files (for URLs with `sshKeyFile=` / `privateKeyFile=`). */
  keyFiles: { ed25519: string; rsaPem: string }
  /** The server's host key fingerprint (`SHA256:...`) as `ssh-keygen -lf` prints it. */
  hostKey: string
  /** A folder the tests may use over SFTP (absolute). */
  home: string
  /** SIGKILL every sshd process serving a session (the listener stays): drops every tunnel and SFTP session. */
  killSessions(): number
  /** The server's log so far (stderr, `LogLevel VERBOSE`). */
  log(): string
  stop(): Promise<void>
}

/** Start Debian's sshd on a free loopback port with generated host and client keys. */
export async function startSshd(): Promise<SshServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-sshd-'))
  const keygen = (args: string[]): void => void execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'ignore' })
  keygen(['-t', 'ed25519', '-N', '', '-C', 'sluice-test-host', '-f', path.join(dir, 'host_ed25519')])
  keygen(['-t', 'ed25519', '-N', '', '-C', 'sluice-test', '-f', path.join(dir, 'id_ed25519')])
  const passphrase = 'sluice passphrase 1'
  keygen(['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', passphrase, '-C', 'sluice-test-pem', '-f', path.join(dir, 'id_rsa_pem')])
  keygen(['-t', 'rsa', '-b', '2048', '-m', 'PKCS8', '-N', '', '-C', 'sluice-test-p8', '-f', path.join(dir, 'id_rsa_p8')])
  keygen(['-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', path.join(dir, 'id_stranger')])
  const authorized = ['id_ed25519', 'id_rsa_pem', 'id_rsa_p8'].map((k) => readFileSync(path.join(dir, `${k}.pub`), 'utf8').trim()).join('\n') + '\n'
  writeFileSync(path.join(dir, 'authorized_keys'), authorized, { mode: 0o600 })
  const home = path.join(dir, 'files')
  mkdirSync(home)
  const port = await freePort()
  const user = os.userInfo().username
  const root = process.getuid?.() === 0
  if (root && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 })
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host_ed25519')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    'UsePAM no',
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    root ? 'PermitRootLogin prohibit-password' : '',
    'AllowTcpForwarding yes',
    'PermitTunnel no',
    'X11Forwarding no',
    'ClientAliveInterval 0',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
  ]
    .filter(Boolean)
    .join('\n')
  writeFileSync(path.join(dir, 'sshd_config'), config + '\n')
  const proc = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr!.on('data', (d: Buffer) => {
    log += d.toString()
    if (log.length > 200_000) log = log.slice(-100_000)
  })
  await waitPort(port, 15_000, proc, () => log)
  const fp = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!
  const read = (k: string): string => readFileSync(path.join(dir, k), 'utf8')
  return {
    host: '127.0.0.1',
    port,
    user,
    keys: { ed25519: read('id_ed25519'), rsaPem: read('id_rsa_pem'), passphrase, rsaPkcs8: read('id_rsa_p8'), stranger: read('id_stranger') },
    keyFiles: { ed25519: path.join(dir, 'id_ed25519'), rsaPem: path.join(dir, 'id_rsa_pem') },
    hostKey: fp,
    home,
    killSessions: () => killDescendants(proc.pid!),
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        killDescendants(proc.pid!)
        proc.kill('SIGTERM')
        await new Promise((r) => proc.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** SIGKILL every descendant of `pid` (from /proc); returns how many were killed. */
function killDescendants(pid: number): number {
  const children = new Map<number, number[]>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(d))
      children.set(ppid, list)
    } catch {
      /* gone */
    }
  }
  const all: number[] = []
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      all.push(c)
      walk(c)
    }
  }
  walk(pid)
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL')
    } catch {
      /* gone */
    }
  }
  return all.length
}

/** A running FTP server (ftp-srv) with explicit FTPS available (AUTH TLS). */
export interface FtpServer {
  host: '127.0.0.1'
  port: number
  user: string
  password: string
  /** The folder the user sees as `/`. */
  root: string
  /** The self-signed certificate (PEM), for `options.ca`. */
  cert: string
  /** How many times each command (`PORT`, `EPSV`, `STOR`...) was handled after a login so far. */
  commands(): Record<string, number>
  stop(): Promise<void>
}

/** Start ftp-srv on a free loopback port; one user (`sluice` / a random password). */
export async function startFtp(): Promise<FtpServer> {
  const { FtpSrv } = (await import('ftp-srv')) as unknown as { FtpSrv: new (o: Record<string, unknown>) => FtpSrvLike }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-ftp-'))
  const root = path.join(dir, 'root')
  mkdirSync(root)
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  )
  const key = readFileSync(path.join(dir, 'key.pem'))
  const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8')
  const port = await freePort()
  const pasvMin = 30_000 + Math.floor(Math.random() * 20_000)
  const user = 'sluice'
  const password = `pw-${Math.random().toString(36).slice(2)}`
  const srv = new FtpSrv({
    url: `ftp://127.0.0.1:${port}`,
    pasv_url: '127.0.0.1',
    pasv_min: pasvMin,
    pasv_max: pasvMin + 200,
    anonymous: false,
    greeting: 'sluice test ftp',
    tls: { key, cert },
    log: silentLogger(),
  })
  const directives: string[] = []
  srv.on('login', (data: { username: string; password: string; connection: { commands: { handle(c: string | { directive: string }): unknown } } }, resolve: (o: { root: string }) => void, reject: (e: Error) => void) => {
    // Record the commands the server handles (the tests check which transfer mode was used).
    const cmds = data.connection.commands
    const handle = cmds.handle.bind(cmds)
    cmds.handle = (c) => {
      directives.push(typeof c === 'string' ? c.trim().split(' ')[0]!.toUpperCase() : c.directive)
      return handle(c)
    }
    if (data.username === user && data.password === password) resolve({ root })
    else reject(new Error('Invalid username or password'))
  })
  await srv.listen()
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    root,
    cert,
    commands: () => {
      const n: Record<string, number> = {}
      for (const d of directives) n[d] = (n[d] ?? 0) + 1
      return n
    },
    async stop() {
      await srv.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

interface FtpSrvLike {
  on(ev: string, fn: (...a: never[]) => void): void
  listen(): Promise<unknown>
  close(): Promise<unknown>
}

/** A bunyan-shaped logger that drops everything (ftp-srv logs every command otherwise). */
function silentLogger(): unknown {
  const l: Record<string, unknown> = {}
  for (const m of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) l[m] = () => undefined
  l.child = () => l
  return l
}

/** A running s3rver. */
export interface S3Server {
  endpoint: string
  /** s3rver's fixed credentials. */
  accessKeyId: string
  secretAccessKey: string
  /** A bucket created at start. */
  bucket: string
  stop(): Promise<void>
}

/** Start s3rver on a free loopback port with one bucket. */
export async function startS3(bucket = 'sluice-test'): Promise<S3Server> {
  const mod = 's3rver' // no type declarations: imported by name so tsc does not look for them
  const S3rver = ((await import(mod)) as unknown as { default: new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> } }).default
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-s3-'))
  const srv = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] })
  const { port } = await srv.run()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    bucket,
    async stop() {
      await srv.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
