/**
 * Translation of small SQL boolean/scalar expressions (CHECK constraints, generated columns)
 * between the MySQL/MariaDB, PostgreSQL and SQLite dialects.
 *
 * Deliberately conservative: the expression is tokenized (string literals, quoted and bare
 * identifiers, numbers, operators), PostgreSQL's own rewritings are undone (`::type` casts of
 * literals and columns, `= ANY (ARRAY[...])` back to `IN (...)`), column names are re-quoted for
 * the target (and renamed when the migration renames them), and every other word must be an
 * operator keyword or a function on a short list that all three databases share with the same
 * meaning. Anything else (a user function, a subquery, a dialect-only operator such as `~` or
 * `REGEXP`, a cast to a type) is refused with the reason, and the caller lists the object as not
 * migrated. A translated expression is never a guess: pgloader copies CHECK constraints of
 * PostgreSQL sources verbatim and none from MySQL; Sluice translates what it can prove the same and
 * says which ones it left out.
 */

type Tok =
  | { t: 'str'; v: string }
  | { t: 'id'; v: string; quoted: boolean }
  | { t: 'num'; v: string }
  | { t: 'op'; v: string }

/** Keywords kept as they are (same meaning in the three dialects). */
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'BETWEEN', 'LIKE', 'TRUE', 'FALSE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'ESCAPE'])

/** Functions with the same meaning everywhere (argument types permitting), by upper-case name -> per-target spelling. */
const FUNCTIONS: Record<string, { mysql: string; postgres: string; sqlite: string }> = {
  LENGTH: { mysql: 'CHAR_LENGTH', postgres: 'char_length', sqlite: 'length' },
  CHAR_LENGTH: { mysql: 'CHAR_LENGTH', postgres: 'char_length', sqlite: 'length' },
  CHARACTER_LENGTH: { mysql: 'CHAR_LENGTH', postgres: 'char_length', sqlite: 'length' },
  LOWER: { mysql: 'LOWER', postgres: 'lower', sqlite: 'lower' },
  UPPER: { mysql: 'UPPER', postgres: 'upper', sqlite: 'upper' },
  ABS: { mysql: 'ABS', postgres: 'abs', sqlite: 'abs' },
  COALESCE: { mysql: 'COALESCE', postgres: 'coalesce', sqlite: 'coalesce' },
  TRIM: { mysql: 'TRIM', postgres: 'btrim', sqlite: 'trim' },
  BTRIM: { mysql: 'TRIM', postgres: 'btrim', sqlite: 'trim' },
  NULLIF: { mysql: 'NULLIF', postgres: 'nullif', sqlite: 'nullif' },
}

/** PostgreSQL casts dropped when undoing its rewriting (text-like and numeric types of literals and columns). */
const DROPPABLE_CAST = /^(text|character varying|varchar|bpchar|character|char|numeric|integer|int|int4|bigint|int8|smallint|int2|double precision|real|boolean|date|timestamp without time zone|timestamp)$/i

export type Dialect = 'mysql' | 'postgres' | 'sqlite'

/** Result of a translation: the expression, or why it cannot be carried. */
export type Translated = { ok: true; sql: string; columns: string[] } | { ok: false; reason: string }

