import { identifier } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, tool } from '../context.ts';
import { Source, Unavailable } from '../schemas.ts';

export default tool({
  name: 'find_service_owner',
  title: 'Find a service owner',
  description:
    'Who owns a service: team, on-call rotation (and people when known), repository, chat channel and related documents. The local catalog-info.yaml files answer first; the wiki ownership API answers for services they do not list, and fills fields they leave out (named in filledFromWiki).',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({ service: identifier('Service name as in the catalog, e.g. "checkout-api".', 100) }),
  output: z.object({
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
  }),
  handler: ({ service }, ctx) => ctx.deps.library.findOwner(service, ctx),
});
