/**
 * Rules as code (PLATFORM_OPS_POLICY_FILE, Cedar) through a real v2 client: a production rollback only
 * inside a change window, a rule without argument conditions hiding a tool from the list, a refusal
 * naming its rule with the policy's hash in the audit, and a malformed policy refusing the start.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, errorOf, readAudit, startInProcess, withClient } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, type Harness, startHarness } from '../test/harness.ts';
import platformOps from './index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ROLLBACK = { service: 'payments-gateway', environment: 'production', reason: 'error rate doubled' };
let n = 0;

/** A policy file: everything the other filters allow, except production rollbacks outside [start, end) UTC. */
function windowPolicy(start: number, end: number): string {
  const file = join(h.dir, `window-${++n}.cedar`);
  writeFileSync(
    file,
    `@id("base")
permit (principal, action, resource);

// Production rollbacks only inside the change window.
@id("prod-rollback-window")
forbid (principal, action == Gatehouse::Action::"rollback_deploy", resource)
when { resource has environment && resource.environment == "production" }
unless { context.hour >= ${start} && context.hour < ${end} };
`,
  );
  return file;
}

async function rollback(policyFile: string, args: Record<string, string> = ROLLBACK) {
  const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES, PLATFORM_OPS_POLICY_FILE: policyFile });
  await h.control.clearRequests();
  const result = await withClient(connectV2({ server: platformOps, env, approval: 'accept' }), ({ client }) =>
    client.callTool({ name: 'rollback_deploy', arguments: args }),
  );
  const posts = (await h.control.requests()).filter((r) => r.method === 'POST');
  return { result, posts, audit: readAudit(env.PLATFORM_OPS_AUDIT_FILE, 'all'), env };
}

describe('a change window for production rollbacks (Cedar)', () => {
  it('forbids a production rollback outside the window, naming the rule, with no upstream call', async () => {
    const hour = new Date().getUTCHours();
    const file = windowPolicy((hour + 1) % 24, ((hour + 1) % 24) + 1);
    const { result, posts, audit } = await rollback(file);
    const error = errorOf(result);
    expect(error?.code).toBe('DENIED');
    expect(error?.message).toContain('prod-rollback-window');
    expect(error?.details).toMatchObject({ rules: ['prod-rollback-window'] });
    expect(posts).toEqual([]);
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(audit.at(-1)).toMatchObject({ decision: 'denied', errorCode: 'DENIED', policy: hash });
    expect(audit.every((r) => r.policy === hash)).toBe(true);
  });

  it('permits it inside the window (and a staging rollback at any time)', async () => {
    const hour = new Date().getUTCHours();
    const inside = await rollback(windowPolicy(hour, hour + 1));
    expect(inside.result.isError, JSON.stringify(inside.result.content)).toBeFalsy();
    expect(inside.posts).toHaveLength(1);
    const staging = await rollback(windowPolicy((hour + 1) % 24, ((hour + 1) % 24) + 1), {
      ...ROLLBACK,
      environment: 'staging',
    });
    expect(staging.result.isError).toBeFalsy();
  });
});

describe('listing', () => {
  it('a rule without argument conditions hides the tool; a rule on arguments does not', async () => {
    const onlySre = join(h.dir, 'only-sre.cedar');
    writeFileSync(
      onlySre,
      `permit (principal, action, resource);
@id("rollbacks-for-sre")
forbid (principal, action == Gatehouse::Action::"rollback_deploy", resource)
unless { principal.groups.contains("sre") };
`,
    );
    const names = async (file: string) => {
      const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES, PLATFORM_OPS_POLICY_FILE: file });
      return withClient(connectV2({ server: platformOps, env }), async ({ client }) =>
        (await client.listTools()).tools.map((t) => t.name),
      );
    };
    const hidden = await names(onlySre);
    expect(hidden).not.toContain('rollback_deploy');
    expect(hidden).toContain('get_service_health');
    const hour = new Date().getUTCHours();
    expect(await names(windowPolicy((hour + 1) % 24, ((hour + 1) % 24) + 1))).toContain('rollback_deploy');
  });
});

describe('a bad policy refuses the start', () => {
  const start = (text: string) => {
    const file = join(h.dir, `bad-${++n}.cedar`);
    writeFileSync(file, text);
    return {
      file,
      starting: startInProcess(platformOps, { env: h.env({ PLATFORM_OPS_POLICY_FILE: file }) }),
    };
  };

  it('a syntax error: one line naming file, line and column', async () => {
    const { file, starting } = start(
      'permit (principal, action, resource);\nforbid (principal, action resource);\n',
    );
    await expect(starting).rejects.toThrow(new RegExp(`^${file}:2:\\d+: `));
  });

  it('a rule that does not fit the definitions (unknown attribute or tool)', async () => {
    const { file, starting } = start(
      'permit (principal, action == Gatehouse::Action::"drop_database", resource);\n',
    );
    await expect(starting).rejects.toThrow(new RegExp(`^${file}: `));
  });
});
