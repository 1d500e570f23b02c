import { createHash } from 'node:crypto';
import {
  decodeCursor,
  encodeCursor,
  GatehouseError,
  invalidArgument,
  isGatehouseError,
  type Logger,
  notFound,
  sliceText,
  stripHidden,
} from '@gatehouse/core';
import { z } from 'zod';
import { headingsOf, sectionOf } from './markdown.ts';
import type {
  AdrListInput,
  AdrStatus,
  DocKind,
  DocRef,
  DocumentInput,
  OwnerRecord,
  Ownership,
  RelatedDoc,
  SearchInput,
  SearchItem,
  SourceName,
  UnavailableSource,
} from './schemas.ts';
import type { CallContext, DocSource, SearchStream } from './sources/source.ts';

const BODY_BUDGET_BYTES = 6_000;

const shortHash = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 10);

const OffsetCursor = z.object({ h: z.string().max(16), o: z.number().int().min(0).max(1_000_000) });
const BodyCursor = z.object({ h: z.string().max(16), c: z.string().max(200) });

/**
 * A search position on the wire: the query's hash, hits handed out so far, one slot per source (its
 * own position, null when it has nothing more) and the source whose turn is next: `{h, k, l, w, t}`.
 */
type SearchCursor = { h: string; k: number; t: string } & Record<string, unknown>;

/** Whether an ownership answer lacks a field worth asking the next source for. */
const hasGaps = (r: OwnerRecord) =>
  !r.team || !r.repository || !r.slack || !r.onCall.primary || !r.onCall.rotation;

/** `mine` with its empty fields taken from `theirs` where it has them; each field taken is named in `filled`. */
function fillFrom(mine: OwnerRecord, theirs: OwnerRecord | undefined, filled: string[]): OwnerRecord {
  const fill = (own: string | null, other: string | null | undefined, name: string): string | null => {
    if (own !== null && own !== undefined) return own;
    if (!other) return null;
    filled.push(name);
    return other;
  };
  return {
    ...mine,
    team: fill(mine.team, theirs?.team, 'team'),
    onCall: {
      primary: fill(mine.onCall.primary, theirs?.onCall.primary, 'onCall.primary'),
      secondary: fill(mine.onCall.secondary, theirs?.onCall.secondary, 'onCall.secondary'),
      rotation: fill(mine.onCall.rotation, theirs?.onCall.rotation, 'onCall.rotation'),
    },
    repository: fill(mine.repository, theirs?.repository, 'repository'),
    slack: fill(mine.slack, theirs?.slack, 'slack'),
  };
}

interface LibraryOptions {
  /**
   * Every kind of source, configured or not. Their order is the order of interleaving in search
   * results and of ties in the ADR list; each has a slot in search cursors.
   */
  sources: DocSource[];
  log: Logger;
}

/**
 * All sources behind one surface: merged search (interleaved by rank), documents by id prefix, the
 * ADR log in number order and service ownership, every result saying where it came from. A source
 * failing while others can answer is reported in `unavailable`.
 */
export class Library {
  private readonly sources: DocSource[];
  private readonly log: Logger;
  private readonly searchCursor: z.ZodType<SearchCursor>;

  constructor(options: LibraryOptions) {
    this.sources = options.sources;
    this.log = options.log;
    const keys = this.sources.map((s) => s.cursor.key);
    this.searchCursor = z.object({
      h: z.string().max(16),
      k: z.number().int().min(0).max(100_000),
      ...Object.fromEntries(this.sources.map((s) => [s.cursor.key, s.cursor.position.nullable()])),
      t: z.enum(keys),
    }) as unknown as z.ZodType<SearchCursor>;
  }

  private get live(): DocSource[] {
    return this.sources.filter((s) => s.configured);
  }

  /** A source's failure, as reported to the client, when another source can still answer. */
  private degrade(source: DocSource, error: unknown, ctx: CallContext): UnavailableSource {
    if (this.live.length < 2 || ctx.signal.aborted || !isGatehouseError(error) || error.code === 'CANCELLED')
      throw error;
    this.log.warn({ source: source.name, code: error.code }, 'source unavailable; answering from the other');
    return { source: source.name, code: error.code, message: error.message };
  }

  // ── search ─────────────────────────────────────────────────────────────

