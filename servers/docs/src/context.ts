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

export const { tool, resource, resourceTemplate, prompt } = definitionsFor<Docs>();

export const SCOPES = {
  read: 'docs:read',
} as const;
