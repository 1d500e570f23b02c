import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import {
  decodeCursor,
  encodeCursor,
  GatehouseError,
  invalidArgument,
  isGatehouseError,
  type Logger,
  limitExceeded,
  notFound,
  sliceText,
  stripHidden,
} from '@gatehouse/core';
import type { UpstreamCallOptions } from '@gatehouse/core/upstream';
import { z } from 'zod';
import type { DocsIndex, IndexedDoc, IndexProgress } from './local/docs-index.ts';
import { type AdrStatus, type DocKind, headingsOf, parseMarkdown, sectionOf } from './local/parse.ts';
import {
  cleanClientPath,
  hasExtension,
  MARKDOWN_EXTENSIONS,
  READABLE_EXTENSIONS,
  resolveInside,
  stripMarkdownExtension,
} from './local/paths.ts';
import { WIKI_ID, type WikiApi, type WikiDocument, type WikiSummary, wikiAdrNumber } from './upstream.ts';

export type Source = 'local' | 'wiki';

/** How every document is named in results, whichever source it came from. */
export interface DocRef {
  id: string;
  source: Source;
  kind: DocKind;
  title: string;
  status: string | null;
  number: number | null;
  /** The document's own date (front matter / ADR date); for wiki documents, its last update. */
  date: string | null;
  /** docs://{path} for local documents (readable as a resource). */
  uri: string | null;
  /** The wiki page for wiki documents. */
  url: string | null;
}

export interface SearchItem extends DocRef {
  rank: number;
  score: number | null;
  snippet: string;
}

export interface Unavailable {
  source: Source;
  code: string;
  message: string;
}

/** What a tool handler passes in: upstream call options plus progress. */
export interface CallContext extends UpstreamCallOptions {
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
}

export const BODY_BUDGET_BYTES = 6_000;
const MAX_DOC_BYTES = 2 * 1024 * 1024;
const WIKI_FETCHES_PER_PAGE = 4;

const shortHash = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 10);

const SearchCursor = z.object({
  h: z.string().max(16),
  k: z.number().int().min(0).max(100_000),
  l: z.number().int().min(0).max(1_000_000).nullable(),
  w: z
    .object({
      c: z.string().max(300).nullable(),
      s: z.number().int().min(0).max(100),
      n: z.number().int().min(1).max(100),
    })
    .nullable(),
  t: z.enum(['l', 'w']),
});
type SearchCursor = z.infer<typeof SearchCursor>;
const OffsetCursor = z.object({ h: z.string().max(16), o: z.number().int().min(0).max(1_000_000) });
const BodyCursor = z.object({ h: z.string().max(16), c: z.string().max(200) });

const localRef = (doc: IndexedDoc): DocRef => ({
  id: doc.id,
  source: 'local',
  kind: doc.kind,
  title: stripHidden(doc.title),
  status: doc.status,
  number: doc.number,
  date: doc.date,
  uri: `docs://${doc.path}`,
  url: null,
});

const wikiRef = (doc: WikiSummary | WikiDocument): DocRef => ({
  id: `wiki:${doc.id}`,
  source: 'wiki',
  kind: doc.kind,
  title: stripHidden(doc.title),
  status: doc.status,
  number: doc.kind === 'adr' ? wikiAdrNumber(doc) : null,
  date: doc.updatedAt.slice(0, 10),
  uri: null,
  url: 'url' in doc ? doc.url : null,
});

export interface LocalSource {
  index: DocsIndex;
}

/**
 * Both sources behind one surface: the local Markdown folder (indexed) and
 * the docs API (wiki). Every result says where it came from; either source
 * may be absent.
 */
export interface LibraryOptions {
  local: LocalSource | undefined;
  wiki: WikiApi | undefined;
  /** How long a call waits for the first local index build. */
  waitMs: number;
  log: Logger;
}

export class Library {
  private readonly options: LibraryOptions;

  constructor(options: LibraryOptions) {
    this.options = options;
  }

  get sources(): Source[] {
    return [
      ...(this.options.local ? ['local' as const] : []),
      ...(this.options.wiki ? ['wiki' as const] : []),
    ];
  }

