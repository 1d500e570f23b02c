/**
 * support's steps in `pnpm demo` (tooling/demo): masked personal data, customer text marked
 * untrusted, a credit over the cap refused before anyone is asked, and an approved credit.
 */
import type { DemoKit } from '@gatehouse/demo/kit';

export default async function demo(kit: DemoKit): Promise<void> {
  const { step, show, summarise } = kit;
  step('support: tickets with personal data masked (no support:pii) and customer text marked untrusted');
  const client = await kit.connect(kit.env({ SUPPORT_SCOPES: 'support:read,support:write,support:credit' }));
  const found = await client.callTool({ name: 'search_tickets', arguments: { query: 'refund', limit: 3 } });
  show(summarise(found));
  const first = (found.structuredContent as { tickets?: Array<{ id: string; customerId?: string }> })
    .tickets?.[0];
  if (first) {
    const ticket = await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: first.id } });
    show(summarise(ticket));
  }
  const customer = (first?.customerId ?? 'cus_0001') as string;
  step('support: a service credit above the per-call cap is refused before anyone is asked');
  show(
    summarise(
      await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: customer, amount_cents: 500_000, reason: 'goodwill after outage' },
      }),
    ),
  );
  step('support: an approved credit within the cap');
  show(
    summarise(
      await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: customer, amount_cents: 2_500, reason: 'goodwill after outage' },
      }),
    ),
  );
  await client.close();
}
