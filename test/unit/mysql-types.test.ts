import { describe, expect, it } from 'vitest'
import { logicalFromNative, mysqlNativeType, normalizeDefault, parseQuotedList } from '../../main/connectors/mysql/types.js'
import { translateDefault, mysqlDdl } from '../../main/connectors/mysql/ddl.js'
import { columnFromMessage, isRowError, parseLoadInfo } from '../../main/connectors/mysql/write.js'
import { quoteIdent, buildReadSql } from '../../main/connectors/mysql/read.js'
import type { TableSchema } from '../../main/core/types.js'

describe('mysql native -> logical', () => {
  const cases: Array<[string, unknown]> = [
    ['tinyint(1)', { kind: 'int', bits: 8 }],
    ['tinyint(3) unsigned', { kind: 'int', bits: 8, unsigned: true }],
    ['smallint(6)', { kind: 'int', bits: 16 }],
    ['mediumint(8) unsigned', { kind: 'int', bits: 24, unsigned: true }],
    ['int(11)', { kind: 'int', bits: 32 }],
    ['bigint(20) unsigned', { kind: 'int', bits: 64, unsigned: true }],
    ['bit(1)', { kind: 'bool' }],
    ['bit(9)', { kind: 'bytes', length: 2, fixed: true }],
    ['decimal(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['decimal(38,10) unsigned', { kind: 'decimal', precision: 38, scale: 10, unsigned: true }],
    ['float', { kind: 'float', bits: 32 }],
    ['double', { kind: 'float', bits: 64 }],
    ['char(3)', { kind: 'string', length: 3, fixed: true }],
    ['varchar(160)', { kind: 'string', length: 160 }],
    ['tinytext', { kind: 'text', maxBytes: 255 }],
    ['mediumtext', { kind: 'text', maxBytes: 16777215 }],
    ['longtext', { kind: 'text', maxBytes: 4294967295 }],
    ['binary(16)', { kind: 'bytes', length: 16, fixed: true }],
    ['varbinary(255)', { kind: 'bytes', length: 255 }],
    ['blob', { kind: 'bytes', maxBytes: 65535 }],
    ['date', { kind: 'date' }],
    ['time(3)', { kind: 'time', precision: 3, wide: true }],
    ['datetime(6)', { kind: 'datetime', precision: 6 }],
    ['datetime', { kind: 'datetime', precision: 0 }],
    ['timestamp(6)', { kind: 'timestamptz', precision: 6 }],
    ['year(4)', { kind: 'year' }],
    ['json', { kind: 'json' }],
    ["enum('a','it''s','b,c')", { kind: 'enum', values: ['a', "it's", 'b,c'] }],
    ["set('x','y')", { kind: 'set', values: ['x', 'y'] }],
    ['point', { kind: 'geometry', subtype: 'point' }],
    ['geometry', { kind: 'geometry' }],
    ['inet6', { kind: 'other', native: 'inet6' }],
  ]
  it.each(cases)('%s', (native, expected) => {
    expect(logicalFromNative(native)).toEqual(expected)
  })
  it('MariaDB JSON alias: longtext with json_valid check', () => {
    expect(logicalFromNative('longtext', true)).toEqual({ kind: 'json' })
  })
  it('parses quoted lists with backslashes', () => {
    expect(parseQuotedList("'a\\\\b','c'")).toEqual(['a\\b', 'c'])
  })
})

describe('logical -> mysql native', () => {
  it('maps exact types without warnings', () => {
    expect(mysqlNativeType({ kind: 'int', bits: 64, unsigned: true })).toEqual({ sql: 'BIGINT UNSIGNED' })
    expect(mysqlNativeType({ kind: 'decimal', precision: 12, scale: 2 })).toEqual({ sql: 'DECIMAL(12,2)' })
    expect(mysqlNativeType({ kind: 'string', length: 20 })).toEqual({ sql: 'VARCHAR(20)' })
    expect(mysqlNativeType({ kind: 'string', length: 3, fixed: true })).toEqual({ sql: 'CHAR(3)' })
    expect(mysqlNativeType({ kind: 'text', maxBytes: 65535 })).toEqual({ sql: 'TEXT' })
    expect(mysqlNativeType({ kind: 'text' })).toEqual({ sql: 'LONGTEXT' })
    expect(mysqlNativeType({ kind: 'bytes', length: 16, fixed: true })).toEqual({ sql: 'BINARY(16)' })
    expect(mysqlNativeType({ kind: 'bytes' })).toEqual({ sql: 'LONGBLOB' })
    expect(mysqlNativeType({ kind: 'time', precision: 3 })).toEqual({ sql: 'TIME(3)' })
    expect(mysqlNativeType({ kind: 'datetime', precision: 6 })).toEqual({ sql: 'DATETIME(6)' })
    expect(mysqlNativeType({ kind: 'bool' })).toEqual({ sql: 'TINYINT(1)' })
    expect(mysqlNativeType({ kind: 'uuid' })).toEqual({ sql: 'CHAR(36)' })
    expect(mysqlNativeType({ kind: 'enum', values: ['a', "b'c"] })).toEqual({ sql: "ENUM('a','b''c')" })
    expect(mysqlNativeType({ kind: 'year' })).toEqual({ sql: 'YEAR' })
    expect(mysqlNativeType({ kind: 'json' })).toEqual({ sql: 'JSON' })
  })
  it('warns where the mapping is not exact', () => {
    expect(mysqlNativeType({ kind: 'timestamptz', precision: 6 })).toEqual({ sql: 'DATETIME(6)', warning: expect.stringContaining('offset normalized to UTC') })
    expect(mysqlNativeType({ kind: 'decimal', precision: 80, scale: 2 }).sql).toBe('LONGTEXT')
    expect(mysqlNativeType({ kind: 'decimal', precision: 80, scale: 2 }).warning).toMatch(/exceeds/)
    expect(mysqlNativeType({ kind: 'string', length: 20000 })).toEqual({ sql: 'MEDIUMTEXT', warning: expect.stringContaining('16383') })
    expect(mysqlNativeType({ kind: 'other', native: 'interval' })).toEqual({ sql: 'LONGTEXT', warning: expect.stringContaining('interval') })
  })
})

describe('defaults', () => {
  it('normalizes MariaDB and MySQL COLUMN_DEFAULT', () => {
    expect(normalizeDefault('NULL', true, 'int', '')).toBeUndefined()
    expect(normalizeDefault(null, true, 'int', '')).toBeUndefined()
    expect(normalizeDefault("'abc'", true, 'varchar', '')).toBe("'abc'")
    expect(normalizeDefault('current_timestamp()', true, 'datetime', '')).toBe('current_timestamp()')
    expect(normalizeDefault('abc', false, 'varchar', '')).toBe("'abc'")
    expect(normalizeDefault('0', false, 'int', '')).toBe('0')
    expect(normalizeDefault('CURRENT_TIMESTAMP', false, 'timestamp', 'DEFAULT_GENERATED')).toBe('CURRENT_TIMESTAMP')
  })
  it('translates other dialects defaults', () => {
    expect(translateDefault("'abc'::character varying", { kind: 'string', length: 3 })).toBe("'abc'")
    expect(translateDefault('now()', { kind: 'timestamptz', precision: 6 })).toBe('CURRENT_TIMESTAMP(6)')
    expect(translateDefault('true', { kind: 'bool' })).toBe('1')
    expect(translateDefault("nextval('s'::regclass)", { kind: 'int', bits: 32 })).toBeUndefined()
    expect(translateDefault('(0)', { kind: 'int', bits: 32 })).toBe('0')
  })
})

describe('ddl', () => {
  const table: TableSchema = {
    name: 'src',
    columns: [
      { name: 'id', ordinal: 1, type: { kind: 'int', bits: 64 }, nativeType: 'bigint', nullable: false, autoIncrement: true },
      { name: 'body', ordinal: 2, type: { kind: 'text' }, nativeType: 'text', nullable: true },
      { name: 'at', ordinal: 3, type: { kind: 'timestamptz', precision: 6 }, nativeType: 'timestamptz', nullable: false, default: 'now()' },
      { name: 'ref', ordinal: 4, type: { kind: 'int', bits: 32 }, nativeType: 'int', nullable: true, default: '7' },
    ],
    primaryKey: ['id'],
    indexes: [
      { name: 'pk', columns: ['id'], unique: true, primary: true },
      { name: 'ix_body', columns: ['body'], unique: false, primary: false },
    ],
    foreignKeys: [{ name: 'fk_ref', columns: ['ref'], refTable: 'other', refColumns: ['id'], onDelete: 'CASCADE' }],
    autoIncrementNext: '42',
  }
  it('builds create, indexes, fks, sequences and warnings', () => {
    const plan = mysqlDdl(table, { schema: 'db', name: 'dst' }, (r) => `${quoteIdent(r.schema!)}.${quoteIdent(r.name)}`)
    expect(plan.create).toEqual([
      'CREATE TABLE `db`.`dst` (\n  `id` BIGINT NOT NULL AUTO_INCREMENT,\n  `body` LONGTEXT,\n  `at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),\n  `ref` INT DEFAULT 7,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    ])
    expect(plan.indexes).toEqual(['CREATE INDEX `ix_body` ON `db`.`dst` (`body`(191))'])
    expect(plan.foreignKeys).toEqual(['ALTER TABLE `db`.`dst` ADD CONSTRAINT `fk_ref` FOREIGN KEY (`ref`) REFERENCES `db`.`other` (`id`) ON DELETE CASCADE'])
    expect(plan.sequences[0]).toBe('SET @sluice_ai = (SELECT GREATEST(COALESCE(MAX(`id`), 0) + 1, 42) FROM `db`.`dst`)')
    expect(plan.sequences).toHaveLength(5)
    expect(plan.warnings.some((w) => w.includes('offset normalized to UTC'))).toBe(true)
    expect(plan.warnings.some((w) => w.includes('191-character prefix'))).toBe(true)
  })
})

describe('writer helpers', () => {
  it('finds the column a server message names', () => {
    expect(columnFromMessage("Data too long for column 'name' at row 1")).toBe('name')
    expect(columnFromMessage('Incorrect integer value: \'x\' for column `db`.`t`.`qty` at row 1')).toBe('qty')
    expect(columnFromMessage("Column 'a b' cannot be null")).toBe('a b')
    expect(columnFromMessage("Field 'z' doesn't have a default value")).toBe('z')
    expect(columnFromMessage('CONSTRAINT `t.doc` failed for `db`.`t`')).toBe('doc')
    expect(columnFromMessage("Duplicate entry '1' for key 'PRIMARY'")).toBeUndefined()
  })
  it('classifies row errors', () => {
    expect(isRowError({ errno: 1406, sqlState: '22001' })).toBe(true)
    expect(isRowError({ errno: 1062, sqlState: '23000' })).toBe(true)
    expect(isRowError({ errno: 1146, sqlState: '42S02' })).toBe(false)
    expect(isRowError({ errno: 1213, sqlState: '40001' })).toBe(false)
    expect(isRowError({ code: 'ECONNRESET', fatal: true })).toBe(false)
  })
  it('parses LOAD DATA info', () => {
    expect(parseLoadInfo('Records: 3  Deleted: 1  Skipped: 0  Warnings: 2')).toEqual({ records: 3, deleted: 1, skipped: 0, warnings: 2 })
  })
})

describe('read sql', () => {
  const qt = (r: { schema?: string; name: string }) => `${quoteIdent(r.schema ?? 'd')}.${quoteIdent(r.name)}`
  it('adds the range with bound values ANDed with where', () => {
    const r = buildReadSql({ index: 1, read: { table: { name: 't' }, columns: ['a`b', 'c'], where: 'c > 1 OR c < 0' }, range: { column: 'id', lower: 5, lowerInclusive: true, upper: '18446744073709551615', upperInclusive: false, includeNull: true } }, qt)
    expect(r.sql).toBe('SELECT `a``b`, `c` FROM `d`.`t` WHERE ((`id` >= ? AND `id` < ?) OR `id` IS NULL) AND (c > 1 OR c < 0)')
    expect(r.params).toEqual([5, 18446744073709551615n])
  })
})
