/**
 * Alerts of an instance (failure, timeout, success): a webhook (HTTP POST of the
 * {@link AlertPayload} as JSON), a command hook (run through the shell, payload on stdin and in
 * `SLUICE_ALERT_JSON`, `SLUICE_INSTANCE_ID`, `SLUICE_STATE`, `SLUICE_ERROR`, `SLUICE_BIZDATE`),
 * and a desktop notification (recorded with channel `desktop`; the app tails those records and
 * raises the notification through the `alert` event). Every alert sent is recorded with the
 * instance (`alerts` table), with its HTTP status or exit code and any error; header values and
 * secrets are never recorded.
 */
import { spawn } from 'node:child_process'
import type { Store } from '../store/index.js'
import type { Alerter } from './core.js'
import type { AlertPayload, AlertSpec } from './types.js'

/** How long a webhook or command may take. */
export const ALERT_TIMEOUT_MS = 15_000

/** The alerter over a store. */
export class AlertSender implements Alerter {
  constructor(private readonly store: Store) {}

  async send(payload: AlertPayload, spec: AlertSpec): Promise<void> {
    const jobs: Promise<void>[] = []
    const rec = (channel: 'webhook' | 'command' | 'desktop', target: string, ok: boolean, status?: number, error?: string) =>
      this.store.scheduler.recordAlert({ instanceId: payload.id, kind: payload.kind, channel, target, ok, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}), payload })
    if (spec.desktop !== false) rec('desktop', 'notification', true)
    if (spec.webhook) {
      const url = spec.webhook.url
      jobs.push(
        (async () => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'user-agent': 'sluice-scheduler', ...(spec.webhook!.headers ?? {}) },
              body: JSON.stringify(payload),
              signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
            })
            await res.arrayBuffer().catch(() => undefined)
            rec('webhook', url, res.ok, res.status, res.ok ? undefined : `HTTP ${res.status} ${res.statusText}`)
          } catch (e) {
            rec('webhook', url, false, undefined, (e as Error).message)
          }
        })(),
      )
    }
    if (spec.command) {
      const command = spec.command
      jobs.push(
        new Promise<void>((resolve) => {
          const json = JSON.stringify(payload)
          const child = spawn(command, {
            shell: true,
            stdio: ['pipe', 'ignore', 'pipe'],
            env: { ...process.env, SLUICE_ALERT_JSON: json, SLUICE_INSTANCE_ID: payload.id, SLUICE_STATE: payload.state, SLUICE_ERROR: payload.error ?? '', SLUICE_BIZDATE: payload.bizdate, SLUICE_ALERT_KIND: payload.kind },
          })
          let err = ''
          child.stderr.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-2000)))
          const timer = setTimeout(() => child.kill('SIGTERM'), ALERT_TIMEOUT_MS)
          child.on('error', (e) => {
            clearTimeout(timer)
            rec('command', command, false, undefined, e.message)
            resolve()
          })
          child.on('close', (code) => {
            clearTimeout(timer)
            rec('command', command, code === 0, code ?? undefined, code === 0 ? undefined : `exit code ${code}${err ? `: ${err.trim()}` : ''}`)
            resolve()
          })
          child.stdin.on('error', () => {})
          child.stdin.end(json)
        }),
      )
    }
    await Promise.all(jobs)
  }
}

/** Title and body of a desktop notification for an alert. */
export function alertText(p: AlertPayload): { title: string; body: string } {
  const what = p.kind === 'success' ? 'succeeded' : p.kind === 'timeout' ? 'timed out' : 'failed'
  return { title: `${p.target.name} ${p.dataTime}: ${what}`, body: p.error ?? `instance ${p.id} (attempt ${p.attempt})` }
}
