import type { AnyTool } from '@gatehouse/core';
import type { SupportLimits } from '../config.ts';
import type { Support } from '../context.ts';
import addInternalNote from './add-internal-note.ts';
import escalateTicket from './escalate-ticket.ts';
import getCustomerStatus from './get-customer-status.ts';
import { issueServiceCredit } from './issue-service-credit.ts';
import listCustomerTickets from './list-customer-tickets.ts';
import lookupTicket from './lookup-ticket.ts';
import searchTickets from './search-tickets.ts';

/**
 * The support tool registry: the whole capability surface, in one place.
 * A factory, because the credit tool's input schema carries the configured cap.
 */
export function createTools(limits: SupportLimits): AnyTool<Support>[] {
  return [
    lookupTicket,
    searchTickets,
    getCustomerStatus,
    listCustomerTickets,
    addInternalNote,
    escalateTicket,
    issueServiceCredit(limits),
  ];
}
