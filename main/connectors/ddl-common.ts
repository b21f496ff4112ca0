/**
 * What every connector's DDL builder shares: choosing a column's native type.
 */
import type { Column, LogicalType } from '../core/types.js'
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
