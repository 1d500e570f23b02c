/**
 * Bounded load over Streamable HTTP (the fixture's HTTP front in this process,
 * `--no-auth`, 127.0.0.1): 64 concurrent
 * real MCP clients and a fixed count of tools/call against the sandbox. No
 * failure other than deliberate 429s from admission control, and the audit
 * file holds exactly one call event per tools/call answered.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, type Harness, STATUS_CALL, STATUS_PATH, startHarness } from '../testing/fixture/harness.ts';
import { MCP_HEADERS, rpcBody, startHttp } from '../testing/fixture/http.ts';
import { readAudit } from '../testing/index.ts';

const CLIENTS = 64;
const CALLS_PER_CLIENT = 10;
const TOTAL = CLIENTS * CALLS_PER_CLIENT;
const HEALTH = STATUS_CALL;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const toolEvents = (file: string) =>
  readAudit(file).filter((e) => e.kind === 'tool' && e.name === HEALTH.name);

describe('bounded load over HTTP', () => {
  it(`serves ${CLIENTS} concurrent clients × ${CALLS_PER_CLIENT} tools/call with zero failures, one audit event each`, {
    timeout: 90_000,
  }, async () => {
    const env = h.env({
      FIXTURE_LOG_LEVEL: 'warn',
      // Admission sized for the load: this run measures serving, not shedding.
      FIXTURE_MAX_CONCURRENT: String(CLIENTS * 2),
      FIXTURE_RATE_LIMIT_PER_MINUTE: '100000',
    });
    const server = await startHttp(fixture, { env, noAuth: true });
    const clients: Client[] = [];
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const client = new Client({ name: `load-${i}`, version: '1.0.0' });
          await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
          clients.push(client);
        }),
      );
      const started = Date.now();
      const failures: string[] = [];
      let answered = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < CALLS_PER_CLIENT; i++) {
            try {
              const result = await client.callTool(HEALTH, { timeout: 30_000 });
              if (result.isError) failures.push(JSON.stringify(result.content).slice(0, 200));
              else answered += 1;
            } catch (error) {
              failures.push((error as Error).message.slice(0, 200));
            }
          }
        }),
      );
      const elapsed = Date.now() - started;
      expect(failures).toEqual([]);
      expect(answered).toBe(TOTAL);
      expect(elapsed).toBeLessThan(60_000);
      await expect.poll(() => toolEvents(env.FIXTURE_AUDIT_FILE).length, { timeout: 10_000 }).toBe(TOTAL);
      const events = toolEvents(env.FIXTURE_AUDIT_FILE);
      expect(events.every((e) => e.outcome === 'ok')).toBe(true);
      // Every call id is distinct: no event written twice, none merged.
      expect(new Set(events.map((e) => e.callId)).size).toBe(TOTAL);
      expect(server.stderr()).not.toContain('unhandled rejection');
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server.close();
    }
  });

  it('sheds excess concurrency with 429 + Retry-After and audits exactly the calls it answered', {
    timeout: 60_000,
  }, async () => {
    // Default admission (16 concurrent per principal; every --no-auth caller is the local operator),
    // and a slow upstream so that 64 concurrent requests really overlap.
    const env = h.env({ FIXTURE_LOG_LEVEL: 'warn', FIXTURE_RATE_LIMIT_PER_MINUTE: '100000' });
    await h.control.setFaults([{ path: STATUS_PATH, latencyMs: 150 }]);
    const server = await startHttp(fixture, { env, noAuth: true });
    try {
      const statuses = new Map<number, number>();
      let answered = 0;
      let retryAfterMissing = 0;
      const body = (id: number) =>
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: HEALTH });
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let i = 0; i < CALLS_PER_CLIENT; i++) {
            const response = await fetch(server.url, {
              method: 'POST',
              headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25' },
              body: body(client * 1_000 + i),
              signal: AbortSignal.timeout(30_000),
            });
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            if (response.status === 429) {
              if (!response.headers.get('retry-after')) retryAfterMissing += 1;
              await response.body?.cancel();
              continue;
            }
            const message = await rpcBody(response);
            const result = message.result as { isError?: boolean; structuredContent?: unknown } | undefined;
            if (result?.structuredContent && result.isError !== true) answered += 1;
          }
        }),
      );
      // Only 200s and deliberate 429s.
      expect([...statuses.keys()].sort()).toEqual([200, 429]);
      expect((statuses.get(200) ?? 0) + (statuses.get(429) ?? 0)).toBe(TOTAL);
      expect(statuses.get(429)).toBeGreaterThan(0);
      expect(retryAfterMissing).toBe(0);
      expect(answered).toBe(statuses.get(200));
      // Refused requests never reached the seam; each answered one left exactly one event.
      await expect.poll(() => toolEvents(env.FIXTURE_AUDIT_FILE).length, { timeout: 10_000 }).toBe(answered);
      expect(server.stderr()).not.toContain('unhandled rejection');
    } finally {
      await h.control.clearFaults();
      await server.close();
    }
  });
});
