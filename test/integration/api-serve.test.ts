/**
 * `sluice serve` as a user runs it: a child process, the printed URL, the seeded demo workspace,
 * a clean stop on SIGTERM / SIGINT.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isLoopbackHost } from '../../main/api/http.js'
import { seedDemoWorkspace } from '../../main/api/demo.js'
import { openStore } from '../../main/store/index.js'
import { apiClient } from '../helpers/api-client.js'
import { REPO_ROOT } from '../helpers/servers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function serve(args: string[]): { child: ChildProcess; url: Promise<string>; out: () => string; exit: Promise<number | null> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-serve-'))
  dirs.push(dir)
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sluice.mjs'), '--data-dir', dir, 'serve', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const url = new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString()
      const m = /Sluice is serving on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()))
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening:\n${out}`)))
  })
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, url, out: () => out, exit }
}

describe('sluice serve', () => {
  it('prints the token URL, serves the seeded demo, stops cleanly on SIGTERM', async () => {
    const s = serve(['--token', 'a-fixed-token-for-this-test-0123'])
    const url = await s.url
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=a-fixed-token-for-this-test-0123$/.exec(url)
    expect(m, url).not.toBeNull()
    const c = apiClient(Number(m![1]), 'a-fixed-token-for-this-test-0123')
    const conns = await c.call('connections/list', {})
    expect(conns.map((x) => x.name)).toEqual(['Chinook (demo)', 'Demo target'])
    expect(conns[0]!.config).toEqual({ kind: 'sqlite', path: path.join(REPO_ROOT, 'resources/demo/Chinook_Sqlite.sqlite') })
    const jobs = await c.call('jobs/list', {})
    expect(jobs.map((j) => j.name)).toEqual(['Chinook demo'])
    const job = await c.call('jobs/get', { id: jobs[0]!.id })
    expect(job.spec).toMatchObject({ reader: { connection: 'Chinook (demo)' }, writer: { connection: 'Demo target', truncate: true }, tables: { include: '*' } })
    expect((await c.call('jobs/validate', { spec: job.spec, offline: true }))).toEqual([])
    s.child.kill('SIGTERM')
    expect(await s.exit).toBe(0)
    expect(s.out()).toContain('SIGTERM: stopping')
  })

  it('a random token by default; SIGINT stops it too', async () => {
    const s = serve([])
    const url = await s.url
    const token = decodeURIComponent(new URL(url).searchParams.get('token')!)
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    s.child.kill('SIGINT')
    expect(await s.exit).toBe(0)
  })

  it('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '127.0.0.1.nip.io']) expect(isLoopbackHost(h), h).toBe(false)
  })

  it('seedDemoWorkspace is idempotent and respects a deleted demo', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-api-seed-'))
    dirs.push(dir)
    const store = openStore({ dataDir: dir })
    try {
      const first = seedDemoWorkspace(store, dir, path.join(REPO_ROOT, 'resources'))
      expect(first.seeded).toBe(true)
      expect(store.connections.get(first.targetId!)?.config).toEqual({ kind: 'sqlite', path: path.join(dir, 'demo', 'chinook-target.sqlite') })
      expect(seedDemoWorkspace(store, dir, path.join(REPO_ROOT, 'resources'))).toEqual({ seeded: false })
      store.connections.delete(first.sourceId!)
      store.jobs.delete(first.jobId!)
      expect(seedDemoWorkspace(store, dir, path.join(REPO_ROOT, 'resources'))).toEqual({ seeded: false })
      expect(store.connections.list().map((c) => c.name)).toEqual(['Demo target'])
      expect(store.jobs.list()).toEqual([])
    } finally {
      store.close()
    }
  })
})
