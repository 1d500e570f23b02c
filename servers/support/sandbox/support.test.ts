import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import { call, collect } from '@gatehouse/sandbox/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox();
  token = sb.tokens.support;
});
afterAll(() => sb.close());

const INJECTION = /ignore (all )?(your|previous)|SYSTEM:|admin override|NOTE TO THE AI|assistant:/i;

describe('support API: tickets', () => {
  it('lists 300+ tickets newest first and paginates to the end', async () => {
    const all = await collect(sb, '/support/v1/tickets?limit=100', token);
    expect(all.total).toBeGreaterThanOrEqual(300);
    expect(all.items).toHaveLength(all.total);
    expect(all.pages).toBe(Math.ceil(all.total / 100));
    const created = all.items.map((t: { createdAt: string }) => t.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const t = all.items[0];
    expect(t).toEqual({
      id: expect.stringMatching(/^T-\d{5}$/),
      customerId: expect.stringMatching(/^cus_/),
      subject: expect.any(String),
      status: expect.stringMatching(/^(open|pending|on_hold|solved|closed)$/),
      priority: expect.stringMatching(/^(low|normal|high|urgent)$/),
      assignee: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      sla: {
        firstResponseDueAt: expect.any(String),
        resolutionDueAt: expect.any(String),
        breached: expect.any(Boolean),
      },
      tags: expect.any(Array),
      escalated: expect.any(Boolean),
      snippet: expect.any(String),
    });
    expect(t).not.toHaveProperty('body');
    expect(t).not.toHaveProperty('comments');
  });

  it('filters by status, priority, customer and creation window', async () => {
    const urgentOpen = await collect(sb, '/support/v1/tickets?status=open&priority=urgent&limit=50', token);
    expect(
      urgentOpen.items.every(
        (t: { status: string; priority: string }) => t.status === 'open' && t.priority === 'urgent',
      ),
    ).toBe(true);
    const first = (await call(sb, '/support/v1/tickets?limit=1', { token })).json.items[0];
    const mine = await collect(sb, `/support/v1/tickets?customerId=${first.customerId}&limit=100`, token);
    expect(mine.items.every((t: { customerId: string }) => t.customerId === first.customerId)).toBe(true);
    const cutoff = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const recent = await collect(sb, `/support/v1/tickets?createdAfter=${cutoff}&limit=100`, token);
    const older = await call(sb, `/support/v1/tickets?createdBefore=${cutoff}&limit=1`, { token });
    expect(recent.total + older.json.total).toBe(
      (await call(sb, '/support/v1/tickets?limit=1', { token })).json.total,
    );
    expect(recent.items.every((t: { createdAt: string }) => t.createdAt >= cutoff)).toBe(true);
    for (const q of ['status=new', 'priority=p1', 'createdAfter=last-week'])
      expect((await call(sb, `/support/v1/tickets?${q}`, { token })).status).toBe(400);
  });

  it('searches ticket text', async () => {
    const res = await call(sb, '/support/v1/tickets?query=refund&limit=100', { token });
    expect(res.json.total).toBeGreaterThan(5);
    expect(res.json.items.some((t: { snippet: string }) => /refund/i.test(t.snippet))).toBe(true);
    const combined = await call(sb, '/support/v1/tickets?query=refund&status=closed&limit=100', { token });
    expect(combined.json.items.every((t: { status: string }) => t.status === 'closed')).toBe(true);
  });

  it('returns a full ticket with comments, long threads, PII and hostile text', async () => {
    const res = await call(sb, '/support/v1/tickets/T-10001', { token });
    expect(res.json).toMatchObject({ id: 'T-10001', body: expect.any(String), comments: expect.any(Array) });
    const all = (await collect(sb, '/support/v1/tickets?limit=100', token)).items as { id: string }[];
    const full = await Promise.all(
      all.map(async (t) => (await call(sb, `/support/v1/tickets/${t.id}`, { token })).json),
    );
    const long = full.filter((t) => t.comments.length > 30);
    expect(long.length).toBeGreaterThanOrEqual(3);
    expect(long.some((t) => t.comments.some((c: { body: string }) => c.body.length > 2000))).toBe(true);
    expect(full.every((t) => t.comments.length <= 40)).toBe(true);
    expect(full.filter((t) => INJECTION.test(t.body)).length).toBeGreaterThanOrEqual(5);
    expect(full.filter((t) => /@[a-z0-9-]+\.example\.com/.test(t.body)).length).toBeGreaterThan(150);
    expect(full.some((t) => /pm_card_|GB29NWBK/.test(t.body))).toBe(true);
    const comment = long[0].comments[0];
    expect(comment).toEqual({
      id: expect.stringMatching(/^cmt_/),
      author: expect.any(String),
      authorType: expect.stringMatching(/^(customer|agent)$/),
      internal: expect.any(Boolean),
      body: expect.any(String),
      createdAt: expect.any(String),
    });
    expect((await call(sb, '/support/v1/tickets/T-99999', { token })).status).toBe(404);
  });
});

describe('support API: customers', () => {
  it('returns a customer with aggregates and its tickets', async () => {
    const ticket = (await call(sb, '/support/v1/tickets?limit=1', { token })).json.items[0];
    const res = await call(sb, `/support/v1/customers/${ticket.customerId}`, { token });
    expect(res.json).toEqual({
      id: ticket.customerId,
      name: expect.any(String),
      plan: expect.stringMatching(/^(free|team|business|enterprise)$/),
      health: expect.stringMatching(/^(good|at_risk|critical)$/),
      contactEmail: expect.stringContaining('@'),
      contactPhone: expect.stringMatching(/^\+1-/),
      paymentReference: expect.any(String),
      createdAt: expect.any(String),
      openTickets: expect.any(Number),
      slaBreaches: expect.any(Number),
      recentCredits: expect.any(Array),
    });
    const tickets = await collect(sb, `/support/v1/customers/${ticket.customerId}/tickets?limit=3`, token);
    expect(tickets.items.every((t: { customerId: string }) => t.customerId === ticket.customerId)).toBe(true);
    const open = tickets.items.filter(
      (t: { status: string }) => !['solved', 'closed'].includes(t.status),
    ).length;
    expect(res.json.openTickets).toBe(open);
    const solved = await collect(
      sb,
      `/support/v1/customers/${ticket.customerId}/tickets?status=solved`,
      token,
    );
    expect(solved.items.every((t: { status: string }) => t.status === 'solved')).toBe(true);
    expect((await call(sb, '/support/v1/customers/cus_nope', { token })).status).toBe(404);
    expect((await call(sb, '/support/v1/customers/cus_nope/tickets', { token })).status).toBe(404);
  });
});

describe('support API: writes', () => {
  it('adds internal notes idempotently', async () => {
    const path = '/support/v1/tickets/T-10005/notes';
    const body = { body: 'Checked the processor logs; timeouts confirmed.', author: 'Gatehouse agent' };
    expect((await call(sb, path, { token, body })).status).toBe(400);
    const first = await call(sb, path, { token, body, headers: { 'idempotency-key': 'note-1' } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.stringMatching(/^cmt_/),
      author: body.author,
      authorType: 'agent',
      internal: true,
      body: body.body,
      createdAt: expect.any(String),
    });
    const replay = await call(sb, path, { token, body, headers: { 'idempotency-key': 'note-1' } });
    expect(replay.status).toBe(201);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const ticket = await call(sb, '/support/v1/tickets/T-10005', { token });
    expect(ticket.json.comments.filter((c: { id: string }) => c.id === first.json.id)).toHaveLength(1);
    expect(
      (
        await call(sb, path, {
          token,
          body: { ...body, body: 'other' },
          headers: { 'idempotency-key': 'note-1' },
        })
      ).status,
    ).toBe(409);
    // Same key on a different route is independent.
    expect(
      (
        await call(sb, '/support/v1/tickets/T-10006/notes', {
          token,
          body,
          headers: { 'idempotency-key': 'note-1' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await call(sb, path, { token, body: { author: 'x' }, headers: { 'idempotency-key': 'note-2' } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call(sb, '/support/v1/tickets/T-1/notes', {
          token,
          body,
          headers: { 'idempotency-key': 'note-3' },
        })
      ).status,
    ).toBe(404);
  });

  it('escalates tickets', async () => {
    const path = '/support/v1/tickets/T-10010/escalations';
    const res = await call(sb, path, {
      token,
      body: { reason: 'Customer threatening churn', level: 'engineering' },
      headers: { 'idempotency-key': 'esc-1' },
    });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^esc_/),
      ticketId: 'T-10010',
      level: 'engineering',
      reason: 'Customer threatening churn',
      createdAt: expect.any(String),
    });
    expect((await call(sb, '/support/v1/tickets/T-10010', { token })).json.escalated).toBe(true);
    expect(
      (
        await call(sb, path, {
          token,
          body: { reason: 'x', level: 'ceo' },
          headers: { 'idempotency-key': 'esc-2' },
        })
      ).status,
    ).toBe(400);
    expect((await call(sb, path, { token, body: { reason: 'x', level: 'tier2' } })).status).toBe(400);
  });

  it('issues credits idempotently and validates them', async () => {
    const ticket = (await call(sb, '/support/v1/tickets/T-10020', { token })).json;
    const path = `/support/v1/customers/${ticket.customerId}/credits`;
    const body = { amountCents: 2500, currency: 'USD', reason: 'SLA breach goodwill', ticketId: 'T-10020' };
    const first = await call(sb, path, { token, body, headers: { 'idempotency-key': 'credit-1' } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.stringMatching(/^cr_/),
      customerId: ticket.customerId,
      amountCents: 2500,
      currency: 'USD',
      reason: body.reason,
      ticketId: 'T-10020',
      createdAt: expect.any(String),
    });
    const replay = await call(sb, path, { token, body, headers: { 'idempotency-key': 'credit-1' } });
    expect(replay.json.id).toBe(first.json.id);
    const customer = await call(sb, `/support/v1/customers/${ticket.customerId}`, { token });
    expect(customer.json.recentCredits[0].id).toBe(first.json.id);
    expect(customer.json.recentCredits.filter((c: { id: string }) => c.id === first.json.id)).toHaveLength(1);
    const bad: [unknown, number][] = [
      [{ ...body, amountCents: 0 }, 400],
      [{ ...body, amountCents: 12.5 }, 400],
      [{ ...body, amountCents: '100' }, 400],
      [{ ...body, currency: 'EUR' }, 400],
      [{ ...body, reason: '' }, 400],
      [{ ...body, amountCents: 1_000_001 }, 422],
      [{ ...body, ticketId: 'T-99999' }, 422],
    ];
    for (const [i, [b, status]] of bad.entries())
      expect(
        (await call(sb, path, { token, body: b, headers: { 'idempotency-key': `bad-${i}` } })).status,
        JSON.stringify(b),
      ).toBe(status);
    const otherCustomersTicket = (await call(sb, `/support/v1/tickets?limit=100`, { token })).json.items.find(
      (t: { customerId: string }) => t.customerId !== ticket.customerId,
    );
    expect(
      (
        await call(sb, path, {
          token,
          body: { ...body, ticketId: otherCustomersTicket.id },
          headers: { 'idempotency-key': 'other-ticket' },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await call(sb, '/support/v1/customers/cus_nope/credits', {
          token,
          body,
          headers: { 'idempotency-key': 'nope' },
        })
      ).status,
    ).toBe(404);
  });
});
