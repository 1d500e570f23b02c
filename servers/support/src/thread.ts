import {
  decodeCursor,
  encodeCursor,
  invalidArgument,
  sliceText,
  TRUNCATION_MARKER,
  type UntrustedText,
} from '@gatehouse/core';
import { z } from 'zod';
import type { View } from './present.ts';
import type { Ticket } from './upstream.ts';

/** Customer-written text of a ticket page stays under this many bytes (as JSON), whatever the thread's length. */
const THREAD_BUDGET_BYTES = 6_000;
/** A part smaller than this is not worth starting on a page that already has content. */
const MIN_PART_BYTES = 600;

export interface ThreadPart {
  content: UntrustedText;
  /** The text stops here and goes on at nextCursor. */
  truncated: boolean;
  /** The text started on an earlier page. */
  continued: boolean;
}

interface CommentPart extends ThreadPart {
  id: string;
  index: number;
  author: string;
  authorType: 'customer' | 'agent';
  internal: boolean;
  createdAt: string;
}

interface ThreadPage {
  body: ThreadPart | null;
  comments: CommentPart[];
  truncated: boolean;
  nextCursor: string | null;
  totalBytes: number;
}

/**
 * Where a page starts: item 0 is the ticket body, item k the k-th comment;
 * `o` is the character offset inside that item. Bound to the ticket and to
 * whether personal data was masked, since offsets count masked characters.
 */
const ThreadCursor = z.object({
  t: z.string().max(24),
  i: z.number().int().min(0).max(10_000),
  o: z.number().int().min(0),
  m: z.boolean(),
});

export function readThreadCursor(
  cursor: string | undefined,
  ticketId: string,
  view: View,
): { i: number; o: number } {
  if (cursor === undefined) return { i: 0, o: 0 };
  const state = decodeCursor(cursor, ThreadCursor);
  if (state.t !== ticketId)
    throw invalidArgument(
      `This cursor belongs to ticket ${state.t}, not ${ticketId}. Pass it with that ticket, or omit it to start over.`,
    );
  if (state.m === view.pii)
    throw invalidArgument(
      'This cursor was issued to a caller with different data access. Omit it to start over.',
    );
  return { i: state.i, o: state.o };
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Pages a ticket's body and comments by bytes, not by count: whole items
 * while they fit, then the next item cut on a character boundary. The cut is
 * flagged (`truncated`, and a marker in the server's own wording outside the
 * customer text); the cursor resumes exactly there.
 */
export function pageThread(
  ticket: Ticket,
  view: View,
  start: { i: number; o: number },
  budget = THREAD_BUDGET_BYTES,
): ThreadPage {
  const items = [
    { kind: 'body' as const, raw: ticket.body, source: `ticket ${ticket.id} body` },
    ...ticket.comments.map((c, index) => ({
      kind: 'comment' as const,
      raw: c.body,
      source: `ticket ${ticket.id} comment ${c.id}`,
      comment: c,
      index,
    })),
  ];
  if (start.i >= items.length) {
    throw invalidArgument('The cursor points past the end of this ticket thread. Omit it to start over.');
  }
  const texts = items.map((item) => view.text(item.raw));
  const totalBytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);

  const page: ThreadPage = { body: null, comments: [], truncated: false, nextCursor: null, totalBytes };
  let used = 0;
  for (let i = start.i; i < items.length; i++) {
    const item = items[i]!;
    const offset = i === start.i ? start.o : 0;
    const full = texts[i]!;
    if (offset > full.length)
      throw invalidArgument('The cursor does not fit this ticket thread any more. Omit it to start over.');
    const rest = full.slice(offset);
    const meta =
      item.kind === 'comment'
        ? {
            id: item.comment.id,
            index: item.index,
            author: view.text(item.comment.author),
            authorType: item.comment.authorType,
            internal: item.comment.internal,
            createdAt: item.comment.createdAt,
          }
        : undefined;
    const make = (text: string, truncated: boolean): ThreadPart => ({
      content: view.untrusted(text, item.source),
      truncated,
      continued: offset > 0,
    });
    const overhead = jsonBytes({ ...meta, ...make('', false) });
    const cost = overhead + jsonBytes(rest);
    let part: ThreadPart;
    let nextOffset: number | undefined;
    if (used + cost <= budget) {
      part = make(rest, false);
      used += cost;
    } else {
      const room = budget - used - overhead;
      if (room < MIN_PART_BYTES && (page.body !== null || page.comments.length > 0)) {
        page.truncated = true;
        page.nextCursor = encodeCursor({ t: ticket.id, i, o: offset, m: !view.pii });
        break;
      }
      // JSON escaping (newlines, quotes) makes text longer than its UTF-8 bytes; leave room for it.
      const inflation = jsonBytes(rest) / Math.max(1, Buffer.byteLength(rest, 'utf8'));
      const cut = sliceText(rest, Math.max(MIN_PART_BYTES, Math.floor(room / inflation) - 2));
      if (cut.truncated) {
        // The marker is the server's wording: it goes in the flags and the text fallback, not into customer text.
        const shown = cut.text.slice(0, -TRUNCATION_MARKER.length);
        part = make(shown, true);
        nextOffset = offset + shown.length;
      } else {
        part = make(rest, false);
        used += cost;
      }
    }
    if (meta) page.comments.push({ ...meta, ...part });
    else page.body = part;
    if (nextOffset !== undefined) {
      page.truncated = true;
      page.nextCursor = encodeCursor({ t: ticket.id, i, o: nextOffset, m: !view.pii });
      break;
    }
  }
  return page;
}