  get hasLocal(): boolean {
    return this.options.local !== undefined;
  }

  /** Waits (bounded) for the first local index build, reporting progress. */
  private async localIndex(ctx: CallContext): Promise<DocsIndex> {
    const local = this.options.local;
    if (!local) throw new GatehouseError('NOT_FOUND', 'No local docs folder is configured (DOCS_ROOT).');
    const report = async (p: IndexProgress) => {
      await ctx.progress?.(
        p.indexed,
        p.total || undefined,
        `indexing the local docs folder: ${p.indexed} of ${p.total} files`,
      );
    };
    const ready = await local.index.whenReady(this.options.waitMs, ctx.signal, report);
    if (ctx.signal.aborted) throw new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
    if (!ready) {
      const p = local.index.state();
      throw new GatehouseError(
        'UPSTREAM_TIMEOUT',
        `The local docs index is still being built (${p.indexed} of ${p.total} files after ${this.options.waitMs} ms). Try again in a few seconds.`,
        { retryAfterSeconds: 5, details: { indexed: p.indexed, total: p.total } },
      );
    }
    if (local.index.failure !== undefined)
      throw new GatehouseError(
        'INTERNAL',
        'The local docs index could not be opened, so local documents are unavailable. The operator has to fix DOCS_INDEX_PATH (see the server log) and restart the server.',
      );
    return local.index;
  }

  private degrade(source: Source, error: unknown, ctx: CallContext): Unavailable {
    if (ctx.signal.aborted || !isGatehouseError(error) || error.code === 'CANCELLED') throw error;
    this.options.log.warn({ source, code: error.code }, 'source unavailable; answering from the other');
    return { source, code: error.code, message: error.message };
  }

  // ── search ─────────────────────────────────────────────────────────────

  async search(
    args: {
      query: string;
      kind?: DocKind | undefined;
      status?: AdrStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    },
    ctx: CallContext,
  ): Promise<{
    results: SearchItem[];
    nextCursor: string | null;
    total: { local: number | null; wiki: number | null };
    unavailable: Unavailable[];
  }> {
    const { local, wiki } = this.options;
    const h = shortHash([args.query, args.kind ?? null, args.status ?? null]);
    const state: SearchCursor = args.cursor
      ? decodeCursor(args.cursor, SearchCursor)
      : {
          h,
          k: 0,
          l: local ? 0 : null,
          w: wiki ? { c: null, s: 0, n: Math.min(args.limit, 50) } : null,
          t: 'l',
        };
    if (state.h !== h)
      throw invalidArgument(
        'This cursor belongs to a different search (query or filters changed). Omit the cursor to start over.',
      );
    const unavailable: Unavailable[] = [];
    const filter = { kind: args.kind, status: args.status };

    let localHits: SearchItem[] = [];
    let localTotal: number | null = null;
    if (state.l !== null && local) {
      const index = await this.localIndex(ctx);
      const found = index.search(args.query, filter, state.l, args.limit);
      localTotal = found.total;
      localHits = found.hits.map((hit) => ({
        ...localRef(hit),
        rank: 0,
        score: hit.score,
        snippet: hit.snippet,
      }));
    }

    // The wiki is paged lazily: its cursors are opaque, so the position is (page cursor, items used from that page).
    let wikiState = state.w;
    let wikiPage: { items: WikiSummary[]; nextCursor: string | null; total?: number | undefined } | undefined;
    let wikiFetches = 0;
    let wikiTotal: number | null = null;
    let wikiFailed = false;
    const nextWiki = async (): Promise<SearchItem | undefined> => {
      while (wikiState && wiki && !wikiFailed) {
        if (!wikiPage) {
          if (wikiFetches >= WIKI_FETCHES_PER_PAGE) return undefined;
          wikiFetches += 1;
          try {
            wikiPage = await wiki.search(
              {
                query: args.query,
                kind: args.kind,
                status: args.status,
                limit: wikiState.n,
                cursor: wikiState.c,
              },
              ctx,
            );
            wikiTotal = wikiPage.total ?? null;
          } catch (error) {
            if (!local) throw error;
            unavailable.push(this.degrade('wiki', error, ctx));
            wikiFailed = true;
            return undefined;
          }
        }
        const item = wikiPage.items[wikiState.s];
        if (item) {
          wikiState = { ...wikiState, s: wikiState.s + 1 };
          return { ...wikiRef(item), rank: 0, score: item.score, snippet: item.snippet };
        }
        wikiState = wikiPage.nextCursor ? { c: wikiPage.nextCursor, s: 0, n: wikiState.n } : null;
        wikiPage = undefined;
      }
      return undefined;
    };

    // Interleave by rank: alternate sources, each in its own ranking order.
    const results: SearchItem[] = [];
    let localUsed = 0;
    let turn = state.t;
    const nextLocal = () => (localUsed < localHits.length ? localHits[localUsed++] : undefined);
    while (results.length < args.limit) {
      const item = turn === 'l' ? (nextLocal() ?? (await nextWiki())) : ((await nextWiki()) ?? nextLocal());
      if (!item) break;
      results.push({ ...item, rank: state.k + results.length + 1 });
      turn = item.source === 'local' ? 'w' : 'l';
    }
    // A fully used wiki page moves the position to the next page.
    if (wikiState && wikiPage && wikiState.s >= wikiPage.items.length)
      wikiState = wikiPage.nextCursor ? { c: wikiPage.nextCursor, s: 0, n: wikiState.n } : null;

    const nextLocalOffset = state.l === null ? null : state.l + localUsed;
    const next: SearchCursor = {
      h,
      k: state.k + results.length,
      l:
        nextLocalOffset !== null && localTotal !== null && nextLocalOffset < localTotal
          ? nextLocalOffset
          : null,
      w: wikiState,
      t: turn,
    };
    const more = next.l !== null || next.w !== null;
    return {
      results,
      nextCursor: more && (results.length > 0 || wikiFailed) ? encodeCursor(next) : null,
      total: { local: localTotal, wiki: wikiTotal },
      unavailable,
    };
  }

