import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type HttpChild, readAudit, spawnHttp } from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalReplicas, findNginx, type NginxProxy, startNginx } from './src/nginx.ts';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const OPS = SERVERS.find((s) => s.name === 'platform-ops')!;
const PUBLIC_URL = 'https://ops.gatehouse.test/mcp';

const NGINX = findNginx();
if (!NGINX)
  console.warn(
    'http-proxy.e2e.test.ts skipped: nginx is not installed (CI installs it: apt-get install -y nginx)',
  );

const KEY = 'gh_proxy_key_3c9e1a7f5b2d4086_secret';
const STATE_KEY = 's'.repeat(24) + 't'.repeat(24);
const ROLLBACK = {
  service: 'payments-gateway',
  environment: 'staging',
  reason: 'error rate doubled after 2.3 deploy',
} as const;

/** The `http request` log lines one replica wrote (pino JSON on stderr). */
function requestLog(server: HttpChild): { route: string; status: number; ip: string; principal?: string }[] {
  return server
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"http request"'))
    .map((l) => JSON.parse(l));
}

describe.skipIf(!NGINX)('behind nginx, round-robin over two replicas', () => {
  let h: E2eHarness;
  let dir: string;
  let proxy: NginxProxy;
  const replicas: HttpChild[] = [];
  const audits: string[] = [];

  beforeAll(async () => {
    h = await startHarness(OPS, 'debug');
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
    const keys = join(h.dir, 'keys.json');
    writeFileSync(
      keys,
      JSON.stringify([
        {
          name: 'operator',
          sha256: createHash('sha256').update(KEY).digest('hex'),
          scopes: Object.keys(OPS.definition.scopes),
        },
      ]),
    );
    for (let i = 0; i < 2; i++) {
      const env = h.env({
        PLATFORM_OPS_PUBLIC_URL: PUBLIC_URL,
        PLATFORM_OPS_API_KEYS_FILE: keys,
        PLATFORM_OPS_STATE_KEY: STATE_KEY,
        PLATFORM_OPS_TRUSTED_PROXIES: '127.0.0.1',
        PLATFORM_OPS_LOG_LEVEL: 'info',
      });
      audits.push(env.PLATFORM_OPS_AUDIT_FILE!);
      replicas.push(await spawnHttp(OPS.bin, env, ['--host', '127.0.0.1']));
    }
    proxy = await startNginx(
      NGINX!,
      dir,
      replicas.map((r) => Number(new URL(r.url).port)),
    );
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers health and readiness through the proxy, from both replicas', async () => {
    for (let i = 0; i < 4; i++) {
      const health = await fetch(`${proxy.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const ready = await fetch(`${proxy.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, upstream: { circuit: 'closed' } });
    }
    for (const replica of replicas) {
      const probes = await eventually(() => {
        const lines = requestLog(replica).filter((l) => l.route === 'healthz' || l.route === 'readyz');
        return lines.length > 0 ? lines : undefined;
      });
      // Forwarded-for is believed only because 127.0.0.1 is a trusted proxy.
      expect(probes.every((l) => l.status === 200 && l.ip === '127.0.0.1')).toBe(true);
    }
  });

  it('spreads one client over both replicas and completes on one an approval sealed by the other', async () => {
    const shown: string[] = [];
    const client = new Client(
      { name: 'proxy-test', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    client.setRequestHandler('elicitation/create', async (request) => {
      shown.push((request.params as { message?: string }).message ?? '');
      return { action: 'accept' as const, content: { approve: true } };
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      for (let i = 0; i < 4; i++) {
        const result = await client.callTool({
          name: 'get_service_health',
          arguments: { service: 'checkout-api', environment: 'staging' },
        });
        expect(result.isError).toBeFalsy();
      }
      // Every replica served some of this one client's calls, under the same principal.
      for (const file of audits) {
        const calls = readAudit(file).filter((r) => r.name === 'get_service_health');
        expect(calls.length).toBeGreaterThan(0);
        expect(calls.every((r) => (r.principal as { id: string }).id === 'operator')).toBe(true);
      }

      await h.control.clearRequests();
      const result = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ service: 'payments-gateway', status: 'started' });
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('rollback_deploy');
    } finally {
      await client.close();
    }

    const { rollbacks, sealedBy, completedBy } = approvalReplicas(audits, 'rollback_deploy');
    expect(sealedBy).toBeGreaterThanOrEqual(0);
    expect(completedBy).toBeGreaterThanOrEqual(0);
    // The round that asked the human and the round that acted ran on different replicas.
    expect(completedBy).not.toBe(sealedBy);
    const requested = rollbacks[sealedBy]!.find((r) => r.decision === 'approval_requested')!;
    const approved = rollbacks[completedBy]!.find((r) => r.decision === 'approved')!;
    expect(approved).toMatchObject({ outcome: 'ok', upstreamStatus: 201 });
    expect(approved.callId).toBe(requested.callId);
    // Exactly one side effect upstream, keyed by the approval id.
    const posts = (await h.control.requests()).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.idempotencyKey).toBe((approved.approval as { id: string }).id);
    expect(readAudit(audits[completedBy]!, 'intent')).toHaveLength(1);
    expect(readAudit(audits[sealedBy]!, 'intent')).toHaveLength(0);
  });

  it('never shows the API key in either replica log or in nginx logs', () => {
    for (const replica of replicas) expect(replica.stderr()).not.toContain(KEY);
    const access = readFileSync(join(dir, 'access.log'), 'utf8');
    expect(access).toContain('POST /mcp');
    expect(access).not.toContain(KEY);
  });
});
