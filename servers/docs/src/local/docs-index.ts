import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { Logger } from '@gatehouse/core';
import { type CatalogEntry, type DocKind, parseCatalogInfo, parseMarkdown } from './parse.ts';
import { hasExtension, isInside, MARKDOWN_EXTENSIONS, stripMarkdownExtension } from './paths.ts';

/** One indexed Markdown file, as stored (the body lives in the FTS table). */
export interface IndexedDoc {
  id: string;
  path: string;
  kind: DocKind;
  title: string;
  status: string | null;
  number: number | null;
  date: string | null;
  owner: string | null;
  tags: string[];
  services: string[];
  supersededBy: number | null;
  mtime: string;
}

export interface SearchHit extends IndexedDoc {
  snippet: string;
  score: number;
}

export interface IndexProgress {
  ready: boolean;
  indexed: number;
  total: number;
}

export interface IndexChanges {
  added: string[];
  modified: string[];
  removed: string[];
  catalogChanged: boolean;
}

export interface DocsIndexOptions {
  root: string;
  dbPath: string;
  log: Logger;
  onChange: (changes: IndexChanges) => void;
  /** Safety-net rescan interval (file systems and watchers can miss events). */
  rescanEveryMs?: number;
  debounceMs?: number;
}

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

const MAX_FILES = 20_000;
const MAX_DEPTH = 16;
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const BATCH = 64;
const SKIP_DIRS = new Set(['node_modules']);
const CATALOG_FILES = new Set(['catalog-info.yaml', 'catalog-info.yml']);
/** Rankings kept per query (LRU), and how far down each is kept; dropped whenever the index changes. */
const RANKINGS_CACHED = 64;
const RANKING_PREFIX = 50;
const RANKING_MAX_CACHED = 1_000;

interface Found {
  path: string;
  abs: string;
  mtimeMs: number;
  size: number;
}

/**
 * Turns free text into a safe FTS5 MATCH expression: every word becomes a
 * quoted term, OR-ed, so partial matches still rank (bm25 orders them).
 */
export function ftsQuery(text: string): string | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
  if (!words || words.length === 0) return undefined;
  return [...new Set(words)]
    .slice(0, 16)
    .map((w) => `"${w}"`)
    .join(' OR ');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The best matches of one query in rank order (the first `ranked.length`), and how many match in all. */
interface Ranking {
  ranked: Array<{ rid: number; rank: number }>;
  total: number;
}

/**
 * The local docs folder as a SQLite FTS5 index (node:sqlite, no native
 * addon). Nothing is opened or read until the first build starts (shortly
 * after start-up, or at once when a call needs the index); it runs in the
 * background, and a watcher then keeps the index current and reports what
 * changed. Only files whose real location is inside the real root are ever read.
 */
export class DocsIndex {
  private db: DatabaseSync | undefined;
  /** Why the index could not be opened, if it could not. */
  private openFailure: string | undefined;
  private building: Promise<void> | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private readonly statements = new Map<string, StatementSync>();
  /** Recent rankings by query (LRU order); cleared by every write to the index. */
  private readonly rankings = new Map<string, Ranking>();
  private readonly catalog = new Map<string, CatalogEntry & { path: string }>();
  private progress: IndexProgress = { ready: false, indexed: 0, total: 0 };
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanQueued = false;
  private closed = false;
  private realRoot = '';

  private readonly options: DocsIndexOptions;

