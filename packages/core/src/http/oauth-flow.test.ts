/**
 * The whole OAuth client flow, headless: the v2 SDK client meets a 401, reads
 * the RFC 9728 metadata, discovers the loopback authorization server
 * (oauth2-mock-server), obtains a token with the client-credentials grant for
 * a pre-registered client, and then calls a tool over HTTP — against the
 * fixture server's HTTP front in this process.
 */
import {
  Client,
  ClientCredentialsProvider,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Events, type OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, type Harness, SCOPES, startHarness } from '../testing/fixture/harness.ts';
import { type HttpServer, startHttp, startIssuer } from '../testing/fixture/http.ts';
import { eventually, readAudit } from '../testing/index.ts';

const CLIENT_ID = 'fixture-ci-runner';
const CLIENT_SECRET = 'fixture-ci-secret-5b2d40867f3a9c1e';
/** The authorization server's client registry: which scopes each client may be granted. */
const REGISTERED: Record<string, string[]> = { [CLIENT_ID]: [SCOPES.read] };

describe('OAuth client flow against the loopback authorization server', () => {
  let h: Harness;
  let issuer: OAuth2Server;
  let server: HttpServer;
  let publicUrl: string;
  let auditFile: string;
  const tokenRequests: { grant: string; client: string; resource: string | null; scope: string | null }[] =
    [];

  beforeAll(async () => {
    h = await startHarness();
    issuer = await startIssuer();
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
    server = await startHttp(fixture, {
      // The audience is this server's own canonical URL, which the client also derives (RFC 8707).
      env: (port) => {
        publicUrl = `http://127.0.0.1:${port}/mcp`;
        const env = h.env({
          FIXTURE_OAUTH_ISSUER: issuer.issuer.url!,
          FIXTURE_PUBLIC_URL: publicUrl,
          FIXTURE_LOG_LEVEL: 'info',
        });
        auditFile = env.FIXTURE_AUDIT_FILE;
        return env;
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await issuer?.stop();
    await h?.close();
  });

  it('discovers the issuer from a 401, gets a client-credentials token for this resource, and calls a tool', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scope: SCOPES.read,
      expectedIssuer: issuer.issuer.url!,
    });
    const client = new Client(
      { name: 'oauth-ci', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider }));
    try {
      const result = await client.callTool({
        name: 'get_item_status',
        arguments: { item: 'orders-api', environment: 'staging' },
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ item: 'orders-api', environment: 'staging' });
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).not.toContain('act_on_item');
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
    expect(tokenRequests[0]!.scope?.split(' ')).toContain(SCOPES.read);
    const call = readAudit(auditFile).find((r) => r.name === 'get_item_status');
    expect(call).toMatchObject({ outcome: 'ok', principal: { id: CLIENT_ID, kind: 'oauth' } });
    expect(server.stderr()).not.toContain(CLIENT_SECRET);
    // Access lines are buffered (at most 250 ms).
    await eventually(() => (/"route":"mcp","status":401/.test(server.stderr()) ? true : undefined));
  });
});
