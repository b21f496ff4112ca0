/**
 * What every connector's DDL builder shares: choosing a column's native type, and a foreign key's
 * referential actions.
 */
import type { Column, ForeignKeyInfo, LogicalType } from '../core/types.js'
import type { NativeTypeChoice } from './types.js'

/**
 * The native type SQL for `col`: the user's override (`typeOverrides` in the job) when there is
 * one, else the connector's mapping of the logical type; a mapping that is not exact adds its
 * warning, prefixed with `label` (e.g. `column "Total"` or `Invoice.Total`), to `warnings`.
 */
export function columnTypeSql(col: Column, overrides: Record<string, string>, nativeType: (t: LogicalType) => NativeTypeChoice, warnings: string[], label: string): string {
  const override = overrides[col.name]
  if (override !== undefined && override !== '') return override
  const choice = nativeType(col.type)
  if (choice.warning) warnings.push(`${label}: ${choice.warning}`)
  return choice.sql
}

/** Referential actions PostgreSQL and SQLite both accept (their manuals, "FOREIGN KEY" clauses). */
const FK_ACTIONS = new Set(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'])

/**
 * The ` ON DELETE …` / ` ON UPDATE …` clauses of a foreign key (NO ACTION, the default, is left
 * implicit); an action the target does not have is left out with a warning naming the key.
 */
export function fkActionClauses(fk: ForeignKeyInfo, warnings: string[]): string {
  let sql = ''
  for (const [clause, action] of [['ON DELETE', fk.onDelete], ['ON UPDATE', fk.onUpdate]] as const) {
    if (!action) continue
    const a = action.toUpperCase().replace(/\s+/g, ' ').trim()
    if (FK_ACTIONS.has(a)) {
      if (a !== 'NO ACTION') sql += ` ${clause} ${a}`
    } else warnings.push(`foreign key "${fk.name}": ${clause} ${action} not supported, left out`)
  }
  return sql
}
