import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { jobJsonSchema } from '../../main/job/spec.js'

describe('published job JSON Schema', () => {
  it('resources/job.schema.json is generated from the schema the code validates with (npm run schema)', () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../resources/job.schema.json')
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(jobJsonSchema())
  })
})
