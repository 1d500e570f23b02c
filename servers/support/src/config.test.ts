/** support's own variables, read through core's loader exactly as at start-up. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV1, errorOf } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  allTickets,
  type Harness,
  startHarness,
  type TicketSummaryJson,
} from '../test/harness.ts';
import support from './index.ts';

let h: Harness;
let tickets: TicketSummaryJson[];
beforeAll(async () => {
  h = await startHarness();
  tickets = await allTickets(h);
}, 60_000);
afterAll(() => h.close());

describe('start-up', () => {
  it('reads the token and the credit cap from <NAME>_FILE', async () => {
    const tokenFile = join(h.dir, 'token');
    const capFile = join(h.dir, 'cap');
    writeFileSync(tokenFile, `${h.sandbox.tokens.support}\n`);
    writeFileSync(capFile, '1234\n');
    const { SUPPORT_API_TOKEN: _unused, ...env } = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const c = await connectV1({
      server: support,
      env: { ...env, SUPPORT_API_TOKEN_FILE: tokenFile, SUPPORT_MAX_CREDIT_CENTS_FILE: capFile },
      approval: 'none',
    });
    try {
      const { tools } = await c.client.listTools();
      const credit = tools.find((t) => t.name === 'issue_service_credit')!;
      expect(
        (credit.inputSchema as unknown as { properties: { amount_cents: { maximum: number } } }).properties
          .amount_cents.maximum,
      ).toBe(1_234);
      const over = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: {
          customer_id: tickets[0]!.customerId,
          amount_cents: 1_235,
          reason: 'cap read from a file',
        },
      });
      expect(errorOf(over)?.code).toBe('LIMIT_EXCEEDED');
      expect(
        (await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: tickets[0]!.id } }))
          .isError,
      ).toBeFalsy();
    } finally {
      await c.close();
    }
  });
});
