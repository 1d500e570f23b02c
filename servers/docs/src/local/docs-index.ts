import { realpath } from 'node:fs/promises';
import type { Logger } from '@gatehouse/core';
import { ftsQuery } from '@gatehouse/fts';
import { type CatalogOwner, ServiceCatalog } from './catalog.ts';
import { Rankings, type SearchFilter } from './rank.ts';
import { readDocument, scanFolder } from './scan.ts';
import { DocsStore, type IndexedDoc, type SearchHit } from './store.ts';
import { FolderWatcher } from './watch.ts';

export interface IndexProgress {
  ready: boolean;
  indexed: number;
  total: number;
}

interface IndexChanges {
  added: string[];
  modified: string[];
  removed: string[];
  catalogChanged: boolean;
}

interface DocsIndexOptions {
  root: string;
  dbPath: string;
  log: Logger;
  onChange: (changes: IndexChanges) => void;
  /** Safety-net rescan interval (file systems and watchers can miss events). */
  rescanEveryMs?: number;
  debounceMs?: number;
}

/** Documents parsed and written per transaction. */
const BATCH = 64;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The local docs folder as a SQLite FTS5 index. Nothing is opened or read
 * until the first build starts (shortly after start-up, or at once when a call
 * needs the index); it runs in the background, and a watcher then keeps the
 * index current and reports what changed. Only files whose real location is
 * inside the real root are ever read. The parts: scan.ts walks the folder,
 * store.ts holds the database, rank.ts caches rankings, catalog.ts the service
 * catalog, watch.ts follows changes.
 */
export class DocsIndex {
  private store: DocsStore | undefined;
  /** Why the index could not be opened, if it could not. */
  private openFailure: string | undefined;
  private building: Promise<void> | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private readonly rankings = new Rankings();
  private readonly catalog = new ServiceCatalog();
  private progress: IndexProgress = { ready: false, indexed: 0, total: 0 };
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private watcher: FolderWatcher | undefined;
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

  private async firstBuild(): Promise<void> {
    const { log } = this.options;
    const started = performance.now();
    try {
      this.store = await DocsStore.open(
        this.options.dbPath,
        () => this.rankings.clear(),
        () => this.closed,
      );
    } catch (error) {
      this.openFailure = (error as Error).message;
      log.error(
        { err: error },
        'cannot open the docs index database (DOCS_INDEX_PATH); local documents are unavailable',
      );
    }
    if (!this.store) {
      this.progress = { ...this.progress, ready: true };
      this.markReady();
      return;
    }
    try {
      this.realRoot = await realpath(this.options.root);
      this.store.useRoot(this.realRoot);
      this.catalog.load(this.store);
      await this.rescan(true);
      // Part of the first build: the common words' score lists (see local/terms.ts).
      await this.rankings.warm(this.store);
      log.info(
        { docs: this.db.count(), services: this.catalog.size, ms: Math.round(performance.now() - started) },
        'docs index ready',
      );
    } catch (error) {
      log.error({ err: error }, 'docs index build failed; local search answers with what was indexed');
    } finally {
      this.progress = { ...this.progress, ready: true };
      this.markReady();
    }
    if (this.closed) return;
    this.watcher = new FolderWatcher({
      root: this.realRoot,
      log,
      rescan: () => this.rescan(false),
      rescanEveryMs: this.options.rescanEveryMs,
      debounceMs: this.options.debounceMs,
    });
    this.watcher.start();
  }

  /** Compares the folder with the index (mtime and size) and applies the differences. */
  private async rescan(initial: boolean): Promise<void> {
    const { log } = this.options;
    const { docs, catalogs } = await scanFolder(this.realRoot, log, () => this.closed);
    if (this.closed) return;
    const store = this.db;
    const known = store.stamps();
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
      const parsed = await Promise.all(batch.map((f) => readDocument(this.realRoot, f, log)));
      if (this.closed) return;
      store.transaction(() => {
        for (const item of parsed) if (item) store.upsert(item.file, item.doc, log);
      });
      if (initial) this.progress = { ...this.progress, indexed: this.progress.indexed + batch.length };
    }
    if (removed.length > 0) {
      store.transaction(() => {
        for (const path of removed) store.remove(known.get(path)!.rid);
      });
    }
    const catalogChanged = await this.catalog.refresh(store, catalogs, log);
    if (!initial && (added.length || modified.length || removed.length || catalogChanged)) {
      log.info(
        { added: added.length, modified: modified.length, removed: removed.length, catalogChanged },
        'docs index updated',
      );
      this.options.onChange({ added, modified, removed, catalogChanged });
      // The write dropped the score lists: score the common words again, between other work.
      void this.rankings.warm(store).catch(() => undefined);
    }
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

  search(
    text: string,
    filter: SearchFilter,
    offset: number,
    limit: number,
  ): { hits: SearchHit[]; total: number } {
    const match = ftsQuery(text);
    if (!match) return { hits: [], total: 0 };
    const { total, page } = this.rankings.page(this.db, match, filter, offset, limit);
    return { total, hits: this.db.hits(match, page) };
  }

  byId(id: string): IndexedDoc | undefined {
    return this.db.byId(id);
  }

  byPath(path: string): IndexedDoc | undefined {
    return this.db.byPath(path);
  }

  /** ADRs ordered by number (unnumbered last, by path). */
  adrs(status?: string): IndexedDoc[] {
    return this.db.adrs(status);
  }

  /** Document paths starting with a prefix, for completion and listings. */
  paths(prefix: string, limit: number): string[] {
    return this.db.paths(prefix, limit);
  }

  listDocs(limit: number): IndexedDoc[] {
    return this.db.listDocs(limit);
  }

  /** Documents that name a service in their front matter (services or tags). */
  aboutService(service: string, limit: number): IndexedDoc[] {
    return this.db.aboutService(service, limit);
  }

  owner(service: string): CatalogOwner | undefined {
    return this.catalog.owner(service);
  }

  services(): string[] {
    return this.catalog.services();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.startTimer);
    this.watcher?.close();
    this.rankings.clear();
    this.store?.close();
  }

  /** The open database; callers wait for the first build (whenReady) and check `failure` first. */
  private get db(): DocsStore {
    if (!this.store) throw new Error(this.openFailure ?? 'the docs index is not open yet');
    return this.store;
  }
}
