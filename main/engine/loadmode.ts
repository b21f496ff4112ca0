/**
 * Load modes and time partitions of the target (issue 15, "After the copy"; the Tencent seed's
 * TRUNCATE / APPEND export modes).
 *
 * - `writer.loadMode: "truncate"`: the target is emptied before the load (as `truncate: true`).
 * - `writer.loadMode: "append"`: every row is stamped in `writer.etlColumn` (default
 *   `etl_timestamp`, DATETIME) with the load's data time (`yyyy-MM-dd HH:mm:ss`, wall clock). The
 *   rows already stamped with that data time are deleted in the transaction of the load's first
 *   batch (`WriteSpec.firstSql`), so a rerun for the same data time replaces its own rows and
 *   nothing else, and readers never see the data time empty: reruns are idempotent. The run
 *   holds the task's other splits back until that first batch has committed (run.ts, the task's
 *   gate), so no split writes rows the delete could take; a load that writes no row at all runs the
 *   delete on its own.
 * - `writer.partition: { unit }`: the target is partitioned by RANGE on `etlColumn` (MySQL RANGE
 *   COLUMNS partitions; PostgreSQL declarative partitions), one partition per data time named
 *   `P_${YYYYMM}`, `P_${YYYYMMDD}` or `P_${YYYYMMDDHH}` (PostgreSQL partitions are tables, so
 *   theirs are `<table>_P_...` to stay unique in the schema). The data time's partition is created
 *   when missing and truncated when it exists — a rerun empties just that partition.
 *
 * When Sluice creates the target, `etlColumn` is added (NOT NULL) and appended to the primary key
 * and unique indexes: the same source row may be appended once per data time, and both MySQL and
 * PostgreSQL require the partitioning column in every unique key of a partitioned table. An
 * existing target gets the column only with `writer.alterTable: true`; an existing target must
 * already be partitioned by `etlColumn` to take `partition` (Sluice does not re-partition a table).
 */
import type { Column, TableSchema } from '../core/types.js'
import type { Connector } from '../connectors/types.js'
import { NotFoundError } from '../connectors/types.js'
import type { JobSpec, Problem, TablePair } from '../job/spec.js'
import type { TimeContext } from '../job/variables.js'
import type { RedoPlan } from './channel.js'
import type { PlannedTask } from './plan.js'

/** Default name of the column stamped with the data time. */
export const DEFAULT_ETL_COLUMN = 'etl_timestamp'

