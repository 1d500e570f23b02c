import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { loadHttpSettings } from '../http/settings.ts';
import { fixture, SCOPES, startHarness } from '../testing/fixture/harness.ts';
import { PUBLIC_URL, startHttp } from '../testing/fixture/http.ts';
import { errorOf } from '../testing/index.ts';
import { assertRuleNames, ruleFor } from './settings.ts';

const load = (env: Record<string, string>) => loadHttpSettings('X', env, { noAuth: true }).approval;
const TOOLS = new Map([
  ['rollback_deploy', ['service', 'environment', 'reason']],
  ['issue_service_credit', ['customer_id', 'amount_cents', 'reason']],
]);

describe('out-of-band approval settings', () => {
  it('defaults to an in-memory SQLite store, 15 minutes, no webhook and no four-eyes rule', () => {
    expect(load({})).toEqual({
      store: 'sqlite::memory:',
      pendingSeconds: 900,
      clientId: undefined,
      clientSecret: undefined,
      webhook: undefined,
      fourEyes: [],
    });
  });

  it('refuses a bad store, a half-configured webhook and malformed rules, in one line each', () => {
    expect(() => load({ X_APPROVAL_STORE: 'mysql://db' })).toThrow(
      /X_APPROVAL_STORE is invalid: must be sqlite/,
    );
    expect(() => load({ X_APPROVAL_WEBHOOK_URL: 'https://hooks.example/a' })).toThrow(/go together/);
    expect(() => load({ X_FOUR_EYES: '{not json' })).toThrow(/X_FOUR_EYES is invalid: not JSON/);
    expect(() => load({ X_FOUR_EYES: '[{"tool":"rollback_deploy","approvals":9}]' })).toThrow(
      /X_FOUR_EYES is invalid: 0\.approvals/,
    );
    expect(() => load({ X_FOUR_EYES: '[{"tool":"rollback_deploy","when":"always"}]' })).toThrow(
      /X_FOUR_EYES is invalid/,
    );
  });

  it('refuses unknown tool and argument names like every other list of names', () => {
    expect(() => assertRuleNames('X', [{ tool: 'rollback_deploys', approvals: 1 }], TOOLS)).toThrow(
      /X_FOUR_EYES names an unknown tool "rollback_deploys" \(did you mean "rollback_deploy"\?\)/,
    );
    expect(() =>
      assertRuleNames(
        'X',
        [{ tool: 'issue_service_credit', atLeast: { amount: 50_000 }, approvals: 1 }],
        TOOLS,
      ),
    ).toThrow(/unknown argument "amount" of issue_service_credit/);
  });

  it('matches rules by tool, environment and numeric bounds', () => {
    const rules = load({
      X_FOUR_EYES: JSON.stringify([
        { tool: 'rollback_deploy', environments: ['production'] },
        { tool: 'issue_service_credit', atLeast: { amount_cents: 50_000 }, approvals: 2 },
      ]),
    }).fourEyes;
    expect(ruleFor(rules, 'rollback_deploy', {}, 'production')).toMatchObject({ approvals: 1 });
    expect(ruleFor(rules, 'rollback_deploy', {}, 'staging')).toBeUndefined();
    expect(ruleFor(rules, 'issue_service_credit', { amount_cents: 50_000 }, undefined)).toMatchObject({
      approvals: 2,
    });
    expect(ruleFor(rules, 'issue_service_credit', { amount_cents: 49_999 }, undefined)).toBeUndefined();
  });

  it('refuses to start with a rule for an unknown tool, or rules nobody could sign in to satisfy', async () => {
    const h = await startHarness();
    try {
      const base = { FIXTURE_PUBLIC_URL: PUBLIC_URL, FIXTURE_OAUTH_ISSUER: 'http://127.0.0.1:9' };
      await expect(
        startHttp(fixture, {
          env: h.env({
            ...base,
            FIXTURE_APPROVAL_CLIENT_ID: 'page',
            FIXTURE_FOUR_EYES: '[{"tool":"act_on_items"}]',
          }),
        }),
      ).rejects.toThrow(/FIXTURE_FOUR_EYES names an unknown tool "act_on_items"/);
      await expect(
        startHttp(fixture, { env: h.env({ ...base, FIXTURE_FOUR_EYES: '[{"tool":"act_on_item"}]' }) }),
      ).rejects.toThrow(/FIXTURE_FOUR_EYES needs approvers who can sign in/);
      // A read tool needs no approval, so no rule can name it.
      await expect(
        startHttp(fixture, {
          env: h.env({
            ...base,
            FIXTURE_APPROVAL_CLIENT_ID: 'page',
            FIXTURE_FOUR_EYES: '[{"tool":"get_item_status"}]',
          }),
        }),
      ).rejects.toThrow(/unknown tool "get_item_status"/);
    } finally {
      await h.close();
    }
  });

  it('answers a link with a page saying sign-in is unavailable when the issuer cannot be reached', async () => {
    const h = await startHarness();
    const key = 'gh_unreachable_issuer_key_0123456789';
    const keys = join(h.dir, 'keys.json');
    const sha256 = createHash('sha256').update(key).digest('hex');
    writeFileSync(keys, JSON.stringify([{ name: 'ci', sha256, scopes: [SCOPES.read, SCOPES.write] }]));
    const server = await startHttp(fixture, {
      env: h.env({
        FIXTURE_PUBLIC_URL: PUBLIC_URL,
        FIXTURE_OAUTH_ISSUER: 'http://127.0.0.1:9',
        FIXTURE_API_KEYS_FILE: keys,
        FIXTURE_SCOPES: `${SCOPES.read},${SCOPES.write}`,
        FIXTURE_APPROVAL_CLIENT_ID: 'page',
      }),
    });
    const client = new Client({ name: 'ci', version: '1.0.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(server.url), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
        }),
      );
      const args = { item: 'orders-api', environment: 'staging', reason: 'restart after the leak' };
      const pending = errorOf(await client.callTool({ name: 'act_on_item', arguments: args }));
      expect(pending?.code).toBe('APPROVAL_PENDING');
      const link = new URL((pending!.details as { url: string }).url);
      const page = await fetch(new URL(`${link.pathname}${link.search}`, server.url), { redirect: 'manual' });
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('sign-in service cannot be reached');
    } finally {
      await client.close();
      await server.close();
      await h.close();
    }
  });
});
