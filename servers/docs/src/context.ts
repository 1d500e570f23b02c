import { definitionsFor } from '@gatehouse/core';
import type { Library } from './library.ts';

/** What every docs capability receives as `ctx.deps`. */
export interface Docs {
  library: Library;
  /** Stops the watcher and closes the index database. */
  close(): void;
}

export const { tool, resource, resourceTemplate, prompt } = definitionsFor<Docs>();

export const SCOPES = {
  read: 'docs:read',
} as const;
