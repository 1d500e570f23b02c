/**
 * Protocol-level fuzzing of a Gatehouse server's stdio channel through a raw
 * JSON-RPC peer (`spawnRaw` from '@gatehouse/core/testing'): malformed JSON,
 * wrong JSON-RPC shapes, unknown methods, extreme ids, a line over the 4 MiB
 * cap, messages split across writes, and requests before initialize. Every
 * check is an assertion (node:assert); the caller's test adds its own on the
 * returned summary and the audit file.
 */
import assert from 'node:assert/strict';
import { readAudit, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc } from './index.ts';

/** The part of `RawPeer` (from '@gatehouse/core/testing') this module drives. */
export interface ProtocolPeer {
  child: { stdin: NodeJS.WritableStream };
  lines: string[];
  send(line: string): void;
  next(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
}

export const STDIO_LINE_CAP = 4 * 1024 * 1024;

export const initializeLine = (id: number | string, protocolVersion = '2025-11-25') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'protocol-fuzz', version: '0' } },
  });

/** Lines that are not JSON at all: -32700, id null. */
export const MALFORMED_LINES: ReadonlyArray<readonly [label: string, line: string]> = [
  ['plain text', 'this is not json'],
  ['truncated object', '{"jsonrpc":"2.0","id":1,"method":"ping"'],
  ['trailing comma', '{"jsonrpc":"2.0","id":1,"method":"ping",}'],
  ['single quotes', "{'jsonrpc':'2.0','id':1,'method':'ping'}"],
  ['NaN literal', '{"jsonrpc":"2.0","id":NaN,"method":"ping"}'],
  ['lone surrogate escape half', '{"jsonrpc":"2.0","id":1,"method":"ping\\u'],
  ['binary', '\u0000\u0001\u0002\u00ff\ufffd'],
  ['BOM then garbage', '\ufeff{{{'],
];

/** Lines that are JSON but not a JSON-RPC message: -32600, id null. */
export const INVALID_REQUESTS: ReadonlyArray<readonly [label: string, line: string]> = [
  ['empty batch', '[]'],
  ['batch array', '[{"jsonrpc":"2.0","id":5,"method":"ping"}]'],
  ['null', 'null'],
  ['number', '42'],
  ['string', '"ping"'],
  ['missing jsonrpc', '{"id":6,"method":"ping"}'],
  ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":7,"method":"ping"}'],
  ['object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'],
  ['boolean id', '{"jsonrpc":"2.0","id":true,"method":"ping"}'],
  ['numeric method', '{"jsonrpc":"2.0","id":8,"method":5}'],
  ['neither method nor result', '{"jsonrpc":"2.0","id":9}'],
  ['params not an object', '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":"x"}'],
  ['id beyond 2^53', `{"jsonrpc":"2.0","id":${2 ** 53 + 2},"method":"ping"}`],
  ['id 1e308', '{"jsonrpc":"2.0","id":1e308,"method":"ping"}'],
  ['fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}'],
];

/** Ids at the edges of what JSON-RPC allows: each must come back exactly as sent. */
export const EDGE_IDS: ReadonlyArray<string | number> = [
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  0,
  -1,
  '',
  'x'.repeat(100_000),
  '\u202e\u200b𝕮',
  '__proto__',
];

export const UNKNOWN_METHODS: readonly string[] = [
  'no/such/method',
  'tools/unknown',
  '__proto__',
  'constructor',
  'rpc.discover',
  `x/${'a'.repeat(10_000)}`,
];

export interface ProtocolSummary {
  /** Requests sent before initialize, and how many of them were answered (result or error, same id). */
  beforeInitialize: { sent: number; answered: number; served: number };
  /** Lines answered with an id-null error (-32700 or -32600), each of which core audits as PARSE_ERROR. */
  rejectedLines: number;
  /** Random garbage lines checked by the property. */
  garbageRuns: number;
}

let seq = 0;
const nextId = (tag: string) => `${tag}-${++seq}`;
const nullErrors = (peer: ProtocolPeer) =>
  peer.lines.filter((l) => l.startsWith('{') && l.includes('"id":null') && l.includes('"error"')).length;

/** Sends a ping and waits for its answer: everything written before it has been handled. */
export async function barrier(peer: ProtocolPeer, timeoutMs = 10_000): Promise<void> {
  const id = nextId('barrier');
  peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  const answer = await peer.next((m) => m.id === id, timeoutMs);
  assert.deepEqual(answer.result, {}, `ping ${id} was not answered with {}`);
}

