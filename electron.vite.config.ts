/**
 * electron-vite build of the desktop app: `out/main` (electron/main.ts and the engine it imports,
 * plus the engine's worker entry; npm dependencies stay external, loaded from node_modules), `out/preload` (electron/preload.ts as
 * CommonJS, which sandboxed preloads require) and `out/renderer` (the screens).
 *
 * The renderer part mirrors renderer/vite.config.ts (owned with the renderer): same root, base,
 * plugins, alias and output, so `sluice serve` and the desktop app load the same build.
 */
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

export default defineConfig({
  main: {
    build: {
      outDir: resolve('out/main'),
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve('electron/main.ts'),
          // The engine's channel worker: main/engine/pool.ts loads `./worker.js` beside the built
          // main bundle (out/main/worker.js) when it is not running from TypeScript sources.
          worker: resolve('main/engine/worker.ts'),
          // The scheduler loop's worker thread (main/scheduler/host.ts loads `./scheduler-worker.js`).
          'scheduler-worker': resolve('main/scheduler/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve('out/preload'),
      externalizeDeps: true,
      rollupOptions: {
        input: { index: resolve('electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    base: './',
    plugins: [vue()],
    resolve: { alias: { '@renderer': resolve('renderer/src') } },
    worker: { format: 'es' },
    build: {
      outDir: resolve('out/renderer'),
      emptyOutDir: true,
      chunkSizeWarningLimit: 10_000,
      reportCompressedSize: false,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
})