  // ── documents ──────────────────────────────────────────────────────────

  /** Resolves a local id or path to a readable Markdown file inside the root. */
  private async locateLocal(
    idPath: string,
    ctx: CallContext,
  ): Promise<{ path: string; real: string; indexed: IndexedDoc | undefined }> {
    const rel = cleanClientPath(idPath);
    const local = this.options.local;
    if (!local)
      throw new GatehouseError(
        'NOT_FOUND',
        'No local docs folder is configured (DOCS_ROOT), so local: ids cannot be read.',
      );
    const index = await this.localIndex(ctx);
    const explicit = hasExtension(rel, MARKDOWN_EXTENSIONS);
    const indexed = index.byId(`local:${explicit ? stripMarkdownExtension(rel) : rel}`);
    const candidates = indexed ? [indexed.path] : explicit ? [rel] : [`${rel}.md`, `${rel}.markdown`];
    let miss: unknown;
    for (const path of candidates) {
      try {
        return { path, real: await resolveInside(index.root, path), indexed: index.byPath(path) };
      } catch (error) {
        if (!isGatehouseError(error) || error.code !== 'NOT_FOUND') throw error;
        miss = error;
      }
    }
    throw miss ?? notFound('document', `local:${rel}`);
  }

  private async readLocalFile(real: string, path: string): Promise<string> {
    const info = await stat(real);
    if (!info.isFile()) throw invalidArgument(`${JSON.stringify(path)} is a folder, not a document.`);
    if (info.size > MAX_DOC_BYTES)
      throw limitExceeded(`${JSON.stringify(path)} is larger than ${MAX_DOC_BYTES} bytes and is not served.`);
    return readFile(real, 'utf8');
  }

