/**
 * The vitest suite every server's stdio channel runs: the protocol fuzz, a
 * clean exit when stdin closes mid-request, idle heap compaction, the
 * in-flight cap, and plain tools/call answered straight at the seam
 * (core's call/direct.ts) exactly as the SDK path answers it, each against
 * the server's sandbox.
 */
import { readAudit, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeLine } from './protocol-cases.ts';
import type { ProtocolPeer } from './protocol-peer.ts';
import { fuzzStdioProtocol } from './protocol-run.ts';

/** What a server's stdio protocol suite needs to know about it. */
export interface StdioSuiteOptions {
  bin: string;
  /** The server's env prefix, e.g. `DOCS`. */
  prefix: string;
  /** A value (the upstream token) that must never reach stderr. */
  canary: string;
  /** Starts the server's sandbox harness (its env builder and sandbox control). */
  harness: () => Promise<{
    env(extra?: Record<string, string>): Record<string, string>;
    control: {
      setFaults(rules: Array<{ path: string; latencyMs: number }>): Promise<unknown>;
      clearFaults(): Promise<unknown>;
      clearRequests(): Promise<unknown>;
      requests(): Promise<Array<{ path: string }>>;
    };
    close(): Promise<void>;
  }>;
  /** A cheap read tool call the fuzzer sends split across writes. */
  call: { name: string; arguments: Record<string, unknown> };
  /** A call whose upstream request can be slowed down, and the upstream path prefix it hits. */
  slow: { call: { name: string; arguments: Record<string, unknown> }; path: string };
}

/** initialize, then initialized: how a host opens the session. */
async function handshake(peer: ProtocolPeer): Promise<void> {
  peer.send(initializeLine(1));
  await peer.next((m) => m.id === 1);
  peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
}

/**
 * The stdio protocol suite every server runs: malformed and invalid lines,
 * unknown methods, extreme ids, oversized and split lines, requests before
 * initialize (all audited, the server keeps serving), and a clean exit when
 * stdin closes mid-request.
 */