/** Writes `line` and asserts exactly one id-null error with `code` came back for it (nothing else). */
export async function expectRejected(
  peer: ProtocolPeer,
  line: string,
  codes: readonly number[],
  label: string,
) {
  const before = nullErrors(peer);
  const linesBefore = peer.lines.length;
  peer.send(line);
  await barrier(peer);
  const after = peer.lines.slice(linesBefore, -1);
  assert.equal(
    nullErrors(peer) - before,
    1,
    `${label}: expected exactly one id-null error, got ${after.join(' | ').slice(0, 400)}`,
  );
  assert.equal(after.length, 1, `${label}: expected one answer, got ${after.length}`);
  const error = JSON.parse(after[0]!) as {
    jsonrpc: string;
    id: null;
    error: { code: number; message: string };
  };
  assert.equal(error.jsonrpc, '2.0');
  assert.ok(
    codes.includes(error.error.code),
    `${label}: code ${error.error.code}, expected ${codes.join(' or ')}`,
  );
  return error.error;
}

function answered(m: Record<string, unknown>): 'result' | 'error' | undefined {
  return 'result' in m ? 'result' : 'error' in m ? 'error' : undefined;
}

/**
 * Runs every stdio protocol case against a freshly spawned, not yet
 * initialized server. `call` is a cheap tools/call that succeeds on this
 * server; it is also sent split across writes.
 */
