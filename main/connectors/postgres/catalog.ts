/**
 * PostgreSQL catalog reader over pg_catalog. Identifiers are matched exactly (case-sensitive), as
 * stored in the catalog; nothing is folded.
 */
import type pg from 'pg'
import type { CheckConstraint, Column, ForeignKeyInfo, IndexInfo, OtherObject, TableRef, TableSchema, TableSummary } from '../../core/types.js'
import { NotFoundError, type CatalogReader, type ResultColumn } from '../types.js'
import { logicalFromNative } from './types.js'

type Queryable = Pick<pg.Pool, 'query'>

/** `pg_constraint.confupdtype/confdeltype` codes -> SQL actions. */
const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }

/**
 * SQL fragment describing a type (oid `o`, typmod `m`) as the columns needed by
 * {@link logicalFromNative}: native, base_native, base_typtype, labels (JSON text).
 */
const TYPE_INFO_SQL = `
  format_type(o, m) AS native,
  format_type(bt.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE m END) AS base_native,
  bt.typtype AS base_typtype,
  CASE WHEN bt.typtype = 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid)::text END AS labels`

interface TypeRow {
  native: string
  base_native: string
  base_typtype: string
  labels: string | null
}

function typeOf(r: TypeRow) {
  return logicalFromNative({ native: r.native, baseNative: r.base_native, baseTyptype: r.base_typtype, labels: r.labels ? (JSON.parse(r.labels) as string[]) : null })
}

/**
 * Logical types of result fields (query results, querySql reads) from their type OIDs and typmods.
 * One catalog round trip for all fields.
 */
export async function describeFields(db: Queryable, fields: ReadonlyArray<{ name: string; dataTypeID: number; dataTypeModifier: number }>): Promise<ResultColumn[]> {
  if (fields.length === 0) return []
  const { rows } = await db.query<TypeRow & { i: string }>(
    `SELECT k.i, ${TYPE_INFO_SQL}
       FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS k(o, m, i)
       JOIN pg_type t ON t.oid = k.o
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      ORDER BY k.i`,
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  )
  const byIndex = new Map(rows.map((r) => [Number(r.i), r]))
  return fields.map((f, i) => {
    const r = byIndex.get(i + 1)
    if (!r) return { name: f.name, type: { kind: 'other', native: `oid ${f.dataTypeID}` }, nativeType: `oid ${f.dataTypeID}` }
    return { name: f.name, type: typeOf(r), nativeType: r.native }
  })
}

interface RelRow {
  oid: number
  relkind: string
  reltuples: number
  comment: string | null
}

/** Find a relation (table, partitioned table, view, materialized view, foreign table) or throw NotFoundError. */
export async function findRelation(db: Queryable, ref: TableRef, defaultSchema: string): Promise<RelRow & { schema: string }> {
  const schema = ref.schema ?? defaultSchema
  const { rows } = await db.query<{ oid: string; relkind: string; reltuples: number; comment: string | null }>(
    `SELECT c.oid::int8::text AS oid, c.relkind::text, c.reltuples::float8 AS reltuples, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f')`,
    [schema, ref.name],
  )
  if (!rows.length) throw new NotFoundError(`table "${schema}"."${ref.name}" does not exist`)
  const r = rows[0]
  return { oid: Number(r.oid), relkind: r.relkind, reltuples: r.reltuples, comment: r.comment, schema }
}

/** Columns of a relation by oid, in table order (dropped columns skipped; ordinal is 1-based among live columns). */
export async function relationColumns(db: Queryable, oid: number): Promise<Column[]> {
  return (await relationsColumns(db, [oid])).get(oid) ?? []
}

