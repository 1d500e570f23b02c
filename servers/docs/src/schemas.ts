import { boundedText } from '@gatehouse/core';
import { z } from 'zod';
import { ADR_STATUSES, DOC_KINDS } from './local/parse.ts';

/** Shapes shared by several tools. */
export const Source = z
  .enum(['local', 'wiki'])
  .describe('Where the document lives: "local" (the Markdown folder) or "wiki" (the docs API).');
export const Kind = z.enum(DOC_KINDS);
export const AdrStatus = z.enum(ADR_STATUSES);

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

export const Unavailable = z
  .array(z.object({ source: Source, code: z.string(), message: z.string() }))
  .describe('Sources that failed for this call; the result holds what the others returned.');

export const searchQuery = boundedText(
  'Words to look for, e.g. "postgres migration" or "rate limiting standard".',
  200,
).refine((q) => /[\p{L}\p{N}]{2,}/u.test(q), 'must contain a word of at least two letters or digits');
