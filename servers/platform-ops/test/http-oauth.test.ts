/**
 * The whole OAuth client flow, headless: the v2 SDK client meets a 401, reads
 * the RFC 9728 metadata, discovers the loopback authorization server
 * (oauth2-mock-server), obtains a token with the client-credentials grant for
 * a pre-registered client, and then calls a tool over HTTP.
 */
import { createServer } from 'node:net';
import { eventually, readAudit } from '@gatehouse/core/testing';
import {
  Client,
  ClientCredentialsProvider,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Events, type OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';
import { type HttpChild, spawnHttp, startIssuer } from './http-harness.ts';

const CLIENT_ID = 'ops-ci-runner';
const CLIENT_SECRET = 'ops-ci-secret-5b2d40867f3a9c1e';
/** The authorization server's client registry: which scopes each client may be granted. */
const REGISTERED: Record<string, string[]> = { [CLIENT_ID]: ['platform-ops:read'] };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('OAuth client flow against the loopback authorization server', () => {
  let h: Harness;
  let issuer: OAuth2Server;
  let server: HttpChild;
  let publicUrl: string;
  let auditFile: string;
  const tokenRequests: { grant: string; client: string; resource: string | null; scope: string | null }[] =
    [];

  beforeAll(async () => {
    h = await startHarness();
    issuer = await startIssuer();
    const port = await freePort();
    // The audience is this server's own canonical URL, which the client also derives (RFC 8707).
    publicUrl = `http://127.0.0.1:${port}/mcp`;
    issuer.service.on(Events.BeforeTokenSigning, (token, req) => {
      const body = req.body as Record<string, string>;
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const client = basic ? Buffer.from(basic, 'base64').toString().split(':')[0]! : (body.client_id ?? '');
      tokenRequests.push({
        grant: body.grant_type ?? '',
        client: decodeURIComponent(client),
        resource: body.resource ?? null,
        scope: body.scope ?? null,
      });
      // Like a real authorization server, grant only what this client is registered for,
      // whatever it asks (the SDK asks for every scope the resource metadata lists).
      const allowed = REGISTERED[decodeURIComponent(client)] ?? [];
      const granted = (body.scope ?? '').split(' ').filter((s) => allowed.includes(s));
      Object.assign(token.header, { typ: 'at+jwt' });
      Object.assign(token.payload, {
        aud: body.resource ?? 'nobody',
        sub: decodeURIComponent(client),
        client_id: decodeURIComponent(client),
        scope: granted.join(' '),
      });
    });
    const env = h.env({
      PLATFORM_OPS_OAUTH_ISSUER: issuer.issuer.url!,
      PLATFORM_OPS_PUBLIC_URL: publicUrl,
      PLATFORM_OPS_LOG_LEVEL: 'info',
    });
    auditFile = env.PLATFORM_OPS_AUDIT_FILE;
    server = await spawnHttp(BIN, env, ['--port', String(port)]);
  });

  afterAll(async () => {
    await server?.stop();
    await issuer?.stop();
    await h?.close();
  });

  it('discovers the issuer from a 401, gets a client-credentials token for this resource, and calls a tool', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scope: 'platform-ops:read',
      expectedIssuer: issuer.issuer.url!,
    });
    const client = new Client(
      { name: 'oauth-ci', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider }));
    try {
      const result = await client.callTool({
        name: 'get_service_health',
        arguments: { service: 'checkout-api', environment: 'staging' },
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ service: 'checkout-api', environment: 'staging' });
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).not.toContain('rollback_deploy');
    } finally {
      await client.close();
    }
    // One token, by the client-credentials grant, bound to this server as resource.
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toMatchObject({
      grant: 'client_credentials',
      client: CLIENT_ID,
      resource: publicUrl,
    });
    expect(tokenRequests[0]!.scope?.split(' ')).toContain('platform-ops:read');
    const call = readAudit(auditFile).find((r) => r.name === 'get_service_health');
    expect(call).toMatchObject({ outcome: 'ok', principal: { id: CLIENT_ID, kind: 'oauth' } });
    expect(server.stderr()).not.toContain(CLIENT_SECRET);
    // Access lines are buffered (at most 250 ms).
    await eventually(() => (/"route":"mcp","status":401/.test(server.stderr()) ? true : undefined));
  });
});
