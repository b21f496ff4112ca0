/**
 * Monaco, bundled (no CDN: the app works offline). Workers are vite `?worker` imports, started by
 * `MonacoEnvironment.getWorker`: the JSON language worker for job scripts, the base editor worker
 * for everything else (SQL has no language worker; its completion comes from the catalog).
 */
import * as monaco from 'monaco-editor'
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker'
import JsonWorker from 'monaco-editor/language/json/json.worker.js?worker'

;(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    return label === 'json' ? new JsonWorker() : new EditorWorker()
  },
}

/** Register live editors for the e2e suite (`window.__sluice.editors[testid]`). */
export function exposeEditor(testid: string, editor: unknown): () => void {
  const hooks = (window.__sluice ??= { editors: {} })
  hooks.editors[testid] = editor
  return () => {
    if (hooks.editors[testid] === editor) delete hooks.editors[testid]
  }
}

export { monaco }
