import { createHash } from 'node:crypto';
import {
  canonicalJson,
  decodeCursor,
  encodeCursor,
  fenceUntrusted,
  invalidArgument,
  maskPii,
  maskPiiDeep,
  type Principal,
  stripHidden,
  UntrustedText,
  untrusted,
} from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES } from './context.ts';
import type { TicketSummary } from './upstream.ts';

/**
 * How one caller sees support data. Personal data (emails, phone numbers,
 * payment references) is masked everywhere unless the caller holds
 * support:pii; hidden characters are stripped before masking so they cannot
 * split an address past the masker.
 */
export interface View {
  readonly pii: boolean;
  /** Free text as this caller may see it. */
  text(raw: string): string;
  /** Customer-written text: its own field, marked untrusted. */
  untrusted(raw: string, source: string): UntrustedText;
  /** The last pass over a whole result (cursors excluded), so no field is missed. */
  final<T>(value: T): T;
}

export function viewFor(principal: Principal): View {
  const pii = principal.scopes.has(SCOPES.pii);
  const text = (raw: string) => (pii ? stripHidden(raw) : maskPii(stripHidden(raw)));
  return {
    pii,
    text,
    untrusted: (raw, source) => untrusted(text(raw), source),
    final: (value) => (pii ? value : maskPiiDeep(value)),
  };
}

/** What every view of a ticket opens with (a list item, a looked-up ticket): the subject kept apart as customer text. */
export const TicketHead = {
  id: z.string(),
  customerId: z.string(),
  subject: UntrustedText,
  status: z.string(),
  priority: z.string(),
  assignee: z.string().nullable(),
};

export function ticketHead(
  t: Pick<TicketSummary, 'id' | 'customerId' | 'subject' | 'status' | 'priority' | 'assignee'>,
  view: View,
) {
  return {
    id: t.id,
    customerId: t.customerId,
    subject: view.untrusted(t.subject, `ticket ${t.id} subject`),
    status: t.status,
    priority: t.priority,
    assignee: t.assignee === null ? null : view.text(t.assignee),
  };
}

/** One ticket in a list: what to triage by, with the customer's words kept apart. */
const TicketListItem = z.object({
  ...TicketHead,
  createdAt: z.string(),
  slaBreached: z.boolean(),
  escalated: z.boolean(),
  tags: z.array(z.string()),
  snippet: UntrustedText,
});
type TicketListItem = z.infer<typeof TicketListItem>;

export function listItem(t: TicketSummary, view: View): TicketListItem {
  return {
    ...ticketHead(t, view),
    createdAt: t.createdAt,
    slaBreached: t.sla.breached,
    escalated: t.escalated,
    tags: t.tags.map((tag) => view.text(tag)),
    snippet: view.untrusted(t.snippet, `ticket ${t.id} text`),
  };
}

export const TicketPage = z.object({
  tickets: z.array(TicketListItem),
  total: z.number().nullable(),
  nextCursor: z.string().nullable(),
});
export type TicketPage = z.infer<typeof TicketPage>;

/** Text fallback for a ticket list: server wording per line, customer text fenced below it. */
export function ticketPageText(page: TicketPage, heading: string): string {
  const lines = [
    `${heading}: ${page.tickets.length} ticket(s)${page.total === null ? '' : ` of ${page.total}`}.`,
  ];
  for (const t of page.tickets) {
    lines.push(
      `- ${t.id} · ${t.status} · ${t.priority} · customer ${t.customerId} · created ${t.createdAt}${t.slaBreached ? ' · SLA BREACHED' : ''}${t.escalated ? ' · escalated' : ''}`,
      fenceUntrusted({
        ...t.subject,
        source: `ticket ${t.id} subject and text`,
        text: `${t.subject.text}\n${t.snippet.text}`,
      }),
    );
  }
  lines.push(
    page.nextCursor ? `More results: call again with cursor="${page.nextCursor}".` : 'End of results.',
  );
  return lines.join('\n');
}

/**
 * Our cursors wrap the upstream's and are bound to the filters they were
 * issued for, so a cursor replayed with other filters is refused instead of
 * silently paging through a different result set.
 */
const ListCursor = z.object({ c: z.string().max(256), f: z.string().max(32) });

const digestOf = (filters: Record<string, unknown>): string =>
  createHash('sha256').update(canonicalJson(filters)).digest('base64url').slice(0, 16);

export function wrapCursor(upstream: string | null, filters: Record<string, unknown>): string | null {
  return upstream === null ? null : encodeCursor({ c: upstream, f: digestOf(filters) });
}

export function unwrapCursor(
  cursor: string | undefined,
  filters: Record<string, unknown>,
): string | undefined {
  if (cursor === undefined) return undefined;
  const state = decodeCursor(cursor, ListCursor);
  if (state.f !== digestOf(filters)) {
    throw invalidArgument(
      'This cursor belongs to a different query or filters. Repeat the original arguments with it, or omit the cursor to start over.',
    );
  }
  return state.c;
}

export const formatCents = (cents: number): string => `$${(cents / 100).toFixed(2)}`;
