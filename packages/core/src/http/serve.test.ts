/**
 * The HTTP front's own behaviour: stateless 2025 calls on a kept server, the transport guards
 * (Host, Origin, CORS, body and depth caps) and the operational endpoints. The fixture server's
 * `createHttpApp` runs in this process on a real loopback socket; the upstream is the sandbox.
 */
import { describe, expect, it } from 'vitest';
import { METRICS_TOKEN, READ, startAuthFront, V } from '../testing/fixture/auth.ts';
import { STATUS_PATH, statusRequests } from '../testing/fixture/harness.ts';
import { legacyCall, MCP_HEADERS, rawRequest, rpcBody, tokenFor } from '../testing/fixture/http.ts';
import { perFile, useHarness } from '../testing/fixture/per-file.ts';
import { eventually, readAudit } from '../testing/index.ts';

const h = useHarness();
const front = perFile(() => startAuthFront(h));

describe('stateless 2025 calls on a kept server', () => {
  it("answers one principal's concurrent calls that share an id apart, as JSON, one audit event each", async () => {
    const items = ['orders-api', 'ledger-api', 'search-api', 'mailer'];
    const before = readAudit(front.auditFile).length;
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const item = items[i % items.length]!;
        const response = await front.call(front.readToken, legacyCall(7, 'get_item_status', { item }));
        expect(response.headers.get('content-type')).toContain('application/json');
        // A complete answer declares its length (one write, no chunked framing).
        const length = Buffer.byteLength(await response.clone().text());
        expect(response.headers.get('content-length')).toBe(String(length));
        return { item, message: await rpcBody(response) };
      }),
    );
    for (const { item, message } of answers) {
      expect(message.id).toBe(7);
      expect((message.result as { structuredContent: { item: string } }).structuredContent.item).toBe(item);
    }
    const events = await eventually(() => {
      const fresh = readAudit(front.auditFile)
        .slice(before)
        .filter((r) => r.name === 'get_item_status');
      return fresh.length >= 24 ? fresh : undefined;
    });
    expect(events).toHaveLength(24);
    expect(new Set(events.map((r) => r.callId)).size).toBe(24);
    expect(events.every((r) => (r.principal as { id: string }).id === 'alice')).toBe(true);
  });

  it('keeps what a kept server cannot do on the SDK path: unknown tools, progress streams, bad shapes', async () => {
    const unknown = await rpcBody(await front.call(front.readToken, legacyCall(3, 'no_such_tool', {})));
    expect(unknown).toMatchObject({ id: 3, error: { code: -32602 } });
    const progress = await front.call(
      front.readToken,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'get_item_status', arguments: { item: 'orders-api' }, _meta: { progressToken: 'p' } },
      }),
    );
    expect(progress.headers.get('content-type')).toContain('text/event-stream');
    expect(await rpcBody(progress)).toMatchObject({
      id: 4,
      result: { structuredContent: { item: 'orders-api' } },
    });
    const shapeless = await front.call(
      front.readToken,
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call' }),
    );
    expect(await rpcBody(shapeless)).toMatchObject({ id: 5, error: {} });
  });

  it('stops the upstream request and audits the call cancelled when the HTTP client goes away', async () => {
    await h.control.setFaults([{ path: STATUS_PATH, latencyMs: 5_000 }]);
    await h.control.clearRequests();
    try {
      const controller = new AbortController();
      const pending = front.call(
        front.readToken,
        legacyCall(9, 'get_item_status', { item: 'orders-api' }),
        {},
        controller.signal,
      );
      await expect.poll(async () => (await statusRequests(h)).length, { timeout: 3_000 }).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      await expect.poll(async () => (await statusRequests(h))[0]?.aborted, { timeout: 3_000 }).toBe(true);
      await expect
        .poll(
          () =>
            readAudit(front.auditFile)
              .filter((r) => r.name === 'get_item_status')
              .at(-1)?.outcome,
          {
            timeout: 3_000,
          },
        )
        .toBe('cancelled');
    } finally {
      await h.control.setFaults([]);
    }
    const next = await rpcBody(
      await front.call(front.readToken, legacyCall(10, 'get_item_status', { item: 'orders-api' })),
    );
    expect(next).toMatchObject({ id: 10, result: { structuredContent: { item: 'orders-api' } } });
  });
});

