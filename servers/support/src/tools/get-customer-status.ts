import { z } from 'zod';
import { customerId, SCOPES, tool } from '../context.ts';
import { formatCents, viewFor } from '../present.ts';

export default tool({
  name: 'get_customer_status',
  toolset: 'customers',
  title: 'Customer status',
  description:
    'One customer: plan, account health, contact and payment reference (masked without support:pii), open tickets, SLA breaches, the 5 latest credits.',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({ customer_id: customerId }),
  output: z.object({
    customer: z.object({
      id: z.string(),
      name: z.string(),
      plan: z.string(),
      health: z.string(),
      customerSince: z.string(),
      contactEmail: z.string(),
      contactPhone: z.string(),
      paymentReference: z.string(),
    }),
    openTickets: z.number(),
    slaBreaches: z.number(),
    recentCredits: z.array(
      z.object({
        id: z.string(),
        amountCents: z.number(),
        currency: z.string(),
        reason: z.string(),
        ticketId: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
    recentCreditsTotalCents: z.number(),
    flags: z.array(z.string()),
  }),
  handler: async ({ customer_id }, ctx) => {
    const view = viewFor(ctx.principal);
    const c = await ctx.deps.api.getCustomer(customer_id, ctx);
    const credits = c.recentCredits.map((cr) => ({
      id: cr.id,
      amountCents: cr.amountCents,
      currency: cr.currency,
      reason: view.text(cr.reason),
      ticketId: cr.ticketId,
      createdAt: cr.createdAt,
    }));
    const total = credits.reduce((sum, cr) => sum + cr.amountCents, 0);
    const flags: string[] = [];
    if (c.health !== 'good') flags.push(`account health is ${c.health}`);
    if (c.slaBreaches > 0) flags.push(`${c.slaBreaches} ticket(s) breached their SLA`);
    if (c.openTickets >= 5) flags.push(`${c.openTickets} tickets are open`);
    if (credits.length > 0) flags.push(`${credits.length} recent credit(s) totalling ${formatCents(total)}`);
    return view.final({
      customer: {
        id: c.id,
        name: view.text(c.name),
        plan: c.plan,
        health: c.health,
        customerSince: c.createdAt,
        contactEmail: view.text(c.contactEmail),
        contactPhone: view.text(c.contactPhone),
        paymentReference: view.text(c.paymentReference),
      },
      openTickets: c.openTickets,
      slaBreaches: c.slaBreaches,
      recentCredits: credits,
      recentCreditsTotalCents: total,
      flags,
    });
  },
  text: (r) =>
    [
      `${r.customer.name} (${r.customer.id}): ${r.customer.plan} plan, health ${r.customer.health}, customer since ${r.customer.customerSince}.`,
      `Contact: ${r.customer.contactEmail}, ${r.customer.contactPhone}. Payment reference: ${r.customer.paymentReference}.`,
      `Open tickets: ${r.openTickets}. SLA breaches: ${r.slaBreaches}.`,
      r.recentCredits.length
        ? `Recent credits (${formatCents(r.recentCreditsTotalCents)}): ${r.recentCredits.map((c) => `${formatCents(c.amountCents)} on ${c.createdAt.slice(0, 10)} (${c.reason}${c.ticketId ? `, ${c.ticketId}` : ''})`).join('; ')}.`
        : 'No recent credits.',
      r.flags.length ? `Attention: ${r.flags.join('; ')}.` : 'Nothing needs attention.',
    ].join('\n'),
});
