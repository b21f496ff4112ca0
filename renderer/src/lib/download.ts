/**
 * Save text as a file through the browser (an object URL and a temporary link), as the export,
 * workflow and differing-keys downloads do. `type` is the MIME type with its charset.
 */
export function saveText(name: string, content: string, type = 'text/plain;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([content], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