/** What a task does about its load mode (on {@link PlannedTask.load}). */
export interface LoadPlan {
  /** The stamped column (target name). */
  column: string
  /** The load's data time, `yyyy-MM-dd HH:mm:ss` (wall clock), written in {@link column}. */
  stamp: string
  /** ALTER TABLE ... ADD COLUMN before the load (existing target, `alterTable: true`). */
  addColumn: boolean
  /** The data time's partition, when the target is partitioned. */
  partition?: { unit: 'month' | 'day' | 'hour'; name: string; lower: string; upper: string }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `yyyy-MM-dd HH:mm:ss` of a wall-clock date (kept in UTC fields, see variables.ts). */
export function wallClock(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/**
 * The partition of `dataTime` for `unit`: its name (`P_202612`, `P_20261204`, `P_2026120413`)
 * and its range `[lower, upper)` as wall-clock DATETIME text.
 */
export function partitionFor(dataTime: Date, unit: 'month' | 'day' | 'hour'): { name: string; lower: string; upper: string } {
  const y = dataTime.getUTCFullYear()
  const m = dataTime.getUTCMonth()
  const d = dataTime.getUTCDate()
  const h = dataTime.getUTCHours()
  let lo: Date
  let hi: Date
  let name: string
  if (unit === 'month') {
    lo = new Date(Date.UTC(y, m, 1))
    hi = new Date(Date.UTC(y, m + 1, 1))
    name = `P_${y}${pad(m + 1)}`
  } else if (unit === 'day') {
    lo = new Date(Date.UTC(y, m, d))
    hi = new Date(Date.UTC(y, m, d + 1))
    name = `P_${y}${pad(m + 1)}${pad(d)}`
  } else {
    lo = new Date(Date.UTC(y, m, d, h))
    hi = new Date(Date.UTC(y, m, d, h + 1))
    name = `P_${y}${pad(m + 1)}${pad(d)}${pad(h)}`
  }
  return { name, lower: wallClock(lo), upper: wallClock(hi) }
}

/** The stamp of a partitioned load: the start of its partition (so every row falls in it). */
function stampFor(time: TimeContext, unit?: 'month' | 'day' | 'hour'): string {
  return unit ? partitionFor(time.dataTime, unit).lower : wallClock(time.dataTime)
}

/** PostgreSQL's table name for a partition of `table`. */
export function pgPartitionTable(table: string, partition: string): string {
  return `${table}_${partition}`
}

/**
 * Apply the writer's load mode to a planned task (called by the planner once the task is built):
 * `truncate` sets the task's truncate; `append` / `partition` add the stamped column to the
 * mapping, the target columns and (for a table Sluice creates) the DDL, and record
 * {@link PlannedTask.load}. Problems go to `problems` with JSON paths; nothing is executed except
 * catalog reads.
 */
export async function planLoadMode(job: JobSpec, task: PlannedTask, pair: TablePair, writer: Connector, time: TimeContext, problems: Problem[]): Promise<void> {
  const w = job.writer
  if (w.loadMode === 'truncate') task.truncate = true
  if (w.loadMode !== 'append' && !w.partition) return
  const column = w.etlColumn ?? DEFAULT_ETL_COLUMN
  const path = task.path
  if (w.partition && writer.kind === 'sqlite') {
    problems.push({ path: '$.writer.partition', message: 'time partitions need a MySQL or PostgreSQL target; SQLite has no partitions', severity: 'error', code: 'unsupported' })
    return
  }
  if (task.ops.some((o) => o.targetName.toLowerCase() === column.toLowerCase())) {
    problems.push({ path, message: `target column '${column}' is both mapped and the etlColumn stamped with the data time; rename one (writer.etlColumn)`, severity: 'error', code: 'duplicate' })
    return
  }
  const unit = w.partition?.unit
  const stamp = stampFor(time, unit)
  const partition = unit ? { unit, ...partitionFor(time.dataTime, unit) } : undefined
  const etlType = { kind: 'datetime' as const, precision: 0 }
  let addColumn = false
  let target: Column
  if (task.targetExists) {
    let schema: TableSchema
    try {
      schema = await writer.catalog.table(task.target)
    } catch (e) {
      if (e instanceof NotFoundError) return
      throw e
    }
    const have = schema.columns.find((c) => c.name === column) ?? schema.columns.find((c) => c.name.toLowerCase() === column.toLowerCase())
    if (have) {
      target = have
      // The planner saw the column unmapped; the stamp maps it.
      const unmapped = `target column ${task.target.name}.${have.name} is NOT NULL`
      for (let i = problems.length - 1; i >= 0; i--) if (problems[i]!.code === 'unmapped' && problems[i]!.message.startsWith(unmapped)) problems.splice(i, 1)
    } else if (w.alterTable) {
      addColumn = true
      target = { name: column, ordinal: schema.columns.length + 1, type: etlType, nativeType: writer.nativeType(etlType).sql, nullable: true }
    } else {
      problems.push({ path: '$.writer.etlColumn', message: `target table '${task.target.name}' has no column '${column}' for the data-time stamp; add it, or set writer.alterTable: true to let Sluice add it`, severity: 'error', code: 'not_found' })
      return
    }
    if (partition) {
      const by = await partitionColumn(writer, task.target.schema, task.target.name)
      if (by === undefined) {
        problems.push({ path: '$.writer.partition', message: `target table '${task.target.name}' exists and is not partitioned; Sluice only partitions tables it creates (drop it, or partition it by RANGE on '${column}')`, severity: 'error', code: 'not_partitioned' })
        return
      }
      if (by.toLowerCase() !== target.name.toLowerCase()) {
        problems.push({ path: '$.writer.partition', message: `target table '${task.target.name}' is partitioned by '${by}', not by the etlColumn '${target.name}'`, severity: 'error', code: 'not_partitioned' })
        return
      }
    }
  } else {
    target = { name: column, ordinal: task.targetColumns.length + 1, type: etlType, nativeType: '', nullable: false }
    const schema = task.targetSchema
    if (schema) {
      const withKey = (cols: string[]) => (cols.length && !cols.includes(column) ? [...cols, column] : cols)
      const next: TableSchema = {
        ...schema,
        columns: [...schema.columns, target],
        primaryKey: withKey(schema.primaryKey),
        indexes: schema.indexes.map((ix) => (ix.unique ? { ...ix, columns: withKey(ix.columns) } : ix)),
      }
      task.targetSchema = next
      const ddl = writer.ddl(next, task.target, pair.typeOverrides)
      if (partition) {
        const q = writer.quoteIdent(column)
        const clause = writer.kind === 'mysql' ? `\nPARTITION BY RANGE COLUMNS(${q}) (PARTITION ${writer.quoteIdent(partition.name)} VALUES LESS THAN ('${partition.upper}'))` : `\nPARTITION BY RANGE (${q})`
        ddl.create[0] += clause
        if (ddl.createFallback) ddl.createFallback.create[0] += clause
      }
      task.ddl = ddl
      if (task.keyColumns?.length && !task.keyColumns.includes(column)) task.keyColumns = [...task.keyColumns, column]
    }
  }
  task.ops.push({ kind: 'constant', value: stamp, targetName: target.name })
  task.targetColumns.push(target)
  task.load = { column: target.name, stamp, addColumn, ...(partition ? { partition } : {}) }
}

/** The column a table is RANGE-partitioned by, or undefined when it is not partitioned. */
async function partitionColumn(writer: Connector, schema: string | undefined, table: string): Promise<string | undefined> {
  if (writer.kind === 'mysql') {
    const r = await writer.query(
      `SELECT PARTITION_EXPRESSION FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL LIMIT 1`,
      [schema ?? writer.defaultSchema, table],
    )
    const expr = r.rows[0]?.[0]
    return expr === undefined || expr === null ? undefined : String(expr).replace(/[`'"]/g, '').trim()
  }
  if (writer.kind === 'postgres') {
    const r = await writer.query(
      `SELECT a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
        WHERE n.nspname = $1 AND c.relname = $2 AND p.partstrat = 'r'`,
      [schema ?? writer.defaultSchema, table],
    )
    const col = r.rows[0]?.[0]
    return col === undefined || col === null ? undefined : String(col)
  }
  return undefined
}

/** The DELETE of the rows an earlier load of the task's data time wrote (append without partitions). */
export function dataTimeDelete(writer: Connector, task: PlannedTask): { sql: string; params: unknown[] } | undefined {
  const l = task.load
  if (!l || l.partition) return undefined
  return { sql: `DELETE FROM ${writer.quoteTable(task.target)} WHERE ${writer.quoteIdent(l.column)} = ${writer.kind === 'postgres' ? '$1' : '?'}`, params: [l.stamp] }
}

/**
 * Prepare the target for the task's load mode, once per task before any of its rows is written
 * (not again on resume): add the stamped column, create or truncate the data time's partition.
 * `log` receives one line per action.
 * @returns for an append load without partitions, the {@link dataTimeDelete} to run in the
 *   transaction of the first batch (`WriteSpec.firstSql`); it is not run here.
 */
export async function prepareLoad(writer: Connector, task: PlannedTask, log: (message: string) => void): Promise<{ sql: string; params: unknown[] } | undefined> {
  const l = task.load
  if (!l) return undefined
  const t = writer.quoteTable(task.target)
  const col = writer.quoteIdent(l.column)
  if (l.addColumn) {
    log(`adding column ${l.column} to ${task.target.name}`)
    await writer.execute([`ALTER TABLE ${t} ADD COLUMN ${col} ${writer.nativeType({ kind: 'datetime', precision: 0 }).sql} NULL`])
  }
  if (l.partition) {
    const p = l.partition
    if (writer.kind === 'mysql') {
      const schema = task.target.schema ?? writer.defaultSchema
      const r = await writer.query(`SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL`, [schema, task.target.name])
      const names = r.rows.map((x) => String(x[0]))
      if (names.some((n) => n.toLowerCase() === p.name.toLowerCase())) {
        log(`truncating partition ${p.name} of ${task.target.name} (data time ${l.stamp})`)
        await writer.execute([`ALTER TABLE ${t} TRUNCATE PARTITION ${writer.quoteIdent(p.name)}`])
      } else {
        log(`adding partition ${p.name} to ${task.target.name}`)
        await addMysqlPartition(writer, t, schema, task.target.name, p)
      }
    } else if (writer.kind === 'postgres') {
      const child = { ...task.target, name: pgPartitionTable(task.target.name, p.name) }
      const exists = await writer.query(`SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [child.schema ?? writer.defaultSchema, child.name])
      if (exists.rows.length) {
        log(`truncating partition ${child.name} of ${task.target.name} (data time ${l.stamp})`)
        await writer.execute([`TRUNCATE TABLE ${writer.quoteTable(child)}`])
      } else {
        log(`creating partition ${child.name} of ${task.target.name}`)
        await writer.execute([`CREATE TABLE ${writer.quoteTable(child)} PARTITION OF ${t} FOR VALUES FROM ('${p.lower}') TO ('${p.upper}')`])
      }
    }
    return undefined
  }
  log(`append: rows of data time ${l.stamp} in ${task.target.name} are replaced (deleted in the transaction of the first batch)`)
  return dataTimeDelete(writer, task)
}

/**
 * Add a RANGE COLUMNS partition `[lower, upper)` to a MySQL table. ADD PARTITION only appends
 * above the highest partition; a data time below it (a backfill) is cut out of the partition that
 * covers it with REORGANIZE PARTITION (that partition holds no rows of the new range: each holds
 * only its own data time's rows).
 */
async function addMysqlPartition(writer: Connector, t: string, schema: string, table: string, p: { name: string; lower: string; upper: string }): Promise<void> {
  const r = await writer.query(
    `SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION`,
    [schema, table],
  )
  const parts = r.rows.map((x) => ({ name: String(x[0]), upper: String(x[1]).replace(/^'|'$/g, '') }))
  const covering = parts.find((x) => x.upper === 'MAXVALUE' || x.upper > p.upper)
  const def = `PARTITION ${writer.quoteIdent(p.name)} VALUES LESS THAN ('${p.upper}')`
  if (!covering) {
    await writer.execute([`ALTER TABLE ${t} ADD PARTITION (${def})`])
    return
  }
  const keep = covering.upper === 'MAXVALUE' ? 'MAXVALUE' : `('${covering.upper}')`
  await writer.execute([`ALTER TABLE ${t} REORGANIZE PARTITION ${writer.quoteIdent(covering.name)} INTO (${def}, PARTITION ${writer.quoteIdent(covering.name)} VALUES LESS THAN ${keep})`])
}

/**
 * Scope a split's redo delete to the load's own rows (its data time): a resumed append or
 * partitioned load must never delete rows of other data times.
 */
export function scopeRedo(redo: RedoPlan, task: PlannedTask, writer: Connector): RedoPlan {
  const l = task.load
  if (!l || redo.kind !== 'delete') return redo
  const params = [...redo.params, l.stamp]
  const ph = writer.kind === 'postgres' ? `$${params.length}` : '?'
  const col = writer.quoteIdent(l.column)
  const sql = /\sWHERE\s/.test(redo.sql) ? redo.sql.replace(/\sWHERE\s([\s\S]*)$/, (_m, pred: string) => ` WHERE (${pred}) AND ${col} = ${ph}`) : `${redo.sql} WHERE ${col} = ${ph}`
  return { kind: 'delete', sql, params }
}