describe('transport guards', () => {
  it('refuses a foreign Origin and a foreign Host with 403 before any handler runs, audited', async () => {
    await h.control.clearRequests();
    const { url, port } = front.server;
    const body = legacyCall(1, 'get_item_status', { item: 'orders-api' });
    const origin = await rawRequest(url, {
      headers: {
        ...MCP_HEADERS,
        ...V,
        host: `127.0.0.1:${port}`,
        origin: 'https://evil.example',
        authorization: `Bearer ${front.readToken}`,
      },
      body,
    });
    expect(origin.status).toBe(403);
    const host = await rawRequest(url, {
      headers: {
        ...MCP_HEADERS,
        ...V,
        host: `evil.example:${port}`,
        authorization: `Bearer ${front.readToken}`,
      },
      body,
    });
    expect(host.status).toBe(403);
    for (const ok of [`localhost:${port}`, `[::1]:${port}`, 'fixture.gatehouse.test']) {
      const response = await rawRequest(url, { method: 'OPTIONS', headers: { host: ok } });
      expect(response.status, ok).toBe(204);
    }
    expect(await h.control.requests()).toEqual([]);
    const codes = readAudit(front.auditFile).map((r) => r.errorCode);
    expect(codes).toContain('FOREIGN_ORIGIN');
    expect(codes).toContain('FOREIGN_HOST');
  });

  it('allows the CORS preflight from an allowed origin and exposes the auth and session headers', async () => {
    const response = await fetch(front.server.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(response.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    expect(response.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
  });

  it('caps the body (413) and JSON depth (400) and stays healthy', async () => {
    const big = await front.call(
      front.readToken,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { x: 'a'.repeat(2 * 1024 * 1024) } }),
    );
    expect(big.status).toBe(413);
    const deep = await front.call(
      front.readToken,
      `{"jsonrpc":"2.0","id":1,"method":"ping","params":${'['.repeat(200)}${']'.repeat(200)}}`,
    );
    expect(deep.status).toBe(400);
    expect((await fetch(new URL('/healthz', front.server.url))).status).toBe(200);
  });
});

describe('operations', () => {
  it('serves healthz, readyz with the circuit state, and metrics behind their token', async () => {
    // An expired credential, refused (in platform-ops' single file an earlier test had sent one).
    const expired = await tokenFor(front.issuer, { scope: READ }, { expiresIn: -3600 });
    expect((await front.call(expired, legacyCall(1, 'get_item_status', { item: 'orders-api' }))).status).toBe(
      401,
    );
    const base = new URL(front.server.url).origin;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({
      ready: true,
      upstream: { circuit: 'closed' },
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/gatehouse_tool_calls_total\{[^}]*tool="get_item_status"[^}]*outcome="ok"/);
    expect(metrics).toMatch(/gatehouse_auth_failures_total\{[^}]*reason="expired"/);
    expect(metrics).toContain('gatehouse_http_request_duration_seconds_bucket');
    expect(metrics).toContain('gatehouse_upstream_circuit_state');
    expect(metrics).toMatch(/gatehouse_http_rejected_total\{[^}]*reason="origin"/);
    // Request counts are kept apart from prom-client and handed over at each scrape: none is lost
    // or counted twice between scrapes. The scrape itself is the one request in flight.
    const scrape = async () =>
      (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const healthz = (text: string) =>
      Number(
        /gatehouse_http_requests_total\{[^}]*route="healthz"[^}]*status="200"[^}]*\} (\d+)/.exec(text)?.[1],
      );
    const before = healthz(await scrape());
    expect(before).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/healthz`)).text();
    const after = await scrape();
    expect(healthz(after)).toBe(before + 3);
    expect(after).toMatch(/gatehouse_http_inflight\{[^}]*\} 1\n/);
  });
});