  async getDocument(
    args: { id: string; section?: string | undefined; cursor?: string | undefined },
    ctx: CallContext,
  ): Promise<{
    document: DocRef & { owner: string | null; tags: string[]; path: string | null };
    section: string | null;
    sections: string[];
    text: string;
    slice: ReturnType<typeof sliceText>;
  }> {
    const { id, section } = args;
    let document: DocRef & { owner: string | null; tags: string[]; path: string | null };
    let body: string;
    if (id.startsWith('local:')) {
      const { path, real } = await this.locateLocal(id.slice('local:'.length), ctx);
      const parsed = parseMarkdown(path, await this.readLocalFile(real, path));
      body = parsed.body;
      document = {
        id: `local:${stripMarkdownExtension(path)}`,
        source: 'local',
        kind: parsed.kind,
        title: stripHidden(parsed.title),
        status: parsed.status,
        number: parsed.number,
        date: parsed.date,
        uri: `docs://${path}`,
        url: null,
        owner: parsed.owner,
        tags: parsed.tags,
        path,
      };
    } else if (id.startsWith('wiki:')) {
      const wikiId = id.slice('wiki:'.length);
      if (!this.options.wiki)
        throw new GatehouseError(
          'NOT_FOUND',
          'No docs API is configured (DOCS_API_URL), so wiki: ids cannot be read.',
        );
      if (!WIKI_ID.test(wikiId))
        throw invalidArgument(
          `${JSON.stringify(id)} is not a valid wiki document id (letters, digits, . _ - after "wiki:").`,
        );
      const doc = await this.options.wiki.getDocument(wikiId, ctx).catch((error: unknown) => {
        if (isGatehouseError(error) && error.code === 'NOT_FOUND')
          throw notFound('document', id, 'Find ids with search_docs.');
        throw error;
      });
      body = doc.body;
      document = { ...wikiRef(doc), owner: doc.owner, tags: doc.tags, path: null };
    } else {
      throw invalidArgument(
        'Document ids start with "local:" or "wiki:", as returned by search_docs and list_adrs (e.g. "local:adr/0007-use-postgres").',
      );
    }

    const headings = headingsOf(body);
    let text = body;
    if (section) {
      const found = sectionOf(body, headings, section);
      if (found === undefined) {
        throw new GatehouseError(
          'NOT_FOUND',
          `${id} has no section ${JSON.stringify(section)}. Sections: ${
            headings
              .slice(0, 20)
              .map((h) => JSON.stringify(h.text))
              .join(', ') || '(none)'
          }.`,
          {
            details: { id, section },
          },
        );
      }
      text = found;
    }
    // Hidden characters go before slicing, so cursor offsets refer to the text the client sees.
    const clean = stripHidden(text);
    const h = shortHash([
      id,
      section ?? null,
      clean.length,
      createHash('sha256').update(clean).digest('hex'),
    ]);
    let inner: string | undefined;
    if (args.cursor) {
      const decoded = decodeCursor(args.cursor, BodyCursor);
      if (decoded.h !== h)
        throw invalidArgument(
          'The document or section changed since this cursor was issued (or it belongs to another document). Read it again without a cursor.',
        );
      inner = decoded.c;
    }
    const slice = sliceText(clean, BODY_BUDGET_BYTES, inner);
    return {
      document,
      section: section ?? null,
      sections: headings
        .filter((hd) => hd.level <= 3)
        .slice(0, 25)
        .map((hd) => stripHidden(hd.text).slice(0, 80)),
      text: clean,
      slice: { ...slice, nextCursor: slice.nextCursor ? encodeCursor({ h, c: slice.nextCursor }) : null },
    };
  }

  /** The text of a local file for the docs://{path} resource. */
  async readLocalResource(
    rawPath: string,
    ctx: CallContext,
  ): Promise<{ path: string; text: string; doc: ReturnType<typeof parseMarkdown> | undefined }> {
    const rel = cleanClientPath(rawPath);
    if (!hasExtension(rel, READABLE_EXTENSIONS))
      throw invalidArgument(
        'Only Markdown documents and catalog-info YAML files are served (.md, .markdown, .yaml, .yml).',
      );
    const local = this.options.local;
    if (!local) throw new GatehouseError('NOT_FOUND', 'No local docs folder is configured (DOCS_ROOT).');
    await this.localIndex(ctx);
    const real = await resolveInside(local.index.root, rel);
    const text = await this.readLocalFile(real, rel);
    return {
      path: rel,
      text,
      doc: hasExtension(rel, MARKDOWN_EXTENSIONS) ? parseMarkdown(rel, text) : undefined,
    };
  }

