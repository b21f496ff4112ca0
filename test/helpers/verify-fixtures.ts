/**
 * The same tables, with the same data, in MySQL, PostgreSQL and SQLite, built by plain SQL (no
 * engine involved), for the verification tests. Every value is written as a literal each database
 * parses to the same stored value.
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import Database from 'better-sqlite3'
import { MYSQL, PG } from './servers.js'

export type Kind = 'mysql' | 'postgres' | 'sqlite'

/** One row of the wide table `t`: literal-ready JS values (null = SQL NULL). */
export interface WideRow {
  id: number
  amount: string | null
  name: string | null
  note: string | null
  happened: string | null
  stamp: string | null
  ratio: number | null
  flag: number | null
  data: Buffer | null
}

/** Deterministic rows 1..n, skipping multiples of 250 (gaps the planted inserts fill). */
export function wideRows(n: number): WideRow[] {
  const rows: WideRow[] = []
  for (let i = 1; i <= n; i++) {
    if (i % 250 === 0) continue
    const micros = String((i * 7919) % 1_000_000).padStart(6, '0')
    const day = new Date(Date.UTC(2021, 0, 1) + i * 3_601_000)
    const dt = `${day.toISOString().slice(0, 19).replace('T', ' ')}.${micros}`
    const st = new Date(Date.UTC(2000, 5, 1) + i * 86_413_000)
    rows.push({
      id: i,
      amount: i % 17 === 0 ? null : `${i % 3 === 0 ? '-' : ''}${(i * 7919) % 100_000_000}.${String((i * 31) % 10_000).padStart(4, '0')}`,
      name: i % 13 === 0 ? null : `name ${i} ü 漢 🚀${i % 7 === 0 ? ' ' : ''}`,
      note: i % 11 === 0 ? null : i % 23 === 0 ? '' : `note ${i}${i % 5 === 0 ? '   ' : ''} it's "quoted" \\ back`,
      happened: i % 19 === 0 ? null : dt,
      stamp: i % 29 === 0 ? null : `${st.toISOString().slice(0, 19).replace('T', ' ')}.${String((i * 13) % 1_000_000).padStart(6, '0')}`,
      ratio: i % 31 === 0 ? null : i % 37 === 0 ? 0 : (i % 2 ? 1 : -1) * (i / 7) * (i % 3 === 0 ? 1e-9 : i % 5 === 0 ? 1e12 : 1),
      flag: i % 3 === 0 ? null : i % 2,
      data: i % 41 === 0 ? null : i % 43 === 0 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: 1 + (i % 9) }, (_, k) => (i * 31 + k * 7) % 256)),
    })
  }
  return rows
}

const sqlStr = (k: Kind, s: string) => (k === 'mysql' ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${s.replace(/'/g, "''")}'`)
const lit = (k: Kind, v: string | number | Buffer | null, as?: 'bool' | 'bytes' | 'tstz' | 'num'): string => {
  if (v === null) return 'NULL'
  if (as === 'bool') return k === 'postgres' ? (v ? 'TRUE' : 'FALSE') : String(v)
  if (as === 'bytes') return k === 'postgres' ? `'\\x${(v as Buffer).toString('hex')}'::bytea` : `X'${(v as Buffer).toString('hex')}'`
  if (typeof v === 'number') return String(v)
  if (as === 'tstz' && k === 'postgres') return `'${v}+00'`
  if (as === 'num') return k === 'sqlite' ? String(v) : `${v}`
  return sqlStr(k, String(v))
}

/** DDL of the wide table `name` in each dialect (the engine's type mapping, written by hand). */
export function wideDdl(k: Kind, name: string): string {
  if (k === 'mysql')
    return `CREATE TABLE \`${name}\` (id INT NOT NULL PRIMARY KEY, amount DECIMAL(12,4) NULL, name VARCHAR(100) NULL, note TEXT NULL, happened DATETIME(6) NULL, stamp TIMESTAMP(6) NULL DEFAULT NULL, ratio DOUBLE NULL, flag TINYINT(1) NULL, data BLOB NULL)`
  if (k === 'postgres')
    return `CREATE TABLE "${name}" (id integer PRIMARY KEY, amount numeric(12,4), name varchar(100), note text, happened timestamp(6), stamp timestamptz(6), ratio double precision, flag boolean, data bytea)`
  return `CREATE TABLE "${name}" (id INTEGER PRIMARY KEY, amount DECIMAL(12,4), name VARCHAR(100), note TEXT, happened DATETIME, stamp TIMESTAMP, ratio DOUBLE, flag BOOLEAN, data BLOB)`
}

/** INSERT statements (chunks of 200 rows) for `rows` into `name`. */
export function wideInserts(k: Kind, name: string, rows: WideRow[]): string[] {
  const q = k === 'mysql' ? `\`${name}\`` : `"${name}"`
  const out: string[] = []
  for (let i = 0; i < rows.length; i += 200) {
    const vals = rows.slice(i, i + 200).map(
      (r) =>
        `(${r.id}, ${lit(k, r.amount, 'num')}, ${lit(k, r.name)}, ${lit(k, r.note)}, ${lit(k, r.happened)}, ${lit(k, r.stamp, 'tstz')}, ${r.ratio === null ? 'NULL' : String(r.ratio)}, ${lit(k, r.flag, 'bool')}, ${lit(k, r.data, 'bytes')})`,
    )
    out.push(`INSERT INTO ${q} (id, amount, name, note, happened, stamp, ratio, flag, data) VALUES ${vals.join(', ')}`)
  }
  return out
}

/** Run statements on a database of the given kind (`db` = MySQL/PostgreSQL database name or SQLite path). */
export async function runSql(k: Kind, db: string, statements: string[]): Promise<void> {
  if (k === 'mysql') {
    const c = await mysql.createConnection({ ...MYSQL, database: db, charset: 'utf8mb4' })
    try {
      await c.query(`SET time_zone = '+00:00'`)
      for (const s of statements) await c.query(s)
    } finally {
      await c.end()
    }
  } else if (k === 'postgres') {
    const c = new pg.Client({ ...PG, database: db })
    await c.connect()
    try {
      await c.query(`SET TIME ZONE 'UTC'`)
      for (const s of statements) await c.query(s)
    } finally {
      await c.end()
    }
  } else {
    const d = new Database(db)
    try {
      for (const s of statements) d.exec(s)
    } finally {
      d.close()
    }
  }
}
