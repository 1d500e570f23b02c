import { connectV2, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  ok,
  spareTickets,
  startHarness,
  type TicketSummaryJson,
  uniqueReason,
  WRITE_SCOPES,
  writes,
} from '../../test/harness.ts';
import support from '../index.ts';

let h: Harness;
let takeTicket: () => TicketSummaryJson;
beforeAll(async () => {
  h = await startHarness();
  takeTicket = await spareTickets(h);
}, 60_000);
afterAll(() => h.close());

describe('internal notes (no approval step)', () => {
  it('adds the note at once, with an Idempotency-Key and an intent record before the write', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: WRITE_SCOPES });
    const c = await connectV2({ server: support, env, approval: 'accept', shown });
    try {
      const note = `Processor logs show timeouts; waiting on ENG-4821 (${uniqueReason('note')}).`;
      const result = await c.client.callTool({
        name: 'add_internal_note',
        arguments: { ticket_id: ticket.id, note },
      });
      expect(ok(result)).toMatchObject({
        ticketId: ticket.id,
        internal: true,
        note,
        author: 'Gatehouse (local-operator)',
        noteId: expect.stringMatching(/^cmt_/),
      });
      expect(shown).toEqual([]);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ path: `/support/v1/tickets/${ticket.id}/notes`, status: 201 });
      expect(sent[0]!.idempotencyKey).toBeTypeOf('string');
      const [call] = readAudit(env.SUPPORT_AUDIT_FILE);
      expect(call).toMatchObject({
        name: 'add_internal_note',
        decision: 'allowed',
        outcome: 'ok',
        upstreamStatus: 201,
        args: { ticket_id: ticket.id, note },
      });
      expect(call).not.toHaveProperty('approval');
      expect(sent[0]!.idempotencyKey).toBe(call!.callId);
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toMatchObject([
        { name: 'add_internal_note', callId: call!.callId, outcome: 'pending' },
      ]);

      const thread = ok<{ totalComments: number }>(
        await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: ticket.id } }),
      );
      let cursor: string | null = null;
      let last:
        | {
            comments: Array<{ internal: boolean; author: string; content: { text: string } }>;
            nextCursor: string | null;
          }
        | undefined;
      for (let n = 0; n < 30; n++) {
        last = ok(
          await c.client.callTool({
            name: 'lookup_ticket',
            arguments: { ticket_id: ticket.id, ...(cursor ? { cursor } : {}) },
          }),
        );
        if (!last!.nextCursor) break;
        cursor = last!.nextCursor;
      }
      expect(thread.totalComments).toBeGreaterThan(0);
      expect(last!.comments.at(-1)).toMatchObject({
        internal: true,
        author: 'Gatehouse (local-operator)',
        content: { untrusted: true, text: note },
      });
    } finally {
      await c.close();
    }
  });
});
