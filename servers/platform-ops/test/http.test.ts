import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, readAudit } from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import type { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, HEALTH_PATH, healthRequests, startHarness } from './harness.ts';
import {
  type HttpChild,
  legacyCall,
  MCP_HEADERS,
  PUBLIC_URL,
  rawRequest,
  rpcBody,
  runToExit,
  spawnHttp,
  startIssuer,
  tokenFor,
} from './http-harness.ts';

const READ = 'platform-ops:read';
const API_KEY = 'gh_ops_key_5b2d40867f3a9c1e_do_not_log';
const V = { 'mcp-protocol-version': '2025-11-25' };

let h: Harness;
let issuer: OAuth2Server;
let server: HttpChild;
let auditFile: string;
let readToken: string;

async function call(
  token: string | undefined,
  body: string,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(server.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...V, ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
    body,
    ...(signal ? { signal } : {}),
  });
}

beforeAll(async () => {
  h = await startHarness();
  issuer = await startIssuer();
  const keys = join(h.dir, 'keys.json');
  writeFileSync(
    keys,
    JSON.stringify([
      { name: 'ci-bot', sha256: createHash('sha256').update(API_KEY).digest('hex'), scopes: [READ] },
    ]),
  );
  const env = h.env({
    PLATFORM_OPS_OAUTH_ISSUER: issuer.issuer.url!,
    PLATFORM_OPS_PUBLIC_URL: PUBLIC_URL,
    PLATFORM_OPS_API_KEYS_FILE: keys,
    PLATFORM_OPS_MAX_CONCURRENT: '64',
    PLATFORM_OPS_RATE_LIMIT_PER_MINUTE: '100000',
    PLATFORM_OPS_METRICS_TOKEN: 'metrics-token-0123456789',
    PLATFORM_OPS_LOG_LEVEL: 'info',
  });
  auditFile = env.PLATFORM_OPS_AUDIT_FILE;
  server = await spawnHttp(BIN, env);
  readToken = await tokenFor(issuer, { scope: READ });
});

afterAll(async () => {
  await server?.stop();
  await issuer?.stop();
  await h?.close();
});

describe('start-up rules', () => {
  it('refuses to serve without auth beyond loopback, and without any credential source', async () => {
    const beyond = await runToExit(BIN, h.env(), ['--transport', 'http', '--no-auth', '--host', '0.0.0.0']);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr).toContain('--no-auth needs a loopback bind');
    expect(beyond.stdout).toBe('');
    const noCreds = await runToExit(BIN, h.env(), ['--transport', 'http']);
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toContain('--transport http needs authentication');
  });
});

