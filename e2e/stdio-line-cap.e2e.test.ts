/**
 * The stdio line cap's edge, proven once (it is core's transport, the same in every binary): against
 * the first server found in the workspace, a line that crosses 4 MiB only in its last read.
 */
import { barrier, initializeLine, STDIO_LINE_CAP } from '@gatehouse/bench/protocol';
import { spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const server = SERVERS.find((s) => s.call)!;

let h: E2eHarness;
beforeAll(async () => {
  h = await startHarness(server);
});
afterAll(() => h?.close());

const barrierAfterDrain = (stream: NodeJS.WritableStream) =>
  new Promise<void>((resolve) => (stream.write('') ? resolve() : stream.once('drain', () => resolve())));

describe(`the stdio line cap (${server.name})`, () => {
  // The read that completes a line counts towards the cap: a line crossing 4 MiB only in its last
  // read (up to 64 KiB more) is refused too.
  it('refuses a line that crosses the 4 MiB cap only in its last read', {
    timeout: 30_000,
  }, async () => {
    const call = server.call!;
    const peer = spawnRaw({ bin: server.bin, env: h.env({ [`${server.prefix}_LOG_LEVEL`]: 'warn' }) });
    try {
      peer.send(initializeLine(1));
      await peer.next((m) => m.id === 1);
      const line = Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'crossing',
          method: 'tools/call',
          params: { ...call, arguments: { ...call.arguments, pad: 'A'.repeat(STDIO_LINE_CAP) } },
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
