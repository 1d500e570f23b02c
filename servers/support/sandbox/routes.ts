import { randomBytes } from 'node:crypto';
import {
  asObject,
  badRequest,
  bodyString,
  cleanSnippet,
  ftsQuery,
  isoParam,
  notFound,
  ok,
  oneOf,
  type Page,
  pageResult,
  parsePage,
  type Route,
  type RouteContext,
  type Row,
  type Store,
  snippetOf,
  textParam,
  unprocessable,
} from '@gatehouse/sandbox/kit';
import { TICKET_PRIORITIES, TICKET_STATUSES } from './data.ts';
import { assertRegion, regionClause } from './regions.ts';

const ESCALATION_LEVELS = ['tier2', 'engineering', 'management'] as const;
const MAX_CREDIT_CENTS = 1_000_000;

const ticketSummary = (r: Row, snippet: string) => ({
  id: r.id,
  customerId: r.customer_id,
  subject: r.subject,
  status: r.status,
  priority: r.priority,
  assignee: r.assignee,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sla: {
    firstResponseDueAt: r.first_response_due_at,
    resolutionDueAt: r.resolution_due_at,
    breached: r.breached === 1,
  },
  tags: JSON.parse(String(r.tags)) as string[],
  escalated: r.escalated === 1,
  snippet,
});

const commentJson = (r: Row) => ({
  id: r.id,
  author: r.author,
  authorType: r.author_type,
  internal: r.internal === 1,
  body: r.body,
  createdAt: r.created_at,
});

const creditJson = (r: Row) => ({
  id: r.id,
  customerId: r.customer_id,
  amountCents: r.amount_cents,
  currency: r.currency,
  reason: r.reason,
  ticketId: r.ticket_id,
  createdAt: r.created_at,
});

const SUMMARY_COLUMNS =
  't.num, t.id, t.customer_id, t.subject, t.status, t.priority, t.assignee, t.created_at, t.updated_at, t.first_response_due_at, t.resolution_due_at, t.breached, t.tags, t.escalated';

