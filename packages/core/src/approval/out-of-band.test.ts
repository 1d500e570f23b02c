/**
 * Out-of-band approval over HTTP, in this process: a v2 client without
 * elicitation gets a typed pending answer, the same one until a decision,
 * the action exactly once after approval (one upstream POST), a refusal after
 * a decline; a four-eyes rule sends even an eliciting client out of band. The
 * decision is taken through a second handle on the same SQLite file (another
 * replica's view); the page itself is tested in page.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, type Harness, SCOPES, startHarness } from '../testing/fixture/harness.ts';
import { type HttpServer, PUBLIC_URL, startHttp, startIssuer } from '../testing/fixture/http.ts';
import { errorOf, readAudit } from '../testing/index.ts';
import { type ApprovalStore, openApprovalStore } from './store.ts';

const KEY = 'gh_oob_requester_key_7f3a9c1e5b2d';
const ARGS = {
  item: 'orders-api',
  environment: 'staging',
  action: 'restart',
  reason: 'memory leak after deploy',
};

describe('out-of-band approval over HTTP', () => {
  let h: Harness;
  let issuer: OAuth2Server;
  let server: HttpServer;
  let store: ApprovalStore;
  let dir: string;
  let auditFile: string;

  beforeAll(async () => {
    h = await startHarness();
    issuer = await startIssuer();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-oob-'));
    const keys = join(dir, 'keys.json');
    writeFileSync(
      keys,
      JSON.stringify([
        {
          name: 'ci-bot',
          sha256: createHash('sha256').update(KEY).digest('hex'),
          scopes: [SCOPES.read, SCOPES.write, SCOPES.prod],
        },
      ]),
    );
    const db = join(dir, 'approvals.db');
    server = await startHttp(fixture, {
      env: () => {
        const env = h.env({
          FIXTURE_OAUTH_ISSUER: issuer.issuer.url!,
          FIXTURE_PUBLIC_URL: PUBLIC_URL,
          FIXTURE_API_KEYS_FILE: keys,
          FIXTURE_SCOPES: `${SCOPES.read},${SCOPES.write},${SCOPES.prod}`,
          FIXTURE_STATE_KEY: 'k'.repeat(40),
          FIXTURE_APPROVAL_CLIENT_ID: 'approval-page',
          FIXTURE_APPROVAL_STORE: `sqlite:${db}`,
          FIXTURE_FOUR_EYES: JSON.stringify([
            { tool: 'act_on_item', environments: ['production'], approvals: 1 },
          ]),
        });
        auditFile = env.FIXTURE_AUDIT_FILE;
        return env;
      },
    });
    store = await openApprovalStore(`sqlite:${db}`);
  });

  afterAll(async () => {
    await store?.close();
    await server?.close();
    await issuer?.stop();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function client(elicitation: boolean): Promise<Client> {
    const c = new Client(
      { name: 'headless-agent', version: '1.0.0' },
      {
        capabilities: elicitation ? { elicitation: { form: {} } } : {},
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    if (elicitation)
      c.setRequestHandler('elicitation/create', async () => ({
        action: 'accept',
        content: { approve: true },
      }));
    await c.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { authorization: `Bearer ${KEY}`, host: 'fixture.gatehouse.test' } },
      }),
    );
    return c;
  }
  const upstreamPosts = async () => (await h.control.requests()).filter((r) => r.method === 'POST').length;

  it('answers pending at once, the same until a decision, then runs exactly once', async () => {
    await h.control.clearRequests();
    const c = await client(false);
    try {
      const first = await c.callTool({ name: 'act_on_item', arguments: ARGS });
      const pending = errorOf(first);
      expect(pending).toMatchObject({ code: 'APPROVAL_PENDING', retryable: true });
      const { approvalId, url } = pending!.details as { approvalId: string; url: string };
      expect(url).toMatch(
        new RegExp(`^https://fixture\\.gatehouse\\.test/approvals/${approvalId}\\?exp=\\d+&sig=`),
      );
      const again = errorOf(await c.callTool({ name: 'act_on_item', arguments: ARGS }));
      expect(again?.details).toMatchObject({ approvalId, url });
      // Other arguments are another action: another approval.
      const other = errorOf(
        await c.callTool({ name: 'act_on_item', arguments: { ...ARGS, action: 'drain' } }),
      );
      expect((other!.details as { approvalId: string }).approvalId).not.toBe(approvalId);
      expect(await upstreamPosts()).toBe(0);

      expect(
        (
          await store.vote(
            approvalId,
            { approver: 'oauth:bob', decision: 'approve', reason: 'ok', at: Date.now() },
            60_000,
          )
        ).ok,
      ).toBe(true);
      const done = await c.callTool({ name: 'act_on_item', arguments: ARGS });
      expect(done.isError).toBeFalsy();
      expect(await upstreamPosts()).toBe(1);
      // The next identical call is a new action, needing a new approval.
      const next = errorOf(await c.callTool({ name: 'act_on_item', arguments: ARGS }));
      expect(next?.code).toBe('APPROVAL_PENDING');
      expect((next!.details as { approvalId: string }).approvalId).not.toBe(approvalId);
      expect(await upstreamPosts()).toBe(1);

      const ran = readAudit(auditFile).filter((r) => r.event === 'call' && r.callId === approvalId);
      expect(ran.map((r) => [r.decision, r.outcome])).toEqual([
        ['approval_requested', 'pending'],
        ['approval_requested', 'pending'],
        ['approved', 'ok'],
      ]);
      expect(ran.at(-1)?.approval).toMatchObject({
        id: approvalId,
        mode: 'out-of-band',
        requester: 'api-key:ci-bot',
        approvers: ['oauth:bob'],
        status: 'spent',
        requestedAt: expect.any(String),
        decidedAt: expect.any(String),
      });
      expect(ran.at(-1)?.principal).toMatchObject({ id: 'ci-bot', kind: 'api-key' });
    } finally {
      await c.close();
    }
  });

  it('refuses once after a decline, audited, and asks anew after that', async () => {
    const c = await client(false);
    try {
      const args = { ...ARGS, item: 'billing-api' };
      const { approvalId } = errorOf(await c.callTool({ name: 'act_on_item', arguments: args }))!.details as {
        approvalId: string;
      };
      await store.vote(
        approvalId,
        { approver: 'oauth:bob', decision: 'decline', reason: 'not now', at: Date.now() },
        60_000,
      );
      const refused = errorOf(await c.callTool({ name: 'act_on_item', arguments: args }));
      expect(refused).toMatchObject({ code: 'APPROVAL_DECLINED' });
      expect(refused?.message).toContain('not now');
      const record = readAudit(auditFile).findLast((r) => r.callId === approvalId);
      expect(record).toMatchObject({
        decision: 'declined',
        errorCode: 'APPROVAL_DECLINED',
        approval: { decliners: ['oauth:bob'], status: 'declined' },
      });
      expect(errorOf(await c.callTool({ name: 'act_on_item', arguments: args }))?.code).toBe(
        'APPROVAL_PENDING',
      );
    } finally {
      await c.close();
    }
  });

  it('sends a four-eyes action out of band even when the client could ask its own user', async () => {
    await h.control.clearRequests();
    const c = await client(true);
    try {
      const prod = { ...ARGS, environment: 'production' };
      const pending = errorOf(await c.callTool({ name: 'act_on_item', arguments: prod }));
      expect(pending?.code).toBe('APPROVAL_PENDING');
      expect(pending?.message).toContain('other than you');
      const row = await store.get((pending!.details as { approvalId: string }).approvalId);
      expect(row).toMatchObject({
        fourEyes: true,
        required: 1,
        requester: 'api-key:ci-bot',
        environment: 'production',
      });
      // Staging has no rule: the client's own user approves in-band.
      const staging = await c.callTool({ name: 'act_on_item', arguments: { ...ARGS, item: 'search-api' } });
      expect(staging.isError).toBeFalsy();
      expect(await upstreamPosts()).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('offers the link as URL-mode elicitation to a client that declares it, and runs once approved', async () => {
    await h.control.clearRequests();
    const c = new Client(
      { name: 'url-capable', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const shown: string[] = [];
    c.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url?: string };
      shown.push(`${params.mode}:${params.url}`);
      // The user opens the link and someone approves there before the client retries.
      const id = /\/approvals\/([0-9a-f-]{36})/.exec(params.url ?? '')?.[1] ?? '';
      await store.vote(
        id,
        { approver: 'oauth:bob', decision: 'approve', reason: 'ok', at: Date.now() },
        60_000,
      );
      return { action: 'accept' };
    });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      const done = await c.callTool({
        name: 'act_on_item',
        arguments: { ...ARGS, reason: 'asked through a URL elicitation' },
      });
      expect(done.isError, JSON.stringify(done)).toBeFalsy();
      expect(shown).toHaveLength(1);
      expect(shown[0]).toMatch(/^url:https:\/\/fixture\.gatehouse\.test\/approvals\//);
      expect((await h.control.requests()).filter((r) => r.method === 'POST')).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});
