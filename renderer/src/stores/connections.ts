/** Saved connections (summaries: never a password), shared by every screen. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ConnectionSummary } from '../../../main/api/contract.js'
import { api } from '../api.js'

export const useConnections = defineStore('connections', () => {
  const list = ref<ConnectionSummary[]>([])
  const loading = ref(false)
  const error = ref<unknown>()

  /** Reload the list from the API. */
  async function refresh(): Promise<void> {
    loading.value = true
    try {
      list.value = await api.call('connections/list', {})
      error.value = undefined
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  /** The saved connection a job's connection reference names (by name or id), if any. */
  function byRef(ref: unknown): ConnectionSummary | undefined {
    if (typeof ref !== 'string') return undefined
    return list.value.find((c) => c.id === ref) ?? list.value.find((c) => c.name === ref)
  }

  return { list, loading, error, refresh, byRef }
})
