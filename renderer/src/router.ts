/**
 * A tiny hash router (vue-router is not a dependency): `#/connections`, `#/jobs`, `#/jobs/new`,
 * `#/jobs/<id>`, `#/runs`, `#/runs/<id>`, `#/sql`, `#/sql/<connectionId>`, `#/workflows`,
 * `#/workflows/<id>`, `#/ops` (Operations), `#/ops/<instanceId>`. Hash routes work the
 * same from `http://127.0.0.1:<port>/` and from `file://` under Electron.
 */
import { computed, ref } from 'vue'

/** A matched route: the section and its optional id. */
export interface Route {
  section: 'connections' | 'jobs' | 'runs' | 'sql' | 'cleanup' | 'workflows' | 'ops'
  id?: string
}

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  const section = (['connections', 'jobs', 'runs', 'sql', 'cleanup', 'workflows', 'ops'] as const).find((s) => s === parts[0]) ?? 'connections'
  return parts[1] !== undefined ? { section, id: parts[1] } : { section }
}

const current = ref<Route>(parse(location.hash))

/** Asked before the route changes; false (or a promise of false) keeps the current screen. */
export type LeaveGuard = () => boolean | Promise<boolean>
const guards = new Set<LeaveGuard>()
/** Register a guard (the job editor's "unsaved changes" question); returns its removal. */
export function onBeforeLeave(g: LeaveGuard): () => void {
  guards.add(g)
  return () => guards.delete(g)
}
async function leaveAllowed(): Promise<boolean> {
  for (const g of [...guards]) if (!(await g())) return false
  return true
}
let bypass = false
window.addEventListener('hashchange', (e) => {
  const next = location.hash
  const r = parse(next)
  if (bypass || !guards.size || (r.section === current.value.section && r.id === current.value.id)) {
    bypass = false
    current.value = r
    return
  }
  // A link or the back button: put the old address back until the guards agree.
  history.replaceState(history.state, '', new URL(e.oldURL).hash || '#/')
  void leaveAllowed().then((ok) => {
    if (!ok) return
    bypass = true
    location.hash = next
  })
})

/** The current route (reactive). */
export const route = computed(() => current.value)

/** Go to `section[/id]`. */
export function navigate(section: Route['section'], id?: string): void {
  const hash = `#/${section}${id !== undefined ? `/${encodeURIComponent(id)}` : ''}`
  const go = () => {
    bypass = true
    if (location.hash !== hash) location.hash = hash
    else {
      bypass = false
      current.value = parse(hash)
    }
  }
  if (!guards.size) go()
  else void leaveAllowed().then((ok) => ok && go())
}
