/** How results are presented: personal data masked per caller, list cursors bound to their filters, lists within budget. */
import { connectV1, connectV2, errorOf, readAudit, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { ok, strings, type TicketPageJson, textOf, useFullTickets, WRITE_SCOPES } from '../test/harness.ts';
import support from './index.ts';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.example\.com/g;
const PHONE = /\+1-\d{3}-555-\d{4}/g;
const PAYMENT = /pm_card_[a-z_]+\d{4}|\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b/g;

const fx = useFullTickets((full) => {
  // A ticket whose text carries all three kinds of personal data, some of it in comments.
  const personal = full.find((t) => {
    const all = [t.body, ...t.comments.map((c) => c.body)].join('\n');
    return (
      all.match(EMAIL) &&
      all.match(PHONE) &&
      all.match(PAYMENT) &&
      t.comments.some((c) => c.body.match(EMAIL) || c.body.match(PHONE))
    );
  })!;
  expect(personal).toBeDefined();
  return { full, personal };
});

function personalData(text: string): string[] {
  return [...(text.match(EMAIL) ?? []), ...(text.match(PHONE) ?? []), ...(text.match(PAYMENT) ?? [])];
}

describe('pagination', () => {
  it('refuses a cursor replayed with other filters instead of paging a different result set', () =>
    withClient(connectV2({ server: support, env: fx.h.env() }), async (c) => {
      const first = ok<TicketPageJson>(
        await c.client.callTool({ name: 'search_tickets', arguments: { status: 'closed', limit: 2 } }),
      );
      expect(first.nextCursor).toBeTypeOf('string');
      const mixed = await c.client.callTool({
        name: 'search_tickets',
        arguments: { status: 'open', limit: 2, cursor: first.nextCursor },
      });
      expect(errorOf(mixed)?.code).toBe('INVALID_ARGUMENT');
      const garbage = await c.client.callTool({
        name: 'search_tickets',
        arguments: { cursor: 'not-a-cursor' },
      });
      expect(errorOf(garbage)?.code).toBe('INVALID_ARGUMENT');
    }));
});

describe('list budgets', () => {
  it('keeps default list results under 8 KB', () =>
    withClient(connectV2({ server: support, env: fx.h.env() }), async (c) => {
      const { full } = fx;
      for (const call of [
        { name: 'search_tickets', arguments: {} },
        { name: 'search_tickets', arguments: { query: 'refund charged invoice' } },
        { name: 'list_customer_tickets', arguments: { customer_id: full[0]!.customerId } },
      ]) {
        const result = await c.client.callTool(call);
        expect(Buffer.byteLength(JSON.stringify(ok(result)), 'utf8')).toBeLessThan(8_192);
        expect(Buffer.byteLength(textOf(result), 'utf8')).toBeLessThan(8_192);
      }
    }));
});

describe('personal data', () => {
  it('is masked in every result without support:pii, including ticket text, comments and customer records', () =>
    withClient(connectV2({ server: support, env: fx.h.env() }), async (c) => {
      const { personal } = fx;
      const results = [
        await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: personal.id } }),
        await c.client.callTool({
          name: 'get_customer_status',
          arguments: { customer_id: personal.customerId },
        }),
        await c.client.callTool({
          name: 'list_customer_tickets',
          arguments: { customer_id: personal.customerId },
        }),
        await c.client.callTool({ name: 'search_tickets', arguments: { query: 'refund card charged' } }),
      ];
      for (const result of results) {
        const everything = [...strings(ok(result)), textOf(result)].join('\n');
        expect(personalData(everything)).toEqual([]);
      }
      const ticket = ok<{
        body: { content: { text: string } };
        comments: Array<{ content: { text: string } }>;
      }>(results[0]!);
      expect(ticket.body.content.text).toMatch(/[a-z]\*\*\*@[a-z-]+\.example\.com/);
      expect(ticket.body.content.text).toMatch(/\*\*\*-\*\*\*-\d\d/);
      expect(ticket.comments.map((x) => x.content.text).join('\n')).toMatch(/\*\*\*@|\*\*\*-\*\*\*-/);
      const customer = ok<{
        customer: { contactEmail: string; contactPhone: string; paymentReference: string };
      }>(results[1]!).customer;
      expect(customer.contactEmail).toMatch(/^[a-z]\*\*\*@[a-z-]+\.example\.com$/);
      expect(customer.contactPhone).toMatch(/^\*\*\*-\*\*\*-\d\d$/);
      expect(customer.paymentReference).toMatch(/^(pm_\*\*\*\*\w{4}|[A-Z]{2}\*\* \*\*\*\* \w{4})$/);
      expect(c.stderr()).not.toMatch(EMAIL);
    }));

  it('is shown with support:pii, and never written to the audit trail or logs either way', async () => {
    const { h, personal } = fx;
    const env = h.env({ SUPPORT_SCOPES: `${WRITE_SCOPES},support:pii`, SUPPORT_LOG_LEVEL: 'trace' });
    await withClient(connectV1({ server: support, env }), async (c) => {
      const upstream = await h.api<{ contactEmail: string; contactPhone: string; paymentReference: string }>(
        `/support/v1/customers/${personal.customerId}`,
      );
      const status = ok<{
        customer: { contactEmail: string; contactPhone: string; paymentReference: string };
      }>(
        await c.client.callTool({
          name: 'get_customer_status',
          arguments: { customer_id: personal.customerId },
        }),
      );
      expect(status.customer).toMatchObject({
        contactEmail: upstream.contactEmail,
        contactPhone: upstream.contactPhone,
        paymentReference: upstream.paymentReference,
      });
      const ticket = await c.client.callTool({
        name: 'lookup_ticket',
        arguments: { ticket_id: personal.id },
      });
      expect(ok<{ body: { content: { text: string } } }>(ticket).body.content.text).toBe(personal.body);
      // Personal data a caller types into arguments is masked in the audit record too.
      const note = await c.client.callTool({
        name: 'add_internal_note',
        arguments: {
          ticket_id: personal.id,
          note: `Called ${upstream.contactEmail} on ${upstream.contactPhone}; card ${upstream.paymentReference} verified.`,
        },
      });
      expect(ok<{ note: string }>(note).note).toContain(upstream.contactEmail);

      const audit = JSON.stringify(readAudit(env.SUPPORT_AUDIT_FILE, 'all'));
      expect(audit).toContain('add_internal_note');
      for (const value of [upstream.contactEmail, upstream.contactPhone, upstream.paymentReference]) {
        expect(audit).not.toContain(value);
        expect(c.stderr()).not.toContain(value);
      }
      expect(personalData(audit)).toEqual([]);
      const noteRecord = readAudit(env.SUPPORT_AUDIT_FILE).find((r) => r.name === 'add_internal_note')!;
      expect((noteRecord.args as { note: string }).note).toMatch(/^Called [a-z]\*\*\*@/);
    });
  });
});
