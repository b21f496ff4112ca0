import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { workflowJsonSchema } from '../../main/workflow/spec.js'

describe('published workflow JSON Schema', () => {
  it('resources/workflow.schema.json is generated from the schema the code validates with (npm run schema)', () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../resources/workflow.schema.json')
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(workflowJsonSchema())
  })
})
