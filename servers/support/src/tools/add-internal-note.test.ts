import { connectV2, readAudit, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ok,
  spareTickets,
  uniqueReason,
  useHarness,
  WRITE_SCOPES,
  walkPages,
  writes,
} from '../../test/harness.ts';
import support from '../index.ts';

const fx = useHarness(async (h) => ({ takeTicket: await spareTickets(h) }));

describe('internal notes (no approval step)', () => {
  it('adds the note at once, with an Idempotency-Key and an intent record before the write', async () => {
    const { h } = fx;
    const ticket = await fx.takeTicket();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: WRITE_SCOPES });
    await withClient(connectV2({ server: support, env, approval: 'accept', shown }), async ({ client }) => {
      const note = `Processor logs show timeouts; waiting on ENG-4821 (${uniqueReason('note')}).`;
      const result = await client.callTool({
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
        await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: ticket.id } }),
      );
      const last = ok<{ comments: Array<{ internal: boolean; author: string; content: { text: string } }> }>(
        (await walkPages(client, 'lookup_ticket', { ticket_id: ticket.id }, 30)).at(-1)!,
      );
      expect(thread.totalComments).toBeGreaterThan(0);
      expect(last.comments.at(-1)).toMatchObject({
        internal: true,
        author: 'Gatehouse (local-operator)',
        content: { untrusted: true, text: note },
      });
    });
  });
});
