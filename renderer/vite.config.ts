/**
 * Standalone vite config of the renderer (the screens), for `sluice serve` and the e2e tests:
 * `npx vite build -c renderer/vite.config.ts` writes `out/renderer/` (what main/api/http.ts serves).
 * electron.vite.config.ts builds the same root for the desktop app; keep root, alias and output
 * identical (root `renderer/`, `@renderer` -> `renderer/src`, out `out/renderer`).
 *
 * `base: './'`: assets load relative to index.html, so the same build works from
 * `http://127.0.0.1:<port>/` and from `file://` under Electron. Monaco's workers are bundled
 * (`?worker` imports in src/lib/monaco.ts) as ES module workers: no CDN, the app is offline.
 */
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  resolve: { alias: { '@renderer': fileURLToPath(new URL('./src', import.meta.url)) } },
  worker: { format: 'es' },
  // vue-i18n feature flags (esm-bundler build): Composition API only, no devtools in production.
  define: { __VUE_I18N_FULL_INSTALL__: true, __VUE_I18N_LEGACY_API__: false, __INTLIFY_PROD_DEVTOOLS__: false },
  build: {
    outDir: fileURLToPath(new URL('../out/renderer', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 10_000,
    reportCompressedSize: false,
  },
})