/** {@link relationColumns} of several relations in one query: oid -> columns. */
export async function relationsColumns(db: Queryable, oids: readonly number[]): Promise<Map<number, Column[]>> {
  const { rows } = await db.query<
    TypeRow & { rel: string; attname: string; attnotnull: boolean; def: string | null; attidentity: string; attgenerated: string; collation: string | null; comment: string | null }
  >(
    `SELECT a.attrelid::int8::text AS rel, a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity::text, a.attgenerated::text,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname END AS collation,
            col_description(a.attrelid, a.attnum) AS comment, ${TYPE_INFO_SQL}
       FROM (SELECT a.*, a.atttypid AS o, a.atttypmod AS m FROM pg_attribute a) a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  )
  const out = new Map<number, Column[]>()
  for (const r of rows) {
    const rel = Number(r.rel)
    let list = out.get(rel)
    if (!list) out.set(rel, (list = []))
    const col: Column = {
      name: r.attname,
      ordinal: list.length + 1,
      type: typeOf(r),
      nativeType: r.native,
      nullable: !r.attnotnull,
    }
    const serial = r.def !== null && /^nextval\(/.test(r.def)
    if (r.attidentity === 'a' || r.attidentity === 'd' || serial) col.autoIncrement = true
    // Generated columns have an expression, not a default; identity columns report autoIncrement.
    if (r.def !== null && !r.attgenerated) col.default = r.def
    if (r.def !== null && r.attgenerated === 's') col.generated = { expression: r.def, stored: true, dialect: 'postgres' }
    if (r.collation) col.collation = r.collation
    if (r.comment !== null) col.comment = r.comment
    list.push(col)
  }
  return out
}

/** Group rows by their `rel` (relation oid as text). */
function byRel<T extends { rel: string }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>()
  for (const r of rows) {
    const k = Number(r.rel)
    let l = m.get(k)
    if (!l) m.set(k, (l = []))
    l.push(r)
  }
  return m
}

/**
 * Full descriptions of the relations `names` of `schema` (every table, view and foreign table when
 * `names` is undefined), in a fixed number of queries whatever their number: relations, columns,
 * indexes, CHECK constraints (with domain checks), foreign keys and sequence positions one query
 * each, plus one per partitioned table. Relations that do not exist are absent from the map.
 */
export async function describeRelations(q: Queryable, schema: string, names?: readonly string[]): Promise<Map<string, TableSchema>> {
  const out = new Map<string, TableSchema>()
  if (names && !names.length) return out
  const rels = await q.query<{ oid: string; relname: string; relkind: string; reltuples: number; comment: string | null }>(
    `SELECT c.oid::int8::text AS oid, c.relname, c.relkind::text, c.reltuples::float8 AS reltuples, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r','p','v','m','f')${names ? ' AND c.relname = ANY($2::text[])' : ''}`,
    names ? [schema, [...names]] : [schema],
  )
  if (!rels.rows.length) return out
  const oids = rels.rows.map((r) => Number(r.oid))
  // On a pool the four lookups run at once; on one client (a writer's own connection) in turn,
  // since a pg client runs one query at a time.
  const onPool = 'totalCount' in (q as object)
  const all = <T extends unknown[]>(fs: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> =>
    onPool
      ? (Promise.all(fs.map((f) => f())) as Promise<T>)
      : fs.reduce<Promise<unknown[]>>(async (acc, f) => [...(await acc), await f()], Promise.resolve([])) as Promise<T>
  const [colsBy, idx, ck, fk] = await all([
    () => relationsColumns(q, oids),
    () => q.query<{ rel: string; name: string; unique: boolean; primary: boolean; columns: string | null; amname: string; partial: boolean; expr: boolean; def: string }>(
      `SELECT i.indrelid::int8::text AS rel, ic.relname AS name, i.indisunique AS "unique", i.indisprimary AS "primary", am.amname, pg_get_indexdef(i.indexrelid) AS def,
              i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS expr,
              (SELECT json_agg(a.attname ORDER BY k.ord)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE k.ord <= i.indnkeyatts)::text AS columns
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = ANY($1::oid[])
        ORDER BY i.indrelid, i.indisprimary DESC, ic.relname`,
      [oids],
    ),
    // CHECK constraints of the tables and of the domains their columns use (a domain's VALUE is the column).
    () => q.query<{ rel: string; name: string; expr: string; col: string | null }>(
      `SELECT con.conrelid::int8::text AS rel, con.conname AS name, pg_get_expr(con.conbin, con.conrelid) AS expr, NULL::text AS col
         FROM pg_constraint con WHERE con.conrelid = ANY($1::oid[]) AND con.contype = 'c'
       UNION ALL
       SELECT a.attrelid::int8::text, con.conname || '_' || a.attname, pg_get_expr(con.conbin, 0), a.attname
         FROM pg_attribute a JOIN pg_constraint con ON con.contypid = a.atttypid AND con.contype = 'c'
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY 1, 2`,
      [oids],
    ),
    () => q.query<{ rel: string; name: string; upd: string; del: string; ref_schema: string; ref_table: string; cols: string; ref_cols: string }>(
      `SELECT con.conrelid::int8::text AS rel, con.conname AS name, con.confupdtype::text AS upd, con.confdeltype::text AS del, rn.nspname AS ref_schema, rc.relname AS ref_table,
              (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)::text AS cols,
              (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n)::text AS ref_cols
         FROM pg_constraint con
         JOIN pg_class rc ON rc.oid = con.confrelid
         JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.conrelid = ANY($1::oid[]) AND con.contype = 'f'
        ORDER BY con.conrelid, con.conname`,
      [oids],
    ),
  ])
  const idxBy = byRel(idx.rows)
  const ckBy = byRel(ck.rows)
  const fkBy = byRel(fk.rows)
  for (const rel of rels.rows) {
    const oid = Number(rel.oid)
    const columns = colsBy.get(oid) ?? []
    let primaryKey: string[] = []
    const indexes: IndexInfo[] = []
    const omitted: string[] = []
    for (const r of idxBy.get(oid) ?? []) {
      const cols = r.columns ? (JSON.parse(r.columns) as string[]) : []
      if (r.primary) primaryKey = cols
      if (r.expr || r.partial || r.amname !== 'btree') {
        // Listed, never silently dropped: their meaning (an operator class, an expression, a
        // predicate) has no counterpart a plain index in MySQL or SQLite could keep.
        const what = r.amname !== 'btree' ? `a ${r.amname.toUpperCase()} index` : r.expr ? 'an expression index' : 'a partial index'
        omitted.push(`index ${r.name} not migrated: ${what} (${r.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON /, '')})`)
        continue
      }
      indexes.push({ name: r.name, columns: cols, unique: r.unique, primary: r.primary })
    }
    const checks: CheckConstraint[] = (ckBy.get(oid) ?? []).map((r) => ({
      name: r.name,
      expression: r.col === null ? r.expr : r.expr.replace(/\bVALUE\b/g, quoteIdentSql(r.col)),
      dialect: 'postgres',
    }))
    const foreignKeys: ForeignKeyInfo[] = (fkBy.get(oid) ?? []).map((r) => ({
      name: r.name,
      columns: JSON.parse(r.cols) as string[],
      refSchema: r.ref_schema,
      refTable: r.ref_table,
      refColumns: JSON.parse(r.ref_cols) as string[],
      onDelete: FK_ACTIONS[r.del],
      onUpdate: FK_ACTIONS[r.upd],
    }))
    const t: TableSchema = { schema, name: rel.relname, columns, primaryKey, indexes, foreignKeys }
    if (rel.relkind !== 'v' && rel.reltuples >= 0) t.estimatedRows = Math.round(rel.reltuples)
    if (rel.comment !== null) t.comment = rel.comment
    if (checks.length) t.checks = checks
    if (omitted.length) t.omitted = omitted
    if (rel.relkind === 'p') {
      const pt = await q.query<{ key: string; parts: string | null }>(
        `SELECT pg_get_partkeydef($1) AS key,
                (SELECT json_agg(c.relname ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1)::text AS parts`,
        [oid],
      )
      t.partitioning = { key: pt.rows[0]?.key ?? '?', partitions: pt.rows[0]?.parts ? (JSON.parse(pt.rows[0].parts) as string[]) : [] }
    }
    out.set(rel.relname, t)
  }
  // Sequence position of the first serial / identity column of each table: the value nextval()
  // returns next, for all tables in one query.
  const autos = [...out.values()].flatMap((t) => {
    const a = t.columns.find((c) => c.autoIncrement)
    return a ? [{ t, table: `${quoteIdentSql(schema)}.${quoteIdentSql(t.name)}`, col: a.name }] : []
  })
  if (autos.length) {
    const seq = await q.query<{ i: string; next: string | null }>(
      `SELECT k.i::text AS i, (SELECT COALESCE(s.last_value + s.increment_by, s.start_value)::text
                           FROM pg_sequences s
                          WHERE (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename)) = pg_get_serial_sequence(k.tbl, k.col)) AS next
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(tbl, col, i)`,
      [autos.map((a) => a.table), autos.map((a) => a.col)],
    )
    for (const r of seq.rows) if (r.next) autos[Number(r.i) - 1]!.t.autoIncrementNext = r.next
  }
  return out
}

/**
 * Catalog reader for one connection.
 * - `tables()` lists ordinary, partitioned and foreign tables as `table` (partitions themselves are
 *   left out: reading the parent reads them) and views / materialized views as `view`, with
 *   `pg_class.reltuples` as the estimate (`-1`, never analyzed, -> undefined).
 * - `table()` indexes: btree indexes on plain columns only. Expression indexes, partial indexes
 *   (WHERE ...) and non-btree indexes (gin, gist, brin, hash...) are skipped on purpose: their
 *   meaning cannot be carried by {@link IndexInfo} and re-creating them as plain indexes would
 *   change semantics. Included columns (INCLUDE) are left out of `columns`.
 */
export function createCatalog(db: () => Queryable, defaultSchema: string): CatalogReader {
  return {
    async schemas() {
      const { rows } = await db().query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace
          WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND has_schema_privilege(oid, 'USAGE')
          ORDER BY nspname`,
      )
      return rows.map((r) => r.nspname)
    },

    async tables(schema) {
      const s = schema ?? defaultSchema
      const { rows } = await db().query<{ relname: string; relkind: string; reltuples: number }>(
        `SELECT c.relname, c.relkind::text, c.reltuples::float8 AS reltuples
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r','p','f','v','m') AND NOT c.relispartition
          ORDER BY c.relname`,
        [s],
      )
      return rows.map((r): TableSummary => {
        const view = r.relkind === 'v' || r.relkind === 'm'
        const t: TableSummary = { schema: s, name: r.relname, kind: view ? 'view' : 'table' }
        if (r.relkind !== 'v' && r.reltuples >= 0) t.estimatedRows = Math.round(r.reltuples)
        return t
      })
    },

    /** Every table of `names` described in a fixed number of queries ({@link describeRelations}). */
    async tablesDetailed(schema, names) {
      return describeRelations(db(), schema ?? defaultSchema, names)
    },

    async table(ref) {
      const schema = ref.schema ?? defaultSchema
      const t = (await describeRelations(db(), schema, [ref.name])).get(ref.name)
      if (!t) throw new NotFoundError(`table "${schema}"."${ref.name}" does not exist`)
      return t
    },

    async others(schema) {
      const s = schema ?? defaultSchema
      const { rows } = await db().query<{ kind: OtherObject['kind']; name: string }>(
        `SELECT 'view' AS kind, c.relname AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('v','m')
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
         UNION ALL
         SELECT 'sequence', c.relname
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind = 'S'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a','i','e'))
         UNION ALL
         SELECT 'trigger', tg.tgname || ' ON ' || c.relname
           FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND NOT tg.tgisinternal
         UNION ALL
         SELECT 'routine', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = $1 AND p.prokind IN ('f','p')
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
         ORDER BY 1, 2`,
        [s],
      )
      return rows.map((r) => ({ kind: r.kind, schema: s, name: r.name }))
    },
  }
}

/** Double-quote an identifier (same rule as PostgreSQL's quote_ident, always quoting). */
function quoteIdentSql(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"'
}
