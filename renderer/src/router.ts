/**
 * A tiny hash router (vue-router is not a dependency): `#/connections`, `#/jobs`, `#/jobs/new`,
 * `#/jobs/<id>`, `#/runs`, `#/runs/<id>`, `#/sql`, `#/sql/<connectionId>`, `#/workflows`,
 * `#/workflows/<id>`, `#/ops` (Operations), `#/ops/<instanceId>`. Hash routes work the
 * same from `http://127.0.0.1:<port>/` and from `file://` under Electron.
 */
import { computed, ref } from 'vue'

/** A matched route: the section and its optional id. */
export interface Route {
  section: 'connections' | 'jobs' | 'runs' | 'sql' | 'workflows' | 'ops'
  id?: string
}

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  const section = (['connections', 'jobs', 'runs', 'sql', 'workflows', 'ops'] as const).find((s) => s === parts[0]) ?? 'connections'
  return parts[1] !== undefined ? { section, id: parts[1] } : { section }
}

const current = ref<Route>(parse(location.hash))
window.addEventListener('hashchange', () => {
  current.value = parse(location.hash)
})

/** The current route (reactive). */
export const route = computed(() => current.value)

/** Go to `section[/id]`. */
export function navigate(section: Route['section'], id?: string): void {
  const hash = `#/${section}${id !== undefined ? `/${encodeURIComponent(id)}` : ''}`
  if (location.hash !== hash) location.hash = hash
  else current.value = parse(hash)
}
