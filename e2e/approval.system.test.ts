/**
 * Out-of-band approval in a real browser (Chromium from Debian, driven by
 * playwright-core): a headless v2 client without elicitation asks platform-ops
 * for a production rollback, which a four-eyes rule gives to another person;
 * the approver signs in at the loopback authorization server (oidc-provider)
 * and approves on the page at 390×844; the repeated call completes exactly
 * once (one upstream POST) and the audit holds requester, approver, both times
 * and the decision. Refused and audited: the requester approving their own
 * request, an approver without the scope, an expired, replayed or tampered
 * link, a cross-site form post. Twice: two replicas behind nginx on a real
 * PostgreSQL, and one replica on SQLite. Each part that cannot start says so
 * in one line and the case is skipped (.ci/run installs chromium, nginx and postgresql).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APPROVAL_CLIENT,
  type AuthorizationServer,
  approvalLink,
  errorOf,
  freePort,
  type HttpChild,
  type PostgresServer,
  readAudit,
  spawnHttp,
  startApprovalIssuer,
  startPostgres,
} from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNginx, type NginxProxy, startNginx } from './src/nginx.ts';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const OPS = SERVERS.find((s) => s.name === 'platform-ops')!;
const CHROMIUM = '/usr/bin/chromium';
const STATE_KEY = 'a'.repeat(24) + 'b'.repeat(24);
const ROLLBACK = {
  service: 'payments-gateway',
  environment: 'production',
  reason: 'error rate doubled after 2.3 deploy, paged by oncall@example.com',
} as const;

const NGINX = findNginx();
const missing = [!existsSync(CHROMIUM) && 'chromium', !NGINX && 'nginx'].filter(Boolean);
if (missing.length)
  console.warn(
    `approval.system.test.ts skipped: ${missing.join(' and ')} not installed (CI: apt-get install ${missing.join(' ')})`,
  );

/** A fresh Chromium profile at phone size: no first-run, no background traffic, loopback only. */
async function browser(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(dir, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 390, height: 844 },
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Opens `link`; at the provider's development sign-in, logs in as `login` and consents. */
async function openSignedIn(page: Page, link: string, issuer: string, login: string) {
  const response = await page.goto(link);
  for (let round = 0; round < 3 && page.url().startsWith(issuer); round += 1) {
    if (await page.locator('input[name=login]').count()) {
      await page.fill('input[name=login]', login);
      await page.fill('input[name=password]', 'any');
    }
    await Promise.all([page.waitForNavigation(), page.locator('button[type=submit]').first().click()]);
  }
  return response;
}

interface Deployment {
  /** The public origin approvers and clients use. */
  origin: string;
  audits: string[];
  stop(): Promise<void>;
}

interface Place {
  issuer: string;
  dir: string;
  /** The public port, chosen before anything starts: the issuer and the server name each other. */
  port: number;
}

function scenario(
  name: string,
  needs: string[],
  deploy: (h: E2eHarness, place: Place) => Promise<Deployment>,
) {
  describe.skipIf(missing.length > 0 || needs.length > 0)(name, () => {
    let h: E2eHarness;
    let dir: string;
    let as: AuthorizationServer;
    let served: Deployment;
    let evil: Server;
    let context: BrowserContext;

    beforeAll(async () => {
      h = await startHarness(OPS, 'info');
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-approval-'));
      // The public port is chosen first: the issuer registers the page's callback on it, and the
      // issuer runs before the server so the server finds its signing keys at start.
      const port = await freePort();
      as = await startApprovalIssuer({
        server: 'platform-ops',
        scopes: Object.keys(OPS.definition.scopes),
        origin: `http://127.0.0.1:${port}`,
        withhold: { mallory: ['platform-ops:approve'], carol: ['platform-ops:pii'] },
      });
      served = await deploy(h, { issuer: as.issuer, dir, port });
      context = await browser(dir);
    }, 90_000);

    afterAll(async () => {
      await context?.close();
      evil?.close();
      await served?.stop();
      await as?.close();
      await h?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function agent(): Promise<Client> {
      const token = await as.accessToken({
        sub: 'alice',
        scope: Object.keys(OPS.definition.scopes).join(' '),
        audience: `${served.origin}/mcp`,
      });
      const client = new Client(
        { name: 'ci-agent', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${served.origin}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    }
    const audit = () => served.audits.flatMap((file) => (existsSync(file) ? readAudit(file) : []));
    const pageRecords = (id: string) =>
      audit()
        .filter((r) => r.name === 'approval' && r.callId === id)
        .map((r) => [(r.principal as { id: string }).id, r.decision, r.errorCode ?? null]);

    it('pending, approved in the browser at 390×844, run exactly once, audited; refusals audited', async () => {
      await h.control.clearRequests();
      const alice = await agent();
      try {
        const first = errorOf(await alice.callTool({ name: 'rollback_deploy', arguments: ROLLBACK }));
        expect(first?.code).toBe('APPROVAL_PENDING');
        const { approvalId, url } = first!.details as { approvalId: string; url: string };
        expect(
          errorOf(await alice.callTool({ name: 'rollback_deploy', arguments: ROLLBACK }))?.details,
        ).toMatchObject({ approvalId, url });

        // The requester cannot approve their own four-eyes request.
        const own = await context.newPage();
        expect((await openSignedIn(own, url, as.issuer, 'alice'))?.status()).toBeDefined();
        expect(await own.textContent('body')).toContain('another person must approve');
        await context.clearCookies();

        // An approver without platform-ops:approve.
        const noScope = await context.newPage();
        await openSignedIn(noScope, url, as.issuer, 'mallory');
        expect(await noScope.textContent('body')).toContain('platform-ops:approve');
        await context.clearCookies();

        // A tampered link and an expired one.
        const approver = await context.newPage();
        await openSignedIn(approver, url, as.issuer, 'carol');
        expect(approver.url()).toBe(url);
        const tampered = await approver.goto(url.replace(/sig=.{6}/, 'sig=AAAAAA'));
        expect(tampered?.status()).toBe(403);
        const expired = await approver.goto(
          approvalLink(STATE_KEY, served.origin, approvalId, Date.now() - 1000),
        );
        expect(expired?.status()).toBe(403);

        // A cross-site form post: a page on another site submitting the approval form.
        evil = createServer((_req, res) => {
          res.setHeader('content-type', 'text/html');
          res.end(
            `<form id=f method=post action="${url}"><input name=decision value=approve><input name=reason value=evil><input name=csrf value=x></form><script>document.getElementById('f').submit()</script>`,
          );
        });
        await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
        const evilPort = (evil.address() as { port: number }).port;
        const attacked = await context.newPage();
        const [posted] = await Promise.all([
          attacked.waitForResponse((r) => r.url() === url && r.request().method() === 'POST'),
          attacked.goto(`http://localhost:${evilPort}/`),
        ]);
        expect(posted.status()).toBe(403);

        // The approver reads the page at phone size and approves.
        const page = await approver.goto(url);
        expect(page?.headers()['content-security-policy']).toContain("default-src 'none'");
        const body = (await approver.textContent('body')) ?? '';
        expect(body).toContain('rollback_deploy');
        expect(body).toContain('payments-gateway');
        expect(body).toContain('production');
        expect(body).toContain('oauth:alice');
        expect(body).not.toContain('oncall@example.com'); // masked: carol has no platform-ops:pii
        expect(await approver.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
        const csrf = await approver.inputValue('input[name=csrf]');
        await approver.fill('textarea[name=reason]', 'dashboards agree, approved');
        await Promise.all([approver.waitForNavigation(), approver.click('button[value=approve]')]);
        expect(await approver.textContent('body')).toContain('Approved');

        // Replayed: the same form, token and link once more.
        const replay = await approver.request.post(url, {
          form: { csrf, decision: 'approve', reason: 'again' },
          headers: { origin: served.origin },
        });
        expect(replay.status()).toBe(409);

        const done = await alice.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
        expect(done.isError, JSON.stringify(done)).toBeFalsy();
        const again = errorOf(await alice.callTool({ name: 'rollback_deploy', arguments: ROLLBACK }));
        expect(again?.code).toBe('APPROVAL_PENDING');
        const posts = (await h.control.requests()).filter(
          (r) => r.method === 'POST' && r.path.includes('rollback'),
        );
        expect(posts).toHaveLength(1);
        expect(posts[0]?.idempotencyKey).toBe(approvalId);

        const ran = audit().find(
          (r) => r.name === 'rollback_deploy' && r.callId === approvalId && r.outcome === 'ok',
        );
        expect(ran).toMatchObject({
          decision: 'approved',
          principal: { id: 'alice', kind: 'oauth' },
          approval: {
            id: approvalId,
            requester: 'oauth:alice',
            approvers: ['oauth:carol'],
            requestedAt: expect.any(String),
            decidedAt: expect.any(String),
            status: 'spent',
            fourEyes: true,
          },
        });
        const records = pageRecords(approvalId);
        for (const expected of [
          ['alice', 'denied', 'APPROVAL_SELF'],
          ['mallory', 'denied', 'APPROVAL_SCOPE_MISSING'],
          ['carol', 'denied', 'APPROVAL_LINK_INVALID'],
          ['carol', 'denied', 'APPROVAL_LINK_EXPIRED'],
          ['anonymous', 'denied', 'APPROVAL_CROSS_SITE'],
          ['carol', 'approved', null],
          ['carol', 'denied', 'APPROVAL_NOT_PENDING'],
        ])
          expect(records).toContainEqual(expected);
      } finally {
        await alice.close();
      }
    }, 120_000);
  });
}

function replicaEnv(h: E2eHarness, issuer: string, origin: string, store: string): Record<string, string> {
  return h.env({
    PLATFORM_OPS_OAUTH_ISSUER: issuer,
    PLATFORM_OPS_PUBLIC_URL: `${origin}/mcp`,
    PLATFORM_OPS_STATE_KEY: STATE_KEY,
    PLATFORM_OPS_TRUSTED_PROXIES: '127.0.0.1',
    PLATFORM_OPS_LOG_LEVEL: 'info',
    PLATFORM_OPS_APPROVAL_CLIENT_ID: APPROVAL_CLIENT.clientId,
    PLATFORM_OPS_APPROVAL_CLIENT_SECRET: APPROVAL_CLIENT.clientSecret,
    PLATFORM_OPS_APPROVAL_STORE: store,
    PLATFORM_OPS_FOUR_EYES: JSON.stringify([{ tool: 'rollback_deploy', environments: ['production'] }]),
  });
}

const POSTGRES = existsSync('/usr/lib/postgresql');
if (!POSTGRES)
  console.warn(
    'approval.system.test.ts: the PostgreSQL case is skipped: postgresql is not installed (CI: apt-get install postgresql)',
  );

scenario(
  'two replicas behind nginx on PostgreSQL',
  POSTGRES ? [] : ['postgresql'],
  async (h, { issuer, dir, port }) => {
    const started: PostgresServer | { reason: string } = await startPostgres();
    if ('reason' in started) throw new Error(`PostgreSQL: ${started.reason}`);
    const pg = started;
    const origin = `http://127.0.0.1:${port}`;
    const replicas: HttpChild[] = [];
    const audits: string[] = [];
    for (let i = 0; i < 2; i++) {
      const env = replicaEnv(h, issuer, origin, pg.url);
      audits.push(env.PLATFORM_OPS_AUDIT_FILE!);
      replicas.push(await spawnHttp(OPS.bin, env, ['--host', '127.0.0.1']));
    }
    const nginxDir = mkdtempSync(join(dir, 'nginx-'));
    const proxy: NginxProxy = await startNginx(
      NGINX!,
      nginxDir,
      replicas.map((r) => Number(new URL(r.url).port)),
      port,
    );
    return {
      origin,
      audits,
      async stop() {
        await proxy.stop();
        await Promise.all(replicas.map((r) => r.stop()));
        await pg.stop();
      },
    };
  },
);

scenario('one replica on SQLite', [], async (h, { issuer, dir, port }) => {
  const origin = `http://127.0.0.1:${port}`;
  const env = replicaEnv(h, issuer, origin, `sqlite:${join(dir, 'approvals.db')}`);
  const replica = await spawnHttp(OPS.bin, env, ['--host', '127.0.0.1', '--port', String(port)]);
  return { origin, audits: [env.PLATFORM_OPS_AUDIT_FILE!], stop: async () => void (await replica.stop()) };
});
