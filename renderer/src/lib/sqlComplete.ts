/**
 * SQL completion from the catalog (`catalog/schemas`, `catalog/tables`, `catalog/columns`) for the
 * SQL editor's Monaco model: keywords, schemas, tables of the connection's default schema,
 * `schema.` -> its tables, `table.` -> its columns, and the columns of tables named in the text.
 * One provider for the 'sql' language; it serves the connection set with {@link setSqlCatalog}.
 */
import type { TableSummary } from '../../../main/core/types.js'
import { api } from '../api.js'
import { monaco } from './monaco.js'

interface Catalog {
  connectionId: string
  schemas: string[]
  tables: Map<string, Promise<TableSummary[]>>
  columns: Map<string, Promise<Array<{ name: string; nativeType: string }>>>
}
let active: Catalog | undefined

const KEYWORDS = ['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'NULL', 'IS', 'IN', 'LIKE', 'BETWEEN', 'JOIN', 'LEFT JOIN', 'INNER JOIN', 'ON', 'GROUP BY', 'ORDER BY', 'HAVING', 'LIMIT', 'OFFSET', 'INSERT INTO', 'VALUES', 'UPDATE', 'SET', 'DELETE FROM', 'COUNT(*)', 'DISTINCT', 'AS', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CREATE TABLE', 'DROP TABLE', 'ALTER TABLE', 'EXPLAIN']

/** Point completion at a connection (schemas are loaded now; tables and columns on demand). */
export async function setSqlCatalog(connectionId: string | undefined): Promise<void> {
  if (!connectionId) {
    active = undefined
    return
  }
  const cat: Catalog = { connectionId, schemas: [], tables: new Map(), columns: new Map() }
  active = cat
  cat.schemas = await api.call('catalog/schemas', { connectionId }).catch(() => [])
}
function tablesOf(cat: Catalog, schema?: string): Promise<TableSummary[]> {
  const k = schema ?? ''
  let p = cat.tables.get(k)
  if (!p) {
    p = api.call('catalog/tables', { connectionId: cat.connectionId, ...(schema ? { schema } : {}) }).catch(() => [])
    cat.tables.set(k, p)
  }
  return p
}
function columnsOf(cat: Catalog, table: string, schema?: string) {
  const k = `${schema ?? ''}\u0000${table}`
  let p = cat.columns.get(k)
  if (!p) {
    p = api.call('catalog/columns', { connectionId: cat.connectionId, table: { name: table, ...(schema ? { schema } : {}) } }).catch(() => [])
    cat.columns.set(k, p)
  }
  return p
}
const unq = (s: string) => s.replace(/^[`"[]|[`"\]]$/g, '')

let registered = false
/** Register the provider once. */
export function registerSqlCompletion(): void {
  if (registered) return
  registered = true
  monaco.languages.registerCompletionItemProvider('sql', {
    triggerCharacters: ['.', ' '],
    async provideCompletionItems(model, position) {
      const cat = active
      const word = model.getWordUntilPosition(position)
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn }
      const K = monaco.languages.CompletionItemKind
      if (!cat) return { suggestions: [] }
      const before = model.getLineContent(position.lineNumber).slice(0, word.startColumn - 1)
      const dotted = /([`"[]?[\w$]+[`"\]]?)\.$/.exec(before)
      if (dotted) {
        const name = unq(dotted[1]!)
        if (cat.schemas.includes(name)) {
          const ts = await tablesOf(cat, name)
          return { suggestions: ts.map((x) => ({ label: x.name, kind: K.Struct, insertText: x.name, range, detail: x.kind })) }
        }
        const cols = await columnsOf(cat, name)
        return { suggestions: cols.map((c) => ({ label: c.name, kind: K.Field, insertText: c.name, range, detail: c.nativeType })) }
      }
      const text = model.getValue()
      const mentioned = [...text.matchAll(/\b(?:from|join|update|into)\s+(?:([`"]?[\w$]+[`"]?)\.)?([`"]?[\w$]+[`"]?)/gi)].map((m) => ({ schema: m[1] ? unq(m[1]) : undefined, table: unq(m[2]!) }))
      const [tables, ...colLists] = await Promise.all([tablesOf(cat), ...mentioned.slice(0, 8).map((m) => columnsOf(cat, m.table, m.schema))])
      const cols = new Map<string, string>()
      for (const list of colLists) for (const c of list) cols.set(c.name, c.nativeType)
      return {
        suggestions: [
          ...[...cols].map(([n, ty]) => ({ label: n, kind: K.Field, insertText: n, range, detail: ty, sortText: '0' + n })),
          ...tables.map((x) => ({ label: x.name, kind: K.Struct, insertText: x.name, range, detail: x.kind, sortText: '1' + x.name })),
          ...cat.schemas.map((s) => ({ label: s, kind: K.Module, insertText: s, range, detail: 'schema', sortText: '2' + s })),
          ...KEYWORDS.map((k) => ({ label: k, kind: K.Keyword, insertText: k, range, sortText: '3' + k })),
        ],
      }
    },
  })
}

/**
 * The statement around `offset`: statements are cut at `;` outside quotes, comments and
 * dollar-quoted bodies are not modelled beyond '...', "...", `...` and -- line comments.
 */
export function statementAt(text: string, offset: number): string {
  let start = 0
  let q: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (q) {
      if (c === q) q = undefined
      continue
    }
    if (c === "'" || c === '"' || c === '`') q = c
    else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i)
      i = nl < 0 ? text.length : nl
    } else if (c === ';') {
      if (offset <= i) return text.slice(start, i).trim()
      start = i + 1
    }
  }
  return text.slice(start).trim()
}
