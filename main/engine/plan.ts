/**
 * The planner: job spec + both catalogs -> one task per table pair, each with its read spec,
 * its target (existing or to be created, with DDL), its compiled field mapping and the problems
 * found (each with the JSON path of the spec field it concerns).
 *
 * Planning has no side effects: `sluice validate` and the wizard call it as is; the runner then
 * executes the plan.
 */
import type { Column, LogicalType, TableRef, TableSchema, Value } from '../core/types.js'
import type { CatalogReader, Connector, DdlPlan, ReadSpec, ResultColumn, WriteMode } from '../connectors/types.js'
import { NotFoundError } from '../connectors/types.js'
import type { FieldMapping, JobSpec, Problem, TablePair } from '../job/spec.js'
import { substitute, VariableError, type TimeContext } from '../job/variables.js'
import { checkNarrowing } from './compat.js'
import type { MapOp } from './mapping.js'
import { planLoadMode, type LoadPlan } from './loadmode.js'
import { normalizeRunConfig } from '../job/runconfig.js'

export interface PlannedTask {
  index: number
  /** Unique within the run: the source table name (or `query<N>`). */
  taskId: string
  /** JSON path of the spec entry this task comes from. */
  path: string
  read: ReadSpec
  sourceColumns: ResultColumn[]
  sourceSchema?: TableSchema
  target: TableRef
  targetExists: boolean
  /** Target columns in write order (for a table still to be created: as it will be created). */
  targetColumns: Column[]
  /** The target table's description used for DDL, when it is to be created. */
  targetSchema?: TableSchema
  ddl?: DdlPlan
  ops: MapOp[]
  writeMode: WriteMode
  keyColumns?: string[]
  truncate: boolean
  preSql: string[]
  postSql: string[]
  estimatedRows?: number
  /** Append / partitioned load: the stamped data-time column and partition (main/engine/loadmode.ts). */
  load?: LoadPlan
}

export interface Plan {
  tasks: PlannedTask[]
  problems: Problem[]
  /** Source objects that are listed but not moved (views, triggers, routines). */
  notMigrated: string[]
  /** Writer-level pre/post SQL (variables substituted). */
  preSql: string[]
  postSql: string[]
}

export interface PlanContext {
  reader: Connector
  writer: Connector
  vars: Record<string, string>
  time: TimeContext
}

