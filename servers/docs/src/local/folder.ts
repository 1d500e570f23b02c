import { readFile, stat } from 'node:fs/promises';
import {
  GatehouseError,
  invalidArgument,
  isGatehouseError,
  limitExceeded,
  notFound,
  stripHidden,
} from '@gatehouse/core';
import type { DocRef } from '../schemas.ts';
import type { CallContext } from '../sources/source.ts';
import type { DocsIndex, IndexProgress } from './docs-index.ts';
import { type ParsedDocument, parseMarkdown } from './parse.ts';
import {
  cleanClientPath,
  hasExtension,
  MARKDOWN_EXTENSIONS,
  READABLE_EXTENSIONS,
  resolveInside,
  stripMarkdownExtension,
} from './paths.ts';

const MAX_DOC_BYTES = 2 * 1024 * 1024;
const NOT_CONFIGURED = 'No local docs folder is configured (DOCS_ROOT)';

/** How a local document is named in results: from the index or freshly parsed. */
export const localRef = (
  doc: Pick<ParsedDocument, 'kind' | 'title' | 'status' | 'number' | 'date'> & { path: string },
): DocRef => ({
  id: `local:${stripMarkdownExtension(doc.path)}`,
  source: 'local',
  kind: doc.kind,
  title: stripHidden(doc.title),
  status: doc.status,
  number: doc.number,
  date: doc.date,
  uri: `docs://${doc.path}`,
  url: null,
});

/**
 * The local docs folder as the server reads it: the index once its first
 * build is done (a bounded wait), and files read only where their real
 * location is inside the real root. Serves the local source and the docs://
 * resources; without DOCS_ROOT it refuses reads and lists nothing.
 */
export class LocalFolder {
  private readonly docs: DocsIndex | undefined;
  private readonly waitMs: number;

  constructor(options: { index: DocsIndex | undefined; waitMs: number }) {
    this.docs = options.index;
    this.waitMs = options.waitMs;
  }

  get configured(): boolean {
    return this.docs !== undefined;
  }

  /** Waits (bounded) for the first index build, reporting progress; `why` ends the refusal without DOCS_ROOT. */
  async index(ctx: CallContext, why = '.'): Promise<DocsIndex> {
    const index = this.docs;
    if (!index) throw new GatehouseError('NOT_FOUND', `${NOT_CONFIGURED}${why}`);
    const report = async (p: IndexProgress) => {
      await ctx.progress?.(
        p.indexed,
        p.total || undefined,
        `indexing the local docs folder: ${p.indexed} of ${p.total} files`,
      );
    };
    const ready = await index.whenReady(this.waitMs, ctx.signal, report);
    if (ctx.signal.aborted) throw new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
    if (!ready) {
      const p = index.state();
      throw new GatehouseError(
        'UPSTREAM_TIMEOUT',
        `The local docs index is still being built (${p.indexed} of ${p.total} files after ${this.waitMs} ms). Try again in a few seconds.`,
        { retryAfterSeconds: 5, details: { indexed: p.indexed, total: p.total } },
      );
    }
    if (index.failure !== undefined)
      throw new GatehouseError(
        'INTERNAL',
        'The local docs index could not be opened, so local documents are unavailable. The operator has to fix DOCS_INDEX_PATH (see the server log) and restart the server.',
      );
    return index;
  }

  /** The index once built, or undefined (no folder, still building after the bounded wait, or unusable). */
  private async indexOrNothing(ctx: CallContext): Promise<DocsIndex | undefined> {
    if (!this.docs) return undefined;
    try {
      return await this.index(ctx);
    } catch (error) {
      if (isGatehouseError(error) && (error.code === 'UPSTREAM_TIMEOUT' || error.code === 'INTERNAL'))
        return undefined;
      throw error;
    }
  }

  /** Resolves a local id (or path) to a Markdown file inside the root and reads it. */
  async document(idPath: string, ctx: CallContext): Promise<{ path: string; text: string }> {
    const rel = cleanClientPath(idPath);
    const index = await this.index(ctx, ', so local: ids cannot be read.');
    const explicit = hasExtension(rel, MARKDOWN_EXTENSIONS);
    const indexed = index.byId(`local:${explicit ? stripMarkdownExtension(rel) : rel}`);
    const candidates = indexed ? [indexed.path] : explicit ? [rel] : [`${rel}.md`, `${rel}.markdown`];
    let miss: unknown;
    for (const path of candidates) {
      let real: string;
      try {
        real = await resolveInside(index.root, path);
      } catch (error) {
        if (!isGatehouseError(error) || error.code !== 'NOT_FOUND') throw error;
        miss = error;
        continue;
      }
      return { path, text: await this.readFile(real, path) };
    }
    throw miss ?? notFound('document', `local:${rel}`);
  }

  /** Any readable file of the folder by its path, for the docs://{path} resource. */
  async read(
    rawPath: string,
    ctx: CallContext,
  ): Promise<{ path: string; text: string; doc: ParsedDocument | undefined }> {
    const rel = cleanClientPath(rawPath);
    if (!hasExtension(rel, READABLE_EXTENSIONS))
      throw invalidArgument(
        'Only Markdown documents and catalog-info YAML files are served (.md, .markdown, .yaml, .yml).',
      );
    const index = await this.index(ctx);
    const real = await resolveInside(index.root, rel);
    const text = await this.readFile(real, rel);
    return {
      path: rel,
      text,
      doc: hasExtension(rel, MARKDOWN_EXTENSIONS) ? parseMarkdown(rel, text) : undefined,
    };
  }

  /** Document paths starting with a prefix (completion). */
  async paths(prefix: string, ctx: CallContext): Promise<string[]> {
    return (await this.indexOrNothing(ctx))?.paths(prefix, 100) ?? [];
  }

  /** The first documents by path (resource listing). */
  async list(limit: number, ctx: CallContext): Promise<DocRef[]> {
    return ((await this.indexOrNothing(ctx))?.listDocs(limit) ?? []).map(localRef);
  }

  /** Next free ADR number in the folder (for drafting). */
  async nextAdrNumber(ctx: CallContext): Promise<number | null> {
    const index = await this.indexOrNothing(ctx);
    if (!index) return null;
    const numbers = index.adrs().map((a) => a.number ?? 0);
    return (numbers.length ? Math.max(...numbers) : 0) + 1;
  }

  private async readFile(real: string, path: string): Promise<string> {
    const info = await stat(real);
    if (!info.isFile()) throw invalidArgument(`${JSON.stringify(path)} is a folder, not a document.`);
    if (info.size > MAX_DOC_BYTES)
      throw limitExceeded(`${JSON.stringify(path)} is larger than ${MAX_DOC_BYTES} bytes and is not served.`);
    return readFile(real, 'utf8');
  }
}
