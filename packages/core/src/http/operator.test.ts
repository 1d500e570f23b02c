/**
 * What an operator configures and sees at the HTTP front: refusals a client can show when there is no
 * authorization server (DENIED, not a 403 step-up), trusted proxies given as CIDR ranges, readiness
 * that waits for the issuer's signing keys, and the warning when no shared state key is set. The
 * fixture's HTTP front runs in this process on a loopback socket; the upstream is the sandbox.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { KEYS, V } from '../testing/fixture/auth.ts';
import {
  legacyCall,
  MCP_HEADERS,
  PUBLIC_URL,
  rawRequest,
  rpcBody,
  startHttp,
  startIssuer,
} from '../testing/fixture/http.ts';
import { useKeyedHarness } from '../testing/fixture/per-file.ts';
import { fixture, SCOPES } from '../testing/fixture/server.ts';
import { errorOf, eventually, readAudit } from '../testing/index.ts';

const { h, env } = useKeyedHarness();
const ACT = { item: 'orders-api', environment: 'staging', reason: 'scope check' };

describe('a call outside the caller scopes', () => {
  it('is a DENIED tool error naming the scope with API keys only (no step-up), audited, no upstream call', async () => {
    const serverEnv = env();
    const server = await startHttp(fixture, { env: serverEnv });
    const client = new Client({ name: 'denied-check', version: '1.0.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(server.url), {
          requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } },
        }),
      );
      // Still not listed: the key cannot see what it cannot call.
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('act_on_item');
      await h.control.clearRequests();
      const result = await client.callTool({ name: 'act_on_item', arguments: ACT });
      expect(errorOf(result)).toMatchObject({ code: 'DENIED', details: { requiredScopes: [SCOPES.write] } });
      expect(errorOf(result)?.message).toContain(SCOPES.write);
      expect(await h.control.requests()).toEqual([]);
      // The same over a raw 2025 stateless request: HTTP 200, no WWW-Authenticate challenge.
      const raw = await fetch(server.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...V, authorization: `Bearer ${KEYS.bob}` },
        body: legacyCall(5, 'act_on_item', ACT),
      });
      expect(raw.status).toBe(200);
      expect(raw.headers.get('www-authenticate')).toBeNull();
      expect(await rpcBody(raw)).toMatchObject({ id: 5, result: { isError: true } });
      const records = await eventually(() => {
        const found = readAudit(serverEnv.FIXTURE_AUDIT_FILE).filter(
          (r) => r.name === 'act_on_item' && r.errorCode === 'DENIED',
        );
        return found.length === 2 ? found : undefined;
      });
      expect(records.map((r) => (r.principal as { id: string }).id).sort()).toEqual(['alice', 'bob']);
      expect(records.every((r) => r.decision === 'denied')).toBe(true);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('is a DENIED tool error under --no-auth too, and an unknown tool stays unknown', async () => {
    const server = await startHttp(fixture, { env: h.env({ FIXTURE_SCOPES: SCOPES.read }), noAuth: true });
    try {
      const denied = await rpcBody(
        await fetch(server.url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, ...V },
          body: legacyCall(1, 'act_on_item', ACT),
        }),
      );
      expect(errorOf(denied.result as object)?.code).toBe('DENIED');
      const unknown = await rpcBody(
        await fetch(server.url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, ...V },
          body: legacyCall(2, 'no_such_tool', {}),
        }),
      );
      expect(unknown).toMatchObject({ id: 2, error: { code: -32602 } });
    } finally {
      await server.close();
    }
  });
});

describe('trusted proxies', () => {
  const through = (url: string) =>
    rawRequest(url, {
      headers: {
        ...MCP_HEADERS,
        ...V,
        host: 'internal-pod:8080',
        'x-forwarded-host': new URL(PUBLIC_URL).host,
        'x-forwarded-for': '203.0.113.9',
        authorization: `Bearer ${KEYS.alice}`,
      },
      body: legacyCall(1, 'get_item_status', { item: 'orders-api' }),
    });

  it('believes X-Forwarded-Host from a peer inside a CIDR range, and not from one outside every range', async () => {
    const inside = await startHttp(fixture, {
      env: env({ FIXTURE_TRUSTED_PROXIES: '10.0.0.0/8,127.0.0.0/8,fd00::/8' }),
    });
    const outside = await startHttp(fixture, {
      env: env({ FIXTURE_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8, 192.0.2.7' }),
    });
    try {
      expect((await through(inside.url)).status).toBe(200);
      expect((await through(outside.url)).status).toBe(403);
    } finally {
      await inside.close();
      await outside.close();
    }
  });
});

describe('readiness and start-up warnings', () => {
  it('is not ready until the issuer signing keys were fetched once, and says why', async () => {
    const issuer = await startIssuer();
    const url = issuer.issuer.url!;
    // The issuer is down when the server starts.
    await issuer.stop();
    const server = await startHttp(fixture, { env: env({ FIXTURE_OAUTH_ISSUER: url }) });
    try {
      const readyz = new URL('/readyz', server.url);
      const waiting = await fetch(readyz);
      expect(waiting.status).toBe(503);
      expect(await waiting.json()).toMatchObject({
        ready: false,
        reason: expect.stringContaining('signing keys'),
      });
      // The first fetch failed (logged) before the issuer comes back.
      await eventually(() => server.stderr().includes('cannot refresh the issuer signing keys'));
      await issuer.start(Number(new URL(url).port), '127.0.0.1');
      // The probe asks the issuer again (at most every 5 s) until the first fetch succeeds.
      let answer: Response | undefined;
      for (const until = Date.now() + 15_000; Date.now() < until; ) {
        answer = await fetch(readyz);
        if (answer.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(answer?.status).toBe(200);
      expect(await answer?.json()).toMatchObject({ ready: true });
    } finally {
      await server.close();
      await issuer.stop();
    }
  }, 30_000);

  it('warns once on stderr when HTTP runs without a shared state key, and not with one', async () => {
    const without = await startHttp(fixture, { env: env() });
    const withKey = await startHttp(fixture, { env: env({ FIXTURE_STATE_KEY: 'k'.repeat(43) }) });
    try {
      const lines = without
        .stderr()
        .split('\n')
        .filter((line) => line.includes('FIXTURE_STATE_KEY is not set'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, variable: 'FIXTURE_STATE_KEY' });
      expect(lines[0]).toContain('replica');
      expect(withKey.stderr()).not.toContain('FIXTURE_STATE_KEY is not set');
    } finally {
      await without.close();
      await withKey.close();
    }
  });
});