/** Plan a validated job against live catalogs. Never throws for a problem in the job: it is returned. */
export async function planJob(job: JobSpec, ctx: PlanContext): Promise<Plan> {
  const problems: Problem[] = []
  const sub = (text: string | undefined, path: string): string | undefined => {
    if (text === undefined) return undefined
    try {
      return substitute(text, ctx.vars, ctx.time, path)
    } catch (e) {
      if (e instanceof VariableError) {
        problems.push({ path, message: e.message.replace(/^\$[^:]*: /, ''), severity: 'error', code: 'variable' })
        return undefined
      }
      throw e
    }
  }
  const readerSchema = job.reader.schema ?? ctx.reader.defaultSchema
  const writerSchema = job.writer.schema ?? ctx.writer.defaultSchema
  const notMigrated: string[] = []

  // 1. Which table pairs.
  let pairs: Array<{ pair: TablePair; path: string }>
  if (Array.isArray(job.tables)) {
    pairs = job.tables.map((pair, i) => ({ pair, path: `$.tables[${i}]` }))
  } else {
    const all = await ctx.reader.catalog.tables(readerSchema)
    const include = job.tables.include
    const exclude = new Set(job.tables.exclude)
    const tables = all.filter((t) => t.kind === 'table')
    if (include !== '*') {
      const have = new Set(tables.map((t) => t.name))
      include.forEach((n, i) => {
        if (!have.has(n)) problems.push({ path: `$.tables.include[${i}]`, message: `table '${n}' not found in ${readerSchema}`, severity: 'error', code: 'not_found' })
      })
    }
    pairs = tables
      .filter((t) => (include === '*' || include.includes(t.name)) && !exclude.has(t.name))
      .map((t) => ({ pair: { source: t.name } as TablePair, path: '$.tables' }))
    for (const v of all.filter((t) => t.kind === 'view')) notMigrated.push(`view ${v.name}`)
    try {
      for (const o of await ctx.reader.catalog.others(readerSchema)) if (o.kind !== 'view') notMigrated.push(`${o.kind} ${o.name}`)
    } catch {
      /* listing is best effort */
    }
    if (pairs.length === 0) problems.push({ path: '$.tables', message: `no tables selected in ${readerSchema}`, severity: 'error', code: 'empty' })
  }

  const caseFn = job.writer.identifierCase === 'lower' ? (s: string) => s.toLowerCase() : (s: string) => s
  const jobTargets = new Map<string, string>() // source table -> target table, for foreign keys
  for (const { pair } of pairs) {
    const src = typeof pair.source === 'string' ? pair.source : pair.source.table
    if (src) jobTargets.set(src, pair.target ?? caseFn(src))
  }

  // Catalog once: with several pairs, both sides' tables are described in a fixed number of
  // queries per database (CatalogReader.tablesDetailed) and every pair is planned from that
  // snapshot; a name the snapshot lacks falls back to a lookup only when it could be a case
  // variant of one it has (MySQL with case-insensitive names), else it does not exist.
  if (pairs.length > 1) {
    const srcNames = new Set<string>()
    const dstNames = new Set<string>()
    for (const { pair } of pairs) {
      const src = typeof pair.source === 'string' ? { table: pair.source } : pair.source
      if (src.table && !/\$[{[]/.test(src.table) && (src.schema === undefined || src.schema === readerSchema)) srcNames.add(src.table)
      const tgt = pair.target ?? (src.table ? caseFn(src.table) : undefined)
      if (tgt && !/\$[{[]/.test(tgt)) dstNames.add(tgt)
    }
    const [srcSnap, dstSnap] = await Promise.all([
      srcNames.size > 1 ? ctx.reader.catalog.tablesDetailed?.(readerSchema, [...srcNames]).catch(() => undefined) : undefined,
      dstNames.size > 1 ? ctx.writer.catalog.tablesDetailed?.(writerSchema, [...dstNames]).catch(() => undefined) : undefined,
    ])
    ctx = { ...ctx, reader: withSnapshot(ctx.reader, readerSchema, srcNames, srcSnap), writer: withSnapshot(ctx.writer, writerSchema, dstNames, dstSnap) }
  }

  // Pairs are planned PLAN_CONCURRENCY at a time (each reads its source and target catalog: a
  // whole database of 300 tables was 600 catalog round trips one after another); tasks and
  // problems keep the order of the pairs.
  const planned = await mapLimit(pairs, PLAN_CONCURRENCY, async ({ pair, path }, i) => {
    const own: Problem[] = []
    try {
      const t = await planPair(job, pair, path, i, ctx, { readerSchema, writerSchema, caseFn, jobTargets, sub, problems: own })
      if (t) await planLoadMode(job, t, pair, ctx.writer, ctx.time, own)
      return { t, own }
    } catch (e) {
      own.push({ path, message: (e as Error).message, severity: 'error', code: (e as { code?: string }).code ?? 'catalog' })
      return { t: undefined, own }
    }
  })
  const tasks: PlannedTask[] = []
  const usedIds = new Set<string>()
  for (const { t, own } of planned) {
    problems.push(...own)
    if (!t) continue
    let id = t.taskId
    for (let k = 2; usedIds.has(id); k++) id = `${t.taskId}#${k}`
    usedIds.add(id)
    t.taskId = id
    tasks.push(t)
  }
  const preSql = job.writer.preSql.map((s, i) => sub(s, `$.writer.preSql[${i}]`) ?? '')
  const postSql = job.writer.postSql.map((s, i) => sub(s, `$.writer.postSql[${i}]`) ?? '')
  return { tasks, problems, notMigrated, preSql, postSql }
}

/**
 * `c` whose `catalog.table` answers from `snap` (a {@link CatalogReader.tablesDetailed} result for
 * `names` of `schema`): a table in the snapshot is returned as read, a name asked for and absent
 * is NotFound unless the snapshot holds a case variant of it (then the catalog is asked). Anything
 * else goes to the catalog. `c` itself is returned when there is no snapshot.
 */
function withSnapshot(c: Connector, schema: string, names: Set<string>, snap: Map<string, TableSchema> | undefined): Connector {
  if (!snap) return c
  const lower = new Set([...snap.keys()].map((k) => k.toLowerCase()))
  const base = c.catalog
  const catalog: CatalogReader = Object.create(base, {
    table: {
      value: async (ref: TableRef): Promise<TableSchema> => {
        if ((ref.schema ?? schema) === schema && names.has(ref.name)) {
          const t = snap.get(ref.name)
          if (t) return t
          if (!lower.has(ref.name.toLowerCase())) throw new NotFoundError(`table ${schema}.${ref.name} does not exist`)
        }
        return base.table(ref)
      },
    },
  })
  return Object.create(c, { catalog: { value: catalog } }) as Connector
}

/** Table pairs planned at once (catalog reads in flight per side; the pools hold 8 connections). */
export const PLAN_CONCURRENCY = 6

/** `fn` over `items`, at most `limit` at once; results in the order of `items`. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

interface PairEnv {
  readerSchema: string
  writerSchema: string
  caseFn: (s: string) => string
  jobTargets: Map<string, string>
  sub: (text: string | undefined, path: string) => string | undefined
  problems: Problem[]
}

async function planPair(job: JobSpec, pair: TablePair, path: string, index: number, ctx: PlanContext, env: PairEnv): Promise<PlannedTask | undefined> {
  const { sub, problems } = env
  const srcObj = typeof pair.source === 'string' ? { table: pair.source } : pair.source
  const querySql = sub(srcObj.querySql, `${path}.source.querySql`)
  const srcTable = sub(srcObj.table, `${path}.source`)
  if (!querySql && !srcTable) {
    problems.push({ path: `${path}.source`, message: 'needs a table or a querySql', severity: 'error', code: 'schema' })
    return undefined
  }
  const where = sub(pair.where ?? job.reader.where, pair.where !== undefined ? `${path}.where` : '$.reader.where')

  // 2. Source columns.
  let sourceSchema: TableSchema | undefined
  let sourceColumns: ResultColumn[]
  const read: ReadSpec = {}
  if (querySql) {
    read.querySql = querySql
    try {
      sourceColumns = await ctx.reader.describeRead({ querySql })
    } catch (e) {
      // The database parsed the query and refused it: a problem of this querySql, not a lost connection.
      if ((e as { code?: unknown }).code === 'ECONNREFUSED' || (e as { code?: unknown }).code === 'ETIMEDOUT') throw e
      problems.push({ path: `${path}.source.querySql`, message: `querySql: the source database refuses it: ${(e as Error).message}`, severity: 'error', code: 'sql' })
      return undefined
    }
  } else {
    const ref: TableRef = { schema: srcObj.schema ?? env.readerSchema, name: srcTable! }
    try {
      sourceSchema = await ctx.reader.catalog.table(ref)
    } catch (e) {
      if (e instanceof NotFoundError) {
        problems.push({ path: typeof pair.source === 'string' ? `${path}.source` : `${path}.source.table`, message: e.message, severity: 'error', code: 'not_found' })
        return undefined
      }
      throw e
    }
    read.table = ref
    let cols = sourceSchema.columns
    if (pair.columns && !(pair.columns.length === 1 && pair.columns[0] === '*')) {
      const byName = new Map(cols.map((c) => [c.name, c]))
      const picked: Column[] = []
      pair.columns.forEach((n, j) => {
        const c = byName.get(n)
        if (!c) problems.push({ path: `${path}.columns[${j}]`, message: `column '${n}' not found in source table ${srcTable}`, severity: 'error', code: 'not_found' })
        else picked.push(c)
      })
      cols = picked
    }
    read.columns = cols.map((c) => c.name)
    if (where) read.where = where
    const orderBy = normalizeRunConfig(job).orderBy
    if (orderBy) read.orderBy = orderBy
    const splitPk = pair.splitPk ?? job.reader.splitPk
    if (splitPk) {
      if (!sourceSchema.columns.some((c) => c.name === splitPk))
        problems.push({ path: pair.splitPk ? `${path}.splitPk` : '$.reader.splitPk', message: `splitPk column '${splitPk}' not found in ${srcTable}`, severity: pair.splitPk ? 'error' : 'warning', code: 'not_found' })
      else read.splitPk = splitPk
    }
    sourceColumns = cols.map((c) => ({ name: c.name, type: c.type, nativeType: c.nativeType }))
  }
  const taskId = srcTable ?? `query${index + 1}`

  // 3. Target.
  const targetName = sub(pair.target, `${path}.target`) ?? env.caseFn(srcTable ?? `query${index + 1}`)
  const target: TableRef = { schema: env.writerSchema, name: targetName }
  let targetSchema: TableSchema | undefined
  let targetExists = true
  try {
    targetSchema = await ctx.writer.catalog.table(target)
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e
    targetExists = false
  }
  if (!targetExists && !job.writer.createTable) {
    problems.push({ path: pair.target !== undefined ? `${path}.target` : path, message: `target table '${targetName}' does not exist and writer.createTable is false`, severity: 'error', code: 'not_found' })
    return undefined
  }

  // 4. Field mapping.
  const ops: MapOp[] = []
  const srcIndex = new Map(sourceColumns.map((c, k) => [c.name, k]))
  const srcType = (k: number): LogicalType => sourceColumns[k]!.type
  const targetCols = targetSchema?.columns
  const findTarget = (name: string): Column | undefined => {
    if (!targetCols) return undefined
    return targetCols.find((c) => c.name === name) ?? targetCols.find((c) => c.name.toLowerCase() === name.toLowerCase())
  }
  const mpath = `${path}.mapping`
  if (pair.mapping && pair.mapping.length) {
    pair.mapping.forEach((m: FieldMapping, j: number) => {
      const at = `${mpath}[${j}]`
      let tname = m.target
      if (targetCols) {
        const tc = findTarget(m.target)
        if (!tc) {
          problems.push({ path: `${at}.target`, message: `target column '${m.target}' not found in ${targetName}`, severity: 'error', code: 'not_found' })
          return
        }
        tname = tc.name
      }
      if (m.constant !== undefined) {
        const v = typeof m.constant === 'string' ? sub(m.constant, `${at}.constant`) ?? '' : m.constant
        ops.push({ kind: 'constant', value: v as Value, targetName: tname })
        return
      }
      let k: number | undefined
      if (m.position !== undefined) {
        if (m.position >= sourceColumns.length) {
          problems.push({ path: `${at}.position`, message: `position ${m.position} is past the ${sourceColumns.length} source columns`, severity: 'error', code: 'range' })
          return
        }
        k = m.position
      } else {
        const sname = m.source ?? m.target
        k = srcIndex.get(sname) ?? sourceColumns.findIndex((c) => c.name.toLowerCase() === sname.toLowerCase())
        if (k === undefined || k < 0) {
          problems.push({ path: `${at}.${m.source !== undefined ? 'source' : 'target'}`, message: `source column '${sname}' not found`, severity: 'error', code: 'not_found' })
          return
        }
      }
      ops.push({
        kind: 'column',
        index: k,
        sourceName: sourceColumns[k]!.name,
        targetName: tname,
        sourceType: srcType(k),
        ...(m.nullDefault !== undefined ? { nullDefault: m.nullDefault } : {}),
        ...(m.timeFormat ? { timeFormat: m.timeFormat } : {}),
      })
    })
  } else if (pair.mappingMode === 'position' && targetCols) {
    sourceColumns.forEach((c, k) => {
      if (hiddenFileColumn(ctx, c.name)) return
      const tc = targetCols[k]
      if (!tc) problems.push({ path, message: `source column '${c.name}' (position ${k}) has no target column at that position; not written`, severity: 'warning', code: 'unmapped' })
      else ops.push({ kind: 'column', index: k, sourceName: c.name, targetName: tc.name, sourceType: c.type })
    })
  } else {
    sourceColumns.forEach((c, k) => {
      if (hiddenFileColumn(ctx, c.name)) return
      if (targetCols) {
        const tc = findTarget(c.name)
        if (!tc) problems.push({ path, message: `source column '${c.name}' has no target column of the same name in ${targetName}; not written`, severity: 'warning', code: 'unmapped' })
        else if (tc.generated) problems.push({ path, message: `target column ${targetName}.${tc.name} is a generated column: the target computes it, not written`, severity: 'warning', code: 'unmapped' })
        else ops.push({ kind: 'column', index: k, sourceName: c.name, targetName: tc.name, sourceType: c.type })
      } else ops.push({ kind: 'column', index: k, sourceName: c.name, targetName: env.caseFn(c.name), sourceType: c.type })
    })
  }
  const seen = new Set<string>()
  for (const op of ops) {
    if (seen.has(op.targetName)) problems.push({ path: mpath, message: `target column '${op.targetName}' is mapped twice`, severity: 'error', code: 'duplicate' })
    seen.add(op.targetName)
  }
  if (ops.length === 0) problems.push({ path, message: `no column of ${taskId} is mapped to ${targetName}`, severity: 'error', code: 'unmapped' })
  if (targetCols && ctx.reader.kind === 'file') adoptTargetTypes(read, sourceColumns, ops, targetCols)

  // 5. Target columns in write order, DDL for a new table, narrowing checks for an existing one.
  let targetColumns: Column[]
  let ddl: DdlPlan | undefined
  let newSchema: TableSchema | undefined
  if (targetCols) {
    const byName = new Map(targetCols.map((c) => [c.name, c]))
    targetColumns = ops.map((op) => byName.get(op.targetName)!)
    ops.forEach((op, j) => {
      if (op.kind !== 'column') return
      const sc: Column = { name: op.sourceName, ordinal: op.index + 1, type: op.sourceType, nativeType: sourceColumns[op.index]!.nativeType ?? '', nullable: sourceSchema?.columns.find((c) => c.name === op.sourceName)?.nullable ?? true }
      const n = checkNarrowing(sc, targetColumns[j]!)
      if (n) problems.push({ path: pair.mapping ? `${mpath}[${j}]` : path, message: `column ${op.sourceName} -> ${targetName}.${op.targetName}: ${n.message}`, severity: n.severity, code: 'narrowing' })
      // timeFormat re-spells times written as text (timeformat.ts): between two date/time or two non-time types it does nothing.
      if (op.timeFormat && !timeFormatApplies(op.sourceType.kind, targetColumns[j]!.type.kind))
        problems.push({ path: pair.mapping ? `${mpath}[${j}].timeFormat` : path, message: `column ${op.sourceName} -> ${targetName}.${op.targetName}: timeFormat does nothing here (${op.sourceType.kind} -> ${targetColumns[j]!.type.kind}); it converts between text and dates/times`, severity: 'warning', code: 'time_format' })
      // (A file column's nullability is unknown: no warning for every NOT NULL target column.)
      if (!targetColumns[j]!.nullable && sc.nullable && op.nullDefault === undefined && ctx.reader.kind !== 'file')
        problems.push({ path: pair.mapping ? `${mpath}[${j}]` : path, message: `column ${op.sourceName} is nullable but ${targetName}.${op.targetName} is NOT NULL: NULL rows become dirty records (set nullDefault to write a value instead)`, severity: 'warning', code: 'nullability' })
    })
    for (const c of targetCols) {
      if (!seen.has(c.name) && !c.nullable && c.default === undefined && !c.autoIncrement && !c.generated)
        problems.push({ path, message: `target column ${targetName}.${c.name} is NOT NULL, has no default and is not mapped: every row would fail`, severity: 'error', code: 'unmapped' })
    }
  } else {
    newSchema = targetSchemaFor(sourceSchema, sourceColumns, ops, target, env)
    ddl = ctx.writer.ddl(newSchema, target, pair.typeOverrides)
    for (const w of ddl.warnings) problems.push({ path, message: `${targetName}: ${w}`, severity: 'warning', code: 'type_mapping' })
    targetColumns = newSchema.columns
    // Columns the target computes itself (generated columns re-created with their expression)
    // are never written: they leave the field mapping.
    if (ddl.generated?.length) {
      const computed = new Set(ddl.generated)
      const keep = ops.map((op) => !computed.has(op.targetName))
      targetColumns = targetColumns.filter((_, j) => keep[j])
      for (let j = ops.length - 1; j >= 0; j--) if (!keep[j]) ops.splice(j, 1)
    }
  }

  const writeMode = pair.writeMode ?? job.writer.writeMode
  const pk = targetSchema?.primaryKey ?? newSchema?.primaryKey ?? []
  if (writeMode !== 'insert' && pk.length === 0)
    problems.push({ path: pair.writeMode ? `${path}.writeMode` : '$.writer.writeMode', message: `writeMode '${writeMode}' needs a primary key on ${targetName}`, severity: 'error', code: 'no_key' })

  return {
    index,
    taskId,
    path,
    read,
    sourceColumns,
    ...(sourceSchema ? { sourceSchema } : {}),
    target,
    targetExists,
    targetColumns,
    ...(newSchema ? { targetSchema: newSchema } : {}),
    ...(ddl ? { ddl } : {}),
    ops,
    writeMode,
    ...(pk.length ? { keyColumns: pk } : {}),
    truncate: pair.truncate ?? job.writer.truncate,
    preSql: (pair.preSql ?? []).map((s, j) => sub(s, `${path}.preSql[${j}]`) ?? ''),
    postSql: (pair.postSql ?? []).map((s, j) => sub(s, `${path}.postSql[${j}]`) ?? ''),
    ...(sourceSchema?.estimatedRows !== undefined ? { estimatedRows: sourceSchema.estimatedRows } : {}),
  }
}

/** File readers' hidden columns (`@file`, `@line`, `@error`): never mapped unless named in a mapping. */
function hiddenFileColumn(ctx: PlanContext, name: string): boolean {
  return ctx.reader.kind === 'file' && name.startsWith('@')
}

/**
 * A file column that declares no type is read as the type of the target column it feeds (an
 * existing table's), so hex reaches a bytes column as bytes and `t` a boolean as true.
 */
function adoptTargetTypes(read: ReadSpec, cols: ResultColumn[], ops: MapOp[], targets: Column[]): void {
  const byName = new Map(targets.map((c) => [c.name, c]))
  for (const op of ops) {
    if (op.kind !== 'column' || cols[op.index]!.nativeType !== 'untyped text' || op.timeFormat) continue
    const tc = byName.get(op.targetName)
    if (!tc) continue
    read.types = { ...read.types, [op.sourceName]: tc.type }
    op.sourceType = tc.type
    cols[op.index] = { ...cols[op.index]!, type: tc.type }
  }
}

/** The description of a table to create from the source table and the mapping. */
function targetSchemaFor(src: TableSchema | undefined, cols: ResultColumn[], ops: MapOp[], target: TableRef, env: PairEnv): TableSchema {
  const srcCol = new Map((src?.columns ?? []).map((c) => [c.name, c]))
  const rename = new Map<string, string>()
  const columns: Column[] = ops.map((op, j) => {
    if (op.kind === 'constant') {
      const v = op.value
      const type: LogicalType =
        typeof v === 'boolean' ? { kind: 'bool' } : typeof v === 'number' ? (Number.isInteger(v) ? { kind: 'int', bits: 64 } : { kind: 'float', bits: 64 }) : { kind: 'text' }
      return { name: op.targetName, ordinal: j + 1, type, nativeType: '', nullable: true }
    }
    rename.set(op.sourceName, op.targetName)
    const c = srcCol.get(op.sourceName)
    const base: Column = c ?? { name: op.sourceName, ordinal: j + 1, type: cols[op.index]!.type, nativeType: cols[op.index]!.nativeType ?? '', nullable: true }
    const out: Column = { ...base, name: op.targetName, ordinal: j + 1 }
    if (op.timeFormat && !op.timeFormat.to) out.type = { kind: 'string', length: 32 }
    if (op.nullDefault !== undefined) out.nullable = base.nullable
    return out
  })
  const mapAll = (names: string[]) => (names.every((n) => rename.has(n)) ? names.map((n) => rename.get(n)!) : undefined)
  const primaryKey = src ? mapAll(src.primaryKey) ?? [] : []
  const indexes = (src?.indexes ?? []).filter((ix) => !ix.primary).flatMap((ix) => {
    const c = mapAll(ix.columns)
    return c ? [{ ...ix, columns: c }] : []
  })
  // Schema objects that cannot follow (an index or key on a column not carried, a foreign key to a
  // table outside the job) are listed, never silently dropped.
  const omitted: string[] = [...(src?.omitted ?? [])]
  for (const ix of src?.indexes ?? []) if (!ix.primary && !mapAll(ix.columns)) omitted.push(`index ${ix.name} not created: a column of it (${ix.columns.join(', ')}) is not carried`)
  const foreignKeys = (src?.foreignKeys ?? []).flatMap((fk) => {
    const c = mapAll(fk.columns)
    const refTarget = env.jobTargets.get(fk.refTable)
    if (!c || !refTarget) {
      omitted.push(`foreign key ${fk.name} not created: ${!c ? `a column of it (${fk.columns.join(', ')}) is not carried` : `the referenced table ${fk.refTable} is not part of this job`}`)
      return []
    }
    return [{ ...fk, columns: c, refSchema: target.schema, refTable: refTarget, refColumns: fk.refColumns.map(env.caseFn) }]
  })
  const renamed = Object.fromEntries([...rename].filter(([a, b]) => a !== b))
  return {
    ...(src?.checks?.length ? { checks: src.checks, ...(Object.keys(renamed).length ? { renamed } : {}) } : {}),
    ...(src?.partitioning ? { partitioning: src.partitioning } : {}),
    ...(omitted.length ? { omitted } : {}),
    schema: target.schema,
    name: target.name,
    columns,
    primaryKey,
    indexes,
    foreignKeys,
    ...(src?.autoIncrementNext ? { autoIncrementNext: src.autoIncrementNext } : {}),
    ...(src?.comment ? { comment: src.comment } : {}),
  }
}

/**
 * Whether a mapping's `timeFormat` has an effect between a source and a target logical type: it
 * converts text to a date/time or a date/time to text (timeformat.ts), nothing else.
 */
export function timeFormatApplies(source: LogicalType['kind'], target: LogicalType['kind']): boolean {
  const temporal = (k: string) => k === 'date' || k === 'datetime' || k === 'timestamptz' || k === 'time' || k === 'year'
  const text = (k: string) => k === 'string' || k === 'enum'
  return (text(source) && temporal(target)) || (temporal(source) && text(target)) || (text(source) && text(target))
}
