/**
 * Keyboard shortcuts: Ctrl/Cmd+S (save) and Ctrl/Cmd+Enter (run). One window listener; the view
 * on screen registers its handler with {@link useShortcut} (unregistered when it unmounts).
 */
import { onBeforeUnmount, onMounted } from 'vue'

export type ShortcutName = 'save' | 'run'
const handlers = new Map<ShortcutName, Array<() => void>>()

window.addEventListener('keydown', (e) => {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return
  const name: ShortcutName | undefined = e.key === 's' || e.key === 'S' ? 'save' : e.key === 'Enter' ? 'run' : undefined
  if (!name) return
  const list = handlers.get(name)
  const fn = list?.[list.length - 1]
  if (!fn) return
  e.preventDefault()
  fn()
})

/** Bind `fn` to a shortcut while the calling component is mounted (the latest mounted wins). */
export function useShortcut(name: ShortcutName, fn: () => void): void {
  onMounted(() => handlers.set(name, [...(handlers.get(name) ?? []), fn]))
  onBeforeUnmount(() => handlers.set(name, (handlers.get(name) ?? []).filter((f) => f !== fn)))
}
