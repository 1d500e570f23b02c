import { apiPath, type Upstream, type UpstreamCallOptions } from '@gatehouse/core/upstream';
import { z } from 'zod';
import { AdrStatus, type DocKind, Kind } from './schemas.ts';

/**
 * The docs API (a wiki) as this server uses it. This module is the adapter:
 * point it at a team's real wiki by changing these calls; the contract is
 * tooling/sandbox/openapi.yaml (docs tag).
 */
const WikiFields = z.object({
  id: z.string(),
  kind: Kind,
  title: z.string(),
  status: AdrStatus.nullable(),
  owner: z.string(),
  tags: z.array(z.string()),
  updatedAt: z.string(),
});

const WikiSummary = WikiFields.extend({ snippet: z.string(), score: z.number().nullable() });
export type WikiSummary = z.infer<typeof WikiSummary>;

const WikiDocument = WikiFields.extend({ url: z.string(), body: z.string() });
export type WikiDocument = z.infer<typeof WikiDocument>;

const WikiOwnership = z.object({
  service: z.string(),
  team: z.string(),
  onCall: z.object({ primary: z.string(), secondary: z.string(), rotation: z.string() }),
  repository: z.string(),
  slack: z.string(),
  relatedDocs: z.array(z.string()),
});
export type WikiOwnership = z.infer<typeof WikiOwnership>;

const WikiPage = z.object({
  items: z.array(WikiSummary),
  nextCursor: z.string().nullable(),
  total: z.number().int().optional(),
});
export type WikiPage = z.infer<typeof WikiPage>;

/** Wiki ids the adapter will put in a URL path: the shapes the wiki uses, nothing else. */
export const WIKI_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export class WikiApi {
  private readonly http: Upstream;

  constructor(http: Upstream) {
    this.http = http;
  }

  search(
    query: {
      query?: string;
      kind?: DocKind | undefined;
      status?: AdrStatus | undefined;
      limit: number;
      cursor?: string | null;
    },
    call: UpstreamCallOptions,
  ): Promise<WikiPage> {
    return this.http.get('/docs/v1/documents', WikiPage, {
      ...call,
      query: { ...query, cursor: query.cursor ?? undefined },
    });
  }

  getDocument(id: string, call: UpstreamCallOptions): Promise<WikiDocument> {
    return this.http.get(apiPath`/docs/v1/documents/${id}`, WikiDocument, call);
  }

  getOwnership(service: string, call: UpstreamCallOptions): Promise<WikiOwnership> {
    return this.http.get(apiPath`/docs/v1/ownership/${service}`, WikiOwnership, call);
  }
}
