import { apiPath, type Upstream, type UpstreamCallOptions } from '@gatehouse/core/upstream';
import { z } from 'zod';

/**
 * The docs API (a wiki) as this server uses it. This module is the adapter:
 * point it at a team's real wiki by changing these calls; the contract is
 * tooling/sandbox/openapi.yaml (docs tag).
 */
export const WikiKind = z.enum(['adr', 'standard', 'guide']);
export const WikiStatus = z.enum(['proposed', 'accepted', 'deprecated', 'superseded', 'rejected']);

export const WikiSummary = z.object({
  id: z.string(),
  kind: WikiKind,
  title: z.string(),
  status: WikiStatus.nullable(),
  owner: z.string(),
  tags: z.array(z.string()),
  updatedAt: z.string(),
  snippet: z.string(),
  score: z.number().nullable(),
});
export type WikiSummary = z.infer<typeof WikiSummary>;

export const WikiDocument = z.object({
  id: z.string(),
  kind: WikiKind,
  title: z.string(),
  status: WikiStatus.nullable(),
  owner: z.string(),
  tags: z.array(z.string()),
  updatedAt: z.string(),
  url: z.string(),
  body: z.string(),
});
export type WikiDocument = z.infer<typeof WikiDocument>;

export const WikiOwnership = z.object({
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

  get name(): string {
    return this.http.name;
  }

  search(
    query: {
      query?: string;
      kind?: z.infer<typeof WikiKind>;
      status?: z.infer<typeof WikiStatus>;
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

/** `adr-0007-...` or `ADR-0007: ...` → 7. */
export function wikiAdrNumber(doc: { id: string; title: string }): number | null {
  const match = /^adr-?(\d{1,5})\b/i.exec(doc.id) ?? /\bADR[-\s]?(\d{1,5})\b/i.exec(doc.title);
  return match ? Number(match[1]) : null;
}
