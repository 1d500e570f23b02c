/**
 * Over HTTP too, every request the server answers leaves exactly one record:
 * tool calls whose arguments nest thousands of levels deep, hold more values
 * than the SDK accepted, or are not an object (typed INVALID_ARGUMENT from the
 * seam, stateless 2026 through the SDK handler and 2025 on a kept server);
 * what the SDK answers alone (unknown tools, parse errors); every refusal at
 * the door. Refusals a flood can repeat — before authentication, or past the
 * rate — are folded per source and interval: one record with a `count`.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ARGUMENT_DEPTH } from '../call/tool-call.ts';
import { startAuthFront, V } from '../testing/fixture/auth.ts';
import { expectInvalidOnce, STATUS_CALL } from '../testing/fixture/harness.ts';
import { MCP_HEADERS, rpcBody } from '../testing/fixture/http.ts';
import { useOpenFront } from '../testing/fixture/per-file.ts';
import { errorOf, readAudit } from '../testing/index.ts';

const nestedObjects = (levels: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};
const nestedArrays = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

const { h, server, client, auditFile } = useOpenFront(
  { FIXTURE_LOG_LEVEL: 'warn', FIXTURE_RATE_LIMIT_PER_MINUTE: '100000' },
  { name: 'every-request', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } },
);

/** What `run` left in the trail (records are on disk before the answer leaves; a late one would show). */
async function recordsOf<T>(run: () => Promise<T>) {
  const before = readAudit(auditFile(), 'all').length;
  const answer = await run();
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { answer, records: readAudit(auditFile(), 'all').slice(before) };
}

/** A stateless 2025-11-25 POST (answered by a kept server) with `body` as is. */
const legacyPost = (body: string, extra: Record<string, string> = {}) =>
  fetch(server.url, { method: 'POST', headers: { ...MCP_HEADERS, ...V, ...extra }, body });
/** A stateless 2026-07-28 tools/call with its per-request envelope and `arguments` written as is. */
const modernPost = (args: string) =>
  fetch(server.url, {
    method: 'POST',
    headers: {
      ...MCP_HEADERS,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': STATUS_CALL.name,
    },
    body: `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"${STATUS_CALL.name}","arguments":${args},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`,
  });
const legacyCallText = (args: string, name = STATUS_CALL.name) =>
  `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"${name}","arguments":${args}}}`;

describe('tool calls refused by the seam over HTTP, typed and audited once', () => {
  it('arguments nested 3,000 deep: the SDK handler (2026) and a kept server (2025)', async () => {
    const modern = await recordsOf(() =>
      client.callTool({ name: STATUS_CALL.name, arguments: { item: nestedObjects(3_000) as string } }),
    );
    expect(errorOf(modern.answer)?.code).toBe('INVALID_ARGUMENT');
    expectInvalidOnce(modern.records, { depth: MAX_ARGUMENT_DEPTH + 1 });
    for (const levels of [3_000, 200_000]) {
      const text = `{"item":${'['.repeat(levels)}${']'.repeat(levels)}}`;
      const legacy = await recordsOf(async () => rpcBody(await legacyPost(legacyCallText(text))));
      expect(errorOf(legacy.answer.result as object)?.code).toBe('INVALID_ARGUMENT');
      expectInvalidOnce(legacy.records, { depth: MAX_ARGUMENT_DEPTH + 1 });
      // Deeper than any client serialises: a raw stateless 2026-07-28 request to the SDK handler.
      const modernRaw = await recordsOf(async () => rpcBody(await modernPost(text)));
      expect(errorOf(modernRaw.answer.result as object)?.code).toBe('INVALID_ARGUMENT');
      expectInvalidOnce(modernRaw.records, { depth: MAX_ARGUMENT_DEPTH + 1 });
    }
  });

  it('60,000 values: the SDK handler (2026) and a kept server (2025)', async () => {
    const values = Array.from({ length: 60_000 }, () => 1);
    const modern = await recordsOf(() =>
      client.callTool({ name: STATUS_CALL.name, arguments: { item: values as unknown as string } }),
    );
    expect(errorOf(modern.answer)?.code).toBe('INVALID_ARGUMENT');
    expect(modern.records).toHaveLength(1);
    expect(modern.records[0]).toMatchObject({ kind: 'tool', errorCode: 'INVALID_ARGUMENT' });
    const legacy = await recordsOf(async () =>
      rpcBody(await legacyPost(legacyCallText(JSON.stringify({ item: values })))),
    );
    expect(errorOf(legacy.answer.result as object)?.code).toBe('INVALID_ARGUMENT');
    expect(legacy.records).toHaveLength(1);
  });

  it('arguments that are not an object: the SDK handler (2026) and a kept server (2025)', async () => {
    for (const [args, type] of [
      [[1, 2], 'array'],
      ['x', 'string'],
      [7, 'number'],
      [null, 'null'],
    ] as const) {
      const modern = await recordsOf(() =>
        client.callTool({ name: STATUS_CALL.name, arguments: args as unknown as Record<string, unknown> }),
      );
      expect(errorOf(modern.answer)?.code, type).toBe('INVALID_ARGUMENT');
      expectInvalidOnce(modern.records, { type });
      const legacy = await recordsOf(async () =>
        rpcBody(await legacyPost(legacyCallText(JSON.stringify(args)))),
      );
      expect(errorOf(legacy.answer.result as object)?.code, type).toBe('INVALID_ARGUMENT');
      expectInvalidOnce(legacy.records, { type });
    }
    // A deeply nested array as the arguments: carried, refused, one record.
    const deep = await recordsOf(async () =>
      rpcBody(await legacyPost(legacyCallText(JSON.stringify(nestedArrays(3_000))))),
    );
    expect(errorOf(deep.answer.result as object)?.code).toBe('INVALID_ARGUMENT');
    expectInvalidOnce(deep.records, { type: 'array' });
  });
});

