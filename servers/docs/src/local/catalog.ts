import { readFile } from 'node:fs/promises';
import type { Logger } from '@gatehouse/core';
import { type CatalogEntry, parseCatalogInfo } from './catalog-info.ts';
import { type FoundFile, MAX_FILE_BYTES } from './scan.ts';
import type { DocsStore } from './store.ts';

/** A service's catalog entry and the catalog file it came from. */
export type CatalogOwner = CatalogEntry & { path: string };

/**
 * The service catalog: every Component of the folder's catalog-info.yaml
 * files, stored per file (so a restart re-reads only changed files) and held
 * in memory by service name; the first file (by path) naming a service wins.
 */
export class ServiceCatalog {
  private readonly entries = new Map<string, CatalogOwner>();

  get size(): number {
    return this.entries.size;
  }

  owner(service: string): CatalogOwner | undefined {
    return this.entries.get(service);
  }

  services(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Loads what the database holds. */
  load(store: DocsStore): void {
    this.entries.clear();
    for (const row of store.all<{ path: string; entries: string }>(
      'SELECT path, entries FROM catalog ORDER BY path',
    )) {
      for (const entry of JSON.parse(row.entries) as CatalogEntry[])
        if (!this.entries.has(entry.service)) this.entries.set(entry.service, { ...entry, path: row.path });
    }
  }

  /** Brings the stored catalog in line with the catalog files found; true when anything changed. */
  async refresh(store: DocsStore, files: FoundFile[], log: Logger): Promise<boolean> {
    const known = new Map(
      store
        .all<{ path: string; mtime_ms: number; size: number }>('SELECT path, mtime_ms, size FROM catalog')
        .map((r) => [r.path, r]),
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
            log.warn({ path: file.path, warnings: result.warnings }, 'catalog file parsed with warnings');
        }
      } catch (error) {
        log.warn({ path: file.path, err: (error as Error).message }, 'catalog file unreadable');
      }
      store.run(
        'INSERT INTO catalog (path, mtime_ms, size, entries) VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size, entries = excluded.entries',
        file.path,
        file.mtimeMs,
        file.size,
        JSON.stringify(entries),
      );
    }
    for (const path of known.keys()) {
      changed = true;
      store.run('DELETE FROM catalog WHERE path = ?', path);
    }
    if (changed) this.load(store);
    return changed;
  }
}