  constructor(options: DocsIndexOptions) {
    this.options = options;
    this.readyPromise = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** Real path of the docs root (resolved once at start). */
  get root(): string {
    return this.realRoot;
  }

  /** Why the index database could not be opened (the first build is then over, with nothing indexed). */
  get failure(): string | undefined {
    return this.openFailure;
  }

  /**
   * Starts the first build (then the watcher) `afterMs` from now, or at once;
   * returns at once either way. Deferring it keeps the database, the folder
   * scan and the YAML parser off the path of the client's first requests;
   * anything that needs the index meanwhile starts the build right away
   * (see whenReady).
   */
  start(afterMs = 0): void {
    if (this.building || this.closed) return;
    clearTimeout(this.startTimer);
    if (afterMs > 0) {
      this.startTimer = setTimeout(() => this.start(), afterMs);
      this.startTimer.unref();
      return;
    }
    this.building = this.firstBuild();
  }

  /** Opens (or creates) the database; node:sqlite itself is loaded only now. */
  private async open(): Promise<DatabaseSync | undefined> {
    const { DatabaseSync } = await import('node:sqlite');
    if (this.closed) return undefined;
    const db = new DatabaseSync(this.options.dbPath);
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
    return db;
  }

  private async firstBuild(): Promise<void> {
    const started = performance.now();
    try {
      this.db = await this.open();
    } catch (error) {
      this.openFailure = (error as Error).message;
      this.options.log.error(
        { err: error },
        'cannot open the docs index database (DOCS_INDEX_PATH); local documents are unavailable',
      );
    }
    if (!this.db) {
      this.progress = { ...this.progress, ready: true };
      this.markReady();
      return;
    }
    try {
      this.realRoot = await realpath(this.options.root);
      const previousRoot = this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', 'root')?.value;
      if (previousRoot !== undefined && previousRoot !== this.realRoot) {
        this.database.exec('DELETE FROM docs; DELETE FROM docs_fts; DELETE FROM catalog;');
        this.rankings.clear();
      }
      this.run(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        'root',
        this.realRoot,
      );
      this.loadCatalogFromDb();
      await this.rescan(true);
      this.options.log.info(
        { docs: this.count(), services: this.catalog.size, ms: Math.round(performance.now() - started) },
        'docs index ready',
      );
    } catch (error) {
      this.options.log.error(
        { err: error },
        'docs index build failed; local search answers with what was indexed',
      );
    } finally {
      this.progress = { ...this.progress, ready: true };
      this.markReady();
    }
    if (!this.closed) this.startWatching();
  }

  private startWatching(): void {
    const every = this.options.rescanEveryMs ?? 30_000;
    try {
      this.watcher = watch(this.realRoot, { recursive: true, persistent: false }, (_event, name) => {
        if (
          typeof name === 'string' &&
          name.split(/[\\/]/).some((s) => s.startsWith('.') || SKIP_DIRS.has(s))
        )
          return;
        this.scheduleRescan();
      });
      this.watcher.on('error', (error) => {
        this.options.log.warn({ err: error }, 'docs folder watcher failed; falling back to periodic rescans');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.options.log.warn({ err: error }, 'cannot watch the docs folder; falling back to periodic rescans');
    }
    this.poller = setInterval(() => this.scheduleRescan(), this.watcher ? every : Math.min(every, 5_000));
    this.poller.unref();
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.rescanSerial();
    }, this.options.debounceMs ?? 150);
    this.debounce.unref();
  }

  /** Rescans are serial; a change arriving during one queues exactly one more. */
  private async rescanSerial(): Promise<void> {
    if (this.scanning) {
      this.rescanQueued = true;
      return;
    }
    this.scanning = this.rescan(false)
      .catch((error) => this.options.log.warn({ err: error }, 'docs rescan failed'))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescanQueued && !this.closed) {
          this.rescanQueued = false;
          void this.rescanSerial();
        }
      });
    await this.scanning;
  }

  /** Compares the folder with the index (mtime and size) and applies the differences. */
  private async rescan(initial: boolean): Promise<void> {
    const { docs, catalogs } = await this.walk();
    if (this.closed) return;
    const known = new Map(
      this.all<{ path: string; mtime_ms: number; size: number; rid: number }>(
        'SELECT path, mtime_ms, size, rid FROM docs',
      ).map((r) => [r.path, r]),
    );
    const changed = docs.filter((f) => {
      const row = known.get(f.path);
      return !row || row.mtime_ms !== f.mtimeMs || row.size !== f.size;
    });
    const seen = new Set(docs.map((f) => f.path));
    const removed = [...known.keys()].filter((p) => !seen.has(p));
    const added = changed.filter((f) => !known.has(f.path)).map((f) => f.path);
    const modified = changed.filter((f) => known.has(f.path)).map((f) => f.path);
    if (initial) this.progress = { ready: false, indexed: docs.length - changed.length, total: docs.length };

    for (let i = 0; i < changed.length && !this.closed; i += BATCH) {
      const batch = changed.slice(i, i + BATCH);
      const parsed = await Promise.all(batch.map((f) => this.readDoc(f)));
      if (this.closed) return;
      this.transaction(() => {
        for (const item of parsed) if (item) this.upsert(item.file, item.doc);
      });
      if (initial) this.progress = { ...this.progress, indexed: this.progress.indexed + batch.length };
    }
    if (removed.length > 0) {
      this.transaction(() => {
        for (const path of removed) {
          const rid = known.get(path)!.rid;
          this.run('DELETE FROM docs_fts WHERE rowid = ?', rid);
          this.run('DELETE FROM docs WHERE rid = ?', rid);
        }
      });
    }
    const catalogChanged = await this.refreshCatalog(catalogs);
    if (!initial && (added.length || modified.length || removed.length || catalogChanged)) {
      this.options.log.info(
        { added: added.length, modified: modified.length, removed: removed.length, catalogChanged },
        'docs index updated',
      );
      this.options.onChange({ added, modified, removed, catalogChanged });
    }
  }

  private async readDoc(
    file: Found,
  ): Promise<{ file: Found; doc: ReturnType<typeof parseMarkdown> } | undefined> {
    try {
      if (file.size > MAX_FILE_BYTES) {
        this.options.log.warn({ path: file.path, size: file.size }, 'document too large to index; skipped');
        return undefined;
      }
      // Re-checked at read time: the file may have been swapped for a link since the walk.
      const real = await realpath(file.abs);
      if (!isInside(this.realRoot, real)) return undefined;
      const text = await readFile(real, 'utf8');
      const doc = parseMarkdown(file.path, text);
      if (doc.warnings.length > 0)
        this.options.log.warn({ path: file.path, warnings: doc.warnings }, 'document parsed with warnings');
      return { file, doc };
    } catch (error) {
      this.options.log.warn(
        { path: file.path, err: (error as Error).message },
        'document unreadable; skipped',
      );
      return undefined;
    }
  }

  private upsert(file: Found, doc: ReturnType<typeof parseMarkdown>): void {
    const id = `local:${stripMarkdownExtension(file.path)}`;
    const existing = this.get<{ rid: number; path: string }>('SELECT rid, path FROM docs WHERE id = ?', id);
    if (existing && existing.path !== file.path) {
      this.options.log.warn(
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

  private async refreshCatalog(files: Found[]): Promise<boolean> {
    const known = new Map(
      this.all<{ path: string; mtime_ms: number; size: number }>(
        'SELECT path, mtime_ms, size FROM catalog',
      ).map((r) => [r.path, r]),
    );
    let changed = false;
    for (const file of files) {
      const row = known.get(file.path);
      known.delete(file.path);
      if (row && row.mtime_ms === file.mtimeMs && row.size === file.size) continue;
      changed = true;
      let entries: CatalogEntry[] = [];
      try {
        if (file.size <= MAX_FILE_BYTES) {
          const result = parseCatalogInfo(await readFile(file.abs, 'utf8'));
          entries = result.entries;
          if (result.warnings.length)
            this.options.log.warn(
              { path: file.path, warnings: result.warnings },
              'catalog file parsed with warnings',
            );
        }
      } catch (error) {
        this.options.log.warn({ path: file.path, err: (error as Error).message }, 'catalog file unreadable');
      }
      this.run(
        'INSERT INTO catalog (path, mtime_ms, size, entries) VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size, entries = excluded.entries',
        file.path,
        file.mtimeMs,
        file.size,
        JSON.stringify(entries),
      );
    }
    for (const path of known.keys()) {
      changed = true;
      this.run('DELETE FROM catalog WHERE path = ?', path);
    }
    if (changed) this.loadCatalogFromDb();
    return changed;
  }

  private loadCatalogFromDb(): void {
    this.catalog.clear();
    for (const row of this.all<{ path: string; entries: string }>(
      'SELECT path, entries FROM catalog ORDER BY path',
    )) {
      for (const entry of JSON.parse(row.entries) as CatalogEntry[])
        if (!this.catalog.has(entry.service)) this.catalog.set(entry.service, { ...entry, path: row.path });
    }
  }

  /** Every Markdown and catalog file under the root, following links only while they stay inside it. */
  private async walk(): Promise<{ docs: Found[]; catalogs: Found[] }> {
    const docs: Found[] = [];
    const catalogs: Found[] = [];
    const visited = new Set<string>([this.realRoot]);
    const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
      if (depth > MAX_DEPTH || this.closed) return;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        this.options.log.warn(
          { dir: rel || '.', err: (error as NodeJS.ErrnoException).code },
          'cannot list folder',
        );
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (docs.length + catalogs.length >= MAX_FILES) return;
        if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name) || entry.name.includes('\\')) continue;
        const abs = join(dir, entry.name);
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        let target = abs;
        if (entry.isSymbolicLink()) {
          try {
            target = await realpath(abs);
          } catch {
            continue;
          }
          if (!isInside(this.realRoot, target)) {
            this.options.log.debug({ path }, 'link points outside the docs folder; not indexed');
            continue;
          }
          const info = await stat(target).catch(() => undefined);
          isDir = info?.isDirectory() ?? false;
          isFile = info?.isFile() ?? false;
        }
        if (isDir) {
          const real = entry.isSymbolicLink() ? target : abs;
          if (visited.has(real)) continue;
          visited.add(real);
          await visit(abs, path, depth + 1);
          continue;
        }
        if (!isFile) continue;
        const isDoc = hasExtension(entry.name, MARKDOWN_EXTENSIONS);
        const isCatalog = CATALOG_FILES.has(entry.name.toLowerCase());
        if (!isDoc && !isCatalog) continue;
        const info = await stat(target).catch(() => undefined);
        if (!info) continue;
        (isDoc ? docs : catalogs).push({ path, abs: target, mtimeMs: info.mtimeMs, size: info.size });
      }
    };
    await visit(this.realRoot, '', 0);
    return { docs, catalogs };
  }

  // ── queries ────────────────────────────────────────────────────────────

  state(): IndexProgress {
    return { ...this.progress };
  }

  /**
   * Resolves once the first build is done, starting it now if it was only
   * scheduled. While waiting it calls `onProgress` about every 250 ms; after
   * `timeoutMs` it resolves false.
   */
  async whenReady(
    timeoutMs: number,
    signal: AbortSignal,
    onProgress?: (p: IndexProgress) => Promise<void> | void,
  ): Promise<boolean> {
    if (this.progress.ready) return true;
    this.start();
    const until = Date.now() + timeoutMs;
    let last = -1;
    while (!this.progress.ready) {
      if (signal.aborted) return false;
      if (this.progress.indexed !== last) {
        last = this.progress.indexed;
        await onProgress?.(this.state());
      }
      const left = until - Date.now();
      if (left <= 0) return false;
      await Promise.race([this.readyPromise, sleep(Math.min(250, left))]);
    }
    return true;
  }

  count(): number {
    return this.get<{ n: number }>('SELECT count(*) AS n FROM docs')!.n;
  }

  search(
    text: string,
    filter: { kind?: DocKind | undefined; status?: string | undefined },
    offset: number,
    limit: number,
  ): { hits: SearchHit[]; total: number } {
    const match = ftsQuery(text);
    if (!match) return { hits: [], total: 0 };
    const { total, page } = this.rank(match, filter, offset, limit);
    if (page.length === 0) return { total, hits: [] };
    // Snippets for the page only: with snippet() in the ranking query SQLite computes it (and reads
    // every body) for all matches before sorting.
    const rows = this.all<Record<string, SQLInputValue>>(
      `SELECT d.*, snippet(docs_fts, 2, '**', '**', '…', 16) AS snip
       FROM docs_fts JOIN docs d ON d.rid = docs_fts.rowid
       WHERE docs_fts MATCH ? AND docs_fts.rowid IN (${page.map(() => '?').join(',')})`,
      match,
      ...page.map((r) => r.rid),
    );
    const byRid = new Map(rows.map((r) => [Number(r.rid), r]));
    return {
      total,
      hits: page.flatMap(({ rid, rank }) => {
        const r = byRid.get(Number(rid));
        if (!r) return [];
        return [
          {
            ...toDoc(r),
            snippet: String(r.snip ?? '')
              .replace(/(^|\s)#{1,6}\s+/g, '$1')
              .replace(/\s+/g, ' ')
              .trim(),
            score: Math.round(-Number(rank) * 1e6) / 1e6,
          },
        ];
      }),
    };
  }

  /**
   * One page of a query's ranking, and the number of matches. bm25 has to score every match, which
   * dominates on common words, so the best RANKING_PREFIX (or more, for later pages) are kept per
   * query until the index next changes: later pages and repeated searches do not rank again.
   */
  private rank(
    match: string,
    filter: { kind?: DocKind | undefined; status?: string | undefined },
    offset: number,
    limit: number,
  ): { total: number; page: Ranking['ranked'] } {
    const where = ['docs_fts MATCH ?'];
    const args: SQLInputValue[] = [match];
    if (filter.kind) {
      where.push('d.kind = ?');
      args.push(filter.kind);
    }
    if (filter.status) {
      where.push('d.status = ?');
      args.push(filter.status);
    }
    const clause = where.join(' AND ');
    // Without filters the full-text table alone answers; joining docs for every match costs a lookup each.
    const from = where.length === 1 ? 'docs_fts' : 'docs_fts JOIN docs d ON d.rid = docs_fts.rowid';
    const ranking = `SELECT docs_fts.rowid AS rid, bm25(docs_fts, 10.0, 5.0, 1.0) AS rank
       FROM ${from} WHERE ${clause} ORDER BY rank, docs_fts.rowid LIMIT ?`;
    const count = () =>
      this.get<{ n: number }>(`SELECT count(*) AS n FROM ${from} WHERE ${clause}`, ...args)!.n;
    const want = offset + limit;

    const key = JSON.stringify([match, filter.kind ?? null, filter.status ?? null]);
    const cached = this.rankings.get(key);
    const remember = (entry: Ranking) => {
      this.rankings.delete(key);
      this.rankings.set(key, entry);
      if (this.rankings.size > RANKINGS_CACHED) this.rankings.delete(this.rankings.keys().next().value!);
    };
    if (cached && (cached.ranked.length >= want || cached.ranked.length === cached.total)) {
      remember(cached);
      return { total: cached.total, page: cached.ranked.slice(offset, want) };
    }
    if (want > RANKING_MAX_CACHED) {
      // Deep pages are rare: rank down to the page and keep only the count.
      const page = this.all<{ rid: number; rank: number }>(`${ranking} OFFSET ?`, ...args, limit, offset);
      const total = cached?.total ?? count();
      remember({ ranked: cached?.ranked ?? [], total });
      return { total, page };
    }
    // Paging on past what is kept ranks again, twice as far each time.
    const size = Math.min(
      Math.max(want, RANKING_PREFIX, 2 * (cached?.ranked.length ?? 0)),
      RANKING_MAX_CACHED,
    );
    const ranked = this.all<{ rid: number; rank: number }>(ranking, ...args, size);
    // Fewer than asked for means these are all the matches: no need to count them.
    const total = ranked.length < size ? ranked.length : (cached?.total ?? count());
    remember({ ranked, total });
    return { total, page: ranked.slice(offset, want) };
  }

  byId(id: string): IndexedDoc | undefined {
    const row = this.get<Record<string, SQLInputValue>>('SELECT * FROM docs WHERE id = ?', id);
    return row ? toDoc(row) : undefined;
  }

  byPath(path: string): IndexedDoc | undefined {
    const row = this.get<Record<string, SQLInputValue>>('SELECT * FROM docs WHERE path = ?', path);
    return row ? toDoc(row) : undefined;
  }

  /** ADRs ordered by number (unnumbered last, by path). */
  adrs(status?: string): IndexedDoc[] {
    const rows = status
      ? this.all<Record<string, SQLInputValue>>(
          "SELECT * FROM docs WHERE kind = 'adr' AND status = ? ORDER BY number IS NULL, number, path",
          status,
        )
      : this.all<Record<string, SQLInputValue>>(
          "SELECT * FROM docs WHERE kind = 'adr' ORDER BY number IS NULL, number, path",
        );
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
    return this.all<Record<string, SQLInputValue>>('SELECT * FROM docs ORDER BY path LIMIT ?', limit).map(
      toDoc,
    );
  }

  /** Documents that name a service in their front matter (services or tags). */
  aboutService(service: string, limit: number): IndexedDoc[] {
    const needle = `%${JSON.stringify(service)}%`;
    return this.all<Record<string, SQLInputValue>>(
      'SELECT * FROM docs WHERE services LIKE ? OR tags LIKE ? ORDER BY kind, number, path LIMIT ?',
      needle,
      needle,
      limit,
    ).map(toDoc);
  }

  owner(service: string): (CatalogEntry & { path: string }) | undefined {
    return this.catalog.get(service);
  }

  services(): string[] {
    return [...this.catalog.keys()].sort();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.startTimer);
    clearTimeout(this.debounce);
    clearInterval(this.poller);
    this.watcher?.close();
    this.statements.clear();
    this.rankings.clear();
    if (this.db?.isOpen) this.db.close();
  }

  // ── sqlite plumbing ────────────────────────────────────────────────────

  /** The open database; callers wait for the first build (whenReady) and check `failure` first. */
  private get database(): DatabaseSync {
    if (!this.db) throw new Error(this.openFailure ?? 'the docs index is not open yet');
    return this.db;
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  private get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  private run(sql: string, ...params: SQLInputValue[]): void {
    this.stmt(sql).run(...params);
  }

  /** Every write goes through here, so every write also drops the cached rankings. */
  private transaction(fn: () => void): void {
    const db = this.database;
    db.exec('BEGIN');
    try {
      fn();
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    } finally {
      this.rankings.clear();
    }
  }
}

function toDoc(r: Record<string, SQLInputValue>): IndexedDoc {
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
