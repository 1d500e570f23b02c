import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { Logger } from '@gatehouse/core';
import type { DocKind } from '../schemas.ts';
import type { ParsedDocument } from './parse.ts';
import { stripMarkdownExtension } from './paths.ts';
import type { FoundFile } from './scan.ts';
import type { TermList } from './terms.ts';

/** One indexed Markdown file, as stored: what the parser found, minus the body (it lives in the FTS table). */
export type IndexedDoc = Omit<ParsedDocument, 'body' | 'headings' | 'warnings'> & {
  id: string;
  path: string;
  mtime: string;
};

export type SearchHit = IndexedDoc & { snippet: string; score: number };

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
  rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL,
  status TEXT, number INTEGER, date TEXT, owner TEXT, tags TEXT NOT NULL, services TEXT NOT NULL, superseded_by INTEGER,
  mtime_ms REAL NOT NULL, size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_by_kind ON docs (kind, number);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5 (title, tags, body, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS catalog (path TEXT PRIMARY KEY, mtime_ms REAL NOT NULL, size INTEGER NOT NULL, entries TEXT NOT NULL);
`;

type Row = Record<string, SQLInputValue>;

/**
 * The index's SQLite database (node:sqlite, no native addon): the schema, the
 * documents table with its full-text twin, and cached statements. Every write
 * goes through `transaction` or `clear`, which tell `onWrite` (the ranking cache).
 */
export class DocsStore {
  private readonly db: DatabaseSync;
  private readonly onWrite: () => void;
  private readonly statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync, onWrite: () => void) {
    this.db = db;
    this.onWrite = onWrite;
  }

  /** Opens (or creates) the database; node:sqlite itself is loaded only now. Undefined if `cancelled` by then. */
  static async open(
    path: string,
    onWrite: () => void,
    cancelled: () => boolean,
  ): Promise<DocsStore | undefined> {
    const { DatabaseSync } = await import('node:sqlite');
    if (cancelled()) return undefined;
    const db = new DatabaseSync(path);
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (version !== SCHEMA_VERSION) {
        db.exec(
          'DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS docs_fts; DROP TABLE IF EXISTS catalog; DROP TABLE IF EXISTS meta;',
        );
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      }
      db.exec(SCHEMA);
    } catch (error) {
      db.close();
      throw error;
    }
    return new DocsStore(db, onWrite);
  }

  /** Binds the database to one root: a different root than last time starts it empty. */
  useRoot(realRoot: string): void {
    const previous = this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', 'root')?.value;
    if (previous !== undefined && previous !== realRoot) {
      this.db.exec('DELETE FROM docs; DELETE FROM docs_fts; DELETE FROM catalog;');
      this.onWrite();
    }
    this.run(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      'root',
      realRoot,
    );
  }

  // ── documents ──────────────────────────────────────────────────────────

  /** Every stored document's stamp, by path: what a rescan compares the folder with. */
  stamps(): Map<string, { path: string; mtime_ms: number; size: number; rid: number }> {
    return new Map(
      this.all<{ path: string; mtime_ms: number; size: number; rid: number }>(
        'SELECT path, mtime_ms, size, rid FROM docs',
      ).map((r) => [r.path, r]),
    );
  }

  /** Inserts or replaces one document (call inside `transaction`). */
  upsert(file: FoundFile, doc: ParsedDocument, log: Logger): void {
    const id = `local:${stripMarkdownExtension(file.path)}`;
    const existing = this.get<{ rid: number; path: string }>('SELECT rid, path FROM docs WHERE id = ?', id);
    if (existing && existing.path !== file.path) {
      log.warn(
        { path: file.path, other: existing.path },
        'two files map to the same document id; keeping the first',
      );
      return;
    }
    const values: SQLInputValue[] = [
      id,
      file.path,
      doc.kind,
      doc.title,
      doc.status,
      doc.number,
      doc.date,
      doc.owner,
      JSON.stringify(doc.tags),
      JSON.stringify(doc.services),
      doc.supersededBy,
      file.mtimeMs,
      file.size,
    ];
    let rid: number;
    if (existing) {
      rid = existing.rid;
      this.run(
        'UPDATE docs SET id = ?, path = ?, kind = ?, title = ?, status = ?, number = ?, date = ?, owner = ?, tags = ?, services = ?, superseded_by = ?, mtime_ms = ?, size = ? WHERE rid = ?',
        ...values,
        rid,
      );
      this.run('DELETE FROM docs_fts WHERE rowid = ?', rid);
    } else {
      const result = this.stmt(
        'INSERT INTO docs (id, path, kind, title, status, number, date, owner, tags, services, superseded_by, mtime_ms, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(...values);
      rid = Number(result.lastInsertRowid);
    }
    this.run(
      'INSERT INTO docs_fts (rowid, title, tags, body) VALUES (?, ?, ?, ?)',
      rid,
      doc.title,
      [...doc.tags, ...doc.services, doc.kind, doc.status ?? ''].join(' '),
      doc.body,
    );
  }

  /** Removes one document (call inside `transaction`). */
  remove(rid: number): void {
    this.run('DELETE FROM docs_fts WHERE rowid = ?', rid);
    this.run('DELETE FROM docs WHERE rid = ?', rid);
  }

  count(): number {
    return this.get<{ n: number }>('SELECT count(*) AS n FROM docs')!.n;
  }

  /** The documents of one page of a ranking, with a snippet each; `page` is in rank order. */
  hits(match: string, page: Array<{ rid: number; rank: number }>): SearchHit[] {
    if (page.length === 0) return [];
    // Snippets for the page only, one row at a time: FTS5 seeks a `rowid = ?` in each word's
    // postings, while `rowid IN (…)` beside MATCH runs the whole MATCH and filters it (the cost of
    // ranking again on common words).
    const rows = this.all<Row>(
      `SELECT * FROM docs WHERE rid IN (${page.map(() => '?').join(',')})`,
      ...page.map((r) => r.rid),
    );
    const byRid = new Map(rows.map((r) => [Number(r.rid), r]));
    return page.flatMap(({ rid, rank }) => {
      const r = byRid.get(Number(rid));
      if (!r) return [];
      const snip = this.get<{ snip: string | null }>(
        "SELECT snippet(docs_fts, 2, '**', '**', '…', 16) AS snip FROM docs_fts WHERE docs_fts MATCH ? AND docs_fts.rowid = ?",
        match,
        rid,
      )?.snip;
      return [
        {
          ...toDoc(r),
          snippet: String(snip ?? '')
            .replace(/(^|\s)#{1,6}\s+/g, '$1')
            .replace(/\s+/g, ' ')
            .trim(),
          score: Math.round(-Number(rank) * 1e6) / 1e6,
        },
      ];
    });
  }

  /** One word's matches in rowid order with its bm25 share of each (see terms.ts); `word` is letters and digits only. */
  termScores(word: string): TermList {
    const statement = this.stmt(
      'SELECT docs_fts.rowid, bm25(docs_fts, 10.0, 5.0, 1.0) FROM docs_fts WHERE docs_fts MATCH ? ORDER BY docs_fts.rowid',
    );
    // Rows as arrays where node:sqlite can (Node ≥ 24): half the cost of an object per row.
    const arrays = typeof statement.setReturnArrays === 'function';
    statement.setReturnArrays?.(true);
    try {
      const rows = statement.all(`"${word}"`) as unknown[];
      const rids = new Int32Array(rows.length);
      const scores = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as [number, number] | Record<string, number>;
        const [rid, score] = arrays ? (row as [number, number]) : Object.values(row);
        rids[i] = rid!;
        scores[i] = score!;
      }
      return { rids, scores };
    } finally {
      statement.setReturnArrays?.(false);
    }
  }

  /** Indexed terms found in at least `minDocs` documents, most common first (at most 512). */
  commonTerms(minDocs: number): string[] {
    this.db.exec('CREATE VIRTUAL TABLE IF NOT EXISTS temp.docs_vocab USING fts5vocab(main, docs_fts, row)');
    return this.all<{ term: string }>(
      'SELECT term FROM temp.docs_vocab WHERE doc >= ? ORDER BY doc DESC LIMIT 512',
      minDocs,
    )
      .map((r) => r.term)
      .filter((term) => /^[\p{L}\p{N}]+$/u.test(term));
  }

  /** The rowids of the documents a filter lets through. */
  filtered(kind: string | undefined, status: string | undefined): Set<number> {
    const where = [...(kind ? ['kind = ?'] : []), ...(status ? ['status = ?'] : [])];
    const args = [...(kind ? [kind] : []), ...(status ? [status] : [])];
    return new Set(
      this.all<{ rid: number }>(`SELECT rid FROM docs WHERE ${where.join(' AND ') || '1'}`, ...args).map(
        (r) => Number(r.rid),
      ),
    );
  }

  byId(id: string): IndexedDoc | undefined {
    const row = this.get<Row>('SELECT * FROM docs WHERE id = ?', id);
    return row ? toDoc(row) : undefined;
  }

  byPath(path: string): IndexedDoc | undefined {
    const row = this.get<Row>('SELECT * FROM docs WHERE path = ?', path);
    return row ? toDoc(row) : undefined;
  }

  /** ADRs ordered by number (unnumbered last, by path). */
  adrs(status?: string): IndexedDoc[] {
    const rows = status
      ? this.all<Row>(
          "SELECT * FROM docs WHERE kind = 'adr' AND status = ? ORDER BY number IS NULL, number, path",
          status,
        )
      : this.all<Row>("SELECT * FROM docs WHERE kind = 'adr' ORDER BY number IS NULL, number, path");
    return rows.map(toDoc);
  }

  /** Document paths starting with a prefix, for completion and listings. */
  paths(prefix: string, limit: number): string[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.all<{ path: string }>(
      "SELECT path FROM docs WHERE path LIKE ? ESCAPE '\\' ORDER BY path LIMIT ?",
      `${escaped}%`,
      limit,
    ).map((r) => r.path);
  }

  listDocs(limit: number): IndexedDoc[] {
    return this.all<Row>('SELECT * FROM docs ORDER BY path LIMIT ?', limit).map(toDoc);
  }

  /** Documents that name a service in their front matter (services or tags). */
  aboutService(service: string, limit: number): IndexedDoc[] {
    const needle = `%${JSON.stringify(service)}%`;
    return this.all<Row>(
      'SELECT * FROM docs WHERE services LIKE ? OR tags LIKE ? ORDER BY kind, number, path LIMIT ?',
      needle,
      needle,
      limit,
    ).map(toDoc);
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }

  // ── plumbing (also used by the ranking and the catalog) ────────────────

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: SQLInputValue[]): void {
    this.stmt(sql).run(...params);
  }

  /** Every write goes through here, so every write also drops the cached rankings. */
  transaction(fn: () => void): void {
    this.db.exec('BEGIN');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.onWrite();
    }
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function toDoc(r: Row): IndexedDoc {
  return {
    id: String(r.id),
    path: String(r.path),
    kind: String(r.kind) as DocKind,
    title: String(r.title),
    status: r.status === null ? null : String(r.status),
    number: r.number === null ? null : Number(r.number),
    date: r.date === null ? null : String(r.date),
    owner: r.owner === null ? null : String(r.owner),
    tags: JSON.parse(String(r.tags)) as string[],
    services: JSON.parse(String(r.services)) as string[],
    supersededBy: r.superseded_by === null ? null : Number(r.superseded_by),
    mtime: new Date(Number(r.mtime_ms)).toISOString(),
  };
}
