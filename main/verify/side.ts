/**
 * One side of a comparison: a table in a database, with the SQL the verifier runs against it.
 *
 * MySQL/MariaDB and PostgreSQL sides run everything through their {@link Connector}'s `query`
 * (checksums are computed inside the database; only (key, row hash) pairs of small segments
 * ever leave it). A SQLite side opens its own read-only better-sqlite3 handle on
 * `config.path` so it can register the deterministic JS functions SQLite lacks (`md5`, the
 * normalization of {@link normalizeValue}, a 128-bit-safe sum); `:memory:` cannot be shared
 * and is refused.
 */
import { openDatabase } from '../core/sqlite.js'
import type Database from 'better-sqlite3'
import type { Column, TableRef, TableSchema, Value } from '../core/types.js'
import type { Connector } from '../connectors/types.js'
import {
  normalizeValue,
  renderSql,
  rowHashHex,
  rowHashIntSql,
  rowHashHexSql,
  rowText,
  rowTextSql,
  segmentSql,
  type ColumnNorm,
  type SqlDialect,
} from './normalize.js'

/** A compared column on one side: its catalog column and the pair's normalization. */
export interface SideColumnPlan {
  column: Column
  norm: ColumnNorm
}

/** How a key column is compared in range conditions (see {@link keyKindOf}). */
export type KeyKind = 'int' | 'decimal' | 'string' | 'temporal'

/** One bound of a key range: one canonical value per key column (bigint for int keys, text otherwise). */
export type KeyTuple = Array<bigint | string>

/** A key range: `lower` inclusive, `upper` exclusive; a missing bound is open. */
export interface KeyRange {
  lower?: KeyTuple
  upper?: KeyTuple
}

/** Count and checksum of a range; `min`/`max` of the key when the key is one integer column. */
export interface Checksum {
  count: number
  sum: bigint
  min?: bigint
  max?: bigint
}

/** A downloaded row: its key as canonical values, the key's canonical text, the row hash. */
export interface HashedRow {
  key: Value[]
  keyText: string
  hash: string
}

let fnSeq = 0

/** Everything the verifier asks of one side. */
export class Side {
  readonly dialect: 'mysql' | 'postgres' | 'sqlite'
  readonly table: string
  private readonly db?: Database.Database
  private rowHashFn = ''
  private keyTextFn = ''
  private sumFn = ''
  queries = 0

  /**
   * @param connector the side's connector (its `config.path` is opened read-only for SQLite)
   * @param ref the table
   * @param columns compared columns in order (key columns first)
   * @param keyCount how many leading `columns` are the key
   * @param keyKinds range-comparison kind per key column
   * @param where SQL filter applied to every query (no variables substituted here)
   */
  constructor(
    readonly connector: Connector,
    readonly ref: TableRef,
    readonly columns: SideColumnPlan[],
    readonly keyCount: number,
    readonly keyKinds: KeyKind[],
    readonly where: string | undefined,
    private readonly signal?: AbortSignal,
  ) {
    if (connector.kind === 'file') throw new Error('verification needs two databases: a file side cannot be verified')
    this.dialect = connector.kind
    if (connector.kind === 'sqlite') {
      const p = connector.config.path
      if (!p || p === ':memory:' || p.startsWith('file::memory:')) throw new Error(`verify: SQLite table ${ref.name}: an in-memory database cannot be opened by a second handle; verify needs a file`)
      this.db = openDatabase(p, { readonly: true, fileMustExist: true })
      this.registerSqliteFunctions()
      this.table = ref.schema && ref.schema !== 'main' ? `${this.q(ref.schema)}.${this.q(ref.name)}` : this.q(ref.name)
    } else {
      this.table = connector.quoteTable(ref)
    }
  }

  /** Quote an identifier for this side's dialect. */
  q(name: string): string {
    return this.dialect === 'sqlite' ? `"${name.replace(/"/g, '""')}"` : this.connector.quoteIdent(name)
  }

  private registerSqliteFunctions(): void {
    const db = this.db!
    const id = ++fnSeq
    this.rowHashFn = `sluice_rowhash_${id}`
    this.keyTextFn = `sluice_keytext_${id}`
    this.sumFn = `sluice_sum60_${id}`
    const norms = this.columns.map((c) => c.norm)
    db.function(this.rowHashFn, { deterministic: true, varargs: true, safeIntegers: true }, (...vals: unknown[]) =>
      rowHashHex(rowText(vals.map((v, i) => normalizeValue(norms[i]!, v as Value)))),
    )
    db.function(this.keyTextFn, { deterministic: true, safeIntegers: true }, (i: unknown, v: unknown) => normalizeValue(norms[Number(i)]!, v as Value))
    db.aggregate(this.sumFn, {
      start: () => 0n,
      step: (acc: bigint, hex: unknown) => (typeof hex === 'string' ? acc + BigInt(`0x${hex}`) : acc),
      result: (acc: bigint) => acc.toString(),
    })
  }

