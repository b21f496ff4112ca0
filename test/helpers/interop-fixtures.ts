/**
 * Validation of exported DataX / SeaTunnel parameters against the documented parameter lists in
 * test/fixtures/interop/*.json (name, type, required, allowed values; each file names its source doc).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from './servers.js'

export interface ParamSpec {
  name: string
  type: string | string[]
  required: boolean
  requiredUnless?: string[]
  allowed?: unknown[]
  items?: ParamSpec[]
}

export interface PluginFixture {
  tool: string
  plugin: string
  role: string
  source: string
  parameters: ParamSpec[]
}

export function loadFixture(file: string): PluginFixture {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/interop', file), 'utf8')) as PluginFixture
}

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string'
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v)
    case 'number':
      return typeof v === 'number'
    case 'boolean':
      return typeof v === 'boolean'
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string')
    case 'object[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))
    default:
      throw new Error(`fixture type '${t}' unknown`)
  }
}

function allKeys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) allKeys(x, out)
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) {
      out.add(k)
      allKeys(x, out)
    }
  return out
}

/** Problems of `params` against `specs` (empty = valid): unknown keys, wrong types, values not allowed, missing required. */
export function validateParams(params: Record<string, unknown>, specs: ParamSpec[], at = '$', present = allKeys(params)): string[] {
  const problems: string[] = []
  const byName = new Map(specs.map((s) => [s.name, s]))
  for (const [k, v] of Object.entries(params)) {
    const s = byName.get(k)
    if (!s) {
      problems.push(`${at}.${k}: unknown parameter`)
      continue
    }
    const types = Array.isArray(s.type) ? s.type : [s.type]
    if (!types.some((t) => typeOk(v, t))) {
      problems.push(`${at}.${k}: expected ${types.join(' | ')}, got ${JSON.stringify(v)}`)
      continue
    }
    if (s.allowed && !s.allowed.includes(v)) problems.push(`${at}.${k}: ${JSON.stringify(v)} not in ${JSON.stringify(s.allowed)}`)
    if (s.items && Array.isArray(v))
      v.forEach((item, i) => {
        if (typeof item === 'object' && item !== null) problems.push(...validateParams(item as Record<string, unknown>, s.items!, `${at}.${k}[${i}]`, present))
      })
  }
  for (const s of specs) {
    if (!s.required || s.name in params) continue
    if (s.requiredUnless?.some((u) => present.has(u))) continue
    problems.push(`${at}.${s.name}: required parameter missing`)
  }
  return problems
}

const SETTING: ParamSpec[] = [
  { name: 'speed', type: 'object', required: true },
  { name: 'errorLimit', type: 'object', required: false },
]
const SPEED: ParamSpec[] = [
  { name: 'channel', type: 'integer', required: false },
  { name: 'record', type: 'integer', required: false },
  { name: 'byte', type: 'integer', required: false },
]
const ERROR_LIMIT: ParamSpec[] = [
  { name: 'record', type: 'integer', required: false },
  { name: 'percentage', type: 'number', required: false },
]

/** Problems of a whole DataX job document: its shape, its setting, and each plugin's parameters. */
export function validateDataXJob(doc: unknown): string[] {
  const d = doc as { job?: { setting?: Record<string, unknown>; content?: unknown[] } }
  const problems: string[] = []
  if (!d.job || !Array.isArray(d.job.content) || d.job.content.length === 0) return ['$.job.content: missing']
  problems.push(...validateParams(d.job.setting ?? {}, SETTING, '$.job.setting'))
  const setting = d.job.setting ?? {}
  if (setting.speed) problems.push(...validateParams(setting.speed as Record<string, unknown>, SPEED, '$.job.setting.speed'))
  if (setting.errorLimit) problems.push(...validateParams(setting.errorLimit as Record<string, unknown>, ERROR_LIMIT, '$.job.setting.errorLimit'))
  d.job.content.forEach((c, i) => {
    const cc = c as Record<string, { name: string; parameter: Record<string, unknown> }>
    for (const role of ['reader', 'writer']) {
      const p = cc[role]
      if (!p) {
        problems.push(`$.job.content[${i}].${role}: missing`)
        continue
      }
      const fx = loadFixture(`datax-${p.name}.json`)
      problems.push(...validateParams(p.parameter, fx.parameters, `$.job.content[${i}].${role}.parameter`))
    }
  })
  return problems
}

/** Problems of a SeaTunnel JSON config's Jdbc source and sink blocks. */
export function validateSeaTunnelJson(doc: unknown): string[] {
  const d = doc as { env?: Record<string, unknown>; source?: Array<Record<string, unknown>>; sink?: Array<Record<string, unknown>> }
  const problems: string[] = []
  const src = loadFixture('seatunnel-jdbc-source.json')
  const snk = loadFixture('seatunnel-jdbc-sink.json')
  if (!d.env || d.env['job.mode'] !== 'BATCH') problems.push('$.env["job.mode"]: not BATCH')
  for (const [key, fx] of [['source', src], ['sink', snk]] as const) {
    const blocks = d[key] ?? []
    if (!blocks.length) problems.push(`$.${key}: empty`)
    blocks.forEach((b, i) => {
      const { plugin_name, ...rest } = b
      if (plugin_name !== 'Jdbc') problems.push(`$.${key}[${i}].plugin_name: ${String(plugin_name)}`)
      problems.push(...validateParams(rest, fx.parameters, `$.${key}[${i}]`))
    })
  }
  return problems
}