describe('OAuth resource server', () => {
  it('answers an unauthenticated request 401 with the RFC 9728 metadata URL, and serves the metadata', async () => {
    const response = await call(undefined, legacyCall(1, 'get_service_health', { service: 'checkout-api' }));
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(
      'resource_metadata="https://ops.gatehouse.test/.well-known/oauth-protected-resource/mcp"',
    );
    const origin = new URL(server.url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const doc = (await (await fetch(`${origin}${path}`)).json()) as Record<string, unknown>;
      expect(doc.resource).toBe(PUBLIC_URL);
      expect(doc.authorization_servers).toEqual([issuer.issuer.url]);
      expect(doc.scopes_supported).toContain(READ);
    }
  });

  it('refuses every bad token with 401 and makes no upstream call', async () => {
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
      tampered: `${h64}.${b64({ ...JSON.parse(Buffer.from(p64!, 'base64url').toString()), scope: 'platform-ops:write' })}.${s64}`,
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
      const response = await call(token, legacyCall(1, 'get_service_health', { service: 'checkout-api' }));
      expect(response.status, label).toBe(401);
      expect(response.headers.get('www-authenticate'), label).toContain('error="invalid_token"');
    }
    expect(await h.control.requests()).toEqual([]);
  });

  it('refuses a token in the query string with 401 and never logs it', async () => {
    const response = await fetch(`${server.url}?access_token=${readToken}`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...V },
      body: legacyCall(1, 'get_service_health', { service: 'checkout-api' }),
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
        new StreamableHTTPClientTransport(new URL(server.url), {
          requestInit: { headers: { authorization: `Bearer ${readToken}` } },
        }),
      );
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('get_service_health');
        expect(names).not.toContain('rollback_deploy');
        const result = await client.callTool({
          name: 'get_service_health',
          arguments: { service: 'checkout-api', environment: 'staging' },
        });
        expect(result.isError, era).toBeFalsy();
        expect(result.structuredContent).toMatchObject({ service: 'checkout-api', environment: 'staging' });
      } finally {
        await client.close();
      }
    }
    const upstream = await h.control.requests();
    expect(upstream.length).toBeGreaterThanOrEqual(2);
    // No passthrough: the upstream only ever sees this server's own credential.
    expect(upstream.every((r) => r.tokenDomain === 'platform-ops')).toBe(true);
    const calls = readAudit(auditFile).filter((r) => r.name === 'get_service_health');
    expect(calls.at(-1)).toMatchObject({ principal: { id: 'alice', kind: 'oauth', clientId: 'test-host' } });
  });

  it('serves the v1 SDK client with an API key, audited under the key name', async () => {
    const client = new V1Client({ name: 'v1-http', version: '1.0.0' });
    await client.connect(
      new V1Transport(new URL(server.url), {
        requestInit: { headers: { authorization: `Bearer ${API_KEY}` } },
      }),
    );
    try {
      const result = await client.callTool({
        name: 'list_recent_deploys',
        arguments: { service: 'checkout-api', environment: 'production', limit: 2 },
      });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const record = await eventually(() =>
      readAudit(auditFile).find((r) => r.name === 'list_recent_deploys' && r.outcome === 'ok'),
    );
    expect(record.principal).toMatchObject({ id: 'ci-bot', kind: 'api-key' });
    expect(server.stderr()).not.toContain(API_KEY);
  });

  it('answers a side effect without the scope 403 insufficient_scope naming it (step-up), audited, no upstream call', async () => {
    await h.control.clearRequests();
    const response = await call(
      readToken,
      legacyCall(1, 'rollback_deploy', { service: 'checkout-api', environment: 'staging', deploy_id: 'd-1' }),
    );
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toMatch(/scope="[^"]*platform-ops:write/);
    expect(challenge).toContain('resource_metadata=');
    expect(await h.control.requests()).toEqual([]);
    const record = await eventually(() =>
      readAudit(auditFile).find((r) => r.name === 'rollback_deploy' && r.errorCode === 'INSUFFICIENT_SCOPE'),
    );
    expect(record).toMatchObject({ decision: 'denied', principal: { id: 'alice' } });
  });

  it('keeps 50 concurrent clients that all use request id 0 apart', async () => {
    const services = ['checkout-api', 'cart-service', 'catalog-api', 'billing-service', 'auth-service'];
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => tokenFor(issuer, { scope: READ, sub: `user-${i}` })),
    );
    const started = Date.now();
    const results = await Promise.all(
      tokens.map(async (token, i) => {
        const service = services[i % services.length]!;
        const response = await call(
          token,
          legacyCall(0, 'get_service_health', { service, environment: 'staging' }),
        );
        const message = await rpcBody(response);
        return { service, message };
      }),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const { service, message } of results) {
      expect(message.id).toBe(0);
      const result = message.result as { structuredContent: { service: string }; isError?: boolean };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.service).toBe(service);
    }
  });
});

