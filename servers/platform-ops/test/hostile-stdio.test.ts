/**
 * Protocol fuzzing of the stdio channel with a raw JSON-RPC peer: malformed
 * JSON, wrong JSON-RPC shapes, unknown methods, extreme ids, a line over the
 * 4 MiB cap, partial writes, requests before initialize, and stdin closing in
 * the middle of a request.
 */
import { barrier, fuzzStdioProtocol, initializeLine, STDIO_LINE_CAP } from '@gatehouse/bench/protocol';
import { readAudit, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const barrierAfterDrain = (stream: NodeJS.WritableStream) =>
  new Promise<void>((resolve) => (stream.write('') ? resolve() : stream.once('drain', () => resolve())));

const CALL = { name: 'get_service_health', arguments: { service: 'checkout-api' } };

describe('stdio protocol fuzzing', () => {
  it('answers every malformed, invalid, oversized or split message correctly and keeps serving', {
    timeout: 60_000,
  }, async () => {
    const env = h.env({ PLATFORM_OPS_LOG_LEVEL: 'warn' });
    const peer = spawnRaw({ bin: BIN, env });
    try {
      const summary = await fuzzStdioProtocol(peer, { call: CALL });
      // The SDK serves requests that arrive before initialize (2026-07-28 has no mandatory handshake); none is dropped.
      expect(summary.beforeInitialize.answered).toBe(summary.beforeInitialize.sent);
      expect(summary.garbageRuns).toBeGreaterThanOrEqual(20);
      // Every rejected line is audited once as a protocol event, and nothing else was.
      const events = readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'call');
      const rejected = events.filter((e) => e.kind === 'protocol' && e.errorCode === 'PARSE_ERROR');
      expect(rejected).toHaveLength(summary.rejectedLines);
      // The only tools/call that ran is the one sent split across writes.
      expect(events.filter((e) => e.kind === 'tool').map((e) => e.name)).toEqual(['get_service_health']);
      expect(peer.stderr()).not.toContain('unhandled rejection');
      expect(peer.stderr()).not.toContain(CANARY);
    } finally {
      expect(await peer.close()).toBe(0);
    }
  });

  // The read that completes a line counts towards the cap: a line crossing 4 MiB only in its last
  // read (up to 64 KiB more) is refused too.
  it('refuses a line that crosses the 4 MiB cap only in its last read', {
    timeout: 30_000,
  }, async () => {
    const peer = spawnRaw({ bin: BIN, env: h.env({ PLATFORM_OPS_LOG_LEVEL: 'warn' }) });
    try {
      peer.send(initializeLine(1));
      await peer.next((m) => m.id === 1);
      const line = Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'crossing',
          method: 'tools/call',
          params: { ...CALL, arguments: { ...CALL.arguments, pad: 'A'.repeat(STDIO_LINE_CAP) } },
        }),
      );
      expect(line.length).toBeGreaterThan(STDIO_LINE_CAP);
      // Everything but the last kilobyte first (the server buffers it, under the cap) ...
      const head = line.length - 1_024;
      expect(head).toBeLessThan(STDIO_LINE_CAP);
      peer.child.stdin.write(line.subarray(0, head));
      await barrierAfterDrain(peer.child.stdin);
      await new Promise((r) => setTimeout(r, 300));
      // ... then the rest and the newline in one small (atomic) write.
      peer.child.stdin.write(Buffer.concat([line.subarray(head), Buffer.from('\n')]));
      await barrier(peer);
      const answer = peer.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(answer.some((m) => m.id === 'crossing')).toBe(false);
      expect(answer.some((m) => m.id === null && (m.error as { code: number }).code === -32600)).toBe(true);
    } finally {
      await peer.close();
    }
  });

  it('exits cleanly when stdin closes in the middle of a request', { timeout: 30_000 }, async () => {
    const env = h.env();
    await h.control.setFaults([{ path: '/platform/v1/services/checkout-api/health', latencyMs: 3_000 }]);
    const peer = spawnRaw({ bin: BIN, env });
    try {
      peer.send(initializeLine(1));
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      await h.control.clearRequests();
      peer.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: CALL }));
      // The request is in flight upstream when the client goes away.
      await expect.poll(async () => (await h.control.requests()).length, { timeout: 5_000 }).toBe(1);
      const started = Date.now();
      const exit = new Promise<number | null>((resolve) => peer.child.once('exit', (code) => resolve(code)));
      peer.child.stdin.end();
      expect(await exit).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(peer.stderr()).not.toContain('unhandled rejection');
      // Nothing half-written: every audit line parses.
      expect(() => readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all')).not.toThrow();
    } finally {
      await h.control.clearFaults();
      await peer.close();
    }
  });
});
