/**
 * Upstream failures as a tool call meets them: the fixture server in this process (stdio semantics
 * over the SDK's in-memory pair), its upstream the sandbox on loopback with the fault switches.
 * Hangs, 5xx, Retry-After, bad bodies, the circuit, cancellation; connection resets, a body that
 * drips past the deadline, and bursts of 5xx and resets at a given rate. Timeouts fire, reads are
 * retried (bounded), side effects are retried only with their Idempotency-Key and act once, nothing
 * escapes as an unhandled rejection, and every call leaves exactly one audit event.
 */
import { describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  API_PREFIX,
  expectTimedOut,
  FAST,
  fixture,
  STATUS_CALL,
  STATUS_PATH,
  statusRequests,
} from '../testing/fixture/harness.ts';
import { useHarness } from '../testing/fixture/per-file.ts';
import { connectV2, errorOf, eventually, readAudit, withClient } from '../testing/index.ts';

const h = useHarness({ clearFaults: true });

const health = STATUS_CALL;
const upstreamCalls = () => statusRequests(h);

describe('upstream failures become typed errors', () => {
  it('times out a hanging upstream, aborts the socket and keeps the deadline', async () => {
    const env = h.env(FAST);
    await withClient(connectV2({ server: fixture, env }), async (c) => {
      await expectTimedOut(h, c, { hang: true }, { withinMs: 5_000 });
      expect(readAudit(env.FIXTURE_AUDIT_FILE).at(-1)).toMatchObject({
        outcome: 'error',
        errorCode: 'UPSTREAM_TIMEOUT',
      });
    });
  });

  it('retries a read through a transient 503 and succeeds', async () => {
    await withClient(connectV2({ server: fixture, env: h.env(FAST) }), async (c) => {
      await h.control.setFaults([{ path: STATUS_PATH, status: 503, times: 1 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool(health);
      expect(result.isError).toBeFalsy();
      expect((await upstreamCalls()).map((r) => r.status)).toEqual([503, 200]);
    });
  });

  it('gives up after bounded retries on a persistent 5xx', async () => {
    await withClient(connectV2({ server: fixture, env: h.env(FAST) }), async (c) => {
      await h.control.setFaults([{ path: STATUS_PATH, status: 500 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool(health);
      expect(errorOf(result)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
      expect(await upstreamCalls()).toHaveLength(3);
    });
  });

  it('honours Retry-After within the deadline and fails fast beyond it', async () => {
    await withClient(connectV2({ server: fixture, env: h.env(FAST) }), async (c) => {
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
    });
  });

  it.each([
    ['malformed', 'not valid JSON'],
    ['html', 'instead of JSON'],
    ['wrong-type', 'instead of JSON'],
    ['schema', 'unexpected shape'],
    ['oversized', 'limit'],
  ] as const)('rejects a %s body as UPSTREAM_BAD_RESPONSE and keeps serving', async (body, words) => {
    await withClient(
      connectV2({
        server: fixture,
        // No retries and generous timeouts: this checks classification, not timing (20 MB is slow under load).
        env: h.env({
          FIXTURE_RETRIES: '0',
          FIXTURE_TIMEOUT_MS: '15000',
          FIXTURE_DEADLINE_MS: '20000',
          FIXTURE_MAX_RESPONSE_BYTES: String(1024 * 1024),
        }),
      }),
      async (c) => {
        await h.control.setFaults([{ path: STATUS_PATH, body, times: 1 }]);
        const bad = await c.client.callTool(health);
        expect(errorOf(bad)?.code).toBe('UPSTREAM_BAD_RESPONSE');
        expect(errorOf(bad)?.message).toContain(words);
        const good = await c.client.callTool(health);
        expect(good.isError).toBeFalsy();
      },
    );
  });

  it('opens the circuit after consecutive failures, fails fast, and closes again after a good probe', async () => {
    const env = h.env({
      ...FAST,
      FIXTURE_RETRIES: '0',
      FIXTURE_BREAKER_FAILURES: '3',
      FIXTURE_BREAKER_COOLDOWN_MS: '800',
    });
    await withClient(connectV2({ server: fixture, env }), async (c) => {
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
    });
  });

  it('reports an unreachable upstream as a typed error, not a crash', async () => {
    await withClient(
      connectV2({
        server: fixture,
        env: h.env({ ...FAST, FIXTURE_API_URL: 'http://127.0.0.1:9' }),
      }),
      async (c) => {
        const result = await c.client.callTool(health);
        expect(errorOf(result)?.code).toBe('UPSTREAM_UNAVAILABLE');
        expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
      },
    );
  });
});

describe('cancellation', () => {
  it('aborts the upstream request when the client cancels, and audits it as cancelled', async () => {
    const env = h.env({ FIXTURE_TIMEOUT_MS: '10000', FIXTURE_DEADLINE_MS: '20000' });
    await withClient(connectV2({ server: fixture, env }), async (c) => {
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
    });
  });
});

describe('connection resets', () => {
  it('retries a read through a reset, gives up after bounded attempts on persistent resets', async () => {
    const env = h.env(FAST);
    await withClient(connectV2({ server: fixture, env }), async (c) => {
      await h.control.setFaults([{ path: STATUS_PATH, reset: true, times: 1 }]);
      await h.control.clearRequests();
      const recovered = await c.client.callTool(health);
      expect(recovered.isError).toBeFalsy();
      expect((await upstreamCalls()).map((r) => r.fault ?? r.status)).toEqual([
        expect.stringMatching(/reset/),
        200,
      ]);

      await h.control.setFaults([{ path: STATUS_PATH, reset: true }]);
      await h.control.clearRequests();
      const failed = await c.client.callTool(health);
      expect(errorOf(failed)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
      expect(await upstreamCalls()).toHaveLength(3);
      await h.control.clearFaults();
      expect((await c.client.callTool(health)).isError).toBeFalsy();
      const events = readAudit(env.FIXTURE_AUDIT_FILE);
      expect(events.map((e) => e.outcome)).toEqual(['ok', 'error', 'ok']);
      // One logical upstream call (the audit counts calls, not the attempts inside one).
      expect(events[1]).toMatchObject({ errorCode: 'UPSTREAM_UNAVAILABLE', upstreamCalls: 1 });
      expect(c.stderr()).not.toContain('unhandled rejection');
    });
  });

  it('retries an approved action through a reset with the same Idempotency-Key, and it acts once', async () => {
    const env = h.env({ ...FAST, FIXTURE_SCOPES: ALL_SCOPES });
    await withClient(connectV2({ server: fixture, env, approval: 'accept' }), async (c) => {
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
    });
  });
});

describe('slow drip', () => {
  it('times out a body that drips past the deadline, aborts it, and keeps serving', {
    timeout: 20_000,
  }, async () => {
    const env = h.env(FAST);
    await withClient(connectV2({ server: fixture, env }), async (c) => {
      // ~300 bytes of status JSON at 8 bytes per 100 ms: far past the 1.5 s deadline, which bounds
      // the call (with generous slack for a loaded machine).
      await expectTimedOut(
        h,
        c,
        { drip: { chunkBytes: 8, intervalMs: 100 } },
        { withinMs: 6_000, abortedWithinMs: 5_000 },
      );
      await h.control.clearFaults();
      expect((await c.client.callTool(health)).isError).toBeFalsy();
      expect(readAudit(env.FIXTURE_AUDIT_FILE).map((e) => e.errorCode ?? 'ok')).toEqual([
        'UPSTREAM_TIMEOUT',
        'ok',
      ]);
      expect(c.stderr()).not.toContain('unhandled rejection');
    });
  });
});

describe('bursts', () => {
  it('rides out 5xx and resets at a 40% rate: typed answers, bounded retries, one audit event per call', {
    timeout: 45_000,
  }, async () => {
    const CALLS = 60;
    const env = h.env({ ...FAST, FIXTURE_BREAKER_FAILURES: '1000', FIXTURE_LOG_LEVEL: 'warn' });
    await withClient(connectV2({ server: fixture, env }), async (c) => {
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
      const upstream = await upstreamCalls();
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
    });
  });
});