export function describeStdioProtocol(options: StdioSuiteOptions): void {
  const auditFile = (env: Record<string, string>) => env[`${options.prefix}_AUDIT_FILE`]!;
  let h: Awaited<ReturnType<StdioSuiteOptions['harness']>>;
  beforeAll(async () => {
    h = await options.harness();
  });
  afterAll(() => h.close());

  /** Sends the slow call and waits until its request has reached the (slowed) upstream. */
  async function slowCallUpstream(peer: ProtocolPeer, id: number | string): Promise<void> {
    await h.control.clearRequests();
    peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: options.slow.call }));
    await expect
      .poll(
        async () => (await h.control.requests()).filter((r) => r.path.startsWith(options.slow.path)).length,
        { timeout: 5_000 },
      )
      .toBeGreaterThanOrEqual(1);
  }

  describe('stdio protocol fuzzing', () => {
    it('answers every malformed, invalid, oversized or split message correctly and keeps serving', {
      timeout: 60_000,
    }, async () => {
      const env = h.env({ [`${options.prefix}_LOG_LEVEL`]: 'warn' });
      const peer = spawnRaw({ bin: options.bin, env });
      try {
        const summary = await fuzzStdioProtocol(peer, { call: options.call });
        // The SDK serves requests that arrive before initialize (2026-07-28 has no mandatory handshake); none is dropped.
        expect(summary.beforeInitialize.answered).toBe(summary.beforeInitialize.sent);
        expect(summary.garbageRuns).toBeGreaterThanOrEqual(20);
        // Every rejected line is audited once as a protocol event, and nothing else was.
        const events = readAudit(auditFile(env), 'call');
        expect(events.filter((e) => e.kind === 'protocol' && e.errorCode === 'PARSE_ERROR')).toHaveLength(
          summary.rejectedLines,
        );
        // The only tools/call that ran is the one sent split across writes.
        expect(events.filter((e) => e.kind === 'tool').map((e) => e.name)).toEqual([options.call.name]);
        expect(peer.stderr()).not.toContain('unhandled rejection');
        expect(peer.stderr()).not.toContain(options.canary);
      } finally {
        expect(await peer.close()).toBe(0);
      }
    });

    it('exits cleanly when stdin closes in the middle of a request', { timeout: 30_000 }, async () => {
      const env = h.env();
      await h.control.setFaults([{ path: options.slow.path, latencyMs: 3_000 }]);
      const peer = spawnRaw({ bin: options.bin, env });
      try {
        await handshake(peer);
        // The request is in flight upstream when the client goes away.
        await slowCallUpstream(peer, 2);
        const started = Date.now();
        const exit = new Promise<number | null>((resolve) =>
          peer.child.once('exit', (code) => resolve(code)),
        );
        peer.child.stdin.end();
        expect(await exit).toBe(0);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(peer.stderr()).not.toContain('unhandled rejection');
        expect(() => readAudit(auditFile(env), 'all')).not.toThrow();
      } finally {
        await h.control.clearFaults();
        await peer.close();
      }
    });

    it('hands heap back to the OS once quiet, and answers as before afterwards', {
      timeout: 30_000,
    }, async () => {
      const env = h.env({
        [`${options.prefix}_IDLE_COMPACT_MS`]: '300',
        [`${options.prefix}_LOG_LEVEL`]: 'debug',
      });
      const peer = spawnRaw({ bin: options.bin, env });
      const compactions = () =>
        peer
          .stderr()
          .split('\n')
          .filter((line) => line.includes('idle: heap compacted'))
          .map((line) => JSON.parse(line) as { heapMbBefore: number; heapMbAfter: number });
      try {
        await handshake(peer);
        // Start-up leaves the young generation grown; the first quiet moment gives it back.
        await expect.poll(() => compactions().length, { timeout: 10_000 }).toBe(1);
        const [first] = compactions();
        expect(first?.heapMbAfter).toBeLessThan(first?.heapMbBefore ?? 0);
        peer.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: options.call }));
        const answer = await peer.next((m) => m.id === 7, 15_000);
        expect((answer.result as { isError?: boolean }).isError).toBeFalsy();
        expect(peer.stderr()).not.toContain('unhandled rejection');
      } finally {
        expect(await peer.close()).toBe(0);
      }
    });

    it('refuses calls beyond its in-flight cap with a typed, audited BUSY and serves again once they finish', {
      timeout: 30_000,
    }, async () => {
      const cap = 4;
      const burst = 12;
      const env = h.env({
        [`${options.prefix}_MAX_IN_FLIGHT`]: String(cap),
        [`${options.prefix}_LOG_LEVEL`]: 'warn',
      });
      await h.control.setFaults([{ path: options.slow.path, latencyMs: 1_000 }]);
      const peer = spawnRaw({ bin: options.bin, env });
      try {
        await handshake(peer);
        const ids = Array.from({ length: burst }, (_, i) => 100 + i);
        for (const id of ids)
          peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: options.slow.call }));
        const answers = await Promise.all(ids.map((id) => peer.next((m) => m.id === id, 15_000)));
        const codeOf = (m: Record<string, unknown>) =>
          (m.result as { isError?: boolean; _meta?: Record<string, { code?: string }> } | undefined)?._meta?.[
            'dev.gatehouse/error'
          ]?.code;
        const busy = answers.filter((m) => codeOf(m) === 'BUSY');
        // Exactly the calls beyond the cap were shed; the others ran to an answer.
        expect(busy).toHaveLength(burst - cap);
        expect(
          answers.filter((m) => codeOf(m) === undefined && !(m.result as { isError?: boolean }).isError),
        ).toHaveLength(cap);
        await h.control.clearFaults();
        peer.send(
          JSON.stringify({ jsonrpc: '2.0', id: 999, method: 'tools/call', params: options.slow.call }),
        );
        expect(codeOf(await peer.next((m) => m.id === 999, 15_000))).toBeUndefined();
        const events = readAudit(auditFile(env), 'call').filter((e) => e.kind === 'tool');
        expect(events).toHaveLength(burst + 1);
        expect(events.filter((e) => e.errorCode === 'BUSY' && e.decision === 'denied')).toHaveLength(
          burst - cap,
        );
      } finally {
        await h.control.clearFaults();
        expect(await peer.close()).toBe(0);
      }
    });
  });

  describe('tools/call straight at the seam', () => {
    /** A record without what differs from call to call. */
    const untimed = ({ callId, requestId, durationMs, time, seq, mac, ...rest }: Record<string, unknown>) =>
      rest;

    it('answers and records a plain call exactly as the SDK path does (which a call with _meta takes)', {
      timeout: 30_000,
    }, async () => {
      const env = h.env({ [`${options.prefix}_LOG_LEVEL`]: 'warn' });
      const peer = spawnRaw({ bin: options.bin, env });
      try {
        await handshake(peer);
        const lines: Record<string, string> = {};
        const records: Record<string, unknown> = {};
        for (const [id, params] of [
          ['direct', options.call],
          ['sdk', { ...options.call, _meta: {} }],
        ] as const) {
          peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }));
          await peer.next((m) => m.id === id, 15_000);
          lines[id] = peer.lines.find((l) => l.includes(`"id":"${id}"`))!;
          records[id] = untimed(readAudit(auditFile(env), 'call').at(-1)!);
        }
        // Which path answered shows in the member order: the SDK puts `result` first.
        expect(lines.direct).toMatch(/^\{"jsonrpc":"2\.0","id":"direct","result":/);
        expect(lines.sdk).toMatch(/^\{"result":/);
        const result = (line: string) => JSON.parse(line).result as { isError?: boolean };
        expect(result(lines.direct!)).toEqual(result(lines.sdk!));
        expect(result(lines.direct!).isError).toBeFalsy();
        expect(records.direct).toEqual(records.sdk);
        expect(records.direct).toMatchObject({ name: options.call.name, outcome: 'ok' });
      } finally {
        expect(await peer.close()).toBe(0);
      }
    });

    it('stops a cancelled call, sends no answer for it and records it cancelled', {
      timeout: 30_000,
    }, async () => {
      const env = h.env({ [`${options.prefix}_LOG_LEVEL`]: 'warn' });
      await h.control.setFaults([{ path: options.slow.path, latencyMs: 3_000 }]);
      const peer = spawnRaw({ bin: options.bin, env });
      try {
        await handshake(peer);
        await slowCallUpstream(peer, 'slow');
        peer.send(
          JSON.stringify({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: 'slow' },
          }),
        );
        await expect
          .poll(() => readAudit(auditFile(env), 'call').find((e) => e.kind === 'tool')?.outcome, {
            timeout: 2_500,
          })
          .toBe('cancelled');
        // Answered after it: the cancelled call never is.
        peer.send(
          JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: options.call }),
        );
        await peer.next((m) => m.id === 'after', 15_000);
        expect(peer.lines.some((l) => l.includes('"id":"slow"'))).toBe(false);
      } finally {
        await h.control.clearFaults();
        expect(await peer.close()).toBe(0);
      }
    });
  });
}
