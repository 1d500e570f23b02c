/** support's own variables, read through core's loader exactly as at start-up. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV1, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, creditArguments, useTickets } from '../test/harness.ts';
import support from './index.ts';

const fx = useTickets();

describe('start-up', () => {
  it('reads the token and the credit cap from <NAME>_FILE', async () => {
    const { h, tickets } = fx;
    const tokenFile = join(h.dir, 'token');
    const capFile = join(h.dir, 'cap');
    writeFileSync(tokenFile, `${h.sandbox.tokens.support}\n`);
    writeFileSync(capFile, '1234\n');
    const { SUPPORT_API_TOKEN: _unused, ...env } = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const connecting = connectV1({
      server: support,
      env: { ...env, SUPPORT_API_TOKEN_FILE: tokenFile, SUPPORT_MAX_CREDIT_CENTS_FILE: capFile },
      approval: 'none',
    });
    await withClient(connecting, async ({ client }) => {
      expect((await creditArguments(client)).amount_cents!.maximum).toBe(1_234);
      const over = await client.callTool({
        name: 'issue_service_credit',
        arguments: {
          customer_id: tickets[0]!.customerId,
          amount_cents: 1_235,
          reason: 'cap read from a file',
        },
      });
      expect(errorOf(over)?.code).toBe('LIMIT_EXCEEDED');
      expect(
        (await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: tickets[0]!.id } })).isError,
      ).toBeFalsy();
    });
  });
});