export function supportRoutes(store: Store): Route[] {
  const requireTicket = (id: string, caller: RouteContext['caller']): Row => {
    const row = store.get('SELECT * FROM tickets WHERE id = ?', id);
    if (!row) throw notFound(`ticket '${id}' does not exist`);
    assertRegion(caller, String(row.customer_id));
    return row;
  };
  const requireCustomer = (id: string, caller: RouteContext['caller']): Row => {
    const row = store.get('SELECT * FROM customers WHERE id = ?', id);
    if (!row) throw notFound(`customer '${id}' does not exist`);
    assertRegion(caller, id);
    return row;
  };

  const listTickets = (query: URLSearchParams, page: Page, where: string[], args: string[]) => {
    const text = textParam(query, 'query');
    const match = text ? ftsQuery(text) : undefined;
    if (text && !match) return pageResult([], page, 0);
    if (match) {
      const clause = ['tickets_fts MATCH ?', ...where].join(' AND ');
      const total = store.get<{ n: number }>(
        `SELECT count(*) AS n FROM tickets_fts f JOIN tickets t ON t.num = f.rowid WHERE ${clause}`,
        match,
        ...args,
      )!.n;
      const rows = store.all(
        `SELECT ${SUMMARY_COLUMNS}, snippet(tickets_fts, 1, '', '', '…', 24) AS snip, bm25(tickets_fts, 5.0, 1.0, 3.0) AS rank
         FROM tickets_fts f JOIN tickets t ON t.num = f.rowid WHERE ${clause} ORDER BY rank, t.num DESC LIMIT ? OFFSET ?`,
        match,
        ...args,
        page.limit,
        page.offset,
      );
      return pageResult(
        rows.map((r) => ticketSummary(r, cleanSnippet(String(r.snip)))),
        page,
        total,
      );
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = store.get<{ n: number }>(`SELECT count(*) AS n FROM tickets t ${clause}`, ...args)!.n;
    const rows = store.all(
      `SELECT ${SUMMARY_COLUMNS}, substr(t.body, 1, 400) AS head FROM tickets t ${clause} ORDER BY t.created_at DESC, t.num DESC LIMIT ? OFFSET ?`,
      ...args,
      page.limit,
      page.offset,
    );
    return pageResult(
      rows.map((r) => ticketSummary(r, snippetOf(String(r.head)))),
      page,
      total,
    );
  };

  return [
    {
      method: 'GET',
      pattern: '/support/v1/tickets',
      handler: ({ query, caller }) => {
        const page = parsePage(query);
        const where: string[] = [];
        const args: string[] = [];
        const status = oneOf(query, 'status', TICKET_STATUSES);
        const priority = oneOf(query, 'priority', TICKET_PRIORITIES);
        const customerId = textParam(query, 'customerId', 100);
        const after = isoParam(query, 'createdAfter');
        const before = isoParam(query, 'createdBefore');
        if (status) {
          where.push('t.status = ?');
          args.push(status);
        }
        if (priority) {
          where.push('t.priority = ?');
          args.push(priority);
        }
        if (customerId) {
          where.push('t.customer_id = ?');
          args.push(customerId);
        }
        if (after) {
          where.push('t.created_at >= ?');
          args.push(after);
        }
        if (before) {
          where.push('t.created_at < ?');
          args.push(before);
        }
        const region = regionClause(store, caller);
        if (region) {
          where.push(region.where);
          args.push(...region.args);
        }
        return ok(listTickets(query, page, where, args));
      },
    },
    {
      method: 'GET',
      pattern: '/support/v1/tickets/:id',
      handler: ({ params, caller }) => {
        const t = requireTicket(params.id!, caller);
        const comments = store
          .all('SELECT * FROM comments WHERE ticket_id = ? ORDER BY created_at, seq', t.id!)
          .map(commentJson);
        const { snippet: _snippet, ...rest } = ticketSummary(t, '');
        return ok({ ...rest, body: t.body, comments });
      },
    },
    {
      method: 'GET',
      pattern: '/support/v1/customers/:id',
      handler: ({ params, caller }) => {
        const c = requireCustomer(params.id!, caller);
        const counts = store.get<{ open: number | null; breaches: number | null }>(
          "SELECT sum(status NOT IN ('solved', 'closed')) AS open, sum(breached) AS breaches FROM tickets WHERE customer_id = ?",
          c.id!,
        )!;
        const credits = store
          .all(
            'SELECT * FROM credits WHERE customer_id = ? ORDER BY created_at DESC, seq DESC LIMIT 5',
            c.id!,
          )
          .map(creditJson);
        return ok({
          ...JSON.parse(String(c.data)),
          openTickets: counts.open ?? 0,
          slaBreaches: counts.breaches ?? 0,
          recentCredits: credits,
        });
      },
    },
    {
      method: 'GET',
      pattern: '/support/v1/customers/:id/tickets',
      handler: ({ params, query, caller }) => {
        const page = parsePage(query);
        const status = oneOf(query, 'status', TICKET_STATUSES);
        requireCustomer(params.id!, caller);
        const where = ['t.customer_id = ?'];
        const args = [params.id!];
        if (status) {
          where.push('t.status = ?');
          args.push(status);
        }
        return ok(listTickets(new URLSearchParams(), page, where, args));
      },
    },
    {
      method: 'POST',
      pattern: '/support/v1/tickets/:id/notes',
      idempotent: true,
      handler: ({ params, body, caller }) => {
        const input = asObject(body);
        const text = bodyString(input, 'body', { max: 20_000 })!;
        const author = bodyString(input, 'author', { max: 200 })!;
        const ticket = requireTicket(params.id!, caller);
        const now = new Date().toISOString();
        const id = `cmt_${randomBytes(7).toString('hex')}`;
        store.run(
          "INSERT INTO comments (id, ticket_id, author, author_type, internal, body, created_at) VALUES (?, ?, ?, 'agent', 1, ?, ?)",
          id,
          String(ticket.id),
          author,
          text,
          now,
        );
        store.run('UPDATE tickets SET updated_at = ? WHERE num = ?', now, Number(ticket.num));
        return ok({ id, author, authorType: 'agent', internal: true, body: text, createdAt: now }, 201);
      },
    },
    {
      method: 'POST',
      pattern: '/support/v1/tickets/:id/escalations',
      idempotent: true,
      handler: ({ params, body, caller }) => {
        const input = asObject(body);
        const reason = bodyString(input, 'reason', { max: 2000 })!;
        const level = input.level;
        if (typeof level !== 'string' || !(ESCALATION_LEVELS as readonly string[]).includes(level)) {
          throw badRequest(`level must be one of ${ESCALATION_LEVELS.join(', ')}`);
        }
        const ticket = requireTicket(params.id!, caller);
        const now = new Date().toISOString();
        const id = `esc_${randomBytes(7).toString('hex')}`;
        store.run(
          'INSERT INTO escalations (id, ticket_id, level, reason, created_at) VALUES (?, ?, ?, ?, ?)',
          id,
          String(ticket.id),
          level,
          reason,
          now,
        );
        store.run('UPDATE tickets SET escalated = 1, updated_at = ? WHERE num = ?', now, Number(ticket.num));
        return ok({ id, ticketId: ticket.id, level, reason, createdAt: now }, 201);
      },
    },
    {
      method: 'POST',
      pattern: '/support/v1/customers/:id/credits',
      idempotent: true,
      handler: ({ params, body, caller }) => {
        const input = asObject(body);
        const amount = input.amountCents;
        if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0)
          throw badRequest('amountCents must be a positive integer');
        if (amount > MAX_CREDIT_CENTS) throw unprocessable(`amountCents must not exceed ${MAX_CREDIT_CENTS}`);
        if (input.currency !== 'USD') throw badRequest("currency must be 'USD'");
        const reason = bodyString(input, 'reason', { max: 1000 })!;
        const ticketId = bodyString(input, 'ticketId', { max: 100, required: false });
        const customer = requireCustomer(params.id!, caller);
        if (ticketId !== undefined) {
          const ticket = store.get('SELECT customer_id FROM tickets WHERE id = ?', ticketId);
          if (!ticket) throw unprocessable(`ticket '${ticketId}' does not exist`);
          if (ticket.customer_id !== customer.id)
            throw unprocessable(`ticket '${ticketId}' does not belong to customer '${customer.id}'`);
        }
        const now = new Date().toISOString();
        const id = `cr_${randomBytes(7).toString('hex')}`;
        store.run(
          'INSERT INTO credits (id, customer_id, amount_cents, currency, reason, ticket_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          id,
          String(customer.id),
          amount,
          'USD',
          reason,
          ticketId ?? null,
          now,
        );
        return ok(
          {
            id,
            customerId: customer.id,
            amountCents: amount,
            currency: 'USD',
            reason,
            ticketId: ticketId ?? null,
            createdAt: now,
          },
          201,
        );
      },
    },
  ];
}
