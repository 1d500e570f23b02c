/**
 * The approval page, in this process, against the real loopback authorization
 * server (oidc-provider; sign-in by code flow with PKCE through openid-client):
 * an approver signs in and approves, and the requester's repeated call runs
 * once; refused and audited: the requester approving their own four-eyes
 * request, an approver without the scope, a tampered, expired or replayed
 * link, a cross-site post. The webhook announces pending and decided, signed.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVAL_CLIENT,
  approvalLink,
  csrfOf,
  FormClient,
  startApprovalIssuer,
} from '../testing/approver.ts';
import type { AuthorizationServer } from '../testing/authz/server.ts';
import { fixture, type Harness, SCOPES, startHarness } from '../testing/fixture/harness.ts';
import { type HttpServer, startHttp } from '../testing/fixture/http.ts';
import { errorOf, readAudit } from '../testing/index.ts';

const STATE_KEY = 'p'.repeat(40);
const HOOK_SECRET = 'webhook-secret-0123456789';
const CSP =
  "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const ARGS = {
  item: 'orders-api',
  environment: 'production',
  action: 'restart',
  reason: 'memory leak after deploy',
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('the approval page', () => {
  let h: Harness;
  let as: AuthorizationServer;
  let server: HttpServer;
  let hook: Server;
  const hooks: { event: string; body: Record<string, unknown>; valid: boolean }[] = [];
  let auditFile: string;
  let publicUrl: string;

  beforeAll(async () => {
    h = await startHarness();
    hook = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c;
      });
      req.on('end', () => {
        const [t, v1] = String(req.headers['x-gatehouse-signature']).split(',');
        const expected = createHmac('sha256', HOOK_SECRET)
          .update(`${t?.slice(2)}.${text}`)
          .digest('hex');
        hooks.push({
          event: String(req.headers['x-gatehouse-event']),
          body: JSON.parse(text),
          valid: v1 === `v1=${expected}`,
        });
        res.end();
      });
    });
    const hookPort = await listen(hook);
    // The issuer's port is chosen first: the server must name it, and it must name the server's callback.
    const probe = createServer();
    const asPort = await listen(probe);
    await new Promise((r) => probe.close(r));
    server = await startHttp(fixture, {
      env: (port) => {
        publicUrl = `http://127.0.0.1:${port}/mcp`;
        const env = h.env({
          FIXTURE_OAUTH_ISSUER: `http://127.0.0.1:${asPort}`,
          FIXTURE_PUBLIC_URL: publicUrl,
          FIXTURE_SCOPES: `${SCOPES.read},${SCOPES.write},${SCOPES.prod}`,
          FIXTURE_STATE_KEY: STATE_KEY,
          FIXTURE_APPROVAL_CLIENT_ID: APPROVAL_CLIENT.clientId,
          FIXTURE_APPROVAL_CLIENT_SECRET: APPROVAL_CLIENT.clientSecret,
          FIXTURE_APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
          FIXTURE_APPROVAL_WEBHOOK_SECRET: HOOK_SECRET,
          FIXTURE_FOUR_EYES: JSON.stringify([{ tool: 'act_on_item', environments: ['production'] }]),
        });
        auditFile = env.FIXTURE_AUDIT_FILE;
        return env;
      },
    });
    as = await startApprovalIssuer({
      server: 'fixture',
      scopes: Object.values(SCOPES),
      origin: new URL(publicUrl).origin,
      port: asPort,
      withhold: { mallory: ['fixture:approve'] },
    });
    // The server started before its issuer: fetch the signing keys now rather than at the next refresh.
    await server.app.authenticator?.jwks?.refresh();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await as?.close();
    hook?.close();
    await h?.close();
  });

  /** A headless agent signed in as `sub`, without elicitation. */
  async function agent(sub: string): Promise<Client> {
    const token = await as.accessToken({
      sub,
      scope: `${SCOPES.read} ${SCOPES.write} ${SCOPES.prod}`,
      audience: publicUrl,
    });
    const c = new Client(
      { name: 'headless', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await c.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return c;
  }
  const pending = async (c: Client, args: Record<string, unknown>) => {
    const error = errorOf(await c.callTool({ name: 'act_on_item', arguments: args }));
    expect(error?.code).toBe('APPROVAL_PENDING');
    return error!.details as { approvalId: string; url: string };
  };
  const pageRecords = (id: string) =>
    readAudit(auditFile)
      .filter((r) => r.name === 'approval' && r.callId === id)
      .map((r) => [(r.principal as { id: string }).id, r.decision, r.errorCode ?? null]);

  it('signs the approver in, shows the action, and the approved call runs once', async () => {
    await h.control.clearRequests();
    const alice = await agent('alice');
    try {
      const { approvalId, url } = await pending(alice, ARGS);
      const bob = new FormClient();
      const page = await bob.open(url, as.issuer, 'bob');
      expect(page.status).toBe(200);
      expect(page.url).toBe(url);
      expect(page.headers.get('content-security-policy')).toBe(CSP);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.text).toContain('act_on_item');
      expect(page.text).toContain('orders-api');
      expect(page.text).toContain('production');
      expect(page.text).toContain('oauth:alice');
      expect(page.text).toContain('[hidden]'); // act_on_item's reason is sensitive
      expect(page.text).not.toMatch(/(src|href)="https?:/);
      const css = await fetch(new URL('/approvals/style.css', publicUrl));
      expect(css.headers.get('content-type')).toContain('text/css');

      const decided = await bob.request(url, {
        form: { csrf: csrfOf(page.text), decision: 'approve', reason: 'checked the dashboards' },
      });
      expect(decided.status).toBe(200);
      expect(decided.text).toContain('Approved');
      const done = await alice.callTool({ name: 'act_on_item', arguments: ARGS });
      expect(done.isError, JSON.stringify(done)).toBeFalsy();
      expect((await h.control.requests()).filter((r) => r.method === 'POST')).toHaveLength(1);

      // Replayed: the link and form once more after the decision.
      const again = await bob.request(url, {
        form: { csrf: csrfOf(page.text), decision: 'approve', reason: 'again' },
      });
      expect(again.status).toBe(409);
      expect(pageRecords(approvalId)).toEqual([
        ['bob', 'approved', null],
        ['bob', 'denied', 'APPROVAL_NOT_PENDING'],
      ]);
      const ran = readAudit(auditFile).findLast((r) => r.name === 'act_on_item' && r.callId === approvalId);
      expect(ran).toMatchObject({
        decision: 'approved',
        outcome: 'ok',
        approval: { requester: 'oauth:alice', approvers: ['oauth:bob'], status: 'spent', fourEyes: true },
      });
      const announced = hooks.filter((e) => e.body.id === approvalId);
      expect(announced.map((e) => [e.event, e.body.status, e.valid])).toEqual([
        ['approval.pending', 'pending', true],
        ['approval.decided', 'approved', true],
      ]);
    } finally {
      await alice.close();
    }
  });

  it('refuses the requester approving their own four-eyes request, and an approver without the scope', async () => {
    const alice = await agent('alice');
    try {
      const { approvalId, url } = await pending(alice, { ...ARGS, item: 'billing-api' });
      const self = new FormClient();
      const own = await self.open(url, as.issuer, 'alice');
      expect(own.status).toBe(403);
      expect(own.text).toContain('another person must approve');
      // Her session's form token, from a request of someone else's that she may approve; posted on her own.
      const bobAgent = await agent('bob');
      const theirs = await pending(bobAgent, { ...ARGS, item: 'queue-api' });
      await bobAgent.close();
      const token = csrfOf((await self.request(theirs.url)).text);
      expect(token).not.toBe('');
      const forced = await self.request(url, { form: { csrf: token, decision: 'approve', reason: 'me' } });
      expect(forced.status).toBe(403);

      const mallory = await new FormClient().open(url, as.issuer, 'mallory');
      expect(mallory.status).toBe(403);
      expect(mallory.text).toContain('fixture:approve');
      expect(pageRecords(approvalId)).toEqual([
        ['alice', 'denied', 'APPROVAL_SELF'],
        ['alice', 'denied', 'APPROVAL_SELF'],
        ['mallory', 'denied', 'APPROVAL_SCOPE_MISSING'],
      ]);
      expect(
        errorOf(await alice.callTool({ name: 'act_on_item', arguments: { ...ARGS, item: 'billing-api' } }))
          ?.code,
      ).toBe('APPROVAL_PENDING');
    } finally {
      await alice.close();
    }
  });

  it('refuses tampered and expired links and a cross-site post, audited', async () => {
    const alice = await agent('alice');
    try {
      const { approvalId, url } = await pending(alice, { ...ARGS, item: 'search-api' });
      const bob = new FormClient();
      const page = await bob.open(url, as.issuer, 'bob');
      const tampered = url.replace(/sig=.{4}/, 'sig=AAAA');
      expect((await bob.request(tampered)).status).toBe(403);
      const expired = approvalLink(STATE_KEY, new URL(publicUrl).origin, approvalId, Date.now() - 1000);
      expect((await bob.request(expired)).status).toBe(403);
      const crossSite = await bob.request(url, {
        form: { csrf: csrfOf(page.text), decision: 'approve', reason: 'evil' },
        origin: 'https://evil.example',
      });
      expect(crossSite.status).toBe(403);
      expect(pageRecords(approvalId)).toEqual([
        ['bob', 'denied', 'APPROVAL_LINK_INVALID'],
        ['bob', 'denied', 'APPROVAL_LINK_EXPIRED'],
        ['bob', 'denied', 'APPROVAL_CROSS_SITE'],
      ]);
    } finally {
      await alice.close();
    }
  });
});
