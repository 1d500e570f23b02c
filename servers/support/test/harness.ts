/**
 * What support's tests share: the sandbox harness with a canary token, scope
 * sets, fixtures read straight from the upstream, and the shapes of the tools'
 * results. The in-process tests beside the code (src/**) import it by relative
 * path; the binary's end-to-end tests (test/*.e2e.test.ts) use BIN.
 */
import { resolve } from 'node:path';
import { connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import { expect } from 'vitest';
import support from '../src/index.ts';

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

/** Tickets not yet escalated, handed out one per test so effects never overlap. */
export async function spareTickets(h: Harness): Promise<() => TicketSummaryJson> {
  const spare = ((await allTickets(h)) as Array<TicketSummaryJson & { escalated?: boolean }>).filter(
    (t) => t.escalated === false,
  );
  return () => spare.shift()!;
}

let reasonSeq = 0;
/** A reason no other credit has, so the upstream's credit list shows exactly what this test did. */
export const uniqueReason = (what: string) => `${what} #${++reasonSeq}-${Date.now().toString(36)}`;
export const creditsWith = async (h: Harness, customerId: string, reason: string) =>
  (await creditsOf(h, customerId)).filter((c) => c.reason === reason);

/** Customer-written text as the tools return it. */
export interface UntrustedJson {
  untrusted: true;
  source: string;
  text: string;
}
export interface ListItemJson {
  id: string;
  customerId: string;
  status: string;
  priority: string;
  createdAt: string;
  subject: UntrustedJson;
  snippet: UntrustedJson;
}
/** search_tickets and list_customer_tickets. */
export interface TicketPageJson {
  tickets: ListItemJson[];
  total: number | null;
  nextCursor: string | null;
}
interface PartJson {
  content: UntrustedJson;
  truncated: boolean;
  continued: boolean;
}
/** lookup_ticket. */
export interface LookupJson {
  ticket: { id: string; customerId: string; subject: UntrustedJson; status: string };
  sla: {
    breached: boolean;
    firstResponse: string;
    resolution: string;
    minutesToResolutionDue: number | null;
  };
  body: PartJson | null;
  comments: Array<PartJson & { id: string; index: number; authorType: string }>;
  totalComments: number;
  truncated: boolean;
  notice: string | null;
  nextCursor: string | null;
}

/** Ids that must never reach, or change, the upstream path. */
const HOSTILE_IDS = [
  '../../admin',
  '%2e%2e%2f',
  '1?delete=true',
  'T-1\r\nX-Evil: 1',
  'T-10001/../../admin',
  'T-10001#frag',
  '..',
  '',
  'T-10001\u202e',
  'x'.repeat(100_000),
];

/**
 * One tool's hostile-id case: every hostile id (and a few customer-shaped ones)
 * is refused with INVALID_ARGUMENT, nothing reaches the upstream, and each
 * refusal is audited without copying a 100 kB argument into the trail.
 */
export async function rejectsHostileIds(
  h: Harness,
  name: string,
  args: (id: string) => Record<string, unknown>,
): Promise<void> {
  const env = h.env();
  const c = await connectV2({ server: support, env });
  try {
    await h.control.clearRequests();
    for (const id of [...HOSTILE_IDS, 'cus_../x', 'cus_a%2fb', 'cus_a?b=1']) {
      const result = await c.client.callTool({ name, arguments: args(id) });
      expect(errorOf(result), `${name}(${JSON.stringify(id.slice(0, 40))})`).toMatchObject({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
    }
    expect(await h.control.requests()).toEqual([]);
    const audit = readAudit(env.SUPPORT_AUDIT_FILE);
    expect(audit).toHaveLength(HOSTILE_IDS.length + 3);
    for (const record of audit)
      expect(record).toMatchObject({
        name,
        decision: 'invalid',
        outcome: 'error',
        errorCode: 'INVALID_ARGUMENT',
        upstreamCalls: 0,
      });
    // A 100 kB argument is not copied into the audit trail.
    expect(Math.max(...audit.map((r) => JSON.stringify(r).length))).toBeLessThan(4_000);
  } finally {
    await c.close();
  }
}

/** Every string anywhere in a JSON value. */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
