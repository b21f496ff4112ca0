/** Shared fixtures of the store tests. */
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'
import type { Value } from '../../main/core/types.js'

/** Every Value kind, including the ones JSON loses. */
export const ALL_VALUES: Value[] = [
  null,
  true,
  false,
  0,
  -0,
  42,
  -7.25,
  Number.MAX_SAFE_INTEGER,
  5e-324,
  NaN,
  Infinity,
  -Infinity,
  2n ** 64n + 1n,
  -(2n ** 70n),
  0n,
  '',
  'null',
  'héllo 😀 日本',
  '\u0000nul',
  '\ud800 lone surrogate',
  '{"$b64":"AA=="}',
  Buffer.from([0x00, 0xff, 0x00, 0x10]),
  Buffer.alloc(0),
  '-123.4500',
  '2024-02-29 23:59:59.999999',
]

/** Assert two value lists are identical: Object.is per value, bytes for Buffers. */
export function expectSameValues(a: Value[], b: Value[]): void {
  expect(b.length).toBe(a.length)
  a.forEach((v, i) => {
    const w = b[i]
    if (Buffer.isBuffer(v)) {
      expect(Buffer.isBuffer(w)).toBe(true)
      expect((w as Buffer).equals(v)).toBe(true)
    } else {
      expect(Object.is(w, v), `index ${i}: ${String(v)} vs ${String(w)}`).toBe(true)
    }
  })
}

/** A fresh temp dir for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `sl-store-${prefix}-`))
}