  // ── ADRs ───────────────────────────────────────────────────────────────

  /** Every ADR from both sources, ordered by number (then local before wiki). */
  async allAdrs(
    status: AdrStatus | undefined,
    ctx: CallContext,
  ): Promise<{ adrs: DocRef[]; unavailable: Unavailable[] }> {
    const { local, wiki } = this.options;
    const unavailable: Unavailable[] = [];
    const adrs: DocRef[] = [];
    if (local) adrs.push(...(await this.localIndex(ctx)).adrs(status).map(localRef));
    if (wiki) {
      try {
        let cursor: string | null = null;
        for (let page = 0; page < 10; page++) {
          const result = await wiki.search({ kind: 'adr', status, limit: 100, cursor }, ctx);
          adrs.push(...result.items.map(wikiRef));
          cursor = result.nextCursor;
          if (!cursor) break;
        }
      } catch (error) {
        if (!local) throw error;
        unavailable.push(this.degrade('wiki', error, ctx));
      }
    }
    const order = (n: number | null) => (n === null ? Number.MAX_SAFE_INTEGER : n);
    adrs.sort(
      (a, b) =>
        order(a.number) - order(b.number) ||
        (a.source === b.source ? 0 : a.source === 'local' ? -1 : 1) ||
        a.id.localeCompare(b.id),
    );
    return { adrs, unavailable };
  }

  async listAdrs(
    args: { status?: AdrStatus | undefined; limit: number; cursor?: string | undefined },
    ctx: CallContext,
  ): Promise<{ adrs: DocRef[]; total: number; nextCursor: string | null; unavailable: Unavailable[] }> {
    const h = shortHash(['adrs', args.status ?? null]);
    const offset = args.cursor ? decodeCursor(args.cursor, OffsetCursor) : { h, o: 0 };
    if (offset.h !== h)
      throw invalidArgument(
        'This cursor belongs to a different listing (the status filter changed). Omit the cursor to start over.',
      );
    const { adrs, unavailable } = await this.allAdrs(args.status, ctx);
    const page = adrs.slice(offset.o, offset.o + args.limit);
    const end = offset.o + page.length;
    return {
      adrs: page,
      total: adrs.length,
      nextCursor: end < adrs.length ? encodeCursor({ h, o: end }) : null,
      unavailable,
    };
  }

  // ── ownership ──────────────────────────────────────────────────────────

