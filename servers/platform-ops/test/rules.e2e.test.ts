/**
 * Rules as code through the built binary: Cedar loads from the bundle, a malformed policy stops the
 * start with one line and exit 2, and `policy check` / `policy explain` answer on stdout.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const policy = (name: string, text: string) => {
  const file = join(h.dir, name);
  writeFileSync(file, text);
  return file;
};

describe('policy file (binary)', () => {
  it('a malformed policy refuses the start: one line naming the place, exit 2', async () => {
    const file = policy(
      'bad.cedar',
      'permit (principal, action, resource);\nforbid (principal, action resource);\n',
    );
    const { code, stdout, stderr } = await runCli(BIN, [], h.env({ PLATFORM_OPS_POLICY_FILE: file }));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`${file}:2:27: unexpected token`);
  });

  it('policy check and policy explain', async () => {
    const file = policy(
      'window.cedar',
      `@id("base")
permit (principal, action, resource);
@id("prod-rollback-window")
forbid (principal, action == Gatehouse::Action::"rollback_deploy", resource)
when { resource has environment && resource.environment == "production" }
unless { context.hour >= 9 && context.hour < 16 };
`,
    );
    const check = await runCli(BIN, ['policy', 'check', file], {});
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/ok, fits the \d+ tools of platform-ops/);
    const args = '{"service":"checkout-api","environment":"production","reason":"error rate doubled"}';
    const explain = (at: string) =>
      runCli(
        BIN,
        [
          'policy',
          'explain',
          '--principal',
          'ann',
          '--scopes',
          'platform-ops:write',
          '--tool',
          'rollback_deploy',
          '--args',
          args,
          '--at',
          at,
        ],
        {
          PLATFORM_OPS_POLICY_FILE: file,
        },
      );
    expect(JSON.parse((await explain('2026-12-03T20:00:00Z')).stdout)).toMatchObject({
      decision: 'deny',
      reasons: ['forbidden by prod-rollback-window'],
    });
    expect(JSON.parse((await explain('2026-12-03T10:00:00Z')).stdout)).toMatchObject({ decision: 'allow' });
  });
});
