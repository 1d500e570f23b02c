/**
 * Protocol fuzzing of the stdio channel: the suite every server runs (see @gatehouse/bench/protocol),
 * plus the line-cap edge that only needs one server to prove.
 */
import { barrier, describeStdioProtocol, initializeLine, STDIO_LINE_CAP } from '@gatehouse/bench/protocol';
import { spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY, type Harness, startHarness } from './harness.ts';

const CALL = { name: 'get_service_health', arguments: { service: 'checkout-api' } };

describeStdioProtocol({
  bin: BIN,
  prefix: 'PLATFORM_OPS',
  canary: CANARY,
  harness: startHarness,
  call: CALL,
  slow: { call: CALL, path: '/platform/v1/services/checkout-api/health' },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const barrierAfterDrain = (stream: NodeJS.WritableStream) =>
  new Promise<void>((resolve) => (stream.write('') ? resolve() : stream.once('drain', () => resolve())));

describe('the stdio line cap', () => {
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
});