describe('what the SDK or the door answers alone, audited once', () => {
  it('an unknown tool, a parse error, a batch, a body nested too deep outside the arguments', async () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      [
        'unknown tool',
        legacyCallText('[1]', 'no_such_tool'),
        { name: 'no_such_tool', errorCode: 'UNKNOWN_TOOL' },
      ],
      ['parse error', '{"jsonrpc":"2.0",', { name: 'jsonrpc', errorCode: 'PARSE_ERROR' }],
      ['batch', `[${legacyCallText('{}')}]`, { name: 'http', errorCode: 'BATCH' }],
      [
        'deep envelope',
        `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":${'['.repeat(100)}${']'.repeat(100)}}}`,
        { name: 'http', errorCode: 'TOO_DEEP' },
      ],
      [
        'tool call with a deep _meta',
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_item_status","arguments":{},"_meta":{"x":${'['.repeat(100)}${']'.repeat(100)}}}}`,
        { name: 'http', errorCode: 'TOO_DEEP' },
      ],
    ];
    for (const [label, body, expected] of cases) {
      const { answer, records } = await recordsOf(async () => (await legacyPost(body)).status);
      expect(answer, label).toBeGreaterThanOrEqual(200);
      expect(records, label).toHaveLength(1);
      expect(records[0], label).toMatchObject({ kind: 'protocol', ...expected });
    }
  });
});

describe('refusals a flood repeats, folded per source and interval', () => {
  it('500 requests without a credential leave a few records whose counts sum to 500', async () => {
    const front = await startAuthFront(h);
    const statuses = new Map<number, number>();
    try {
      for (let burst = 0; burst < 10; burst++) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const response = await front.call(undefined, legacyCallText('{"item":"orders-api"}'));
            await response.body?.cancel();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          }),
        );
      }
      // The first refusal is on record at once.
      expect(readAudit(front.auditFile).filter((r) => r.errorCode === 'UNAUTHENTICATED')).toHaveLength(1);
    } finally {
      // Shutdown writes the counts still open.
      await front.close();
    }
    expect([...statuses]).toEqual([[401, 500]]);
    const refused = readAudit(front.auditFile).filter((r) => r.errorCode === 'UNAUTHENTICATED');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeLessThanOrEqual(3);
    expect(refused.reduce((sum, r) => sum + (r.count as number), 0)).toBe(500);
    for (const record of refused)
      expect(record).toMatchObject({
        principal: { id: 'anonymous', kind: 'http' },
        kind: 'protocol',
        decision: 'denied',
        source: '127.0.0.1',
        args: { reason: 'missing' },
      });
  });

  it('a foreign Origin and a credential in the query string, per code', async () => {
    const front = await startAuthFront(h);
    try {
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const response =
            i % 2 === 0
              ? await front.call(undefined, legacyCallText('{}'), { origin: 'https://evil.example' })
              : await fetch(`${front.server.url}?access_token=x`, {
                  method: 'POST',
                  headers: MCP_HEADERS,
                  body: '{}',
                });
          await response.body?.cancel();
        }),
      );
    } finally {
      await front.close();
    }
    const records = readAudit(front.auditFile);
    for (const code of ['FOREIGN_ORIGIN', 'QUERY_TOKEN']) {
      const folded = records.filter((r) => r.errorCode === code);
      expect(folded.length, code).toBeLessThanOrEqual(3);
      expect(
        folded.reduce((sum, r) => sum + (r.count as number), 0),
        code,
      ).toBe(20);
    }
  });
});
