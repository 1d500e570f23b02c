import { boundedText, pageInput } from '@gatehouse/core';
import { z } from 'zod';

/**
 * Shapes shared by several tools, and the tools' inputs the library takes: the TypeScript types of
 * the library and the sources are derived from them.
 */
const Source = z
  .enum(['local', 'wiki'])
  .describe('Where the document lives: "local" (the Markdown folder) or "wiki" (the docs API).');
export type SourceName = z.infer<typeof Source>;

export const Kind = z.enum(['adr', 'standard', 'guide']);
export type DocKind = z.infer<typeof Kind>;

export const AdrStatus = z.enum(['proposed', 'accepted', 'deprecated', 'superseded', 'rejected']);
export type AdrStatus = z.infer<typeof AdrStatus>;

export const DocRef = z.object({
  id: z
    .string()
    .describe('Stable id: "local:<path without .md>" or "wiki:<wiki id>". Pass it to get_document.'),
  source: Source,
  kind: Kind,
  title: z.string(),
  status: z
    .string()
    .nullable()
    .describe('ADR status, lower case (proposed, accepted, deprecated, superseded, rejected).'),
  number: z.number().int().nullable().describe('ADR number.'),
  date: z.string().nullable().describe('ISO date of the decision/document (wiki: last update).'),
  uri: z.string().nullable().describe('docs://{path} resource for local documents.'),
  url: z.string().nullable().describe('Wiki page, for wiki documents.'),
});
export type DocRef = z.infer<typeof DocRef>;

/** A search hit's place in the merged ranking (the tool adds the snippet, fenced as untrusted). */
export const RankedRef = DocRef.extend({
  rank: z.number().int().describe('Position in the merged ranking (1 = best).'),
  score: z
    .number()
    .nullable()
    .describe('Relevance within its own source (higher is better); not comparable across sources.'),
});
/** A hit as a source finds it: ranked later, its snippet still plain text. */
export type SearchItem = z.infer<typeof RankedRef> & { snippet: string };

/** A document as get_document describes it. */
export const DocumentRef = DocRef.extend({
  owner: z.string().nullable(),
  tags: z.array(z.string()),
  path: z.string().nullable().describe('Path inside the docs folder (local only).'),
});
export type DocumentRef = z.infer<typeof DocumentRef>;

export const Unavailable = z
  .array(z.object({ source: Source, code: z.string(), message: z.string() }))
  .describe('Sources that failed for this call; the result holds what the others returned.');
export type UnavailableSource = z.infer<typeof Unavailable>[number];

export const Ownership = z.object({
  service: z.string(),
  source: Source,
  team: z.string().nullable(),
  onCall: z.object({
    primary: z.string().nullable(),
    secondary: z.string().nullable(),
    rotation: z.string().nullable(),
  }),
  repository: z.string().nullable(),
  slack: z.string().nullable(),
  description: z.string().nullable(),
  lifecycle: z.string().nullable(),
  catalogFile: z
    .string()
    .nullable()
    .describe('docs:// resource of the catalog-info.yaml that answered (local only).'),
  links: z.array(z.object({ title: z.string(), url: z.string() })),
  relatedDocs: z.array(
    z.object({ id: z.string(), title: z.string().nullable(), source: Source, uri: z.string().nullable() }),
  ),
  filledFromWiki: z.array(z.string()),
  unavailable: Unavailable,
});
export type Ownership = z.infer<typeof Ownership>;
/** What one source knows of a service's ownership; the library adds the rest. */
export type OwnerRecord = Omit<Ownership, 'service' | 'source' | 'filledFromWiki' | 'unavailable'>;
export type RelatedDoc = Ownership['relatedDocs'][number];

const searchQuery = boundedText(
  'Words to look for, e.g. "postgres migration" or "rate limiting standard".',
  200,
).refine((q) => /[\p{L}\p{N}]{2,}/u.test(q), 'must contain a word of at least two letters or digits');

export const SearchInput = z.object({
  query: searchQuery,
  kind: Kind.optional().describe('Only this kind of document.'),
  status: AdrStatus.optional().describe('Only ADRs with this status.'),
  limit: z.number().int().min(1).max(25).default(10).describe('Results per page (1-25).'),
  cursor: pageInput.cursor,
});
export type SearchInput = z.infer<typeof SearchInput>;

export const DocumentInput = z.object({
  id: boundedText('Document id from search_docs or list_adrs.', 600).min(6),
  section: boundedText('Only the section under this heading (case-insensitive), e.g. "Consequences".', 200)
    .min(1)
    .optional(),
  cursor: z
    .string()
    .max(512)
    .optional()
    .describe('nextCursor from the previous part of the same document/section.'),
});
export type DocumentInput = z.infer<typeof DocumentInput>;

export const AdrListInput = z.object({
  status: AdrStatus.optional().describe('Only ADRs with this status.'),
  limit: pageInput.limit,
  cursor: pageInput.cursor,
});
export type AdrListInput = z.infer<typeof AdrListInput>;