  async search(args: SearchInput, ctx: CallContext) {
    const h = shortHash([args.query, args.kind ?? null, args.status ?? null]);
    const state: SearchCursor = args.cursor
      ? decodeCursor(args.cursor, this.searchCursor)
      : {
          h,
          k: 0,
          ...Object.fromEntries(
            this.sources.map((s) => [s.cursor.key, s.configured ? s.start(args.limit) : null]),
          ),
          t: this.sources[0]!.cursor.key,
        };
    if (state.h !== h)
      throw invalidArgument(
        'This cursor belongs to a different search (query or filters changed). Omit the cursor to start over.',
      );
    const unavailable: UnavailableSource[] = [];
    const streams = new Map<DocSource, SearchStream<unknown>>();
    for (const source of this.sources) {
      const at = state[source.cursor.key] ?? null;
      if (source.configured && at !== null)
        streams.set(source, await source.search(args, at, args.limit, ctx));
    }
    const failed = new Set<DocSource>();
    const read = async (source: DocSource): Promise<SearchItem | undefined> => {
      const stream = streams.get(source);
      if (!stream || failed.has(source)) return undefined;
      try {
        return await stream.next();
      } catch (error) {
        unavailable.push(this.degrade(source, error, ctx));
        failed.add(source);
        return undefined;
      }
    };

    // Interleave by rank: the sources take turns, each in its own ranking order.
    const results: SearchItem[] = [];
    const count = this.sources.length;
    let turn = Math.max(
      0,
      this.sources.findIndex((s) => s.cursor.key === state.t),
    );
    while (results.length < args.limit) {
      let item: SearchItem | undefined;
      let from = turn;
      for (let i = 0; i < count && !item; i++) {
        from = (turn + i) % count;
        item = await read(this.sources[from]!);
      }
      if (!item) break;
      results.push({ ...item, rank: state.k + results.length + 1 });
      turn = (from + 1) % count;
    }

    const positions = this.sources.map((s) => [s.cursor.key, streams.get(s)?.position() ?? null] as const);
    const more = positions.some(([, at]) => at !== null);
    return {
      results,
      nextCursor:
        more && (results.length > 0 || failed.size > 0)
          ? encodeCursor({
              h,
              k: state.k + results.length,
              ...Object.fromEntries(positions),
              t: this.sources[turn]!.cursor.key,
            })
          : null,
      total: Object.fromEntries(this.sources.map((s) => [s.name, streams.get(s)?.total() ?? null])) as Record<
        SourceName,
        number | null
      >,
      unavailable,
    };
  }

  // ── documents ──────────────────────────────────────────────────────────

  async getDocument(args: DocumentInput, ctx: CallContext) {
    const { id, section } = args;
    const source = this.sources.find((s) => id.startsWith(s.prefix));
    if (!source)
      throw invalidArgument(
        `Document ids start with ${this.sources.map((s) => JSON.stringify(s.prefix)).join(' or ')}, as returned by search_docs and list_adrs (e.g. "local:adr/0007-use-postgres").`,
      );
    const { document, body } = await source.get(id.slice(source.prefix.length), ctx);

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
      slice: { ...slice, nextCursor: slice.nextCursor ? encodeCursor({ h, c: slice.nextCursor }) : null },
    };
  }

  // ── ADRs ───────────────────────────────────────────────────────────────

  /** Every ADR from every source, ordered by number (then by source order). */
  async allAdrs(
    status: AdrStatus | undefined,
    ctx: CallContext,
  ): Promise<{ adrs: DocRef[]; unavailable: UnavailableSource[] }> {
    const unavailable: UnavailableSource[] = [];
    const adrs: DocRef[] = [];
    for (const source of this.live) {
      await source.ready(ctx);
      try {
        for await (const page of source.adrs(status, ctx)) adrs.push(...page);
      } catch (error) {
        unavailable.push(this.degrade(source, error, ctx));
      }
    }
    const order = (n: number | null) => (n === null ? Number.MAX_SAFE_INTEGER : n);
    const place = (name: SourceName) => this.sources.findIndex((s) => s.name === name);
    adrs.sort(
      (a, b) =>
        order(a.number) - order(b.number) || place(a.source) - place(b.source) || a.id.localeCompare(b.id),
    );
    return { adrs, unavailable };
  }

  async listAdrs(args: AdrListInput, ctx: CallContext) {
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

  /**
   * The first source (in order) that knows the service answers; later sources only fill the fields
   * it leaves empty (named in filledFromWiki), and are asked only when a wanted field is empty.
   */
  async findOwner(service: string, ctx: CallContext): Promise<Ownership> {
    const live = this.live;
    for (const source of live) await source.ready(ctx);
    const related = new Map<string, RelatedDoc>();
    for (const source of live)
      for (const doc of await source.mentions(service, ctx)) related.set(doc.id, doc);
    const unavailable: UnavailableSource[] = [];
    const ask = async (source: DocSource) => {
      try {
        return await source.owner(service, ctx);
      } catch (error) {
        unavailable.push(this.degrade(source, error, ctx));
        return undefined;
      }
    };

    let answer: { source: DocSource; record: OwnerRecord } | undefined;
    const filled: string[] = [];
    for (const source of live) {
      if (!answer) {
        const record = await ask(source);
        if (record) answer = { source, record };
        continue;
      }
      if (!hasGaps(answer.record)) break;
      answer.record = fillFrom(answer.record, await ask(source), filled);
    }
    if (!answer) {
      const hints: string[] = [];
      for (const source of live) hints.push(await source.ownerMiss(ctx));
      throw notFound('service', service, hints.join(' '));
    }
    const { record } = answer;
    for (const doc of record.relatedDocs) related.set(doc.id, doc);
    return {
      service,
      source: answer.source.name,
      team: record.team,
      onCall: record.onCall,
      repository: record.repository,
      slack: record.slack,
      description: record.description,
      lifecycle: record.lifecycle,
      catalogFile: record.catalogFile,
      links: record.links,
      relatedDocs: [...related.values()].slice(0, 15),
      filledFromWiki: filled,
      unavailable,
    };
  }

  // ── for prompts ────────────────────────────────────────────────────────

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
        this.log.warn(
          { id: item.id, err: (error as Error).message },
          'related document unreadable; left out',
        );
      }
    }
    return out;
  }
}
