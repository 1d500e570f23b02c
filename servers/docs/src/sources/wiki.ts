import { GatehouseError, invalidArgument, isGatehouseError, notFound, stripHidden } from '@gatehouse/core';
import { z } from 'zod';
import type { AdrStatus, DocRef, DocumentRef, OwnerRecord, RelatedDoc, SearchItem } from '../schemas.ts';
import {
  WIKI_ID,
  type WikiApi,
  type WikiDocument,
  type WikiOwnership,
  type WikiPage,
  type WikiSummary,
} from '../upstream.ts';
import type { CallContext, DocSource, SearchArgs, SearchStream } from './source.ts';

/** A place in the wiki's ranking: its cursors are opaque, so (page cursor, items used from that page, page size). */
const Position = z.object({
  c: z.string().max(300).nullable(),
  s: z.number().int().min(0).max(100),
  n: z.number().int().min(1).max(100),
});
type Position = z.infer<typeof Position>;

/** Wiki pages one search call may fetch. */
const FETCHES_PER_CALL = 4;

/** `adr-0007-...` or `ADR-0007: ...` → 7. */
function adrNumber(doc: { id: string; title: string }): number | null {
  const match = /^adr-?(\d{1,5})\b/i.exec(doc.id) ?? /\bADR[-\s]?(\d{1,5})\b/i.exec(doc.title);
  return match ? Number(match[1]) : null;
}

const wikiRef = (doc: WikiSummary | WikiDocument): DocRef => ({
  id: `wiki:${doc.id}`,
  source: 'wiki',
  kind: doc.kind,
  title: stripHidden(doc.title),
  status: doc.status,
  number: doc.kind === 'adr' ? adrNumber(doc) : null,
  date: doc.updatedAt.slice(0, 10),
  uri: null,
  url: 'url' in doc ? doc.url : null,
});

/** The docs API (wiki) as a source: ranked by the wiki, read page by page as the merge needs hits. */
export class WikiSource implements DocSource<Position> {
  readonly name = 'wiki' as const;
  readonly prefix = 'wiki:';
  readonly cursor = { key: 'w', position: Position };
  private readonly http: WikiApi | undefined;

  constructor(api: WikiApi | undefined) {
    this.http = api;
  }

  get configured(): boolean {
    return this.http !== undefined;
  }

  private get api(): WikiApi {
    if (!this.http)
      throw new GatehouseError(
        'NOT_FOUND',
        'No docs API is configured (DOCS_API_URL), so wiki: ids cannot be read.',
      );
    return this.http;
  }

  async ready(): Promise<void> {}

  start(limit: number): Position {
    return { c: null, s: 0, n: Math.min(limit, 50) };
  }

  async search(
    args: SearchArgs,
    from: Position,
    _limit: number,
    ctx: CallContext,
  ): Promise<SearchStream<Position>> {
    const api = this.api;
    let state: Position | null = from;
    let page: WikiPage | undefined;
    let fetches = 0;
    let total: number | null = null;
    const nextPage = (current: Position, done: WikiPage): Position | null =>
      done.nextCursor ? { c: done.nextCursor, s: 0, n: current.n } : null;
    return {
      next: async (): Promise<SearchItem | undefined> => {
        while (state) {
          if (!page) {
            if (fetches >= FETCHES_PER_CALL) return undefined;
            fetches += 1;
            page = await api.search(
              { query: args.query, kind: args.kind, status: args.status, limit: state.n, cursor: state.c },
              ctx,
            );
            total = page.total ?? null;
          }
          const item = page.items[state.s];
          if (item) {
            state = { ...state, s: state.s + 1 };
            return { ...wikiRef(item), rank: 0, score: item.score, snippet: item.snippet };
          }
          state = nextPage(state, page);
          page = undefined;
        }
        return undefined;
      },
      // A fully used page moves the position to the next page.
      position: () => (state && page && state.s >= page.items.length ? nextPage(state, page) : state),
      total: () => total,
    };
  }

  async get(rest: string, ctx: CallContext): Promise<{ document: DocumentRef; body: string }> {
    const api = this.api;
    const id = `${this.prefix}${rest}`;
    if (!WIKI_ID.test(rest))
      throw invalidArgument(
        `${JSON.stringify(id)} is not a valid wiki document id (letters, digits, . _ - after "wiki:").`,
      );
    const doc = await api.getDocument(rest, ctx).catch((error: unknown) => {
      if (isGatehouseError(error) && error.code === 'NOT_FOUND')
        throw notFound('document', id, 'Find ids with search_docs.');
      throw error;
    });
    return { document: { ...wikiRef(doc), owner: doc.owner, tags: doc.tags, path: null }, body: doc.body };
  }

  async *adrs(status: AdrStatus | undefined, ctx: CallContext): AsyncIterable<DocRef[]> {
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: WikiPage = await this.api.search({ kind: 'adr', status, limit: 100, cursor }, ctx);
      yield result.items.map(wikiRef);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
  }

  async mentions(): Promise<RelatedDoc[]> {
    return [];
  }

  async owner(service: string, ctx: CallContext): Promise<OwnerRecord | undefined> {
    let remote: WikiOwnership;
    try {
      remote = await this.api.getOwnership(service, ctx);
    } catch (error) {
      if (isGatehouseError(error) && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
    return {
      team: remote.team,
      onCall: remote.onCall,
      repository: remote.repository,
      slack: remote.slack,
      description: null,
      lifecycle: null,
      catalogFile: null,
      links: [],
      relatedDocs: remote.relatedDocs
        .slice(0, 10)
        .map((id) => ({ id: `${this.prefix}${id}`, title: null, source: this.name, uri: null })),
    };
  }

  async ownerMiss(): Promise<string> {
    return 'The docs API has no ownership record for it either.';
  }
}
