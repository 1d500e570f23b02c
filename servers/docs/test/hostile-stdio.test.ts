/**
 * Protocol fuzzing of the stdio channel with a raw JSON-RPC peer: malformed
 * JSON, wrong JSON-RPC shapes, unknown methods, extreme ids, a line over the
 * 4 MiB cap, partial writes, requests before initialize, and stdin closing in
 * the middle of a request.
 */
import { fuzzStdioProtocol, initializeLine } from '@gatehouse/bench/protocol';
import { readAudit, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY_TOKEN, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const CALL = { name: 'search_docs', arguments: { query: 'postgres' } };

describe('stdio protocol fuzzing', () => {
  it('answers every malformed, invalid, oversized or split message correctly and keeps serving', {
    timeout: 60_000,
  }, async () => {
    const env = h.env({ DOCS_LOG_LEVEL: 'warn' });
    const peer = spawnRaw({ bin: BIN, env });
    try {
      const summary = await fuzzStdioProtocol(peer, { call: CALL });
      expect(summary.beforeInitialize.answered).toBe(summary.beforeInitialize.sent);
      expect(summary.garbageRuns).toBeGreaterThanOrEqual(20);
      // Every rejected line is audited once as a protocol event, and nothing else was.
      const events = readAudit(env.DOCS_AUDIT_FILE, 'call');
      const rejected = events.filter((e) => e.kind === 'protocol' && e.errorCode === 'PARSE_ERROR');
      expect(rejected).toHaveLength(summary.rejectedLines);
      // The only tools/call that ran is the one sent split across writes.
      expect(events.filter((e) => e.kind === 'tool').map((e) => e.name)).toEqual(['search_docs']);
      expect(peer.stderr()).not.toContain('unhandled rejection');
      expect(peer.stderr()).not.toContain(CANARY_TOKEN);
    } finally {
      expect(await peer.close()).toBe(0);
    }
  });

  it('exits cleanly when stdin closes in the middle of a request', { timeout: 30_000 }, async () => {
    const env = h.env();
    await h.control.setFaults([{ path: '/docs/v1/ownership/', latencyMs: 3_000 }]);
    const peer = spawnRaw({ bin: BIN, env });
    try {
      peer.send(initializeLine(1));
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      await h.control.clearRequests();
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'find_service_owner', arguments: { service: 'checkout-api' } },
        }),
      );
      // The request is in flight upstream when the client goes away.
      await expect
        .poll(
          async () =>
            (await h.control.requests()).filter((r) => r.path.startsWith('/docs/v1/ownership/')).length,
          {
            timeout: 5_000,
          },
        )
        .toBeGreaterThanOrEqual(1);
      const started = Date.now();
      const exit = new Promise<number | null>((resolve) => peer.child.once('exit', (code) => resolve(code)));
      peer.child.stdin.end();
      expect(await exit).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(peer.stderr()).not.toContain('unhandled rejection');
      expect(() => readAudit(env.DOCS_AUDIT_FILE, 'all')).not.toThrow();
    } finally {
      await h.control.clearFaults();
      await peer.close();
    }
  });
});
