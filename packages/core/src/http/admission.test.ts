/**
 * Admission and shutdown of the HTTP front, in this process: per-principal rate limits (API keys
 * alice and bob) and the drain that SIGTERM starts. The signal itself and the exit code stay
 * end-to-end (servers/platform-ops/test/http-ops.e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { KEYS, postWithKey } from '../testing/fixture/auth.ts';
import { fixture, STATUS_PATH } from '../testing/fixture/harness.ts';
import { legacyCall, rpcBody, startHttp } from '../testing/fixture/http.ts';
import { useKeyedHarness } from '../testing/fixture/per-file.ts';
import { readAudit } from '../testing/index.ts';

const { h, env: authEnv } = useKeyedHarness();

const post = postWithKey;

describe('admission and shutdown', () => {
  it('rate-limits one principal with 429 and Retry-After while another is unaffected', async () => {
    const server = await startHttp(fixture, { env: authEnv({ FIXTURE_RATE_LIMIT_PER_MINUTE: '3' }) });
    try {
      const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(server.url, KEYS.alice, ping)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      const limited = await post(server.url, KEYS.alice, ping);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await post(server.url, KEYS.bob, ping)).status).toBe(200);
      const metrics = await (await fetch(new URL('/metrics', server.url))).text();
      expect(metrics).toMatch(/gatehouse_http_rejected_total\{[^}]*reason="rate_limited"[^}]*\} [1-9]/);
    } finally {
      await server.close();
    }
  });

  it('drains as SIGTERM does: the in-flight call completes, the audit is flushed, then nothing is served', async () => {
    const env = authEnv();
    const server = await startHttp(fixture, { env });
    await h.control.setFaults([{ path: STATUS_PATH, latencyMs: 800, times: 1 }]);
    try {
      const inflight = post(
        server.url,
        KEYS.alice,
        legacyCall(7, 'get_item_status', { item: 'orders-api', environment: 'staging' }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const drained = server.close();
      const response = await inflight;
      expect(response.status).toBe(200);
      const message = await rpcBody(response);
      expect((message.result as { isError?: boolean }).isError).toBeFalsy();
      await drained;
      expect(
        readAudit(env.FIXTURE_AUDIT_FILE).some((r) => r.name === 'get_item_status' && r.outcome === 'ok'),
      ).toBe(true);
      await expect(fetch(new URL('/healthz', server.url))).rejects.toThrow();
    } finally {
      await h.control.clearFaults();
      await server.close();
    }
  });
});
