/**
 * Argument fuzzing: every docs tool, arguments derived from its advertised
 * input schema plus hostile values (traversal, NUL, bidi, 1 MB strings, deep
 * objects), through ONE long-lived real client against a copy of the handbook
 * (with symlinks out of the root) and the sandbox wiki. The server never
 * crashes or hangs, every call ends in a result or a typed tool error, every
 * call leaves exactly one audit event, and nothing outside DOCS_ROOT leaks.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ELEMENT_CAP_PROBE, fuzzTools } from '@gatehouse/bench/fuzz';
import { type Connected, connectV2, errorOf, eventually, readAudit } from '@gatehouse/core/testing';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY_TOKEN, type Harness, OUTSIDE_SECRET, startHarness } from './harness.ts';

const RUNS_PER_TOOL = 100;
const TIME_BUDGET_MS = 12_000;

let h: Harness;
let c: Connected<Client>;
let auditFile: string;
beforeAll(async () => {
  h = await startHarness();
  const root = h.handbook('fuzz');
  // Ways out of the root the fuzzer's traversal strings could hit.
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(root, '..', 'fuzz-outside', 'secret.md'), join(root, 'guides', 'escape.md'));
  const env = h.env({ DOCS_ROOT: root, DOCS_LOG_LEVEL: 'warn' });
  auditFile = env.DOCS_AUDIT_FILE;
  c = await connectV2({ bin: BIN, env, approval: 'decline' });
}, 30_000);
afterAll(async () => {
  await c?.close();
  await h?.close();
});

describe('argument fuzzing (fast-check, schema-derived + hostile)', () => {
  it('answers every generated call with a result or a typed error, one audit event each, and stays up', {
    timeout: 60_000,
  }, async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'find_service_owner',
      'get_document',
      'list_adrs',
      'search_docs',
    ]);
    const summary = await fuzzTools({
      tools,
      runsPerTool: RUNS_PER_TOOL,
      budgetMs: TIME_BUDGET_MS,
      call: (name, args) =>
        c.client.callTool({ name, arguments: args }, { timeout: 15_000 }).catch((error: Error) => {
          // A dead or hung server: say what it last wrote.
          throw new Error(`${name}: ${error.message}; server stderr: ${c.stderr().slice(-3_000)}`);
        }),
      inspect: (tool, _args, result) => {
        const text = JSON.stringify(result);
        if (text.includes(OUTSIDE_SECRET)) throw new Error(`${tool} returned text from outside DOCS_ROOT`);
        if (text.includes('root:x:0:0')) throw new Error(`${tool} returned /etc/passwd`);
        if (text.includes(CANARY_TOKEN)) throw new Error(`${tool} returned the upstream token`);
      },
    });
    // Every tool got a fair share, and both paths were exercised.
    for (const tool of tools) expect(summary.perTool.get(tool.name) ?? 0).toBeGreaterThanOrEqual(10);
    expect(summary.codes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(summary.codes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
    // Alive and serving after everything.
    expect((await c.client.listTools()).tools).toHaveLength(tools.length);
    const ok = await c.client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } });
    expect(ok.isError).toBeFalsy();
    // Exactly one call event per tools/call (read-only server: no approval rounds).
    await eventually(() => readAudit(auditFile, 'call').length >= summary.calls + 1 || undefined, 10_000);
    const events = readAudit(auditFile, 'call');
    expect(events).toHaveLength(summary.calls + 1);
    expect(events.every((e) => e.kind === 'tool')).toBe(true);
    const byOutcome = events.reduce<Record<string, number>>((acc, e) => {
      const key = e.outcome === 'ok' ? 'ok' : String(e.errorCode);
      acc[key] = (acc[key] ?? 0) + 1;
      return acc;
    }, {});
    // The audit tells the same story as the answers (+1: the final search).
    expect(byOutcome.ok).toBe((summary.codes.get('ok') ?? 0) + 1);
    expect(byOutcome.INVALID_ARGUMENT).toBe(summary.codes.get('INVALID_ARGUMENT'));
    expect(c.stderr()).not.toContain('unhandled rejection');
    expect(c.stderr()).not.toContain(CANARY_TOKEN);
  });

  it('answers arguments over the 5,000-element cap with a typed error and an audit event', async () => {
    const before = readAudit(auditFile, 'call').length;
    const result = await c.client.callTool({ name: 'search_docs', arguments: ELEMENT_CAP_PROBE });
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    await eventually(() => readAudit(auditFile, 'call').length === before + 1 || undefined, 2_000);
  });
});
