/**
 * The HTTP front as an OAuth 2.1 resource server: the fixture server's `createHttpApp` in this
 * process on a real loopback socket, real SDK clients over Streamable HTTP, tokens from a loopback
 * authorization server, the sandbox as upstream.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { API_KEY, READ, startAuthFront, V } from '../testing/fixture/auth.ts';
import { legacyCall, MCP_HEADERS, PUBLIC_URL, rpcBody, tokenFor } from '../testing/fixture/http.ts';
import { perFile, useHarness } from '../testing/fixture/per-file.ts';
import { eventually, readAudit } from '../testing/index.ts';

const h = useHarness();
const front = perFile(() => startAuthFront(h));
const status = (item = 'orders-api') => legacyCall(1, 'get_item_status', { item });

describe('OAuth resource server', () => {
  it('answers an unauthenticated request 401 with the RFC 9728 metadata URL, and serves the metadata', async () => {
    const response = await front.call(undefined, status());
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(
      'resource_metadata="https://fixture.gatehouse.test/.well-known/oauth-protected-resource/mcp"',
    );
    const origin = new URL(front.server.url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const doc = (await (await fetch(`${origin}${path}`)).json()) as Record<string, unknown>;
      expect(doc.resource).toBe(PUBLIC_URL);
      expect(doc.authorization_servers).toEqual([front.issuer.issuer.url]);
      expect(doc.scopes_supported).toContain(READ);
    }
  });

  it('refuses every bad token with 401 and makes no upstream call', async () => {
    const { issuer } = front;
    await h.control.clearRequests();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: issuer.issuer.url, aud: PUBLIC_URL, sub: 'mallory', scope: READ, exp: now + 600 };
    const valid = await tokenFor(issuer, { scope: READ });
    const [h64, p64, s64] = valid.split('.');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad: Record<string, string> = {
      expired: await tokenFor(issuer, { scope: READ }, { expiresIn: -3600 }),
      'not yet valid': await tokenFor(issuer, { scope: READ, nbf: now + 3600 }),
      'wrong audience': await tokenFor(issuer, { scope: READ, aud: 'https://docs.gatehouse.test/mcp' }),
      'wrong issuer': await tokenFor(issuer, { scope: READ, iss: 'https://evil.example/' }),
      tampered: `${h64}.${b64({ ...JSON.parse(Buffer.from(p64!, 'base64url').toString()), scope: 'fixture:write' })}.${s64}`,
      'bad signature': `${h64}.${p64}.${s64!.slice(0, -6)}AAAAAA`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(base)}.`,
      'unknown kid': await new SignJWT(base)
        .setProtectedHeader({ alg: 'RS256', kid: 'rogue' })
        .sign(privateKey),
      hmac: await new SignJWT(base)
        .setProtectedHeader({ alg: 'HS256', kid: JSON.parse(Buffer.from(h64!, 'base64url').toString()).kid })
        .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef')),
      'unknown api key': 'not-a-real-key-123456',
    };
    for (const [label, token] of Object.entries(bad)) {
      const response = await front.call(token, status());
      expect(response.status, label).toBe(401);
      expect(response.headers.get('www-authenticate'), label).toContain('error="invalid_token"');
    }
    expect(await h.control.requests()).toEqual([]);
  });

  it('refuses a token in the query string with 401 and never logs it', async () => {
    const { readToken, server } = front;
    const response = await fetch(`${server.url}?access_token=${readToken}`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...V },
      body: status(),
    });
    expect(response.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.stderr()).not.toContain(readToken);
    expect(server.stderr()).not.toContain(readToken.split('.')[2]!);
  });

  it('serves a v2 client pinned to 2026-07-28 and a legacy v2 client, with the server credential upstream', async () => {
    await h.control.clearRequests();
    for (const era of ['2026-07-28', 'legacy'] as const) {
      const client = new Client(
        { name: 'http-test', version: '1.0.0' },
        era === 'legacy' ? {} : { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(
        new StreamableHTTPClientTransport(new URL(front.server.url), {
          requestInit: { headers: { authorization: `Bearer ${front.readToken}` } },
        }),
      );
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('get_item_status');
        expect(names).not.toContain('act_on_item');
        const result = await client.callTool({
          name: 'get_item_status',
          arguments: { item: 'orders-api', environment: 'staging' },
        });
        expect(result.isError, era).toBeFalsy();
        expect(result.structuredContent).toMatchObject({ item: 'orders-api', environment: 'staging' });
      } finally {
        await client.close();
      }
    }
    const upstream = await h.control.requests();
    expect(upstream.length).toBeGreaterThanOrEqual(2);
    // No passthrough: the upstream only ever sees this server's own credential.
    expect(upstream.every((r) => r.tokenDomain === 'fixture')).toBe(true);
    const calls = readAudit(front.auditFile).filter((r) => r.name === 'get_item_status');
    expect(calls.at(-1)).toMatchObject({ principal: { id: 'alice', kind: 'oauth', clientId: 'test-host' } });
  });

  it('serves the v1 SDK client with an API key, audited under the key name', async () => {
    const client = new V1Client({ name: 'v1-http', version: '1.0.0' });
    await client.connect(
      new V1Transport(new URL(front.server.url), {
        requestInit: { headers: { authorization: `Bearer ${API_KEY}` } },
      }),
    );
    try {
      const result = await client.callTool({ name: 'list_items', arguments: { prefix: 'o', limit: 2 } });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const record = await eventually(() =>
      readAudit(front.auditFile).find((r) => r.name === 'list_items' && r.outcome === 'ok'),
    );
    expect(record.principal).toMatchObject({ id: 'ci-bot', kind: 'api-key' });
    expect(front.server.stderr()).not.toContain(API_KEY);
  });

  it('answers a side effect without the scope 403 insufficient_scope naming it (step-up), audited, no upstream call', async () => {
    await h.control.clearRequests();
    const response = await front.call(
      front.readToken,
      legacyCall(1, 'act_on_item', { item: 'orders-api', environment: 'staging', reason: 'step-up check' }),
    );
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toMatch(/scope="[^"]*fixture:write/);
    expect(challenge).toContain('resource_metadata=');
    expect(await h.control.requests()).toEqual([]);
    const record = await eventually(() =>
      readAudit(front.auditFile).find(
        (r) => r.name === 'act_on_item' && r.errorCode === 'INSUFFICIENT_SCOPE',
      ),
    );
    expect(record).toMatchObject({ decision: 'denied', principal: { id: 'alice' } });
  });

  it('keeps 50 concurrent clients that all use request id 0 apart', async () => {
    const items = ['orders-api', 'ledger-api', 'search-api', 'mailer', 'gateway'];
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => tokenFor(front.issuer, { scope: READ, sub: `user-${i}` })),
    );
    const started = Date.now();
    const results = await Promise.all(
      tokens.map(async (token, i) => {
        const item = items[i % items.length]!;
        const response = await front.call(
          token,
          legacyCall(0, 'get_item_status', { item, environment: 'staging' }),
        );
        const message = await rpcBody(response);
        return { item, message };
      }),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const { item, message } of results) {
      expect(message.id).toBe(0);
      const result = message.result as { structuredContent: { item: string }; isError?: boolean };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.item).toBe(item);
    }
  });
});
