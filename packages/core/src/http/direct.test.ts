/**
 * A plain stateless tools/call is answered straight at the seam (direct.ts); the same call with an
 * (empty) `_meta` takes the kept server's SDK path. Both must answer alike and leave the same audit
 * record, for successes and for every refusal the seam makes; calls the direct path leaves alone
 * keep the SDK's answers. Real fixture server on loopback, real OAuth tokens and API keys.
 */
import { describe, expect, it } from 'vitest';
import { API_KEY, startAuthFront } from '../testing/fixture/auth.ts';
import { rpcBody } from '../testing/fixture/http.ts';
import { perFile, useHarness } from '../testing/fixture/per-file.ts';
import { readAudit } from '../testing/index.ts';

const h = useHarness();
const front = perFile(() => startAuthFront(h));

/** The sandbox stamps each status with the time it was checked. */
const untimed = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replace(/"checkedAt":"[^"]*"/g, '"checkedAt":"T"'));

const call = (id: number, params: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });

/** The last audit record, without what differs between any two calls (ids, time, chain). */
function lastRecord(): Record<string, unknown> {
  const { callId, requestId, durationMs, time, seq, mac, ...rest } = readAudit(front.auditFile).at(-1)!;
  expect(typeof callId).toBe('string');
  return rest;
}

/** The answer and audit record of `params` on the direct path and on the SDK path (with `_meta`). */
async function both(
  token: string,
  params: Record<string, unknown>,
  extra: Record<string, string> = {},
): Promise<{ direct: unknown; sdk: unknown }> {
  const directText = await (await front.call(token, call(1, params), extra)).text();
  const directRecord = lastRecord();
  const sdkText = await (await front.call(token, call(1, { ...params, _meta: {} }), extra)).text();
  expect(lastRecord()).toEqual(directRecord);
  // Which path answered shows in the member order: the SDK puts `result` first.
  expect(directText.startsWith('{"jsonrpc":"2.0","id":1,"result":')).toBe(true);
  expect(sdkText.startsWith('{"result":')).toBe(true);
  return { direct: untimed(JSON.parse(directText)), sdk: untimed(JSON.parse(sdkText)) };
}

describe('tools/call answered straight at the seam', () => {
  it('answers and audits a call exactly as the SDK path does, for an OAuth token and an API key', async () => {
    for (const token of [front.readToken, API_KEY]) {
      const { direct, sdk } = await both(token, {
        name: 'get_item_status',
        arguments: { item: 'orders-api' },
      });
      expect(direct).toEqual(sdk);
      expect(direct).toMatchObject({
        jsonrpc: '2.0',
        id: 1,
        result: {
          content: [{ type: 'text', text: expect.stringMatching(/^orders-api \(production\) is /) }],
          structuredContent: { item: 'orders-api', environment: 'production' },
        },
      });
    }
  });

  it("refuses alike what the seam refuses: bad, unknown, absent and non-object arguments, tools outside the connection's toolsets", async () => {
    const cases: Array<[Record<string, unknown>, string, Record<string, string>?]> = [
      [{ name: 'get_item_status', arguments: { item: 'no spaces allowed' } }, 'INVALID_ARGUMENT'],
      [{ name: 'get_item_status', arguments: { item: 'orders-api', extra: 1 } }, 'INVALID_ARGUMENT'],
      [{ name: 'get_item_status' }, 'INVALID_ARGUMENT'],
      // Carried to the seam inside an object at the door (call/inbound.ts), refused there.
      [{ name: 'get_item_status', arguments: [1] }, 'INVALID_ARGUMENT'],
      [
        { name: 'get_item_status', arguments: { item: 'orders-api' } },
        'OUTSIDE_TOOLSETS',
        { 'x-gatehouse-toolsets': 'catalog' },
      ],
    ];
    for (const [params, code, extra] of cases) {
      const { direct, sdk } = await both(API_KEY, params, extra);
      expect(direct).toEqual(sdk);
      expect(direct).toMatchObject({
        id: 1,
        result: { isError: true, _meta: { 'dev.gatehouse/error': { code } } },
      });
    }
  });

  it('leaves the SDK its own answers: unknown tools, extra params', async () => {
    const unknown = await rpcBody(
      await front.call(API_KEY, call(2, { name: 'no_such_tool', arguments: {} })),
    );
    expect(unknown).toMatchObject({ id: 2, error: { code: -32602 } });
    const extra = await (
      await front.call(
        API_KEY,
        call(3, { name: 'get_item_status', arguments: { item: 'orders-api' }, task: {} }),
      )
    ).text();
    expect(extra.startsWith('{"result":')).toBe(true);
    expect(JSON.parse(extra)).toMatchObject({ id: 3, result: { structuredContent: { item: 'orders-api' } } });
  });
});
