import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

export const ENV_PREFIX = 'DOCS';

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * docs-specific environment on top of the common DOCS_* variables. Either
 * DOCS_ROOT or the docs API (DOCS_API_URL + DOCS_API_TOKEN) must be set; that
 * cross-variable rule is checked in createDeps (see index.ts).
 */
export const env = z.object({
  DOCS_ROOT: z
    .string()
    .min(1)
    .max(4096)
    .refine(isDirectory, 'must be an existing, readable directory')
    .optional()
    .describe('Folder of Markdown docs (ADRs, standards, guides, catalog-info.yaml) to index and serve'),
  DOCS_INDEX_PATH: z
    .string()
    .min(1)
    .max(4096)
    .refine(
      (path) => path === ':memory:' || (!isDirectory(path) && isDirectory(dirname(resolve(path)))),
      "must be ':memory:' or a file path in an existing folder",
    )
    .default(':memory:')
    .describe("SQLite file for the full-text index (':memory:' by default; a file survives restarts)"),
  DOCS_INDEX_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(120_000)
    .default(10_000)
    .describe('How long a search waits for the local index to finish its first build'),
});
