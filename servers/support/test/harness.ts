import { resolve } from 'node:path';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_sup_CANARY_5d81b0e2c94f3a67';
export const WRITE_SCOPES = 'support:read,support:write';
export const ALL_SCOPES = 'support:read,support:write,support:credit';

export type Harness = Omit<ServerHarness, 'env'> & {
  env(extra?: Record<string, string>): Record<string, string> & { SUPPORT_AUDIT_FILE: string };
};

export const startHarness = async (): Promise<Harness> =>
  (await startServerHarness({ domain: 'support', prefix: 'SUPPORT', token: CANARY })) as Harness;

export interface TicketSummaryJson {
  id: string;
  customerId: string;
  status: string;
  priority: string;
  createdAt: string;
}

/** Every ticket summary the sandbox has, straight from the upstream (for choosing fixtures). */
export async function allTickets(h: Harness): Promise<TicketSummaryJson[]> {
  const items: TicketSummaryJson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const body: { items: TicketSummaryJson[]; nextCursor: string | null } = await h.api(
      `/support/v1/tickets?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return items;
}

export { ok, textOf } from '@gatehouse/core/testing';

export interface UpstreamTicket {
  id: string;
  customerId: string;
  subject: string;
  body: string;
  comments: Array<{ id: string; author: string; body: string; internal: boolean }>;
}

/** Every full ticket (body and comments), straight from the upstream. */
export async function fullTickets(h: Harness): Promise<UpstreamTicket[]> {
  const summaries = await allTickets(h);
  return Promise.all(summaries.map((t) => h.api<UpstreamTicket>(`/support/v1/tickets/${t.id}`)));
}

/** Customer credits as the upstream records them (the 5 newest). */
export async function creditsOf(
  h: Harness,
  customerId: string,
): Promise<Array<{ id: string; amountCents: number; reason: string }>> {
  return (
    await h.api<{ recentCredits: Array<{ id: string; amountCents: number; reason: string }> }>(
      `/support/v1/customers/${customerId}`,
    )
  ).recentCredits;
}

/** Upstream requests that could have changed something. */
export async function writes(h: Harness) {
  return (await h.control.requests()).filter((r) => r.method !== 'GET');
}
