/**
 * Types of a workflow document (version 1) and its views. Imported by the renderer: types only.
 * The zod schema in ./spec.ts validates exactly this shape (and generates the JSON Schema).
 *
 * ```json
 * { "version": 1, "kind": "workflow", "name": "daily import",
 *   "nodes": [ { "id": "import", "type": "sync", "job": "orders to pg" },
 *              { "id": "compute", "type": "sql", "connection": "pg-prod", "sql": "insert into ... where d = '${bizdate}';" },
 *              { "id": "notify", "type": "shell", "command": "echo done $SLUICE_BIZDATE" } ],
 *   "edges": [["import", "compute"], ["compute", "notify"]],
 *   "schedule": { "cycle": { "type": "daily", "at": "00:30" } } }
 * ```
 */
import type { ScheduleSpec } from '../scheduler/types.js'

interface NodeBase {
  /** Unique within the workflow: letters, digits, `_`, `-` (1..64). */
  id: string
  /** Display name; default the id. */
  name?: string
  description?: string
  /** Canvas position (the editor keeps it; the engine ignores it). */
  position?: { x: number; y: number }
  /** Retries of this node when it fails: count (0..10), interval in seconds. */
  retries?: { count: number; intervalSeconds: number }
  /** Timeout in minutes: the node fails when it runs longer. */
  timeoutMinutes?: number
}

/** Runs a sync job: a saved job (name or id; its published version, else its latest) or an inline job document. */
export interface SyncNode extends NodeBase {
  type: 'sync'
  job: string | Record<string, unknown>
  /** User variables for the job (`--var`), values may use `${bizdate}` etc. */
  vars?: Record<string, string>
}

/**
 * Runs an SQL script on a connection, statement by statement (split on `;` outside quotes,
 * comments and dollar-quotes), each logged with its rows affected. Variables (`${bizdate}`, ...)
 * are substituted before running.
 */
export interface SqlNode extends NodeBase {
  type: 'sql'
  /** Saved connection name or id, or a URL. */
  connection: string
  sql: string
}

/**
 * Runs a command through the shell (`/bin/sh -c`, `cmd.exe /c` on Windows). Its environment
 * holds the variables: `SLUICE_BIZDATE`, `SLUICE_CYCTIME`, `SLUICE_DATA_TIME`,
 * `SLUICE_INSTANCE_ID`, `SLUICE_WORKFLOW`, `SLUICE_NODE` and each `vars` entry as-is.
 * Exit code 0 succeeds. The command text itself is also variable-substituted.
 */
export interface ShellNode extends NodeBase {
  type: 'shell'
  command: string
  /** Working directory (default: the data dir). */
  cwd?: string
  vars?: Record<string, string>
}

/**
 * Source clean-up after a job's sync node (main/workflow/cleanup-node.ts): deletes from the job's
 * source the rows its run for the instance's data time copied, once that run was verified
 * consistent (or `force` with a recorded `reason`).
 */
export interface CleanupNode extends NodeBase {
  type: 'cleanup'
  /** Saved job name or id whose target is cleaned. */
  job: string
  force?: boolean
  reason?: string
}

export type WorkflowNode = SyncNode | SqlNode | ShellNode | CleanupNode

/** A workflow document, version 1. */
export interface WorkflowSpec {
  version: 1
  kind: 'workflow'
  name: string
  description?: string
  nodes: WorkflowNode[]
  /** `[from, to]`: `to` runs after `from` succeeded. */
  edges: Array<[string, string]>
  /** User variables for every node. */
  vars?: Record<string, string>
  /** Saved with the workflow (`workflow save`) as its schedule. */
  schedule?: ScheduleSpec
}

/** One line of `workflows/list`. */
export interface WorkflowListItem {
  id: string
  name: string
  latestVersion: number
  publishedVersion?: number
  nodeCount: number
  updatedAt: string
  schedule?: { id: string; state: 'active' | 'paused'; nextFireAt?: string }
  lastInstance?: { id: string; state: string; dataTime: string }
}

/** A saved workflow at one version. */
export interface WorkflowDetail {
  id: string
  name: string
  version: number
  latestVersion: number
  publishedVersion?: number
  spec: WorkflowSpec
  specText: string
  updatedAt: string
}
