#!/usr/bin/env node
// The `sluice` command. Runs the TypeScript sources directly through tsx's loader, so it works
// from a fresh clone right after `npm install` (no build step), in plain Node.
import { register } from 'tsx/esm/api'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
register()
const { main } = await import(pathToFileURL(path.join(here, '../main/cli.ts')).href)
const code = await main(process.argv)
process.exitCode = code
