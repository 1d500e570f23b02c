import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../testing/fixture/server.ts';
import { policyCommand } from './rules-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = `@id("base")
permit (principal, action, resource);

// Destructive actions in production only for leads, and only during working hours (UTC).
@id("prod-needs-lead")
forbid (principal, action in Gatehouse::Action::"destructive", resource)
when { resource has environment && resource.environment == "production" }
unless { principal.groups.contains("lead") && context.hour >= 9 && context.hour < 17 };
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('<bin> policy', () => {
  it('check: a policy that fits the definitions is ok, with its hash', async () => {
    const outcome = await policyCommand(fixture, ['check', write('ok.cedar', POLICY)], {});
    expect(outcome).toMatchObject({ code: 0 });
    expect(outcome.code === 0 && outcome.stdout).toMatch(
      /ok, fits the \d+ tools of fixture \(sha256 [0-9a-f]{64}\)/,
    );
  });

  it('check: a syntax error or an unknown action is one line naming where (exit 1)', async () => {
    const syntax = await policyCommand(
      fixture,
      ['check', write('syntax.cedar', 'permit (principal,, action);')],
      {},
    );
    expect(syntax.code).toBe(1);
    expect(syntax.code === 1 && syntax.stdout).toMatch(/syntax\.cedar:1:\d+: /);
    const unknown = await policyCommand(
      fixture,
      ['check', write('unknown.cedar', 'permit (principal, action == Gatehouse::Action::"nope", resource);')],
      {},
    );
    expect(unknown.code).toBe(1);
    expect(unknown.code === 1 && unknown.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('explain: allow or deny, and why', async () => {
    const file = write('explain.cedar', POLICY);
    const explain = async (...extra: string[]) => {
      const outcome = await policyCommand(
        fixture,
        ['explain', '--tool', 'act_on_item', '--scopes', 'fixture:read,fixture:write,fixture:prod', ...extra],
        { FIXTURE_POLICY_FILE: file },
      );
      return JSON.parse(outcome.code === 2 ? '{}' : outcome.stdout);
    };
    const prod = ['--args', '{"item":"orders-api","environment":"production"}'];
    expect(await explain('--principal', 'ann', ...prod, '--at', '2026-12-03T10:00:00Z')).toMatchObject({
      decision: 'deny',
      reasons: ['forbidden by prod-needs-lead'],
    });
    expect(
      await explain('--principal', 'lea', '--groups', 'lead', ...prod, '--at', '2026-12-03T10:00:00Z'),
    ).toMatchObject({ decision: 'allow', reasons: ['permitted by base'] });
    expect(
      await explain('--principal', 'lea', '--groups', 'lead', ...prod, '--at', '2026-12-03T20:00:00Z'),
    ).toMatchObject({ decision: 'deny' });
    expect(
      await explain('--principal', 'ann', '--args', '{"item":"orders-api","environment":"staging"}'),
    ).toMatchObject({ decision: 'allow' });
  });

  it('usage problems are exit 2', async () => {
    expect((await policyCommand(fixture, ['check'], {})).code).toBe(2);
    expect(
      (
        await policyCommand(fixture, ['explain', '--tool', 'x'], {
          FIXTURE_POLICY_FILE: write('p.cedar', POLICY),
        })
      ).code,
    ).toBe(2);
  });
});
