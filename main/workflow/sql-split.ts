/**
 * Split an SQL script into statements on `;` outside string literals ('...', "...", `...`),
 * comments (`-- ...`, `# ...` is NOT treated as a comment: it is MySQL-only), block comments
 * and PostgreSQL dollar-quoted bodies (`$$ ... $$`, `$tag$ ... $tag$`). Empty statements are
 * dropped; each statement is trimmed and keeps its own text (comments inside it stay).
 */
export function splitSqlStatements(script: string): string[] {
  const out: string[] = []
  let cur = ''
  let i = 0
  const n = script.length
  while (i < n) {
    const c = script[i]!
    const next = script[i + 1]
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i)
      const stop = end < 0 ? n : end
      cur += script.slice(i, stop)
      i = stop
      continue
    }
    if (c === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2)
      const stop = end < 0 ? n : end + 2
      cur += script.slice(i, stop)
      i = stop
      continue
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < n) {
        if (script[j] === '\\' && c !== '`') {
          j += 2
          continue
        }
        if (script[j] === c) {
          if (script[j + 1] === c) {
            j += 2
            continue
          }
          break
        }
        j++
      }
      cur += script.slice(i, Math.min(j + 1, n))
      i = j + 1
      continue
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i))
      if (m) {
        const tag = m[0]
        const end = script.indexOf(tag, i + tag.length)
        const stop = end < 0 ? n : end + tag.length
        cur += script.slice(i, stop)
        i = stop
        continue
      }
    }
    if (c === ';') {
      if (cur.trim()) out.push(cur.trim())
      cur = ''
      i++
      continue
    }
    cur += c
    i++
  }
  if (cur.trim() && !/^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*$/.test(cur)) out.push(cur.trim())
  return out.filter((s) => !/^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*$/.test(s))
}
