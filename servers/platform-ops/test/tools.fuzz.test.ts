/**
 * Argument fuzzing: every tool, arguments derived from its advertised input
 * schema plus hostile values, through ONE long-lived real client. The server
 * never crashes or hangs, every call ends in a result or a typed tool error,
 * and every call leaves exactly one audit event.
 */

import { argumentsFor, checkProperty, ELEMENT_CAP_PROBE, fc, type JsonSchema } from '@gatehouse/bench/fuzz';
import { type Connected, connectV2, errorOf, eventually, readAudit } from '@gatehouse/core/testing';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, BIN, type Harness, startHarness } from './harness.ts';

const RUNS_PER_TOOL = 150;
const TIME_BUDGET_MS = 25_000;

let h: Harness;
let c: Connected<Client>;
let auditFile: string;
beforeAll(async () => {
  h = await startHarness();
  const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES, PLATFORM_OPS_LOG_LEVEL: 'warn' });
  auditFile = env.PLATFORM_OPS_AUDIT_FILE;
  // A human who declines: side-effecting tools are fuzzed up to the approval gate and never act.
  c = await connectV2({ bin: BIN, env, approval: 'decline' });
});
afterAll(async () => {
  await c?.close();
  await h?.close();
});

describe('argument fuzzing (fast-check, schema-derived + hostile)', () => {
  it('answers every generated call with a result or a typed error, one audit event each, and stays up', {
    timeout: 60_000,
  }, async () => {
    const { tools } = await c.client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    const deadline = Date.now() + TIME_BUDGET_MS;
    let calls = 0;
    const codes = new Map<string, number>();
    for (const tool of tools) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await checkProperty(
        fc.asyncProperty(argumentsFor(tool.inputSchema as JsonSchema), async (args) => {
          calls += 1;
          const result = await c.client.callTool({ name: tool.name, arguments: args }, { timeout: 15_000 });
          if (result.isError) {
            const error = errorOf(result);
            expect(error?.code, JSON.stringify(result.content).slice(0, 300)).toMatch(/^[A-Z_]+$/);
            expect((result.content as Array<{ text: string }>)[0]?.text).toContain(`[${error!.code}]`);
            codes.set(error!.code, (codes.get(error!.code) ?? 0) + 1);
          } else {
            expect(result.structuredContent).toBeTypeOf('object');
            codes.set('ok', (codes.get('ok') ?? 0) + 1);
          }
        }),
        { numRuns: RUNS_PER_TOOL, interruptAfterTimeLimit: Math.max(1_000, remaining / 2), seed: 424_242 },
      );
    }
    expect(calls).toBeGreaterThanOrEqual(tools.length * 20);
    // Both paths were exercised: real answers and refusals.
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(codes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
    // The process is alive and still serving.
    expect((await c.client.listTools()).tools.length).toBe(tools.length);
    // One call event per request: one per tools/call, plus the approval round of each
    // side effect the human was asked about (2026 input-required: a second request, same call id).
    await eventually(() => readAudit(auditFile, 'call').length >= calls || undefined, 10_000);
    const events = readAudit(auditFile, 'call');
    const asked = events.filter((e) => e.decision === 'approval_requested');
    const declined = events.filter((e) => e.decision === 'declined');
    expect(declined).toHaveLength(asked.length);
    const kinds = events.reduce<Record<string, number>>((acc, e) => {
      const key = `${e.name}:${e.decision}`;
      acc[key] = (acc[key] ?? 0) + 1;
      return acc;
    }, {});
    expect(events, JSON.stringify(kinds)).toHaveLength(calls + asked.length);
    expect(events.every((e) => e.kind === 'tool')).toBe(true);
    expect(c.stderr()).not.toContain('unhandled rejection');
  });

  // More values than the seam accepts: a typed, audited error, not the SDK's plain-text refusal.
  it('answers arguments over the 5,000-element cap with a typed error and an audit event', async () => {
    const before = readAudit(auditFile, 'call').length;
    const result = await c.client.callTool({ name: 'get_service_health', arguments: ELEMENT_CAP_PROBE });
    expect(result.isError).toBe(true);
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    await eventually(() => readAudit(auditFile, 'call').length > before || undefined, 2_000);
  });
});