  /** Run SQL; rows as arrays. SQLite runs on the private handle with bigint integers. */
  async run(sql: string, params: unknown[] = []): Promise<unknown[][]> {
    if (this.signal?.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('verify aborted')
    this.queries++
    if (this.db) return this.db.prepare(sql).raw(true).safeIntegers(true).all(...(params as never[])) as unknown[][]
    const r = await this.connector.query(sql, params, this.signal ? { signal: this.signal } : {})
    return r.rows as unknown[][]
  }

  private quotedCols(): string[] {
    return this.columns.map((c) => this.q(c.column.name))
  }

  /** SQL for the row hash as 15 hex digits. */
  rowHashSql(): string {
    const cols = this.quotedCols()
    if (this.dialect === 'sqlite') return `${this.rowHashFn}(${cols.join(', ')})`
    const d = this.dialect as SqlDialect
    return rowHashHexSql(d, rowTextSql(d, this.columns.map((c, i) => segmentSql(d, c.column, c.norm, cols[i]!))))
  }

  /** SQL summing the row hashes as an exact integer (DECIMAL / numeric / JS bigint text). */
  private sumSql(): string {
    if (this.dialect === 'sqlite') return `${this.sumFn}(${this.rowHashSql()})`
    const d = this.dialect as SqlDialect
    const cols = this.quotedCols()
    return `SUM(${rowHashIntSql(d, rowTextSql(d, this.columns.map((c, i) => segmentSql(d, c.column, c.norm, cols[i]!))))})`
  }

  /** Key column expression as compared in ranges and ORDER BY: binary order for strings. */
  keyExpr(i: number): string {
    const c = this.q(this.columns[i]!.column.name)
    switch (this.keyKinds[i]) {
      case 'string':
        return this.dialect === 'mysql' ? `CAST(${c} AS BINARY)` : this.dialect === 'postgres' ? `((${c})::text COLLATE "C")` : `${c} COLLATE BINARY`
      case 'temporal':
        return this.dialect === 'sqlite' ? `${this.keyTextFn}(${i}, ${c})` : c
      default:
        return c
    }
  }

  private param(i: number): string {
    return this.dialect === 'postgres' ? `$${i}` : '?'
  }

  /** A bound value as SQL: integer and decimal literals inline (validated), others as parameters. */
  private boundSql(i: number, v: bigint | string, params: unknown[]): string {
    const kind = this.keyKinds[i]
    if (typeof v === 'bigint') return v.toString()
    if (kind === 'decimal') {
      if (!/^-?\d+(\.\d+)?$/.test(v)) throw new Error(`verify: key column ${this.columns[i]!.column.name}: bound '${v}' is not a decimal`)
      return v
    }
    params.push(v)
    const p = this.param(params.length)
    if (kind === 'string') return this.dialect === 'mysql' ? `CAST(${p} AS BINARY)` : this.dialect === 'postgres' ? `(${p}::text COLLATE "C")` : p
    return p
  }

  private tupleCmp(op: '>=' | '<', t: KeyTuple, params: unknown[]): string {
    if (t.length === 1) return `${this.keyExpr(0)} ${op} ${this.boundSql(0, t[0]!, params)}`
    const lhs = t.map((_, i) => this.keyExpr(i))
    const rhs = t.map((v, i) => this.boundSql(i, v, params))
    return `(${lhs.join(', ')}) ${op} (${rhs.join(', ')})`
  }

  /** WHERE clause (with `WHERE`) for the side's filter and a key range; `params` collects bound values. */
  whereSql(range: KeyRange, params: unknown[]): string {
    const parts: string[] = []
    if (this.where?.trim()) parts.push(`(${this.where})`)
    if (range.lower) parts.push(this.tupleCmp('>=', range.lower, params))
    if (range.upper) parts.push(this.tupleCmp('<', range.upper, params))
    return parts.length ? ` WHERE ${parts.join(' AND ')}` : ''
  }

  /** Count and checksum of a range (plus MIN/MAX of a single integer key). */
  async checksum(range: KeyRange, withMinMax: boolean): Promise<Checksum> {
    const params: unknown[] = []
    const k = withMinMax ? `, MIN(${this.keyExpr(0)}), MAX(${this.keyExpr(0)})` : ''
    const rows = await this.run(`SELECT COUNT(*), ${this.sumSql()}${k} FROM ${this.table}${this.whereSql(range, params)}`, params)
    const r = rows[0] ?? []
    const big = (v: unknown) => (v === null || v === undefined ? undefined : BigInt(typeof v === 'number' ? Math.trunc(v) : String(v).replace(/\.0*$/, '')))
    const out: Checksum = { count: Number(r[0] ?? 0), sum: big(r[1]) ?? 0n }
    if (withMinMax) {
      const mn = big(r[2])
      const mx = big(r[3])
      if (mn !== undefined) out.min = mn
      if (mx !== undefined) out.max = mx
    }
    return out
  }

  /**
   * About `parts - 1` key tuples cutting the range into parts of equal row counts: every
   * `ceil(count/parts)`-th key in key order (one scan of the range, ROW_NUMBER() in the database).
   */
  async quantiles(range: KeyRange, count: number, parts: number): Promise<KeyTuple[]> {
    const step = Math.max(1, Math.ceil(count / parts))
    const params: unknown[] = []
    const keys = Array.from({ length: this.keyCount }, (_, i) => this.keyExpr(i))
    const outKeys = Array.from({ length: this.keyCount }, (_, i) => `${this.keyOutExpr(i)} AS k${i}`)
    const sql =
      `SELECT ${keys.map((_, i) => `k${i}`).join(', ')} FROM (SELECT ${outKeys.join(', ')}, ROW_NUMBER() OVER (ORDER BY ${keys.join(', ')}) AS rn ` +
      `FROM ${this.table}${this.whereSql(range, params)}) s WHERE MOD(rn - 1, ${step}) = 0 AND rn > 1 ORDER BY rn`
    const rows = await this.run(this.dialect === 'sqlite' ? sql.replace(/MOD\(rn - 1, (\d+)\)/, '((rn - 1) % $1)') : sql, params)
    return rows.map((r) => r.map((v, i) => this.toBound(i, v)))
  }

  /** Key column as selected for bounds: canonical text for temporal and decimal keys. */
  private keyOutExpr(i: number): string {
    const c = this.columns[i]!
    const q = this.q(c.column.name)
    if (this.keyKinds[i] === 'temporal' || this.keyKinds[i] === 'decimal') {
      if (this.dialect === 'sqlite') return `${this.keyTextFn}(${i}, ${q})`
      return segmentlessText(this.dialect as SqlDialect, c, q)
    }
    return q
  }

  /** A selected key value as a bound. */
  private toBound(i: number, v: unknown): bigint | string {
    if (this.keyKinds[i] === 'int') return BigInt(typeof v === 'number' ? v : String(v))
    if (Buffer.isBuffer(v)) return v.toString('utf8')
    return String(v)
  }

  /** Download (key, key text, row hash) of every row in the range. */
  async download(range: KeyRange): Promise<HashedRow[]> {
    const params: unknown[] = []
    const n = this.keyCount
    const keyCols = this.columns.slice(0, n).map((c) => this.q(c.column.name))
    const keyTexts = this.columns.slice(0, n).map((c, i) => (this.dialect === 'sqlite' ? `${this.keyTextFn}(${i}, ${keyCols[i]})` : segmentlessText(this.dialect as SqlDialect, c, keyCols[i]!)))
    const sql = `SELECT ${keyCols.join(', ')}, ${keyTexts.join(', ')}, ${this.rowHashSql()} FROM ${this.table}${this.whereSql(range, params)}`
    const rows = await this.run(sql, params)
    return rows.map((r) => ({
      key: r.slice(0, n).map(canonicalKey),
      keyText: r
        .slice(n, 2 * n)
        .map((t) => (t === null ? '\u0000NULL' : String(t)))
        .join('\u0000'),
      hash: String(r[2 * n]),
    }))
  }

  /** Whole-table (filtered) count through the connector (countdiff). */
  count(): Promise<number> {
    if (this.db) {
      const r = this.db.prepare(`SELECT COUNT(*) FROM ${this.table}${this.where?.trim() ? ` WHERE (${this.where})` : ''}`).pluck().safeIntegers(false).get() as number
      return Promise.resolve(r)
    }
    return this.connector.count(this.ref, this.where?.trim() ? this.where : undefined)
  }

  /** Close the private SQLite handle (the connector is the caller's). */
  close(): void {
    this.db?.close()
  }
}

/** A column's canonical text in SQL (no length prefix, NULL stays NULL). */
function segmentlessText(d: SqlDialect, c: SideColumnPlan, q: string): string {
  return renderSql(d, c.column, c.norm, q)
}

/** A key value as returned by a side, as a canonical value (SQLite bigints narrowed when safe). */
function canonicalKey(v: unknown): Value {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
  return v as Value
}

/** Range-comparison kind of a key column pair, or an error naming the column. */
export function keyKindOf(name: string, src: TableSchema['columns'][number]['type'], dst: TableSchema['columns'][number]['type']): KeyKind {
  const k = (t: typeof src): KeyKind | undefined => {
    switch (t.kind) {
      case 'int':
      case 'year':
        return 'int'
      case 'decimal':
        return t.scale === 0 && t.precision !== undefined ? 'int' : 'decimal'
      case 'string':
      case 'text':
      case 'uuid':
      case 'enum':
      case 'set':
        return 'string'
      case 'date':
      case 'datetime':
      case 'timestamptz':
        return 'temporal'
      default:
        return undefined
    }
  }
  const a = k(src)
  const b = k(dst)
  if (a && a === b) return a
  if ((a === 'int' && b === 'decimal') || (a === 'decimal' && b === 'int')) return 'decimal'
  throw new Error(`verify: key column ${name}: cannot cut key ranges on ${src.kind} vs ${dst.kind} (supported keys: integer, decimal, string, date/datetime)`)
}
