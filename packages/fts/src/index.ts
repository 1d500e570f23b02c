/**
 * Free text → a safe SQLite FTS5 MATCH expression. Pure (no database, no
 * imports), so the docs index and the sandbox's stand-in APIs build their
 * queries with the same function, without the server and the sandbox
 * importing each other (both inline this package).
 */

/**
 * Every word becomes a quoted term, OR-ed, so partial matches still rank (bm25
 * orders them); at most 16 distinct, lower-cased words. Returns undefined when
 * no searchable word remains.
 */
export function ftsQuery(text: string): string | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
  if (!words || words.length === 0) return undefined;
  return [...new Set(words)]
    .slice(0, 16)
    .map((w) => `"${w}"`)
    .join(' OR ');
}