function tokenize(s: string, from: Dialect): Tok[] | string {
  const out: Tok[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === "'" || (c === '_' && /^_utf8mb4'|^_latin1'|^_binary'/i.test(s.slice(i)))) {
      // MariaDB/MySQL may prefix a literal with its character set introducer.
      if (c === '_') i = s.indexOf("'", i)
      let v = ''
      i++
      for (;;) {
        if (i >= s.length) return 'unterminated string literal'
        const d = s[i]!
        if (d === "'" && s[i + 1] === "'") {
          v += "'"
          i += 2
        } else if (d === "'") {
          i++
          break
        } else if (d === '\\' && from === 'mysql') {
          const n = s[i + 1] ?? ''
          v += ({ n: '\n', t: '\t', r: '\r', '0': '\0', Z: '\x1a' } as Record<string, string>)[n] ?? n
          i += 2
        } else {
          v += d
          i++
        }
      }
      out.push({ t: 'str', v })
      continue
    }
    if (c === '"' || c === '`' || (c === '[' && from === 'sqlite')) {
      const close = c === '[' ? ']' : c
      let v = ''
      i++
      for (;;) {
        if (i >= s.length) return 'unterminated quoted identifier'
        if (s[i] === close && s[i + 1] === close && close !== ']') {
          v += close
          i += 2
        } else if (s[i] === close) {
          i++
          break
        } else v += s[i++]
      }
      out.push({ t: 'id', v, quoted: true })
      continue
    }
    const num = /^(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(s.slice(i))
    if (num) {
      out.push({ t: 'num', v: num[0] })
      i += num[0].length
      continue
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(s.slice(i))
    if (word) {
      out.push({ t: 'id', v: word[0], quoted: false })
      i += word[0].length
      continue
    }
    const op = /^(?:::|<>|!=|<=|>=|\|\||[-+*/%<>=(),[\]])/.exec(s.slice(i))
    if (op) {
      out.push({ t: 'op', v: op[0] })
      i += op[0].length
      continue
    }
    return `unsupported character '${c}'`
  }
  return out
}

/** Drop PostgreSQL `::type` casts (type names may be several words and carry a `(n)` or `[]`). */
function dropCasts(toks: Tok[]): Tok[] | string {
  const out: Tok[] = []
  for (let i = 0; i < toks.length; i++) {
    const k = toks[i]!
    if (k.t === 'op' && k.v === '::') {
      const words: string[] = []
      let j = i + 1
      while (j < toks.length && toks[j]!.t === 'id' && !(toks[j] as { quoted: boolean }).quoted && !KEYWORDS.has(toks[j]!.v.toUpperCase())) words.push(toks[j++]!.v)
      if (toks[j]?.t === 'op' && toks[j]!.v === '(') {
        while (j < toks.length && !(toks[j]!.t === 'op' && toks[j]!.v === ')')) j++
        j++
      }
      let array = false
      if (toks[j]?.v === '[' && toks[j + 1]?.v === ']') {
        array = true
        j += 2
      }
      const type = words.join(' ')
      if (!DROPPABLE_CAST.test(type)) return `cast to ${type}${array ? '[]' : ''}`
      i = j - 1
      continue
    }
    out.push(k)
  }
  return out
}

/** `= ANY ( ARRAY [ a, b ] )` (PostgreSQL's form of `IN (a, b)`, possibly with extra parentheses) -> `IN ( a, b )`. */
function undoAnyArray(toks: Tok[]): Tok[] {
  const out: Tok[] = []
  for (let i = 0; i < toks.length; i++) {
    const k = toks[i]!
    if (k.t === 'op' && (k.v === '=' || k.v === '<>') && toks[i + 1]?.t === 'id' && /^(ANY|ALL)$/i.test(toks[i + 1]!.v)) {
      const negate = k.v === '<>'
      if (negate !== /^ALL$/i.test(toks[i + 1]!.v)) {
        out.push(k)
        continue
      }
      let j = i + 2
      let opens = 0
      while (toks[j]?.v === '(') {
        opens++
        j++
      }
      if (opens && toks[j]?.t === 'id' && /^ARRAY$/i.test(toks[j]!.v) && toks[j + 1]?.v === '[') {
        let e = j + 2
        let depth = 0
        const items: Tok[] = []
        while (e < toks.length && !(depth === 0 && toks[e]!.v === ']')) {
          if (toks[e]!.v === '[' || toks[e]!.v === '(') depth++
          if (toks[e]!.v === ']' || toks[e]!.v === ')') depth--
          items.push(toks[e]!)
          e++
        }
        let after = e + 1
        let closes = 0
        while (closes < opens && toks[after]?.v === ')') {
          closes++
          after++
        }
        if (closes === opens) {
          if (negate) out.push({ t: 'id', v: 'NOT', quoted: false })
          out.push({ t: 'id', v: 'IN', quoted: false }, { t: 'op', v: '(' }, ...items, { t: 'op', v: ')' })
          i = after - 1
          continue
        }
      }
    }
    out.push(k)
  }
  return out
}

function quoteFor(to: Dialect, name: string): string {
  return to === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"'
}

function literalFor(to: Dialect, v: string): string {
  const body = v.replace(/'/g, "''")
  return to === 'mysql' ? `'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`
}

/**
 * Translate `expr` (a CHECK or generated-column expression in dialect `from`) for dialect `to`.
 * `columns` maps each source column name to its target name; an identifier that is not a column,
 * a keyword or a listed function makes the translation fail. `valueColumn` names the column a
 * PostgreSQL domain's `VALUE` stands for.
 */
export function translateExpression(expr: string, from: Dialect, to: Dialect, columns: ReadonlyMap<string, string>, valueColumn?: string): Translated {
  const t0 = tokenize(expr, from)
  if (typeof t0 === 'string') return { ok: false, reason: t0 }
  const t1 = from === 'postgres' ? dropCasts(t0) : t0
  if (typeof t1 === 'string') return { ok: false, reason: t1 }
  const toks = from === 'postgres' ? undoAnyArray(t1) : t1
  const byLower = new Map([...columns].map(([k, v]) => [k.toLowerCase(), v]))
  const parts: string[] = []
  const glued = new Set<number>()
  const used = new Set<string>()
  for (let i = 0; i < toks.length; i++) {
    const k = toks[i]!
    switch (k.t) {
      case 'str':
        parts.push(literalFor(to, k.v))
        break
      case 'num':
        parts.push(k.v)
        break
      case 'op':
        if (k.v === '[' || k.v === ']' || k.v === '::') return { ok: false, reason: `operator ${k.v}` }
        if (k.v === '||') {
          // String concatenation in PostgreSQL and SQLite, logical OR in MySQL (without PIPES_AS_CONCAT).
          if (from === 'mysql' || to === 'mysql') return { ok: false, reason: "operator || (concatenation or OR depending on the dialect)" }
        }
        if (k.v === '%' && to === 'sqlite') return { ok: false, reason: 'operator % (SQLite: integer remainder only)' }
        // Integer division truncates in PostgreSQL and SQLite, never in MySQL (7 / 2 = 3.5000).
        if (k.v === '/' && from !== to) return { ok: false, reason: 'operator / (integer division differs between the dialects)' }
        parts.push(k.v === '!=' ? '<>' : k.v)
        break
      case 'id': {
        const up = k.v.toUpperCase()
        const next = toks[i + 1]
        if (!k.quoted && next?.t === 'op' && next.v === '(' && !KEYWORDS.has(up)) {
          const f = FUNCTIONS[up]
          if (!f) return { ok: false, reason: `function ${k.v}()` }
          parts.push(f[to])
          glued.add(parts.length) // no space before its '(' (MySQL reads `CHAR_LENGTH (x)` as a column)
          break
        }
        if (!k.quoted && valueColumn !== undefined && up === 'VALUE') {
          parts.push(quoteFor(to, valueColumn))
          break
        }
        const col = columns.get(k.v) ?? (k.quoted ? undefined : byLower.get(k.v.toLowerCase()))
        if (col !== undefined) {
          parts.push(quoteFor(to, col))
          used.add(col)
          break
        }
        if (!k.quoted && KEYWORDS.has(up)) {
          if ((up === 'TRUE' || up === 'FALSE') && to === 'sqlite') parts.push(up === 'TRUE' ? '1' : '0')
          else parts.push(up)
          break
        }
        return { ok: false, reason: `${k.quoted ? 'identifier' : 'word'} ${k.v} (not a column of the table)` }
      }
    }
  }
  let sql = ''
  parts.forEach((p, j) => {
    const prev = parts[j - 1]
    sql += j === 0 || glued.has(j) || prev === '(' || p === ')' || p === ',' ? p : ` ${p}`
  })
  return sql ? { ok: true, sql, columns: [...used] } : { ok: false, reason: 'empty expression' }
}

/**
 * The CHECK constraints written in a SQLite `CREATE TABLE` text: table constraints
 * (`[CONSTRAINT name] CHECK (expr)`) and column constraints, in order; unnamed ones are named
 * `<table>_check<n>`. SQLite keeps no catalog of them, only this text.
 */
export function sqliteCreateChecks(createSql: string, table: string): Array<{ name: string; expression: string }> {
  const out: Array<{ name: string; expression: string }> = []
  const s = createSql
  let i = s.indexOf('(')
  if (i < 0) return out
  let n = 0
  let lastName: string | undefined
  while (i < s.length) {
    const c = s[i]!
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c
      let j = i + 1
      while (j < s.length && !(s[j] === close && s[j + 1] !== close)) j += s[j] === close ? 2 : 1
      i = j + 1
      continue
    }
    const rest = s.slice(i, i + 12)
    const m = /^CONSTRAINT\s/i.exec(rest)
    if (m && /[\s,(]/.test(s[i - 1] ?? ' ')) {
      const nm = /^CONSTRAINT\s+("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)/i.exec(s.slice(i))
      if (nm) {
        lastName = nm[1]!.replace(/^["`[]|["`\]]$/g, '').replace(/""/g, '"')
        i += nm[0].length
        continue
      }
    }
    if (/^CHECK\s*\(/i.test(rest) && /[\s,()]/.test(s[i - 1] ?? ' ')) {
      let j = s.indexOf('(', i)
      const start = j + 1
      let depth = 0
      for (; j < s.length; j++) {
        const d = s[j]!
        if (d === "'") {
          j++
          while (j < s.length && !(s[j] === "'" && s[j + 1] !== "'")) j += s[j] === "'" ? 2 : 1
          continue
        }
        if (d === '(') depth++
        if (d === ')' && --depth === 0) break
      }
      n++
      out.push({ name: lastName ?? `${table}_check${n}`, expression: s.slice(start, j).trim() })
      lastName = undefined
      i = j + 1
      continue
    }
    if (c === ',') lastName = undefined
    i++
  }
  return out
}

/** The top-level comma-separated parts of the parenthesized body of a `CREATE TABLE` text. */
function createParts(createSql: string): string[] {
  const open = createSql.indexOf('(')
  if (open < 0) return []
  const parts: string[] = []
  let depth = 0
  let start = open + 1
  for (let j = open; j < createSql.length; j++) {
    const c = createSql[j]!
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c
      j++
      while (j < createSql.length && !(createSql[j] === close && createSql[j + 1] !== close)) j += createSql[j] === close ? 2 : 1
      continue
    }
    if (c === '(') depth++
    else if (c === ')') {
      depth--
      if (depth === 0) {
        parts.push(createSql.slice(start, j))
        break
      }
    } else if (c === ',' && depth === 1) {
      parts.push(createSql.slice(start, j))
      start = j + 1
    }
  }
  return parts.map((p) => p.trim())
}

/** The generated-column expressions written in a SQLite `CREATE TABLE` text, by column name. */
export function sqliteGeneratedExpressions(createSql: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of createParts(createSql)) {
    const nm = /^("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)/.exec(part)
    if (!nm) continue
    const m = /\b(?:GENERATED\s+ALWAYS\s+)?AS\s*\(/i.exec(part.slice(nm[0].length))
    if (!m) continue
    let j = nm[0].length + m.index + m[0].length - 1
    const start = j + 1
    let depth = 0
    for (; j < part.length; j++) {
      if (part[j] === '(') depth++
      if (part[j] === ')' && --depth === 0) break
    }
    out.set(nm[1]!.replace(/^["`[]|["`\]]$/g, '').replace(/""/g, '"'), part.slice(start, j).trim())
  }
  return out
}
