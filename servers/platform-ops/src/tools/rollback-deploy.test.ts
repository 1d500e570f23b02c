import {
  type ApprovalAnswer,
  connectV1,
  connectV2,
  errorOf,
  readAudit,
  withClient,
} from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, type AnyClient, type Harness, startHarness } from '../../test/harness.ts';
import platformOps from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ROLLBACK = {
  service: 'payments-gateway',
  environment: 'staging',
  reason: 'error rate doubled after 2.3 deploy',
} as const;

/** Clears the upstream's request log, then runs `body` over a fresh session that holds every scope. */
async function withAllScopes(
  connect: typeof connectV2 | typeof connectV1,
  options: { approval: ApprovalAnswer; shown?: string[] },
  body: (client: AnyClient, env: ReturnType<Harness['env']>) => Promise<void>,
) {
  await h.control.clearRequests();
  const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES });
  await withClient<AnyClient, void>(connect({ server: platformOps, env, ...options }), ({ client }) =>
    body(client, env),
  );
}

async function posts() {
  return (await h.control.requests()).filter((r) => r.method === 'POST');
}

describe.each([
  ['v2 client, input-required rounds', connectV2],
  ['v1 client, elicitation shim', connectV1],
] as const)('human approval (%s)', (_label, connect) => {
  it('runs an approved rollback exactly once, with the approval id as idempotency key', async () => {
    const shown: string[] = [];
    await withAllScopes(connect, { approval: 'accept', shown }, async (client, env) => {
      const result = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        service: 'payments-gateway',
        environment: 'staging',
        status: 'started',
      });
      // The human saw what the server rendered from validated arguments.
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('rollback_deploy');
      expect(shown[0]).toContain('Environment: staging');
      expect(shown[0]).toContain(JSON.stringify(ROLLBACK.reason));

      const sent = await posts();
      expect(sent).toHaveLength(1);
      const calls = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      const approved = calls.find((r) => r.decision === 'approved')!;
      expect(approved).toMatchObject({
        name: 'rollback_deploy',
        outcome: 'ok',
        upstreamStatus: 201,
        approval: { mode: 'elicit' },
      });
      expect(sent[0]!.idempotencyKey).toBe((approved.approval as { id: string }).id);
      // Every round of one approval shares a call id.
      const requested = calls.find((r) => r.decision === 'approval_requested')!;
      expect(requested).toMatchObject({ outcome: 'pending' });
      expect(requested.callId).toBe(approved.callId);
      const intents = readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'intent');
      expect(intents).toHaveLength(1);
      expect(intents[0]!.callId).toBe(approved.callId);
    });
  });

  it('does nothing when the human declines', async () => {
    await withAllScopes(connect, { approval: 'decline' }, async (client, env) => {
      const result = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
      expect(errorOf(result)?.code).toBe('APPROVAL_DECLINED');
      expect(await posts()).toHaveLength(0);
      expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE).at(-1)).toMatchObject({
        decision: 'declined',
        outcome: 'error',
        errorCode: 'APPROVAL_DECLINED',
      });
      expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'intent')).toHaveLength(0);
      // The request for approval and the refusal read as one action.
      const [requested, declined] = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      expect(requested).toMatchObject({ decision: 'approval_requested' });
      expect(declined!.callId).toBe(requested!.callId);
    });
  });

  it('refuses with APPROVAL_REQUIRED when the client offers no way to ask a human', async () => {
    await withAllScopes(connect, { approval: 'none' }, async (client) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('rollback_deploy');
      const result = await client.callTool({
        name: 'rollback_deploy',
        arguments: { ...ROLLBACK, confirm: true },
      });
      // `confirm: true` from a model is not consent: it is simply an unknown argument.
      expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
      const plain = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
      expect(errorOf(plain)?.code).toBe('APPROVAL_REQUIRED');
      expect(errorOf(plain)?.message).toMatch(/elicitation|two-step/);
      expect(await posts()).toHaveLength(0);
    });
  });
});

