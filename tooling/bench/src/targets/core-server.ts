/**
 * The Gatehouse side of the overhead comparison: the same two tools as
 * bare-v2.ts, defined through @gatehouse/core and run by its runner, so every
 * call goes through strict validation, scope policy, the HMAC-chained audit
 * file and typed errors. Env prefix BENCH (BENCH_API_URL, BENCH_AUDIT_FILE, ...).
 */
import { defineServer, definitionsFor, runServer } from '@gatehouse/core';
import { apiPath, type Upstream } from '@gatehouse/core/upstream';
import { z } from 'zod';

interface Deps {
  upstream: Upstream;
}
const { tool } = definitionsFor<Deps, 'bench'>();

const Health = z.object({ service: z.string(), status: z.string() }).loose();

const echo = tool({
  name: 'echo',
  toolset: 'bench',
  title: 'Echo',
  description: 'Returns the text it was given and its length.',
  effect: 'read',
  scope: 'bench:read',
  input: z.object({ text: z.string().max(200) }),
  output: z.object({ text: z.string(), length: z.number().int() }),
  handler: async ({ text }) => ({ text, length: text.length }),
});

const upstreamHealth = tool({
  name: 'upstream_health',
  toolset: 'bench',
  title: 'Upstream health',
  description: 'Health of one service, fetched from the upstream API.',
  effect: 'read',
  scope: 'bench:read',
  input: z.object({ service: z.string().max(64) }),
  output: Health,
  handler: ({ service }, ctx) =>
    ctx.deps.upstream.get(apiPath`/platform/v1/services/${service}/health`, Health, {
      ...ctx,
      query: { environment: 'production' },
    }),
});

export const benchServer = defineServer<Deps, z.ZodObject>({
  name: 'bench',
  title: 'Bench',
  version: '1.0.0',
  bin: 'bench-core',
  description: 'benchmark server',
  envPrefix: 'BENCH',
  upstream: 'required',
  upstreamName: 'bench API',
  env: z.object({}),
  scopes: { 'bench:read': 'read' },
  toolsets: { bench: 'the bench tools' },
  instructions: 'Benchmark server.',
  createDeps: ({ upstream }) => ({ upstream: upstream! }),
  tools: [echo, upstreamHealth],
});

await runServer(benchServer);
