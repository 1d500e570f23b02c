/**
 * The per-call cost of calling the upstream as the user (`<P>_UPSTREAM_IDENTITY=exchange`) once the
 * exchanged token is cached, against the server's own credential (`service`): the same upstream client
 * against the same loopback upstream (a plain JSON answer, so the upstream's own token checks are not
 * measured), batches of sequential GETs alternating between the two modes so machine drift hits both;
 * the figure is the median per-call time of each mode over the rounds. The first exchange (a real
 * oidc-provider token endpoint) is made before measuring and reported apart.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAuthorizationServer } from '@gatehouse/core/testing';
import { bindInboundToken, Upstream, UpstreamIdentity } from '@gatehouse/core/upstream';
import { z } from 'zod';
import type { Options, SectionResult } from './report.ts';
import { fmt, round, summarize } from './stats.ts';

const PUBLIC_URL = 'https://bench.gatehouse.test/mcp';
const CLIENT = { clientId: 'bench-mcp', clientSecret: 'bench-mcp-secret-0123456789abcdef' };
const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as ConstructorParameters<
  typeof Upstream
>[0]['log'];

export async function exchange(options: Options): Promise<SectionResult> {
  const started = performance.now();
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const as = await startAuthorizationServer({
    scopes: ['bench:read'],
    clients: [{ ...CLIENT, grantTypes: ['client_credentials'], exchange: { from: [PUBLIC_URL], to: [url] } }],
    exchangeTtl: 3600,
  });
  try {
    const settings = {
      name: 'bench API',
      baseUrl: url,
      token: 'service-token-0123456789',
      timeoutMs: 5_000,
      deadlineMs: 10_000,
      retries: 0,
      maxResponseBytes: 1 << 20,
      breaker: { consecutiveFailures: 1_000, halfOpenAfterMs: 1_000 },
      userAgent: 'gatehouse-bench',
      log: quiet,
    };
    const identity = new UpstreamIdentity({
      mode: 'exchange',
      tokenUrl: as.tokenEndpoint,
      ...CLIENT,
      audience: url,
      timeoutMs: 5_000,
      prefix: 'BENCH',
      upstreamName: 'bench API',
    });
    const clients = { service: new Upstream(settings), exchange: new Upstream({ ...settings, identity }) };
    const principal = { id: 'alice', kind: 'oauth', scopes: new Set(['bench:read']) };
    bindInboundToken(
      principal,
      await as.accessToken({ sub: 'alice', scope: 'bench:read', audience: PUBLIC_URL }),
    );
    const schema = z.object({ ok: z.boolean() });
    const call = (mode: keyof typeof clients) =>
      clients[mode].get('/ping', schema, {
        signal: new AbortController().signal,
        requestId: 'bench',
        principal,
      });
    const first = performance.now();
    await call('exchange');
    const firstMs = performance.now() - first;
    await call('service');
    const rounds = options.quick ? 4 : 15;
    const batch = options.quick ? 50 : 400;
    const perCall: Record<keyof typeof clients, number[]> = { service: [], exchange: [] };
    for (let round = 0; round < rounds; round += 1)
      for (const mode of round % 2
        ? (['exchange', 'service'] as const)
        : (['service', 'exchange'] as const)) {
        const t0 = performance.now();
        for (let i = 0; i < batch; i += 1) await call(mode);
        perCall[mode].push(((performance.now() - t0) * 1000) / batch);
      }
    const service = summarize(perCall.service);
    const exchanged = summarize(perCall.exchange);
    const ratio = exchanged.median / service.median;
    return {
      id: 'exchange',
      title: 'Upstream identity: exchange (warm cache) against service, per upstream call',
      status: 'ran',
      rows: [
        {
          subject: 'service (own credential)',
          metric: 'µs per call',
          value: fmt(service, 0),
          verdict: 'INFO',
        },
        {
          subject: 'exchange, cached token',
          metric: 'µs per call',
          value: fmt(exchanged, 0),
          target: `${round(ratio, 2)}× service`,
          verdict: 'INFO',
        },
        {
          subject: 'exchange, first call',
          metric: 'ms (token endpoint)',
          value: `${round(firstMs, 1)}`,
          verdict: 'INFO',
        },
      ],
      data: { service, exchange: exchanged, ratio, firstMs, exchanges: identity.exchanges, rounds, batch },
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await as.close();
    upstream.close();
  }
}