describe('two-step approval (operator opt-in)', () => {
  it('plans, executes once with the token, and refuses a replayed or re-targeted token', async () => {
    await h.control.clearRequests();
    const stateKey = 'k'.repeat(48);
    const env = h.env({
      PLATFORM_OPS_SCOPES: ALL_SCOPES,
      PLATFORM_OPS_APPROVAL_MODE: 'two-step',
      PLATFORM_OPS_STATE_KEY: stateKey,
    });
    await withClient(connectV2({ server: platformOps, env, approval: 'none' }), async ({ client }) => {
      const plan = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
      const planned = errorOf(plan)!;
      expect(planned.code).toBe('APPROVAL_REQUIRED');
      const token = planned.details?.approvalToken as string;
      expect(token).toBeTypeOf('string');
      expect(await posts()).toHaveLength(0);

      const other = await client.callTool({
        name: 'rollback_deploy',
        arguments: { ...ROLLBACK, environment: 'development', approval_token: token },
      });
      expect(errorOf(other)?.code).toBe('DENIED');
      const forged = await client.callTool({
        name: 'rollback_deploy',
        arguments: { ...ROLLBACK, approval_token: `${token.slice(0, -4)}AAAA` },
      });
      expect(errorOf(forged)?.code).toBe('DENIED');

      const run = await client.callTool({
        name: 'rollback_deploy',
        arguments: { ...ROLLBACK, approval_token: token },
      });
      expect(run.isError).toBeFalsy();
      const replay = await client.callTool({
        name: 'rollback_deploy',
        arguments: { ...ROLLBACK, approval_token: token },
      });
      expect(errorOf(replay)?.code).toBe('DENIED');
      expect(await posts()).toHaveLength(1);

      // Another replica (same state key) does not know the token was spent, but the upstream
      // idempotency key makes the replay a no-op there: same rollback, no second effect.
      const replicaEnv = { ...env, PLATFORM_OPS_AUDIT_FILE: `${env.PLATFORM_OPS_AUDIT_FILE}.replica` };
      const connecting = connectV2({ server: platformOps, env: replicaEnv, approval: 'none' });
      await withClient(connecting, async ({ client: replica }) => {
        const again = await replica.callTool({
          name: 'rollback_deploy',
          arguments: { ...ROLLBACK, approval_token: token },
        });
        expect(errorOf(again)).toBeUndefined();
        expect((again.structuredContent as { rollbackId: string }).rollbackId).toBe(
          (run.structuredContent as { rollbackId: string }).rollbackId,
        );
      });
      const sent = await posts();
      expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);
      // The token itself never lands in the audit trail.
      expect(JSON.stringify(readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all'))).not.toContain(token);
    });
  });
});

describe('without the write scope', () => {
  it('audits calls to unknown or hidden tools', async () => {
    const env = h.env();
    await withClient(connectV2({ server: platformOps, env }), async ({ client }) => {
      await expect(
        client.callTool({ name: 'rollback_deploy', arguments: { service: 'x' } }),
      ).rejects.toThrow();
      expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE).at(-1)).toMatchObject({
        kind: 'protocol',
        name: 'rollback_deploy',
        decision: 'unknown',
        errorCode: 'UNKNOWN_TOOL',
      });
    });
  });
});

describe('audit trail', () => {
  it('records the fields a reviewer needs, with secrets redacted', async () => {
    const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES });
    await withClient(connectV2({ server: platformOps, env, approval: 'decline' }), async ({ client }) => {
      await client.callTool({
        name: 'list_recent_deploys',
        arguments: { service: 'checkout-api', limit: 2 },
      });
      await client.callTool({
        name: 'rollback_deploy',
        arguments: {
          service: 'checkout-api',
          environment: 'staging',
          reason: 'contact ops@example.com or +1 415 555 0100',
        },
      });
    });
    const [list, rollback] = readAudit(env.PLATFORM_OPS_AUDIT_FILE).filter(
      (r) => r.decision !== 'approval_requested',
    );
    expect(list).toMatchObject({
      event: 'call',
      server: 'platform-ops',
      principal: { id: 'local-operator', kind: 'local' },
      kind: 'tool',
      name: 'list_recent_deploys',
      args: { service: 'checkout-api', limit: 2 },
      decision: 'allowed',
      outcome: 'ok',
      upstreamStatus: 200,
      upstreamCalls: 1,
    });
    for (const field of ['time', 'seq', 'callId', 'requestId', 'argsDigest', 'durationMs', 'mac'])
      expect(list).toHaveProperty(field);
    expect(rollback).toMatchObject({
      name: 'rollback_deploy',
      decision: 'declined',
      errorCode: 'APPROVAL_DECLINED',
    });
    const text = JSON.stringify(rollback);
    expect(text).not.toContain('ops@example.com');
    expect(text).not.toContain('555 0100');
  });

  it('refuses a side effect when the audit trail cannot be written', async () => {
    await h.control.clearRequests();
    const env = h.env({
      PLATFORM_OPS_SCOPES: ALL_SCOPES,
      PLATFORM_OPS_AUDIT_FILE: '/dev/full',
      PLATFORM_OPS_AUDIT_KEY: 'a-test-audit-key-0123456789',
    });
    await withClient(connectV2({ server: platformOps, env, approval: 'accept' }), async ({ client }) => {
      const result = await client.callTool({
        name: 'rollback_deploy',
        arguments: { service: 'checkout-api', environment: 'staging', reason: 'audit must block this' },
      });
      expect(errorOf(result)?.code).toBe('AUDIT_UNAVAILABLE');
      expect(await posts()).toHaveLength(0);
    });
  });
});
