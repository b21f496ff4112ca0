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
  const { rows } = await db.query<
    TypeRow & { attname: string; attnotnull: boolean; def: string | null; attidentity: string; attgenerated: string; collation: string | null; comment: string | null }
  >(
    `SELECT a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity::text, a.attgenerated::text,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname END AS collation,
            col_description(a.attrelid, a.attnum) AS comment, ${TYPE_INFO_SQL}
       FROM (SELECT a.*, a.atttypid AS o, a.atttypmod AS m FROM pg_attribute a) a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  )
  return rows.map((r, i) => {
    const col: Column = {
      name: r.attname,
      ordinal: i + 1,
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
    return col
  })
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

    async table(ref) {
      const q = db()
      const rel = await findRelation(q, ref, defaultSchema)
      const columns = await relationColumns(q, rel.oid)
      const idx = await q.query<{ name: string; unique: boolean; primary: boolean; columns: string | null; amname: string; partial: boolean; expr: boolean; def: string }>(
        `SELECT ic.relname AS name, i.indisunique AS "unique", i.indisprimary AS "primary", am.amname, pg_get_indexdef(i.indexrelid) AS def,
                i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS expr,
                (SELECT json_agg(a.attname ORDER BY k.ord)
                   FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                  WHERE k.ord <= i.indnkeyatts)::text AS columns
           FROM pg_index i
           JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_am am ON am.oid = ic.relam
          WHERE i.indrelid = $1
          ORDER BY i.indisprimary DESC, ic.relname`,
        [rel.oid],
      )
      let primaryKey: string[] = []
      const indexes: IndexInfo[] = []
      const omitted: string[] = []
      for (const r of idx.rows) {
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
      // CHECK constraints of the table and of the domains its columns use (a domain's VALUE is the column).
      const ck = await q.query<{ name: string; expr: string; col: string | null }>(
        `SELECT con.conname AS name, pg_get_expr(con.conbin, con.conrelid) AS expr, NULL::text AS col
           FROM pg_constraint con WHERE con.conrelid = $1 AND con.contype = 'c'
         UNION ALL
         SELECT con.conname || '_' || a.attname, pg_get_expr(con.conbin, 0), a.attname
           FROM pg_attribute a JOIN pg_constraint con ON con.contypid = a.atttypid AND con.contype = 'c'
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY 1`,
        [rel.oid],
      )
      const checks: CheckConstraint[] = ck.rows.map((r) => ({
        name: r.name,
        expression: r.col === null ? r.expr : r.expr.replace(/\bVALUE\b/g, quoteIdentSql(r.col)),
        dialect: 'postgres',
      }))
      let partitioning: TableSchema['partitioning']
      if (rel.relkind === 'p') {
        const pt = await q.query<{ key: string; parts: string | null }>(
          `SELECT pg_get_partkeydef($1) AS key,
                  (SELECT json_agg(c.relname ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1)::text AS parts`,
          [rel.oid],
        )
        partitioning = { key: pt.rows[0]?.key ?? '?', partitions: pt.rows[0]?.parts ? (JSON.parse(pt.rows[0].parts) as string[]) : [] }
      }
      const fk = await q.query<{ name: string; upd: string; del: string; ref_schema: string; ref_table: string; cols: string; ref_cols: string }>(
        `SELECT con.conname AS name, con.confupdtype::text AS upd, con.confdeltype::text AS del, rn.nspname AS ref_schema, rc.relname AS ref_table,
                (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(n, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)::text AS cols,
                (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(n, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n)::text AS ref_cols
           FROM pg_constraint con
           JOIN pg_class rc ON rc.oid = con.confrelid
           JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE con.conrelid = $1 AND con.contype = 'f'
          ORDER BY con.conname`,
        [rel.oid],
      )
      const foreignKeys: ForeignKeyInfo[] = fk.rows.map((r) => ({
        name: r.name,
        columns: JSON.parse(r.cols) as string[],
        refSchema: r.ref_schema,
        refTable: r.ref_table,
        refColumns: JSON.parse(r.ref_cols) as string[],
        onDelete: FK_ACTIONS[r.del],
        onUpdate: FK_ACTIONS[r.upd],
      }))
      const schema: TableSchema = { schema: rel.schema, name: ref.name, columns, primaryKey, indexes, foreignKeys }
      if (rel.relkind !== 'v' && rel.reltuples >= 0) schema.estimatedRows = Math.round(rel.reltuples)
      if (rel.comment !== null) schema.comment = rel.comment
      if (checks.length) schema.checks = checks
      if (omitted.length) schema.omitted = omitted
      if (partitioning) schema.partitioning = partitioning
      // Sequence position of the first serial / identity column: the value nextval() returns next.
      const auto = columns.find((c) => c.autoIncrement)
      if (auto) {
        const seq = await q.query<{ next: string | null }>(
          `SELECT COALESCE(s.last_value + s.increment_by, s.start_value)::text AS next
             FROM pg_sequences s
            WHERE (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename)) = pg_get_serial_sequence($1, $2)`,
          [`${quoteIdentSql(rel.schema)}.${quoteIdentSql(ref.name)}`, auto.name],
        )
        if (seq.rows[0]?.next) schema.autoIncrementNext = seq.rows[0].next
      }
      return schema
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
