import { stripHidden } from '@gatehouse/core';
import { z } from 'zod';
import { type LocalFolder, localRef } from '../local/folder.ts';
import { parseMarkdown } from '../local/parse.ts';
import { stripMarkdownExtension } from '../local/paths.ts';
import type { AdrStatus, DocRef, DocumentRef, OwnerRecord, RelatedDoc, SearchItem } from '../schemas.ts';
import type { CallContext, DocSource, SearchArgs, SearchStream } from './source.ts';

const related = (doc: { id: string; path: string; title: string }): RelatedDoc => ({
  id: doc.id,
  title: stripHidden(doc.title),
  source: 'local',
  uri: `docs://${doc.path}`,
});

/**
 * The Markdown folder as a source: ranked by its FTS index (positions are
 * offsets into the ranking), ownership from its catalog-info.yaml files.
 */
export class LocalSource implements DocSource<number> {
  readonly name = 'local' as const;
  readonly prefix = 'local:';
  readonly cursor = { key: 'l', position: z.number().int().min(0).max(1_000_000) };
  private readonly folder: LocalFolder;

  constructor(folder: LocalFolder) {
    this.folder = folder;
  }

  get configured(): boolean {
    return this.folder.configured;
  }

  async ready(ctx: CallContext): Promise<void> {
    await this.folder.index(ctx);
  }

  start(): number {
    return 0;
  }

  async search(
    args: SearchArgs,
    offset: number,
    limit: number,
    ctx: CallContext,
  ): Promise<SearchStream<number>> {
    const index = await this.folder.index(ctx);
    const found = index.search(args.query, { kind: args.kind, status: args.status }, offset, limit);
    const hits: SearchItem[] = found.hits.map((hit) => ({
      ...localRef(hit),
      rank: 0,
      score: hit.score,
      snippet: hit.snippet,
    }));
    let used = 0;
    return {
      next: async () => (used < hits.length ? hits[used++] : undefined),
      position: () => (offset + used < found.total ? offset + used : null),
      total: () => found.total,
    };
  }

  async get(rest: string, ctx: CallContext): Promise<{ document: DocumentRef; body: string }> {
    const { path, text } = await this.folder.document(rest, ctx);
    const parsed = parseMarkdown(path, text);
    return {
      document: { ...localRef({ ...parsed, path }), owner: parsed.owner, tags: parsed.tags, path },
      body: parsed.body,
    };
  }

  async *adrs(status: AdrStatus | undefined, ctx: CallContext): AsyncIterable<DocRef[]> {
    yield (await this.folder.index(ctx)).adrs(status).map(localRef);
  }

  async mentions(service: string, ctx: CallContext): Promise<RelatedDoc[]> {
    return (await this.folder.index(ctx)).aboutService(service, 10).map(related);
  }

  async owner(service: string, ctx: CallContext): Promise<OwnerRecord | undefined> {
    const index = await this.folder.index(ctx);
    const entry = index.owner(service);
    if (!entry) return undefined;
    const relatedDocs: RelatedDoc[] = [];
    for (const ref of entry.docs) {
      const doc =
        index.byPath(ref) ??
        index.byId(ref.startsWith(this.prefix) ? ref : `${this.prefix}${stripMarkdownExtension(ref)}`);
      if (doc) relatedDocs.push(related(doc));
    }
    return {
      team: entry.team,
      onCall: entry.onCall,
      repository: entry.repository,
      slack: entry.slack,
      description: entry.description ? stripHidden(entry.description) : null,
      lifecycle: entry.lifecycle,
      catalogFile: `docs://${entry.path}`,
      links: entry.links,
      relatedDocs,
    };
  }

  async ownerMiss(ctx: CallContext): Promise<string> {
    const known = (await this.folder.index(ctx)).services();
    return `The local catalog knows: ${known.slice(0, 20).join(', ') || '(none)'}.`;
  }
}
