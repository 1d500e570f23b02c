import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@gatehouse/core';
import { type ParsedDocument, parseMarkdown } from './parse.ts';
import { hasExtension, isInside, MARKDOWN_EXTENSIONS } from './paths.ts';

/**
 * Walking the docs folder: every Markdown and catalog file under the root,
 * following links only while they stay inside it, and reading one document.
 */

const MAX_FILES = 20_000;
const MAX_DEPTH = 16;
/** Larger files are never read, documents and catalog files alike. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
const SKIP_DIRS = new Set(['node_modules']);
const CATALOG_FILES = new Set(['catalog-info.yaml', 'catalog-info.yml']);

/** Names the scan (and the watcher) pass over: hidden files and folders, node_modules. */
export const isSkipped = (name: string): boolean => name.startsWith('.') || SKIP_DIRS.has(name);

/** A file the scan found: its path under the root, its real location, and the stamp that tells a change. */
export interface FoundFile {
  path: string;
  abs: string;
  mtimeMs: number;
  size: number;
}

/** Every Markdown and catalog file under the (real) root; `stopped` ends the walk early. */
export async function scanFolder(
  realRoot: string,
  log: Logger,
  stopped: () => boolean,
): Promise<{ docs: FoundFile[]; catalogs: FoundFile[] }> {
  const docs: FoundFile[] = [];
  const catalogs: FoundFile[] = [];
  const visited = new Set<string>([realRoot]);
  const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || stopped()) return;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      log.warn({ dir: rel || '.', err: (error as NodeJS.ErrnoException).code }, 'cannot list folder');
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (docs.length + catalogs.length >= MAX_FILES) return;
      if (isSkipped(entry.name) || entry.name.includes('\\')) continue;
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
        if (!isInside(realRoot, target)) {
          log.debug({ path }, 'link points outside the docs folder; not indexed');
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
  await visit(realRoot, '', 0);
  return { docs, catalogs };
}

/** Reads and parses one found document; undefined (logged) when it is too large, unreadable or has left the root. */
export async function readDocument(
  realRoot: string,
  file: FoundFile,
  log: Logger,
): Promise<{ file: FoundFile; doc: ParsedDocument } | undefined> {
  try {
    if (file.size > MAX_FILE_BYTES) {
      log.warn({ path: file.path, size: file.size }, 'document too large to index; skipped');
      return undefined;
    }
    // Re-checked at read time: the file may have been swapped for a link since the walk.
    const real = await realpath(file.abs);
    if (!isInside(realRoot, real)) return undefined;
    const text = await readFile(real, 'utf8');
    const doc = parseMarkdown(file.path, text);
    if (doc.warnings.length > 0)
      log.warn({ path: file.path, warnings: doc.warnings }, 'document parsed with warnings');
    return { file, doc };
  } catch (error) {
    log.warn({ path: file.path, err: (error as Error).message }, 'document unreadable; skipped');
    return undefined;
  }
}