export async function fuzzStdioProtocol(
  peer: ProtocolPeer,
  options: {
    call: { name: string; arguments: Record<string, unknown> };
    garbageRuns?: number;
    budgetMs?: number;
  },
): Promise<ProtocolSummary> {
  const started = Date.now();
  const budgetMs = options.budgetMs ?? 20_000;
  const summary: ProtocolSummary = {
    beforeInitialize: { sent: 0, answered: 0, served: 0 },
    rejectedLines: 0,
    garbageRuns: 0,
  };
  const rejected = async (line: string, codes: readonly number[], label: string) => {
    const error = await expectRejected(peer, line, codes, label);
    summary.rejectedLines += 1;
    return error;
  };

  // 1. Requests before initialize: each answered under its own id (served or refused), never dropped.
  for (const method of ['tools/list', 'resources/list', 'ping']) {
    const id = nextId('pre');
    summary.beforeInitialize.sent += 1;
    peer.send(JSON.stringify({ jsonrpc: '2.0', id, method }));
    const m = await peer.next((x) => x.id === id);
    const kind = answered(m);
    assert.ok(kind, `pre-initialize ${method}: neither result nor error`);
    summary.beforeInitialize.answered += 1;
    if (kind === 'result') summary.beforeInitialize.served += 1;
  }
  peer.send(initializeLine('init'));
  const init = await peer.next((m) => m.id === 'init');
  assert.ok(init.result, `initialize failed: ${JSON.stringify(init.error)}`);
  peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

  // 2. Not JSON: -32700. JSON but not JSON-RPC (batches, missing jsonrpc, bad ids): -32600.
  for (const [label, line] of MALFORMED_LINES) await rejected(line, [-32700], label);
  for (const [label, line] of INVALID_REQUESTS) await rejected(line, [-32600], label);

  // 3. Unknown methods: -32601 under the request's own id.
  for (const method of UNKNOWN_METHODS) {
    const id = nextId('unknown');
    peer.send(JSON.stringify({ jsonrpc: '2.0', id, method }));
    const m = await peer.next((x) => x.id === id);
    assert.equal(
      (m.error as { code?: number } | undefined)?.code,
      -32601,
      `unknown method ${method.slice(0, 40)}`,
    );
  }
  // Unknown notifications and stray responses are ignored silently (nothing to answer).
  const quietFrom = peer.lines.length;
  peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/no-such-thing', params: {} }));
  peer.send(JSON.stringify({ jsonrpc: '2.0', id: 'never-asked', result: {} }));
  peer.send(JSON.stringify({ jsonrpc: '2.0', id: 'never-asked-2', error: { code: 1, message: 'x' } }));
  await barrier(peer);
  assert.equal(
    peer.lines.length - quietFrom,
    1,
    `stray messages were answered: ${peer.lines.slice(quietFrom).join(' | ').slice(0, 300)}`,
  );

  // 4. Ids at the edges come back exactly as sent.
  for (const id of EDGE_IDS) {
    peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    const m = await peer.next((x) => x.id === id);
    assert.deepEqual(m.result, {}, `ping with id ${String(id).slice(0, 20)}`);
  }

  // 5. Random garbage lines (no newline inside; not a valid message): one id-null error each.
  const garbage = fc
    .oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .dictionary(
          fc.constantFrom('jsonrpc', 'id', 'method', 'params', 'result', 'error', 'x'),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map((v) => JSON.stringify(v)),
    )
    .map((s) => s.replace(/[\r\n]/g, ' '))
    .filter((s) => s.trim() !== '' && !isValidMessage(s));
  const details = await fc.check(
    fc.asyncProperty(garbage, async (line) => {
      summary.garbageRuns += 1;
      await rejected(line, [-32700, -32600], `garbage ${JSON.stringify(line).slice(0, 80)}`);
    }),
    {
      numRuns: options.garbageRuns ?? 60,
      seed: 777,
      interruptAfterTimeLimit: Math.max(1_000, budgetMs / 4),
    },
  );
  if (details.failed)
    throw new Error(
      `garbage property failed: ${String((details.errorInstance as Error)?.message ?? details.errorInstance).slice(0, 500)}`,
    );

  // 6. A line well over the 4 MiB cap: dropped with one -32600, never answered, and the server keeps
  // serving. (Well over: a line that crosses the cap only in its last read slips through today; see
  // the `it.fails` case in servers/platform-ops/test/hostile-stdio.test.ts.)
  const bigId = nextId('big');
  const big = JSON.stringify({
    jsonrpc: '2.0',
    id: bigId,
    method: 'tools/call',
    params: {
      name: options.call.name,
      arguments: { ...options.call.arguments, pad: 'A'.repeat(STDIO_LINE_CAP + 256 * 1024) },
    },
  });
  const bigError = await rejected(big, [-32600], 'line over 4 MiB');
  assert.match(bigError.message, /too large/i);
  assert.equal(
    peer.lines.some((l) => l.includes(`"id":"${bigId}"`)),
    false,
    'the oversized request was answered',
  );

  // 7. Messages split across writes (inside a 4-byte UTF-8 character too), several in one write, CRLF.
  const raw = peer.child.stdin;
  const callId = nextId('split');
  const callBytes = Buffer.from(
    `${JSON.stringify({ jsonrpc: '2.0', id: callId, method: 'tools/call', params: { name: options.call.name, arguments: options.call.arguments } })}\n`,
  );
  const pingId = nextId('split-utf8');
  const pingBytes = Buffer.from(
    `${JSON.stringify({ jsonrpc: '2.0', id: pingId, method: 'ping', params: { _meta: { note: 'x𝕮y' } } })}\n`,
  );
  const cut = pingBytes.indexOf(Buffer.from('𝕮')) + 2; // inside the character
  const pause = () => new Promise((r) => setTimeout(r, 15));
  for (const [from, to] of [
    [0, 1],
    [1, Math.floor(callBytes.length / 2)],
    [Math.floor(callBytes.length / 2), callBytes.length - 1],
    [callBytes.length - 1, callBytes.length],
  ] as const) {
    raw.write(callBytes.subarray(from, to));
    await pause();
  }
  raw.write(pingBytes.subarray(0, cut));
  await pause();
  raw.write(pingBytes.subarray(cut));
  const [a, b] = [nextId('batched'), nextId('batched')];
  raw.write(
    `${JSON.stringify({ jsonrpc: '2.0', id: a, method: 'ping' })}\r\n${JSON.stringify({ jsonrpc: '2.0', id: b, method: 'ping' })}\n`,
  );
  const split = await peer.next((m) => m.id === callId, 15_000);
  assert.ok(split.result, `split tools/call failed: ${JSON.stringify(split.error)}`);
  assert.notEqual(
    (split.result as { isError?: boolean }).isError,
    true,
    `split tools/call: ${JSON.stringify(split.result).slice(0, 300)}`,
  );
  assert.deepEqual((await peer.next((m) => m.id === pingId)).result, {});
  assert.deepEqual((await peer.next((m) => m.id === a)).result, {});
  assert.deepEqual((await peer.next((m) => m.id === b)).result, {});

  // 8. Still serving, and stdout held JSON-RPC only.
  await barrier(peer);
  for (const line of peer.lines) assert.equal((JSON.parse(line) as { jsonrpc?: string }).jsonrpc, '2.0');
  assert.ok(Date.now() - started < budgetMs * 3, 'protocol fuzzing took far longer than its budget');
  return summary;
}

function isValidMessage(line: string): boolean {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && v.jsonrpc === '2.0';
  } catch {
    return false;
  }
}

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
        await h.control.clearRequests();
        peer.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: options.slow.call }));
        // The request is in flight upstream when the client goes away.
        await expect
          .poll(
            async () =>
              (await h.control.requests()).filter((r) => r.path.startsWith(options.slow.path)).length,
            { timeout: 5_000 },
          )
          .toBeGreaterThanOrEqual(1);
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
}
