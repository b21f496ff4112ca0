/**
 * The statement batching of whole-database runs (issue 12): a MySQL table's indexes merge into one
 * ALTER TABLE, CHECKs go inline in MySQL's CREATE TABLE with a fallback, MariaDB foreign keys come
 * with their orphan query.
 */
import { describe, expect, it } from 'vitest'
import { mergeMysqlIndexes } from '../../main/engine/schema-objects.js'
import { mysqlDdl } from '../../main/connectors/mysql/ddl.js'
import type { TableSchema } from '../../main/core/types.js'

describe('mergeMysqlIndexes', () => {
  it('merges one table\'s plain, unique and fulltext CREATE INDEX statements, leaving the rest', () => {
    const m = mergeMysqlIndexes([
      'CREATE INDEX `ix_a` ON `db`.`t` (`a`)',
      'ALTER TABLE `db`.`t` ADD CONSTRAINT `ck` CHECK (`a` > 0)',
      'CREATE UNIQUE INDEX `ux_b` ON `db`.`t` (`b`(191), `c`)',
      'CREATE FULLTEXT INDEX `ft` ON `db`.`t` (`body`)',
    ])
    expect(m).toEqual({
      alter: 'ALTER TABLE `db`.`t` ADD INDEX `ix_a` (`a`), ADD UNIQUE INDEX `ux_b` (`b`(191), `c`), ADD FULLTEXT INDEX `ft` (`body`)',
      rest: ['ALTER TABLE `db`.`t` ADD CONSTRAINT `ck` CHECK (`a` > 0)'],
    })
  })
  it('does nothing for a single index or indexes of different tables', () => {
    expect(mergeMysqlIndexes(['CREATE INDEX `ix_a` ON `t` (`a`)'])).toBeUndefined()
    expect(mergeMysqlIndexes(['CREATE INDEX `ix_a` ON `t` (`a`)', 'CREATE INDEX `ix_b` ON `u` (`b`)'])).toBeUndefined()
  })
})

const table: TableSchema = {
  name: 'child',
  columns: [
    { name: 'id', type: { kind: 'int', bits: 32 }, nullable: false },
    { name: 'qty', type: { kind: 'int', bits: 32 }, nullable: true },
    { name: 'p1', type: { kind: 'int', bits: 32 }, nullable: true },
    { name: 'p2', type: { kind: 'int', bits: 32 }, nullable: true },
  ],
  primaryKey: ['id'],
  indexes: [],
  foreignKeys: [{ name: 'fk_p', columns: ['p1', 'p2'], refTable: 'parent', refColumns: ['a', 'b'] }],
  checks: [{ name: 'ck_qty', expression: '(qty > 0)' }],
} as unknown as TableSchema
const q = (r: { schema?: string; name: string }) => `\`${r.schema ?? 'db'}\`.\`${r.name}\``

describe('mysqlDdl for bulk loads', () => {
  it('puts CHECKs in CREATE TABLE, with a fallback that adds them after the data', () => {
    const d = mysqlDdl(table, { name: 'child' }, q, {}, { version: '10.11.6-MariaDB', mariadb: true })
    expect(d.create[0]).toContain('CONSTRAINT `ck_qty` CHECK (')
    expect(d.indexes.some((s) => /CHECK/.test(s))).toBe(false)
    expect(d.createFallback!.create[0]).not.toContain('CHECK')
    expect(d.createFallback!.indexes).toEqual([expect.stringMatching(/^ALTER TABLE `db`\.`child` ADD CONSTRAINT `ck_qty` CHECK \(/)])
  })
  it('gives MariaDB foreign keys an orphan query (MATCH SIMPLE) and an unchecked ADD; MySQL none', () => {
    const d = mysqlDdl(table, { name: 'child' }, q, {}, { version: '10.11.6-MariaDB', mariadb: true })
    expect(d.foreignKeyFast).toEqual([
      {
        orphans: 'SELECT c.`p1`, c.`p2` FROM `db`.`child` c LEFT JOIN `db`.`parent` p ON p.`a` = c.`p1` AND p.`b` = c.`p2` WHERE c.`p1` IS NOT NULL AND c.`p2` IS NOT NULL AND p.`a` IS NULL LIMIT 1',
        add: `SET STATEMENT foreign_key_checks = 0 FOR ${d.foreignKeys[0]}`,
      },
    ])
    expect(mysqlDdl(table, { name: 'child' }, q, {}, { version: '8.0.36', mariadb: false }).foreignKeyFast).toBeUndefined()
  })
})
