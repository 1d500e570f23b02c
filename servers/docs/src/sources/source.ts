import type { UpstreamCallOptions } from '@gatehouse/core/upstream';
import type { z } from 'zod';
import type {
  AdrStatus,
  DocRef,
  DocumentRef,
  OwnerRecord,
  RelatedDoc,
  SearchInput,
  SearchItem,
  SourceName,
} from '../schemas.ts';

/** What a tool handler passes in: upstream call options plus progress. */
export interface CallContext extends UpstreamCallOptions {
  progress?: ((progress: number, total?: number, message?: string) => Promise<void>) | undefined;
}

/** What a source searches for: the search_docs input without the paging. */
export type SearchArgs = Pick<SearchInput, 'query' | 'kind' | 'status'>;

/** One call's view of a source's ranking, from a position on, handed out one hit at a time. */
export interface SearchStream<P> {
  /** The next hit in the source's own order; undefined when it has none left for this call. */
  next(): Promise<SearchItem | undefined>;
  /** Where the next page starts after what `next` handed out; null when the source has nothing more. */
  position(): P | null;
  /** How many documents match in this source, when it said. */
  total(): number | null;
}

/**
 * One place documents come from (the Markdown folder, the wiki). The library
 * holds every kind of source, configured or not, in a fixed order (the order
 * of interleaving and of ties); it calls the methods below `configured` only
 * on configured sources, except `get`, which answers for its id prefix either
 * way (refusing when the source is not configured).
 *
 * Failures: `ready` and opening a search fail the call; what a source throws
 * while answering (`next`, `adrs`, `owner`) is reported as that source being
 * unavailable when another source can still answer.
 */
export interface DocSource<P = unknown> {
  readonly name: SourceName;
  /** What its document ids start with, e.g. "local:". */
  readonly prefix: string;
  /** Its slot in search cursors and the shape of its position there. */
  readonly cursor: { readonly key: string; readonly position: z.ZodType<P> };
  readonly configured: boolean;

  /** Waits until the source can answer (e.g. the first index build). */
  ready(ctx: CallContext): Promise<void>;
  /** Where a new search of `limit` hits a page starts. */
  start(limit: number): P;
  search(args: SearchArgs, position: P, limit: number, ctx: CallContext): Promise<SearchStream<P>>;
  /** One document by its id without the prefix, and its Markdown body. */
  get(rest: string, ctx: CallContext): Promise<{ document: DocumentRef; body: string }>;
  /** Its ADRs, optionally of one status, a page at a time (what came before a failure still counts). */
  adrs(status: AdrStatus | undefined, ctx: CallContext): AsyncIterable<DocRef[]>;
  /** Documents about a service, listed whichever source answers for its ownership. */
  mentions(service: string, ctx: CallContext): Promise<RelatedDoc[]>;
  /** Who owns a service, if this source knows. */
  owner(service: string, ctx: CallContext): Promise<OwnerRecord | undefined>;
  /** What it can tell a client when no source knows a service. */
  ownerMiss(ctx: CallContext): Promise<string>;
}
