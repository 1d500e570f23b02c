/**
 * Argument fuzzing: every support tool (read and side-effecting), arguments
 * derived from its advertised input schema plus hostile values, through ONE
 * long-lived real client whose human declines every approval, so nothing is
 * escalated and no credit is paid. The server never crashes or hangs, every
 * call ends in a result or a typed tool error, every request leaves exactly
 * one audit event, and the upstream token never shows.
 */
import { ELEMENT_CAP_PROBE, fuzzTools } from '@gatehouse/bench/fuzz';
import { type Connected, connectV2, errorOf, eventually, readAudit } from '@gatehouse/core/testing';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, BIN, CANARY, type Harness, startHarness, writes } from './harness.ts';

const RUNS_PER_TOOL = 80;
const TIME_BUDGET_MS = 15_000;

let h: Harness;
let c: Connected<Client>;
let auditFile: string;
const shown: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  const env = h.env({ SUPPORT_SCOPES: `${ALL_SCOPES},support:pii`, SUPPORT_LOG_LEVEL: 'warn' });
  auditFile = env.SUPPORT_AUDIT_FILE;
  // A human who declines: escalations and credits are fuzzed up to the approval gate and never act.
  c = await connectV2({ bin: BIN, env, approval: 'decline', shown });
  await h.control.clearRequests();
}, 30_000);
afterAll(async () => {
  await c?.close();
  await h?.close();
});

describe('argument fuzzing (fast-check, schema-derived + hostile)', () => {
  it('answers every generated call with a result or a typed error, one audit event each, and pays nothing', {
    timeout: 60_000,
  }, async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'escalate_ticket',
        'issue_service_credit',
        'add_internal_note',
        'lookup_ticket',
      ]),
    );
    const summary = await fuzzTools({
      tools,
      runsPerTool: RUNS_PER_TOOL,
      budgetMs: TIME_BUDGET_MS,
      seed: 515_151,
      call: (name, args) =>
        c.client.callTool({ name, arguments: args }, { timeout: 15_000 }).catch((error: Error) => {
          // A dead or hung server: say what it last wrote.
          throw new Error(`${name}: ${error.message}; server stderr: ${c.stderr().slice(-3_000)}`);
        }),
      inspect: (tool, _args, result) => {
        if (JSON.stringify(result).includes(CANARY)) throw new Error(`${tool} returned the upstream token`);
      },
    });
    for (const tool of tools) expect(summary.perTool.get(tool.name) ?? 0).toBeGreaterThanOrEqual(10);
    expect(summary.codes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(summary.codes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
    expect((await c.client.listTools()).tools).toHaveLength(tools.length);

    // Nothing was escalated or paid: the only upstream writes are notes (which need no approval).
    const mutations = await writes(h);
    expect(mutations.filter((r) => /\/(escalations|credits)/.test(r.path))).toEqual([]);
    expect(mutations.every((r) => r.path.endsWith('/notes'))).toBe(true);

    // One call event per request: one per tools/call, plus the approval round of each
    // side effect the human was asked about (2026 input-required: a second request, same call id).
    await eventually(() => readAudit(auditFile, 'call').length >= summary.calls || undefined, 10_000);
    const events = readAudit(auditFile, 'call');
    const asked = events.filter((e) => e.decision === 'approval_requested');
    const declined = events.filter((e) => e.decision === 'declined');
    expect(declined).toHaveLength(asked.length);
    expect(shown).toHaveLength(asked.length);
    const kinds = events.reduce<Record<string, number>>((acc, e) => {
      const key = `${e.name}:${e.decision}`;
      acc[key] = (acc[key] ?? 0) + 1;
      return acc;
    }, {});
    expect(events, JSON.stringify(kinds)).toHaveLength(summary.calls + asked.length);
    expect(events.every((e) => e.kind === 'tool')).toBe(true);
    // Each declined call answered APPROVAL_DECLINED, nothing else.
    expect(summary.codes.get('APPROVAL_DECLINED') ?? 0).toBe(declined.length);
    expect(c.stderr()).not.toContain('unhandled rejection');
    expect(c.stderr()).not.toContain(CANARY);
  });

  it('answers arguments over the 5,000-element cap with a typed error and an audit event', async () => {
    const before = readAudit(auditFile, 'call').length;
    const result = await c.client.callTool({ name: 'search_tickets', arguments: ELEMENT_CAP_PROBE });
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    await eventually(() => readAudit(auditFile, 'call').length === before + 1 || undefined, 2_000);
  });
});