  async findOwner(service: string, ctx: CallContext) {
    const { local, wiki } = this.options;
    const related = new Map<
      string,
      { id: string; title: string | null; source: Source; uri: string | null }
    >();
    let index: DocsIndex | undefined;
    if (local) {
      index = await this.localIndex(ctx);
      for (const doc of index.aboutService(service, 10))
        related.set(doc.id, {
          id: doc.id,
          title: stripHidden(doc.title),
          source: 'local',
          uri: `docs://${doc.path}`,
        });
    }
    const entry = index?.owner(service);
    const unavailable: Unavailable[] = [];
    const fetchWiki = async () => {
      if (!wiki) return undefined;
      try {
        return await wiki.getOwnership(service, ctx);
      } catch (error) {
        if (isGatehouseError(error) && error.code === 'NOT_FOUND') return undefined;
        if (!entry && !local) throw error;
        unavailable.push(this.degrade('wiki', error, ctx));
        return undefined;
      }
    };
    if (entry && index) {
      for (const ref of entry.docs) {
        const doc =
          index.byPath(ref) ??
          index.byId(ref.startsWith('local:') ? ref : `local:${stripMarkdownExtension(ref)}`);
        if (doc)
          related.set(doc.id, {
            id: doc.id,
            title: stripHidden(doc.title),
            source: 'local',
            uri: `docs://${doc.path}`,
          });
      }
      // Local catalog first; the wiki only fills what the catalog leaves out.
      const gaps =
        !entry.team || !entry.repository || !entry.slack || !entry.onCall.primary || !entry.onCall.rotation;
      const remote = gaps ? await fetchWiki() : undefined;
      const filledFromWiki: string[] = [];
      const fill = <T>(mine: T | null, theirs: T | undefined, field: string): T | null => {
        if (mine !== null && mine !== undefined) return mine;
        if (theirs === undefined || theirs === null || theirs === '') return null;
        filledFromWiki.push(field);
        return theirs;
      };
      return {
        service,
        source: 'local' as Source,
        team: fill(entry.team, remote?.team, 'team'),
        onCall: {
          primary: fill(entry.onCall.primary, remote?.onCall.primary, 'onCall.primary'),
          secondary: fill(entry.onCall.secondary, remote?.onCall.secondary, 'onCall.secondary'),
          rotation: fill(entry.onCall.rotation, remote?.onCall.rotation, 'onCall.rotation'),
        },
        repository: fill(entry.repository, remote?.repository, 'repository'),
        slack: fill(entry.slack, remote?.slack, 'slack'),
        description: entry.description ? stripHidden(entry.description) : null,
        lifecycle: entry.lifecycle,
        catalogFile: `docs://${entry.path}`,
        links: entry.links,
        relatedDocs: [...related.values()].slice(0, 15),
        filledFromWiki,
        unavailable,
      };
    }
    const remote = await fetchWiki();
    if (!remote) {
      const known = index?.services() ?? [];
      throw notFound(
        'service',
        service,
        `${local ? `The local catalog knows: ${known.slice(0, 20).join(', ') || '(none)'}.` : ''}${wiki ? ' The docs API has no ownership record for it either.' : ''}`.trim(),
      );
    }
    for (const id of remote.relatedDocs.slice(0, 10))
      related.set(`wiki:${id}`, { id: `wiki:${id}`, title: null, source: 'wiki', uri: null });
    return {
      service,
      source: 'wiki' as Source,
      team: remote.team,
      onCall: remote.onCall,
      repository: remote.repository,
      slack: remote.slack,
      description: null,
      lifecycle: null,
      catalogFile: null,
      links: [],
      relatedDocs: [...related.values()].slice(0, 15),
      filledFromWiki: [],
      unavailable,
    };
  }

  // ── helpers for resources and prompts ──────────────────────────────────

  /** The local index once built, or undefined (no folder, still building after the bounded wait, or unusable). */
  private async readyIndexOrNothing(ctx: CallContext): Promise<DocsIndex | undefined> {
    if (!this.options.local) return undefined;
    try {
      return await this.localIndex(ctx);
    } catch (error) {
      if (isGatehouseError(error) && (error.code === 'UPSTREAM_TIMEOUT' || error.code === 'INTERNAL'))
        return undefined;
      throw error;
    }
  }

  async completePaths(prefix: string, ctx: CallContext): Promise<string[]> {
    return (await this.readyIndexOrNothing(ctx))?.paths(prefix, 100) ?? [];
  }

  async listLocal(limit: number, ctx: CallContext): Promise<DocRef[]> {
    return ((await this.readyIndexOrNothing(ctx))?.listDocs(limit) ?? []).map(localRef);
  }

  /** The few documents of a kind most related to a text, with their bodies (bounded), for prompts. */
  async related(
    kind: DocKind,
    text: string,
    count: number,
    ctx: CallContext,
  ): Promise<Array<{ ref: DocRef; body: string }>> {
    const found = await this.search({ query: text, kind, limit: count }, ctx);
    const out: Array<{ ref: DocRef; body: string }> = [];
    for (const item of found.results.slice(0, count)) {
      try {
        const doc = await this.getDocument({ id: item.id }, ctx);
        out.push({ ref: item, body: doc.slice.text });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        this.options.log.warn(
          { id: item.id, err: (error as Error).message },
          'related document unreadable; left out',
        );
      }
    }
    return out;
  }

  /** Next free local ADR number (for drafting). */
  async nextAdrNumber(ctx: CallContext): Promise<number | null> {
    const index = await this.readyIndexOrNothing(ctx);
    if (!index) return null;
    const numbers = index.adrs().map((a) => a.number ?? 0);
    return (numbers.length ? Math.max(...numbers) : 0) + 1;
  }
}
