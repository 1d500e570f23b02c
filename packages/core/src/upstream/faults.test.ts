/**
 * Upstream faults beyond resilience.test.ts: connection resets, a body that
 * drips past the deadline, and bursts of 5xx and resets at a given rate.
 * Timeouts fire, reads are retried (bounded), side effects are retried only
 * with their Idempotency-Key and act once, nothing escapes as an unhandled
 * rejection, and every call leaves exactly one audit event. The fixture
 * server runs in this process; the upstream is the sandbox on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  API_PREFIX,
  FAST,
  fixture,
  type Harness,
  STATUS_CALL,
  STATUS_PATH,
  startHarness,
  statusRequests,
} from '../testing/fixture/harness.ts';
import { connectV2, errorOf, eventually, readAudit } from '../testing/index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => h.control.clearFaults());
afterAll(() => h.close());

const health = STATUS_CALL;
const healthCalls = () => statusRequests(h);

describe('connection resets', () => {
  it('retries a read through a reset, gives up after bounded attempts on persistent resets', async () => {
    const env = h.env(FAST);
    const c = await connectV2({ server: fixture, env });
    try {
      await h.control.setFaults([{ path: STATUS_PATH, reset: true, times: 1 }]);
      await h.control.clearRequests();
      const recovered = await c.client.callTool(health);
      expect(recovered.isError).toBeFalsy();
      expect((await healthCalls()).map((r) => r.fault ?? r.status)).toEqual([
        expect.stringMatching(/reset/),
        200,
      ]);

      await h.control.setFaults([{ path: STATUS_PATH, reset: true }]);
      await h.control.clearRequests();
      const failed = await c.client.callTool(health);
      expect(errorOf(failed)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
      expect(await healthCalls()).toHaveLength(3);
      await h.control.clearFaults();
      expect((await c.client.callTool(health)).isError).toBeFalsy();
      const events = readAudit(env.FIXTURE_AUDIT_FILE);
      expect(events.map((e) => e.outcome)).toEqual(['ok', 'error', 'ok']);
      // One logical upstream call (the audit counts calls, not the attempts inside one).
      expect(events[1]).toMatchObject({ errorCode: 'UPSTREAM_UNAVAILABLE', upstreamCalls: 1 });
      expect(c.stderr()).not.toContain('unhandled rejection');
    } finally {
      await c.close();
    }
  });

  it('retries an approved action through a reset with the same Idempotency-Key, and it acts once', async () => {
    const env = h.env({ ...FAST, FIXTURE_SCOPES: ALL_SCOPES });
    const c = await connectV2({ server: fixture, env, approval: 'accept' });
    try {
      await h.control.setFaults([{ method: 'POST', path: API_PREFIX, reset: true, times: 1 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool({
        name: 'act_on_item',
        arguments: { item: 'orders-api', environment: 'staging', reason: 'reset drill' },
      });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const posts = (await h.control.requests()).filter((r) => r.method === 'POST');
      expect(posts).toHaveLength(2);
      expect(posts[0]!.fault).toMatch(/reset/);
      expect(posts[1]!.status).toBeLessThan(300);
      expect(posts[0]!.idempotencyKey).toBeTruthy();
      expect(posts[1]!.idempotencyKey).toBe(posts[0]!.idempotencyKey);
      // One decision, one outcome: the approval round and the call, no duplicate for the retry.
      await eventually(() => readAudit(env.FIXTURE_AUDIT_FILE).some((e) => e.outcome === 'ok') || undefined);
      const events = readAudit(env.FIXTURE_AUDIT_FILE).filter((e) => e.name === 'act_on_item');
      expect(events.filter((e) => e.outcome === 'ok')).toHaveLength(1);
      expect(events.filter((e) => e.decision !== 'approval_requested')).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});

describe('slow drip', () => {
  it('times out a body that drips past the deadline, aborts it, and keeps serving', {
    timeout: 20_000,
  }, async () => {
    const env = h.env(FAST);
    const c = await connectV2({ server: fixture, env });
    try {
      // ~300 bytes of status JSON at 8 bytes per 100 ms: far past the 1.5 s deadline.
      await h.control.setFaults([{ path: STATUS_PATH, drip: { chunkBytes: 8, intervalMs: 100 } }]);
      await h.control.clearRequests();
      const started = Date.now();
      const result = await c.client.callTool(health);
      const elapsed = Date.now() - started;
      expect(errorOf(result)).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: true });
      // The deadline (1.5 s) bounds the call, with generous slack for a loaded machine.
      expect(elapsed).toBeLessThan(6_000);
      const calls = await healthCalls();
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeLessThanOrEqual(3);
      await expect
        .poll(async () => (await healthCalls()).every((r) => r.aborted), { timeout: 5_000 })
        .toBe(true);
      await h.control.clearFaults();
      expect((await c.client.callTool(health)).isError).toBeFalsy();
      expect(readAudit(env.FIXTURE_AUDIT_FILE).map((e) => e.errorCode ?? 'ok')).toEqual([
        'UPSTREAM_TIMEOUT',
        'ok',
      ]);
      expect(c.stderr()).not.toContain('unhandled rejection');
    } finally {
      await c.close();
    }
  });
});

describe('bursts', () => {
  it('rides out 5xx and resets at a 40% rate: typed answers, bounded retries, one audit event per call', {
    timeout: 45_000,
  }, async () => {
    const CALLS = 60;
    const env = h.env({ ...FAST, FIXTURE_BREAKER_FAILURES: '1000', FIXTURE_LOG_LEVEL: 'warn' });
    const c = await connectV2({ server: fixture, env });
    try {
      await h.control.setFaults([
        { path: STATUS_PATH, status: 503, rate: 0.25 },
        { path: STATUS_PATH, status: 500, rate: 0.1 },
        { path: STATUS_PATH, reset: true, rate: 0.1 },
      ]);
      await h.control.clearRequests();
      const outcomes: string[] = [];
      // 8 in flight at a time, a fixed number of calls.
      for (let i = 0; i < CALLS; i += 8) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(8, CALLS - i) }, () =>
            c.client.callTool(health, { timeout: 15_000 }),
          ),
        );
        for (const r of batch) outcomes.push(r.isError ? (errorOf(r)?.code ?? 'UNTYPED') : 'ok');
      }
      expect(outcomes).toHaveLength(CALLS);
      for (const code of outcomes) expect(['ok', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT']).toContain(code);
      // Retries recover most calls: a call fails only when all three attempts hit a fault (~7% each).
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(CALLS / 2);
      const upstream = await healthCalls();
      expect(upstream.some((r) => r.status === 503 || r.status === 500 || /reset/.test(r.fault ?? ''))).toBe(
        true,
      );
      // Bounded: never more than 1 + 2 retries per call.
      const perRequest = new Map<string, number>();
      for (const r of upstream)
        perRequest.set(r.requestId ?? '?', (perRequest.get(r.requestId ?? '?') ?? 0) + 1);
      expect(perRequest.size).toBe(CALLS);
      expect(Math.max(...perRequest.values())).toBeLessThanOrEqual(3);
      // The audit lost nothing: one event per call, agreeing with the answers and the upstream's count.
      await eventually(() => readAudit(env.FIXTURE_AUDIT_FILE).length >= CALLS || undefined, 10_000);
      const events = readAudit(env.FIXTURE_AUDIT_FILE);
      expect(events).toHaveLength(CALLS);
      expect(events.filter((e) => e.outcome === 'ok')).toHaveLength(
        outcomes.filter((o) => o === 'ok').length,
      );
      // One logical upstream call per tool call; the retries are attempts inside it.
      expect(events.every((e) => e.upstreamCalls === 1)).toBe(true);
      expect(upstream.length).toBeGreaterThan(CALLS);
      expect(c.stderr()).not.toContain('unhandled rejection');
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });
});
