/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, any>
  export default component
}

// main/core/types.ts names Node's Buffer in its Value type; in the browser bytes arrive as Uint8Array
// (main/api/wire.ts decodes `$bytes` to Uint8Array outside Node).
type Buffer = Uint8Array
declare const Buffer: { byteLength(s: string): number }

interface Window {
  /** The preload's bridge under Electron (absent in a browser); wrap it with bridgeClient. */
  sluice?: import('../../main/api/contract.js').SluiceBridge
  /** Test hooks for the e2e suite: live Monaco editors by their data-testid. */
  __sluice?: { editors: Record<string, unknown> }
}