describe('stateless 2025 calls on a kept server', () => {
  it("answers one principal's concurrent calls that share an id apart, as JSON, one audit event each", async () => {
    const services = ['checkout-api', 'cart-service', 'catalog-api', 'billing-service'];
    const before = readAudit(auditFile).length;
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const service = services[i % services.length]!;
        const response = await call(readToken, legacyCall(7, 'get_service_health', { service }));
        expect(response.headers.get('content-type')).toContain('application/json');
        return { service, message: await rpcBody(response) };
      }),
    );
    for (const { service, message } of answers) {
      expect(message.id).toBe(7);
      expect((message.result as { structuredContent: { service: string } }).structuredContent.service).toBe(
        service,
      );
    }
    const events = await eventually(() => {
      const fresh = readAudit(auditFile)
        .slice(before)
        .filter((r) => r.name === 'get_service_health');
      return fresh.length >= 24 ? fresh : undefined;
    });
    expect(events).toHaveLength(24);
    expect(new Set(events.map((r) => r.callId)).size).toBe(24);
    expect(events.every((r) => (r.principal as { id: string }).id === 'alice')).toBe(true);
  });

  it('keeps what a kept server cannot do on the SDK path: unknown tools, progress streams, bad shapes', async () => {
    const unknown = await rpcBody(await call(readToken, legacyCall(3, 'no_such_tool', {})));
    expect(unknown).toMatchObject({ id: 3, error: { code: -32602 } });
    const progress = await call(
      readToken,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: {
          name: 'get_service_health',
          arguments: { service: 'checkout-api' },
          _meta: { progressToken: 'p' },
        },
      }),
    );
    expect(progress.headers.get('content-type')).toContain('text/event-stream');
    expect(await rpcBody(progress)).toMatchObject({
      id: 4,
      result: { structuredContent: { service: 'checkout-api' } },
    });
    const shapeless = await call(readToken, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call' }));
    expect(await rpcBody(shapeless)).toMatchObject({ id: 5, error: {} });
  });

  it('stops the upstream request and audits the call cancelled when the HTTP client goes away', async () => {
    await h.control.setFaults([{ path: HEALTH_PATH, latencyMs: 5_000 }]);
    await h.control.clearRequests();
    try {
      const controller = new AbortController();
      const pending = call(
        readToken,
        legacyCall(9, 'get_service_health', { service: 'checkout-api' }),
        {},
        controller.signal,
      );
      await expect.poll(async () => (await healthRequests(h)).length, { timeout: 3_000 }).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      await expect.poll(async () => (await healthRequests(h))[0]?.aborted, { timeout: 3_000 }).toBe(true);
      await expect
        .poll(
          () =>
            readAudit(auditFile)
              .filter((r) => r.name === 'get_service_health')
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
      await call(readToken, legacyCall(10, 'get_service_health', { service: 'checkout-api' })),
    );
    expect(next).toMatchObject({ id: 10, result: { structuredContent: { service: 'checkout-api' } } });
  });
});

describe('transport guards', () => {
  it('refuses a foreign Origin and a foreign Host with 403 before any handler runs, audited', async () => {
    await h.control.clearRequests();
    const port = new URL(server.url).port;
    const body = legacyCall(1, 'get_service_health', { service: 'checkout-api' });
    const origin = await rawRequest(server.url, {
      headers: {
        ...MCP_HEADERS,
        ...V,
        host: `127.0.0.1:${port}`,
        origin: 'https://evil.example',
        authorization: `Bearer ${readToken}`,
      },
      body,
    });
    expect(origin.status).toBe(403);
    const host = await rawRequest(server.url, {
      headers: { ...MCP_HEADERS, ...V, host: `evil.example:${port}`, authorization: `Bearer ${readToken}` },
      body,
    });
    expect(host.status).toBe(403);
    for (const ok of [`localhost:${port}`, `[::1]:${port}`, 'ops.gatehouse.test']) {
      const response = await rawRequest(server.url, { method: 'OPTIONS', headers: { host: ok } });
      expect(response.status, ok).toBe(204);
    }
    expect(await h.control.requests()).toEqual([]);
    const codes = readAudit(auditFile).map((r) => r.errorCode);
    expect(codes).toContain('FOREIGN_ORIGIN');
    expect(codes).toContain('FOREIGN_HOST');
  });

  it('allows the CORS preflight from an allowed origin and exposes the auth and session headers', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(response.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    expect(response.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
  });

  it('caps the body (413) and JSON depth (400) and stays healthy', async () => {
    const big = await call(
      readToken,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { x: 'a'.repeat(2 * 1024 * 1024) } }),
    );
    expect(big.status).toBe(413);
    const deep = await call(
      readToken,
      `{"jsonrpc":"2.0","id":1,"method":"ping","params":${'['.repeat(200)}${']'.repeat(200)}}`,
    );
    expect(deep.status).toBe(400);
    expect((await fetch(new URL('/healthz', server.url))).status).toBe(200);
  });
});

describe('operations', () => {
  it('serves healthz, readyz with the circuit state, and metrics behind their token', async () => {
    const base = new URL(server.url).origin;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({
      ready: true,
      upstream: { circuit: 'closed' },
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })
    ).text();
    expect(metrics).toMatch(/gatehouse_tool_calls_total\{[^}]*tool="get_service_health"[^}]*outcome="ok"/);
    expect(metrics).toMatch(/gatehouse_auth_failures_total\{[^}]*reason="expired"/);
    expect(metrics).toContain('gatehouse_http_request_duration_seconds_bucket');
    expect(metrics).toContain('gatehouse_upstream_circuit_state');
    expect(metrics).toMatch(/gatehouse_http_rejected_total\{[^}]*reason="origin"/);
  });
});
