import { apiPath, type Upstream, type UpstreamCallOptions, upstreamPage } from '@gatehouse/core/upstream';
import { z } from 'zod';

/**
 * The support ticketing API as this server uses it. This module is the
 * adapter: point it at a team's real system by changing these calls; the
 * contract is tooling/sandbox/openapi.yaml. Unknown extra fields are dropped,
 * missing ones fail validation as UPSTREAM_BAD_RESPONSE.
 */
const Status = z.enum(['open', 'pending', 'on_hold', 'solved', 'closed']);
const Priority = z.enum(['low', 'normal', 'high', 'urgent']);
export const EscalationLevel = z.enum(['tier2', 'engineering', 'management']);
export type EscalationLevel = z.infer<typeof EscalationLevel>;

const Sla = z.object({
  firstResponseDueAt: z.string(),
  resolutionDueAt: z.string(),
  breached: z.boolean(),
});

export const TicketSummary = z.object({
  id: z.string(),
  customerId: z.string(),
  subject: z.string(),
  status: Status,
  priority: Priority,
  assignee: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sla: Sla,
  tags: z.array(z.string()),
  escalated: z.boolean(),
  snippet: z.string(),
});
export type TicketSummary = z.infer<typeof TicketSummary>;
/** Built once: zod compiles a parser for each schema object at its first use, so one per request would compile one per request. */
const TicketSummaryPage = upstreamPage(TicketSummary);

const Comment = z.object({
  id: z.string(),
  author: z.string(),
  authorType: z.enum(['customer', 'agent']),
  internal: z.boolean(),
  body: z.string(),
  createdAt: z.string(),
});

export const Ticket = TicketSummary.omit({ snippet: true }).extend({
  body: z.string(),
  comments: z.array(Comment),
});
export type Ticket = z.infer<typeof Ticket>;

const Credit = z.object({
  id: z.string(),
  customerId: z.string(),
  amountCents: z.number().int(),
  currency: z.string(),
  reason: z.string(),
  ticketId: z.string().nullable(),
  createdAt: z.string(),
});

const Customer = z.object({
  id: z.string(),
  name: z.string(),
  plan: z.string(),
  health: z.string(),
  contactEmail: z.string(),
  contactPhone: z.string(),
  paymentReference: z.string(),
  createdAt: z.string(),
  openTickets: z.number().int(),
  slaBreaches: z.number().int(),
  recentCredits: z.array(Credit),
});

const Escalation = z.object({
  id: z.string(),
  ticketId: z.string(),
  level: EscalationLevel,
  reason: z.string(),
  createdAt: z.string(),
});

interface TicketQuery {
  query?: string | undefined;
  status?: string | undefined;
  priority?: string | undefined;
  customerId?: string | undefined;
  createdAfter?: string | undefined;
  createdBefore?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export class SupportApi {
  private readonly http: Upstream;

  constructor(http: Upstream) {
    this.http = http;
  }

  getTicket(id: string, call: UpstreamCallOptions) {
    return this.http.get(apiPath`/support/v1/tickets/${id}`, Ticket, call);
  }

  listTickets(query: TicketQuery, call: UpstreamCallOptions) {
    return this.http.get('/support/v1/tickets', TicketSummaryPage, { ...call, query: { ...query } });
  }

  getCustomer(id: string, call: UpstreamCallOptions) {
    return this.http.get(apiPath`/support/v1/customers/${id}`, Customer, call);
  }

  listCustomerTickets(
    id: string,
    query: { status?: string | undefined; limit?: number; cursor?: string | undefined },
    call: UpstreamCallOptions,
  ) {
    return this.http.get(apiPath`/support/v1/customers/${id}/tickets`, TicketSummaryPage, {
      ...call,
      query,
    });
  }

  /** Side effects: `call` must be the tool context, so the approval id (or call id) travels as Idempotency-Key. */
  addNote(ticket: string, body: { body: string; author: string }, call: UpstreamCallOptions) {
    return this.http.post(apiPath`/support/v1/tickets/${ticket}/notes`, body, Comment, call);
  }

  escalate(ticket: string, body: { level: EscalationLevel; reason: string }, call: UpstreamCallOptions) {
    return this.http.post(apiPath`/support/v1/tickets/${ticket}/escalations`, body, Escalation, call);
  }

  issueCredit(
    customer: string,
    body: { amountCents: number; currency: 'USD'; reason: string; ticketId?: string },
    call: UpstreamCallOptions,
  ) {
    return this.http.post(apiPath`/support/v1/customers/${customer}/credits`, body, Credit, call);
  }
}
