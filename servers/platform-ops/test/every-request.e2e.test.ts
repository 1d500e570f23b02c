/**
 * The real binary over real stdio, raw JSON-RPC lines: every tools/call it
 * answers leaves exactly one audit record, whatever the shape of its
 * arguments — nested far deeper than the call stack (the digest and the
 * redaction used to overflow it and drop the record of an answered call),
 * more values than the SDK accepted (it answered itself, untyped, unaudited),
 * or not an object at all. In-process, the same cases are in core
 * (src/call/every-request.test.ts); here the stdin line parser and the bundle
 * are part of the path.
 */
import { initializeLine } from '@gatehouse/bench/protocol';
import { errorOf, readAudit, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, HEALTH_CALL, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const call = (id: number, argumentsText: string) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${HEALTH_CALL.name}","arguments":${argumentsText}}}`;

describe('tools/call arguments of any shape over stdio', () => {
  it('answers each typed (INVALID_ARGUMENT) and leaves exactly one record per call', async () => {
    const env = h.env();
    const peer = spawnRaw({ bin: BIN, env });
    const cases: Array<[label: string, args: string, recorded: Record<string, unknown>]> = [
      [
        'objects nested 3,000 deep',
        `{"service":${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}}`,
        { depth: 33 },
      ],
      // About 1 MB on one line: far under the 4 MiB line cap.
      ['arrays nested 500,000 deep', `${'['.repeat(500_000)}${']'.repeat(500_000)}`, { type: 'array' }],
      [
        'an object nesting arrays 500,000 deep',
        `{"service":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
        { depth: 33 },
      ],
      ['60,000 values', JSON.stringify({ service: Array.from({ length: 60_000 }, () => 1) }), {}],
      ['an array', '[1,2]', { type: 'array' }],
      ['a string', '"checkout-api"', { type: 'string' }],
      ['null', 'null', { type: 'null' }],
    ];
    try {
      peer.send(initializeLine(1));
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      let id = 10;
      for (const [label, args, recorded] of cases) {
        id += 1;
        const before = readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all').length;
        peer.send(call(id, args));
        const answer = await peer.next((m) => m.id === id, 30_000);
        expect(errorOf(answer.result as object)?.code, label).toBe('INVALID_ARGUMENT');
        // On disk before the answer left; anything written later for this call would show by the next one.
        const records = readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all').slice(before);
        expect(records, label).toHaveLength(1);
        expect(records[0], label).toMatchObject({
          kind: 'tool',
          name: HEALTH_CALL.name,
          decision: 'invalid',
          errorCode: 'INVALID_ARGUMENT',
          args: recorded,
        });
      }
      // The process is whole: a normal call is served and recorded once.
      const before = readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all').length;
      peer.send(call(99, JSON.stringify(HEALTH_CALL.arguments)));
      const ok = await peer.next((m) => m.id === 99);
      expect((ok.result as { isError?: boolean }).isError).toBeFalsy();
      expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all').slice(before)).toHaveLength(1);
    } finally {
      expect(await peer.close()).toBe(0);
    }
    expect(peer.stderr()).not.toMatch(/Maximum call stack|RangeError|audit write failed/);
    expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all')).toHaveLength(cases.length + 1);
  }, 120_000);
});
