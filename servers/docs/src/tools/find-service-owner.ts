import { identifier } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, tool } from '../context.ts';
import { Ownership } from '../schemas.ts';

export default tool({
  name: 'find_service_owner',
  toolset: 'catalog',
  title: 'Find a service owner',
  description:
    'Who owns a service: team, on-call rotation (and people when known), repository, chat channel and related documents. The local catalog-info.yaml files answer first; the wiki ownership API answers for services they do not list, and fills fields they leave out (named in filledFromWiki).',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({ service: identifier('Service name as in the catalog, e.g. "checkout-api".', 100) }),
  output: Ownership,
  handler: ({ service }, ctx) => ctx.deps.library.findOwner(service, ctx),
});
