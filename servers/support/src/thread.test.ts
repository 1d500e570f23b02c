/** A ticket thread paged by bytes: explicit truncation, exact continuation, cursors bound to their ticket. */
import { connectV2, errorOf } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fullTickets,
  type Harness,
  type LookupJson,
  ok,
  startHarness,
  textOf,
  type UpstreamTicket,
} from '../test/harness.ts';
import support from './index.ts';

let h: Harness;
let longThread: UpstreamTicket;
let shortTicket: UpstreamTicket;
beforeAll(async () => {
  h = await startHarness();
  // Fixtures are found in the data, not hard-coded: the longest thread, and a ticket that fits one page.
  const full = await fullTickets(h);
  const size = (t: UpstreamTicket) => t.body.length + t.comments.reduce((n, c) => n + c.body.length, 0);
  longThread = full.reduce((a, b) => (size(b) > size(a) ? b : a));
  shortTicket = full.find((t) => t.comments.length >= 2 && size(t) < 1_500)!;
}, 60_000);
afterAll(() => h.close());

describe('long threads', () => {
  it('pages a long thread by bytes with explicit truncation markers, and the cursor continues exactly where it stopped', async () => {
    const env = h.env({ SUPPORT_SCOPES: 'support:read,support:pii' });
    const c = await connectV2({ server: support, env });
    try {
      const pages: LookupJson[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 60; n++) {
        const result = await c.client.callTool({
          name: 'lookup_ticket',
          arguments: { ticket_id: longThread.id, ...(cursor ? { cursor } : {}) },
        });
        const page = ok<LookupJson>(result);
        pages.push(page);
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
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
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
    } finally {
      await c.close();
    }
  });

  it('binds the cursor to its ticket and refuses it elsewhere', async () => {
    const c = await connectV2({ server: support, env: h.env() });
    try {
      const first = ok<LookupJson>(
        await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: longThread.id } }),
      );
      expect(first.nextCursor).toBeTypeOf('string');
      const elsewhere = await c.client.callTool({
        name: 'lookup_ticket',
        arguments: { ticket_id: shortTicket.id, cursor: first.nextCursor },
      });
      expect(errorOf(elsewhere)?.code).toBe('INVALID_ARGUMENT');
      expect(errorOf(elsewhere)?.message).toContain(longThread.id);
    } finally {
      await c.close();
    }
  });
});
