/** A ticket thread paged by bytes: explicit truncation, exact continuation, cursors bound to their ticket. */
import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type LookupJson,
  ok,
  shortTicketIn,
  textOf,
  threadSize,
  useFullTickets,
  walkPages,
} from '../test/harness.ts';
import support from './index.ts';

// Fixtures are found in the data, not hard-coded: the longest thread, and a ticket that fits one page.
const fx = useFullTickets((full) => ({
  longThread: full.reduce((a, b) => (threadSize(b) > threadSize(a) ? b : a)),
  shortTicket: shortTicketIn(full),
}));

describe('long threads', () => {
  it('pages a long thread by bytes with explicit truncation markers, and the cursor continues exactly where it stopped', () =>
    withClient(
      connectV2({ server: support, env: fx.h.env({ SUPPORT_SCOPES: 'support:read,support:pii' }) }),
      async ({ client }) => {
        const { longThread } = fx;
        const results = await walkPages(client, 'lookup_ticket', { ticket_id: longThread.id }, 60);
        const pages = results.map((result) => ok<LookupJson>(result));
        for (const [n, result] of results.entries()) {
          const page = pages[n]!;
          // Each page stays within the budget, and the whole result stays under 8 KB.
          const customerBytes = Buffer.byteLength(JSON.stringify([page.body, page.comments]), 'utf8');
          expect(customerBytes).toBeLessThanOrEqual(6_000 + 200);
          expect(Buffer.byteLength(JSON.stringify(result.structuredContent), 'utf8')).toBeLessThan(8_192);
          expect(Buffer.byteLength(textOf(result), 'utf8')).toBeLessThan(8_192);
          if (page.truncated) {
            expect(page.notice).toMatch(/truncated: call again with nextCursor/);
            expect(textOf(result)).toContain('[... truncated: call again with nextCursor to continue ...]');
            expect(textOf(result)).toContain(`cursor="${page.nextCursor}"`);
          } else {
            expect(page.notice).toBeNull();
          }
        }
        expect(pages.length).toBeGreaterThan(3);
        expect(pages.at(-1)!.truncated).toBe(false);
        // At least one comment was cut mid-text and resumed on the next page.
        expect(pages.some((p) => p.comments.some((x) => x.truncated))).toBe(true);
        expect(pages.some((p) => p.comments[0]?.continued)).toBe(true);

        // Stitching every part back together gives exactly the upstream text (pii scope: nothing masked).
        const stitched = new Map<string, string>();
        let body = '';
        for (const page of pages) {
          if (page.body) body += page.body.content.text;
          for (const x of page.comments) stitched.set(x.id, (stitched.get(x.id) ?? '') + x.content.text);
        }
        expect(body).toBe(longThread.body);
        expect([...stitched.keys()]).toEqual(longThread.comments.map((x) => x.id));
        for (const x of longThread.comments) expect(stitched.get(x.id)).toBe(x.body);
        // The marker is never mixed into the customer's text.
        for (const page of pages)
          for (const x of page.comments) expect(x.content.text).not.toContain('truncated: call again');
      },
    ));

  it('binds the cursor to its ticket and refuses it elsewhere', () =>
    withClient(connectV2({ server: support, env: fx.h.env() }), async ({ client }) => {
      const { longThread, shortTicket } = fx;
      const first = ok<LookupJson>(
        await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: longThread.id } }),
      );
      expect(first.nextCursor).toBeTypeOf('string');
      const elsewhere = await client.callTool({
        name: 'lookup_ticket',
        arguments: { ticket_id: shortTicket.id, cursor: first.nextCursor },
      });
      expect(errorOf(elsewhere)?.code).toBe('INVALID_ARGUMENT');
      expect(errorOf(elsewhere)?.message).toContain(longThread.id);
    }));
});
