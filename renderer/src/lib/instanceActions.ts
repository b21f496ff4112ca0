/**
 * The actions on an instance (rerun, rerun from the failed node, terminate, set success, rerun
 * with downstream) as one composable for the Operations list and the instance page: each calls
 * the API, reports the outcome as a message, and resolves true when it succeeded. Which actions
 * apply to a state is decided by {@link canDo}, mirroring the API's rules.
 */
import { useI18n } from 'vue-i18n'
import { useMessage } from 'naive-ui'
import type { InstanceState, InstanceView } from '../../../main/api/contract.js'
import { api, errorText } from '../api.js'

export type InstanceAction = 'rerun' | 'rerunAll' | 'kill' | 'setSuccess' | 'rerunDownstream'

const ENDED: InstanceState[] = ['succeeded', 'failed', 'terminated', 'skipped']

/** Whether `action` applies to an instance in `state` (rerun: ended; kill: waiting/running/paused; set success: not running nor succeeded). */
export function canDo(action: InstanceAction, state: InstanceState): boolean {
  switch (action) {
    case 'rerun':
    case 'rerunAll':
    case 'rerunDownstream':
      return ENDED.includes(state)
    case 'kill':
      return state === 'waiting' || state === 'running' || state === 'paused'
    case 'setSuccess':
      return state !== 'running' && state !== 'succeeded'
  }
}

/** Run the actions with messages; `after` is called after each successful one. */
export function useInstanceActions(after?: () => void) {
  const { t } = useI18n()
  const msg = useMessage()
  async function act(action: InstanceAction, i: Pick<InstanceView, 'id'>): Promise<boolean> {
    try {
      switch (action) {
        case 'rerun':
          await api.call('instances/rerun', { id: i.id, fromFailed: true })
          break
        case 'rerunAll':
          await api.call('instances/rerun', { id: i.id, fromFailed: false })
          break
        case 'kill':
          await api.call('instances/kill', { id: i.id })
          break
        case 'setSuccess':
          await api.call('instances/setSuccess', { id: i.id })
          break
        case 'rerunDownstream': {
          const r = await api.call('instances/rerunDownstream', { id: i.id })
          msg.success(t('ops.rerunDownstreamMsg', { n: r.instances.length }))
          after?.()
          return true
        }
      }
      msg.success(t(`ops.done.${action}`))
      after?.()
      return true
    } catch (e) {
      msg.error(errorText(e), { duration: 10_000 })
      return false
    }
  }
  return { act }
}
