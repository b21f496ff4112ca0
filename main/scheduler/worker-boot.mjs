// Worker-thread bootstrap used when Sluice runs from its TypeScript sources (tests, tsx): worker
// threads do not inherit the parent's loader hooks, so register tsx here, then load the
// scheduler worker. A built app (electron-vite) loads the bundled scheduler-worker.js directly.
import { register } from 'tsx/esm/api'

register()
await import('./worker.ts')
