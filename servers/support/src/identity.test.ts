/**
 * Per-user identity to the upstream (SUPPORT_UPSTREAM_IDENTITY=exchange), through a real v2 client over
 * Streamable HTTP: a real authorization server (oidc-provider) issues the users' tokens and exchanges
 * them (RFC 8693); the sandbox verifies the exchanged tokens and applies its own rule — an agent sees
 * only their region's customers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AuthorizationServer,
  connectV2,
  errorOf,
  type HttpServer,
  ok,
  readAudit,
  startAuthorizationServer,
  startHttp,
  withClient,
} from '@gatehouse/core/testing';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionOf } from '../sandbox/regions.ts';
import support from './index.ts';

const PUBLIC_URL = 'https://support.gatehouse.test/mcp';
const CLIENT = { clientId: 'support-mcp', clientSecret: 'support-mcp-exchange-secret-0123456789' };
const CANARY = 'sbx_sup_CANARY_identity_9a3e1c57b20d';
const exchange = { from: [PUBLIC_URL], to: [] as string[] };
let as: AuthorizationServer;
let h: ServerHarness;
let server: HttpServer;
let env: Record<string, string>;

beforeAll(async () => {
  as = await startAuthorizationServer({
    scopes: Object.keys(support.scopes),
    accounts: { alice: { groups: ['region:eu'] }, bob: { groups: ['region:us'] } },
    clients: [{ ...CLIENT, grantTypes: ['client_credentials'], exchange }],
    exchangeTtl: 120,
  });
  h = await startServerHarness({
    domain: 'support',
    prefix: 'SUPPORT',
    token: CANARY,
    identity: { issuer: as.issuer, jwksUri: as.jwksUri, actors: { support: CLIENT.clientId } },
  });
  exchange.to.push(h.sandbox.url);
  env = h.env({
    SUPPORT_OAUTH_ISSUER: as.issuer,
    SUPPORT_PUBLIC_URL: PUBLIC_URL,
    SUPPORT_UPSTREAM_IDENTITY: 'exchange',
    SUPPORT_EXCHANGE_TOKEN_URL: as.tokenEndpoint,
    SUPPORT_EXCHANGE_CLIENT_ID: CLIENT.clientId,
    SUPPORT_EXCHANGE_CLIENT_SECRET: CLIENT.clientSecret,
    SUPPORT_EXCHANGE_TIMEOUT_MS: '2000',
  });
  server = await startHttp(support, { env });
});
afterAll(async () => {
  await server?.close();
  await h?.close();
  await as?.close();
});

const tokenOf = (sub: string, scope = 'support:read') => as.accessToken({ sub, scope, audience: PUBLIC_URL });

async function asUser<T>(token: string, body: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'identity-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

const search = (client: Client) => client.callTool({ name: 'search_tickets', arguments: { limit: 25 } });
const customersOf = (result: object) =>
  new Set(ok<{ tickets: Array<{ customerId: string }> }>(result).tickets.map((t) => t.customerId));
const auditOf = (user: string) =>
  readAudit(env.SUPPORT_AUDIT_FILE!).filter((r) => (r.principal as { id: string }).id === user);

describe('exchange: the upstream sees the user', () => {
  it('two users with the same scopes see different data, because the upstream saw who they were', async () => {
    const alice = customersOf(await asUser(await tokenOf('alice'), search));
    const bob = customersOf(await asUser(await tokenOf('bob'), search));
    expect(alice.size).toBeGreaterThan(0);
    expect(bob.size).toBeGreaterThan(0);
    expect([...alice].every((id) => regionOf(id) === 'eu')).toBe(true);
    expect([...bob].every((id) => regionOf(id) === 'us')).toBe(true);
  });

  it('the exchanged token names the upstream, the user and this server; the inbound token never travels', async () => {
    await h.control.clearRequests();
    const inbound = await tokenOf('alice');
    await asUser(inbound, async (client) => {
      expect((await search(client)).isError).toBeFalsy();
    });
    const [seen] = await h.control.requests();
    expect(seen?.status).toBe(200);
    expect(seen?.caller).toMatchObject({ sub: 'alice', actor: CLIENT.clientId, aud: h.sandbox.url });
    expect(seen?.caller?.jti).not.toBe(decodeJwt(inbound).jti);
    const record = auditOf('alice').at(-1)!;
    expect(record.upstreamIdentity).toEqual({ sub: 'alice', actor: CLIENT.clientId, jti: seen?.caller?.jti });
    const trail = JSON.stringify(readAudit(env.SUPPORT_AUDIT_FILE!, 'all')) + server.stderr();
    expect(trail).not.toContain(inbound.split('.')[2]!);
    expect(trail).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(trail).not.toContain(CANARY);
  });

  it('caches the exchanged token per user: a second call makes no new exchange', async () => {
    const token = await tokenOf('alice');
    await asUser(token, search);
    const before = as.stats().exchanges;
    await asUser(token, search);
    expect(as.stats().exchanges).toBe(before);
  });

  it('the upstream refuses what the user may not do even where the scope allows it', async () => {
    const all = await h.api<{ items: Array<{ customerId: string }> }>('/support/v1/tickets?limit=50');
    const elsewhere = all.items.map((t) => t.customerId).find((id) => regionOf(id) === 'us')!;
    await asUser(await tokenOf('alice'), async (client) => {
      const result = await client.callTool({
        name: 'get_customer_status',
        arguments: { customer_id: elsewhere },
      });
      expect(errorOf(result)?.code).toBe('DENIED');
    });
    expect(auditOf('alice').at(-1)).toMatchObject({ errorCode: 'DENIED', upstreamStatus: 403 });
  });
});

describe('exchange fails closed', () => {
  const cases = [
    ['down', { mode: 'down' }, 'IDENTITY_UNAVAILABLE'],
    ['slow', { mode: 'slow', delayMs: 5_000 }, 'IDENTITY_UNAVAILABLE'],
    ['refusing', { mode: 'refuse', error: 'invalid_grant' }, 'IDENTITY_REFUSED'],
  ] as const;
  for (const [name, state, code] of cases) {
    it(`a token endpoint that is ${name} gives ${code}, audited, and no upstream call`, async () => {
      const user = `user-${name}`;
      const token = await tokenOf(user);
      await h.control.clearRequests();
      as.setTokenEndpoint(state);
      try {
        await asUser(token, async (client) => {
          const error = errorOf(await search(client));
          expect(error?.code).toBe(code);
          expect(error?.message).toMatch(/SUPPORT_EXCHANGE|sign in again/);
        });
      } finally {
        as.setTokenEndpoint({ mode: 'ok' });
      }
      expect(await h.control.requests()).toEqual([]);
      expect(auditOf(user).at(-1)).toMatchObject({ errorCode: code, upstreamCalls: 0, outcome: 'error' });
    });
  }
});

describe('exchange over stdio with a token file', () => {
  /** The same settings with an audit file of its own (one writer per file). */
  const stdio = () =>
    h.env(Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'SUPPORT_AUDIT_FILE')));
  it('the local operator is the user the token names, under the same upstream rules', async () => {
    const file = join(h.dir, 'identity-token');
    writeFileSync(file, await tokenOf('bob'));
    const stdioEnv = { ...stdio(), SUPPORT_IDENTITY_TOKEN_FILE: file };
    await h.control.clearRequests();
    const customers = await withClient(connectV2({ server: support, env: stdioEnv }), async ({ client }) =>
      customersOf(await search(client)),
    );
    expect([...customers].every((id) => regionOf(id) === 'us')).toBe(true);
    expect((await h.control.requests()).every((r) => r.caller?.sub === 'bob')).toBe(true);
  });

  it('without a token file nothing is sent upstream and the error says what to set', async () => {
    await h.control.clearRequests();
    const error = await withClient(connectV2({ server: support, env: stdio() }), async ({ client }) =>
      errorOf(await search(client)),
    );
    expect(error?.code).toBe('IDENTITY_REQUIRED');
    expect(error?.message).toContain('SUPPORT_IDENTITY_TOKEN_FILE');
    expect(await h.control.requests()).toEqual([]);
  });
});
