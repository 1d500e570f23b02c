/**
 * Upstream failures as a tool call meets them: the fixture server in this process (stdio semantics
 * over the SDK's in-memory pair), its upstream the sandbox on loopback with the fault switches.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST,
  fixture,
  type Harness,
  STATUS_CALL,
  STATUS_PATH,
  startHarness,
  statusRequests,
} from '../testing/fixture/harness.ts';
import { connectV2, errorOf, readAudit } from '../testing/index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => h.control.clearFaults());
afterAll(() => h.close());

const health = STATUS_CALL;
const upstreamCalls = () => statusRequests(h);

describe('upstream failures become typed errors', () => {
  it('times out a hanging upstream, aborts the socket and keeps the deadline', async () => {
    const env = h.env(FAST);
    const c = await connectV2({ server: fixture, env });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, hang: true }]);
      await h.control.clearRequests();
      const started = Date.now();
      const result = await c.client.callTool(health);
      const elapsed = Date.now() - started;
      expect(errorOf(result)).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: true });
      expect(elapsed).toBeLessThan(5_000);
      const calls = await upstreamCalls();
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeLessThanOrEqual(3);
      await expect.poll(async () => (await upstreamCalls()).every((r) => r.aborted)).toBe(true);
      expect(readAudit(env.FIXTURE_AUDIT_FILE).at(-1)).toMatchObject({
        outcome: 'error',
        errorCode: 'UPSTREAM_TIMEOUT',
      });
    } finally {
      await c.close();
    }
  });

  it('retries a read through a transient 503 and succeeds', async () => {
    const c = await connectV2({ server: fixture, env: h.env(FAST) });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, status: 503, times: 1 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool(health);
      expect(result.isError).toBeFalsy();
      expect((await upstreamCalls()).map((r) => r.status)).toEqual([503, 200]);
    } finally {
      await c.close();
    }
  });

  it('gives up after bounded retries on a persistent 5xx', async () => {
    const c = await connectV2({ server: fixture, env: h.env(FAST) });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, status: 500 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool(health);
      expect(errorOf(result)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
      expect(await upstreamCalls()).toHaveLength(3);
    } finally {
      await c.close();
    }
  });

  it('honours Retry-After within the deadline and fails fast beyond it', async () => {
    const c = await connectV2({ server: fixture, env: h.env(FAST) });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, status: 503, retryAfter: '1', times: 1 }]);
      await h.control.clearRequests();
      const ok = await c.client.callTool(health);
      expect(ok.isError).toBeFalsy();
      const [first, second] = await upstreamCalls();
      expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(900);

      await h.control.setFaults([{ path: STATUS_PATH, status: 503, retryAfter: '120' }]);
      await h.control.clearRequests();
      const started = Date.now();
      const slow = await c.client.callTool(health);
      expect(errorOf(slow)?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await upstreamCalls()).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it.each([
    ['malformed', 'not valid JSON'],
    ['html', 'instead of JSON'],
    ['wrong-type', 'instead of JSON'],
    ['schema', 'unexpected shape'],
    ['oversized', 'limit'],
  ] as const)('rejects a %s body as UPSTREAM_BAD_RESPONSE and keeps serving', async (body, words) => {
    const c = await connectV2({
      server: fixture,
      // No retries and generous timeouts: this checks classification, not timing (20 MB is slow under load).
      env: h.env({
        FIXTURE_RETRIES: '0',
        FIXTURE_TIMEOUT_MS: '15000',
        FIXTURE_DEADLINE_MS: '20000',
        FIXTURE_MAX_RESPONSE_BYTES: String(1024 * 1024),
      }),
    });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, body, times: 1 }]);
      const bad = await c.client.callTool(health);
      expect(errorOf(bad)?.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(errorOf(bad)?.message).toContain(words);
      const good = await c.client.callTool(health);
      expect(good.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it('opens the circuit after consecutive failures, fails fast, and closes again after a good probe', async () => {
    const env = h.env({
      ...FAST,
      FIXTURE_RETRIES: '0',
      FIXTURE_BREAKER_FAILURES: '3',
      FIXTURE_BREAKER_COOLDOWN_MS: '800',
    });
    const c = await connectV2({ server: fixture, env });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, status: 502 }]);
      for (let i = 0; i < 3; i++)
        expect(errorOf(await c.client.callTool(health))?.code).toBe('UPSTREAM_UNAVAILABLE');
      await h.control.clearRequests();
      const open = await c.client.callTool(health);
      expect(errorOf(open)).toMatchObject({ code: 'CIRCUIT_OPEN', retryable: true });
      expect(await upstreamCalls()).toHaveLength(0);
      // Other upstream paths share the breaker (one per upstream), but the process keeps answering.
      await h.control.clearFaults();
      await new Promise((r) => setTimeout(r, 900));
      const probe = await c.client.callTool(health);
      expect(probe.isError).toBeFalsy();
      expect((await c.client.callTool(health)).isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it('reports an unreachable upstream as a typed error, not a crash', async () => {
    const c = await connectV2({
      server: fixture,
      env: h.env({ ...FAST, FIXTURE_API_URL: 'http://127.0.0.1:9' }),
    });
    try {
      const result = await c.client.callTool(health);
      expect(errorOf(result)?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });
});

describe('cancellation', () => {
  it('aborts the upstream request when the client cancels, and audits it as cancelled', async () => {
    const env = h.env({ FIXTURE_TIMEOUT_MS: '10000', FIXTURE_DEADLINE_MS: '20000' });
    const c = await connectV2({ server: fixture, env });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, latencyMs: 5_000 }]);
      await h.control.clearRequests();
      const controller = new AbortController();
      const pending = c.client.callTool(health, { signal: controller.signal });
      await expect.poll(async () => (await upstreamCalls()).length, { timeout: 3_000 }).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      await expect.poll(async () => (await upstreamCalls())[0]?.aborted, { timeout: 3_000 }).toBe(true);
      await expect
        .poll(() => readAudit(env.FIXTURE_AUDIT_FILE).at(-1)?.outcome, { timeout: 3_000 })
        .toBe('cancelled');
      expect(await upstreamCalls()).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});
