import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites create their own databases; files run in parallel on 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
})
