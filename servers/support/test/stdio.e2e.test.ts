/**
 * What only the real binary shows: stdout carrying nothing but JSON-RPC,
 * --version/--help and exit codes, the verify-audit command, and canaries on
 * the process's own stdout and stderr. Build first: pnpm --filter @gatehouse/support build.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { initializeLine } from '@gatehouse/bench/protocol';
import { connectV1, connectV2, errorOf, readAudit, runCli, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  allTickets,
  BIN,
  CANARY,
  type Harness,
  ok,
  startHarness,
  type TicketSummaryJson,
} from './harness.ts';

let h: Harness;
let tickets: TicketSummaryJson[];
beforeAll(async () => {
  h = await startHarness();
  tickets = await allTickets(h);
}, 60_000);
afterAll(() => h.close());

const runBin = (args: string[], env: Record<string, string>) => runCli(BIN, args, env);

const INIT = initializeLine(1);

describe('the stdio channel', () => {
  it('carries only JSON-RPC on stdout, while logging at trace level and answering garbage', async () => {
    const peer = spawnRaw({
      bin: BIN,
      env: h.env({ SUPPORT_LOG_LEVEL: 'trace', SUPPORT_SCOPES: ALL_SCOPES }),
    });
    try {
      peer.send(INIT);
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      peer.send('{ not json');
      expect(
        (await peer.next((m) => (m.error as { code?: number } | undefined)?.code === -32700)).id,
      ).toBeNull();
      peer.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      expect(((await peer.next((m) => m.id === 2)).result as { tools: unknown[] }).tools).toHaveLength(7);
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'lookup_ticket', arguments: { ticket_id: tickets[0]!.id } },
        }),
      );
      expect(((await peer.next((m) => m.id === 3)).result as { isError?: boolean }).isError).toBeFalsy();
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 4,
          method: 'tools/call',
          params: {
            name: 'issue_service_credit',
            arguments: {
              customer_id: tickets[0]!.customerId,
              amount_cents: 100,
              reason: 'raw peer without elicitation',
            },
          },
        }),
      );
      expect(((await peer.next((m) => m.id === 4)).result as { isError?: boolean }).isError).toBe(true);
      expect(peer.lines.length).toBeGreaterThanOrEqual(5);
      for (const line of peer.lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
      expect(peer.stderr()).toContain('"msg":"serving"');
    } finally {
      expect(await peer.close()).toBe(0);
    }
  });
});

describe('start-up', () => {
  it('answers --version and --help without credentials', async () => {
    const version = await runBin(['--version'], {});
    expect(version).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`,
    });
    const help = await runBin(['--help'], {});
    expect(help.code).toBe(0);
    for (const word of ['SUPPORT_API_TOKEN', 'SUPPORT_MAX_CREDIT_CENTS', 'support:credit', 'support:pii'])
      expect(help.stdout).toContain(word);
  });

  it.each([
    [{}, 'SUPPORT_API_URL is required'],
    [{ SUPPORT_API_URL: 'http://127.0.0.1:1' }, 'SUPPORT_API_TOKEN is required'],
    [
      { SUPPORT_API_URL: 'http://127.0.0.1:1', SUPPORT_API_TOKEN: 't', SUPPORT_MAX_CREDIT_CENTS: 'lots' },
      'SUPPORT_MAX_CREDIT_CENTS is invalid',
    ],
    [
      { SUPPORT_API_URL: 'http://127.0.0.1:1', SUPPORT_API_TOKEN: 't', SUPPORT_MAX_CREDIT_CENTS: '0' },
      'SUPPORT_MAX_CREDIT_CENTS is invalid',
    ],
    [
      { SUPPORT_API_URL: 'http://127.0.0.1:1', SUPPORT_API_TOKEN: 't', SUPPORT_MAX_CREDIT_CENTS: '5000000' },
      'SUPPORT_MAX_CREDIT_CENTS is invalid',
    ],
  ])('refuses bad configuration with one clear line: %j', async (env, line) => {
    const result = await runBin([], env as Record<string, string>);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toContain(line);
  });
});

describe('audit trail', () => {
  it('records every decision of a credit, field by field, and the chain verifies', async () => {
    const ticket = tickets.find((t) => t.status === 'open')!;
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES, SUPPORT_MAX_CREDIT_CENTS: '5000' });
    const contact = 'Refund to jane.doe@example.org, call +1 415 555 0100, card pm_card_visa_4242';
    await h.control.clearRequests();
    const accept = await connectV2({ bin: BIN, env, approval: 'accept' });
    try {
      ok(
        await accept.client.callTool({
          name: 'issue_service_credit',
          arguments: {
            customer_id: ticket.customerId,
            amount_cents: 3_000,
            reason: contact,
            ticket_id: ticket.id,
          },
        }),
      );
      await accept.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 9_000, reason: contact },
      });
    } finally {
      await accept.close();
    }
    const decline = await connectV1({ bin: BIN, env, approval: 'decline' });
    try {
      await decline.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 1_000, reason: contact },
      });
    } finally {
      await decline.close();
    }
    const sent = (await h.control.requests()).filter((r) => r.method === 'POST');
    expect(sent).toHaveLength(1);

    const file = env.SUPPORT_AUDIT_FILE;
    // verify-audit finds the key and the checkpoints where the server put them.
    const trail = {
      SUPPORT_AUDIT_KEY_DIR: env.SUPPORT_AUDIT_KEY_DIR!,
      SUPPORT_AUDIT_ANCHOR_DIR: env.SUPPORT_AUDIT_ANCHOR_DIR!,
    };
    const all = readAudit(file, 'all');
    expect(all.map((r) => [r.event, r.decision, r.outcome, r.errorCode ?? null])).toEqual([
      ['call', 'approval_requested', 'pending', null],
      ['intent', 'approved', 'pending', null],
      ['call', 'approved', 'ok', null],
      ['call', 'invalid', 'error', 'LIMIT_EXCEEDED'],
      ['call', 'approval_requested', 'pending', null],
      ['call', 'declined', 'error', 'APPROVAL_DECLINED'],
    ]);
    const [requested, intent, approved, limited, , declined] = all;
    const approval = approved!.approval as { id: string; mode: string };
    expect(approval).toEqual({ id: expect.any(String), mode: 'elicit' });
    expect(intent!.approval).toEqual(approval);
    expect(sent[0]!.idempotencyKey).toBe(approval.id);
    expect(new Set([requested!.callId, intent!.callId, approved!.callId]).size).toBe(1);
    expect(approved).toMatchObject({
      server: 'support',
      principal: { id: 'local-operator', kind: 'local' },
      kind: 'tool',
      name: 'issue_service_credit',
      upstreamStatus: 201,
      upstreamCalls: 1,
      args: {
        customer_id: ticket.customerId,
        amount_cents: 3_000,
        ticket_id: ticket.id,
        reason: 'Refund to j***@example.org, call ***-***-00, card pm_****4242',
      },
    });
    for (const field of ['time', 'seq', 'callId', 'requestId', 'argsDigest', 'durationMs', 'mac'])
      expect(approved).toHaveProperty(field);
    expect(limited).toMatchObject({ upstreamCalls: 0, args: { amount_cents: 9_000 } });
    expect(limited).not.toHaveProperty('approval');
    expect(declined).toMatchObject({ upstreamCalls: 0, args: { amount_cents: 1_000 } });
    // Personal data in arguments never lands in the file.
    const raw = readFileSync(file, 'utf8');
    for (const value of ['jane.doe@example.org', '555 0100', 'pm_card_visa_4242'])
      expect(raw).not.toContain(value);

    const verified = await runBin(['verify-audit', file], trail);
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.stdout).toContain(`${all.length} events`);
    const lines = raw.trimEnd().split('\n');
    writeFileSync(
      file,
      `${[lines[0], lines[1], lines[2]!.replace('"amount_cents":3000', '"amount_cents":300'), ...lines.slice(3)].join('\n')}\n`,
    );
    const tampered = await runBin(['verify-audit', file], trail);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('event 3');
  });
});

describe('secrets', () => {
  it('never shows the upstream token in stdout, stderr, audit or results', async () => {
    expect(h.sandbox.tokens.support).toBe(CANARY);
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES, SUPPORT_LOG_LEVEL: 'trace' });
    const outputs: string[] = [];
    const c = await connectV2({ bin: BIN, env, approval: 'decline' });
    try {
      await h.control.setFaults([{ path: `/support/v1/tickets/${tickets[1]!.id}`, status: 500, times: 3 }]);
      for (const call of [
        { name: 'lookup_ticket', arguments: { ticket_id: tickets[0]!.id } },
        { name: 'lookup_ticket', arguments: { ticket_id: tickets[1]!.id } },
        { name: 'search_tickets', arguments: { query: 'refund' } },
        { name: 'get_customer_status', arguments: { customer_id: tickets[0]!.customerId } },
      ]) {
        outputs.push(JSON.stringify(await c.client.callTool(call)));
      }
      expect(errorOf(JSON.parse(outputs[1]!))?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await h.control.clearFaults();
      await c.close();
    }
    expect(outputs.join('\n')).not.toContain(CANARY);
    expect(c.stderr().length).toBeGreaterThan(0);
    expect(c.stderr()).not.toContain(CANARY);
    expect(readFileSync(env.SUPPORT_AUDIT_FILE, 'utf8')).not.toContain(CANARY.slice(8));
    const seen = await h.control.requests();
    expect(seen.every((r) => r.tokenDomain === 'support')).toBe(true);
  });
});
