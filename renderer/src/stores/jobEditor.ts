/**
 * The job being edited. `spec` (a plain JSON object, the job document) is the single source of
 * truth: the wizard edits it in place; script mode shows it as JSON text and, on the way back,
 * replaces it with the parsed script (only when the script parses and passes the schema).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Problem } from '../../../main/job/spec.js'
import { api } from '../api.js'

/** A job document as JSON (what the wizard edits; validated by the API). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = Record<string, any>

/** A fresh job: one table pair, defaults spelled out so the wizard shows them. */
export function newSpec(): Doc {
  return {
    version: 1,
    reader: { connection: '', where: '' },
    writer: { connection: '', writeMode: 'insert', truncate: false, createTable: true, identifierCase: 'keep', preSql: [], postSql: [] },
    tables: [{ source: '' }],
    setting: { speed: { channel: 2, record: 0, byte: 0 }, errorLimit: { record: 0 } },
  }
}

export const useJobEditor = defineStore('jobEditor', () => {
  const id = ref<string>()
  const name = ref('')
  const version = ref(0)
  const latestVersion = ref(0)
  const spec = ref<Doc>(newSpec())
  const problems = ref<Problem[]>([])
  /** Bumped when `spec` is replaced wholesale (load, script -> wizard), so views re-read it. */
  const generation = ref(0)

  function reset(): void {
    id.value = undefined
    name.value = ''
    version.value = 0
    latestVersion.value = 0
    spec.value = newSpec()
    problems.value = []
    generation.value++
  }

  async function load(jobId: string, v?: number): Promise<void> {
    const j = await api.call('jobs/get', v !== undefined ? { id: jobId, version: v } : { id: jobId })
    id.value = j.id
    name.value = j.name
    version.value = j.version
    latestVersion.value = j.latestVersion
    spec.value = (typeof j.spec === 'object' && j.spec !== null ? j.spec : JSON.parse(j.specText)) as Doc
    problems.value = []
    generation.value++
  }

  /** A wizard step some component asks the editor to show (and the mapping tab to open); JobEditor watches it. */
  const stepRequest = ref<{ step: number; tab?: number; seq: number }>()
  function requestStep(step: number, tab?: number): void {
    stepRequest.value = { step, ...(tab !== undefined && tab >= 0 ? { tab } : {}), seq: (stepRequest.value?.seq ?? 0) + 1 }
  }

  function replace(doc: Doc): void {
    spec.value = doc
    generation.value++
  }

  /** Save a new version (or a new job). The name is also written into the document. */
  async function save(): Promise<{ id: string; version: number }> {
    const doc = { ...spec.value, name: name.value }
    const r = await api.call('jobs/save', { ...(id.value ? { id: id.value } : {}), name: name.value, spec: doc })
    spec.value = doc
    id.value = r.id
    version.value = r.version
    latestVersion.value = r.version
    return r
  }

  async function validate(): Promise<Problem[]> {
    problems.value = await api.call('jobs/validate', { spec: spec.value })
    return problems.value
  }

  return { id, name, version, latestVersion, spec, problems, generation, stepRequest, requestStep, reset, load, replace, save, validate }
})
