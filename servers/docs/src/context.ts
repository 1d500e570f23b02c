import { definitionsFor } from '@gatehouse/core';
import type { Library } from './library.ts';
import type { LocalFolder } from './local/folder.ts';

/** What every docs capability receives as `ctx.deps`. */
export interface Docs {
  /** Every source behind one surface: search, documents, ADRs, ownership. */
  library: Library;
  /** The local Markdown folder itself (docs:// resources); without DOCS_ROOT it refuses reads and lists nothing. */
  folder: LocalFolder;
  /** Stops the watcher and closes the index database. */
  close(): void;
}

/** The docs toolsets: a connection may narrow itself to some (X-Gatehouse-Toolsets, DOCS_TOOLSETS). */
export const TOOLSETS = {
  search: 'full-text search and reading documents',
  catalog: 'service ownership and on-call',
  adrs: 'the architecture decision log',
} as const;

export const { tool, resource, resourceTemplate, prompt } = definitionsFor<Docs, keyof typeof TOOLSETS>();

export const SCOPES = {
  read: 'docs:read',
} as const;
